/* test_limit.c -- infinite-width kernels: closed forms on the circle, the
 * quadrature against the relu / erf closed forms and (sigmoid) a Gauss-Hermite
 * product rule, the Hanin-Nica diagonal, continuum eigenvalues, the limit
 * against Monte Carlo means of finite networks (an independent computation),
 * and the trainable-bias terms of both parameterizations against a closed form
 * and against seed means. */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static void test_circle_closed_forms(void **state)
{
    (void)state;
    assert_true(fabs(ntk_circle_theta(0, 1) - 1.5) < 1e-15);
    assert_true(fabs(ntk_circle_theta(0, 0) - 1.0) < 1e-15);
    assert_true(fabs(ntk_circle_theta(M_PI, 1)) < 1e-15);
    assert_true(fabs(ntk_circle_theta(M_PI, 0)) < 1e-15);
}

/* Quadrature vs closed forms, 1e-10 absolute on O(1) values: the relu rule
 * is exact up to rounding (piecewise trigonometric in the angle, polynomial in
 * s), erf converges geometrically; the defaults give ~1e-14. */
static void test_quadrature_matches_closed_forms(void **state)
{
    (void)state;
    double vars[] = {0.3, 1.0, 2.5};
    ntk_act acts[] = {NTK_ACT_RELU, NTK_ACT_ERF, NTK_ACT_IDENTITY};
    double worst = 0;
    for (int a = 0; a < 3; a++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int r = -10; r <= 10; r++) {
                    double s11 = vars[i], s22 = vars[j], rho = r / 10.0, s12 = rho * sqrt(s11 * s22);
                    double e1, d1, e2, d2;
                    TU_OK(ntk_gauss_expect(acts[a], NTK_EXPECT_AUTO, s11, s22, s12, &e1, &d1));
                    TU_OK(ntk_gauss_expect(acts[a], NTK_EXPECT_QUAD, s11, s22, s12, &e2, &d2));
                    worst = fmax(worst, fmax(fabs(e1 - e2), fabs(d1 - d2)));
                }
    TU_ASSERT_LE(worst, 1e-10, "quadrature vs closed form, single expectations");
    /* whole recursions: depths, sigma choices, both parameterizations, biases */
    const size_t N = 7;
    double *X = tu_gauss_x(3, N, 4);
    int widths[6] = {50, 60, 70, 80, 90, 100};
    for (int a = 0; a < 2; a++)
        for (int depth = 1; depth <= 6; depth += 5)
            for (int v = 0; v < 2; v++) {
                ntk_spec s = ntk_spec_default();
                s.depth = depth;
                s.widths = widths;
                s.n0 = 4;
                s.act = acts[a];
                s.sw2 = v ? 1.3 : 2.0;
                s.sw2_out = v ? 0.7 : 1.0;
                s.sb = v ? 0.4 : 1.0;
                s.bias = v ? NTK_BIAS_NORMAL : NTK_BIAS_ZERO;
                s.param = v ? NTK_PARAM_STANDARD : NTK_PARAM_NTK;
                s.first_layer = v ? NTK_FIRST_NONE : NTK_FIRST_FAN_IN;
                double g1[49], t1[49], g2[49], t2[49];
                ntk_limit_opts oa = {NTK_EXPECT_AUTO, 0, 0, 0, 0}, oq = {NTK_EXPECT_QUAD, 0, 0, 0, 0};
                TU_OK(ntk_limit_full(&s, &oa, N, X, g1, t1, NULL, NULL));
                TU_OK(ntk_limit_full(&s, &oq, N, X, g2, t2, NULL, NULL));
                TU_ASSERT_LE(tu_rel_max(N * N, g2, g1), 1e-10, "NNGP recursion, quadrature vs closed");
                TU_ASSERT_LE(tu_rel_max(N * N, t2, t1), 1e-10, "NTK recursion, quadrature vs closed");
            }
    free(X);
}

/* Probabilists' Gauss-Hermite rule (weight e^{-x^2/2} / sqrt(2 pi), total mass 1) by
 * Golub-Welsch: nodes are the eigenvalues of the Jacobi matrix (off-diagonal sqrt(k)), weights
 * the squared first components of its normalised eigenvectors. */
