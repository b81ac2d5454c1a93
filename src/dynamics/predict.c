/* predict.c -- predictions of the training dynamics from the initial kernel K0
 * (docs/dynamics.md): the linearized (frozen-K0) solution of gradient descent
 * or gradient flow, and the first-order correction in Delta K_s = K_s - K0.
 * Everything runs in the eigenbasis of K0 with closed forms for the sums over
 * steps, so no cost depends on the number of steps. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"
#include "linpred_cont.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Pairs with h * max(|u_p|, |u_q|) <= SERIES_RADIUS use the power series in u
 * (their k-th term is below k^2 / k!, so SERIES_TERMS = 24 reaches 1e-21);
 * the rest use the closed forms. */
#define SERIES_RADIUS 1.0
enum { SERIES_TERMS = 24, AT_BLOCK = 128 };
#define MAX_STEP 4503599627370496L /* 2^52: step counts stay exact as doubles */

struct ntk_linpred {
    size_t n, m;
    double a;       /* eta * c */
    int flow;
    double *Q;      /* [n x n] row p = eigenvector p of K0 (Q = V^T) */
    double *u;      /* [n] u_p = a lambda_p */
    double *lx;     /* [n] log|1 - u_p| (-inf when u_p = 1) */
    double *rho0;   /* [n] Q (f0 - y) */
    double *f0;     /* [n] */
    double *E;      /* [m x n] Ke0 Q^T */
    double *fe0;    /* [m] */
    long s_last;    /* step at which d / dfe hold the correction */
    int rot_last;   /* A holds Q dK Q^T of the dK at s_last (linpred_pert_continue; 0 at step 0) */
    double *d;      /* [n] Q delta f at s_last */
    double *dfe;    /* [m] delta f_eval at s_last */
    /* workspace of ntk_linpred_pert_advance */
    double *A, *B, *T;                        /* [n x n] */
    double *rb, *P, *G, *G1, *dn, *sd, *v0, *v1, *w0, *w1; /* [n] */
    double *te;                               /* [m] */
    double *mem;
};

/* ------------------------------------------------------------ scalar sums */

/* x^e for x = 1 - u with l = log|x|; e >= 0 (an integer when x < 0). */
static double xpow(double x, double l, double e)
{
    if (e == 0) return 1;
    if (x == 0) return 0;
    double r = exp(e * l);
    return (x < 0 && fmod(e, 2.0) != 0) ? -r : r;
}

/* beta(z) = 1/expm1(z) - 1/z + 1/2 = sum_k B_2k z^(2k-1) / (2k)!, for |z| <= 1. */
static double bern_beta(double z)
{
    static const double c[] = {1.0 / 12, -1.0 / 720, 1.0 / 30240, -1.0 / 1209600, 1.0 / 47900160,
                               -5.284190138687493e-10, 1.3382536530684679e-11, -3.3896802963225827e-13,
                               8.586062056277845e-15, -2.174868698558062e-16, 5.5090028283602295e-18,
                               -1.3954464685812522e-19};
    double z2 = z * z, s = 0;
    for (int k = 11; k >= 0; k--) s = s * z2 + c[k];
    return z * s;
}

/* sum_{w<h} e^{-w eps}, eps >= 0. */
static double geo0(double eps, double h) { return eps == 0 ? h : expm1(-h * eps) / expm1(-eps); }

/* Mean of w = 0 .. h-1 under weights e^{-w eps}, eps >= 0 (in [0, (h-1)/2]). */
static double geo_mean(double eps, double h)
{
    if (eps == 0) return 0.5 * (h - 1);
    if (h * eps > 1) return 1 / expm1(eps) - h / expm1(h * eps);
    return 0.5 * (h - 1) + bern_beta(eps) - h * bern_beta(h * eps);
}

/* Per-interval constants: h steps, b_k = C(h, k) / h^k. */
typedef struct {
    double h;
    double b[SERIES_TERMS + 3];
} span;

static void span_init(span *s, double h)
{
    s->h = h;
    s->b[0] = 1;
    for (int k = 1; k < SERIES_TERMS + 3; k++) s->b[k] = s->b[k - 1] * (h - k + 1) / (h * k);
}

/* The four sums of a pair, x_p = 1 - up, x_q = 1 - uq (docs/dynamics.md):
 * S0 = sum_{v<h} x_p^{h-1-v} x_q^v,  S1 = same weighted by v,
 * U0 = sum_{i+v<=h-2} x_p^i x_q^v,   U1 = same weighted by v. */
