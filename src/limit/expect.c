/* expect.c -- 2-D Gaussian expectations E[phi(u) phi(v)] and E[phi'(u) phi'(v)],
 * (u, v) ~ N(0, [[s11, s12], [s12, s22]]): closed forms for relu (arc-cosine
 * kernels), erf and identity; quadrature for every activation.
 *
 * Quadrature: write (u, v) = r (a(t), b(t)) with a = sqrt(s11) cos t,
 * b = sqrt(s22) cos(t - theta), cos theta = rho.  Then
 *   E[g] = (1/2pi) int_0^pi int_0^R [g(ra, rb) + g(-ra, -rb)] r e^{-r^2/2} dr dt
 * (R = 10: the Gaussian tail beyond is below 1e-21).  In t the integrand can
 * only be non-smooth where a or b vanishes (kinks of relu-like activations at
 * 0): Gauss-Legendre on the pieces between those angles, graded towards
 * their ends on the scale 1/max(sqrt(s11), sqrt(s22), 1).  In r the
 * activation's structure sits at r ~ 1/max(|a|, |b|): Gauss-Legendre on panels
 * [0, 1/M], [1/M, 2/M], [2/M, 4/M], ... up to R, M = max(|a|, |b|, 1), so
 * saturating activations of large variance are resolved as well as small ones.
 * For relu every panel integrand is a polynomial times a Gaussian. */
#include "expect.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

#include "act.h"
#include "quad.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static bool has_closed_form(ntk_act a)
{
    return a == NTK_ACT_RELU || a == NTK_ACT_ERF || a == NTK_ACT_IDENTITY;
}

ntk_status expect_init(expect_ctx *c, ntk_act act, ntk_expect_method m, int nr, int nt)
{
    c->act = act;
    c->quad = m == NTK_EXPECT_QUAD || !has_closed_form(act);
    c->nr = nr > 0 ? nr : 12;
    c->nt = nt > 0 ? nt : 16;
    c->r = c->rw = c->tx = c->tw = NULL;
    if (!c->quad) return NTK_OK;
    c->r = malloc((size_t)c->nr * sizeof *c->r);
    c->rw = malloc((size_t)c->nr * sizeof *c->rw);
    c->tx = malloc((size_t)c->nt * sizeof *c->tx);
    c->tw = malloc((size_t)c->nt * sizeof *c->tw);
    if (!c->r || !c->rw || !c->tx || !c->tw) {
        expect_free(c);
        return ntk_set_error(NTK_ENOMEM, "quadrature: out of memory");
    }
    ntk_status st = quad_legendre(c->nr, c->r, c->rw);
    if (st == NTK_OK) st = quad_legendre(c->nt, c->tx, c->tw);
    if (st != NTK_OK) expect_free(c);
    return st;
}

void expect_free(expect_ctx *c)
{
    free(c->r);
    free(c->rw);
    free(c->tx);
    free(c->tw);
    c->r = c->rw = c->tx = c->tw = NULL;
}

static double clamp_rho(double s11, double s22, double s12)
{
    double den = sqrt(s11 * s22);
    if (!(den > 0)) return 0.0;
    double rho = s12 / den;
    return rho > 1 ? 1 : rho < -1 ? -1 : rho;
}

static void closed_form(ntk_act a, double s11, double s22, double th, double *ee, double *ed)
{
    double s12 = cos(th) * sqrt(s11 * s22);
    switch (a) {
    case NTK_ACT_RELU: {
        *ee = sqrt(s11 * s22) / (2 * M_PI) * (sin(th) + (M_PI - th) * cos(th));
        *ed = (M_PI - th) / (2 * M_PI);
        break;
    }
    case NTK_ACT_ERF: {
        double d1 = 1 + 2 * s11, d2 = 1 + 2 * s22, x = 2 * s12 / sqrt(d1 * d2);
        *ee = 2 / M_PI * asin(x > 1 ? 1 : x < -1 ? -1 : x);
        *ed = 4 / M_PI / sqrt(d1 * d2 - 4 * s12 * s12);
        break;
    }
    default: /* identity */
        *ee = s12;
        *ed = 1.0;
        break;
    }
}

#define RADIAL_MAX 10.0

static bool is_odd(ntk_act a) { return a == NTK_ACT_TANH || a == NTK_ACT_ERF || a == NTK_ACT_IDENTITY; }

/* int_0^R [g(rA, rB) + g(-rA, -rB)] r e^{-r^2/2} dr for g = phi phi and phi' phi'.
 * For odd activations both halves are equal (phi odd, phi' even): half the evaluations. */
static void radial(const expect_ctx *c, double A, double B, double *ie, double *id)
{
    double M = fmax(1.0, fmax(fabs(A), fabs(B))), lo = 0, hi = 1.0 / M;
    bool odd = is_odd(c->act);
    *ie = *id = 0;
    while (lo < RADIAL_MAX) {
        if (hi > RADIAL_MAX) hi = RADIAL_MAX;
        double half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
        for (int k = 0; k < c->nr; k++) {
            double r = mid + half * c->r[k], w = half * c->rw[k] * r * exp(-0.5 * r * r);
            if (odd) {
                *ie += 2 * w * act_phi(c->act, r * A) * act_phi(c->act, r * B);
                *id += 2 * w * act_dphi(c->act, r * A) * act_dphi(c->act, r * B);
                continue;
            }
            *ie += w * (act_phi(c->act, r * A) * act_phi(c->act, r * B) +
                        act_phi(c->act, -r * A) * act_phi(c->act, -r * B));
            *id += w * (act_dphi(c->act, r * A) * act_dphi(c->act, r * B) +
                        act_dphi(c->act, -r * A) * act_dphi(c->act, -r * B));
        }
        lo = hi;
        hi = lo == 1.0 / M ? 2.0 / M : 2 * lo;
    }
}

