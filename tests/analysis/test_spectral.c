/* test_spectral.c -- the analysis section: kernel distance, centred alignment,
 * eigendecomposition, operator-norm drift, principal angles, kernel ridge
 * regression, freeze time and the drift tracker, each against an identity or
 * an independent computation done here (explicit H matrices, a constructed
 * spectrum, dgesv, the power method, a known rotation).
 *
 * Tolerances: "n eps" below means n * 2.2e-16 for the matrix side n used. */
#include "testutil.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { NMAX = 32 };
#define SEED 20240611u

static void gauss(uint64_t sub, size_t count, double *out) { ntk_rng_normal(SEED, NTK_STREAM_DATA_X, sub, 0, count, out); }

/* Q: [n x n] random orthogonal (QR of a Gaussian matrix). */
static void rand_orth(uint64_t sub, int n, double *Q)
{
    double tau[NMAX];
    gauss(sub, (size_t)n * (size_t)n, Q);
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, n, n, Q, n, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, n, n, n, Q, n, tau), 0);
}

/* K = Q diag(d) Q^T; Q: [n x n], d: [n], K: [n x n]. */
static void from_spectrum(int n, const double *Q, const double *d, double *K)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < n; l++) s += Q[i * n + l] * d[l] * Q[j * n + l];
            K[i * n + j] = s;
        }
}

/* K = G G^T, G: [n x r] Gaussian; K: [n x n]. */
static void rand_psd(uint64_t sub, int n, int r, double *K)
{
    double G[NMAX * NMAX];
    gauss(sub, (size_t)n * (size_t)r, G);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, r, 1.0, G, r, G, r, 0.0, K, n);
}

/* U: [n x p] = columns c0 .. c0+p-1 of Q: [n x n]. */
static void columns(int n, const double *Q, int c0, int p, double *U)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++) U[i * p + j] = Q[i * n + c0 + j];
}

static void expect_error(ntk_status got, ntk_status want, const char *needle)
{
    if (got != want || !strstr(ntk_last_error(), needle))
        fail_msg("got %s '%s', wanted %s mentioning '%s'", ntk_status_str(got), ntk_last_error(),
                 ntk_status_str(want), needle);
}

/* ----------------------------------------------------------- comparisons */

/* Exact cases; 1e-15 allows the two roundings of a quotient of O(1) numbers. */
static void test_rel_fro(void **state)
{
    (void)state;
    double A[2] = {3, 5}, B[2] = {3, 4}, Z[2] = {0, 0};
    assert_true(fabs(ntk_rel_fro(2, A, B) - 0.2) < 1e-15);
    assert_true(ntk_rel_fro(2, B, B) == 0);
    assert_true(ntk_rel_fro(2, Z, Z) == 0);
    assert_true(isinf(ntk_rel_fro(2, A, Z)));
}

/* S(K, cK) = 0: S is computed as ||A/|A| - B/|B| ||^2 / 2, whose rounding error for
 * parallel arguments is O(eps^2) per entry, so 1e-24 holds (1 - cos would give ~1e-16). */
static void test_distance_scale_invariant(void **state)
{
    (void)state;
    enum { n = 20 }; /* constants: no sign conversion where they meet size_t */
    double K[NMAX * NMAX], cK[NMAX * NMAX], cs[] = {1e-3, 1.0, 7.5, 1e6};
    rand_psd(1, n, 5, K);
    for (int c = 0; c < 4; c++) {
        for (int i = 0; i < n * n; i++) cK[i] = cs[c] * K[i];
        TU_ASSERT_LE(fabs(ntk_kernel_distance((size_t)n * (size_t)n, K, cK)), 1e-24, "S(K, cK)");
    }
    double Z[4] = {0};
    assert_true(ntk_kernel_distance(4, Z, Z) == 0);
}

/* Random PSD pairs: 0 <= S <= 1 (the inner product of PSD matrices is >= 0) and S is
 * symmetric; swapping negates every term before squaring, so 1e-16 (an ulp of S) suffices. */
static void test_distance_range_symmetry(void **state)
{
    (void)state;
    enum { n = 15 }; /* constants: no sign conversion where they meet size_t */
    double A[NMAX * NMAX], B[NMAX * NMAX];
    for (int trial = 0; trial < 20; trial++) {
        rand_psd(100 + (uint64_t)trial, n, 1 + trial % 7, A);
        rand_psd(200 + (uint64_t)trial, n, 1 + trial % 4, B);
        size_t nn = (size_t)n * (size_t)n;
        double s = ntk_kernel_distance(nn, A, B), r = ntk_kernel_distance(nn, B, A);
        assert_true(s >= 0 && s <= 1);
        TU_ASSERT_LE(fabs(s - r), 1e-16, "S(A,B) - S(B,A)");
    }
}

/* Orthogonal PSD kernels (disjoint supports, and u u^T vs v v^T with u . v = 0):
 * S = 1; 1e-15 is a few roundings of O(1) terms. */
static void test_distance_orthogonal(void **state)
{
    (void)state;
    enum { n = 6 }; /* constants: no sign conversion where they meet size_t */
    double A[36] = {0}, B[36] = {0}, Q[36], P[9], u[6], v[6];
    rand_psd(3, 3, 2, P); /* A's top-left 3 x 3 block PSD, the rest 0 */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) A[i * n + j] = P[i * 3 + j] + (i == j);
    B[4 * n + 4] = 2;
    B[5 * n + 5] = 1;
    TU_ASSERT_LE(fabs(ntk_kernel_distance(36, A, B) - 1), 1e-15, "S of disjoint PSD kernels");
    rand_orth(4, n, Q);
    for (int i = 0; i < n; i++) {
        u[i] = Q[i * n + 0];
        v[i] = Q[i * n + 1];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i * n + j] = u[i] * u[j];
            B[i * n + j] = 3 * v[i] * v[j];
        }
    TU_ASSERT_LE(fabs(ntk_kernel_distance(36, A, B) - 1), 1e-15, "S(u u^T, v v^T), u . v = 0");
}

