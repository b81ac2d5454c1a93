/* lemma.c -- the sampled kernel operator against the continuum one on the Fourier basis
 * (docs/modes.md, "Lemma objects"): G = Phi^T Phi / n, H = Phi^T A Phi / n and E = A Phi - Phi Lambda_n,
 * with Lambda_n the finite-sample eigenvalue lambda_k^(n) = (1 - 1/n) lambda_k + Theta(0)/n of each
 * column's frequency.  A Phi by one dense product, or column by column by FFT on a grid. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "la.h"
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_lemma_opts ntk_lemma_opts_defaults(void) { return (ntk_lemma_opts){.K = 8}; }

/* The frequency of column p of Phi. */
static int col_freq(size_t p) { return (int)((p + 1) / 2); }

static ntk_status check(const ntk_lemma_opts *o, size_t *n)
{
    if (!o || !o->lambda) return ntk_set_error(NTK_EINVAL, "lemma: opts and lambda must not be NULL");
    if (!o->A && !o->C) return ntk_set_error(NTK_EINVAL, "lemma: give a dense operator A or a circulant C");
    *n = o->A ? o->n : ntk_circulant_size(o->C);
    if (o->A && !o->gamma) return ntk_set_error(NTK_EINVAL, "lemma: the dense path needs the angles gamma");
    if (*n < 1 || o->K < 0 || 2 * (size_t)o->K > *n)
        return ntk_set_error(NTK_EINVAL, "lemma: kmax K = %d must be in [0, n/2] (n %zu)", o->K, *n);
    if (!la_dims_ok(*n, *n, 2 * (size_t)o->K + 1)) return NTK_EINVAL;
    return NTK_OK;
}

ntk_status ntk_lemma_objects(const ntk_lemma_opts *o, ntk_lemma_norms *out, double *e_col, double *G, double *H)
{
    size_t n = 0;
    ntk_status st = check(o, &n);
    if (st != NTK_OK) return st;
    if (!out) return ntk_set_error(NTK_EINVAL, "lemma: out must not be NULL");
    size_t w = 2 * (size_t)o->K + 1;
    double *Phi = malloc(n * w * sizeof *Phi), *AP = malloc(n * w * sizeof *AP), *g = NULL, *col = NULL;
    double *Gm = G ? G : malloc(w * w * sizeof *Gm), *Hm = H ? H : malloc(w * w * sizeof *Hm);
    double *ln = malloc(w * sizeof *ln);
    if (!o->A) g = malloc(n * sizeof *g), col = malloc(n * sizeof *col);
    if (!Phi || !AP || !Gm || !Hm || !ln || (!o->A && (!g || !col))) {
        st = ntk_set_error(NTK_ENOMEM, "lemma: no memory for Phi and A Phi (n %zu, K %d)", n, o->K);
        goto done;
    }
    for (size_t j = 0; !o->A && j < n; j++) g[j] = o->g0 + 2 * M_PI * (double)j / (double)n;
    if ((st = ntk_fourier_matrix(n, o->A ? o->gamma : g, o->K, Phi)) != NTK_OK) goto done;
    if (o->A) {
        la_gemm(NTK_F64, false, false, n, w, n, 1.0, o->A, n, Phi, w, 0.0, AP, w);
    } else {
        for (size_t p = 0; p < w && st == NTK_OK; p++) {
            for (size_t i = 0; i < n; i++) col[i] = Phi[i * w + p];
            st = ntk_circulant_apply(o->C, col, col);
            for (size_t i = 0; i < n; i++) AP[i * w + p] = col[i];
        }
        if (st != NTK_OK) goto done;
    }
    la_gemm(NTK_F64, true, false, w, w, n, 1.0 / (double)n, Phi, w, Phi, w, 0.0, Gm, w);
    la_gemm(NTK_F64, true, false, w, w, n, 1.0 / (double)n, Phi, w, AP, w, 0.0, Hm, w);
    for (size_t p = 0; p < w; p++)
        ln[p] = (1 - 1 / (double)n) * o->lambda[col_freq(p)] + o->theta0 / (double)n;
    memset(out, 0, sizeof *out);
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < w; q++) {
            double dg = Gm[p * w + q] - (p == q), dh = Hm[p * w + q] - (p == q ? ln[p] : 0);
            out->G_max = fmax(out->G_max, fabs(dg)), out->G_fro += dg * dg;
            out->H_max = fmax(out->H_max, fabs(dh)), out->H_fro += dh * dh;
        }
    for (size_t p = 0; p < w; p++) {
        double e2 = 0, f2 = 0;
        for (size_t i = 0; i < n; i++) {
            double e = AP[i * w + p] - Phi[i * w + p] * ln[p];
            out->E_max = fmax(out->E_max, fabs(e));
            e2 += e * e, f2 += Phi[i * w + p] * Phi[i * w + p];
        }
        out->E_fro += e2;
        if (e_col) e_col[p] = f2 > 0 ? sqrt(e2 / f2) : 0;
    }
    out->G_fro = sqrt(out->G_fro), out->H_fro = sqrt(out->H_fro), out->E_fro = sqrt(out->E_fro);
done:
    free(Phi), free(AP), free(ln), free(g), free(col);
    if (!G) free(Gm);
    if (!H) free(Hm);
    return st;
}
