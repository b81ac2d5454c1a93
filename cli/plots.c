/* plots.c -- the figures of a finished run, from its own output files (so `ntkdrift plot RUN_DIR`
 * redraws them at any time): ensemble and sweep runs from cells.csv, train runs from metrics.csv
 * and the snapshots, profile runs from profile.npz, converge runs from metrics.csv, hierarchy runs
 * from hierarchy_summary.csv.  FIGURES says, once per figure, which runs have it and how its data
 * is built; its gnuplot script and caption are cli/figures/NAME.gp and NAME.html, and it is drawn
 * as FIGDIR/NAME.{dat,gp,png} (figure.c).
 * No numerics here: the .dat files hold the runs' own numbers, the summaries come from the library
 * (run summaries in ntkdrift.h) and the scripts do the plotting transforms (log, 2 standard
 * errors, ratios).  And `ntkdrift plot`. */
#include "plots.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "figure.h"
#include "study.h"
#include "ntkdrift.h"
#include "rundir.h"

enum { PLOT_NONE = -1 }; /* a builder's answer: this run has no such figure */

/* One gnuplot block per distinct value of column `key` (ascending; blocks without kept rows are
 * left out): "# KEY v" and "# COLS NOTE", then the kept rows' columns `cols` in `fmt`.  The values
 * ("%g", space-separated) go to {{titles}}; the first two columns of the first row (in block order)
 * with the smallest first column go to {{anchor[0]}} and {{anchor[1]}} ("%.8g"; nan for none). */
typedef struct {
    const char *key, *cols, *fmt, *note, *titles, *anchor[2];
    const bool *keep; /* [nrows] or NULL: every row */
} blocks_def;

typedef struct figure figure;
struct figure {
    const char *name, *command, *when; /* when: which runs of `command` have it (the docs' table) */
    /* NAME.dat and the script's values into f: 0, PLOT_NONE, or CLI_EXIT_* with a message */
    int (*build)(const char *run, const cli_table *t, const figure *g, fig_data *f);
    blocks_def b; /* for build_blocks; build_table draws columns b.cols of the whole table */
};

/* The indices in t of the space-separated column names cols (-1: absent); their number. */
static int columns(const cli_table *t, const char *cols, int ci[16])
{
    int nc = 0;
    char names[256];
    snprintf(names, sizeof names, "%s", cols);
    for (char *s = strtok(names, " "); s && nc < 16; s = strtok(NULL, " ")) ci[nc++] = cli_table_col(t, s);
    return nc;
}

/* Row r's columns ci[nc] in fmt, space-separated, then a newline. */
static void row(fig_text *d, const cli_table *t, size_t r, const int *ci, int nc, const char *fmt)
{
    for (int k = 0; k < nc; k++) {
        fig_printf(d, "%s", k ? " " : "");
        fig_printf(d, fmt, cli_table_at(t, r, ci[k]));
    }
    fig_printf(d, "\n");
}

static int blocks(const cli_table *t, const blocks_def *b, fig_data *f)
{
    int nb = 0, ci[16], nc = columns(t, b->cols, ci);
    double *key = cli_table_column(t, b->key), *vals = malloc((t->nrows ? t->nrows : 1) * sizeof *vals);
    size_t nv = 0, *idx = malloc((t->nrows ? t->nrows : 1) * sizeof *idx), anchor = SIZE_MAX;
    fig_printf(&f->vars, "%s=", b->titles); /* the values, as the blocks are written */
    if (!key || !vals || !idx || ntk_distinct_values(t->nrows, key, vals, &nv, idx) != NTK_OK) f->dat.oom = 1, nv = 0;
    for (size_t i = 0; i < nv; i++) {
        bool any = false;
        for (size_t r = 0; r < t->nrows; r++) {
            if (idx[r] != i || (b->keep && !b->keep[r])) continue;
            if (!any) {
                fig_printf(&f->vars, "%s%g", nb++ ? " " : "", vals[i]);
                fig_printf(&f->dat, "# %s %g\n# %s%s\n", b->key, vals[i], b->cols, b->note ? b->note : "");
                any = true;
            }
            row(&f->dat, t, r, ci, nc, b->fmt);
            if (anchor == SIZE_MAX || cli_table_at(t, r, ci[0]) < cli_table_at(t, anchor, ci[0])) anchor = r;
        }
        if (any) fig_printf(&f->dat, "\n\n");
    }
    fig_printf(&f->vars, "\n");
    for (int k = 0; k < 2 && b->anchor[k]; k++) fig_set(f, b->anchor[k], "%.8g", cli_table_at(t, anchor, ci[k]));
    free(key);
    free(vals);
    free(idx);
    return nb;
}