static void gauss_hermite(int n, double *x, double *w)
{
    double *e = malloc((size_t)n * sizeof *e), *Z = malloc((size_t)n * (size_t)n * sizeof *Z);
    for (int k = 0; k < n; k++) {
        x[k] = 0;
        e[k] = sqrt(k + 1.0);
    }
    assert_int_equal(LAPACKE_dstev(LAPACK_ROW_MAJOR, 'V', n, x, e, Z, n), 0);
    for (int k = 0; k < n; k++) w[k] = Z[k] * Z[k]; /* row 0 of Z: first components */
    free(e);
    free(Z);
}

static double sigmoid_ref(double z) { return 0.5 + 0.5 * tanh(0.5 * z); }
static double dsigmoid_ref(double z)
{
    double c = cosh(0.5 * z);
    return 0.25 / (c * c);
}

/* ntk_gauss_expect for sigmoid (quadrature: graded polar Gauss-Legendre) against a product
 * Gauss-Hermite rule in Cartesian coordinates, u = sqrt(s11) g1, v = sqrt(s22) (rho g1 +
 * sqrt(1 - rho^2) g2), with sigmoid written as (1 + tanh(z/2)) / 2 -- a different rule, a
 * different coordinate system and a different formula for phi.  The integrands have poles at
 * distance pi / sqrt(s) from the real axis, so Gauss-Hermite converges only like
 * exp(-c sqrt(n)): at s = 6 its error was measured at 3e-10 (120 nodes), 6e-12 (160) and
 * 8e-15 (240), and below 2e-15 for s <= 2.5 at 120 nodes.  With 240 nodes both sides are
 * accurate to a few 1e-15 on values of size 0.01-0.5: 1e-13 absolute. */
static void test_sigmoid_expectations(void **state)
{
    (void)state;
    enum { NG = 240 };
    double *gx = malloc(NG * sizeof *gx), *gw = malloc(NG * sizeof *gw);
    gauss_hermite(NG, gx, gw);
    double vars[] = {0.05, 0.5, 2.5, 6.0};
    double worst = 0, scale = 0;
    for (int i = 0; i < 4; i++)
        for (int j = i; j < 4; j++)
            for (int r = -5; r <= 5; r++) {
                double s11 = vars[i], s22 = vars[j], rho = r / 5.0, s12 = rho * sqrt(s11 * s22);
                double c = sqrt(fmax(0.0, 1 - rho * rho));
                double ee = 0, ed = 0;
                for (int a = 0; a < NG; a++)
                    for (int b = 0; b < NG; b++) {
                        double u = sqrt(s11) * gx[a], v = sqrt(s22) * (rho * gx[a] + c * gx[b]), w = gw[a] * gw[b];
                        ee += w * sigmoid_ref(u) * sigmoid_ref(v);
                        ed += w * dsigmoid_ref(u) * dsigmoid_ref(v);
                    }
                double e1, d1;
                TU_OK(ntk_gauss_expect(NTK_ACT_SIGMOID, NTK_EXPECT_AUTO, s11, s22, s12, &e1, &d1));
                worst = fmax(worst, fmax(fabs(e1 - ee), fabs(d1 - ed)));
                scale = fmax(scale, ee);
            }
    TU_ASSERT_LE(worst, 1e-13, "sigmoid expectations: quadrature vs Gauss-Hermite product rule");
    assert_true(scale > 0.1); /* the comparison saw O(1) values */
    /* exact identities (u symmetric): E[phi(u) phi(u)] + E[phi(u) phi(-u)] = E[phi(u)] = 1/2, and
     * E[phi'(u) phi'(-u)] = E[phi'(u)^2] (phi' even) */
    for (int i = 0; i < 4; i++) {
        double ep, dp, em, dm;
        TU_OK(ntk_gauss_expect(NTK_ACT_SIGMOID, NTK_EXPECT_AUTO, vars[i], vars[i], vars[i], &ep, &dp));
        TU_OK(ntk_gauss_expect(NTK_ACT_SIGMOID, NTK_EXPECT_AUTO, vars[i], vars[i], -vars[i], &em, &dm));
        /* 1e-13: the quadrature is accurate to ~1e-15 (above) */
        TU_ASSERT_LE(fabs(ep + em - 0.5), 1e-13, "sigmoid: E[phi(u)^2] + E[phi(u) phi(-u)] = 1/2");
        TU_ASSERT_LE(fabs(dp - dm), 1e-13, "sigmoid: E[phi'(u)^2] = E[phi'(u) phi'(-u)]");
    }
    free(gx);
    free(gw);
}