typedef struct {
    double S0, S1, U0, U1;
} sums;

/* Power series in (h u_p, h u_q): S0 = h sum_m (-1)^m b_{m+1} H_m, ... with the complete
 * homogeneous polynomials H_m(a, c) and J_m(a, c) = sum_{i+j=m} (j+1) a^i c^j. */
static sums sums_series(const span *sp, double up, double uq)
{
    double h = sp->h, a = h * up, c = h * uq, r = fmax(fabs(a), fabs(c));
    double H = 1, J = 1, cm = 1, bound = 1, sg = 1;
    double s0 = 0, s1 = 0, u0 = 0, u1 = 0;
    int M = h < SERIES_TERMS ? (int)h : SERIES_TERMS;
    for (int m = 0; m < M; m++) {
        if (m > 0) {
            cm *= c;
            H = a * H + cm;
            J = a * J + (m + 1) * cm;
            bound *= r / (m + 1); /* >= r^m / (m+1)! */
        }
        s0 += sg * sp->b[m + 1] * H;
        s1 += sg * sp->b[m + 2] * J;
        u0 += sg * sp->b[m + 2] * H;
        u1 += sg * sp->b[m + 3] * J;
        sg = -sg;
        if (bound * (m + 2) * (m + 2) < 1e-20) break;
    }
    double y = 1 - uq;
    return (sums){h * s0, y * h * h * s1, h * h * u0, y * h * h * h * u1};
}

/* S0 and S1 in closed form: same-signed x through logarithms (no cancellation,
 * the larger power factored out), otherwise the divided differences directly. */
static void sums_s_closed(double h, double up, double lp, double uq, double lq, sums *o)
{
    double xp = 1 - up, xq = 1 - uq;
    if ((xp > 0 && xq > 0) || (xp < 0 && xq < 0)) {
        double sg = (xp < 0 && fmod(h - 1, 2.0) != 0) ? -1 : 1;
        double eps = fabs(lp - lq), scale = sg * exp((h - 1) * fmax(lp, lq)), e0 = geo0(eps, h);
        double mean = geo_mean(eps, h);
        o->S0 = scale * e0;
        o->S1 = scale * e0 * (lp >= lq ? mean : (h - 1) - mean);
        return;
    }
    double d = uq - up; /* = x_p - x_q, no cancellation: opposite signs or a zero */
    if (d == 0) { /* x_p = x_q = 0 (the same mode, a lambda = 1 exactly): only v = h-1 / v = 0 terms */
        o->S0 = h == 1 ? 1 : 0;
        o->S1 = 0;
        return;
    }
    o->S0 = (xpow(xp, lp, h) - xpow(xq, lq, h)) / d;
    o->S1 = xq * (o->S0 - h * xpow(xq, lq, h - 1)) / d;
}

/* All four sums.  Gp = g_h(x_p), Gq = g_h(x_q), G1q = g1_h(x_q) (per-mode sums).
 * Outside the series disc the U sums follow from (1 - x_p) U0 = g_h(x_q) - S0,
 * (1 - x_p) U1 = g1_h(x_q) - S1 or (1 - x_q) U0 = g_h(x_p) - S0, (1 - x_q) U1 = x_q U0 - S1,
 * dividing by the larger |u| (h |u| > 1: bounded cancellation). */
static sums pair_sums(const span *sp, double up, double lp, double uq, double lq, double Gp, double Gq,
                      double G1q, int want_u)
{
    double h = sp->h;
    if (h == 1) return (sums){1, 0, 0, 0};
    if (h * fmax(fabs(up), fabs(uq)) <= SERIES_RADIUS) return sums_series(sp, up, uq);
    sums o = {0, 0, 0, 0};
    sums_s_closed(h, up, lp, uq, lq, &o);
    if (!want_u) return o;
    if (fabs(up) >= fabs(uq)) {
        o.U0 = (Gq - o.S0) / up;
        o.U1 = (G1q - o.S1) / up;
    } else {
        o.U0 = (Gp - o.S0) / uq;
        o.U1 = ((1 - uq) * o.U0 - o.S1) / uq;
    }
    return o;
}

