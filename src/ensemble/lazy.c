/* lazy.c -- exact O(depth x width) sampling of K(x, x) for one random network.
 *
 * Forward: W^(l) h^(l-1) = ||h^(l-1)|| u_l with u_l ~ N(0, I) fresh (W^(l) is independent of
 * h^(l-1)).  Backward: given the probe W^(l) hhat = u_l (hhat = h^(l-1)/||h^(l-1)||), W^(l) =
 * u_l hhat^T + Wt (I - hhat hhat^T) with Wt fresh, so W^(l)^T delta = hhat (u_l . delta) +
 * ||delta|| (I - hhat hhat^T) g, g ~ N(0, I) fresh.  Both parameterizations share the forward
 * law (standard: W = a W~ with a = sqrt(sw2 / fan)); they differ in the kernel's weight factor
 * (NTK: a^2, standard: 1) and bias factor (NTK: sb^2, standard: 1). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "act.h"
#include "lazy_layers.h"

size_t ntk_lazy_work_len(const ntk_spec *s)
{
    size_t sum, mx;
    lazy_sizes(s, &sum, &mx);
    return 5 * sum + 9 * mx + (size_t)s->depth + 2;
}

static size_t off_to(const ntk_spec *s, int l) /* sum of the widths of layers 0 .. l-1 */
{
    size_t o = 0;
    for (int j = 0; j < l; j++) o += lazy_width(s, j);
    return o;
}

/* W~^(k) v for the two tangent vectors v = t, w of layer k-1 (k >= 2), conditioned on everything the
 * member has seen of W~^(k): W~ hhat = u (forward) and, with W~ = u hhat^T + W1 (I - hhat hhat^T),
 * W1^T dhat = gamma (backward).  Then W1 = dhat gamma^T + (I - dhat dhat^T) W2 with W2 fresh, so
 *   W~ v = u (hhat . v) + dhat (gamma . v_perp) + (I - dhat dhat^T) W2 v_perp,  v_perp = (I - hhat hhat^T) v,
 * and W2 on span(t_perp, w_perp) is two fresh normal vectors on an orthonormal basis of it.
 * hh, t, w, gam: [np]; u, delta: [nl]; outputs Wt, Ww: [nl]; scratch e1, e2: [np]. */
static void conditioned_apply(size_t np, size_t nl, const double *hh, const double *u, const double *delta,
                              const double *gam, const double *t, const double *w, uint64_t seed, uint64_t sub,
                              uint64_t pos, double *e1, double *e2, double *Wt, double *Ww)
{
    double ct = 0, cw = 0, dn = 0;
    for (size_t i = 0; i < np; i++) ct += hh[i] * t[i], cw += hh[i] * w[i];
    for (size_t i = 0; i < nl; i++) dn += delta[i] * delta[i];
    dn = sqrt(dn);
    /* perpendicular parts, then Gram-Schmidt: t_perp = r0 e1, w_perp = r1 e1 + r2 e2 */
    double gt = 0, gw = 0, r0 = 0, r1 = 0, r2 = 0;
    for (size_t i = 0; i < np; i++) {
        e1[i] = t[i] - ct * hh[i];
        e2[i] = w[i] - cw * hh[i];
        gt += gam[i] * e1[i];
        gw += gam[i] * e2[i];
        r0 += e1[i] * e1[i];
    }
    r0 = sqrt(r0);
    for (size_t i = 0; i < np; i++) e1[i] = r0 > 0 ? e1[i] / r0 : 0;
    for (size_t i = 0; i < np; i++) r1 += e1[i] * e2[i];
    for (size_t i = 0; i < np; i++) e2[i] -= r1 * e1[i], r2 += e2[i] * e2[i];
    r2 = sqrt(r2);
    /* fresh W2 e1, W2 e2 into Wt, Ww, combined into W2 t_perp, W2 w_perp */
    ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos, nl, Wt);
    ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos + nl, nl, Ww);
    double pt = 0, pw = 0;
    for (size_t i = 0; i < nl; i++) {
        double a = r0 * Wt[i], b = r1 * Wt[i] + r2 * Ww[i];
        Wt[i] = a, Ww[i] = b;
        if (dn > 0) pt += delta[i] / dn * a, pw += delta[i] / dn * b;
    }
    for (size_t i = 0; i < nl; i++) {
        double dh = dn > 0 ? delta[i] / dn : 0;
        Wt[i] += u[i] * ct + dh * (gt - pt);
        Ww[i] += u[i] * cw + dh * (gw - pw);
    }
}

