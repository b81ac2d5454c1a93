/* pairs.c -- the infinite-width recursion for LANES pairs at once (docs/limits.md):
 *   Sigma^(l) = sw2_l Sigma_in + vb_l,  Theta^(l) = wf_l Sigma_in + tb_l + dot_l Theta^(l-1),
 * Sigma_in = x.x'/fan_1 for l = 1, E[phi(u) phi(v)] under Sigma^(l-1) after, dot_l = sw2_l E[phi' phi'].
 *
 * Each pair is one lane of fixed-length loops (vmath.h): the per-pair arithmetic is the same
 * wherever the pair sits in the blocking and whatever the thread count, so results are
 * bit-identical across both.  The closed forms and the Hermite series are vector code; table
 * look-ups and the 2-D quadrature run lane by lane.  A diagonal pair (Sigma_12 = q1 = q2) takes
 * the per-point values, as ntk_limit_diag does. */
#include "limit_impl.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* term, dot: [(d+1) x LANES]; then 12 vectors of LANES. */
size_t pairs_ws_doubles(int d) { return (size_t)LANES * (2 * ((size_t)d + 1) + 12); }

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

/* cos of the angle as the covariance gives it, clamped to [-1, 1] (NaN, from 0/0, to 1). */
static inline __attribute__((always_inline)) double clamp_rho(double r)
{
    r = r < 1 ? r : 1.0;
    return r > -1 ? r : -1.0;
}

/* Whether lane p is a diagonal pair (equal points, or equal variances at angle 0): it takes the
 * point's values, as ntk_limit_diag does.  At l = 2 with theta1 the angle decides (an angle
 * below 1e-8 can round Sigma_12 to q1 = q2); after it, Sigma_12 = q1 = q2. */
static inline __attribute__((always_inline)) bool is_diag(const limit_plan *pl, int l, double s, double qa,
                                                          double qr, double th)
{
    return (l == 2 && pl->theta1 ? th == 0 : s == qa) && qa == qr;
}

/* Layer l's expectations lane by lane: tables or the 2-D quadrature.  th1: the layer-1 angles
 * (used at l = 2). */
static void lanes_scalar(const limit_plan *pl, int l, double qa, const double *qb, const double *s12,
                         const double *th1, double Ea, double Da, double *ee, double *ed)
{
    for (int p = 0; p < LANES; p++) {
        double s = s12[p], qr = qb[p];
        if (is_diag(pl, l, s, qa, qr, th1[p])) {
            ee[p] = Ea;
            ed[p] = Da;
            continue;
        }
        double th = l == 2 && pl->theta1 ? th1[p] : acos(clamp_rho(s / sqrt(qa * qr)));
        if (pl->method == LIM_TABLE) {
            const double *fe = pl->tab + ((size_t)(l - 1) * 2) * (size_t)pl->ntab;
            ee[p] = tab_eval(pl, fe, th);
            ed[p] = tab_eval(pl, fe + pl->ntab, th);
        } else {
            expect_eval_angle(&pl->ex, qa, qr, th, &ee[p], &ed[p]);
        }
    }
}

/* The series of layer l (coefficients of layer l - 1) for one function f: sum_k a_k(i) a_k(j) rho^k. */
static inline __attribute__((always_inline)) void series_eval(const limit_plan *pl, const lim_points *A, size_t i,
                                                               const lim_points *B, size_t j0, int L, int f,
                                                               const double *rho, const double *y, double *out)
{
    size_t rowa = ((size_t)L * 2 + (size_t)f) * HS_ROWS, na = A->np, nb = B->np;
    const double *ca = A->cf + rowa * na + i, *cb = B->cf + rowa * nb + j0;
    double acc[LANES];
    for (int p = 0; p < LANES; p++) acc[p] = 0;
    for (int r = HS_TERMS - 1; r >= 0; r--) {
        double a = ca[(size_t)r * na];
        const double *b = cb + (size_t)r * nb;
#pragma omp simd
        for (int p = 0; p < LANES; p++) acc[p] = acc[p] * y[p] + a * b[p];
    }
    double ax = ca[(size_t)HS_TERMS * na];
    const double *bx = cb + (size_t)HS_TERMS * nb;
    bool odd = pl->hs.start[f] == 1, xodd = pl->hs.extra[f] == 1;
#pragma omp simd
    for (int p = 0; p < LANES; p++) out[p] = (odd ? rho[p] : 1.0) * acc[p] + ax * bx[p] * (xodd ? rho[p] : 1.0);
}

