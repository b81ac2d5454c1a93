/* gemm_peak.c -- the machine's GEMM rate: OpenBLAS cblas_dgemm and cblas_sgemm on square
 * row-major C = A B, in GFLOP/s (2 n^3 flops per call), for the benchmarks' FLOP bounds.
 *
 * Build: cc -O2 -o gemm_peak gemm_peak.c -lopenblas        (bench/peers.py builds it into bench/out/)
 * Run:   gemm_peak [THREADS=2] [REPS=5] [SIZES=512,1024,1536,2048,3072,4096]
 * Per size and precision: one untimed call (first touch, thread start-up), then REPS timed calls;
 * the median and the fastest call are printed. OpenBLAS picks its kernel from the CPU, or from
 * OPENBLAS_CORETYPE when set; the first line names it.
 *
 * Output (parsed by bench/bench_ntk.py):
 *   # OpenBLAS core=<name> threads=<T> reps=<R>
 *   #    n  dgemm_med  dgemm_best  sgemm_med  sgemm_best   (GFLOP/s)
 *   <n> <dgemm median> <dgemm best> <sgemm median> <sgemm best>      one line per size
 * Exit status 2 on bad arguments, 1 when the matrices cannot be allocated. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int num_threads);
extern char *openblas_get_corename(void);

#define MAX_SIZES 32

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* Uniform values in [-0.5, 0.5) from a 64-bit LCG: deterministic, no denormals, no zeros pattern. */
static double next_uniform(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) * 0x1.0p-53 - 0.5;
}

/* Times REPS products of n x n matrices after one untimed call; writes the median and the minimum
 * of the call times (seconds). Returns 0, or -1 when allocation fails. */
static int time_gemm(int n, int dbl, int reps, double *median, double *best) {
    size_t nn = (size_t)n * (size_t)n, elem = dbl ? sizeof(double) : sizeof(float);
    size_t bytes = (nn * elem + 63) / 64 * 64;
    void *A = aligned_alloc(64, bytes), *B = aligned_alloc(64, bytes), *C = aligned_alloc(64, bytes);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!A || !B || !C || !t) {
        free(A); free(B); free(C); free(t);
        return -1;
    }
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    for (size_t i = 0; i < nn; i++) {
        double u = next_uniform(&state), v = next_uniform(&state);
        if (dbl) {
            ((double *)A)[i] = u; ((double *)B)[i] = v; ((double *)C)[i] = 0.0;
        } else {
            ((float *)A)[i] = (float)u; ((float *)B)[i] = (float)v; ((float *)C)[i] = 0.0f;
        }
    }
    for (int r = -1; r < reps; r++) {
        double t0 = seconds_now();
        if (dbl)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
        double dt = seconds_now() - t0;
        if (r >= 0) t[r] = dt;
    }
    qsort(t, (size_t)reps, sizeof *t, by_value);
    *median = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    *best = t[0];
    free(A); free(B); free(C); free(t);
    return 0;
}

static int parse_positive(const char *s, long max, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > max) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5, sizes[MAX_SIZES] = {512, 1024, 1536, 2048, 3072, 4096}, nsizes = 6;
    if (argc > 4 || (argc > 1 && parse_positive(argv[1], 4096, &threads)) ||
        (argc > 2 && parse_positive(argv[2], 100000, &reps))) {
        fprintf(stderr, "usage: gemm_peak [THREADS=2] [REPS=5] [SIZES=512,1024,...]\n");
        return 2;
    }
    if (argc > 3) {
        char buf[512];
        if (strlen(argv[3]) >= sizeof buf) {
            fprintf(stderr, "gemm_peak: SIZES too long\n");
            return 2;
        }
        strcpy(buf, argv[3]);
        nsizes = 0;
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (nsizes == MAX_SIZES || parse_positive(tok, 65536, &sizes[nsizes])) {
                fprintf(stderr, "gemm_peak: SIZES must be at most %d comma-separated integers in 1..65536\n",
                        MAX_SIZES);
                return 2;
            }
            nsizes++;
        }
        if (nsizes == 0) {
            fprintf(stderr, "gemm_peak: empty SIZES\n");
            return 2;
        }
    }
    openblas_set_num_threads(threads);
    printf("# OpenBLAS core=%s threads=%d reps=%d\n", openblas_get_corename(), threads, reps);
    printf("#    n  dgemm_med  dgemm_best  sgemm_med  sgemm_best   (GFLOP/s)\n");
    for (int i = 0; i < nsizes; i++) {
        int n = sizes[i];
        double gflop = 2e-9 * (double)n * (double)n * (double)n, dmed, dbest, smed, sbest;
        if (time_gemm(n, 1, reps, &dmed, &dbest) || time_gemm(n, 0, reps, &smed, &sbest)) {
            fprintf(stderr, "gemm_peak: cannot allocate three %d x %d matrices\n", n, n);
            return 1;
        }
        printf("%6d %10.1f %11.1f %10.1f %11.1f\n", n, gflop / dmed, gflop / dbest, gflop / smed, gflop / sbest);
        fflush(stdout);
    }
    return 0;
}
