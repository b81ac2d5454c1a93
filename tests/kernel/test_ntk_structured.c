/* test_ntk_structured.c -- the structured kernel (per-layer Grams) against
 * Jacobian contraction, the Jacobian against finite differences, and the
 * kernel's identities (per-layer sum, symmetry, PSD, cross / diag / anchor
 * consistency, float32 vs float64).
 *
 * Tolerances: structured vs J J^T 1e-12 relative Frobenius -- both are sums of
 * the same O(P) products in a different order, so they differ by rounding,
 * ~ sqrt(P) eps ~ 1e-14 here; 1e-12 leaves margin while any missing factor
 * fails by O(1).  Jacobian vs central differences 1e-6: h = 1e-5 gives
 * truncation ~h^2 = 1e-10 and rounding ~eps/h = 1e-11 per entry. */
#include "testutil.h"
#include "ntk_private.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *kernel_full(ntk_net *net, size_t N, const double *X, ntk_dtype t, void **layers)
{
    int k = ntk_net_spec(net)->outputs, d = ntk_net_num_layers(net);
    size_t R = N * (size_t)k, es = t == NTK_F32 ? 4 : 8;
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, t, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    void *K = malloc(R * R * es);
    void *Kl = layers ? malloc((size_t)d * R * R * es) : NULL;
    TU_OK(ntk_kernel_full(net, f, K, Kl));
    ntk_feats_free(f);
    if (layers) *layers = Kl;
    return K;
}

static void check_structured_vs_jacobian(tu_netcfg c)
{
    const size_t N = 6;
    ntk_net *net = tu_net(&c, 7);
    double *X = tu_gauss_x(8, N, c.n0);
    size_t R = N * (size_t)c.k;
    double *Kl = NULL;
    double *K = kernel_full(net, N, X, NTK_F64, (void **)&Kl);
    double *Kref = malloc(R * R * sizeof *Kref);
    TU_OK(ntk_kernel_jacobian_ref(net, N, X, Kref));
    char what[200];
    snprintf(what, sizeof what, "structured vs J J^T: depth=%d act=%s param=%s bias=%s/%s first=%s k=%d",
             c.depth, ntk_act_name(c.act), ntk_param_name(c.param), ntk_bias_name(c.bias),
             ntk_bias_name(c.bias_out), ntk_first_layer_name(c.first), c.k);
    TU_ASSERT_LE(tu_rel_fro(R * R, K, Kref), 1e-12, what);
    /* per-layer terms sum to K */
    int d = ntk_net_num_layers(net);
    double *S = calloc(R * R, sizeof *S);
    for (int l = 0; l < d; l++)
        for (size_t i = 0; i < R * R; i++) S[i] += Kl[(size_t)l * R * R + i];
    TU_ASSERT_LE(tu_rel_fro(R * R, S, K), 1e-14, "per-layer sum");
    /* symmetric (bitwise: the lower triangle is mirrored) */
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < i; j++) assert_true(K[i * R + j] == K[j * R + i]);
    /* PSD up to rounding */
    double *w = malloc(R * sizeof *w), *A = malloc(R * R * sizeof *A);
    memcpy(A, K, R * R * sizeof *A);
    assert_int_equal(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', (lapack_int)R, A, (lapack_int)R, w), 0);
    assert_true(w[0] >= -1e-12 * w[R - 1]);
    free(w);
    free(A);
    free(S);
    free(Kl);
    free(K);
    free(Kref);
    free(X);
    ntk_net_free(net);
}

static void test_structured_equals_jacobian(void **state)
{
    (void)state;
    int depths[] = {0, 1, 3};
    for (int di = 0; di < 3; di++)
        for (int a = 0; a <= NTK_ACT_SIGMOID; a++) /* every activation: sigmoid is the last code */
            for (int param = 0; param < 2; param++)
                for (int b = 0; b < 3; b++)
                    for (int k = 1; k <= 3; k += 2) {
                        tu_netcfg c = tu_cfg(depths[di], 7, 4, k);
                        c.act = (ntk_act)a;
                        c.param = (ntk_param)param;
                        c.bias = (ntk_bias)b;
                        c.bias_out = (ntk_bias)((b + k) % 3);
                        c.first = (b + di) % 2 ? NTK_FIRST_NONE : NTK_FIRST_FAN_IN;
                        check_structured_vs_jacobian(c);
                    }
}

