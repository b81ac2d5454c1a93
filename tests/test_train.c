/* test_train.c -- optimizers and the training loop's invariants.
 *
 * - gd equals theta - eta grad exactly (same operations);
 * - a model without hidden layers has a constant kernel K, so gd follows
 *   f_t = y + (I - eta c K)^t (f_0 - y) exactly; compared after 50 steps with
 *   the matrix recursion iterated in the test (rounding only: 1e-10);
 * - a deep linear network's kernel does move;
 * - minibatches depend only on (seed, step): a run continued from saved
 *   parameters and optimizer state is bit-identical to an uninterrupted one;
 * - a non-finite loss stops the step with NTK_ENUMERIC and keeps the parameters. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_gd_step(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(2, 8, 3, 2);
    c.act = NTK_ACT_TANH;
    ntk_net *net = tu_net(&c, 1);
    const size_t N = 7;
    double *X = tu_gauss_x(2, N, 3), Y[14];
    ntk_rng_normal(3, NTK_STREAM_TARGET, 0, 0, 14, Y);
    size_t P = ntk_net_num_params(net);
    double *th0 = malloc(P * sizeof *th0), *g = malloc(P * sizeof *g), L, L2;
    memcpy(th0, ntk_net_params_const(net), P * sizeof *th0);
    TU_OK(ntk_net_loss_grad(net, N, X, Y, NTK_LOSS_MEAN, &L, g));
    ntk_train_opts o = ntk_train_defaults();
    o.lr = 0.3;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    TU_OK(ntk_trainer_step(tr, &L2));
    assert_true(L2 == L);
    const double *th = ntk_net_params_const(net);
    for (size_t i = 0; i < P; i++) assert_true(th[i] == th0[i] - 0.3 * g[i]);
    assert_int_equal(ntk_trainer_step_count(tr), 1);
    ntk_trainer_free(tr);
    free(th0);
    free(g);
    free(X);
    ntk_net_free(net);
}

static void test_depth0_follows_linear_dynamics(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(0, 1, 4, 1);
    c.act = NTK_ACT_IDENTITY;
    ntk_net *net = tu_net(&c, 5);
    const size_t N = 6;
    double *X = tu_gauss_x(6, N, 4), Y[6], f[6], r[6], r2[6], K[36];
    ntk_rng_normal(7, NTK_STREAM_TARGET, 0, 0, 6, Y);
    ntk_feats *fe = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &fe));
    TU_OK(ntk_feats_compute(net, fe, X));
    TU_OK(ntk_kernel_full(net, fe, K, NULL));
    TU_OK(ntk_net_forward(net, N, X, f));
    for (int i = 0; i < 6; i++) r[i] = f[i] - Y[i];
    ntk_train_opts o = ntk_train_defaults();
    o.loss = NTK_LOSS_SUM;
    o.lr = 0.05;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    double L;
    for (int t = 0; t < 50; t++) {
        TU_OK(ntk_trainer_step(tr, &L));
        for (int i = 0; i < 6; i++) { /* r <- (I - eta K) r */
            double s = 0;
            for (int j = 0; j < 6; j++) s += K[i * 6 + j] * r[j];
            r2[i] = r[i] - o.lr * s;
        }
        memcpy(r, r2, sizeof r);
    }
    TU_OK(ntk_net_forward(net, N, X, f));
    double ft[6];
    for (int i = 0; i < 6; i++) ft[i] = Y[i] + r[i];
    TU_ASSERT_LE(tu_rel_fro(6, f, ft), 1e-10, "depth-0 trajectory vs (I - eta K)^t");
    double K2[36];
    TU_OK(ntk_feats_compute(net, fe, X));
    TU_OK(ntk_kernel_full(net, fe, K2, NULL));
    TU_ASSERT_LE(tu_rel_fro(36, K2, K), 1e-15, "depth-0 kernel is constant");
    ntk_trainer_free(tr);
    ntk_feats_free(fe);
    free(X);
    ntk_net_free(net);
}

