/* plots.c -- the figures of a finished run, from its own output files (so `ntkdrift plot RUN_DIR`
 * redraws them at any time): ensemble runs from cells.csv, train runs from metrics.csv and the
 * snapshots' spectra.  Each figure is FIGDIR/NAME.{dat,gp,png} (figure.c). */
#include "plots.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "figure.h"
#include "ntkdrift.h"
#include "rundir.h"

static int fig_dir(const char *run, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/figures", run);
    if (ntk_mkdir_p(buf) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Distinct values of column c, ascending, into out: [cap]; their count. */
static size_t distinct(const cli_table *t, int c, double *out, size_t cap)
{
    size_t k = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        double v = cli_table_at(t, r, c);
        size_t i = 0;
        while (i < k && out[i] != v) i++;
        if (i == k && k < cap && isfinite(v)) out[k++] = v;
    }
    for (size_t i = 1; i < k; i++) /* insertion sort: a handful of widths */
        for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            double x = out[j];
            out[j] = out[j - 1];
            out[j - 1] = x;
        }
    return k;
}

static int plot_sweep(const char *run, const char *figdir, const cli_table *t);

static int plot_ensemble(const char *run, const char *figdir)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cells.csv", run);
    cli_table t;
    int rc = cli_table_read(path, &t);
    if (rc) return rc;
    if (cli_table_col(&t, "regime_code") >= 0) { /* a sweep's cells.csv */
        rc = plot_sweep(run, figdir, &t);
        cli_table_free(&t);
        return rc;
    }
    int cw = cli_table_col(&t, "width"), cb = cli_table_col(&t, "beta"), cR = cli_table_col(&t, "R"),
        cRse = cli_table_col(&t, "R_log_se"), cKd = cli_table_col(&t, "Kd_R"),
        cKdse = cli_table_col(&t, "Kd_R_log_se"), cKdt = cli_table_col(&t, "Kd_R_theory"),
        cK = cli_table_col(&t, "K_mean"), cdk = cli_table_col(&t, "dK_path_mean"),
        cdkse = cli_table_col(&t, "dK_path_se"), cdl = cli_table_col(&t, "dK_lit_mean"),
        cth = cli_table_col(&t, "dK_scale_theory");
    if (cw < 0 || cb < 0 || cR < 0 || cK < 0) {
        cli_table_free(&t);
        cli_errorf("%s: not an ensemble cells.csv (width, beta, R, K_mean missing)", path);
        return CLI_EXIT_USAGE;
    }
    double widths[64];
    size_t nw = distinct(&t, cw, widths, 64);
    /* one gnuplot block per width, rows by beta */
    fig_text d1 = {0}, d2 = {0}, titles = {0};
    double num = 0, den = 0; /* C of the dK scale, fitted in log space over finite cells */
    for (size_t r = 0; r < t.nrows; r++) {
        double dk = cli_table_at(&t, r, cdk), th = cli_table_at(&t, r, cth), k = cli_table_at(&t, r, cK);
        if (isfinite(dk) && isfinite(th) && dk != 0 && th > 0 && k > 0) num += log(fabs(dk) / k / th), den += 1;
    }
    double C = den > 0 ? exp(num / den) : NAN;
    for (size_t i = 0; i < nw; i++) {
        fig_printf(&titles, "%s%g", i ? " " : "", widths[i]);
        fig_printf(&d1, "# width %g\n# beta log_R 2se log_Kd_R 2se log_prod(1+5/n)\n", widths[i]);
        fig_printf(&d2, "# width %g\n# beta |E dK_path|/E K 2se |E dK_lit|/E K C (d^2/n) e^{5 beta}\n", widths[i]);
        for (size_t r = 0; r < t.nrows; r++) {
            if (cli_table_at(&t, r, cw) != widths[i]) continue;
            double b = cli_table_at(&t, r, cb), k = cli_table_at(&t, r, cK);
            fig_printf(&d1, "%.8g %.8g %.6g %.8g %.6g %.8g\n", b, log(cli_table_at(&t, r, cR)),
                       2 * cli_table_at(&t, r, cRse), log(cli_table_at(&t, r, cKd)), 2 * cli_table_at(&t, r, cKdse),
                       log(cli_table_at(&t, r, cKdt)));
            fig_printf(&d2, "%.8g %.8g %.6g %.8g %.8g\n", b, fabs(cli_table_at(&t, r, cdk)) / k,
                       2 * cli_table_at(&t, r, cdkse) / k, fabs(cli_table_at(&t, r, cdl)) / k,
                       C * cli_table_at(&t, r, cth));
        }
        fig_printf(&d1, "\n\n");
        fig_printf(&d2, "\n\n");
    }
    cli_table_free(&t);
    char body[4096];
    snprintf(body, sizeof body,
             "widths = '%s'\n"
             "set title 'Kernel fluctuations at initialization: R = E[K^2]/E[K]^2 (Hanin-Nica)'\n"
             "set xlabel 'β = depth / width'\nset ylabel 'log R'\n"
             "plot for [i=1:words(widths)] dat index (i-1) using 1:2:3 with yerrorbars pt 7 lc i "
             "title 'K(x,x), n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:4:5 with yerrorbars pt 6 lc i "
             "title 'K_d, n = '.word(widths,i), \\\n"
             "     for [i=1:words(widths)] dat index (i-1) using 1:6 with lines dt 2 lc i "
             "title 'log Π(1+5/n_l), n = '.word(widths,i), \\\n"
             "     5*x with lines lc rgb 'black' dt 3 title '5β (exp(5β))'\n",
             titles.s ? titles.s : "");
    rc = titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "hn_logR", &d1, body);
    if (!rc && isfinite(C)) {
        snprintf(body, sizeof body,
                 "widths = '%s'\n"
                 "set title 'First SGD step: |E ΔK| / (E K λ) against β'\n"
                 "set xlabel 'β = depth / width'\nset ylabel '|E ΔK| / (λ E K)'\n"
                 "set logscale y\n"
                 "plot for [i=1:words(widths)] dat index (i-1) using 1:2:3 with yerrorbars pt 7 lc i "
                 "title 'pathwise, n = '.word(widths,i), \\\n"
                 "     for [i=1:words(widths)] dat index (i-1) using 1:4 with points pt 6 lc i "
                 "title 'literal, n = '.word(widths,i), \\\n"
                 "     for [i=1:words(widths)] dat index (i-1) using 1:5 with lines dt 2 lc i "
                 "title 'C (d^2/n) e^{5β}, C = %.3g fitted, n = '.word(widths,i)\n",
                 titles.s ? titles.s : "", C);
        rc = fig_draw(figdir, "hn_dK", &d2, body);
    }
    fig_text_free(&d1);
    fig_text_free(&d2);
    fig_text_free(&titles);
    return rc;
}

