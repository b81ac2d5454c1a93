/* test_predict.c -- predictions from K0 (src/dynamics/predict.c): the frozen-K0 solution
 * against direct iteration of gradient descent, gradient flow against RK4, the
 * first-order correction against direct iteration of its recursion, its effect
 * on a kernel that really drifts, the long-interval closed forms against chained
 * short intervals, and argument validation; the continuation linpred_pert_continue (the training
 * analysis' path, which reuses the previous interval's rotation) against the same iteration and against
 * ntk_linpred_pert_advance. */
#include "testutil.h"

#include "linpred_cont.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 30, M = 10, STREAM_TEST = 90 };

static double *randn(uint64_t sub, size_t count, double scale)
{
    double *x = malloc(count * sizeof *x);
    assert_non_null(x);
    ntk_rng_normal(7, STREAM_TEST, sub, 0, count, x);
    for (size_t i = 0; i < count; i++) x[i] *= scale;
    return x;
}

/* K = Q^T diag(lam) Q with Q: [n x n] a random orthogonal matrix (QR of a Gaussian). */
static double *make_kernel(size_t n, const double *lam, uint64_t sub)
{
    double *Q = randn(sub, n * n, 1), tau[64], *K = calloc(n * n, sizeof *K);
    assert_true(n <= 64 && K);
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)n, (int)n, Q, (int)n, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)n, (int)n, (int)n, Q, (int)n, tau), 0);
    for (size_t p = 0; p < n; p++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) K[i * n + j] += Q[p * n + i] * lam[p] * Q[p * n + j];
    for (size_t i = 0; i < n; i++) /* exactly symmetric */
        for (size_t j = 0; j < i; j++) K[j * n + i] = K[i * n + j];
    free(Q);
    return K;
}

/* lam_p = lmax * ratio^(p/(n-1)) for p < rank, 0 beyond. */
static void spectrum(size_t n, size_t rank, double lmax, double ratio, double *lam)
{
    for (size_t p = 0; p < n; p++) lam[p] = p < rank ? lmax * pow(ratio, (double)p / (double)(n - 1)) : 0;
}

static double *rand_sym(size_t n, uint64_t sub, double scale)
{
    double *G = randn(sub, n * n, scale);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) G[i * n + j] = G[j * n + i] = 0.5 * (G[i * n + j] + G[j * n + i]);
    return G;
}

/* y += alpha * A x, A: [r x c]. */
static void matvec(size_t r, size_t c, double alpha, const double *A, const double *x, double *y)
{
    for (size_t i = 0; i < r; i++) {
        double s = 0;
        for (size_t j = 0; j < c; j++) s += A[i * c + j] * x[j];
        y[i] += alpha * s;
    }
}

/* A problem: K0 [N x N], Ke0 [M x N], f0, y [N], fe0 [M]. */
typedef struct {
    double K0[N * N], Ke0[M * N], f0[N], y[N], fe0[M], a;
} problem;

static problem *make_problem(size_t rank, double alam_max, double ratio, uint64_t sub)
{
    problem *P = calloc(1, sizeof *P);
    double lam[N];
    spectrum(N, rank, 2.0, ratio, lam);
    double *K = make_kernel(N, lam, sub), *Ke = randn(sub + 1, M * N, 0.3), *v = randn(sub + 2, 2 * N + M, 1);
    memcpy(P->K0, K, sizeof P->K0);
    memcpy(P->Ke0, Ke, sizeof P->Ke0);
    memcpy(P->f0, v, sizeof P->f0);
    memcpy(P->y, v + N, sizeof P->y);
    memcpy(P->fe0, v + 2 * N, sizeof P->fe0);
    P->a = alam_max / lam[0];
    free(K);
    free(Ke);
    free(v);
    return P;
}

