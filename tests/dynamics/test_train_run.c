/* test_train_run.c -- ntk_train_run (src/dynamics/train_run.c, src/dynamics/train_analysis.c) and its schedule.
 *
 * - ntk_train_schedule_parse: every:K, log:K, explicit lists (sorted, unique, 0 and T added) and
 *   T = 0; malformed strings are NTK_EINVAL with their messages;
 * - a run's snapshots hold the kernels, outputs and losses of the same ntk_trainer_step loop done
 *   here by hand (ntk_kernel_full / ntk_kernel_cross at the parameters it reaches: bit-identical,
 *   the same operations in the same order), eta from lr_frac is lr_frac * 2 / (c lambda_max) of
 *   ntk_eigh on K_0, the literal one-step change is recomputed from ntk_net_loss_grad, the
 *   parameter movement from the layer views, drift_fro, kdot_err and the per-layer drift from the
 *   kernels directly;
 * - divergence stops at the first step whose loss is non-finite or above blowup x the first, found
 *   here by the hand loop; the snapshots up to it are delivered and the status is NTK_OK;
 * - an observer's non-OK status stops the run and is returned;
 * - resume: a run stopped by its observer after a checkpoint, resumed from that checkpoint with
 *   the earlier snapshots replayed, gives results bit-identical to the uninterrupted run; a
 *   missing checkpoint starts over (no replay) and also matches;
 * - two threads train exactly as one (kernels, losses, outputs, parameters); the analysis agrees
 *   to rounding (LAPACK's eigendecompositions follow the thread split); the count is restored;
 * - bad options are NTK_EINVAL from ntk_train_run_check and ntk_train_run, naming the field;
 * - ntk_train_metrics_row / _name: each named metrics.csv column holds its field (the mapping written
 *   out in the test), then move and the per-layer drift. */
#include "testutil.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 6, M = 3, N0 = 3, D = 3, MAXS = 16, P_MAX = 256 };
static const int WIDTHS[2] = {8, 8};

/* ---------------------------------------------------------------- fixture */

typedef struct {
    double X[N * N0], Y[N], Xe[M * N0], Ye[M];
    ntk_dataset d;
    char ckpt[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    for (int i = 0; i < N * N0; i++) f->X[i] = 0.8 * sin(1.0 + 1.7 * i);
    for (int i = 0; i < N; i++) f->Y[i] = cos(2.0 * i);
    for (int i = 0; i < M * N0; i++) f->Xe[i] = 0.7 * cos(0.5 + 1.3 * i);
    for (int i = 0; i < M; i++) f->Ye[i] = sin(1.5 * i);
    f->d.n_train = N;
    f->d.n_eval = M;
    f->d.n0 = N0;
    f->d.k = 1;
    f->d.X_train = f->X, f->d.Y_train = f->Y, f->d.X_eval = f->Xe, f->d.Y_eval = f->Ye;
    snprintf(f->ckpt, sizeof f->ckpt, "/tmp/ntk_test_train_run_%ld.npz", (long)getpid());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->ckpt);
    free(f);
    return 0;
}

static ntk_train_run_opts base_opts(void)
{
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec.depth = 2;
    o.spec.widths = WIDTHS;
    o.spec.n0 = N0;
    o.spec.outputs = 1;
    o.spec.act = NTK_ACT_TANH;
    o.seed = 11;
    o.steps = 12;
    o.schedule = "every:2";
    o.threads = 1;
    return o;
}

/* ------------------------------------------------------------- recorder */

typedef struct rec {
    size_t count;
    long step[MAXS];
    int replayed[MAXS];
    double loss[MAXS], loss_eval[MAXS], t[MAXS];
    double K[MAXS][N * N], Ke[MAXS][M * N], f[MAXS][N], fe[MAXS][M], move[MAXS][D], Kl[MAXS][D * N * N];
    double dl[MAXS][D], Kdot[N * N];
    int have_kl, have_dl;
    ntk_train_metrics mt[MAXS];
    long stop_at;                /* return NTK_EIO after recording this step (-1: never) */
    int replays;
    const struct rec *source;    /* where replay reads */
} rec;

static rec *rec_new(void)
{
    rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->stop_at = -1;
    return r;
}

static ntk_status observe(void *user, const ntk_train_snapshot *s)
{
    rec *r = user;
    size_t j = r->count;
    if (j >= MAXS || s->index != j || s->n != N || s->m != M || s->d != D) return NTK_EFORMAT;
    r->step[j] = s->step;
    r->replayed[j] = s->replayed;
    r->loss[j] = s->loss;
    r->loss_eval[j] = s->loss_eval;
    r->t[j] = s->t;
    memcpy(r->K[j], s->K, sizeof r->K[j]);
    memcpy(r->Ke[j], s->K_eval, sizeof r->Ke[j]);
    memcpy(r->f[j], s->f, sizeof r->f[j]);
    memcpy(r->fe[j], s->f_eval, sizeof r->fe[j]);
    memcpy(r->move[j], s->move, sizeof r->move[j]);
    if (s->K_layers) memcpy(r->Kl[j], s->K_layers, sizeof r->Kl[j]), r->have_kl = 1;
    if (s->drift_layers) memcpy(r->dl[j], s->drift_layers, sizeof r->dl[j]), r->have_dl = 1;
    if (j == 0 && s->Kdot) memcpy(r->Kdot, s->Kdot, sizeof r->Kdot);
    if ((j == 0) != (s->Kdot != NULL)) return NTK_EFORMAT;
    if (!s->replayed && !s->net) return NTK_EFORMAT;
    r->mt[j] = s->mt;
    r->count = j + 1;
    return s->step == r->stop_at ? NTK_EIO : NTK_OK;
}

