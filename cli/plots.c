/* plots.c -- the figures of a finished run, from its own output files (so `ntkdrift plot RUN_DIR`
 * redraws them at any time): ensemble and sweep runs from cells.csv, train runs from metrics.csv
 * and the snapshots' spectra, profile and converge runs from profile.npz and metrics.csv.  Each
 * figure is FIGDIR/NAME.{dat,gp,png} (figure.c).  No numerics here: the .dat files hold the runs'
 * own numbers, the summaries come from the library (run summaries in ntkdrift.h) and the scripts
 * do the plotting transforms (log, 2 standard errors, ratios).  And `ntkdrift plot`. */
#include "plots.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "figure.h"
#include "ntkdrift.h"
#include "rundir.h"

/* One gnuplot block per distinct value of column `key` (ascending; blocks without kept rows are
 * left out): "# KEY v" and "# COLS NOTE", then the kept rows' columns `cols` in `fmt`.  titles gets
 * the values ("%g", space-separated); *anchor (when not NULL) the first row, in block order, with
 * the smallest value of the first column (SIZE_MAX: none).  The number of blocks. */
typedef struct {
    const char *key, *cols, *fmt, *note;
    const bool *keep; /* [nrows] or NULL: every row */
} blocks_def;

static int blocks(const cli_table *t, const blocks_def *b, fig_text *d, fig_text *titles, size_t *anchor)
{
    int nb = 0, ci[16], nc = 0;
    char names[256];
    snprintf(names, sizeof names, "%s", b->cols);
    for (char *s = strtok(names, " "); s && nc < 16; s = strtok(NULL, " ")) ci[nc++] = cli_table_col(t, s);
    double *key = cli_table_column(t, b->key), *vals = malloc((t->nrows ? t->nrows : 1) * sizeof *vals);
    size_t nv = 0, *idx = malloc((t->nrows ? t->nrows : 1) * sizeof *idx);
    if (anchor) *anchor = SIZE_MAX;
    if (!key || !vals || !idx || ntk_distinct_values(t->nrows, key, vals, &nv, idx) != NTK_OK) d->oom = 1, nv = 0;
    for (size_t i = 0; i < nv; i++) {
        bool any = false;
        for (size_t r = 0; r < t->nrows; r++) {
            if (idx[r] != i || (b->keep && !b->keep[r])) continue;
            if (!any) {
                fig_printf(titles, "%s%g", nb++ ? " " : "", vals[i]);
                fig_printf(d, "# %s %g\n# %s%s\n", b->key, vals[i], b->cols, b->note ? b->note : "");
                any = true;
            }
            for (int k = 0; k < nc; k++) {
                fig_printf(d, "%s", k ? " " : "");
                fig_printf(d, b->fmt, cli_table_at(t, r, ci[k]));
            }
            fig_printf(d, "\n");
            if (anchor && (*anchor == SIZE_MAX || cli_table_at(t, r, ci[0]) < cli_table_at(t, *anchor, ci[0])))
                *anchor = r;
        }
        if (any) fig_printf(d, "\n\n");
    }
    free(key);
    free(vals);
    free(idx);
    return nb;
}

