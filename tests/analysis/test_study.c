/* test_study.c -- the grid-study engines and the sweep's cell summary (src/analysis/study_profile.c,
 * src/analysis/study_converge.c, src/analysis/sweep_kinf.c, src/analysis/sweep_groups.c), each against a direct computation
 * through lower-level public functions or a closed form:
 *   - ntk_seed_column_stats on dyadic samples (exact mean, std, numpy-linear percentiles by hand);
 *   - ntk_profile_cell: each seed's row against ntk_kernel_cross rows averaged over outputs here,
 *     the limit against ntk_limit_full on the stacked points, the seed mean and its errors summed
 *     here; after training against the same ntk_trainer_step loop run by hand (eta from ntk_eigh,
 *     the final loss from ntk_net_forward); loaded parameters; divergence; bad options;
 *   - ntk_converge_cell against ntk_limit_full and ntk_kernel_full directly; ntk_converge_fit on
 *     an exact power law; the byte estimates against their formulas;
 *   - ntk_kinf_regression against an LU solve of (K + ridge I) A = Y and (..) A0 = f0; its file form
 *     (ntk_kinf_regression_files) against the in-memory call on the trajectory's rows, bit for bit;
 *   - ntk_sweep_tau, ntk_group_keys and ntk_group_percentiles on small closed cases and against a
 *     naive quadratic grouping. */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int g_widths[8];

/* A relu NTK-parameterization spec with `depth` hidden layers of `width` (storage static). */
static ntk_spec make_spec(int depth, int width, int n0, int k)
{
    for (int l = 0; l < depth; l++) g_widths[l] = width;
    ntk_spec s = ntk_spec_default();
    s.depth = depth;
    s.widths = g_widths;
    s.n0 = n0;
    s.outputs = k;
    return s;
}

static double *circle(size_t N)
{
    double *X = malloc(2 * N * sizeof *X);
    assert_non_null(X);
    TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_SYM, NULL, X));
    return X;
}

/* ------------------------------------------------------------ seed statistics */

/* Columns of dyadic values: every mean, square and percentile below is exact in binary except the
 * square roots and the 1/3 of ddof 1, which carry one rounding each (1e-15 relative). */
static void test_seed_column_stats(void **state)
{
    (void)state;
    /* S = 4 rows, N = 2 columns: column 0 = {1, 2, 4, 8}, column 1 = {-1, -1, 3, 3} */
    const double smp[8] = {1, -1, 2, -1, 4, 3, 8, 3};
    const double lim[2] = {4, 0};
    double m[2], sd[2], p10[2], p50[2], p90[2];
    ntk_seed_stats out = {m, sd, p10, p50, p90};
    ntk_profile_err e;
    TU_OK(ntk_seed_column_stats(4, 2, smp, lim, &out, &e));
    assert_true(m[0] == 3.75 && m[1] == 1);
    TU_ASSERT_LE(fabs(sd[0] - sqrt(28.75 / 3)) / sqrt(28.75 / 3), 1e-15, "std of {1,2,4,8}");
    TU_ASSERT_LE(fabs(sd[1] - sqrt(16.0 / 3)) / sqrt(16.0 / 3), 1e-15, "std of {-1,-1,3,3}");
    /* numpy linear: position q (S - 1) = 0.3, 1.5, 2.7 */
    TU_ASSERT_LE(fabs(p10[0] - 1.3), 1e-15, "p10");
    assert_true(p50[0] == 3);
    TU_ASSERT_LE(fabs(p90[0] - 6.8), 1e-15, "p90");
    assert_true(p10[1] == -1 && p50[1] == 1 && p90[1] == 3);
    /* errors against lim: |mean - lim|^2 = 0.0625 + 1, ||lim||^2 = 16, sum std^2 = 28.75/3 + 16/3 */
    TU_ASSERT_LE(fabs(e.rel_err - sqrt(1.0625 / 16)) / sqrt(1.0625 / 16), 1e-15, "rel_err");
    TU_ASSERT_LE(fabs(e.rel_std - sqrt((28.75 + 16) / 3 / 16)) / sqrt((28.75 + 16) / 3 / 16), 1e-15, "rel_std");
    assert_true(e.max_abs_dev == 1);
    /* one seed: std NaN (ddof 1), the percentiles are the value */
    TU_OK(ntk_seed_column_stats(1, 2, smp, lim, &out, &e));
    assert_true(isnan(sd[0]) && m[0] == 1 && p10[0] == 1 && p90[1] == -1);
    assert_true(isnan(e.rel_std));
    /* the arrays are optional; bad arguments are refused */
    ntk_seed_stats none = {0};
    TU_OK(ntk_seed_column_stats(4, 2, smp, NULL, &none, NULL));
    assert_int_equal(ntk_seed_column_stats(0, 2, smp, lim, &out, &e), NTK_EINVAL);
    assert_int_equal(ntk_seed_column_stats(4, 2, smp, NULL, &out, &e), NTK_EINVAL);
}

/* ------------------------------------------------------------ profile */