static ntk_status replay(void *user, ntk_train_replay *q)
{
    rec *r = user;
    const rec *src = r->source;
    r->replays++;
    for (size_t j = 0; src && j < src->count; j++) {
        if (src->step[j] != q->step) continue;
        q->loss = src->loss[j];
        q->loss_eval = src->loss_eval[j];
        memcpy(q->K, src->K[j], sizeof src->K[j]);
        memcpy(q->K_eval, src->Ke[j], sizeof src->Ke[j]);
        memcpy(q->f, src->f[j], sizeof src->f[j]);
        memcpy(q->f_eval, src->fe[j], sizeof src->fe[j]);
        memcpy(q->move, src->move[j], sizeof src->move[j]);
        if (q->Kdot) memcpy(q->Kdot, src->Kdot, sizeof src->Kdot);
        if (q->K_layers) memcpy(q->K_layers, src->Kl[j], sizeof src->Kl[j]);
        return NTK_OK;
    }
    return ntk_set_error(NTK_EIO, "replay: no stored snapshot at step %ld", q->step);
}

static double nrm(size_t n, const double *a)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * a[i];
    return sqrt(s);
}

/* Bitwise equality of doubles (NaN equal to the same NaN). */
static void assert_same(const double *a, const double *b, size_t n, const char *what)
{
    if (memcmp(a, b, n * sizeof *a) != 0) fail_msg("%s differs", what);
}

static void assert_same_metrics(const ntk_train_metrics *a, const ntk_train_metrics *b, const char *what)
{
    const double va[] = {a->drift_fro, a->drift_op, a->kernel_distance, a->velocity, a->alignment, a->lambda_max,
                         a->lambda_min, a->eig_drift_max, a->angle_max, a->projector_dist, a->lin_err, a->pert_err,
                         a->pw_err, a->kdot_err, a->krr_vs_net, a->krr_eval_err, a->rkhs_ridge, a->rkhs_norm_y,
                         a->rkhs_norm_f, a->eff_dim, a->energy_y_topk, a->energy_res_topk, a->cond};
    const double vb[] = {b->drift_fro, b->drift_op, b->kernel_distance, b->velocity, b->alignment, b->lambda_max,
                         b->lambda_min, b->eig_drift_max, b->angle_max, b->projector_dist, b->lin_err, b->pert_err,
                         b->pw_err, b->kdot_err, b->krr_vs_net, b->krr_eval_err, b->rkhs_ridge, b->rkhs_norm_y,
                         b->rkhs_norm_f, b->eff_dim, b->energy_y_topk, b->energy_res_topk, b->cond};
    assert_same(va, vb, sizeof va / sizeof va[0], what);
    assert_int_equal(a->active_modes, b->active_modes);
}

/* ------------------------------------------------------------- schedule */

static void expect_schedule(const char *s, long T, const long *want, size_t count)
{
    ntk_train_schedule sc;
    TU_OK(ntk_train_schedule_parse(s, T, &sc));
    if (sc.count != count) fail_msg("'%s' (T %ld): %zu steps, want %zu", s, T, sc.count, count);
    for (size_t i = 0; i < count; i++)
        if (sc.steps[i] != want[i]) fail_msg("'%s' (T %ld): step %zu is %ld, want %ld", s, T, i, sc.steps[i], want[i]);
    ntk_train_schedule_clear(&sc);
    assert_null(sc.steps);
}

static void expect_schedule_error(const char *s, long T, const char *msg)
{
    ntk_train_schedule sc = {7, (long *)&sc};
    assert_int_equal(ntk_train_schedule_parse(s, T, &sc), NTK_EINVAL);
    assert_null(sc.steps);
    assert_int_equal(sc.count, 0);
    if (msg) assert_string_equal(ntk_last_error(), msg);
}

