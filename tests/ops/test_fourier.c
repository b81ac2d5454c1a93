/* test_fourier.c -- the Fourier basis and projections (src/ops/fourier.c) and the circulant operator
 * (src/ops/circulant.c) against independent computations:
 *   - Phi^T Phi / n = I on an equispaced grid (the discrete orthogonality of cos and sin, exact up to
 *     rounding: 1e-13 for n = 64, ~100 n eps);
 *   - the coefficients of a trigonometric polynomial written down in closed form;
 *   - the circulant eigenvalues against LAPACK's eigenvalues of the dense n x n matrix (dsyevd error
 *     ~ n eps ||A||: 1e-12), against the direct cosine sum of the sampled kernel with aliasing (1e-13),
 *     and approaching the continuum eigenvalues lambda_k of Theta_bias as n grows (a Riemann sum of a
 *     kernel with a kink at 0: error O(1/n^2), checked to fall by > 10x from n = 256 to 4096);
 *   - the FFT product and projection against the dense product and the direct projection (1e-12:
 *     FFT rounding is ~ eps log n relative);
 *   - a row that is not symmetric is refused with a message naming it. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double theta_bias(double d, void *ctx)
{
    (void)ctx;
    return ntk_circle_theta(d, 1);
}

static void grid(size_t n, double g0, double *g)
{
    for (size_t j = 0; j < n; j++) g[j] = g0 + 2 * M_PI * (double)j / (double)n;
}

static void test_basis_orthonormal(void **state)
{
    (void)state;
    enum { n = 64, K = 10, W = 2 * K + 1 };
    double g[n], *Phi = malloc(n * W * sizeof *Phi);
    grid(n, 0.7, g);
    TU_OK(ntk_fourier_matrix(n, g, K, Phi));
    for (int p = 0; p < W; p++)
        for (int q = 0; q < W; q++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += Phi[i * W + p] * Phi[i * W + q];
            TU_ASSERT_LE(fabs(s / n - (p == q)), 1e-13, "Phi^T Phi / n - I");
        }
    free(Phi);
}

static void test_project_closed_form(void **state)
{
    (void)state;
    enum { n = 50, K = 6 };
    double g[n], r[n], coef[2 * K + 1], plane[K + 1];
    grid(n, -M_PI, g);
    for (int i = 0; i < n; i++) r[i] = 3 + 2 * cos(2 * g[i]) - sin(5 * g[i]) + 0.5 * cos(5 * g[i]);
    TU_OK(ntk_fourier_project(n, g, K, r, coef, plane));
    double want[2 * K + 1] = {0};
    want[0] = 3 * sqrt(n);                    /* <r, 1/sqrt(n)> */
    want[3] = 2 * sqrt(n / 2.0);              /* <r, cos 2g / sqrt(n/2)> */
    want[9] = 0.5 * sqrt(n / 2.0), want[10] = -sqrt(n / 2.0);
    for (int p = 0; p < 2 * K + 1; p++) TU_ASSERT_LE(fabs(coef[p] - want[p]), 1e-12, "coefficient of a trig polynomial");
    TU_ASSERT_LE(fabs(plane[5] - hypot(0.5, 1) * sqrt(n / 2.0)), 1e-12, "plane mass of frequency 5");
    TU_ASSERT_LE(fabs(plane[1]), 1e-12, "absent frequency");
    /* on a grid of n = 2K the sin column of frequency K vanishes: coefficient 0, not 0/0 */
    enum { n2 = 12, K2 = 6 };
    double g2[n2], r2[n2], c2[2 * K2 + 1];
    grid(n2, 0, g2);
    for (int i = 0; i < n2; i++) r2[i] = cos(6 * g2[i]);
    TU_OK(ntk_fourier_project(n2, g2, K2, r2, c2, NULL));
    assert_true(c2[2 * K2] == 0);
    TU_ASSERT_LE(fabs(c2[2 * K2 - 1] - sqrt(n2)), 1e-12, "Nyquist cos coefficient");
}

