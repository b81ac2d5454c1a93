/* limit.c -- infinite-width NNGP and NTK recursions in the conventions of
 * docs/conventions.md.  Per layer l = 1..d (d = L+1), with Sigma_in the
 * input kernel of the layer (x.x'/fan_1 for l = 1, E[phi(u)phi(v)] under
 * Sigma^(l-1) after):
 *   Sigma^(l) = sw2_l Sigma_in + vb_l                 (vb: bias variance at init)
 *   Theta^(l) = wf_l Sigma_in + tb_l + dot_l Theta^(l-1),  dot_l = sw2_l E[phi'(u)phi'(v)]
 * NTK param: wf = sw2, tb = sb^2 for a trainable bias; standard: wf = fan_l
 * (n_{l-1}), tb = 1.  Per-layer terms: term_l * prod_{m > l} dot_m. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct {
    int d;
    double *sw2, *vb, *tb, *wf;  /* [d+1], index 1..d */
    double fan1;
    double width_norm;           /* mean hidden width (standard param) or 1 */
    expect_ctx ex;
    /* Tables for equal-norm inputs (quadrature activations only): E[phi phi], E[phi' phi'] of
     * layer l at the Chebyshev-Lobatto angles theta_j, interpolated barycentrically. */
    int ntab;                    /* nodes (0: no tables) */
    double *tab_theta, *tab_w;   /* [ntab] nodes on [0, pi] and barycentric weights */
    double *tab;                 /* [(d+1) x 2 x ntab], layer l at (l * 2 + {0, 1}) * ntab */
} limit_plan;

static void plan_free(limit_plan *p)
{
    free(p->sw2);
    free(p->tab_theta);
    expect_free(&p->ex);
}

#define TAB_NODES 129

/* Barycentric interpolation of table row f at angle th. */
static double tab_eval(const limit_plan *p, const double *f, double th)
{
    double num = 0, den = 0;
    for (int j = 0; j < p->ntab; j++) {
        double dth = th - p->tab_theta[j];
        if (dth == 0) return f[j];
        double c = p->tab_w[j] / dth;
        num += c * f[j];
        den += c;
    }
    return num / den;
}

/* When every point has the same layer variances (inputs of equal norm: circle, sphere), the
 * expectations of layer l depend on the angle only: tabulate them once per layer instead of
 * integrating per pair (about 10^3 times fewer activation evaluations).  Chebyshev-Lobatto
 * nodes in theta make the interpolation converge geometrically for smooth activations
 * (checked against direct quadrature in tests/limit/test_limit.c). */
static ntk_status plan_tables(limit_plan *p, size_t Na, const double *qa, size_t Nb, const double *qb)
{
    size_t dd = (size_t)p->d + 1;
    for (size_t l = 1; l + 1 < dd; l++) { /* layers 1 .. d-1 */
        double q0 = qa[l];
        for (size_t i = 0; i < Na; i++)
            if (fabs(qa[i * dd + l] - q0) > 1e-13 * fabs(q0)) return NTK_OK;
        for (size_t j = 0; j < Nb; j++)
            if (fabs(qb[j * dd + l] - q0) > 1e-13 * fabs(q0)) return NTK_OK;
    }
    int T = TAB_NODES;
    p->tab_theta = malloc(((size_t)T * 2 + dd * 2 * (size_t)T) * sizeof *p->tab_theta);
    if (!p->tab_theta) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for tables");
    p->tab_w = p->tab_theta + T;
    p->tab = p->tab_w + T;
    for (int j = 0; j < T; j++) {
        p->tab_theta[j] = 0.5 * M_PI * (1 - cos(M_PI * j / (T - 1)));
        p->tab_w[j] = (j % 2 ? -1.0 : 1.0) * (j == 0 || j == T - 1 ? 0.5 : 1.0);
    }
    for (int l = 1; l < p->d; l++) { /* expectations under Sigma^(l), used by layer l+1 */
        double *fe = p->tab + ((size_t)l * 2) * (size_t)T, *fd = fe + T;
        for (int j = 0; j < T; j++) expect_eval_angle(&p->ex, qa[l], qa[l], p->tab_theta[j], &fe[j], &fd[j]);
    }
    p->ntab = T;
    return NTK_OK;
}

