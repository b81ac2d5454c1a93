/* act.c -- activations relu, erf, tanh, gelu (exact, x * Phi(x)), identity,
 * sigmoid (1 / (1 + e^-z)), and the row-wise elementwise passes of forward and backward.  Loops are
 * typed per dtype with the activation switch outside them. */
#include "act.h"

#include <math.h>

#include "la.h"

static const double INV_SQRT2 = 0.70710678118654752440;
static const double INV_SQRT2PI = 0.39894228040143267794;
static const double TWO_OVER_SQRTPI = 1.12837916709551257390;

/* Sigmoid and its derivatives through e = exp(-|z|) in (0, 1]: no overflow for any z, and
 * phi' = e / (1 + e)^2, phi'' = -sgn(z) e (1 - e) / (1 + e)^3 keep full relative accuracy in
 * the tails, where phi (1 - phi) rounds to 0 from z ~ 37 on although e is still ~1e-16. */
static double sigmoid(double z)
{
    double e = exp(-fabs(z));
    return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

static double sigmoid_d1(double z)
{
    double e = exp(-fabs(z)), q = 1.0 + e;
    return e / (q * q);
}

static double sigmoid_d2(double z)
{
    /* 1 - e by expm1: no cancellation near z = 0 */
    double e = exp(-fabs(z)), q = 1.0 + e, m = e * -expm1(-fabs(z)) / (q * q * q);
    return z > 0 ? -m : m;
}

double act_phi(ntk_act a, double z)
{
    switch (a) {
    case NTK_ACT_RELU: return z > 0 ? z : 0;
    case NTK_ACT_ERF: return erf(z);
    case NTK_ACT_TANH: return tanh(z);
    case NTK_ACT_GELU: return 0.5 * z * (1.0 + erf(z * INV_SQRT2));
    case NTK_ACT_IDENTITY: return z;
    case NTK_ACT_SIGMOID: return sigmoid(z);
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
    case NTK_ACT_SIGMOID: return sigmoid_d1(z);
    }
    return NAN;
}

double act_d2phi(ntk_act a, double z)
{
    switch (a) {
    case NTK_ACT_RELU: return 0.0; /* a.e.; pathwise derivatives freeze the masks */
    case NTK_ACT_ERF: return -2.0 * z * TWO_OVER_SQRTPI * exp(-z * z);
    case NTK_ACT_TANH: {
        double t = tanh(z);
        return -2.0 * t * (1.0 - t * t);
    }
    case NTK_ACT_GELU: return INV_SQRT2PI * exp(-0.5 * z * z) * (2.0 - z * z);
    case NTK_ACT_IDENTITY: return 0.0;
    case NTK_ACT_SIGMOID: return sigmoid_d2(z);
    }
    return NAN;
}

/* sigmoid'''(z) = e (e^2 - 4e + 1) / (1 + e)^4 with e = exp(-|z|) (even in z): s' (1 - 6s + 6s^2). */
static double sigmoid_d3(double z)
{
    double e = exp(-fabs(z)), q = 1.0 + e;
    return e * (e * e - 4.0 * e + 1.0) / (q * q * q * q);
}

double act_d3phi(ntk_act a, double z)
{
    switch (a) {
    case NTK_ACT_RELU: return 0.0;
    case NTK_ACT_ERF: return (4.0 * z * z - 2.0) * TWO_OVER_SQRTPI * exp(-z * z);
    case NTK_ACT_TANH: {
        double t = tanh(z);
        return (1.0 - t * t) * (6.0 * t * t - 2.0);
    }
    case NTK_ACT_GELU: return INV_SQRT2PI * exp(-0.5 * z * z) * (z * z * z - 4.0 * z);
    case NTK_ACT_IDENTITY: return 0.0;
    case NTK_ACT_SIGMOID: return sigmoid_d3(z);
    }
    return NAN;
}

/* g[u] = phi'(z[u]) for one row, switch hoisted out of the loop. */
static void dphi_row(ntk_act a, size_t n, const double *z, double *g)
{
    switch (a) {
    case NTK_ACT_ERF:
        for (size_t u = 0; u < n; u++) g[u] = TWO_OVER_SQRTPI * exp(-z[u] * z[u]);
        break;
    case NTK_ACT_TANH:
        for (size_t u = 0; u < n; u++) {
            double t = tanh(z[u]);
            g[u] = 1.0 - t * t;
        }
        break;
    default:
        for (size_t u = 0; u < n; u++) g[u] = act_dphi(a, z[u]);
        break;
    }
}

void act_forward(ntk_act a, ntk_dtype t, size_t n, const void *z, void *h)
{
    if (a == NTK_ACT_IDENTITY) {
        if (z != h) la_convert(t, h, t, z, n);
        return;
    }
    if (t == NTK_F64) {
        const double *zz = z;
        double *hh = h;
        if (a == NTK_ACT_RELU)
            for (size_t i = 0; i < n; i++) hh[i] = zz[i] > 0 ? zz[i] : 0;
        else
            for (size_t i = 0; i < n; i++) hh[i] = act_phi(a, zz[i]);
    } else {
        const float *zz = z;
        float *hh = h;
        if (a == NTK_ACT_RELU)
            for (size_t i = 0; i < n; i++) hh[i] = zz[i] > 0 ? zz[i] : 0;
        else
            for (size_t i = 0; i < n; i++) hh[i] = (float)act_phi(a, zz[i]);
    }
}

void act_gates(ntk_dtype t, size_t n, const void *z, void *g)
{
    if (t == NTK_F64) {
        const double *zz = z;
        double *gg = g;
        for (size_t i = 0; i < n; i++) gg[i] = zz[i] > 0 ? 1.0 : 0.0;
    } else {
        const float *zz = z;
        float *gg = g;
        for (size_t i = 0; i < n; i++) gg[i] = zz[i] > 0 ? 1.0f : 0.0f;
    }
}

void act_gated_forward(ntk_dtype t, size_t n, const void *z, const void *g, void *h)
{
    if (t == NTK_F64) {
        const double *zz = z, *gg = g;
        double *hh = h;
        for (size_t i = 0; i < n; i++) hh[i] = gg[i] > 0 ? zz[i] : 0;
    } else {
        const float *zz = z, *gg = g;
        float *hh = h;
        for (size_t i = 0; i < n; i++) hh[i] = gg[i] > 0 ? zz[i] : 0;
    }
}

static void relu_mask_rows(ntk_dtype t, size_t N, size_t k, size_t n, const void *Z, void *D)
{
    if (t == NTK_F64) {
        const double *z = Z;
        double *d = D;
        for (size_t i = 0; i < N; i++)
            for (size_t c = 0; c < k; c++) {
                double *row = d + (i * k + c) * n;
                const double *zr = z + i * n;
                for (size_t u = 0; u < n; u++) row[u] = zr[u] > 0 ? row[u] : 0.0;
            }
    } else {
        const float *z = Z;
        float *d = D;
        for (size_t i = 0; i < N; i++)
            for (size_t c = 0; c < k; c++) {
                float *row = d + (i * k + c) * n;
                const float *zr = z + i * n;
                for (size_t u = 0; u < n; u++) row[u] = zr[u] > 0 ? row[u] : 0.0f;
            }
    }
}

void act_deriv_mul_rows(ntk_act a, ntk_dtype t, size_t N, int kk, size_t n, const void *Z, void *D,
                        double *scratch)
{
    size_t k = (size_t)kk;
    if (a == NTK_ACT_IDENTITY) return;
    if (a == NTK_ACT_RELU) {
        relu_mask_rows(t, N, k, n, Z, D);
        return;
    }
    double *zrow = scratch, *g = scratch + n;
    for (size_t i = 0; i < N; i++) {
        const double *zr;
        if (t == NTK_F64) {
            zr = (const double *)Z + i * n;
        } else {
            const float *zf = (const float *)Z + i * n;
            for (size_t u = 0; u < n; u++) zrow[u] = zf[u];
            zr = zrow;
        }
        dphi_row(a, n, zr, g);
        for (size_t c = 0; c < k; c++) {
            if (t == NTK_F64) {
                double *row = (double *)D + (i * k + c) * n;
                for (size_t u = 0; u < n; u++) row[u] *= g[u];
            } else {
                float *row = (float *)D + (i * k + c) * n;
                for (size_t u = 0; u < n; u++) row[u] = (float)(row[u] * g[u]);
            }
        }
    }
}

void act_add_bias_rows(ntk_dtype t, size_t N, size_t n, double alpha, const double *b, void *Y)
{
    if (t == NTK_F64) {
        double *y = Y;
        for (size_t i = 0; i < N; i++)
            for (size_t u = 0; u < n; u++) y[i * n + u] += alpha * b[u];
    } else {
        float *y = Y;
        for (size_t i = 0; i < N; i++)
            for (size_t u = 0; u < n; u++) y[i * n + u] = (float)(y[i * n + u] + alpha * b[u]);
    }
}
