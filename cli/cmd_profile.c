/* cmd_profile.c -- `ntkdrift profile`: the kernel profile K(x_0, x(gamma)) on the
 * unit circle at initialisation, x_0 = (1, 0), over seeds, widths and depths:
 * mean, std and p10/p50/p90 per angle beside the infinite-width profile
 * (Jacot et al. 2018, Figure 1). */
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's default ('linear') percentile of sorted v[n]. */
static double percentile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

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

int cmd_profile(int argc, char **argv)
{
    cli_config c;
    cli_config_defaults(&c, "profile");
    snprintf(c.data, sizeof c.data, "circle");
    c.n = 256;
    int rc = cli_config_parse_args(&c, argc, argv, "profile");
    if (rc >= 0) {
        cli_config_free(&c);
        return rc;
    }
    study_grid g = {0};
    cli_run run = {0};
    bool run_open = false;
    double *X = NULL, *samples = NULL, *stats = NULL, *lim = NULL, *tmp = NULL, *sorted = NULL;
    double *gamma = NULL;
    FILE *csv = NULL;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    ntk_spec base;
    if (strcmp(c.data, "circle") != 0 && strcmp(c.data, "circle-pos") != 0) {
        cli_errorf("data: profile needs grid points on the circle (circle | circle-pos), got '%s'", c.data);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (c.dtype != NTK_F64) {
        cli_errorf("profile: --dtype f32 does not apply (profiles are float64)");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = cli_load_inputs(&c, &X, &N, desc, sizeof desc))) goto done;
    if ((rc = cli_config_spec(&c, &base))) goto done;
    if ((rc = study_grid_init(&g, &c, 8))) goto done;
    ntk_set_threads(c.threads);
    int k = base.outputs, D = g.nd, W = g.nw, S = g.ns;
    size_t cells = (size_t)D * (size_t)W;
    gamma = malloc(N * sizeof *gamma);
    samples = malloc(cells * (size_t)S * N * sizeof *samples);
    stats = malloc(5 * cells * N * sizeof *stats);
    lim = malloc(cells * N * sizeof *lim);
    tmp = malloc((size_t)k * N * (size_t)k * sizeof *tmp);
    sorted = malloc((size_t)S * sizeof *sorted);
    if (!gamma || !samples || !stats || !lim || !tmp || !sorted) {
        cli_errorf("out of memory for %zu cells x %d seeds x %zu angles", cells, S, N);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    ntk_data_circle_grid(N, strcmp(c.data, "circle") == 0 ? NTK_ANGLES_SYM : NTK_ANGLES_POS, gamma, NULL);
    rc = cli_run_create(&run, &c, "profile");
    run_open = true;
    if (rc || (rc = cli_run_write_config(&run, &c))) goto done;
    csv = study_open_csv(run.dir, "metrics.csv",
                         "depth,width,beta,seeds,rel_err_mean_vs_limit,rel_std,max_abs_dev_mean,seconds,peak_rss_mb");
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
                ntk_net_init(net, (uint64_t)g.seeds[si]);
                rc = anchor_row(net, fx, f0, x0, X, k, tmp, samples + (cell * (size_t)S + (size_t)si) * N, N);
            }
            ntk_feats_free(fx);
            ntk_feats_free(f0);
            ntk_net_free(net);
            if (rc) goto done;
            double *mean = stats + (0 * cells + cell) * N, *sd = stats + (1 * cells + cell) * N;
            double num = 0, den = 0, sdn = 0, maxdev = 0;
            for (size_t j = 0; j < N; j++) {
                double m = 0, v = 0;
                for (int si = 0; si < S; si++) sorted[si] = samples[(cell * (size_t)S + (size_t)si) * N + j];
                for (int si = 0; si < S; si++) m += sorted[si] / S;
                for (int si = 0; si < S; si++) v += (sorted[si] - m) * (sorted[si] - m);
                mean[j] = m;
                sd[j] = S > 1 ? sqrt(v / (S - 1)) : 0;
                qsort(sorted, (size_t)S, sizeof *sorted, cmp_double);
                stats[(2 * cells + cell) * N + j] = percentile(sorted, S, 0.1);
                stats[(3 * cells + cell) * N + j] = percentile(sorted, S, 0.5);
                stats[(4 * cells + cell) * N + j] = percentile(sorted, S, 0.9);
                double l = lim[cell * N + j];
                num += (m - l) * (m - l);
                den += l * l;
                sdn += sd[j] * sd[j];
                maxdev = fmax(maxdev, fabs(m - l));
            }
            double beta = (double)s.depth / g.widths[wi];
            fprintf(csv, "%d,%d,%.8g,%d,%.8g,%.8g,%.8g,%.4f,%.1f\n", s.depth, g.widths[wi], beta, S, sqrt(num / den),
                    sqrt(sdn / den), maxdev, cli_now() - t0, study_peak_rss_mb());
            if ((rc = study_log_flush(csv, "metrics.csv"))) goto done;
            fprintf(stderr, "profile: depth %d width %d: %d seeds, |mean - limit| / |limit| = %.3g\n", s.depth,
                    g.widths[wi], S, sqrt(num / den));
        }
    if ((rc = study_log_close(&csv, "metrics.csv"))) goto done;
    {
        char path[CLI_PATH_MAX + 64];
        ntk_npz_writer *w = NULL;
        size_t shS[4] = {(size_t)D, (size_t)W, (size_t)S, N}, shM[3] = {(size_t)D, (size_t)W, N}, shN[1] = {N};
        size_t shD[1] = {(size_t)D}, shW[1] = {(size_t)W}, shSe[1] = {(size_t)S};
        const char *names[5] = {"mean", "std", "p10", "p50", "p90"};
        ntk_status st = ntk_npz_open(cli_run_path(&run, "profile.npz", path, sizeof path), &w);
        if (st == NTK_OK) st = ntk_npz_add(w, "gamma", NTK_NPY_F64, 1, shN, gamma);
        if (st == NTK_OK) st = ntk_npz_add(w, "K", NTK_NPY_F64, 4, shS, samples);
        for (int q = 0; q < 5 && st == NTK_OK; q++)
            st = ntk_npz_add(w, names[q], NTK_NPY_F64, 3, shM, stats + (size_t)q * cells * N);
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
                         "K(x_0, x(gamma)) per (depth, width, seed), x_0 = (1, 0); for k > 1 the mean over "
                         "outputs (1/k) sum_a K_aa");
        for (int q = 0; q < 5; q++)
            cli_run_artifact(&run, "profile.npz", names[q], "float64", 3, shM,
                             q == 0 ? "seed mean per angle" : q == 1 ? "seed standard deviation (ddof 1)"
                                                                     : "seed percentile per angle (linear)");
        cli_run_artifact(&run, "profile.npz", "limit", "float64", 3, shM,
                         "infinite-width NTK profile K_inf, per output (the limit is diagonal in outputs)");
        cli_run_artifact(&run, "profile.npz", "depths", "int32", 1, shD, "depths (hidden layers)");
        cli_run_artifact(&run, "profile.npz", "widths", "int32", 1, shW, "widths");
        cli_run_artifact(&run, "profile.npz", "seeds", "int32", 1, shSe, "seeds");
        size_t shC[1] = {cells};
        cli_run_artifact(&run, "metrics.csv", NULL, NULL, 1, shC,
                         "one row per (depth, width): relative error of the seed-mean profile (mean over outputs "
                         "for k > 1) against the per-output limit, relative seed std, max |mean - limit|");
    }
    {
        cJSON *extra = cJSON_CreateObject();
        cJSON *dj = cJSON_AddObjectToObject(extra, "data");
        cJSON_AddStringToObject(dj, "source", desc);
        cJSON_AddNumberToObject(dj, "N", (double)N);
        cJSON_AddStringToObject(extra, "anchor", "x_0 = (1, 0), gamma = 0");
        ntk_spec s0 = study_cell_spec(&g, &base, g.depths[0], g.widths[0]);
        plot_before_manifest(run.dir, "profile");
        if ((rc = cli_run_finish(&run, &c, &s0, extra, argc, argv))) goto done;
    }
    run_open = false;
    printf("ntkdrift profile: %d depths x %d widths x %d seeds, N = %zu angles\n  run directory: %s\n", D, W, S, N,
           run.dir);
done:
    if (csv) fclose(csv);
    if (run_open) cli_run_abort(&run);
    study_grid_free(&g);
    free(X);
    free(gamma);
    free(samples);
    free(stats);
    free(lim);
    free(tmp);
    free(sorted);
    cli_config_free(&c);
    return rc;
}
