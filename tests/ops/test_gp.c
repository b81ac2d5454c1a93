/* test_gp.c -- Gaussian-process draws (src/ops/gp.c): the sample covariance of S = 4000 draws against
 * K, entry by entry within 5 of its own standard deviations sqrt((K_ii K_jj + K_ij^2) / S) (exact for
 * zero-mean Gaussians; over 78 entries a false alarm has probability ~5e-5), for the dense Cholesky
 * path and the FFT path on a grid; the same (seed, sub) gives the same draw. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 12, S = 4000 };

static double theta_bias(double d, void *ctx)
{
    (void)ctx;
    return ntk_circle_theta(d, 1);
}

static void covariance_check(const double *K, const ntk_circulant *C, uint64_t seed, const char *what)
{
    double *cov = calloc(N * N, sizeof *cov), u[N], u2[N];
    for (uint64_t s = 0; s < S; s++) {
        TU_OK(ntk_gp_draw(N, C ? NULL : K, C, 0, seed, s, u));
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) cov[i * N + j] += u[i] * u[j] / S;
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++) {
            double sd = sqrt((K[i * N + i] * K[j * N + j] + K[i * N + j] * K[i * N + j]) / S);
            TU_ASSERT_LE(fabs(cov[i * N + j] - K[i * N + j]), 5 * sd, what);
        }
    TU_OK(ntk_gp_draw(N, C ? NULL : K, C, 0, seed, 7, u));
    TU_OK(ntk_gp_draw(N, C ? NULL : K, C, 0, seed, 7, u2));
    assert_memory_equal(u, u2, sizeof u);
    TU_OK(ntk_gp_draw(N, C ? NULL : K, C, 0, seed, 8, u2));
    assert_true(memcmp(u, u2, sizeof u) != 0);
    free(cov);
}

static void test_gp_covariance(void **state)
{
    (void)state;
    double K[N * N], row[N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double d = fabs(2 * M_PI * (i - j) / N);
            K[i * N + j] = theta_bias(d > M_PI ? 2 * M_PI - d : d, NULL);
        }
    uint64_t seed = tu_seed(3);
    covariance_check(K, NULL, seed, "dense draw covariance");
    TU_OK(ntk_circulant_row(N, theta_bias, NULL, row));
    ntk_circulant *C;
    TU_OK(ntk_circulant_create(N, row, &C));
    covariance_check(K, C, seed, "FFT draw covariance");
    ntk_circulant_free(C);
    /* an indefinite K is refused */
    K[0] = -1;
    double u[N];
    assert_int_equal(ntk_gp_draw(N, K, NULL, 0, 1, 0, u), NTK_ENUMERIC);
    assert_non_null(strstr(ntk_last_error(), "not positive definite"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_gp_covariance)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