/* Ensemble: log R against beta per width (Hanin-Nica) and the first step's |E dK| / E K. */
static int plot_ensemble(const char *figdir, const cli_table *t, const char *path)
{
    if (cli_table_col(t, "width") < 0 || cli_table_col(t, "beta") < 0 || cli_table_col(t, "R") < 0 ||
        cli_table_col(t, "K_mean") < 0) {
        cli_errorf("%s: not an ensemble cells.csv (width, beta, R, K_mean missing)", path);
        return CLI_EXIT_USAGE;
    }
    fig_text d1 = {0}, d2 = {0}, titles = {0}, skip = {0};
    blocks(t, &(blocks_def){"width", "beta R R_log_se Kd_R Kd_R_log_se Kd_R_theory", "%.10g", NULL, NULL}, &d1,
           &titles, NULL);
    blocks(t, &(blocks_def){"width", "beta dK_path_mean dK_path_se dK_lit_mean K_mean dK_scale_theory", "%.10g", NULL,
                            NULL}, &d2, &skip, NULL);
    /* C of the dK scale, fitted in log space over the finite cells */
    double *dk = cli_table_column(t, "dK_path_mean"), *k = cli_table_column(t, "K_mean"),
           *th = cli_table_column(t, "dK_scale_theory"), C = NAN;
    int rc = dk && k && th ? 0 : CLI_EXIT_FAIL;
    if (!rc && ntk_log_scale_fit(t->nrows, dk, k, th, &C, NULL) != NTK_OK) C = NAN;
    free(dk);
    free(k);
    free(th);
    const char *w = titles.s ? titles.s : "";
    if (!rc)
        rc = titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "hn_logR", &d1,
             "widths = '%s'\n"
             "set title 'Kernel fluctuations at initialization: R = E[K^2]/E[K]^2 (Hanin-Nica)'\n"
             "set xlabel 'β = depth / width'\nset ylabel 'log R'\n"
             "plot for [i=1:words(widths)] dat index (i-1) using 1:(log($2)):(2*$3) with yerrorbars pt 7 lc i "
             "title 'K(x,x), n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:(log($4)):(2*$5) with yerrorbars pt 6 lc i "
             "title 'K_d, n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:(log($6)) with lines dt 2 lc i "
             "title 'log Π(1+5/n_l), n = '.word(widths,i), \\\n"
             "     5*x with lines lc rgb 'black' dt 3 title '5β (exp(5β))'\n", w);
    if (!rc && isfinite(C))
        rc = fig_draw(figdir, "hn_dK", &d2,
             "widths = '%s'\nC = %.17g\n"
             "set title 'First SGD step: |E ΔK| / (E K λ) against β'\n"
             "set xlabel 'β = depth / width'\nset ylabel '|E ΔK| / (λ E K)'\n"
             "set logscale y\n"
             "plot for [i=1:words(widths)] dat index (i-1) using 1:(abs($2)/$5):(2*$3/$5) with yerrorbars pt 7 lc i "
             "title 'pathwise, n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:(abs($4)/$5) with points pt 6 lc i "
             "title 'literal, n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:(C*$6) with lines dt 2 lc i "
             "title 'C (d^2/n) e^{5β}, C = %.3g fitted, n = '.word(widths,i)\n", w, C, C);
    fig_text_free(&d1);
    fig_text_free(&d2);
    fig_text_free(&titles);
    fig_text_free(&skip);
    return rc;
}

/* The learning-rate column the sweep varied: lr_frac when fractions of 2/lambda_max(c K_0) were
 * given, else (every lr_frac 0: an absolute --lr) lr, the absolute eta.  *absolute says which. */
static const char *sweep_lr_col(const cli_table *t, bool *absolute)
{
    int cf = cli_table_col(t, "lr_frac");
    *absolute = true;
    for (size_t r = 0; r < t->nrows && *absolute; r++)
        if (cli_table_at(t, r, cf) > 0) *absolute = false;
    return *absolute ? "lr" : "lr_frac";
}

/* Drift against time, one curve per (depth, width) at the smallest learning rate f0 (fraction or
 * absolute, as the sweep gave it) and the first seed, from the cells' own metrics.csv. */
static int plot_drift_time(const char *run, const char *figdir, const cli_table *t, int cf, bool absolute, double f0)
{
    int cs = cli_table_col(t, "seed"), cd = cli_table_col(t, "depth"), cw = cli_table_col(t, "width");
    double s0 = NAN;
    fig_text d = {0}, titles = {0};
    int nb = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (cli_table_at(t, r, cf) != f0) continue;
        if (isnan(s0)) s0 = cli_table_at(t, r, cs);
        if (cli_table_at(t, r, cs) != s0) continue;
        char path[CLI_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/cells/cell_%05zu/metrics.csv", run, r);
        cli_table m;
        if (cli_table_read(path, &m)) continue;
        int mt = cli_table_col(&m, "t"), md = cli_table_col(&m, "drift_fro");
        fig_printf(&titles, "%sL=%g,n=%g", nb++ ? " " : "", cli_table_at(t, r, cd), cli_table_at(t, r, cw));
        fig_printf(&d, "# depth %g width %g %s %g seed %g\n# t drift_fro\n", cli_table_at(t, r, cd),
                   cli_table_at(t, r, cw), absolute ? "lr" : "lr_frac", f0, s0);
        for (size_t k = 0; k < m.nrows; k++)
            fig_printf(&d, "%.10g %.10g\n", cli_table_at(&m, k, mt), cli_table_at(&m, k, md));
        fig_printf(&d, "\n\n");
        cli_table_free(&m);
    }
    char what[96];
    snprintf(what, sizeof what, absolute ? "η = %g" : "%g x 2/λ_{max}(c K_0)", f0);
    int rc = nb == 0 ? 0 : d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "drift_time", &d,
             "cells = '%s'\n"
             "set title 'Kernel drift against time, learning rate %s'\n"
             "set xlabel 't = η step'\nset ylabel '||K_t - K_0||_F / ||K_0||_F'\nset logscale xy\n"
             "set key outside right\n"
             "plot for [i=1:words(cells)] dat index (i-1) using ($1 > 0 ? $1 : 1/0):($2 > 0 ? $2 : 1/0) "
             "with linespoints pt 7 ps 0.5 lc i title word(cells,i)\n", titles.s ? titles.s : "", what);
    fig_text_free(&d);
    fig_text_free(&titles);
    return rc;
}

