/* test_ntk_dot.c -- the kernel velocity Kdot against finite differences of
 * the kernel along the negative gradient.
 *
 * Forward differences (K(theta + eps v) - K(theta)) / eps, v = -grad L, carry
 * an O(eps) error: halving eps (1e-3, 5e-4, 2.5e-4) must halve the error (ratio
 * in [1.7, 2.3] -- the O(eps^2) remainder moves it by ~eps relative).  Central
 * differences carry an O(h^2) error: halving h (1e-3, 5e-4) must quarter it
 * (ratio in [3.4, 4.6]; the O(h^4) remainder is < 0.1% of the h^2 term here and
 * rounding, ~1e-16 |K| / (h |Kdot|) ~ 1e-11 relative, a few % of the smallest
 * error, 3e-10 at h = 5e-4: measured ratios 3.88 .. 4.03).  A Kdot wrong by a
 * relative delta leaves an error floor delta, which breaks the ratios once delta
 * exceeds ~0.1 x the error at the smallest step (3e-10 .. 6e-5 over the cases).
 *
 * Every smooth activation (sigmoid included), both parameterizations and every bias option
 * (none, normal, zero; hidden and readout separately). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void kernel_at(ntk_net *net, size_t N, const double *X, double *K)
{
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    TU_OK(ntk_kernel_full(net, f, K, NULL));
    ntk_feats_free(f);
}

/* K at theta0 + eps v, v = -grad. */
static void kernel_shifted(ntk_net *net, const double *theta0, const double *grad, double eps, size_t N,
                           const double *X, double *K)
{
    size_t P = ntk_net_num_params(net);
    double *th = ntk_net_params(net);
    for (size_t i = 0; i < P; i++) th[i] = theta0[i] - eps * grad[i];
    kernel_at(net, N, X, K);
    memcpy(th, theta0, P * sizeof *th);
    ntk_net_params_changed(net);
}

static void check_velocity_cfg(tu_netcfg c, ntk_loss loss)
{
    const int k = c.k;
    ntk_net *net = tu_net(&c, 9);
    const size_t N = 6, R = N * (size_t)k;
    double *X = tu_gauss_x(2, N, c.n0), *Y = malloc(R * sizeof *Y);
    ntk_rng_normal(3, NTK_STREAM_TARGET, 0, 0, R, Y);
    size_t P = ntk_net_num_params(net);
    double *theta0 = malloc(P * sizeof *theta0), *grad = malloc(P * sizeof *grad), L;
    memcpy(theta0, ntk_net_params_const(net), P * sizeof *theta0);
    TU_OK(ntk_net_loss_grad(net, N, X, Y, loss, &L, grad));
    double *Kd = malloc(R * R * sizeof *Kd), *K0 = malloc(R * R * sizeof *K0), *K1 = malloc(R * R * sizeof *K1);
    double *K2 = malloc(R * R * sizeof *K2), *fd = malloc(R * R * sizeof *fd);
    TU_OK(ntk_kernel_velocity(net, N, X, Y, loss, Kd));
    kernel_at(net, N, X, K0);
    double err[3], eps = 1e-3;
    for (int e = 0; e < 3; e++, eps /= 2) {
        kernel_shifted(net, theta0, grad, eps, N, X, K1);
        for (size_t i = 0; i < R * R; i++) fd[i] = (K1[i] - K0[i]) / eps;
        err[e] = tu_rel_fro(R * R, fd, Kd);
    }
    char what[160];
    snprintf(what, sizeof what, "act %s, param %s, bias %s/%s, k %d: forward-difference errors %.3g %.3g %.3g",
             ntk_act_name(c.act), ntk_param_name(c.param), ntk_bias_name(c.bias), ntk_bias_name(c.bias_out), k,
             err[0], err[1], err[2]);
    for (int e = 0; e < 2; e++) {
        double ratio = err[e] / err[e + 1];
        if (!(ratio > 1.7 && ratio < 2.3)) fail_msg("%s: do not halve with eps", what);
    }
    double cerr[2], h = 1e-3;
    for (int e = 0; e < 2; e++, h /= 2) {
        kernel_shifted(net, theta0, grad, h, N, X, K1);
        kernel_shifted(net, theta0, grad, -h, N, X, K2);
        for (size_t i = 0; i < R * R; i++) fd[i] = (K1[i] - K2[i]) / (2 * h);
        cerr[e] = tu_rel_fro(R * R, fd, Kd);
    }
    double cratio = cerr[0] / cerr[1];
    if (!(cratio > 3.4 && cratio < 4.6))
        fail_msg("%s: central-difference errors %.3g %.3g do not quarter with h", what, cerr[0], cerr[1]);
    free(Kd); free(K0); free(K1); free(K2); free(fd); free(theta0); free(grad); free(X); free(Y);
    ntk_net_free(net);
}

