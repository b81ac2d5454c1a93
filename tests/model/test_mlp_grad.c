/* test_mlp_grad.c -- the gradient of L = c/2 sum ||f - y||^2 against central
 * finite differences, for every activation, both parameterizations, all bias
 * options and k = 1, 3.
 *
 * Tolerance 1e-7 (relative, Frobenius): central differences with h = 1e-5 on a
 * smooth loss of size O(1) have truncation error ~h^2 |L'''| ~ 1e-10 and
 * rounding error ~eps |L| / h ~ 1e-11, so a correct gradient lands near 1e-9
 * and a wrong scale factor or missing term lands near 1.
 *
 * The activations themselves: phi' and phi'' against central differences of phi and phi'
 * for every smooth activation, and sigmoid against formulas written differently over its
 * whole range, tails included. */
#include "testutil.h"

#include "act.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ReLU: a parameter perturbation that flips any unit's sign changes f
 * non-smoothly; such coordinates are skipped (and counted). */
static int relu_pattern(ntk_net *net, size_t N, const double *X, unsigned char *pat)
{
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    int d = ntk_net_num_layers(net), m = 0;
    for (int l = 1; l < d; l++) {
        size_t n = N * (size_t)ntk_net_width(net, l);
        double *h = malloc(n * sizeof *h);
        TU_OK(ntk_feats_act(f, l, h));
        for (size_t i = 0; i < n; i++) pat[m++] = h[i] > 0;
        free(h);
    }
    ntk_feats_free(f);
    return m;
}

/* The comparison every gradient test makes: the relative Frobenius distance between a gradient g: [P]
 * of L (loss on X: [N x n0], Y: [N x k]) at the net's parameters and central finite differences of L,
 * over the coordinates whose +-h perturbation flips no ReLU unit (counted in *skipped). */
static double grad_fd_error(ntk_net *net, size_t N, const double *X, const double *Y, ntk_loss loss, const double *g,
                            size_t *skipped)
{
    const ntk_spec *sp = ntk_net_spec(net);
    size_t P = ntk_net_num_params(net);
    double *gfd = calloc(P, sizeof *gfd), *scratch = malloc(P * sizeof *scratch);
    double *theta = ntk_net_params(net);
    const double h = 1e-5;
    size_t units = 0;
    for (int l = 1; l < ntk_net_num_layers(net); l++) units += (size_t)ntk_net_width(net, l);
    unsigned char *pat0 = malloc(N * units + 1), *pat1 = malloc(N * units + 1);
    int npat = sp->act == NTK_ACT_RELU ? relu_pattern(net, N, X, pat0) : 0;
    unsigned char *keep = calloc(P, 1);
    *skipped = 0;
    for (size_t p = 0; p < P; p++) {
        double old = theta[p], Lp, Lm;
        theta[p] = old + h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_loss_grad(net, N, X, Y, loss, &Lp, scratch));
        bool flip = false; /* the ReLU pattern changed within +-h: finite differences unreliable */
        if (npat) {
            relu_pattern(net, N, X, pat1);
            flip |= memcmp(pat0, pat1, (size_t)npat) != 0;
        }
        theta[p] = old - h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_loss_grad(net, N, X, Y, loss, &Lm, scratch));
        if (npat) {
            relu_pattern(net, N, X, pat1);
            flip |= memcmp(pat0, pat1, (size_t)npat) != 0;
        }
        theta[p] = old;
        ntk_net_params_changed(net);
        gfd[p] = (Lp - Lm) / (2 * h);
        keep[p] = !flip;
        *skipped += flip;
    }
    double num = 0, den = 0; /* compare on the kept coordinates */
    for (size_t p = 0; p < P; p++)
        if (keep[p]) {
            num += (g[p] - gfd[p]) * (g[p] - gfd[p]);
            den += gfd[p] * gfd[p];
        }
    assert_true(den > 0);
    free(keep);
    free(pat0);
    free(pat1);
    free(scratch);
    free(gfd);
    return sqrt(num / den);
}

static void check_grad(tu_netcfg c, ntk_loss loss, double tol)
{
    const size_t N = 5;
    ntk_net *net = tu_net(&c, 11);
    double *X = tu_gauss_x(3, N, c.n0);
    double *Y = malloc(N * (size_t)c.k * sizeof *Y);
    ntk_rng_normal(5, NTK_STREAM_TARGET, 0, 0, N * (size_t)c.k, Y);
    size_t P = ntk_net_num_params(net), skipped;
    double *g = malloc(P * sizeof *g), L0;
    TU_OK(ntk_net_loss_grad(net, N, X, Y, loss, &L0, g));
    double err = grad_fd_error(net, N, X, Y, loss, g, &skipped);
    char what[160];
    snprintf(what, sizeof what, "grad vs FD act=%s param=%s bias=%s k=%d loss=%s (P=%zu, skipped %zu)",
             ntk_act_name(c.act), ntk_param_name(c.param), ntk_bias_name(c.bias), c.k, ntk_loss_name(loss),
             P, skipped);
    assert_true(skipped * 10 < P); /* the check must cover most coordinates */
    TU_ASSERT_LE(err, tol, what);
    free(g);
    free(Y);
    free(X);
    ntk_net_free(net);
}

