/* spectral.c -- kernel comparisons, symmetric eigendecomposition, centred
 * kernel-target alignment, principal angles and kernel ridge regression (the
 * "analysis" section of ntkdrift.h; the tracker and the freeze time are in
 * track.c).
 *
 * The API is row-major.  Symmetric matrices are handed to LAPACK as
 * column-major, which is the same matrix, so no transposed copies are made;
 * LAPACK reads the triangle that is "lower" in column-major, i.e. the upper
 * triangle in row-major terms.  Inputs are checked for NaN/Inf before any
 * factorisation (NTK_ENUMERIC naming the entry).
 *
 * The spectral_* functions are internal and shared with track.c, which
 * repeats their prototypes (there is no private header for this pair). */
#include "spectral.h"
#include "ntk_private.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


/* Index of the first NaN/Inf among count entries of A, or count if none. */
size_t spectral_nonfinite(size_t count, const double *A)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(A[i])) return i;
    return count;
}

static ntk_status check_side(const char *fn, size_t n)
{
    if (n == 0) return ntk_set_error(NTK_EINVAL, "%s: n must be >= 1 (got 0)", fn);
    if (n > INT_MAX) return ntk_set_error(NTK_EINVAL, "%s: n = %zu exceeds the LAPACK int range", fn, n);
    return NTK_OK;
}

/* A: [rows x cols]; NTK_ENUMERIC naming the first non-finite entry. */
static ntk_status check_finite(const char *fn, const char *what, size_t rows, size_t cols, const double *A)
{
    size_t i = spectral_nonfinite(rows * cols, A);
    if (i == rows * cols) return NTK_OK;
    return ntk_set_error(NTK_ENUMERIC, "%s: %s[%zu, %zu] is not finite (%g)", fn, what, i / cols, i % cols, A[i]);
}

static ntk_status lapack_status(const char *fn, const char *routine, lapack_int info)
{
    if (info == LAPACK_WORK_MEMORY_ERROR || info == LAPACK_TRANSPOSE_MEMORY_ERROR)
        return ntk_set_error(NTK_ENOMEM, "%s: out of memory in %s", fn, routine);
    if (info < 0) return ntk_set_error(NTK_EINVAL, "%s: %s rejected argument %d", fn, routine, (int)-info);
    return ntk_set_error(NTK_ENUMERIC, "%s: %s did not converge (info %d)", fn, routine, (int)info);
}

/* ------------------------------------------------------------ comparisons */

double ntk_rel_fro(size_t n, const double *A, const double *B)
{
    if (!A || !B) return NAN;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = A[i] - B[i];
        num += d * d;
        den += B[i] * B[i];
    }
    if (isnan(num) || isnan(den)) return NAN;
    if (den == 0) return num == 0 ? 0.0 : INFINITY;
    return sqrt(num / den);
}

static double fro(size_t n, const double *A)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += A[i] * A[i];
    return sqrt(s);
}

/* S = 1 - cos = ||A/||A|| - B/||B|| ||_F^2 / 2: the same number, but accurate to
 * ~eps relative when S is small (1 - cos would lose digits to cancellation).
 * One zero argument against a non-zero one gives 1 (cosine taken as 0). */
double ntk_kernel_distance(size_t n, const double *A, const double *B)
{
    if (!A || !B) return NAN;
    double na = fro(n, A), nb = fro(n, B);
    if (!isfinite(na) || !isfinite(nb)) return NAN;
    if (na == 0 || nb == 0) return (na == 0 && nb == 0) ? 0.0 : 1.0;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = A[i] / na - B[i] / nb;
        s += d * d;
    }
    return fmin(0.5 * s, 2.0);
}

/* ------------------------------------------------------------------ spectra */

/* a: [n x n]; on entry row j is the eigenvector of the j-th smallest eigenvalue
 * (dsyevd's column-major output read row-major); on exit column c is the
 * eigenvector of the c-th largest.  Transpose, then reverse each row. */
