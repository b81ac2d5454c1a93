/* test_train.c -- optimizers and the training loop's invariants.
 *
 * - gd, momentum and adam steps of a model without hidden layers equal the documented updates
 *   computed here from the closed-form gradient of the linear model (docs/conventions.md);
 * - one gd step of a deep tanh network is -eta times the central finite-difference gradient of the
 *   loss, computed here from the network's outputs;
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

/* L = c/2 sum_i ||f(x_i) - y_i||^2 from the outputs F: [N x k] (c = 1 or 1/N). */
static double loss_of(size_t N, size_t k, const double *F, const double *Y, ntk_loss loss)
{
    double L = 0;
    for (size_t i = 0; i < N * k; i++) L += 0.5 * (F[i] - Y[i]) * (F[i] - Y[i]);
    return loss == NTK_LOSS_MEAN ? L / (double)N : L;
}

/* Depth 0, NTK parameterization: f(x) = c_w W x + c_b b with c_w = sqrt(sw2_out / n0), c_b = sb
 * (docs/conventions.md), theta = (W row-major [k x n0], b [k]).  Three steps of gd, momentum and adam
 * (mean loss, full batch) against the documented updates with the closed-form gradient
 *   dL/dW = c c_w sum_i r_i x_i^T,  dL/db = c c_b sum_i r_i,  r_i = f(x_i) - y_i.
 * 1e-13: the same sums in another order (a few ulps of O(1) values, over three steps). */
static void test_steps_match_closed_form(void **state)
{
    (void)state;
    enum { N = 7, n0 = 3, k = 2, P = k * n0 + k };
    ntk_opt opts[] = {NTK_OPT_GD, NTK_OPT_MOMENTUM, NTK_OPT_ADAM};
    for (int o = 0; o < 3; o++) {
        tu_netcfg c = tu_cfg(0, 1, n0, k);
        ntk_net *net = tu_net(&c, 4);
        assert_int_equal(ntk_net_num_params(net), P);
        double *X = tu_gauss_x(2, N, n0), Y[N * k], th[P], v[P] = {0}, s2[P] = {0};
        ntk_rng_normal(3, NTK_STREAM_TARGET, 0, 0, N * k, Y);
        memcpy(th, ntk_net_params_const(net), sizeof th);
        const double cw = sqrt(c.sw2_out / n0), cb = c.sb, cl = 1.0 / N;
        ntk_train_opts to = ntk_train_defaults();
        to.opt = opts[o];
        to.lr = opts[o] == NTK_OPT_ADAM ? 0.05 : 0.3;
        ntk_trainer *tr = NULL;
        TU_OK(ntk_trainer_alloc(net, N, X, Y, &to, &tr));
        for (int t = 1; t <= 3; t++) {
            double g[P] = {0}, L = 0, Lt;
            for (int i = 0; i < N; i++)
                for (int a = 0; a < k; a++) {
                    double f = cb * th[k * n0 + a];
                    for (int j = 0; j < n0; j++) f += cw * th[a * n0 + j] * X[i * n0 + j];
                    double r = f - Y[i * k + a];
                    L += 0.5 * cl * r * r;
                    for (int j = 0; j < n0; j++) g[a * n0 + j] += cl * cw * r * X[i * n0 + j];
                    g[k * n0 + a] += cl * cb * r;
                }
            for (int p = 0; p < P; p++) {
                if (opts[o] == NTK_OPT_GD) {
                    th[p] -= to.lr * g[p];
                } else if (opts[o] == NTK_OPT_MOMENTUM) { /* v = mu v + g, theta -= eta v */
                    v[p] = to.momentum * v[p] + g[p];
                    th[p] -= to.lr * v[p];
                } else { /* bias-corrected moments, theta -= eta mhat / (sqrt(vhat) + eps) */
                    v[p] = to.beta1 * v[p] + (1 - to.beta1) * g[p];
                    s2[p] = to.beta2 * s2[p] + (1 - to.beta2) * g[p] * g[p];
                    double mh = v[p] / (1 - pow(to.beta1, t)), vh = s2[p] / (1 - pow(to.beta2, t));
                    th[p] -= to.lr * mh / (sqrt(vh) + to.adam_eps);
                }
            }
            TU_OK(ntk_trainer_step(tr, &Lt));
            char what[96];
            snprintf(what, sizeof what, "%s step %d: loss", ntk_opt_name(opts[o]), t);
            TU_ASSERT_LE(fabs(Lt - L) / L, 1e-13, what);
            snprintf(what, sizeof what, "%s step %d: parameters vs the closed-form update", ntk_opt_name(opts[o]), t);
            TU_ASSERT_LE(tu_rel_max(P, ntk_net_params_const(net), th), 1e-13, what);
        }
        assert_int_equal(ntk_trainer_step_count(tr), 3);
        ntk_trainer_free(tr);
        free(X);
        ntk_net_free(net);
    }
}

