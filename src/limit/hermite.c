/* hermite.c -- the Hermite (Mehler) series of the 2-D Gaussian expectations of smooth activations.
 *
 * With h_k the orthonormal (probabilists') Hermite polynomials and (z1, z2) standard normal with
 * correlation rho, E[h_j(z1) h_k(z2)] = delta_jk rho^k (Mehler).  So for
 * (u, v) ~ N(0, [[q1, rho sqrt(q1 q2)], [., q2]]),
 *     E[phi(u) phi(v)] = sum_k a_k(q1) a_k(q2) rho^k,   a_k(q) = E[phi(sqrt(q) z) h_k(z)],
 * and the same for phi' with b_k(q) = E[phi'(sqrt(q) z) h_k(z)].  The coefficients belong to one
 * point each: O(N) one-dimensional integrals per layer instead of O(N^2) two-dimensional ones,
 * and each pair costs a polynomial in rho.
 *
 * Parities: phi(-z) = -phi(z) for tanh, erf and identity, sigmoid - 1/2 is odd, gelu(z) - z/2 is
 * even; their derivatives have the opposite parity (gelu' - 1/2 is odd).  Half the coefficients
 * vanish exactly, so a function keeps the terms k = start + 2r (r < HS_TERMS) and at most one
 * coefficient of the other parity (the constant 1/2 of sigmoid and of gelu', gelu's z/2).
 *
 * Truncation: by Cauchy-Schwarz the terms left out (k >= start + 2 HS_TERMS) sum to at most
 * |rho|^(2 HS_TERMS) sqrt(T(q1) T(q2)), T(q) = E[phi(sqrt(q) z)^2] - sum of the kept a_k^2: a
 * bound the caller evaluates per pair from the per-point tails (pairs.c), falling back to the 2-D
 * quadrature where it is not small enough.
 *
 * Coefficients by a composite Gauss-Legendre rule on z in [0, HS_ZMAX] (the negative half by the
 * parities): HS_PANELS panels of width 1/2 with HS_PANEL_NODES nodes each, weighted by the normal
 * density.  The range: the orthonormal Hermite functions h_k(z) sqrt(gamma(z)) are bounded by ~1 for
 * every k, so |f h_k gamma| <= |f| exp(-z^2/4) (times |z| for gelu): below 1e-20 past z = 14.  The
 * panels: within a panel of half-width 1/4, h_k (k <= 257) has at most ~2/3 of an oscillation and the
 * poles of tanh(sqrt(q) z) lie >= pi / (2 sqrt(q)) off the real axis, so the 16-node rule's error is
 * below ~3.5^-32 = 4e-18 for q <= 15.  (A Gauss-Hermite rule converges only like exp(-tau sqrt(2n)),
 * tau the poles' distance: 1e-11 at q = 9 with 1088 nodes, which left every pair of a point of large
 * variance to the 2-D quadrature.)  The caller checks the rule per point all the same: its E[phi^2]
 * (returned in gh) against the independent 1-D integral of expect.c.  h_k at the nodes by the
 * three-term recurrence of the orthonormal polynomials in long double (|h_k(14)| <= e^49: no overflow). */
#include "hermite.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

#include "act.h"
#include "vmath.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define HS_ZMAX 14.0
#define HS_PANEL_NODES 24
#define HS_PANELS 28 /* width HS_ZMAX / HS_PANELS = 1/2 */

bool hseries_supported(ntk_act act)
{
    return act == NTK_ACT_TANH || act == NTK_ACT_ERF || act == NTK_ACT_IDENTITY || act == NTK_ACT_SIGMOID ||
           act == NTK_ACT_GELU;
}

static void parities(ntk_act act, int start[2], int extra[2])
{
    start[0] = 1; /* phi odd, phi' even: tanh, erf, identity */
    start[1] = 0;
    extra[0] = extra[1] = -1;
    if (act == NTK_ACT_SIGMOID) {
        extra[0] = 0; /* E[sigmoid] = 1/2 */
    } else if (act == NTK_ACT_GELU) {
        start[0] = 0; /* gelu(z) - z/2 = z (Phi(z) - 1/2) is even; gelu' - 1/2 is odd */
        extra[0] = 1;
        start[1] = 1;
        extra[1] = 0;
    }
}

/* The n-node Gauss-Legendre rule on [-1, 1] to full double accuracy: Newton on P_n in long double
 * from the asymptotic guesses, w = 2 / ((1 - x^2) P_n'(x)^2).  (The eigenvector weights of quad.c
 * carry ~n ulp of relative error each, the same on every panel: a systematic 4e-15 in E[phi^2].) */
static void legendre_nodes(int n, double *x, double *w)
{
    for (int i = 0; i < n; i++) {
        long double t = cosl(3.14159265358979323846264338327950288L * (i + 0.75L) / (n + 0.5L)), p0 = 0, dp = 0;
        for (int it = 0; it < 8; it++) {
            long double pm = 1, pc = t;
            for (int k = 2; k <= n; k++) {
                long double pn = ((2 * k - 1) * t * pc - (k - 1) * pm) / k;
                pm = pc;
                pc = pn;
            }
            p0 = pc;
            dp = n * (t * pc - pm) / (t * t - 1);
            t -= p0 / dp;
        }
        x[n - 1 - i] = (double)t;
        w[n - 1 - i] = (double)(2 / ((1 - t * t) * dp * dp));
    }
}

