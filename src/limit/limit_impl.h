/* limit_impl.h -- internal: the plan of the infinite-width recursion and its per-point data,
 * shared by limit.c (set-up, threads, outputs) and pairs.c (the lanes of pairs). */
#ifndef NTK_LIMIT_IMPL_H
#define NTK_LIMIT_IMPL_H
#include "ntkdrift.h"

#include <stdbool.h>
#include <stddef.h>

#include "expect.h"
#include "hermite.h"
#include "vmath.h"

/* How the expectations of layers l >= 2 are evaluated. */
typedef enum {
    LIM_RELU,     /* arc-cosine closed forms */
    LIM_ERF,      /* arcsine closed forms */
    LIM_IDENTITY, /* E[phi phi] = Sigma_12, E[phi' phi'] = 1 */
    LIM_SERIES,   /* Hermite series per pair, 2-D quadrature where its bound is not met (hermite.c) */
    LIM_TABLE,    /* equal-norm inputs: per-layer tables in the angle */
    LIM_QUAD      /* 2-D quadrature of every pair */
} lim_method;

/* Bound on the truncation of the series, relative to sqrt(E_1[phi^2] E_2[phi^2]) of the pair
 * (hermite.c): a few ulp, the level at which the per-point tails are known (their estimate
 * E[phi^2] - sum of the squared coefficients carries ~1e-15 of rounding). */
#define SERIES_TOL 4e-15

typedef struct {
    int d;                       /* weight layers, L + 1 */
    double *sw2, *vb, *tb, *wf;  /* [d+1], index 1..d */
    double fan1;
    double width_norm;           /* mean hidden width (standard param) or 1 */
    expect_ctx ex;
    lim_method method;
    bool theta1;                 /* layer 2 from the inputs' angle (Kahan), not from Sigma_12 */
    /* LIM_TABLE: E[phi phi], E[phi' phi'] of layer l at the Chebyshev-Lobatto angles theta_j,
     * interpolated barycentrically. */
    int ntab;
    double *tab_theta, *tab_w;   /* [ntab] nodes on [0, pi] and barycentric weights */
    double *tab;                 /* [(d+1) x 2 x ntab], layer l at (l * 2 + {0, 1}) * ntab */
    hseries hs;                  /* LIM_SERIES */
    expect_ctx fb;               /* LIM_SERIES: the 2-D quadrature of the pairs its bound leaves out */
} limit_plan;

/* One set of points, transposed: quantity r of point j at [r * np + j]; np = n rounded up to a
 * multiple of LANES, the pad points repeating the last one (so lanes past the end compute
 * a real pair, whose result is dropped). */
typedef struct {
    size_t n, np;
    int n0;
    double *x;        /* [n0 x np] inputs */
    double *u;        /* [(n0+1) x np] (c x, sqrt(vb)) / |(c x, sqrt(vb))|, c^2 = sw2_1 / fan_1 (theta1) */
    double *zero;     /* [np] 1 where that vector is zero (its angle to anything is pi/2) */
    double *q;        /* [(d+1) x np] Sigma^(l)(x, x), l = 1..d */
    double *ee, *ed;  /* [(d+1) x np] E[phi^2], E[phi'^2] under q[l], l = 1..d-1: the diagonal */
    double *cf;       /* LIM_SERIES: [(d+1) x 2 x HS_ROWS x np] coefficients of layer l (hermite.h) */
    double *tail;     /* LIM_SERIES: [(d+1) x 2 x np] sqrt(relative tail) of phi, phi' under q[l] */
} lim_points;

/* Per-thread lane workspace: pairs_ws_doubles(d) doubles. */
size_t pairs_ws_doubles(int d);

/* The LANES pairs (point i of A, points j0 .. j0 + LANES - 1 of B) through every layer: writes
 * nngp[p], ntk[p] and, when layers != NULL, layers[(l - 1) * LANES + p], l = 1..d. */
void pairs_lanes(const limit_plan *pl, const lim_points *A, size_t i, const lim_points *B, size_t j0, double *ws,
                 double *nngp, double *ntk, double *layers);
/* The same for the pair (i, i) alone: the diagonal, from the per-point values; ws: [2 (d+1)]. */
void pairs_diag(const limit_plan *pl, const lim_points *A, size_t i, double *ws, double *nngp, double *ntk);
#endif