static int build_blocks(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    if (!t->nrows) return PLOT_NONE; /* e.g. modes --no-cells */
    blocks(t, &g->b, f);
    return 0;
}

/* The columns b.cols of every row ("# COLS", then "%.10g" each). */
static int build_table(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    int ci[16], nc = columns(t, g->b.cols, ci);
    fig_printf(&f->dat, "# %s\n", g->b.cols);
    for (size_t r = 0; r < t->nrows; r++) row(&f->dat, t, r, ci, nc, "%.10g");
    return 0;
}

/* A train run's columns b.cols when it ran with --nth (its nth_err column), else no figure. */
static int build_nth(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    return cli_table_col(t, "nth_err") < 0 ? PLOT_NONE : build_table(run, t, g, f);
}

/* hn_dK: with C of the dK scale, fitted in log space over the finite cells (no figure without one). */
static int build_hn_dk(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    blocks(t, &g->b, f);
    double *dk = cli_table_column(t, "dK_path_mean"), *k = cli_table_column(t, "K_mean"),
           *th = cli_table_column(t, "dK_scale_theory"), C = NAN;
    int rc = dk && k && th ? 0 : CLI_EXIT_FAIL;
    if (!rc && ntk_log_scale_fit(t->nrows, dk, k, th, &C, NULL) != NTK_OK) C = NAN;
    free(dk);
    free(k);
    free(th);
    fig_set(f, "C", "%.17g", C);
    fig_set(f, "C_short", "%.3g", C);
    return rc ? rc : isfinite(C) ? 0 : PLOT_NONE;
}

/* The learning-rate column a sweep varied: lr_frac when fractions of 2/lambda_max(c K_0) were
 * given, else (every lr_frac 0: an absolute --lr) lr, the absolute eta.  *absolute says which. */
static const char *sweep_lr_col(const cli_table *t, bool *absolute)
{
    int cf = cli_table_col(t, "lr_frac");
    *absolute = true;
    for (size_t r = 0; r < t->nrows && *absolute; r++)
        if (cli_table_at(t, r, cf) > 0) *absolute = false;
    return *absolute ? "lr" : "lr_frac";
}

/* regime_code: 0 lazy, 1 weak feature learning, 2 unstable (the table reader keeps numbers only) */
static int regime(const cli_table *t, size_t r)
{
    return (int)cli_table_at(t, r, cli_table_col(t, "regime_code"));
}

/* One block with the regime in column 4: an empty regime leaves no empty block behind (gnuplot
 * skips leading empty blocks, which shifted every later `index` onto the wrong regime). */
static int build_regime_map(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    bool absolute;
    const char *lr = sweep_lr_col(t, &absolute);
    int cb = cli_table_col(t, "beta"), cf = cli_table_col(t, lr), cc = cli_table_col(t, "catapult");
    fig_printf(&f->dat, "# beta %s catapult regime_code (0 lazy, 1 weak feature learning, 2 unstable)\n", lr);
    for (size_t r = 0; r < t->nrows; r++)
        fig_printf(&f->dat, "%.8g %.8g %d %d\n", cli_table_at(t, r, cb), cli_table_at(t, r, cf),
                   (int)cli_table_at(t, r, cc), regime(t, r));
    fig_set(f, "lr_axis", "%s", absolute ? "learning rate η (absolute, --lr)" : "learning rate / (2 / λ_{max}(c K_0))");
    return 0;
}

