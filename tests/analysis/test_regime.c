/* test_regime.c -- the per-cell summary of src/analysis/regime.c: every regime rule just below, at and just
 * above its threshold (the thresholds' products with loss0 are exact in binary, so "at" is exact),
 * divergence, the three conditions of a catapult, NaN summaries; ntk_interp_at against hand values
 * on dyadic data (exact arithmetic) and NaN outside the range; ntk_rmse and ntk_mean_diag against
 * direct sums; ntk_krr_init_shift against an LU solve and against the frozen-kernel gradient flow
 * run to convergence (ntk_linpred, an eigendecomposition). */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A run that is lazy under the defaults, with no catapult. */
static ntk_cell_summary lazy_cell(void)
{
    ntk_cell_summary c = {0, 1.0, 0.01, 1.0, 0.05, 0.05, 10.0, 9.0};
    return c;
}

static ntk_regime classify(const ntk_regime_opts *o, const ntk_cell_summary *c, int *cat)
{
    ntk_regime r = (ntk_regime)-1;
    TU_OK(ntk_regime_classify(o, c, &r, cat));
    return r;
}

static void test_names_and_defaults(void **state)
{
    (void)state;
    assert_string_equal(ntk_regime_name(NTK_REGIME_LAZY), "lazy");
    assert_string_equal(ntk_regime_name(NTK_REGIME_WEAK), "weak_feature_learning");
    assert_string_equal(ntk_regime_name(NTK_REGIME_UNSTABLE), "unstable");
    assert_string_equal(ntk_regime_name((ntk_regime)7), "?");
    /* cells.csv's regime_code is the enum value */
    assert_int_equal(NTK_REGIME_LAZY, 0);
    assert_int_equal(NTK_REGIME_WEAK, 1);
    assert_int_equal(NTK_REGIME_UNSTABLE, 2);
    ntk_regime_opts o = ntk_regime_defaults(); /* the CLI's defaults (cli/config.c) */
    assert_true(o.lazy_drift == 0.1 && o.lazy_lin_err == 0.1);
    assert_true(o.unstable_loss_ratio == 1.0 && o.catapult_spike == 1.0);
}

/* lazy: drift_fro <= lazy_drift and lin_err <= lazy_lin_err, each at its boundary. */
static void test_lazy_boundaries(void **state)
{
    (void)state;
    ntk_regime_opts o = ntk_regime_defaults();
    int cat = -1;
    ntk_cell_summary c = lazy_cell();
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_LAZY);
    assert_int_equal(cat, 0);
    const double th = 0.1;
    const double at[3] = {nextafter(th, 0), th, nextafter(th, 1)};
    const ntk_regime want[3] = {NTK_REGIME_LAZY, NTK_REGIME_LAZY, NTK_REGIME_WEAK};
    for (int i = 0; i < 3; i++) {
        c = lazy_cell();
        c.drift_fro = at[i];
        assert_int_equal(classify(&o, &c, &cat), want[i]);
        c = lazy_cell();
        c.lin_err = at[i];
        assert_int_equal(classify(&o, &c, &cat), want[i]);
    }
    /* both needed: a small drift with a large linearization error is not lazy, and vice versa */
    c = lazy_cell();
    c.drift_fro = 0, c.lin_err = 0.5;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
    c.drift_fro = 0.5, c.lin_err = 0;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
    /* the thresholds are the options', not fixed */
    o.lazy_drift = 0.6;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_LAZY);
    o = ntk_regime_defaults();
    o.lazy_lin_err = 0.01;
    c = lazy_cell();
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
}

