/* cmd_profile.c -- `ntkdrift profile`: the kernel profile K(x_0, x(gamma)) on the
 * unit circle, x_0 = (1, 0), over seeds, widths and depths: mean, std and p10/p50/p90 per angle
 * beside the infinite-width profile (Jacot et al. 2018, Figure 1).  At initialisation, of a
 * network loaded from params.npz (--load-params), and with --steps T also after T steps of
 * gradient descent on a training set of its own (--train-data, --train-n, the train section's
 * target, loss and learning rate): the first user's E1 in one configuration (docs/cli.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plots.h"
#include "study.h"

/* The training set of --steps T: inputs --train-data (n --train-n), targets of the train section. */
static int profile_train_data(const cli_config *c, ntk_dataset *td, char *desc, size_t cap)
{
    cli_config tc;
    if (cli_config_copy(&tc, c)) return CLI_EXIT_FAIL;
    snprintf(tc.data.data, sizeof tc.data.data, "%s", c->profile.train_data);
    tc.data.n = c->profile.train_n, tc.data.n_set = true, tc.train.n_eval = 0, tc.data.eval_data[0] = '\0';
    tc.model.n0 = 2, tc.model.n0_set = true; /* the probe points are on the circle: the training inputs need n0 = 2 */
    int rc = cli_train_data(&tc, td, desc, cap);
    cli_config_free(&tc);
    return rc;
}

/* The library's options for a cell from the configuration and the training set. */
static ntk_profile_opts profile_opts(const cli_config *c, const study_grid *g, const ntk_dataset *td, size_t N,
                                     const double *X, const double *x0, const double *params)
{
    ntk_train_run_opts t = cli_train_opts(c); /* the one mapping of the train section */
    ntk_profile_opts o = ntk_profile_defaults();
    o.x0 = x0, o.N = N, o.X = X, o.n_seeds = (size_t)g->ns, o.seeds = g->seeds, o.params = params;
    o.steps = t.steps, o.n_train = td->n_train, o.X_train = td->X_train, o.Y_train = td->Y_train;
    o.train.opt = t.opt, o.train.loss = t.loss, o.train.lr = t.lr, o.train.batch = t.batch;
    o.train.momentum = t.momentum, o.train.seed = t.seed, o.lr_frac = t.lr_frac, o.blowup = t.blowup;
    return o;
}

/* Views of the five statistics q = 0..4 (mean, std, p10, p50, p90) at base[q * stride]. */
static ntk_seed_stats stat_views(double *base, size_t stride)
{
    return (ntk_seed_stats){base, base + stride, base + 2 * stride, base + 3 * stride, base + 4 * stride};
}

/* --load-params: the parameters of the one cell's network, read once.  *params: [P], owned. */
static int load_params(const cli_config *c, const ntk_spec *s, double **params)
{
    ntk_net *net = NULL;
    if (ntk_net_alloc(s, &net) != NTK_OK) return study_fail("profile", CLI_EXIT_FAIL);
    size_t P = ntk_net_num_params(net);
    int rc = study_net_params(net, c); /* c->kernel.load_params is set: reads it */
    if (!rc && (*params = malloc(P * sizeof **params)))
        memcpy(*params, ntk_net_params_const(net), P * sizeof **params);
    else if (!rc)
        rc = study_failf("out of memory");
    ntk_net_free(net);
    return rc;
}

