/* o3_probe.c -- in-process times of the hierarchy tensors for bench/bench_o3.py, public API only:
 * one kernel (ntk_feats_compute + ntk_kernel_full, warm), ntk_o3 and optionally ntk_o4, each the
 * median of R calls after one untimed call, on an erf network (NTK parameterization, sigma_w^2 2 / 1,
 * normal hidden biases, no readout bias) and N Gaussian points; peak RSS (VmHWM) after the calls.
 *
 * usage: o3_probe DEPTH WIDTH N0 N THREADS REPEAT O4(0|1) SEED [OUTDIR]
 * prints one JSON line; with OUTDIR writes params.npz, X.npy, O3.npy (and O4.npy) there. */
#include "ntkdrift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Peak RSS of this process image (VmHWM: reset by execve, unlike ru_maxrss, which a child
 * inherits from a large parent such as the bench's Python with PyTorch loaded). */
static double peak_rss_bytes(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
    if (fp) fclose(fp);
    return 1024.0 * kb;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define CHECK(e)                                                                                                \
    do {                                                                                                        \
        if ((e) != NTK_OK) {                                                                                    \
            fprintf(stderr, "o3_probe: %s: %s\n", #e, ntk_last_error());                                        \
            return 1;                                                                                           \
        }                                                                                                       \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: o3_probe DEPTH WIDTH N0 N THREADS REPEAT O4 SEED [OUTDIR]\n");
        return 2;
    }
    int depth = atoi(argv[1]), width = atoi(argv[2]), n0 = atoi(argv[3]), threads = atoi(argv[5]);
    int R = atoi(argv[6]), do4 = atoi(argv[7]);
    size_t N = (size_t)atol(argv[4]);
    int *w = malloc((size_t)(depth > 0 ? depth : 1) * sizeof *w);
    for (int l = 0; l < depth; l++) w[l] = width;
    ntk_spec s = ntk_spec_default();
    s.depth = depth, s.widths = w, s.n0 = n0, s.act = NTK_ACT_ERF, s.bias = NTK_BIAS_NORMAL;
    s.bias_out = NTK_BIAS_NONE;
    ntk_set_threads(threads);
    ntk_net *net = NULL;
    CHECK(ntk_net_alloc(&s, &net));
    CHECK(ntk_net_init(net, strtoull(argv[8], NULL, 10)));
    double *X = malloc(N * (size_t)n0 * sizeof *X), *K = malloc(N * N * sizeof *K);
    double *O3 = malloc(N * N * N * sizeof *O3), *O4 = do4 ? malloc(N * N * N * N * sizeof *O4) : NULL;
    if (!X || !K || !O3 || (do4 && !O4)) return 1;
    CHECK(ntk_data_gaussian(7, N, n0, X));
    ntk_feats *f = NULL;
    CHECK(ntk_feats_alloc(net, N, NTK_F64, &f));
    double tk[64], t3[64], t4[64];
    if (R > 64) R = 64;
    for (int r = -1; r < R; r++) {
        double t0 = now();
        CHECK(ntk_feats_compute(net, f, X));
        CHECK(ntk_kernel_full(net, f, K, NULL));
        if (r >= 0) tk[r] = now() - t0;
    }
    for (int r = -1; r < R; r++) {
        double t0 = now();
        CHECK(ntk_o3(net, NULL, N, X, 0, NULL, O3, NULL));
        if (r >= 0) t3[r] = now() - t0;
    }
    double o4s = -1;
    if (do4) {
        int R4 = R < 3 ? R : 3;
        for (int r = 0; r < R4; r++) { /* O4 is long: no untimed call, at most 3 */
            double t0 = now();
            CHECK(ntk_o4(net, NULL, N, X, 0, NULL, O4, NULL));
            t4[r] = now() - t0;
        }
        o4s = median(t4, R4);
    }
    double rss = peak_rss_bytes();
    if (argc > 9) {
        char p[4096];
        size_t sx[2] = {N, (size_t)n0}, s3[3] = {N, N, N}, s4[4] = {N, N, N, N};
        snprintf(p, sizeof p, "%s/params.npz", argv[9]);
        CHECK(ntk_net_save_params(net, p));
        snprintf(p, sizeof p, "%s/X.npy", argv[9]);
        CHECK(ntk_npy_write(p, NTK_F64, 2, sx, X));
        snprintf(p, sizeof p, "%s/O3.npy", argv[9]);
        CHECK(ntk_npy_write(p, NTK_F64, 3, s3, O3));
        if (do4) {
            snprintf(p, sizeof p, "%s/O4.npy", argv[9]);
            CHECK(ntk_npy_write(p, NTK_F64, 4, s4, O4));
        }
    }
    printf("{\"kernel_s\": %.6g, \"o3_s\": %.6g, \"o4_s\": %.6g, \"o3_bytes\": %.6g, \"o4_bytes\": %.6g, "
           "\"maxrss_bytes\": %.6g, \"params\": %zu}\n",
           median(tk, R), median(t3, R), o4s, ntk_o3_bytes(&s, N, 0), do4 ? ntk_o4_bytes(&s, N, 0) : -1.0,
           rss, ntk_net_num_params(net));
    ntk_feats_free(f);
    ntk_net_free(net);
    free(X); free(K); free(O3); free(O4); free(w);
    return 0;
}
