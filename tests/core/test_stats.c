/* test_stats.c -- the statistics helpers of src/analysis/stats.c (ntk_ols, ntk_mean_se, ntk_moment_ratio)
 * against closed forms and against numpy; their conventions for few values and for NaN.
 * (ntk_percentiles has its test in test_spectral.c.)
 *
 * The reference numbers were computed with numpy 1.24 (no scipy), printed with repr():
 *   x = [0.5, 1.0, 1.7, 2.2, 3.1, 3.9, 4.4, 5.3, 6.0, 7.2]
 *   y = [1.62, 2.31, 4.05, 4.38, 6.71, 8.02, 8.69, 11.3, 12.41, 14.87]
 *   b, a = numpy.polyfit(x, y, 1)
 *   r = y - (a + b x);  se = sqrt(sum(r**2) / (n - 2) / sum((x - x.mean())**2))   (textbook formula;
 *   equal to sqrt(numpy.polyfit(x, y, 1, cov=True)[1][0, 0]) = 0.04400524140400515 to 1e-15)
 *   v = [3.2, -1.5, 4.75, 0.25, 2.0, 5.5, -0.8]:  v.mean(), v.std(ddof=1), v.std(ddof=1) / sqrt(7)
 *   w = [1.3, 0.4, 2.9, 0.7, 1.1, 5.2, 0.9, 1.6]:  m1 = w.mean(), m2 = (w**2).mean(),
 *   C = numpy.cov(numpy.vstack([w, w**2]), ddof=1),
 *   R = m2 / m1**2, se = sqrt((C[1,1] / m2**2 + 4 C[0,0] / m1**2 - 4 C[0,1] / (m1 m2)) / 8)
 *
 * Tolerances: the references and the library sum the same few (<= 10) O(1)-O(10) numbers in a
 * different order (numpy: pairwise sums; polyfit: an SVD least-squares solve), so they agree to a
 * few hundred ulps at most; 1e-13 relative allows that and is still ~10^11 times smaller than the
 * change any formula error makes (ddof 0 for 1 moves the SE by 8%, n - 1 for n - 2 in the slope SE
 * by 6%, a dropped factor 4 in the delta method by more than 10%). */
#include <math.h>
#include <string.h>

#include "testutil.h"

static double relerr(double a, double b) { return fabs(a - b) / fabs(b); }

static const double ox[10] = {0.5, 1.0, 1.7, 2.2, 3.1, 3.9, 4.4, 5.3, 6.0, 7.2};
static const double oy[10] = {1.62, 2.31, 4.05, 4.38, 6.71, 8.02, 8.69, 11.3, 12.41, 14.87};

/* An exact line y = 3 - 0.5 x: slope and intercept to rounding, residuals and so the SE ~ 0. */
static void test_ols_exact_line(void **state)
{
    (void)state;
    double x[6], y[6], b, a, se;
    for (int i = 0; i < 6; i++) x[i] = i, y[i] = 3 - 0.5 * i;
    TU_OK(ntk_ols(6, x, y, &b, &a, &se));
    /* the means are sums of x_i / 6 (inexact thirds): a few ulps of O(1) numbers */
    TU_ASSERT_LE(fabs(b + 0.5), 1e-15, "exact line: slope");
    TU_ASSERT_LE(fabs(a - 3), 1e-15, "exact line: intercept");
    /* residuals are rounding of O(1) values (<= ~1e-15 each) over Sxx = 17.5 */
    TU_ASSERT_LE(se, 1e-14, "exact line: slope SE (residuals are rounding only)");
    /* intercept and SE are optional */
    double b2;
    TU_OK(ntk_ols(6, x, y, &b2, NULL, NULL));
    assert_true(b2 == b);
}

/* A noisy set against numpy.polyfit and the textbook slope SE computed by numpy (header). */
static void test_ols_numpy(void **state)
{
    (void)state;
    double b, a, se;
    TU_OK(ntk_ols(10, ox, oy, &b, &a, &se));
    TU_ASSERT_LE(relerr(b, 1.998138531058204), 1e-13, "slope vs numpy.polyfit");
    TU_ASSERT_LE(relerr(a, 0.3825709853645375), 1e-13, "intercept vs numpy.polyfit");
    TU_ASSERT_LE(relerr(se, 0.04400524140400511), 1e-13, "slope SE vs sqrt(sum r^2 / (n - 2) / Sxx) by numpy");
}

