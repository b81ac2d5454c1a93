/* quad.c -- Gauss-Legendre rules from the eigen-decomposition
 * of the Jacobi matrix of the three-term recurrence (Golub & Welsch 1969):
 * nodes are the eigenvalues, weights mu0 * (first eigenvector component)^2. */
#include "quad.h"
#include "ntk_private.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

/* diag: [n] recurrence alphas, off: [n-1] sqrt(betas); nodes x, weights w: [n]. */
static ntk_status golub_welsch(int n, double *diag, double *off, double mu0, double *x, double *w)
{
    double *z = malloc((size_t)n * (size_t)n * sizeof *z);
    if (!z) return ntk_set_error(NTK_ENOMEM, "quadrature: out of memory for %d nodes", n);
    lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', n, diag, off, z, n);
    if (info != 0) {
        free(z);
        return ntk_set_error(NTK_ENUMERIC, "quadrature: dstev failed (info %d) for %d nodes", (int)info, n);
    }
    for (int i = 0; i < n; i++) {
        x[i] = diag[i];
        double v = z[(size_t)i * (size_t)n]; /* first component of eigenvector i (column-major) */
        w[i] = mu0 * v * v;
    }
    free(z);
    return NTK_OK;
}

ntk_status quad_legendre(int n, double *x, double *w)
{
    if (n < 1 || n > 4096) return ntk_set_error(NTK_EINVAL, "Gauss-Legendre: %d nodes out of range 1..4096", n);
    double *d = calloc((size_t)n, sizeof *d), *e = calloc((size_t)n, sizeof *e);
    ntk_status st = NTK_ENOMEM;
    if (d && e) {
        for (int k = 1; k < n; k++) e[k - 1] = k / sqrt(4.0 * k * k - 1.0);
        st = golub_welsch(n, d, e, 2.0, x, w);
    } else
        ntk_set_error(NTK_ENOMEM, "Gauss-Legendre: out of memory");
    free(d);
    free(e);
    return st;
}