/* Near-parallel kernels: B = A + h D with <D, A> = 0, ||D|| = ||A|| gives
 * S = 1 - (1 + h^2)^(-1/2) exactly.  For h = 1e-6 the inputs carry relative error
 * eps / h = 2e-10 in their h D part, hence 1e-8 relative; 1 - cos would be off by
 * eps / S = 4e-4. */
static void test_distance_small_accurate(void **state)
{
    (void)state;
    enum { n = 10 }; /* constants: no sign conversion where they meet size_t */
    double A[100], D[100], B[100];
    rand_psd(5, n, 4, A);
    gauss(6, 100, D);
    double ad = 0, aa = 0, dd = 0;
    for (int i = 0; i < 100; i++) ad += A[i] * D[i], aa += A[i] * A[i];
    for (int i = 0; i < 100; i++) D[i] -= ad / aa * A[i], dd += D[i] * D[i];
    for (double h = 1e-6; h < 1; h *= 100) {
        for (int i = 0; i < 100; i++) B[i] = A[i] + h * sqrt(aa / dd) * D[i];
        double want = -expm1(-0.5 * log1p(h * h));
        TU_ASSERT_LE(fabs(ntk_kernel_distance(100, A, B) / want - 1), 1e-8, "small S, relative");
    }
}

/* ------------------------------------------------------------- alignment */

/* Direct formula with explicit H = I - 11^T/n, HKH and H Y Y^T H by GEMM.  Both sides
 * are O(n) sums of well-scaled products: agreement to 1e-12 (n eps = 7e-15). */
static double alignment_direct(int n, const double *K, int k, const double *Y)
{
    double H[NMAX * NMAX], T[NMAX * NMAX], HKH[NMAX * NMAX], YY[NMAX * NMAX], HYH[NMAX * NMAX];
    for (int i = 0; i < n * n; i++) H[i] = (i / n == i % n) - 1.0 / n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, H, n, K, n, 0, T, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, T, n, H, n, 0, HKH, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, k, 1, Y, k, Y, k, 0, YY, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, H, n, YY, n, 0, T, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, T, n, H, n, 0, HYH, n);
    double ip = 0, a = 0, b = 0;
    for (int i = 0; i < n * n; i++) ip += HKH[i] * HYH[i], a += HKH[i] * HKH[i], b += HYH[i] * HYH[i];
    return ip / sqrt(a * b);
}

static void test_alignment(void **state)
{
    (void)state;
    enum { n = 30, k = 3 }; /* constants: no sign conversion where they meet size_t */
    double K[NMAX * NMAX], Y[NMAX * 3], Ks[NMAX * NMAX], got = 0, shifted = 0;
    rand_psd(7, n, 8, K);
    gauss(8, (size_t)n * (size_t)k, Y);
    TU_OK(ntk_alignment_centered(n, K, k, Y, &got));
    TU_ASSERT_LE(fabs(got - alignment_direct(n, K, k, Y)), 1e-12, "alignment vs explicit H");
    /* K + c 11^T with c = 100 max|K|: centring cancels entries of size c, leaving
     * absolute error ~eps c per entry, ~1e-13 relative to ||HKH||; bound 1e-11. */
    double c = 0;
    for (int i = 0; i < n * n; i++) c = fmax(c, 100 * fabs(K[i]));
    for (int i = 0; i < n * n; i++) Ks[i] = K[i] + c;
    TU_OK(ntk_alignment_centered(n, Ks, k, Y, &shifted));
    TU_ASSERT_LE(fabs(shifted - got), 1e-11, "alignment under K + c 11^T");
    /* K = Y Y^T: HKH = H Y Y^T H exactly, alignment 1 up to O(n) roundings. */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, k, 1, Y, k, Y, k, 0, Ks, n);
    TU_OK(ntk_alignment_centered(n, Ks, k, Y, &got));
    TU_ASSERT_LE(fabs(got - 1), 1e-13, "alignment of Y Y^T");
    for (int i = 0; i < n * k; i++) Y[i] = i % k;   /* every column constant */
    expect_error(ntk_alignment_centered(n, K, k, Y, &got), NTK_EINVAL, "centred targets");
    expect_error(ntk_alignment_centered(n, K, 0, Y, &got), NTK_EINVAL, "k must be");
}

/* ------------------------------------------------------------ eigh, rel_op */

/* Random symmetric A: residual ||A V - V diag(w)||_F / ||A||_F and ||V^T V - I||_max
 * are O(n eps) = 7e-15 for a backward-stable solver; bound 1e-12.  The values-only
 * path (dsterf instead of divide and conquer) agrees to the same order. */