static ntk_spec one_layer_circle(int bias, int *width)
{
    ntk_spec s = ntk_spec_default();
    s.depth = 1;
    s.widths = width;
    s.n0 = 2;
    s.sw2 = 1.0;      /* w ~ N(0, I), no 1/sqrt(n0) */
    s.sw2_out = 1.0;  /* readout a / sqrt(m) */
    s.sb = 1.0;
    s.bias = bias ? NTK_BIAS_ZERO : NTK_BIAS_NONE;
    s.bias_out = NTK_BIAS_NONE;
    s.first_layer = NTK_FIRST_NONE;
    return s;
}

static void test_limit_equals_circle_closed_form(void **state)
{
    (void)state;
    const size_t N = 64;
    double *X = malloc(N * 2 * sizeof *X), *gamma = malloc(N * sizeof *gamma);
    for (size_t i = 0; i < N; i++) {
        gamma[i] = -M_PI + 2 * M_PI * (double)i / (double)N;
        X[2 * i] = cos(gamma[i]);
        X[2 * i + 1] = sin(gamma[i]);
    }
    int width = 100;
    double *K = malloc(N * N * sizeof *K), *ref = malloc(N * N * sizeof *ref);
    for (int bias = 0; bias <= 1; bias++) {
        ntk_spec s = one_layer_circle(bias, &width);
        TU_OK(ntk_limit_full(&s, NULL, N, X, NULL, K, NULL, NULL));
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) {
                /* the exact angle from the grid (acos of a rounded dot product is
                 * off by ~1e-8 near delta = 0) */
                double delta = fabs(gamma[i] - gamma[j]);
                if (delta > M_PI) delta = 2 * M_PI - delta;
                ref[i * N + j] = ntk_circle_theta(delta, bias);
            }
        TU_ASSERT_LE(tu_rel_max(N * N, K, ref), 1e-12, bias ? "K_inf vs Theta_bias" : "K_inf vs Theta_nobias");
    }
    free(K);
    free(ref);
    free(X);
    free(gamma);
}

/* K_inf(x, x) = d s + (d+1)/2 (relu, NTK param, sw2 2 / 1, zero-init trainable biases, c_b = 1). */
static void test_hanin_nica_diagonal(void **state)
{
    (void)state;
    int widths[8] = {8, 8, 8, 8, 8, 8, 8, 8};
    double x[5] = {1.0, -2.0, 0.5, 0.3, 1.1};
    double s = (1 + 4 + 0.25 + 0.09 + 1.21) / 5;
    for (int depth = 0; depth <= 8; depth += 2) {
        ntk_spec sp = ntk_spec_default();
        sp.depth = depth;
        sp.widths = widths;
        sp.n0 = 5;
        double g, t, tf;
        TU_OK(ntk_limit_diag(&sp, NULL, 1, x, &g, &t));
        TU_OK(ntk_limit_full(&sp, NULL, 1, x, NULL, &tf, NULL, NULL));
        int d = depth + 1;
        assert_true(fabs(t - (d * s + (d + 1) / 2.0)) < 1e-12 * t);
        assert_true(fabs(tf - t) < 1e-13 * t);
        sp.bias = sp.bias_out = NTK_BIAS_NONE;
        TU_OK(ntk_limit_diag(&sp, NULL, 1, x, &g, &t));
        assert_true(fabs(t - d * s) < 1e-12 * t);
        assert_true(fabs(g - s) < 1e-12 * s); /* NNGP readout: sw2_out E[h^2] = s */
    }
}