static void test_grad_all_activations(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_IDENTITY, NTK_ACT_RELU, NTK_ACT_SIGMOID};
    for (int a = 0; a < 6; a++) {
        for (int param = 0; param < 2; param++) {
            for (int b = 0; b < 3; b++) {
                tu_netcfg c = tu_cfg(2, 6, 3, 1 + 2 * (b == 1));
                c.act = acts[a];
                c.param = (ntk_param)param;
                c.bias = c.bias_out = (ntk_bias)b;
                c.first = b == 2 ? NTK_FIRST_NONE : NTK_FIRST_FAN_IN;
                if (b == 2) { /* zero-init bias: perturb away from the trivial point */
                    c.bias_out = NTK_BIAS_NORMAL;
                }
                check_grad(c, b == 0 ? NTK_LOSS_SUM : NTK_LOSS_MEAN, 1e-7);
            }
        }
    }
}

/* Central differences with h = 1e-5 on [-6, 6], where |phi'''|, |phi''''| <= 2 for erf, tanh,
 * gelu and sigmoid: truncation h^2 / 6 * 2 ~ 3e-11, rounding eps / h ~ 1e-11; 1e-9 absolute on
 * O(1) values leaves margin while a wrong factor or sign is off by O(0.1). */
static void test_activation_derivatives(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_SIGMOID, NTK_ACT_IDENTITY};
    const double h = 1e-5;
    for (int a = 0; a < 5; a++) {
        double worst1 = 0, worst2 = 0;
        for (int i = -600; i <= 600; i++) {
            double z = i / 100.0 + 1e-3 / 3; /* off the round numbers */
            double fd1 = (act_phi(acts[a], z + h) - act_phi(acts[a], z - h)) / (2 * h);
            double fd2 = (act_dphi(acts[a], z + h) - act_dphi(acts[a], z - h)) / (2 * h);
            worst1 = fmax(worst1, fabs(fd1 - act_dphi(acts[a], z)));
            worst2 = fmax(worst2, fabs(fd2 - act_d2phi(acts[a], z)));
        }
        char what[96];
        snprintf(what, sizeof what, "phi' vs central difference of phi, act %s", ntk_act_name(acts[a]));
        TU_ASSERT_LE(worst1, 1e-9, what);
        snprintf(what, sizeof what, "phi'' vs central difference of phi', act %s", ntk_act_name(acts[a]));
        TU_ASSERT_LE(worst2, 1e-9, what);
    }
}

/* Sigmoid over its whole range against formulas written differently:
 *   phi = e^{z/2} / (2 cosh(z/2)),  phi' = 1 / (4 cosh^2(z/2)),  phi'' = -tanh(z/2) / (4 cosh^2(z/2)).
 * Both sides are accurate to a few ulps in relative terms wherever the values are normal
 * numbers (|z| <= 700), so 1e-13 relative; the naive phi' = phi (1 - phi) fails it from z = 7 on
 * (relative error ~eps e^z) and is 0 from z ~ 37. */
static void test_sigmoid_tails(void **state)
{
    (void)state;
    double worst[3] = {0, 0, 0};
    for (int i = -7000; i <= 7000; i++) {
        double z = i / 10.0 + 0.01, c = cosh(z / 2), c2 = 4 * c * c;
        double ref[3] = {exp(z / 2) / (2 * c), 1 / c2, -tanh(z / 2) / c2};
        double got[3] = {act_phi(NTK_ACT_SIGMOID, z), act_dphi(NTK_ACT_SIGMOID, z), act_d2phi(NTK_ACT_SIGMOID, z)};
        for (int k = 0; k < 3; k++) worst[k] = fmax(worst[k], fabs(got[k] - ref[k]) / fabs(ref[k]));
    }
    TU_ASSERT_LE(worst[0], 1e-13, "sigmoid vs e^{z/2} / (2 cosh(z/2)), relative");
    TU_ASSERT_LE(worst[1], 1e-13, "sigmoid' vs 1 / (4 cosh^2(z/2)), relative");
    TU_ASSERT_LE(worst[2], 1e-13, "sigmoid'' vs -tanh(z/2) / (4 cosh^2(z/2)), relative");
    /* beyond: the exact limits, never NaN */
    double big[] = {800.0, 1e300, INFINITY};
    for (int i = 0; i < 3; i++) {
        assert_true(act_phi(NTK_ACT_SIGMOID, big[i]) == 1.0 && act_phi(NTK_ACT_SIGMOID, -big[i]) == 0.0);
        assert_true(act_dphi(NTK_ACT_SIGMOID, big[i]) == 0.0 && act_dphi(NTK_ACT_SIGMOID, -big[i]) == 0.0);
        assert_true(act_d2phi(NTK_ACT_SIGMOID, big[i]) == 0.0 && act_d2phi(NTK_ACT_SIGMOID, -big[i]) == 0.0);
    }
    assert_true(act_phi(NTK_ACT_SIGMOID, 0.0) == 0.5 && act_dphi(NTK_ACT_SIGMOID, 0.0) == 0.25);
    assert_true(act_d2phi(NTK_ACT_SIGMOID, 0.0) == 0.0);
}

