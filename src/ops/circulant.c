/* circulant.c -- the operator A = K/n of a kernel of the angle difference on an equispaced circle
 * grid, by FFT (FFTW).  A is a symmetric circulant matrix; its eigenvalues are the discrete Fourier
 * coefficients of its first row and its eigenvectors the Fourier modes, so a product with A is two
 * real FFTs and a scaling.  Plans use FFTW_ESTIMATE (the same algorithm on every run, hence the same
 * bits) and are made under one lock (FFTW's planner is not thread-safe); every call works in
 * buffers of its own, so one handle serves several threads. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "ops.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ntk_circulant {
    size_t n, nc;         /* points, complex coefficients n/2 + 1 */
    double *mu;           /* [nc] eigenvalue of frequency m = 0..n/2 */
    fftw_plan fwd, bwd;   /* r2c and c2r of size n (new-array execution) */
};

size_t ntk_circulant_size(const ntk_circulant *c) { return c ? c->n : 0; }

ntk_status ntk_circulant_row(size_t n, double (*profile)(double delta, void *ctx), void *ctx, double *row)
{
    if (!profile || !row || n == 0) return ntk_set_error(NTK_EINVAL, "circulant_row: need n >= 1, a profile and row");
    for (size_t j = 0; j < n; j++) /* the angle to g_j folded into [0, pi], the same for j and n - j */
        row[j] = profile(2 * M_PI * (double)(j <= n - j ? j : n - j) / (double)n, ctx);
    return NTK_OK;
}

/* Forward transform of x [n] into a fresh fftw_malloc buffer of nc coefficients (NULL: out of memory). */
fftw_complex *ops_circulant_forward(const ntk_circulant *c, const double *x)
{
    double *in = fftw_malloc(c->n * sizeof *in);
    fftw_complex *out = fftw_malloc(c->nc * sizeof *out);
    if (in && out) {
        memcpy(in, x, c->n * sizeof *in);
        fftw_execute_dft_r2c(c->fwd, in, out);
    }
    fftw_free(in);
    if (!in && out) fftw_free(out), out = NULL;
    return out;
}

void ntk_circulant_free(ntk_circulant *c)
{
    if (!c) return;
#pragma omp critical(ntk_fftw_planner)
    {
        if (c->fwd) fftw_destroy_plan(c->fwd);
        if (c->bwd) fftw_destroy_plan(c->bwd);
    }
    free(c->mu);
    free(c);
}

ntk_status ntk_circulant_create(size_t n, const double *row, ntk_circulant **out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "circulant: out must not be NULL");
    *out = NULL;
    if (!row || n < 2 || n > (size_t)1 << 30)
        return ntk_set_error(NTK_EINVAL, "circulant: need 2 <= n <= 2^30 points and a row (n %zu)", n);
    double amax = 0;
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(row[j])) return ntk_set_error(NTK_EINVAL, "circulant: row[%zu] is not finite", j);
        amax = fmax(amax, fabs(row[j]));
    }
    for (size_t j = 1; j < n; j++)
        if (fabs(row[j] - row[n - j]) > 1e-12 * amax)
            return ntk_set_error(NTK_EINVAL,
                                 "circulant: the kernel row is not symmetric (row[%zu] = %.17g, row[%zu] = %.17g): "
                                 "not a kernel of the angle difference on an equispaced grid",
                                 j, row[j], n - j, row[n - j]);
    ntk_circulant *c = calloc(1, sizeof *c);
    if (!c) return ntk_set_error(NTK_ENOMEM, "circulant: no memory");
    c->n = n, c->nc = n / 2 + 1;
    c->mu = malloc(c->nc * sizeof *c->mu);
    double *in = fftw_malloc(n * sizeof *in);
    fftw_complex *co = fftw_malloc(c->nc * sizeof *co);
    if (c->mu && in && co) {
#pragma omp critical(ntk_fftw_planner)
        {
            c->fwd = fftw_plan_dft_r2c_1d((int)n, in, co, FFTW_ESTIMATE);
            c->bwd = fftw_plan_dft_c2r_1d((int)n, co, in, FFTW_ESTIMATE);
        }
    }
    ntk_status st = c->mu && in && co && c->fwd && c->bwd ? NTK_OK
                                                         : ntk_set_error(NTK_ENOMEM, "circulant: no memory (n %zu)", n);
    fftw_free(in);
    fftw_free(co);
    fftw_complex *F = st == NTK_OK ? ops_circulant_forward(c, row) : NULL;
    if (st == NTK_OK && !F) st = ntk_set_error(NTK_ENOMEM, "circulant: no memory (n %zu)", n);
    for (size_t m = 0; F && m < c->nc; m++) c->mu[m] = F[m][0] / (double)n; /* the imaginary part is 0 by symmetry */
    fftw_free(F);
    if (st != NTK_OK) ntk_circulant_free(c);
    else *out = c;
    return st;
}