static double theta_profile(double d, void *ctx) { return ntk_circle_theta(d, *(int *)ctx); }

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_continuum_eigenvalues(void **state)
{
    (void)state;
    enum { KMAX = 60 };
    double lam[KMAX];
    for (int bias = 0; bias <= 1; bias++) {
        TU_OK(ntk_circle_eigenvalues(theta_profile, &bias, KMAX, lam));
        double worst = 0;
        for (int k = 0; k < KMAX; k++) worst = fmax(worst, fabs(lam[k] - ntk_circle_eigenvalue_closed(k, bias)));
        TU_ASSERT_LE(worst, 1e-8, "continuum eigenvalues: quadrature vs closed form");
    }
    /* eigenvalues of the n-point grid matrix / n against the continuum ones:
     * the grid sum is the trapezoid rule of a periodic profile with a kink at
     * 0, error O(1/n^2) ~ 1e-7 at n = 4096. */
    const int n = 4096, bias = 1, TOP = 41;
    double *A = malloc((size_t)n * (size_t)n * sizeof *A), *w = malloc((size_t)n * sizeof *w);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int m = abs(i - j);
            if (m > n / 2) m = n - m;
            A[(size_t)i * (size_t)n + (size_t)j] = ntk_circle_theta(2 * M_PI * m / n, bias);
        }
    assert_int_equal(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', n, A, n, w), 0);
    qsort(w, (size_t)n, sizeof *w, cmp_desc);
    double cont[2 * KMAX];
    int m = 0;
    cont[m++] = ntk_circle_eigenvalue_closed(0, bias);
    for (int k = 1; k < KMAX; k++) {
        cont[m++] = ntk_circle_eigenvalue_closed(k, bias);
        cont[m++] = ntk_circle_eigenvalue_closed(k, bias); /* cos and sin: multiplicity 2 */
    }
    qsort(cont, (size_t)m, sizeof *cont, cmp_desc);
    double worst = 0;
    for (int i = 0; i < TOP; i++) worst = fmax(worst, fabs(w[i] / n - cont[i]));
    TU_ASSERT_LE(worst, 1e-6, "grid-matrix eigenvalues / n vs continuum eigenvalues");
    free(A);
    free(w);
}

/* The limit against the mean of finite networks: seed-mean of the empirical
 * kernel at width 1024 over 12 nets.  Finite-width bias is O(1/n) and the
 * seed-mean's spread ~ 1/sqrt(12 n); 4% covers both for depth 2 with margin,
 * while a wrong factor (e.g. sw2 missing in a layer) is off by > 20%. */
static void test_limit_vs_finite_mean(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_ERF, NTK_ACT_RELU, NTK_ACT_SIGMOID};
    const size_t N = 5;
    double *X = tu_gauss_x(7, N, 3);
    for (int a = 0; a < 5; a++)
        for (int param = 0; param < 2; param++) {
            int widths[2] = {1024, 1024};
            ntk_spec s = ntk_spec_default();
            s.depth = 2;
            s.widths = widths;
            s.n0 = 3;
            s.act = acts[a];
            s.param = (ntk_param)param;
            s.sw2 = 1.5;
            s.sb = 0.5;
            s.bias = NTK_BIAS_NORMAL;
            double Kinf[25], mean[25] = {0}, K[25];
            TU_OK(ntk_limit_full(&s, NULL, N, X, NULL, Kinf, NULL, NULL));
            ntk_net *net = NULL;
            TU_OK(ntk_net_alloc(&s, &net));
            ntk_feats *f = NULL;
            TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
            const int M = 12;
            for (int m = 0; m < M; m++) {
                TU_OK(ntk_net_init(net, 50 + (uint64_t)m));
                TU_OK(ntk_feats_compute(net, f, X));
                TU_OK(ntk_kernel_full(net, f, K, NULL));
                for (int i = 0; i < 25; i++) mean[i] += K[i] / M;
            }
            char what[96];
            snprintf(what, sizeof what, "seed-mean kernel vs limit, act %s param %s", ntk_act_name(acts[a]),
                     ntk_param_name(s.param));
            TU_ASSERT_LE(tu_rel_fro(25, mean, Kinf), 0.04, what);
            ntk_feats_free(f);
            ntk_net_free(net);
        }
    free(X);
}

/* Seed statistics of the empirical kernel over M initialisations (seeds seed0, seed0 + 1, ..)
 * of net on X: the mean and the standard error of the mean of K (layers = 0: [N x N]) or of its
 * per-layer terms (layers = 1: [d x N x N]).  With `minus` (the same architecture without
 * biases), the statistics of K(net) - K(minus) for the same seed. */
