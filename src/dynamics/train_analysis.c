/* train_analysis.c -- the analysis of a training run's snapshot stream (src/dynamics/train_analysis.h):
 * drift metrics (ntk_tracker), predictions (frozen K_0, first order in Delta K, piecewise frozen,
 * linear drift K_0 + eta t Kdot_0), kernel regression, the RKHS diagnostics, per-layer drift, the
 * trajectory and the manifest's summary numbers. */
#include "train_analysis.h"
#include "linpred_cont.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tra {
    size_t n, m, cap, S;
    int d;                       /* weight layers */
    double *Kl0;                 /* [d x n x n] per-layer kernels at the first snapshot, or NULL */
    double *dl;                  /* [d] per-layer drift of the current snapshot, or NULL */
    double eta, c, a;            /* a = eta c */
    double ridge;                /* relative to the mean diagonal of K_t */
    int top_k, flow;
    double *y, *ye;              /* [n], [m] targets (y: its own block, handed to the result) */
    double *K0, *Kdot0;          /* [n x n] */
    double *Ke0;                 /* [m x n] eval x train kernel at the first snapshot */
    double *Kprev, *Keprev;      /* previous snapshot's kernels (piecewise frozen, and Delta K there) */
    double *dK, *dKe;            /* Delta K of the current snapshot */
    double *df, *dfe;            /* first-order correction at the current snapshot */
    double *pw, *pwe;            /* piecewise-frozen prediction at the current snapshot */
    double *lin, *line;          /* frozen-K0 prediction scratch */
    double *pred, *tmp;          /* [m] kernel-regression predictions, [n] scratch */
    long sprev;
    long lin_nonfinite, pert_nonfinite, pw_nonfinite; /* first snapshot step with a non-finite prediction, or -1 */
    ntk_tracker *tr;
    ntk_linpred *lp;
    int nth;                     /* the hierarchy's level, or 0 */
    double *O3, *O3e, *O4, *O4e; /* nth: the tensors at step 0 (O3, O3e freed once the integrator copied them) */
    ntk_nth *hs;                 /* nth: the integrator, from the first snapshot */
    double *fh, *feh, *Kh, *Keh; /* nth: its state at the current snapshot, [n], [m], [n x n], [m x n] (one block) */
    double *fe0;                 /* nth: [m] f_eval at the first snapshot (in the block above) */
    char rkhs_msg[1024];         /* the last RKHS failure (ntk_train_snapshot.rkhs_error) */
    /* trajectory: [cap] and [cap x n] / [cap x m], two blocks (steps and tf head them) */
    double *steps, *loss, *loss_eval, *drift;
    double *tf, *tlin, *tpert, *tpw, *tfe, *tline, *tperte, *tpwe;
};

/* The thread's message with a prefix ("prefix: message"), st returned. */
static ntk_status wrap(ntk_status st, const char *prefix)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ntk_last_error());
    return ntk_set_error(st, "%s: %s", prefix, msg);
}

/* ||a - b||, scaled so that it overflows only when an entry does (predictions past the
 * stability edge reach 1e200 and more before they become inf). */
static double norm_diff(size_t n, const double *a, const double *b)
{
    double mx = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]);
        if (isnan(e)) return NAN;
        mx = fmax(mx, e);
    }
    if (!(mx > 0) || !isfinite(mx)) return mx; /* 0 or inf */
    for (size_t i = 0; i < n; i++) s += ((a[i] - b[i]) / mx) * ((a[i] - b[i]) / mx);
    return mx * sqrt(s);
}

void tra_free(tra *t)
{
    if (!t) return;
    ntk_tracker_free(t->tr);
    ntk_linpred_free(t->lp);
    ntk_nth_free(t->hs);
    free(t->O3), free(t->O3e), free(t->O4), free(t->O4e), free(t->fh);
    free(t->y);
    free(t->ye);
    free(t->K0);
    free(t->Kl0);
    free(t->steps);
    free(t->tf);
    free(t);
}