/* d^2 f(theta + eps g) / d eps^2 at 0 along the gradient g = grad f(x), activation masks frozen for
 * relu (phi'' = 0) and exact for smooth activations: tangents tau_k = dz_k, sigma_k = d^2 z_k,
 *   tau_k   = a_k W~_k t_{k-1} + (w_k ||h_{k-1}||^2 + b_k) delta_k,      t_k = phi'(z_k) tau_k,
 *   sigma_k = a_k W~_k s_{k-1} + 2 w_k (h_{k-1} . t_{k-1}) delta_k,       s_k = phi'(z_k) sigma_k + phi''(z_k) tau_k^2,
 * (w_k, b_k the kernel's weight and bias factors), output sigma_d.  Draws 2 n_k normals per layer k >= 2
 * after the member's forward and backward draws. */
static double second_derivative(const ntk_spec *s, uint64_t seed, uint64_t sub, uint64_t pos, const double *hn,
                                const double *H, const double *U, const double *Z, const double *DL,
                                const double *GL, double *buf)
{
    int d = s->depth + 1;
    size_t mx = 1, n0 = lazy_width(s, 0);
    for (int l = 0; l <= d; l++) mx = lazy_width(s, l) > mx ? lazy_width(s, l) : mx;
    double *t = buf, *w = t + mx, *tn = w + mx, *wn = tn + mx, *e1 = wn + mx, *e2 = e1 + mx, *tau = e2 + mx;
    const bool ntkp = s->param == NTK_PARAM_NTK;
    double out = 0;
    for (int k = 1; k <= d; k++) {
        size_t nl = lazy_width(s, k), np = lazy_width(s, k - 1);
        double a = lazy_layer_scale(s, k, d);
        ntk_bias bk = k == d ? s->bias_out : s->bias;
        double wf = ntkp ? a * a : 1.0, bf = bk == NTK_BIAS_NONE ? 0.0 : (ntkp ? s->sb * s->sb : 1.0);
        const double *delta = DL + off_to(s, k) - n0, *hh = H + off_to(s, k - 1);
        double ht = 0; /* h_{k-1} . t_{k-1} */
        if (k == 1) {
            for (size_t i = 0; i < nl; i++) tn[i] = wn[i] = 0;
        } else {
            for (size_t i = 0; i < np; i++) ht += hh[i] * t[i];
            ht *= hn[k - 1];
            conditioned_apply(np, nl, hh, U + off_to(s, k) - n0, delta, GL + off_to(s, k - 1), t, w, seed, sub, pos,
                              e1, e2, tn, wn);
            pos += 2 * nl;
        }
        double g1 = wf * hn[k - 1] * hn[k - 1] + bf;
        for (size_t i = 0; i < nl; i++) {
            tau[i] = a * tn[i] + g1 * delta[i];
            wn[i] = a * wn[i] + 2 * wf * ht * delta[i];
        }
        if (k == d) {
            out = wn[0];
            break;
        }
        const double *z = Z + off_to(s, k) - n0;
        for (size_t i = 0; i < nl; i++) {
            double d1 = act_dphi(s->act, z[i]), d2 = act_d2phi(s->act, z[i]);
            t[i] = d1 * tau[i];
            w[i] = d1 * wn[i] + d2 * tau[i] * tau[i];
        }
    }
    return out;
}

/* One member: K(x,x) and its parts; with dk, also the pathwise first-step update dK/lambda for one
 * SGD step on 1/2 (f(x) - y)^2 at x: -2 (f - y) D^2 f[grad f, grad f]. */