/* The output-mean anchor row of net computed here: (1/k) sum_a K[(0, a), (j, a)] of the cross kernel. */
static void direct_row(ntk_net *net, const double *x0, size_t N, const double *X, double *row)
{
    int k = ntk_net_spec(net)->outputs;
    ntk_feats *fa = NULL, *fb = NULL;
    double *Kc = malloc((size_t)k * N * (size_t)k * sizeof *Kc);
    assert_non_null(Kc);
    TU_OK(ntk_feats_alloc(net, 1, NTK_F64, &fa));
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &fb));
    TU_OK(ntk_feats_compute(net, fa, x0));
    TU_OK(ntk_feats_compute(net, fb, X));
    TU_OK(ntk_kernel_cross(net, fa, fb, Kc, NULL));
    for (size_t j = 0; j < N; j++) {
        double s = 0;
        for (int a = 0; a < k; a++) s += Kc[(size_t)a * N * (size_t)k + j * (size_t)k + (size_t)a];
        row[j] = s / k;
    }
    ntk_feats_free(fa);
    ntk_feats_free(fb);
    free(Kc);
}

/* The infinite-width row from ntk_limit_full on [x0; X] (another code path than the cross kernel). */
static void limit_row(const ntk_spec *s, const double *x0, size_t N, const double *X, double *row)
{
    size_t M = N + 1;
    double *Z = malloc(2 * M * sizeof *Z), *K = malloc(M * M * sizeof *K);
    assert_non_null(Z);
    assert_non_null(K);
    memcpy(Z, x0, 2 * sizeof *Z);
    memcpy(Z + 2, X, 2 * N * sizeof *Z);
    TU_OK(ntk_limit_full(s, NULL, M, Z, NULL, K, NULL, NULL));
    memcpy(row, K + 1, N * sizeof *row);
    free(Z);
    free(K);
}

static void test_profile_init(void **state)
{
    (void)state;
    const size_t N = 24, S = 3;
    const int seeds[3] = {5, 0, 11};
    ntk_spec s = make_spec(2, 48, 2, 2);
    double *X = circle(N), x0[2] = {1, 0};
    double *K = malloc(S * N * sizeof *K), lim[24], mean[24], sd[24], ref[24], lref[24], mref[24] = {0};
    assert_non_null(K);
    ntk_profile_opts o = ntk_profile_defaults();
    o.x0 = x0, o.N = N, o.X = X, o.n_seeds = S, o.seeds = seeds, o.threads = 1;
    ntk_profile_result r = {.K = K, .limit = lim, .stats = {.mean = mean, .std = sd}};
    TU_OK(ntk_profile_cell(&s, &o, &r));
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    for (size_t si = 0; si < S; si++) {
        TU_OK(ntk_net_init(net, (uint64_t)seeds[si]));
        direct_row(net, x0, N, X, ref);
        /* the same products summed over two outputs, maybe in another order: a few ulps */
        TU_ASSERT_LE(tu_rel_max(N, K + si * N, ref), 1e-14, "profile row against the cross kernel");
        for (size_t j = 0; j < N; j++) mref[j] += ref[j] / (double)S;
    }
    ntk_net_free(net);
    limit_row(&s, x0, N, X, lref);
    /* full vs cross recursions on the same pairs: the same formulas, roundings of O(1) numbers */
    TU_ASSERT_LE(tu_rel_max(N, lim, lref), 1e-12, "profile limit against ntk_limit_full");
    TU_ASSERT_LE(tu_rel_max(N, mean, mref), 1e-14, "seed mean");
    double num = 0, den = 0, dev = 0;
    for (size_t j = 0; j < N; j++) {
        num += (mref[j] - lref[j]) * (mref[j] - lref[j]);
        den += lref[j] * lref[j];
        dev = fmax(dev, fabs(mref[j] - lref[j]));
    }
    /* a relative error of a few percent computed from numbers equal to 1e-12: 1e-9 relative */
    TU_ASSERT_LE(fabs(r.err.rel_err - sqrt(num / den)) / sqrt(num / den), 1e-9, "rel_err against the limit");
    TU_ASSERT_LE(fabs(r.err.max_abs_dev - dev) / dev, 1e-9, "max_abs_dev");
    assert_true(r.err.rel_err > 1e-3); /* width 48: the finite-width error is visible, so the check bites */
    assert_true(isnan(r.rel_change) && r.diverged == 0);
    free(X);
    free(K);
}