static void test_eigh(void **state)
{
    (void)state;
    enum { n = 30 }; /* constants: no sign conversion where they meet size_t */
    double A[NMAX * NMAX], V[NMAX * NMAX], AV[NMAX * NMAX], w[NMAX], w2[NMAX], anorm = 0;
    gauss(9, (size_t)n * (size_t)n, A);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j] + A[j * n + i]);
    for (int i = 0; i < n * n; i++) anorm += A[i] * A[i];
    anorm = sqrt(anorm);
    TU_OK(ntk_eigh(n, A, w, V));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A, n, V, n, 0, AV, n);
    double res = 0, orth = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double r = AV[i * n + j] - V[i * n + j] * w[j], g = 0;
            res += r * r;
            for (int l = 0; l < n; l++) g += V[l * n + i] * V[l * n + j];
            orth = fmax(orth, fabs(g - (i == j)));
        }
    TU_ASSERT_LE(sqrt(res) / anorm, 1e-12, "eigh residual");
    TU_ASSERT_LE(orth, 1e-12, "eigh orthonormality");
    for (int i = 0; i + 1 < n; i++) assert_true(w[i] >= w[i + 1]);
    TU_OK(ntk_eigh(n, A, w2, NULL));
    for (int i = 0; i < n; i++) TU_ASSERT_LE(fabs(w2[i] - w[i]), 1e-12 * anorm, "values-only eigh");
    expect_error(ntk_eigh(0, A, w, V), NTK_EINVAL, "n must be");
    A[3 * n + 4] = NAN;
    expect_error(ntk_eigh(n, A, w, V), NTK_ENUMERIC, "K[3, 4]");
}

/* A known spectrum with a repeated eigenvalue: by Weyl the computed values are within
 * ||E||_2 ~ n eps ||A|| (~1e-14 here) of the true ones; bound 1e-12. */
static void test_eigh_known_spectrum(void **state)
{
    (void)state;
    enum { n = 8 }; /* constants: no sign conversion where they meet size_t */
    double Q[64], K[64], w[8], d[8] = {-3, 2, 5, 0.5, 2, -0.25, 1e-3, 4}, want[8] = {5, 4, 2, 2, 0.5, 1e-3, -0.25, -3};
    rand_orth(10, n, Q);
    from_spectrum(n, Q, d, K);
    TU_OK(ntk_eigh(n, K, w, NULL));
    for (int i = 0; i < n; i++) TU_ASSERT_LE(fabs(w[i] - want[i]), 1e-12, "eigenvalue of a known spectrum");
}

/* A = Q diag(a) Q^T, B = Q diag(b) Q^T: ||A - B||_2 / ||B||_2 = max|a - b| / max|b|
 * exactly; errors ~n eps max|b| on O(1) quantities, bound 1e-12. */
static void test_rel_op_known(void **state)
{
    (void)state;
    enum { n = 8 }; /* constants: no sign conversion where they meet size_t */
    double Q[64], A[64], B[64], out = 0;
    double a[8] = {4, 3, -1, 0.5, 2, 0, 1, 1}, b[8] = {4.5, 1, -2, 0.5, 2.2, 0.1, 1, 0.9};
    rand_orth(11, n, Q);
    from_spectrum(n, Q, a, A);
    from_spectrum(n, Q, b, B);
    TU_OK(ntk_rel_op(n, A, B, &out));
    TU_ASSERT_LE(fabs(out - 2.0 / 4.5), 1e-12, "rel_op of a known spectrum");
    TU_OK(ntk_rel_op(n, B, B, &out));
    assert_true(out == 0);
}

/* Power method (x <- M x, 500 steps, Rayleigh quotient) on PSD A - B and on B.  The
 * ratio of the two leading eigenvalues is <= 0.9 here, so the quotient converges to
 * ~0.9^1000; 1e-10 bounds the rounding of 500 products. */
static double power_norm(int n, const double *M)
{
    double x[NMAX], y[NMAX], q = 0;
    for (int i = 0; i < n; i++) x[i] = 1.0 + 0.1 * i;
    for (int it = 0; it < 500; it++) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1, M, n, x, 1, 0, y, 1);
        q = cblas_ddot(n, x, 1, y, 1) / cblas_ddot(n, x, 1, x, 1);
        double s = cblas_dnrm2(n, y, 1);
        for (int i = 0; i < n; i++) x[i] = y[i] / s;
    }
    return q;
}

static void test_rel_op_power(void **state)
{
    (void)state;
    enum { n = 12 }; /* constants: no sign conversion where they meet size_t */
    double B[144], D[144], A[144], G[36], out = 0;
    rand_psd(12, n, n, B);
    gauss(13, 36, G);
    for (int i = 0; i < n; i++) G[i * 3 + 1] *= 0.5, G[i * 3 + 2] *= 0.25;  /* separate D's eigenvalues */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, 3, 1, G, 3, G, 3, 0, D, n);
    for (int i = 0; i < 144; i++) A[i] = B[i] + D[i];
    TU_OK(ntk_rel_op(n, A, B, &out));
    TU_ASSERT_LE(fabs(out / (power_norm(n, D) / power_norm(n, B)) - 1), 1e-10, "rel_op vs power method");
}


/* ---------------------------------------------------------------- angles */

/* Identical subspaces: 0.  acos of a cosine rounded to 1 - eps would give ~1e-8
 * (half the digits); the sine branch measures ||(I - U U^T) U|| ~ eps, so 1e-12. */
static void test_angles_identical_and_orthogonal(void **state)
{
    (void)state;
    enum { n = 10, p = 4 }; /* constants: no sign conversion where they meet size_t */
    double Q[100], U[40], V[40], ang[4];
    rand_orth(14, n, Q);
    columns(n, Q, 0, p, U);
    TU_OK(ntk_principal_angles(n, p, U, U, ang));
    for (int i = 0; i < p; i++) TU_ASSERT_LE(ang[i], 1e-12, "angle of identical subspaces");
    /* Orthogonal: the cosines are ~eps and acos is well conditioned there. */
    columns(n, Q, p, p, V);
    TU_OK(ntk_principal_angles(n, p, U, V, ang));
    for (int i = 0; i < p; i++) TU_ASSERT_LE(fabs(ang[i] - M_PI / 2), 1e-12, "angle of orthogonal subspaces");
    expect_error(ntk_principal_angles(n, 0, U, V, ang), NTK_EINVAL, "p must be");
    expect_error(ntk_principal_angles(3, p, U, V, ang), NTK_EINVAL, "exceeds n");
}

