/* rng_probe.c -- single-thread cost model of `ntkdrift ensemble` members (bench helper).
 *
 * Linked against build/libntkdrift.a, public API (include/ntkdrift.h) only.  Two modes, each
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
 *   rng_probe paired DEPTH WIDTH N0 [BLOCKS=5] [BLOCK_S=0.3] [BIAS=zero|none]
 *       The full-matrix member, the lazy member and the generator alone, interleaved in one process on
 *       one thread (BLAS too), for the network `ntkdrift ensemble` samples (ReLU, NTK, sw2 2 / readout
 *       1, zero-init biases or none).  After one warm-up full member (first_*: it pays the first touch
 *       of the parameter block, as each thread's first member does in the CLI), BLOCKS blocks of
 *         rng   ntk_rng_normal alone drawing the network's weight matrices layer by layer (as
 *               ntk_net_init does, into one reused layer-sized buffer), about BLOCK_S seconds;
 *         full  members as src/ensemble/ensemble.c computes them with --sampler full --no-updates:
 *               ntk_net_init (init_s) and ntk_feats_alloc + ntk_feats_compute + ntk_kernel_diag +
 *               ntk_feats_free (fwd_bwd_s), about BLOCK_S seconds (at least one member);
 *         lazy  ntk_lazy_diag, then ntk_lazy_pair at a second probe at 90 degrees (what
 *               --sampler lazy --no-updates does per member), about BLOCK_S seconds each.
 *       Ratios are formed within each block (a shared machine's slow phases then hit both sides) and
 *       their medians printed: full_over_bound = (weights / rng rate) / full member time,
 *       init_over_bound (ntk_net_init alone), lazy_over_full = full / (diag + pair), diag_over_full.
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
                    "       rng_probe paired DEPTH WIDTH N0 [BLOCKS=5] [BLOCK_S=0.3] [zero|none]\n");
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

/* Draw the normals of `layers` weight matrices the way ntk_net_init does (one call per layer, stream
 * NTK_STREAM_WEIGHT, sub = layer), cycling over the network's layers until `total` normals are drawn,
 * into one reused buffer of the largest layer's size. */
static double draw_layers(const size_t *nW, int d, size_t total, uint64_t sub0, double *buf, size_t *drawn)
{
    double acc = 0;
    size_t done = 0;
    for (uint64_t k = 0; done < total; k++) {
        size_t n = nW[k % (uint64_t)d];
        ntk_rng_normal(0x5eedull, NTK_STREAM_WEIGHT, sub0 + k, 0, n, buf);
        acc += buf[n - 1];
        done += n;
    }
    *drawn = done;
    return acc;
}

/* One full-matrix member as src/ensemble/ensemble.c computes it with --sampler full --no-updates. */
static int full_member(ntk_net *net, const double *x, uint64_t seed, double *t_init, double *t_fb, double *K)
{
    double t0 = now();
    ntk_net_init(net, seed);
    double t1 = now();
    ntk_feats *f = NULL;
    int rc = ntk_feats_alloc(net, 1, NTK_F64, &f) == NTK_OK && ntk_feats_compute(net, f, x) == NTK_OK &&
             ntk_kernel_diag(net, f, K) == NTK_OK ? 0 : -1;
    ntk_feats_free(f);
    *t_init = t1 - t0;
    *t_fb = now() - t1;
    if (rc) fprintf(stderr, "rng_probe: %s\n", ntk_last_error());
    return rc;
}

