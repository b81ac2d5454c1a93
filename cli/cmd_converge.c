/* cmd_converge.c -- `ntkdrift converge`: how far the empirical NTK at
 * initialisation is from the infinite-width one, over widths, depths and seeds:
 * relative Frobenius error of single networks and of the seed mean, a fitted
 * log-log slope in width per depth (with its standard error), and diagonal
 * statistics E[K(x,x)], Var K(x,x) per cell. */
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
#include "summary.h"

static double rel_fro(size_t n, const double *a, const double *b)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / den);
}

typedef struct {
    double *X, *Kinf, *Kmean, *K, *Kraw, *err, *errmean;
    double *diag; /* [N x S]: K(x_i, x_i) of seed s at i * S + s */
    size_t N;
} conv_bufs;

/* Peak estimate: K_inf, the seed mean, K and the limit recursion's two N x N buffers, the raw
 * (N k)^2 kernel with two Gram buffers, activations of the largest network of the grid, the
 * diagonals of the S seeds. */
typedef struct {
    const ntk_spec *largest;
    size_t seeds;
} conv_bytes_ctx;

static double conv_bytes_for(size_t N, void *ctx)
{
    const conv_bytes_ctx *cb = ctx;
    const ntk_spec *s = cb->largest;
    double n2 = (double)N * (double)N, nk = (double)N * s->outputs;
    return 8 * (5 * n2 + 3 * nk * nk) + (double)ntk_feats_bytes(s, N, NTK_F64) + (double)N * s->n0 * 8 +
           8 * (double)N * (double)cb->seeds;
}

