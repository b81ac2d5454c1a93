/* rng_probe.c -- single-thread cost model of `ntkdrift ensemble` members (bench helper).
 *
 * Linked against build/libntkdrift.a, public API (include/ntkdrift.h) only.  Three modes, each
 * printing one JSON line:
 *
 *   rng_probe rng TOTAL CHUNK [REPS=3] [THREADS=1] [SPAN=CHUNK]
 *       ntk_rng_normal alone: TOTAL normals drawn in calls of CHUNK values (a layer's weight
 *       matrix, as ntk_net_init draws them: stream NTK_STREAM_WEIGHT, sub = layer, start 0) into a
 *       buffer of SPAN doubles (rounded up to whole chunks), chunk after chunk, wrapping around.
 *       SPAN = CHUNK (default) reuses one layer-sized buffer, so the number is the generator's;
 *       SPAN = a network's parameter count writes like ntk_net_init does.  The buffer is touched
 *       once before timing.  REPS timed repetitions; normals_per_s is the median rate, best_per_s
 *       the fastest.  THREADS > 1 runs that many OpenMP threads at once, each drawing TOTAL normals
 *       on its own subs into its own buffer; the rate is then the aggregate.
 *
 *   rng_probe member DEPTH WIDTH N0 [REPS=3] [BIAS=zero|none]
 *       One full-matrix member as `ntkdrift ensemble --sampler full --no-updates` computes it
 *       (cli/cmd_ensemble.c): ntk_net_init (every weight drawn) and then ntk_feats_alloc +
 *       ntk_feats_compute + ntk_kernel_diag + ntk_feats_free, BLAS on one thread.  Median seconds
 *       of each part over REPS members after one untimed member (first touch of the parameters).
 *
 *   rng_probe lazy DEPTH WIDTH N0 [REPS=200] [BIAS=zero|none]
 *       The lazy sampler's two calls per member (ntk_lazy_diag; ntk_lazy_pair at a second probe at
 *       90 degrees), each timed over REPS members: mean seconds per member of each.
 *
 * Build (bench/bench_ensemble.py does this, into bench/out/):
 *   gcc -O2 -std=c17 -fopenmp -Iinclude bench/rng_probe.c build/libntkdrift.a \
 *       $(pkg-config --libs openblas lapacke libzip zlib) -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
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

static int usage(void)
{
    fprintf(stderr, "usage: rng_probe rng TOTAL CHUNK [REPS=3] [THREADS=1] [SPAN=CHUNK]\n"
                    "       rng_probe member DEPTH WIDTH N0 [REPS=3] [zero|none]\n"
                    "       rng_probe lazy DEPTH WIDTH N0 [REPS=200] [zero|none]\n");
    return 2;
}

/* Draw `total` normals in calls of `chunk` into buf (nchunks chunks, wrapping around); returns a
 * checksum so nothing is elided. */
static double draw(size_t total, size_t chunk, size_t nchunks, uint64_t sub0, double *buf)
{
    double acc = 0;
    uint64_t sub = sub0;
    size_t c = 0;
    for (size_t done = 0; done < total; done += chunk, sub++, c = (c + 1) % nchunks) {
        size_t n = total - done < chunk ? total - done : chunk;
        double *out = buf + c * chunk;
        ntk_rng_normal(0x5eedull, NTK_STREAM_WEIGHT, sub, 0, n, out);
        acc += out[n - 1];
    }
    return acc;
}