/* n <= 1 or all x equal: no slope; n = 2: a slope but no SE; NaN points are left out. */
static void test_ols_conventions(void **state)
{
    (void)state;
    double b, a, se;
    TU_OK(ntk_ols(0, NULL, NULL, &b, &a, &se));
    assert_true(isnan(b) && isnan(a) && isnan(se));
    TU_OK(ntk_ols(1, ox, oy, &b, &a, &se));
    assert_true(isnan(b) && isnan(a) && isnan(se));
    const double xc[4] = {2, 2, 2, 2}, yc[4] = {1, 2, 3, 4};
    TU_OK(ntk_ols(4, xc, yc, &b, &a, &se));
    assert_true(isnan(b) && isnan(a) && isnan(se));
    /* equal x whose rounded mean is not x: log(24) three times (converge with one width and three
     * seeds) left Sxx ~ 1e-30 > 0, and the CLI's fit gave slope -1/3 +- 7e14 instead of NaN */
    const double xl[3] = {log(24.0), log(24.0), log(24.0)}, yl[3] = {-1, -2, -1.5};
    TU_OK(ntk_ols(3, xl, yl, &b, &a, &se));
    if (!(isnan(b) && isnan(a) && isnan(se)))
        fail_msg("equal x = log 24: slope %g +- %g, intercept %g (want NaN)", b, se, a);
    /* two points: the line through them, (1, 2) and (3, 5) -> slope 1.5, intercept 0.5, exact in
     * binary (the means 2 and 3.5 are sums of halves) */
    const double x2[2] = {1, 3}, y2[2] = {2, 5};
    TU_OK(ntk_ols(2, x2, y2, &b, &a, &se));
    assert_true(b == 1.5 && a == 0.5 && isnan(se));
    /* two points whose residuals round to 1e-32, not 0: the SE stays NaN (RSS / 0 would be inf);
     * the slope is 8/3 to rounding (a few ulps: differences of inexact decimals) */
    const double x2b[2] = {0.1, 0.7}, y2b[2] = {0.3, 1.9};
    TU_OK(ntk_ols(2, x2b, y2b, &b, &a, &se));
    TU_ASSERT_LE(relerr(b, 8.0 / 3), 1e-15, "two points: slope 8/3");
    assert_true(isnan(se));
    /* a NaN in x of one point and in y of another: the fit of the other 10 points, bit for bit
     * (the same sums in the same order) */
    double x[12], y[12], b0, a0, se0;
    memcpy(x, ox, sizeof ox);
    memcpy(y, oy, sizeof oy);
    x[10] = NAN, y[10] = 1;
    x[11] = 4, y[11] = NAN;
    TU_OK(ntk_ols(12, x, y, &b, &a, &se));
    TU_OK(ntk_ols(10, ox, oy, &b0, &a0, &se0));
    assert_true(b == b0 && a == a0 && se == se0);
    /* NaN points that leave one point: no slope */
    double x3[3] = {1, NAN, 2}, y3[3] = {1, 2, NAN};
    TU_OK(ntk_ols(3, x3, y3, &b, &a, &se));
    assert_true(isnan(b) && isnan(se));
    assert_int_equal(ntk_ols(3, NULL, y3, &b, &a, &se), NTK_EINVAL);
    assert_int_equal(ntk_ols(3, x3, y3, NULL, &a, &se), NTK_EINVAL);
}

/* Mean, sample std (ddof 1) and SE = std / sqrt(n) against numpy (header). */
static void test_mean_se_numpy(void **state)
{
    (void)state;
    const double v[7] = {3.2, -1.5, 4.75, 0.25, 2.0, 5.5, -0.8};
    double m, se, sd;
    TU_OK(ntk_mean_se(7, v, &m, &se, &sd));
    TU_ASSERT_LE(relerr(m, 1.9142857142857141), 1e-13, "mean vs numpy");
    TU_ASSERT_LE(relerr(sd, 2.7188714395428675), 1e-13, "std vs numpy.std(ddof=1)");
    TU_ASSERT_LE(relerr(se, 1.027636810826659), 1e-13, "SE vs numpy.std(ddof=1) / sqrt(n)");
    double m2;
    TU_OK(ntk_mean_se(7, v, &m2, NULL, NULL)); /* se and sd optional */
    assert_true(m2 == m);
}

/* One convention: no values -> all NaN; one value -> its mean, std and SE NaN; NaN entries left out
 * (as ntk_percentiles does); infinite entries kept. */
