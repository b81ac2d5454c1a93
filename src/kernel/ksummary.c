/* ksummary.c -- a short numeric summary of a kernel (trace, Frobenius norm, extreme entries,
 * extreme eigenvalues), whole or accumulated row block by row block (the tiled kernel). */
#include "ntkdrift.h"
#include "la.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

void ntk_kernel_summary_init(ntk_kernel_summary *s)
{
    *s = (ntk_kernel_summary){.min_entry = INFINITY, .max_entry = -INFINITY};
}

ntk_status ntk_kernel_summary_add_rows(ntk_kernel_summary *s, size_t r0, size_t B, size_t N, ntk_dtype t,
                                       const void *rows)
{
    if (!la_float_type(t)) return ntk_set_error(NTK_EINVAL, "kernel summary: dtype %s is not float64 or float32", ntk_dtype_name(t));
    if (!s || (B > 0 && !rows) || r0 + B > N)
        return ntk_set_error(NTK_EINVAL, "kernel summary: rows %zu..%zu of an %zu x %zu kernel", r0, r0 + B, N, N);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < N; j++) {
            double v = t == NTK_F32 ? ((const float *)rows)[i * N + j] : ((const double *)rows)[i * N + j];
            s->sum_sq += v * v;
            if (v < s->min_entry) s->min_entry = v;
            if (v > s->max_entry) s->max_entry = v;
            if (j == r0 + i) s->trace += v;
        }
    return NTK_OK;
}

void ntk_kernel_summary_finish(ntk_kernel_summary *s, size_t N)
{
    s->fro = sqrt(s->sum_sq);
    s->mean_diag = N ? s->trace / (double)N : NAN;
}

ntk_status ntk_kernel_summarize(size_t N, ntk_dtype t, const void *K, size_t eig_max_n, ntk_kernel_summary *s)
{
    if (!la_float_type(t)) return ntk_set_error(NTK_EINVAL, "kernel summary: dtype %s is not float64 or float32", ntk_dtype_name(t));
    if (!s || !K || N == 0) return ntk_set_error(NTK_EINVAL, "kernel summary: need K and N >= 1");
    ntk_kernel_summary_init(s);
    ntk_kernel_summary_add_rows(s, 0, N, N, t, K);
    ntk_kernel_summary_finish(s, N);
    if (N > eig_max_n || !isfinite(s->fro)) return NTK_OK;
    double *A = malloc(N * N * sizeof *A), *w = malloc(N * sizeof *w);
    if (!A || !w) {
        free(A);
        free(w);
        return NTK_OK; /* the eigenvalues are optional: have_eig stays 0 */
    }
    for (size_t i = 0; i < N * N; i++) A[i] = t == NTK_F32 ? ((const float *)K)[i] : ((const double *)K)[i];
    if (ntk_eigh(N, A, w, NULL) == NTK_OK) {
        s->lambda_max = w[0];
        s->lambda_min = w[N - 1];
        s->have_eig = 1;
    }
    ntk_clear_error(); /* a failed optional eigendecomposition is not the caller's error */
    free(A);
    free(w);
    return NTK_OK;
}