/* span{q1, q2} vs span{q1, cos t q2 + sin t q3} (q = columns of a random orthogonal
 * Q): angles {0, t}.  Inputs are orthonormal to ~n eps, the sine branch is accurate
 * to O(eps) absolute at every t, so 1e-13 absolute even at t = 1e-8 (acos alone would
 * err by up to 1.5e-8 there).  Projector distance against ||U U^T - V V^T||_F formed
 * directly: that difference cancels to size t, so its relative error is ~n eps / t;
 * compared for t >= 1e-4 at 1e-10. */
static void test_angles_rotation(void **state)
{
    (void)state;
    enum { n = 6, p = 2 }; /* constants: no sign conversion where they meet size_t */
    double Q[36], U[12], V[12], ang[2], ts[] = {1e-8, 1e-6, 1e-4, 0.01, 0.3, 0.78, M_PI / 4, 0.8, 1.2, 1.5};
    rand_orth(15, n, Q);
    columns(n, Q, 0, p, U);
    for (size_t c = 0; c < sizeof ts / sizeof *ts; c++) {
        double t = ts[c];
        for (int i = 0; i < n; i++) {
            V[i * p] = Q[i * n];
            V[i * p + 1] = cos(t) * Q[i * n + 1] + sin(t) * Q[i * n + 2];
        }
        TU_OK(ntk_principal_angles(n, p, U, V, ang));
        TU_ASSERT_LE(ang[0], 1e-13, "shared direction");
        TU_ASSERT_LE(fabs(ang[1] - t), 1e-13, "rotation angle");
        if (t < 1e-4) continue;
        double PU[36], PV[36], diff = 0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, p, 1, U, p, U, p, 0, PU, n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, p, 1, V, p, V, p, 0, PV, n);
        for (int i = 0; i < n * n; i++) diff += (PU[i] - PV[i]) * (PU[i] - PV[i]);
        TU_ASSERT_LE(fabs(ntk_projector_distance(p, ang) / sqrt(diff) - 1), 1e-10, "projector distance");
    }
}

/* Random subspaces (angles far from 0): ascending, in [0, pi/2], and the projector
 * distance matches the direct ||U U^T - V V^T||_F to O(n eps); bound 1e-12. */
static void test_angles_random(void **state)
{
    (void)state;
    enum { n = 12, p = 3 }; /* constants: no sign conversion where they meet size_t */
    double Q1[144], Q2[144], U[36], V[36], PU[144], PV[144], ang[3], diff = 0;
    rand_orth(16, n, Q1);
    rand_orth(17, n, Q2);
    columns(n, Q1, 0, p, U);
    columns(n, Q2, 0, p, V);
    TU_OK(ntk_principal_angles(n, p, U, V, ang));
    for (int i = 0; i < p; i++) assert_true(ang[i] >= 0 && ang[i] <= M_PI / 2 && (i == 0 || ang[i] >= ang[i - 1]));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, p, 1, U, p, U, p, 0, PU, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, p, 1, V, p, V, p, 0, PV, n);
    for (int i = 0; i < n * n; i++) diff += (PU[i] - PV[i]) * (PU[i] - PV[i]);
    TU_ASSERT_LE(fabs(ntk_projector_distance(p, ang) / sqrt(diff) - 1), 1e-12, "projector distance");
}

/* -------------------------------------------------------------------- krr */

/* K = Q diag(d) Q^T with d in [1, 100]: cond(K + ridge I) <= 100, so two backward-
 * stable solvers (Cholesky here, LU with pivoting in dgesv) agree to ~cond n eps =
 * 1e-12; bound 1e-10. */
static void well_conditioned(uint64_t sub, int n, double *K)
{
    double Q[NMAX * NMAX], d[NMAX];
    rand_orth(sub, n, Q);
    for (int i = 0; i < n; i++) d[i] = pow(100.0, (double)i / (n - 1));
    from_spectrum(n, Q, d, K);
}

static void test_krr_vs_gesv(void **state)
{
    (void)state;
    enum { n = 25, k = 2, m = 7 }; /* constants: no sign conversion where they meet size_t */
    const double ridge = 0.5;
    double K[NMAX * NMAX], A[NMAX * NMAX], Y[NMAX * 2], X[NMAX * 2], Kxe[7 * NMAX], pred[14], alpha[NMAX * 2],
        ref[14];
    lapack_int ipiv[NMAX];
    well_conditioned(18, n, K);
    gauss(19, (size_t)n * (size_t)k, Y);
    gauss(20, (size_t)m * (size_t)n, Kxe);
    TU_OK(ntk_krr(n, K, k, Y, ridge, m, Kxe, pred, alpha));
    memcpy(A, K, sizeof(double) * (size_t)n * (size_t)n);
    for (int i = 0; i < n; i++) A[i * n + i] += ridge;
    memcpy(X, Y, sizeof(double) * (size_t)n * (size_t)k);
    assert_int_equal(LAPACKE_dgesv(LAPACK_ROW_MAJOR, n, k, A, n, ipiv, X, k), 0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, n, 1, Kxe, n, X, k, 0, ref, k);
    TU_ASSERT_LE(tu_rel_fro((size_t)n * (size_t)k, alpha, X), 1e-10, "krr alpha vs dgesv");
    TU_ASSERT_LE(tu_rel_fro((size_t)m * (size_t)k, pred, ref), 1e-10, "krr pred vs dgesv");
    /* m = 0: no evaluation kernel or predictions needed. */
    double alpha0[NMAX * 2];
    TU_OK(ntk_krr(n, K, k, Y, ridge, 0, NULL, NULL, alpha0));
    TU_ASSERT_LE(tu_rel_fro((size_t)n * (size_t)k, alpha0, X), 1e-10, "krr alpha, m = 0");
}

