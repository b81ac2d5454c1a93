/* ensemble.c -- one ensemble cell (docs/ensemble.md, "Library"): the members of a (depth, width) cell
 * over OpenMP threads and MPI ranks.  Per member, by the exact lazy sampler: K(x,x), its weight and
 * bias parts, the readout term, f(x), the per-layer terms and the pathwise first-step update, and
 * K(x,x') of an independent network at a second probe; by the full-matrix path (a network with every
 * weight drawn): the literal one-step update, or K and f themselves under sampler_full.  Member m
 * of cell c is keyed by (seed, c * 2^32 + m) alone: its slot is written by whichever thread or rank
 * runs it, so the samples are bit-identical for any thread or rank count (nothing is reduced across
 * members here; ranks combine by an exact sum, every other rank contributing 0.0). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const qnames[NTK_ENS_NQ] = {"K",       "K_weight",   "K_bias", "K_readout", "f",
                                               "dK_path", "dK_literal", "K_off",  "rho_off"};

const char *ntk_ensemble_q_name(ntk_ensemble_q q)
{
    return (int)q >= 0 && q < NTK_ENS_NQ ? qnames[q] : NULL;
}

ntk_ensemble_opts ntk_ensemble_defaults(void)
{
    ntk_ensemble_opts o;
    memset(&o, 0, sizeof o);
    o.members = 1000;
    o.lr = 1e-3;
    return o;
}

ntk_status ntk_ensemble_samples_alloc(ntk_ensemble_samples *s, size_t members, int depth)
{
    if (!s) return ntk_set_error(NTK_EINVAL, "ensemble_samples_alloc: need a samples struct");
    memset(s, 0, sizeof *s);
    if (members < 1 || depth < 0 || depth > NTK_MAX_DEPTH)
        return ntk_set_error(NTK_EINVAL, "ensemble_samples_alloc: need members >= 1 and depth in [0, %d] (got %zu, %d)",
                             NTK_MAX_DEPTH, members, depth);
    s->members = members;
    s->depth = depth;
    bool ok = true;
    for (int k = 0; k < NTK_ENS_NQ; k++) ok = (s->q[k] = calloc(members, sizeof(double))) != NULL && ok;
    ok = ok && members <= SIZE_MAX / sizeof(double) / ((size_t)depth + 1) &&
         (s->layers = calloc(members * ((size_t)depth + 1), sizeof(double))) != NULL;
    if (ok) return NTK_OK;
    ntk_ensemble_samples_clear(s);
    return ntk_set_error(NTK_ENOMEM, "ensemble_samples_alloc: no memory for %zu members", members);
}

void ntk_ensemble_samples_clear(ntk_ensemble_samples *s)
{
    if (!s) return;
    for (int k = 0; k < NTK_ENS_NQ; k++) free(s->q[k]);
    free(s->layers);
    memset(s, 0, sizeof *s);
}

static uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* What every member of the cell shares. */
typedef struct {
    const ntk_spec *s;
    const ntk_ensemble_opts *o;
    ntk_ensemble_samples *out;
    uint64_t cell;
    int rank, size;
    bool updates;   /* the literal one-step update (full matrices) */
    bool full;      /* sampler_full: K and f from the full matrices too */
    bool need_net;  /* a full-matrix network per thread */
    bool lazy_path; /* the pathwise update by the lazy sampler */
} cell_plan;

