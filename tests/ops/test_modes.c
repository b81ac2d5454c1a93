/* test_modes.c -- one mode-study cell (src/ops/modes.c):
 *   - Theta_bias on a grid: G = I, every plane its own eigenspace, no leakage (1e-10 / 1e-6 for angles
 *     near 0, ~sqrt(eps) from the SVD), the eigenvalues those of the circulant (1e-12) and the
 *     regression error the direct ntk_krr's on K itself (1e-10: the same solve at another scale);
 *   - the empirical NTK of one hidden ReLU layer approaches its limit: from width 64 to 4096 the
 *     leakage, the first plane's angle and the distance of the prediction to the limit's all fall (two
 *     seeds each; the 1/sqrt(width) rate predicts a factor 8, the checks ask for 2). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 64, M = 20, K = 6, W = 2 * K + 1 };

static double g[N], X[2 * N], y[N], ge[M], Xe[2 * M], ye[M];

static ntk_dataset data(void)
{
    TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_SYM, g, X));
    TU_OK(ntk_data_circle_uniform(2, 1, M, NTK_ANGLES_SYM, ge, Xe));
    for (int i = 0; i < N; i++) y[i] = sin(g[i]) + 0.4 * cos(3 * g[i]);
    for (int i = 0; i < M; i++) ye[i] = sin(ge[i]) + 0.4 * cos(3 * ge[i]);
    return (ntk_dataset){.n_train = N, .n_eval = M, .n0 = 2, .k = 1, .X_train = X, .Y_train = y, .X_eval = Xe,
                         .Y_eval = ye, .gamma_train = g, .gamma_eval = ge};
}

static double angle(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

static void test_closed_form(void **state)
{
    (void)state;
    ntk_dataset d = data();
    ntk_modes_opts o = ntk_modes_opts_defaults();
    o.src.kind = NTK_KSRC_THETA_BIAS, o.kmax = K;
    ntk_plane_match pl[K + 1];
    double e_col[W], C[W * W], eig[N];
    ntk_modes_result r = {.e_col = e_col, .planes = pl, .C = C, .eig = eig};
    TU_OK(ntk_modes_cell(&o, &d, &r));
    TU_ASSERT_LE(r.lemma.G_max, 1e-12, "G = I on a grid");
    TU_ASSERT_LE(r.leakage, 1e-10, "no leakage");
    for (int k = 0; k <= K; k++) TU_ASSERT_LE(pl[k].angle_max, 1e-6, "planes are eigenspaces");
    TU_ASSERT_LE(fabs(r.pred_rel_inf), 0, "the closed form is its own limit");
    double row[N], mu[N];
    ntk_circulant *Cc;
    for (int j = 0; j < N; j++) row[j] = ntk_circle_theta(angle(g[0], g[j]), 1);
    TU_OK(ntk_circulant_create(N, row, &Cc));
    TU_OK(ntk_circulant_eigenvalues(Cc, mu));
    ntk_circulant_free(Cc);
    TU_ASSERT_LE(fabs(eig[0] - mu[0]), 1e-12 * mu[0], "top eigenvalue");
    double *Km = malloc(N * N * sizeof *Km), Ke[M * N], pred[M], md = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) Km[i * N + j] = ntk_circle_theta(angle(g[i], g[j]), 1);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) Ke[i * N + j] = ntk_circle_theta(angle(ge[i], g[j]), 1);
    for (int i = 0; i < N; i++) md += Km[i * N + i] / N;
    TU_OK(ntk_krr(N, Km, 1, y, 1e-8 * md, M, Ke, pred, NULL));
    double e = 0;
    for (int i = 0; i < M; i++) e += (pred[i] - ye[i]) * (pred[i] - ye[i]);
    TU_ASSERT_LE(fabs(r.pred_err - sqrt(e / M)), 1e-10, "regression error against ntk_krr");
    free(Km);
}

static void test_width(void **state)
{
    (void)state;
    ntk_dataset d = data();
    int widths[2] = {64, 4096}, wid[1];
    double leak[2] = {0, 0}, ang[2] = {0, 0}, rel[2] = {0, 0};
    for (int w = 0; w < 2; w++)
        for (uint64_t s = 1; s <= 2; s++) {
            ntk_modes_opts o = ntk_modes_opts_defaults();
            o.src.kind = NTK_KSRC_EMPIRICAL, o.src.spec = tu_spec_uniform(1, wid, widths[w], 2), o.src.seed = s;
            o.kmax = K;
            ntk_plane_match pl[K + 1];
            ntk_modes_result r = {.planes = pl};
            TU_OK(ntk_modes_cell(&o, &d, &r));
            leak[w] += r.leakage / 2, ang[w] += pl[1].angle_max / 2, rel[w] += r.pred_rel_inf / 2;
        }
    print_message("leakage %.3e -> %.3e, angle %.3e -> %.3e, rel %.3e -> %.3e\n", leak[0], leak[1], ang[0], ang[1], rel[0], rel[1]);
    TU_ASSERT_LE(2 * leak[1], leak[0], "leakage falls with width");
    TU_ASSERT_LE(2 * ang[1], ang[0], "plane angle falls with width");
    TU_ASSERT_LE(2 * rel[1], rel[0], "prediction approaches the limit's");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_closed_form), cmocka_unit_test(test_width)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
