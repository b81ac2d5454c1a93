/* stream_probe.c -- the machine's memory bandwidth: the four STREAM kernels on float64 arrays with
 * OpenMP threads, for memory-traffic bounds (bytes moved / bytes per second).
 *
 * Build: cc -O2 -fopenmp -o stream_probe stream_probe.c     (bench/peers.py builds it into bench/out/)
 * Run:   stream_probe [THREADS=2] [REPS=10] [N=16777216]
 *   copy   c[i] = a[i]               16 bytes per element
 *   scale  b[i] = s c[i]             16
 *   add    c[i] = a[i] + b[i]        24
 *   triad  a[i] = b[i] + s c[i]      24
 * Bytes are counted as STREAM does: each array element read or written once. Ordinary stores also
 * read the destination line first (write-allocate), so the traffic on the bus is 24 -> 32 bytes per
 * element for triad; the rate printed is the STREAM one. The three arrays (3 N 8 bytes; 384 MiB for
 * the default N) must be far larger than the last-level cache. Pages are first touched by the threads
 * that use them (same static schedule). Each kernel runs REPS times after one untimed pass; the best
 * and the median rate are printed.
 *
 * Output: one line per kernel, "kernel best_GB/s median_GB/s best_s", after a '#' header, then one
 * JSON line {"probe": "stream", "threads", "n", "reps", "<kernel>_best_gbs", "<kernel>_median_gbs",
 * "triad_bytes_per_s" (best triad rate, bytes/s), "check" (1 + 2 sqrt 2)} (GB = 1e9 bytes).
 * Exit status 2 on bad arguments, 1 when the arrays cannot be allocated. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { KCOPY, KSCALE, KADD, KTRIAD, NKERNELS };
static const char *const kernel_name[NKERNELS] = {"copy", "scale", "add", "triad"};
static const double kernel_words[NKERNELS] = {2.0, 2.0, 3.0, 3.0};

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* One pass of kernel k over arrays of n doubles. */
static void run_kernel(int k, double *restrict a, double *restrict b, double *restrict c, long n, double s) {
    switch (k) {
    case KCOPY:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) c[i] = a[i];
        break;
    case KSCALE:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) b[i] = s * c[i];
        break;
    case KADD:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) c[i] = a[i] + b[i];
        break;
    default:
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        break;
    }
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    long threads = 2, reps = 10, n = 16777216;
    if (argc > 4 || (argc > 1 && parse_long(argv[1], 1, 4096, &threads)) ||
        (argc > 2 && parse_long(argv[2], 1, 100000, &reps)) ||
        (argc > 3 && parse_long(argv[3], 1024, 1L << 34, &n))) {
        fprintf(stderr, "usage: stream_probe [THREADS=2] [REPS=10] [N=16777216 (>= 1024)]\n");
        return 2;
    }
    omp_set_num_threads((int)threads);
    size_t bytes = ((size_t)n * sizeof(double) + 63) / 64 * 64;
    double *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes), *c = aligned_alloc(64, bytes);
    double *t = malloc((size_t)reps * NKERNELS * sizeof *t);
    if (!a || !b || !c || !t) {
        fprintf(stderr, "stream_probe: cannot allocate 3 arrays of %ld doubles\n", n);
        free(a); free(b); free(c); free(t);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        a[i] = 1.0;
        b[i] = 2.0;
        c[i] = 0.0;
    }
    const double s = 0.41421356237309505; /* sqrt(2) - 1: see the check below */
    for (int k = 0; k < NKERNELS; k++) run_kernel(k, a, b, c, n, s); /* untimed pass */
    for (long r = 0; r < reps; r++) {
        for (int k = 0; k < NKERNELS; k++) {
            double t0 = seconds_now();
            run_kernel(k, a, b, c, n, s);
            t[k * reps + r] = seconds_now() - t0;
        }
    }
    /* One round of copy, scale, add, triad maps a to s (2 + s) a = a for s = sqrt(2) - 1 (c = a, b = s a,
     * c = (1 + s) a, a = s a + s (1 + s) a), so the values stay a = 1, b = s, c = 1 + s up to rounding
     * and check = 2 + s + (1 + s) = 1 + 2 sqrt(2): the caller can verify that every pass ran. */
    double check = a[0] + a[n - 1] + b[n / 2] + c[n / 3];
    printf("# stream threads=%ld n=%ld reps=%ld arrays=3x%.1f MiB (GB = 1e9 bytes, STREAM byte counts)\n",
           threads, n, reps, (double)n * 8.0 / 1048576.0);
    printf("# kernel  best_GB/s  median_GB/s     best_s\n");
    double best_gbs[NKERNELS], med_gbs[NKERNELS];
    for (int k = 0; k < NKERNELS; k++) {
        double *tk = t + (size_t)k * (size_t)reps;
        qsort(tk, (size_t)reps, sizeof *tk, by_value);
        double med = reps % 2 ? tk[reps / 2] : 0.5 * (tk[reps / 2 - 1] + tk[reps / 2]);
        double moved = kernel_words[k] * 8.0 * (double)n;
        best_gbs[k] = 1e-9 * moved / tk[0];
        med_gbs[k] = 1e-9 * moved / med;
        printf("%-7s %10.2f %12.2f %10.6f\n", kernel_name[k], best_gbs[k], med_gbs[k], tk[0]);
    }
    printf("{\"probe\": \"stream\", \"threads\": %ld, \"n\": %ld, \"reps\": %ld", threads, n, reps);
    for (int k = 0; k < NKERNELS; k++)
        printf(", \"%s_best_gbs\": %.4f, \"%s_median_gbs\": %.4f", kernel_name[k], best_gbs[k], kernel_name[k],
               med_gbs[k]);
    printf(", \"triad_bytes_per_s\": %.6e, \"check\": %.17g}\n", best_gbs[KTRIAD] * 1e9, check);
    free(a); free(b); free(c); free(t);
    return 0;
}