ntk_status tra_alloc(size_t n, size_t m, int d, int per_layer, const double *y, const double *ye, double eta,
                     double c, const ntk_train_run_opts *o, size_t cap, tra **out)
{
    *out = NULL;
    tra *t = calloc(1, sizeof *t);
    if (!t) return ntk_set_error(NTK_ENOMEM, "out of memory for the training analysis (n = %zu)", n);
    t->n = n;
    t->m = m;
    t->d = d;
    t->cap = cap;
    t->eta = eta;
    t->c = c;
    t->a = eta * c;
    t->ridge = o->ridge;
    t->top_k = o->top_k;
    t->flow = o->flow;
    t->nth = o->nth;
    t->lin_nonfinite = t->pert_nonfinite = t->pw_nonfinite = -1;
    size_t nn = n * n, mn = m * n;
    /* the targets, one block of vectors, one of matrices, two for the trajectory */
    t->y = malloc(n * sizeof(double));
    t->ye = calloc(m + 4 * n + 4 * m + (size_t)d + 1, sizeof(double));
    t->K0 = calloc(4 * nn + 3 * mn + (m ? 0 : 1), sizeof(double));
    t->steps = calloc(4 * cap + 1, sizeof(double));
    t->tf = calloc(cap * (4 * n + 4 * m) + 1, sizeof(double));
    if (per_layer) t->Kl0 = malloc((size_t)d * n * n * sizeof(double));
    if (t->nth) t->fh = malloc((n + 2 * m + nn + mn) * sizeof(double));
    if (!t->y || !t->ye || !t->K0 || !t->steps || !t->tf || (per_layer && !t->Kl0) || (t->nth && !t->fh)) {
        tra_free(t);
        return ntk_set_error(NTK_ENOMEM, "out of memory for the training analysis (n = %zu)", n);
    }
    double *p = t->ye + m;
    t->df = p, p += n;
    t->dfe = p, p += m;
    t->pw = p, p += n;
    t->pwe = p, p += m;
    t->lin = p, p += n;
    t->line = p, p += m;
    t->tmp = p, p += n;
    t->pred = p, p += m;
    t->dl = per_layer ? p : NULL;
    memcpy(t->y, y, n * sizeof *y);
    if (m) memcpy(t->ye, ye, m * sizeof *ye);
    p = t->K0;
    t->Kdot0 = p + nn, t->Kprev = p + 2 * nn;
    t->dK = p + 3 * nn;
    t->Keprev = p + 4 * nn, t->Ke0 = t->Keprev + mn, t->dKe = t->Ke0 + mn;
    t->loss = t->steps + cap, t->loss_eval = t->loss + cap, t->drift = t->loss_eval + cap;
    p = t->tf;
    t->tlin = p + cap * n, t->tpert = t->tlin + cap * n, t->tpw = t->tpert + cap * n;
    t->tfe = t->tpw + cap * n, t->tline = t->tfe + cap * m, t->tperte = t->tline + cap * m;
    t->tpwe = t->tperte + cap * m;
    if (t->nth) t->feh = t->fh + n, t->fe0 = t->feh + m, t->Kh = t->fe0 + m, t->Keh = t->Kh + nn;
    *out = t;
    return NTK_OK;
}

void tra_nth(tra *t, double *O3, double *O3e, double *O4, double *O4e)
{
    t->O3 = O3, t->O3e = O3e, t->O4 = O4, t->O4e = O4e;
}

/* nth at the first snapshot: the integrator from K_0, f_0 (and the eval ones) and the tensors. */
static ntk_status nth_init(tra *t, const ntk_train_snapshot *s)
{
    size_t m = t->m;
    if (!t->O3) return ntk_set_error(NTK_EINVAL, "train analysis: nth %d without its tensors", t->nth);
    ntk_nth_opts o = ntk_nth_defaults();
    o.level = t->nth, o.a = t->a;
    ntk_status st = ntk_nth_alloc(&o, t->n, s->K, t->O3, t->O4, s->f, t->y, m, s->K_eval, t->O3e, t->O4e, s->f_eval,
                                  &t->hs);
    if (st != NTK_OK) return wrap(st, "train analysis");
    free(t->O3), free(t->O3e); /* copied by the integrator; O4, O4e stay referenced */
    t->O3 = t->O3e = NULL;
    if (m) memcpy(t->fe0, s->f_eval, m * sizeof(double));
    return NTK_OK;
}