/* t steps of f <- f - a K0 (f - y), fe <- fe - a Ke0 (f - y). */
static void iterate_gd(const problem *P, long t, double *f, double *fe)
{
    memcpy(f, P->f0, sizeof P->f0);
    memcpy(fe, P->fe0, sizeof P->fe0);
    double r[N];
    for (long s = 0; s < t; s++) {
        for (int i = 0; i < N; i++) r[i] = f[i] - P->y[i];
        matvec(N, N, -P->a, P->K0, r, f);
        matvec(M, N, -P->a, P->Ke0, r, fe);
    }
}

/* Frozen-K0 GD (eigenbasis closed form, and ntk_frozen_gd_steps) equals direct iteration.  Both are backward stable; the iteration
 * accumulates ~t * n * eps * ||aK0|| ~ 1e-12 after 100 steps and the
 * eigendecomposition adds ~n eps: 1e-11 leaves a margin of ~10. */
static void test_at_matches_iteration(void **state)
{
    (void)state;
    struct { size_t rank; double alam, ratio; } cases[] = {
        {N, 0.9, 1e-2},   /* all modes 0 < 1 - a lambda < 1 */
        {N, 1.7, 0.3},    /* a lambda in (0.5, 1.7): oscillating but convergent modes */
        {20, 1.5, 1e-3},  /* rank 20: ten (numerically) zero eigenvalues */
    };
    long ts[] = {0, 1, 7, 100};
    double f[N], fe[M], g[N], ge[M];
    for (int c = 0; c < 3; c++) {
        problem *P = make_problem(cases[c].rank, cases[c].alam, cases[c].ratio, 10 + 3 * (uint64_t)c);
        ntk_linpred *lp = NULL;
        TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
        for (int i = 0; i < 4; i++) {
            TU_OK(ntk_linpred_at(lp, (double)ts[i], f, fe));
            iterate_gd(P, ts[i], g, ge);
            TU_ASSERT_LE(tu_rel_fro(N, f, g), 1e-11, "train vs iteration");
            TU_ASSERT_LE(tu_rel_fro(M, fe, ge), 1e-11, "eval vs iteration");
            /* the library's matrix-vector stepping (piecewise-frozen predictions) */
            memcpy(g, P->f0, sizeof g);
            memcpy(ge, P->fe0, sizeof ge);
            TU_OK(ntk_frozen_gd_steps(N, P->K0, M, P->Ke0, P->y, P->a, ts[i], g, ge));
            TU_ASSERT_LE(tu_rel_fro(N, f, g), 1e-11, "frozen_gd_steps train vs eigenbasis");
            TU_ASSERT_LE(tu_rel_fro(M, fe, ge), 1e-11, "frozen_gd_steps eval vs eigenbasis");
        }
        ntk_linpred_free(lp);
        free(P);
    }
}

/* Past the stability edge (a lambda_max = 2.4: the top mode's factor is 1 - 2.4 = -1.4 per step)
 * the prediction is still the iteration's while it is finite (relative 1e-9: the iteration's
 * rounding grows with the mode, ~t eps 1.4^t relative to a quantity of the same growth), it
 * becomes non-finite once 1.4^t passes the double range (t ~ 2110), and neither is an error. */
static void test_past_stability_edge(void **state)
{
    (void)state;
    problem *P = make_problem(N, 2.4, 0.3, 77);
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    double alm = 0;
    int unstable = ntk_linpred_unstable(lp, &alm);
    assert_true(unstable >= 1);
    assert_true(fabs(alm - 2.4) < 1e-12);
    double f[N], fe[M], g[N], ge[M];
    TU_OK(ntk_linpred_at(lp, 50, f, fe));
    iterate_gd(P, 50, g, ge);
    TU_ASSERT_LE(tu_rel_fro(N, f, g), 1e-9, "past the edge, train vs iteration");
    TU_ASSERT_LE(tu_rel_fro(M, fe, ge), 1e-9, "past the edge, eval vs iteration");
    TU_OK(ntk_linpred_at(lp, 2500, f, fe));
    int finite = 1;
    for (int i = 0; i < N; i++) finite &= isfinite(f[i]) != 0;
    assert_false(finite);
    double *dK = calloc((size_t)N * N, sizeof *dK), *dKe = calloc((size_t)M * N, sizeof *dKe);
    assert_non_null(dK);
    assert_non_null(dKe);
    TU_OK(ntk_linpred_pert_advance(lp, 0, dK, dKe, 2500, dK, dKe, g, ge));
    free(dK);
    free(dKe);
    ntk_linpred_free(lp);
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a / 2.0, 0, &lp));
    assert_int_equal(ntk_linpred_unstable(lp, NULL), 0); /* a lambda_max = 1.2: stable */
    ntk_linpred_free(lp);
    free(P);
}

