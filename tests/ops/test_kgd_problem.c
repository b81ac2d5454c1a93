/* test_kgd_problem.c -- kernel sources resolved on data (src/ops/kgd_problem.c):
 *   - Theta_bias on an equispaced grid takes the FFT path by default; dense, its A is Theta / n entry
 *     by entry (exact: the same closed form), and both paths run the same dynamics (1e-10);
 *   - the limit source: the FFT row and the dense matrix are the limit kernel / n (1e-12), and its
 *     lambda_k by quadrature of the profile match the eigenvalues of the dense operator on a fine grid
 *     (n = 512: the Riemann sum of a kernel with a kink is good to ~1/n^2, checked to 1e-4);
 *   - the empirical source is the network's kernel_full / n, the matrix source is taken as given;
 *   - a GP init is reproducible and not zero; bad input: FFT on points that are not a grid, K > n/2,
 *     more than one output. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 64, M = 16 };

typedef struct {
    double g[N], X[2 * N], y[N], ge[M], Xe[2 * M], ye[M];
    ntk_dataset d;
} circ_data;

static void grid_data(circ_data *c, int uniform)
{
    if (uniform) TU_OK(ntk_data_circle_uniform(3, 0, N, NTK_ANGLES_SYM, c->g, c->X));
    else TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_SYM, c->g, c->X));
    TU_OK(ntk_data_circle_uniform(3, 1, M, NTK_ANGLES_SYM, c->ge, c->Xe));
    for (int i = 0; i < N; i++) c->y[i] = sin(2 * c->g[i]);
    for (int i = 0; i < M; i++) c->ye[i] = sin(2 * c->ge[i]);
    c->d = (ntk_dataset){.n_train = N, .n_eval = M, .n0 = 2, .k = 1, .X_train = c->X, .Y_train = c->y,
                         .X_eval = c->Xe, .Y_eval = c->ye, .gamma_train = c->g, .gamma_eval = c->ge};
}

static double angle(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

typedef struct {
    double u[N], ue[M];
} last_fn;

static ntk_status keep_last(void *user, const ntk_kgd_snapshot *s)
{
    last_fn *l = user;
    memcpy(l->u, s->u, sizeof l->u);
    if (s->u_eval) memcpy(l->ue, s->u_eval, sizeof l->ue);
    return NTK_OK;
}

static void run(const ntk_kgd_problem *p, last_fn *out)
{
    ntk_kgd_opts o = ntk_kgd_opts_defaults();
    ntk_kgd_problem_apply(p, &o);
    o.steps = 300, o.top_k = 4;
    TU_OK(ntk_kgd_run(&o, keep_last, out, NULL));
}

static void test_closed_form_paths(void **state)
{
    (void)state;
    circ_data *c = malloc(sizeof *c);
    grid_data(c, 0);
    ntk_kernel_source src = {.kind = NTK_KSRC_THETA_BIAS};
    ntk_kgd_problem_opts po = ntk_kgd_problem_defaults();
    ntk_kgd_problem pf, pd;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pf));
    assert_int_equal(pf.fft, 1);
    po.fft = 0;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pd));
    assert_int_equal(pd.fft, 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            TU_ASSERT_LE(fabs(pd.A[i * N + j] - ntk_circle_theta(angle(c->g[i], c->g[j]), 1) / N), 0, "A = Theta / n");
    for (int k = 0; k <= 8; k++) TU_ASSERT_LE(fabs(pf.lambda[k] - ntk_circle_eigenvalue_closed(k, 1)), 0, "lambda closed form");
    last_fn *lf = calloc(1, sizeof *lf), *ld = calloc(1, sizeof *ld);
    run(&pf, lf);
    run(&pd, ld);
    TU_ASSERT_LE(tu_rel_max(N, lf->u, ld->u), 1e-10, "FFT against dense");
    TU_ASSERT_LE(tu_rel_max(M, lf->ue, ld->ue), 1e-10, "FFT against dense, eval");
    ntk_kgd_problem_clear(&pf), ntk_kgd_problem_clear(&pd);
    /* bad input */
    grid_data(c, 1);
    po.fft = 1;
    assert_int_equal(ntk_kgd_problem_build(&src, &c->d, &po, &pf), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "equispaced"));
    po.fft = -1;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pf)); /* auto: dense on random points */
    assert_int_equal(pf.fft, 0);
    ntk_kgd_problem_clear(&pf);
    po.kmax = N / 2 + 1;
    assert_int_equal(ntk_kgd_problem_build(&src, &c->d, &po, &pf), NTK_EINVAL);
    po.kmax = 8;
    c->d.k = 2;
    assert_int_equal(ntk_kgd_problem_build(&src, &c->d, &po, &pf), NTK_EINVAL);
    free(c), free(lf), free(ld);
}