/* Sweep: the regime map, drift against beta, kernel regression against the network, drift in time. */
static int plot_sweep(const char *run, const char *figdir, const cli_table *t)
{
    bool absolute;
    const char *lrname = sweep_lr_col(t, &absolute);
    int cb = cli_table_col(t, "beta"), cf = cli_table_col(t, lrname), cc = cli_table_col(t, "catapult"),
        cd = cli_table_col(t, "drift_fro");
    /* the table reader keeps numbers only: the label comes from regime_code (0 lazy, 1 weak, 2 unstable) */
    int code = cli_table_col(t, "regime_code");
    size_t n = t->nrows, nw = 0, nf = 0;
    fig_text map = {0}, dr = {0}, kr = {0}, ftitles = {0};
    /* one block with the regime in column 4: an empty regime leaves no empty block behind (gnuplot
     * skips leading empty blocks, which shifted every later `index` onto the wrong regime) */
    fig_printf(&map, "# beta %s catapult regime_code (0 lazy, 1 weak feature learning, 2 unstable)\n", lrname);
    for (size_t r = 0; r < n; r++)
        fig_printf(&map, "%.8g %.8g %d %d\n", cli_table_at(t, r, cb), cli_table_at(t, r, cf),
                   (int)cli_table_at(t, r, cc), (int)cli_table_at(t, r, code));
    bool *keep = malloc((n ? n : 1) * sizeof *keep);
    double *width = cli_table_column(t, "width"), *lr = cli_table_column(t, lrname), *col = NULL;
    double *ws = malloc((n ? n : 1) * sizeof *ws), *fr = malloc((n ? n : 1) * sizeof *fr), means[4][64];
    size_t *gw = malloc((n ? n : 1) * sizeof *gw), anchor = SIZE_MAX;
    int rc = keep && width && lr && ws && fr && gw ? 0 : (cli_errorf("plot: out of memory"), CLI_EXIT_FAIL);
    if (!rc) { /* drift: completed cells (not unstable) with beta > 0 and a positive drift, per rate */
        for (size_t r = 0; r < n; r++)
            keep[r] = (int)cli_table_at(t, r, code) != 2 && cli_table_at(t, r, cb) > 0 && cli_table_at(t, r, cd) > 0;
        blocks(t, &(blocks_def){lrname, "beta drift_fro", "%.8g", " (completed, beta > 0)", keep}, &dr, &ftitles,
               &anchor);
        if (ntk_distinct_values(n, lr, fr, &nf, NULL) || ntk_distinct_values(n, width, ws, &nw, gw)) rc = CLI_EXIT_FAIL;
    }
    /* kernel regression: per width, the mean test error over the non-unstable cells */
    static const char *errs[4] = {"test_err_net", "test_err_k0", "test_err_kT", "test_err_kinf"};
    nw = nw < 64 ? nw : 64;
    for (size_t r = 0; !rc && r < n; r++)
        if ((int)cli_table_at(t, r, code) == 2 || gw[r] >= nw) gw[r] = SIZE_MAX;
    for (int k = 0; k < 4 && !rc; k++) {
        col = cli_table_column(t, errs[k]);
        if (!col || ntk_group_means(n, gw, nw, col, means[k]) != NTK_OK) rc = CLI_EXIT_FAIL;
        free(col);
    }
    fig_printf(&kr, "# width mean test RMSE over non-unstable cells: network K_0 K_T K_inf\n");
    for (size_t i = 0; i < nw && !rc; i++)
        fig_printf(&kr, "%g %.8g %.8g %.8g %.8g\n", ws[i], means[0][i], means[1][i], means[2][i], means[3][i]);
    if (!rc)
        rc = fig_draw(figdir, "regime_map", &map,
             "set title 'Regimes of training over β = depth/width and learning rate'\n"
             "set xlabel 'β = depth / width'\nset ylabel '%s'\n"
             "set logscale y\nset key outside right\nset offsets 0.02, 0.02, 0, 0\n"
             "plot dat using 1:($4 == 0 ? $2 : 1/0) with points pt 7 ps 1.6 lc rgb '#1b9e77' title 'lazy', \\\n"
             "     dat using 1:($4 == 1 ? $2 : 1/0) with points pt 5 ps 1.6 lc rgb '#d95f02' "
             "title 'weak feature learning', \\\n"
             "     dat using 1:($4 == 2 ? $2 : 1/0) with points pt 9 ps 1.6 lc rgb '#7570b3' title 'unstable', \\\n"
             "     dat using 1:($3 > 0 && $4 != 2 ? $2 : 1/0) with points pt 6 ps 3 lc rgb 'black' title 'catapult'\n",
             absolute ? "learning rate η (absolute, --lr)" : "learning rate / (2 / λ_{max}(c K_0))");
    if (!rc && anchor != SIZE_MAX)
        rc = fig_draw(figdir, "drift_beta", &dr,
             "fracs = '%s'\nlrname = '%s'\nb0 = %.8g\nd0 = %.8g\n"
             "set title 'Final relative kernel drift ||K_T - K_0||_F / ||K_0||_F against β'\n"
             "set xlabel 'β = depth / width'\nset ylabel 'relative drift'\nset logscale xy\n"
             "plot for [i=1:words(fracs)] dat index (i-1) using 1:2 with points pt 7 lc i "
             "title lrname.word(fracs,i), \\\n"
             "     d0 * (x / b0) with lines dt 2 lc rgb 'black' title '∝ β (1/n at fixed depth)', \\\n"
             "     d0 * sqrt(x / b0) with lines dt 3 lc rgb 'black' title '∝ β^{1/2}'\n",
             ftitles.s ? ftitles.s : "", absolute ? "η = " : "lr fraction ", cli_table_at(t, anchor, cb),
             cli_table_at(t, anchor, cd));
    if (!rc && nw > 0)
        rc = fig_draw(figdir, "kregression", &kr, "%s",
             "set title 'Test error: trained network against kernel regression'\n"
             "set xlabel 'width'\nset ylabel 'test RMSE per entry (mean over non-unstable cells)'\n"
             "set logscale x\n"
             "plot dat using 1:2 with linespoints pt 7 title 'network', "
             "dat using 1:3 with linespoints pt 5 title 'kernel regression, K_0', "
             "dat using 1:4 with linespoints pt 9 title 'K_T (after kernel)', "
             "dat using 1:5 with linespoints pt 11 title 'K_∞ (infinite width)'\n");
    if (!rc && nf > 0) rc = plot_drift_time(run, figdir, t, cf, absolute, fr[0]);
    fig_text_free(&map);
    fig_text_free(&dr);
    fig_text_free(&kr);
    fig_text_free(&ftitles);
    free(keep);
    free(width);
    free(lr);
    free(ws);
    free(fr);
    free(gw);
    return rc;
}