static void columns_descending(size_t n, double *a)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double x = a[i * n + j];
            a[i * n + j] = a[j * n + i];
            a[j * n + i] = x;
        }
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < n / 2; c++) {
            double x = a[r * n + c];
            a[r * n + c] = a[r * n + n - 1 - c];
            a[r * n + n - 1 - c] = x;
        }
}

static void reverse(size_t n, double *w)
{
    for (size_t i = 0; i < n / 2; i++) {
        double x = w[i];
        w[i] = w[n - 1 - i];
        w[n - 1 - i] = x;
    }
}

ntk_status ntk_eigh(size_t n, const double *K, double *w, double *V)
{
    if (!K || !w) return ntk_set_error(NTK_EINVAL, "eigh: K and w must not be NULL");
    ntk_status st = check_side("eigh", n);
    if (st == NTK_OK) st = check_finite("eigh", "K", n, n, K);
    if (st != NTK_OK) return st;
    double *a = V ? V : malloc(n * n * sizeof *a);
    if (!a) return ntk_set_error(NTK_ENOMEM, "eigh: out of memory for a %zu x %zu copy", n, n);
    if (a != K) memcpy(a, K, n * n * sizeof *a);
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, V ? 'V' : 'N', 'L', (lapack_int)n, a, (lapack_int)n, w);
    if (!V) free(a);
    if (info != 0) return lapack_status("eigh", "dsyevd", info);
    reverse(n, w);
    if (V) columns_descending(n, V);
    return NTK_OK;
}

/* ||a||_2 = max |eigenvalue| of the symmetric a: [n x n] (destroyed); w: [n] scratch. */
static ntk_status sym_norm2(size_t n, double *a, double *w, double *out)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', (lapack_int)n, a, (lapack_int)n, w);
    if (info != 0) return lapack_status("rel_op", "dsyevd", info);
    *out = fmax(fabs(w[0]), fabs(w[n - 1]));
    return NTK_OK;
}

ntk_status ntk_rel_op(size_t n, const double *A, const double *B, double *out)
{
    if (!A || !B || !out) return ntk_set_error(NTK_EINVAL, "rel_op: A, B and out must not be NULL");
    ntk_status st = check_side("rel_op", n);
    if (st == NTK_OK) st = check_finite("rel_op", "A", n, n, A);
    if (st == NTK_OK) st = check_finite("rel_op", "B", n, n, B);
    if (st != NTK_OK) return st;
    double *a = malloc((n * n + n) * sizeof *a);
    if (!a) return ntk_set_error(NTK_ENOMEM, "rel_op: out of memory for a %zu x %zu work matrix", n, n);
    double *w = a + n * n, nd = 0, nb = 0;
    for (size_t i = 0; i < n * n; i++) a[i] = A[i] - B[i];
    st = sym_norm2(n, a, w, &nd);
    if (st == NTK_OK) {
        memcpy(a, B, n * n * sizeof *a);
        st = sym_norm2(n, a, w, &nb);
    }
    free(a);
    if (st != NTK_OK) return st;
    *out = nb > 0 ? nd / nb : nd == 0 ? 0.0 : INFINITY;
    return NTK_OK;
}

/* --------------------------------------------------------------- alignment */

/* Yc = H Y (column means removed), Y, Yc: [n x k]; returns ||Yc Yc^T||_F = ||Yc^T Yc||_F. */
double spectral_center_targets(size_t n, int k, const double *Y, double *Yc)
{
    size_t kk = (size_t)k;
    for (size_t a = 0; a < kk; a++) {
        double mean = 0;
        for (size_t i = 0; i < n; i++) mean += Y[i * kk + a];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) Yc[i * kk + a] = Y[i * kk + a] - mean;
    }
    double s = 0;
    for (size_t a = 0; a < kk; a++)
        for (size_t b = 0; b < kk; b++) {
            double g = 0;
            for (size_t i = 0; i < n; i++) g += Yc[i * kk + a] * Yc[i * kk + b];
            s += g * g;
        }
    return sqrt(s);
}

/* Centred alignment of K: [n x n] with centred targets Yc: [n x k] (ynorm from
 * spectral_center_targets).  Uses <HKH, Yc Yc^T> = tr(Yc^T K Yc) (H Yc = Yc) and
 * forms HKH only entrywise for its norm.  work: [2n + n k].  NAN when HKH or Yc is 0. */