/* Drift of the completed (not unstable) cells with beta > 0 and a positive drift, per rate. */
static int build_drift_beta(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    bool absolute, *keep = malloc((t->nrows ? t->nrows : 1) * sizeof *keep);
    blocks_def b = {sweep_lr_col(t, &absolute), "beta drift_fro", "%.8g", " (completed, beta > 0)", "fracs",
                    {"b0", "d0"}, keep};
    if (!keep) return cli_errorf("plot: out of memory"), CLI_EXIT_FAIL;
    int cb = cli_table_col(t, "beta"), cd = cli_table_col(t, "drift_fro");
    for (size_t r = 0; r < t->nrows; r++)
        keep[r] = regime(t, r) != 2 && cli_table_at(t, r, cb) > 0 && cli_table_at(t, r, cd) > 0;
    int nb = blocks(t, &b, f);
    free(keep);
    fig_set(f, "lrname", "%s", absolute ? "η = " : "lr fraction ");
    return nb ? 0 : PLOT_NONE;
}

/* Per width (at most 64), the mean test errors over the non-unstable cells. */
static int build_kregression(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    static const char *errs[4] = {"test_err_net", "test_err_k0", "test_err_kT", "test_err_kinf"};
    size_t n = t->nrows, nw = 0, *gw = malloc((n ? n : 1) * sizeof *gw);
    double *width = cli_table_column(t, "width"), *ws = malloc((n ? n : 1) * sizeof *ws), means[4][64];
    int rc = gw && width && ws && ntk_distinct_values(n, width, ws, &nw, gw) == NTK_OK ? 0 : CLI_EXIT_FAIL;
    nw = nw < 64 ? nw : 64;
    for (size_t r = 0; !rc && r < n; r++)
        if (regime(t, r) == 2 || gw[r] >= nw) gw[r] = SIZE_MAX;
    for (int k = 0; k < 4 && !rc; k++) {
        double *col = cli_table_column(t, errs[k]);
        if (!col || ntk_group_means(n, gw, nw, col, means[k]) != NTK_OK) rc = CLI_EXIT_FAIL;
        free(col);
    }
    fig_printf(&f->dat, "# width mean test RMSE over non-unstable cells: network K_0 K_T K_inf\n");
    for (size_t i = 0; i < nw && !rc; i++)
        fig_printf(&f->dat, "%g %.8g %.8g %.8g %.8g\n", ws[i], means[0][i], means[1][i], means[2][i], means[3][i]);
    free(gw);
    free(width);
    free(ws);
    return rc ? (cli_errorf("plot: out of memory"), rc) : nw ? 0 : PLOT_NONE;
}

/* Drift against time, one block per (depth, width) at the smallest learning rate f0 (fraction or
 * absolute, as the sweep gave it) and the first seed, from the cells' own metrics.csv. */