static void test_schedule(void **state)
{
    (void)state;
    expect_schedule("every:5", 12, (const long[]){0, 5, 10, 12}, 4);
    expect_schedule("every:20", 12, (const long[]){0, 12}, 2);
    expect_schedule("every:4", 12, (const long[]){0, 4, 8, 12}, 4);
    /* round(100^(i/3)) = 1, 5 (4.64), 22 (21.54) */
    expect_schedule("log:3", 100, (const long[]){0, 1, 5, 22, 100}, 5);
    expect_schedule("log:3", 1, (const long[]){0, 1}, 2);
    expect_schedule("7,3,3,0", 10, (const long[]){0, 3, 7, 10}, 4);
    expect_schedule("10", 10, (const long[]){0, 10}, 2);
    expect_schedule("every:1", 0, (const long[]){0}, 1);
    /* K past T / 2: the next step would overflow a long; the schedule stops at T */
    expect_schedule("every:9223372036854775806", 9223372036854775807L,
                    (const long[]){0, 9223372036854775806L, 9223372036854775807L}, 3);
    expect_schedule_error("every:0", 5, "expected every:K or log:K with K >= 1, got 'every:0'");
    expect_schedule_error("log:x", 5, "expected every:K or log:K with K >= 1, got 'log:x'");
    expect_schedule_error("every:", 5, NULL);
    expect_schedule_error("5,x", 2, "expected steps in [0, 2] separated by commas, got '5,x'");
    expect_schedule_error("11", 10, "expected steps in [0, 10] separated by commas, got '11'");
    expect_schedule_error("-1", 10, NULL);
    expect_schedule_error("3,,4", 10, NULL);
    expect_schedule_error("3;4", 10, NULL);
    expect_schedule_error(NULL, 10, NULL);
    expect_schedule_error("every:2", -1, NULL);
}

/* ------------------------------------------------------ against the hand loop */

