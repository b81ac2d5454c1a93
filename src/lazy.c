/* lazy.c -- exact O(depth x width) sampling of K(x, x) for one random network.
 *
 * Forward: W^(l) h^(l-1) = ||h^(l-1)|| u_l with u_l ~ N(0, I) fresh (W^(l) is independent of
 * h^(l-1)).  Backward: given the probe W^(l) hhat = u_l (hhat = h^(l-1)/||h^(l-1)||), W^(l) =
 * u_l hhat^T + Wt (I - hhat hhat^T) with Wt fresh, so W^(l)^T delta = hhat (u_l . delta) +
 * ||delta|| (I - hhat hhat^T) g, g ~ N(0, I) fresh.  Both parameterizations share the forward
 * law (standard: W = a W~ with a = sqrt(sw2 / fan)); they differ in the kernel's weight factor
 * (NTK: a^2, standard: 1) and bias factor (NTK: sb^2, standard: 1). */
#include "ntkdrift.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "act.h"

static size_t width_of(const ntk_spec *s, int l)
{
    return l == 0 ? (size_t)s->n0 : l <= s->depth ? (size_t)s->widths[l - 1] : 1;
}

size_t ntk_lazy_work_len(const ntk_spec *s)
{
    size_t sum = 0, mx = 1;
    for (int l = 0; l <= s->depth + 1; l++) {
        size_t w = width_of(s, l);
        sum += w;
        if (w > mx) mx = w;
    }
    return 3 * sum + 2 * mx + (size_t)s->depth + 2;
}

static double norm2(size_t n, const double *v)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i] * v[i];
    return s;
}

/* Effective weight multiplier of layer l (both parameterizations' forward law). */
static double layer_scale(const ntk_spec *s, int l, int d)
{
    double sw2 = l == d ? s->sw2_out : s->sw2;
    double fan = (l == 1 && s->first_layer == NTK_FIRST_NONE) ? 1.0 : (double)width_of(s, l - 1);
    return sqrt(sw2 / fan);
}

ntk_status ntk_lazy_diag(const ntk_spec *s, const double *x, uint64_t seed, uint64_t sub, double *work,
                         ntk_member_diag *out, double *layers)
{
    ntk_status st = ntk_spec_check(s, NULL, 0);
    if (st != NTK_OK) return st;
    if (s->outputs != 1) return ntk_set_error(NTK_EINVAL, "lazy sampler: scalar output only (outputs = %d)", s->outputs);
    int d = s->depth + 1;
    /* work: hn [d+1] | hhat_l, l = 0..L | u_l, l = 1..d | z_l, l = 1..L | two delta buffers */
    size_t offh = (size_t)d + 1, tot = 0, mx = 1;
    for (int l = 0; l <= d; l++) {
        tot += width_of(s, l);
        mx = width_of(s, l) > mx ? width_of(s, l) : mx;
    }
    double *hn = work, *H = work + offh, *U = H + tot, *Z = U + tot, *da = Z + tot, *db = da + mx;
    size_t oh = 0, ou = 0, oz = 0; /* running offsets of layer l in H, U, Z */
    uint64_t pos = 0;              /* position in this member's stream */
    const bool ntkp = s->param == NTK_PARAM_NTK;
    hn[0] = sqrt(norm2(width_of(s, 0), x));
    for (size_t i = 0; i < width_of(s, 0); i++) H[i] = hn[0] > 0 ? x[i] / hn[0] : 0;
    double fval = 0;
    for (int l = 1; l <= d; l++) { /* forward */
        size_t nl = width_of(s, l), np = width_of(s, l - 1);
        double a = layer_scale(s, l, d);
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
        hn[l] = sqrt(norm2(nl, hl));
        for (size_t i = 0; i < nl; i++) hl[i] = hn[l] > 0 ? hl[i] / hn[l] : 0;
        oz += nl;
    }
    out->f = fval;
    /* backward: delta_d = 1, delta_{l-1} = a_l (W_l^T delta_l) o phi'(z_{l-1}) */
    double K = 0, Kw = 0, Kb = 0, dn2 = 1.0;
    da[0] = 1.0;
    for (int l = d; l >= 1; l--) {
        size_t nl = width_of(s, l), np = width_of(s, l - 1);
        double a = layer_scale(s, l, d);
        ntk_bias bk = l == d ? s->bias_out : s->bias;
        double wf = ntkp ? a * a : 1.0, bf = bk == NTK_BIAS_NONE ? 0.0 : (ntkp ? s->sb * s->sb : 1.0);
        double tw = dn2 * wf * hn[l - 1] * hn[l - 1], tb = dn2 * bf;
        Kw += tw;
        Kb += tb;
        if (layers) layers[l - 1] = tw + tb;
        if (l == d) out->K_readout = tw; /* the readout weights' term c^2 ||h^(L)||^2 */
        if (l == 1) break;
        ou -= nl;
        oh -= np;
        oz -= np;
        const double *ul = U + ou, *hh = H + oh, *zp = Z + oz;
        double ud = 0, dnorm = sqrt(dn2), hg = 0, nn2 = 0;
        for (size_t i = 0; i < nl; i++) ud += ul[i] * da[i];
        ntk_rng_normal(seed, NTK_STREAM_ENSEMBLE, sub, pos, np, db);
        pos += np;
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
    return NTK_OK;
}
