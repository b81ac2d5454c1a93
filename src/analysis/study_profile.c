/* study_profile.c -- one cell of the kernel profile K(x_0, x_j) over seeds (docs/cli.md, profile):
 * each seed's anchor row of the empirical kernel (output mean) beside the infinite-width row, at
 * initialisation and after T optimizer steps on a training set, and the per-point seed statistics. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

ntk_profile_opts ntk_profile_defaults(void)
{
    ntk_profile_opts o;
    memset(&o, 0, sizeof o);
    o.train = ntk_train_defaults();
    o.blowup = 1e6;
    return o;
}

ntk_status ntk_seed_column_stats(size_t S, size_t N, const double *samples, const double *lim,
                                 const ntk_seed_stats *out, ntk_profile_err *err)
{
    static const double q[3] = {0.1, 0.5, 0.9};
    if (S == 0 || N == 0 || !samples || !out || (err && !lim))
        return ntk_set_error(NTK_EINVAL, "seed statistics: S and N must be >= 1, samples and out (and lim, for err) "
                                         "must not be NULL");
    double *col = malloc(S * sizeof *col);
    if (!col) return ntk_set_error(NTK_ENOMEM, "seed statistics: out of memory for %zu seeds", S);
    double num = 0, den = 0, sdn = 0, maxdev = 0;
    ntk_status st = NTK_OK;
    for (size_t j = 0; j < N && st == NTK_OK; j++) {
        double m, sd, p[3];
        for (size_t s = 0; s < S; s++) col[s] = samples[s * N + j];
        st = ntk_mean_se(S, col, &m, NULL, &sd);
        if (st == NTK_OK) st = ntk_percentiles(S, col, 3, q, p);
        if (st != NTK_OK) break;
        if (out->mean) out->mean[j] = m;
        if (out->std) out->std[j] = sd;
        if (out->p10) out->p10[j] = p[0];
        if (out->p50) out->p50[j] = p[1];
        if (out->p90) out->p90[j] = p[2];
        if (lim) {
            num += (m - lim[j]) * (m - lim[j]);
            den += lim[j] * lim[j];
            sdn += sd * sd;
            maxdev = fmax(maxdev, fabs(m - lim[j]));
        }
    }
    free(col);
    if (st == NTK_OK && err) {
        err->rel_err = sqrt(num / den);
        err->rel_std = sqrt(sdn / den);
        err->max_abs_dev = maxdev;
    }
    return st;
}

/* Workspaces of one cell. */
typedef struct {
    ntk_feats *fx, *f0, *ft; /* the profile's points, the anchor, the training set */
    double *tmp;             /* [k x N*k] the anchor's cross kernel */
    double *Kt, *w;          /* [n x n], [n]: the kernel on the training set and its eigenvalues (lr_frac) */
    double *F;               /* [n_train x k] outputs on the training set */
} cell_ws;

/* Anchor row of the empirical kernel, mean over the k outputs: row [N]. */
static ntk_status anchor_row(ntk_net *net, cell_ws *ws, const ntk_profile_opts *o, int k, double *row)
{
    ntk_status st = ntk_feats_compute(net, ws->fx, o->X);
    if (st == NTK_OK) st = ntk_feats_compute(net, ws->f0, o->x0);
    if (st == NTK_OK) st = ntk_kernel_cross(net, ws->f0, ws->fx, ws->tmp, NULL);
    if (st == NTK_OK) st = ntk_kernel_output_mean(1, o->N, k, NTK_F64, ws->tmp, row);
    return st;
}

/* T steps of the optimizer from the network's current parameters; *eta, *loss_T (inf: diverged,
 * the parameters then those of the step that blew up). */
