/* train_probe.c -- in-process timings of training steps and tracked-run snapshots for bench_train.py,
 * against build/libntkdrift.a (public API only).
 *
 *   train_probe step DEPTH WIDTH N0 N THREADS STEPS BLOCKS
 *     ntk_trainer_step (full-batch gd, lr 0.1) and the batched reference step (ntk_net_loss_grad, then
 *     theta -= lr g: the path every step took before the fused one) on two copies of the same network,
 *     in alternating blocks of STEPS steps (so a disturbance hits both alike), BLOCKS blocks each after
 *     5 untimed steps; seconds per step: median and fastest block.
 *   train_probe snap DEPTH WIDTH N0 N THREADS STEPS EVERY DIR
 *     ntk_train_run (gd, lr 0.1, snapshots every EVERY steps) with an observer that writes each
 *     snapshot's npz into DIR as `ntkdrift train` does; a snapshot's time runs from the end of the step
 *     before it (the progress callback) to the end of the observer: kernel, analysis and file (the first,
 *     which follows the setup, is the engine's seconds_snapshots less the others and less the probe's own
 *     kernels).  Right after each
 *     snapshot, inside the observer and outside that time, one warm kernel of the same network:
 *     ntk_feats_compute + ntk_kernel_full + ntk_feats_output on the probe's own buffers (what a snapshot
 *     computes before its analysis; the buffers are first used, untimed, at the first snapshot), so each
 *     snapshot has a kernel measured next to it; ratio = median over snapshots after the first of
 *     snapshot / its kernel.  Each step is timed too (from the end of the last step or observer to the
 *     progress callback): the step right after a snapshot takes the snapshot's features and skips its
 *     own forward and backward, so what a snapshot adds to the run is snap_cost = the median snapshot
 *     + the median step after one - the median plain step (steps 2..); cost_ratio = snap_cost / the
 *     median warm kernel.
 *
 * Network: ReLU, NTK parameterization, no biases, sw2 = sw2_out = 2, one output (bench_train.py's and the
 * peer's); inputs Gaussian rows of norm sqrt(n0), targets N(0, 1).  Output: one JSON line. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
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

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(size_t n, double *v)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int die(const char *what)
{
    fprintf(stderr, "train_probe: %s: %s\n", what, ntk_last_error());
    return 1;
}

typedef struct {
    int depth, width, n0, threads;
    size_t N;
    int widths[64];
    ntk_spec spec;
    double *X, *Y;
} problem;

static int problem_make(problem *p, char **argv)
{
    p->depth = atoi(argv[0]), p->width = atoi(argv[1]), p->n0 = atoi(argv[2]);
    p->N = (size_t)atol(argv[3]), p->threads = atoi(argv[4]);
    if (p->depth < 0 || p->depth > 64 || p->width < 1 || p->n0 < 1 || p->N < 1 || p->threads < 1) return 0;
    for (int l = 0; l < p->depth; l++) p->widths[l] = p->width;
    p->spec = ntk_spec_default();
    p->spec.depth = p->depth, p->spec.widths = p->widths, p->spec.n0 = p->n0, p->spec.outputs = 1;
    p->spec.act = NTK_ACT_RELU, p->spec.param = NTK_PARAM_NTK, p->spec.sw2 = 2, p->spec.sw2_out = 2;
    p->spec.bias = NTK_BIAS_NONE, p->spec.bias_out = NTK_BIAS_NONE;
    size_t n0 = (size_t)p->n0;
    p->X = malloc(p->N * n0 * sizeof *p->X);
    p->Y = malloc(p->N * sizeof *p->Y);
    if (!p->X || !p->Y) return 0;
    ntk_rng_normal(1, NTK_STREAM_TARGET, 11, 0, p->N * n0, p->X);
    ntk_rng_normal(1, NTK_STREAM_TARGET, 12, 0, p->N, p->Y);
    for (size_t i = 0; i < p->N; i++) {
        double s = 0;
        for (size_t j = 0; j < n0; j++) s += p->X[i * n0 + j] * p->X[i * n0 + j];
        for (size_t j = 0; j < n0; j++) p->X[i * n0 + j] *= sqrt((double)n0 / s);
    }
    ntk_set_threads(p->threads);
    return 1;
}

static int step_mode(char **argv)
{
    problem p;
    if (!problem_make(&p, argv)) return 2;
    int steps = atoi(argv[5]), blocks = atoi(argv[6]);
    if (steps < 1 || blocks < 1) return 2;
    ntk_net *a = NULL, *b = NULL;
    ntk_trainer *tr = NULL;
    ntk_train_opts o = ntk_train_defaults();
    o.lr = 0.1;
    if (ntk_net_alloc(&p.spec, &a) || ntk_net_init(a, 1) || ntk_net_alloc(&p.spec, &b) || ntk_net_init(b, 1))
        return die("network");
    if (ntk_trainer_alloc(a, p.N, p.X, p.Y, &o, &tr)) return die("trainer");
    size_t P = ntk_net_num_params(b);
    double *g = malloc(P * sizeof *g), *tf = malloc((size_t)blocks * sizeof *tf), *tb = malloc((size_t)blocks * sizeof *tb);
    double La = 0, Lb = 0;
    if (!g || !tf || !tb) return 2;
    for (int s = 0; s < 5; s++) {
        if (ntk_trainer_step(tr, &La) || ntk_net_loss_grad(b, p.N, p.X, p.Y, NTK_LOSS_MEAN, &Lb, g)) return die("step");
        double *th = ntk_net_params(b);
        for (size_t i = 0; i < P; i++) th[i] -= o.lr * g[i];
    }
    for (int k = 0; k < blocks; k++) {
        double t0 = now();
        for (int s = 0; s < steps; s++)
            if (ntk_trainer_step(tr, &La)) return die("step");
        double t1 = now();
        for (int s = 0; s < steps; s++) {
            if (ntk_net_loss_grad(b, p.N, p.X, p.Y, NTK_LOSS_MEAN, &Lb, g)) return die("batched step");
            double *th = ntk_net_params(b);
            for (size_t i = 0; i < P; i++) th[i] -= o.lr * g[i];
        }
        double t2 = now();
        tf[k] = (t1 - t0) / steps, tb[k] = (t2 - t1) / steps;
    }
    double tfm = median((size_t)blocks, tf), tbm = median((size_t)blocks, tb);
    printf("{\"probe\": \"step\", \"depth\": %d, \"width\": %d, \"n0\": %d, \"n\": %zu, \"threads\": %d, \"P\": %zu, "
           "\"steps\": %d, \"blocks\": %d, \"fused_s\": %.6e, \"fused_min_s\": %.6e, \"batched_s\": %.6e, "
           "\"batched_min_s\": %.6e, \"loss_fused\": %.17g, \"loss_batched\": %.17g}\n",
           p.depth, p.width, p.n0, p.N, p.threads, P, steps, blocks, tfm, tf[0], tbm, tb[0], La, Lb);
    ntk_trainer_free(tr);
    ntk_net_free(a);
    ntk_net_free(b);
    free(g), free(tf), free(tb), free(p.X), free(p.Y);
    return 0;
}

typedef struct {
    const char *dir;
    double t_last;    /* end of the last step (or of the setup) */
    double *snap_s;   /* [cap] */
    double *kern_s;   /* [cap] the warm kernel after each snapshot */
    double extra;     /* seconds the observer spent on those kernels (inside the engine's snapshot time) */
    size_t count, cap;
    double t_begin;   /* start of the current step: the end of the last step or of the observer */
    double *step_s;   /* [steps] each step's time */
    char *after;      /* [steps] 1: the step right after a snapshot (it takes the snapshot's features) */
    long nsteps;
    bool snapped;     /* a snapshot was just taken */
    const double *X;  /* [N x n0] */
    ntk_net *net;     /* a copy of the run's network at the snapshot (the snapshot's is const) */
    ntk_feats *f;
    double *K, *fo;   /* [N x N], [N] */
} snap_rec;