/* nth at a snapshot: advance to its step and compare (ntk_train_snapshot's nth fields). */
static ntk_status nth_add(tra *t, ntk_train_snapshot *s, size_t j, double den)
{
    size_t n = t->n, m = t->m;
    ntk_status st = ntk_nth_advance(t->hs, s->step);
    if (st == NTK_OK) st = ntk_nth_get(t->hs, t->fh, m ? t->feh : NULL, t->Kh, m ? t->Keh : NULL);
    if (st != NTK_OK) return wrap(st, "train analysis: nth");
    s->nth = t->nth;
    s->f_nth = t->fh, s->K_nth = t->Kh;
    s->f_nth_eval = m ? t->feh : NULL, s->K_nth_eval = m ? t->Keh : NULL;
    s->nth_err = j == 0 ? 0 : norm_diff(n, s->f, t->fh) / den;
    s->nth_kerr = j == 0 ? NAN : norm_diff(n * n, s->K, t->Kh) / norm_diff(n * n, s->K, t->K0);
    s->nth_drift = ntk_rel_fro(n * n, t->Kh, t->K0);
    s->nth_eval_err = s->nth_eval_kerr = NAN;
    if (m && j > 0) {
        double de = norm_diff(m, s->f_eval, t->fe0);
        s->nth_eval_err = norm_diff(m, s->f_eval, t->feh) / (de > 0 ? de : 1);
        s->nth_eval_kerr = norm_diff(m * n, s->K_eval, t->Keh) / norm_diff(m * n, s->K_eval, t->Ke0);
    } else if (m) {
        s->nth_eval_err = 0;
    }
    return NTK_OK;
}

/* The first snapshot: K_0, the frozen-K_0 predictor and the tracker. */
static ntk_status tra_init(tra *t, const ntk_train_snapshot *s)
{
    size_t n = t->n, m = t->m;
    memcpy(t->K0, s->K, n * n * sizeof(double));
    if (s->Kdot) memcpy(t->Kdot0, s->Kdot, n * n * sizeof(double));
    /* the tracker's spectrum of K_0 and the predictor's eigendecomposition: side by side as in both_tasks */
    ntk_tracker_opts o = {t->top_k, 1e-3};
    int threads = ntk_get_threads(), nt = threads == 2 ? 2 : 1;
    ntk_status sts[2] = {NTK_OK, NTK_OK};
    char msg[2][1024] = {"", ""};
    if (nt > 1) ntk_set_threads(1);
#pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int task = 0; task < 2; task++) {
        sts[task] = task == 0 ? ntk_tracker_alloc(n, s->K, 1, t->y, &o, &t->tr)
                              : ntk_linpred_alloc(n, s->K, m, s->K_eval, s->f, t->y, s->f_eval, t->a, t->flow, &t->lp);
        if (sts[task] != NTK_OK) snprintf(msg[task], sizeof msg[task], "%s", ntk_last_error());
    }
    if (nt > 1) ntk_set_threads(threads);
    for (int task = 0; task < 2; task++)
        if (sts[task] != NTK_OK) {
            ntk_set_error(sts[task], "%s", msg[task]);
            return wrap(sts[task], "train analysis");
        }
    if (m) memcpy(t->Ke0, s->K_eval, m * n * sizeof(double));
    if (t->Kl0 && s->K_layers) memcpy(t->Kl0, s->K_layers, (size_t)t->d * n * n * sizeof(double));
    memset(t->df, 0, n * sizeof(double));
    if (m) memset(t->dfe, 0, m * sizeof(double));
    memcpy(t->pw, s->f, n * sizeof(double));
    if (m) memcpy(t->pwe, s->f_eval, m * sizeof(double));
    return t->nth ? nth_init(t, s) : NTK_OK;
}

