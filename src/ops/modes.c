/* modes.c -- one cell of the mode studies (docs/modes.md): a finite kernel on circle data against the
 * continuum (lemma objects, eigenspaces matched to the Fourier planes, plane blocks and leakage) and
 * against its infinite-width counterpart (kernel regression on the eval points). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_modes_opts ntk_modes_opts_defaults(void) { return (ntk_modes_opts){.kmax = 8, .ridge = 1e-8}; }

/* Kernel regression with the operator A (= K/n) on y, predicting at the eval rows A_eval; the ridge
 * relative to the mean diagonal of K.  pred: [m]. */
static ntk_status regress(size_t n, const double *A, const double *y, size_t m, const double *A_eval, double ridge,
                          double *pred)
{
    double md = 0;
    for (size_t i = 0; i < n; i++) md += A[i * n + i] / (double)n; /* A's scale: K/n throughout, pred unchanged */
    return ntk_krr(n, A, 1, y, ridge * md, m, A_eval, pred, NULL);
}

ntk_status ntk_modes_cell(const ntk_modes_opts *o, const ntk_dataset *d, ntk_modes_result *r)
{
    if (!o || !d || !r) return ntk_set_error(NTK_EINVAL, "modes: opts, data and result must not be NULL");
    if (!d->gamma_train) return ntk_set_error(NTK_EINVAL, "modes: needs circle data (training angles)");
    ntk_kgd_problem p, pinf;
    ntk_kgd_problem_opts po = ntk_kgd_problem_defaults();
    po.fft = 0, po.kmax = o->kmax;
    ntk_status st = ntk_kgd_problem_build(&o->src, d, &po, &p);
    if (st != NTK_OK) return st;
    memset(&pinf, 0, sizeof pinf);
    size_t n = p.n, m = p.m, w = 2 * (size_t)o->kmax + 1;
    double *wv = malloc(n * sizeof *wv), *V = malloc(n * n * sizeof *V), *f = m ? malloc(2 * m * sizeof *f) : NULL;
    double *lam = p.lambda;
    if (!wv || !V || (m && !f)) {
        st = ntk_set_error(NTK_ENOMEM, "modes: no memory (n %zu)", n);
        goto done;
    }
    if (!lam) {
        st = ntk_set_error(NTK_EINVAL, "modes: the source has no continuum eigenvalues (a matrix source needs a limit)");
        goto done;
    }
    ntk_lemma_opts lo = {.n = n, .A = p.A, .gamma = p.gamma, .K = o->kmax, .lambda = lam, .theta0 = p.theta0};
    if ((st = ntk_lemma_objects(&lo, &r->lemma, r->e_col, NULL, NULL)) != NTK_OK) goto done;
    if ((st = ntk_eigh(n, p.A, wv, V)) != NTK_OK) goto done;
    if (r->eig) memcpy(r->eig, wv, n * sizeof *wv);
    if (r->planes && (st = ntk_fourier_subspaces(n, wv, V, p.gamma, o->kmax, lam, o->search, r->planes)) != NTK_OK) goto done;
    double *C = r->C ? r->C : malloc(w * w * sizeof *C);
    if (!C) {
        st = ntk_set_error(NTK_ENOMEM, "modes: no memory");
        goto done;
    }
    st = ntk_fourier_blocks(n, p.A, p.gamma, o->kmax, C, &r->leakage);
    if (!r->C) free(C);
    if (st != NTK_OK) goto done;
    r->pred_err = r->pred_err_inf = r->pred_rel_inf = NAN;
    if (m) { /* kernel regression with K and with the infinite-width kernel of the same source */
        ntk_kernel_source inf = o->src;
        if (inf.kind == NTK_KSRC_EMPIRICAL) inf.kind = NTK_KSRC_LIMIT, inf.net = NULL;
        if (inf.net) inf.spec = *ntk_net_spec(inf.net);
        if ((st = ntk_kgd_problem_build(&inf, d, &po, &pinf)) != NTK_OK) goto done;
        if ((st = regress(n, p.A, p.y, m, p.A_eval, o->ridge, f)) != NTK_OK) goto done;
        if ((st = regress(n, pinf.A, p.y, m, pinf.A_eval, o->ridge, f + m)) != NTK_OK) goto done;
        double e = 0, ei = 0, dd = 0, ni = 0;
        for (size_t i = 0; i < m; i++) {
            e += (f[i] - p.y_eval[i]) * (f[i] - p.y_eval[i]), ei += (f[m + i] - p.y_eval[i]) * (f[m + i] - p.y_eval[i]);
            dd += (f[i] - f[m + i]) * (f[i] - f[m + i]), ni += f[m + i] * f[m + i];
        }
        r->pred_err = sqrt(e / (double)m), r->pred_err_inf = sqrt(ei / (double)m);
        r->pred_rel_inf = ni > 0 ? sqrt(dd / ni) : NAN;
    }
done:
    free(wv), free(V), free(f);
    ntk_kgd_problem_clear(&p), ntk_kgd_problem_clear(&pinf);
    return st;
}