/* The engine's run against the same loop by hand: init, K_0, eta, trainer steps, kernels. */
static void test_matches_hand_loop(void **state)
{
    fixture *fx = *state;
    ntk_train_run_opts o = base_opts();
    o.opt = NTK_OPT_MOMENTUM;
    o.batch = 4;
    o.lr_frac = 0.4;
    o.per_layer = 1;
    o.schedule = "0,3,7,12";
    rec *r = rec_new();
    ntk_train_result res;
    TU_OK(ntk_train_run(&o, &fx->d, observe, r, &res));
    assert_int_equal(res.S, 4);
    assert_int_equal(r->count, 4);
    assert_int_equal(res.diverged_at, -1);
    assert_non_null(res.net);

    ntk_net *net = NULL;
    ntk_feats *ft = NULL, *fe = NULL;
    TU_OK(ntk_net_alloc(&o.spec, &net));
    TU_OK(ntk_net_init(net, o.seed));
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &ft));
    TU_OK(ntk_feats_alloc(net, M, NTK_F64, &fe));
    size_t P = ntk_net_num_params(net);
    assert_true(P <= P_MAX);
    double theta0[P_MAX], K[N * N], Kl[D * N * N], Ke[M * N], f[N], fev[M], w[N], K0[N * N], Kl0[D * N * N];
    memcpy(theta0, ntk_net_params_const(net), P * sizeof *theta0);
    TU_OK(ntk_feats_compute(net, ft, fx->X));
    TU_OK(ntk_kernel_full(net, ft, K0, Kl0));
    TU_OK(ntk_eigh(N, K0, w, NULL));
    double c = ntk_loss_factor(o.loss, N), eta = o.lr_frac * 2.0 / (c * w[0]);
    /* the same expression on the same eigenvalue: equal to the last bit */
    assert_true(res.eta == eta);
    assert_true(res.c == c);
    for (size_t j = 0; j < res.S; j++) assert_true(r->t[j] == eta * (double)r->step[j]);

    /* the literal one-step change against Kdot_0, recomputed from the gradient */
    double g[P_MAX], L, Kdot[N * N], K1[N * N];
    TU_OK(ntk_kernel_velocity(net, N, fx->X, fx->Y, o.loss, Kdot));
    assert_same(Kdot, r->Kdot, N * N, "Kdot_0");
    TU_OK(ntk_net_loss_grad(net, N, fx->X, fx->Y, o.loss, &L, g));
    double *th = ntk_net_params(net);
    for (size_t i = 0; i < P; i++) th[i] = theta0[i] - eta * g[i];
    ntk_net_params_changed(net);
    TU_OK(ntk_feats_compute(net, ft, fx->X));
    TU_OK(ntk_kernel_full(net, ft, K1, NULL));
    for (size_t i = 0; i < N * N; i++) K1[i] = (K1[i] - K0[i]) / eta - Kdot[i];
    /* ||e|| / ||Kdot|| as two norms instead of the engine's one ratio: rounding of sums of 36 terms */
    double lit = nrm(N * N, K1) / nrm(N * N, Kdot);
    TU_ASSERT_LE(fabs(res.kdot_literal - lit), 1e-12 * lit, "kdot_literal against the recomputation");
    memcpy(th, theta0, P * sizeof *th);
    ntk_net_params_changed(net);

    ntk_train_opts to = ntk_train_defaults();
    to.opt = o.opt, to.loss = o.loss, to.lr = eta, to.batch = o.batch, to.momentum = o.momentum, to.seed = o.seed;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, fx->X, fx->Y, &to, &tr));
    size_t j = 0;
    for (long t = 0; t <= o.steps; t++) {
        if (j < res.S && r->step[j] == t) {
            TU_OK(ntk_feats_compute(net, ft, fx->X));
            TU_OK(ntk_kernel_full(net, ft, K, Kl));
            TU_OK(ntk_feats_output(ft, f));
            TU_OK(ntk_feats_compute(net, fe, fx->Xe));
            TU_OK(ntk_kernel_cross(net, fe, ft, Ke, NULL));
            TU_OK(ntk_feats_output(fe, fev));
            assert_same(K, r->K[j], N * N, "K at a snapshot");
            assert_same(Kl, r->Kl[j], D * N * N, "K_layers at a snapshot");
            assert_same(Ke, r->Ke[j], M * N, "K_eval at a snapshot");
            assert_same(f, r->f[j], N, "f at a snapshot");
            assert_same(fev, r->fe[j], M, "f_eval at a snapshot");
            assert_same(f, res.f_train + j * N, N, "trajectory f_train");
            double s = 0, se = 0;
            for (int i = 0; i < N; i++) s += (f[i] - fx->Y[i]) * (f[i] - fx->Y[i]);
            for (int i = 0; i < M; i++) se += (fev[i] - fx->Ye[i]) * (fev[i] - fx->Ye[i]);
            /* the loss as defined, 0.5 c sum (f - y)^2: the same sum in the same order */
            assert_true(r->loss[j] == 0.5 * c * s);
            assert_true(r->loss_eval[j] == 0.5 * ntk_loss_factor(o.loss, M) * se);
            /* movement per layer from the layer views, W and b summed separately: rounding only */
            const double *cur = ntk_net_params_const(net);
            for (int l = 1; l <= D; l++) {
                ntk_layer ly;
                TU_OK(ntk_net_layer(net, l, &ly));
                size_t off = (size_t)(ly.W - ntk_net_params(net)), nw = (size_t)ly.rows * (size_t)ly.cols;
                double num = 0, den = 0, nb = 0, db = 0;
                for (size_t i = 0; i < nw; i++)
                    num += pow(cur[off + i] - theta0[off + i], 2), den += theta0[off + i] * theta0[off + i];
                for (size_t i = 0; ly.b && i < (size_t)ly.rows; i++)
                    nb += pow(cur[off + nw + i] - theta0[off + nw + i], 2), db += pow(theta0[off + nw + i], 2);
                double mv = den + db > 0 ? sqrt((num + nb) / (den + db)) : sqrt(num + nb);
                TU_ASSERT_LE(fabs(r->move[j][l - 1] - mv), 1e-13 * mv, "movement of a layer against the direct computation");
                if (j == 0) assert_true(r->move[j][l - 1] == 0);
                /* per-layer drift: ||K^l - K^l_0|| / ||K^l_0|| */
                double dl = ntk_rel_fro(N * N, Kl + (size_t)(l - 1) * N * N, Kl0 + (size_t)(l - 1) * N * N);
                TU_ASSERT_LE(fabs(r->dl[j][l - 1] - dl), 1e-14 * dl, "drift_l against ntk_rel_fro");
            }
            /* drift_fro and kdot_err from the kernels: 1e-12 covers the tracker's own summation */
            double dr = ntk_rel_fro(N * N, K, K0);
            TU_ASSERT_LE(fabs(r->mt[j].drift_fro - dr), 1e-12 * (dr + 1e-300), "drift_fro against ntk_rel_fro");
            if (j == 0) {
                assert_true(r->mt[j].lin_err == 0 && r->mt[j].pert_err == 0 && r->mt[j].pw_err == 0);
                assert_true(isnan(r->mt[j].kdot_err));
            } else {
                double e[N * N], dk[N * N];
                for (size_t i = 0; i < N * N; i++) e[i] = K[i] - (K0[i] + eta * (double)t * Kdot[i]), dk[i] = K[i] - K0[i];
                /* ||K - (K_0 + t Kdot_0)|| / ||K - K_0||, grouped differently: rounding only */
                double kd = nrm(N * N, e) / nrm(N * N, dk);
                TU_ASSERT_LE(fabs(r->mt[j].kdot_err - kd), 1e-10 * kd, "kdot_err against the kernels");
            }
            j++;
        }
        if (t == o.steps) break;
        double loss;
        TU_OK(ntk_trainer_step(tr, &loss));
        if (t == 0) assert_true(res.loss0 == loss);
    }
    assert_int_equal(j, res.S);
    assert_same(ntk_net_params_const(net), ntk_net_params_const(res.net), P, "parameters at the end");
    assert_same(fx->Y, res.y_train, N, "y_train");
    ntk_trainer_free(tr);
    ntk_feats_free(ft);
    ntk_feats_free(fe);
    ntk_net_free(net);
    ntk_train_result_clear(&res);
    assert_null(res.net);
    free(r);
}

