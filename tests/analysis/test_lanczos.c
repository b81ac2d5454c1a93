/* test_lanczos.c -- the certified Lanczos extremes (src/analysis/lanczos.c) and the tracker's
 * ||K_t - K_0||_2 that uses them, against LAPACK's full eigendecomposition (dsyevd) of the same
 * matrix.
 *
 * Tolerances: a certified pair is within tol * scale of an eigenvalue by its residual (tol = 1e-12
 * in the tracker); the Ritz value's actual error is of order residual^2 / gap, and dsyevd's own error
 * is n eps ||A|| ~ 1e-13 at n = 300, so the comparison allows 1e-12 relative. */
#include "testutil.h"
#include "spectral.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEED 20261202u

/* A = sum_r c_r v_r v_r^T + eps G (G symmetric Gaussian): the shape of a training run's drift, a few
 * dominant directions of either sign over a bulk; A: [n x n]. */
static void drift_like(size_t n, int r, const double *c, double bulk, uint64_t sub, double *A)
{
    double *V = malloc((size_t)r * n * sizeof *V), *G = malloc(n * n * sizeof *G);
    assert_non_null(V);
    assert_non_null(G);
    ntk_rng_normal(SEED, NTK_STREAM_DATA_X, sub, 0, (size_t)r * n, V);
    ntk_rng_normal(SEED, NTK_STREAM_DATA_X, sub + 1000, 0, n * n, G);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = bulk * (G[i * n + j] + G[j * n + i]) / sqrt(2.0 * (double)n);
            for (int q = 0; q < r; q++) s += c[q] * V[(size_t)q * n + i] * V[(size_t)q * n + j] / (double)n;
            A[i * n + j] = A[j * n + i] = s;
        }
    free(V);
    free(G);
}

static void eig_extremes(size_t n, const double *A, double *lo, double *hi)
{
    double *B = malloc(n * n * sizeof *B), *w = malloc(n * sizeof *w);
    assert_non_null(B);
    assert_non_null(w);
    memcpy(B, A, n * n * sizeof *B);
    assert_int_equal(LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, B, (lapack_int)n, w), 0);
    *lo = w[0], *hi = w[n - 1];
    free(B);
    free(w);
}

static int lanczos(size_t n, const double *A, int maxit, double tol, double *lo, double *hi)
{
    double *ws = malloc(spectral_lanczos_lwork(n, maxit) * sizeof *ws);
    lapack_int *iws = malloc(spectral_lanczos_liwork(maxit) * sizeof *iws);
    assert_non_null(ws);
    assert_non_null(iws);
    int ok = spectral_lanczos_extremes(n, A, maxit, tol, ws, iws, lo, hi);
    free(ws);
    free(iws);
    return ok;
}

/* Drift-shaped matrices (dominant of either sign, bulk on top): certified, and equal to dsyevd's. */
static void test_extremes_match_dsyevd(void **state)
{
    (void)state;
    const size_t n = 300;
    const double cpos[] = {5, 2, 1}, cneg[] = {-4, 3, -1}, cmix[] = {3, -3};
    const struct { const double *c; int r; double bulk; } cases[] = {{cpos, 3, 0.01}, {cneg, 3, 0.05}, {cmix, 2, 0.02}};
    double *A = malloc(n * n * sizeof *A);
    assert_non_null(A);
    for (int k = 0; k < 3; k++) {
        drift_like(n, cases[k].r, cases[k].c, cases[k].bulk, (uint64_t)k, A);
        double lo = NAN, hi = NAN, rlo, rhi;
        eig_extremes(n, A, &rlo, &rhi);
        assert_true(lanczos(n, A, 96, 1e-12, &lo, &hi));
        double scale = fmax(fabs(rlo), fabs(rhi));
        TU_ASSERT_LE(fabs(lo - rlo), 1e-12 * scale, "smallest eigenvalue vs dsyevd");
        TU_ASSERT_LE(fabs(hi - rhi), 1e-12 * scale, "largest eigenvalue vs dsyevd");
    }
    free(A);
}