/* The reference Jacobian against central differences of f itself: makes the
 * reference independent of the backprop vectors both kernels share. */
static void test_jacobian_vs_finite_differences(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_IDENTITY, NTK_ACT_SIGMOID};
    for (int a = 0; a < 5; a++)
        for (int param = 0; param < 2; param++) {
            tu_netcfg c = tu_cfg(2, 5, 3, 2);
            c.act = acts[a];
            c.param = (ntk_param)param;
            ntk_net *net = tu_net(&c, 21);
            const size_t N = 3;
            double *X = tu_gauss_x(4, N, c.n0);
            size_t P = ntk_net_num_params(net), R = N * (size_t)c.k;
            double *J = malloc(R * P * sizeof *J), *Jfd = malloc(R * P * sizeof *Jfd);
            double *Fp = malloc(R * sizeof *Fp), *Fm = malloc(R * sizeof *Fm);
            TU_OK(ntk_jacobian(net, N, X, J));
            double *theta = ntk_net_params(net);
            const double h = 1e-5;
            for (size_t p = 0; p < P; p++) {
                double old = theta[p];
                theta[p] = old + h;
                TU_OK(ntk_net_forward(net, N, X, Fp));
                theta[p] = old - h;
                TU_OK(ntk_net_forward(net, N, X, Fm));
                theta[p] = old;
                for (size_t r = 0; r < R; r++) Jfd[r * P + p] = (Fp[r] - Fm[r]) / (2 * h);
            }
            TU_ASSERT_LE(tu_rel_fro(R * P, J, Jfd), 1e-6, "Jacobian vs finite differences");
            free(J);
            free(Jfd);
            free(Fp);
            free(Fm);
            free(X);
            ntk_net_free(net);
        }
}

/* Cross, anchor row and diagonal against blocks of the full kernel on the
 * concatenated inputs; the output trace and mean against summed diagonal blocks. */