/* K0 = 0 exactly: f stays f0 and the eval geometric sum is t, fe_t = fe0 - a t Ke0 (f0 - y).
 * One mode with a lambda = 1.5: non-integer t gives Re((-1/2)^t) = 2^-t cos(pi t). */
static void test_at_zero_kernel_and_noninteger_t(void **state)
{
    (void)state;
    problem *P = make_problem(N, 1, 0.5, 40);
    memset(P->K0, 0, sizeof P->K0);
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, 0.1, 0, &lp));
    double f[N], fe[M], r[N], want[M];
    TU_OK(ntk_linpred_at(lp, 1e6, f, fe));
    assert_memory_equal(f, P->f0, sizeof f);
    for (int i = 0; i < N; i++) r[i] = P->f0[i] - P->y[i];
    memcpy(want, P->fe0, sizeof want);
    matvec(M, N, -0.1 * 1e6, P->Ke0, r, want);
    TU_ASSERT_LE(tu_rel_fro(M, fe, want), 1e-13, "zero kernel: eval is linear in t (rounding only)");
    ntk_linpred_free(lp);
    free(P);

    double K1 = 3.0, y1 = 1.0, f01 = 2.0, fnow;
    TU_OK(ntk_linpred_alloc(1, &K1, 0, NULL, &f01, &y1, NULL, 0.5, 0, &lp));
    TU_OK(ntk_linpred_at(lp, 2.5, &fnow, NULL));
    assert_true(fabs(fnow - (y1 + pow(0.5, 2.5) * cos(2.5 * M_PI) * (f01 - y1))) < 1e-15);
    TU_OK(ntk_linpred_at(lp, 2.25, &fnow, NULL));
    assert_true(fabs(fnow - (y1 + pow(0.5, 2.25) * cos(2.25 * M_PI) * (f01 - y1))) < 1e-15);
    ntk_linpred_free(lp);
}

/* Gradient flow against RK4 with dt = 1e-3 (in steps): the global error is
 * ~ t (a lambda_max)^5 dt^4 / 120 < 1e-11 for t <= 20, a lambda_max <= 2.5,
 * so 1e-9 is dominated by neither method. */
static void test_flow_matches_rk4(void **state)
{
    (void)state;
    struct { size_t rank; double alam, ratio; } cases[] = {{N, 1.0, 1e-2}, {N, 2.5, 0.1}, {20, 1.0, 1e-3}};
    double ts[] = {0, 0.5, 3, 20}, dt = 1e-3;
    for (int c = 0; c < 3; c++) {
        problem *P = make_problem(cases[c].rank, cases[c].alam, cases[c].ratio, 50 + 3 * (uint64_t)c);
        ntk_linpred *lp = NULL;
        TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 1, &lp));
        double z[N + M], k[4][N + M], tmp[N + M], t = 0;
        memcpy(z, P->f0, sizeof P->f0);
        memcpy(z + N, P->fe0, sizeof P->fe0);
        for (int i = 0; i < 4; i++) {
            long steps = lround((ts[i] - t) / dt);
            for (long s = 0; s < steps; s++)
                for (int st = 0; st < 4; st++) {
                    double w = st == 0 ? 0 : st == 3 ? dt : 0.5 * dt, r[N];
                    for (int j = 0; j < N + M; j++) tmp[j] = z[j] + (st ? w * k[st - 1][j] : 0);
                    for (int j = 0; j < N; j++) r[j] = tmp[j] - P->y[j];
                    memset(k[st], 0, sizeof k[st]);
                    matvec(N, N, -P->a, P->K0, r, k[st]);
                    matvec(M, N, -P->a, P->Ke0, r, k[st] + N);
                    if (st == 3)
                        for (int j = 0; j < N + M; j++) z[j] += dt / 6 * (k[0][j] + 2 * k[1][j] + 2 * k[2][j] + k[3][j]);
                }
            t = ts[i];
            double f[N], fe[M];
            TU_OK(ntk_linpred_at(lp, t, f, fe));
            TU_ASSERT_LE(tu_rel_fro(N, f, z), 1e-9, "flow train vs RK4");
            TU_ASSERT_LE(tu_rel_fro(M, fe, z + N), 1e-9, "flow eval vs RK4");
        }
        ntk_linpred_free(lp);
        free(P);
    }
}