static int build_drift_time(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    bool absolute;
    const char *lrname = sweep_lr_col(t, &absolute);
    int cf = cli_table_col(t, lrname), cs = cli_table_col(t, "seed"), cd = cli_table_col(t, "depth"),
        cw = cli_table_col(t, "width"), nb = 0;
    double *lr = cli_table_column(t, lrname), *fr = malloc((t->nrows ? t->nrows : 1) * sizeof *fr), s0 = NAN, f0;
    size_t nf = 0;
    if (!lr || !fr || ntk_distinct_values(t->nrows, lr, fr, &nf, NULL) != NTK_OK) nf = 0, f->dat.oom = 1;
    f0 = nf ? fr[0] : NAN;
    free(lr);
    free(fr);
    fig_printf(&f->vars, "cells=");
    for (size_t r = 0; r < t->nrows && nf; r++) {
        if (cli_table_at(t, r, cf) != f0) continue;
        if (isnan(s0)) s0 = cli_table_at(t, r, cs);
        if (cli_table_at(t, r, cs) != s0) continue;
        char path[CLI_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/cells/cell_%05zu/metrics.csv", run, r);
        cli_table m;
        if (cli_table_read(path, &m)) continue;
        int mt = cli_table_col(&m, "t"), md = cli_table_col(&m, "drift_fro");
        fig_printf(&f->vars, "%sL=%g,n=%g", nb++ ? " " : "", cli_table_at(t, r, cd), cli_table_at(t, r, cw));
        fig_printf(&f->dat, "# depth %g width %g %s %g seed %g\n# t drift_fro\n", cli_table_at(t, r, cd),
                   cli_table_at(t, r, cw), lrname, f0, s0);
        for (size_t k = 0; k < m.nrows; k++)
            fig_printf(&f->dat, "%.10g %.10g\n", cli_table_at(&m, k, mt), cli_table_at(&m, k, md));
        fig_printf(&f->dat, "\n\n");
        cli_table_free(&m);
    }
    fig_printf(&f->vars, "\n");
    if (absolute) fig_set(f, "lr", "η = %g", f0);
    else fig_set(f, "lr", "%g x 2/λ_{max}(c K_0)", f0);
    return nb ? 0 : PLOT_NONE;
}

/* Member `member` of the snapshot of step `step` (snapshots/snap_STEP.npz). */
static ntk_status snapshot_read(const char *run, double step, const char *member, ntk_array *a)
{
    char snap[CLI_PATH_MAX + 64];
    snprintf(snap, sizeof snap, "%s/snapshots/snap_%010ld.npz", run, (long)step);
    return ntk_npz_read(snap, member, a);
}

/* The top (at most 10) eigenvalues stored in each snapshot of metrics.csv's steps. */
static int build_spectrum(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    int top = 0, cs = cli_table_col(t, "step");
    for (size_t r = 0; r < t->nrows; r++) {
        ntk_array a = {0};
        if (snapshot_read(run, cli_table_at(t, r, cs), "eigs", &a) != NTK_OK) continue;
        int k = a.count < 10 ? (int)a.count : 10;
        top = top > k ? top : k;
        fig_printf(&f->dat, "%.10g", cli_table_at(t, r, cs));
        for (int i = 0; i < k; i++) fig_printf(&f->dat, " %.10g", ((const double *)a.data)[i]);
        fig_printf(&f->dat, "\n");
        ntk_array_clear(&a);
    }
    fig_set(f, "last", "%d", top + 1);
    return top > 0 ? 0 : PLOT_NONE;
}

/* Read the named members of one .npz into arrays: [n]; NTK_OK or the first failure (all cleared). */
static ntk_status npz_members(const char *path, int n, const char *const *names, ntk_array *a)
{
    ntk_status st = NTK_OK;
    for (int i = 0; i < n && st == NTK_OK; i++) st = ntk_npz_read(path, names[i], &a[i]);
    for (int i = 0; i < n && st != NTK_OK; i++) ntk_array_clear(&a[i]);
    return st;
}

/* A train run on a circle grid: trajectory.npz's steps [S], f_train [S x N] and y_train [N], the
 * number K <= 8 of Fourier modes and their amplitudes amp [S x K] (0, or PLOT_NONE for an older,
 * multi-output or non-circle run; CLI_EXIT_FAIL out of memory). */
typedef struct {
    ntk_array a[3];
    size_t S, N, K;
    double *amp;
} circle_run;

static void circle_clear(circle_run *c)
{
    for (int i = 0; i < 3; i++) ntk_array_clear(&c->a[i]);
    free(c->amp);
}

static int circle_read(const char *run, circle_run *c)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.yaml", run);
    char *cfg = cli_read_text(path);
    bool grid = cfg && (strstr(cfg, "  data: \"circle\"") || strstr(cfg, "  data: \"circle-pos\""));
    free(cfg);
    memset(c, 0, sizeof *c);
    snprintf(path, sizeof path, "%s/trajectory.npz", run);
    if (!grid || npz_members(path, 3, (const char *const[]){"steps", "f_train", "y_train"}, c->a) != NTK_OK)
        return PLOT_NONE;
    c->S = c->a[0].count, c->N = c->a[2].count, c->K = c->N / 2 < 8 ? c->N / 2 : 8;
    c->amp = malloc((c->S * c->K > 0 ? c->S * c->K : 1) * sizeof *c->amp);
    if (c->N == 0 || c->a[1].count != c->S * c->N ||
        (c->K > 0 && c->amp &&
         ntk_circle_fourier_amplitudes(c->S, c->N, c->a[1].data, c->a[2].data, (int)c->K, c->amp) != NTK_OK))
        return circle_clear(c), PLOT_NONE;
    if (c->amp) return 0;
    circle_clear(c);
    cli_errorf("plot: out of memory");
    return CLI_EXIT_FAIL;
}

