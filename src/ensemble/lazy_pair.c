/* lazy_pair.c -- exact O(depth x width) sampling of the 2 x 2 kernel block of one random network
 * at two inputs x, x' (off-diagonal entries; docs/ensemble.md, "Two inputs").
 *
 * The one-input sampler (lazy.c) generalized to the span of two vectors.  Forward: with E^(l-1) =
 * [e1 e2] an orthonormal basis of span(h^(l-1)(x), h^(l-1)(x')) (Gram-Schmidt, h = E r), W^(l) E
 * = G = [g1 g2] is a fresh standard normal n_l x 2 matrix, so W^(l) h = G r.  Backward: W^(l) =
 * G E^T + Wt (I - E E^T) with Wt independent of everything seen so far, and the two backward
 * vectors delta, delta' span a space with orthonormal basis Q = [q1 q2] (delta = Q s), so
 * Wt^T delta = Gamma s with Gamma = Wt^T Q a fresh n_{l-1} x 2 standard normal matrix:
 *   W^(l)^T delta = E (G^T delta) + (I - E E^T) Gamma s.
 * Rank one (x' parallel to x, or equal activations) drops the second basis vector, and the two
 * columns then coincide exactly. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "act.h"
#include "lazy_layers.h"

size_t ntk_lazy_pair_work_len(const ntk_spec *s)
{
    size_t sum, mx;
    lazy_sizes(s, &sum, &mx);
    return 8 * sum + 6 * mx;
}

/* Orthonormal basis of span(a, b), a, b: [n], into e1, e2: [n] with a = r[0] e1, b = r[1] e1 +
 * r[2] e2.  A component below 1e-13 of its vector's norm is dropped (its basis vector set to 0). */
static void gram_schmidt(size_t n, const double *a, const double *b, double *e1, double *e2, double r[3])
{
    double na = sqrt(lazy_dot(n, a, a)), nb = sqrt(lazy_dot(n, b, b));
    r[0] = na;
    for (size_t i = 0; i < n; i++) e1[i] = na > 0 ? a[i] / na : 0;
    r[1] = lazy_dot(n, e1, b);
    for (size_t i = 0; i < n; i++) e2[i] = b[i] - r[1] * e1[i];
    double n2 = sqrt(lazy_dot(n, e2, e2));
    if (!(n2 > 1e-13 * nb)) n2 = 0;
    r[2] = n2;
    for (size_t i = 0; i < n; i++) e2[i] = n2 > 0 ? e2[i] / n2 : 0;
    if (na == 0) { /* a = 0: b alone spans the space */
        r[1] = 0;
        r[2] = nb;
        for (size_t i = 0; i < n; i++) e2[i] = nb > 0 ? b[i] / nb : 0;
    }
}

