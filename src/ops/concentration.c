/* concentration.c -- Monte Carlo over seeds of the sampled operator's Fourier blocks
 * B = Phi^T A Phi / n - Lambda_K (docs/modes.md, "Concentration"): over the hidden width of a
 * network's empirical NTK on a fixed grid (finite width), or over uniform draws of the sample for a
 * fixed kernel (finite sample); each separated from its own bias, with the exceedance over seeds
 * and the tail bound beside it.  Seeds run one after another, so the numbers do not depend on the
 * thread count beyond what the BLAS calls inside give. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "ops.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_conc_opts ntk_conc_opts_defaults(void) { return (ntk_conc_opts){.K = 8, .seeds = 10, .c = 1, .L = 1}; }

/* max-entry, Frobenius and operator norm of the symmetric M: [w x w] (M is kept). */
static ntk_status sym_norms(size_t w, const double *M, double out[3])
{
    double *T = malloc(w * w * sizeof *T), *ev = malloc(w * sizeof *ev);
    if (!T || !ev) {
        free(T), free(ev);
        return ntk_set_error(NTK_ENOMEM, "concentration: no memory");
    }
    out[0] = out[1] = out[2] = 0;
    for (size_t i = 0; i < w * w; i++) out[0] = fmax(out[0], fabs(M[i])), out[1] += M[i] * M[i];
    out[1] = sqrt(out[1]);
    for (size_t i = 0; i < w; i++) /* symmetrise the rounding of Phi^T A Phi */
        for (size_t j = 0; j < w; j++) T[i * w + j] = (M[i * w + j] + M[j * w + i]) / 2;
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)w, T, (lapack_int)w, ev);
    for (size_t i = 0; i < w; i++) out[2] = fmax(out[2], fabs(ev[i]));
    free(T), free(ev);
    return info == 0 ? NTK_OK : ntk_set_error(NTK_ENUMERIC, "concentration: symmetric eigenvalues did not converge");
}

static double angle_between(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

typedef struct {
    const ntk_conc_opts *o;
    ntk_conc_result *r;
    size_t w;
    double *H, *D;            /* [w x w] the seed's H, and scratch */
} conc;

/* The seed's H into c->H from the operator A: [n x n] at the angles gamma: [n]. */
static ntk_status seed_H(conc *c, size_t n, const double *A, const double *gamma, size_t idx)
{
    const ntk_conc_opts *o = c->o;
    ntk_lemma_opts lo = {.n = n, .A = A, .gamma = gamma, .K = o->K, .lambda = o->lambda, .theta0 = o->theta0};
    ntk_lemma_norms nm;
    ntk_status st = ntk_lemma_objects(&lo, &nm, NULL, NULL, c->H);
    if (st == NTK_OK && c->r->lemma) c->r->lemma[idx] = nm;
    return st;
}

/* B = H - Lambda_K and F = H - ref: their norms at seed index idx. */
static ntk_status seed_norms(conc *c, const double *ref, size_t idx)
{
    size_t w = c->w;
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < w; q++) c->D[p * w + q] = c->H[p * w + q] - (p == q ? c->o->lambda[(p + 1) / 2] : 0);
    ntk_status st = sym_norms(w, c->D, c->r->B + 3 * idx);
    for (size_t i = 0; i < w * w; i++) c->D[i] = c->H[i] - ref[i];
    return st == NTK_OK ? sym_norms(w, c->D, c->r->F + 3 * idx) : st;
}

/* One width cell: the grid, A_inf's H as the reference, one network per seed. */
static ntk_status width_cell(conc *c, size_t cell, double *ref)
{
    const ntk_conc_opts *o = c->o;
    size_t n = o->n, w = c->w;
    int m = o->widths[cell], *wid = malloc((size_t)(o->spec->depth > 0 ? o->spec->depth : 1) * sizeof *wid);
    double *X = malloc(2 * n * sizeof *X), *g = malloc(n * sizeof *g), *A = malloc(n * n * sizeof *A);
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    ntk_status st = wid && X && g && A ? NTK_OK : ntk_set_error(NTK_ENOMEM, "concentration: no memory (n %zu)", n);
    if (st != NTK_OK) goto done;
    ntk_spec sp = *o->spec;
    for (int l = 0; l < sp.depth; l++) wid[l] = m;
    sp.widths = wid;
    if ((st = ntk_data_circle_grid(n, NTK_ANGLES_POS, g, X)) != NTK_OK) goto done;
    if ((st = ntk_limit_full(&sp, NULL, n, X, NULL, A, NULL, NULL)) != NTK_OK) goto done;
    for (size_t i = 0; i < n * n; i++) A[i] /= (double)n;
    if ((st = seed_H(c, n, A, g, 0)) != NTK_OK) goto done; /* lemma[0] is overwritten by seed 0 below */
    memcpy(ref, c->H, w * w * sizeof *ref);
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < w; q++) c->D[p * w + q] = ref[p * w + q] - (p == q ? o->lambda[(p + 1) / 2] : 0);
    if ((st = sym_norms(w, c->D, c->r->bias + 3 * cell)) != NTK_OK) goto done;
    if ((st = ntk_net_alloc(&sp, &net)) != NTK_OK || (st = ntk_feats_alloc(net, n, NTK_F64, &f)) != NTK_OK) goto done;
    for (int s = 0; s < o->seeds && st == NTK_OK; s++) {
        size_t idx = cell * (size_t)o->seeds + (size_t)s;
        if ((st = ntk_net_init(net, o->seed + (uint64_t)s)) != NTK_OK) break;
        if ((st = ntk_feats_compute(net, f, X)) != NTK_OK) break;
        if ((st = ntk_kernel_full(net, f, A, NULL)) != NTK_OK) break;
        for (size_t i = 0; i < n * n; i++) A[i] /= (double)n;
        if ((st = seed_H(c, n, A, g, idx)) == NTK_OK) st = seed_norms(c, ref, idx);
    }