/* |Fourier coefficient k| of the training residual at every snapshot. */
static int build_spectral_bias(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    circle_run c;
    int rc = circle_read(run, &c);
    if (rc) return rc;
    fig_printf(&f->dat, "# step |c_k| of the residual f_t - y, k = 1..%zu (grid gamma_i = gamma_0 + 2 pi i / N)\n", c.K);
    for (size_t j = 0; j < c.S; j++) {
        fig_printf(&f->dat, "%.10g", c.a[0].data[j]);
        for (size_t k = 0; k < c.K; k++) fig_printf(&f->dat, " %.10g", c.amp[j * c.K + k]);
        fig_printf(&f->dat, "\n");
    }
    fig_set(f, "K", "%zu", c.K);
    circle_clear(&c);
    return 0;
}

/* Leakage of each Fourier mode across the eigenspaces of K_t (relative to K_0), per snapshot. */
static int build_fourier_leakage(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    circle_run c;
    int rc = circle_read(run, &c);
    if (rc) return rc;
    ntk_array K0 = {0}, Kt = {0};
    double leak[9];
    fig_printf(&f->dat, "# step leakage of Fourier mode k = 0..%zu across the eigenspaces of K_t (ntk_circle_leakage)\n",
               c.K);
    for (size_t j = 0; j < c.S; j++) {
        ntk_array *dst = j == 0 ? &K0 : &Kt;
        if (snapshot_read(run, c.a[0].data[j], "K", dst) != NTK_OK || dst->count != c.N * c.N) break;
        if (ntk_circle_leakage(c.N, K0.data, j == 0 ? K0.data : Kt.data, (int)c.K, leak) != NTK_OK) break;
        fig_printf(&f->dat, "%.10g", c.a[0].data[j]);
        for (size_t k = 0; k <= c.K; k++) fig_printf(&f->dat, " %.6g", leak[k]);
        fig_printf(&f->dat, "\n");
        if (j > 0) ntk_array_clear(&Kt);
    }
    ntk_array_clear(&K0);
    ntk_array_clear(&Kt);
    fig_set(f, "K", "%zu", c.K);
    circle_clear(&c);
    return 0;
}

/* profile.npz: K(x_0, x(gamma)) per (depth, width), mean, 10-90% band over seeds and the limit. */
static int build_profile(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/profile.npz", run);
    ntk_array a[7] = {{0}}, *gm = &a[0], *mean = &a[1], *p10 = &a[2], *p90 = &a[3], *lim = &a[4], *dep = &a[5],
              *wid = &a[6];
    ntk_status st = npz_members(path, 7, (const char *const[]){"gamma", "mean", "p10", "p90", "limit", "depths",
                                                               "widths"}, a);
    if (st != NTK_OK || mean->count != dep->count * wid->count * gm->count || lim->count != mean->count) {
        cli_errorf("plot: %s: %s", path, st != NTK_OK ? ntk_last_error() : "unexpected shapes");
        for (int i = 0; i < 7; i++) ntk_array_clear(&a[i]);
        return CLI_EXIT_USAGE;
    }
    size_t G = gm->count, nb = 0;
    fig_printf(&f->vars, "cells=");
    for (size_t i = 0; i < dep->count; i++)
        for (size_t j = 0; j < wid->count; j++, nb++) {
            size_t off = (i * wid->count + j) * G;
            fig_printf(&f->vars, "%sL=%g,n=%g", nb ? " " : "", dep->data[i], wid->data[j]);
            fig_printf(&f->dat, "# depth %g width %g\n# gamma mean p10 p90 limit\n", dep->data[i], wid->data[j]);
            for (size_t k = 0; k < G; k++)
                fig_printf(&f->dat, "%.8g %.10g %.10g %.10g %.10g\n", gm->data[k], mean->data[off + k],
                           p10->data[off + k], p90->data[off + k], lim->data[off + k]);
            fig_printf(&f->dat, "\n\n");
        }
    fig_printf(&f->vars, "\n");
    for (int i = 0; i < 7; i++) ntk_array_clear(&a[i]);
    return 0;
}