/* unstable: diverged, or not loss_T < unstable_loss_ratio * loss0. */
static void test_unstable_boundaries(void **state)
{
    (void)state;
    ntk_regime_opts o = ntk_regime_defaults();
    o.unstable_loss_ratio = 0.5; /* loss0 = 2: the threshold 0.5 * 2 = 1 is exact */
    ntk_cell_summary c = lazy_cell();
    c.loss0 = 2;
    const double at[3] = {nextafter(1, 0), 1, nextafter(1, 2)};
    const ntk_regime want[3] = {NTK_REGIME_LAZY, NTK_REGIME_UNSTABLE, NTK_REGIME_UNSTABLE};
    int cat;
    for (int i = 0; i < 3; i++) {
        c.loss_T = at[i];
        assert_int_equal(classify(&o, &c, &cat), want[i]);
    }
    /* the default ratio 1: a loss that did not fall at all is unstable */
    o = ntk_regime_defaults();
    c = lazy_cell();
    c.loss_T = c.loss0;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
    c.loss_T = nextafter(c.loss0, 0);
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_LAZY);
    /* diverged overrides everything else (here a run that would be lazy) */
    c = lazy_cell();
    c.diverged = 1;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
    c.drift_fro = 5;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
}

/* catapult: loss_max > (1 + catapult_spike) loss0, not unstable, lambda_max_T < lambda_max_0; the
 * label stays what happened. */
static void test_catapult(void **state)
{
    (void)state;
    ntk_regime_opts o = ntk_regime_defaults(); /* spike 1: the bar is 2 loss0 = 2, exact */
    ntk_cell_summary c = lazy_cell();
    int cat = -1;
    const double at[3] = {nextafter(2, 0), 2, nextafter(2, 3)};
    const int want[3] = {0, 0, 1};
    for (int i = 0; i < 3; i++) {
        c.loss_max = at[i];
        assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_LAZY); /* the label is unchanged */
        assert_int_equal(cat, want[i]);
    }
    ntk_cell_summary spike = c; /* a catapult: spike, convergence, smaller lambda_max */
    c = spike;
    c.drift_fro = 0.5;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
    assert_int_equal(cat, 1);
    /* no convergence: the spike of an unstable run is no catapult */
    c = spike;
    c.loss_T = c.loss0;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
    assert_int_equal(cat, 0);
    c = spike;
    c.diverged = 1;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
    assert_int_equal(cat, 0);
    /* lambda_max must fall: equal or larger is no catapult */
    c = spike;
    c.lambda_max_T = c.lambda_max_0;
    classify(&o, &c, &cat);
    assert_int_equal(cat, 0);
    c.lambda_max_T = nextafter(c.lambda_max_0, 0);
    classify(&o, &c, &cat);
    assert_int_equal(cat, 1);
    c.lambda_max_T = 2 * c.lambda_max_0;
    classify(&o, &c, &cat);
    assert_int_equal(cat, 0);
    /* the spike threshold is the option's: (1 + 0.5) x 1 = 1.5 is exact */
    o.catapult_spike = 0.5;
    c = spike;
    c.loss_max = 1.5;
    classify(&o, &c, &cat);
    assert_int_equal(cat, 0);
    c.loss_max = nextafter(1.5, 2);
    classify(&o, &c, &cat);
    assert_int_equal(cat, 1);
    /* catapult may be NULL */
    ntk_regime r;
    TU_OK(ntk_regime_classify(&o, &c, &r, NULL));
    assert_int_equal(r, NTK_REGIME_LAZY);
}

/* NaN summary values (a missing metrics column) never give lazy, stable or a catapult. */
static void test_nan_summary(void **state)
{
    (void)state;
    ntk_regime_opts o = ntk_regime_defaults();
    int cat;
    ntk_cell_summary c = lazy_cell();
    c.loss_T = NAN;
    c.loss_max = 5;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_UNSTABLE);
    assert_int_equal(cat, 0);
    c = lazy_cell();
    c.drift_fro = NAN;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
    c = lazy_cell();
    c.lin_err = NAN;
    assert_int_equal(classify(&o, &c, &cat), NTK_REGIME_WEAK);
    c = lazy_cell();
    c.loss_max = 5;
    c.lambda_max_T = NAN;
    classify(&o, &c, &cat);
    assert_int_equal(cat, 0);
    c.lambda_max_T = 1, c.lambda_max_0 = NAN;
    classify(&o, &c, &cat);
    assert_int_equal(cat, 0);
}