/* Piecewise frozen: the previous snapshot's kernel drives the interval. */
static ntk_status advance_piecewise(tra *t, long h)
{
    size_t n = t->n, m = t->m;
    /* Short intervals by matrix-vector steps (2 h (n + m) n flops) rather than an
     * eigendecomposition (~9 n^3); the two agree to rounding (tests/dynamics/test_predict.c). */
    if (!t->flow && (double)h * (double)(n + m) <= 4.0 * (double)n * (double)n) {
        ntk_status st = ntk_frozen_gd_steps(n, t->Kprev, m, m ? t->Keprev : NULL, t->y, t->a, h, t->pw,
                                            m ? t->pwe : NULL);
        return st == NTK_OK ? NTK_OK : wrap(st, "piecewise prediction");
    }
    ntk_linpred *lp = NULL;
    ntk_status st = ntk_linpred_alloc(t->n, t->Kprev, t->m, t->m ? t->Keprev : NULL, t->pw, t->y,
                                      t->m ? t->pwe : NULL, t->a, t->flow, &lp);
    if (st == NTK_OK) st = ntk_linpred_at(lp, (double)h, t->pw, t->m ? t->pwe : NULL);
    ntk_linpred_free(lp);
    return st == NTK_OK ? NTK_OK : wrap(st, "piecewise prediction");
}

static double kernel_regression(tra *t, const ntk_train_snapshot *s, double *eval_err)
{
    *eval_err = NAN;
    if (!t->m) return NAN;
    size_t n = t->n;
    double md = 0;
    for (size_t i = 0; i < n; i++) md += s->K[i * n + i] / (double)n;
    if (ntk_krr(n, s->K, 1, t->y, t->ridge * md, t->m, s->K_eval, t->pred, NULL) != NTK_OK) return NAN;
    *eval_err = norm_diff(t->m, t->pred, t->ye) / sqrt((double)t->m);
    double nf = 0;
    for (size_t i = 0; i < t->m; i++) nf += s->f_eval[i] * s->f_eval[i];
    return norm_diff(t->m, t->pred, s->f_eval) / sqrt(nf > 0 ? nf : 1);
}

/* The predictions at the snapshot: frozen K_0 (lin), and from the second snapshot on the first-order
 * correction in Delta K (df) and the piecewise-frozen one (pw). */
static ntk_status predictions(tra *t, const ntk_train_snapshot *s, size_t j)
{
    size_t n = t->n, m = t->m;
    ntk_status st = ntk_linpred_at(t->lp, (double)s->step, t->lin, m ? t->line : NULL);
    if (st != NTK_OK) return wrap(st, "train analysis");
    if (j == 0) return NTK_OK;
    /* Delta K now (K - K0) and the eval x train one against the first snapshot's (Ke0).  Delta K at the
     * previous snapshot is the one the correction rotated last time (linpred_pert_continue keeps it);
     * Kprev and Keprev take the value of their round trip through Kprev - K0 and back, as the
     * piecewise predictor has always been given. */
    for (size_t i = 0; i < n * n; i++) {
        t->dK[i] = s->K[i] - t->K0[i];
        t->Kprev[i] = (t->Kprev[i] - t->K0[i]) + t->K0[i];
    }
    for (size_t i = 0; i < m * n; i++) {
        t->dKe[i] = s->K_eval[i] - t->Ke0[i];
        t->Keprev[i] -= t->Ke0[i];
    }
    if (t->flow) { /* the first-order correction is derived for discrete steps only */
        for (size_t i = 0; i < n; i++) t->df[i] = NAN;
        for (size_t i = 0; i < m; i++) t->dfe[i] = NAN;
    } else if ((st = linpred_pert_continue(t->lp, t->sprev, NULL, m ? t->Keprev : NULL, s->step, t->dK,
                                           m ? t->dKe : NULL, t->df, m ? t->dfe : NULL)) != NTK_OK) {
        return wrap(st, "perturbative prediction");
    }
    for (size_t i = 0; i < m * n; i++) t->Keprev[i] += t->Ke0[i];
    return advance_piecewise(t, s->step - t->sprev);
}