static int mode_rng(int argc, char **argv)
{
    if (argc < 4) return usage();
    size_t total = strtoull(argv[2], NULL, 10), chunk = strtoull(argv[3], NULL, 10);
    int reps = argc > 4 ? atoi(argv[4]) : 3, threads = argc > 5 ? atoi(argv[5]) : 1;
    size_t span = argc > 6 ? strtoull(argv[6], NULL, 10) : chunk;
    if (!total || !chunk || reps < 1 || reps > 100 || threads < 1) return usage();
    if (chunk > total) chunk = total;
    size_t nchunks = span > chunk ? (span + chunk - 1) / chunk : 1;
    double **bufs = calloc((size_t)threads, sizeof *bufs);
    if (!bufs) return 1;
    double *times = malloc((size_t)reps * sizeof *times), check = 0;
    int failed = 0;
    if (!times) return 1;
    for (int r = -1; r < reps; r++) { /* r = -1: allocation and first touch of every buffer, not timed */
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : check) reduction(| : failed)
        {
            int tid = 0;
#ifdef _OPENMP
            extern int omp_get_thread_num(void);
            tid = omp_get_thread_num();
#endif
            if (r < 0) {
                bufs[tid] = malloc(nchunks * chunk * sizeof **bufs);
                if (!bufs[tid]) failed = 1;
                else memset(bufs[tid], 0, nchunks * chunk * sizeof **bufs);
            } else if (!failed) {
                check += draw(total, chunk, nchunks, ((uint64_t)(tid + 1) << 40) + (uint64_t)(r + 1) * 1000003u,
                              bufs[tid]);
            }
        }
        if (r >= 0) times[r] = now() - t0;
        if (failed) {
            fprintf(stderr, "rng_probe: out of memory\n");
            return 1;
        }
    }
    for (int t = 0; t < threads; t++) free(bufs[t]);
    free(bufs);
    double best = times[0];
    for (int r = 1; r < reps; r++) best = fmin(best, times[r]);
    double med = median(times, reps), n = (double)total * threads;
    printf("{\"mode\": \"rng\", \"total\": %zu, \"chunk\": %zu, \"span\": %zu, \"reps\": %d, \"threads\": %d, "
           "\"median_s\": %.6f, \"best_s\": %.6f, \"normals_per_s\": %.6e, \"best_per_s\": %.6e, "
           "\"ns_per_normal\": %.4f, \"checksum\": %.17g}\n",
           total, chunk, nchunks * chunk, reps, threads, med, best, n / med, n / best, 1e9 * med / n, check);
    free(times);
    return 0;
}

/* Spec of the benchmark network: ReLU, NTK, sw2 2 / readout 1, bias zero (or none), widths[] = width. */
static int make_spec(int depth, int width, int n0, const char *bias, ntk_spec *s, int **widths)
{
    *s = ntk_spec_default();
    *widths = malloc((size_t)(depth > 0 ? depth : 1) * sizeof **widths);
    if (!*widths) return -1;
    for (int l = 0; l < depth; l++) (*widths)[l] = width;
    s->depth = depth;
    s->widths = *widths;
    s->n0 = n0;
    if (bias && strcmp(bias, "none") == 0) s->bias = s->bias_out = NTK_BIAS_NONE;
    char msg[256];
    if (ntk_spec_check(s, msg, sizeof msg) != NTK_OK) {
        fprintf(stderr, "rng_probe: %s\n", msg);
        return -1;
    }
    return 0;
}

static int mode_member(int argc, char **argv)
{
    if (argc < 5) return usage();
    int depth = atoi(argv[2]), width = atoi(argv[3]), n0 = atoi(argv[4]), reps = argc > 5 ? atoi(argv[5]) : 3;
    const char *bias = argc > 6 ? argv[6] : "zero";
    if (depth < 0 || width < 1 || n0 < 1 || reps < 1) return usage();
    ntk_spec s;
    int *widths = NULL;
    if (make_spec(depth, width, n0, bias, &s, &widths)) return 1;
    ntk_set_threads(1); /* what the ensemble does inside its members' parallel region */
    ntk_net *net = NULL;
    double *x = malloc((size_t)n0 * sizeof *x), *t_init = malloc((size_t)reps * sizeof *t_init),
           *t_fb = malloc((size_t)reps * sizeof *t_fb), ksum = 0;
    if (!x || !t_init || !t_fb || ntk_net_alloc(&s, &net) != NTK_OK) {
        fprintf(stderr, "rng_probe: %s\n", ntk_last_error());
        return 1;
    }
    ntk_data_gaussian(0, 1, n0, x);
    double first_init = 0, first_fb = 0;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        ntk_net_init(net, 0x1234567ull + (uint64_t)(r + 1));
        double t1 = now(), K = 0;
        ntk_feats *f = NULL;
        if (ntk_feats_alloc(net, 1, NTK_F64, &f) != NTK_OK || ntk_feats_compute(net, f, x) != NTK_OK ||
            ntk_kernel_diag(net, f, &K) != NTK_OK) {
            fprintf(stderr, "rng_probe: %s\n", ntk_last_error());
            return 1;
        }
        ntk_feats_free(f);
        double t2 = now();
        ksum += K;
        if (r < 0) {
            first_init = t1 - t0, first_fb = t2 - t1;
        } else {
            t_init[r] = t1 - t0, t_fb[r] = t2 - t1;
        }
    }
    size_t P = ntk_net_num_params(net);
    double mi = median(t_init, reps), mf = median(t_fb, reps);
    printf("{\"mode\": \"member\", \"depth\": %d, \"width\": %d, \"n0\": %d, \"bias\": \"%s\", \"params\": %zu, "
           "\"reps\": %d, \"first_init_s\": %.6f, \"first_fwd_bwd_s\": %.6f, \"init_s\": %.6f, \"fwd_bwd_s\": %.6f, "
           "\"member_s\": %.6f, \"K_mean\": %.8g}\n",
           depth, width, n0, bias, P, reps, first_init, first_fb, mi, mf, mi + mf, ksum / (reps + 1));
    ntk_net_free(net);
    free(x);
    free(t_init);
    free(t_fb);
    free(widths);
    return 0;
}