/* ridge -> 0 on the training points (Kxe = K): pred = K (K + r I)^{-1} Y -> Y; with
 * cond(K) = 100 the error is ~cond n eps + r |alpha| <= 1e-11 for r <= 1e-12; bound 1e-10. */
static void test_krr_interpolates(void **state)
{
    (void)state;
    enum { n = 20 }; /* constants: no sign conversion where they meet size_t */
    double K[NMAX * NMAX], Y[NMAX], pred[NMAX], ridges[] = {0, 1e-12};
    well_conditioned(21, n, K);
    gauss(22, n, Y);
    for (int r = 0; r < 2; r++) {
        TU_OK(ntk_krr(n, K, 1, Y, ridges[r], n, K, pred, NULL));
        TU_ASSERT_LE(tu_rel_fro(n, pred, Y), 1e-10, "krr interpolation");
    }
}

static void test_krr_failures(void **state)
{
    (void)state;
    enum { n = 8 }; /* constants: no sign conversion where they meet size_t */
    double Q[64], K[64], Y[8], pred[8], d[8] = {1, 2, -0.5, 3, 1, 1, 2, 4};
    rand_orth(23, n, Q);
    from_spectrum(n, Q, d, K);
    gauss(24, n, Y);
    expect_error(ntk_krr(n, K, 1, Y, 0.0, 0, NULL, NULL, pred), NTK_ENUMERIC, "ridge");
    TU_OK(ntk_krr(n, K, 1, Y, 1.0, 0, NULL, NULL, pred));   /* eigenvalues shifted to >= 0.5 */
    rand_psd(25, n, 3, K);                                  /* rank 3: singular */
    expect_error(ntk_krr(n, K, 1, Y, 0.0, 0, NULL, NULL, pred), NTK_ENUMERIC, "ridge");
    /* Positive definite but singular to working precision: Cholesky succeeds on this
     * diagonal, the condition estimate (1e-17) rejects it. */
    memset(K, 0, sizeof K);
    for (int i = 0; i < n; i++) K[i * n + i] = i == 2 ? 1e-17 : 1.0 + i;
    expect_error(ntk_krr(n, K, 1, Y, 0.0, 0, NULL, NULL, pred), NTK_ENUMERIC, "singular to working precision");
    TU_OK(ntk_krr(n, K, 1, Y, 1e-3, 0, NULL, NULL, pred));
    expect_error(ntk_krr(n, K, 1, Y, -1.0, 0, NULL, NULL, pred), NTK_EINVAL, "ridge must be");
    expect_error(ntk_krr(n, K, 1, Y, NAN, 0, NULL, NULL, pred), NTK_EINVAL, "ridge must be");
    expect_error(ntk_krr(n, K, 0, Y, 1.0, 0, NULL, NULL, pred), NTK_EINVAL, "k must be");
    expect_error(ntk_krr(0, K, 1, Y, 1.0, 0, NULL, NULL, pred), NTK_EINVAL, "n must be");
    expect_error(ntk_krr(n, K, 1, Y, 1.0, 3, NULL, pred, NULL), NTK_EINVAL, "Kxe");
}

/* ------------------------------------------------------------ freeze time */

/* Exact by construction: slopes are 1 while growing and 0 once flat.  The slope s(t_j) belongs
 * to the end t_j of its interval [t_{j-2}, t_j], so the reported step is the first snapshot whose
 * preceding interval is flat (the old definition reported the start of that window). */
static void test_freeze_time(void **state)
{
    (void)state;
    enum { S = 30 };
    double t[S], d[S];
    for (int s = 0; s < S; s++) t[s] = s, d[s] = fmin(s, 10.0);
    /* s(t_11) = (10 - 9) / 2 = 0.5 is not small; s(t_12) = s(t_13) = s(t_14) = 0 */
    assert_true(ntk_freeze_time(S, t, d, 0.01, 3, 2) == 12.0);
    for (int s = 0; s < S; s++) t[s] = 0.1 * s * s, d[s] = fmin(t[s], t[12]);   /* uneven grid */
    assert_true(ntk_freeze_time(S, t, d, 0.01, 3, 2) == t[14]);
    for (int s = 0; s < S; s++) d[s] = 2 * t[s];                                /* never freezes */
    assert_true(isnan(ntk_freeze_time(S, t, d, 0.01, 3, 2)));
    /* Increments 1 1 1 0 0 1 1 0 0 0 ...: a pause of two is not a freeze for kcons 3. */
    double inc[S] = {1, 1, 1, 0, 0, 1, 1};
    d[0] = 0;
    for (int s = 1; s < S; s++) t[s] = s, d[s] = d[s - 1] + inc[s - 1];
    assert_true(ntk_freeze_time(S, t, d, 0.01, 3, 1) == 8.0);
    assert_true(ntk_freeze_time(S, t, d, 0.01, 2, 1) == 4.0);
    assert_true(isnan(ntk_freeze_time(4, t, d, 0.01, 3, 2)));                 /* 2 slopes < kcons */
    for (int s = 0; s < S; s++) d[s] = 5;                                       /* flat start */
    assert_true(isnan(ntk_freeze_time(S, t, d, 0.01, 3, 2)));
    /* A falling drift is moving, not frozen: |s| is compared, so it freezes only once flat
     * (the signed test read every falling slope as "below eps s0"). */
    for (int s = 0; s < S; s++) t[s] = s, d[s] = fmin(s, 6.0) - fmax(0.0, fmin(s - 6.0, 8.0));
    /* up 0..6, down 6..14 at slope -1, flat from 14: s(t_16) is the first zero slope */
    assert_true(ntk_freeze_time(S, t, d, 0.01, 3, 2) == 16.0);
    for (int s = 0; s < S; s++) d[s] = -fmin(s, 10.0);                          /* falling from the start */
    assert_true(ntk_freeze_time(S, t, d, 0.01, 3, 2) == 12.0);
    assert_true(isnan(ntk_freeze_time(S, t, d, 0.01, 0, 2)));
    assert_true(isnan(ntk_freeze_time(S, t, d, 0, 3, 2)));
    t[5] = t[4];
    assert_true(isnan(ntk_freeze_time(S, t, d, 0.01, 3, 2)));
}