static ntk_status train_net(ntk_net *net, cell_ws *ws, const ntk_profile_opts *o, int k, double *eta, double *loss_T)
{
    size_t Nt = o->n_train, n = Nt * (size_t)k;
    double cl = ntk_loss_factor(o->train.loss, o->train.batch > 0 ? o->train.batch : Nt);
    ntk_train_opts to = o->train;
    ntk_status st;
    *eta = o->train.lr;
    if (o->lr_frac > 0) {
        st = ntk_feats_compute(net, ws->ft, o->X_train);
        if (st == NTK_OK) st = ntk_kernel_full(net, ws->ft, ws->Kt, NULL);
        if (st == NTK_OK) st = ntk_eigh(n, ws->Kt, ws->w, NULL);
        if (st != NTK_OK) return st;
        *eta = o->lr_frac * 2.0 / (cl * ws->w[0]);
    }
    to.lr = *eta;
    ntk_trainer *tr = NULL;
    st = ntk_trainer_alloc(net, Nt, o->X_train, o->Y_train, &to, &tr);
    if (st != NTK_OK) return ntk_set_error(NTK_EINVAL, "training: %s", ntk_last_error());
    double loss = NAN, loss0 = NAN;
    for (long t = 0; t < o->steps; t++) {
        ntk_status s1 = ntk_trainer_step(tr, &loss);
        if (t == 0) loss0 = loss;
        if (s1 != NTK_OK || !isfinite(loss) || loss > o->blowup * loss0) {
            loss = INFINITY; /* diverged: reported, the other seeds go on */
            break;
        }
    }
    ntk_trainer_free(tr);
    ntk_clear_error();
    if (isfinite(loss)) { /* the loss after the last step, on the whole training set */
        st = ntk_net_forward(net, Nt, o->X_train, ws->F);
        if (st != NTK_OK) return st;
        double r = ntk_rmse(n, ws->F, o->Y_train); /* sum of squares = n r^2 */
        loss = 0.5 * ntk_loss_factor(o->train.loss, Nt) * (double)n * r * r;
    }
    *loss_T = loss;
    return NTK_OK;
}

static ntk_status check(const ntk_spec *spec, const ntk_profile_opts *o, const ntk_profile_result *r)
{
    if (!spec || !o || !r) return ntk_set_error(NTK_EINVAL, "profile: spec, options and result must not be NULL");
    if (o->N == 0 || !o->X || !o->x0) return ntk_set_error(NTK_EINVAL, "profile: N >= 1 points X and the anchor x0 needed");
    if (o->n_seeds == 0 || (!o->seeds && !o->params))
        return ntk_set_error(NTK_EINVAL, "profile: n_seeds >= 1 and seeds (or params) needed");
    if (!r->K || !r->limit) return ntk_set_error(NTK_EINVAL, "profile: result K and limit must not be NULL");
    if (o->steps < 0) return ntk_set_error(NTK_EINVAL, "profile: steps must be >= 0, got %ld", o->steps);
    if (o->steps > 0) {
        if (o->n_train == 0 || !o->X_train || !o->Y_train)
            return ntk_set_error(NTK_EINVAL, "profile: training (steps > 0) needs n_train >= 1, X_train and Y_train");
        if (!r->K_trained || !r->loss_T || !r->eta)
            return ntk_set_error(NTK_EINVAL, "profile: training (steps > 0) needs result K_trained, loss_T and eta");
        if (!(o->blowup > 0)) return ntk_set_error(NTK_EINVAL, "profile: blowup must be > 0, got %g", o->blowup);
    }
    for (size_t s = 0; !o->params && s < o->n_seeds; s++)
        if (o->seeds[s] < 0) return ntk_set_error(NTK_EINVAL, "profile: seeds[%zu] = %d is negative", s, o->seeds[s]);
    return NTK_OK;
}

