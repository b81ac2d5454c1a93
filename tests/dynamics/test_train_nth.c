/* test_train_nth.c -- the truncated hierarchy inside the tracked training run (ntk_train_run_opts.nth,
 * src/dynamics/train_run.c and train_analysis.c) against independent computations:
 *  - by hand: the same network (spec, seed) at step 0, its O3 / O4 (ntk_o3, ntk_o4) and the
 *    integrator ntk_nth_* driven to each snapshot's step outside the run: f_nth, K_nth (and the eval
 *    ones) equal the run's to 1e-12 relative (the same operations on the same inputs; the bound only
 *    absorbs a different BLAS blocking), and the columns recomputed here from the observed f, K and
 *    these predictions equal nth_err, nth_kerr, nth_drift, nth_eval_err, nth_eval_kerr to 1e-12
 *    (relative: sums of squares in another order), at levels 3
 *    and 4, with the row's last NTK_TRAIN_NTH_COLS values being those columns;
 *  - the hierarchy wins where it should: erf, one hidden layer of width 1024, small steps (lr_frac
 *    0.25, eta = 0.5 / lambda_max(c K_0)): at the last snapshot level 4's nth_err is below half of
 *    lin_err for every one of 4 fixed seeds (measured ratios in the comment there);
 *  - refusals before anything runs: nth 2, k > 1, opt momentum, a minibatch, N > NTK_O4_MAX_N at
 *    level 4, and an O3 that does not fit in memory. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 8, M = 4, N0 = 3, MAXS = 8 };

typedef struct {
    size_t count;
    long step[MAXS];
    double f[MAXS][N], fe[MAXS][M], K[MAXS][N * N], Ke[MAXS][M * N];
    double fh[MAXS][N], feh[MAXS][M], Kh[MAXS][N * N], Keh[MAXS][M * N];
    double err[MAXS], kerr[MAXS], drift[MAXS], eerr[MAXS], ekerr[MAXS], lin[MAXS];
    double row_tail[MAXS][NTK_TRAIN_NTH_COLS];
    int level[MAXS];
} rec;

static ntk_status observe(void *user, const ntk_train_snapshot *s)
{
    rec *r = user;
    size_t j = r->count++;
    assert_true(j < MAXS);
    r->step[j] = s->step;
    r->level[j] = s->nth;
    memcpy(r->f[j], s->f, s->n * sizeof(double));
    memcpy(r->K[j], s->K, s->n * s->n * sizeof(double));
    assert_non_null(s->f_nth);
    assert_non_null(s->K_nth);
    memcpy(r->fh[j], s->f_nth, s->n * sizeof(double));
    memcpy(r->Kh[j], s->K_nth, s->n * s->n * sizeof(double));
    if (s->m) {
        assert_non_null(s->f_nth_eval);
        assert_non_null(s->K_nth_eval);
        memcpy(r->fe[j], s->f_eval, s->m * sizeof(double));
        memcpy(r->Ke[j], s->K_eval, s->m * s->n * sizeof(double));
        memcpy(r->feh[j], s->f_nth_eval, s->m * sizeof(double));
        memcpy(r->Keh[j], s->K_nth_eval, s->m * s->n * sizeof(double));
    }
    r->err[j] = s->nth_err, r->kerr[j] = s->nth_kerr, r->drift[j] = s->nth_drift, r->eerr[j] = s->nth_eval_err, r->ekerr[j] = s->nth_eval_kerr;
    r->lin[j] = s->mt.lin_err;
    double row[NTK_TRAIN_METRICS_COLS + 2 * 8 + NTK_TRAIN_NTH_COLS];
    size_t len = ntk_train_metrics_row(s, row);
    assert_int_equal(len, NTK_TRAIN_METRICS_COLS + (size_t)s->d + NTK_TRAIN_NTH_COLS);
    memcpy(r->row_tail[j], row + len - NTK_TRAIN_NTH_COLS, sizeof r->row_tail[j]);
    return NTK_OK;
}

static double dist(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* |a - b| / |b| (b = 0: |a|) */
static double rel(double a, double b) { return fabs(a - b) / (b != 0 ? fabs(b) : 1); }