/* modes.npz of a kgd run: each Fourier plane of the training residual against t, observed and ideal. */
static int build_mode_decay(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/modes.npz", run);
    if (!study_exists(run, "modes.npz")) return PLOT_NONE; /* a --compare-train run: fe.npz */
    ntk_array a[3] = {{0}}, *tt = &a[0], *pl = &a[1], *id = &a[2];
    ntk_status st = npz_members(path, 2, (const char *const[]){"t", "plane_train"}, a);
    bool ideal = st == NTK_OK && ntk_npz_read(path, "ideal_plane", id) == NTK_OK && id->count == pl->count;
    if (st != NTK_OK || pl->ndim != 2 || pl->shape[0] != tt->count) {
        cli_errorf("plot: %s: %s", path, st != NTK_OK ? ntk_last_error() : "unexpected shapes");
        for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
        return CLI_EXIT_USAGE;
    }
    size_t S = tt->count, K1 = pl->shape[1], show = K1 < 7 ? K1 : 7;
    fig_printf(&f->dat, "# t plane_k (k = 0..%zu) then ideal_k (|1 - eta mu_k|^t plane_k(0); nan: none)\n", show - 1);
    for (size_t j = 0; j < S; j++) {
        fig_printf(&f->dat, "%.10g", tt->data[j]);
        for (size_t k = 0; k < show; k++) fig_printf(&f->dat, " %.10g", pl->data[j * K1 + k]);
        for (size_t k = 0; k < show; k++) fig_printf(&f->dat, " %.10g", ideal ? id->data[j * K1 + k] : NAN);
        fig_printf(&f->dat, "\n");
    }
    fig_set(f, "K", "%zu", show - 1);
    for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
    return 0;
}

/* fe.npz of kgd --compare-train: each Fourier plane of the network's residual and of the frozen
 * operator's against t. */
static int build_frozen_evolving(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fe.npz", run);
    if (!study_exists(run, "fe.npz")) return PLOT_NONE;
    ntk_array a[3] = {{0}}, *tt = &a[0], *pn = &a[1], *po = &a[2];
    ntk_status st = npz_members(path, 3, (const char *const[]){"t", "plane_net", "plane_op"}, a);
    if (st != NTK_OK || pn->ndim != 2 || pn->shape[0] != tt->count || po->count != pn->count) {
        cli_errorf("plot: %s: %s", path, st != NTK_OK ? ntk_last_error() : "unexpected shapes");
        for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
        return CLI_EXIT_USAGE;
    }
    size_t S = tt->count, K1 = pn->shape[1], show = K1 < 7 ? K1 : 7;
    fig_printf(&f->dat, "# t network plane_k (k = 0..%zu) then frozen-K_0 operator plane_k\n", show - 1);
    for (size_t j = 0; j < S; j++) {
        fig_printf(&f->dat, "%.10g", tt->data[j]);
        for (size_t k = 0; k < show; k++) fig_printf(&f->dat, " %.10g", pn->data[j * K1 + k]);
        for (size_t k = 0; k < show; k++) fig_printf(&f->dat, " %.10g", po->data[j * K1 + k]);
        fig_printf(&f->dat, "\n");
    }
    fig_set(f, "K", "%zu", show - 1);
    for (int i = 0; i < 3; i++) ntk_array_clear(&a[i]);
    return 0;
}

/* modes.csv with continuum.csv: each cell's eigenvalue error of plane k against n lambda_k, per width. */
static int build_eig_error(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    if (!t->nrows) return PLOT_NONE; /* modes --no-cells */
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/continuum.csv", run);
    cli_table lt;
    if (!study_exists(run, "continuum.csv") || cli_table_read(path, &lt)) return PLOT_NONE;
    int cn = cli_table_col(t, "n"), cl = cli_table_col(&lt, "lambda");
    double *w = cli_table_column(t, "width"), *vals = malloc((t->nrows + 1) * sizeof *vals);
    size_t nv = 0, *idx = malloc((t->nrows + 1) * sizeof *idx);
    int rc = w && vals && idx && cl >= 0 && ntk_distinct_values(t->nrows, w, vals, &nv, idx) == NTK_OK ? 0 : PLOT_NONE;
    fig_printf(&f->vars, "widths=");
    for (size_t i = 0; !rc && i < nv; i++) {
        fig_printf(&f->vars, "%s%g", i ? " " : "", vals[i]);
        fig_printf(&f->dat, "# width %g\n# n lambda_k eig_err_k (k = 0..K, every cell)\n", vals[i]);
        for (size_t r = 0; r < t->nrows; r++)
            for (size_t k = 0; idx[r] == i && k < lt.nrows; k++) {
                char col[32];
                snprintf(col, sizeof col, "eig_err_%zu", k);
                int ce = cli_table_col(t, col);
                if (ce >= 0)
                    fig_printf(&f->dat, "%.10g %.17g %.10g\n", cli_table_at(t, r, cn), cli_table_at(&lt, k, cl),
                               cli_table_at(t, r, ce));
            }
        fig_printf(&f->dat, "\n\n");
    }
    fig_printf(&f->vars, "\n");
    free(w), free(vals), free(idx);
    cli_table_free(&lt);
    return rc;
}