static ntk_status run_seeds(ntk_net *net, cell_ws *ws, const ntk_profile_opts *o, ntk_profile_result *r)
{
    size_t N = o->N, S = o->n_seeds, P = ntk_net_num_params(net);
    int k = ntk_net_spec(net)->outputs;
    r->diverged = 0;
    for (size_t s = 0; s < S; s++) {
        if (o->params) {
            memcpy(ntk_net_params(net), o->params, P * sizeof *o->params);
            ntk_net_params_changed(net);
        } else {
            ntk_net_init(net, (uint64_t)o->seeds[s]);
        }
        ntk_status st = anchor_row(net, ws, o, k, r->K + s * N);
        if (st == NTK_OK && o->steps > 0) {
            st = train_net(net, ws, o, k, &r->eta[s], &r->loss_T[s]);
            if (st == NTK_OK) st = anchor_row(net, ws, o, k, r->K_trained + s * N);
            if (st == NTK_OK && !isfinite(r->loss_T[s])) r->diverged++;
        }
        if (st != NTK_OK) return st;
    }
    ntk_status st = ntk_seed_column_stats(S, N, r->K, r->limit, &r->stats, &r->err);
    if (st != NTK_OK || o->steps <= 0) return st;
    st = ntk_seed_column_stats(S, N, r->K_trained, r->limit, &r->stats_trained, &r->err_trained);
    if (st != NTK_OK) return st;
    double change = 0; /* seed mean of ||K_T(x_0, .) - K_0(x_0, .)|| / ||K_0(x_0, .)|| */
    for (size_t s = 0; s < S; s++) change += ntk_rel_fro(N, r->K_trained + s * N, r->K + s * N) / (double)S;
    r->rel_change = change;
    double half = 0.5;
    if (ntk_percentiles(S, r->loss_T, 1, &half, &r->loss_T_median) != NTK_OK) r->loss_T_median = NAN;
    ntk_clear_error();
    return NTK_OK;
}

ntk_status ntk_profile_cell(const ntk_spec *spec, const ntk_profile_opts *o, ntk_profile_result *r)
{
    ntk_status st = check(spec, o, r);
    if (st != NTK_OK) return st;
    r->err_trained.rel_err = r->err_trained.rel_std = r->err_trained.max_abs_dev = NAN;
    r->rel_change = r->loss_T_median = NAN;
    r->diverged = 0;
    int prev = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads);
    size_t N = o->N, k = (size_t)spec->outputs, nt = o->n_train * k;
    bool trained = o->steps > 0;
    ntk_net *net = NULL;
    cell_ws ws = {0};
    st = ntk_net_alloc(spec, &net);
    if (st == NTK_OK) st = ntk_feats_alloc(net, N, NTK_F64, &ws.fx);
    if (st == NTK_OK) st = ntk_feats_alloc(net, 1, NTK_F64, &ws.f0);
    if (st == NTK_OK && trained) st = ntk_feats_alloc(net, o->n_train, NTK_F64, &ws.ft);
    if (st == NTK_OK) st = ntk_limit_cross(spec, NULL, 1, o->x0, N, o->X, NULL, r->limit, NULL, NULL);
    if (st == NTK_OK) {
        ws.tmp = malloc(k * N * k * sizeof *ws.tmp);
        if (trained) {
            ws.F = malloc(nt * sizeof *ws.F);
            if (o->lr_frac > 0) {
                ws.Kt = malloc(nt * nt * sizeof *ws.Kt);
                ws.w = malloc(nt * sizeof *ws.w);
            }
        }
        if (!ws.tmp || (trained && (!ws.F || (o->lr_frac > 0 && (!ws.Kt || !ws.w)))))
            st = ntk_set_error(NTK_ENOMEM, "profile: out of memory for %zu points (training set %zu)", N, o->n_train);
    }
    if (st == NTK_OK) st = run_seeds(net, &ws, o, r);
    ntk_feats_free(ws.fx);
    ntk_feats_free(ws.f0);
    ntk_feats_free(ws.ft);
    free(ws.tmp);
    free(ws.Kt);
    free(ws.w);
    free(ws.F);
    ntk_net_free(net);
    if (o->threads > 0) ntk_set_threads(prev);
    return st;
}