static void test_deep_linear_kernel_moves(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(3, 8, 3, 1);
    c.act = NTK_ACT_IDENTITY;
    ntk_net *net = tu_net(&c, 2);
    const size_t N = 5;
    double *X = tu_gauss_x(3, N, 3), Y[5] = {1, -1, 2, 0.5, -0.3}, K0[25], K1[25], L;
    ntk_feats *fe = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &fe));
    TU_OK(ntk_feats_compute(net, fe, X));
    TU_OK(ntk_kernel_full(net, fe, K0, NULL));
    ntk_train_opts o = ntk_train_defaults();
    o.lr = 0.05;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    for (int t = 0; t < 20; t++) TU_OK(ntk_trainer_step(tr, &L));
    TU_OK(ntk_feats_compute(net, fe, X));
    TU_OK(ntk_kernel_full(net, fe, K1, NULL));
    assert_true(tu_rel_fro(25, K1, K0) > 1e-3);
    ntk_trainer_free(tr);
    ntk_feats_free(fe);
    free(X);
    ntk_net_free(net);
}

static size_t run_steps(ntk_opt opt, int steps_a, int steps_b, double *theta_out, size_t cap)
{
    tu_netcfg c = tu_cfg(2, 10, 3, 1);
    c.act = NTK_ACT_GELU;
    ntk_net *net = tu_net(&c, 8);
    const size_t N = 12;
    double *X = tu_gauss_x(4, N, 3), Y[12], L;
    ntk_rng_normal(9, NTK_STREAM_TARGET, 0, 0, 12, Y);
    ntk_train_opts o = ntk_train_defaults();
    o.opt = opt;
    o.batch = 5;
    o.lr = opt == NTK_OPT_ADAM ? 0.01 : 0.1;
    o.seed = 77;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    for (int t = 0; t < steps_a; t++) TU_OK(ntk_trainer_step(tr, &L));
    if (steps_b > 0) { /* "checkpoint": parameters + optimizer state into a fresh trainer */
        size_t sl = ntk_trainer_state_len(tr);
        double *st = malloc(sl * sizeof *st);
        ntk_trainer_state_get(tr, st);
        long step = ntk_trainer_step_count(tr);
        ntk_trainer_free(tr);
        TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
        ntk_trainer_state_set(tr, st, step);
        free(st);
        for (int t = 0; t < steps_b; t++) TU_OK(ntk_trainer_step(tr, &L));
    }
    size_t P = ntk_net_num_params(net);
    assert_true(P <= cap);
    memcpy(theta_out, ntk_net_params_const(net), P * sizeof *theta_out);
    ntk_trainer_free(tr);
    free(X);
    ntk_net_free(net);
    return P;
}

static void test_resume_bit_identical(void **state)
{
    (void)state;
    const size_t cap = 1024;
    double *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    ntk_opt opts[] = {NTK_OPT_SGD, NTK_OPT_MOMENTUM, NTK_OPT_ADAM};
    for (int i = 0; i < 3; i++) {
        size_t P = run_steps(opts[i], 9, 0, a, cap);
        assert_int_equal(run_steps(opts[i], 4, 5, b, cap), P);
        assert_memory_equal(a, b, P * sizeof *a);
    }
    free(a);
    free(b);
}

static void test_nonfinite_stops(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(1, 4, 2, 1);
    ntk_net *net = tu_net(&c, 1);
    double X[4] = {1, 2, 3, 4}, Y[2] = {NAN, 0}, L;
    size_t P = ntk_net_num_params(net);
    double *th0 = malloc(P * sizeof *th0);
    memcpy(th0, ntk_net_params_const(net), P * sizeof *th0);
    ntk_train_opts o = ntk_train_defaults();
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, 2, X, Y, &o, &tr));
    assert_int_equal(ntk_trainer_step(tr, &L), NTK_ENUMERIC);
    assert_memory_equal(th0, ntk_net_params_const(net), P * sizeof *th0);
    ntk_train_opts bad = o;
    bad.opt = NTK_OPT_SGD;
    bad.batch = 0;
    ntk_trainer *t2 = NULL;
    assert_int_equal(ntk_trainer_alloc(net, 2, X, Y, &bad, &t2), NTK_EINVAL);
    ntk_trainer_free(tr);
    free(th0);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gd_step),
        cmocka_unit_test(test_depth0_follows_linear_dynamics),
        cmocka_unit_test(test_deep_linear_kernel_moves),
        cmocka_unit_test(test_resume_bit_identical),
        cmocka_unit_test(test_nonfinite_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