/* exceedance.csv of a modes run: the share of seeds over epsilon and the tail bound, per m. */
static int build_exceedance(const char *run, const cli_table *t, const figure *g, fig_data *f)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/exceedance.csv", run);
    cli_table e;
    if (!study_exists(run, "exceedance.csv") || cli_table_read(path, &e)) return PLOT_NONE;
    int rc = e.nrows && cli_table_col(&e, "bound") >= 0 ? 0 : PLOT_NONE;
    if (!rc) blocks(&e, &g->b, f);
    cli_table_free(&e);
    return rc;
}

/* The table each command's runs are drawn from (NULL: none) and the columns it must have. */
static const struct {
    const char *command, *file, *need, *what;
} RUNS[] = {
    {"sweep", "cells.csv", "regime_code", "a sweep cells.csv"},
    {"ensemble", "cells.csv", "width, beta, R, K_mean", "an ensemble cells.csv"},
    {"train", "metrics.csv", "step, loss, drift_fro", "a train metrics.csv"},
    {"profile", NULL, NULL, NULL},
    {"converge", "metrics.csv", NULL, NULL},
    {"kgd", NULL, NULL, NULL},
    {"modes", "modes.csv", "n, width, leakage, angle_1", "a modes modes.csv"},
    {"spectra", "spectra.csv", "step, t, drift", "a spectra spectra.csv"},
    {"hierarchy", "hierarchy_summary.csv", "width, e_lin_mean, e_3_mean, e_4_mean", "a hierarchy hierarchy_summary.csv"},
};

#define TRAIN_COLS "step t loss loss_eval drift_fro drift_op kernel_distance angle_max projector_dist lin_err " \
                   "pert_err pw_err alignment"
/* Every figure, in the report's order; kernel, limit, eval and study runs have none of their own. */
static const figure FIGURES[] = {
    {"regime_map", "sweep", NULL, build_regime_map, {0}},
    {"drift_beta", "sweep", NULL, build_drift_beta, {0}},
    {"drift_time", "sweep", NULL, build_drift_time, {0}},
    {"kregression", "sweep", NULL, build_kregression, {0}},
    {"hn_logR", "ensemble", NULL, build_blocks,
     {"width", "beta R R_log_se Kd_R Kd_R_log_se Kd_R_theory", "%.10g", .titles = "widths"}},
    {"hn_dK", "ensemble", NULL, build_hn_dk,
     {"width", "beta dK_path_mean dK_path_se dK_lit_mean K_mean dK_scale_theory", "%.10g", .titles = "widths"}},
    {"loss", "train", NULL, build_table, {.cols = TRAIN_COLS}},
    {"drift", "train", NULL, build_table, {.cols = TRAIN_COLS}},
    {"angles", "train", NULL, build_table, {.cols = TRAIN_COLS}},
    {"predictions", "train", NULL, build_table, {.cols = TRAIN_COLS}},
    {"spectrum", "train", NULL, build_spectrum, {0}},
    {"nth_errors", "train", NULL, build_nth, {.cols = "step t lin_err pert_err nth_err"}},
    {"nth_kernel", "train", NULL, build_nth, {.cols = "step t drift_fro nth_drift nth_kerr"}},
    {"profile", "profile", NULL, build_profile, {0}},
    {"converge", "converge", NULL, build_blocks,
     {"depth", "width err_single_mean err_single_se err_mean", "%.10g", .titles = "depths", .anchor = {"w0", "e0"}}},
    {"spectral_bias", "train", "circle grid", build_spectral_bias, {0}},
    {"fourier_leakage", "train", "circle grid", build_fourier_leakage, {0}},
    {"mode_decay", "kgd", NULL, build_mode_decay, {0}},
    {"frozen_evolving", "kgd", "--compare-train", build_frozen_evolving, {0}},
    {"leakage_width", "modes", NULL, build_blocks,
     {"n", "width leakage angle_1 eig_err_1 pred_rel_inf", "%.10g", .titles = "ns"}},
    {"eig_error", "modes", NULL, build_eig_error, {0}},
    {"exceedance", "modes", "--eps", build_exceedance, {"m", "eps exceed bound", "%.10g", .titles = "ms"}},
    {"seed_spectra", "spectra", NULL, build_table, {.cols = "step t drift"}},
    {"hierarchy_width", "hierarchy", NULL, build_table,
     {.cols = "width e_lin_mean e_lin_se e_3_mean e_3_se e_4_mean e_4_se"}},
};
enum { NFIG = sizeof FIGURES / sizeof *FIGURES };