static int check_options(const cli_config *c, const study_grid *g)
{
    if (strcmp(c->data.data, "circle") != 0 && strcmp(c->data.data, "circle-pos") != 0)
        return cli_errorf("data: profile needs grid points on the circle (circle | circle-pos), got '%s'", c->data.data);
    if (c->kernel.dtype != NTK_F64) return cli_errorf("profile: --dtype f32 does not apply (profiles are float64)");
    if (c->train.steps > 0 && !ntk_data_known(c->profile.train_data))
        return cli_errorf("profile.train_data (--train-data): unknown value '%s' (expected a --data kind or "
                          "PATH.npy|.npz|.csv)", c->profile.train_data);
    if (c->kernel.load_params[0] && (g->nd != 1 || g->nw != 1 || g->ns != 1))
        return cli_errorf("load-params: profile of one loaded network: give one depth, one width and no seed list "
                          "(got %d depths, %d widths, %d seeds)", g->nd, g->nw, g->ns);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "profile"); /* circle data, N = 256, steps 0 (CLI_OVERRIDES) */
    if (rc >= 0) return rc;
    study_grid g = {0};
    cli_run run = {0};
    ntk_dataset td = {0};
    bool run_open = false, trained = false;
    double *X = NULL, *gamma = NULL, *params = NULL;
    FILE *csv = NULL;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64], tdesc[CLI_PATH_MAX + 256] = "";
    ntk_spec base;
    if ((rc = study_inputs(&c, &X, &N, desc, sizeof desc, &base)) ||
        (rc = study_grid_init(&g, &c, c.kernel.load_params[0] ? 1 : 8)) || (rc = check_options(&c, &g)))
        goto done;
    trained = c.train.steps > 0;
    if (trained && (rc = profile_train_data(&c, &td, tdesc, sizeof tdesc))) goto done;
    if (c.kernel.load_params[0]) {
        ntk_spec s1 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
        if ((rc = load_params(&c, &s1, &params))) goto done;
    }
    int D = g.nd, W = g.nw, S = g.ns;
    size_t cells = (size_t)D * (size_t)W, nsamp = cells * (size_t)S * N;
    /* one block: gamma [N], samples [cells x S x N], stats [5 x cells x N], lim [cells x N], and after
     * training samples_T, stats_T like those and loss_T, eta [cells x S] */
    size_t nstat = 5 * cells * N, nrun = cells * (size_t)S;
    gamma = malloc((N + nsamp + nstat + cells * N + (trained ? nsamp + nstat + 2 * nrun : 0)) * sizeof *gamma);
    if (!gamma) {
        rc = study_failf("out of memory for %zu cells x %d seeds x %zu angles", cells, S, N);
        goto done;
    }
    double *samples = gamma + N, *stats = samples + nsamp, *lim = stats + nstat;
    double *samples_T = trained ? lim + cells * N : NULL, *stats_T = trained ? samples_T + nsamp : NULL;
    double *loss_T = trained ? stats_T + nstat : NULL, *eta = trained ? loss_T + nrun : NULL;
    ntk_data_circle_grid(N, strcmp(c.data.data, "circle") == 0 ? NTK_ANGLES_SYM : NTK_ANGLES_POS, gamma, NULL);
    if ((rc = study_run_start(&run, &c, "profile", &run_open))) goto done;
    csv = study_open_csv(&run, "metrics.csv",
                         trained ? "depth,width,beta,seeds,rel_err_mean_vs_limit,rel_std,max_abs_dev_mean,"
                                   "trained_rel_err_mean_vs_limit,trained_rel_std,rel_change_mean,loss_T_median,"
                                   "seconds,peak_rss_mb"
                                 : "depth,width,beta,seeds,rel_err_mean_vs_limit,rel_std,max_abs_dev_mean,seconds,"
                                   "peak_rss_mb");
    if (!csv) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    double x0[2] = {1.0, 0.0};
    ntk_profile_opts po = profile_opts(&c, &g, &td, N, X, x0, params);
    for (int di = 0; di < D; di++)
        for (int wi = 0; wi < W; wi++) {
            double t0 = cli_now();
            size_t cell = (size_t)di * (size_t)W + (size_t)wi, so = cell * (size_t)S;
            ntk_spec s = study_cell_spec(&g, &base, g.depths[di], g.widths[wi]);
            ntk_profile_result r = {.K = samples + so * N, .limit = lim + cell * N,
                                    .stats = stat_views(stats + cell * N, cells * N)};
            if (trained)
                r.K_trained = samples_T + so * N, r.stats_trained = stat_views(stats_T + cell * N, cells * N),
                r.loss_T = loss_T + so, r.eta = eta + so;
            ntk_status pst = ntk_profile_cell(&s, &po, &r);
            if (pst != NTK_OK) { /* NTK_EINVAL: options the trainer refuses */
                cli_errorf("profile: depth %d width %d: %s", s.depth, g.widths[wi], ntk_last_error());
                rc = pst == NTK_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
                goto done;
            }
            for (int si = 0; trained && r.diverged && si < S; si++)
                if (!isfinite(r.loss_T[si]))
                    fprintf(stderr, "ntkdrift: profile: depth %d width %d seed %d diverged in training\n", s.depth,
                            g.widths[wi], g.seeds[si]);
            double beta = (double)s.depth / g.widths[wi];
            fprintf(csv, "%d,%d,%.8g,%d,%.8g,%.8g,%.8g", s.depth, g.widths[wi], beta, S, r.err.rel_err, r.err.rel_std,
                    r.err.max_abs_dev);
            if (trained)
                fprintf(csv, ",%.8g,%.8g,%.8g,%.8g", r.err_trained.rel_err, r.err_trained.rel_std, r.rel_change,
                        r.loss_T_median);
            fprintf(csv, ",%.4f,%.1f\n", cli_now() - t0, study_peak_rss_mb());
            if ((rc = study_log_flush(csv, "metrics.csv"))) goto done;
            fprintf(stderr, "profile: depth %d width %d: %d seeds, |mean - limit| / |limit| = %.3g", s.depth,
                    g.widths[wi], S, r.err.rel_err);
            if (trained)
                fprintf(stderr, "; after %ld steps %.3g, profile moved %.3g", c.train.steps, r.err_trained.rel_err,
                        r.rel_change);
            fprintf(stderr, "\n");
        }
    if ((rc = study_log_close(&csv, "metrics.csv"))) goto done;
    {
        size_t Dz = (size_t)D, Wz = (size_t)W, Sz = (size_t)S;
        static const char *const names[2][5] = {{"mean", "std", "p10", "p50", "p90"},
                                                {"mean_trained", "std_trained", "p10_trained", "p50_trained",
                                                 "p90_trained"}};
        static const char *const means[5] = {"seed mean per angle", "seed standard deviation (ddof 1)",
                                             "seed percentile per angle (linear)", "seed percentile per angle (linear)",
                                             "seed percentile per angle (linear)"};
        study_member m[24] = {
            {"gamma", 1, {N}, gamma, "angle of each point, x = (cos, sin)", NTK_F64},
            {"K", 4, {Dz, Wz, Sz, N}, samples,
             c.kernel.load_params[0] ? "K(x_0, x(gamma)) of the loaded network, x_0 = (1, 0); for k > 1 the mean "
                                       "over outputs (1/k) sum_a K_aa"
                                     : "K(x_0, x(gamma)) at initialisation per (depth, width, seed), x_0 = (1, 0); "
                                       "for k > 1 the mean over outputs (1/k) sum_a K_aa", NTK_F64}};
        int n = 2;
        for (int q = 0; q < 5; q++)
            m[n++] = (study_member){names[0][q], 3, {Dz, Wz, N}, stats + (size_t)q * cells * N, means[q], NTK_F64};
        if (trained) {
            m[n++] = (study_member){"K_trained", 4, {Dz, Wz, Sz, N}, samples_T,
                                    "K(x_0, x(gamma)) after --steps of training on the --train-data set (same seeds)",
                                    NTK_F64};
            for (int q = 0; q < 5; q++)
                m[n++] = (study_member){names[1][q], 3, {Dz, Wz, N}, stats_T + (size_t)q * cells * N,
                                        "the same statistics after training", NTK_F64};
            m[n++] = (study_member){"loss_T", 3, {Dz, Wz, Sz}, loss_T,
                                    "training loss after the last step per (depth, width, seed); inf: diverged",
                                    NTK_F64};
            m[n++] = (study_member){"eta", 3, {Dz, Wz, Sz}, eta, "learning rate of each training run", NTK_F64};
        }
        m[n++] = (study_member){"limit", 3, {Dz, Wz, N}, lim,
                                "infinite-width NTK profile K_inf, per output (the limit is diagonal in outputs)",
                                NTK_F64};
        m[n++] = (study_member){"depths", 1, {Dz}, g.depths, "depths (hidden layers)", NTK_I32};
        m[n++] = (study_member){"widths", 1, {Wz}, g.widths, "widths", NTK_I32};
        m[n++] = (study_member){"seeds", 1, {Sz}, g.seeds, "seeds", NTK_I32};
        if ((rc = study_write_npz(&run, "profile.npz", m, n))) goto done;
        cli_run_artifact(&run, "metrics.csv", NULL, NULL, 1, (size_t[]){cells},
                         "one row per (depth, width): relative error of the seed-mean profile (mean over outputs "
                         "for k > 1) against the per-output limit, relative seed std, max |mean - limit|; after "
                         "training also the trained profile's error, the seed-mean relative change of the profile "
                         "and the median final loss");
    }
    {
        cJSON *extra = cJSON_CreateObject();
        study_data_json(extra, desc, N);
        cJSON_AddStringToObject(extra, "anchor", "x_0 = (1, 0), gamma = 0");
        cJSON_AddStringToObject(extra, "params_source", c.kernel.load_params[0] ? c.kernel.load_params : "seeds");
        if (trained) {
            cJSON *tj = cJSON_AddObjectToObject(extra, "train");
            cJSON_AddStringToObject(tj, "data", tdesc);
            cJSON_AddNumberToObject(tj, "n", (double)td.n_train);
            cJSON_AddStringToObject(tj, "target", c.train.target);
            cJSON_AddStringToObject(tj, "loss", ntk_loss_name(c.train.loss));
            cJSON_AddStringToObject(tj, "opt", ntk_opt_name(c.train.opt));
            cJSON_AddNumberToObject(tj, "steps", (double)c.train.steps);
            bool frac = c.train.lr_frac > 0;
            cJSON_AddNumberToObject(tj, frac ? "lr_frac" : "lr", frac ? c.train.lr_frac : c.train.lr);
        }
        ntk_spec s0 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
        plot_before_manifest(run.dir, "profile");
        if ((rc = study_run_finish(&run, &c, &s0, extra, argc, argv, &run_open))) goto done;
    }
    printf("ntkdrift profile: %d depths x %d widths x %d seeds, N = %zu angles%s\n  run directory: %s\n", D, W, S, N,
           trained ? ", at init and after training" : "", run.dir);
done:
    if (csv) fclose(csv);
    if (run_open) cli_run_abort(&run);
    study_grid_free(&g);
    ntk_dataset_clear(&td);
    free(X);
    free(gamma);
    free(params);
    cli_config_free(&c);
    return rc;
}
