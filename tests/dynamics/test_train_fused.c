/* test_train_fused.c -- the fused gradient of one-hidden-layer networks (src/dynamics/train_fused.c),
 * which ntk_trainer_step takes for them.
 *
 * - tf_applies: depth 1, relu or identity, n0 <= 16, k <= 8 only;
 * - loss and gradient equal the batched BLAS path's (ntk_net_loss_grad) over input dimensions 1..5 and
 *   16 (the specialised loops and the generic one), k = 1 and 3, widths below, at and across the unit
 *   blocks, batches below one chunk, across chunks and with rows left over from the groups of four,
 *   both parameterizations, both first-layer scalings, all bias options, relu, frozen-gate relu and
 *   identity, mean and sum losses.  Tolerance 1e-12 relative (max norm): the same sums in another order,
 *   a few ulps of each of at most ~3000 terms (measured below 1e-14);
 * - for the smooth networks (identity, and relu with frozen gates, whose gates do not move with the
 *   parameters) central finite differences of the fused loss itself, 1e-7 relative (Frobenius): h = 1e-5
 *   on an O(1) loss, truncation ~h^2 and rounding ~eps / h, a wrong term lands near 1;
 * - 1 and 2 threads give bit-identical losses and gradients (the chunks do not depend on the threads);
 * - ntk_trainer_step (gd) on such a network moves theta by exactly -eta times the fused gradient, and its
 *   loss is the fused loss. */
#include "testutil.h"

#include "train_fused.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n0, width, k;
    ntk_act act;
    int gated;
    ntk_param param;
    ntk_bias bias, bias_out;
    ntk_first_layer first;
    ntk_loss loss;
    size_t N;
} tcase;

static ntk_net *case_net(const tcase *t, uint64_t seed)
{
    tu_netcfg c = tu_cfg(1, t->width, t->n0, t->k);
    c.act = t->act, c.param = t->param, c.bias = t->bias, c.bias_out = t->bias_out, c.first = t->first;
    ntk_net *net = tu_net(&c, seed);
    if (t->gated) {
        TU_OK(ntk_net_freeze_gates(net));
        /* the gates stay at the initialisation; the parameters move away from it */
        double *th = ntk_net_params(net);
        size_t P = ntk_net_num_params(net);
        double *d = malloc(P * sizeof *d);
        ntk_rng_normal(seed + 7, NTK_STREAM_TARGET, 1, 0, P, d);
        for (size_t i = 0; i < P; i++) th[i] += 0.3 * d[i];
        free(d);
    }
    return net;
}

static void targets(uint64_t seed, size_t n, double *Y) { ntk_rng_normal(seed, NTK_STREAM_TARGET, 0, 0, n, Y); }

/* The fused loss and gradient of the case at its seeded network. */
static void fused(ntk_net *net, const tcase *t, const double *X, const double *Y, double *L, double *g)
{
    tf_ws *w = NULL;
    TU_OK(tf_alloc(net, t->N, &w));
    TU_OK(tf_loss_grad(w, net, X, Y, t->loss, L, g));
    tf_free(w);
}

static const tcase CASES[] = {
    /* n0 width k  act               gated param            bias            bias_out        first             loss            N */
    {2, 1024, 1, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NONE, NTK_BIAS_NONE, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 256},
    {1, 7, 1, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 5},
    {2, 293, 1, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_ZERO, NTK_BIAS_NORMAL, NTK_FIRST_NONE, NTK_LOSS_SUM, 70},
    {3, 256, 1, NTK_ACT_RELU, 0, NTK_PARAM_STANDARD, NTK_BIAS_NORMAL, NTK_BIAS_NONE, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 33},
    {4, 513, 1, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MSE, 64},
    {5, 300, 1, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 41},
    {16, 40, 1, NTK_ACT_RELU, 0, NTK_PARAM_STANDARD, NTK_BIAS_NONE, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_SUM, 9},
    {2, 300, 3, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 37},
    {3, 64, 8, NTK_ACT_RELU, 0, NTK_PARAM_NTK, NTK_BIAS_NONE, NTK_BIAS_NONE, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 12},
    {2, 290, 1, NTK_ACT_RELU, 1, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 70},
    {5, 31, 2, NTK_ACT_RELU, 1, NTK_PARAM_STANDARD, NTK_BIAS_NONE, NTK_BIAS_NORMAL, NTK_FIRST_NONE, NTK_LOSS_SUM, 6},
    {2, 260, 1, NTK_ACT_IDENTITY, 0, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL, NTK_FIRST_FAN_IN, NTK_LOSS_MEAN, 35},
    {3, 20, 2, NTK_ACT_IDENTITY, 0, NTK_PARAM_STANDARD, NTK_BIAS_NONE, NTK_BIAS_NONE, NTK_FIRST_NONE, NTK_LOSS_SUM, 1},
};
enum { NCASES = sizeof CASES / sizeof CASES[0] };

static void test_applies(void **state)
{
    (void)state;
    struct {
        int depth, n0, k;
        ntk_act act;
        int want;
    } c[] = {{1, 2, 1, NTK_ACT_RELU, 1},  {1, 16, 8, NTK_ACT_IDENTITY, 1}, {2, 2, 1, NTK_ACT_RELU, 0},
             {0, 2, 1, NTK_ACT_RELU, 0},  {1, 17, 1, NTK_ACT_RELU, 0},     {1, 2, 9, NTK_ACT_RELU, 0},
             {1, 2, 1, NTK_ACT_TANH, 0}, {1, 2, 1, NTK_ACT_GELU, 0}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        tu_netcfg cfg = tu_cfg(c[i].depth, 16, c[i].n0, c[i].k);
        cfg.act = c[i].act;
        ntk_net *net = tu_net(&cfg, 1);
        assert_int_equal(tf_applies(net), c[i].want);
        tf_ws *w = NULL;
        if (!c[i].want) assert_int_equal(tf_alloc(net, 4, &w), NTK_EINVAL);
        assert_null(w);
        ntk_net_free(net);
    }
}