ntk_status ntk_circulant_eigenvalues(const ntk_circulant *c, double *mu)
{
    if (!c || !mu) return ntk_set_error(NTK_EINVAL, "circulant_eigenvalues: c and mu must not be NULL");
    for (size_t m = 0; m < c->n; m++) mu[m] = c->mu[m < c->nc ? m : c->n - m];
    return NTK_OK;
}

const double *ops_circulant_mu(const ntk_circulant *c) { return c->mu; }

ntk_status ntk_circulant_apply(const ntk_circulant *c, const double *x, double *y)
{
    if (!c || !x || !y) return ntk_set_error(NTK_EINVAL, "circulant_apply: c, x and y must not be NULL");
    fftw_complex *F = ops_circulant_forward(c, x);
    double *out = F ? fftw_malloc(c->n * sizeof *out) : NULL;
    if (!out) {
        fftw_free(F);
        return ntk_set_error(NTK_ENOMEM, "circulant_apply: no memory (n %zu)", c->n);
    }
    for (size_t m = 0; m < c->nc; m++) F[m][0] *= c->mu[m], F[m][1] *= c->mu[m];
    fftw_execute_dft_c2r(c->bwd, F, out);
    for (size_t i = 0; i < c->n; i++) y[i] = out[i] / (double)c->n; /* FFTW's inverse is unnormalised */
    fftw_free(F);
    fftw_free(out);
    return NTK_OK;
}

double ops_circulant_mode_coef(size_t n, const fftw_complex *R, double g0, size_t m, int sin_part)
{
    if (m == 0) return sin_part ? 0 : ops_unit_coef(R[0][0], (double)n, n);
    /* sum_j r_j e^{-i m g_j} = e^{-i m g0} R_m: its real part is the cos sum, minus its imaginary part the sin sum */
    double a = (double)m * g0, cr = cos(a), ci = -sin(a);
    double re = cr * R[m][0] - ci * R[m][1], im = cr * R[m][1] + ci * R[m][0];
    double norm2 = (double)n / 2; /* sum_j cos^2(m g_j) = sum_j sin^2(m g_j) = n/2 for 0 < m < n/2 */
    if (2 * m == n) norm2 = (double)n * (sin_part ? sin(a) * sin(a) : cos(a) * cos(a)); /* cos(m g_j) = (-1)^j cos(m g0) */
    return ops_unit_coef(sin_part ? -im : re, norm2, n);
}

void ops_circulant_project_spectrum(size_t n, const fftw_complex *R, double g0, int K, double *coef)
{
    coef[0] = ops_circulant_mode_coef(n, R, g0, 0, 0);
    for (int k = 1; k <= K; k++) {
        coef[2 * k - 1] = ops_circulant_mode_coef(n, R, g0, (size_t)k, 0);
        coef[2 * k] = ops_circulant_mode_coef(n, R, g0, (size_t)k, 1);
    }
}

ntk_status ntk_circulant_project(const ntk_circulant *c, double g0, int K, const double *r, double *coef,
                                 double *plane)
{
    if (!c || !r) return ntk_set_error(NTK_EINVAL, "circulant_project: c and r must not be NULL");
    if (K < 0 || 2 * (size_t)K > c->n)
        return ntk_set_error(NTK_EINVAL, "circulant_project: K = %d must be in [0, n/2] (n %zu)", K, c->n);
    double *cf = coef ? coef : malloc((2 * (size_t)K + 1) * sizeof *cf);
    fftw_complex *R = cf ? ops_circulant_forward(c, r) : NULL;
    if (!R) {
        if (!coef) free(cf);
        return ntk_set_error(NTK_ENOMEM, "circulant_project: no memory (n %zu)", c->n);
    }
    ops_circulant_project_spectrum(c->n, (const fftw_complex *)R, g0, K, cf);
    if (plane) ntk_fourier_planes(K, cf, plane);
    fftw_free(R);
    if (!coef) free(cf);
    return NTK_OK;
}

fftw_plan ops_circulant_fwd(const ntk_circulant *c) { return c->fwd; }
fftw_plan ops_circulant_bwd(const ntk_circulant *c) { return c->bwd; }
