/* test_limit.c -- infinite-width kernels: closed forms on the circle, the
 * quadrature against the relu / erf closed forms, the Hanin-Nica diagonal,
 * continuum eigenvalues, and the limit against Monte Carlo means of finite
 * networks (an independent computation). */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
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
                ntk_limit_opts oa = {NTK_EXPECT_AUTO, 0, 0, 0}, oq = {NTK_EXPECT_QUAD, 0, 0, 0};
                TU_OK(ntk_limit_full(&s, &oa, N, X, g1, t1, NULL, NULL));
                TU_OK(ntk_limit_full(&s, &oq, N, X, g2, t2, NULL, NULL));
                TU_ASSERT_LE(tu_rel_max(N * N, g2, g1), 1e-10, "NNGP recursion, quadrature vs closed");
                TU_ASSERT_LE(tu_rel_max(N * N, t2, t1), 1e-10, "NTK recursion, quadrature vs closed");
            }
    free(X);
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
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_ERF, NTK_ACT_RELU};
    const size_t N = 5;
    double *X = tu_gauss_x(7, N, 3);
    for (int a = 0; a < 4; a++)
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
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_RELU};
    for (int a = 0; a < 3; a++) {
        ntk_spec s = ntk_spec_default();
        s.depth = 4;
        s.widths = widths;
        s.n0 = 2;
        s.act = acts[a];
        s.sw2 = a == 2 ? 2.0 : 1.7;
        double Kt[1600], Kp[1600], Gt[1600], Gp[1600];
        ntk_limit_opts tab = {NTK_EXPECT_QUAD, 0, 0, 0}, pair = {NTK_EXPECT_QUAD, 0, 0, 1};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circle_closed_forms),
        cmocka_unit_test(test_quadrature_matches_closed_forms),
        cmocka_unit_test(test_limit_equals_circle_closed_form),
        cmocka_unit_test(test_hanin_nica_diagonal),
        cmocka_unit_test(test_continuum_eigenvalues),
        cmocka_unit_test(test_limit_vs_finite_mean),
        cmocka_unit_test(test_tables_match_pairwise_quadrature),
        cmocka_unit_test(test_cross_and_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
