/* cmd_converge.c -- `ntkdrift converge`: how far the empirical NTK at
 * initialisation is from the infinite-width one, over widths, depths and seeds:
 * relative Frobenius error of single networks and of the seed mean, a fitted
 * log-log slope in width per depth (with its standard error), and diagonal
 * statistics E[K(x,x)], Var K(x,x) per cell. */
#include <stdlib.h>

#include "commands.h"
#include "plots.h"
#include "study.h"

/* Peak estimate of one cell of the largest network of the grid (ntk_converge_bytes). */
static double conv_bytes_for(size_t N, void *ctx)
{
    const study_bytes_ctx *cb = ctx;
    return ntk_converge_bytes(cb->spec, (size_t)cb->g->nd, cb->g->depths, (size_t)cb->g->nw, cb->g->widths, N,
                              (size_t)cb->g->ns);
}

int cmd_converge(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "converge"); /* circle data, N = 64 (CLI_OVERRIDES) */
    if (rc >= 0) return rc;
    study_grid g = {0};
    cli_run run = {0};
    bool run_open = false;
    FILE *csv = NULL, *fits = NULL;
    double *X = NULL, *err = NULL, *errmean = NULL;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    ntk_spec base;
    if (c.kernel.dtype != NTK_F64) rc = cli_errorf("converge: --dtype f32 does not apply (float64 only)");
    if (rc > 0 || (rc = study_inputs(&c, &X, &N, desc, sizeof desc, &base)) || (rc = study_grid_init(&g, &c, 8)))
        goto done;
    /* grid sizes (study_grid_init: all >= 1) as sizes: they index err and errmean */
    size_t D = (size_t)g.nd, W = (size_t)g.nw, S = (size_t)g.ns;
    study_bytes_ctx cb = {.spec = &base, .g = &g};
    if ((rc = cli_check_memory(&c.run, N, conv_bytes_for, &cb,
                               "limit and mean kernels, the raw kernel with Gram buffers, activations")))
        goto done;
    if (!(err = malloc(D * W * (S + 1) * sizeof *err))) { /* err [D x W x S], then errmean [D x W] */
        rc = study_failf("out of memory for N = %zu", N);
        goto done;
    }
    errmean = err + D * W * S;
    if ((rc = study_run_start(&run, &c, "converge", &run_open))) goto done;
    csv = study_open_csv(&run, "metrics.csv",
                         "depth,width,beta,seeds,err_single_mean,err_single_se,err_mean,diag_mean,diag_var,"
                         "diag_limit,seconds,peak_rss_mb");
    if (!csv || !(fits = study_open_csv(&run, "fits.csv", "depth,slope,slope_se,points,widths_min,widths_max"))) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON *fj = cJSON_AddArrayToObject(extra, "fits");
    ntk_converge_opts co = ntk_converge_defaults();
    co.N = N, co.X = X, co.n_seeds = S, co.seeds = g.seeds;
    for (size_t di = 0; di < D && !rc; di++) {
        for (size_t wi = 0; wi < W && !rc; wi++) {
            double t0 = cli_now();
            ntk_spec s = study_cell_spec(&g, &base, g.depths[di], g.widths[wi]);
            ntk_converge_result r = {.err = err + (di * W + wi) * S};
            if (ntk_converge_cell(&s, &co, &r) != NTK_OK) {
                rc = study_failf("converge: depth %d: %s", s.depth, ntk_last_error());
                break;
            }
            errmean[di * W + wi] = r.err_mean;
            fprintf(csv, "%d,%d,%.8g,%zu,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.4f,%.1f\n", s.depth, g.widths[wi],
                    (double)s.depth / g.widths[wi], S, r.err_single_mean, r.err_single_se, r.err_mean, r.diag_mean,
                    r.diag_var, r.diag_limit, cli_now() - t0, study_peak_rss_mb());
            if ((rc = study_log_flush(csv, "metrics.csv"))) break;
            fprintf(stderr, "converge: depth %d width %d: single-net error %.4g +- %.2g, seed-mean error %.4g\n",
                    s.depth, g.widths[wi], r.err_single_mean, r.err_single_se, r.err_mean);
        }
        if (rc) break;
        ntk_width_fit fit;
        if (ntk_converge_fit(W, g.widths, S, err + di * W * S, &fit) != NTK_OK) {
            rc = study_fail("converge", CLI_EXIT_FAIL);
            break;
        }
        fprintf(fits, "%d,%.8g,%.8g,%zu,%d,%d\n", g.depths[di], fit.slope, fit.slope_se, fit.points, fit.width_min,
                fit.width_max);
        if ((rc = study_log_flush(fits, "fits.csv"))) break;
        cJSON *o = cJSON_CreateObject();
        study_nums(o, "depth slope slope_se", (const double[]){g.depths[di], fit.slope, fit.slope_se});
        cJSON_AddItemToArray(fj, o);
        if (W > 1)
            printf("depth %d: log-log slope of the single-network error in width %.3f +- %.3f\n", g.depths[di],
                   fit.slope, fit.slope_se);
    }
    if (!rc) rc = study_log_close(&csv, "metrics.csv");
    if (!rc) rc = study_log_close(&fits, "fits.csv");
    const study_member m[6] = {
        {"err_single", 3, {D, W, S}, err,
         "||K_0 - K_inf||_F / ||K_inf||_F per (depth, width, seed); for k > 1, K_0 is the mean over outputs "
         "(1/k) sum_a K_aa and K_inf the per-output limit", NTK_F64},
        {"err_mean", 2, {D, W}, errmean, "relative error of the seed-mean kernel per (depth, width)", NTK_F64},
        {"depths", 1, {D}, g.depths, "depths (hidden layers)", NTK_I32},
        {"widths", 1, {W}, g.widths, "widths", NTK_I32},
        {"seeds", 1, {S}, g.seeds, "seeds", NTK_I32},
        {"X", 2, {N, (size_t)c.model.n0}, X, "inputs", NTK_F64}};
    if (rc || (rc = study_write_npz(&run, "converge.npz", m, 6))) {
        cJSON_Delete(extra);
        goto done;
    }
    cli_run_artifact(&run, "metrics.csv", NULL, NULL, 1, (size_t[]){D * W},
                     "one row per (depth, width): single-network error mean and standard error, seed-mean "
                     "error, E[K(x,x)] and Var K(x,x) averaged over points, limit diagonal (for k > 1 of the "
                     "output mean (1/k) sum_a K_aa and the per-output limit)");
    cli_run_artifact(&run, "fits.csv", NULL, NULL, 1, (size_t[]){D},
                     "per depth: OLS slope of log(single-network error) on log(width) over all seeds, and "
                     "its standard error");
    study_data_json(extra, desc, N);
    ntk_spec s0 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
    plot_before_manifest(run.dir, "converge");
    if ((rc = study_run_finish(&run, &c, &s0, extra, argc, argv, &run_open))) goto done;
    printf("ntkdrift converge: %zu depths x %zu widths x %zu seeds, N = %zu\n  run directory: %s\n", D, W, S, N,
           run.dir);
done:
    if (csv) fclose(csv);
    if (fits) fclose(fits);
    if (run_open) cli_run_abort(&run);
    study_grid_free(&g);
    free(X);
    free(err);
    cli_config_free(&c);
    return rc;
}
