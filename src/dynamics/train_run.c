/* train_run.c -- training with the kernel tracked, in one call (ntk_train_run): the snapshot
 * schedule, the learning rate from K_0, K_0's velocity and the literal one-step change, the loop
 * of ntk_trainer_step with divergence, parameter movement, checkpoints and resume.  The analysis
 * of each snapshot is src/dynamics/train_analysis.c; what is written besides the checkpoint is the
 * observer's business. */
#include "train_analysis.h"
#include "ntk_private.h"
#include "trainer_feats.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ----------------------------------------------------------------- schedule */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    long *v;
    size_t n, cap;
} longs;

static int push(longs *l, long x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        long *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return -1;
        l->v = nv, l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

void ntk_train_schedule_clear(ntk_train_schedule *s)
{
    if (!s) return;
    free(s->steps);
    s->steps = NULL;
    s->count = 0;
}

ntk_status ntk_train_schedule_parse(const char *s, long T, ntk_train_schedule *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "schedule: out is NULL");
    out->steps = NULL;
    out->count = 0;
    if (!s) return ntk_set_error(NTK_EINVAL, "schedule: the string is NULL");
    if (T < 0) return ntk_set_error(NTK_EINVAL, "schedule: T must be >= 0, got %ld", T);
    longs l = {NULL, 0, 0};
    int bad = push(&l, 0) || push(&l, T);
    char *end;
    if (strncmp(s, "every:", 6) == 0 || strncmp(s, "log:", 4) == 0) {
        int every = s[0] == 'e';
        long K = strtol(s + (every ? 6 : 4), &end, 10);
        if (*end || K < 1) {
            free(l.v);
            return ntk_set_error(NTK_EINVAL, "expected every:K or log:K with K >= 1, got '%s'", s);
        }
        if (every)
            for (long t = K; !bad && t < T; t = t > T - K ? T : t + K) bad = push(&l, t);
        else
            for (long i = 0; !bad && i < K && T > 1; i++)
                bad = push(&l, (long)llround(pow((double)T, (double)i / (double)K)));
    } else {
        const char *p = s;
        while (!bad && *p) {
            long t = strtol(p, &end, 10);
            if (end == p || t < 0 || t > T || (*end && *end != ',')) {
                free(l.v);
                return ntk_set_error(NTK_EINVAL, "expected steps in [0, %ld] separated by commas, got '%s'", T, s);
            }
            bad = push(&l, t);
            p = *end ? end + 1 : end;
        }
    }
    if (bad) {
        free(l.v);
        return ntk_set_error(NTK_ENOMEM, "schedule: out of memory for %zu steps", l.n);
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_long);
    size_t u = 0;
    for (size_t i = 0; i < l.n; i++)
        if (u == 0 || l.v[i] != l.v[u - 1]) l.v[u++] = l.v[i];
    out->steps = l.v;
    out->count = u;
    return NTK_OK;
}

/* ------------------------------------------------------------ options */

ntk_train_run_opts ntk_train_run_defaults(void)
{
    ntk_train_run_opts o;
    memset(&o, 0, sizeof o);
    o.spec = ntk_spec_default();
    o.loss = NTK_LOSS_MEAN;
    o.opt = NTK_OPT_GD;
    o.lr_frac = 0.5;
    o.steps = 1000;
    o.momentum = 0.9;
    o.schedule = "log:20";
    o.top_k = 10;
    o.ridge = 1e-8;
    o.blowup = 1e6;
    o.freeze_eps = 0.01;
    o.freeze_k = 3;
    o.freeze_delta = 2;
    return o;
}

static ntk_train_opts trainer_opts(const ntk_train_run_opts *o, double eta)
{
    ntk_train_opts t = ntk_train_defaults();
    t.opt = o->opt;
    t.loss = o->loss;
    t.lr = eta;
    t.batch = o->batch;
    t.momentum = o->momentum;
    t.seed = o->seed;
    return t;
}