/* What a snapshot computes from K_t alone: the drift metrics (tracker), kernel regression and the RKHS
 * diagnostics (a failure of these is reported, not fatal: rkhs_failed, t->rkhs_msg). */
typedef struct {
    ntk_drift dr;
    double krr, krr_eval;
    ntk_rkhs rk;
    int rkhs_failed;
} kernel_side;

static ntk_status kernel_task(tra *t, const ntk_train_snapshot *s, kernel_side *k)
{
    size_t n = t->n;
    ntk_status st = ntk_tracker_update(t->tr, t->eta * (double)s->step, s->K, &k->dr);
    if (st != NTK_OK) return wrap(st, "train analysis");
    k->krr = kernel_regression(t, s, &k->krr_eval);
    /* evolving RKHS: the ridge is the kernel-regression one (relative to the mean diagonal of K_t) */
    double md = 0;
    for (size_t i = 0; i < n; i++) md += s->K[i * n + i] / (double)n;
    ntk_rkhs rk = {t->ridge * md, NAN, NAN, NAN, NAN, NAN, NAN};
    k->rkhs_failed = ntk_rkhs_stats(n, s->K, k->dr.eigs, k->dr.top_k, k->dr.top_vectors, t->y, s->f, t->ridge * md,
                                    &rk) != NTK_OK;
    if (k->rkhs_failed) snprintf(t->rkhs_msg, sizeof t->rkhs_msg, "%s", ntk_last_error());
    k->rk = rk;
    return NTK_OK;
}

/* The predictions and kdot_err: ||(K_t - K_0) - eta t Kdot_0|| / ||K_t - K_0|| (NaN at the first snapshot). */
static ntk_status prediction_task(tra *t, const ntk_train_snapshot *s, size_t j, double *kd)
{
    ntk_status st = predictions(t, s, j);
    *kd = NAN;
    if (st != NTK_OK || j == 0) return st;
    double num = 0, dd = 0, ts = t->eta * (double)s->step;
    for (size_t i = 0; i < t->n * t->n; i++) {
        double d = t->dK[i]; /* K - K0 (predictions) */
        double e = d - ts * t->Kdot0[i];
        num += e * e;
        dd += d * d;
    }
    *kd = dd > 0 ? sqrt(num / dd) : 0;
    return NTK_OK;
}

/* The two tasks are independent, so with two threads they run side by side, each on one thread with
 * single-threaded BLAS and LAPACK (at the sizes of a training run the tridiagonal reductions gain
 * nothing from a second thread; this way both cores work), and their results are those of a one-thread
 * run, bit for bit.  With another thread count they run one after the other on all threads (OpenBLAS's
 * thread count is global: two tasks cannot each take half of a larger pool). */
static ntk_status both_tasks(tra *t, const ntk_train_snapshot *s, size_t j, kernel_side *k, double *kd)
{
    int threads = ntk_get_threads();
    if (threads != 2) {
        ntk_status st = kernel_task(t, s, k);
        return st == NTK_OK ? prediction_task(t, s, j, kd) : st;
    }
    ntk_status st[2] = {NTK_OK, NTK_OK};
    char msg[2][1024] = {"", ""};
    ntk_set_threads(1);
#pragma omp parallel for schedule(static, 1) num_threads(2)
    for (int task = 0; task < 2; task++) {
        st[task] = task == 0 ? kernel_task(t, s, k) : prediction_task(t, s, j, kd);
        if (st[task] != NTK_OK) snprintf(msg[task], sizeof msg[task], "%s", ntk_last_error());
    }
    ntk_set_threads(threads);
    for (int task = 0; task < 2; task++)
        if (st[task] != NTK_OK) return ntk_set_error(st[task], "%s", msg[task]);
    return NTK_OK;
}

