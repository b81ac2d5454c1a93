/* circle.c -- closed forms on the circle S^1 (one hidden ReLU layer, unit
 * inputs) and continuum eigenvalues of any kernel profile on it. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

#include "quad.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double ntk_circle_k0(double d) { return (sin(d) + (M_PI - d) * cos(d)) / (2 * M_PI); }
double ntk_circle_k1(double d) { return (M_PI - d) / (2 * M_PI); }

double ntk_circle_theta(double d, int with_bias)
{
    return ntk_circle_k0(d) + ((with_bias ? 1.0 : 0.0) + cos(d)) * ntk_circle_k1(d);
}

/* Composite Gauss-Legendre on [0, pi]: enough panels that every panel sees at
 * most a quarter period of cos(k d) for k < kmax, 16 nodes per panel. */
ntk_status ntk_circle_eigenvalues(double (*profile)(double, void *), void *ctx, int kmax, double *lambda)
{
    if (kmax < 1 || kmax > 100000) return ntk_set_error(NTK_EINVAL, "circle eigenvalues: kmax %d out of range", kmax);
    enum { NODES = 16 };
    double x[NODES], w[NODES];
    ntk_status st = quad_legendre(NODES, x, w);
    if (st != NTK_OK) return st;
    int panels = 64 + 2 * kmax;
    for (int k = 0; k < kmax; k++) lambda[k] = 0;
    double h = M_PI / panels;
    for (int p = 0; p < panels; p++) {
        double mid = (p + 0.5) * h;
        for (int m = 0; m < NODES; m++) {
            double d = mid + 0.5 * h * x[m], f = profile(d, ctx) * 0.5 * h * w[m];
            /* cos(k d) by the Chebyshev recurrence */
            double c0 = 1, c1 = cos(d), c2c = 2 * c1;
            lambda[0] += f;
            if (kmax > 1) lambda[1] += f * c1;
            for (int k = 2; k < kmax; k++) {
                double c = c2c * c1 - c0;
                lambda[k] += f * c;
                c0 = c1;
                c1 = c;
            }
        }
    }
    for (int k = 0; k < kmax; k++) lambda[k] /= M_PI;
    return NTK_OK;
}

double ntk_circle_eigenvalue_closed(int k, int with_bias)
{
    double pi2 = M_PI * M_PI;
    if (k < 0) return NAN;
    if (k == 0) return (with_bias ? 0.25 : 0.0) + 3 / pi2;
    if (k == 1) return 0.25 + (with_bias ? 1 / pi2 : 0.0);
    double kk = (double)k * k;
    if (k % 2 == 0) return (kk + 3) / (pi2 * (kk - 1) * (kk - 1));
    return with_bias ? 1 / (pi2 * kk) : 0.0;
}