static int plot_cells(const char *run, const char *figdir, const cli_table *t, const char *path)
{
    return cli_table_col(t, "regime_code") >= 0 ? plot_sweep(run, figdir, t) /* a sweep's cells.csv */
                                                : plot_ensemble(figdir, t, path);
}

/* Member `member` of the snapshot of step `step` (snapshots/snap_STEP.npz). */
static ntk_status snapshot_read(const char *run, double step, const char *member, ntk_array *a)
{
    char snap[CLI_PATH_MAX + 64];
    snprintf(snap, sizeof snap, "%s/snapshots/snap_%010ld.npz", run, (long)step);
    return ntk_npz_read(snap, member, a);
}

/* metrics.csv columns as gnuplot reads them (by name, from the csv itself). */
static int plot_train(const char *run, const char *figdir, const cli_table *t, const char *path)
{
    int rc = 0;
    const char *cols[] = {"step", "t", "loss", "loss_eval", "drift_fro", "drift_op", "kernel_distance", "angle_max",
                          "projector_dist", "lin_err", "pert_err", "pw_err", "alignment"};
    enum { NC = sizeof cols / sizeof *cols };
    int ci[NC];
    for (int k = 0; k < NC; k++) ci[k] = cli_table_col(t, cols[k]);
    if (ci[0] < 0 || ci[2] < 0 || ci[4] < 0) {
        cli_errorf("%s: not a train metrics.csv (step, loss, drift_fro missing)", path);
        return CLI_EXIT_USAGE;
    }
    fig_text d = {0}, sp = {0};
    fig_printf(&d, "#");
    for (int k = 0; k < NC; k++) fig_printf(&d, " %s", cols[k]);
    fig_printf(&d, "\n");
    for (size_t r = 0; r < t->nrows; r++) {
        for (int k = 0; k < NC; k++) fig_printf(&d, "%s%.10g", k ? " " : "", cli_table_at(t, r, ci[k]));
        fig_printf(&d, "\n");
    }
    /* spectra over time: the top eigenvalues stored in each snapshot */
    int top = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        ntk_array a = {0};
        if (snapshot_read(run, cli_table_at(t, r, ci[0]), "eigs", &a) != NTK_OK) continue;
        int k = a.count < 10 ? (int)a.count : 10;
        top = top > k ? top : k;
        fig_printf(&sp, "%.10g", cli_table_at(t, r, ci[0]));
        for (int i = 0; i < k; i++) fig_printf(&sp, " %.10g", ((const double *)a.data)[i]);
        fig_printf(&sp, "\n");
        ntk_array_clear(&a);
    }
    static const struct {
        const char *name, *body;
    } figs[] = {
        {"loss", "set title 'Training loss'\nset xlabel 'step'\nset ylabel 'loss'\nset logscale y\n"
                 "plot dat using 1:3 with linespoints pt 7 ps 0.6 title 'train', "
                 "dat using 1:4 with linespoints pt 6 ps 0.6 title 'eval'\n"},
        {"drift", "set title 'Kernel drift'\nset xlabel 't = η step'\nset ylabel 'relative change'\n"
                  "plot dat using 2:5 with linespoints pt 7 ps 0.6 title '||K_t - K_0||_F / ||K_0||_F', "
                  "dat using 2:6 with linespoints pt 5 ps 0.6 title '||K_t - K_0||_2 / ||K_0||_2', "
                  "dat using 2:7 with linespoints pt 6 ps 0.6 title 'kernel distance S(K_0, K_t)'\n"},
        {"angles", "set title 'Rotation of the top eigenspace of K_t against K_0'\nset xlabel 't = η step'\n"
                   "set ylabel 'radians / distance'\n"
                   "plot dat using 2:8 with linespoints pt 7 ps 0.6 title 'largest principal angle', "
                   "dat using 2:9 with linespoints pt 6 ps 0.6 title 'projector distance'\n"},
        {"predictions", "set title 'Trajectory error of the predictors: ||f_t - pred|| / ||f_t - f_0||'\n"
                        "set xlabel 'step'\nset ylabel 'relative error'\nset logscale y\n"
                        "plot dat using 1:10 with linespoints pt 7 ps 0.6 title 'frozen K_0 (linearized)', "
                        "dat using 1:11 with linespoints pt 6 ps 0.6 title 'first order in ΔK', "
                        "dat using 1:12 with linespoints pt 5 ps 0.6 title 'piecewise frozen K_t'\n"},
    };
    for (size_t i = 0; i < sizeof figs / sizeof *figs && !rc; i++)
        rc = fig_draw(figdir, figs[i].name, &d, "%s", figs[i].body);
    if (!rc && top > 0)
        rc = fig_draw(figdir, "spectrum", &sp,
             "set title 'Top eigenvalues of K_t over training'\nset xlabel 'step'\nset ylabel 'eigenvalue'\n"
             "set logscale y\nset key outside right\n"
             "plot for [i=2:%d] dat using 1:i with linespoints pt 7 ps 0.5 title sprintf('λ_{%%d}', i-1)\n", top + 1);
    fig_text_free(&d);
    fig_text_free(&sp);
    return rc;
}

