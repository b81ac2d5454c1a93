/* limit.c -- infinite-width NNGP and NTK recursions in the conventions of
 * docs/conventions.md.  Per layer l = 1..d (d = L+1), with Sigma_in the
 * input kernel of the layer (x.x'/fan_1 for l = 1, E[phi(u)phi(v)] under
 * Sigma^(l-1) after):
 *   Sigma^(l) = sw2_l Sigma_in + vb_l                 (vb: bias variance at init)
 *   Theta^(l) = wf_l Sigma_in + tb_l + dot_l Theta^(l-1),  dot_l = sw2_l E[phi'(u)phi'(v)]
 * NTK param: wf = sw2, tb = sb^2 for a trainable bias; standard: wf = fan_l
 * (n_{l-1}), tb = 1.  Per-layer terms: term_l * prod_{m > l} dot_m.
 *
 * This file sets up the plan and the per-point data (variances, diagonal expectations, series
 * coefficients) and hands blocks of LANES pairs to pairs.c, OpenMP over blocks of rows; for
 * symmetric kernels only the lower triangle is computed and each block writes its mirror image
 * while it is in cache. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "limit_impl.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define TAB_NODES 129
/* Rows per OpenMP work item (a multiple of 8: a mirrored row segment fills whole cache lines). */
#define ROW_BLOCK 16
/* The series' coefficient tables may take this much memory, or as much as the two output kernels
 * if that is more; beyond it every pair is integrated by the 2-D quadrature. */
#define SERIES_MIN_BUDGET (256.0 * 1024 * 1024)
/* Relative floor of a series tail: the rounding of E[phi^2] - sum of the squared coefficients. */
#define TAIL_FLOOR 4e-16
/* The Gauss-Hermite rule's E[phi^2] must match the 1-D integral to this (relative) for the
 * series to be used on a point (hermite.c). */
#define GH_TOL 4e-15
/* Nodes per panel of the 2-D quadrature of the pairs the series leaves to it (|rho| near 1):
 * at least these many, where the defaults (12 radial, 16 angular) lose digits at angles near 0
 * (measured: 3e-11 of the kernel for tanh at q ~ 5 with 12 / 16, 3e-15 with 16 / 24). */
#define FALLBACK_RADIAL 16
#define FALLBACK_ANGULAR 24

static void plan_free(limit_plan *p)
{
    free(p->sw2);
    free(p->tab_theta);
    hseries_free(&p->hs);
    expect_free(&p->fb);
    expect_free(&p->ex);
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
    if (st != NTK_OK) {
        plan_free(p);
        return st;
    }
    p->method = !p->ex.quad ? (s->act == NTK_ACT_RELU ? LIM_RELU : s->act == NTK_ACT_ERF ? LIM_ERF : LIM_IDENTITY)
                            : LIM_QUAD;
    return NTK_OK;
}

static void points_free(lim_points *P)
{
    free(P->x);
    free(P->cf);
    memset(P, 0, sizeof *P);
}

