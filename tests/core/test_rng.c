/* test_rng.c -- counter-based normals: decomposition invariance, stream
 * independence and moments; the stream registry.
 *
 * `test_rng --list` prints the registry (id, name, consumer; tab-separated) for
 * tests/core/test_rng_streams.py instead of running the tests. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_any_split_gives_same_numbers(void **state)
{
    (void)state;
    const size_t n = 1001;
    double *all = malloc(n * sizeof *all), *part = malloc(n * sizeof *part);
    ntk_rng_normal(42, NTK_STREAM_WEIGHT, 3, 0, n, all);
    /* odd-sized chunks, in reverse order, starting at odd offsets */
    size_t cuts[] = {0, 1, 2, 7, 500, 501, 999, n};
    for (int c = 6; c >= 0; c--) ntk_rng_normal(42, NTK_STREAM_WEIGHT, 3, cuts[c], cuts[c + 1] - cuts[c], part + cuts[c]);
    assert_memory_equal(all, part, n * sizeof *all);
    ntk_rng_uniform(42, NTK_STREAM_BIAS, 0, 0, n, all);
    for (size_t i = 0; i < n; i++) ntk_rng_uniform(42, NTK_STREAM_BIAS, 0, i, 1, part + i);
    assert_memory_equal(all, part, n * sizeof *all);
    free(all);
    free(part);
}

static void test_streams_differ(void **state)
{
    (void)state;
    double a[8], b[8], c[8], d[8];
    ntk_rng_normal(1, NTK_STREAM_WEIGHT, 1, 0, 8, a);
    ntk_rng_normal(2, NTK_STREAM_WEIGHT, 1, 0, 8, b);
    ntk_rng_normal(1, NTK_STREAM_BIAS, 1, 0, 8, c);
    ntk_rng_normal(1, NTK_STREAM_WEIGHT, 2, 0, 8, d);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    assert_memory_not_equal(a, d, sizeof a);
    /* the ensemble's bootstrap once drew from NTK_STREAM_ENSEMBLE + 1 = NTK_STREAM_ENSEMBLE_PAIR, and
     * its resample b of cell 0 (sub b) then took pair member b's uniforms (sub (0 << 32) | b) */
    ntk_rng_uniform(1, NTK_STREAM_ENSEMBLE_BOOTSTRAP, 5, 0, 8, a);
    ntk_rng_uniform(1, NTK_STREAM_ENSEMBLE_PAIR, 5, 0, 8, b);
    assert_memory_not_equal(a, b, sizeof a);
}

/* The registry: every id distinct, nonzero and in increasing order; names are the enumerators';
 * the ids of every stream that keyed results before the registry existed are unchanged. */
static void test_stream_registry(void **state)
{
    (void)state;
    const ntk_stream_info *t = NULL;
    size_t n = ntk_rng_streams(&t);
    assert_non_null(t);
    assert_true(n >= 14);
    for (size_t i = 0; i < n; i++) {
        assert_true(t[i].id != 0);
        assert_non_null(t[i].name);
        assert_non_null(t[i].consumer);
        assert_non_null(t[i].what);
        assert_int_equal(strncmp(t[i].name, "NTK_STREAM_", 11), 0);
        if (i > 0) assert_true(t[i].id > t[i - 1].id); /* increasing, hence distinct */
        for (size_t j = 0; j < i; j++) {
            assert_true(t[i].id != t[j].id);
            assert_string_not_equal(t[i].name, t[j].name);
        }
    }
    /* pinned: these numbers key every result written so far (and the two added with the registry) */
    struct { const char *name; unsigned id; } pinned[] = {
        {"NTK_STREAM_WEIGHT", 1},    {"NTK_STREAM_BIAS", 2},      {"NTK_STREAM_DATA_X", 16},
        {"NTK_STREAM_TARGET", 17},   {"NTK_STREAM_ANGLES", 18},   {"NTK_STREAM_SUBSET", 19},
        {"NTK_STREAM_SPHERE", 20},   {"NTK_STREAM_NOISE", 21},    {"NTK_STREAM_FOURIER", 22},
        {"NTK_STREAM_BATCH", 23},    {"NTK_STREAM_ENSEMBLE", 24}, {"NTK_STREAM_ENSEMBLE_PAIR", 25},
        {"NTK_STREAM_ENSEMBLE_BOOTSTRAP", 26}, {"NTK_STREAM_PROBE", 27},
    };
    for (size_t p = 0; p < sizeof pinned / sizeof pinned[0]; p++) {
        size_t i = 0;
        while (i < n && strcmp(t[i].name, pinned[p].name) != 0) i++;
        if (i == n) fail_msg("%s missing from the registry", pinned[p].name);
        if ((unsigned)t[i].id != pinned[p].id) fail_msg("%s = %u, pinned %u", pinned[p].name, (unsigned)t[i].id, pinned[p].id);
    }
    assert_int_equal(NTK_STREAM_ENSEMBLE_BOOTSTRAP, 26);
    assert_int_equal(NTK_STREAM_PROBE, 27);
    assert_int_equal(ntk_rng_streams(NULL), n);
}

/* Moments of 10^6 normals: mean 0 (se 1e-3), variance 1 (se sqrt(2)e-3),
 * fourth moment 3 (se ~1e-2); bounds at 5 se. */
static void test_normal_moments(void **state)
{
    (void)state;
    const size_t n = 1000000;
    double *z = malloc(n * sizeof *z);
    ntk_rng_normal(7, NTK_STREAM_DATA_X, 0, 0, n, z);
    double m1 = 0, m2 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        m1 += z[i];
        m2 += z[i] * z[i];
        m4 += z[i] * z[i] * z[i] * z[i];
    }
    m1 /= (double)n; m2 /= (double)n; m4 /= (double)n;
    assert_true(fabs(m1) < 5e-3);
    assert_true(fabs(m2 - 1) < 5 * sqrt(2.0) * 1e-3);
    assert_true(fabs(m4 - 3) < 5 * sqrt(96.0) * 1e-3);
    ntk_rng_uniform(7, NTK_STREAM_DATA_X, 0, 0, n, z);
    double mu = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(z[i] > 0 && z[i] < 1);
        mu += z[i];
    }
    assert_true(fabs(mu / (double)n - 0.5) < 5 * sqrt(1.0 / 12 / (double)n));
    free(z);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        const ntk_stream_info *t = NULL;
        size_t n = ntk_rng_streams(&t);
        for (size_t i = 0; i < n; i++) printf("%u\t%s\t%s\n", (unsigned)t[i].id, t[i].name, t[i].consumer);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_split_gives_same_numbers),
        cmocka_unit_test(test_streams_differ),
        cmocka_unit_test(test_stream_registry),
        cmocka_unit_test(test_normal_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