double spectral_alignment(size_t n, const double *K, int k, const double *Yc, double ynorm, double *work)
{
    double *r = work, *c = work + n, *T = work + 2 * n, g = 0;
    for (size_t i = 0; i < n; i++) r[i] = c[i] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            r[i] += K[i * n + j];
            c[j] += K[i * n + j];
        }
    for (size_t i = 0; i < n; i++) {
        r[i] /= (double)n;
        c[i] /= (double)n;
        g += r[i];
    }
    g /= (double)n;
    double kc2 = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double v = K[i * n + j] - r[i] - c[j] + g;
            kc2 += v * v;
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, k, (int)n, 1.0, K, (int)n, Yc, k, 0.0, T, k);
    double num = 0;
    for (size_t i = 0; i < n * (size_t)k; i++) num += Yc[i] * T[i];
    if (kc2 == 0 || ynorm == 0) return NAN;
    return fmax(-1.0, fmin(1.0, num / (sqrt(kc2) * ynorm)));
}

ntk_status ntk_alignment_centered(size_t n, const double *K, int k, const double *Y, double *out)
{
    if (!K || !Y || !out) return ntk_set_error(NTK_EINVAL, "alignment: K, Y and out must not be NULL");
    *out = NAN;
    ntk_status st = check_side("alignment", n);
    if (st != NTK_OK) return st;
    if (k < 1) return ntk_set_error(NTK_EINVAL, "alignment: k must be >= 1 (got %d)", k);
    st = check_finite("alignment", "K", n, n, K);
    if (st == NTK_OK) st = check_finite("alignment", "Y", n, (size_t)k, Y);
    if (st != NTK_OK) return st;
    size_t nk = n * (size_t)k;
    double *Yc = malloc((2 * nk + 2 * n) * sizeof *Yc);
    if (!Yc) return ntk_set_error(NTK_ENOMEM, "alignment: out of memory (n = %zu, k = %d)", n, k);
    double ynorm = spectral_center_targets(n, k, Y, Yc);
    double a = ynorm > 0 ? spectral_alignment(n, K, k, Yc, ynorm, Yc + nk) : NAN;
    free(Yc);
    if (ynorm == 0)
        return ntk_set_error(NTK_EINVAL, "alignment: the centred targets HY are zero (every column of Y is constant)");
    if (isnan(a)) return ntk_set_error(NTK_EINVAL, "alignment: the centred kernel HKH is zero");
    *out = a;
    return NTK_OK;
}

/* ------------------------------------------------------------------- angles */

/* Optimal dgesvd workspace (singular values only) for an r x c column-major matrix. */
static size_t gesvd_lwork(lapack_int r, lapack_int c)
{
    double q = 0, dummy[1] = {0};
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', r, c, dummy, r, dummy, dummy, 1, dummy,
                                          1, &q, -1);
    lapack_int mn = r < c ? r : c, mx = r < c ? c : r;
    size_t minimal = (size_t)(3 * mn + mx > 5 * mn ? 3 * mn + mx : 5 * mn);
    return info == 0 && q > (double)minimal ? (size_t)q : minimal;
}

/* Doubles of work spectral_angles needs for U, V: [n x p]. */
size_t spectral_angles_lwork(size_t n, int p)
{
    lapack_int ni = (lapack_int)n;
    size_t lw = gesvd_lwork(p, p), l2 = gesvd_lwork(p, ni), l3 = gesvd_lwork(ni, p);
    if (l2 > lw) lw = l2;
    if (l3 > lw) lw = l3;
    return (size_t)p * (size_t)p + n * (size_t)p + 2 * (size_t)p + lw;
}

static void sort_ascending(int p, double *x)
{
    for (int i = 1; i < p; i++) {
        double v = x[i];
        int j = i - 1;
        for (; j >= 0 && x[j] > v; j--) x[j + 1] = x[j];
        x[j + 1] = v;
    }
}