/* The thread's message with a prefix ("prefix: message"), st returned. */
static ntk_status wrap(ntk_status st, const char *prefix)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ntk_last_error());
    return ntk_set_error(st, "%s: %s", prefix, msg);
}

/* nth: the hierarchy's conditions (one output, full-batch gd) and the planner's refusal of O3 (O4)
 * sizes that do not fit, before anything is allocated. */
static ntk_status nth_check(const ntk_train_run_opts *o, const ntk_dataset *d)
{
    if (o->nth != 3 && o->nth != 4)
        return ntk_set_error(NTK_EINVAL, "train: nth must be 0 (off), 3 (O3 frozen) or 4 (O4 frozen), got %d", o->nth);
    if (o->spec.outputs != 1)
        return ntk_set_error(NTK_EINVAL, "train: nth: one output only (k = %d; the hierarchy is implemented for k = 1)",
                             o->spec.outputs);
    if (o->opt != NTK_OPT_GD || o->batch != 0)
        return ntk_set_error(NTK_EINVAL,
                             "train: nth: the hierarchy follows full-batch gradient descent (opt gd, batch 0), got "
                             "opt %s, batch %zu",
                             ntk_opt_name(o->opt), o->batch);
    size_t N = d->n_train, M = d->n_eval;
    if (o->nth == 4 && (N > NTK_O4_MAX_N || M > NTK_O4_MAX_N))
        return ntk_set_error(NTK_ENOMEM,
                             "train: nth 4: O4: N = %zu, M = %zu: O4 holds N^4 + M N^3 entries in memory, refused above "
                             "N, M = %d (this one would need %.3g GB)",
                             N, M, NTK_O4_MAX_N, 1e-9 * ntk_o4_bytes(&o->spec, N, M));
    /* what is held at once: the O3 call's plan, then (level 4) the O4 call's beside O3, and the
     * integrator's copies of O3 and O3e */
    double n = (double)N, m = (double)M, o3 = 8.0 * (n * n * n + m * n * n);
    double need = o->nth == 4 ? o3 + ntk_o4_bytes(&o->spec, N, M) : ntk_o3_bytes(&o->spec, N, M);
    need += o3 + ntk_train_run_bytes(&o->spec, N, M, o->per_layer);
    double have = ntk_mem_available_bytes();
    if (need > have)
        return ntk_set_error(NTK_ENOMEM,
                             "train: nth %d: N = %zu, M = %zu needs %.3g GB with the training run (O3%s, the "
                             "integrator's copy), more than the %.3g GB available",
                             o->nth, N, M, need * 1e-9, o->nth == 4 ? " and O4" : "", have * 1e-9);
    return NTK_OK;
}