static void test_cross_diag_anchor(void **state)
{
    (void)state;
    for (int k = 1; k <= 3; k += 2) {
        tu_netcfg c = tu_cfg(3, 9, 4, k);
        c.act = NTK_ACT_GELU;
        ntk_net *net = tu_net(&c, 3);
        const size_t Na = 5, Nb = 4, N = Na + Nb, kk = (size_t)k;
        double *X = tu_gauss_x(9, N, c.n0);
        double *K = kernel_full(net, N, X, NTK_F64, NULL);
        size_t R = N * kk;
        ntk_feats *fa = NULL, *fb = NULL, *f1 = NULL;
        TU_OK(ntk_feats_alloc(net, Na, NTK_F64, &fa));
        TU_OK(ntk_feats_alloc(net, Nb, NTK_F64, &fb));
        TU_OK(ntk_feats_alloc(net, 1, NTK_F64, &f1));
        TU_OK(ntk_feats_compute(net, fa, X));
        TU_OK(ntk_feats_compute(net, fb, X + Na * (size_t)c.n0));
        TU_OK(ntk_feats_compute(net, f1, X + 2 * (size_t)c.n0)); /* anchor x_2 */
        double *Kab = malloc(Na * kk * Nb * kk * sizeof *Kab);
        TU_OK(ntk_kernel_cross(net, fa, fb, Kab, NULL));
        TU_ASSERT_LE(tu_rel_max_block(Na * kk, Nb * kk, Kab, Nb * kk, K + Na * kk, R), 1e-13,
                     "cross kernel vs block of full");
        /* anchor row K(x_2, X) */
        ntk_feats *fall = NULL;
        TU_OK(ntk_feats_alloc(net, N, NTK_F64, &fall));
        TU_OK(ntk_feats_compute(net, fall, X));
        double *row = malloc(kk * R * sizeof *row);
        TU_OK(ntk_kernel_cross(net, f1, fall, row, NULL));
        TU_ASSERT_LE(tu_rel_max(kk * R, row, K + 2 * kk * R), 1e-13, "anchor row vs row of full");
        /* diagonal blocks */
        double *dg = malloc(N * kk * kk * sizeof *dg), *dref = malloc(N * kk * kk * sizeof *dref);
        TU_OK(ntk_kernel_diag(net, fall, dg));
        for (size_t i = 0; i < N; i++)
            for (size_t a = 0; a < kk; a++)
                for (size_t b = 0; b < kk; b++) dref[(i * kk + a) * kk + b] = K[(i * kk + a) * R + i * kk + b];
        TU_ASSERT_LE(tu_rel_max(N * kk * kk, dg, dref), 1e-13, "diag vs diagonal of full");
        /* outputs kept by the features equal a separate forward pass */
        double *F1 = malloc(N * kk * sizeof *F1), *F2 = malloc(N * kk * sizeof *F2);
        TU_OK(ntk_feats_output(fall, F1));
        TU_OK(ntk_net_forward(net, N, X, F2));
        assert_memory_equal(F1, F2, N * kk * sizeof *F1);
        free(F1);
        free(F2);
        /* output trace */
        double *Kt = malloc(N * N * sizeof *Kt);
        TU_OK(ntk_kernel_output_trace(N, N, k, NTK_F64, K, Kt));
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) {
                double s = 0;
                for (size_t a = 0; a < kk; a++) s += K[(i * kk + a) * R + j * kk + a];
                assert_true(fabs(Kt[i * N + j] - s) <= 1e-14 * fabs(s) + 1e-300);
            }
        /* output mean: the same sum divided by k (one rounding of the division: 1e-15 relative) */
        double *Km = malloc(N * N * sizeof *Km);
        TU_OK(ntk_kernel_output_mean(N, N, k, NTK_F64, K, Km));
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) {
                double s = 0;
                for (size_t a = 0; a < kk; a++) s += K[(i * kk + a) * R + j * kk + a];
                s /= (double)kk;
                assert_true(fabs(Km[i * N + j] - s) <= 1e-14 * fabs(s) + 1e-300);
            }
        free(Km);
        free(Kt);
        free(dg);
        free(dref);
        free(row);
        free(Kab);
        ntk_feats_free(fa);
        ntk_feats_free(fb);
        ntk_feats_free(f1);
        ntk_feats_free(fall);
        free(K);
        free(X);
        ntk_net_free(net);
    }
}

/* float32 path against float64: agreement to ~ sqrt(depth) * 1e-6 (float
 * epsilon 6e-8 amplified by O(width) accumulations); 1e-4 bounds it. */
static void test_float32_close_to_float64(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(4, 64, 8, 2);
    c.act = NTK_ACT_TANH;
    ntk_net *net = tu_net(&c, 5);
    const size_t N = 20, R = N * 2;
    double *X = tu_gauss_x(1, N, c.n0);
    double *K = kernel_full(net, N, X, NTK_F64, NULL);
    float *K32 = (float *)kernel_full(net, N, X, NTK_F32, NULL);
    double *K32d = malloc(R * R * sizeof *K32d);
    for (size_t i = 0; i < R * R; i++) K32d[i] = K32[i];
    double e = tu_rel_fro(R * R, K32d, K);
    TU_ASSERT_LE(e, 1e-4, "float32 vs float64 kernel");
    assert_true(e > 0); /* really computed in single precision */
    free(K32d);
    free(K32);
    free(K);
    free(X);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structured_equals_jacobian),
        cmocka_unit_test(test_jacobian_vs_finite_differences),
        cmocka_unit_test(test_cross_diag_anchor),
        cmocka_unit_test(test_float32_close_to_float64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