/* Training: the engine against the same loop by hand. */
static void test_profile_trained(void **state)
{
    (void)state;
    const size_t N = 16, S = 3, Nt = 10;
    const long T = 7;
    const int seeds[3] = {2, 3, 4};
    ntk_spec s = make_spec(1, 32, 2, 1);
    double *X = circle(N), x0[2] = {1, 0}, Xt[20], Yt[10];
    TU_OK(ntk_data_gaussian(9, Nt, 2, Xt));
    TU_OK(ntk_target_product(Nt, 2, Xt, Yt));
    double K[48], KT[48], lim[16], loss[3], eta[3], ref[16];
    ntk_profile_opts o = ntk_profile_defaults();
    o.x0 = x0, o.N = N, o.X = X, o.n_seeds = S, o.seeds = seeds;
    o.steps = T, o.n_train = Nt, o.X_train = Xt, o.Y_train = Yt, o.lr_frac = 0.5;
    o.train.loss = NTK_LOSS_MEAN;
    ntk_profile_result r = {.K = K, .limit = lim, .K_trained = KT, .loss_T = loss, .eta = eta};
    TU_OK(ntk_profile_cell(&s, &o, &r));
    ntk_net *net = NULL;
    ntk_feats *ft = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    TU_OK(ntk_feats_alloc(net, Nt, NTK_F64, &ft));
    double change = 0;
    for (size_t si = 0; si < S; si++) {
        TU_OK(ntk_net_init(net, (uint64_t)seeds[si]));
        double Kt[100], w[10];
        TU_OK(ntk_feats_compute(net, ft, Xt));
        TU_OK(ntk_kernel_full(net, ft, Kt, NULL));
        TU_OK(ntk_eigh(Nt, Kt, w, NULL));
        double e = 0.5 * 2.0 / (w[0] / (double)Nt); /* lr_frac 2 / (c lambda_max), c = 1/N for half_mean */
        /* the same eigenvalue; the factor arithmetic in another order: 1 ulp */
        TU_ASSERT_LE(fabs(eta[si] - e) / e, 1e-15, "eta from lr_frac");
        ntk_train_opts to = ntk_train_defaults();
        to.lr = eta[si];
        ntk_trainer *tr = NULL;
        TU_OK(ntk_trainer_alloc(net, Nt, Xt, Yt, &to, &tr));
        for (long t = 0; t < T; t++) {
            double l;
            TU_OK(ntk_trainer_step(tr, &l));
        }
        ntk_trainer_free(tr);
        direct_row(net, x0, N, X, ref);
        /* the same parameters (the same steps from the same eta): the rows as in test_profile_init */
        TU_ASSERT_LE(tu_rel_max(N, KT + si * N, ref), 1e-14, "trained row against the loop by hand");
        double F[10], ss = 0;
        TU_OK(ntk_net_forward(net, Nt, Xt, F));
        for (size_t i = 0; i < Nt; i++) ss += (F[i] - Yt[i]) * (F[i] - Yt[i]);
        /* half_mean loss 1/2 (1/N) sum r^2 against the engine's RMSE route: a few ulps */
        TU_ASSERT_LE(fabs(loss[si] - 0.5 * ss / (double)Nt) / (0.5 * ss / (double)Nt), 1e-14, "loss_T");
        change += tu_rel_fro(N, KT + si * N, K + si * N) / (double)S;
    }
    ntk_feats_free(ft);
    ntk_net_free(net);
    /* rel_change from the same rows: 1e-13 for the rows' 1e-14 */
    TU_ASSERT_LE(fabs(r.rel_change - change) / change, 1e-13, "rel_change");
    assert_true(change > 1e-4); /* the profile moved: training did something */
    double sorted[3] = {loss[0], loss[1], loss[2]}, med;
    double half = 0.5;
    TU_OK(ntk_percentiles(3, sorted, 1, &half, &med));
    assert_true(r.loss_T_median == med && r.diverged == 0);
    assert_true(r.loss_T_median == fmax(fmin(loss[0], loss[1]), fmin(fmax(loss[0], loss[1]), loss[2])));
    free(X);
}

/* params: every seed starts from the same parameters; a huge learning rate diverges. */
static void test_profile_params_and_divergence(void **state)
{
    (void)state;
    const size_t N = 8, Nt = 6;
    ntk_spec s = make_spec(1, 16, 2, 1);
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    TU_OK(ntk_net_init(net, 77));
    double *X = circle(N), x0[2] = {1, 0}, K[16], lim[8], ref[8];
    ntk_profile_opts o = ntk_profile_defaults();
    o.x0 = x0, o.N = N, o.X = X, o.n_seeds = 2, o.params = ntk_net_params_const(net);
    ntk_profile_result r = {.K = K, .limit = lim};
    TU_OK(ntk_profile_cell(&s, &o, &r));
    direct_row(net, x0, N, X, ref);
    TU_ASSERT_LE(tu_rel_max(N, K, ref), 1e-14, "row of the given parameters");
    assert_memory_equal(K, K + N, N * sizeof *K);
    /* divergence: absolute lr 1e3 on a relu net blows the loss up within a few steps */
    double Xt[12], Yt[6], KT[16], loss[2], eta[2];
    TU_OK(ntk_data_gaussian(3, Nt, 2, Xt));
    for (size_t i = 0; i < Nt; i++) Yt[i] = 1;
    const int seeds[2] = {0, 1};
    o.params = NULL, o.seeds = seeds, o.steps = 50, o.n_train = Nt, o.X_train = Xt, o.Y_train = Yt;
    o.train.lr = 1e3;
    r = (ntk_profile_result){.K = K, .limit = lim, .K_trained = KT, .loss_T = loss, .eta = eta};
    TU_OK(ntk_profile_cell(&s, &o, &r));
    assert_int_equal(r.diverged, 2);
    assert_true(isinf(loss[0]) && isinf(loss[1]));
    /* the median of {inf, inf} by the linear rule is inf + 0.5 (inf - inf) = NaN, as numpy.percentile's */
    assert_true(isnan(r.loss_T_median));
    assert_true(eta[0] == 1e3 && eta[1] == 1e3);
    /* a moderate rate does not */
    o.train.lr = 0.05;
    TU_OK(ntk_profile_cell(&s, &o, &r));
    assert_int_equal(r.diverged, 0);
    assert_true(isfinite(loss[0]) && isfinite(loss[1]));
    ntk_net_free(net);
    free(X);
}