/* Direct iteration of the correction's recursion over the snapshot grid snaps[0..ns-1]
 * (dK / dKe [ns x N x N] / [ns x M x N], linear in s between snapshots); returns
 * delta f / delta fe at each snapshot in df [ns x N], dfe [ns x M].  It iterates the residual
 * r_s = f^lin_s - y itself (r <- r - a K0 r): forming f_s - y would leave an absolute error
 * of eps on a residual that decays by 1e-6 over the intervals tested. */
static void iterate_pert(const problem *P, int ns, const long *snaps, const double *dK, const double *dKe,
                         double *df, double *dfe)
{
    double r[N], d[N] = {0}, de[M] = {0}, K[N * N], Ke[M * N];
    for (int i = 0; i < N; i++) r[i] = P->f0[i] - P->y[i];
    memset(df, 0, N * sizeof *df);
    memset(dfe, 0, M * sizeof *dfe);
    for (int j = 0; j + 1 < ns; j++)
        for (long s = snaps[j]; s < snaps[j + 1]; s++) {
            double w = (double)(s - snaps[j]) / (double)(snaps[j + 1] - snaps[j]), dn[N], rn[N];
            for (int i = 0; i < N * N; i++) K[i] = (1 - w) * dK[j * N * N + i] + w * dK[(j + 1) * N * N + i];
            for (int i = 0; i < M * N; i++) Ke[i] = (1 - w) * dKe[j * M * N + i] + w * dKe[(j + 1) * M * N + i];
            matvec(M, N, -P->a, Ke, r, de); /* with delta f_s: de is updated before d */
            matvec(M, N, -P->a, P->Ke0, d, de);
            memcpy(dn, d, sizeof dn);
            matvec(N, N, -P->a, P->K0, d, dn);
            matvec(N, N, -P->a, K, r, dn);
            memcpy(d, dn, sizeof d);
            memcpy(rn, r, sizeof rn);
            matvec(N, N, -P->a, P->K0, r, rn);
            memcpy(r, rn, sizeof r);
            if (s + 1 == snaps[j + 1]) {
                memcpy(df + (j + 1) * N, d, sizeof d);
                memcpy(dfe + (j + 1) * M, de, sizeof de);
            }
        }
}

/* Correction against direct iteration over intervals of 1, 5, 37 and 200 steps.
 * The closed forms agree with the sums to ~1e-14 relative (a few eps times the
 * exponent amplification h |log x|); the iteration itself accumulates
 * ~243 * n * eps; 1e-10 leaves a wide margin. */