done:
    ntk_feats_free(f);
    ntk_net_free(net);
    free(wid), free(X), free(g), free(A);
    return st;
}

/* One sample cell: n uniform angles per seed, the reference E H = Lambda_n. */
static ntk_status sample_cell(conc *c, size_t cell, double *ref)
{
    const ntk_conc_opts *o = c->o;
    size_t n = o->ns[cell], w = c->w;
    double *g = malloc(n * sizeof *g), *A = malloc(n * n * sizeof *A);
    ntk_status st = g && A ? NTK_OK : ntk_set_error(NTK_ENOMEM, "concentration: no memory (n %zu)", n);
    memset(ref, 0, w * w * sizeof *ref);
    for (size_t p = 0; p < w; p++) ref[p * w + p] = (1 - 1 / (double)n) * o->lambda[(p + 1) / 2] + o->theta0 / (double)n;
    for (size_t p = 0; p < w * w; p++) c->D[p] = ref[p] - (p % (w + 1) == 0 ? o->lambda[(p / w + 1) / 2] : 0);
    if (st == NTK_OK) st = sym_norms(w, c->D, c->r->bias + 3 * cell);
    for (int s = 0; s < o->seeds && st == NTK_OK; s++) {
        size_t idx = cell * (size_t)o->seeds + (size_t)s;
        if ((st = ntk_data_circle_uniform(o->seed, (uint64_t)s, n, NTK_ANGLES_POS, g, NULL)) != NTK_OK) break;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++)
                A[i * n + j] = A[j * n + i] = o->profile(angle_between(g[i], g[j]), o->profile_ctx) / (double)n;
        if ((st = seed_H(c, n, A, g, idx)) == NTK_OK) st = seed_norms(c, ref, idx);
    }
    free(g), free(A);
    return st;
}

static ntk_status check(const ntk_conc_opts *o, const ntk_conc_result *r)
{
    if (!o || !r || !r->B || !r->F || !r->bias || (o->n_eps && (!o->eps || !r->exceed || !r->bound)))
        return ntk_set_error(NTK_EINVAL, "concentration: opts and the result arrays B, F, bias (and exceed, bound) are required");
    if (!o->lambda || o->K < 0 || o->seeds < 1 || o->n_cells == 0)
        return ntk_set_error(NTK_EINVAL, "concentration: need lambda [K+1], K >= 0, seeds >= 1 and at least one cell");
    if (!(o->c > 0) || !(o->L > 0)) return ntk_set_error(NTK_EINVAL, "concentration: the bound's c and L must be > 0");
    if (o->kind == NTK_CONC_WIDTH) {
        if (!o->spec || !o->widths) return ntk_set_error(NTK_EINVAL, "concentration: the width kind needs spec and widths");
        if (o->spec->n0 != 2) return ntk_set_error(NTK_EINVAL, "concentration: the network's n0 must be 2 (points on the circle), got %d", o->spec->n0);
        if (2 * (size_t)o->K > o->n) return ntk_set_error(NTK_EINVAL, "concentration: kmax K = %d is greater than n/2 = %zu", o->K, o->n / 2);
        for (size_t i = 0; i < o->n_cells; i++)
            if (o->widths[i] < 1) return ntk_set_error(NTK_EINVAL, "concentration: width %d must be >= 1", o->widths[i]);
    } else if (o->kind == NTK_CONC_SAMPLE) {
        if (!o->profile || !o->ns) return ntk_set_error(NTK_EINVAL, "concentration: the sample kind needs profile and ns");
        for (size_t i = 0; i < o->n_cells; i++)
            if (2 * (size_t)o->K > o->ns[i])
                return ntk_set_error(NTK_EINVAL, "concentration: kmax K = %d is greater than n/2 = %zu", o->K, o->ns[i] / 2);
    } else {
        return ntk_set_error(NTK_EINVAL, "concentration: unknown kind %d", (int)o->kind);
    }
    return NTK_OK;
}

ntk_status ntk_concentration_run(const ntk_conc_opts *o, ntk_conc_result *r)
{
    ntk_status st = check(o, r);
    if (st != NTK_OK) return st;
    size_t w = 2 * (size_t)o->K + 1;
    conc c = {.o = o, .r = r, .w = w, .H = malloc(w * w * sizeof(double)), .D = malloc(w * w * sizeof(double))};
    double *ref = malloc(w * w * sizeof *ref);
    if (!c.H || !c.D || !ref) st = ntk_set_error(NTK_ENOMEM, "concentration: no memory");
    int threads = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads); /* restored below */
    for (size_t i = 0; i < o->n_cells && st == NTK_OK; i++) {
        st = o->kind == NTK_CONC_WIDTH ? width_cell(&c, i, ref) : sample_cell(&c, i, ref);
        double m = o->kind == NTK_CONC_WIDTH ? (double)o->widths[i] : (double)o->ns[i];
        for (size_t e = 0; st == NTK_OK && e < o->n_eps; e++) {
            int hit = 0;
            for (int s = 0; s < o->seeds; s++) hit += r->F[3 * (i * (size_t)o->seeds + (size_t)s)] >= o->eps[e];
            double x = o->eps[e] / o->L;
            r->exceed[i * o->n_eps + e] = (double)hit / o->seeds;
            r->bound[i * o->n_eps + e] = 2 * (double)(w * w) * exp(-o->c * m * fmin(x * x, x));
        }
    }
    if (o->threads > 0) ntk_set_threads(threads);
    free(c.H), free(c.D), free(ref);
    return st;
}