static void test_limit_empirical_matrix(void **state)
{
    (void)state;
    circ_data *c = malloc(sizeof *c);
    grid_data(c, 0);
    int widths[1];
    ntk_kernel_source src = {.kind = NTK_KSRC_LIMIT, .spec = tu_spec_uniform(1, widths, 128, 2), .seed = 4};
    ntk_kgd_problem_opts po = ntk_kgd_problem_defaults();
    ntk_kgd_problem pf, pd;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pf));
    assert_int_equal(pf.fft, 1);
    po.fft = 0;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pd));
    double *K = malloc(N * N * sizeof *K), mu[N];
    TU_OK(ntk_limit_full(&src.spec, NULL, N, c->X, NULL, K, NULL, NULL));
    for (int i = 0; i < N * N; i++) TU_ASSERT_LE(fabs(pd.A[i] - K[i] / N), 1e-12 * K[0], "dense limit A");
    TU_OK(ntk_circulant_eigenvalues(pf.C, mu));
    double w[N];
    TU_OK(ntk_eigh(N, pd.A, w, NULL));
    TU_ASSERT_LE(fabs(w[0] - mu[0]), 1e-12 * mu[0], "FFT row of the limit kernel");
    ntk_kgd_problem_clear(&pf), ntk_kgd_problem_clear(&pd);
    /* lambda by quadrature against the operator's eigenvalues on a fine grid */
    enum { F = 512 };
    double *g = malloc(F * sizeof *g), *X = malloc(2 * F * sizeof *X), *y = calloc(F, sizeof *y), *mf = malloc(F * sizeof *mf);
    TU_OK(ntk_data_circle_grid(F, NTK_ANGLES_SYM, g, X));
    ntk_dataset fine = {.n_train = F, .n0 = 2, .k = 1, .X_train = X, .Y_train = y, .gamma_train = g};
    po.fft = 1;
    TU_OK(ntk_kgd_problem_build(&src, &fine, &po, &pf));
    TU_OK(ntk_circulant_eigenvalues(pf.C, mf));
    for (int k = 0; k <= 8; k++) TU_ASSERT_LE(fabs(pf.lambda[k] - mf[k]), 1e-4 * pf.lambda[0], "lambda_k by quadrature");
    ntk_kgd_problem_clear(&pf);
    /* empirical: the network's own kernel */
    src.kind = NTK_KSRC_EMPIRICAL, po.fft = -1;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pd));
    assert_int_equal(pd.fft, 0);
    ntk_net *net;
    ntk_feats *f;
    TU_OK(ntk_net_alloc(&src.spec, &net));
    TU_OK(ntk_net_init(net, 4));
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, c->X));
    TU_OK(ntk_kernel_full(net, f, K, NULL));
    for (int i = 0; i < N * N; i++) TU_ASSERT_LE(fabs(pd.A[i] - K[i] / N), 0, "empirical A = kernel_full / n");
    ntk_kgd_problem_clear(&pd);
    /* matrix: as given; no eval kernel, no eval points */
    src.kind = NTK_KSRC_MATRIX, src.K = K;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &pd));
    assert_int_equal((int)pd.m, 0);
    TU_ASSERT_LE(fabs(pd.A[5] - K[5] / N), 0, "matrix A");
    assert_null(pd.lambda);
    ntk_kgd_problem_clear(&pd);
    /* GP init: reproducible, not zero */
    src.kind = NTK_KSRC_THETA_BIAS, po.gp_init = 1, po.gp_seed = 9, po.fft = 0;
    ntk_kgd_problem a, b;
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &a));
    TU_OK(ntk_kgd_problem_build(&src, &c->d, &po, &b));
    assert_memory_equal(a.u0, b.u0, N * sizeof *a.u0);
    assert_memory_equal(a.u0_eval, b.u0_eval, M * sizeof *a.u0_eval);
    assert_true(a.u0[0] != 0 && a.u0_eval[0] != 0);
    ntk_kgd_problem_clear(&a), ntk_kgd_problem_clear(&b);
    po.fft = 1; /* FFT and GP with eval points: refused */
    assert_int_equal(ntk_kgd_problem_build(&src, &c->d, &po, &a), NTK_EINVAL);
    ntk_feats_free(f), ntk_net_free(net);
    free(c), free(K), free(g), free(X), free(y), free(mf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_closed_form_paths), cmocka_unit_test(test_limit_empirical_matrix)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