static void data(ntk_dataset *d, double *X, double *Y, double *Xe, double *Ye)
{
    for (int i = 0; i < N * N0; i++) X[i] = 0.8 * sin(1.0 + 1.7 * i);
    for (int i = 0; i < N; i++) Y[i] = cos(2.0 * i);
    for (int i = 0; i < M * N0; i++) Xe[i] = 0.7 * cos(0.5 + 1.3 * i);
    for (int i = 0; i < M; i++) Ye[i] = sin(1.5 * i);
    memset(d, 0, sizeof *d);
    d->n_train = N, d->n_eval = M, d->n0 = N0, d->k = 1;
    d->X_train = X, d->Y_train = Y, d->X_eval = Xe, d->Y_eval = Ye;
}

static const int WIDTHS[2] = {48, 48};

static ntk_train_run_opts base_opts(int level)
{
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec.depth = 2;
    o.spec.widths = WIDTHS;
    o.spec.n0 = N0;
    o.spec.outputs = 1;
    o.spec.act = NTK_ACT_ERF;
    o.seed = 5;
    o.steps = 30;
    o.schedule = "every:10";
    o.threads = 1;
    o.nth = level;
    return o;
}

static void by_hand(int level)
{
    double X[N * N0], Y[N], Xe[M * N0], Ye[M];
    ntk_dataset d;
    data(&d, X, Y, Xe, Ye);
    ntk_train_run_opts o = base_opts(level);
    rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    ntk_train_result res;
    TU_OK(ntk_train_run(&o, &d, observe, r, &res));
    assert_int_equal(r->count, 4);
    assert_int_equal(res.nth_diverged_step, -1);
    /* the same network at step 0, its tensors and the integrator, outside the run */
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&o.spec, &net));
    TU_OK(ntk_net_init(net, o.seed));
    double *O3 = malloc(N * N * N * sizeof *O3), *O3e = malloc(M * N * N * sizeof *O3e), *O4 = NULL, *O4e = NULL;
    TU_OK(ntk_o3(net, NULL, N, X, M, Xe, O3, O3e));
    if (level == 4) {
        O4 = malloc(N * N * N * N * sizeof *O4), O4e = malloc(M * N * N * N * sizeof *O4e);
        TU_OK(ntk_o4(net, NULL, N, X, M, Xe, O4, O4e));
    }
    ntk_nth_opts no = ntk_nth_defaults();
    no.level = level, no.a = res.eta * res.c;
    ntk_nth *h = NULL;
    /* K_0, f_0 and the eval ones: the run's first snapshot (the network at step 0, as observed) */
    TU_OK(ntk_nth_alloc(&no, N, r->K[0], O3, O4, r->f[0], Y, M, r->Ke[0], O3e, O4e, r->fe[0], &h));
    char what[128];
    for (size_t j = 0; j < r->count; j++) {
        double f[N], fe[M], K[N * N], Ke[M * N];
        TU_OK(ntk_nth_advance(h, r->step[j]));
        TU_OK(ntk_nth_get(h, f, fe, K, Ke));
        snprintf(what, sizeof what, "level %d, step %ld", level, r->step[j]);
        assert_int_equal(r->level[j], level);
        TU_ASSERT_LE(tu_rel_fro(N, r->fh[j], f), 1e-12, what);
        TU_ASSERT_LE(tu_rel_fro(M, r->feh[j], fe), 1e-12, what);
        TU_ASSERT_LE(tu_rel_fro(N * N, r->Kh[j], K), 1e-12, what);
        TU_ASSERT_LE(tu_rel_fro(M * N, r->Keh[j], Ke), 1e-12, what);
        /* the columns from their definitions */
        double want[NTK_TRAIN_NTH_COLS];
        if (j == 0) {
            want[0] = 0, want[1] = NAN, want[2] = 0, want[3] = 0, want[4] = NAN;
        } else {
            want[0] = dist(N, r->f[j], f) / dist(N, r->f[j], r->f[0]);
            want[1] = dist(N * N, r->K[j], K) / dist(N * N, r->K[j], r->K[0]);
            want[2] = dist(N * N, K, r->K[0]) / dist(N * N, r->K[0], (double[N * N]){0});
            want[3] = dist(M, r->fe[j], fe) / dist(M, r->fe[j], r->fe[0]);
            want[4] = dist(M * N, r->Ke[j], Ke) / dist(M * N, r->Ke[j], r->Ke[0]);
        }
        const double got[NTK_TRAIN_NTH_COLS] = {r->err[j], r->kerr[j], r->drift[j], r->eerr[j], r->ekerr[j]};
        for (int i = 0; i < NTK_TRAIN_NTH_COLS; i++) {
            if (isnan(want[i])) {
                assert_true(isnan(got[i]) && isnan(r->row_tail[j][i]));
                continue;
            }
            snprintf(what, sizeof what, "level %d, step %ld, %s", level, r->step[j], ntk_train_nth_name(i));
            TU_ASSERT_LE(rel(got[i], want[i]), 1e-12, what);
            assert_true(r->row_tail[j][i] == got[i]);
        }
        /* the prediction moved: the test compares something */
        if (j > 0) assert_true(dist(N * N, K, r->K[0]) > 1e-6 * dist(N * N, r->K[0], (double[N * N]){0}));
    }
    ntk_nth_free(h);
    ntk_net_free(net);
    free(O3), free(O3e), free(O4), free(O4e);
    ntk_train_result_clear(&res);
    free(r);
}