static double dotx(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Transposed inputs, variances and diagonal expectations of N points X: [N x n0]. */
static ntk_status points_init(const limit_plan *p, size_t N, const double *X, int n0, lim_points *P)
{
    memset(P, 0, sizeof *P);
    size_t np = (N + LANES - 1) / LANES * LANES, dd = (size_t)p->d + 1;
    P->n = N;
    P->np = np;
    P->n0 = n0;
    size_t nx = (size_t)n0 * np, nu = ((size_t)n0 + 1) * np, nq = dd * np;
    P->x = malloc((nx + nu + np + 3 * nq) * sizeof *P->x);
    if (!P->x) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for %zu points", N);
    P->u = P->x + nx;
    P->zero = P->u + nu;
    P->q = P->zero + np;
    P->ee = P->q + nq;
    P->ed = P->ee + nq;
    for (size_t j = 0; j < np; j++) {
        const double *x = X + (j < N ? j : N - 1) * (size_t)n0; /* pads repeat the last point */
        for (int k = 0; k < n0; k++) P->x[(size_t)k * np + j] = x[k];
    }
    int d = p->d;
#pragma omp parallel for schedule(static)
    for (size_t j = 0; j < np; j++) {
        const double *x = X + (j < N ? j : N - 1) * (size_t)n0;
        double sin_ = dotx(x, x, n0) / p->fan1;
        P->ee[j] = P->ed[j] = 0;
        for (int l = 1; l <= d; l++) {
            size_t at = (size_t)l * np + j;
            if (l > 1) sin_ = P->ee[at - np];
            P->q[at] = p->sw2[l] * sin_ + p->vb[l];
            if (l < d)
                expect_eval_diag(&p->ex, P->q[at], &P->ee[at], &P->ed[at]);
            else
                P->ee[at] = P->ed[at] = 0;
        }
    }
    return NTK_OK;
}

/* The normalised augmented layer-1 vectors (c x, sqrt(vb)) / |.| for Kahan's angle. */
static void points_angles(const limit_plan *p, lim_points *P)
{
    size_t np = P->np;
    int n0 = P->n0;
    double c2 = p->sw2[1] / p->fan1, vb = p->vb[1], c = sqrt(c2);
    for (size_t j = 0; j < np; j++) {
        double xx = 0;
        for (int k = 0; k < n0; k++) xx += P->x[(size_t)k * np + j] * P->x[(size_t)k * np + j];
        double nx = sqrt(c2 * xx + vb);
        bool z = !(nx > 0);
        P->zero[j] = z ? 1.0 : 0.0;
        for (int k = 0; k < n0; k++) P->u[(size_t)k * np + j] = z ? 0.0 : c * P->x[(size_t)k * np + j] / nx;
        P->u[(size_t)n0 * np + j] = z ? 0.0 : sqrt(vb) / nx;
    }
}

/* Hermite coefficients of layers 1..d-1 (the expectations of layers 2..d) and their tails. */
static ntk_status points_series(const limit_plan *p, lim_points *P)
{
    size_t np = P->np, dd = (size_t)p->d + 1, rows = 2 * HS_ROWS;
    P->cf = malloc((dd * rows * np + dd * 2 * np) * sizeof *P->cf);
    if (!P->cf) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for the series coefficients");
    P->tail = P->cf + dd * rows * np;
    size_t nblk = np / LANES, work = nblk * (size_t)(p->d > 1 ? p->d - 1 : 0);
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        double *scratch = malloc((4 * (size_t)p->hs.h * LANES + 4 * LANES) * sizeof *scratch);
        if (!scratch) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t w = 0; w < work; w++) {
            if (!scratch) continue;
            size_t l = 1 + w / nblk, j0 = (w % nblk) * LANES;
            double *sq = scratch + 4 * (size_t)p->hs.h * LANES, *gh = sq + 2 * LANES;
            hseries_coeffs(&p->hs, P->q + l * np + j0, P->cf + l * rows * np + j0, np, sq, gh, scratch);
            for (int f = 0; f < 2; f++) {
                const double *E = (f ? P->ed : P->ee) + l * np + j0;
                double *t = P->tail + (l * 2 + (size_t)f) * np + j0;
                for (int k = 0; k < LANES; k++) {
                    size_t at = (size_t)f * LANES + (size_t)k;
                    double e = E[k], rel = e > 0 ? fmax(e - sq[at], 0.0) / e : 0.0;
                    /* a rule whose E[f^2] misses the 1-D integral has inaccurate coefficients: no
                     * series for this point (the bound then fails for every rho) */
                    bool ok = e > 0 ? fabs(gh[at] - e) <= GH_TOL * e : fabs(gh[at]) <= 1e-300;
                    t[k] = ok ? sqrt(rel + TAIL_FLOOR) : INFINITY;
                }
            }
        }
        free(scratch);
    }
    if (failed) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for series workspaces");
    return NTK_OK;
}

/* When every point has the same layer variances (inputs of equal norm: circle, sphere), the
 * expectations of layer l depend on the angle only: tabulate them once per layer instead of
 * integrating per pair (about 10^3 times fewer activation evaluations).  Chebyshev-Lobatto
 * nodes in theta make the interpolation converge geometrically for smooth activations
 * (checked against direct quadrature in tests/limit/test_limit.c).  Sets p->ntab or leaves it 0. */
static ntk_status plan_tables(limit_plan *p, const lim_points *A, const lim_points *B)
{
    for (int l = 1; l < p->d; l++) { /* layers 1 .. d-1 */
        double q0 = A->q[(size_t)l * A->np];
        for (size_t i = 0; i < A->n; i++)
            if (fabs(A->q[(size_t)l * A->np + i] - q0) > 1e-13 * fabs(q0)) return NTK_OK;
        for (size_t j = 0; j < B->n; j++)
            if (fabs(B->q[(size_t)l * B->np + j] - q0) > 1e-13 * fabs(q0)) return NTK_OK;
    }
    int T = TAB_NODES;
    size_t dd = (size_t)p->d + 1;
    p->tab_theta = malloc(((size_t)T * 2 + dd * 2 * (size_t)T) * sizeof *p->tab_theta);
    if (!p->tab_theta) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for tables");
    p->tab_w = p->tab_theta + T;
    p->tab = p->tab_w + T;
    for (int j = 0; j < T; j++) {
        p->tab_theta[j] = 0.5 * M_PI * (1 - cos(M_PI * j / (T - 1)));
        p->tab_w[j] = (j % 2 ? -1.0 : 1.0) * (j == 0 || j == T - 1 ? 0.5 : 1.0);
    }
    for (int l = 1; l < p->d; l++) { /* expectations under Sigma^(l), used by layer l+1 */
        double *fe = p->tab + ((size_t)l * 2) * (size_t)T, *fd = fe + T, q0 = A->q[(size_t)l * A->np];
        for (int j = 0; j < T; j++) expect_eval_angle(&p->ex, q0, q0, p->tab_theta[j], &fe[j], &fd[j]);
    }
    p->ntab = T;
    return NTK_OK;
}