/* Full-batch gd with one output: the step after each snapshot takes its gradient from the snapshot's
 * features (trainer_step_feats) instead of computing them again.  A run with a snapshot at every step
 * ends bit-identical to a plain ntk_trainer_step loop (which computes its own features every step),
 * with biases, and with relu's frozen gates. */
static void test_step_from_snapshot_features(void **state)
{
    fixture *fx = *state;
    for (int gated = 0; gated <= 1; gated++) {
        ntk_train_run_opts o = base_opts();
        o.schedule = "every:1";
        o.steps = 8;
        o.lr_frac = 0.6;
        o.spec.bias = o.spec.bias_out = NTK_BIAS_NORMAL;
        o.spec.sb = 0.3;
        if (gated) o.spec.act = NTK_ACT_RELU, o.gates_frozen = 1;
        rec *r = rec_new();
        ntk_train_result res;
        TU_OK(ntk_train_run(&o, &fx->d, observe, r, &res));
        assert_int_equal(res.S, 9);
        ntk_net *net = NULL;
        TU_OK(ntk_net_alloc(&o.spec, &net));
        TU_OK(ntk_net_init(net, o.seed));
        if (gated) TU_OK(ntk_net_freeze_gates(net));
        ntk_train_opts to = ntk_train_defaults();
        to.opt = o.opt, to.loss = o.loss, to.lr = res.eta, to.seed = o.seed;
        ntk_trainer *tr = NULL;
        TU_OK(ntk_trainer_alloc(net, N, fx->X, fx->Y, &to, &tr));
        double loss[16];
        for (long t = 0; t < o.steps; t++) TU_OK(ntk_trainer_step(tr, &loss[t]));
        assert_same(loss, res.loss, (size_t)o.steps, "losses of the steps");
        assert_same(ntk_net_params_const(net), ntk_net_params_const(res.net), ntk_net_num_params(net),
                    "parameters after steps from the snapshots' features");
        ntk_trainer_free(tr);
        ntk_net_free(net);
        ntk_train_result_clear(&res);
        free(r);
    }
}

/* ------------------------------------------------------------ divergence */

static void test_divergence(void **state)
{
    fixture *fx = *state;
    ntk_train_run_opts o = base_opts();
    o.lr_frac = 0;
    o.lr = 40;
    o.blowup = 100;
    o.steps = 60;
    o.schedule = "every:1";
    /* the step that diverges, by hand */
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&o.spec, &net));
    TU_OK(ntk_net_init(net, o.seed));
    ntk_train_opts to = ntk_train_defaults();
    to.loss = o.loss, to.lr = o.lr, to.seed = o.seed;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, fx->X, fx->Y, &to, &tr));
    long want = -1;
    double loss0 = NAN, loss;
    for (long t = 0; t < o.steps && want < 0; t++) {
        ntk_status st = ntk_trainer_step(tr, &loss);
        if (t == 0) loss0 = loss;
        if (st != NTK_OK || !isfinite(loss) || loss > o.blowup * loss0) want = t;
    }
    ntk_trainer_free(tr);
    ntk_net_free(net);
    if (want < 1) fail_msg("the fixture must diverge after its first step (diverged at %ld)", want);

    rec *r = rec_new();
    ntk_train_result res;
    TU_OK(ntk_train_run(&o, &fx->d, observe, r, &res));
    assert_int_equal(res.diverged_at, want);
    assert_true(isfinite(res.loss0) && res.loss0 == loss0);
    /* snapshots 0 .. want: the one at the diverging step is taken before that step */
    assert_int_equal(r->count, (size_t)want + 1);
    assert_int_equal(res.S, (size_t)want + 1);
    for (size_t j = 0; j < r->count; j++) assert_int_equal(r->step[j], (long)j);
    assert_true(res.loss_max >= res.loss0);
    ntk_train_result_clear(&res);
    free(r);
}

/* ------------------------------------------------------ observer, resume */

static ntk_train_run_opts resume_opts(const fixture *fx)
{
    ntk_train_run_opts o = base_opts();
    o.opt = NTK_OPT_ADAM;
    o.lr_frac = 0;
    o.lr = 0.02;
    o.batch = 4;
    o.steps = 14;
    o.schedule = "every:2";
    o.per_layer = 1;
    o.checkpoint = fx->ckpt;
    o.checkpoint_every = 4;
    o.replay = replay;
    return o;
}