static void test_pert_matches_iteration(void **state)
{
    (void)state;
    struct { size_t rank; double alam, ratio; } cases[] = {{N, 0.9, 1e-2}, {N, 1.7, 0.3}, {20, 1.5, 1e-3}};
    long snaps[] = {0, 1, 6, 43, 243};
    enum { NS = 5 };
    for (int c = 0; c < 3; c++) {
        problem *P = make_problem(cases[c].rank, cases[c].alam, cases[c].ratio, 70 + 3 * (uint64_t)c);
        double *dK = calloc(NS * N * N, sizeof *dK), *dKe = calloc(NS * M * N, sizeof *dKe);
        for (int j = 1; j < NS; j++) {
            double *s = rand_sym(N, 200 + 10 * (uint64_t)c + (uint64_t)j, 0.05), *e = randn(300 + 10 * (uint64_t)c + (uint64_t)j, M * N, 0.05);
            memcpy(dK + j * N * N, s, N * N * sizeof *s);
            memcpy(dKe + j * M * N, e, M * N * sizeof *e);
            free(s);
            free(e);
        }
        double want[NS * N], wante[NS * M], df[N], dfe[M];
        iterate_pert(P, NS, snaps, dK, dKe, want, wante);
        ntk_linpred *lp = NULL;
        TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
        for (int j = 0; j + 1 < NS; j++) {
            TU_OK(ntk_linpred_pert_advance(lp, snaps[j], dK + j * N * N, dKe + j * M * N, snaps[j + 1],
                                           dK + (j + 1) * N * N, dKe + (j + 1) * M * N, df, dfe));
            TU_ASSERT_LE(tu_rel_fro(N, df, want + (j + 1) * N), 1e-10, "correction (train) vs iteration");
            TU_ASSERT_LE(tu_rel_fro(M, dfe, wante + (j + 1) * M), 1e-10, "correction (eval) vs iteration");
        }
        /* dK = 0 on a fresh predictor gives exactly zero */
        ntk_linpred_free(lp);
        TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
        double *zero = calloc(N * N, sizeof *zero);
        TU_OK(ntk_linpred_pert_advance(lp, 0, zero, zero, 37, zero, zero, df, dfe));
        TU_OK(ntk_linpred_pert_advance(lp, 37, zero, zero, 1000, zero, zero, df, dfe));
        for (int i = 0; i < N; i++) assert_true(df[i] == 0);
        for (int i = 0; i < M; i++) assert_true(dfe[i] == 0);
        free(zero);
        ntk_linpred_free(lp);
        free(dK);
        free(dKe);
        free(P);
    }
}

/* The true dynamics with a drifting kernel K_s = K0 + s D, Ke_s = Ke0 + s De, errors after S steps
 * of the linearized prediction with and without the correction (snapshots every 10 steps, where
 * the interpolation of s D is exact). */
static void drift_errors(const problem *P, const double *D, const double *De, double scale, double *err_lin,
                         double *err_cor, double *err_lin_e, double *err_cor_e)
{
    enum { S = 200, EVERY = 10 };
    double f[N], fe[M], r[N], K[N * N], Ke[M * N];
    memcpy(f, P->f0, sizeof f);
    memcpy(fe, P->fe0, sizeof fe);
    for (long s = 0; s < S; s++) {
        for (int i = 0; i < N * N; i++) K[i] = P->K0[i] + (double)s * scale * D[i];
        for (int i = 0; i < M * N; i++) Ke[i] = P->Ke0[i] + (double)s * scale * De[i];
        for (int i = 0; i < N; i++) r[i] = f[i] - P->y[i];
        matvec(N, N, -P->a, K, r, f);
        matvec(M, N, -P->a, Ke, r, fe);
    }
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    double fl[N], fle[M], df[N], dfe[M], *d0 = calloc(N * N, sizeof *d0), *d1 = calloc(N * N, sizeof *d1);
    double *e0 = calloc(M * N, sizeof *e0), *e1 = calloc(M * N, sizeof *e1);
    TU_OK(ntk_linpred_at(lp, S, fl, fle));
    for (long s = 0; s < S; s += EVERY) {
        for (int i = 0; i < N * N; i++) {
            d0[i] = (double)s * scale * D[i];
            d1[i] = (double)(s + EVERY) * scale * D[i];
        }
        for (int i = 0; i < M * N; i++) {
            e0[i] = (double)s * scale * De[i];
            e1[i] = (double)(s + EVERY) * scale * De[i];
        }
        TU_OK(ntk_linpred_pert_advance(lp, s, d0, e0, s + EVERY, d1, e1, df, dfe));
    }
    double nl = 0, nc = 0, nm = 0, el = 0, ec = 0, em = 0;
    for (int i = 0; i < N; i++) {
        nl += (f[i] - fl[i]) * (f[i] - fl[i]);
        nc += (f[i] - fl[i] - df[i]) * (f[i] - fl[i] - df[i]);
        nm += (f[i] - P->f0[i]) * (f[i] - P->f0[i]);
    }
    for (int i = 0; i < M; i++) {
        el += (fe[i] - fle[i]) * (fe[i] - fle[i]);
        ec += (fe[i] - fle[i] - dfe[i]) * (fe[i] - fle[i] - dfe[i]);
        em += (fe[i] - P->fe0[i]) * (fe[i] - P->fe0[i]);
    }
    *err_lin = sqrt(nl / nm); /* relative to how far f moved */
    *err_cor = sqrt(nc / nm);
    *err_lin_e = sqrt(el / em);
    *err_cor_e = sqrt(ec / em);
    free(d0);
    free(d1);
    free(e0);
    free(e1);
    ntk_linpred_free(lp);
}