ntk_status tra_add(tra *t, ntk_train_snapshot *s)
{
    size_t n = t->n, m = t->m, j = t->S;
    if (j >= t->cap) return ntk_set_error(NTK_EINVAL, "train analysis: more snapshots than planned (%zu)", t->cap);
    ntk_status st = j == 0 ? tra_init(t, s) : NTK_OK;
    if (st != NTK_OK) return st;
    kernel_side k;
    double kd;
    if ((st = both_tasks(t, s, j, &k, &kd)) != NTK_OK) return st;
    const ntk_drift dr = k.dr;
    const ntk_rkhs rk = k.rk;
    s->rkhs_error = k.rkhs_failed ? t->rkhs_msg : NULL;
    /* errors relative to the distance travelled */
    double moved = norm_diff(n, s->f, t->tf), lin = norm_diff(n, s->f, t->lin);
    for (size_t i = 0; i < n; i++) t->tmp[i] = t->lin[i] + t->df[i];
    double pert = norm_diff(n, s->f, t->tmp), pw = norm_diff(n, s->f, t->pw);
    /* past the stability edge the predictions overflow: their columns read inf / nan from then on */
    if (t->lin_nonfinite < 0 && !isfinite(lin)) t->lin_nonfinite = s->step;
    if (t->pert_nonfinite < 0 && !isfinite(pert)) t->pert_nonfinite = s->step;
    if (t->pw_nonfinite < 0 && !isfinite(pw)) t->pw_nonfinite = s->step;
    if (j == 0) moved = lin = pert = pw = 0;
    double den = moved > 0 ? moved : 1;
    ntk_train_metrics mt = {dr.drift_fro, dr.drift_op, dr.kernel_distance, dr.velocity, dr.alignment,
                            dr.lambda_max, dr.lambda_min, dr.eig_drift_max, dr.angle_max, dr.projector_dist,
                            dr.active_modes, lin / den, pert / den, pw / den, kd, k.krr, k.krr_eval, rk.ridge,
                            rk.norm_y, rk.norm_f, rk.eff_dim, rk.energy_y, rk.energy_r, rk.cond};
    s->index = j;
    s->t = t->eta * (double)s->step;
    s->eigs = dr.eigs;
    s->mt = mt;
    s->drift_layers = NULL;
    s->nth = 0;
    s->f_nth = s->f_nth_eval = s->K_nth = s->K_nth_eval = NULL;
    s->nth_err = s->nth_kerr = s->nth_drift = s->nth_eval_err = s->nth_eval_kerr = NAN;
    if (t->nth && (st = nth_add(t, s, j, den)) != NTK_OK) return st;
    if (t->dl) {
        size_t nn = n * n;
        for (int l = 0; l < t->d; l++)
            t->dl[l] = s->K_layers ? ntk_rel_fro(nn, s->K_layers + (size_t)l * nn, t->Kl0 + (size_t)l * nn) : NAN;
        s->drift_layers = t->dl;
    }
    /* trajectory */
    t->steps[j] = (double)s->step;
    t->loss[j] = s->loss;
    t->loss_eval[j] = s->loss_eval;
    t->drift[j] = dr.drift_fro;
    memcpy(t->tf + j * n, s->f, n * sizeof(double));
    memcpy(t->tlin + j * n, t->lin, n * sizeof(double));
    memcpy(t->tpert + j * n, t->tmp, n * sizeof(double));
    memcpy(t->tpw + j * n, t->pw, n * sizeof(double));
    if (m) {
        memcpy(t->tfe + j * m, s->f_eval, m * sizeof(double));
        memcpy(t->tline + j * m, t->line, m * sizeof(double));
        for (size_t i = 0; i < m; i++) t->tperte[j * m + i] = t->line[i] + t->dfe[i];
        memcpy(t->tpwe + j * m, t->pwe, m * sizeof(double));
    }
    /* remember this snapshot for the next interval */
    memcpy(t->Kprev, s->K, n * n * sizeof(double));
    if (m) memcpy(t->Keprev, s->K_eval, m * n * sizeof(double));
    t->sprev = s->step;
    t->S = j + 1;
    return NTK_OK;
}

