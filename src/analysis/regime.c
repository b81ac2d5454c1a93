/* regime.c -- the per-cell summary of a finished training run (docs/sweep.md): its regime label
 * (lazy / weak feature learning / unstable) and catapult flag, a snapshot curve read at any time,
 * the RMSE per entry of its test errors and the infinite-width predictor started from its f_0. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>

const char *ntk_regime_name(ntk_regime r)
{
    switch (r) {
    case NTK_REGIME_LAZY: return "lazy";
    case NTK_REGIME_WEAK: return "weak_feature_learning";
    case NTK_REGIME_UNSTABLE: return "unstable";
    }
    return "?";
}

ntk_regime_opts ntk_regime_defaults(void)
{
    ntk_regime_opts o = {0.1, 0.1, 1.0, 1.0};
    return o;
}

static ntk_status check_opts(const ntk_regime_opts *o)
{
    static const char *const names[4] = {"lazy_drift", "lazy_lin_err", "unstable_loss_ratio", "catapult_spike"};
    const double v[4] = {o->lazy_drift, o->lazy_lin_err, o->unstable_loss_ratio, o->catapult_spike};
    for (int i = 0; i < 4; i++) {
        bool ok = isfinite(v[i]) && (i == 2 ? v[i] > 0 : v[i] >= 0); /* the ratio must be > 0, the rest >= 0 */
        if (!ok)
            return ntk_set_error(NTK_EINVAL, "regime: %s must be finite and %s 0 (got %g)", names[i],
                                 i == 2 ? ">" : ">=", v[i]);
    }
    return NTK_OK;
}

/* The comparisons are written so that a NaN summary value (a missing column) falls on the safe
 * side: a NaN final loss is unstable, a NaN drift or linearization error is not lazy, and a NaN
 * loss or eigenvalue is no catapult. */
ntk_status ntk_regime_classify(const ntk_regime_opts *o, const ntk_cell_summary *c, ntk_regime *out, int *catapult)
{
    if (!o || !c || !out) return ntk_set_error(NTK_EINVAL, "regime: options, summary and output must not be NULL");
    ntk_status st = check_opts(o);
    if (st != NTK_OK) return st;
    bool unstable = c->diverged || !(c->loss_T < o->unstable_loss_ratio * c->loss0);
    if (catapult)
        *catapult = !unstable && c->loss_max > (1 + o->catapult_spike) * c->loss0 && c->lambda_max_T < c->lambda_max_0;
    if (unstable) *out = NTK_REGIME_UNSTABLE;
    else if (c->drift_fro <= o->lazy_drift && c->lin_err <= o->lazy_lin_err) *out = NTK_REGIME_LAZY;
    else *out = NTK_REGIME_WEAK;
    return NTK_OK;
}

double ntk_interp_at(size_t S, const double *t, const double *v, double tau)
{
    if (S == 0 || !t || !v) return NAN;
    if (S == 1) return tau == t[0] ? v[0] : NAN;
    for (size_t r = 1; r < S; r++) {
        double t0 = t[r - 1], t1 = t[r];
        if (tau >= t0 && tau <= t1 && t1 > t0) { /* a NaN t or tau matches no interval */
            double w = (tau - t0) / (t1 - t0);
            return (1 - w) * v[r - 1] + w * v[r]; /* w = 1 at t1 gives v[r] exactly */
        }
    }
    return NAN;
}

double ntk_rmse(size_t n, const double *a, const double *b)
{
    if (n == 0 || !a || !b) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        s += d * d;
    }
    return sqrt(s) / sqrt((double)n);
}

double ntk_mean_diag(size_t n, const double *K)
{
    if (n == 0 || !K) return NAN;
    double md = 0;
    for (size_t i = 0; i < n; i++) md += K[i * n + i] / (double)n;
    return md;
}

ntk_status ntk_krr_init_shift(size_t n, const double *K, int k, const double *f0, double ridge, size_t m,
                              const double *Kxe, const double *pred, const double *f0e, double *pred_init)
{
    if (!f0 || (m > 0 && (!pred || !f0e || !pred_init)))
        return ntk_set_error(NTK_EINVAL, "krr_init_shift: f0, and for m > 0 pred, f0e and pred_init, must not be NULL");
    if (k >= 1)
        for (size_t i = 0; i < n * (size_t)k; i++)
            if (!isfinite(f0[i]))
                return ntk_set_error(NTK_EINVAL, "krr_init_shift: f0 has a non-finite entry at row %zu, output %zu",
                                     i / (size_t)k, i % (size_t)k);
    ntk_status st = ntk_krr(n, K, k, f0, ridge, m, Kxe, pred_init, NULL); /* pred_init = Kxe a_0 for now */
    if (st != NTK_OK) return st;
    for (size_t i = 0; i < m * (size_t)k; i++) pred_init[i] = pred[i] + f0e[i] - pred_init[i];
    return NTK_OK;
}