/* One (depth, width) cell: errors per seed into err[S], seed-mean error, diagonal stats. */
static int run_cell(const ntk_spec *s, const study_grid *g, conv_bufs *b, double *err, double *errmean,
                    double *diag_mean, double *diag_var, double *diag_lim)
{
    size_t N = b->N, NN = N * N;
    int k = s->outputs, S = g->ns;
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    if (ntk_limit_full(s, NULL, N, b->X, NULL, b->Kinf, NULL, NULL) != NTK_OK || ntk_net_alloc(s, &net) != NTK_OK ||
        ntk_feats_alloc(net, N, NTK_F64, &f) != NTK_OK) {
        cli_errorf("converge: depth %d: %s", s->depth, ntk_last_error());
        ntk_net_free(net);
        return CLI_EXIT_FAIL;
    }
    /* the limit is diagonal in outputs (K_ab -> [a = b] K_inf): the mean over the k outputs tends
     * to K_inf (docs/conventions.md, multi-output) */
    memset(b->Kmean, 0, NN * sizeof *b->Kmean);
    int rc = 0;
    for (int si = 0; si < S && !rc; si++) {
        ntk_net_init(net, (uint64_t)g->seeds[si]);
        if (ntk_feats_compute(net, f, b->X) != NTK_OK || ntk_kernel_full(net, f, k > 1 ? b->Kraw : b->K, NULL) != NTK_OK ||
            (k > 1 && ntk_kernel_output_mean(N, N, k, NTK_F64, b->Kraw, b->K) != NTK_OK)) {
            cli_errorf("converge: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            break;
        }
        err[si] = rel_fro(NN, b->K, b->Kinf);
        for (size_t i = 0; i < NN; i++) b->Kmean[i] += b->K[i] / S;
        for (size_t i = 0; i < N; i++) b->diag[i * (size_t)S + (size_t)si] = b->K[i * N + i];
    }
    ntk_feats_free(f);
    ntk_net_free(net);
    if (rc) return rc;
    *errmean = rel_fro(NN, b->Kmean, b->Kinf);
    double dm = 0, dv = 0, dl = 0;
    for (size_t i = 0; i < N; i++) { /* per point over the seeds: mean and variance (ddof 1; NaN for one seed) */
        double m, sd;
        ntk_mean_se((size_t)S, b->diag + i * (size_t)S, &m, NULL, &sd);
        dm += m / (double)N;
        dv += sd * sd / (double)N;
        dl += b->Kinf[i * N + i] / (double)N;
    }
    *diag_mean = dm;
    *diag_var = dv;
    *diag_lim = dl;
    return 0;
}

int cmd_converge(int argc, char **argv)
{
    cli_config c;
    cli_config_defaults(&c, "converge");
    snprintf(c.data, sizeof c.data, "circle");
    c.n = 64;
    int rc = cli_config_parse_args(&c, argc, argv, "converge");
    if (rc >= 0) {
        cli_config_free(&c);
        return rc;
    }
    study_grid g = {0};
    cli_run run = {0};
    bool run_open = false;
    conv_bufs b = {0};
    FILE *csv = NULL, *fits = NULL;
    double *lx = NULL, *ly = NULL;
    char desc[CLI_PATH_MAX + 64];
    ntk_spec base;
    if (c.dtype != NTK_F64) {
        cli_errorf("converge: --dtype f32 does not apply (float64 only)");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = cli_load_inputs(&c, &b.X, &b.N, desc, sizeof desc))) goto done;
    if ((rc = cli_config_spec(&c, &base))) goto done;
    if ((rc = study_grid_init(&g, &c, 8))) goto done;
    ntk_set_threads(c.threads);
    size_t N = b.N, NN = N * N, kk = (size_t)base.outputs;
    /* grid sizes (study_grid_init: all >= 1) as sizes: they index err, errmean, lx, ly */
    size_t D = (size_t)g.nd, W = (size_t)g.nw, S = (size_t)g.ns;
    {
        int dmax = 0, wmax = 0;
        for (size_t i = 0; i < D; i++) dmax = g.depths[i] > dmax ? g.depths[i] : dmax;
        for (size_t i = 0; i < W; i++) wmax = g.widths[i] > wmax ? g.widths[i] : wmax;
        ntk_spec largest = study_cell_spec(&g, &base, dmax, wmax);
        conv_bytes_ctx cb = {&largest, S};
        if ((rc = cli_check_memory(&c, N, conv_bytes_for, &cb,
                                   "limit and mean kernels, the raw kernel with Gram buffers, activations")))
            goto done;
    }
    b.Kinf = malloc(NN * sizeof(double));
    b.Kmean = malloc(NN * sizeof(double));
    b.K = malloc(NN * sizeof(double));
    b.Kraw = kk > 1 ? malloc(NN * kk * kk * sizeof(double)) : NULL;
    b.diag = malloc(N * S * sizeof(double));
    b.err = malloc(D * W * S * sizeof(double));
    b.errmean = malloc(D * W * sizeof(double));
    lx = malloc(W * S * sizeof *lx);
    ly = malloc(W * S * sizeof *ly);
    if (!b.Kinf || !b.Kmean || !b.K || (kk > 1 && !b.Kraw) || !b.diag || !b.err || !b.errmean || !lx || !ly) {
        cli_errorf("out of memory for N = %zu", N);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    rc = cli_run_create(&run, &c, "converge");
    run_open = true;
    if (rc || (rc = cli_run_write_config(&run, &c))) goto done;
    csv = study_open_csv(run.dir, "metrics.csv",
                         "depth,width,beta,seeds,err_single_mean,err_single_se,err_mean,diag_mean,diag_var,"
                         "diag_limit,seconds,peak_rss_mb");
    fits = study_open_csv(run.dir, "fits.csv", "depth,slope,slope_se,points,widths_min,widths_max");
    if (!csv || !fits) {
        cli_errorf("cannot create metrics.csv / fits.csv in %s", run.dir);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    cli_run_wrote(&run, "metrics.csv");
    cli_run_wrote(&run, "fits.csv");
    cJSON *extra = cJSON_CreateObject();
    cJSON *fj = cJSON_AddArrayToObject(extra, "fits");
    for (size_t di = 0; di < D && !rc; di++) {
        int np = 0, wmin = 0, wmax = 0;
        for (size_t wi = 0; wi < W && !rc; wi++) {
            double t0 = cli_now(), *err = b.err + (di * W + wi) * S, dm, dv, dl;
            ntk_spec s = study_cell_spec(&g, &base, g.depths[di], g.widths[wi]);
            rc = run_cell(&s, &g, &b, err, &b.errmean[di * W + wi], &dm, &dv, &dl);
            if (rc) break;
            double m, se; /* se NaN for one seed (ntk_mean_se) */
            ntk_mean_se(S, err, &m, &se, NULL);
            fprintf(csv, "%d,%d,%.8g,%zu,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.4f,%.1f\n", s.depth, g.widths[wi],
                    (double)s.depth / g.widths[wi], S, m, se, b.errmean[di * W + wi], dm, dv, dl,
                    cli_now() - t0, study_peak_rss_mb());
            if ((rc = study_log_flush(csv, "metrics.csv"))) break;
            fprintf(stderr, "converge: depth %d width %d: single-net error %.4g +- %.2g, seed-mean error %.4g\n",
                    s.depth, g.widths[wi], m, se, b.errmean[di * W + wi]);
            for (size_t si = 0; si < S; si++) {
                lx[np] = log((double)g.widths[wi]);
                ly[np++] = log(err[si]);
            }
            wmin = wi == 0 ? g.widths[wi] : (g.widths[wi] < wmin ? g.widths[wi] : wmin);
            wmax = g.widths[wi] > wmax ? g.widths[wi] : wmax;
        }
        if (rc) break;
        double slope, sse;
        ntk_ols((size_t)np, lx, ly, &slope, NULL, &sse);
        fprintf(fits, "%d,%.8g,%.8g,%d,%d,%d\n", g.depths[di], slope, sse, np, wmin, wmax);
        if ((rc = study_log_flush(fits, "fits.csv"))) break;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "depth", g.depths[di]);
        cli_json_number(o, "slope", slope);
        cli_json_number(o, "slope_se", sse);
        cJSON_AddItemToArray(fj, o);
        if (W > 1)
            printf("depth %d: log-log slope of the single-network error in width %.3f +- %.3f\n", g.depths[di],
                   slope, sse);
    }
    if (rc) {
        cJSON_Delete(extra);
        goto done;
    }
    rc = study_log_close(&csv, "metrics.csv");
    if (!rc) rc = study_log_close(&fits, "fits.csv");
    if (rc) {
        cJSON_Delete(extra);
        goto done;
    }
    {
        char path[CLI_PATH_MAX + 64];
        ntk_npz_writer *w = NULL;
        size_t shE[3] = {D, W, S}, shM[2] = {D, W};
        size_t shD[1] = {D}, shW[1] = {W}, shS[1] = {S}, shX[2] = {N, (size_t)c.n0};
        ntk_status st = ntk_npz_open(cli_run_path(&run, "converge.npz", path, sizeof path), &w);
        if (st == NTK_OK) st = ntk_npz_add(w, "err_single", NTK_NPY_F64, 3, shE, b.err);
        if (st == NTK_OK) st = ntk_npz_add(w, "err_mean", NTK_NPY_F64, 2, shM, b.errmean);
        if (st == NTK_OK) st = ntk_npz_add(w, "depths", NTK_NPY_I32, 1, shD, g.depths);
        if (st == NTK_OK) st = ntk_npz_add(w, "widths", NTK_NPY_I32, 1, shW, g.widths);
        if (st == NTK_OK) st = ntk_npz_add(w, "seeds", NTK_NPY_I32, 1, shS, g.seeds);
        if (st == NTK_OK) st = ntk_npz_add(w, "X", NTK_NPY_F64, 2, shX, b.X);
        if (st == NTK_OK) st = ntk_npz_close(w);
        else ntk_npz_abort(w);
        if (st != NTK_OK) {
            cJSON_Delete(extra);
            cli_errorf("writing converge.npz: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        cli_run_wrote(&run, "converge.npz");
        cli_run_artifact(&run, "converge.npz", "err_single", "float64", 3, shE,
                         "||K_0 - K_inf||_F / ||K_inf||_F per (depth, width, seed); for k > 1, K_0 is the mean "
                         "over outputs (1/k) sum_a K_aa and K_inf the per-output limit");
        cli_run_artifact(&run, "converge.npz", "err_mean", "float64", 2, shM,
                         "relative error of the seed-mean kernel per (depth, width)");
        cli_run_artifact(&run, "converge.npz", "depths", "int32", 1, shD, "depths (hidden layers)");
        cli_run_artifact(&run, "converge.npz", "widths", "int32", 1, shW, "widths");
        cli_run_artifact(&run, "converge.npz", "seeds", "int32", 1, shS, "seeds");
        cli_run_artifact(&run, "converge.npz", "X", "float64", 2, shX, "inputs");
        size_t shC[1] = {D * W}, shF[1] = {D};
        cli_run_artifact(&run, "metrics.csv", NULL, NULL, 1, shC,
                         "one row per (depth, width): single-network error mean and standard error, seed-mean "
                         "error, E[K(x,x)] and Var K(x,x) averaged over points, limit diagonal (for k > 1 of the "
                         "output mean (1/k) sum_a K_aa and the per-output limit)");
        cli_run_artifact(&run, "fits.csv", NULL, NULL, 1, shF,
                         "per depth: OLS slope of log(single-network error) on log(width) over all seeds, and "
                         "its standard error");
    }
    cJSON *dj = cJSON_AddObjectToObject(extra, "data");
    cJSON_AddStringToObject(dj, "source", desc);
    cJSON_AddNumberToObject(dj, "N", (double)N);
    ntk_spec s0 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
    plot_before_manifest(run.dir, "converge");
    if ((rc = cli_run_finish(&run, &c, &s0, extra, argc, argv))) goto done;
    run_open = false;
    printf("ntkdrift converge: %zu depths x %zu widths x %zu seeds, N = %zu\n  run directory: %s\n", D, W, S, N,
           run.dir);
done:
    if (csv) fclose(csv);
    if (fits) fclose(fits);
    if (run_open) cli_run_abort(&run);
    study_grid_free(&g);
    free(b.X);
    free(b.Kinf);
    free(b.Kmean);
    free(b.K);
    free(b.Kraw);
    free(b.diag);
    free(b.err);
    free(b.errmean);
    free(lx);
    free(ly);
    cli_config_free(&c);
    return rc;
}
