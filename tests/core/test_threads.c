/* test_threads.c -- same seed => bit-identical parameters with 1 and 2
 * threads, and kernels that agree to 1e-14 relative (BLAS may sum in another
 * order with more threads: rounding only, ~ sqrt(n) eps). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static void run(int threads, double **theta, size_t *P, double **K, size_t N)
{
    ntk_set_threads(threads);
    tu_netcfg c = tu_cfg(3, 300, 20, 1);
    ntk_net *net = tu_net(&c, 1234);
    *P = ntk_net_num_params(net);
    *theta = malloc(*P * sizeof **theta);
    memcpy(*theta, ntk_net_params_const(net), *P * sizeof **theta);
    double *X = tu_gauss_x(5, N, c.n0);
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    *K = malloc(N * N * sizeof **K);
    TU_OK(ntk_kernel_full(net, f, *K, NULL));
    ntk_feats_free(f);
    free(X);
    ntk_net_free(net);
}

static void test_threads_reproducible(void **state)
{
    (void)state;
    const size_t N = 200;
    double *t1, *t2, *K1, *K2;
    size_t P1, P2;
    run(1, &t1, &P1, &K1, N);
    assert_int_equal(ntk_get_threads(), 1);
    run(2, &t2, &P2, &K2, N);
    assert_int_equal(P1, P2);
    assert_memory_equal(t1, t2, P1 * sizeof *t1);
    TU_ASSERT_LE(tu_rel_fro(N * N, K2, K1), 1e-14, "kernel 2 threads vs 1 thread");
    free(t1); free(t2); free(K1); free(K2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_threads_reproducible)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
