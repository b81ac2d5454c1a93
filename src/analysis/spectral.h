/* spectral.h -- internal helpers of spectral.c shared with the tracker (track.c). */
#ifndef NTK_SPECTRAL_H
#define NTK_SPECTRAL_H
#include "ntkdrift.h"

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
#endif