static void test_bad_options(void **state)
{
    (void)state;
    ntk_cell_summary c = lazy_cell();
    ntk_regime r;
    int cat;
    ntk_regime_opts o = ntk_regime_defaults();
    assert_int_equal(ntk_regime_classify(NULL, &c, &r, &cat), NTK_EINVAL);
    assert_int_equal(ntk_regime_classify(&o, NULL, &r, &cat), NTK_EINVAL);
    assert_int_equal(ntk_regime_classify(&o, &c, NULL, &cat), NTK_EINVAL);
    o.lazy_drift = -0.1;
    assert_int_equal(ntk_regime_classify(&o, &c, &r, &cat), NTK_EINVAL);
    assert_string_equal(ntk_last_error(), "regime: lazy_drift must be finite and >= 0 (got -0.1)");
    o = ntk_regime_defaults();
    o.lazy_lin_err = NAN;
    assert_int_equal(ntk_regime_classify(&o, &c, &r, &cat), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "lazy_lin_err"));
    o = ntk_regime_defaults();
    o.unstable_loss_ratio = 0; /* > 0 needed: 0 would call every run unstable */
    assert_int_equal(ntk_regime_classify(&o, &c, &r, &cat), NTK_EINVAL);
    assert_string_equal(ntk_last_error(), "regime: unstable_loss_ratio must be finite and > 0 (got 0)");
    o = ntk_regime_defaults();
    o.catapult_spike = INFINITY;
    assert_int_equal(ntk_regime_classify(&o, &c, &r, &cat), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "catapult_spike"));
    /* the boundary values themselves are accepted */
    o = ntk_regime_defaults();
    o.lazy_drift = o.lazy_lin_err = o.catapult_spike = 0;
    TU_OK(ntk_regime_classify(&o, &c, &r, &cat));
    assert_int_equal(r, NTK_REGIME_WEAK); /* drift 0.05 > 0 */
}

/* Dyadic times and values: every interpolation below is exact in binary, so == is the test. */
static void test_interp(void **state)
{
    (void)state;
    const double t[4] = {0, 1, 3, 4}, v[4] = {0, 2, 3, 7};
    const double tau[7] = {0, 0.5, 1, 2, 3, 3.25, 4}, want[7] = {0, 1, 2, 2.5, 3, 4, 7};
    for (int i = 0; i < 7; i++) assert_true(ntk_interp_at(4, t, v, tau[i]) == want[i]);
    assert_true(isnan(ntk_interp_at(4, t, v, -0.25)));
    assert_true(isnan(ntk_interp_at(4, t, v, nextafter(0, -1))));
    assert_true(isnan(ntk_interp_at(4, t, v, nextafter(4, 5))));
    assert_true(isnan(ntk_interp_at(4, t, v, 100)));
    assert_true(isnan(ntk_interp_at(4, t, v, NAN)));
    /* a general point, against the two-point formula written out */
    double x = 1.7, w = (x - 1) / (3 - 1);
    /* two formulas for the same line: a few roundings of a value ~2.35 (1 ulp = 4.4e-16) */
    TU_ASSERT_LE(fabs(ntk_interp_at(4, t, v, x) - (2 + w * (3 - 2))), 2e-15, "interior point");
    /* one point: only its own time */
    const double t1[1] = {2}, v1[1] = {5};
    assert_true(ntk_interp_at(1, t1, v1, 2) == 5);
    assert_true(isnan(ntk_interp_at(1, t1, v1, 2.5)));
    assert_true(isnan(ntk_interp_at(0, t1, v1, 2)));
    /* a repeated time (a zero-length step) is skipped, never divided by */
    const double tr[4] = {0, 1, 1, 2}, vr[4] = {0, 1, 5, 6};
    assert_true(ntk_interp_at(4, tr, vr, 1) == 1);
    assert_true(ntk_interp_at(4, tr, vr, 1.5) == 5.5);
    /* a NaN time (a missing column) gives NaN, not a wrong interval */
    const double tn[3] = {NAN, NAN, NAN};
    assert_true(isnan(ntk_interp_at(3, tn, v, 0)));
}