/* g_h(x) = sum_{v<h} x^v and g1_h(x) = sum_{v<h} v x^v: the pair (x_p = 1, x_q = x). */
static void mode_sums(const span *sp, double u, double l, double *g, double *g1)
{
    sums o = pair_sums(sp, 0, 0, u, l, 0, 0, 0, 0);
    *g = o.S0;
    *g1 = o.S1;
}

/* ------------------------------------------------------------ validation */

/* First non-finite entry of M: [rows x cols] (a vector when rows = 1), named in the message. */
static ntk_status check_finite(const char *fn, const char *what, size_t rows, size_t cols, const double *M)
{
    for (size_t i = 0; i < rows * cols; i++) {
        if (isfinite(M[i])) continue;
        if (rows == 1) return ntk_set_error(NTK_EINVAL, "%s: %s[%zu] is not finite (%g)", fn, what, i, M[i]);
        return ntk_set_error(NTK_EINVAL, "%s: %s[%zu,%zu] is not finite (%g)", fn, what, i / cols, i % cols, M[i]);
    }
    return NTK_OK;
}

/* K0: [n x n] (symmetric to 1e-10 of max |K0|), Ke0: [m x n], f0, y: [n], f0e: [m]. */
static ntk_status check_alloc_args(size_t n, const double *K0, size_t m, const double *Ke0, const double *f0,
                                   const double *y, const double *f0e, double a, ntk_linpred **out)
{
    static const char *fn = "linpred_alloc";
    if (!out) return ntk_set_error(NTK_EINVAL, "%s: out must not be NULL", fn);
    if (n == 0) return ntk_set_error(NTK_EINVAL, "%s: n must be >= 1 (number of training outputs N*k)", fn);
    if (!la_dims_ok(n, n, m)) return NTK_EINVAL;
    if ((double)(4 * n + m) * (double)n + 15.0 * (double)n + 3.0 * (double)m > (double)(SIZE_MAX / sizeof(double)))
        return ntk_set_error(NTK_ENOMEM, "%s: n = %zu, m = %zu overflow the workspace size", fn, n, m);
    if (!K0 || !f0 || !y) return ntk_set_error(NTK_EINVAL, "%s: K0, f0 and y must not be NULL", fn);
    if (m > 0 && (!Ke0 || !f0e))
        return ntk_set_error(NTK_EINVAL, "%s: Ke0 [m x n] and f0e [m] are required when m = %zu > 0", fn, m);
    if (!(isfinite(a) && a > 0))
        return ntk_set_error(NTK_EINVAL, "%s: a = eta * c must be finite and > 0 (got %g)", fn, a);
    ntk_status st = check_finite(fn, "K0", n, n, K0);
    if (st == NTK_OK) st = check_finite(fn, "f0", 1, n, f0);
    if (st == NTK_OK) st = check_finite(fn, "y", 1, n, y);
    if (st == NTK_OK && m > 0) st = check_finite(fn, "Ke0", m, n, Ke0);
    if (st == NTK_OK && m > 0) st = check_finite(fn, "f0e", 1, m, f0e);
    if (st != NTK_OK) return st;
    double kmax = 0;
    for (size_t i = 0; i < n * n; i++) kmax = fmax(kmax, fabs(K0[i]));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (fabs(K0[i * n + j] - K0[j * n + i]) > 1e-10 * kmax)
                return ntk_set_error(NTK_EINVAL, "%s: K0 is not symmetric: K0[%zu,%zu] = %.17g, K0[%zu,%zu] = %.17g",
                                     fn, i, j, K0[i * n + j], j, i, K0[j * n + i]);
    return NTK_OK;
}

/* ------------------------------------------------------------ alloc / free */

static ntk_linpred *carve(size_t n, size_t m)
{
    ntk_linpred *lp = calloc(1, sizeof *lp);
    double *p = lp ? malloc(((4 * n + m) * n + 15 * n + 3 * m) * sizeof *p) : NULL;
    if (!p) {
        free(lp);
        return NULL;
    }
    lp->mem = p;
    double **nn[] = {&lp->Q, &lp->A, &lp->B, &lp->T};
    for (int i = 0; i < 4; i++, p += n * n) *nn[i] = p;
    lp->E = p;
    p += m * n;
    double **vn[] = {&lp->u, &lp->lx, &lp->rho0, &lp->f0, &lp->d, &lp->rb, &lp->P,
                     &lp->G, &lp->G1, &lp->dn, &lp->sd, &lp->v0, &lp->v1, &lp->w0, &lp->w1};
    for (int i = 0; i < 15; i++, p += n) *vn[i] = p;
    lp->fe0 = p;
    lp->dfe = p + m;
    lp->te = p + 2 * m;
    return lp;
}