/* One gd step of a deep tanh network moves theta by -eta times the gradient: compared with central
 * finite differences (h = 1e-5) of the loss computed here from ntk_net_forward's outputs.  1e-7
 * (relative, Frobenius) as in test_mlp_grad: truncation ~h^2 |L'''| ~ 1e-10, rounding ~eps |L| / h
 * ~ 1e-11, while a wrong factor or a missing term gives O(1). */
static void test_gd_step_matches_fd(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(2, 8, 3, 2);
    c.act = NTK_ACT_TANH;
    ntk_net *net = tu_net(&c, 1);
    const size_t N = 7, k = 2;
    double *X = tu_gauss_x(2, N, 3), Y[14], F[14];
    ntk_rng_normal(3, NTK_STREAM_TARGET, 0, 0, 14, Y);
    size_t P = ntk_net_num_params(net);
    double *th0 = malloc(P * sizeof *th0), *gfd = malloc(P * sizeof *gfd), *step = malloc(P * sizeof *step);
    double *th = ntk_net_params(net), h = 1e-5, L0, L2;
    memcpy(th0, th, P * sizeof *th0);
    TU_OK(ntk_net_forward(net, N, X, F));
    L0 = loss_of(N, k, F, Y, NTK_LOSS_MEAN);
    for (size_t p = 0; p < P; p++) {
        double Lp, Lm;
        th[p] = th0[p] + h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_forward(net, N, X, F));
        Lp = loss_of(N, k, F, Y, NTK_LOSS_MEAN);
        th[p] = th0[p] - h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_forward(net, N, X, F));
        Lm = loss_of(N, k, F, Y, NTK_LOSS_MEAN);
        th[p] = th0[p];
        ntk_net_params_changed(net);
        gfd[p] = (Lp - Lm) / (2 * h);
    }
    ntk_train_opts o = ntk_train_defaults(); /* gd on the mean loss */
    o.lr = 0.3;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    TU_OK(ntk_trainer_step(tr, &L2));
    TU_ASSERT_LE(fabs(L2 - L0) / L0, 1e-14, "the step reports the loss before it (same outputs, summed in another order)");
    for (size_t p = 0; p < P; p++) step[p] = (ntk_net_params_const(net)[p] - th0[p]) / -o.lr;
    TU_ASSERT_LE(tu_rel_fro(P, step, gfd), 1e-7, "gd step / -eta vs the finite-difference gradient");
    assert_int_equal(ntk_trainer_step_count(tr), 1);
    ntk_trainer_free(tr);
    free(th0);
    free(gfd);
    free(step);
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
        cmocka_unit_test(test_steps_match_closed_form),
        cmocka_unit_test(test_gd_step_matches_fd),
        cmocka_unit_test(test_depth0_follows_linear_dynamics),
        cmocka_unit_test(test_deep_linear_kernel_moves),
        cmocka_unit_test(test_resume_bit_identical),
        cmocka_unit_test(test_nonfinite_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