static void assert_same_runs(const ntk_train_result *a, const rec *ra, const ntk_train_result *b, const rec *rb)
{
    assert_int_equal(a->S, b->S);
    assert_int_equal(ra->count, rb->count);
    size_t S = a->S;
    assert_same(a->steps, b->steps, S, "steps");
    assert_same(a->loss, b->loss, S, "loss");
    assert_same(a->loss_eval, b->loss_eval, S, "loss_eval");
    assert_same(a->drift_fro, b->drift_fro, S, "drift_fro");
    assert_same(a->f_train, b->f_train, S * N, "f_train");
    assert_same(a->f_lin, b->f_lin, S * N, "f_lin");
    assert_same(a->f_pert, b->f_pert, S * N, "f_pert");
    assert_same(a->f_pw, b->f_pw, S * N, "f_pw");
    assert_same(a->f_eval, b->f_eval, S * M, "f_eval");
    assert_same(a->f_lin_eval, b->f_lin_eval, S * M, "f_lin_eval");
    assert_same(a->f_pert_eval, b->f_pert_eval, S * M, "f_pert_eval");
    assert_same(a->f_pw_eval, b->f_pw_eval, S * M, "f_pw_eval");
    for (size_t j = 0; j < ra->count; j++) {
        assert_int_equal(ra->step[j], rb->step[j]);
        assert_same_metrics(&ra->mt[j], &rb->mt[j], "a metrics row");
        assert_same(ra->dl[j], rb->dl[j], D, "drift_layers");
        assert_same(ra->K[j], rb->K[j], N * N, "K");
    }
    double la[] = {a->eta, a->c, a->kdot_literal, a->loss0, a->loss_max, a->freeze_step, a->a_lambda_max};
    double lb[] = {b->eta, b->c, b->kdot_literal, b->loss0, b->loss_max, b->freeze_step, b->a_lambda_max};
    assert_same(la, lb, 7, "summary numbers");
    assert_int_equal(a->loss_max_step, b->loss_max_step);
    assert_int_equal(a->unstable_modes, b->unstable_modes);
    size_t P = ntk_net_num_params(a->net);
    assert_same(ntk_net_params_const(a->net), ntk_net_params_const(b->net), P, "parameters at the end");
}

static void test_observer_stop_and_resume(void **state)
{
    fixture *fx = *state;
    ntk_train_run_opts o = resume_opts(fx);
    /* uninterrupted */
    unlink(fx->ckpt);
    rec *ra = rec_new();
    ntk_train_result a;
    TU_OK(ntk_train_run(&o, &fx->d, observe, ra, &a));
    assert_int_equal(a.S, 8);
    assert_int_equal(ra->replays, 0);
    /* stopped by its observer at step 10: checkpoints were written at 0, 4 and 8; none at 10 */
    unlink(fx->ckpt);
    rec *rb = rec_new();
    rb->stop_at = 10;
    ntk_train_result b;
    assert_int_equal(ntk_train_run(&o, &fx->d, observe, rb, &b), NTK_EIO);
    assert_int_equal(rb->count, 6);
    assert_int_equal(b.S, 6);
    ntk_checkpoint_info info;
    {
        ntk_net *net = NULL;
        ntk_trainer *tr = NULL;
        ntk_train_opts to = ntk_train_defaults();
        to.opt = o.opt, to.lr = o.lr, to.batch = o.batch, to.seed = o.seed;
        TU_OK(ntk_net_alloc(&o.spec, &net));
        TU_OK(ntk_trainer_alloc(net, N, fx->X, fx->Y, &to, &tr));
        TU_OK(ntk_checkpoint_load(fx->ckpt, net, tr, o.steps, &info));
        assert_int_equal(info.step, 8);
        ntk_trainer_free(tr);
        ntk_net_free(net);
    }
    /* resumed: snapshots 0 .. 8 replayed from what the stopped run's observer saw */
    o.resume = 1;
    rec *rc = rec_new();
    rc->source = rb;
    ntk_train_result c;
    TU_OK(ntk_train_run(&o, &fx->d, observe, rc, &c));
    assert_int_equal(c.start_step, 8);
    assert_int_equal(rc->replays, 5);
    for (size_t j = 0; j < rc->count; j++) assert_int_equal(rc->replayed[j], rc->step[j] <= 8);
    assert_same_runs(&a, ra, &c, rc);
    /* a missing checkpoint: start over from step 0, nothing replayed */
    unlink(fx->ckpt);
    rec *rd = rec_new();
    ntk_train_result d;
    TU_OK(ntk_train_run(&o, &fx->d, observe, rd, &d));
    assert_int_equal(rd->replays, 0);
    assert_int_equal(d.start_step, 0);
    assert_same_runs(&a, ra, &d, rd);
    /* a replay that fails stops the run with its status (d left a checkpoint at 12; no source) */
    rec *rf = rec_new();
    ntk_train_result g;
    assert_int_equal(ntk_train_run(&o, &fx->d, observe, rf, &g), NTK_EIO);
    assert_string_equal(ntk_last_error(), "replay: no stored snapshot at step 0");
    /* a damaged checkpoint: resume_error, nothing delivered */
    FILE *fp = fopen(fx->ckpt, "wb");
    assert_non_null(fp);
    fputs("not a zip", fp);
    fclose(fp);
    rec *rg = rec_new();
    ntk_train_result h;
    ntk_status st = ntk_train_run(&o, &fx->d, observe, rg, &h);
    assert_int_not_equal(st, NTK_OK);
    assert_int_equal(h.resume_error, 1);
    assert_int_equal(rg->count, 0);
    assert_true(strncmp(ntk_last_error(), "resume: ", 8) == 0);
    ntk_train_result *all[] = {&a, &b, &c, &d, &g, &h};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ntk_train_result_clear(all[i]);
    free(ra), free(rb), free(rc), free(rd), free(rf), free(rg);
}