/* Sweep: the regime map, drift against beta, kernel regression against the network. */
/* The learning-rate column the sweep varied: lr_frac when fractions of 2/lambda_max(c K_0) were
 * given, else (every lr_frac 0: an absolute --lr) lr, the absolute eta.  *absolute says which. */
static int sweep_lr_col(const cli_table *t, bool *absolute)
{
    int cf = cli_table_col(t, "lr_frac");
    *absolute = true;
    for (size_t r = 0; r < t->nrows && *absolute; r++)
        if (cli_table_at(t, r, cf) > 0) *absolute = false;
    return *absolute ? cli_table_col(t, "lr") : cf;
}

/* Drift against time, one curve per (depth, width) at the smallest learning rate (fraction or
 * absolute, as the sweep gave it) and the first seed, from the cells' own metrics.csv. */
static int plot_drift_time(const char *run, const char *figdir, const cli_table *t)
{
    bool absolute;
    int cf = sweep_lr_col(t, &absolute), cs = cli_table_col(t, "seed"), cd = cli_table_col(t, "depth"),
        cw = cli_table_col(t, "width");
    double f0 = INFINITY, s0 = NAN;
    for (size_t r = 0; r < t->nrows; r++) f0 = fmin(f0, cli_table_at(t, r, cf));
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
    int rc = 0;
    if (nb > 0) {
        char body[2048], what[96];
        snprintf(what, sizeof what, absolute ? "η = %g" : "%g x 2/λ_{max}(c K_0)", f0);
        snprintf(body, sizeof body,
                 "cells = '%s'\n"
                 "set title 'Kernel drift against time, learning rate %s'\n"
                 "set xlabel 't = η step'\nset ylabel '||K_t - K_0||_F / ||K_0||_F'\nset logscale xy\n"
                 "set key outside right\n"
                 "plot for [i=1:words(cells)] dat index (i-1) using ($1 > 0 ? $1 : 1/0):($2 > 0 ? $2 : 1/0) "
                 "with linespoints pt 7 ps 0.5 lc i title word(cells,i)\n",
                 titles.s ? titles.s : "", what);
        rc = d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "drift_time", &d, body);
    }
    fig_text_free(&d);
    fig_text_free(&titles);
    return rc;
}

