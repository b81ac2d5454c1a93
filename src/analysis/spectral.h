/* spectral.h -- internal helpers of spectral.c and lanczos.c shared with the tracker (track.c). */
#ifndef NTK_SPECTRAL_H
#define NTK_SPECTRAL_H
#include "ntkdrift.h"

#include <lapacke.h>

/* Index of the first NaN/Inf among count entries of A, or count if none. */
size_t spectral_nonfinite(size_t count, const double *A);
/* Workspace (doubles) of spectral_angles for U, V: [n x p]. */
size_t spectral_angles_lwork(size_t n, int p);
/* Principal angles of span(U), span(V) (row- or column-major by colmajor), ascending; work: [lwork]. */
ntk_status spectral_angles(int colmajor, size_t n, int p, const double *U, const double *V, double *angles,
                           double *work, size_t lwork);
/* Yc = H Y (column means removed), Y, Yc: [n x k]; returns ||Yc Yc^T||_F. */
double spectral_center_targets(size_t n, int k, const double *Y, double *Yc);
/* Centred alignment of K: [n x n] with centred targets Yc: [n x k] (ynorm from above); work: [2n + n k]. */
double spectral_alignment(size_t n, const double *K, int k, const double *Yc, double ynorm, double *work);
/* Workspace of spectral_lanczos_extremes: doubles and lapack_ints. */
size_t spectral_lanczos_lwork(size_t n, int maxit);
size_t spectral_lanczos_liwork(int maxit);
/* The smallest and largest eigenvalues of A: [n x n] symmetric (its lower triangle, column-major) by
 * Lanczos with full reorthogonalization, each within tol * max(|lo|, |hi|) of an eigenvalue of A by
 * its residual (lanczos.c).  Returns 1 when both are certified within maxit steps, else 0 (lo, hi
 * untouched: reduce A instead).  ws: [spectral_lanczos_lwork(n, maxit)], iws: [spectral_lanczos_liwork(maxit)]. */
int spectral_lanczos_extremes(size_t n, const double *A, int maxit, double tol, double *ws, lapack_int *iws,
                              double *lo, double *hi);
#endif