/* Read the named members of one .npz into arrays: [n]; NTK_OK or the first failure (all cleared). */
static ntk_status npz_members(const char *path, int n, const char *const *names, ntk_array *a)
{
    ntk_status st = NTK_OK;
    for (int i = 0; i < n && st == NTK_OK; i++) st = ntk_npz_read(path, names[i], &a[i]);
    for (int i = 0; i < n && st != NTK_OK; i++) ntk_array_clear(&a[i]);
    return st;
}

/* Spectral bias on a circle grid: |Fourier coefficient k| of the training residual at every snapshot. */
static int plot_spectral_bias(const char *run, const char *figdir, const cli_table *t, const char *file)
{
    (void)t, (void)file;
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.yaml", run);
    char *cfg = cli_read_text(path);
    bool grid = cfg && (strstr(cfg, "  data: \"circle\"") || strstr(cfg, "  data: \"circle-pos\""));
    free(cfg);
    if (!grid) return 0;
    snprintf(path, sizeof path, "%s/trajectory.npz", run);
    ntk_array a[3] = {{0}}, *st = &a[0], *f = &a[1], *y = &a[2];
    if (npz_members(path, 3, (const char *const[]){"steps", "f_train", "y_train"}, a) != NTK_OK) return 0;
    size_t S = st->count, N = y->count, K = N / 2 < 8 ? N / 2 : 8;
    double *amp = malloc((S * K > 0 ? S * K : 1) * sizeof *amp);
    int rc = amp ? 0 : CLI_EXIT_FAIL;
    if (N == 0 || f->count != S * N || (K > 0 && amp && ntk_circle_fourier_amplitudes(S, N, f->data, y->data, (int)K,
                                                                                      amp) != NTK_OK)) {
        for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
        free(amp);
        return 0; /* an older or multi-output run: no such figure */
    }
    fig_text d = {0};
    fig_printf(&d, "# step |c_k| of the residual f_t - y, k = 1..%zu (grid gamma_i = gamma_0 + 2 pi i / N)\n", K);
    for (size_t j = 0; j < S && !rc; j++) {
        fig_printf(&d, "%.10g", st->data[j]);
        for (size_t k = 0; k < K; k++) fig_printf(&d, " %.10g", amp[j * K + k]);
        fig_printf(&d, "\n");
    }
    free(amp);
    if (!rc)
        rc = fig_draw(figdir, "spectral_bias", &d,
             "set title 'Spectral bias: Fourier modes of the training residual f_t - y'\n"
             "set xlabel 'step'\nset ylabel '|c_k|'\nset logscale xy\nset format y '10^{%%L}'\n"
             "set key outside right\n"
             "plot for [k=1:%zu] dat using ($1 > 0 ? $1 : 1/0):(column(k+1)) with linespoints pt 7 ps 0.5 "
             "title sprintf('k = %%d', k)\n", K);
    fig_text_free(&d);
    /* leakage of each Fourier mode across the eigenspaces of K_t (relative to K_0) */
    ntk_array K0 = {0}, Kt = {0};
    double leak[9];
    fig_printf(&d, "# step leakage of Fourier mode k = 0..%zu across the eigenspaces of K_t (ntk_circle_leakage)\n", K);
    for (size_t j = 0; j < S && !rc; j++) {
        ntk_array *dst = j == 0 ? &K0 : &Kt;
        if (snapshot_read(run, st->data[j], "K", dst) != NTK_OK || dst->count != N * N) break;
        if (ntk_circle_leakage(N, K0.data, j == 0 ? K0.data : Kt.data, (int)K, leak) != NTK_OK) break;
        fig_printf(&d, "%.10g", st->data[j]);
        for (size_t k = 0; k <= K; k++) fig_printf(&d, " %.6g", leak[k]);
        fig_printf(&d, "\n");
        if (j > 0) ntk_array_clear(&Kt);
    }
    ntk_array_clear(&K0);
    ntk_array_clear(&Kt);
    if (!rc)
        rc = fig_draw(figdir, "fourier_leakage", &d,
             "set title 'Leakage of the Fourier modes across the eigenspaces of K_t'\n"
             "set xlabel 'step'\nset ylabel '1 - share of mode k kept in its K_0 eigenspace'\nset logscale x\n"
             "set yrange [0:1]\nset key outside right\n"
             "plot for [k=0:%zu] dat using ($1 > 0 ? $1 : 1/0):(column(k+2)) with linespoints pt 7 ps 0.5 "
             "title sprintf('k = %%d', k)\n", K);
    fig_text_free(&d);
    for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
    return rc;
}