static ntk_status lazy_member(const ntk_spec *s, const double *x, double y, uint64_t seed, uint64_t sub, double *work,
                              ntk_member_diag *out, double *layers, double *dk)
{
    ntk_status st = ntk_spec_check(s, NULL, 0);
    if (st != NTK_OK) return st;
    if (s->outputs != 1) return ntk_set_error(NTK_EINVAL, "lazy sampler: scalar output only (outputs = %d)", s->outputs);
    int d = s->depth + 1;
    /* work: hn [d+1] | hhat_l, l = 0..L | u_l, l = 1..d | z_l, l = 1..L | two delta buffers */
    size_t offh = (size_t)d + 1, tot = 0, mx = 1;
    for (int l = 0; l <= d; l++) {
        tot += lazy_width(s, l);
        mx = lazy_width(s, l) > mx ? lazy_width(s, l) : mx;
    }
    double *hn = work, *H = work + offh, *U = H + tot, *Z = U + tot, *da = Z + tot, *db = da + mx;
    /* all delta_l (l = 1..d, at off_to(l) - n0) and backward draws gamma_l (l = 2..d, at off_to(l-1)),
     * kept for the pathwise update */
    double *DL = db + mx, *GL = DL + tot, *tbuf = GL + tot;
    size_t oh = 0, ou = 0, oz = 0; /* running offsets of layer l in H, U, Z */
    uint64_t pos = 0;              /* position in this member's stream */
    const bool ntkp = s->param == NTK_PARAM_NTK;
    hn[0] = sqrt(lazy_dot(lazy_width(s, 0), x, x));
    for (size_t i = 0; i < lazy_width(s, 0); i++) H[i] = hn[0] > 0 ? x[i] / hn[0] : 0;
    double fval = 0;
    for (int l = 1; l <= d; l++) { /* forward */
        size_t nl = lazy_width(s, l), np = lazy_width(s, l - 1);
        double a = lazy_layer_scale(s, l, d);
        ntk_bias bk = l == d ? s->bias_out : s->bias;
        double *ul = U + ou, *zl = Z + oz;
        ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos, nl, ul);
        pos += nl;
        double bstd = bk == NTK_BIAS_NORMAL ? s->sb : 0.0;
        double *zz = l == d ? &fval : zl;
        if (bstd > 0) {
            ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos, nl, zz);
            pos += nl;
            for (size_t i = 0; i < nl; i++) zz[i] = a * hn[l - 1] * ul[i] + bstd * zz[i];
        } else {
            for (size_t i = 0; i < nl; i++) zz[i] = a * hn[l - 1] * ul[i];
        }
        ou += nl;
        oh += np;
        if (l == d) break;
        double *hl = H + oh;
        for (size_t i = 0; i < nl; i++) hl[i] = act_phi(s->act, zl[i]);
        hn[l] = sqrt(lazy_dot(nl, hl, hl));
        for (size_t i = 0; i < nl; i++) hl[i] = hn[l] > 0 ? hl[i] / hn[l] : 0;
        oz += nl;
    }
    out->f = fval;
    /* backward: delta_d = 1, delta_{l-1} = a_l (W_l^T delta_l) o phi'(z_{l-1}) */
    double K = 0, Kw = 0, Kb = 0, dn2 = 1.0;
    da[0] = 1.0;
    for (int l = d; l >= 1; l--) {
        size_t nl = lazy_width(s, l), np = lazy_width(s, l - 1);
        double a = lazy_layer_scale(s, l, d);
        ntk_bias bk = l == d ? s->bias_out : s->bias;
        double wf = ntkp ? a * a : 1.0, bf = bk == NTK_BIAS_NONE ? 0.0 : (ntkp ? s->sb * s->sb : 1.0);
        double tw = dn2 * wf * hn[l - 1] * hn[l - 1], tb = dn2 * bf;
        Kw += tw;
        Kb += tb;
        if (layers) layers[l - 1] = tw + tb;
        if (l == d) out->K_readout = tw; /* the readout weights' term c^2 ||h^(L)||^2 */
        if (dk) memcpy(DL + off_to(s, l) - lazy_width(s, 0), da, nl * sizeof *da);
        if (l == 1) break;
        ou -= nl;
        oh -= np;
        oz -= np;
        const double *ul = U + ou, *hh = H + oh, *zp = Z + oz;
        double ud = 0, dnorm = sqrt(dn2), hg = 0, nn2 = 0;
        for (size_t i = 0; i < nl; i++) ud += ul[i] * da[i];
        ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos, np, db);
        pos += np;
        if (dk) memcpy(GL + off_to(s, l - 1), db, np * sizeof *db);
        for (size_t i = 0; i < np; i++) hg += hh[i] * db[i];
        for (size_t i = 0; i < np; i++) {
            double v = (hh[i] * ud + dnorm * (db[i] - hh[i] * hg)) * a * act_dphi(s->act, zp[i]);
            db[i] = v;
            nn2 += v * v;
        }
        double *t = da;
        da = db;
        db = t;
        dn2 = nn2;
    }
    K = Kw + Kb;
    out->K = K;
    out->K_weight = Kw;
    out->K_bias = Kb;
    if (dk) *dk = -2.0 * (out->f - y) * second_derivative(s, seed, sub, pos, hn, H, U, Z, DL, GL, tbuf);
    return NTK_OK;
}

ntk_status ntk_lazy_diag(const ntk_spec *s, const double *x, uint64_t seed, uint64_t sub, double *work,
                         ntk_member_diag *out, double *layers)
{
    return lazy_member(s, x, 0.0, seed, sub, work, out, layers, NULL);
}

ntk_status ntk_lazy_diag_update(const ntk_spec *s, const double *x, double y, uint64_t seed, uint64_t sub,
                                double *work, ntk_member_diag *out, double *layers, double *dk_path)
{
    if (!dk_path) return ntk_set_error(NTK_EINVAL, "lazy_diag_update: dk_path must not be NULL");
    return lazy_member(s, x, y, seed, sub, work, out, layers, dk_path);
}