ntk_status ntk_train_run_check(const ntk_train_run_opts *o, const ntk_dataset *d)
{
    if (!o || !d) return ntk_set_error(NTK_EINVAL, "train: the options or the data are NULL");
    char msg[512];
    if (ntk_spec_check(&o->spec, msg, sizeof msg) != NTK_OK) return ntk_set_error(NTK_EINVAL, "train: %s", msg);
    if (d->n_train == 0 || !d->X_train || !d->Y_train)
        return ntk_set_error(NTK_EINVAL, "train: the data has no training points");
    if (d->n_eval && (!d->X_eval || !d->Y_eval))
        return ntk_set_error(NTK_EINVAL, "train: n_eval %zu but no evaluation arrays", d->n_eval);
    if (d->n0 != o->spec.n0 || d->k != o->spec.outputs)
        return ntk_set_error(NTK_EINVAL, "train: the data's n0 %d and k %d do not match the spec's n0 %d and outputs %d",
                             d->n0, d->k, o->spec.n0, o->spec.outputs);
    if (o->steps < 0) return ntk_set_error(NTK_EINVAL, "train: steps must be >= 0, got %ld", o->steps);
    if (!isfinite(o->lr_frac) || o->lr_frac < 0)
        return ntk_set_error(NTK_EINVAL, "train: lr_frac must be finite and >= 0, got %g", o->lr_frac);
    ntk_train_opts t = trainer_opts(o, o->lr_frac > 0 ? 1.0 : o->lr); /* eta from K_0 is checked when known */
    if (ntk_train_opts_check(&t, d->n_train) != NTK_OK) return wrap(NTK_EINVAL, "train");
    if (o->snapshots) {
        if (o->n_snapshots == 0 || o->snapshots[0] != 0)
            return ntk_set_error(NTK_EINVAL, "train: snapshots must start at step 0");
        for (size_t j = 1; j < o->n_snapshots; j++)
            if (o->snapshots[j] <= o->snapshots[j - 1] || o->snapshots[j] > o->steps)
                return ntk_set_error(NTK_EINVAL, "train: snapshots must increase within [0, %ld] (entry %zu: %ld)",
                                     o->steps, j, o->snapshots[j]);
    } else {
        ntk_train_schedule s;
        ntk_status st = ntk_train_schedule_parse(o->schedule, o->steps, &s);
        ntk_train_schedule_clear(&s);
        if (st != NTK_OK) return wrap(st, "train: schedule");
    }
    if (o->top_k < 1) return ntk_set_error(NTK_EINVAL, "train: top_k must be >= 1, got %d", o->top_k);
    if (!(o->ridge >= 0) || !isfinite(o->ridge))
        return ntk_set_error(NTK_EINVAL, "train: ridge must be finite and >= 0, got %g", o->ridge);
    if (!(o->blowup > 1)) return ntk_set_error(NTK_EINVAL, "train: blowup must be > 1, got %g", o->blowup);
    if (!(o->freeze_eps > 0) || o->freeze_k < 1 || o->freeze_delta < 1)
        return ntk_set_error(NTK_EINVAL, "train: need freeze_eps > 0, freeze_k >= 1 and freeze_delta >= 1 (got %g, %d, %d)",
                             o->freeze_eps, o->freeze_k, o->freeze_delta);
    if (o->checkpoint_every < 0)
        return ntk_set_error(NTK_EINVAL, "train: checkpoint_every must be >= 0, got %ld", o->checkpoint_every);
    if (o->checkpoint && !*o->checkpoint) return ntk_set_error(NTK_EINVAL, "train: checkpoint path is empty");
    if (o->resume && (!o->checkpoint || !o->replay))
        return ntk_set_error(NTK_EINVAL, "train: resume needs a checkpoint path and a replay callback");
    if (o->threads < 0) return ntk_set_error(NTK_EINVAL, "train: threads must be >= 0, got %d", o->threads);
    if (o->gates_frozen != 0 && o->gates_frozen != 1)
        return ntk_set_error(NTK_EINVAL, "train: gates_frozen must be 0 (live) or 1 (frozen), got %d", o->gates_frozen);
    if (o->gates_frozen && o->spec.act != NTK_ACT_RELU)
        return ntk_set_error(NTK_EINVAL, "train: gates frozen: act is %s, frozen gates are for relu only",
                             ntk_act_name(o->spec.act));
    return o->nth ? nth_check(o, d) : NTK_OK;
}

/* Peak estimate of a training run (float64), with n = N k and m = M k: about 18 n x n matrices
 * alive at the peak (K, Kdot and their previous copies, the tracker's eigenvectors and workspace,
 * the linearized predictor's eigenbasis, the two Gram buffers of a kernel computation), the
 * per-layer terms and their initial copies, 6 m x n blocks (eval kernels), activations and deltas of
 * both batches, the parameters with optimizer state, and 64 MB for the process itself.  Measured
 * peaks (depth 2, width 64): N = 1000 0.15 GB, N = 2000 0.55 GB; this gives 0.21 and 0.65 GB. */