static int plot_sweep(const char *run, const char *figdir, const cli_table *t)
{
    bool absolute;
    int cb = cli_table_col(t, "beta"), cf = sweep_lr_col(t, &absolute), cc = cli_table_col(t, "catapult"),
        cd = cli_table_col(t, "drift_fro"), cw = cli_table_col(t, "width"),
        cn = cli_table_col(t, "test_err_net"), c0 = cli_table_col(t, "test_err_k0"),
        cT = cli_table_col(t, "test_err_kT"), ci = cli_table_col(t, "test_err_kinf");
    fig_text map = {0}, dr = {0}, kr = {0};
    /* the table reader keeps numbers only: the label comes from regime_code (0 lazy, 1 weak, 2 unstable) */
    int code = cli_table_col(t, "regime_code");
    /* one block with the regime in column 4: an empty regime leaves no empty block behind (gnuplot
     * skips leading empty blocks, which shifted every later `index` onto the wrong regime) */
    fig_printf(&map, "# beta %s catapult regime_code (0 lazy, 1 weak feature learning, 2 unstable)\n",
               absolute ? "lr" : "lr_frac");
    for (size_t r = 0; r < t->nrows; r++)
        fig_printf(&map, "%.8g %.8g %d %d\n", cli_table_at(t, r, cb), cli_table_at(t, r, cf),
                   (int)cli_table_at(t, r, cc), (int)cli_table_at(t, r, code));
    double fr[64], ws[64];
    size_t nf = distinct(t, cf, fr, 64), nw = distinct(t, cw, ws, 64);
    fig_text ftitles = {0};
    double anchor_b = NAN, anchor_d = NAN;
    int nblocks = 0;
    for (size_t i = 0; i < nf; i++) { /* one block per learning-rate fraction that has points */
        int npts = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (size_t r = 0; r < t->nrows; r++) {
                double b = cli_table_at(t, r, cb), d = cli_table_at(t, r, cd);
                if (cli_table_at(t, r, cf) != fr[i] || (int)cli_table_at(t, r, code) == 2 || !(b > 0) || !(d > 0))
                    continue;
                if (pass == 0) {
                    npts++;
                    continue;
                }
                fig_printf(&dr, "%.8g %.8g\n", b, d);
                if (isnan(anchor_b) || b < anchor_b) anchor_b = b, anchor_d = d;
            }
            if (pass == 0 && npts == 0) break;
            if (pass == 0) {
                fig_printf(&ftitles, "%s%g", nblocks++ ? " " : "", fr[i]);
                fig_printf(&dr, "# %s %g\n# beta drift_fro (completed, beta > 0)\n", absolute ? "lr" : "lr_frac",
                           fr[i]);
            } else {
                fig_printf(&dr, "\n\n");
            }
        }
    }
    fig_printf(&kr, "# width mean test RMSE over non-unstable cells: network K_0 K_T K_inf\n");
    for (size_t i = 0; i < nw; i++) {
        double s[4] = {0, 0, 0, 0};
        int cnt[4] = {0, 0, 0, 0}, cols[4] = {cn, c0, cT, ci};
        for (size_t r = 0; r < t->nrows; r++) {
            if (cli_table_at(t, r, cw) != ws[i] || (int)cli_table_at(t, r, code) == 2) continue;
            for (int k = 0; k < 4; k++) {
                double v = cli_table_at(t, r, cols[k]);
                if (isfinite(v)) s[k] += v, cnt[k]++;
            }
        }
        fig_printf(&kr, "%g", ws[i]);
        for (int k = 0; k < 4; k++) fig_printf(&kr, " %.8g", cnt[k] ? s[k] / cnt[k] : NAN);
        fig_printf(&kr, "\n");
    }
    char body[2048];
    snprintf(body, sizeof body,
             "set title 'Regimes of training over β = depth/width and learning rate'\n"
             "set xlabel 'β = depth / width'\nset ylabel '%s'\n"
             "set logscale y\nset key outside right\nset offsets 0.02, 0.02, 0, 0\n"
             "plot dat using 1:($4 == 0 ? $2 : 1/0) with points pt 7 ps 1.6 lc rgb '#1b9e77' title 'lazy', \\\n"
             "     dat using 1:($4 == 1 ? $2 : 1/0) with points pt 5 ps 1.6 lc rgb '#d95f02' "
             "title 'weak feature learning', \\\n"
             "     dat using 1:($4 == 2 ? $2 : 1/0) with points pt 9 ps 1.6 lc rgb '#7570b3' title 'unstable', \\\n"
             "     dat using 1:($3 > 0 && $4 != 2 ? $2 : 1/0) with points pt 6 ps 3 lc rgb 'black' title 'catapult'\n",
             absolute ? "learning rate η (absolute, --lr)" : "learning rate / (2 / λ_{max}(c K_0))");
    int rc = fig_draw(figdir, "regime_map", &map, body);
    if (!rc && isfinite(anchor_b)) {
        snprintf(body, sizeof body,
                 "fracs = '%s'\nlrname = '%s'\nb0 = %.8g\nd0 = %.8g\n"
                 "set title 'Final relative kernel drift ||K_T - K_0||_F / ||K_0||_F against β'\n"
                 "set xlabel 'β = depth / width'\nset ylabel 'relative drift'\nset logscale xy\n"
                 "plot for [i=1:words(fracs)] dat index (i-1) using 1:2 with points pt 7 lc i "
                 "title lrname.word(fracs,i), \\\n"
                 "     d0 * (x / b0) with lines dt 2 lc rgb 'black' title '∝ β (1/n at fixed depth)', \\\n"
                 "     d0 * sqrt(x / b0) with lines dt 3 lc rgb 'black' title '∝ β^{1/2}'\n",
                 ftitles.s ? ftitles.s : "", absolute ? "η = " : "lr fraction ", anchor_b, anchor_d);
        rc = fig_draw(figdir, "drift_beta", &dr, body);
    }
    if (!rc && nw > 0)
        rc = fig_draw(figdir, "kregression", &kr,
                      "set title 'Test error: trained network against kernel regression'\n"
                      "set xlabel 'width'\nset ylabel 'test RMSE per entry (mean over non-unstable cells)'\n"
                      "set logscale x\n"
                      "plot dat using 1:2 with linespoints pt 7 title 'network', "
                      "dat using 1:3 with linespoints pt 5 title 'kernel regression, K_0', "
                      "dat using 1:4 with linespoints pt 9 title 'K_T (after kernel)', "
                      "dat using 1:5 with linespoints pt 11 title 'K_∞ (infinite width)'\n");
    fig_text_free(&map);
    fig_text_free(&dr);
    fig_text_free(&kr);
    fig_text_free(&ftitles);
    if (!rc) rc = plot_drift_time(run, figdir, t);
    return rc;
}

