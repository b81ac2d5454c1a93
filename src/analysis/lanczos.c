/* lanczos.c -- the two extreme eigenvalues of a symmetric matrix by the Lanczos iteration with full
 * reorthogonalization, each certified by its residual (src/analysis/spectral.h).
 *
 * The tracker needs ||K_t - K_0||_2 = max(|lambda_min|, |lambda_max|) of the drift at every snapshot,
 * and nothing else of its spectrum.  A tridiagonal reduction costs 4/3 n^3 flops (7 ms at n = 512 on
 * one core); the drift of a training run has a few dominant eigenvalues, and Lanczos certifies both
 * extremes in ~20 matrix-vector products (0.4 ms).
 *
 * Certificate: after j steps, T_j = tridiag(alpha, beta) with Ritz pair (theta, s) has residual
 * ||A Q_j s - theta Q_j s|| = beta_j |s_j| (beta_j: the norm of the next Lanczos vector), and some
 * eigenvalue of A lies within that residual of theta; the extreme Ritz values lie inside [lambda_min,
 * lambda_max].  The iteration stops when both extreme residuals are <= tol * max(|theta_min|,
 * |theta_max|); the eigenvalue error itself is of order residual^2 / gap, far below.  It reports "not
 * converged" (the caller then reduces A exactly) after maxit steps, on a breakdown before both are
 * certified, or when the extreme Ritz values are zero while A is not.  The start vector is a fixed
 * standard-normal draw (NTK_STREAM_LANCZOS), so the result is a function of A alone. */
#include "spectral.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

size_t spectral_lanczos_lwork(size_t n, int maxit)
{
    size_t m = (size_t)maxit;
    return (m + 1) * n + n + (m + 1) + 2 * m + 2 * m + m + 20 * m;
}

size_t spectral_lanczos_liwork(int maxit) { return 10 * (size_t)maxit + 2; }

/* One extreme eigenpair (il = 1: the smallest, il = j: the largest) of T_j = tridiag(al, be); the
 * last component of its eigenvector in *slast.  d, e: [j] scratch; z: [j]; work: [20 j]; iwork: [10 j + 2]. */
static int ritz_extreme(int j, const double *al, const double *be, lapack_int il, double *d, double *e, double *z,
                        double *work, lapack_int *iwork, double *theta, double *slast)
{
    memcpy(d, al, (size_t)j * sizeof *d);
    if (j > 1) memcpy(e, be, (size_t)(j - 1) * sizeof *e);
    e[j - 1] = 0;
    lapack_int m = 0, *isuppz = iwork + 10 * j;
    lapack_int info = LAPACKE_dstevr_work(LAPACK_COL_MAJOR, 'V', 'I', j, d, e, 0.0, 0.0, il, il, 0.0, &m, theta, z, j,
                                          isuppz, work, 20 * j, iwork, 10 * j);
    if (info != 0 || m != 1) return 0;
    *slast = z[j - 1];
    return 1;
}

int spectral_lanczos_extremes(size_t n, const double *A, int maxit, double tol, double *ws, lapack_int *iws,
                              double *lo, double *hi)
{
    if (n < 2 || maxit < 2) return 0;
    if ((size_t)maxit > n) maxit = (int)n;
    size_t m = (size_t)maxit;
    double *Q = ws, *w = Q + (m + 1) * n, *h = w + n, *al = h + (m + 1), *be = al + m, *d = be + m, *e = d + m,
           *z = e + m, *work = z + m;
    ntk_rng_normal(0, NTK_STREAM_LANCZOS, 0, 0, n, Q);
    double q0 = cblas_dnrm2((int)n, Q, 1);
    cblas_dscal((int)n, 1.0 / q0, Q, 1);
    for (int j = 0; j < maxit; j++) {
        double *q = Q + (size_t)j * n;
        /* w = A q_j - alpha_j q_j - beta_{j-1} q_{j-1}, then twice Gram-Schmidt against Q_{j+1} */
        cblas_dsymv(CblasColMajor, CblasLower, (int)n, 1.0, A, (int)n, q, 1, 0.0, w, 1);
        al[j] = cblas_ddot((int)n, q, 1, w, 1);
        cblas_daxpy((int)n, -al[j], q, 1, w, 1);
        if (j > 0) cblas_daxpy((int)n, -be[j - 1], q - n, 1, w, 1);
        for (int pass = 0; pass < 2; pass++) {
            cblas_dgemv(CblasColMajor, CblasTrans, (int)n, j + 1, 1.0, Q, (int)n, w, 1, 0.0, h, 1);
            cblas_dgemv(CblasColMajor, CblasNoTrans, (int)n, j + 1, -1.0, Q, (int)n, h, 1, 1.0, w, 1);
        }
        double b = cblas_dnrm2((int)n, w, 1), tmin, tmax, smin, smax;
        int jj = j + 1;
        if (!ritz_extreme(jj, al, be, 1, d, e, z, work, iws, &tmin, &smin) ||
            !ritz_extreme(jj, al, be, jj, d, e, z, work, iws, &tmax, &smax))
            return 0;
        double scale = fmax(fabs(tmin), fabs(tmax));
        if (!(scale > 0) || !isfinite(scale) || !isfinite(b)) return 0;
        if (b * fabs(smin) <= tol * scale && b * fabs(smax) <= tol * scale) {
            *lo = tmin;
            *hi = tmax;
            return 1;
        }
        if (b <= 1e-300 || (size_t)jj == n) return 0; /* breakdown, or the whole space without a certificate */
        be[j] = b;
        double *next = Q + (size_t)(j + 1) * n; /* Q has maxit + 1 columns */
        for (size_t i = 0; i < n; i++) next[i] = w[i] / b;
    }
    return 0;
}