static void test_rmse_and_mean_diag(void **state)
{
    (void)state;
    const double a[4] = {3, 1, -1, 5}, b[4] = {0, 1, 3, 1}; /* differences 3, 0, -4, 4: sum of squares 41 */
    TU_ASSERT_LE(fabs(ntk_rmse(4, a, b) - sqrt(41.0 / 4)), 2e-16 * sqrt(41.0 / 4), "rmse by hand (1 ulp)");
    assert_true(ntk_rmse(4, a, a) == 0);
    assert_true(isnan(ntk_rmse(0, a, b)));
    /* n = 1000 random entries against a long double sum */
    enum { N = 1000 };
    double *x = malloc(2 * N * sizeof *x);
    assert_non_null(x);
    ntk_rng_normal(11, 97, 0, 0, 2 * N, x);
    long double s = 0;
    for (int i = 0; i < N; i++) s += (long double)(x[i] - x[N + i]) * (x[i] - x[N + i]);
    double direct = (double)sqrtl(s / N);
    /* the library sums in double: relative error <= N eps ~ 2e-13 in the worst case, ~sqrt(N) eps typically */
    TU_ASSERT_LE(fabs(ntk_rmse(N, x, x + N) - direct) / direct, 2e-13, "rmse against a long double sum");
    free(x);
    /* mean diagonal: the off-diagonal entries must not count */
    const double K[9] = {1, 9, 9, 9, 2, 9, 9, 9, 6};
    TU_ASSERT_LE(fabs(ntk_mean_diag(3, K) - 3), 4 * 2.2e-16 * 3, "mean diagonal (three roundings of /3)");
    assert_true(isnan(ntk_mean_diag(0, K)));
}

enum { KN = 12, KM = 5, KK = 2 };

/* K = A A^T / KN + I (eigenvalues in [1, ~5]: well conditioned), Kxe random, Y, f0, f0e random. */
static void problem(double *K, double *Ke, double *Y, double *f0, double *f0e)
{
    double A[KN * KN];
    ntk_rng_normal(3, 90, 0, 0, KN * KN, A);
    for (int i = 0; i < KN; i++)
        for (int j = 0; j < KN; j++) {
            double s = 0;
            for (int l = 0; l < KN; l++) s += A[i * KN + l] * A[j * KN + l];
            K[i * KN + j] = s / KN + (i == j);
        }
    ntk_rng_normal(3, 91, 0, 0, KM * KN, Ke);
    ntk_rng_normal(3, 92, 0, 0, KN * KK, Y);
    ntk_rng_normal(3, 93, 0, 0, KN * KK, f0);
    ntk_rng_normal(3, 94, 0, 0, KM * KK, f0e);
}

/* pred_init = f0e + Kxe (K + ridge I)^{-1} (Y - f0): an LU solve (dgesv) of the difference, where
 * the library does two Cholesky solves and subtracts. */
static void test_init_shift_against_lu(void **state)
{
    (void)state;
    double K[KN * KN], Ke[KM * KN], Y[KN * KK], f0[KN * KK], f0e[KM * KK], pred[KM * KK], pi[KM * KK];
    problem(K, Ke, Y, f0, f0e);
    double ridge = 0.3;
    TU_OK(ntk_krr(KN, K, KK, Y, ridge, KM, Ke, pred, NULL));
    TU_OK(ntk_krr_init_shift(KN, K, KK, f0, ridge, KM, Ke, pred, f0e, pi));
    double A[KN * KN], z[KN * KK], want[KM * KK];
    lapack_int piv[KN];
    memcpy(A, K, sizeof A);
    for (int i = 0; i < KN; i++) A[i * KN + i] += ridge;
    for (int i = 0; i < KN * KK; i++) z[i] = Y[i] - f0[i];
    assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, KN, KK, A, KN, piv, z, KK), 0);
    for (int e = 0; e < KM; e++)
        for (int a = 0; a < KK; a++) {
            double s = f0e[e * KK + a];
            for (int j = 0; j < KN; j++) s += Ke[e * KN + j] * z[j * KK + a];
            want[e * KK + a] = s;
        }
    /* cond(K + ridge I) < 10 and |entries| ~ 1-10: both solves are accurate to ~1e-15; the
     * subtraction pred - Kxe a0 loses at most a factor ~10 */
    TU_ASSERT_LE(tu_rel_max(KM * KK, pi, want), 1e-13, "init-shifted predictor vs LU solve");
    /* mutating f0e moves pred_init by exactly that */
    f0e[3] += 1;
    double pi2[KM * KK];
    TU_OK(ntk_krr_init_shift(KN, K, KK, f0, ridge, KM, Ke, pred, f0e, pi2));
    TU_ASSERT_LE(fabs(pi2[3] - pi[3] - 1), 1e-14, "f0e enters additively");
}

