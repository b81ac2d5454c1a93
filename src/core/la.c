/* la.c -- dtype-dispatched BLAS wrappers (OpenBLAS CBLAS). */
#include "la.h"
#include "ntk_private.h"

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

bool la_dims_ok(size_t m, size_t n, size_t k)
{
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX) {
        ntk_set_error(NTK_EINVAL, "matrix dimension (%zu, %zu, %zu) exceeds the BLAS int range", m, n, k);
        return false;
    }
    return true;
}

void la_gemm(ntk_dtype t, bool transA, bool transB, size_t m, size_t n, size_t k, double alpha,
             const void *A, size_t lda, const void *B, size_t ldb, double beta, void *C, size_t ldc)
{
    if (m == 0 || n == 0) return;
    enum CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = transB ? CblasTrans : CblasNoTrans;
    if (t == NTK_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, (float)alpha, A, (int)lda, B,
                    (int)ldb, (float)beta, C, (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb,
                    beta, C, (int)ldc);
}

void la_syrk_lower(ntk_dtype t, size_t n, size_t k, double alpha, const void *A, size_t lda,
                   double beta, void *C, size_t ldc)
{
    if (n == 0) return;
    if (t == NTK_F32)
        cblas_ssyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)k, (float)alpha, A, (int)lda,
                    (float)beta, C, (int)ldc);
    else
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)k, alpha, A, (int)lda, beta,
                    C, (int)ldc);
}

void la_symmetrize_lower(ntk_dtype t, size_t n, void *C)
{
    if (t == NTK_F32) {
        float *c = C;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++) c[j * n + i] = c[i * n + j];
    } else {
        double *c = C;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++) c[j * n + i] = c[i * n + j];
    }
}

void *la_alloc_big(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge / 2) return malloc(bytes ? bytes : 1);
    if (bytes > SIZE_MAX - huge) return NULL;
    bytes = (bytes + huge - 1) / huge * huge; /* whole huge pages: a partial one would stay 4 KiB */
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    return p;
}

void *ntk_alloc_big(size_t bytes) { return la_alloc_big(bytes); }

void *la_calloc_big(size_t bytes)
{
    void *p = la_alloc_big(bytes);
    if (p) memset(p, 0, bytes ? bytes : 1);
    return p;
}

/* OpenBLAS's pthreads pool: after start-up and after every threaded call its idle workers spin in
 * sched_yield for 2^28 TSC cycles (~0.1 s here) before they sleep, and next to busy OpenMP threads
 * they take the cores (a team region ran up to twice as long).  blas_thread_shutdown_, what OpenBLAS
 * itself calls before a fork, ends them; its next threaded call starts them again.  Weak: absent
 * (NULL) with another BLAS. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

la_team la_team_begin(size_t want)
{
    la_team t = {1, 0};
    if (omp_in_parallel() || want < 2) return t;
    int blas = openblas_get_num_threads();
    if (blas < 2) return t;
    t.threads = (size_t)blas < want ? blas : (int)want;
    t.blas_before = blas;
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) (void)blas_thread_shutdown_();
    return t;
}

void la_team_end(la_team t)
{
    if (t.blas_before > 0) openblas_set_num_threads(t.blas_before);
}

void la_convert(ntk_dtype to, void *dst, ntk_dtype from, const void *src, size_t n)
{
    if (to == from) {
        memcpy(dst, src, n * la_elem(to));
        return;
    }
    for (size_t i = 0; i < n; i++) la_set(dst, i, to, la_get(src, i, from));
}

void ntk_set_threads(int n)
{
    if (n <= 0) return;
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
}

int ntk_get_threads(void) { return openblas_get_num_threads(); }
