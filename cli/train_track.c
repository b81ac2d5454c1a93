/* train_track.c -- per-snapshot analysis of a training run (see train_track.h). */
#include "train_track.h"
#include "study.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct train_track {
    size_t n, m, cap, S;
    int d;                       /* weight layers (parameter-movement columns) */
    double *Kl0;                 /* [d x n x n] per-layer kernels at the first snapshot, or NULL */
    double eta, c, a;            /* a = eta c */
    double ridge_rel;
    const cli_config *cfg;
    FILE *csv;
    double *y, *ye;              /* [n], [m] targets */
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
    /* trajectory: [cap] and [cap x n] / [cap x m] */
    double *steps, *loss, *loss_eval, *drift;
    double *tf, *tlin, *tpert, *tpw, *tfe, *tline, *tperte, *tpwe;
    const double *eigs;
};

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

void track_free(train_track *t)
{
    if (!t) return;
    ntk_tracker_free(t->tr);
    ntk_linpred_free(t->lp);
    free(t->y);
    free(t->K0);
    free(t->Kl0);
    free(t->steps);
    free(t->tf);
    free(t);
}

int track_alloc(size_t n, size_t m, int d, int per_layer, const double *y, const double *ye, double eta, double c,
                const cli_config *cfg, FILE *csv, size_t max_snaps, train_track **out)
{
    *out = NULL;
    train_track *t = calloc(1, sizeof *t);
    if (!t) return CLI_EXIT_FAIL;
    t->n = n;
    t->m = m;
    t->d = d;
    t->cap = max_snaps;
    t->eta = eta;
    t->c = c;
    t->a = eta * c;
    t->cfg = cfg;
    t->csv = csv;
    t->lin_nonfinite = t->pert_nonfinite = t->pw_nonfinite = -1;
    size_t nn = n * n, mn = m * n;
    /* one block for vectors, one for matrices, one for the trajectory */
    t->y = calloc(2 * n + 2 * m + 4 * n + 4 * m + n, sizeof(double));
    t->K0 = calloc(4 * nn + 3 * mn + (m ? 0 : 1), sizeof(double));
    t->steps = calloc(4 * max_snaps, sizeof(double));
    t->tf = calloc(max_snaps * (4 * n + 4 * m) + 1, sizeof(double));
    if (per_layer) t->Kl0 = malloc((size_t)d * n * n * sizeof(double));
    if (!t->y || !t->K0 || !t->steps || !t->tf || (per_layer && !t->Kl0)) {
        track_free(t);
        cli_errorf("out of memory for the training analysis (n = %zu)", n);
        return CLI_EXIT_FAIL;
    }
    double *p = t->y;
    t->ye = p + n, p += n + m;
    t->df = p, p += n;
    t->dfe = p, p += m;
    t->pw = p, p += n;
    t->pwe = p, p += m;
    t->lin = p, p += n;
    t->line = p, p += m;
    t->tmp = p, p += n;
    t->pred = p, p += m;
    memcpy(t->y, y, n * sizeof *y);
    if (m) memcpy(t->ye, ye, m * sizeof *ye);
    p = t->K0;
    t->Kdot0 = p + nn, t->Kprev = p + 2 * nn;
    t->dK = p + 3 * nn;
    t->Keprev = p + 4 * nn, t->Ke0 = t->Keprev + mn, t->dKe = t->Ke0 + mn;
    t->loss = t->steps + max_snaps, t->loss_eval = t->loss + max_snaps, t->drift = t->loss_eval + max_snaps;
    p = t->tf;
    t->tlin = p + max_snaps * n, t->tpert = t->tlin + max_snaps * n, t->tpw = t->tpert + max_snaps * n;
    t->tfe = t->tpw + max_snaps * n, t->tline = t->tfe + max_snaps * m, t->tperte = t->tline + max_snaps * m;
    t->tpwe = t->tperte + max_snaps * m;
    fprintf(csv, "step,t,loss,loss_eval,drift_fro,drift_op,kernel_distance,velocity,alignment,lambda_max,lambda_min,"
                 "eig_drift_max,angle_max,projector_dist,active_modes,lin_err,pert_err,pw_err,kdot_err,krr_vs_net,"
                 "krr_eval_err,rkhs_ridge,rkhs_norm_y,rkhs_norm_f,eff_dim,energy_y_topk,energy_res_topk,cond");
    for (int l = 1; l <= d; l++) fprintf(csv, ",move_l%d", l);
    for (int l = 1; per_layer && l <= d; l++) fprintf(csv, ",drift_l%d", l);
    fprintf(csv, "\n");
    *out = t;
    if (study_log_flush(csv, "metrics.csv")) return CLI_EXIT_FAIL;
    return 0;
}

