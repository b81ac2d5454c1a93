/* ntk_probe.c -- in-process phase timing of libntkdrift's structured NTK (bench helper).
 *
 * Same network as `ntkdrift kernel --sw2 S --sw2-out S --bias none` (ReLU, NTK param, scalar output,
 * Gaussian inputs of norm sqrt(n0)).  Prints one JSON line with, in seconds:
 *   cold_*   first ntk_feats_compute / ntk_kernel_full in this process (fresh buffers: page faults,
 *            BLAS thread start-up, float32 parameter mirror) -- what one `ntkdrift kernel` run pays;
 *   warm_*   median of R further calls on the same buffers (what torch_ntk.py's timing measures);
 *   blas_*   median of R runs of just the BLAS calls the minimal algorithm needs, at the same shapes
 *            and dtype, on private buffers: forward gemms, backward gemms (features) and the two
 *            syrks per layer (Grams), each one call on all N points with THREADS BLAS threads;
 *   tiles_*  median of R runs of the BLAS calls libntkdrift itself makes, on the same private buffers:
 *            the features in chunks of points and the Grams in tiles of 128 rows (SYRK on diagonal
 *            tiles), over THREADS OpenMP threads with BLAS single-threaded (src/model/feats.c,
 *            src/kernel/kernel_grams.c).  warm - tiles ~ ntkdrift's non-BLAS passes (activations,
 *            masks, Hadamard products, mirroring) and its larger working set (every layer's H, Z, D
 *            and W vs two activation buffers and one W here).
 * All of them interleaved with the warm calls, so that a disturbance hits each alike.
 * Build (bench_ntk.py does this):
 *   gcc -O2 -std=c17 -fopenmp -Iinclude bench/ntk_probe.c build/libntkdrift.a \
 *       $(pkg-config --libs openblas lapacke libzip zlib) -lm
 * Run: ntk_probe DEPTH WIDTH N0 N f64|f32 THREADS [REPS=5] [SW2=2] [SEED=0]
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <omp.h>
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void gemm(int f32, int m, int n, int k, int transB, const void *A, const void *B, void *C)
{
    enum CBLAS_TRANSPOSE tb = transB ? CblasTrans : CblasNoTrans;
    int ldb = transB ? k : n;
    if (f32)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, m, n, k, 1.0f, A, k, B, ldb, 0.0f, C, n);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, tb, m, n, k, 1.0, A, k, B, ldb, 0.0, C, n);
}

static void syrk(int f32, int n, int k, const void *A, void *C)
{
    if (f32)
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, k, 1.0f, A, k, 0.0f, C, n);
    else
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, k, 1.0, A, k, 0.0, C, n);
}

static void syrk_ld(int f32, int n, int k, const void *A, void *C, int ldc)
{
    if (f32)
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, k, 1.0f, A, k, 0.0f, C, ldc);
    else
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, k, 1.0, A, k, 0.0, C, ldc);
}

/* C[m x n] = A B^T, A: [m x k], B: [n x k] (rows of one buffer), ldc = n. */
static void gemm_ld(int f32, int m, int n, int k, const void *A, const void *B, void *C, int ldc)
{
    if (f32)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, A, k, B, k, 0.0f, C, ldc);
    else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0, A, k, B, k, 0.0, C, ldc);
}

/* The BLAS calls of the minimal structured algorithm on buffers filled with small values.
 * w: n_0 .. n_{L+1}; A: N x max_n (two of them), W: max_n x max_n, C: N x N. */
static void blas_only(int f32, int d, const int *w, int N, void *A0, void *A1, const void *W, void *C,
                      double *t_feat, double *t_gram)
{
    double t0 = now();
    for (int l = 1; l <= d; l++) gemm(f32, N, w[l], w[l - 1], 1, A0, W, A1);     /* Z_l = H W^T */
    for (int l = d; l >= 2; l--) gemm(f32, N, w[l - 1], w[l], 0, A1, W, A0);     /* D_{l-1} = D_l W */
    double t1 = now();
    for (int l = 1; l <= d; l++) {
        syrk(f32, N, w[l - 1], A0, C);                                            /* H_{l-1} H_{l-1}^T */
        if (l < d) syrk(f32, N, w[l], A1, C);                                     /* D_l D_l^T */
    }
    *t_feat = t1 - t0;
    *t_gram = now() - t1;
}

/* The chunks and tiles of libntkdrift (src/model/feats.c chunk_rows, src/kernel/kernel_grams.c). */
static int chunk_rows(int N)
{
    int c = (N / 2 + 3) / 4 * 4;
    return c < 128 ? 128 : c > 256 ? 256 : c;
}
#define TILE 128