static void test_profile_bad_options(void **state)
{
    (void)state;
    ntk_spec s = make_spec(1, 8, 2, 1);
    double X[8] = {1, 0, 0, 1, -1, 0, 0, -1}, x0[2] = {1, 0}, K[4], lim[4], KT[4], loss[1], eta[1], Y[4] = {0};
    const int seeds[1] = {0}, neg[1] = {-1};
    ntk_profile_opts o = ntk_profile_defaults();
    o.x0 = x0, o.N = 4, o.X = X, o.n_seeds = 1, o.seeds = seeds;
    ntk_profile_result r = {.K = K, .limit = lim};
    assert_int_equal(ntk_profile_cell(&s, NULL, &r), NTK_EINVAL);
    o.seeds = neg;
    assert_int_equal(ntk_profile_cell(&s, &o, &r), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "seeds[0]"));
    o.seeds = seeds;
    o.steps = 3; /* training without a training set */
    assert_int_equal(ntk_profile_cell(&s, &o, &r), NTK_EINVAL);
    o.n_train = 4, o.X_train = X, o.Y_train = Y;
    r.K_trained = KT, r.loss_T = loss, r.eta = eta;
    o.train.opt = NTK_OPT_SGD, o.train.batch = 9; /* a batch larger than the set: the trainer refuses */
    assert_int_equal(ntk_profile_cell(&s, &o, &r), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "training: "));
}

/* ------------------------------------------------------------ converge */

static void test_converge_cell(void **state)
{
    (void)state;
    const size_t N = 10, S = 3;
    const int seeds[3] = {1, 2, 3};
    ntk_spec s = make_spec(2, 40, 3, 2);
    double *X = tu_gauss_x(4, N, 3);
    double err[3], Kinf[100], Kraw[400], K[100], Km[100] = {0}, diag[30];
    ntk_converge_opts o = ntk_converge_defaults();
    o.N = N, o.X = X, o.n_seeds = S, o.seeds = seeds, o.threads = 2;
    ntk_converge_result r = {.err = err};
    int before = ntk_get_threads();
    TU_OK(ntk_converge_cell(&s, &o, &r));
    assert_int_equal(ntk_get_threads(), before); /* the thread count is restored */
    TU_OK(ntk_limit_full(&s, NULL, N, X, NULL, Kinf, NULL, NULL));
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    for (size_t si = 0; si < S; si++) {
        TU_OK(ntk_net_init(net, (uint64_t)seeds[si]));
        TU_OK(ntk_feats_compute(net, f, X));
        TU_OK(ntk_kernel_full(net, f, Kraw, NULL));
        for (size_t i = 0; i < N; i++) /* output mean by hand, (N k) x (N k) layout, k = 2 */
            for (size_t j = 0; j < N; j++)
                K[i * N + j] = (Kraw[(2 * i) * 2 * N + 2 * j] + Kraw[(2 * i + 1) * 2 * N + 2 * j + 1]) / 2;
        /* the same kernel; a relative error of O(0.1) from identical entries: 1e-13 */
        TU_ASSERT_LE(fabs(err[si] - tu_rel_fro(N * N, K, Kinf)) / err[si], 1e-13, "single-seed error");
        for (size_t i = 0; i < N * N; i++) Km[i] += K[i] / (double)S;
        for (size_t i = 0; i < N; i++) diag[i * S + si] = K[i * N + i];
    }
    ntk_feats_free(f);
    ntk_net_free(net);
    TU_ASSERT_LE(fabs(r.err_mean - tu_rel_fro(N * N, Km, Kinf)) / r.err_mean, 1e-13, "seed-mean error");
    assert_true(r.err_mean < r.err_single_mean); /* averaging seeds moves toward the limit */
    double dm = 0, dv = 0, dl = 0;
    for (size_t i = 0; i < N; i++) {
        double a = (diag[i * S] + diag[i * S + 1] + diag[i * S + 2]) / 3, v = 0;
        for (size_t si = 0; si < S; si++) v += (diag[i * S + si] - a) * (diag[i * S + si] - a) / 2;
        dm += a / (double)N, dv += v / (double)N, dl += Kinf[i * N + i] / (double)N;
    }
    /* sums of 10 O(1) numbers in another order; the variance a difference of squares: 1e-12 */
    TU_ASSERT_LE(fabs(r.diag_mean - dm) / dm, 1e-13, "diag_mean");
    TU_ASSERT_LE(fabs(r.diag_var - dv) / dv, 1e-12, "diag_var");
    TU_ASSERT_LE(fabs(r.diag_limit - dl) / dl, 1e-14, "diag_limit");
    double m = (err[0] + err[1] + err[2]) / 3, q = 0;
    for (int i = 0; i < 3; i++) q += (err[i] - m) * (err[i] - m);
    TU_ASSERT_LE(fabs(r.err_single_mean - m) / m, 1e-15, "mean error over seeds");
    TU_ASSERT_LE(fabs(r.err_single_se - sqrt(q / 2 / 3)) / r.err_single_se, 1e-13, "its standard error");
    /* one seed: SE and variance NaN */
    o.n_seeds = 1;
    TU_OK(ntk_converge_cell(&s, &o, &r));
    assert_true(isnan(r.err_single_se) && isnan(r.diag_var) && r.err_single_mean == err[0]);
    o.seeds = NULL;
    assert_int_equal(ntk_converge_cell(&s, &o, &r), NTK_EINVAL);
    free(X);
}

