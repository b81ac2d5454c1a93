/* limit_probe.c -- in-process timing of libntkdrift's infinite-width kernels (bench helper for
 * bench_limit.py).
 *
 * The network of `ntkdrift limit` with its defaults (NTK parameterization, sw2 2, sw2_out 1,
 * zero-initialised trainable biases with sb 1, first layer 1/sqrt(n0)), activation ACT, depth
 * DEPTH, on N inputs of dimension N0: gaussian (ntk_data_gaussian, rows of norm sqrt(n0): equal
 * norms) or gaussian-raw (ntk_data_gaussian_raw, N(0, I) rows: unequal norms), data seed 0.
 * Runs ntk_limit_full REPS times on the same buffers and prints one JSON line with every run's
 * seconds (the outputs from ntk_alloc_big, as `ntkdrift limit` allocates them: the first call's
 * first touch of them is in its time).  SERIES 0 sets ntk_limit_opts.no_series (every pair by the 2-D quadrature, the
 * method before the Hermite series).  With OUTDIR it writes OUTDIR/X.npy, OUTDIR/nngp.npy and
 * OUTDIR/ntk.npy (float64) of the last run.
 * Build (bench_limit.py does this):
 *   gcc -O2 -std=c17 -fopenmp -Iinclude bench/limit_probe.c build/libntkdrift.a \
 *       $(pkg-config --libs openblas lapacke libzip zlib fftw3) -lm
 * Run: limit_probe ACT N DEPTH N0 gaussian|gaussian-raw THREADS REPS SERIES [OUTDIR] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ntkdrift.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int save(const char *dir, const char *name, size_t r, size_t c, const double *a)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    size_t shape[2] = {r, c};
    return ntk_npy_write(path, NTK_F64, 2, shape, a) != NTK_OK;
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: limit_probe ACT N DEPTH N0 gaussian|gaussian-raw THREADS REPS SERIES [OUTDIR]\n");
        return 2;
    }
    ntk_spec s = ntk_spec_default();
    if (ntk_act_parse(argv[1], &s.act) != NTK_OK) {
        fprintf(stderr, "limit_probe: %s\n", ntk_last_error());
        return 2;
    }
    size_t N = strtoull(argv[2], NULL, 10);
    s.depth = atoi(argv[3]);
    s.n0 = atoi(argv[4]);
    int raw = strcmp(argv[5], "gaussian-raw") == 0, threads = atoi(argv[6]), reps = atoi(argv[7]);
    ntk_limit_opts o = {NTK_EXPECT_AUTO, 0, 0, 0, atoi(argv[8]) ? 0 : 1};
    int *widths = malloc((size_t)(s.depth > 0 ? s.depth : 1) * sizeof *widths);
    double *X = malloc(N * (size_t)s.n0 * sizeof *X), *G = ntk_alloc_big(N * N * sizeof *G), *K = ntk_alloc_big(N * N * sizeof *K);
    if (!widths || !X || !G || !K) {
        fprintf(stderr, "limit_probe: out of memory\n");
        return 1;
    }
    for (int l = 0; l < s.depth; l++) widths[l] = 512;
    s.widths = widths;
    if ((raw ? ntk_data_gaussian_raw(0, N, s.n0, X) : ntk_data_gaussian(0, N, s.n0, X)) != NTK_OK) {
        fprintf(stderr, "limit_probe: %s\n", ntk_last_error());
        return 1;
    }
    ntk_set_threads(threads);
    if (argc > 10 && strcmp(argv[10], "touch") == 0) { /* warm outputs: first-touch page faults outside the timing */
        memset(G, 0, N * N * sizeof *G);
        memset(K, 0, N * N * sizeof *K);
    }
    printf("{\"act\": \"%s\", \"n\": %zu, \"depth\": %d, \"n0\": %d, \"data\": \"%s\", \"threads\": %d, "
           "\"series\": %d, \"seconds\": [",
           ntk_act_name(s.act), N, s.depth, s.n0, argv[5], threads, !o.no_series);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (ntk_limit_full(&s, &o, N, X, G, K, NULL, NULL) != NTK_OK) {
            fprintf(stderr, "limit_probe: %s\n", ntk_last_error());
            return 1;
        }
        printf("%s%.6f", r ? ", " : "", now() - t0);
        fflush(stdout);
    }
    printf("]}\n");
    if (argc > 9 && (save(argv[9], "X", N, (size_t)s.n0, X) || save(argv[9], "nngp", N, N, G) ||
                     save(argv[9], "ntk", N, N, K))) {
        fprintf(stderr, "limit_probe: %s\n", ntk_last_error());
        return 1;
    }
    free(widths);
    free(X);
    free(G);
    free(K);
    return 0;
}