double ntk_train_run_bytes(const ntk_spec *spec, size_t N, size_t M, int per_layer)
{
    double k = spec->outputs, n = (double)N * k, m = (double)M * k, d = spec->depth + 1.0;
    double P = 0, prev = spec->n0;
    for (int l = 0; l <= spec->depth; l++) {
        double w = l < spec->depth ? spec->widths[l] : k;
        P += (prev + 1) * w;
        prev = w;
    }
    double mats = 18 * n * n + (per_layer ? 2 * d * n * n : 0) + 6 * m * n + 4 * P;
    return 8 * mats + (double)ntk_feats_bytes(spec, N, NTK_F64) + (M ? (double)ntk_feats_bytes(spec, M, NTK_F64) : 0) +
           64e6;
}

void ntk_train_result_clear(ntk_train_result *r)
{
    if (!r) return;
    free(r->steps);   /* heads the block of steps, loss, loss_eval, drift_fro */
    free(r->f_train); /* heads the block of the [S x n] and [S x m] arrays */
    free(r->y_train);
    ntk_net_free(r->net);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ the run */

typedef struct {
    const ntk_train_run_opts *o;
    const ntk_dataset *data;
    const long *snaps;       /* schedule, increasing, from 0 */
    size_t nsnaps;
    ntk_train_schedule parsed;
    ntk_net *net;
    ntk_trainer *tr;
    ntk_feats *ft, *fe;      /* features of the train / eval sets */
    size_t N, M, k, n, m;    /* n = N k, m = M k */
    int d;                   /* weight layers */
    double c_loss, eta;
    double *K, *Ke, *f, *fev, *Kdot; /* [n x n], [m x n], [n], [m], [n x n] */
    double *theta0;          /* [P] parameters at step 0 (parameter movement) */
    double *Kl;              /* [d x n x n] per-layer kernels (per_layer), else NULL */
    double *movebuf;         /* [2 d]: the parameter movement per layer, then ||theta_l(0)||^2 */
    tra *an;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double full_loss(const run *x, const double *f, const double *y, size_t rows, double c)
{
    double s = 0;
    for (size_t i = 0; i < rows * x->k; i++) s += (f[i] - y[i]) * (f[i] - y[i]);
    return 0.5 * c * s;
}

/* Kernel of the train set (and eval x train) at the current parameters; outputs f, fev. */
static ntk_status compute_kernels(run *x)
{
    ntk_status st = ntk_feats_compute(x->net, x->ft, x->data->X_train);
    if (st == NTK_OK) st = ntk_kernel_full(x->net, x->ft, x->K, x->Kl);
    if (st == NTK_OK) st = ntk_feats_output(x->ft, x->f);
    if (st == NTK_OK && x->M) {
        st = ntk_feats_compute(x->net, x->fe, x->data->X_eval);
        if (st == NTK_OK) st = ntk_kernel_cross(x->net, x->fe, x->ft, x->Ke, NULL);
        if (st == NTK_OK) st = ntk_feats_output(x->fe, x->fev);
    }
    return st;
}

/* Layer l's parameters (W and b together, b following W in the single allocation): offset, count. */
static void layer_range(const run *x, int l, size_t *off, size_t *cnt)
{
    ntk_layer ly;
    ntk_net_layer(x->net, l, &ly);
    *off = (size_t)(ly.W - ntk_net_params_const(x->net));
    *cnt = (size_t)ly.rows * (size_t)ly.cols + (ly.b ? (size_t)ly.rows : 0);
}

/* ||theta_l(0)||^2 per weight layer, once (theta0 does not change). */
static void param_norms0(run *x)
{
    for (int l = 1; l <= x->d; l++) {
        size_t off, cnt;
        layer_range(x, l, &off, &cnt);
        double den = 0;
        for (size_t i = off; i < off + cnt; i++) den += x->theta0[i] * x->theta0[i];
        x->movebuf[x->d + l - 1] = den;
    }
}

/* ||theta_l - theta_l(0)|| / ||theta_l(0)|| per weight layer (W and b together). */
static void param_movement(run *x)
{
    const double *th = ntk_net_params_const(x->net);
    for (int l = 1; l <= x->d; l++) {
        size_t off, cnt;
        layer_range(x, l, &off, &cnt);
        double num = 0, den = x->movebuf[x->d + l - 1];
        for (size_t i = off; i < off + cnt; i++) num += (th[i] - x->theta0[i]) * (th[i] - x->theta0[i]);
        x->movebuf[l - 1] = den > 0 ? sqrt(num / den) : sqrt(num);
    }
}

static ntk_train_snapshot snapshot_view(const run *x, long step, size_t j, double loss, double loss_eval)
{
    ntk_train_snapshot s;
    memset(&s, 0, sizeof s);
    s.step = step;
    s.index = j;
    s.loss = loss;
    s.loss_eval = loss_eval;
    s.n = x->n, s.m = x->m, s.d = x->d;
    s.K = x->K;
    s.K_eval = x->m ? x->Ke : NULL;
    s.f = x->f;
    s.f_eval = x->m ? x->fev : NULL;
    s.Kdot = j == 0 ? x->Kdot : NULL;
    s.move = x->movebuf;
    s.K_layers = x->Kl;
    return s;
}

static ntk_status take_snapshot(run *x, long step, size_t j, ntk_train_observer obs, void *user)
{
    ntk_status st = compute_kernels(x);
    if (st != NTK_OK) return wrap(st, "train");
    double loss = full_loss(x, x->f, x->data->Y_train, x->N, x->c_loss);
    double loss_eval = x->M ? full_loss(x, x->fev, x->data->Y_eval, x->M, ntk_loss_factor(x->o->loss, x->M)) : NAN;
    param_movement(x);
    ntk_train_snapshot s = snapshot_view(x, step, j, loss, loss_eval);
    s.net = x->net;
    if ((st = tra_add(x->an, &s)) != NTK_OK) return st;
    return obs ? obs(user, &s) : NTK_OK;
}

/* The literal one-step change (K(theta_0 - eta grad L) - K_0) / eta against the pathwise Kdot_0:
 * for relu it also counts units whose sign flips in the step (none with frozen gates).  Parameters
 * and K are restored. */
static ntk_status literal_step(run *x, double *out)
{
    size_t P = ntk_net_num_params(x->net), nn = x->n * x->n;
    double *g = malloc(P * sizeof *g), *K0 = malloc(nn * sizeof *K0), L;
    ntk_status st = g && K0 ? NTK_OK : ntk_set_error(NTK_ENOMEM, "out of memory for P = %zu", P);
    if (st == NTK_OK) st = ntk_net_loss_grad(x->net, x->N, x->data->X_train, x->data->Y_train, x->o->loss, &L, g);
    if (st != NTK_OK) goto done;
    memcpy(K0, x->K, nn * sizeof *K0);
    double *th = ntk_net_params(x->net);
    for (size_t i = 0; i < P; i++) th[i] = x->theta0[i] - x->eta * g[i];
    ntk_net_params_changed(x->net);
    st = compute_kernels(x);
    if (st == NTK_OK) {
        double num = 0, den = 0;
        for (size_t i = 0; i < nn; i++) {
            double e = (x->K[i] - K0[i]) / x->eta - x->Kdot[i];
            num += e * e;
            den += x->Kdot[i] * x->Kdot[i];
        }
        *out = den > 0 ? sqrt(num / den) : 0;
    }
    memcpy(th, x->theta0, P * sizeof *th);
    ntk_net_params_changed(x->net);
    memcpy(x->K, K0, nn * sizeof *K0);
done:
    free(g);
    free(K0);
    return st == NTK_OK ? NTK_OK : wrap(st, "train: one-step kernel change");
}

/* nth: O3 (and O4) of the network at step 0 with their eval rows, handed to the analysis (which
 * starts the integrator at the first snapshot).  The network is at theta_0 here, also on resume
 * (the checkpoint is loaded later). */
static ntk_status nth_tensors(run *x)
{
    size_t N = x->N, M = x->M, n3 = N * N * N;
    int four = x->o->nth == 4;
    double *O3 = malloc(n3 * sizeof *O3), *O3e = M ? malloc(M * N * N * sizeof *O3e) : NULL;
    double *O4 = four ? malloc(n3 * N * sizeof *O4) : NULL, *O4e = four && M ? malloc(M * n3 * sizeof *O4e) : NULL;
    ntk_status st = !O3 || (M && !O3e) || (four && (!O4 || (M && !O4e)))
                        ? ntk_set_error(NTK_ENOMEM, "out of memory for O3%s (N = %zu, M = %zu)", four ? " and O4" : "", N, M)
                        : NTK_OK;
    ntk_o3_opts oo = ntk_o3_defaults();
    if (st == NTK_OK) st = ntk_o3(x->net, &oo, N, x->data->X_train, M, x->data->X_eval, O3, O3e);
    if (st == NTK_OK && four) st = ntk_o4(x->net, &oo, N, x->data->X_train, M, x->data->X_eval, O4, O4e);
    if (st != NTK_OK) {
        free(O3), free(O3e), free(O4), free(O4e);
        return wrap(st, "train: nth");
    }
    tra_nth(x->an, O3, O3e, O4, O4e); /* now the analysis' */
    return NTK_OK;
}

/* Everything before the first step: buffers, the network, K_0, eta, Kdot_0, the literal step, the
 * trainer and the analysis. */
static ntk_status setup(run *x, ntk_train_result *res)
{
    const ntk_train_run_opts *o = x->o;
    ntk_status st;
    if (o->snapshots) {
        x->snaps = o->snapshots;
        x->nsnaps = o->n_snapshots;
    } else {
        if ((st = ntk_train_schedule_parse(o->schedule, o->steps, &x->parsed)) != NTK_OK) return wrap(st, "train: schedule");
        x->snaps = x->parsed.steps;
        x->nsnaps = x->parsed.count;
    }
    x->N = x->data->n_train;
    x->M = x->data->n_eval;
    x->k = (size_t)o->spec.outputs;
    x->n = x->N * x->k;
    x->m = x->M * x->k;
    x->d = o->spec.depth + 1;
    x->c_loss = ntk_loss_factor(o->loss, x->N);
    size_t nn = x->n * x->n;
    x->K = malloc(nn * sizeof(double));
    x->Kdot = malloc(nn * sizeof(double));
    x->f = malloc(x->n * sizeof(double));
    x->Ke = x->m ? malloc(x->m * x->n * sizeof(double)) : NULL;
    x->Kl = o->per_layer ? malloc((size_t)x->d * nn * sizeof(double)) : NULL;
    x->fev = x->m ? malloc(x->m * sizeof(double)) : NULL;
    if (!x->K || !x->Kdot || !x->f || (x->m && (!x->Ke || !x->fev)) || (o->per_layer && !x->Kl))
        return ntk_set_error(NTK_ENOMEM, "out of memory for N = %zu", x->N);
    st = ntk_net_alloc(&o->spec, &x->net);
    if (st == NTK_OK) st = ntk_net_init(x->net, o->seed);
    /* the gates at the seeded initialisation, before K_0: on resume too (the checkpoint comes later) */
    if (st == NTK_OK && o->gates_frozen) st = ntk_net_freeze_gates(x->net);
    if (st == NTK_OK) st = ntk_feats_alloc(x->net, x->N, NTK_F64, &x->ft);
    if (st == NTK_OK && x->M) st = ntk_feats_alloc(x->net, x->M, NTK_F64, &x->fe);
    if (st != NTK_OK) return wrap(st, "train");
    size_t P = ntk_net_num_params(x->net);
    x->theta0 = malloc(P * sizeof *x->theta0);
    x->movebuf = calloc(2 * (size_t)x->d, sizeof *x->movebuf);
    if (!x->theta0 || !x->movebuf) return ntk_set_error(NTK_ENOMEM, "out of memory");
    memcpy(x->theta0, ntk_net_params_const(x->net), P * sizeof *x->theta0);
    param_norms0(x);
    /* learning rate: absolute, or lr_frac * 2 / lambda_max(c K_0); then Kdot_0 */
    if ((st = compute_kernels(x)) != NTK_OK) return wrap(st, "train");
    double *w = malloc(x->n * sizeof *w);
    st = w ? ntk_eigh(x->n, x->K, w, NULL) : ntk_set_error(NTK_ENOMEM, "out of memory for n = %zu", x->n);
    double lmax = st == NTK_OK ? w[0] : NAN;
    free(w);
    if (st != NTK_OK) return wrap(st, "train: eigenvalues of K_0");
    x->eta = o->lr_frac > 0 ? o->lr_frac * 2.0 / (x->c_loss * lmax) : o->lr;
    res->eta = x->eta;
    res->c = x->c_loss;
    st = ntk_kernel_velocity(x->net, x->N, x->data->X_train, x->data->Y_train, o->loss, x->Kdot);
    if (st != NTK_OK) return wrap(st, "train: kernel velocity");
    if ((st = literal_step(x, &res->kdot_literal)) != NTK_OK) return st;
    ntk_train_opts to = trainer_opts(o, x->eta);
    if ((st = ntk_trainer_alloc(x->net, x->N, x->data->X_train, x->data->Y_train, &to, &x->tr)) != NTK_OK)
        return wrap(st, "train");
    st = tra_alloc(x->n, x->m, x->d, o->per_layer, x->data->Y_train, x->data->Y_eval, x->eta, x->c_loss, o, x->nsnaps,
                   &x->an);
    if (st != NTK_OK || !o->nth) return st;
    double ts = now_s();
    st = nth_tensors(x);
    res->seconds_nth = now_s() - ts;
    return st;
}

/* Resume: parameters and optimizer state from the checkpoint, then the analysis rebuilt by
 * replaying every snapshot up to it.  *start: the step to continue from (0 when the checkpoint
 * does not exist: the run starts over); *j: the next snapshot. */
static ntk_status resume(run *x, ntk_train_observer obs, void *user, ntk_train_result *res, long *start, size_t *j)
{
    const ntk_train_run_opts *o = x->o;
    *start = 0;
    *j = 0;
    if (access(o->checkpoint, F_OK) != 0 && errno == ENOENT) return NTK_OK; /* stopped before its first checkpoint */
    ntk_checkpoint_info info;
    ntk_status st = ntk_checkpoint_load(o->checkpoint, x->net, x->tr, o->steps, &info);
    if (st != NTK_OK) {
        res->resume_error = 1;
        return wrap(st, "resume");
    }
    res->loss0 = info.loss0;
    res->loss_max = info.loss_max;
    res->loss_max_step = info.loss_max_step;
    *start = info.step;
    for (; *j < x->nsnaps && x->snaps[*j] <= *start; (*j)++) {
        ntk_train_replay r = {x->snaps[*j], *j, x->n, x->m, x->d, NAN, NAN, x->K, x->m ? x->Ke : NULL, x->f,
                              x->m ? x->fev : NULL, *j == 0 ? x->Kdot : NULL, x->movebuf, x->Kl};
        if ((st = o->replay(user, &r)) != NTK_OK) return st;
        ntk_train_snapshot s = snapshot_view(x, r.step, *j, r.loss, r.loss_eval);
        s.replayed = 1;
        if ((st = tra_add(x->an, &s)) != NTK_OK) return st;
        if (obs && (st = obs(user, &s)) != NTK_OK) return st;
    }
    return NTK_OK;
}

static ntk_status loop(run *x, ntk_train_observer obs, void *user, ntk_train_result *res)
{
    const ntk_train_run_opts *o = x->o;
    long start = 0;
    size_t j = 0;
    ntk_status st;
    if (o->resume && (st = resume(x, obs, user, res, &start, &j)) != NTK_OK) return st;
    res->start_step = start;
    long last_ckpt = start;
    double loss0 = start > 0 ? res->loss0 : NAN, loss = NAN;
    for (long t = start;; t++) {
        bool fresh = false; /* x->ft holds the features at this step's parameters (the snapshot's) */
        if (j < x->nsnaps && x->snaps[j] == t) {
            double ts = now_s();
            st = take_snapshot(x, t, j, obs, user);
            res->seconds_snapshots += now_s() - ts;
            if (st != NTK_OK) return st;
            fresh = true;
            j++;
            if (o->checkpoint && (t == 0 || o->checkpoint_every == 0 || t - last_ckpt >= o->checkpoint_every)) {
                ntk_checkpoint_info info = {t, res->loss0, res->loss_max, res->loss_max_step};
                if ((st = ntk_checkpoint_save(o->checkpoint, x->net, x->tr, &info)) != NTK_OK)
                    return wrap(st, "writing checkpoint");
                last_ckpt = t;
            }
        }
        if (t >= o->steps) break;
        double tstep = now_s();
        /* after a snapshot the step's gradient comes from the snapshot's features (the same bits as
         * the trainer's own forward and backward, which it skips) */
        st = fresh ? trainer_step_feats(x->tr, x->ft, &loss) : ntk_trainer_step(x->tr, &loss);
        res->seconds_steps += now_s() - tstep;
        if (isnan(loss0)) loss0 = res->loss0 = res->loss_max = loss;
        if (loss > res->loss_max) res->loss_max = loss, res->loss_max_step = t;
        if (st != NTK_OK || !isfinite(loss) || loss > o->blowup * loss0) {
            res->diverged_at = t;
            res->diverged_loss = loss;
            break;
        }
        if (o->progress) o->progress(user, t + 1, loss);
    }
    return NTK_OK;
}

ntk_status ntk_train_run(const ntk_train_run_opts *o, const ntk_dataset *data, ntk_train_observer obs, void *user,
                         ntk_train_result *res)
{
    if (!res) return ntk_set_error(NTK_EINVAL, "train: res is NULL");
    memset(res, 0, sizeof *res);
    res->eta = res->c = res->kdot_literal = NAN;
    res->loss0 = res->loss_max = res->diverged_loss = NAN;
    res->freeze_step = res->a_lambda_max = NAN;
    res->diverged_at = res->lin_nonfinite_step = res->pert_nonfinite_step = res->pw_nonfinite_step = -1;
    res->nth_diverged_step = -1;
    ntk_status st = ntk_train_run_check(o, data);
    if (st != NTK_OK) return st;
    int threads = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads); /* restored below */
    run x;
    memset(&x, 0, sizeof x);
    x.o = o;
    x.data = data;
    st = setup(&x, res);
    if (st == NTK_OK) st = loop(&x, obs, user, res);
    if (x.an) tra_finish(x.an, o, res);
    res->net = x.net;
    if (o->threads > 0) ntk_set_threads(threads);
    tra_free(x.an);
    ntk_trainer_free(x.tr);
    ntk_feats_free(x.ft);
    ntk_feats_free(x.fe);
    ntk_train_schedule_clear(&x.parsed);
    free(x.K);
    free(x.Ke);
    free(x.f);
    free(x.fev);
    free(x.Kdot);
    free(x.theta0);
    free(x.Kl);
    free(x.movebuf);
    return st;
}