static int mode_lazy(int argc, char **argv)
{
    if (argc < 5) return usage();
    int depth = atoi(argv[2]), width = atoi(argv[3]), n0 = atoi(argv[4]), reps = argc > 5 ? atoi(argv[5]) : 200;
    const char *bias = argc > 6 ? argv[6] : "zero";
    if (depth < 0 || width < 1 || n0 < 2 || reps < 1) return usage();
    ntk_spec s;
    int *widths = NULL;
    if (make_spec(depth, width, n0, bias, &s, &widths)) return 1;
    double *x = malloc(2 * (size_t)n0 * sizeof *x), *xp = malloc((size_t)n0 * sizeof *xp);
    double *w1 = malloc(ntk_lazy_work_len(&s) * sizeof *w1), *w2 = malloc(ntk_lazy_pair_work_len(&s) * sizeof *w2);
    if (!x || !xp || !w1 || !w2) return 1;
    ntk_data_gaussian(0, 2, n0, x); /* x' = a second Gaussian row made orthogonal to x, same norm (90 deg) */
    double *u = x + n0, nx = 0, xu = 0, nu = 0;
    for (int i = 0; i < n0; i++) nx += x[i] * x[i], xu += x[i] * u[i];
    for (int i = 0; i < n0; i++) u[i] -= xu / nx * x[i], nu += u[i] * u[i];
    for (int i = 0; i < n0; i++) xp[i] = sqrt(nx / nu) * u[i];
    ntk_member_diag md;
    ntk_member_pair mp;
    double kd = 0, kp = 0;
    ntk_lazy_diag(&s, x, 0, 0, w1, &md, NULL); /* warm-up */
    ntk_lazy_pair(&s, x, xp, 0, NTK_STREAM_ENSEMBLE_PAIR, 0, w2, &mp);
    double t0 = now();
    for (int r = 0; r < reps; r++) {
        if (ntk_lazy_diag(&s, x, 0, (uint64_t)r + 1, w1, &md, NULL) != NTK_OK) return 1;
        kd += md.K;
    }
    double t1 = now();
    for (int r = 0; r < reps; r++) {
        if (ntk_lazy_pair(&s, x, xp, 0, NTK_STREAM_ENSEMBLE_PAIR, (uint64_t)r + 1, w2, &mp) != NTK_OK) return 1;
        kp += mp.K11;
    }
    double t2 = now();
    printf("{\"mode\": \"lazy\", \"depth\": %d, \"width\": %d, \"n0\": %d, \"bias\": \"%s\", \"reps\": %d, "
           "\"diag_s\": %.9f, \"pair_s\": %.9f, \"member_s\": %.9f, \"K_mean_diag\": %.8g, \"K11_mean_pair\": %.8g}\n",
           depth, width, n0, bias, reps, (t1 - t0) / reps, (t2 - t1) / reps, (t2 - t0) / reps, kd / reps, kp / reps);
    free(x);
    free(xp);
    free(w1);
    free(w2);
    free(widths);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    if (strcmp(argv[1], "rng") == 0) return mode_rng(argc, argv);
    if (strcmp(argv[1], "member") == 0) return mode_member(argc, argv);
    if (strcmp(argv[1], "lazy") == 0) return mode_lazy(argc, argv);
    return usage();
}
