/* cmd_profile.c -- `ntkdrift profile`: the kernel profile K(x_0, x(gamma)) on the
 * unit circle, x_0 = (1, 0), over seeds, widths and depths: mean, std and p10/p50/p90 per angle
 * beside the infinite-width profile (Jacot et al. 2018, Figure 1).  At initialisation, of a
 * network loaded from params.npz (--load-params), and with --steps T also after T steps of
 * gradient descent on a training set of its own (--train-data, --train-n, the train section's
 * target, loss and learning rate): the first user's E1 in one configuration (docs/cli.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "plots.h"
#include "dataset.h"
#include "rundir.h"
#include "study.h"
#include "train_data.h"

/* Anchor row of the empirical kernel, mean over the k outputs (the scalar kernel compared with
 * the per-output limit, docs/conventions.md): tmp: [k x N*k], row: [N]. */
static int anchor_row(ntk_net *net, ntk_feats *fx, ntk_feats *f0, const double *x0, const double *X, int k,
                      double *tmp, double *row, size_t N)
{
    if (ntk_feats_compute(net, fx, X) != NTK_OK || ntk_feats_compute(net, f0, x0) != NTK_OK ||
        ntk_kernel_cross(net, f0, fx, tmp, NULL) != NTK_OK ||
        ntk_kernel_output_mean(1, N, k, NTK_F64, tmp, row) != NTK_OK) {
        cli_errorf("profile: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* The training set of --steps T: inputs --train-data (n --train-n), targets of the train section. */
static int profile_train_data(const cli_config *c, ntk_dataset *td, char *desc, size_t cap)
{
    cli_config tc;
    if (cli_config_copy(&tc, c)) return CLI_EXIT_FAIL;
    snprintf(tc.data, sizeof tc.data, "%s", c->train_data);
    tc.n = c->train_n;
    tc.n_set = true;
    tc.n_eval = 0;
    tc.eval_data[0] = '\0';
    tc.n0 = 2;
    tc.n0_set = true; /* the probe points are on the circle: the training inputs must have n0 = 2 */
    int rc = cli_train_data(&tc, td, desc, cap);
    cli_config_free(&tc);
    return rc;
}

/* T steps of the configured optimizer from the network's current parameters on td; the learning
 * rate absolute or lr_frac * 2 / lambda_max(c K_0) on the training set.  *eta, *loss_T (the loss
 * after the last step; inf when the run diverged, and then the parameters are those at that step). */
static int train_net(ntk_net *net, const cli_config *c, const ntk_dataset *td, double *eta, double *loss_T)
{
    size_t Nt = td->n_train, n = Nt * (size_t)td->k;
    double cl = ntk_loss_factor(c->loss, c->batch > 0 ? (size_t)c->batch : Nt);
    double *K = malloc(n * n * sizeof *K), *w = malloc(n * sizeof *w);
    ntk_feats *ft = NULL;
    ntk_trainer *tr = NULL;
    int rc = 0;
    if (!K || !w || ntk_feats_alloc(net, Nt, NTK_F64, &ft) != NTK_OK) {
        rc = CLI_EXIT_FAIL;
        cli_errorf("profile: training: %s", K && w ? ntk_last_error() : "out of memory");
        goto out;
    }
    *eta = c->lr;
    if (c->lr_frac > 0) {
        if (ntk_feats_compute(net, ft, td->X_train) != NTK_OK || ntk_kernel_full(net, ft, K, NULL) != NTK_OK ||
            ntk_eigh(n, K, w, NULL) != NTK_OK) {
            rc = CLI_EXIT_FAIL;
            cli_errorf("profile: training: %s", ntk_last_error());
            goto out;
        }
        *eta = c->lr_frac * 2.0 / (cl * w[0]);
    }
    ntk_train_opts o = ntk_train_defaults();
    o.opt = c->opt;
    o.loss = c->loss;
    o.lr = *eta;
    o.batch = (size_t)c->batch;
    o.momentum = c->momentum;
    o.seed = c->seed;
    if (ntk_trainer_alloc(net, Nt, td->X_train, td->Y_train, &o, &tr) != NTK_OK) {
        rc = CLI_EXIT_USAGE;
        cli_errorf("profile: training: %s", ntk_last_error());
        goto out;
    }
    double loss = NAN, loss0 = NAN;
    for (long t = 0; t < c->steps; t++) {
        ntk_status st = ntk_trainer_step(tr, &loss);
        if (t == 0) loss0 = loss;
        if (st != NTK_OK || !isfinite(loss) || loss > c->blowup * loss0) {
            loss = INFINITY; /* diverged: reported, the other cells go on */
            break;
        }
    }
    if (isfinite(loss)) { /* the loss after the last step, on the whole training set */
        double *F = malloc(Nt * (size_t)td->k * sizeof *F);
        if (!F || ntk_net_forward(net, Nt, td->X_train, F) != NTK_OK) {
            free(F);
            rc = CLI_EXIT_FAIL;
            cli_errorf("profile: training: %s", F ? ntk_last_error() : "out of memory");
            goto out;
        }
        double r = ntk_rmse(n, F, td->Y_train); /* sum of squares = n r^2 */
        loss = 0.5 * ntk_loss_factor(c->loss, Nt) * (double)n * r * r;
        free(F);
    }
    *loss_T = loss;
out:
    ntk_trainer_free(tr);
    ntk_feats_free(ft);
    free(K);
    free(w);
    return rc;
}

/* Per-angle statistics over the S seeds of one cell: samples [S x N] -> stats q = 0..4 (mean, std
 * with ddof 1 -- NaN for one seed --, p10, p50, p90) at stats[q * stride + j]; relative error of the mean against lim
 * [N], relative seed std and max |mean - lim|. */
static int cell_stats(int S, size_t N, const double *samples, const double *lim, double *stats, size_t stride,
                      double *sorted, double out[3])
{
    static const double q[3] = {0.1, 0.5, 0.9};
    double num = 0, den = 0, sdn = 0, maxdev = 0;
    for (size_t j = 0; j < N; j++) {
        double m, sd, p[3];
        for (int si = 0; si < S; si++) sorted[si] = samples[(size_t)si * N + j];
        if (ntk_mean_se((size_t)S, sorted, &m, NULL, &sd) != NTK_OK ||
            ntk_percentiles((size_t)S, sorted, 3, q, p) != NTK_OK) {
            cli_errorf("profile: %s", ntk_last_error());
            return CLI_EXIT_FAIL;
        }
        stats[j] = m;
        stats[stride + j] = sd;
        for (int a = 0; a < 3; a++) stats[(size_t)(2 + a) * stride + j] = p[a];
        num += (m - lim[j]) * (m - lim[j]);
        den += lim[j] * lim[j];
        sdn += sd * sd;
        maxdev = fmax(maxdev, fabs(m - lim[j]));
    }
    out[0] = sqrt(num / den);
    out[1] = sqrt(sdn / den);
    out[2] = maxdev;
    return 0;
}

static int check_options(const cli_config *c, const study_grid *g)
{
    if (strcmp(c->data, "circle") != 0 && strcmp(c->data, "circle-pos") != 0) {
        cli_errorf("data: profile needs grid points on the circle (circle | circle-pos), got '%s'", c->data);
        return CLI_EXIT_USAGE;
    }
    if (c->dtype != NTK_F64) {
        cli_errorf("profile: --dtype f32 does not apply (profiles are float64)");
        return CLI_EXIT_USAGE;
    }
    if (c->steps > 0 && !cli_data_known(c->train_data)) {
        cli_errorf("profile.train_data (--train-data): unknown value '%s' (expected a --data kind or PATH.npy|.npz|.csv)",
                   c->train_data);
        return CLI_EXIT_USAGE;
    }
    if (c->load_params[0] && (g->nd != 1 || g->nw != 1 || g->ns != 1)) {
        cli_errorf("load-params: profile of one loaded network: give one depth, one width and no seed list (got "
                   "%d depths, %d widths, %d seeds)", g->nd, g->nw, g->ns);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    cli_config c;
    cli_config_defaults(&c, "profile");
    snprintf(c.data, sizeof c.data, "circle");
    c.n = 256;
    c.steps = 0; /* profile at init unless --steps T asks for training too */
    int rc = cli_config_parse_args(&c, argc, argv, "profile");
    if (rc >= 0) {
        cli_config_free(&c);
        return rc;
    }
    study_grid g = {0};
    cli_run run = {0};
    ntk_dataset td = {0};
    bool run_open = false, trained = false;
    double *X = NULL, *samples = NULL, *stats = NULL, *lim = NULL, *tmp = NULL, *sorted = NULL, *gamma = NULL;
    double *samples_T = NULL, *stats_T = NULL, *loss_T = NULL, *eta = NULL;
    FILE *csv = NULL;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64], tdesc[CLI_PATH_MAX + 256] = "";
    ntk_spec base;
    if ((rc = cli_load_inputs(&c, &X, &N, desc, sizeof desc))) goto done;
    if ((rc = cli_config_spec(&c, &base))) goto done;
    if ((rc = study_grid_init(&g, &c, c.load_params[0] ? 1 : 8))) goto done;
    if ((rc = check_options(&c, &g))) goto done;
    trained = c.steps > 0;
    if (trained && (rc = profile_train_data(&c, &td, tdesc, sizeof tdesc))) goto done;
    ntk_set_threads(c.threads);
    int k = base.outputs, D = g.nd, W = g.nw, S = g.ns;
    size_t cells = (size_t)D * (size_t)W, nsamp = cells * (size_t)S * N;
    gamma = malloc(N * sizeof *gamma);
    samples = malloc(nsamp * sizeof *samples);
    stats = malloc(5 * cells * N * sizeof *stats);
    lim = malloc(cells * N * sizeof *lim);
    tmp = malloc((size_t)k * N * (size_t)k * sizeof *tmp);
    sorted = malloc((size_t)S * sizeof *sorted);
    if (trained) {
        samples_T = malloc(nsamp * sizeof *samples_T);
        stats_T = malloc(5 * cells * N * sizeof *stats_T);
        loss_T = malloc(cells * (size_t)S * sizeof *loss_T);
        eta = malloc(cells * (size_t)S * sizeof *eta);
    }
    if (!gamma || !samples || !stats || !lim || !tmp || !sorted ||
        (trained && (!samples_T || !stats_T || !loss_T || !eta))) {
        cli_errorf("out of memory for %zu cells x %d seeds x %zu angles", cells, S, N);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    ntk_data_circle_grid(N, strcmp(c.data, "circle") == 0 ? NTK_ANGLES_SYM : NTK_ANGLES_POS, gamma, NULL);
    rc = cli_run_create(&run, &c, "profile");
    run_open = true;
    if (rc || (rc = cli_run_write_config(&run, &c))) goto done;
    csv = study_open_csv(run.dir, "metrics.csv",
                         trained ? "depth,width,beta,seeds,rel_err_mean_vs_limit,rel_std,max_abs_dev_mean,"
                                   "trained_rel_err_mean_vs_limit,trained_rel_std,rel_change_mean,loss_T_median,"
                                   "seconds,peak_rss_mb"
                                 : "depth,width,beta,seeds,rel_err_mean_vs_limit,rel_std,max_abs_dev_mean,seconds,"
                                   "peak_rss_mb");
    if (!csv) {
        cli_errorf("cannot create %s/metrics.csv", run.dir);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    cli_run_wrote(&run, "metrics.csv");
    double x0[2] = {1.0, 0.0};
    for (int di = 0; di < D; di++)
        for (int wi = 0; wi < W; wi++) {
            double t0 = cli_now();
            size_t cell = (size_t)di * (size_t)W + (size_t)wi;
            ntk_spec s = study_cell_spec(&g, &base, g.depths[di], g.widths[wi]);
            ntk_net *net = NULL;
            ntk_feats *fx = NULL, *f0 = NULL;
            if (ntk_net_alloc(&s, &net) != NTK_OK || ntk_feats_alloc(net, N, NTK_F64, &fx) != NTK_OK ||
                ntk_feats_alloc(net, 1, NTK_F64, &f0) != NTK_OK ||
                ntk_limit_cross(&s, NULL, 1, x0, N, X, NULL, lim + cell * N, NULL, NULL) != NTK_OK) {
                cli_errorf("profile: depth %d width %d: %s", s.depth, g.widths[wi], ntk_last_error());
                rc = CLI_EXIT_FAIL;
            }
            for (int si = 0; si < S && !rc; si++) {
                size_t off = (cell * (size_t)S + (size_t)si) * N;
                if (c.load_params[0] && ntk_net_load_params(net, c.load_params) != NTK_OK) {
                    cli_errorf("load-params: %s", ntk_last_error());
                    rc = CLI_EXIT_USAGE;
                    break;
                }
                if (!c.load_params[0]) ntk_net_init(net, (uint64_t)g.seeds[si]);
                rc = anchor_row(net, fx, f0, x0, X, k, tmp, samples + off, N);
                if (!rc && trained) {
                    size_t e = cell * (size_t)S + (size_t)si;
                    rc = train_net(net, &c, &td, &eta[e], &loss_T[e]);
                    if (!rc) rc = anchor_row(net, fx, f0, x0, X, k, tmp, samples_T + off, N);
                    if (!rc && !isfinite(loss_T[e]))
                        fprintf(stderr, "ntkdrift: profile: depth %d width %d seed %d diverged in training\n", s.depth,
                                g.widths[wi], g.seeds[si]);
                }
            }
            ntk_feats_free(fx);
            ntk_feats_free(f0);
            ntk_net_free(net);
            if (rc) goto done;
            double e0[3], eT[3] = {NAN, NAN, NAN}, change = NAN, lossmed = NAN;
            size_t so = cell * (size_t)S * N;
            if ((rc = cell_stats(S, N, samples + so, lim + cell * N, stats + cell * N, cells * N, sorted, e0)))
                goto done;
            if (trained) {
                if ((rc = cell_stats(S, N, samples_T + so, lim + cell * N, stats_T + cell * N, cells * N, sorted, eT)))
                    goto done;
                /* seed mean of ||K_T(x_0, .) - K_0(x_0, .)|| / ||K_0(x_0, .)|| */
                change = 0;
                for (int si = 0; si < S; si++)
                    change += ntk_rel_fro(N, samples_T + so + (size_t)si * N, samples + so + (size_t)si * N) / S;
                double half = 0.5;
                if (ntk_percentiles((size_t)S, loss_T + cell * (size_t)S, 1, &half, &lossmed) != NTK_OK) lossmed = NAN;
            }
            double beta = (double)s.depth / g.widths[wi];
            fprintf(csv, "%d,%d,%.8g,%d,%.8g,%.8g,%.8g", s.depth, g.widths[wi], beta, S, e0[0], e0[1], e0[2]);
            if (trained) fprintf(csv, ",%.8g,%.8g,%.8g,%.8g", eT[0], eT[1], change, lossmed);
            fprintf(csv, ",%.4f,%.1f\n", cli_now() - t0, study_peak_rss_mb());
            if ((rc = study_log_flush(csv, "metrics.csv"))) goto done;
            fprintf(stderr, "profile: depth %d width %d: %d seeds, |mean - limit| / |limit| = %.3g", s.depth,
                    g.widths[wi], S, e0[0]);
            if (trained) fprintf(stderr, "; after %ld steps %.3g, profile moved %.3g", c.steps, eT[0], change);
            fprintf(stderr, "\n");
        }
    if ((rc = study_log_close(&csv, "metrics.csv"))) goto done;
    {
        char path[CLI_PATH_MAX + 64];
        ntk_npz_writer *w = NULL;
        size_t shS[4] = {(size_t)D, (size_t)W, (size_t)S, N}, shM[3] = {(size_t)D, (size_t)W, N}, shN[1] = {N};
        size_t shD[1] = {(size_t)D}, shW[1] = {(size_t)W}, shSe[1] = {(size_t)S}, shL[3] = {shS[0], shS[1], shS[2]};
        const char *names[5] = {"mean", "std", "p10", "p50", "p90"};
        const char *names_T[5] = {"mean_trained", "std_trained", "p10_trained", "p50_trained", "p90_trained"};
        ntk_status st = ntk_npz_open(cli_run_path(&run, "profile.npz", path, sizeof path), &w);
        if (st == NTK_OK) st = ntk_npz_add(w, "gamma", NTK_NPY_F64, 1, shN, gamma);
        if (st == NTK_OK) st = ntk_npz_add(w, "K", NTK_NPY_F64, 4, shS, samples);
        for (int q = 0; q < 5 && st == NTK_OK; q++)
            st = ntk_npz_add(w, names[q], NTK_NPY_F64, 3, shM, stats + (size_t)q * cells * N);
        if (trained) {
            if (st == NTK_OK) st = ntk_npz_add(w, "K_trained", NTK_NPY_F64, 4, shS, samples_T);
            for (int q = 0; q < 5 && st == NTK_OK; q++)
                st = ntk_npz_add(w, names_T[q], NTK_NPY_F64, 3, shM, stats_T + (size_t)q * cells * N);
            if (st == NTK_OK) st = ntk_npz_add(w, "loss_T", NTK_NPY_F64, 3, shL, loss_T);
            if (st == NTK_OK) st = ntk_npz_add(w, "eta", NTK_NPY_F64, 3, shL, eta);
        }
        if (st == NTK_OK) st = ntk_npz_add(w, "limit", NTK_NPY_F64, 3, shM, lim);
        if (st == NTK_OK) st = ntk_npz_add(w, "depths", NTK_NPY_I32, 1, shD, g.depths);
        if (st == NTK_OK) st = ntk_npz_add(w, "widths", NTK_NPY_I32, 1, shW, g.widths);
        if (st == NTK_OK) st = ntk_npz_add(w, "seeds", NTK_NPY_I32, 1, shSe, g.seeds);
        if (st == NTK_OK) st = ntk_npz_close(w);
        else ntk_npz_abort(w);
        if (st != NTK_OK) {
            cli_errorf("writing profile.npz: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        cli_run_wrote(&run, "profile.npz");
        cli_run_artifact(&run, "profile.npz", "gamma", "float64", 1, shN, "angle of each point, x = (cos, sin)");
        cli_run_artifact(&run, "profile.npz", "K", "float64", 4, shS,
                         c.load_params[0] ? "K(x_0, x(gamma)) of the loaded network, x_0 = (1, 0); for k > 1 the "
                                            "mean over outputs (1/k) sum_a K_aa"
                                          : "K(x_0, x(gamma)) at initialisation per (depth, width, seed), x_0 = (1, 0); "
                                            "for k > 1 the mean over outputs (1/k) sum_a K_aa");
        for (int q = 0; q < 5; q++)
            cli_run_artifact(&run, "profile.npz", names[q], "float64", 3, shM,
                             q == 0 ? "seed mean per angle" : q == 1 ? "seed standard deviation (ddof 1)"
                                                                     : "seed percentile per angle (linear)");
        if (trained) {
            cli_run_artifact(&run, "profile.npz", "K_trained", "float64", 4, shS,
                             "K(x_0, x(gamma)) after --steps of training on the --train-data set (same seeds)");
            for (int q = 0; q < 5; q++)
                cli_run_artifact(&run, "profile.npz", names_T[q], "float64", 3, shM, "the same statistics after training");
            cli_run_artifact(&run, "profile.npz", "loss_T", "float64", 3, shL,
                             "training loss after the last step per (depth, width, seed); inf: diverged");
            cli_run_artifact(&run, "profile.npz", "eta", "float64", 3, shL, "learning rate of each training run");
        }
        cli_run_artifact(&run, "profile.npz", "limit", "float64", 3, shM,
                         "infinite-width NTK profile K_inf, per output (the limit is diagonal in outputs)");
        cli_run_artifact(&run, "profile.npz", "depths", "int32", 1, shD, "depths (hidden layers)");
        cli_run_artifact(&run, "profile.npz", "widths", "int32", 1, shW, "widths");
        cli_run_artifact(&run, "profile.npz", "seeds", "int32", 1, shSe, "seeds");
        size_t shC[1] = {cells};
        cli_run_artifact(&run, "metrics.csv", NULL, NULL, 1, shC,
                         "one row per (depth, width): relative error of the seed-mean profile (mean over outputs "
                         "for k > 1) against the per-output limit, relative seed std, max |mean - limit|; after "
                         "training also the trained profile's error, the seed-mean relative change of the profile "
                         "and the median final loss");
    }
    {
        cJSON *extra = cJSON_CreateObject();
        cJSON *dj = cJSON_AddObjectToObject(extra, "data");
        cJSON_AddStringToObject(dj, "source", desc);
        cJSON_AddNumberToObject(dj, "N", (double)N);
        cJSON_AddStringToObject(extra, "anchor", "x_0 = (1, 0), gamma = 0");
        cJSON_AddStringToObject(extra, "params_source", c.load_params[0] ? c.load_params : "seeds");
        if (trained) {
            cJSON *tj = cJSON_AddObjectToObject(extra, "train");
            cJSON_AddStringToObject(tj, "data", tdesc);
            cJSON_AddNumberToObject(tj, "n", (double)td.n_train);
            cJSON_AddStringToObject(tj, "target", c.target);
            cJSON_AddStringToObject(tj, "loss", ntk_loss_name(c.loss));
            cJSON_AddStringToObject(tj, "opt", ntk_opt_name(c.opt));
            cJSON_AddNumberToObject(tj, "steps", (double)c.steps);
            if (c.lr_frac > 0)
                cJSON_AddNumberToObject(tj, "lr_frac", c.lr_frac);
            else
                cJSON_AddNumberToObject(tj, "lr", c.lr);
        }
        ntk_spec s0 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
        plot_before_manifest(run.dir, "profile");
        if ((rc = cli_run_finish(&run, &c, &s0, extra, argc, argv))) goto done;
    }
    run_open = false;
    printf("ntkdrift profile: %d depths x %d widths x %d seeds, N = %zu angles%s\n  run directory: %s\n", D, W, S, N,
           trained ? ", at init and after training" : "", run.dir);
done:
    if (csv) fclose(csv);
    if (run_open) cli_run_abort(&run);
    study_grid_free(&g);
    ntk_dataset_clear(&td);
    free(X);
    free(gamma);
    free(samples);
    free(stats);
    free(lim);
    free(tmp);
    free(sorted);
    free(samples_T);
    free(stats_T);
    free(loss_T);
    free(eta);
    cli_config_free(&c);
    return rc;
}
