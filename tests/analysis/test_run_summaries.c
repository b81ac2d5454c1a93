/* test_run_summaries.c -- src/run_summaries.c against independent computations: beta against
 * exact binary fractions and L / n, distinct values and their ranks against a hand-sorted list,
 * group means against sums of exactly representable numbers, the log-space scale fit against a
 * constructed C, and the circle Fourier amplitudes against the amplitudes of the modes a profile
 * was built from (the discrete orthogonality of cos / sin on the grid). */
#include <math.h>
#include <string.h>

#include "testutil.h"

static void test_spec_beta(void **state)
{
    (void)state;
    int w[3] = {2, 4, 8};
    ntk_spec s = ntk_spec_default();
    s.depth = 3;
    s.widths = w;
    /* 1/2 + 1/4 + 1/8 are exact binary fractions: equal to the last bit */
    assert_true(ntk_spec_beta(&s) == 0.875);
    int e[4] = {64, 64, 64, 64};
    s.depth = 4;
    s.widths = e;
    /* four additions of 1/64 (exact) */
    assert_true(ntk_spec_beta(&s) == 4.0 / 64);
    int v[2] = {3, 7};
    s.depth = 2;
    s.widths = v;
    /* 1/3 + 1/7 = 10/21 with two roundings of the addends and one of the sum: <= 2 ulps */
    TU_ASSERT_LE(fabs(ntk_spec_beta(&s) - 10.0 / 21), 3e-16, "beta of widths 3, 7");
    s.depth = 0;
    assert_true(ntk_spec_beta(&s) == 0);
    assert_true(isnan(ntk_spec_beta(NULL)));
}

static void test_distinct_values(void **state)
{
    (void)state;
    const double v[9] = {64, 16, NAN, 32, 16, INFINITY, 64, -0.0, 0.0};
    double out[9];
    size_t k = 99, idx[9];
    TU_OK(ntk_distinct_values(9, v, out, &k, idx));
    /* by hand: finite values 64 16 32 16 64 -0 0 -> {0, 16, 32, 64} (0 and -0 compare equal) */
    assert_int_equal(k, 4);
    assert_true(out[0] == 0 && out[1] == 16 && out[2] == 32 && out[3] == 64);
    const size_t want[9] = {3, 1, SIZE_MAX, 2, 1, SIZE_MAX, 3, 0, 0};
    for (int i = 0; i < 9; i++) assert_int_equal(idx[i], want[i]);
    /* every value's rank points at that value */
    for (int i = 0; i < 9; i++)
        if (idx[i] != SIZE_MAX) assert_true(out[idx[i]] == v[i]);
    TU_OK(ntk_distinct_values(0, NULL, NULL, &k, NULL));
    assert_int_equal(k, 0);
    assert_int_equal(ntk_distinct_values(3, NULL, out, &k, NULL), NTK_EINVAL);
}

static void test_group_means(void **state)
{
    (void)state;
    /* groups 0: {1.5, 2.5, NaN, 4} -> 8 / 3; 1: {inf, -0.25} -> -0.25; 2: nothing finite -> NaN;
     * entry 7 is excluded (SIZE_MAX) and would move group 0 */
    const double v[8] = {1.5, 2.5, NAN, INFINITY, 4, -0.25, NAN, 1000};
    const size_t g[8] = {0, 0, 0, 1, 0, 1, 2, SIZE_MAX};
    double m[3];
    TU_OK(ntk_group_means(8, g, 3, v, m));
    /* 8 / 3 from an exact sum 8 divided once: the correctly rounded quotient */
    assert_true(m[0] == 8.0 / 3);
    assert_true(m[1] == -0.25);
    assert_true(isnan(m[2]));
    assert_int_equal(ntk_group_means(2, NULL, 1, v, m), NTK_EINVAL);
}