/* The correction is exact to first order in D, so with the linearization error at ~1e-2 the
 * remainder is O(D^2), ~1e-2 of it; the bound 0.2 asks for a clear, not a marginal, gain. */
/* linpred_pert_continue over the same intervals: against the iteration (1e-10, as above) and against
 * ntk_linpred_pert_advance (1e-13 relative: B = Q dK1 Q^T - Q dK0 Q^T instead of Q (dK1 - dK0) Q^T, so
 * B's entries differ by a few ulps of |Q dK Q^T|, measured ~1e-16 in df); a plain advance in between
 * makes it refuse (the rotation it would reuse is gone). */
static void test_pert_continue(void **state)
{
    (void)state;
    long snaps[] = {0, 1, 6, 43, 243};
    enum { NS = 5 };
    problem *P = make_problem(N, 1.7, 0.3, 73);
    double *dK = calloc(NS * N * N, sizeof *dK), *dKe = calloc(NS * M * N, sizeof *dKe);
    for (int j = 1; j < NS; j++) {
        double *s = rand_sym(N, 400 + (uint64_t)j, 0.05), *e = randn(500 + (uint64_t)j, M * N, 0.05);
        memcpy(dK + j * N * N, s, N * N * sizeof *s);
        memcpy(dKe + j * M * N, e, M * N * sizeof *e);
        free(s);
        free(e);
    }
    double want[NS * N], wante[NS * M], df[N], dfe[M], dfa[N], dfea[M];
    iterate_pert(P, NS, snaps, dK, dKe, want, wante);
    ntk_linpred *lp = NULL, *la = NULL;
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &la));
    for (int j = 0; j + 1 < NS; j++) {
        TU_OK(linpred_pert_continue(lp, snaps[j], NULL, dKe + j * M * N, snaps[j + 1], dK + (j + 1) * N * N,
                                    dKe + (j + 1) * M * N, df, dfe));
        TU_OK(ntk_linpred_pert_advance(la, snaps[j], dK + j * N * N, dKe + j * M * N, snaps[j + 1],
                                       dK + (j + 1) * N * N, dKe + (j + 1) * M * N, dfa, dfea));
        TU_ASSERT_LE(tu_rel_fro(N, df, want + (j + 1) * N), 1e-10, "continued correction (train) vs iteration");
        TU_ASSERT_LE(tu_rel_fro(M, dfe, wante + (j + 1) * M), 1e-10, "continued correction (eval) vs iteration");
        TU_ASSERT_LE(tu_rel_max(N, df, dfa), 1e-13, "continued correction (train) vs pert_advance");
        TU_ASSERT_LE(tu_rel_max(M, dfe, dfea), 1e-13, "continued correction (eval) vs pert_advance");
    }
    /* a plain advance in between: the kept rotation is gone */
    TU_OK(ntk_linpred_pert_advance(lp, 243, dK + 4 * N * N, dKe + 4 * M * N, 300, dK + 3 * N * N, dKe + 3 * M * N,
                                   df, dfe));
    assert_int_equal(linpred_pert_continue(lp, 300, NULL, dKe, 400, dK + N * N, dKe + M * N, df, dfe), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "rotation is not kept"));
    ntk_linpred_free(lp);
    ntk_linpred_free(la);
    free(dK);
    free(dKe);
    free(P);
}