/* profile: K(x_0, x(gamma)) on the circle per (depth, width), mean with the 10-90% band over seeds,
 * and the infinite-width limit. */
static int plot_profile(const char *run, const char *figdir, const cli_table *t, const char *file)
{
    (void)t, (void)file;
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/profile.npz", run);
    ntk_array a[7] = {{0}}, *g = &a[0], *mean = &a[1], *p10 = &a[2], *p90 = &a[3], *lim = &a[4], *dep = &a[5],
              *wid = &a[6];
    ntk_status st = npz_members(path, 7, (const char *const[]){"gamma", "mean", "p10", "p90", "limit", "depths",
                                                               "widths"}, a);
    if (st != NTK_OK || mean->count != dep->count * wid->count * g->count || lim->count != mean->count) {
        cli_errorf("plot: %s: %s", path, st != NTK_OK ? ntk_last_error() : "unexpected shapes");
        for (int i = 0; i < 7; i++) ntk_array_clear(&a[i]);
        return CLI_EXIT_USAGE;
    }
    fig_text d = {0}, titles = {0};
    size_t G = g->count, nb = 0;
    for (size_t i = 0; i < dep->count; i++)
        for (size_t j = 0; j < wid->count; j++, nb++) {
            size_t off = (i * wid->count + j) * G;
            fig_printf(&titles, "%sL=%g,n=%g", nb ? " " : "", dep->data[i], wid->data[j]);
            fig_printf(&d, "# depth %g width %g\n# gamma mean p10 p90 limit\n", dep->data[i], wid->data[j]);
            for (size_t k = 0; k < G; k++)
                fig_printf(&d, "%.8g %.10g %.10g %.10g %.10g\n", g->data[k], mean->data[off + k], p10->data[off + k],
                           p90->data[off + k], lim->data[off + k]);
            fig_printf(&d, "\n\n");
        }
    int rc = d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "profile", &d,
             "cells = '%s'\n"
             "set title 'Kernel profile on the circle: K(x_0, x(γ)) (output mean for k > 1), mean and 10-90%% "
             "band over seeds'\n"
             "set xlabel 'γ (angle to x_0)'\nset ylabel 'K'\nset key outside right\n"
             "plot for [i=1:words(cells)] dat index (i-1) using 1:3:4 with filledcurves fs transparent solid 0.15 "
             "lc i notitle, \\\n"
             "     for [i=1:words(cells)] dat index (i-1) using 1:2 with lines lw 2 lc i title word(cells,i), \\\n"
             "     for [i=1:words(cells)] dat index (i-1) using 1:5 with lines dt 2 lc i title word(cells,i).' limit'\n",
             titles.s ? titles.s : "");
    fig_text_free(&d);
    fig_text_free(&titles);
    for (int i = 0; i < 7; i++) ntk_array_clear(&a[i]);
    return rc;
}