static void test_log_scale_fit(void **state)
{
    (void)state;
    /* |y_i| / u_i = C x_i e^{eps_i} with sum eps_i = 0: the fit returns C.  Entries that must be left
     * out (y = 0, x <= 0, y NaN, u <= 0) carry values that would move it by a factor of 2 or more. */
    const double C = 0.37, eps[4] = {0.3, -0.1, -0.5, 0.3};
    double x[8] = {0.5, 2, 8, 30, 1, -1, 4, 2}, u[8] = {3, 1.5, 7, 0.25, 1, 1, 1, -2}, y[8];
    for (int i = 0; i < 4; i++) y[i] = (i % 2 ? -1 : 1) * C * x[i] * u[i] * exp(eps[i]);
    y[4] = 0;
    y[5] = 5;
    y[6] = NAN;
    y[7] = 50;
    double c;
    size_t used = 0;
    TU_OK(ntk_log_scale_fit(8, y, u, x, &c, &used));
    assert_int_equal(used, 4);
    /* four logs of O(1) numbers and one exp: a few ulps; 1e-14 relative leaves room */
    TU_ASSERT_LE(fabs(c - C) / C, 1e-14, "log-space scale fit recovers C");
    /* u NULL is u = 1: with u folded into y the same C */
    for (int i = 0; i < 4; i++) y[i] /= u[i];
    TU_OK(ntk_log_scale_fit(4, y, NULL, x, &c, NULL));
    TU_ASSERT_LE(fabs(c - C) / C, 1e-14, "log-space scale fit without u");
    TU_OK(ntk_log_scale_fit(2, (const double[]){0, NAN}, NULL, (const double[]){1, 1}, &c, &used));
    assert_true(isnan(c) && used == 0);
}

static void test_fourier_amplitudes(void **state)
{
    (void)state;
    enum { N = 48, S = 2, KM = 8 };
    const double g0 = -M_PI, a[S][KM + 1] = {{0.7, 1.25, 0, 0.5, 0, 0, 0.01, 0, 0}, {0, 0, 2, 0, 0, 0, 0, 0, 0.3}};
    const double phi[KM + 1] = {0, 0.4, 1.1, -2, 0, 0, 0.9, 0, 2.5};
    double F[S * N], y[N], amp[S * KM];
    /* y: a profile of its own, subtracted from every row: F = y + sum_k a_k cos(k gamma + phi_k) */
    for (int i = 0; i < N; i++) {
        double gam = g0 + 2 * M_PI * i / N;
        y[i] = 3 * sin(2 * gam) + 0.2 * cos(5 * gam);
        for (int s = 0; s < S; s++) {
            F[s * N + i] = y[i];
            for (int k = 0; k <= KM; k++) F[s * N + i] += a[s][k] * cos(k * gam + phi[k]);
        }
    }
    TU_OK(ntk_circle_fourier_amplitudes(S, N, F, y, KM, amp));
    /* by orthogonality on the grid the residual's mode k has amplitude a_k exactly; rounding of the
     * 48-term sums of O(1) cos / sin products: ~1e-15; 1e-13 absolute (an error of a factor 2 in the
     * normalization or a wrong sign in the phase-free sum would be off by >= 0.01) */
    for (int s = 0; s < S; s++)
        for (int k = 1; k <= KM; k++)
            TU_ASSERT_LE(fabs(amp[s * KM + k - 1] - a[s][k]), 1e-13, "Fourier amplitude of a built mode");
    /* without y the subtracted profile's own modes show in row 0 (a[0][2] = a[0][5] = 0): k = 2 with
     * amplitude 3, k = 5 with 0.2 */
    TU_OK(ntk_circle_fourier_amplitudes(1, N, F, NULL, KM, amp));
    TU_ASSERT_LE(fabs(amp[1] - 3), 1e-13, "mode 2 of the unsubtracted row");
    TU_ASSERT_LE(fabs(amp[4] - 0.2), 1e-13, "mode 5 of the unsubtracted row");
    assert_int_equal(ntk_circle_fourier_amplitudes(1, N, F, y, N / 2 + 1, amp), NTK_EINVAL);
    assert_int_equal(ntk_circle_fourier_amplitudes(1, N, F, y, 0, amp), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_beta),
        cmocka_unit_test(test_distinct_values),
        cmocka_unit_test(test_group_means),
        cmocka_unit_test(test_log_scale_fit),
        cmocka_unit_test(test_fourier_amplitudes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