/* metrics.csv columns as gnuplot reads them (by name, from the csv itself). */
static int plot_train(const char *run, const char *figdir)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    cli_table t;
    int rc = cli_table_read(path, &t);
    if (rc) return rc;
    const char *cols[] = {"step", "t", "loss", "loss_eval", "drift_fro", "drift_op", "kernel_distance", "angle_max",
                          "projector_dist", "lin_err", "pert_err", "pw_err", "alignment"};
    enum { NC = sizeof cols / sizeof *cols };
    int ci[NC];
    for (int k = 0; k < NC; k++) ci[k] = cli_table_col(&t, cols[k]);
    if (ci[0] < 0 || ci[2] < 0 || ci[4] < 0) {
        cli_table_free(&t);
        cli_errorf("%s: not a train metrics.csv (step, loss, drift_fro missing)", path);
        return CLI_EXIT_USAGE;
    }
    fig_text d = {0}, sp = {0};
    fig_printf(&d, "#");
    for (int k = 0; k < NC; k++) fig_printf(&d, " %s", cols[k]);
    fig_printf(&d, "\n");
    for (size_t r = 0; r < t.nrows; r++) {
        for (int k = 0; k < NC; k++) fig_printf(&d, "%s%.10g", k ? " " : "", cli_table_at(&t, r, ci[k]));
        fig_printf(&d, "\n");
    }
    /* spectra over time: the top eigenvalues stored in each snapshot */
    int top = 0;
    for (size_t r = 0; r < t.nrows; r++) {
        char snap[CLI_PATH_MAX + 64];
        snprintf(snap, sizeof snap, "%s/snapshots/snap_%010ld.npz", run, (long)cli_table_at(&t, r, ci[0]));
        ntk_array a = {0};
        if (ntk_npz_read(snap, "eigs", &a) != NTK_OK) continue;
        int k = a.count < 10 ? (int)a.count : 10;
        top = top > k ? top : k;
        fig_printf(&sp, "%.10g", cli_table_at(&t, r, ci[0]));
        for (int i = 0; i < k; i++) fig_printf(&sp, " %.10g", ((const double *)a.data)[i]);
        fig_printf(&sp, "\n");
        ntk_array_clear(&a);
    }
    cli_table_free(&t);
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
    for (size_t i = 0; i < sizeof figs / sizeof *figs && !rc; i++) rc = fig_draw(figdir, figs[i].name, &d, figs[i].body);
    if (!rc && top > 0) {
        char body[1024];
        snprintf(body, sizeof body,
                 "set title 'Top eigenvalues of K_t over training'\nset xlabel 'step'\nset ylabel 'eigenvalue'\n"
                 "set logscale y\nset key outside right\n"
                 "plot for [i=2:%d] dat using 1:i with linespoints pt 7 ps 0.5 title sprintf('λ_{%%d}', i-1)\n",
                 top + 1);
        rc = fig_draw(figdir, "spectrum", &sp, body);
    }
    fig_text_free(&d);
    fig_text_free(&sp);
    return rc;
}