static void test_pert_reduces_drift_error(void **state)
{
    (void)state;
    problem *P = make_problem(N, 0.5, 1e-2, 90);
    double *G = randn(91, N * N, 1), *D = calloc(N * N, sizeof *D), *De = randn(92, M * N, 1);
    for (int i = 0; i < N; i++) /* D = G G^T / N: PSD, O(1) */
        for (int j = 0; j < N; j++)
            for (int k = 0; k < N; k++) D[i * N + j] += G[i * N + k] * G[j * N + k] / N;
    double el, ec, ele, ece;
    drift_errors(P, D, De, 1e-6, &el, &ec, &ele, &ece); /* calibrate: the error is ~linear in D */
    double scale = 1e-6 * 1e-2 / el;
    drift_errors(P, D, De, scale, &el, &ec, &ele, &ece);
    print_message("drift %.3g/step: linearized error %.3e (eval %.3e), corrected %.3e (eval %.3e)\n", scale, el,
                  ele, ec, ece);
    assert_true(el > 3e-3 && el < 3e-2);
    TU_ASSERT_LE(ec, 0.2 * el, "corrected train error vs uncorrected");
    TU_ASSERT_LE(ece, 0.2 * ele, "corrected eval error vs uncorrected");
    free(G);
    free(D);
    free(De);
    free(P);
}

/* One interval of 10^6 steps against 10^3 chained intervals of 10^3 steps on the same linear
 * interpolation, with a lambda from 1.5 down to 1.5e-8 (modes that saturate, oscillate, or barely
 * move in 10^6 steps): the two use different regimes of the closed forms (series vs logarithmic),
 * and the chain adds ~10^3 roundings; 1e-9 checks they have no cancellation or overflow. */
static void test_long_interval_matches_chain(void **state)
{
    (void)state;
    problem *P = make_problem(N, 1.5, 1e-8, 120);
    double *R = rand_sym(N, 121, 0.05), *Re = randn(122, M * N, 0.05), *a0 = calloc(N * N, sizeof *a0);
    double *a1 = calloc(N * N, sizeof *a1), *e0 = calloc(M * N, sizeof *e0), *e1 = calloc(M * N, sizeof *e1);
    const long H = 1000000, h = 1000;
    double df1[N], dfe1[M], df2[N], dfe2[M];
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    TU_OK(ntk_linpred_pert_advance(lp, 0, a0, e0, H, R, Re, df1, dfe1));
    ntk_linpred_free(lp);
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    for (long s = 0; s < H; s += h) {
        double w0 = (double)s / (double)H, w1 = (double)(s + h) / (double)H;
        for (int i = 0; i < N * N; i++) {
            a0[i] = w0 * R[i];
            a1[i] = w1 * R[i];
        }
        for (int i = 0; i < M * N; i++) {
            e0[i] = w0 * Re[i];
            e1[i] = w1 * Re[i];
        }
        TU_OK(ntk_linpred_pert_advance(lp, s, a0, e0, s + h, a1, e1, df2, dfe2));
    }
    TU_ASSERT_LE(tu_rel_fro(N, df1, df2), 1e-9, "long interval vs chain (train)");
    TU_ASSERT_LE(tu_rel_fro(M, dfe1, dfe2), 1e-9, "long interval vs chain (eval)");
    ntk_linpred_free(lp);
    free(R);
    free(Re);
    free(a0);
    free(a1);
    free(e0);
    free(e1);
    free(P);
}