static void test_matches_batched(void **state)
{
    (void)state;
    for (int i = 0; i < NCASES; i++) {
        const tcase *t = &CASES[i];
        ntk_net *net = case_net(t, 100 + (uint64_t)i);
        size_t P = ntk_net_num_params(net), N = t->N, k = (size_t)t->k;
        double *X = tu_gauss_x(200 + (uint64_t)i, N, t->n0), *Y = malloc(N * k * sizeof *Y);
        double *g = malloc(P * sizeof *g), *gb = malloc(P * sizeof *gb), L, Lb;
        targets(300 + (uint64_t)i, N * k, Y);
        fused(net, t, X, Y, &L, g);
        TU_OK(ntk_net_loss_grad(net, N, X, Y, t->loss, &Lb, gb));
        char what[96];
        snprintf(what, sizeof what, "case %d: gradient against the batched path", i);
        TU_ASSERT_LE(tu_rel_max(P, g, gb), 1e-12, what);
        snprintf(what, sizeof what, "case %d: loss against the batched path", i);
        TU_ASSERT_LE(fabs(L - Lb), 1e-12 * fabs(Lb), what);
        free(X), free(Y), free(g), free(gb);
        ntk_net_free(net);
    }
}

static void test_finite_differences(void **state)
{
    (void)state;
    for (int i = 0; i < NCASES; i++) {
        const tcase *t = &CASES[i];
        if (t->act == NTK_ACT_RELU && !t->gated) continue; /* kinks: the batched comparison covers relu */
        ntk_net *net = case_net(t, 100 + (uint64_t)i);
        size_t P = ntk_net_num_params(net), N = t->N, k = (size_t)t->k;
        double *X = tu_gauss_x(200 + (uint64_t)i, N, t->n0), *Y = malloc(N * k * sizeof *Y);
        double *g = malloc(P * sizeof *g), *scr = malloc(P * sizeof *scr), *gfd = malloc(P * sizeof *gfd), L;
        targets(300 + (uint64_t)i, N * k, Y);
        fused(net, t, X, Y, &L, g);
        double *th = ntk_net_params(net);
        const double h = 1e-5;
        for (size_t p = 0; p < P; p++) {
            double old = th[p], Lp, Lm;
            th[p] = old + h;
            fused(net, t, X, Y, &Lp, scr);
            th[p] = old - h;
            fused(net, t, X, Y, &Lm, scr);
            th[p] = old;
            gfd[p] = (Lp - Lm) / (2 * h);
        }
        char what[96];
        snprintf(what, sizeof what, "case %d: gradient against central differences", i);
        TU_ASSERT_LE(tu_rel_fro(P, g, gfd), 1e-7, what);
        free(X), free(Y), free(g), free(scr), free(gfd);
        ntk_net_free(net);
    }
}

static void test_threads_identical(void **state)
{
    (void)state;
    int before = ntk_get_threads();
    for (int i = 0; i < NCASES; i++) {
        const tcase *t = &CASES[i];
        ntk_net *net = case_net(t, 100 + (uint64_t)i);
        size_t P = ntk_net_num_params(net), N = t->N, k = (size_t)t->k;
        double *X = tu_gauss_x(200 + (uint64_t)i, N, t->n0), *Y = malloc(N * k * sizeof *Y);
        double *g1 = malloc(P * sizeof *g1), *g2 = malloc(P * sizeof *g2), L1, L2;
        targets(300 + (uint64_t)i, N * k, Y);
        ntk_set_threads(1);
        fused(net, t, X, Y, &L1, g1);
        ntk_set_threads(2);
        fused(net, t, X, Y, &L2, g2);
        assert_memory_equal(&L1, &L2, sizeof L1);
        assert_memory_equal(g1, g2, P * sizeof *g1);
        free(X), free(Y), free(g1), free(g2);
        ntk_net_free(net);
    }
    ntk_set_threads(before);
}

/* The trainer's gd step is theta - eta g with the fused g, and its loss the fused loss, bit for bit. */
static void test_trainer_uses_it(void **state)
{
    (void)state;
    const tcase *t = &CASES[2];
    ntk_net *net = case_net(t, 5);
    size_t P = ntk_net_num_params(net), N = t->N;
    double *X = tu_gauss_x(6, N, t->n0), *Y = malloc(N * sizeof *Y);
    targets(7, N, Y);
    double *g = malloc(P * sizeof *g), *th = malloc(P * sizeof *th), L, Lt;
    ntk_train_opts o = ntk_train_defaults();
    o.loss = t->loss;
    o.lr = 0.05;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    for (int s = 0; s < 3; s++) {
        fused(net, t, X, Y, &L, g);
        memcpy(th, ntk_net_params_const(net), P * sizeof *th);
        for (size_t i = 0; i < P; i++) th[i] -= o.lr * g[i];
        TU_OK(ntk_trainer_step(tr, &Lt));
        assert_memory_equal(&L, &Lt, sizeof L);
        assert_memory_equal(th, ntk_net_params_const(net), P * sizeof *th);
    }
    ntk_trainer_free(tr);
    free(X), free(Y), free(g), free(th);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_applies), cmocka_unit_test(test_matches_batched),
                                       cmocka_unit_test(test_finite_differences),
                                       cmocka_unit_test(test_threads_identical),
                                       cmocka_unit_test(test_trainer_uses_it)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