/* Spectral bias on a circle grid: |Fourier coefficient k| of the training residual at every snapshot. */
static int plot_spectral_bias(const char *run, const char *figdir)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.yaml", run);
    FILE *fp = fopen(path, "r");
    char line[512];
    bool grid = false;
    while (fp && fgets(line, sizeof line, fp))
        if (strstr(line, "  data: \"circle\"") || strstr(line, "  data: \"circle-pos\"")) grid = true;
    if (fp) fclose(fp);
    if (!grid) return 0;
    snprintf(path, sizeof path, "%s/trajectory.npz", run);
    ntk_array st = {0}, f = {0}, y = {0};
    int rc = 0;
    if (ntk_npz_read(path, "steps", &st) != NTK_OK || ntk_npz_read(path, "f_train", &f) != NTK_OK ||
        ntk_npz_read(path, "y_train", &y) != NTK_OK || y.count == 0 || f.count != st.count * y.count) {
        ntk_array_clear(&st);
        ntk_array_clear(&f);
        ntk_array_clear(&y);
        return 0; /* an older or multi-output run: no such figure */
    }
    size_t S = st.count, N = y.count, K = N / 2 < 8 ? N / 2 : 8;
    fig_text d = {0};
    fig_printf(&d, "# step |c_k| of the residual f_t - y, k = 1..%zu (grid gamma_i = gamma_0 + 2 pi i / N)\n", K);
    for (size_t j = 0; j < S; j++) {
        fig_printf(&d, "%.10g", st.data[j]);
        for (size_t k = 1; k <= K; k++) {
            double re = 0, im = 0;
            for (size_t i = 0; i < N; i++) {
                double r = f.data[j * N + i] - y.data[i], a = 2 * M_PI * (double)(k * i) / (double)N;
                re += r * cos(a);
                im -= r * sin(a);
            }
            fig_printf(&d, " %.10g", 2 * sqrt(re * re + im * im) / (double)N);
        }
        fig_printf(&d, "\n");
    }
    char body[1024];
    snprintf(body, sizeof body,
             "set title 'Spectral bias: Fourier modes of the training residual f_t - y'\n"
             "set xlabel 'step'\nset ylabel '|c_k|'\nset logscale xy\nset format y '10^{%%L}'\n"
             "set key outside right\n"
             "plot for [k=1:%zu] dat using ($1 > 0 ? $1 : 1/0):(column(k+1)) with linespoints pt 7 ps 0.5 "
             "title sprintf('k = %%d', k)\n", K);
    rc = fig_draw(figdir, "spectral_bias", &d, body);
    fig_text_free(&d);
    /* leakage of each Fourier mode across the eigenspaces of K_t (relative to K_0) */
    ntk_array K0 = {0}, Kt = {0};
    double leak[9];
    fig_printf(&d, "# step leakage of Fourier mode k = 0..%zu across the eigenspaces of K_t (ntk_circle_leakage)\n", K);
    for (size_t j = 0; j < S && !rc; j++) {
        char snap[CLI_PATH_MAX + 64];
        snprintf(snap, sizeof snap, "%s/snapshots/snap_%010ld.npz", run, (long)st.data[j]);
        ntk_array *dst = j == 0 ? &K0 : &Kt;
        if (ntk_npz_read(snap, "K", dst) != NTK_OK || dst->count != N * N) break;
        if (ntk_circle_leakage(N, K0.data, j == 0 ? K0.data : Kt.data, (int)K, leak) != NTK_OK) break;
        fig_printf(&d, "%.10g", st.data[j]);
        for (size_t k = 0; k <= K; k++) fig_printf(&d, " %.6g", leak[k]);
        fig_printf(&d, "\n");
        if (j > 0) ntk_array_clear(&Kt);
    }
    ntk_array_clear(&K0);
    ntk_array_clear(&Kt);
    snprintf(body, sizeof body,
             "set title 'Leakage of the Fourier modes across the eigenspaces of K_t'\n"
             "set xlabel 'step'\nset ylabel '1 - share of mode k kept in its K_0 eigenspace'\nset logscale x\n"
             "set yrange [0:1]\nset key outside right\n"
             "plot for [k=0:%zu] dat using ($1 > 0 ? $1 : 1/0):(column(k+2)) with linespoints pt 7 ps 0.5 "
             "title sprintf('k = %%d', k)\n", K);
    if (!rc) rc = fig_draw(figdir, "fourier_leakage", &d, body);
    fig_text_free(&d);
    ntk_array_clear(&st);
    ntk_array_clear(&f);
    ntk_array_clear(&y);
    return rc;
}