static int mode_paired(int argc, char **argv)
{
    if (argc < 5) return usage();
    int depth = atoi(argv[2]), width = atoi(argv[3]), n0 = atoi(argv[4]);
    int blocks = argc > 5 ? atoi(argv[5]) : 5;
    double block_s = argc > 6 ? atof(argv[6]) : 0.3;
    const char *bias = argc > 7 ? argv[7] : "zero";
    if (depth < 0 || width < 1 || n0 < 2 || blocks < 1 || blocks > 1000 || !(block_s > 0)) return usage();
    ntk_spec s;
    int *widths = NULL;
    if (make_spec(depth, width, n0, bias, &s, &widths)) return 1;
    ntk_set_threads(1); /* what the ensemble does inside its members' parallel region */

    /* network, probes x and x' (90 degrees, same norm sqrt(n0)), workspaces, layer sizes */
    int d = depth + 1;
    size_t *nW = malloc((size_t)d * sizeof *nW), maxW = 0, Pw = 0;
    double *x = malloc(2 * (size_t)n0 * sizeof *x), *xp = malloc((size_t)n0 * sizeof *xp);
    double *w1 = malloc(ntk_lazy_work_len(&s) * sizeof *w1), *w2 = malloc(ntk_lazy_pair_work_len(&s) * sizeof *w2);
    ntk_net *net = NULL;
    if (!nW || !x || !xp || !w1 || !w2 || ntk_net_alloc(&s, &net) != NTK_OK) {
        fprintf(stderr, "rng_probe: out of memory (%s)\n", ntk_last_error());
        return 1;
    }
    for (int l = 1, prev = n0; l <= d; l++) {
        int n = l < d ? width : 1;
        nW[l - 1] = (size_t)n * (size_t)prev;
        Pw += nW[l - 1];
        if (nW[l - 1] > maxW) maxW = nW[l - 1];
        prev = n;
    }
    double *buf = malloc(maxW * sizeof *buf);
    if (!buf) return 1;
    memset(buf, 0, maxW * sizeof *buf);
    ntk_data_gaussian(0, 2, n0, x);
    double *u = x + n0, nx = 0, xu = 0, nu = 0;
    for (int i = 0; i < n0; i++) nx += x[i] * x[i], xu += x[i] * u[i];
    for (int i = 0; i < n0; i++) u[i] -= xu / nx * x[i], nu += u[i] * u[i];
    for (int i = 0; i < n0; i++) xp[i] = sqrt(nx / nu) * u[i];

    /* warm-up and sizes: the first full member pays the first touch of the parameters (as each
     * thread's first member does in the CLI); a few lazy members and one rng pass calibrate */
    double first_init, first_fb, K, check = 0, ti, tf;
    if (full_member(net, x, 1, &first_init, &first_fb, &K)) return 1;
    ntk_member_diag md;
    ntk_member_pair mp;
    double t0 = now();
    int nl0 = 0;
    uint64_t sub = 1;
    do {
        ntk_lazy_diag(&s, x, 0, sub, w1, &md, NULL);
        ntk_lazy_pair(&s, x, xp, 0, NTK_STREAM_ENSEMBLE_PAIR, sub++, w2, &mp);
        nl0++;
    } while (now() - t0 < 0.02);
    double lazy_est = (now() - t0) / nl0;
    size_t drawn;
    t0 = now();
    check += draw_layers(nW, d, maxW, 1u << 20, buf, &drawn);
    double rate_est = (double)drawn / (now() - t0);
    int n_full = (int)fmax(1, fmin(10000, block_s / (first_init + first_fb)));
    int n_lazy = (int)fmax(1, fmin(1000000, block_s / lazy_est));
    size_t n_rng = (size_t)fmax((double)maxW, block_s * rate_est);

    /* blocks: rng alone | n_full full members | n_lazy lazy diag | n_lazy lazy pair, interleaved so
     * that a slow phase of a shared machine hits all four alike; ratios are formed within a block */
    double *rng_rate = malloc((size_t)blocks * sizeof(double)), *init_s = malloc((size_t)blocks * sizeof(double)),
           *fb_s = malloc((size_t)blocks * sizeof(double)), *diag_s = malloc((size_t)blocks * sizeof(double)),
           *pair_s = malloc((size_t)blocks * sizeof(double)), *r_full = malloc((size_t)blocks * sizeof(double)),
           *r_init = malloc((size_t)blocks * sizeof(double)), *r_lazy = malloc((size_t)blocks * sizeof(double)),
           *r_diag = malloc((size_t)blocks * sizeof(double));
    if (!rng_rate || !init_s || !fb_s || !diag_s || !pair_s || !r_full || !r_init || !r_lazy || !r_diag) return 1;
    double ksum = 0, kdsum = 0;
    uint64_t seed = 100;
    for (int b = 0; b < blocks; b++) {
        t0 = now();
        check += draw_layers(nW, d, n_rng, ((uint64_t)(b + 2)) << 32, buf, &drawn);
        rng_rate[b] = (double)drawn / (now() - t0);
        init_s[b] = fb_s[b] = 0;
        for (int m = 0; m < n_full; m++) {
            if (full_member(net, x, seed++, &ti, &tf, &K)) return 1;
            init_s[b] += ti / n_full, fb_s[b] += tf / n_full, ksum += K;
        }
        t0 = now();
        for (int m = 0; m < n_lazy; m++) {
            if (ntk_lazy_diag(&s, x, 0, sub + (uint64_t)m, w1, &md, NULL) != NTK_OK) return 1;
            kdsum += md.K;
        }
        double t1 = now();
        for (int m = 0; m < n_lazy; m++)
            if (ntk_lazy_pair(&s, x, xp, 0, NTK_STREAM_ENSEMBLE_PAIR, sub + (uint64_t)m, w2, &mp) != NTK_OK) return 1;
        double t2 = now();
        sub += (uint64_t)n_lazy;
        diag_s[b] = (t1 - t0) / n_lazy, pair_s[b] = (t2 - t1) / n_lazy;
        double full_s = init_s[b] + fb_s[b], bound_s = (double)Pw / rng_rate[b];
        r_full[b] = bound_s / full_s;              /* full members/s over the bound's */
        r_init[b] = bound_s / init_s[b];           /* ntk_net_init alone over the bound */
        r_lazy[b] = full_s / (diag_s[b] + pair_s[b]); /* lazy (diag + pair, as the CLI) over full */
        r_diag[b] = full_s / diag_s[b];            /* lazy diag alone over full */
    }
    double best_rate = rng_rate[0];
    for (int b = 1; b < blocks; b++) best_rate = fmax(best_rate, rng_rate[b]);
    printf("{\"mode\": \"paired\", \"depth\": %d, \"width\": %d, \"n0\": %d, \"bias\": \"%s\", \"weights\": %zu, "
           "\"params\": %zu, \"blocks\": %d, \"block_s\": %.3f, \"n_full\": %d, \"n_lazy\": %d, \"n_rng\": %zu, "
           "\"first_init_s\": %.6f, \"first_fwd_bwd_s\": %.6f, "
           "\"rng_per_s\": %.6e, \"rng_best_per_s\": %.6e, \"init_s\": %.9f, \"fwd_bwd_s\": %.9f, \"member_s\": %.9f, "
           "\"diag_s\": %.9f, \"pair_s\": %.9f, \"lazy_s\": %.9f, "
           "\"full_over_bound\": %.5f, \"init_over_bound\": %.5f, \"lazy_over_full\": %.5f, \"diag_over_full\": %.5f, "
           "\"full_over_bound_blocks\": [",
           depth, width, n0, bias, Pw, ntk_net_num_params(net), blocks, block_s, n_full, n_lazy, n_rng, first_init,
           first_fb, median(rng_rate, blocks), best_rate, median(init_s, blocks), median(fb_s, blocks),
           median(init_s, blocks) + median(fb_s, blocks), median(diag_s, blocks), median(pair_s, blocks),
           median(diag_s, blocks) + median(pair_s, blocks), median(r_full, blocks), median(r_init, blocks),
           median(r_lazy, blocks), median(r_diag, blocks));
    /* median() sorted the arrays in place; the block lists below are therefore in sorted order */
    for (int b = 0; b < blocks; b++) printf("%s%.4f", b ? ", " : "", r_full[b]);
    printf("], \"lazy_over_full_blocks\": [");
    for (int b = 0; b < blocks; b++) printf("%s%.3f", b ? ", " : "", r_lazy[b]);
    printf("], \"K_mean_full\": %.8g, \"K_mean_lazy_diag\": %.8g, \"checksum\": %.17g}\n", ksum / (blocks * n_full),
           kdsum / ((double)blocks * n_lazy), check);
    ntk_net_free(net);
    free(nW), free(x), free(xp), free(w1), free(w2), free(buf), free(widths);
    free(rng_rate), free(init_s), free(fb_s), free(diag_s), free(pair_s), free(r_full), free(r_init), free(r_lazy),
        free(r_diag);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    if (strcmp(argv[1], "rng") == 0) return mode_rng(argc, argv);
    if (strcmp(argv[1], "paired") == 0) return mode_paired(argc, argv);
    return usage();
}
