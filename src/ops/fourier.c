/* fourier.c -- the Fourier basis on points of the circle and the projections of a function on it
 * (docs/modes.md): Phi [n x (2K+1)] with the columns 1, sqrt2 cos(k g), sqrt2 sin(k g), and the
 * coefficients on its columns normalised on the sample. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "ops.h"

#include <math.h>
#include <stdlib.h>

ntk_status ntk_fourier_matrix(size_t n, const double *gamma, int K, double *Phi)
{
    if (!gamma || !Phi || n == 0 || K < 0)
        return ntk_set_error(NTK_EINVAL, "fourier_matrix: need n >= 1, K >= 0 and non-NULL gamma, Phi");
    size_t w = 2 * (size_t)K + 1;
    for (size_t i = 0; i < n; i++) {
        double *row = Phi + i * w;
        row[0] = 1;
        for (int k = 1; k <= K; k++) {
            row[2 * k - 1] = M_SQRT2 * cos(k * gamma[i]);
            row[2 * k] = M_SQRT2 * sin(k * gamma[i]);
        }
    }
    return NTK_OK;
}

void ntk_fourier_planes(int K, const double *coef, double *plane)
{
    plane[0] = fabs(coef[0]);
    for (int k = 1; k <= K; k++) plane[k] = hypot(coef[2 * k - 1], coef[2 * k]);
}

double ops_unit_coef(double dot, double norm2, size_t n)
{
    return norm2 > OPS_ZERO_COL2 * (double)n ? dot / sqrt(norm2) : 0;
}

ntk_status ntk_fourier_project(size_t n, const double *gamma, int K, const double *r, double *coef, double *plane)
{
    if (!gamma || !r || n == 0 || K < 0)
        return ntk_set_error(NTK_EINVAL, "fourier_project: need n >= 1, K >= 0 and non-NULL gamma, r");
    size_t w = 2 * (size_t)K + 1;
    double *dot = calloc(2 * w, sizeof *dot), *nrm = dot ? dot + w : NULL;
    if (!dot) return ntk_set_error(NTK_ENOMEM, "fourier_project: no memory (K %d)", K);
    for (size_t i = 0; i < n; i++) { /* unnormalised columns 1, cos, sin: the sqrt2 cancels on normalising */
        dot[0] += r[i];
        nrm[0] += 1;
        for (int k = 1; k <= K; k++) {
            double c = cos(k * gamma[i]), s = sin(k * gamma[i]);
            dot[2 * k - 1] += c * r[i], nrm[2 * k - 1] += c * c;
            dot[2 * k] += s * r[i], nrm[2 * k] += s * s;
        }
    }
    double *cf = coef ? coef : dot; /* in place when only planes are wanted */
    for (size_t p = 0; p < w; p++) cf[p] = ops_unit_coef(dot[p], nrm[p], n);
    if (plane) ntk_fourier_planes(K, cf, plane);
    free(dot);
    return NTK_OK;
}
