/* test_rkhs.c -- the evolving-RKHS diagnostics (src/analysis/rkhs.c) against direct computation in the
 * eigenbasis of a constructed kernel: RKHS norms sum_i (q_i . v)^2 / (lambda_i + ridge) (the
 * library uses a Cholesky solve instead), the effective dimension of a rank-r kernel tends to r as
 * the ridge -> 0, energy shares of vectors inside / orthogonal to the top eigenspace, conditioning. */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 24, R = 7, P = 5 };

/* Q: [N x N] row-major orthogonal (QR of a Gaussian); K = sum_i lam_i q_i q_i^T with q_i = column i. */
static void build(double *Q, const double *lam, double *K)
{
    double tau[N];
    ntk_rng_normal(5, 91, 0, 0, N * N, Q);
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, N, N, Q, N, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, N, N, N, Q, N, tau), 0);
    memset(K, 0, N * N * sizeof *K);
    for (int p = 0; p < N; p++)
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) K[i * N + j] += Q[i * N + p] * lam[p] * Q[j * N + p];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) K[j * N + i] = K[i * N + j];
}

static double coef(const double *Q, int p, const double *v)
{
    double c = 0;
    for (int i = 0; i < N; i++) c += Q[i * N + p] * v[i];
    return c;
}

static void test_against_eigenbasis(void **state)
{
    (void)state;
    double Q[N * N], K[N * N], lam[N], U[N * P], y[N], f[N];
    for (int p = 0; p < N; p++) lam[p] = p < R ? 10.0 * pow(0.5, p) : 0.0; /* rank R, descending */
    build(Q, lam, K);
    for (size_t j = 0; j < P; j++) /* column-major top-P eigenvectors */
        for (size_t i = 0; i < N; i++) U[j * N + i] = Q[i * N + j];
    ntk_rng_normal(5, 92, 0, 0, N, y);
    ntk_rng_normal(5, 93, 0, 0, N, f);
    double ridge = 0.03;
    ntk_rkhs r;
    TU_OK(ntk_rkhs_stats(N, K, lam, P, U, y, f, ridge, &r));
    double ny = 0, nf = 0, ed = 0, ey = 0, yy = 0, er = 0, rr = 0;
    for (int p = 0; p < N; p++) {
        double cy = coef(Q, p, y), cf = coef(Q, p, f), cr = cf - cy;
        ny += cy * cy / (lam[p] + ridge);
        nf += cf * cf / (lam[p] + ridge);
        ed += lam[p] / (lam[p] + ridge);
        yy += cy * cy, rr += cr * cr;
        if (p < P) ey += cy * cy, er += cr * cr;
    }
    /* Cholesky vs eigenbasis: both backward stable, cond(K + ridge I) ~ 3e2, so ~1e-13 */
    TU_ASSERT_LE(fabs(r.norm_y - ny) / ny, 1e-11, "RKHS norm of y");
    TU_ASSERT_LE(fabs(r.norm_f - nf) / nf, 1e-11, "RKHS norm of f");
    TU_ASSERT_LE(fabs(r.eff_dim - ed), 1e-12, "effective dimension");
    TU_ASSERT_LE(fabs(r.energy_y - ey / yy), 1e-12, "target energy in the top eigenspace");
    TU_ASSERT_LE(fabs(r.energy_r - er / rr), 1e-12, "residual energy in the top eigenspace");
    assert_true(r.ridge == ridge);
    assert_true(isinf(r.cond)); /* lambda_min = 0: reported, not clamped */

    /* effective dimension -> rank as the ridge -> 0: R - sum_{i<R} ridge/(lambda_i + ridge) */
    TU_OK(ntk_rkhs_stats(N, K, lam, P, U, y, f, 1e-9, &r));
    TU_ASSERT_LE(fabs(r.eff_dim - R), 1e-6, "effective dimension of a rank-7 kernel at ridge 1e-9");

    /* a target inside the top eigenspace has all its energy there, one orthogonal to it none */
    for (int i = 0; i < N; i++) y[i] = Q[i * N + 1] - 2 * Q[i * N + 3], f[i] = y[i] + Q[i * N + 10];
    TU_OK(ntk_rkhs_stats(N, K, lam, P, U, y, f, ridge, &r));
    TU_ASSERT_LE(fabs(r.energy_y - 1), 1e-12, "target inside the top eigenspace");
    TU_ASSERT_LE(r.energy_r, 1e-24, "residual orthogonal to it");

    /* a full-rank kernel: cond = lambda_max / lambda_min */
    for (int p = 0; p < N; p++) lam[p] = 4.0 / (1 + p);
    build(Q, lam, K);
    TU_OK(ntk_rkhs_stats(N, K, lam, 0, NULL, y, f, ridge, &r));
    TU_ASSERT_LE(fabs(r.cond - N), 1e-12 * N, "condition number");
    assert_true(isnan(r.energy_y)); /* p = 0: no eigenspace to measure against */
}

static void test_validation(void **state)
{
    (void)state;
    double K[4] = {1, 0, 0, -1}, w[2] = {1, -1}, y[2] = {1, 1}, f[2] = {0, 0};
    ntk_rkhs r;
    assert_int_equal(ntk_rkhs_stats(2, K, w, 0, NULL, y, f, 0.0, &r), NTK_EINVAL);
    assert_int_equal(ntk_rkhs_stats(2, K, w, 1, NULL, y, f, 0.1, &r), NTK_EINVAL);
    assert_int_equal(ntk_rkhs_stats(2, K, w, 0, NULL, y, f, 0.1, &r), NTK_ENUMERIC); /* indefinite */
    assert_non_null(strstr(ntk_last_error(), "indefinite"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_eigenbasis),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