static void test_circulant_eigenvalues(void **state)
{
    (void)state;
    enum { n = 48 };
    double row[n], mu[n], w[n], *A = malloc(n * n * sizeof *A);
    TU_OK(ntk_circulant_row(n, theta_bias, NULL, row));
    ntk_circulant *C;
    TU_OK(ntk_circulant_create(n, row, &C));
    assert_int_equal(ntk_circulant_size(C), n);
    TU_OK(ntk_circulant_eigenvalues(C, mu));
    for (int m = 0; m < n; m++) { /* the direct sum: the DFT of the sampled kernel, aliasing included */
        double s = 0;
        for (int j = 0; j < n; j++) s += row[j] * cos(2 * M_PI * j * m / n);
        TU_ASSERT_LE(fabs(mu[m] - s / n), 1e-13, "mu against the cosine sum");
    }
    for (int i = 0; i < n; i++) /* the dense circulant A_ij = Theta(g_i - g_j) / n */
        for (int j = 0; j < n; j++) A[i * n + j] = row[(j - i + n) % n] / n;
    TU_OK(ntk_eigh(n, A, w, NULL));
    double sorted[n];
    memcpy(sorted, mu, sizeof sorted);
    for (int i = 0; i < n; i++) /* descending, as ntk_eigh */
        for (int j = i + 1; j < n; j++)
            if (sorted[j] > sorted[i]) {
                double t = sorted[i];
                sorted[i] = sorted[j], sorted[j] = t;
            }
    TU_ASSERT_LE(tu_rel_max(n, sorted, w), 1e-12, "FFT eigenvalues against dsyevd");
    /* the FFT product against the dense one */
    double x[n], y[n], yd[n];
    for (int i = 0; i < n; i++) x[i] = sin(0.3 * i * i) + 0.1 * i;
    TU_OK(ntk_circulant_apply(C, x, y));
    for (int i = 0; i < n; i++) {
        yd[i] = 0;
        for (int j = 0; j < n; j++) yd[i] += A[i * n + j] * x[j];
    }
    TU_ASSERT_LE(tu_rel_max(n, y, yd), 1e-12, "FFT product against the dense one");
    /* the FFT projection against the direct one, with a grid offset */
    double g[n], cf[2 * 20 + 1], cd[2 * 20 + 1], pf[21], pd[21];
    grid(n, 0.4, g);
    TU_OK(ntk_circulant_project(C, 0.4, 20, x, cf, pf));
    TU_OK(ntk_fourier_project(n, g, 20, x, cd, pd));
    TU_ASSERT_LE(tu_rel_max(41, cf, cd), 1e-12, "FFT projection against the direct one");
    TU_ASSERT_LE(tu_rel_max(21, pf, pd), 1e-12, "FFT planes against the direct ones");
    assert_int_equal(ntk_circulant_project(C, 0, 25, x, cf, NULL), NTK_EINVAL); /* K > n/2 */
    ntk_circulant_free(C);
    free(A);
}

static void test_circulant_continuum(void **state)
{
    (void)state;
    double err[2];
    size_t ns[2] = {256, 4096};
    for (int t = 0; t < 2; t++) {
        size_t n = ns[t];
        double *row = malloc(n * sizeof *row), *mu = malloc(n * sizeof *mu);
        ntk_circulant *C;
        TU_OK(ntk_circulant_row(n, theta_bias, NULL, row));
        TU_OK(ntk_circulant_create(n, row, &C));
        TU_OK(ntk_circulant_eigenvalues(C, mu));
        err[t] = 0;
        for (int k = 0; k < 8; k++) err[t] = fmax(err[t], fabs(mu[k] - ntk_circle_eigenvalue_closed(k, 1)));
        ntk_circulant_free(C);
        free(row), free(mu);
    }
    TU_ASSERT_LE(err[1], 1e-5, "mu_k against lambda_k at n = 4096");
    TU_ASSERT_LE(err[1] * 10, err[0], "mu_k approaches lambda_k as n grows");
}

static void test_circulant_refuses(void **state)
{
    (void)state;
    double row[8] = {1, 0.5, 0.2, 0.1, 0.05, 0.1, 0.2, 0.6}; /* row[1] != row[7] */
    ntk_circulant *C = (ntk_circulant *)&row;
    assert_int_equal(ntk_circulant_create(8, row, &C), NTK_EINVAL);
    assert_null(C);
    assert_non_null(strstr(ntk_last_error(), "not symmetric"));
    row[7] = NAN;
    assert_int_equal(ntk_circulant_create(8, row, &C), NTK_EINVAL);
    assert_int_equal(ntk_circulant_create(1, row, &C), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basis_orthonormal),
        cmocka_unit_test(test_project_closed_form),
        cmocka_unit_test(test_circulant_eigenvalues),
        cmocka_unit_test(test_circulant_continuum),
        cmocka_unit_test(test_circulant_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