static void test_grad_depth0_and_deep(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(0, 1, 4, 2); /* linear model */
    c.act = NTK_ACT_TANH;
    check_grad(c, NTK_LOSS_SUM, 1e-7);
    c = tu_cfg(5, 4, 3, 1);
    c.act = NTK_ACT_GELU;
    check_grad(c, NTK_LOSS_MEAN, 1e-7);
}

/* The comparison accepts the right gradient and rejects wrong ones fed to it: a 0.1% scale error,
 * the mean loss's gradient given for the sum loss, one coordinate dropped, two coordinates of
 * different layers swapped, and one layer's bias block with its sign flipped.  Guards against a
 * check that cannot fail. */
static void test_grad_check_detects_error(void **state)
{
    (void)state;
    const double tol = 1e-7; /* the bound the gradient tests use */
    tu_netcfg c = tu_cfg(1, 4, 3, 1);
    c.act = NTK_ACT_TANH;
    ntk_net *net = tu_net(&c, 1);
    double *X = tu_gauss_x(2, 3, c.n0), Y[3] = {0.1, -0.2, 0.3}, Ls, Lm;
    size_t P = ntk_net_num_params(net), skipped;
    double *gs = malloc(P * sizeof *gs), *gm = malloc(P * sizeof *gm), *bad = malloc(P * sizeof *bad);
    TU_OK(ntk_net_loss_grad(net, 3, X, Y, NTK_LOSS_SUM, &Ls, gs));
    TU_OK(ntk_net_loss_grad(net, 3, X, Y, NTK_LOSS_MEAN, &Lm, gm));
    assert_true(fabs(Lm - Ls / 3) <= 1e-15 * Ls); /* mean = sum / N exactly */
    TU_ASSERT_LE(grad_fd_error(net, 3, X, Y, NTK_LOSS_SUM, gs, &skipped), tol, "the right gradient is accepted");
    ntk_layer l1, l2;
    TU_OK(ntk_net_layer(net, 1, &l1));
    TU_OK(ntk_net_layer(net, 2, &l2));
    const double *th = ntk_net_params_const(net);
    size_t w1 = (size_t)(l1.W - th), b1 = (size_t)(l1.b - th), w2 = (size_t)(l2.W - th), big = 0;
    for (size_t p = 0; p < P; p++) big = fabs(gs[p]) > fabs(gs[big]) ? p : big;
    for (int kind = 0; kind < 5; kind++) {
        memcpy(bad, kind == 1 ? gm : gs, P * sizeof *bad);
        const char *what = "";
        switch (kind) {
        case 0:
            for (size_t p = 0; p < P; p++) bad[p] *= 1.001;
            what = "a 0.1% scale error";
            break;
        case 1:
            what = "the mean loss's gradient for the sum loss";
            break;
        case 2:
            bad[big] = 0;
            what = "the largest coordinate dropped";
            break;
        case 3:
            bad[w1] = gs[w2], bad[w2] = gs[w1];
            what = "W1[0,0] and W2[0,0] swapped";
            break;
        case 4:
            for (int i = 0; i < ntk_net_width(net, 1); i++) bad[b1 + (size_t)i] = -gs[b1 + (size_t)i];
            what = "the sign of b1's block flipped";
            break;
        }
        double err = grad_fd_error(net, 3, X, Y, NTK_LOSS_SUM, bad, &skipped);
        if (!(err > tol)) fail_msg("a wrong gradient passes the check (%s): error %.3e <= %.1e", what, err, tol);
    }
    free(bad);
    free(gs);
    free(gm);
    free(X);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_all_activations),
        cmocka_unit_test(test_activation_derivatives),
        cmocka_unit_test(test_sigmoid_tails),
        cmocka_unit_test(test_grad_depth0_and_deep),
        cmocka_unit_test(test_grad_check_detects_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
