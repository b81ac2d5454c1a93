/* sweep_kinf.c -- a sweep cell's infinite-width kernel regression beside its trained network
 * (docs/sweep.md): K_inf on the cell's data, the predictor from zero and from the network's f_0,
 * and the test errors of both and of the network. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

static void fill_nan(size_t n, double *v)
{
    for (size_t i = 0; i < n; i++) v[i] = NAN;
}

ntk_status ntk_kinf_regression(const ntk_spec *spec, const ntk_kinf_opts *o, ntk_kinf_result *r)
{
    if (!spec || !o || !r) return ntk_set_error(NTK_EINVAL, "kinf regression: spec, options and result must not be NULL");
    if (o->N == 0 || o->M == 0 || !o->X_train || !o->Y_train || !o->X_eval || !o->Y_eval || !o->f_train0 ||
        !o->f_eval0 || !o->f_eval_T)
        return ntk_set_error(NTK_EINVAL, "kinf regression: N, M >= 1 and every input array needed");
    if (!r->K || !r->K_eval || !r->pred || !r->pred_init)
        return ntk_set_error(NTK_EINVAL, "kinf regression: result K, K_eval, pred and pred_init must not be NULL");
    if (!(o->ridge_rel >= 0) || !isfinite(o->ridge_rel))
        return ntk_set_error(NTK_EINVAL, "kinf regression: ridge_rel must be finite and >= 0, got %g", o->ridge_rel);
    if (spec->outputs < 1) return ntk_set_error(NTK_EINVAL, "kinf regression: spec.outputs must be >= 1");
    size_t N = o->N, M = o->M, k = (size_t)spec->outputs;
    r->ridge = r->err_net = r->err_kinf = r->rel_kinf = r->rel_kinf_init = NAN;
    r->solved = 0;
    int prev = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads);
    ntk_limit_opts lo = {0};
    ntk_status st = ntk_limit_full(spec, &lo, N, o->X_train, NULL, r->K, NULL, NULL);
    if (st == NTK_OK) st = ntk_limit_cross(spec, &lo, M, o->X_eval, N, o->X_train, NULL, r->K_eval, NULL, NULL);
    if (st == NTK_OK) {
        double md = ntk_mean_diag(N, r->K);
        r->ridge = o->ridge_rel * md;
        r->err_net = ntk_rmse(M * k, o->f_eval_T, o->Y_eval);
        if (ntk_krr(N, r->K, (int)k, o->Y_train, o->ridge_rel * md, M, r->K_eval, r->pred, NULL) == NTK_OK) {
            r->solved = 1;
            r->err_kinf = ntk_rmse(M * k, r->pred, o->Y_eval);
            r->rel_kinf = ntk_rel_fro(M * k, o->f_eval_T, r->pred);
            /* the infinite-width network started from this network's f_0: y_inf + f_0e - K_inf(e, X) a_0 */
            if (ntk_krr_init_shift(N, r->K, (int)k, o->f_train0, o->ridge_rel * md, M, r->K_eval, r->pred, o->f_eval0,
                                   r->pred_init) == NTK_OK)
                r->rel_kinf_init = ntk_rel_fro(M * k, o->f_eval_T, r->pred_init);
            else
                fill_nan(M * k, r->pred_init);
        } else {
            fill_nan(M * k, r->pred);
            fill_nan(M * k, r->pred_init);
        }
    }
    if (o->threads > 0) ntk_set_threads(prev);
    return st;
}
