/* sweep_kinf.c -- a sweep cell's infinite-width kernel regression beside its trained network
 * (docs/sweep.md): K_inf on the cell's data, the predictor from zero and from the network's f_0,
 * and the test errors of both and of the network; the same from a finished run's trajectory.npz,
 * written to kinf.npz. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* Row `row` (-1: the last) of the 2-D member `name` [rows x cols] of an .npz into dst [cols]. */
static ntk_status npz_row(const char *path, const char *name, long row, size_t cols, double *dst)
{
    ntk_array a = {0};
    ntk_status st = ntk_npz_read(path, name, &a);
    if (st != NTK_OK) return st;
    bool ok = a.ndim == 2 && a.shape[1] == cols && a.shape[0] > 0;
    if (ok) memcpy(dst, a.data + (row < 0 ? a.shape[0] - 1 : (size_t)row) * cols, cols * sizeof *dst);
    ntk_array_clear(&a);
    return ok ? NTK_OK : ntk_set_error(NTK_EFORMAT, "%s: %s has an unexpected shape", path, name);
}

ntk_status ntk_kinf_regression_files(const ntk_spec *spec, const ntk_dataset *d, double ridge_rel, int threads,
                                     const char *trajectory_path, const char *kinf_path, ntk_kinf_result *r)
{
    if (!spec || !d || !trajectory_path || !kinf_path || !r)
        return ntk_set_error(NTK_EINVAL, "kinf regression: spec, data, paths and result must not be NULL");
    if (d->n_eval == 0 || d->k < 1) return ntk_set_error(NTK_EINVAL, "kinf regression: no evaluation set");
    size_t N = d->n_train, M = d->n_eval, k = (size_t)d->k;
    double *buf = malloc((N * N + M * N + 4 * M * k + N * k) * sizeof *buf);
    if (!buf) return ntk_set_error(NTK_ENOMEM, "kinf regression: out of memory for N = %zu, M = %zu", N, M);
    double *fT = buf + N * N + M * N + 2 * M * k, *f0e = fT + M * k, *f0 = f0e + M * k; /* [M k], [M k], [N k] */
    *r = (ntk_kinf_result){.K = buf, .K_eval = buf + N * N, .pred = buf + N * N + M * N};
    r->pred_init = r->pred + M * k;
    ntk_status st = npz_row(trajectory_path, "f_eval", -1, M * k, fT); /* after training, and at init: */
    if (st == NTK_OK) st = npz_row(trajectory_path, "f_eval", 0, M * k, f0e);
    if (st == NTK_OK) st = npz_row(trajectory_path, "f_train", 0, N * k, f0);
    ntk_kinf_opts o = {.N = N, .M = M, .X_train = d->X_train, .Y_train = d->Y_train, .X_eval = d->X_eval,
                       .Y_eval = d->Y_eval, .f_train0 = f0, .f_eval0 = f0e, .f_eval_T = fT, .ridge_rel = ridge_rel,
                       .threads = threads};
    if (st == NTK_OK) st = ntk_kinf_regression(spec, &o, r);
    ntk_npz_writer *w = NULL;
    const struct {
        const char *name;
        size_t rows, cols;
        const double *data;
    } mb[] = {{"K_inf", N, N, r->K},         {"K_inf_eval", M, N, r->K_eval}, {"y_train", N, k, d->Y_train},
              {"y_eval", M, k, d->Y_eval}, {"pred", M, k, r->pred},         {"pred_init", M, k, r->pred_init}};
    if (st == NTK_OK) st = ntk_npz_open(kinf_path, &w);
    for (size_t i = 0; st == NTK_OK && i < sizeof mb / sizeof mb[0]; i++)
        st = ntk_npz_add(w, mb[i].name, NTK_F64, 2, (size_t[]){mb[i].rows, mb[i].cols}, mb[i].data);
    if (st == NTK_OK) st = ntk_npz_add(w, "ridge", NTK_F64, 1, (size_t[]){1}, &r->ridge);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else if (w) ntk_npz_abort(w);
    free(buf);
    r->K = r->K_eval = r->pred = r->pred_init = NULL;
    return st;
}