/* Principal angles of U, V: [n x p] with orthonormal columns, stored row-major
 * (colmajor = 0) or column-major (colmajor = 1).  Cosines are the singular values
 * of M = U^T V, sines those of W = V - U M = (I - U U^T) V; angles up to pi/4 are
 * taken from the sines (acos near 1 would lose half the digits), larger ones from
 * the cosines (Knyazev & Argentati 2002).  work: [spectral_angles_lwork(n, p)]. */
ntk_status spectral_angles(int colmajor, size_t n, int p, const double *U, const double *V,
                           double *angles, double *work, size_t lwork)
{
    size_t pp = (size_t)p;
    double *M = work, *W = M + pp * pp, *sv = W + n * pp, *mu = sv + pp, *lw = mu + pp;
    size_t rest = lwork - (size_t)(lw - work);
    lapack_int nlw = rest > INT_MAX ? INT_MAX : (lapack_int)rest, ni = (lapack_int)n;
    CBLAS_LAYOUT lay = colmajor ? CblasColMajor : CblasRowMajor;
    int ld = colmajor ? (int)n : p;
    cblas_dgemm(lay, CblasTrans, CblasNoTrans, p, p, (int)n, 1.0, U, ld, V, ld, 0.0, M, p);
    memcpy(W, V, n * pp * sizeof *W);
    cblas_dgemm(lay, CblasNoTrans, CblasNoTrans, (int)n, p, p, -1.0, U, ld, M, p, 1.0, W, ld);
    /* Singular values do not change under transposition, so both matrices go to
     * LAPACK as column-major whatever their layout: M as p x p, W as n x p or p x n. */
    double dummy[1];
    lapack_int info = LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', p, p, M, p, sv, dummy, 1, dummy, 1, lw, nlw);
    if (info != 0) return lapack_status("principal angles", "dgesvd", info);
    info = colmajor ? LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', ni, p, W, ni, mu, dummy, 1, dummy, 1, lw, nlw)
                    : LAPACKE_dgesvd_work(LAPACK_COL_MAJOR, 'N', 'N', p, ni, W, p, mu, dummy, 1, dummy, 1, lw, nlw);
    if (info != 0) return lapack_status("principal angles", "dgesvd", info);
    for (int i = 0; i < p; i++) {   /* sv descending = cosines of ascending angles */
        double c = fmin(sv[i], 1.0), s = fmin(mu[p - 1 - i], 1.0);
        angles[i] = c * c >= 0.5 ? asin(s) : acos(c);
    }
    sort_ascending(p, angles);   /* the two branches may meet out of order at pi/4 */
    return NTK_OK;
}

ntk_status ntk_principal_angles(size_t n, int p, const double *U, const double *V, double *angles)
{
    if (!U || !V || !angles) return ntk_set_error(NTK_EINVAL, "principal angles: U, V and angles must not be NULL");
    ntk_status st = check_side("principal angles", n);
    if (st != NTK_OK) return st;
    if (p < 1) return ntk_set_error(NTK_EINVAL, "principal angles: p must be >= 1 (got %d)", p);
    if ((size_t)p > n)
        return ntk_set_error(NTK_EINVAL, "principal angles: p = %d exceeds n = %zu (no more than n orthonormal columns)",
                             p, n);
    st = check_finite("principal angles", "U", n, (size_t)p, U);
    if (st == NTK_OK) st = check_finite("principal angles", "V", n, (size_t)p, V);
    if (st != NTK_OK) return st;
    size_t lw = spectral_angles_lwork(n, p);
    double *work = malloc(lw * sizeof *work);
    if (!work) return ntk_set_error(NTK_ENOMEM, "principal angles: out of memory (n = %zu, p = %d)", n, p);
    st = spectral_angles(0, n, p, U, V, angles, work, lw);
    free(work);
    return st;
}

double ntk_projector_distance(int p, const double *angles)
{
    if (p < 0 || (p > 0 && !angles)) return NAN;
    double s = 0;
    for (int i = 0; i < p; i++) {
        double si = sin(angles[i]);
        s += si * si;
    }
    return sqrt(2 * s);
}

/* ------------------------------------------------------- kernel regression */