static void check_velocity(ntk_act act, int k, ntk_loss loss)
{
    tu_netcfg c = tu_cfg(3, 12, 4, k);
    c.act = act;
    check_velocity_cfg(c, loss);
}

static void test_velocity_smooth(void **state)
{
    (void)state;
    check_velocity(NTK_ACT_ERF, 1, NTK_LOSS_SUM);
    check_velocity(NTK_ACT_TANH, 2, NTK_LOSS_MEAN);
    check_velocity(NTK_ACT_GELU, 1, NTK_LOSS_MEAN);
    check_velocity(NTK_ACT_SIGMOID, 1, NTK_LOSS_SUM);
    check_velocity(NTK_ACT_SIGMOID, 2, NTK_LOSS_MEAN);
}

/* Both parameterizations x bias none / normal / zero on the hidden layers, the readout's bias
 * cycling through the three as well, with the smooth activations rotating over the cases.
 * Zero-initialised biases have a nonzero gradient, so they move along the flow like the rest. */
static void test_velocity_param_and_bias(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_SIGMOID, NTK_ACT_GELU, NTK_ACT_ERF};
    int n = 0;
    for (int param = 0; param < 2; param++)
        for (int b = 0; b < 3; b++) /* readout bias: all three under a normal hidden one, else none and zero */
            for (int bo = 0; bo < 3; bo += b == NTK_BIAS_NORMAL ? 1 : 2) {
                tu_netcfg c = tu_cfg(2, 10, 3, 1 + (n % 2));
                c.act = acts[n % 4];
                c.param = (ntk_param)param;
                c.bias = (ntk_bias)b;
                c.bias_out = (ntk_bias)bo;
                c.sb = 0.6;
                check_velocity_cfg(c, n % 3 ? NTK_LOSS_MEAN : NTK_LOSS_SUM);
                n++;
            }
}

/* ReLU: along a step small enough that no unit changes sign, the kernel is a
 * polynomial in eps and the pathwise velocity is its exact derivative (h = 1e-6: truncation
 * ~h^2, rounding ~1e-16 / h = 1e-10 relative; 1e-6 asserted).  NTK with normal biases, and the
 * standard parameterization with zero-initialised / absent biases. */
static void test_velocity_relu_pathwise(void **state)
{
    (void)state;
    for (int v = 0; v < 3; v++) {
        tu_netcfg c = tu_cfg(2, 16, 3, 1);
        if (v > 0) {
            c.param = NTK_PARAM_STANDARD;
            c.bias = v == 1 ? NTK_BIAS_ZERO : NTK_BIAS_NONE;
            c.bias_out = v == 1 ? NTK_BIAS_NONE : NTK_BIAS_ZERO;
        }
        ntk_net *net = tu_net(&c, 4);
        const size_t N = 5;
        double *X = tu_gauss_x(8, N, c.n0), Y[5] = {0.3, -0.2, 0.5, 1.0, -1.0};
        size_t P = ntk_net_num_params(net);
        double *theta0 = malloc(P * sizeof *theta0), *grad = malloc(P * sizeof *grad), L;
        memcpy(theta0, ntk_net_params_const(net), P * sizeof *theta0);
        TU_OK(ntk_net_loss_grad(net, N, X, Y, NTK_LOSS_SUM, &L, grad));
        double Kd[25], K1[25], K2[25], fd[25];
        TU_OK(ntk_kernel_velocity(net, N, X, Y, NTK_LOSS_SUM, Kd));
        kernel_shifted(net, theta0, grad, 1e-6, N, X, K1);
        kernel_shifted(net, theta0, grad, -1e-6, N, X, K2);
        for (int i = 0; i < 25; i++) fd[i] = (K1[i] - K2[i]) / 2e-6;
        char what[96];
        snprintf(what, sizeof what, "relu pathwise velocity vs central difference, param %s, bias %s/%s",
                 ntk_param_name(c.param), ntk_bias_name(c.bias), ntk_bias_name(c.bias_out));
        TU_ASSERT_LE(tu_rel_fro(25, fd, Kd), 1e-6, what);
        free(theta0);
        free(grad);
        free(X);
        ntk_net_free(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_velocity_smooth),
        cmocka_unit_test(test_velocity_param_and_bias),
        cmocka_unit_test(test_velocity_relu_pathwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