static void on_progress(void *user, long step, double loss)
{
    (void)loss;
    snap_rec *r = user;
    r->t_last = now();
    if (step >= 1 && step <= r->nsteps) {
        r->step_s[step - 1] = r->t_last - r->t_begin;
        r->after[step - 1] = r->snapped;
    }
    r->snapped = false;
    r->t_begin = r->t_last;
}

static ntk_status on_snapshot(void *user, const ntk_train_snapshot *s)
{
    snap_rec *r = user;
    char path[4096];
    snprintf(path, sizeof path, "%s/snap_%010ld.npz", r->dir, s->step);
    ntk_status st = ntk_train_snapshot_save(path, s);
    if (st != NTK_OK || r->count >= r->cap) return st;
    double t_saved = now();
    r->snap_s[r->count] = t_saved - r->t_last;
    if (!r->f) { /* first use of the kernel buffers, untimed */
        if ((st = ntk_net_alloc(ntk_net_spec(s->net), &r->net)) != NTK_OK) return st;
        if ((st = ntk_feats_alloc(r->net, s->n, NTK_F64, &r->f)) != NTK_OK) return st;
        if ((st = ntk_feats_compute(r->net, r->f, r->X)) != NTK_OK) return st;
    }
    memcpy(ntk_net_params(r->net), ntk_net_params_const(s->net), ntk_net_num_params(s->net) * sizeof(double));
    double a = now();
    st = ntk_feats_compute(r->net, r->f, r->X);
    if (st == NTK_OK) st = ntk_kernel_full(r->net, r->f, r->K, NULL);
    if (st == NTK_OK) st = ntk_feats_output(r->f, r->fo);
    double b = now();
    r->kern_s[r->count++] = b - a;
    r->extra += b - t_saved;
    r->snapped = true;
    r->t_begin = now();
    return st;
}