/* The thread count: results do not depend on it, and the previous setting is restored. */
static void test_threads(void **state)
{
    fixture *fx = *state;
    ntk_train_run_opts o = resume_opts(fx);
    o.checkpoint = NULL;
    ntk_set_threads(1);
    rec *ra = rec_new(), *rb = rec_new();
    ntk_train_result a, b;
    TU_OK(ntk_train_run(&o, &fx->d, observe, ra, &a));
    o.threads = 2;
    TU_OK(ntk_train_run(&o, &fx->d, observe, rb, &b));
    assert_int_equal(ntk_get_threads(), 1);
    /* the training itself and the kernels: bit-identical */
    assert_int_equal(a.S, b.S);
    assert_same(a.loss, b.loss, a.S, "loss");
    assert_same(a.f_train, b.f_train, a.S * N, "f_train");
    assert_same(a.drift_fro, b.drift_fro, a.S, "drift_fro");
    for (size_t j = 0; j < a.S; j++) assert_same(ra->K[j], rb->K[j], N * N, "K");
    assert_same(ntk_net_params_const(a.net), ntk_net_params_const(b.net), ntk_net_num_params(a.net), "parameters");
    /* the analysis: its eigendecompositions (tracker, frozen-K_0 predictor) are LAPACK's, whose
     * rounding follows OpenBLAS's thread split: equal to 1e-12 of max(|value|, 1) (measured ~1e-15) */
    TU_ASSERT_LE(tu_rel_max(a.S * N, a.f_lin, b.f_lin), 1e-12, "f_lin with 2 threads");
    TU_ASSERT_LE(tu_rel_max(a.S * N, a.f_pert, b.f_pert), 1e-12, "f_pert with 2 threads");
    assert_same(a.f_pw, b.f_pw, a.S * N, "f_pw");
    for (size_t j = 0; j < a.S; j++) {
        const ntk_train_metrics *x = &ra->mt[j], *y = &rb->mt[j];
        const double vx[] = {x->drift_fro, x->drift_op, x->kernel_distance, x->velocity, x->alignment, x->lambda_max,
                             x->lambda_min, x->eig_drift_max, x->angle_max, x->projector_dist, x->lin_err, x->pert_err,
                             x->pw_err, x->krr_vs_net, x->krr_eval_err, x->rkhs_norm_y, x->rkhs_norm_f, x->eff_dim,
                             x->energy_y_topk, x->energy_res_topk, x->cond};
        const double vy[] = {y->drift_fro, y->drift_op, y->kernel_distance, y->velocity, y->alignment, y->lambda_max,
                             y->lambda_min, y->eig_drift_max, y->angle_max, y->projector_dist, y->lin_err, y->pert_err,
                             y->pw_err, y->krr_vs_net, y->krr_eval_err, y->rkhs_norm_y, y->rkhs_norm_f, y->eff_dim,
                             y->energy_y_topk, y->energy_res_topk, y->cond};
        for (size_t q = 0; q < sizeof vx / sizeof vx[0]; q++)
            TU_ASSERT_LE(fabs(vx[q] - vy[q]), 1e-12 * fmax(fabs(vx[q]), 1), "a metric with 2 threads");
    }
    ntk_train_result_clear(&a);
    ntk_train_result_clear(&b);
    free(ra), free(rb);
}

/* ------------------------------------------------------------ bad options */

static void expect_einval(const fixture *fx, const ntk_train_run_opts *o, const char *msg)
{
    assert_int_equal(ntk_train_run_check(o, &fx->d), NTK_EINVAL);
    if (msg) assert_string_equal(ntk_last_error(), msg);
    ntk_train_result res;
    assert_int_equal(ntk_train_run(o, &fx->d, NULL, NULL, &res), NTK_EINVAL);
    assert_null(res.net);
    assert_int_equal(res.S, 0);
}

