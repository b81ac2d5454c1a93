/* ntk_probe.c -- in-process phase timing of libntkdrift's structured NTK (bench helper).
 *
 * Same network as `ntkdrift kernel --sw2 S --sw2-out S --bias none` (ReLU, NTK param, scalar output,
 * Gaussian inputs of norm sqrt(n0)).  Prints one JSON line with, in seconds:
 *   cold_*   first ntk_feats_compute / ntk_kernel_full in this process (fresh buffers: page faults,
 *            BLAS thread start-up, float32 parameter mirror) -- what one `ntkdrift kernel` run pays;
 *   warm_*   median of R further calls on the same buffers (what torch_ntk.py's timing measures);
 *   blas_*   median of R runs of just the BLAS calls the minimal algorithm needs, at the same shapes
 *            and dtype, on private buffers: forward gemms, backward gemms (features) and the two
 *            syrks per layer (Grams), interleaved with the warm calls.  warm - blas ~ ntkdrift's
 *            non-BLAS passes (activations, masks, Hadamard products, symmetrisation) and its larger
 *            working set (every layer's H, Z, D and W vs two activation buffers and one W here).
 * Build (bench_ntk.py does this):
 *   gcc -O2 -std=c17 -fopenmp -Iinclude bench/ntk_probe.c build/libntkdrift.a \
 *       $(pkg-config --libs openblas lapacke libzip zlib) -lm
 * Run: ntk_probe DEPTH WIDTH N0 N f64|f32 THREADS [REPS=5] [SW2=2] [SEED=0]
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
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
    /* warm library calls and bare BLAS interleaved, so that a disturbance hits both alike */
    double *wf = malloc((size_t)reps * sizeof *wf), *wg = malloc((size_t)reps * sizeof *wg);
    double *bf = malloc((size_t)reps * sizeof *bf), *bg = malloc((size_t)reps * sizeof *bg);
    for (int r = 0; r < reps; r++) {
        double a = now();
        ntk_feats_compute(net, f, X);
        double b = now();
        ntk_kernel_full(net, f, K, NULL);
        wf[r] = b - a;
        wg[r] = now() - b;
        blas_only(f32, d, w, N, A0, A1, W, C, &bf[r], &bg[r]);
    }

    printf("{\"depth\": %d, \"width\": %d, \"n0\": %d, \"N\": %d, \"dtype\": \"%s\", \"threads\": %d, "
           "\"reps\": %d, \"cold_features_s\": %.6g, \"cold_grams_s\": %.6g, \"warm_features_s\": %.6g, "
           "\"warm_grams_s\": %.6g, \"blas_features_s\": %.6g, \"blas_grams_s\": %.6g}\n",
           depth, width, n0, N, f32 ? "float32" : "float64", ntk_get_threads(), reps, cold_feat, cold_gram,
           median(wf, reps), median(wg, reps), median(bf, reps), median(bg, reps));

    free(A0); free(A1); free(W); free(C); free(w);
    free(wf); free(wg); free(bf); free(bg);
    free(K); free(X); free(widths);
    ntk_feats_free(f);
    ntk_net_free(net);
    return 0;
}
