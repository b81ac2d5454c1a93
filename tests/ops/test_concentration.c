/* test_concentration.c -- Monte Carlo of the sampled operator (src/ops/concentration.c):
 *   - finite sample: the mean over seeds of ||G - I||_F^2 equals its expectation
 *     (1/n) sum_pq E(Phi_p Phi_q - delta_pq)^2 (the E|S_m|^2 = 1/n law of the sums
 *     S_m = (1/n) sum_j e^{i m g_j}; the expectation by a 4096-point rule, exact for these trigonometric
 *     polynomials) within 5 standard errors, at n = 64 and n = 256; the bias is the closed form
 *     Lambda_n - Lambda_K; the exceedance does not grow with n and the bound is its formula;
 *   - finite width: the grid's own bias equals max_k |mu_k - lambda_k| of the infinite-width kernel's
 *     circulant eigenvalues (1e-10: both from the same limit kernel, one by FFT, one by Phi^T A Phi),
 *     and the fluctuation shrinks like 1/sqrt(width): the mean ||F||_F from width 32 to 512 falls by a
 *     factor within [2.5, 6.4] of the predicted 4 (10 seeds: each mean is good to ~15%).  */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { K = 3, W = 2 * K + 1, SEEDS = 200 };

static double theta_bias(double d, void *ctx)
{
    (void)ctx;
    return ntk_circle_theta(d, 1);
}

static double phi(int p, double g)
{
    int k = (p + 1) / 2;
    return p == 0 ? 1 : (p % 2 ? sqrt(2) * cos(k * g) : sqrt(2) * sin(k * g));
}

static void test_sample(void **state)
{
    (void)state;
    size_t ns[2] = {64, 256};
    const double nd[2] = {64, 256};
    double lam[K + 1], eps[2] = {0.02, 0.05};
    for (int k = 0; k <= K; k++) lam[k] = ntk_circle_eigenvalue_closed(k, 1);
    ntk_conc_opts o = ntk_conc_opts_defaults();
    o.kind = NTK_CONC_SAMPLE, o.K = K, o.profile = theta_bias, o.ns = ns, o.n_cells = 2, o.lambda = lam;
    o.theta0 = theta_bias(0, NULL), o.seeds = SEEDS, o.seed = tu_seed(5), o.eps = eps, o.n_eps = 2, o.c = 0.5, o.L = 2;
    double *B = malloc(2 * SEEDS * 3 * sizeof *B), *F = malloc(2 * SEEDS * 3 * sizeof *F), bias[6], ex[4], bd[4];
    ntk_lemma_norms *lm = malloc(2 * SEEDS * sizeof *lm);
    ntk_conc_result r = {.B = B, .F = F, .lemma = lm, .bias = bias, .exceed = ex, .bound = bd};
    TU_OK(ntk_concentration_run(&o, &r));
    double v = 0; /* sum_pq E (Phi_p Phi_q - delta)^2 */
    for (int p = 0; p < W; p++)
        for (int q = 0; q < W; q++)
            for (int j = 0; j < 4096; j++) {
                double x = phi(p, 2 * M_PI * j / 4096) * phi(q, 2 * M_PI * j / 4096) - (p == q);
                v += x * x / 4096;
            }
    for (int c = 0; c < 2; c++) {
        double m = 0, m2 = 0;
        for (int s = 0; s < SEEDS; s++) {
            double g2 = lm[c * SEEDS + s].G_fro * lm[c * SEEDS + s].G_fro;
            m += g2 / SEEDS, m2 += g2 * g2 / SEEDS;
        }
        double se = sqrt((m2 - m * m) / SEEDS);
        TU_ASSERT_LE(fabs(m - v / nd[c]), 5 * se, "E ||G - I||_F^2 = (1/n) sum E(Phi_p Phi_q - delta)^2");
        double bmax = 0;
        for (int k = 0; k <= K; k++) bmax = fmax(bmax, fabs((lam[k] * (1 - 1.0 / nd[c]) + o.theta0 / nd[c]) - lam[k]));
        TU_ASSERT_LE(fabs(bias[3 * c] - bmax), 1e-15, "sample bias Lambda_n - Lambda_K");
        for (int e = 0; e < 2; e++) {
            double x = eps[e] / 2;
            TU_ASSERT_LE(fabs(bd[c * 2 + e] - 2 * W * W * exp(-0.5 * nd[c] * fmin(x * x, x))), 1e-12, "bound");
        }
    }
    for (int e = 0; e < 2; e++) TU_ASSERT_LE(ex[2 + e], ex[e], "exceedance falls with n");
    assert_true(ex[0] > 0); /* at n = 64 some seeds exceed 0.02: the comparison is not vacuous */
    free(B), free(F), free(lm);
}

typedef struct {
    const ntk_spec *spec;
} prof_ctx;

/* The spec's infinite-width NTK between (1, 0) and (cos d, sin d). */
static double limit_profile(double d, void *ctx)
{
    const prof_ctx *p = ctx;
    double a[2] = {1, 0}, b[2] = {cos(d), sin(d)}, k = NAN;
    ntk_limit_cross(p->spec, NULL, 1, a, 1, b, NULL, &k, NULL, NULL);
    return k;
}

static void test_width(void **state)
{
    (void)state;
    enum { n = 64, S = 10 };
    int widths[2] = {32, 512}, wid[1] = {32};
    ntk_spec spec = tu_spec_uniform(1, wid, 32, 2);
    prof_ctx pc = {&spec};
    double lam[K + 1], row[n], mu[n];
    TU_OK(ntk_circle_eigenvalues(limit_profile, &pc, K + 1, lam));
    ntk_conc_opts o = ntk_conc_opts_defaults();
    o.kind = NTK_CONC_WIDTH, o.K = K, o.spec = &spec, o.widths = widths, o.n = n, o.n_cells = 2, o.lambda = lam;
    o.seeds = S, o.seed = tu_seed(9);
    double B[2 * S * 3], F[2 * S * 3], bias[6];
    ntk_conc_result r = {.B = B, .F = F, .bias = bias};
    TU_OK(ntk_concentration_run(&o, &r));
    TU_OK(ntk_circulant_row(n, limit_profile, &pc, row));
    ntk_circulant *C;
    TU_OK(ntk_circulant_create(n, row, &C));
    TU_OK(ntk_circulant_eigenvalues(C, mu));
    ntk_circulant_free(C);
    double bmax = 0;
    for (int k = 0; k <= K; k++) bmax = fmax(bmax, fabs(mu[k] - lam[k]));
    TU_ASSERT_LE(fabs(bias[0] - bmax), 1e-10, "grid bias from the circulant eigenvalues");
    TU_ASSERT_LE(fabs(bias[3] - bmax), 1e-10, "the grid bias does not depend on the width");
    double f[2] = {0, 0};
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < S; s++) f[c] += F[3 * (c * S + s) + 1] / S;
    TU_ASSERT_LE(2.5, f[0] / f[1], "fluctuation falls like 1/sqrt(width) (lower)");
    TU_ASSERT_LE(f[0] / f[1], 6.4, "fluctuation falls like 1/sqrt(width) (upper)");
    spec.n0 = 3;
    assert_int_equal(ntk_concentration_run(&o, &r), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sample), cmocka_unit_test(test_width)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