/* Percentiles against numpy.percentile (linear rule) of the same values, computed with numpy:
 * [1, 1, 3.5, 6.9, 9] at 0, 10, 50, 90, 100% of {3, 1, 4, 1, 5, 9, 2, 6}; the interpolation
 * is one multiply-add of small integers, so 1e-15 is rounding only. */
static void test_percentiles(void **state)
{
    (void)state;
    const double v[9] = {3, 1, 4, 1, NAN, 5, 9, 2, 6}, q[5] = {0, 0.1, 0.5, 0.9, 1};
    const double ref[5] = {1, 1, 3.5, 6.9, 9};
    double out[5];
    TU_OK(ntk_percentiles(9, v, 5, q, out)); /* the NaN is left out */
    for (int j = 0; j < 5; j++) TU_ASSERT_LE(fabs(out[j] - ref[j]), 1e-15, "percentile");
    TU_OK(ntk_percentiles(1, v, 2, q + 1, out));
    assert_true(out[0] == 3 && out[1] == 3);
    TU_OK(ntk_percentiles(1, v + 4, 1, q, out));
    assert_true(isnan(out[0]));
    double bad = 1.5;
    assert_int_equal(ntk_percentiles(9, v, 1, &bad, out), NTK_EINVAL);
}

/* The kernel summary of K = a I + b 11^T (n x n), whose numbers are closed forms: trace n (a + b),
 * ||K||_F^2 = n (a + b)^2 + n (n - 1) b^2, entries in [b, a + b], eigenvalues a + n b (once) and a;
 * 1e-12 relative is rounding of n^2 = 400 terms and of dsyevd.  Row blocks give the same bits. */
static void test_kernel_summary(void **state)
{
    (void)state;
    enum { n = 20 };
    const double a = 0.5, b = 0.25;
    double K[n * n];
    float Kf[n * n];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) K[i * n + j] = b + (i == j ? a : 0), Kf[i * n + j] = (float)K[i * n + j];
    ntk_kernel_summary s, r;
    TU_OK(ntk_kernel_summarize(n, NTK_F64, K, n, &s));
    TU_ASSERT_LE(fabs(s.trace - n * (a + b)), 1e-12 * n, "trace");
    TU_ASSERT_LE(fabs(s.fro - sqrt(n * (a + b) * (a + b) + n * (n - 1.0) * b * b)), 1e-12 * s.fro, "fro");
    assert_true(s.min_entry == b && s.max_entry == a + b);
    TU_ASSERT_LE(fabs(s.mean_diag - (a + b)), 1e-12, "mean diagonal");
    assert_true(s.have_eig);
    TU_ASSERT_LE(fabs(s.lambda_max - (a + n * b)), 1e-12 * (a + n * b), "lambda_max");
    TU_ASSERT_LE(fabs(s.lambda_min - a), 1e-12 * (a + n * b), "lambda_min");
    ntk_kernel_summary_init(&r);
    TU_OK(ntk_kernel_summary_add_rows(&r, 0, 7, n, NTK_F64, K));
    TU_OK(ntk_kernel_summary_add_rows(&r, 7, 13, n, NTK_F64, K + 7 * n));
    ntk_kernel_summary_finish(&r, n);
    assert_true(r.trace == s.trace && r.fro == s.fro && r.min_entry == s.min_entry && r.max_entry == s.max_entry);
    TU_OK(ntk_kernel_summarize(n, NTK_F32, Kf, n - 1, &r)); /* float32 input; no eigenvalues above eig_max_n */
    assert_false(r.have_eig);
    TU_ASSERT_LE(fabs(r.trace - s.trace), 1e-6 * s.trace, "float32 trace");
    assert_int_equal(ntk_kernel_summary_add_rows(&r, 15, 6, n, NTK_F64, K), NTK_EINVAL);
}

/* ---------------------------------------------------------------- tracker
 * K_0 = Q diag(d) Q^T with gaps >= 0.5 between the leading eigenvalues and
 * lambda_max = 10, so eigenvectors are determined to ~eps ||K|| / gap ~ 1e-14;
 * angle bounds 1e-11.  ntk_tracker_update allocates nothing (by construction: all
 * buffers come from ntk_tracker_alloc; not observable from a test). */
enum { TN = 12 };
static const double tr_d[TN] = {10, 8, 6, 4, 3, 2, 1.5, 1, 0.5, 0.25, 0.1, 0.05};

static void tr_kernel(const double *Q, const double *d, double *K) { from_spectrum(TN, Q, d, K); }