/* Eigendecomposition of (K0 + K0^T)/2, K0: [n x n], into lp->Q (rows) and a * lambda into lp->u. */
static ntk_status eigen(ntk_linpred *lp, const double *K0)
{
    size_t n = lp->n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) lp->Q[i * n + j] = 0.5 * (K0[i * n + j] + K0[j * n + i]);
    lapack_int ni = (lapack_int)n, liw = 0, info;
    double lw = 0;
    info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', ni, lp->Q, ni, lp->u, &lw, -1, &liw, -1);
    double *work = info == 0 ? malloc((size_t)lw * sizeof *work) : NULL;
    lapack_int *iwork = work ? malloc((size_t)liw * sizeof *iwork) : NULL;
    if (info == 0 && iwork)
        info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', ni, lp->Q, ni, lp->u, work, (lapack_int)lw, iwork,
                                   liw);
    int nomem = info == 0 && !iwork;
    free(work);
    free(iwork);
    if (nomem) return ntk_set_error(NTK_ENOMEM, "linpred_alloc: no memory for the dsyevd workspace (n = %zu)", n);
    if (info != 0)
        return ntk_set_error(NTK_ENUMERIC, "linpred_alloc: eigendecomposition of K0 failed (dsyevd info %d)",
                             (int)info);
    for (size_t p = 0; p < n; p++) {
        double u = lp->a * lp->u[p];
        lp->u[p] = u;
        lp->lx[p] = u < 0.5 ? log1p(-u) : log(fabs(1 - u));
    }
    return NTK_OK;
}

ntk_status ntk_linpred_alloc(size_t n, const double *K0, size_t m, const double *Ke0, const double *f0,
                             const double *y, const double *f0e, double a, int flow, ntk_linpred **out)
{
    ntk_status st = check_alloc_args(n, K0, m, Ke0, f0, y, f0e, a, out);
    if (st != NTK_OK) return st;
    *out = NULL;
    ntk_linpred *lp = carve(n, m);
    if (!lp) return ntk_set_error(NTK_ENOMEM, "linpred_alloc: no memory for n = %zu, m = %zu", n, m);
    lp->n = n;
    lp->m = m;
    lp->a = a;
    lp->flow = flow != 0;
    st = eigen(lp, K0);
    if (st != NTK_OK) {
        ntk_linpred_free(lp);
        return st;
    }
    int ni = (int)n, mi = (int)m;
    for (size_t i = 0; i < n; i++) lp->rb[i] = f0[i] - y[i];
    cblas_dgemv(CblasRowMajor, CblasNoTrans, ni, ni, 1, lp->Q, ni, lp->rb, 1, 0, lp->rho0, 1);
    memcpy(lp->f0, f0, n * sizeof *f0);
    memset(lp->d, 0, n * sizeof *lp->d);
    if (m > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mi, ni, ni, 1, Ke0, ni, lp->Q, ni, 0, lp->E, ni);
        memcpy(lp->fe0, f0e, m * sizeof *f0e);
        memset(lp->dfe, 0, m * sizeof *lp->dfe);
    }
    lp->s_last = 0;
    memset(lp->A, 0, n * n * sizeof *lp->A); /* dK = 0 at step 0: its rotation is 0 */
    lp->rot_last = 1;
    *out = lp;
    return NTK_OK;
}

void ntk_linpred_free(ntk_linpred *lp)
{
    if (!lp) return;
    free(lp->mem);
    free(lp);
}

/* ------------------------------------------------------------ frozen K0 */

/* 1 - x^t and the geometric sum g_t (discrete: sum_{s<t} x^s; flow: int_0^t e^{-u s} ds). */
static void mode_at(const ntk_linpred *lp, size_t p, double t, double *omp, double *g)
{
    double u = lp->u[p];
    if (t == 0 || u == 0) {
        *omp = 0;
        *g = t;
        return;
    }
    if (lp->flow) {
        *omp = -expm1(-u * t);
    } else if (u < 1) {
        *omp = -expm1(t * lp->lx[p]);
    } else if (u == 1) {
        *omp = 1;
    } else { /* x < 0: real part of the principal power, exact at integer t */
        *omp = 1 - exp(t * lp->lx[p]) * cos(M_PI * fmod(t, 2.0));
    }
    *g = *omp / u;
}

