/* test_spectra.c -- seed-mean spectra (src/ops/spectra.c) on spectra written down by hand: two seeds
 * whose mean, variance, drift and total variation are computed here in closed form (exact in
 * binary: every value is a small dyadic rational, so the bound is 1e-15). */
#include "testutil.h"

#include <math.h>

static void test_seed_spectra(void **state)
{
    (void)state;
    enum { SEEDS = 2, T = 3, P = 2 };
    /* seed 0: (4, 1) (4, 1.5) (3, 1.5); seed 1: (4, 1) (5, 0.5) (3, 0.5) */
    const double S[SEEDS * T * P] = {4, 1, 4, 1.5, 3, 1.5, 4, 1, 5, 0.5, 3, 0.5};
    double mean[T * P], drift[T], var[T * P], tv[P];
    int active[P];
    TU_OK(ntk_seed_spectra(SEEDS, T, P, S, 1.0, mean, drift, var, tv, active));
    const double wm[T * P] = {4, 1, 4.5, 1, 3, 1}, wv[T * P] = {0, 0, 0.5, 0.5, 0, 0.5};
    for (int i = 0; i < T * P; i++) {
        TU_ASSERT_LE(fabs(mean[i] - wm[i]), 1e-15, "seed mean");
        TU_ASSERT_LE(fabs(var[i] - wv[i]), 1e-15, "variance over seeds (ddof 1)");
    }
    TU_ASSERT_LE(fabs(drift[0]), 1e-15, "drift at 0");
    TU_ASSERT_LE(fabs(drift[1] - 0.5 / sqrt(17)), 1e-15, "drift at 1");
    TU_ASSERT_LE(fabs(drift[2] - 1 / sqrt(17)), 1e-15, "drift at 2");
    TU_ASSERT_LE(fabs(tv[0] - 2), 1e-15, "TV of mode 0");
    TU_ASSERT_LE(fabs(tv[1]), 1e-15, "TV of mode 1");
    assert_int_equal(active[0], 1);
    assert_int_equal(active[1], 0);
    TU_OK(ntk_seed_spectra(1, T, P, S, 1.0, mean, NULL, var, NULL, NULL));
    assert_true(isnan(var[0])); /* one seed: no variance */
    assert_int_equal(ntk_seed_spectra(0, T, P, S, 1.0, mean, NULL, NULL, NULL, NULL), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_seed_spectra)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