/* With ridge 0 the shifted predictor is where the frozen-kernel gradient flow from f0 ends:
 * f_e(t) = f0e - Kxe K^{-1} (I - e^{-tK}) (f0 - y) -> f0e + Kxe K^{-1} (y - f0). */
static void test_init_shift_is_the_flow_limit(void **state)
{
    (void)state;
    double K[KN * KN], Ke[KM * KN], Y[KN * KK], f0[KN * KK], f0e[KM * KK];
    problem(K, Ke, Y, f0, f0e);
    double y[KN], g0[KN], ge[KM], pred[KM], pi[KM], ft[KN], fe[KM]; /* output 0 only (k = 1) */
    for (int i = 0; i < KN; i++) y[i] = Y[i * KK], g0[i] = f0[i * KK];
    for (int e = 0; e < KM; e++) ge[e] = f0e[e * KK];
    TU_OK(ntk_krr(KN, K, 1, y, 0.0, KM, Ke, pred, NULL));
    TU_OK(ntk_krr_init_shift(KN, K, 1, g0, 0.0, KM, Ke, pred, ge, pi));
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(KN, K, KM, Ke, g0, y, ge, 1.0, 1, &lp));
    TU_OK(ntk_linpred_at(lp, 60.0, ft, fe)); /* lambda_min(K) >= 1: e^{-60} ~ 1e-26 is left */
    ntk_linpred_free(lp);
    /* cond(K) < 10: the eigendecomposition and the Cholesky solves agree to ~1e-14 */
    TU_ASSERT_LE(tu_rel_max(KM, pi, fe), 1e-12, "init-shifted predictor vs converged gradient flow");
}

static void test_init_shift_validation(void **state)
{
    (void)state;
    double K[KN * KN], Ke[KM * KN], Y[KN * KK], f0[KN * KK], f0e[KM * KK], pred[KM * KK], pi[KM * KK];
    problem(K, Ke, Y, f0, f0e);
    TU_OK(ntk_krr(KN, K, KK, Y, 0.1, KM, Ke, pred, NULL));
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, NULL, 0.1, KM, Ke, pred, f0e, pi), NTK_EINVAL);
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, f0, 0.1, KM, Ke, pred, NULL, pi), NTK_EINVAL);
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, f0, 0.1, KM, Ke, NULL, f0e, pi), NTK_EINVAL);
    f0[7] = NAN;
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, f0, 0.1, KM, Ke, pred, f0e, pi), NTK_EINVAL);
    assert_string_equal(ntk_last_error(), "krr_init_shift: f0 has a non-finite entry at row 3, output 1");
    f0[7] = 0;
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, f0, -1.0, KM, Ke, pred, f0e, pi), NTK_EINVAL); /* ntk_krr's */
    for (int i = 0; i < KN; i++) K[i * KN + i] = -1; /* indefinite */
    assert_int_equal(ntk_krr_init_shift(KN, K, KK, f0, 0.0, KM, Ke, pred, f0e, pi), NTK_ENUMERIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_defaults),
        cmocka_unit_test(test_lazy_boundaries),
        cmocka_unit_test(test_unstable_boundaries),
        cmocka_unit_test(test_catapult),
        cmocka_unit_test(test_nan_summary),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_interp),
        cmocka_unit_test(test_rmse_and_mean_diag),
        cmocka_unit_test(test_init_shift_against_lu),
        cmocka_unit_test(test_init_shift_is_the_flow_limit),
        cmocka_unit_test(test_init_shift_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