static void seed_stats(ntk_net *net, ntk_net *minus, size_t N, const double *X, int M, uint64_t seed0, int layers,
                       double *mean, double *se)
{
    size_t n = (layers ? (size_t)ntk_net_num_layers(net) : 1) * N * N;
    double *K = malloc(n * sizeof *K), *Km = malloc(n * sizeof *Km), *sq = calloc(n, sizeof *sq);
    double *full = malloc(N * N * sizeof *full);
    ntk_feats *f = NULL, *fm = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    if (minus) TU_OK(ntk_feats_alloc(minus, N, NTK_F64, &fm));
    for (size_t i = 0; i < n; i++) mean[i] = 0;
    for (int m = 0; m < M; m++) {
        TU_OK(ntk_net_init(net, seed0 + (uint64_t)m));
        TU_OK(ntk_feats_compute(net, f, X));
        TU_OK(ntk_kernel_full(net, f, layers ? full : K, layers ? K : NULL));
        if (minus) {
            TU_OK(ntk_net_init(minus, seed0 + (uint64_t)m));
            TU_OK(ntk_feats_compute(minus, fm, X));
            TU_OK(ntk_kernel_full(minus, fm, layers ? full : Km, layers ? Km : NULL));
            for (size_t i = 0; i < n; i++) K[i] -= Km[i];
        }
        for (size_t i = 0; i < n; i++) {
            mean[i] += K[i];
            sq[i] += K[i] * K[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        mean[i] /= M;
        se[i] = sqrt(fmax(0.0, sq[i] / M - mean[i] * mean[i]) / (M - 1));
    }
    ntk_feats_free(f);
    ntk_feats_free(fm);
    free(K);
    free(Km);
    free(sq);
    free(full);
}

/* The bias terms with one hidden relu layer, derived from the network itself (not from the
 * recursion): the layer-1 pre-activations z_j = c_w w_j.x + c_b b_j are exactly Gaussian with
 * covariance S = sw2 x.x'/n0 + v_b (v_b = sb^2 for a normal bias, else 0) at every width, so
 *   E K(x, x') = A E[phi phi] + t_2 + sw2_out E[phi' phi'] (a_1 x.x' + t_1)
 * exactly, E[phi phi], E[phi' phi'] the arc-cosine kernels of S; standard: A = n1 (n1 readout
 * weights, each with gradient phi(z_j)), a_1 = 1, t = 1 for a trainable bias; NTK: A = sw2_out,
 * a_1 = sw2 / n0, t = sb^2.  ntk_limit_full at the spec's width must equal it (1e-12 relative:
 * rounding only), and -- checking the derivation -- so must the seed mean of empirical kernels
 * at that same width: 3000 seeds at n1 = 16 give a standard error ~1/sqrt(16 * 3000) ~ 0.5% per
 * entry, and every entry must lie within 5 standard errors (no finite-width bias: the formula
 * is exact at every width).  Without its bias terms (t = 0) every entry moves by at least 3.4%
 * (in every configuration with a bias): the closed form sees it at once, the seed mean
 * at ~7 standard errors. */
static void test_bias_terms_one_layer(void **state)
{
    (void)state;
    enum { N = 4, M = 3000 };
    const int n0 = 3, n1 = 16;
    double *X = tu_gauss_x(11, N, n0);
    const double sw2 = 1.6, sw2_out = 1.3, sb = 0.7;
    double worst_cf = 0, worst_z = 0, least_bias = INFINITY;
    for (int param = 0; param < 2; param++)
        for (int b = 0; b < 3; b++)
            for (int bo = 0; bo < 3; bo++) {
                int widths[1] = {n1};
                ntk_spec s = ntk_spec_default();
                s.depth = 1;
                s.widths = widths;
                s.n0 = n0;
                s.param = (ntk_param)param;
                s.sw2 = sw2;
                s.sw2_out = sw2_out;
                s.sb = sb;
                s.bias = (ntk_bias)b;
                s.bias_out = (ntk_bias)bo;
                bool std_ = s.param == NTK_PARAM_STANDARD;
                double vb = b == NTK_BIAS_NORMAL ? sb * sb : 0.0, vbo = bo == NTK_BIAS_NORMAL ? sb * sb : 0.0;
                double t1 = b == NTK_BIAS_NONE ? 0.0 : std_ ? 1.0 : sb * sb;
                double t2 = bo == NTK_BIAS_NONE ? 0.0 : std_ ? 1.0 : sb * sb;
                double a1 = std_ ? 1.0 : sw2 / n0, A = std_ ? n1 : sw2_out;
                double cf[N * N], cfg[N * N], bias_part[N * N], Kinf[N * N], G[N * N], mean[N * N], se[N * N];
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++) {
                        const double *x = X + i * n0, *y = X + j * n0;
                        double xy = 0, xx = 0, yy = 0;
                        for (int c = 0; c < n0; c++) {
                            xy += x[c] * y[c];
                            xx += x[c] * x[c];
                            yy += y[c] * y[c];
                        }
                        double S = sw2 * xy / n0 + vb, qa = sw2 * xx / n0 + vb, qb = sw2 * yy / n0 + vb;
                        double th = acos(fmax(-1.0, fmin(1.0, S / sqrt(qa * qb))));
                        double ee = sqrt(qa * qb) / (2 * M_PI) * (sin(th) + (M_PI - th) * cos(th));
                        double ed = (M_PI - th) / (2 * M_PI);
                        cf[i * N + j] = A * ee + t2 + sw2_out * ed * (a1 * xy + t1);
                        bias_part[i * N + j] = t2 + sw2_out * ed * t1;
                        cfg[i * N + j] = sw2_out * ee + vbo;
                    }
                TU_OK(ntk_limit_full(&s, NULL, N, X, G, Kinf, NULL, NULL));
                worst_cf = fmax(worst_cf, fmax(tu_rel_max(N * N, Kinf, cf), tu_rel_max(N * N, G, cfg)));
                ntk_net *net = NULL;
                TU_OK(ntk_net_alloc(&s, &net));
                seed_stats(net, NULL, N, X, M, 1000, 0, mean, se);
                ntk_net_free(net);
                for (int i = 0; i < N * N; i++) {
                    worst_z = fmax(worst_z, fabs(mean[i] - Kinf[i]) / se[i]);
                    if (t1 + t2 > 0) least_bias = fmin(least_bias, bias_part[i] / fabs(cf[i]));
                }
            }
    TU_ASSERT_LE(worst_cf, 1e-12, "one hidden relu layer: K_inf and NNGP vs the closed form, all bias options");
    TU_ASSERT_LE(worst_z, 5.0, "one hidden relu layer: seed-mean kernel vs K_inf, in standard errors");
    assert_true(least_bias > 0.03); /* the bias terms are large enough for both checks to see */
    free(X);
}

/* The bias terms of every layer of a deeper network, where no finite width is exact.  With
 * zero-initialised trainable biases a network computes the same function as without biases
 * (same seed, same weights), so per layer K^(l)(bias zero) - K^(l)(bias none) is exactly that
 * layer's bias term c_b^2 <delta_l, delta_l'>, and its seed mean tends to the same difference of
 * the limit's per-layer terms -- O(1), the O(n) weight terms cancel.  Standard parameterization
 * (where K_inf's bias terms are otherwise invisible next to the O(n) weight terms; the NTK one's
 * are checked by test_limit_vs_finite_mean and test_bias_terms_one_layer), depth 3 at width 256,
 * 16 seeds, relu and sigmoid.  Tolerance per layer, Frobenius over the N x N entries: 5 standard
 * errors of the seed mean (measured: 0.06 of the layer's norm for relu, 0.01 for sigmoid) plus 2%
 * of the layer's norm for the O(depth / n) finite-width bias; the measured errors are at most
 * 0.052 relative, within one standard error.  Dropping one layer's bias term from K_inf puts
 * that layer's difference at 0: 100% off. */
static void test_bias_terms_deep(void **state)
{
    (void)state;
    enum { N = 4, M = 16, D = 4, NN = N * N };
    double *X = tu_gauss_x(12, N, 3);
    ntk_act acts[] = {NTK_ACT_RELU, NTK_ACT_SIGMOID};
    for (int a = 0; a < 2; a++) {
        int widths[3] = {256, 256, 256};
        ntk_spec s = ntk_spec_default();
        s.depth = D - 1;
        s.widths = widths;
        s.n0 = 3;
        s.act = acts[a];
        s.param = NTK_PARAM_STANDARD;
        s.sw2 = acts[a] == NTK_ACT_RELU ? 2.0 : 1.5;
        s.sb = 0.8;
        s.bias = s.bias_out = NTK_BIAS_ZERO;
        ntk_spec s0 = s;
        s0.bias = s0.bias_out = NTK_BIAS_NONE;
        double Lz[D * NN], Ln[D * NN], lim[D * NN], mean[D * NN], se[D * NN];
        TU_OK(ntk_limit_full(&s, NULL, N, X, NULL, NULL, NULL, Lz));
        TU_OK(ntk_limit_full(&s0, NULL, N, X, NULL, NULL, NULL, Ln));
        for (int i = 0; i < D * NN; i++) lim[i] = Lz[i] - Ln[i];
        ntk_net *net = NULL, *net0 = NULL;
        TU_OK(ntk_net_alloc(&s, &net));
        TU_OK(ntk_net_alloc(&s0, &net0));
        seed_stats(net, net0, N, X, M, 70, 1, mean, se);
        ntk_net_free(net);
        ntk_net_free(net0);
        for (int l = 0; l < D; l++) {
            double e2 = 0, s2 = 0, l2 = 0;
            for (int i = 0; i < NN; i++) {
                int k = l * NN + i;
                e2 += (mean[k] - lim[k]) * (mean[k] - lim[k]);
                s2 += se[k] * se[k];
                l2 += lim[k] * lim[k];
            }
            char what[160];
            snprintf(what, sizeof what,
                     "act %s, standard, layer %d: bias term, seed mean vs K_inf(zero) - K_inf(none) "
                     "(|limit| %.3g, standard error %.3g; Frobenius)",
                     ntk_act_name(s.act), l + 1, sqrt(l2), sqrt(s2));
            TU_ASSERT_LE(sqrt(e2), 5 * sqrt(s2) + 0.02 * sqrt(l2), what);
        }
    }
    free(X);
}

/* Equal-norm inputs (the circle): the per-layer tables of the quadrature activations against
 * integrating every pair.  129 Chebyshev-Lobatto nodes in the angle: the expectations are smooth
 * in theta for smooth activations, so the interpolation error is ~1e-13; 1e-10 relative is the
 * quadrature's own accuracy.  relu forced through quadrature (kinks in the angle at the
 * expectation level are absent: E[relu relu] is smooth in theta on [0, pi]) is checked as well. */
static void test_tables_match_pairwise_quadrature(void **state)
{
    (void)state;
    const size_t N = 40;
    double *X = malloc(N * 2 * sizeof *X);
    TU_OK(ntk_data_circle(N, X));
    int widths[4] = {10, 10, 10, 10};
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_SIGMOID, NTK_ACT_RELU};
    for (int a = 0; a < 4; a++) {
        ntk_spec s = ntk_spec_default();
        s.depth = 4;
        s.widths = widths;
        s.n0 = 2;
        s.act = acts[a];
        s.sw2 = acts[a] == NTK_ACT_RELU ? 2.0 : 1.7;
        double Kt[1600], Kp[1600], Gt[1600], Gp[1600];
        ntk_limit_opts tab = {NTK_EXPECT_QUAD, 0, 0, 0, 0}, pair = {NTK_EXPECT_QUAD, 0, 0, 1, 0};
        TU_OK(ntk_limit_full(&s, &tab, N, X, Gt, Kt, NULL, NULL));
        TU_OK(ntk_limit_full(&s, &pair, N, X, Gp, Kp, NULL, NULL));
        char what[96];
        snprintf(what, sizeof what, "tabulated vs pairwise quadrature, act %s", ntk_act_name(acts[a]));
        TU_ASSERT_LE(tu_rel_max(N * N, Kt, Kp), 1e-10, what);
        TU_ASSERT_LE(tu_rel_max(N * N, Gt, Gp), 1e-10, what);
    }
    free(X);
}