static int snap_mode(char **argv)
{
    problem p;
    if (!problem_make(&p, argv)) return 2;
    long steps = atol(argv[5]), every = atol(argv[6]);
    if (steps < 1 || every < 1) return 2;
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec = p.spec;
    o.loss = NTK_LOSS_MEAN;
    o.lr_frac = 0;
    o.lr = 0.1;
    o.steps = steps;
    char sched[64];
    snprintf(sched, sizeof sched, "every:%ld", every);
    o.schedule = sched;
    o.seed = 1;
    o.threads = p.threads;
    ntk_dataset d;
    memset(&d, 0, sizeof d);
    d.n_train = p.N, d.n0 = p.n0, d.k = 1, d.X_train = p.X, d.Y_train = p.Y;
    snap_rec r = {.dir = argv[7], .cap = (size_t)(steps / every) + 2, .X = p.X, .nsteps = steps};
    r.snap_s = malloc(r.cap * sizeof *r.snap_s);
    r.step_s = calloc((size_t)steps, sizeof *r.step_s);
    r.after = calloc((size_t)steps, 1);
    r.kern_s = malloc(r.cap * sizeof *r.kern_s);
    r.K = malloc(p.N * p.N * sizeof *r.K);
    r.fo = malloc(p.N * sizeof *r.fo);
    if (!r.snap_s || !r.kern_s || !r.K || !r.fo || !r.step_s || !r.after) return 2;
    o.progress = on_progress;
    ntk_train_result res;
    r.t_last = now();
    double t0 = now();
    if (ntk_train_run(&o, &d, on_snapshot, &r, &res) != NTK_OK) return die("train run");
    double wall = now() - t0;
    size_t nl = r.count > 1 ? r.count - 1 : 0;
    double sum = 0, *ratio = malloc((nl ? nl : 1) * sizeof *ratio), *ks = malloc((nl ? nl : 1) * sizeof *ks);
    double *later = malloc((nl ? nl : 1) * sizeof *later);
    if (!ratio || !ks || !later) return 2;
    for (size_t j = 0; j < nl; j++) {
        later[j] = r.snap_s[j + 1], ks[j] = r.kern_s[j + 1], ratio[j] = later[j] / ks[j];
        sum += later[j];
    }
    /* the first follows the setup, not a step: the engine's total less the others and the probe's kernels */
    double first = res.seconds_snapshots - sum - r.extra;
    double mean = nl ? sum / (double)nl : NAN, first_ratio = r.count ? first / r.kern_s[0] : NAN;
    double med = nl ? median(nl, later) : NAN, kmed = nl ? median(nl, ks) : NAN, rmed = nl ? median(nl, ratio) : NAN;
    /* What a snapshot adds to the run: its own time, plus the step after it less a plain step (that
     * step takes the snapshot's features and skips its own forward and backward).  Steps 2.. only
     * (the first pays its buffers' first use). */
    double *plain = malloc((size_t)steps * sizeof *plain), *aft = malloc((size_t)steps * sizeof *aft);
    if (!plain || !aft) return 2;
    size_t np = 0, na = 0;
    for (long t = 1; t < steps; t++) {
        if (r.after[t]) aft[na++] = r.step_s[t];
        else plain[np++] = r.step_s[t];
    }
    double pmed = np ? median(np, plain) : NAN, amed = na ? median(na, aft) : NAN;
    double cost = med + amed - pmed;
    printf("{\"probe\": \"snap\", \"depth\": %d, \"width\": %d, \"n0\": %d, \"n\": %zu, \"threads\": %d, \"steps\": %ld, "
           "\"every\": %ld, \"snapshots\": %zu, \"first_snap_s\": %.6e, \"snap_median_s\": %.6e, \"snap_mean_s\": %.6e, "
           "\"seconds_snapshots\": %.6e, \"seconds_steps\": %.6e, \"wall_s\": %.6e, \"kernel_warm_s\": %.6e, "
           "\"ratio_median\": %.6e, \"first_ratio\": %.6e, \"step_plain_s\": %.6e, \"step_after_s\": %.6e, "
           "\"snap_cost_s\": %.6e, \"cost_ratio\": %.6e}\n",
           p.depth, p.width, p.n0, p.N, p.threads, steps, every, r.count, first, med, mean, res.seconds_snapshots,
           res.seconds_steps, wall, kmed, rmed, first_ratio, pmed, amed, cost, cost / kmed);
    free(plain), free(aft), free(r.step_s), free(r.after);
    ntk_feats_free(r.f);
    ntk_net_free(r.net);
    ntk_train_result_clear(&res);
    free(r.K), free(r.fo), free(r.snap_s), free(r.kern_s), free(ratio), free(ks), free(later), free(p.X), free(p.Y);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "step") == 0) return step_mode(argv + 2);
    if (argc == 10 && strcmp(argv[1], "snap") == 0) return snap_mode(argv + 2);
    fprintf(stderr, "usage: train_probe step DEPTH WIDTH N0 N THREADS STEPS BLOCKS\n"
                    "       train_probe snap DEPTH WIDTH N0 N THREADS STEPS EVERY DIR\n");
    return 2;
}