/* An exact power law err = 3 w^-1/2 times a per-seed factor: slope -1/2 (logs of exact powers of 2). */
static void test_converge_fit(void **state)
{
    (void)state;
    const int widths[4] = {64, 16, 256, 32};
    double err[8];
    for (int w = 0; w < 4; w++)
        for (int s = 0; s < 2; s++) err[w * 2 + s] = (s ? 1.5 : 3.0) / sqrt((double)widths[w]);
    ntk_width_fit f;
    TU_OK(ntk_converge_fit(4, widths, 2, err, &f));
    /* log of exact values: a few ulps of O(1) logs through the OLS sums */
    TU_ASSERT_LE(fabs(f.slope + 0.5), 1e-14, "power-law slope");
    /* the seed factors 3 and 1.5 leave residuals +-ln(2)/2: RSS = 2 ln^2 2, Sxx = 2 * 8.75 ln^2 2 over
     * ln w = 6, 4, 8, 5 ln 2, so se = sqrt(RSS / (8 - 2) / Sxx) = sqrt(1 / 52.5); rounding of the sums: 1e-13 */
    TU_ASSERT_LE(fabs(f.slope_se - sqrt(1 / 52.5)) / sqrt(1 / 52.5), 1e-13, "slope standard error");
    assert_true(f.points == 8 && f.width_min == 16 && f.width_max == 256);
    TU_OK(ntk_converge_fit(1, widths, 2, err, &f)); /* one width: no slope */
    assert_true(isnan(f.slope) && isnan(f.slope_se) && f.points == 2 && f.width_min == 64);
    assert_int_equal(ntk_converge_fit(0, widths, 2, err, &f), NTK_EINVAL);
}

static void test_bytes(void **state)
{
    (void)state;
    ntk_spec s = make_spec(2, 8, 3, 1);
    /* limit: NNGP + NTK (+ 3 per-layer terms) N x N doubles and the inputs */
    assert_true(ntk_limit_bytes(&s, 10, 0) == 2 * 100 * 8 + 10 * 3 * 8);
    assert_true(ntk_limit_bytes(&s, 10, 1) == 5 * 100 * 8 + 10 * 3 * 8);
    s.param = NTK_PARAM_STANDARD; /* plus the normalized NTK */
    assert_true(ntk_limit_bytes(&s, 10, 0) == 3 * 100 * 8 + 10 * 3 * 8);
    s = make_spec(1, 4, 3, 2);
    const int depths[2] = {1, 3}, widths[3] = {16, 64, 8};
    double b = ntk_converge_bytes(&s, 2, depths, 3, widths, 20, 5);
    ntk_spec big = make_spec(3, 64, 3, 2); /* the grid's largest network */
    double want = 8.0 * (5 * 400 + 3 * 1600) + (double)ntk_feats_bytes(&big, 20, NTK_F64) + 20 * 3 * 8 + 8 * 20 * 5;
    assert_true(b == want);
    s = make_spec(1, 4, 3, 2);
    assert_true(ntk_converge_bytes(&s, 1, depths, 1, widths + 2, 20, 5) < b);
    assert_true(isnan(ntk_converge_bytes(&s, 0, depths, 1, widths, 20, 5)));
}

/* ------------------------------------------------------------ sweep cells */