static void test_cross_and_layers(void **state)
{
    (void)state;
    const size_t N = 6;
    double *X = tu_gauss_x(2, N, 3);
    int widths[3] = {10, 10, 10};
    ntk_spec s = ntk_spec_default();
    s.depth = 3;
    s.widths = widths;
    s.n0 = 3;
    s.act = NTK_ACT_GELU;
    double K[36], Kl[4 * 36], C[12], G[36], D[6];
    TU_OK(ntk_limit_full(&s, NULL, N, X, G, K, NULL, Kl));
    TU_OK(ntk_limit_cross(&s, NULL, 2, X + 3, N, X, NULL, C, NULL, NULL));
    TU_ASSERT_LE(tu_rel_max(12, C, K + N), 1e-14, "cross rows vs full rows");
    double S[36] = {0};
    for (int l = 0; l < 4; l++)
        for (int i = 0; i < 36; i++) S[i] += Kl[l * 36 + i];
    TU_ASSERT_LE(tu_rel_max(36, S, K), 1e-14, "limit per-layer terms sum to the NTK");
    TU_OK(ntk_limit_diag(&s, NULL, N, X, NULL, D));
    for (size_t i = 0; i < N; i++) assert_true(fabs(D[i] - K[i * N + i]) <= 1e-14 * K[i * N + i]);
    free(X);
}