/* A Gaussian (Wigner) matrix has no gap at its edges: with a step budget of 8 the certificate cannot
 * be reached and the function says so (the tracker then reduces the matrix); with the whole space
 * (maxit = n) it is exact. */
static void test_uncertified_and_whole_space(void **state)
{
    (void)state;
    const size_t n = 120;
    const double none[] = {0};
    double *A = malloc(n * n * sizeof *A), lo = 7, hi = 7, rlo, rhi;
    assert_non_null(A);
    drift_like(n, 0, none, 1.0, 9, A);
    eig_extremes(n, A, &rlo, &rhi);
    assert_false(lanczos(n, A, 8, 1e-12, &lo, &hi));
    assert_true(lo == 7 && hi == 7);   /* untouched */
    assert_true(lanczos(n, A, (int)n, 1e-12, &lo, &hi));
    TU_ASSERT_LE(fabs(lo - rlo), 1e-12 * fabs(rlo), "smallest eigenvalue, whole space");
    TU_ASSERT_LE(fabs(hi - rhi), 1e-12 * fabs(rhi), "largest eigenvalue, whole space");
    free(A);
}

/* Rank one: the Krylov space is invariant after two steps, and lambda = {0, c ||v||^2 / n}. */
static void test_rank_one(void **state)
{
    (void)state;
    const size_t n = 100;
    const double c[] = {-2.5};
    double *A = malloc(n * n * sizeof *A), lo, hi, rlo, rhi;
    assert_non_null(A);
    drift_like(n, 1, c, 0.0, 11, A);
    eig_extremes(n, A, &rlo, &rhi);
    assert_true(lanczos(n, A, 96, 1e-12, &lo, &hi));
    TU_ASSERT_LE(fabs(lo - rlo), 1e-12 * fabs(rlo), "the nonzero eigenvalue");
    TU_ASSERT_LE(fabs(hi), 1e-12 * fabs(rlo), "the zero eigenvalue");
    free(A);
}

/* The tracker's drift_op at n = 200 (the Lanczos path) against ntk_rel_op (dsyevd on K_t - K_0). */
static void test_tracker_drift_op(void **state)
{
    (void)state;
    const size_t n = 200;
    const double c0[] = {40, 10, 5, 2}, c1[] = {1.5, -0.8};
    double *K0 = malloc(n * n * sizeof *K0), *Kt = malloc(n * n * sizeof *Kt), *D = malloc(n * n * sizeof *D);
    assert_non_null(K0);
    assert_non_null(Kt);
    assert_non_null(D);
    drift_like(n, 4, c0, 0.0, 20, K0);
    for (size_t i = 0; i < n; i++) K0[i * n + i] += 1.0; /* positive definite */
    ntk_tracker *tr = NULL;
    ntk_tracker_opts o = {5, 1e-3};
    TU_OK(ntk_tracker_alloc(n, K0, 0, NULL, &o, &tr));
    ntk_drift dr;
    TU_OK(ntk_tracker_update(tr, 0, K0, &dr));
    assert_true(dr.drift_op == 0);
    for (int s = 1; s <= 3; s++) {
        drift_like(n, 2, c1, 0.01, 20 + (uint64_t)s, D);
        for (size_t i = 0; i < n * n; i++) Kt[i] = K0[i] + s * D[i];
        double op = NAN;
        TU_OK(ntk_tracker_update(tr, s, Kt, &dr));
        TU_OK(ntk_rel_op(n, Kt, K0, &op));
        TU_ASSERT_LE(fabs(dr.drift_op - op), 1e-12 * op, "drift_op vs ntk_rel_op");
    }
    ntk_tracker_free(tr);
    free(K0);
    free(Kt);
    free(D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extremes_match_dsyevd),
        cmocka_unit_test(test_uncertified_and_whole_space),
        cmocka_unit_test(test_rank_one),
        cmocka_unit_test(test_tracker_drift_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