static void test_tracker_constant_and_scaled(void **state)
{
    (void)state;
    double Q[TN * TN], K0[TN * TN], K2[TN * TN];
    ntk_tracker_opts o = {4, 1e-3};
    ntk_tracker *tr = NULL;
    ntk_drift dr;
    rand_orth(30, TN, Q);
    tr_kernel(Q, tr_d, K0);
    TU_OK(ntk_tracker_alloc(TN, K0, 0, NULL, &o, &tr));
    /* K_t = K_0 at t = 0 and t = 1: the same deterministic LAPACK calls on the same
     * input, so the spectrum repeats to the last bit; 1e-14 only guards against a
     * threaded BLAS reordering sums. */
    for (int s = 0; s < 2; s++) {
        TU_OK(ntk_tracker_update(tr, s, K0, &dr));
        assert_true(dr.drift_fro == 0 && dr.drift_op == 0 && dr.kernel_distance == 0 && dr.velocity == 0);
        assert_true(dr.active_modes == 0 && isnan(dr.alignment));
        TU_ASSERT_LE(dr.eig_drift_max, 1e-14, "eigenvalue drift of K_0 itself");
        TU_ASSERT_LE(dr.angle_max, 1e-11, "angle of K_0 itself");
        TU_ASSERT_LE(dr.projector_dist, 1e-11, "projector distance of K_0 itself");
    }
    /* K_t = 2 K_0: scaling by 2 is exact, so drift_fro = 1 up to the rounding of one
     * quotient (1e-14); drift_op and eig_drift_max = 1 up to Weyl's n eps (1e-12). */
    for (int i = 0; i < TN * TN; i++) K2[i] = 2 * K0[i];
    TU_OK(ntk_tracker_update(tr, 2, K2, &dr));
    TU_ASSERT_LE(fabs(dr.drift_fro - 1), 1e-14, "drift_fro of 2 K_0");
    TU_ASSERT_LE(fabs(dr.drift_op - 1), 1e-12, "drift_op of 2 K_0");
    TU_ASSERT_LE(fabs(dr.eig_drift_max - 1), 1e-12, "eigenvalue drift of 2 K_0");
    TU_ASSERT_LE(fabs(dr.lambda_max - 20), 1e-12, "lambda_max of 2 K_0");
    TU_ASSERT_LE(fabs(dr.lambda_min - 0.1), 1e-12, "lambda_min of 2 K_0");
    TU_ASSERT_LE(dr.kernel_distance, 1e-24, "S(K_0, 2 K_0)");   /* O(eps^2), see above */
    TU_ASSERT_LE(dr.angle_max, 1e-11, "angle of 2 K_0");
    expect_error(ntk_tracker_update(tr, 2, K2, &dr), NTK_EINVAL, "does not increase");
    K2[5] = INFINITY;
    expect_error(ntk_tracker_update(tr, 3, K2, &dr), NTK_ENUMERIC, "Kt[0, 5]");
    ntk_tracker_free(tr);
}

/* Top eigenvector rotated by theta towards the 5th (outside the top-4 space):
 * angles {0, 0, 0, theta}, projector distance sqrt(2) sin theta, spectrum unchanged. */
static void test_tracker_rotation(void **state)
{
    (void)state;
    double Q[TN * TN], QR[TN * TN], K0[TN * TN], Kt[TN * TN], thetas[] = {1e-7, 1e-3, 0.2, 1.0};
    ntk_tracker_opts o = {4, 1e-3};
    ntk_tracker *tr = NULL;
    ntk_drift dr;
    rand_orth(31, TN, Q);
    tr_kernel(Q, tr_d, K0);
    TU_OK(ntk_tracker_alloc(TN, K0, 0, NULL, &o, &tr));
    for (int c = 0; c < 4; c++) {
        double th = thetas[c];
        memcpy(QR, Q, sizeof QR);
        for (int i = 0; i < TN; i++) {
            QR[i * TN + 0] = cos(th) * Q[i * TN + 0] + sin(th) * Q[i * TN + 4];
            QR[i * TN + 4] = -sin(th) * Q[i * TN + 0] + cos(th) * Q[i * TN + 4];
        }
        tr_kernel(QR, tr_d, Kt);
        TU_OK(ntk_tracker_update(tr, c, Kt, &dr));
        TU_ASSERT_LE(fabs(dr.angle_max - th), 1e-11, "largest principal angle");
        TU_ASSERT_LE(dr.angles[2], 1e-11, "unrotated directions");
        TU_ASSERT_LE(fabs(dr.projector_dist - sqrt(2) * sin(th)), 1e-11, "projector distance");
        TU_ASSERT_LE(dr.eig_drift_max, 1e-12, "spectrum unchanged by a rotation");
    }
    ntk_tracker_free(tr);
}

/* Velocity = S(K_prev, K_t) / dt and the other metrics equal the public functions on
 * the same inputs: the same code for S, drift_fro and the alignment (exact up to one
 * division: 1e-14), a different eigensolver for rel_op and the eigenvalues (dsytrd +
 * dsterf against dsyevd, both backward stable: n eps ||K|| ~ 1e-14, bound 1e-12). */