/* profile: K(x_0, x(gamma)) on the circle per (depth, width), mean with the 10-90% band over seeds,
 * and the infinite-width limit. */
static int plot_profile(const char *run, const char *figdir)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/profile.npz", run);
    ntk_array g = {0}, mean = {0}, p10 = {0}, p90 = {0}, lim = {0}, dep = {0}, wid = {0};
    int rc = 0;
    if (ntk_npz_read(path, "gamma", &g) != NTK_OK || ntk_npz_read(path, "mean", &mean) != NTK_OK ||
        ntk_npz_read(path, "p10", &p10) != NTK_OK || ntk_npz_read(path, "p90", &p90) != NTK_OK ||
        ntk_npz_read(path, "limit", &lim) != NTK_OK || ntk_npz_read(path, "depths", &dep) != NTK_OK ||
        ntk_npz_read(path, "widths", &wid) != NTK_OK || mean.count != dep.count * wid.count * g.count ||
        lim.count != mean.count) {
        cli_errorf("plot: %s: %s", path, ntk_last_error()[0] ? ntk_last_error() : "unexpected shapes");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    fig_text d = {0}, titles = {0};
    size_t G = g.count, nb = 0;
    for (size_t a = 0; a < dep.count; a++)
        for (size_t b = 0; b < wid.count; b++, nb++) {
            size_t off = (a * wid.count + b) * G;
            fig_printf(&titles, "%sL=%g,n=%g", nb ? " " : "", dep.data[a], wid.data[b]);
            fig_printf(&d, "# depth %g width %g\n# gamma mean p10 p90 limit\n", dep.data[a], wid.data[b]);
            for (size_t i = 0; i < G; i++)
                fig_printf(&d, "%.8g %.10g %.10g %.10g %.10g\n", g.data[i], mean.data[off + i], p10.data[off + i],
                           p90.data[off + i], lim.data[off + i]);
            fig_printf(&d, "\n\n");
        }
    char body[2048];
    snprintf(body, sizeof body,
             "cells = '%s'\n"
             "set title 'Kernel profile on the circle: K(x_0, x(γ)) (output mean for k > 1), mean and 10-90%% "
             "band over seeds'\n"
             "set xlabel 'γ (angle to x_0)'\nset ylabel 'K'\nset key outside right\n"
             "plot for [i=1:words(cells)] dat index (i-1) using 1:3:4 with filledcurves fs transparent solid 0.15 "
             "lc i notitle, \\\n"
             "     for [i=1:words(cells)] dat index (i-1) using 1:2 with lines lw 2 lc i title word(cells,i), \\\n"
             "     for [i=1:words(cells)] dat index (i-1) using 1:5 with lines dt 2 lc i title word(cells,i).' limit'\n",
             titles.s ? titles.s : "");
    rc = d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "profile", &d, body);
    fig_text_free(&d);
    fig_text_free(&titles);