int ntk_linpred_unstable(const ntk_linpred *lp, double *a_lambda_max)
{
    if (!lp) return 0;
    int count = 0;
    double top = -INFINITY;
    for (size_t p = 0; p < lp->n; p++) {
        top = fmax(top, lp->u[p]);
        count += lp->flow ? lp->u[p] < 0 : lp->u[p] > 2;
    }
    if (a_lambda_max) *a_lambda_max = top;
    return count;
}

ntk_status ntk_linpred_at(const ntk_linpred *lp, double t, double *f_train, double *f_eval)
{
    if (!lp || !f_train) return ntk_set_error(NTK_EINVAL, "linpred_at: lp and f_train must not be NULL");
    if (!(isfinite(t) && t >= 0)) return ntk_set_error(NTK_EINVAL, "linpred_at: t must be finite and >= 0 (got %g)", t);
    size_t n = lp->n, m = f_eval ? lp->m : 0;
    memcpy(f_train, lp->f0, n * sizeof *f_train);
    if (m > 0) memcpy(f_eval, lp->fe0, m * sizeof *f_eval);
    /* f_t = f0 - V((1 - x^t) rho0), fe_t = fe0 - a E (g_t rho0), blockwise over modes */
    double cf[AT_BLOCK], ce[AT_BLOCK];
    for (size_t p0 = 0; p0 < n; p0 += AT_BLOCK) {
        size_t nb = n - p0 < AT_BLOCK ? n - p0 : AT_BLOCK;
        for (size_t j = 0; j < nb; j++) {
            double omp, g;
            mode_at(lp, p0 + j, t, &omp, &g);
            cf[j] = omp * lp->rho0[p0 + j];
            ce[j] = g * lp->rho0[p0 + j];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)nb, (int)n, -1, lp->Q + p0 * n, (int)n, cf, 1, 1, f_train, 1);
        if (m > 0)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)nb, -lp->a, lp->E + p0, (int)n, ce, 1, 1, f_eval, 1);
    }
    /* divergent modes (a lambda > 2) grow without bound: the prediction may be +-inf or NaN,
     * which is the answer, not a failure (ntk_linpred_unstable counts those modes) */
    return NTK_OK;
}

ntk_status ntk_frozen_gd_steps(size_t n, const double *K, size_t m, const double *Ke, const double *y, double a,
                               long h, double *f, double *fe)
{
    if (!K || !y || !f || (m > 0 && (!Ke || !fe)))
        return ntk_set_error(NTK_EINVAL, "frozen_gd_steps: K, y, f (and Ke, fe when m > 0) must not be NULL");
    if (n == 0 || n > INT_MAX || m > INT_MAX || h < 0 || !isfinite(a))
        return ntk_set_error(NTK_EINVAL, "frozen_gd_steps: need 0 < n, m <= INT_MAX, h >= 0, finite a (n %zu, m %zu, "
                             "h %ld, a %g)", n, m, h, a);
    double *r = malloc(n * sizeof *r);
    if (!r) return ntk_set_error(NTK_ENOMEM, "frozen_gd_steps: no memory for n = %zu", n);
    int ni = (int)n, mi = (int)m;
    for (long s = 0; s < h; s++) {
        for (size_t i = 0; i < n; i++) r[i] = f[i] - y[i];
        cblas_dgemv(CblasRowMajor, CblasNoTrans, ni, ni, -a, K, ni, r, 1, 1, f, 1);
        if (m > 0) cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, -a, Ke, ni, r, 1, 1, fe, 1);
    }
    free(r);
    return NTK_OK; /* non-finite entries when a lambda > 2 for some mode: see ntk_linpred_at */
}

/* ------------------------------------------------------------ first-order correction */

/* dK0, dK1: [n x n], dKe0, dKe1: [m x n] (unused when m = 0); first = 0: dK0, dKe0 are the previous
 * interval's dK1, dKe1, already checked. */