/* The first snapshot: K_0, the frozen-K_0 predictor and the tracker. */
static int track_init(train_track *t, const snap_view *s)
{
    size_t n = t->n, m = t->m;
    memcpy(t->K0, s->K, n * n * sizeof(double));
    if (s->Kdot) memcpy(t->Kdot0, s->Kdot, n * n * sizeof(double));
    ntk_tracker_opts o = {t->cfg->top_k, 1e-3};
    if (ntk_tracker_alloc(n, s->K, 1, t->y, &o, &t->tr) != NTK_OK ||
        ntk_linpred_alloc(n, s->K, m, s->Ke, s->f, t->y, s->fe, t->a, t->cfg->flow, &t->lp) != NTK_OK) {
        cli_errorf("train analysis: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    if (m) memcpy(t->Ke0, s->Ke, m * n * sizeof(double));
    if (t->Kl0 && s->Kl) memcpy(t->Kl0, s->Kl, (size_t)t->d * n * n * sizeof(double));
    memset(t->df, 0, n * sizeof(double));
    if (m) memset(t->dfe, 0, m * sizeof(double));
    memcpy(t->pw, s->f, n * sizeof(double));
    if (m) memcpy(t->pwe, s->fe, m * sizeof(double));
    return 0;
}

/* Piecewise frozen: the previous snapshot's kernel drives the interval. */
static int advance_piecewise(train_track *t, long h)
{
    size_t n = t->n, m = t->m;
    /* Short intervals by matrix-vector steps (2 h (n + m) n flops) rather than an
     * eigendecomposition (~9 n^3); the two agree to rounding (tests/test_predict.c). */
    if (!t->cfg->flow && (double)h * (double)(n + m) <= 4.0 * (double)n * (double)n) {
        if (ntk_frozen_gd_steps(n, t->Kprev, m, m ? t->Keprev : NULL, t->y, t->a, h, t->pw, m ? t->pwe : NULL) !=
            NTK_OK) {
            cli_errorf("piecewise prediction: %s", ntk_last_error());
            return CLI_EXIT_FAIL;
        }
        return 0;
    }
    ntk_linpred *lp = NULL;
    if (ntk_linpred_alloc(t->n, t->Kprev, t->m, t->m ? t->Keprev : NULL, t->pw, t->y, t->m ? t->pwe : NULL, t->a,
                          t->cfg->flow, &lp) != NTK_OK ||
        ntk_linpred_at(lp, (double)h, t->pw, t->m ? t->pwe : NULL) != NTK_OK) {
        ntk_linpred_free(lp);
        cli_errorf("piecewise prediction: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    ntk_linpred_free(lp);
    return 0;
}

static double kernel_regression(train_track *t, const snap_view *s, double *eval_err)
{
    *eval_err = NAN;
    if (!t->m) return NAN;
    size_t n = t->n;
    double md = 0;
    for (size_t i = 0; i < n; i++) md += s->K[i * n + i] / (double)n;
    if (ntk_krr(n, s->K, 1, t->y, t->cfg->ridge * md, t->m, s->Ke, t->pred, NULL) != NTK_OK) return NAN;
    *eval_err = norm_diff(t->m, t->pred, t->ye) / sqrt((double)t->m);
    double nf = 0;
    for (size_t i = 0; i < t->m; i++) nf += s->fe[i] * s->fe[i];
    return norm_diff(t->m, t->pred, s->fe) / sqrt(nf > 0 ? nf : 1);
}

int track_add(train_track *t, const snap_view *s)
{
    size_t n = t->n, m = t->m, j = t->S;
    if (j >= t->cap) {
        cli_errorf("train analysis: more snapshots than planned (%zu)", t->cap);
        return CLI_EXIT_FAIL;
    }
    int rc = j == 0 ? track_init(t, s) : 0;
    if (rc) return rc;
    ntk_drift dr;
    if (ntk_tracker_update(t->tr, t->eta * (double)s->step, s->K, &dr) != NTK_OK ||
        ntk_linpred_at(t->lp, (double)s->step, t->lin, m ? t->line : NULL) != NTK_OK) {
        cli_errorf("train analysis: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    t->eigs = dr.eigs;
    if (j > 0) {
        /* Delta K at the previous snapshot (Kprev - K0) and now (K - K0); the eval x train
         * ones likewise against the first snapshot's (Ke0). */
        for (size_t i = 0; i < n * n; i++) {
            t->dK[i] = s->K[i] - t->K0[i];
            t->Kprev[i] -= t->K0[i];
        }
        for (size_t i = 0; i < m * n; i++) {
            t->dKe[i] = s->Ke[i] - t->Ke0[i];
            t->Keprev[i] -= t->Ke0[i];
        }
        if (t->cfg->flow) { /* the first-order correction is derived for discrete steps only */
            for (size_t i = 0; i < n; i++) t->df[i] = NAN;
            for (size_t i = 0; i < m; i++) t->dfe[i] = NAN;
        } else if (ntk_linpred_pert_advance(t->lp, t->sprev, t->Kprev, m ? t->Keprev : NULL, s->step, t->dK,
                                     m ? t->dKe : NULL, t->df, m ? t->dfe : NULL) != NTK_OK) {
            cli_errorf("perturbative prediction: %s", ntk_last_error());
            return CLI_EXIT_FAIL;
        }
        for (size_t i = 0; i < n * n; i++) t->Kprev[i] += t->K0[i];
        for (size_t i = 0; i < m * n; i++) t->Keprev[i] += t->Ke0[i];
        if ((rc = advance_piecewise(t, s->step - t->sprev))) return rc;
    }
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
    double kd = NAN;
    if (j > 0) {
        double num = 0, dd = 0;
        for (size_t i = 0; i < n * n; i++) {
            double d = s->K[i] - t->K0[i];
            double e = d - t->eta * (double)s->step * t->Kdot0[i];
            num += e * e;
            dd += d * d;
        }
        kd = dd > 0 ? sqrt(num / dd) : 0;
    }
    double krr_eval, krr = kernel_regression(t, s, &krr_eval);
    /* evolving RKHS: the ridge is the kernel-regression one (relative to the mean diagonal of K_t) */
    double md = 0;
    for (size_t i = 0; i < n; i++) md += s->K[i * n + i] / (double)n;
    ntk_rkhs rk = {t->cfg->ridge * md, NAN, NAN, NAN, NAN, NAN, NAN};
    if (ntk_rkhs_stats(n, s->K, dr.eigs, dr.top_k, dr.top_vectors, t->y, s->f, t->cfg->ridge * md, &rk) != NTK_OK)
        fprintf(stderr, "ntkdrift: note: RKHS diagnostics at step %ld: %s\n", s->step, ntk_last_error());
    fprintf(t->csv, "%ld,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%.10g,%.10g,"
                    "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g",
            s->step, t->eta * (double)s->step, s->loss, s->loss_eval, dr.drift_fro, dr.drift_op, dr.kernel_distance,
            dr.velocity, dr.alignment, dr.lambda_max, dr.lambda_min, dr.eig_drift_max, dr.angle_max,
            dr.projector_dist, dr.active_modes, lin / den, pert / den, pw / den, kd, krr, krr_eval, rk.ridge, rk.norm_y,
            rk.norm_f, rk.eff_dim, rk.energy_y, rk.energy_r, rk.cond);
    for (int l = 0; l < t->d; l++) fprintf(t->csv, ",%.10g", s->move ? s->move[l] : NAN);
    for (int l = 0; t->Kl0 && l < t->d; l++) {
        size_t nn = n * n;
        double dl = s->Kl ? ntk_rel_fro(nn, s->Kl + (size_t)l * nn, t->Kl0 + (size_t)l * nn) : NAN;
        fprintf(t->csv, ",%.10g", dl);
    }
    fprintf(t->csv, "\n");
    if (study_log_flush(t->csv, "metrics.csv")) return CLI_EXIT_FAIL;
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
        memcpy(t->tfe + j * m, s->fe, m * sizeof(double));
        memcpy(t->tline + j * m, t->line, m * sizeof(double));
        for (size_t i = 0; i < m; i++) t->tperte[j * m + i] = t->line[i] + t->dfe[i];
        memcpy(t->tpwe + j * m, t->pwe, m * sizeof(double));
    }
    /* remember this snapshot for the next interval */
    memcpy(t->Kprev, s->K, n * n * sizeof(double));
    if (m) memcpy(t->Keprev, s->Ke, m * n * sizeof(double));
    t->sprev = s->step;
    t->S = j + 1;
    return 0;
}

const double *track_last_eigs(const train_track *t) { return t->eigs; }

int track_write_trajectory(const train_track *t, const char *path)
{
    size_t S = t->S, n = t->n, m = t->m;
    size_t sh1[1] = {S}, shn[2] = {S, n}, shm[2] = {S, m};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "steps", NTK_NPY_F64, 1, sh1, t->steps);
    if (st == NTK_OK) st = ntk_npz_add(w, "loss", NTK_NPY_F64, 1, sh1, t->loss);
    if (st == NTK_OK) st = ntk_npz_add(w, "drift_fro", NTK_NPY_F64, 1, sh1, t->drift);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_train", NTK_NPY_F64, 2, shn, t->tf);
    if (st == NTK_OK) st = ntk_npz_add(w, "y_train", NTK_NPY_F64, 1, shn + 1, t->y);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_lin", NTK_NPY_F64, 2, shn, t->tlin);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_pert", NTK_NPY_F64, 2, shn, t->tpert);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_pw", NTK_NPY_F64, 2, shn, t->tpw);
    if (st == NTK_OK && m) {
        st = ntk_npz_add(w, "loss_eval", NTK_NPY_F64, 1, sh1, t->loss_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_eval", NTK_NPY_F64, 2, shm, t->tfe);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_lin_eval", NTK_NPY_F64, 2, shm, t->tline);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_pert_eval", NTK_NPY_F64, 2, shm, t->tperte);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_pw_eval", NTK_NPY_F64, 2, shm, t->tpwe);
    }
    if (st == NTK_OK) return ntk_npz_close(w) == NTK_OK ? 0 : (cli_errorf("%s", ntk_last_error()), CLI_EXIT_FAIL);
    ntk_npz_abort(w);
    cli_errorf("writing trajectory: %s", ntk_last_error());
    return CLI_EXIT_FAIL;
}

void track_summary(const train_track *t, cJSON *obj)
{
    const cli_config *c = t->cfg;
    double ft = ntk_freeze_time(t->S, t->steps, t->drift, c->freeze_eps, c->freeze_k, c->freeze_delta);
    cJSON_AddNumberToObject(obj, "snapshots", (double)t->S);
    if (isfinite(ft))
        cJSON_AddNumberToObject(obj, "freeze_step", ft);
    else
        cJSON_AddNullToObject(obj, "freeze_step");
    cJSON *fj = cJSON_AddObjectToObject(obj, "freeze");
    cJSON_AddNumberToObject(fj, "eps", c->freeze_eps);
    cJSON_AddNumberToObject(fj, "k", c->freeze_k);
    cJSON_AddNumberToObject(fj, "delta", c->freeze_delta);
    cJSON_AddStringToObject(fj, "definition",
                            "s(t_j) = (drift_fro(t_j) - drift_fro(t_{j-delta})) / (step_j - step_{j-delta}); freeze_step "
                            "= the first snapshot step t_j with |s| < eps |s(t_delta)| at j and the k-1 snapshots after "
                            "it (the end of the first small interval); null if never");
    if (t->S) cJSON_AddNumberToObject(obj, "final_drift_fro", t->drift[t->S - 1]);
    cJSON *lj = cJSON_AddObjectToObject(obj, "predictions");
    double alm = NAN;
    int unstable = t->lp ? ntk_linpred_unstable(t->lp, &alm) : 0;
    cJSON_AddNumberToObject(lj, "a_lambda_max", alm);
    cJSON_AddNumberToObject(lj, "unstable_modes", unstable);
    cJSON_AddStringToObject(lj, "stability",
                            unstable ? (t->cfg->flow ? "unstable: K_0 has negative eigenvalues (flow)"
                                                     : "past the edge: eta c lambda_max(K_0) > 2, the linearized "
                                                       "prediction grows without bound")
                                     : "stable: eta c lambda_max(K_0) <= 2");
    const char *keys[3] = {"lin_nonfinite_step", "pert_nonfinite_step", "pw_nonfinite_step"};
    long v[3] = {t->lin_nonfinite, t->pert_nonfinite, t->pw_nonfinite};
    for (int i = 0; i < 3; i++)
        if (v[i] >= 0)
            cJSON_AddNumberToObject(lj, keys[i], (double)v[i]);
        else
            cJSON_AddNullToObject(lj, keys[i]);
}