out:
    ntk_array_clear(&g);
    ntk_array_clear(&mean);
    ntk_array_clear(&p10);
    ntk_array_clear(&p90);
    ntk_array_clear(&lim);
    ntk_array_clear(&dep);
    ntk_array_clear(&wid);
    return rc;
}

/* converge: distance of K_0 from K_inf against width per depth (log-log), with a 1/sqrt(n) reference. */
static int plot_converge(const char *run, const char *figdir)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    cli_table t;
    int rc = cli_table_read(path, &t);
    if (rc) return rc;
    int cd = cli_table_col(&t, "depth"), cw = cli_table_col(&t, "width"), ce = cli_table_col(&t, "err_single_mean"),
        cs = cli_table_col(&t, "err_single_se"), cm = cli_table_col(&t, "err_mean");
    double depths[64];
    size_t nd = distinct(&t, cd, depths, 64);
    fig_text d = {0}, titles = {0};
    double w0 = NAN, e0 = NAN;
    for (size_t i = 0; i < nd; i++) {
        fig_printf(&titles, "%s%g", i ? " " : "", depths[i]);
        fig_printf(&d, "# depth %g\n# width err_single_mean 2se err_seed_mean\n", depths[i]);
        for (size_t r = 0; r < t.nrows; r++) {
            if (cli_table_at(&t, r, cd) != depths[i]) continue;
            double w = cli_table_at(&t, r, cw), e = cli_table_at(&t, r, ce);
            fig_printf(&d, "%g %.8g %.6g %.8g\n", w, e, 2 * cli_table_at(&t, r, cs), cli_table_at(&t, r, cm));
            if (isnan(w0) || w < w0) w0 = w, e0 = e;
        }
        fig_printf(&d, "\n\n");
    }
    cli_table_free(&t);
    char body[2048];
    snprintf(body, sizeof body,
             "depths = '%s'\nw0 = %.8g\ne0 = %.8g\n"
             "set title 'Distance of the empirical NTK from its infinite-width limit'\n"
             "set xlabel 'width'\nset ylabel '||K_0 - K_∞||_F / ||K_∞||_F'\nset logscale xy\n"
             "plot for [i=1:words(depths)] dat index (i-1) using 1:2:3 with yerrorlines pt 7 lc i "
             "title 'one network, depth '.word(depths,i), \\\n"
             "     for [i=1:words(depths)] dat index (i-1) using 1:4 with linespoints pt 6 dt 2 lc i "
             "title 'seed-averaged kernel, depth '.word(depths,i), \\\n"
             "     e0 * sqrt(w0 / x) with lines dt 3 lc rgb 'black' title '∝ n^{-1/2}'\n",
             titles.s ? titles.s : "", w0, e0);
    rc = d.oom || titles.oom ? CLI_EXIT_FAIL : fig_draw(figdir, "converge", &d, body);
    fig_text_free(&d);
    fig_text_free(&titles);
    return rc;
}

static int plot_command(const char *run, const char *cmd);

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

static int plot_command(const char *run, const char *cmd)
{
    char figdir[CLI_PATH_MAX + 32];
    bool known = strcmp(cmd, "ensemble") == 0 || strcmp(cmd, "sweep") == 0 || strcmp(cmd, "train") == 0 ||
                 strcmp(cmd, "profile") == 0 || strcmp(cmd, "converge") == 0;
    if (!known) return 0; /* kernel, limit, study: no figures of their own */
    int rc = fig_dir(run, figdir, sizeof figdir);
    if (rc) return rc;
    if (strcmp(cmd, "ensemble") == 0 || strcmp(cmd, "sweep") == 0) return plot_ensemble(run, figdir);
    if (strcmp(cmd, "profile") == 0) return plot_profile(run, figdir);
    if (strcmp(cmd, "converge") == 0) return plot_converge(run, figdir);
    rc = plot_train(run, figdir);
    if (!rc) rc = plot_spectral_bias(run, figdir);
    return rc;
}