/* h_0 .. h_n at x (long double): h[k], k <= n. */
static void hermite_values(int n, long double x, long double *h)
{
    h[0] = 1;
    if (n >= 1) h[1] = x;
    for (int k = 1; k < n; k++) h[k + 1] = (x * h[k] - sqrtl((long double)k) * h[k - 1]) / sqrtl((long double)k + 1);
}

void hseries_free(hseries *s)
{
    free(s->x);
    free(s->W);
    s->x = s->w = s->W = NULL;
}

ntk_status hseries_init(hseries *s, ntk_act act)
{
    const int n = HS_PANELS * HS_PANEL_NODES;
    s->act = act;
    s->x = s->w = s->W = NULL;
    s->kmax = 2 * HS_TERMS - 1;
    parities(act, s->start, s->extra);
    double t[HS_PANEL_NODES], tw[HS_PANEL_NODES];
    long double *h = malloc(((size_t)s->kmax + 1) * sizeof *h);
    s->x = malloc(2 * (size_t)n * sizeof *s->x);
    s->W = malloc(((size_t)s->kmax + 1) * (size_t)n * sizeof *s->W);
    ntk_status st = NTK_OK;
    if (!h || !s->x || !s->W) {
        st = ntk_set_error(NTK_ENOMEM, "Hermite series: out of memory");
        goto done;
    }
    legendre_nodes(HS_PANEL_NODES, t, tw);
    s->w = s->x + n;
    const double half = 0.5 * HS_ZMAX / HS_PANELS;
    for (int pnl = 0; pnl < HS_PANELS; pnl++)
        for (int j = 0; j < HS_PANEL_NODES; j++) {
            int m = pnl * HS_PANEL_NODES + j;
            double z = half * (2 * pnl + 1 + t[j]);
            s->x[m] = z;
            s->w[m] = half * tw[j] * exp(-0.5 * z * z) / sqrt(2 * M_PI);
            hermite_values(s->kmax, (long double)z, h);
            for (int k = 0; k <= s->kmax; k++) s->W[(size_t)k * (size_t)n + (size_t)m] = (double)(s->w[m] * h[k]);
        }
    s->h = n;
done:
    free(h);
    if (st != NTK_OK) hseries_free(s);
    return st;
}

/* out[p] = sum_m W[k][m] G[m][p], m in order (the same sums for every lane). */
static inline __attribute__((always_inline)) void transform_row(const double *Wk, int h, const double *G,
                                                                double *out)
{
    double acc[LANES] = {0};
    for (int m = 0; m < h; m++) {
        double wk = Wk[m];
        const double *g = G + (size_t)m * LANES;
#pragma omp simd
        for (int p = 0; p < LANES; p++) acc[p] += wk * g[p];
    }
    for (int p = 0; p < LANES; p++) out[p] = acc[p];
}

LANE_CLONES
void hseries_coeffs(const hseries *s, const double *q, double *cf, size_t stride, double *sq, double *gh,
                    double *scratch)
{
    const int h = s->h;
    /* G[(f * 2 + parity) * h * LANES + m * LANES + p]: f(z) +- f(-z) at z = sqrt(q_p) x_m */
    double *G = scratch;
    for (int m = 0; m < h; m++)
        for (int p = 0; p < LANES; p++) {
            double z = sqrt(q[p]) * s->x[m];
            double fp = act_phi(s->act, z), fm = act_phi(s->act, -z);
            double dp = act_dphi(s->act, z), dm = act_dphi(s->act, -z);
            size_t at = (size_t)m * LANES + (size_t)p, plane = (size_t)h * LANES;
            G[at] = fp + fm;
            G[plane + at] = fp - fm;
            G[2 * plane + at] = dp + dm;
            G[3 * plane + at] = dp - dm;
        }
    double row[LANES];
    for (int f = 0; f < 2; f++) { /* the rule's E[f^2] = sum_m w_m (f(z)^2 + f(-z)^2) = w_m (G+^2 + G-^2) / 2 */
        const double *Ge = G + (size_t)(f * 2) * (size_t)h * LANES, *Go = Ge + (size_t)h * LANES;
        double acc[LANES] = {0};
        for (int m = 0; m < h; m++) {
            double wm = 0.5 * s->w[m];
            for (int p = 0; p < LANES; p++) {
                double e = Ge[(size_t)m * LANES + (size_t)p], o = Go[(size_t)m * LANES + (size_t)p];
                acc[p] += wm * (e * e + o * o);
            }
        }
        for (int p = 0; p < LANES; p++) gh[(size_t)f * LANES + (size_t)p] = acc[p];
    }
    for (int f = 0; f < 2; f++) {
        double *c = cf + (size_t)f * HS_ROWS * stride, *ss = sq + (size_t)f * LANES;
        for (int p = 0; p < LANES; p++) ss[p] = 0;
        for (int r = 0; r <= HS_TERMS; r++) {
            int k = r < HS_TERMS ? s->start[f] + 2 * r : s->extra[f];
            if (k < 0) {
                for (int p = 0; p < LANES; p++) c[(size_t)r * stride + (size_t)p] = 0;
                continue;
            }
            const double *Gp = G + (size_t)(f * 2 + (k & 1)) * (size_t)h * LANES;
            transform_row(s->W + (size_t)k * (size_t)h, h, Gp, row);
            for (int p = 0; p < LANES; p++) {
                c[(size_t)r * stride + (size_t)p] = row[p];
                ss[p] += row[p] * row[p];
            }
        }
    }
}