static void *at(void *p, int f32, size_t i) { return (char *)p + i * (f32 ? 4 : 8); }

/* The library's BLAS calls on the probe's buffers: features chunk by chunk, then the Gram tiles,
 * over T OpenMP threads with BLAS single-threaded.  C: T scratch tiles of TILE x TILE. */
static void blas_tiled(int f32, int d, const int *w, int N, int T, void *A0, void *A1, const void *W, void *C,
                       double *t_feat, double *t_gram)
{
    int maxn = 0;
    for (int l = 0; l <= d; l++) maxn = w[l] > maxn ? w[l] : maxn;
    int B = chunk_rows(N), chunks = (N + B - 1) / B, nI = (N + TILE - 1) / TILE;
    int off = nI * (nI - 1) / 2, ntiles = off + nI;
    openblas_set_num_threads(1);
    double t0 = now();
#pragma omp parallel for schedule(dynamic, 1) num_threads(T)
    for (int c = 0; c < chunks; c++) {
        int r0 = c * B, m = r0 + B <= N ? B : N - r0;
        void *a0 = at(A0, f32, (size_t)r0 * maxn), *a1 = at(A1, f32, (size_t)r0 * maxn);
        for (int l = 1; l <= d; l++) gemm(f32, m, w[l], w[l - 1], 1, a0, W, a1);
        for (int l = d; l >= 2; l--) gemm(f32, m, w[l - 1], w[l], 0, a1, W, a0);
    }
    double t1 = now();
#pragma omp parallel num_threads(T)
    {
        void *g = at(C, f32, (size_t)omp_get_thread_num() * TILE * TILE);
#pragma omp for schedule(dynamic, 1)
        for (int q = 0; q < ntiles; q++) {
            int bi, bj;
            if (q < off) { /* off-diagonal tiles first, as the library orders them */
                int s = q;
                for (bi = 1; s >= bi; bi++) s -= bi;
                bj = s;
            } else {
                bi = bj = q - off;
            }
            int ti = bi * TILE + TILE <= N ? TILE : N - bi * TILE, tj = bj * TILE + TILE <= N ? TILE : N - bj * TILE;
            for (int l = 1; l <= d; l++)
                for (int h = 0; h < (l < d ? 2 : 1); h++) { /* H_{l-1} Gram, then D_l Gram */
                    int k = h ? w[l] : w[l - 1];
                    const void *a = h ? A1 : A0;
                    if (bi == bj)
                        syrk_ld(f32, ti, k, at((void *)a, f32, (size_t)bi * TILE * k), g, tj);
                    else
                        gemm_ld(f32, ti, tj, k, at((void *)a, f32, (size_t)bi * TILE * k),
                                at((void *)a, f32, (size_t)bj * TILE * k), g, tj);
                }
        }
    }
    *t_feat = t1 - t0;
    *t_gram = now() - t1;
    openblas_set_num_threads(T);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s DEPTH WIDTH N0 N f64|f32 THREADS [REPS=5] [SW2=2] [SEED=0]\n", argv[0]);
        return 2;
    }
    int depth = atoi(argv[1]), width = atoi(argv[2]), n0 = atoi(argv[3]), N = atoi(argv[4]);
    int f32 = strcmp(argv[5], "f32") == 0, threads = atoi(argv[6]);
    int reps = argc > 7 ? atoi(argv[7]) : 5;
    double sw2 = argc > 8 ? atof(argv[8]) : 2.0;
    unsigned long long seed = argc > 9 ? strtoull(argv[9], NULL, 10) : 0;
    if (depth < 1 || width < 1 || n0 < 1 || N < 1 || reps < 1) {
        fprintf(stderr, "ntk_probe: bad arguments\n");
        return 2;
    }
    ntk_dtype dt = f32 ? NTK_F32 : NTK_F64;
    size_t es = f32 ? sizeof(float) : sizeof(double);
    ntk_set_threads(threads);

    int *widths = malloc((size_t)depth * sizeof *widths);
    for (int l = 0; l < depth; l++) widths[l] = width;
    ntk_spec spec = ntk_spec_default();
    spec.depth = depth;
    spec.widths = widths;
    spec.n0 = n0;
    spec.outputs = 1;
    spec.sw2 = sw2;
    spec.sw2_out = sw2;
    spec.bias = NTK_BIAS_NONE;
    spec.bias_out = NTK_BIAS_NONE;
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    double *X = malloc((size_t)N * (size_t)n0 * sizeof *X);
    if (ntk_net_alloc(&spec, &net) != NTK_OK || ntk_net_init(net, seed) != NTK_OK ||
        ntk_data_gaussian(seed, (size_t)N, n0, X) != NTK_OK) {
        fprintf(stderr, "ntk_probe: %s\n", ntk_last_error());
        return 1;
    }

    /* cold: as in one `ntkdrift kernel` process (buffers allocated right before use) */
    void *K = malloc((size_t)N * (size_t)N * es);
    double t0 = now();
    if (ntk_feats_alloc(net, (size_t)N, dt, &f) != NTK_OK || ntk_feats_compute(net, f, X) != NTK_OK) {
        fprintf(stderr, "ntk_probe: %s\n", ntk_last_error());
        return 1;
    }
    double t1 = now();
    if (ntk_kernel_full(net, f, K, NULL) != NTK_OK) {
        fprintf(stderr, "ntk_probe: %s\n", ntk_last_error());
        return 1;
    }
    double t2 = now();
    double cold_feat = t1 - t0, cold_gram = t2 - t1;

    int d = depth + 1, maxn = width > n0 ? width : n0;
    int *w = malloc(((size_t)d + 1) * sizeof *w);
    w[0] = n0;
    for (int l = 1; l < d; l++) w[l] = width;
    w[d] = 1;
    size_t an = (size_t)N * (size_t)maxn;
    void *A0 = malloc(an * es), *A1 = malloc(an * es), *W = malloc((size_t)maxn * (size_t)maxn * es);
    void *C = malloc((size_t)N * (size_t)N * es);
    void *Ct = malloc((size_t)threads * TILE * TILE * es);
    memset(Ct, 0, (size_t)threads * TILE * TILE * es);
    for (size_t i = 0; i < an; i++) {
        if (f32) {
            ((float *)A0)[i] = 1e-3f * (float)(i % 7);
            ((float *)A1)[i] = 1e-3f * (float)(i % 5);
        } else {
            ((double *)A0)[i] = 1e-3 * (double)(i % 7);
            ((double *)A1)[i] = 1e-3 * (double)(i % 5);
        }
    }
    for (size_t i = 0; i < (size_t)maxn * (size_t)maxn; i++) {
        if (f32)
            ((float *)W)[i] = 1e-3f * (float)(i % 3);
        else
            ((double *)W)[i] = 1e-3 * (double)(i % 3);
    }
    memset(C, 0, (size_t)N * (size_t)N * es);
    double dummy_f, dummy_g;
    blas_only(f32, d, w, N, A0, A1, W, C, &dummy_f, &dummy_g); /* warm-up */
    blas_tiled(f32, d, w, N, threads, A0, A1, W, Ct, &dummy_f, &dummy_g);
    /* warm library calls and bare BLAS interleaved, so that a disturbance hits both alike */
    double *wf = malloc((size_t)reps * sizeof *wf), *wg = malloc((size_t)reps * sizeof *wg);
    double *bf = malloc((size_t)reps * sizeof *bf), *bg = malloc((size_t)reps * sizeof *bg);
    double *tf = malloc((size_t)reps * sizeof *tf), *tg = malloc((size_t)reps * sizeof *tg);
    for (int r = 0; r < reps; r++) {
        double a = now();
        ntk_feats_compute(net, f, X);
        double b = now();
        ntk_kernel_full(net, f, K, NULL);
        wf[r] = b - a;
        wg[r] = now() - b;
        blas_only(f32, d, w, N, A0, A1, W, C, &bf[r], &bg[r]);
        blas_tiled(f32, d, w, N, threads, A0, A1, W, Ct, &tf[r], &tg[r]);
    }

    printf("{\"depth\": %d, \"width\": %d, \"n0\": %d, \"N\": %d, \"dtype\": \"%s\", \"threads\": %d, "
           "\"reps\": %d, \"cold_features_s\": %.6g, \"cold_grams_s\": %.6g, \"warm_features_s\": %.6g, "
           "\"warm_grams_s\": %.6g, \"blas_features_s\": %.6g, \"blas_grams_s\": %.6g, \"tiles_features_s\": %.6g, "
           "\"tiles_grams_s\": %.6g}\n",
           depth, width, n0, N, f32 ? "float32" : "float64", ntk_get_threads(), reps, cold_feat, cold_gram,
           median(wf, reps), median(wg, reps), median(bf, reps), median(bg, reps), median(tf, reps), median(tg, reps));

    free(A0); free(A1); free(W); free(C); free(Ct); free(w);
    free(wf); free(wg); free(bf); free(bg); free(tf); free(tg);
    free(K); free(X); free(widths);
    ntk_feats_free(f);
    ntk_net_free(net);
    return 0;
}