/* Argument checks of ntk_krr; K: [n x n], Y: [n x k], Kxe: [m x n], pred: [m x k]. */
static ntk_status krr_check(size_t n, const double *K, int k, const double *Y, double ridge, size_t m,
                            const double *Kxe, const double *pred)
{
    if (!K || !Y) return ntk_set_error(NTK_EINVAL, "krr: K and Y must not be NULL");
    ntk_status st = check_side("krr", n);
    if (st != NTK_OK) return st;
    if (k < 1) return ntk_set_error(NTK_EINVAL, "krr: k must be >= 1 (got %d)", k);
    if (!isfinite(ridge) || ridge < 0)
        return ntk_set_error(NTK_EINVAL, "krr: ridge must be finite and >= 0 (got %g)", ridge);
    if (m > INT_MAX) return ntk_set_error(NTK_EINVAL, "krr: m = %zu exceeds the BLAS int range", m);
    if (m > 0 && (!Kxe || !pred))
        return ntk_set_error(NTK_EINVAL, "krr: m = %zu evaluation rows need Kxe and pred (got NULL)", m);
    st = check_finite("krr", "K", n, n, K);
    if (st == NTK_OK) st = check_finite("krr", "Y", n, (size_t)k, Y);
    if (st == NTK_OK && m > 0) st = check_finite("krr", "Kxe", m, n, Kxe);
    return st;
}

/* A = K + ridge I: [n x n] factorised in place (row-major view: upper R, A = R^T R).
 * Fails with NTK_ENUMERIC when not positive definite or singular to working precision. */
static ntk_status krr_factor(size_t n, double *A, double ridge)
{
    double anorm = 0, diag = 0;
    for (size_t i = 0; i < n; i++) {
        A[i * n + i] += ridge;
        diag += fabs(A[i * n + i]) / (double)n;
        double rs = 0;
        for (size_t j = 0; j < n; j++) rs += fabs(A[i * n + j]);
        anorm = fmax(anorm, rs);
    }
    double larger = fmax(10 * ridge, 1e-8 * (diag > 0 ? diag : 1.0));
    lapack_int ni = (lapack_int)n, info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', ni, A, ni);
    if (info > 0)
        return ntk_set_error(NTK_ENUMERIC, "krr: K + ridge I is not positive definite (leading minor %d) with "
                             "ridge = %g; try a larger ridge, e.g. %.3g", (int)info, ridge, larger);
    if (info < 0) return lapack_status("krr", "dpotrf", info);
    double rcond = 0;
    info = LAPACKE_dpocon(LAPACK_COL_MAJOR, 'L', ni, A, ni, anorm, &rcond);
    if (info != 0) return lapack_status("krr", "dpocon", info);
    if (!(rcond >= DBL_EPSILON))
        return ntk_set_error(NTK_ENUMERIC, "krr: K + ridge I is singular to working precision (reciprocal "
                             "condition %.2e) with ridge = %g; try a larger ridge, e.g. %.3g", rcond, ridge, larger);
    return NTK_OK;
}

ntk_status ntk_krr(size_t n, const double *K, int k, const double *Y, double ridge, size_t m, const double *Kxe,
                   double *pred, double *alpha)
{
    ntk_status st = krr_check(n, K, k, Y, ridge, m, Kxe, pred);
    if (st != NTK_OK) return st;
    size_t nk = n * (size_t)k;
    double *A = malloc((n * n + (alpha ? 0 : nk)) * sizeof *A);
    if (!A) return ntk_set_error(NTK_ENOMEM, "krr: out of memory for a %zu x %zu factor", n, n);
    double *X = alpha ? alpha : A + n * n;
    memcpy(A, K, n * n * sizeof *A);
    st = krr_factor(n, A, ridge);
    if (st == NTK_OK) {
        int ni = (int)n;
        if (X != Y) memmove(X, Y, nk * sizeof *X);
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, ni, k, 1.0, A, ni, X, k);
        cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, ni, k, 1.0, A, ni, X, k);
        if (m > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, k, ni, 1.0, Kxe, ni, X, k, 0.0, pred, k);
    }
    free(A);
    return st;
}
