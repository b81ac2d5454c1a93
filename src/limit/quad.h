/* quad.h -- internal: Gauss quadrature rules by Golub-Welsch (LAPACK dstev). */
#ifndef NTK_QUAD_H
#define NTK_QUAD_H
#include "ntkdrift.h"

/* Gauss-Legendre on [-1, 1]: x, w: [n]. */
ntk_status quad_legendre(int n, double *x, double *w);
#endif