static void add_panel(const expect_ctx *c, double t0, double t1, double sa, double sb, double th, double *ee,
                      double *ed)
{
    double half = 0.5 * (t1 - t0), mid = 0.5 * (t1 + t0);
    if (!(half > 1e-300)) return;
    for (int m = 0; m < c->nt; m++) {
        double t = mid + half * c->tx[m], ie, id;
        radial(c, sa * cos(t), sb * cos(t - th), &ie, &id);
        *ee += half * c->tw[m] * ie;
        *ed += half * c->tw[m] * id;
    }
}

/* A smooth piece between two zeros of a(t) or b(t).  Near a zero the
 * integrand varies on the angular scale 1/M (M = max(sqrt(s11), sqrt(s22), 1)),
 * so panels are graded geometrically towards both ends: widths 1/M, 1/M, 2/M,
 * 4/M, ... from each end, the middle panel taking the rest. */
static void add_piece(const expect_ctx *c, double t0, double t1, double sa, double sb, double th, double *ee,
                      double *ed)
{
    double len = t1 - t0;
    if (!(len > 1e-300)) return;
    double M = fmax(1.0, fmax(sa, sb)), d = 1.0 / M, lo = t0, hi = t1;
    double prev = 0;
    while (prev + d < 0.5 * len) {
        add_panel(c, t0 + prev, t0 + prev + d, sa, sb, th, ee, ed);
        add_panel(c, t1 - prev - d, t1 - prev, sa, sb, th, ee, ed);
        lo = t0 + prev + d;
        hi = t1 - prev - d;
        prev += d;
        d = prev;   /* 1/M, 1/M, 2/M, 4/M, ... */
    }
    add_panel(c, lo, hi, sa, sb, th, ee, ed);
}

static void quadrature(const expect_ctx *c, double s11, double s22, double th, double *ee, double *ed)
{
    double sa = sqrt(s11), sb = sqrt(s22);
    double tb = th + M_PI / 2 < M_PI ? th + M_PI / 2 : th - M_PI / 2;
    double cut[4] = {0, M_PI / 2, tb, M_PI};
    if (cut[2] < cut[1]) {
        cut[2] = M_PI / 2;
        cut[1] = tb;
    }
    double e = 0, d = 0;
    for (int i = 0; i < 3; i++) add_piece(c, cut[i], cut[i + 1], sa, sb, th, &e, &d);
    *ee = e / (2 * M_PI);
    *ed = d / (2 * M_PI);
}

void expect_eval_angle(const expect_ctx *c, double s11, double s22, double theta, double *ee, double *ed)
{
    if (c->quad)
        quadrature(c, s11, s22, theta, ee, ed);
    else
        closed_form(c->act, s11, s22, theta, ee, ed);
}

/* E[g(sqrt(s) z)], z ~ N(0, 1), for g = phi^2 and phi'^2: int_0^R [g(sqrt(s) z) + g(-sqrt(s) z)] gamma(z) dz
 * by Gauss-Legendre on the radial panels [0, 1/M], [1/M, 2/M], [2/M, 4/M], ... (M = max(sqrt(s), 1)) of
 * the 2-D rule, no wider than 2: one dimension instead of two for the diagonal, where u = v.  (A
 * panel [4, 8] leaves 6e-15 relative on E[z^2] with 12 nodes; width 2 brings it to rounding.) */
static void diagonal(const expect_ctx *c, double s, double *ee, double *ed)
{
    double sa = sqrt(s), M = fmax(1.0, sa), lo = 0, hi = 1.0 / M, e = 0, d = 0;
    while (lo < RADIAL_MAX) {
        if (hi > RADIAL_MAX) hi = RADIAL_MAX;
        double half = 0.5 * (hi - lo), mid = 0.5 * (hi + lo);
        for (int k = 0; k < c->nr; k++) {
            double z = mid + half * c->r[k], w = half * c->rw[k] * exp(-0.5 * z * z);
            double fp = act_phi(c->act, sa * z), fm = act_phi(c->act, -sa * z);
            double dp = act_dphi(c->act, sa * z), dm = act_dphi(c->act, -sa * z);
            e += w * (fp * fp + fm * fm);
            d += w * (dp * dp + dm * dm);
        }
        lo = hi;
        hi = fmin(lo == 1.0 / M ? 2.0 / M : 2 * lo, lo + 2.0);
    }
    *ee = e / sqrt(2 * M_PI);
    *ed = d / sqrt(2 * M_PI);
}

void expect_eval_diag(const expect_ctx *c, double s, double *ee, double *ed)
{
    if (c->quad)
        diagonal(c, s, ee, ed);
    else
        closed_form(c->act, s, s, 0.0, ee, ed);
}

void expect_eval(const expect_ctx *c, double s11, double s22, double s12, double *ee, double *ed)
{
    expect_eval_angle(c, s11, s22, acos(clamp_rho(s11, s22, s12)), ee, ed);
}

ntk_status ntk_gauss_expect(ntk_act act, ntk_expect_method m, double s11, double s22, double s12,
                            double *e_phiphi, double *e_dphidphi)
{
    if (!(s11 >= 0) || !(s22 >= 0) || !isfinite(s12) || s12 * s12 > s11 * s22 * (1 + 1e-12) + 1e-300)
        return ntk_set_error(NTK_EINVAL, "gauss_expect: (%g, %g, %g) is not a covariance matrix", s11, s22, s12);
    expect_ctx c;
    ntk_status st = expect_init(&c, act, m, 0, 0);
    if (st != NTK_OK) return st;
    expect_eval(&c, s11, s22, s12, e_phiphi, e_dphidphi);
    expect_free(&c);
    return NTK_OK;
}
