/* rkhs.c -- evolving-RKHS diagnostics of one kernel K_t: the RKHS norms of the target and of the
 * current function under the ridge-regularized kernel, the effective dimension, the share of
 * target and residual energy in the top-k eigenspace, and the conditioning (reported, never
 * clamped).  docs/train.md, "RKHS diagnostics". */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ||U^T v||^2 / ||v||^2; U: [n x p] column-major, v: [n].  NaN when v = 0 or p = 0. */
static double energy_share(size_t n, int p, const double *U, const double *v)
{
    double vv = cblas_ddot((int)n, v, 1, v, 1), in = 0;
    for (int j = 0; j < p; j++) {
        double c = cblas_ddot((int)n, U + (size_t)j * n, 1, v, 1);
        in += c * c;
    }
    return vv > 0 && p > 0 ? in / vv : NAN;
}

ntk_status ntk_rkhs_stats(size_t n, const double *K, const double *w, int p, const double *U, const double *y,
                          const double *f, double ridge, ntk_rkhs *out)
{
    if (!K || !w || !y || !f || !out || (p > 0 && !U))
        return ntk_set_error(NTK_EINVAL, "rkhs_stats: K, w, y, f, out (and U when p > 0) must not be NULL");
    if (n == 0 || n > 46340 || p < 0 || (size_t)p > n || !(ridge > 0) || !isfinite(ridge))
        return ntk_set_error(NTK_EINVAL, "rkhs_stats: need 0 < n <= 46340, 0 <= p <= n and a finite ridge > 0 "
                             "(n %zu, p %d, ridge %g)", n, p, ridge);
    double *A = malloc((n * n + 2 * n) * sizeof *A);
    if (!A) return ntk_set_error(NTK_ENOMEM, "rkhs_stats: no memory for n = %zu", n);
    double *sy = A + n * n, *sf = sy + n;
    memcpy(A, K, n * n * sizeof *A);
    for (size_t i = 0; i < n; i++) A[i * n + i] += ridge;
    memcpy(sy, y, n * sizeof *sy);
    memcpy(sf, f, n * sizeof *sf);
    /* A is symmetric, so read column-major it is itself: LAPACK factors it in place (a row-major
     * LAPACKE call would copy the n x n matrix to column-major and back, more than the factorization's
     * own time at n = 512), with the same operations on the same numbers as that call. */
    lapack_int N = (lapack_int)n;
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', N, A, N);
    if (info == 0) info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', N, 1, A, N, sy, N);
    if (info == 0) info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', N, 1, A, N, sf, N);
    if (info != 0) {
        free(A);
        return ntk_set_error(NTK_ENUMERIC, "rkhs_stats: K + ridge I is not positive definite (ridge %g, "
                             "LAPACK info %d): K is indefinite beyond the ridge", ridge, (int)info);
    }
    out->ridge = ridge;
    out->norm_y = cblas_ddot((int)n, y, 1, sy, 1);
    out->norm_f = cblas_ddot((int)n, f, 1, sf, 1);
    double ed = 0;
    for (size_t i = 0; i < n; i++) ed += w[i] / (w[i] + ridge);
    out->eff_dim = ed;
    for (size_t i = 0; i < n; i++) sy[i] = f[i] - y[i]; /* residual */
    out->energy_y = energy_share(n, p, U, y);
    out->energy_r = energy_share(n, p, U, sy);
    out->cond = w[n - 1] > 0 ? w[0] / w[n - 1] : INFINITY;
    free(A);
    return NTK_OK;
}
