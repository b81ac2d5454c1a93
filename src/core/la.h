/* la.h -- internal: dtype-dispatched BLAS calls and element access.
 * All matrices are row-major; sizes are checked to fit BLAS's int before the
 * call (no silent casts). */
#ifndef NTK_LA_H
#define NTK_LA_H
#include "ntkdrift.h"

#include <stdbool.h>

/* The element types kernels compute in: float64 and float32. */
static inline int la_float_type(ntk_dtype t) { return t == NTK_F64 || t == NTK_F32; }
static inline size_t la_elem(ntk_dtype t) { return t == NTK_F32 ? sizeof(float) : sizeof(double); }
static inline double la_get(const void *p, size_t i, ntk_dtype t)
{
    return t == NTK_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
static inline void la_set(void *p, size_t i, ntk_dtype t, double v)
{
    if (t == NTK_F32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* true when every size fits a BLAS int; otherwise sets the error. */
bool la_dims_ok(size_t m, size_t n, size_t k);

/* C[m x n] = alpha * op(A) op(B) + beta * C, row-major, lda/ldb/ldc = row strides. */
void la_gemm(ntk_dtype t, bool transA, bool transB, size_t m, size_t n, size_t k, double alpha,
             const void *A, size_t lda, const void *B, size_t ldb, double beta, void *C, size_t ldc);
/* Lower triangle of C[n x n] = alpha * A A^T + beta * C, A: [n x k]. */
void la_syrk_lower(ntk_dtype t, size_t n, size_t k, double alpha, const void *A, size_t lda,
                   double beta, void *C, size_t ldc);
/* Copy the lower triangle of C[n x n] into the upper. */
void la_symmetrize_lower(ntk_dtype t, size_t n, void *C);
/* Large buffers (from 1 MiB): 2 MiB-aligned, rounded up to whole 2 MiB pages and advised to use
 * transparent huge pages (a 4 KiB first-touch fault costs ~10 us on a virtual machine, a 2 MiB one
 * about as much as zeroing it); released with free(). NULL when out of memory. */
void *la_alloc_big(size_t bytes);
/* la_alloc_big, zeroed (calloc's contract). */
void *la_calloc_big(size_t bytes);

/* Scratch blocks of hot calls from a process-wide pool (scratch.c): la_scratch_get returns a block
 * of at least bytes (uninitialised; NULL when out of memory), reused from an earlier call when one
 * is idle; la_scratch_put gives it back.  Thread-safe. */
void *la_scratch_get(size_t bytes);
void la_scratch_put(void *p);

/* A region of OpenMP threads (that may call BLAS): one pool at a time.  la_team_begin(want) returns
 * the team size, the BLAS thread count but at most want (1 inside a parallel region, or when want or
 * the count is 1: then nothing is changed); for a team of two or more it sets BLAS to one thread and
 * stops OpenBLAS's idle workers, which would otherwise spin for the cores; la_team_end restores the
 * count (OpenBLAS starts its workers again at its next threaded call). */
typedef struct {
    int threads;     /* team size for the region */
    int blas_before; /* BLAS threads to restore, 0: nothing changed */
} la_team;
la_team la_team_begin(size_t want);
void la_team_end(la_team t);
/* Convert n values between dtypes (also plain copy when equal). */
void la_convert(ntk_dtype to, void *dst, ntk_dtype from, const void *src, size_t n);
#endif