/* The recursion runs over blocks of 16 rows x 64 lanes (src/limit/limit.c, pairs.c); every pair is
 * one lane of the same instructions wherever it falls, so the kernels are bit-identical for 1 and 2
 * threads.  N = 150 leaves a partial row block and a padded lane block; unequal norms (N(0, I) rows,
 * scaled by 1.6 so that some first-layer variances reach ~10) send tanh's high-variance, high-
 * correlation pairs to the 2-D quadrature fallback, so both paths of the series are covered. */
static void test_threads_bit_identical(void **state)
{
    (void)state;
    const size_t N = 150;
    double *X = malloc(N * 3 * sizeof *X), *G1 = malloc(N * N * sizeof *G1), *K1 = malloc(N * N * sizeof *K1);
    double *G2 = malloc(N * N * sizeof *G2), *K2 = malloc(N * N * sizeof *K2);
    assert_true(X && G1 && K1 && G2 && K2);
    TU_OK(ntk_data_gaussian_raw(4, N, 3, X));
    for (size_t i = 0; i < N * 3; i++) X[i] *= 1.6;
    int widths[4] = {32, 32, 32, 32};
    ntk_spec s = ntk_spec_default();
    s.depth = 4;
    s.widths = widths;
    s.n0 = 3;
    s.bias = NTK_BIAS_NORMAL;
    const ntk_act acts[4] = {NTK_ACT_RELU, NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU};
    for (int a = 0; a < 4; a++) {
        s.act = acts[a];
        ntk_set_threads(1);
        TU_OK(ntk_limit_full(&s, NULL, N, X, G1, K1, NULL, NULL));
        ntk_set_threads(2);
        TU_OK(ntk_limit_full(&s, NULL, N, X, G2, K2, NULL, NULL));
        assert_memory_equal(G1, G2, N * N * sizeof *G1);
        assert_memory_equal(K1, K2, N * N * sizeof *K1);
        for (size_t i = 0; i < N; i++) /* the mirrored half is the computed one */
            for (size_t j = 0; j < i; j++) assert_true(K1[i * N + j] == K1[j * N + i]);
    }
    ntk_set_threads(0);
    free(X);
    free(G1);
    free(K1);
    free(G2);
    free(K2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circle_closed_forms),
        cmocka_unit_test(test_quadrature_matches_closed_forms),
        cmocka_unit_test(test_sigmoid_expectations),
        cmocka_unit_test(test_limit_equals_circle_closed_form),
        cmocka_unit_test(test_hanin_nica_diagonal),
        cmocka_unit_test(test_continuum_eigenvalues),
        cmocka_unit_test(test_limit_vs_finite_mean),
        cmocka_unit_test(test_bias_terms_one_layer),
        cmocka_unit_test(test_bias_terms_deep),
        cmocka_unit_test(test_tables_match_pairwise_quadrature),
        cmocka_unit_test(test_cross_and_layers),
        cmocka_unit_test(test_threads_bit_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
