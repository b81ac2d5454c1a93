/* gp.c -- a Gaussian-process draw u ~ N(0, K), the `gp` initialisation of operator gradient descent
 * (docs/modes.md): by the Cholesky factor of a dense K, or on an equispaced grid by FFT through the
 * circulant's eigenvalues (the symmetric square root F diag(sqrt(n mu)) F^-1). */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "ops.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static ntk_status draw_dense(size_t n, const double *K, double jitter, const double *z, double *u)
{
    double *L = malloc(n * n * sizeof *L), md = 0;
    if (!L) return ntk_set_error(NTK_ENOMEM, "gp_draw: no memory for the Cholesky factor (n %zu)", n);
    memcpy(L, K, n * n * sizeof *L);
    for (size_t i = 0; i < n; i++) md += K[i * n + i] / (double)n;
    for (size_t i = 0; i < n; i++) L[i * n + i] += jitter * md;
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, L, (lapack_int)n);
    if (info != 0) {
        free(L);
        return ntk_set_error(NTK_ENUMERIC, "gp_draw: K + %g mean(diag K) I is not positive definite (Cholesky pivot %d); "
                                           "raise the jitter", jitter, (int)info);
    }
    memcpy(u, z, n * sizeof *u);
    cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)n, L, (int)n, u, 1);
    free(L);
    return NTK_OK;
}

static ntk_status draw_circulant(const ntk_circulant *C, const double *z, double *u)
{
    size_t n = ntk_circulant_size(C), nc = n / 2 + 1;
    const double *mu = ops_circulant_mu(C);
    fftw_complex *Z = ops_circulant_forward(C, z);
    double *out = Z ? fftw_malloc(n * sizeof *out) : NULL;
    if (!out) {
        fftw_free(Z);
        return ntk_set_error(NTK_ENOMEM, "gp_draw: no memory (n %zu)", n);
    }
    for (size_t m = 0; m < nc; m++) { /* K's eigenvalue is n mu_m */
        double s = sqrt(fmax(0, (double)n * mu[m]));
        Z[m][0] *= s, Z[m][1] *= s;
    }
    fftw_execute_dft_c2r(ops_circulant_bwd(C), Z, out);
    for (size_t i = 0; i < n; i++) u[i] = out[i] / (double)n;
    fftw_free(Z), fftw_free(out);
    return NTK_OK;
}

ntk_status ntk_gp_draw(size_t n, const double *K, const ntk_circulant *C, double jitter, uint64_t seed, uint64_t sub,
                       double *u)
{
    if (!u || (!K && !C)) return ntk_set_error(NTK_EINVAL, "gp_draw: give u and one of K or C");
    if (!K) n = ntk_circulant_size(C);
    if (n == 0 || !(jitter >= 0)) return ntk_set_error(NTK_EINVAL, "gp_draw: need n >= 1 and jitter >= 0 (got %g)", jitter);
    double *z = malloc(n * sizeof *z);
    if (!z) return ntk_set_error(NTK_ENOMEM, "gp_draw: no memory (n %zu)", n);
    ntk_rng_normal(seed, NTK_STREAM_GP, sub, 0, n, z);
    ntk_status st = K ? draw_dense(n, K, jitter, z, u) : draw_circulant(C, z, u);
    free(z);
    return st;
}