static void test_kinf_regression(void **state)
{
    (void)state;
    const size_t N = 12, M = 7, k = 2;
    ntk_spec s = make_spec(2, 16, 2, 2);
    double *Xt = tu_gauss_x(1, N, 2), *Xe = tu_gauss_x(2, M, 2);
    double Yt[24], Ye[14], f0[24], f0e[14], fT[14];
    TU_OK(ntk_data_gaussian_raw(3, N, 2, Yt));
    TU_OK(ntk_data_gaussian_raw(4, M, 2, Ye));
    TU_OK(ntk_data_gaussian_raw(5, N, 2, f0));
    TU_OK(ntk_data_gaussian_raw(6, M, 2, f0e));
    TU_OK(ntk_data_gaussian_raw(7, M, 2, fT));
    double K[144], Ke[84], pred[14], pred0[14];
    ntk_kinf_opts o = {.N = N, .M = M, .X_train = Xt, .Y_train = Yt, .X_eval = Xe, .Y_eval = Ye, .f_train0 = f0,
                       .f_eval0 = f0e, .f_eval_T = fT, .ridge_rel = 1e-3, .threads = 1};
    ntk_kinf_result r = {.K = K, .K_eval = Ke, .pred = pred, .pred_init = pred0};
    TU_OK(ntk_kinf_regression(&s, &o, &r));
    assert_int_equal(r.solved, 1);
    double Kd[144], Ked[84];
    TU_OK(ntk_limit_full(&s, NULL, N, Xt, NULL, Kd, NULL, NULL));
    TU_OK(ntk_limit_cross(&s, NULL, M, Xe, N, Xt, NULL, Ked, NULL, NULL));
    assert_memory_equal(K, Kd, sizeof K);
    assert_memory_equal(Ke, Ked, sizeof Ke);
    double md = 0;
    for (size_t i = 0; i < N; i++) md += Kd[i * N + i] / (double)N;
    TU_ASSERT_LE(fabs(r.ridge - 1e-3 * md) / r.ridge, 1e-15, "ridge relative to the mean diagonal");
    /* LU solve of (K + ridge I) [A A0] = [Y f0] */
    double A[144], B[48];
    int piv[12];
    for (size_t i = 0; i < N * N; i++) A[i] = Kd[i];
    for (size_t i = 0; i < N; i++) A[i * N + i] += r.ridge;
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < k; a++) B[i * 4 + a] = Yt[i * k + a], B[i * 4 + 2 + a] = f0[i * k + a];
    assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)N, 4, A, (lapack_int)N, piv, B, 4), 0);
    double p[14], p0[14], se = 0, sp = 0, sd = 0, sn = 0, sd0 = 0, sn0 = 0;
    for (size_t m = 0; m < M; m++)
        for (size_t a = 0; a < k; a++) {
            double y = 0, z = 0;
            for (size_t j = 0; j < N; j++) y += Ked[m * N + j] * B[j * 4 + a], z += Ked[m * N + j] * B[j * 4 + 2 + a];
            p[m * k + a] = y;
            p0[m * k + a] = y + f0e[m * k + a] - z;
        }
    double pk[14];
    TU_OK(ntk_krr(N, Kd, 2, Yt, r.ridge, M, Ked, pk, NULL));
    assert_memory_equal(pred, pk, sizeof pk); /* the regression is ntk_krr's, with the ridge above */
    /* Cholesky (ntk_krr) against LU at cond(K + ridge I) ~ 1e4: 1e-10 relative */
    TU_ASSERT_LE(tu_rel_max(M * k, pred, p), 1e-10, "pred against an LU solve");
    TU_ASSERT_LE(tu_rel_max(M * k, pred0, p0), 1e-10, "pred_init against an LU solve");
    for (size_t i = 0; i < M * k; i++) {
        se += (fT[i] - Ye[i]) * (fT[i] - Ye[i]);
        sp += (p[i] - Ye[i]) * (p[i] - Ye[i]);
        sd += (fT[i] - p[i]) * (fT[i] - p[i]), sn += p[i] * p[i];
        sd0 += (fT[i] - p0[i]) * (fT[i] - p0[i]), sn0 += p0[i] * p0[i];
    }
    double n = (double)(M * k);
    TU_ASSERT_LE(fabs(r.err_net - sqrt(se / n)) / r.err_net, 1e-14, "err_net: RMSE per entry");
    TU_ASSERT_LE(fabs(r.err_kinf - sqrt(sp / n)) / r.err_kinf, 1e-9, "err_kinf");
    TU_ASSERT_LE(fabs(r.rel_kinf - sqrt(sd / sn)) / r.rel_kinf, 1e-9, "rel_kinf");
    TU_ASSERT_LE(fabs(r.rel_kinf_init - sqrt(sd0 / sn0)) / r.rel_kinf_init, 1e-9, "rel_kinf_init");
    /* a failed solve: NaN predictions, solved 0, still NTK_OK (the network's error stays) */
    o.ridge_rel = 0;
    double Xdup[24];
    for (size_t i = 0; i < N; i++) Xdup[2 * i] = Xt[0], Xdup[2 * i + 1] = Xt[1]; /* all points equal: K singular */
    o.X_train = Xdup;
    TU_OK(ntk_kinf_regression(&s, &o, &r));
    assert_int_equal(r.solved, 0);
    assert_true(isnan(pred[0]) && isnan(pred0[M * k - 1]) && isnan(r.err_kinf) && isnan(r.rel_kinf_init));
    assert_true(isfinite(r.err_net));
    o.M = 0;
    assert_int_equal(ntk_kinf_regression(&s, &o, &r), NTK_EINVAL);
    free(Xt);
    free(Xe);
}

/* From files: the trajectory's rows 0 / last (written here by the raw .npz writer) give the in-memory
 * regression bit for bit, and kinf.npz holds its arrays. */