static void test_tracker_matches_functions(void **state)
{
    (void)state;
    double Q[TN * TN], K[3][TN * TN], E[TN * TN], Y[TN * 2], times[3] = {0, 0.5, 2}, w[TN];
    ntk_tracker *tr = NULL;
    ntk_drift dr;
    rand_orth(32, TN, Q);
    tr_kernel(Q, tr_d, K[0]);
    gauss(33, TN * 2, Y);
    for (int s = 1; s < 3; s++) {
        rand_psd(34 + (uint64_t)s, TN, 3, E);
        for (int i = 0; i < TN * TN; i++) K[s][i] = K[s - 1][i] + 0.05 * s * E[i];
    }
    TU_OK(ntk_tracker_alloc(TN, K[0], 2, Y, NULL, &tr));   /* defaults: top_k 10 */
    for (int s = 0; s < 3; s++) {
        TU_OK(ntk_tracker_update(tr, times[s], K[s], &dr));
        double v = s ? ntk_kernel_distance(TN * TN, K[s - 1], K[s]) / (times[s] - times[s - 1]) : 0.0, a = 0, op = 0;
        TU_OK(ntk_alignment_centered(TN, K[s], 2, Y, &a));
        TU_OK(ntk_rel_op(TN, K[s], K[0], &op));
        TU_OK(ntk_eigh(TN, K[s], w, NULL));
        TU_ASSERT_LE(fabs(dr.velocity - v), 1e-14 * fabs(v), "velocity");
        TU_ASSERT_LE(fabs(dr.alignment - a), 1e-14, "alignment");
        TU_ASSERT_LE(fabs(dr.drift_op - op), 1e-12, "drift_op vs ntk_rel_op");
        TU_ASSERT_LE(fabs(dr.drift_fro - ntk_rel_fro(TN * TN, K[s], K[0])), 0, "drift_fro");
        for (int i = 0; i < TN; i++) TU_ASSERT_LE(fabs(dr.eigs[i] - w[i]), 1e-12 * w[0], "eigs vs ntk_eigh");
    }
    ntk_tracker_free(tr);
}

/* Threshold 1e-3 * lambda_max = 0.01.  Moves of 0.05 / 0.006 are far above the
 * eigenvalue errors (~1e-14) and far below the gaps, so sorted indices keep their mode. */
static void test_tracker_active_modes(void **state)
{
    (void)state;
    double Q[TN * TN], K[TN * TN], d[TN];
    const double shift2[] = {0, 0.05, 0.05, 0.05}, shift5[] = {0, 0, 0.006, 0};
    const int want[] = {0, 1, 1, 2};   /* mode 5 moves 0.006 up and back: variation 0.012 */
    ntk_tracker *tr = NULL;
    ntk_drift dr;
    rand_orth(40, TN, Q);
    memcpy(d, tr_d, sizeof d);
    tr_kernel(Q, d, K);
    TU_OK(ntk_tracker_alloc(TN, K, 0, NULL, NULL, &tr));
    for (int s = 0; s < 4; s++) {
        memcpy(d, tr_d, sizeof d);
        d[2] += shift2[s];
        d[5] += shift5[s];
        tr_kernel(Q, d, K);
        TU_OK(ntk_tracker_update(tr, s, K, &dr));
        assert_int_equal(dr.active_modes, want[s]);
    }
    ntk_tracker_free(tr);
}

static void test_tracker_args(void **state)
{
    (void)state;
    double Q[TN * TN], K[TN * TN], Y[TN];
    ntk_tracker *tr = NULL;
    ntk_drift dr;
    rand_orth(41, TN, Q);
    tr_kernel(Q, tr_d, K);
    ntk_tracker_opts big = {100, 0}, zero = {0, 1e-3}, neg = {4, -1};
    TU_OK(ntk_tracker_alloc(TN, K, 0, NULL, &big, &tr));   /* top_k clamped to n: the whole space */
    TU_OK(ntk_tracker_update(tr, 0, K, &dr));
    /* Both bases span R^n: the sines are those of (I - U U^T) V ~ n eps; bound 1e-12. */
    TU_ASSERT_LE(dr.angle_max, 1e-12, "angles of the whole space");
    ntk_tracker_free(tr);
    expect_error(ntk_tracker_alloc(TN, K, 0, NULL, &zero, &tr), NTK_EINVAL, "top_k");
    expect_error(ntk_tracker_alloc(TN, K, 0, NULL, &neg, &tr), NTK_EINVAL, "active_thr");
    expect_error(ntk_tracker_alloc(0, K, 0, NULL, NULL, &tr), NTK_EINVAL, "n must be");
    for (int i = 0; i < TN; i++) Y[i] = 3;
    expect_error(ntk_tracker_alloc(TN, K, 1, Y, NULL, &tr), NTK_EINVAL, "constant");
    memset(K, 0, sizeof K);
    expect_error(ntk_tracker_alloc(TN, K, 0, NULL, NULL, &tr), NTK_EINVAL, "zero");
    assert_null(tr);
    ntk_tracker_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rel_fro),
        cmocka_unit_test(test_distance_scale_invariant),
        cmocka_unit_test(test_distance_range_symmetry),
        cmocka_unit_test(test_distance_orthogonal),
        cmocka_unit_test(test_distance_small_accurate),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_eigh),
        cmocka_unit_test(test_eigh_known_spectrum),
        cmocka_unit_test(test_rel_op_known),
        cmocka_unit_test(test_rel_op_power),
        cmocka_unit_test(test_angles_identical_and_orthogonal),
        cmocka_unit_test(test_angles_rotation),
        cmocka_unit_test(test_angles_random),
        cmocka_unit_test(test_krr_vs_gesv),
        cmocka_unit_test(test_krr_interpolates),
        cmocka_unit_test(test_krr_failures),
        cmocka_unit_test(test_freeze_time),
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_kernel_summary),
        cmocka_unit_test(test_tracker_constant_and_scaled),
        cmocka_unit_test(test_tracker_rotation),
        cmocka_unit_test(test_tracker_matches_functions),
        cmocka_unit_test(test_tracker_active_modes),
        cmocka_unit_test(test_tracker_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
