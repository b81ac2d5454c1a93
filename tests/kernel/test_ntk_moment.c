/* test_ntk_moment.c -- the exact first moment of the NTK diagonal.
 *
 * ReLU, NTK parameterization, sigma_w^2 = 2 (hidden) / 1 (readout), trainable
 * biases initialised to zero with c_b = 1, d = L+1 weight layers and
 * s = ||x||^2 / n0:  E[K(x,x)] = d s + (d+1)/2 at every width (d s without
 * biases).  The Monte Carlo mean over M initialisations must lie within 4
 * standard errors (a 4-sigma band: false alarm ~6e-5 per check); a formula off
 * by 1/2 must lie outside it (the check has power). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

static void mc_diag(int depth, int width, double s, ntk_bias bias, int M, double *mean, double *se)
{
    int *w = malloc((size_t)(depth ? depth : 1) * sizeof *w);
    for (int l = 0; l < depth; l++) w[l] = width;
    ntk_spec sp = ntk_spec_default();
    sp.depth = depth;
    sp.widths = w;
    sp.n0 = 8;
    sp.sw2 = 2.0;
    sp.sw2_out = 1.0;
    sp.sb = 1.0;
    sp.bias = sp.bias_out = bias;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&sp, &net));
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, 1, NTK_F64, &f));
    double x[8];
    TU_OK(ntk_data_gaussian(99, 1, 8, x));
    for (int j = 0; j < 8; j++) x[j] *= sqrt(s); /* ||x||^2 = s n0 */
    double sum = 0, sum2 = 0;
    for (int m = 0; m < M; m++) {
        TU_OK(ntk_net_init(net, 1000 + (uint64_t)m));
        TU_OK(ntk_feats_compute(net, f, x));
        double kxx;
        TU_OK(ntk_kernel_diag(net, f, &kxx));
        sum += kxx;
        sum2 += kxx * kxx;
    }
    *mean = sum / M;
    double var = (sum2 - M * (*mean) * (*mean)) / (M - 1);
    *se = sqrt(var / M);
    ntk_feats_free(f);
    ntk_net_free(net);
    free(w);
}

static void test_relu_diag_mean(void **state)
{
    (void)state;
    struct { int depth, width; double s; } cells[] = {{0, 1, 1.0}, {1, 32, 1.0}, {3, 16, 0.5},
                                                      {5, 64, 2.0}, {9, 24, 1.0}};
    int powered = 0;
    for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
        int d = cells[c].depth + 1;
        double s = cells[c].s, mean, se;
        mc_diag(cells[c].depth, cells[c].width, s, NTK_BIAS_ZERO, 3000, &mean, &se);
        double expect = d * s + (d + 1) / 2.0;
        char what[160];
        snprintf(what, sizeof what, "|mean - (d s + (d+1)/2)| / se at depth %d width %d s %g (mean %.4f, theory %.4f)",
                 cells[c].depth, cells[c].width, s, mean, expect);
        if (cells[c].depth == 0) /* linear model: K is deterministic, exact equality */
            TU_ASSERT_LE(fabs(mean - expect), 1e-12 * expect, what);
        else
            TU_ASSERT_LE(fabs(mean - expect) / se, 4.0, what);
        print_message("depth %d width %d s %g: mean %.4f theory %.4f se %.4f\n", cells[c].depth, cells[c].width, s, mean, expect, se);
        if (cells[c].depth > 0 && 8 * se < 0.5) { /* power: a formula off by 1/2 is rejected */
            assert_true(fabs(mean - (expect - 0.5)) / se > 4.0);
            powered++;
        }
        mc_diag(cells[c].depth, cells[c].width, s, NTK_BIAS_NONE, 3000, &mean, &se);
        snprintf(what, sizeof what, "|mean - d s| / se without biases at depth %d width %d s %g (mean %.4f)",
                 cells[c].depth, cells[c].width, s, mean);
        if (cells[c].depth == 0)
            TU_ASSERT_LE(fabs(mean - d * s), 1e-12 * d * s, what);
        else
            TU_ASSERT_LE(fabs(mean - d * s) / se, 4.0, what);
    }
    assert_true(powered >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_relu_diag_mean)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