static ntk_status check_pert_args(const ntk_linpred *lp, long s0, const double *dK0, const double *dKe0, long s1,
                                  const double *dK1, const double *dKe1, int first)
{
    static const char *fn = "linpred_pert_advance";
    if (!lp) return ntk_set_error(NTK_EINVAL, "%s: lp must not be NULL", fn);
    if (lp->flow)
        return ntk_set_error(NTK_EINVAL, "%s: the first-order correction is defined for discrete steps only "
                             "(this predictor was allocated with flow != 0)", fn);
    if (s0 != lp->s_last)
        return ntk_set_error(NTK_EINVAL, "%s: intervals must be contiguous from step 0: s0 = %ld but the "
                             "correction is at step %ld", fn, s0, lp->s_last);
    if (s1 <= s0) return ntk_set_error(NTK_EINVAL, "%s: s1 = %ld must exceed s0 = %ld", fn, s1, s0);
    if (s1 > MAX_STEP) return ntk_set_error(NTK_EINVAL, "%s: s1 = %ld exceeds 2^52 steps", fn, s1);
    if ((first && !dK0) || !dK1) return ntk_set_error(NTK_EINVAL, "%s: dK0 and dK1 [n x n] must not be NULL", fn);
    size_t n = lp->n, m = lp->m;
    if (m > 0 && (!dKe0 || !dKe1))
        return ntk_set_error(NTK_EINVAL, "%s: dKe0 and dKe1 [m x n] are required when m = %zu > 0", fn, m);
    ntk_status st = first ? check_finite(fn, "dK0", n, n, dK0) : NTK_OK;
    if (st == NTK_OK) st = check_finite(fn, "dK1", n, n, dK1);
    if (st == NTK_OK && m > 0 && first) st = check_finite(fn, "dKe0", m, n, dKe0);
    if (st == NTK_OK && m > 0) st = check_finite(fn, "dKe1", m, n, dKe1);
    return st;
}

/* A = Q dK0 Q^T, B = Q (dK1 - dK0) Q^T for dK0, dK1: [n x n]: four GEMMs. */
static void rotate(ntk_linpred *lp, const double *dK0, const double *dK1)
{
    int n = (int)lp->n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, dK0, n, lp->Q, n, 0, lp->T, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, lp->Q, n, lp->T, n, 0, lp->A, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, dK1, n, lp->Q, n, -1, lp->T, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, lp->Q, n, lp->T, n, 0, lp->B, n);
}

/* d_new = x^h d - a [(A o S0 + B o S1/h) rb],  sum_{v<h} d_v = g_h d - a [(A o U0 + B o U1/h) rb]. */
static void advance_train(ntk_linpred *lp, const span *sp, int want_u)
{
    size_t n = lp->n;
    double h = sp->h;
    /* rows are independent, each summed in the order of q: the same bits for any thread count */
#pragma omp parallel for schedule(static) if (n >= 64)
    for (size_t p = 0; p < n; p++) {
        const double *Ar = lp->A + p * n, *Br = lp->B + p * n;
        double up = lp->u[p], lpp = lp->lx[p], Gp = lp->G[p], w = 0, z = 0;
        if (!want_u) { /* no eval points: the sums over the interval (sd) are not needed */
            for (size_t q = 0; q < n; q++) {
                sums s = pair_sums(sp, up, lpp, lp->u[q], lp->lx[q], Gp, lp->G[q], lp->G1[q], 0);
                w += (Ar[q] * s.S0 + Br[q] * (s.S1 / h)) * lp->rb[q];
            }
            lp->dn[p] = lp->P[p] * lp->d[p] - lp->a * w;
            continue;
        }
        for (size_t q = 0; q < n; q++) {
            sums s = pair_sums(sp, up, lpp, lp->u[q], lp->lx[q], Gp, lp->G[q], lp->G1[q], want_u);
            w += (Ar[q] * s.S0 + Br[q] * (s.S1 / h)) * lp->rb[q];
            z += (Ar[q] * s.U0 + Br[q] * (s.U1 / h)) * lp->rb[q];
        }
        lp->dn[p] = lp->P[p] * lp->d[p] - lp->a * w;
        lp->sd[p] = Gp * lp->d[p] - lp->a * z;
    }
}

/* rb, P, G, G1 of the interval [s0, s0 + sp->h). */
static void pert_modes(ntk_linpred *lp, long s0, const span *sp)
{
    for (size_t q = 0; q < lp->n; q++) {
        double x = 1 - lp->u[q];
        lp->rb[q] = xpow(x, lp->lx[q], (double)s0) * lp->rho0[q]; /* Q (f^lin_{s0} - y) */
        lp->P[q] = xpow(x, lp->lx[q], sp->h);
        mode_sums(sp, lp->u[q], lp->lx[q], &lp->G[q], &lp->G1[q]);
    }
}

