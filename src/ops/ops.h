/* ops.h -- internal to src/ops/: what the Fourier projections, the circulant operator and operator
 * gradient descent share. */
#ifndef NTK_OPS_H
#define NTK_OPS_H
#include <stddef.h>

#include <fftw3.h>

#include "ntkdrift.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_SQRT2
#define M_SQRT2 1.41421356237309504880
#endif

/* A sample column of squared norm at most this times n counts as zero: sin(n/2 g) on a grid of n
 * points has squared norm ~ n^3 1e-32 from rounding, far below; a true column has norm^2 ~ n/2. */
#define OPS_ZERO_COL2 1e-16

/* The coefficient on a normalised column from the dot product and the column's squared norm over
 * n points (0 for a zero column). */
double ops_unit_coef(double dot, double norm2, size_t n);
/* Internal access to a circulant operator: its nc = n/2 + 1 eigenvalues mu_0..mu_{n/2} and its
 * r2c / c2r plans (new-array execution on fftw_malloc'ed buffers). */
const double *ops_circulant_mu(const ntk_circulant *c);
fftw_plan ops_circulant_fwd(const ntk_circulant *c);
fftw_plan ops_circulant_bwd(const ntk_circulant *c);
/* The r2c transform of x [n] into a fresh fftw_malloc'ed buffer of n/2 + 1 (NULL: out of memory). */
fftw_complex *ops_circulant_forward(const ntk_circulant *c, const double *x);
/* coef [2K+1] on the unit Fourier columns at g_j = g0 + 2 pi j / n from R [n/2 + 1], the r2c
 * transform of the function; K <= n/2. */
/* The coefficient of the same on the unit cos (sin_part 0) or sin (1) column of frequency m <= n/2. */
double ops_circulant_mode_coef(size_t n, const fftw_complex *R, double g0, size_t m, int sin_part);
void ops_circulant_project_spectrum(size_t n, const fftw_complex *R, double g0, int K, double *coef);
#endif