/* Choose how layers >= 2 are evaluated and build what that needs. */
static ntk_status plan_method(limit_plan *p, const ntk_spec *s, const ntk_limit_opts *o, lim_points *A,
                              lim_points *B, bool sym)
{
    ntk_status st = NTK_OK;
    if (p->ex.quad && !(o && o->no_table)) {
        if ((st = plan_tables(p, A, B)) != NTK_OK) return st;
        if (p->ntab) p->method = LIM_TABLE;
    }
    if (p->method == LIM_QUAD && !(o && o->no_series) && hseries_supported(s->act) && p->d > 1) {
        double rows = (double)(p->d + 1) * (2 * HS_ROWS + 2) * 8.0;
        double need = rows * ((double)A->np + (sym ? 0.0 : (double)B->np));
        double outs = 2.0 * (double)A->n * (double)B->n * 8.0;
        if (need <= fmax(SERIES_MIN_BUDGET, outs)) {
            int nr = o && o->quad_radial > FALLBACK_RADIAL ? o->quad_radial : FALLBACK_RADIAL;
            int nt = o && o->quad_angular > FALLBACK_ANGULAR ? o->quad_angular : FALLBACK_ANGULAR;
            if ((st = hseries_init(&p->hs, s->act)) != NTK_OK) return st;
            if ((st = expect_init(&p->fb, s->act, NTK_EXPECT_QUAD, nr, nt)) != NTK_OK) return st;
            p->method = LIM_SERIES;
        }
    }
    p->theta1 = p->method == LIM_RELU || p->method == LIM_TABLE || p->method == LIM_QUAD;
    if (p->theta1) {
        points_angles(p, A);
        if (!sym) points_angles(p, B);
    }
    if (p->method == LIM_SERIES) {
        if ((st = points_series(p, A)) != NTK_OK) return st;
        if (!sym && (st = points_series(p, B)) != NTK_OK) return st;
    }
    return NTK_OK;
}

typedef struct {
    size_t Na, Nb;
    bool sym;
    double *nngp, *ntk, *ntk_norm, *layers; /* [Na x Nb] each, layers [d x Na x Nb]; any may be NULL */
} lim_out;

/* One work item: rows [i0, i1) against every block of LANES columns (for a symmetric kernel only
 * those reaching the diagonal).  Each (rows x LANES) tile is computed row by row into tile
 * buffers, stored row-contiguous, and for a symmetric kernel also transposed into its mirror
 * image (j, i), j < i, while it is in cache: LANES target rows, i1 - i0 contiguous entries each. */
typedef struct {
    double *ws;              /* pairs_ws_doubles */
    double *g, *t, *lay;     /* [ROW_BLOCK x LANES] tiles of nngp and ntk; [ROW_BLOCK x d x LANES] layers */
} tile_ws;

static void put(double *M, size_t Nb, size_t i, size_t j0, size_t nv, const double *v, double scale)
{
    double *row = M + i * Nb + j0;
    if (scale == 1)
        for (size_t p = 0; p < nv; p++) row[p] = v[p];
    else
        for (size_t p = 0; p < nv; p++) row[p] = v[p] / scale;
}

/* M[j, i] = tile[i - i0][j - j0] for the tile's entries below the diagonal (j < i). */
static void put_mirror(double *M, size_t Nb, size_t i0, size_t i1, size_t j0, size_t nv, const double *tile,
                       size_t tstride, double scale)
{
    for (size_t p = 0; p < nv; p++) {
        size_t j = j0 + p, ib = j + 1 > i0 ? j + 1 : i0;
        double *col = M + j * Nb;
        for (size_t i = ib; i < i1; i++) {
            double v = tile[(i - i0) * tstride + p];
            col[i] = scale == 1 ? v : v / scale;
        }
    }
}