/* dK/lambda along one SGD step on 1/2 (f(x) - y)^2 at x: pathwise (velocity, when dkp) and literal. */
static ntk_status member_updates(ntk_net *net, const double *x, double y, double lambda, double K0, double *dkp,
                                 double *dkl, double *grad, double *theta0)
{
    double Kd, L, yy = y;
    size_t P = ntk_net_num_params(net);
    ntk_status st;
    if (dkp) { /* the pathwise update on the full matrices (sampler_full) */
        if ((st = ntk_kernel_velocity(net, 1, x, &yy, NTK_LOSS_SUM, &Kd)) != NTK_OK) return st;
        *dkp = Kd;
    }
    if ((st = ntk_net_loss_grad(net, 1, x, &yy, NTK_LOSS_SUM, &L, grad)) != NTK_OK) return st;
    double *th = ntk_net_params(net);
    memcpy(theta0, th, P * sizeof *th);
    for (size_t i = 0; i < P; i++) th[i] -= lambda * grad[i];
    ntk_net_params_changed(net);
    ntk_feats *f = NULL;
    double K1 = NAN; /* stays NaN when a step below fails (then *dkl is NaN) */
    if ((st = ntk_feats_alloc(net, 1, NTK_F64, &f)) == NTK_OK && (st = ntk_feats_compute(net, f, x)) == NTK_OK)
        st = ntk_kernel_diag(net, f, &K1);
    ntk_feats_free(f);
    memcpy(th, theta0, P * sizeof *th);
    ntk_net_params_changed(net);
    *dkl = (K1 - K0) / lambda;
    return st;
}

/* Member m's lazy quantities (K, its parts, f, the per-layer terms into lay or NULL, the pathwise
 * update into *dkp) and K(x, x') of its pair network on NTK_STREAM_ENSEMBLE_PAIR (same sub). */
static ntk_status member_lazy(const cell_plan *p, size_t m, uint64_t sub, double *work, double *work2, double *lay,
                              double *dkp)
{
    const ntk_ensemble_opts *o = p->o;
    ntk_member_diag md;
    ntk_member_pair mp = {NAN, NAN, NAN, NAN, NAN}; /* at (x, x'): an independent network, own stream */
    ntk_status st = p->lazy_path ? ntk_lazy_diag_update(p->s, o->x, o->y, o->seed, sub, work, &md, lay, dkp)
                                 : ntk_lazy_diag(p->s, o->x, o->seed, sub, work, &md, lay);
    if (st == NTK_OK && o->xp)
        st = ntk_lazy_pair(p->s, o->x, o->xp, o->seed, NTK_STREAM_ENSEMBLE_PAIR, sub, work2, &mp);
    if (st != NTK_OK) return st;
    double *const *q = p->out->q;
    q[NTK_ENS_K][m] = md.K;
    q[NTK_ENS_K_WEIGHT][m] = md.K_weight;
    q[NTK_ENS_K_BIAS][m] = md.K_bias;
    q[NTK_ENS_K_READOUT][m] = md.K_readout;
    q[NTK_ENS_F][m] = md.f;
    q[NTK_ENS_K_OFF][m] = mp.K12;
    q[NTK_ENS_RHO_OFF][m] = mp.K11 > 0 && mp.K22 > 0 ? mp.K12 / sqrt(mp.K11 * mp.K22) : NAN;
    return NTK_OK;
}

/* Member m of the cell into its slots; net, grad, th0: this thread's full-matrix network and buffers. */
static ntk_status member(const cell_plan *p, size_t m, double *work, double *work2, ntk_net *net, double *grad,
                         double *th0)
{
    double *const *q = p->out->q;
    size_t nl = (size_t)p->s->depth + 1;
    double *lay = p->out->layers ? p->out->layers + m * nl : NULL;
    if (m % (size_t)p->size != (size_t)p->rank) { /* another rank's member: 0.0 in the sum over ranks */
        for (int k = 0; k < NTK_ENS_NQ; k++) q[k][m] = 0.0;
        for (size_t l = 0; lay && l < nl; l++) lay[l] = 0.0;
        return NTK_OK;
    }
    uint64_t sub = (p->cell << 32) | (uint64_t)m;
    double dkp = NAN, dkl = NAN;
    ntk_status st = NTK_OK;
    if (!p->full) {
        if ((st = member_lazy(p, m, sub, work, work2, lay, &dkp)) != NTK_OK) return st;
    } else { /* the reference path gives K(x,x) and f only */
        for (int k = 0; k < NTK_ENS_NQ; k++) q[k][m] = NAN;
        for (size_t l = 0; lay && l < nl; l++) lay[l] = NAN;
    }
    if (p->need_net) { /* full-matrix path: its own draw of the same law, keyed by (seed, cell, m) */
        const ntk_ensemble_opts *o = p->o;
        ntk_net_init(net, splitmix(o->seed ^ splitmix(sub)));
        ntk_feats *f = NULL;
        double K0, f0;
        if ((st = ntk_feats_alloc(net, 1, NTK_F64, &f)) == NTK_OK && (st = ntk_feats_compute(net, f, o->x)) == NTK_OK &&
            (st = ntk_kernel_diag(net, f, &K0)) == NTK_OK && (st = ntk_feats_output(f, &f0)) == NTK_OK && p->updates)
            st = member_updates(net, o->x, o->y, o->lr, K0, p->full ? &dkp : NULL, &dkl, grad, th0);
        ntk_feats_free(f);
        if (st != NTK_OK) return st;
        if (p->full) {
            q[NTK_ENS_K][m] = K0;
            q[NTK_ENS_F][m] = f0;
        }
    }
    q[NTK_ENS_DK_PATH][m] = dkp;
    q[NTK_ENS_DK_LITERAL][m] = dkl;
    return NTK_OK;
}