static void test_mean_se_conventions(void **state)
{
    (void)state;
    double m, se, sd;
    TU_OK(ntk_mean_se(0, NULL, &m, &se, &sd));
    assert_true(isnan(m) && isnan(se) && isnan(sd));
    const double one = 2.5;
    TU_OK(ntk_mean_se(1, &one, &m, &se, &sd));
    assert_true(m == 2.5 && isnan(se) && isnan(sd));
    const double v[9] = {3.2, NAN, -1.5, 4.75, 0.25, 2.0, NAN, 5.5, -0.8};
    const double w[7] = {3.2, -1.5, 4.75, 0.25, 2.0, 5.5, -0.8};
    double m0, se0, sd0;
    TU_OK(ntk_mean_se(9, v, &m, &se, &sd));
    TU_OK(ntk_mean_se(7, w, &m0, &se0, &sd0));
    assert_true(m == m0 && se == se0 && sd == sd0); /* n counts the 7 values, not 9 */
    /* the same values as ntk_percentiles: its median of v is the median of w (2.0) */
    double half = 0.5, med;
    TU_OK(ntk_percentiles(9, v, 1, &half, &med));
    assert_true(med == 2.0);
    const double nan2[2] = {NAN, NAN};
    TU_OK(ntk_mean_se(2, nan2, &m, &se, &sd));
    assert_true(isnan(m) && isnan(se) && isnan(sd));
    const double nan1[2] = {NAN, 4};
    TU_OK(ntk_mean_se(2, nan1, &m, &se, &sd));
    assert_true(m == 4 && isnan(se) && isnan(sd));
    const double inf[3] = {1, INFINITY, 2};
    TU_OK(ntk_mean_se(3, inf, &m, &se, &sd));
    assert_true(m == INFINITY && isnan(se) && isnan(sd));
    assert_int_equal(ntk_mean_se(3, NULL, &m, &se, &sd), NTK_EINVAL);
    assert_int_equal(ntk_mean_se(3, inf, NULL, &se, &sd), NTK_EINVAL);
}

/* R = mean(w^2) / mean(w)^2 and the delta-method SE of log R against numpy (header); few values. */
static void test_moment_ratio(void **state)
{
    (void)state;
    const double w[8] = {1.3, 0.4, 2.9, 0.7, 1.1, 5.2, 0.9, 1.6};
    double R, lse;
    TU_OK(ntk_moment_ratio(8, w, &R, &lse));
    TU_ASSERT_LE(relerr(R, 1.704944419294804), 1e-13, "R vs numpy");
    /* the three terms of Var(log R) (3.0, 3.2, -6.1) cancel to 0.16, which multiplies their
     * rounding by ~40: 1e-12 allows that with margin, and a wrong term (a factor 4 dropped) changes
     * the SE by a factor > 5 or makes it NaN */
    TU_ASSERT_LE(relerr(lse, 0.14075562400928437), 1e-12, "log R SE vs numpy (np.cov, ddof 1)");
    double R2;
    TU_OK(ntk_moment_ratio(8, w, &R2, NULL));
    assert_true(R2 == R);
    /* NaN left out, bit for bit */
    const double wn[10] = {1.3, 0.4, NAN, 2.9, 0.7, 1.1, 5.2, 0.9, NAN, 1.6};
    double Rn, lsen;
    TU_OK(ntk_moment_ratio(10, wn, &Rn, &lsen));
    assert_true(Rn == R && lsen == lse);
    /* no values: R NaN; one value: R = 1, no SE; equal values: R = 1, variance 0 -> no SE */
    TU_OK(ntk_moment_ratio(0, NULL, &R, &lse));
    assert_true(isnan(R) && isnan(lse));
    const double one = 3;
    TU_OK(ntk_moment_ratio(1, &one, &R, &lse));
    assert_true(R == 1 && isnan(lse));
    const double eq[4] = {2, 2, 2, 2};
    TU_OK(ntk_moment_ratio(4, eq, &R, &lse));
    assert_true(R == 1 && isnan(lse));
    assert_int_equal(ntk_moment_ratio(4, NULL, &R, &lse), NTK_EINVAL);
    assert_int_equal(ntk_moment_ratio(4, eq, NULL, &lse), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ols_exact_line),      cmocka_unit_test(test_ols_numpy),
        cmocka_unit_test(test_ols_conventions),     cmocka_unit_test(test_mean_se_numpy),
        cmocka_unit_test(test_mean_se_conventions), cmocka_unit_test(test_moment_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