/* converge: distance of K_0 from K_inf against width per depth (log-log), with a 1/sqrt(n) reference. */
static int plot_converge(const char *run, const char *figdir, const cli_table *t, const char *path)
{
    (void)run, (void)path;
    fig_text d = {0}, titles = {0};
    size_t a = SIZE_MAX; /* the anchor of the reference line: the first cell of the smallest width */
    blocks(t, &(blocks_def){"depth", "width err_single_mean err_single_se err_mean", "%.10g", NULL, NULL}, &d,
           &titles, &a);
    int rc = d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "converge", &d,
             "depths = '%s'\nw0 = %.8g\ne0 = %.8g\n"
             "set title 'Distance of the empirical NTK from its infinite-width limit'\n"
             "set xlabel 'width'\nset ylabel '||K_0 - K_∞||_F / ||K_∞||_F'\nset logscale xy\n"
             "plot for [i=1:words(depths)] dat index (i-1) using 1:2:(2*$3) with yerrorlines pt 7 lc i "
             "title 'one network, depth '.word(depths,i), \\\n"
             "     for [i=1:words(depths)] dat index (i-1) using 1:4 with linespoints pt 6 dt 2 lc i "
             "title 'seed-averaged kernel, depth '.word(depths,i), \\\n"
             "     e0 * sqrt(w0 / x) with lines dt 3 lc rgb 'black' title '∝ n^{-1/2}'\n",
             titles.s ? titles.s : "", cli_table_at(t, a, cli_table_col(t, "width")),
             cli_table_at(t, a, cli_table_col(t, "err_single_mean")));
    fig_text_free(&d);
    fig_text_free(&titles);
    return rc;
}