static void test_bad_options(void **state)
{
    fixture *fx = *state;
    ntk_train_run_opts o = base_opts();
    TU_OK(ntk_train_run_check(&o, &fx->d));
    o.momentum = 1.5;
    expect_einval(fx, &o, "train: momentum must be in [0, 1), got 1.5");
    o = base_opts(), o.lr_frac = 0, o.lr = 0;
    expect_einval(fx, &o, "train: lr must be finite and > 0, got 0");
    o = base_opts(), o.opt = NTK_OPT_SGD, o.batch = 0;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.batch = N + 1;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.top_k = 0;
    expect_einval(fx, &o, "train: top_k must be >= 1, got 0");
    o = base_opts(), o.blowup = 1;
    expect_einval(fx, &o, "train: blowup must be > 1, got 1");
    o = base_opts(), o.steps = -1;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.ridge = NAN;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.freeze_k = 0;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.checkpoint_every = -1;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.schedule = "every:0";
    expect_einval(fx, &o, "train: schedule: expected every:K or log:K with K >= 1, got 'every:0'");
    long late[2] = {1, 12}, back[3] = {0, 5, 5}, past[2] = {0, 13};
    o = base_opts(), o.snapshots = late, o.n_snapshots = 2;
    expect_einval(fx, &o, "train: snapshots must start at step 0");
    o.snapshots = back, o.n_snapshots = 3;
    expect_einval(fx, &o, NULL);
    o.snapshots = past, o.n_snapshots = 2;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.resume = 1;
    expect_einval(fx, &o, "train: resume needs a checkpoint path and a replay callback");
    o = base_opts(), o.spec.n0 = N0 + 1;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.spec.widths = NULL;
    expect_einval(fx, &o, NULL);
    o = base_opts(), o.threads = -2;
    expect_einval(fx, &o, NULL);
}

/* The memory estimate: grows with N and M, and per-layer terms add 2 d n^2 doubles. */
static void test_bytes(void **state)
{
    (void)state;
    ntk_train_run_opts o = base_opts();
    double a = ntk_train_run_bytes(&o.spec, 100, 0, 0), b = ntk_train_run_bytes(&o.spec, 200, 0, 0);
    double c = ntk_train_run_bytes(&o.spec, 100, 50, 0), d = ntk_train_run_bytes(&o.spec, 100, 0, 1);
    assert_true(a > 64e6 && b > a && c > a);
    /* exact difference of whole numbers of bytes well below 2^53: 8 * 2 * 3 * 100^2 */
    assert_true(d - a == 8.0 * 2 * 3 * 100 * 100);
}

/* The metrics.csv row: each named column holds its field (a table written out here), then move and
 * the per-layer drift. */
static void test_metrics_row(void **state)
{
    (void)state;
    ntk_train_metrics mt = {.drift_fro = 1, .drift_op = 2, .kernel_distance = 3, .velocity = 4, .alignment = 5,
                            .lambda_max = 6, .lambda_min = 7, .eig_drift_max = 8, .angle_max = 9,
                            .projector_dist = 10, .active_modes = 11, .lin_err = 12, .pert_err = 13, .pw_err = 14,
                            .kdot_err = 15, .krr_vs_net = 16, .krr_eval_err = 17, .rkhs_ridge = 18,
                            .rkhs_norm_y = 19, .rkhs_norm_f = 20, .eff_dim = 21, .energy_y_topk = 22,
                            .energy_res_topk = 23, .cond = 24};
    double move[3] = {-1, -2, -3}, dl[3] = {-4, -5, -6}, row[NTK_TRAIN_METRICS_COLS + 6];
    ntk_train_snapshot s = {.t = 0.5, .loss = 0.25, .loss_eval = 0.125, .d = 3, .move = move, .mt = mt};
    const struct {
        const char *name;
        double v;
    } want[] = {{"t", 0.5}, {"loss", 0.25}, {"loss_eval", 0.125}, {"drift_fro", 1}, {"drift_op", 2},
                {"kernel_distance", 3}, {"velocity", 4}, {"alignment", 5}, {"lambda_max", 6}, {"lambda_min", 7},
                {"eig_drift_max", 8}, {"angle_max", 9}, {"projector_dist", 10}, {"active_modes", 11},
                {"lin_err", 12}, {"pert_err", 13}, {"pw_err", 14}, {"kdot_err", 15}, {"krr_vs_net", 16},
                {"krr_eval_err", 17}, {"rkhs_ridge", 18}, {"rkhs_norm_y", 19}, {"rkhs_norm_f", 20}, {"eff_dim", 21},
                {"energy_y_topk", 22}, {"energy_res_topk", 23}, {"cond", 24}};
    assert_int_equal(sizeof want / sizeof want[0], NTK_TRAIN_METRICS_COLS);
    assert_int_equal(ntk_train_metrics_row(&s, row), NTK_TRAIN_METRICS_COLS + 3);
    for (int i = 0; i < NTK_TRAIN_METRICS_COLS; i++) {
        assert_string_equal(ntk_train_metrics_name(i), want[i].name);
        assert_true(row[i] == want[i].v);
    }
    assert_null(ntk_train_metrics_name(-1));
    assert_null(ntk_train_metrics_name(NTK_TRAIN_METRICS_COLS));
    for (int l = 0; l < 3; l++) assert_true(row[NTK_TRAIN_METRICS_COLS + l] == move[l]);
    s.drift_layers = dl;
    assert_int_equal(ntk_train_metrics_row(&s, row), NTK_TRAIN_METRICS_COLS + 6);
    for (int l = 0; l < 3; l++) assert_true(row[NTK_TRAIN_METRICS_COLS + 3 + l] == dl[l]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_metrics_row),
        cmocka_unit_test(test_matches_hand_loop),
        cmocka_unit_test(test_step_from_snapshot_features),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_observer_stop_and_resume),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