ntk_status ntk_lazy_pair(const ntk_spec *s, const double *x1, const double *x2, uint64_t seed, uint32_t stream,
                         uint64_t sub, double *work, ntk_member_pair *out)
{
    ntk_status st = ntk_spec_check(s, NULL, 0);
    if (st != NTK_OK) return st;
    if (s->outputs != 1) return ntk_set_error(NTK_EINVAL, "lazy sampler: scalar output only (outputs = %d)", s->outputs);
    if (!x1 || !x2 || !work || !out) return ntk_set_error(NTK_EINVAL, "lazy_pair: x1, x2, work and out must not be NULL");
    int d = s->depth + 1;
    size_t tot = 0, mx = 1;
    for (int l = 0; l <= d; l++) {
        tot += lazy_width(s, l);
        mx = lazy_width(s, l) > mx ? lazy_width(s, l) : mx;
    }
    /* work: H (two activation vectors per layer 0..L) | E (two basis vectors per layer 0..L) |
     * G (two probe images per layer 1..d) | Z (two pre-activations per layer 1..L) | backward */
    double *H = work, *E = H + 2 * tot, *G = E + 2 * tot, *Z = G + 2 * tot, *bw = Z + 2 * tot;
    double *da1 = bw, *da2 = bw + mx, *db1 = bw + 2 * mx, *db2 = bw + 3 * mx, *ga = bw + 4 * mx, *gb = bw + 5 * mx;
    size_t oh = 0, og = 0; /* offsets of layer l-1 in H/E and of layer l in G/Z (pairs of vectors) */
    uint64_t pos = 0;
    const bool ntkp = s->param == NTK_PARAM_NTK;
    size_t n0 = lazy_width(s, 0);
    memcpy(H, x1, n0 * sizeof *H);
    memcpy(H + n0, x2, n0 * sizeof *H);
    for (int l = 1; l <= d; l++) { /* forward */
        size_t nl = lazy_width(s, l), np = lazy_width(s, l - 1);
        double a = lazy_layer_scale(s, l, d), r[3];
        const double *h1 = H + oh, *h2 = h1 + np;
        double *e1 = E + oh, *e2 = e1 + np, *g1 = G + og, *g2 = g1 + nl, *z1 = Z + og, *z2 = z1 + nl;
        gram_schmidt(np, h1, h2, e1, e2, r);
        ntk_rng_normal(seed, stream, sub, pos, 2 * nl, g1);
        pos += 2 * nl;
        double bstd = (l == d ? s->bias_out : s->bias) == NTK_BIAS_NORMAL ? s->sb : 0.0;
        double fz[2];
        if (l == d) z1 = fz, z2 = fz + 1;
        if (bstd > 0) {
            ntk_rng_normal(seed, stream, sub, pos, nl, z1);
            pos += nl;
            for (size_t i = 0; i < nl; i++) z1[i] *= bstd, z2[i] = z1[i];
        } else {
            for (size_t i = 0; i < nl; i++) z1[i] = z2[i] = 0;
        }
        for (size_t i = 0; i < nl; i++) {
            z1[i] += a * r[0] * g1[i];
            z2[i] += a * (r[1] * g1[i] + r[2] * g2[i]);
        }
        if (l == d) {
            out->f1 = fz[0];
            out->f2 = fz[1];
            break;
        }
        oh += 2 * np;
        og += 2 * nl;
        double *hl1 = H + oh, *hl2 = hl1 + nl;
        for (size_t i = 0; i < nl; i++) {
            hl1[i] = act_phi(s->act, z1[i]);
            hl2[i] = act_phi(s->act, z2[i]);
        }
    }
    /* backward: delta_d = 1 for both inputs */
    double k11 = 0, k22 = 0, k12 = 0;
    da1[0] = da2[0] = 1.0;
    for (int l = d; l >= 1; l--) {
        size_t nl = lazy_width(s, l), np = lazy_width(s, l - 1);
        double a = lazy_layer_scale(s, l, d);
        ntk_bias bk = l == d ? s->bias_out : s->bias;
        double wf = ntkp ? a * a : 1.0, bf = bk == NTK_BIAS_NONE ? 0.0 : (ntkp ? s->sb * s->sb : 1.0);
        const double *h1 = H + oh, *h2 = h1 + np;
        double d11 = lazy_dot(nl, da1, da1), d22 = lazy_dot(nl, da2, da2), d12 = lazy_dot(nl, da1, da2);
        k11 += d11 * (wf * lazy_dot(np, h1, h1) + bf);
        k22 += d22 * (wf * lazy_dot(np, h2, h2) + bf);
        k12 += d12 * (wf * lazy_dot(np, h1, h2) + bf);
        if (l == 1) break;
        const double *e1 = E + oh, *e2 = e1 + np, *g1 = G + og, *g2 = g1 + nl;
        const double *zp1 = Z + og - 2 * np, *zp2 = zp1 + np;
        double c11 = lazy_dot(nl, g1, da1), c12 = lazy_dot(nl, g2, da1), c21 = lazy_dot(nl, g1, da2), c22 = lazy_dot(nl, g2, da2);
        double sr[3];
        gram_schmidt(nl, da1, da2, db1, db2, sr); /* only the coefficients are needed */
        ntk_rng_normal(seed, stream, sub, pos, np, ga);
        ntk_rng_normal(seed, stream, sub, pos + np, np, gb);
        pos += 2 * np;
        double p11 = 0, p12 = 0, p21 = 0, p22 = 0;
        for (size_t i = 0; i < np; i++) {
            double w1 = sr[0] * ga[i], w2 = sr[1] * ga[i] + sr[2] * gb[i];
            db1[i] = w1;
            db2[i] = w2;
            p11 += e1[i] * w1, p12 += e2[i] * w1, p21 += e1[i] * w2, p22 += e2[i] * w2;
        }
        for (size_t i = 0; i < np; i++) {
            double w1 = db1[i] - p11 * e1[i] - p12 * e2[i] + c11 * e1[i] + c12 * e2[i];
            double w2 = db2[i] - p21 * e1[i] - p22 * e2[i] + c21 * e1[i] + c22 * e2[i];
            db1[i] = a * w1 * act_dphi(s->act, zp1[i]);
            db2[i] = a * w2 * act_dphi(s->act, zp2[i]);
        }
        double *t = da1;
        da1 = db1, db1 = t;
        t = da2;
        da2 = db2, db2 = t;
        oh -= 2 * lazy_width(s, l - 2);
        og -= 2 * np;
    }
    out->K11 = k11;
    out->K22 = k22;
    out->K12 = k12;
    return NTK_OK;
}