static void test_by_hand_level3(void **state)
{
    (void)state;
    by_hand(3);
}

static void test_by_hand_level4(void **state)
{
    (void)state;
    by_hand(4);
}

/* Without nth: the snapshot carries no prediction and the row has no nth columns. */
static ntk_status observe_off(void *user, const ntk_train_snapshot *s)
{
    (void)user;
    assert_int_equal(s->nth, 0);
    assert_null(s->f_nth);
    assert_null(s->K_nth);
    double row[NTK_TRAIN_METRICS_COLS + 16 + NTK_TRAIN_NTH_COLS];
    assert_int_equal(ntk_train_metrics_row(s, row), NTK_TRAIN_METRICS_COLS + (size_t)s->d);
    return NTK_OK;
}

static void test_off(void **state)
{
    (void)state;
    double X[N * N0], Y[N], Xe[M * N0], Ye[M];
    ntk_dataset d;
    data(&d, X, Y, Xe, Ye);
    ntk_train_run_opts o = base_opts(0);
    o.steps = 4;
    ntk_train_result res;
    TU_OK(ntk_train_run(&o, &d, observe_off, NULL, &res));
    assert_int_equal(res.nth_diverged_step, -1);
    ntk_train_result_clear(&res);
    assert_null(ntk_train_nth_name(-1));
    assert_null(ntk_train_nth_name(NTK_TRAIN_NTH_COLS));
    assert_string_equal(ntk_train_nth_name(0), "nth_err");
}

/* The hierarchy wins at a width where it should (tests/dynamics/test_nth.c, test_order, has the
 * width study of the same setup: erf, one hidden layer, 8 Gaussian points in 4 dimensions). */