void tra_finish(tra *t, const ntk_train_run_opts *o, ntk_train_result *res)
{
    res->freeze_step = ntk_freeze_time(t->S, t->steps, t->drift, o->freeze_eps, o->freeze_k, o->freeze_delta);
    double alm = NAN;
    res->unstable_modes = t->lp ? ntk_linpred_unstable(t->lp, &alm) : 0;
    res->a_lambda_max = alm;
    res->lin_nonfinite_step = t->lin_nonfinite;
    res->pert_nonfinite_step = t->pert_nonfinite;
    res->pw_nonfinite_step = t->pw_nonfinite;
    res->nth_diverged_step = t->hs ? ntk_nth_diverged_at(t->hs) : -1;
    res->S = t->S;
    res->n = t->n;
    res->m = t->m;
    res->steps = t->steps, res->loss = t->loss, res->loss_eval = t->loss_eval, res->drift_fro = t->drift;
    res->y_train = t->y;
    res->f_train = t->tf, res->f_lin = t->tlin, res->f_pert = t->tpert, res->f_pw = t->tpw;
    res->f_eval = t->m ? t->tfe : NULL, res->f_lin_eval = t->m ? t->tline : NULL;
    res->f_pert_eval = t->m ? t->tperte : NULL, res->f_pw_eval = t->m ? t->tpwe : NULL;
    t->steps = t->tf = t->y = NULL; /* now the result's */
}

static const char *const metric_names[NTK_TRAIN_METRICS_COLS] = {
    "t", "loss", "loss_eval", "drift_fro", "drift_op", "kernel_distance", "velocity", "alignment", "lambda_max",
    "lambda_min", "eig_drift_max", "angle_max", "projector_dist", "active_modes", "lin_err", "pert_err", "pw_err",
    "kdot_err", "krr_vs_net", "krr_eval_err", "rkhs_ridge", "rkhs_norm_y", "rkhs_norm_f", "eff_dim", "energy_y_topk",
    "energy_res_topk", "cond"};

const char *ntk_train_metrics_name(int i) { return i >= 0 && i < NTK_TRAIN_METRICS_COLS ? metric_names[i] : NULL; }

static const char *const nth_names[NTK_TRAIN_NTH_COLS] = {"nth_err", "nth_kerr", "nth_drift", "nth_eval_err",
                                                           "nth_eval_kerr"};

const char *ntk_train_nth_name(int i) { return i >= 0 && i < NTK_TRAIN_NTH_COLS ? nth_names[i] : NULL; }

size_t ntk_train_metrics_row(const ntk_train_snapshot *s, double *row)
{
    const ntk_train_metrics *r = &s->mt;
    const double v[NTK_TRAIN_METRICS_COLS] = {
        s->t, s->loss, s->loss_eval, r->drift_fro, r->drift_op, r->kernel_distance, r->velocity, r->alignment,
        r->lambda_max, r->lambda_min, r->eig_drift_max, r->angle_max, r->projector_dist, r->active_modes, r->lin_err,
        r->pert_err, r->pw_err, r->kdot_err, r->krr_vs_net, r->krr_eval_err, r->rkhs_ridge, r->rkhs_norm_y,
        r->rkhs_norm_f, r->eff_dim, r->energy_y_topk, r->energy_res_topk, r->cond};
    size_t n = 0;
    for (int i = 0; i < NTK_TRAIN_METRICS_COLS; i++) row[n++] = v[i];
    for (int l = 0; l < s->d; l++) row[n++] = s->move[l];
    for (int l = 0; s->drift_layers && l < s->d; l++) row[n++] = s->drift_layers[l];
    if (s->nth) {
        const double h[NTK_TRAIN_NTH_COLS] = {s->nth_err, s->nth_kerr, s->nth_drift, s->nth_eval_err,
                                              s->nth_eval_kerr};
        for (int i = 0; i < NTK_TRAIN_NTH_COLS; i++) row[n++] = h[i];
    }
    return n;
}