const char *plot_figure_name(size_t i)
{
    return i < NFIG ? FIGURES[i].name : NULL;
}

/* The table `file` of the run with the columns `need` (", "-separated): 0, or CLI_EXIT_* with a message. */
static int read_table(const char *run, const char *file, const char *need, const char *what, cli_table *t)
{
    char path[CLI_PATH_MAX + 32], names[128];
    snprintf(path, sizeof path, "%s/%s", run, file);
    int rc = cli_table_read(path, t);
    snprintf(names, sizeof names, "%s", need ? need : "");
    for (char *s = strtok(names, ", "); !rc && s; s = strtok(NULL, ", "))
        if (cli_table_col(t, s) < 0) {
            cli_errorf("%s: not %s (%s missing)", path, what, need);
            rc = CLI_EXIT_USAGE;
        }
    return rc;
}

static int plot_command(const char *run, const char *cmd)
{
    size_t i = 0;
    while (i < sizeof RUNS / sizeof *RUNS && strcmp(cmd, RUNS[i].command) != 0) i++;
    if (i == sizeof RUNS / sizeof *RUNS) return 0;
    char figdir[CLI_PATH_MAX + 32];
    snprintf(figdir, sizeof figdir, "%s/figures", run);
    if (ntk_mkdir_p(figdir) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_table t = {0};
    int rc = RUNS[i].file ? read_table(run, RUNS[i].file, RUNS[i].need, RUNS[i].what, &t) : 0;
    for (const figure *g = FIGURES; g < FIGURES + NFIG && !rc; g++) {
        if (strcmp(g->command, cmd) != 0) continue;
        fig_data f = {0};
        rc = g->build(run, &t, g, &f);
        rc = rc == PLOT_NONE ? 0 : rc ? rc : fig_draw(figdir, g->name, &f);
        fig_data_clear(&f);
    }
    cli_table_free(&t);
    return rc;
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

/* docs/cli.md's figure table: one row per figure, its caption with '|' escaped.  Non-zero when a
 * figure lacks its script or caption, or a file of cli/figures/ belongs to no figure. */
static int figures_markdown(FILE *fp)
{
    int bad = 0;
    fprintf(fp, "| run | figure | what is plotted |\n|---|---|---|\n");
    for (const figure *g = FIGURES; g < FIGURES + NFIG; g++) {
        const char *cap = fig_file_text(g->name, "html");
        bad |= !cap || !fig_file_text(g->name, "gp");
        fprintf(fp, "| %s%s%s%s | `%s` | ", g->command, g->when ? " (" : "", g->when ? g->when : "",
                g->when ? ")" : "", g->name);
        for (const char *c = cap ? cap : "(no caption)"; *c; c++) fprintf(fp, *c == '|' ? "\\|" : "%c", *c);
        fprintf(fp, " |\n");
    }
    for (const fig_file *f = fig_files; f->name; f++) {
        size_t i = 0, n = strcspn(f->name, ".");
        while (i < NFIG && (strlen(FIGURES[i].name) != n || strncmp(FIGURES[i].name, f->name, n) != 0)) i++;
        if (i == NFIG && strcmp(f->name, "header.gp") != 0 && strcmp(f->name, "report.html.in") != 0)
            bad = 1, fprintf(stderr, "ntkdrift: cli/figures/%s belongs to no figure\n", f->name);
    }
    return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
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
                    "hn_dK (|E dK|/E K against beta).  train runs: loss, drift, angles, predictions, spectrum\n"
                    "(with --nth also nth_errors and nth_kernel).\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (argc == 2 && strcmp(argv[1], "--figures-markdown") == 0) return figures_markdown(stdout);
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