static void test_kinf_regression_files(void **state)
{
    (void)state;
    enum { N = 10, M = 6, k = 2, S = 3 };
    ntk_spec s = make_spec(2, 16, 2, k);
    double *Xt = tu_gauss_x(11, N, 2), *Xe = tu_gauss_x(12, M, 2);
    double Yt[N * k], Ye[M * k], ft[S * N * k], fe[S * M * k];
    TU_OK(ntk_data_gaussian_raw(13, N, k, Yt));
    TU_OK(ntk_data_gaussian_raw(14, M, k, Ye));
    TU_OK(ntk_data_gaussian_raw(15, S * N, k, ft));
    TU_OK(ntk_data_gaussian_raw(16, S * M, k, fe));
    assert_int_equal(tu_tmpdir_make("kinf_files"), 0);
    char traj[256], kinf[256], bad[256];
    snprintf(traj, sizeof traj, "%s", tu_tmp_path("trajectory.npz"));
    snprintf(kinf, sizeof kinf, "%s", tu_tmp_path("kinf.npz"));
    snprintf(bad, sizeof bad, "%s", tu_tmp_path("bad.npz"));
    ntk_npz_writer *w = NULL;
    TU_OK(ntk_npz_open(traj, &w));
    TU_OK(ntk_npz_add(w, "f_train", NTK_F64, 2, (size_t[]){S, N * k}, ft));
    TU_OK(ntk_npz_add(w, "f_eval", NTK_F64, 2, (size_t[]){S, M * k}, fe));
    TU_OK(ntk_npz_close(w));
    ntk_dataset d = {.n_train = N, .n_eval = M, .n0 = 2, .k = k, .X_train = Xt, .Y_train = Yt, .X_eval = Xe,
                     .Y_eval = Ye};
    ntk_kinf_result rf;
    TU_OK(ntk_kinf_regression_files(&s, &d, 1e-3, 1, traj, kinf, &rf));
    assert_null(rf.K);
    double K[N * N], Ke[M * N], pred[M * k], pred0[M * k];
    ntk_kinf_opts o = {.N = N, .M = M, .X_train = Xt, .Y_train = Yt, .X_eval = Xe, .Y_eval = Ye, .f_train0 = ft,
                       .f_eval0 = fe, .f_eval_T = fe + (S - 1) * M * k, .ridge_rel = 1e-3, .threads = 1};
    ntk_kinf_result r = {.K = K, .K_eval = Ke, .pred = pred, .pred_init = pred0};
    TU_OK(ntk_kinf_regression(&s, &o, &r));
    assert_true(rf.solved == 1 && rf.ridge == r.ridge && rf.err_net == r.err_net && rf.err_kinf == r.err_kinf &&
                rf.rel_kinf == r.rel_kinf && rf.rel_kinf_init == r.rel_kinf_init);
    const struct {
        const char *name;
        size_t rows, cols;
        const double *want;
    } mb[] = {{"K_inf", N, N, K},   {"K_inf_eval", M, N, Ke}, {"y_train", N, k, Yt},
              {"y_eval", M, k, Ye}, {"pred", M, k, pred},     {"pred_init", M, k, pred0}};
    for (size_t i = 0; i < sizeof mb / sizeof mb[0]; i++) {
        ntk_array a = {0};
        TU_OK(ntk_npz_read(kinf, mb[i].name, &a));
        assert_true(a.ndim == 2 && a.shape[0] == mb[i].rows && a.shape[1] == mb[i].cols);
        assert_memory_equal(a.data, mb[i].want, mb[i].rows * mb[i].cols * sizeof(double));
        ntk_array_clear(&a);
    }
    double ridge;
    TU_OK(ntk_npz_read_into(kinf, "ridge", 1, &ridge));
    assert_true(ridge == r.ridge);
    /* a trajectory of another size, one without f_eval, no evaluation set */
    TU_OK(ntk_npz_open(bad, &w));
    TU_OK(ntk_npz_add(w, "f_train", NTK_F64, 2, (size_t[]){S, N * k - 1}, ft));
    TU_OK(ntk_npz_add(w, "f_eval", NTK_F64, 2, (size_t[]){S, M * k}, fe));
    TU_OK(ntk_npz_close(w));
    assert_int_equal(ntk_kinf_regression_files(&s, &d, 1e-3, 1, bad, kinf, &rf), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "f_train has an unexpected shape"));
    TU_OK(ntk_npz_open(bad, &w));
    TU_OK(ntk_npz_add(w, "f_train", NTK_F64, 2, (size_t[]){S, N * k}, ft));
    TU_OK(ntk_npz_close(w));
    assert_int_not_equal(ntk_kinf_regression_files(&s, &d, 1e-3, 1, bad, kinf, &rf), NTK_OK);
    d.n_eval = 0;
    assert_int_equal(ntk_kinf_regression_files(&s, &d, 1e-3, 1, traj, kinf, &rf), NTK_EINVAL);
    assert_int_equal(tu_tmpdir_remove(), 0);
    free(Xt);
    free(Xe);
}