/* The figures of each command, drawn from the table `file` of the run (NULL: none to read); kernel,
 * limit, eval and study have none of their own. */
typedef int (*plot_fn)(const char *run, const char *figdir, const cli_table *t, const char *path);
static const struct {
    const char *command, *file;
    plot_fn draw[2];
} PLOTS[] = {
    {"ensemble", "cells.csv", {plot_cells, NULL}},         {"sweep", "cells.csv", {plot_cells, NULL}},
    {"train", "metrics.csv", {plot_train, plot_spectral_bias}}, {"profile", NULL, {plot_profile, NULL}},
    {"converge", "metrics.csv", {plot_converge, NULL}},
};

static int plot_command(const char *run, const char *cmd)
{
    for (size_t i = 0; i < sizeof PLOTS / sizeof *PLOTS; i++) {
        if (strcmp(cmd, PLOTS[i].command) != 0) continue;
        char figdir[CLI_PATH_MAX + 32], path[CLI_PATH_MAX + 32];
        snprintf(figdir, sizeof figdir, "%s/figures", run);
        if (ntk_mkdir_p(figdir) != NTK_OK) {
            cli_errorf("%s", ntk_last_error());
            return CLI_EXIT_FAIL;
        }
        cli_table t = {0};
        snprintf(path, sizeof path, "%s/%s", run, PLOTS[i].file ? PLOTS[i].file : "");
        int rc = PLOTS[i].file ? cli_table_read(path, &t) : 0;
        for (int k = 0; k < 2 && PLOTS[i].draw[k] && !rc; k++) rc = PLOTS[i].draw[k](run, figdir, &t, path);
        cli_table_free(&t);
        return rc;
    }
    return 0;
}

int plot_run(const char *run)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", run);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        cli_errorf("plot: %s has no manifest.json (not a finished ntkdrift run)", run);
        return CLI_EXIT_USAGE;
    }
    cJSON *m = cli_read_json(path);
    if (!m) return CLI_EXIT_USAGE;
    const cJSON *cj = cJSON_GetObjectItemCaseSensitive(m, "command");
    char cmd[32] = "";
    if (cJSON_IsString(cj)) snprintf(cmd, sizeof cmd, "%s", cj->valuestring);
    cJSON_Delete(m);
    return plot_command(run, cmd);
}

void plot_before_manifest(const char *run, const char *command)
{
    if (plot_command(run, command))
        fprintf(stderr, "ntkdrift: note: figures not drawn (the run itself is complete; `ntkdrift plot %s` "
                "draws them)\n", run);
}

/* `ntkdrift plot RUN_DIR...`: (re)draw the figures of finished runs from their output files. */
int cmd_plot(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *fp = argc < 2 ? stderr : stdout;
        fprintf(fp, "usage: ntkdrift plot RUN_DIR...\n\n"
                    "Draw the figures of finished runs into RUN_DIR/figures/: NAME.png, the gnuplot script NAME.gp\n"
                    "and its data NAME.dat (edit the script and run `gnuplot NAME.gp` there to restyle).\n"
                    "ensemble runs: hn_logR (log R against beta per width, with log prod(1+5/n) and 5 beta),\n"
                    "hn_dK (|E dK|/E K against beta).  train runs: loss, drift, angles, predictions, spectrum.\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            cli_errorf("plot: unknown flag '%s' (usage: ntkdrift plot RUN_DIR...)", argv[i]);
            return CLI_EXIT_USAGE;
        }
        int rc = plot_run(argv[i]);
        if (rc) return rc;
        printf("figures: %s/figures\n", argv[i]);
    }
    return CLI_EXIT_OK;
}