/* With the rotations A, B in place: the correction's advance over the interval sp that ends at s1 (train,
 * and eval with dKe0, dKe1: [m x n]), into df_train: [n] and df_eval: [m] (either may be NULL). */
static ntk_status pert_finish(ntk_linpred *lp, const span *sp, const double *dKe0, const double *dKe1, long s1,
                              double *df_train, double *df_eval)
{
    size_t n = lp->n, m = lp->m;
    int ni = (int)n, mi = (int)m;
    advance_train(lp, sp, m > 0);
    if (m > 0) {
        /* dfe -= a [dKe0 V (g rb) + (dKe1 - dKe0) V (g1 rb / h) + E sum_v d_v] */
        for (size_t q = 0; q < n; q++) {
            lp->v0[q] = (lp->G[q] - lp->G1[q] / sp->h) * lp->rb[q];
            lp->v1[q] = lp->G1[q] / sp->h * lp->rb[q];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, ni, ni, 1, lp->Q, ni, lp->v0, 1, 0, lp->w0, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, ni, ni, 1, lp->Q, ni, lp->v1, 1, 0, lp->w1, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, 1, lp->E, ni, lp->sd, 1, 0, lp->te, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, 1, dKe0, ni, lp->w0, 1, 1, lp->te, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, 1, dKe1, ni, lp->w1, 1, 1, lp->te, 1);
        cblas_daxpy(mi, -lp->a, lp->te, 1, lp->dfe, 1);
    }
    memcpy(lp->d, lp->dn, n * sizeof *lp->d);
    lp->s_last = s1;
    if (df_train) cblas_dgemv(CblasRowMajor, CblasTrans, ni, ni, 1, lp->Q, ni, lp->d, 1, 0, df_train, 1);
    if (df_eval && m > 0) memcpy(df_eval, lp->dfe, m * sizeof *df_eval);
    return NTK_OK; /* may be non-finite past the stability edge, like the frozen prediction */
}

ntk_status ntk_linpred_pert_advance(ntk_linpred *lp, long s0, const double *dK0, const double *dKe0, long s1,
                                    const double *dK1, const double *dKe1, double *df_train, double *df_eval)
{
    ntk_status st = check_pert_args(lp, s0, dK0, dKe0, s1, dK1, dKe1, 1);
    if (st != NTK_OK) return st;
    span sp;
    span_init(&sp, (double)(s1 - s0));
    pert_modes(lp, s0, &sp);
    rotate(lp, dK0, dK1);
    lp->rot_last = 0; /* A holds dK0's rotation, not dK1's */
    return pert_finish(lp, &sp, dKe0, dKe1, s1, df_train, df_eval);
}

ntk_status linpred_pert_continue(ntk_linpred *lp, long s0, const double *dK0, const double *dKe0, long s1,
                                 const double *dK1, const double *dKe1, double *df_train, double *df_eval)
{
    if (!lp || !lp->rot_last)
        return ntk_set_error(NTK_EINVAL, "linpred_pert_continue: the previous interval's rotation is not kept "
                             "(ntk_linpred_pert_advance was called in between)");
    ntk_status st = check_pert_args(lp, s0, dK0, dKe0, s1, dK1, dKe1, 0);
    if (st != NTK_OK) return st;
    span sp;
    span_init(&sp, (double)(s1 - s0));
    pert_modes(lp, s0, &sp);
    /* R1 = Q dK1 Q^T into B (two GEMMs), kept in T; B = R1 - A; then T becomes A for the next interval */
    int n = (int)lp->n;
    size_t nn = lp->n * lp->n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1, dK1, n, lp->Q, n, 0, lp->T, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, lp->Q, n, lp->T, n, 0, lp->B, n);
    memcpy(lp->T, lp->B, nn * sizeof *lp->T);
    for (size_t i = 0; i < nn; i++) lp->B[i] -= lp->A[i];
    st = pert_finish(lp, &sp, dKe0, dKe1, s1, df_train, df_eval);
    double *t = lp->A;
    lp->A = lp->T, lp->T = t;
    lp->rot_last = 1;
    return st;
}