/* Every member over nt OpenMP threads (BLAS single-threaded inside).  The first failure's status and
 * message (set in its thread) come back in *err and msg. */
static void run_members(const cell_plan *p, int nt, ntk_status *err, char *msg, size_t cap)
{
    const ntk_spec *s = p->s;
    size_t M = p->o->members;
    *err = NTK_OK;
#pragma omp parallel num_threads(nt)
    {
        ntk_status st = NTK_OK;
        double *work = malloc(ntk_lazy_work_len(s) * sizeof *work);
        double *work2 = malloc(ntk_lazy_pair_work_len(s) * sizeof *work2);
        ntk_net *net = NULL;
        double *grad = NULL, *th0 = NULL;
        if (!work || !work2) st = ntk_set_error(NTK_ENOMEM, "out of memory");
        if (st == NTK_OK && p->need_net && (st = ntk_net_alloc(s, &net)) == NTK_OK && p->updates) {
            grad = malloc(ntk_net_num_params(net) * sizeof *grad);
            th0 = malloc(ntk_net_num_params(net) * sizeof *th0);
            if (!grad || !th0) st = ntk_set_error(NTK_ENOMEM, "out of memory");
        }
#pragma omp for schedule(dynamic, 8)
        for (size_t m = 0; m < M; m++)
            if (st == NTK_OK) st = member(p, m, work, work2, net, grad, th0);
        if (st != NTK_OK) {
#pragma omp critical(ntk_ensemble_err)
            if (*err == NTK_OK) {
                *err = st;
                const char *e = ntk_last_error();
                snprintf(msg, cap, "%s", e[0] ? e : "out of memory");
            }
        }
        free(work);
        free(work2);
        free(grad);
        free(th0);
        ntk_net_free(net);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static ntk_status check_args(const ntk_spec *spec, const ntk_ensemble_opts *o, uint64_t cell,
                             const ntk_ensemble_samples *smp)
{
    if (!spec || !smp) return ntk_set_error(NTK_EINVAL, "ensemble_cell: need a spec, options and samples");
    ntk_status st = ntk_spec_check(spec, NULL, 0);
    if (st != NTK_OK) return st;
    if (spec->outputs != 1) return ntk_set_error(NTK_EINVAL, "ensemble_cell: scalar networks only (outputs = 1)");
    if (o->members < 1 || o->members > UINT32_MAX)
        return ntk_set_error(NTK_EINVAL, "ensemble_cell: members must be in [1, 2^32 - 1], got %zu", o->members);
    if (cell > UINT32_MAX) return ntk_set_error(NTK_EINVAL, "ensemble_cell: cell must be below 2^32");
    if (!o->x) return ntk_set_error(NTK_EINVAL, "ensemble_cell: need the probe x");
    if (!(o->lr > 0) || !isfinite(o->lr) || !isfinite(o->y))
        return ntk_set_error(NTK_EINVAL, "ensemble_cell: need a finite lr > 0 and a finite y (got %g, %g)", o->lr, o->y);
    if (o->threads < 0) return ntk_set_error(NTK_EINVAL, "ensemble_cell: threads must be >= 0, got %d", o->threads);
    if (smp->members != o->members || (smp->layers && smp->depth != spec->depth))
        return ntk_set_error(NTK_EINVAL, "ensemble_cell: samples for %zu members at depth %d, not %zu at depth %d",
                             smp->members, smp->depth, o->members, spec->depth);
    for (int k = 0; k < NTK_ENS_NQ; k++)
        if (!smp->q[k]) return ntk_set_error(NTK_EINVAL, "ensemble_cell: samples have no %s array", qnames[k]);
    return NTK_OK;
}

ntk_status ntk_ensemble_cell(const ntk_spec *spec, const ntk_ensemble_opts *o, uint64_t cell,
                             ntk_ensemble_samples *samples, ntk_ensemble_stats *st)
{
    if (!o) return ntk_set_error(NTK_EINVAL, "ensemble_cell: need a spec, options and samples");
    if (o->dist && (o->dist->size < 1 || o->dist->rank < 0 || o->dist->rank >= o->dist->size))
        return ntk_set_error(NTK_EINVAL, "ensemble_cell: rank %d of %d ranks", o->dist->rank, o->dist->size);
    /* from here every return on one rank is agreed with the others (no rank left waiting in a
     * collective call): bad arguments on one rank fail the cell on all of them */
    ntk_status rc = check_args(spec, o, cell, samples);
    double secs = 0;
    if (rc == NTK_OK) {
        const ntk_spec *s = spec;
        double P = 0; /* weights only: the size cap of the literal update */
        int prev = s->n0;
        for (int l = 0; l <= s->depth; l++) {
            int n = l < s->depth ? s->widths[l] : 1;
            P += (double)n * prev;
            prev = n;
        }
        cell_plan p = {.s = s, .o = o, .out = samples, .cell = cell, .rank = o->dist ? o->dist->rank : 0,
                       .size = o->dist ? o->dist->size : 1};
        /* pathwise update: by the lazy sampler; literal update: full matrices (it counts the kink
         * crossings of a finite step, which no conditioning on a few directions captures), skipped
         * above the size cap */
        p.updates = !o->no_updates && !o->no_literal && P <= NTK_ENSEMBLE_LITERAL_MAX_PARAMS;
        p.full = o->sampler_full != 0;
        p.need_net = p.updates || p.full;
        p.lazy_path = !o->no_updates && !p.full;
        int threads = ntk_get_threads();
        int nt = o->threads > 0 ? o->threads : threads;
        ntk_set_threads(1); /* one level of parallelism: members over OpenMP threads, BLAS single-threaded */
        double t0 = now_s();
        char msg[512] = "";
        run_members(&p, nt, &rc, msg, sizeof msg);
        secs = now_s() - t0;
        ntk_set_threads(threads);
        if (rc != NTK_OK) ntk_set_error(rc, "ensemble: cell %llu: %s", (unsigned long long)cell, msg);
    }
    int worst = ntk_dist_agree(o->dist, (int)rc);
    if (worst != NTK_OK) {
        if (rc == NTK_OK)
            ntk_set_error((ntk_status)worst, "ensemble: cell %llu: failed on another rank", (unsigned long long)cell);
        return (ntk_status)worst;
    }
    size_t M = o->members;
    for (int k = 0; k < NTK_ENS_NQ && rc == NTK_OK; k++) rc = ntk_dist_sum(o->dist, samples->q[k], M);
    if (rc == NTK_OK && samples->layers) rc = ntk_dist_sum(o->dist, samples->layers, M * ((size_t)spec->depth + 1));
    if (rc != NTK_OK) return rc;
    if (st) {
        if ((rc = ntk_ensemble_stats_compute(samples, o->seed, cell, st)) != NTK_OK) return rc;
        st->seconds = secs;
    }
    return NTK_OK;
}
