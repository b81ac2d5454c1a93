/* act.c -- activations relu, erf, tanh, gelu (exact, x * Phi(x)), identity. */
#include "act.h"

#include <math.h>

#include "la.h"

static const double INV_SQRT2 = 0.70710678118654752440;
static const double INV_SQRT2PI = 0.39894228040143267794;
static const double TWO_OVER_SQRTPI = 1.12837916709551257390;

double act_phi(ntk_act a, double z)
{
    switch (a) {
    case NTK_ACT_RELU: return z > 0 ? z : 0;
    case NTK_ACT_ERF: return erf(z);
    case NTK_ACT_TANH: return tanh(z);
    case NTK_ACT_GELU: return 0.5 * z * (1.0 + erf(z * INV_SQRT2));
    case NTK_ACT_IDENTITY: return z;
    }
    return NAN;
}

double act_dphi(ntk_act a, double z)
{
    switch (a) {
    case NTK_ACT_RELU: return z > 0 ? 1.0 : 0.0;
    case NTK_ACT_ERF: return TWO_OVER_SQRTPI * exp(-z * z);
    case NTK_ACT_TANH: {
        double t = tanh(z);
        return 1.0 - t * t;
    }
    case NTK_ACT_GELU: return 0.5 * (1.0 + erf(z * INV_SQRT2)) + z * INV_SQRT2PI * exp(-0.5 * z * z);
    case NTK_ACT_IDENTITY: return 1.0;
    }
    return NAN;
}

void act_forward(ntk_act a, ntk_dtype t, size_t n, const void *z, void *h)
{
    if (t == NTK_F64 && a == NTK_ACT_RELU) {
        const double *zz = z;
        double *hh = h;
        for (size_t i = 0; i < n; i++) hh[i] = zz[i] > 0 ? zz[i] : 0;
        return;
    }
    for (size_t i = 0; i < n; i++) la_set(h, i, t, act_phi(a, la_get(z, i, t)));
}

void act_deriv_mul_rows(ntk_act a, ntk_dtype t, size_t N, int k, size_t n, const void *Z, void *D)
{
    if (a == NTK_ACT_IDENTITY) return;
    for (size_t i = 0; i < N; i++) {
        for (size_t u = 0; u < n; u++) {
            double g = act_dphi(a, la_get(Z, i * n + u, t));
            for (int c = 0; c < k; c++) {
                size_t idx = (i * (size_t)k + (size_t)c) * n + u;
                la_set(D, idx, t, la_get(D, idx, t) * g);
            }
        }
    }
}
