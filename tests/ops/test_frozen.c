/* test_frozen.c -- frozen against evolving (src/ops/frozen.c):
 *   - the step mapping eta_op = eta c n: the operator's function equals the train engine's frozen-K_0
 *     prediction f_lin (computed there by eigendecomposition, here by 300 matrix-vector steps) to
 *     1e-9 of ||y|| for the losses half_mean and half_sum (c = 1/N and 1);
 *   - at step 0 both sides are the same function: equal planes, zero gap, zero angles (1e-6: principal
 *     angles near 0 are ~sqrt(eps) from the SVD);
 *   - the gap between the network and the frozen operator shrinks with width: its largest value over
 *     the run at width 1024 is below half of that at width 64 (the lazy rate 1/sqrt(width) predicts
 *     a quarter; ReLU's kinks and 2 seeds leave room) and below 0.1; so does the drift of plane 1's
 *     Fourier block (the same margin), which is exactly 0 at step 0. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 32, KM = 6, TOPK = 4 };

typedef struct {
    int count;
    double gap_max, f_op[8][N], plane0_net[KM + 1], plane0_op[KM + 1], angle0, eta_op, drift0, drift_end;
} fe_rec;

static ntk_status keep(void *user, const ntk_fe_snapshot *s)
{
    fe_rec *r = user;
    if (r->count < 8) memcpy(r->f_op[r->count], s->u, sizeof r->f_op[0]);
    if (r->count == 0) {
        memcpy(r->plane0_net, s->plane_net, sizeof r->plane0_net);
        memcpy(r->plane0_op, s->plane_op, sizeof r->plane0_op);
        r->angle0 = s->angles[TOPK - 1];
        TU_ASSERT_LE(s->gap, 0, "gap at step 0");
        for (int j = 0; j < 3 * (KM + 1); j++) r->drift0 = fmax(r->drift0, s->block_drift[j]);
    }
    r->drift_end = s->block_drift[1]; /* the Frobenius drift of plane 1's block */
    r->gap_max = fmax(r->gap_max, s->gap);
    r->eta_op = s->eta_op;
    r->count++;
    return NTK_OK;
}

static void run(int width, ntk_loss loss, uint64_t seed, fe_rec *rec, ntk_train_result *res, double *y)
{
    static double X[2 * N], g[N];
    static int widths[1];
    TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_SYM, g, X));
    for (int i = 0; i < N; i++) y[i] = sin(g[i]) + 0.5 * cos(3 * g[i]);
    ntk_dataset d = {.n_train = N, .n0 = 2, .k = 1, .X_train = X, .Y_train = y, .gamma_train = g};
    ntk_fe_opts o = ntk_fe_opts_defaults();
    o.train.spec = tu_spec_uniform(1, widths, width, 2);
    o.train.seed = seed, o.train.loss = loss, o.train.steps = 300, o.train.schedule = "every:100";
    o.train.lr_frac = 0.5, o.kmax = KM, o.top_k = TOPK;
    memset(rec, 0, sizeof *rec);
    memset(res, 0, sizeof *res);
    TU_OK(ntk_frozen_evolving_run(&o, &d, keep, rec, res));
}

static void test_mapping(void **state)
{
    (void)state;
    ntk_loss losses[2] = {NTK_LOSS_MEAN, NTK_LOSS_SUM};
    for (int l = 0; l < 2; l++) {
        fe_rec rec;
        ntk_train_result res;
        double y[N];
        run(128, losses[l], 1, &rec, &res, y);
        assert_int_equal(rec.count, 4); /* 0, 100, 200, 300 */
        assert_int_equal((int)res.S, 4);
        TU_ASSERT_LE(fabs(rec.eta_op - res.eta * res.c * N), 1e-15 * rec.eta_op, "eta_op = eta c n");
        double ny = 0;
        for (int i = 0; i < N; i++) ny += y[i] * y[i];
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < N; i++)
                TU_ASSERT_LE(fabs(rec.f_op[s][i] - res.f_lin[s * N + i]), 1e-9 * sqrt(ny), "operator = frozen-K_0 prediction");
        for (int k = 0; k <= KM; k++) TU_ASSERT_LE(fabs(rec.plane0_net[k] - rec.plane0_op[k]), 0, "planes at step 0");
        TU_ASSERT_LE(rec.angle0, 1e-6, "angles at step 0");
        TU_ASSERT_LE(rec.drift0, 0, "no block drift at step 0");
        assert_true(rec.drift_end > 0); /* the kernel moved */
        ntk_train_result_clear(&res);
    }
}

static void test_gap_shrinks(void **state)
{
    (void)state;
    double gap[2] = {0, 0}, drift[2] = {0, 0}, y[N];
    int widths[2] = {64, 1024};
    for (int w = 0; w < 2; w++)
        for (uint64_t s = 1; s <= 2; s++) {
            fe_rec rec;
            ntk_train_result res;
            run(widths[w], NTK_LOSS_MEAN, s, &rec, &res, y);
            gap[w] += rec.gap_max / 2, drift[w] += rec.drift_end / 2;
            ntk_train_result_clear(&res);
        }
    print_message("gap: width 64 %.3e, width 1024 %.3e\n", gap[0], gap[1]);
    TU_ASSERT_LE(gap[1], gap[0] / 2, "the gap shrinks with width");
    TU_ASSERT_LE(gap[1], 0.1, "the gap at width 1024");
    TU_ASSERT_LE(drift[1], drift[0] / 2, "the plane blocks drift less at width 1024");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mapping), cmocka_unit_test(test_gap_shrinks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
