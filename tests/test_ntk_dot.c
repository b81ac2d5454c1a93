/* test_ntk_dot.c -- the kernel velocity Kdot against finite differences of
 * the kernel along the negative gradient.
 *
 * Forward differences (K(theta + eps v) - K(theta)) / eps, v = -grad L, carry
 * an O(eps) error: halving eps must halve the error (ratio in [1.7, 2.3] --
 * the O(eps^2) remainder moves it by ~eps relative) -- the O(eps) convergence
 * the acceptance asks to demonstrate.  Central differences are O(eps^2): at
 * eps = 1e-4 they agree to ~1e-8 relative (1e-6 asserted). */
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

static void check_velocity(ntk_act act, int k, ntk_loss loss)
{
    tu_netcfg c = tu_cfg(3, 12, 4, k);
    c.act = act;
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
    char what[128];
    snprintf(what, sizeof what, "forward-difference error halves with eps (act %s, k %d): %.3g %.3g %.3g",
             ntk_act_name(act), k, err[0], err[1], err[2]);
    for (int e = 0; e < 2; e++) {
        double ratio = err[e] / err[e + 1];
        if (!(ratio > 1.7 && ratio < 2.3)) fail_msg("%s", what);
    }
    kernel_shifted(net, theta0, grad, 1e-4, N, X, K1);
    kernel_shifted(net, theta0, grad, -1e-4, N, X, K2);
    for (size_t i = 0; i < R * R; i++) fd[i] = (K1[i] - K2[i]) / 2e-4;
    TU_ASSERT_LE(tu_rel_fro(R * R, fd, Kd), 1e-6, "central difference vs Kdot");
    free(Kd); free(K0); free(K1); free(K2); free(fd); free(theta0); free(grad); free(X); free(Y);
    ntk_net_free(net);
}

static void test_velocity_smooth(void **state)
{
    (void)state;
    check_velocity(NTK_ACT_ERF, 1, NTK_LOSS_SUM);
    check_velocity(NTK_ACT_TANH, 2, NTK_LOSS_MEAN);
    check_velocity(NTK_ACT_GELU, 1, NTK_LOSS_MEAN);
}

/* ReLU: along a step small enough that no unit changes sign, the kernel is a
 * polynomial in eps and the pathwise velocity is its exact derivative. */
static void test_velocity_relu_pathwise(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(2, 16, 3, 1);
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
    TU_ASSERT_LE(tu_rel_fro(25, fd, Kd), 1e-6, "relu pathwise velocity vs central difference");
    free(theta0);
    free(grad);
    free(X);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_velocity_smooth),
        cmocka_unit_test(test_velocity_relu_pathwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