static void test_beats_linearized(void **state)
{
    (void)state;
    enum { NB = 8, NB0 = 4, SEEDS = 4 };
    double X[NB * NB0], Y[NB];
    TU_OK(ntk_data_gaussian_raw(1, NB, NB0, X));
    ntk_rng_normal(2, NTK_STREAM_TARGET, 0, 0, NB, Y);
    ntk_dataset d;
    memset(&d, 0, sizeof d);
    d.n_train = NB, d.n0 = NB0, d.k = 1, d.X_train = X, d.Y_train = Y;
    int w = 1024;
    for (int seed = 1; seed <= SEEDS; seed++) {
        ntk_train_run_opts o = ntk_train_run_defaults();
        o.spec.depth = 1, o.spec.widths = &w, o.spec.n0 = NB0, o.spec.outputs = 1, o.spec.act = NTK_ACT_ERF;
        o.spec.bias = NTK_BIAS_NORMAL, o.spec.bias_out = NTK_BIAS_NONE;
        o.loss = NTK_LOSS_SUM, o.lr_frac = 0.25, o.steps = 100, o.schedule = "every:50", o.seed = (uint64_t)seed;
        o.nth = 4;
        rec *r = calloc(1, sizeof *r);
        assert_non_null(r);
        ntk_train_result res;
        TU_OK(ntk_train_run(&o, &d, observe, r, &res));
        size_t j = r->count - 1;
        char what[160];
        snprintf(what, sizeof what, "seed %d: nth_err %.3e against lin_err %.3e (ratio %.2f)", seed, r->err[j],
                 r->lin[j], r->err[j] / r->lin[j]);
        if (getenv("NTK_TEST_VERBOSE")) print_message("%s\n", what);
        /* measured nth_err / lin_err 0.07, 0.28, 0.04, 0.21 for seeds 1..4: 0.5 asks for a factor 2 at
         * each seed, with room for the seed to seed spread (the ratio is not a rounding effect) */
        TU_ASSERT_LE(r->err[j], 0.5 * r->lin[j], what);
        ntk_train_result_clear(&res);
        free(r);
    }
}

static void expect_refusal(const ntk_train_run_opts *o, const ntk_dataset *d, ntk_status want, const char *msg)
{
    assert_int_equal(ntk_train_run_check(o, d), want);
    if (msg) assert_string_equal(ntk_last_error(), msg);
    else assert_non_null(strstr(ntk_last_error(), "nth"));
}

static void test_refusals(void **state)
{
    (void)state;
    double X[N * N0], Y[N], Xe[M * N0], Ye[M];
    ntk_dataset d;
    data(&d, X, Y, Xe, Ye);
    ntk_train_run_opts o = base_opts(2);
    expect_refusal(&o, &d, NTK_EINVAL, "train: nth must be 0 (off), 3 (O3 frozen) or 4 (O4 frozen), got 2");
    o = base_opts(4), o.opt = NTK_OPT_MOMENTUM;
    expect_refusal(&o, &d, NTK_EINVAL,
                   "train: nth: the hierarchy follows full-batch gradient descent (opt gd, batch 0), got opt momentum, "
                   "batch 0");
    o = base_opts(3), o.batch = 4;
    expect_refusal(&o, &d, NTK_EINVAL, NULL);
    double Y2[2 * N], Ye2[2 * M];
    memset(Y2, 0, sizeof Y2), memset(Ye2, 0, sizeof Ye2);
    ntk_dataset d2 = d;
    d2.k = 2, d2.Y_train = Y2, d2.Y_eval = Ye2;
    o = base_opts(4), o.spec.outputs = 2;
    expect_refusal(&o, &d2, NTK_EINVAL, "train: nth: one output only (k = 2; the hierarchy is implemented for k = 1)");
    /* sizes: the check reads only the shapes, so the arrays need not hold them */
    ntk_dataset big = d;
    big.n_train = NTK_O4_MAX_N + 1;
    o = base_opts(4);
    expect_refusal(&o, &big, NTK_ENOMEM, NULL);
    assert_non_null(strstr(ntk_last_error(), "refused above N, M = 64"));
    big.n_train = 200000; /* O3 alone: 8 N^3 = 6.4e16 bytes */
    o = base_opts(3);
    expect_refusal(&o, &big, NTK_ENOMEM, NULL);
    assert_non_null(strstr(ntk_last_error(), "more than the"));
    o = base_opts(3), o.batch = 0; /* and the ordinary case passes */
    TU_OK(ntk_train_run_check(&o, &d));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand_level3), cmocka_unit_test(test_by_hand_level4), cmocka_unit_test(test_off),
        cmocka_unit_test(test_beats_linearized), cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