static void test_sweep_tau(void **state)
{
    (void)state;
    const double t[5] = {8, 3, 5, 0, 2};
    const int div[5] = {0, 0, 0, 0, 1};
    assert_true(ntk_sweep_tau(5, t, div) == 3);  /* 2 diverged, 0 is no end time */
    const int all[5] = {1, 1, 1, 1, 1};
    assert_true(ntk_sweep_tau(5, t, all) == 0);  /* none: 0 */
    const double tn[3] = {NAN, 4, 6};
    const int none[3] = {0, 0, 0};
    assert_true(ntk_sweep_tau(3, tn, none) == 4); /* a NaN end time is no end time */
    assert_true(ntk_sweep_tau(0, NULL, NULL) == 0);
}

static void test_groups_closed(void **state)
{
    (void)state;
    /* cells (depth, width, lr) in sweep order: groups A B A C B A, one NaN key cell */
    const double keys[7 * 3] = {1, 8, 0.5, 1, 8, 1.5, 1, 8, 0.5, 2, 8, 0.5, 1, 8, 1.5, 1, 8, 0.5, 1, 8, NAN};
    size_t group[7], ng, first[7], count[7];
    TU_OK(ntk_group_keys(7, 3, keys, group, &ng, first, count));
    assert_int_equal(ng, 4);
    const size_t want[7] = {0, 1, 0, 2, 1, 0, 3};
    for (int i = 0; i < 7; i++) assert_int_equal(group[i], want[i]);
    assert_true(first[0] == 0 && first[1] == 1 && first[2] == 3 && first[3] == 6);
    assert_true(count[0] == 3 && count[1] == 2 && count[2] == 1 && count[3] == 1);
    /* group A = {4, 1, NaN}: numpy.nanpercentile of {1, 4} at 10/50/90 = 1.3, 2.5, 3.7 */
    const double v[7] = {4, 10, 1, 7, 20, NAN, 5};
    const double q[3] = {0.1, 0.5, 0.9};
    double out[12];
    TU_OK(ntk_group_percentiles(7, group, ng, v, 3, q, out));
    TU_ASSERT_LE(fabs(out[0] - 1.3), 1e-15, "p10 of {1, 4}");
    assert_true(out[1] == 2.5);
    TU_ASSERT_LE(fabs(out[2] - 3.7), 1e-15, "p90 of {1, 4}");
    TU_ASSERT_LE(fabs(out[3] - 11), 1e-14, "p10 of {10, 20}");
    assert_true(out[4] == 15 && out[6] == 7 && out[8] == 7 && out[10] == 5);
    const size_t badg[1] = {3};
    assert_int_equal(ntk_group_percentiles(1, badg, 2, v, 3, q, out), NTK_EINVAL);
    assert_int_equal(ntk_group_keys(3, 0, keys, group, &ng, NULL, NULL), NTK_EINVAL);
    TU_OK(ntk_group_keys(0, 3, NULL, NULL, &ng, NULL, NULL));
    assert_int_equal(ng, 0);
}

/* Many cells with keys from a small set against the naive pairwise grouping of the old CLI. */
static void test_groups_naive(void **state)
{
    (void)state;
    const size_t n = 500;
    double *keys = malloc(2 * n * sizeof *keys), u[1000];
    size_t *group = malloc(n * sizeof *group), *first = malloc(n * sizeof *first), *ref = malloc(n * sizeof *ref);
    assert_true(keys && group && first && ref);
    TU_OK(ntk_data_circle_uniform(11, 0, 1000, NTK_ANGLES_POS, u, NULL));
    for (size_t i = 0; i < n; i++) keys[2 * i] = floor(u[2 * i]), keys[2 * i + 1] = floor(u[2 * i + 1] * 0.5);
    size_t ng;
    TU_OK(ntk_group_keys(n, 2, keys, group, &ng, first, NULL));
    size_t nref = 0;
    for (size_t i = 0; i < n; i++) ref[i] = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (ref[i] != (size_t)-1) continue;
        for (size_t j = i; j < n; j++)
            if (ref[j] == (size_t)-1 && keys[2 * j] == keys[2 * i] && keys[2 * j + 1] == keys[2 * i + 1]) ref[j] = nref;
        assert_int_equal(first[nref], i);
        nref++;
    }
    assert_int_equal(ng, nref);
    assert_true(ng > 5 && ng < n); /* several groups of several members: the case is not trivial */
    for (size_t i = 0; i < n; i++) assert_int_equal(group[i], ref[i]);
    free(keys);
    free(group);
    free(first);
    free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_column_stats),
        cmocka_unit_test(test_profile_init),
        cmocka_unit_test(test_profile_trained),
        cmocka_unit_test(test_profile_params_and_divergence),
        cmocka_unit_test(test_profile_bad_options),
        cmocka_unit_test(test_converge_cell),
        cmocka_unit_test(test_converge_fit),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_kinf_regression),
        cmocka_unit_test(test_kinf_regression_files),
        cmocka_unit_test(test_sweep_tau),
        cmocka_unit_test(test_groups_closed),
        cmocka_unit_test(test_groups_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