LANE_CLONES
void pairs_lanes(const limit_plan *pl, const lim_points *A, size_t i, const lim_points *B, size_t j0, double *ws,
                 double *nngp, double *ntk, double *layers)
{
    const int d = pl->d;
    const size_t na = A->np, nb = B->np;
    double *term = ws, *dot = term + ((size_t)d + 1) * LANES, *v = dot + ((size_t)d + 1) * LANES;
    double *s12 = v, *x12 = v + LANES, *th1 = v + 2 * LANES, *cs1 = v + 3 * LANES, *sn1 = v + 4 * LANES;
    double *ee = v + 5 * LANES, *ed = v + 6 * LANES, *rho = v + 7 * LANES, *y = v + 8 * LANES;
    double *fail = v + 9 * LANES, *prod = v + 10 * LANES, *theta = v + 11 * LANES;

    /* layer 1: x.x' and, where needed, the angle of the augmented inputs */
    for (int p = 0; p < LANES; p++) x12[p] = 0;
    for (int k = 0; k < A->n0; k++) {
        double xi = A->x[(size_t)k * na + i];
        const double *xb = B->x + (size_t)k * nb + j0;
#pragma omp simd
        for (int p = 0; p < LANES; p++) x12[p] += xi * xb[p];
    }
#pragma omp simd
    for (int p = 0; p < LANES; p++) {
        double sin_ = x12[p] / pl->fan1;
        s12[p] = pl->sw2[1] * sin_ + pl->vb[1];
        term[LANES + p] = pl->wf[1] * sin_ + pl->tb[1];
        dot[LANES + p] = 0;
    }
    if (pl->theta1) {
        /* The layer-1 angle.  Where |cos| < 1/2, acos of Sigma_12 / sqrt(q1 q2) (the cosine of
         * the augmented inputs) is accurate to a few ulp.  Elsewhere Kahan's
         * theta = 2 atan2(|a - b|, |a + b|) on the normalised augmented vectors, exact to
         * rounding near 0 and pi, with cos and sin from the same two norms. */
        const double q1 = A->q[na + i], *q1b = B->q + nb + j0;
        double amax = 0;
#pragma omp simd reduction(max : amax)
        for (int p = 0; p < LANES; p++) {
            double r = clamp_rho(s12[p] / sqrt(q1 * q1b[p])), a = fabs(r);
            rho[p] = r;
            amax = amax > a ? amax : a;
        }
        bool kahan = !(amax < 0.5);
        double dm[LANES], dp[LANES];
        if (kahan) {
            for (int p = 0; p < LANES; p++) dm[p] = dp[p] = 0;
            for (int k = 0; k <= A->n0; k++) {
                double ui = A->u[(size_t)k * na + i];
                const double *ub = B->u + (size_t)k * nb + j0;
#pragma omp simd
                for (int p = 0; p < LANES; p++) {
                    double a = ui - ub[p], b = ui + ub[p];
                    dm[p] += a * a;
                    dp[p] += b * b;
                }
            }
        }
#pragma omp simd
        for (int p = 0; p < LANES; p++) {
            double r = rho[p];
            th1[p] = acos(r);
            cs1[p] = r;
            sn1[p] = sqrt((1 - r) * (1 + r));
        }
        if (kahan) {
            double zi = A->zero[i];
            const double *zb = B->zero + j0;
#pragma omp simd
            for (int p = 0; p < LANES; p++) {
                double m = dm[p], q = dp[p];
                int z = (zi != 0) | (zb[p] != 0), k = !(fabs(rho[p]) < 0.5);
                double t = z ? M_PI / 2 : 2 * atan2(sqrt(m), sqrt(q));
                th1[p] = k ? t : th1[p];
                cs1[p] = k ? (z ? 0.0 : (q - m) / (q + m)) : cs1[p];
                sn1[p] = k ? (z ? 1.0 : 2 * sqrt(m * q) / (q + m)) : sn1[p];
            }
        }
    }

    for (int l = 2; l <= d; l++) {
        const double qa = A->q[(size_t)(l - 1) * na + i], *qb = B->q + (size_t)(l - 1) * nb + j0;
        const double Ea = A->ee[(size_t)(l - 1) * na + i], Da = A->ed[(size_t)(l - 1) * na + i];
        switch (pl->method) {
        case LIM_RELU:
            if (l == 2) {
#pragma omp simd
                for (int p = 0; p < LANES; p++) {
                    double qr = qb[p], sq = sqrt(qa * qr), th = th1[p];
                    double e = sq / (2 * M_PI) * (sn1[p] + (M_PI - th) * cs1[p]), dd = (M_PI - th) / (2 * M_PI);
                    int dg = (th == 0) & (qa == qr);
                    ee[p] = dg ? Ea : e;
                    ed[p] = dg ? Da : dd;
                }
                break;
            }
#pragma omp simd
            for (int p = 0; p < LANES; p++) {
                double s = s12[p], qr = qb[p], sq = sqrt(qa * qr), r = clamp_rho(s / sq);
                double th = acos(r), sn = sqrt((1 - r) * (1 + r));
                double e = sq / (2 * M_PI) * (sn + (M_PI - th) * r), dd = (M_PI - th) / (2 * M_PI);
                int dg = (s == qa) & (qa == qr);
                ee[p] = dg ? Ea : e;
                ed[p] = dg ? Da : dd;
            }
            break;
        case LIM_ERF:
#pragma omp simd
            for (int p = 0; p < LANES; p++) {
                double s = s12[p], qr = qb[p], d1 = 1 + 2 * qa, d2 = 1 + 2 * qr, x = 2 * s / sqrt(d1 * d2);
                double e = 2 / M_PI * asin(x > 1 ? 1 : x < -1 ? -1 : x), dd = 4 / M_PI / sqrt(d1 * d2 - 4 * s * s);
                int dg = (s == qa) & (qa == qr);
                ee[p] = dg ? Ea : e;
                ed[p] = dg ? Da : dd;
            }
            break;
        case LIM_IDENTITY:
#pragma omp simd
            for (int p = 0; p < LANES; p++) {
                int dg = (s12[p] == qa) & (qa == qb[p]);
                ee[p] = dg ? Ea : s12[p];
                ed[p] = 1.0;
            }
            break;
        case LIM_SERIES: {
            int L = l - 1;
            size_t ta = ((size_t)L * 2) * na + i, tb = ((size_t)L * 2) * nb + j0;
            const double tai = A->tail[ta], tdi = A->tail[ta + na];
            const double *tab = B->tail + tb, *tdb = B->tail + tb + nb;
#pragma omp simd
            for (int p = 0; p < LANES; p++) {
                double r = clamp_rho(s12[p] / sqrt(qa * qb[p])), t = r * r;
                rho[p] = r;
                y[p] = t;
                for (int m = 0; m < 7; m++) t *= t; /* rho^256 >= |rho|^k of every term left out */
                fail[p] = !(t * tai * tab[p] <= SERIES_TOL) | !(t * tdi * tdb[p] <= SERIES_TOL) ? 1.0 : 0.0;
            }
            series_eval(pl, A, i, B, j0, L, 0, rho, y, ee);
            series_eval(pl, A, i, B, j0, L, 1, rho, y, ed);
            for (int p = 0; p < LANES; p++) {
                if (s12[p] == qa && qa == qb[p]) {
                    ee[p] = Ea;
                    ed[p] = Da;
                } else if (fail[p] != 0) {
                    expect_eval_angle(&pl->fb, qa, qb[p], acos(rho[p]), &ee[p], &ed[p]);
                }
            }
            break;
        }
        case LIM_TABLE:
        case LIM_QUAD:
            lanes_scalar(pl, l, qa, qb, s12, th1, Ea, Da, ee, ed);
            break;
        }
        double *tl = term + (size_t)l * LANES, *dl = dot + (size_t)l * LANES;
        const double sw2 = pl->sw2[l], vb = pl->vb[l], wf = pl->wf[l], tb = pl->tb[l];
#pragma omp simd
        for (int p = 0; p < LANES; p++) {
            double e = ee[p];
            dl[p] = sw2 * ed[p];
            s12[p] = sw2 * e + vb;
            tl[p] = wf * e + tb;
        }
    }

    /* Theta = sum_l term_l prod_{m > l} dot_m */
    for (int p = 0; p < LANES; p++) {
        prod[p] = 1;
        theta[p] = 0;
    }
    for (int l = d; l >= 1; l--) {
        const double *tl = term + (size_t)l * LANES, *dl = dot + (size_t)l * LANES;
        double *lay = layers ? layers + (size_t)(l - 1) * LANES : NULL;
#pragma omp simd
        for (int p = 0; p < LANES; p++) {
            double t = tl[p] * prod[p];
            theta[p] += t;
            if (lay) lay[p] = t;
            prod[p] *= dl[p];
        }
    }
    for (int p = 0; p < LANES; p++) {
        nngp[p] = s12[p];
        ntk[p] = theta[p];
    }
}

void pairs_diag(const limit_plan *pl, const lim_points *A, size_t i, double *ws, double *nngp, double *ntk)
{
    const int d = pl->d;
    const size_t na = A->np;
    double *tl = ws, *dl = ws + d + 1;
    double x12 = 0;
    for (int k = 0; k < A->n0; k++) x12 += A->x[(size_t)k * na + i] * A->x[(size_t)k * na + i];
    double sin_ = x12 / pl->fan1, s12 = pl->sw2[1] * sin_ + pl->vb[1];
    tl[1] = pl->wf[1] * sin_ + pl->tb[1];
    dl[1] = 0;
    for (int l = 2; l <= d; l++) {
        double e = A->ee[(size_t)(l - 1) * na + i], de = A->ed[(size_t)(l - 1) * na + i];
        dl[l] = pl->sw2[l] * de;
        s12 = pl->sw2[l] * e + pl->vb[l];
        tl[l] = pl->wf[l] * e + pl->tb[l];
    }
    double prod = 1, th = 0; /* the order of pairs_lanes */
    for (int l = d; l >= 1; l--) {
        th += tl[l] * prod;
        prod *= dl[l];
    }
    *nngp = s12;
    *ntk = th;
}