static ntk_status plan_init(limit_plan *p, const ntk_spec *s, const ntk_limit_opts *o)
{
    memset(p, 0, sizeof *p);
    ntk_status st = ntk_spec_check(s, NULL, 0);
    if (st != NTK_OK) return st;
    int d = s->depth + 1;
    p->d = d;
    p->sw2 = calloc(4 * ((size_t)d + 1), sizeof *p->sw2);
    if (!p->sw2) return ntk_set_error(NTK_ENOMEM, "limit: out of memory");
    p->vb = p->sw2 + d + 1;
    p->tb = p->vb + d + 1;
    p->wf = p->tb + d + 1;
    p->fan1 = s->first_layer == NTK_FIRST_NONE ? 1.0 : (double)s->n0;
    bool ntkp = s->param == NTK_PARAM_NTK;
    double wsum = 0;
    for (int l = 1; l <= d; l++) {
        ntk_bias b = l == d ? s->bias_out : s->bias;
        p->sw2[l] = l == d ? s->sw2_out : s->sw2;
        p->vb[l] = b == NTK_BIAS_NORMAL ? s->sb * s->sb : 0.0;
        p->tb[l] = b == NTK_BIAS_NONE ? 0.0 : ntkp ? s->sb * s->sb : 1.0;
        double fan = l == 1 ? p->fan1 : (double)s->widths[l - 2];
        p->wf[l] = ntkp ? p->sw2[l] : fan;
        if (l <= s->depth) wsum += s->widths[l - 1];
    }
    p->width_norm = (!ntkp && s->depth > 0) ? wsum / s->depth : 1.0;
    st = expect_init(&p->ex, s->act, o ? o->method : NTK_EXPECT_AUTO, o ? o->quad_radial : 0,
                     o ? o->quad_angular : 0);
    if (st != NTK_OK) plan_free(p);
    return st;
}

static double dotx(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Per-point diagonal variances q[l] = Sigma^(l)(x, x), l = 1..d (q: [d+1]). */
static void point_q(const limit_plan *p, const double *x, int n0, double *q)
{
    double sin_ = dotx(x, x, n0) / p->fan1;
    for (int l = 1; l <= p->d; l++) {
        if (l > 1) {
            double ee, ed;
            expect_eval_angle(&p->ex, q[l - 1], q[l - 1], 0.0, &ee, &ed);
            sin_ = ee;
        }
        q[l] = p->sw2[l] * sin_ + p->vb[l];
    }
}

/* Angle between the layer-1 pre-activation "vectors" (c x, sqrt(vb)) and
 * (c x', sqrt(vb)), c^2 = sw2_1 / fan_1, by Kahan's 2 atan2(|a - b|, |a + b|)
 * on the normalised vectors: exact to rounding even for nearly (anti)parallel
 * inputs, where acos of the cosine would lose half the digits. */
static double layer1_angle(const limit_plan *p, const double *x, const double *y, int n0)
{
    double c2 = p->sw2[1] / p->fan1, vb = p->vb[1];
    double nx = sqrt(c2 * dotx(x, x, n0) + vb), ny = sqrt(c2 * dotx(y, y, n0) + vb);
    if (!(nx > 0) || !(ny > 0)) return M_PI / 2;
    double c = sqrt(c2), dm = 0, dp = 0;
    for (int i = 0; i < n0; i++) {
        double a = c * x[i] / nx, b = c * y[i] / ny;
        dm += (a - b) * (a - b);
        dp += (a + b) * (a + b);
    }
    double a = sqrt(vb) / nx, b = sqrt(vb) / ny;
    dm += (a - b) * (a - b);
    dp += (a + b) * (a + b);
    return 2 * atan2(sqrt(dm), sqrt(dp));
}

/* One pair.  qa, qb: [d+1] from point_q; theta1: layer1_angle; work: [2(d+1)];
 * layers (may be NULL): [d] at stride `lstride`. */
static void pair_kernel(const limit_plan *p, double x12, double theta1, const double *qa, const double *qb,
                        double *work, double *nngp, double *ntk, double *layers, size_t lstride)
{
    double *term = work, *dot = work + p->d + 1;
    double sin_ = x12 / p->fan1, s12 = 0;
    for (int l = 1; l <= p->d; l++) {
        dot[l] = 0;
        if (l > 1) {
            double ee, ed;
            double qq = qa[l - 1], qr = qb[l - 1];
            double th = l == 2 ? theta1 : (s12 == qq && qq == qr) ? 0.0 : acos(fmax(-1.0, fmin(1.0, s12 / sqrt(qq * qr))));
            if (p->ntab) {
                const double *fe = p->tab + ((size_t)(l - 1) * 2) * (size_t)p->ntab;
                ee = tab_eval(p, fe, th);
                ed = tab_eval(p, fe + p->ntab, th);
            } else {
                expect_eval_angle(&p->ex, qa[l - 1], qb[l - 1], th, &ee, &ed);
            }
            sin_ = ee;
            dot[l] = p->sw2[l] * ed;
        }
        s12 = p->sw2[l] * sin_ + p->vb[l];
        term[l] = p->wf[l] * sin_ + p->tb[l];
    }
    double prod = 1, theta = 0;
    for (int l = p->d; l >= 1; l--) {
        double t = term[l] * prod;
        theta += t;
        if (layers) layers[(size_t)(l - 1) * lstride] = t;
        prod *= dot[l];
    }
    *nngp = s12;
    *ntk = theta;
}

static ntk_status limit_pairs(const ntk_spec *s, const ntk_limit_opts *o, size_t Na, const double *Xa, size_t Nb,
                              const double *Xb, bool sym, double *nngp, double *ntk, double *ntk_norm,
                              double *layers)
{
    limit_plan p;
    ntk_status st = plan_init(&p, s, o);
    if (st != NTK_OK) return st;
    int n0 = s->n0;
    size_t dd = (size_t)p.d + 1;
    double *qa = malloc(Na * dd * sizeof *qa), *qb = sym ? qa : malloc(Nb * dd * sizeof *qb);
    if (!qa || !qb) {
        free(qa);
        if (!sym) free(qb);
        plan_free(&p);
        return ntk_set_error(NTK_ENOMEM, "limit: out of memory");
    }
    for (size_t i = 0; i < Na; i++) point_q(&p, Xa + i * (size_t)n0, n0, qa + i * dd);
    if (!sym)
        for (size_t j = 0; j < Nb; j++) point_q(&p, Xb + j * (size_t)n0, n0, qb + j * dd);
    if (p.ex.quad && !(o && o->no_table) && (st = plan_tables(&p, Na, qa, Nb, qb)) != NTK_OK) {
        free(qa);
        if (!sym) free(qb);
        plan_free(&p);
        return st;
    }
    size_t plane = Na * Nb;
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        double *work = malloc(2 * dd * sizeof *work);
        if (!work) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < Na; i++) {
            if (!work) continue;
            size_t jend = sym ? i + 1 : Nb;
            for (size_t j = 0; j < jend; j++) {
                double g, t;
                size_t ij = i * Nb + j;
                const double *xa = Xa + i * (size_t)n0, *xb = Xb + j * (size_t)n0;
                pair_kernel(&p, dotx(xa, xb, n0), layer1_angle(&p, xa, xb, n0), qa + i * dd, qb + j * dd, work,
                            &g, &t, layers ? layers + ij : NULL, plane);
                if (nngp) nngp[ij] = g;
                if (ntk) ntk[ij] = t;
                if (ntk_norm) ntk_norm[ij] = t / p.width_norm;
            }
        }
        free(work);
    }
    if (sym) { /* mirror the lower triangle */
        for (size_t i = 0; i < Na; i++)
            for (size_t j = 0; j < i; j++) {
                if (nngp) nngp[j * Nb + i] = nngp[i * Nb + j];
                if (ntk) ntk[j * Nb + i] = ntk[i * Nb + j];
                if (ntk_norm) ntk_norm[j * Nb + i] = ntk_norm[i * Nb + j];
                if (layers)
                    for (int l = 0; l < p.d; l++) layers[(size_t)l * plane + j * Nb + i] = layers[(size_t)l * plane + i * Nb + j];
            }
    }
    free(qa);
    if (!sym) free(qb);
    plan_free(&p);
    if (failed) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for thread workspaces");
    return NTK_OK;
}