#define EXPECT_EINVAL(expr, needle)                                                              \
    do {                                                                                         \
        ntk_clear_error();                                                                       \
        assert_int_equal((expr), NTK_EINVAL);                                                    \
        if (!strstr(ntk_last_error(), (needle)))                                                 \
            fail_msg("%s: message '%s' lacks '%s'", #expr, ntk_last_error(), (needle));          \
    } while (0)

static void test_validation(void **state)
{
    (void)state;
    problem *P = make_problem(N, 0.9, 1e-2, 130);
    ntk_linpred *lp = NULL;
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, NULL), "out");
    EXPECT_EINVAL(ntk_linpred_alloc(0, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp), "n must be");
    EXPECT_EINVAL(ntk_linpred_alloc(N, NULL, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp), "K0");
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, NULL, P->f0, P->y, P->fe0, P->a, 0, &lp), "Ke0");
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, 0, 0, &lp), "a = eta * c");
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, NAN, 0, &lp), "a = eta * c");
    P->K0[3 * N + 5] += 1;
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp), "not symmetric");
    P->K0[3 * N + 5] = NAN;
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp), "K0[3,5]");
    P->K0[3 * N + 5] = P->K0[5 * N + 3];
    P->f0[2] = INFINITY;
    EXPECT_EINVAL(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp), "f0[2]");
    P->f0[2] = 0;
    assert_null(lp);

    double f[N], fe[M], *dK = calloc(N * N, sizeof *dK), *dKe = calloc(M * N, sizeof *dKe);
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 0, &lp));
    EXPECT_EINVAL(ntk_linpred_at(lp, -1, f, fe), "t must be");
    EXPECT_EINVAL(ntk_linpred_at(lp, INFINITY, f, fe), "t must be");
    EXPECT_EINVAL(ntk_linpred_at(lp, 1, NULL, fe), "f_train");
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 5, dK, dKe, 10, dK, dKe, f, fe), "contiguous");
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, dK, dKe, 0, dK, dKe, f, fe), "must exceed");
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, NULL, dKe, 10, dK, dKe, f, fe), "dK0 and dK1");
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, dK, NULL, 10, dK, dKe, f, fe), "dKe0 and dKe1");
    dK[7] = NAN;
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, dK, dKe, 10, dK, dKe, f, fe), "dK0[0,7]");
    dK[7] = 0;
    TU_OK(ntk_linpred_pert_advance(lp, 0, dK, dKe, 10, dK, dKe, f, fe)); /* failures left no trace */
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, dK, dKe, 20, dK, dKe, f, fe), "at step 10");
    TU_OK(ntk_linpred_pert_advance(lp, 10, dK, dKe, 20, dK, dKe, f, fe));
    ntk_linpred_free(lp);
    TU_OK(ntk_linpred_alloc(N, P->K0, M, P->Ke0, P->f0, P->y, P->fe0, P->a, 1, &lp));
    EXPECT_EINVAL(ntk_linpred_pert_advance(lp, 0, dK, dKe, 10, dK, dKe, f, fe), "discrete");
    ntk_linpred_free(lp);
    ntk_linpred_free(NULL);
    memcpy(f, P->f0, sizeof f);
    EXPECT_EINVAL(ntk_frozen_gd_steps(N, P->K0, M, NULL, P->y, P->a, 3, f, fe), "Ke, fe");
    EXPECT_EINVAL(ntk_frozen_gd_steps(N, P->K0, 0, NULL, P->y, P->a, -1, f, NULL), "h >= 0");
    /* a lambda_max = 5: the top mode grows by 4 per step and overflows within 600 steps (4^512 =
     * 2^1024); past the stability edge the answer is non-finite, not an error */
    TU_OK(ntk_frozen_gd_steps(N, P->K0, 0, NULL, P->y, 5.0 / 2.0, 600, f, NULL));
    int finite = 1;
    for (int i = 0; i < N; i++) finite &= isfinite(f[i]) != 0;
    assert_false(finite);
    free(dK);
    free(dKe);
    free(P);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_matches_iteration),
        cmocka_unit_test(test_past_stability_edge),
        cmocka_unit_test(test_at_zero_kernel_and_noninteger_t),
        cmocka_unit_test(test_flow_matches_rk4),
        cmocka_unit_test(test_pert_matches_iteration),
        cmocka_unit_test(test_pert_continue),
        cmocka_unit_test(test_pert_reduces_drift_error),
        cmocka_unit_test(test_long_interval_matches_chain),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