static void row_block(const limit_plan *pl, const lim_points *A, const lim_points *B, const lim_out *o, size_t i0,
                      size_t i1, tile_ws *w)
{
    size_t Nb = o->Nb, plane = o->Na * Nb, dl = (size_t)pl->d * LANES;
    size_t jend = o->sym ? i1 : Nb;
    for (size_t j0 = 0; j0 < jend; j0 += LANES) {
        for (size_t i = i0; i < i1; i++) {
            size_t r = i - i0, jmax = o->sym ? i + 1 : Nb;
            if (j0 >= jmax) continue;
            size_t nv = jmax - j0 < LANES ? jmax - j0 : LANES;
            double *g = w->g + r * LANES, *t = w->t + r * LANES, *lay = o->layers ? w->lay + r * dl : NULL;
            pairs_lanes(pl, A, i, B, j0, w->ws, g, t, lay);
            if (o->nngp) put(o->nngp, Nb, i, j0, nv, g, 1);
            if (o->ntk) put(o->ntk, Nb, i, j0, nv, t, 1);
            if (o->ntk_norm) put(o->ntk_norm, Nb, i, j0, nv, t, pl->width_norm);
            if (lay)
                for (int l = 0; l < pl->d; l++) put(o->layers + (size_t)l * plane, Nb, i, j0, nv, lay + (size_t)l * LANES, 1);
        }
        if (!o->sym || j0 + 1 >= i1) continue;
        size_t nv = i1 - 1 - j0 < LANES ? i1 - 1 - j0 : LANES; /* columns j < i1 - 1 have rows i > j */
        if (o->nngp) put_mirror(o->nngp, Nb, i0, i1, j0, nv, w->g, LANES, 1);
        if (o->ntk) put_mirror(o->ntk, Nb, i0, i1, j0, nv, w->t, LANES, 1);
        if (o->ntk_norm) put_mirror(o->ntk_norm, Nb, i0, i1, j0, nv, w->t, LANES, pl->width_norm);
        if (o->layers)
            for (int l = 0; l < pl->d; l++)
                put_mirror(o->layers + (size_t)l * plane, Nb, i0, i1, j0, nv, w->lay + (size_t)l * LANES, dl, 1);
    }
}

static ntk_status run_pairs(const limit_plan *pl, const lim_points *A, const lim_points *B, const lim_out *o)
{
    size_t nblocks = (o->Na + ROW_BLOCK - 1) / ROW_BLOCK, wsn = pairs_ws_doubles(pl->d);
    size_t per = wsn + 2 * ROW_BLOCK * LANES + (o->layers ? ROW_BLOCK * (size_t)pl->d * LANES : 0);
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        tile_ws w;
        w.ws = malloc(per * sizeof *w.ws);
        if (!w.ws) failed = 1;
        w.g = w.ws ? w.ws + wsn : NULL;
        w.t = w.g ? w.g + ROW_BLOCK * LANES : NULL;
        w.lay = w.t ? w.t + ROW_BLOCK * LANES : NULL;
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nblocks; b++) {
            if (!w.ws) continue;
            size_t i0 = b * ROW_BLOCK, i1 = i0 + ROW_BLOCK < o->Na ? i0 + ROW_BLOCK : o->Na;
            row_block(pl, A, B, o, i0, i1, &w);
        }
        free(w.ws);
    }
    if (failed) return ntk_set_error(NTK_ENOMEM, "limit: out of memory for thread workspaces");
    return NTK_OK;
}

static ntk_status limit_pairs(const ntk_spec *s, const ntk_limit_opts *opt, size_t Na, const double *Xa, size_t Nb,
                              const double *Xb, bool sym, double *nngp, double *ntk, double *ntk_norm,
                              double *layers)
{
    limit_plan p;
    ntk_status st = plan_init(&p, s, opt);
    if (st != NTK_OK) return st;
    lim_points A, B;
    memset(&B, 0, sizeof B);
    st = points_init(&p, Na, Xa, s->n0, &A);
    if (st == NTK_OK && !sym) st = points_init(&p, Nb, Xb, s->n0, &B);
    const lim_points *Bp = sym ? &A : &B;
    if (st == NTK_OK) st = plan_method(&p, s, opt, &A, sym ? &A : &B, sym);
    if (st == NTK_OK) {
        lim_out o = {Na, Nb, sym, nngp, ntk, ntk_norm, layers};
        st = run_pairs(&p, &A, Bp, &o);
    }
    points_free(&A);
    points_free(&B);
    plan_free(&p);
    return st;
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
    if (st != NTK_OK || N == 0) {
        if (st == NTK_OK) plan_free(&p);
        return st;
    }
    lim_points A;
    double *ws = malloc(2 * ((size_t)p.d + 1) * sizeof *ws);
    st = ws ? points_init(&p, N, X, spec->n0, &A) : ntk_set_error(NTK_ENOMEM, "limit: out of memory");
    if (st == NTK_OK) {
        for (size_t i = 0; i < N; i++) {
            double g, t;
            pairs_diag(&p, &A, i, ws, &g, &t);
            if (nngp_diag) nngp_diag[i] = g;
            if (ntk_diag) ntk_diag[i] = t;
        }
        points_free(&A);
    }
    free(ws);
    plan_free(&p);
    return st;
}