ntk_status ntk_limit_cross(const ntk_spec *spec, const ntk_limit_opts *o, size_t Na, const double *Xa, size_t Nb,
                           const double *Xb, double *nngp, double *ntk, double *ntk_normalized, double *ntk_layers)
{
    if (Na == 0 || Nb == 0) return ntk_set_error(NTK_EINVAL, "limit: empty input set");
    return limit_pairs(spec, o, Na, Xa, Nb, Xb, false, nngp, ntk, ntk_normalized, ntk_layers);
}

ntk_status ntk_limit_full(const ntk_spec *spec, const ntk_limit_opts *o, size_t N, const double *X, double *nngp,
                          double *ntk, double *ntk_normalized, double *ntk_layers)
{
    if (N == 0) return ntk_set_error(NTK_EINVAL, "limit: empty input set");
    return limit_pairs(spec, o, N, X, N, X, true, nngp, ntk, ntk_normalized, ntk_layers);
}

ntk_status ntk_limit_diag(const ntk_spec *spec, const ntk_limit_opts *o, size_t N, const double *X,
                          double *nngp_diag, double *ntk_diag)
{
    limit_plan p;
    ntk_status st = plan_init(&p, spec, o);
    if (st != NTK_OK) return st;
    size_t dd = (size_t)p.d + 1;
    double *q = malloc(3 * dd * sizeof *q);
    if (!q) {
        plan_free(&p);
        return ntk_set_error(NTK_ENOMEM, "limit: out of memory");
    }
    for (size_t i = 0; i < N; i++) {
        const double *x = X + i * (size_t)spec->n0;
        point_q(&p, x, spec->n0, q);
        double g, t;
        pair_kernel(&p, dotx(x, x, spec->n0), 0.0, q, q, q + dd, &g, &t, NULL, 0);
        if (nngp_diag) nngp_diag[i] = g;
        if (ntk_diag) ntk_diag[i] = t;
    }
    free(q);
    plan_free(&p);
    return NTK_OK;
}
