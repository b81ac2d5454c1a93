/* track.c -- the kernel-drift tracker (metrics of a stream of kernels K_t
 * against K_0 and against the previous snapshot) and the freeze time of a
 * drift curve.
 *
 * Everything an update needs is allocated by ntk_tracker_alloc: K_0, the
 * previous K_t, one n x n LAPACK work matrix and O(n top_k) vectors, in one
 * block.  ntk_tracker_update itself never allocates (only the _work LAPACKE
 * entry points are used, in column-major, so LAPACKE makes no transposed
 * copies either; OpenBLAS draws its internal buffers from its own pool).
 *
 * Spectra: one tridiagonal reduction (dsytrd) per symmetric matrix; all
 * eigenvalues from dsterf, the top_k eigenvectors from dstemr (MRRR) on the
 * same tridiagonal, back-transformed with dormtr -- O(n^3) once, instead of a
 * full eigendecomposition per snapshot.  An update reduces K_t (all eigenvalues,
 * top_k vectors).  Of K_t - K_0 only the two extreme eigenvalues are needed (its
 * operator norm): for n > TR_LANCZOS_MIN_N by a certified Lanczos iteration
 * (src/analysis/lanczos.c; ~20 matrix-vector products instead of a reduction),
 * else -- or when Lanczos does not certify them within TR_LANCZOS_MAXIT steps --
 * by a reduction and bisection (dstebz).  Eigenvector blocks are kept in
 * column-major [n x top_k]. */
#include "spectral.h"
#include "ntk_private.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ||K_t - K_0||_2 by Lanczos above this n (below, a reduction is cheap and exact), with at most
 * TR_LANCZOS_MAXIT steps and a relative residual certificate of TR_LANCZOS_TOL. */
#define TR_LANCZOS_MIN_N 64
#define TR_LANCZOS_MAXIT 96
#define TR_LANCZOS_TOL 1e-12

struct ntk_tracker {
    size_t n;
    int p;               /* top_k, clamped to n */
    int k;               /* target columns (0: no targets) */
    double thr;          /* active_thr * lambda_max(K_0) */
    double *K0;          /* [n x n] copy of K_0 */
    double *Kprev;       /* [n x n] previous K_t */
    double *A;           /* [n x n] LAPACK work matrix (column-major; holds the reflectors) */
    double *w0;          /* [n] eigenvalues of K_0, descending */
    double *U0;          /* [n x p] column-major: top-p eigenvectors of K_0 */
    double *wprev;       /* [n] eigenvalues at the previous update (w0 before the first) */
    double *tv;          /* [n] total variation of each sorted eigenvalue so far */
    double *wt;          /* [n] eigenvalues of K_t, descending (ntk_drift.eigs) */
    double *Ut;          /* [n x p] column-major: top-p eigenvectors of K_t */
    double *angles;      /* [p] principal angles (ntk_drift.angles) */
    double *d, *e, *tau; /* [n] tridiagonal and reflector scalars */
    double *dd, *ee;     /* [n] copies for dsterf, which destroys its input */
    double *Yc;          /* [n x k] centred targets, or NULL */
    double ynorm;        /* ||Yc Yc^T||_F */
    double norm0_op;     /* ||K_0||_2 */
    double *work;        /* [lwork] LAPACK / angles / alignment workspace */
    size_t lwork;
    lapack_int *iwork;   /* [10 n] dstemr */
    lapack_int *isuppz;  /* [2 p] dstemr */
    double *lz;          /* [spectral_lanczos_lwork] Lanczos workspace, or NULL (n <= TR_LANCZOS_MIN_N) */
    lapack_int *ilz;     /* [spectral_lanczos_liwork] */
    double t_prev;
    int have_prev;
};

/* ------------------------------------------------------------------ spectra */

/* Tridiagonalise tr->A (symmetric, column-major lower): d, e, tau and reflectors in A. */
static ntk_status tr_reduce(ntk_tracker *tr)
{
    lapack_int n = (lapack_int)tr->n, lw = tr->lwork > INT_MAX ? INT_MAX : (lapack_int)tr->lwork;
    lapack_int info = LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', n, tr->A, n, tr->d, tr->e, tr->tau, tr->work, lw);
    if (info != 0) return ntk_set_error(NTK_ENUMERIC, "tracker: dsytrd failed (info %d)", (int)info);
    return NTK_OK;
}

/* All eigenvalues of the reduced matrix, descending, into w: [n] (d, e kept). */
static ntk_status tr_values(ntk_tracker *tr, double *w)
{
    size_t n = tr->n;
    memcpy(tr->dd, tr->d, n * sizeof *tr->dd);
    if (n > 1) memcpy(tr->ee, tr->e, (n - 1) * sizeof *tr->ee);
    lapack_int info = LAPACKE_dsterf_work((lapack_int)n, tr->dd, tr->ee);
    if (info != 0) return ntk_set_error(NTK_ENUMERIC, "tracker: dsterf did not converge (info %d)", (int)info);
    for (size_t i = 0; i < n; i++) w[i] = tr->dd[n - 1 - i];
    return NTK_OK;
}

/* Top-p eigenvectors of the reduced matrix into Z: [n x p] column-major (d, e destroyed). */
static ntk_status tr_top_vectors(ntk_tracker *tr, double *Z)
{
    lapack_int n = (lapack_int)tr->n, p = tr->p, m = 0, tryrac = 1;
    lapack_int lw = tr->lwork > INT_MAX ? INT_MAX : (lapack_int)tr->lwork;
    lapack_int info = LAPACKE_dstemr_work(LAPACK_COL_MAJOR, 'V', 'I', n, tr->d, tr->e, 0.0, 0.0, n - p + 1, n, &m,
                                          tr->dd, Z, n, p, tr->isuppz, &tryrac, tr->work, lw, tr->iwork, 10 * n);
    if (info != 0 || m != p)
        return ntk_set_error(NTK_ENUMERIC, "tracker: dstemr failed (info %d, %d of %d eigenvectors)", (int)info,
                             (int)m, (int)p);
    info = LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'L', 'L', 'N', n, p, tr->A, n, tr->tau, Z, n, tr->work, lw);
    if (info != 0) return ntk_set_error(NTK_ENUMERIC, "tracker: dormtr failed (info %d)", (int)info);
    return NTK_OK;
}

/* Eigenvalues (descending) and top-p eigenvectors of the symmetric K: [n x n]. */
static ntk_status tr_eig(ntk_tracker *tr, const double *K, double *w, double *Z)
{
    memcpy(tr->A, K, tr->n * tr->n * sizeof *tr->A);
    ntk_status st = tr_reduce(tr);
    if (st == NTK_OK) st = tr_values(tr, w);
    if (st == NTK_OK) st = tr_top_vectors(tr, Z);
    return st;
}

/* One extreme eigenvalue (il = 1: the smallest, il = n: the largest) of the reduced matrix by bisection
 * (dstebz, the partial solver of dsyevr; tolerance 2 safmin, its most accurate). */
static ntk_status tr_extreme(ntk_tracker *tr, lapack_int il, double *out)
{
    lapack_int n = (lapack_int)tr->n, m = 0, nsplit = 0;
    lapack_int *iblock = tr->iwork, *isplit = iblock + n, *iw = isplit + n; /* 5 n of the 10 n + 2 p */
    lapack_int info = LAPACKE_dstebz_work('I', 'E', n, 0.0, 0.0, il, il, 2 * LAPACKE_dlamch('S'), tr->d, tr->e, &m,
                                          &nsplit, tr->dd, iblock, isplit, tr->work, iw);
    if (info != 0 || m != 1)
        return ntk_set_error(NTK_ENUMERIC, "tracker: dstebz failed (info %d, %d eigenvalues)", (int)info, (int)m);
    *out = tr->dd[0];
    return NTK_OK;
}

/* ||Kt - K0||_2 = max |eigenvalue| of the difference, from its two extreme eigenvalues only; Kt: [n x n]. */
static ntk_status tr_diff_norm(ntk_tracker *tr, const double *Kt, double *out)
{
    size_t nn = tr->n * tr->n;
    double amax = 0;
    for (size_t i = 0; i < nn; i++) {
        tr->A[i] = Kt[i] - tr->K0[i];
        amax = fmax(amax, fabs(tr->A[i]));
    }
    double lo = 0, hi = 0;
    if (amax == 0 || (tr->lz && spectral_lanczos_extremes(tr->n, tr->A, TR_LANCZOS_MAXIT, TR_LANCZOS_TOL, tr->lz,
                                                           tr->ilz, &lo, &hi))) {
        *out = fmax(fabs(hi), fabs(lo));
        return NTK_OK;
    }
    ntk_status st = tr_reduce(tr);
    if (st == NTK_OK) st = tr_extreme(tr, 1, &lo);
    if (st == NTK_OK) st = tr_extreme(tr, (lapack_int)tr->n, &hi);
    if (st == NTK_OK) *out = fmax(fabs(hi), fabs(lo));
    return st;
}

/* ------------------------------------------------------------ alloc / free */

/* Workspace doubles: LAPACK (queried), dstemr's 18 n, angles, alignment 2n + n k. */
static size_t tr_lwork(ntk_tracker *tr)
{
    lapack_int n = (lapack_int)tr->n, p = tr->p;
    double q1 = 0, q2 = 0;
    LAPACKE_dsytrd_work(LAPACK_COL_MAJOR, 'L', n, tr->A, n, tr->d, tr->e, tr->tau, &q1, -1);
    LAPACKE_dormtr_work(LAPACK_COL_MAJOR, 'L', 'L', 'N', n, p, tr->A, n, tr->tau, tr->Ut, n, &q2, -1);
    size_t lw = 18 * tr->n + 1, a = spectral_angles_lwork(tr->n, p), al = (2 + (size_t)tr->k) * tr->n;
    if ((size_t)q1 > lw) lw = (size_t)q1;
    if ((size_t)q2 > lw) lw = (size_t)q2;
    if (a > lw) lw = a;
    return al > lw ? al : lw;
}

/* Carve the per-n buffers from one block: 3 n^2 + 9 n + 2 n p + p + n k doubles. */
static ntk_status tr_buffers(ntk_tracker *tr)
{
    size_t n = tr->n, p = (size_t)tr->p, nk = n * (size_t)tr->k;
    double *b = malloc((3 * n * n + 9 * n + 2 * n * p + p + nk) * sizeof *b);
    tr->iwork = malloc((10 * n + 2 * p) * sizeof *tr->iwork);
    if (!b || !tr->iwork) {
        free(b);
        return ntk_set_error(NTK_ENOMEM, "tracker: out of memory for n = %zu (3 n x n matrices)", n);
    }
    tr->isuppz = tr->iwork + 10 * n;
    if (n > TR_LANCZOS_MIN_N) {
        tr->lz = malloc(spectral_lanczos_lwork(n, TR_LANCZOS_MAXIT) * sizeof *tr->lz);
        tr->ilz = malloc(spectral_lanczos_liwork(TR_LANCZOS_MAXIT) * sizeof *tr->ilz);
        if (!tr->lz || !tr->ilz) {
            free(b);
            return ntk_set_error(NTK_ENOMEM, "tracker: out of memory for n = %zu (Lanczos vectors)", n);
        }
    }
    tr->K0 = b;
    tr->Kprev = b += n * n;
    tr->A = b += n * n;
    tr->w0 = b += n * n;
    tr->wprev = b += n;
    tr->tv = b += n;
    tr->wt = b += n;
    tr->d = b += n;
    tr->e = b += n;
    tr->tau = b += n;
    tr->dd = b += n;
    tr->ee = b += n;
    tr->U0 = b += n;
    tr->Ut = b += n * p;
    tr->angles = b += n * p;
    tr->Yc = tr->k > 0 ? b + p : NULL;
    return NTK_OK;
}

static ntk_status tr_check_opts(const ntk_tracker_opts *o)
{
    if (!o) return NTK_OK;
    if (o->top_k < 1) return ntk_set_error(NTK_EINVAL, "tracker: top_k must be >= 1 (got %d)", o->top_k);
    if (!isfinite(o->active_thr) || o->active_thr < 0)
        return ntk_set_error(NTK_EINVAL, "tracker: active_thr must be finite and >= 0 (got %g)", o->active_thr);
    return NTK_OK;
}

/* K0: [n x n], Y: [n x k] or NULL. */
static ntk_status tr_check_args(size_t n, const double *K0, int k, const double *Y, ntk_tracker **out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "tracker: out must not be NULL");
    *out = NULL;
    if (!K0) return ntk_set_error(NTK_EINVAL, "tracker: K0 must not be NULL");
    if (n == 0) return ntk_set_error(NTK_EINVAL, "tracker: n must be >= 1 (got 0)");
    if (n > INT_MAX / 18) return ntk_set_error(NTK_EINVAL, "tracker: n = %zu exceeds the LAPACK int range", n);
    if (Y && k < 1) return ntk_set_error(NTK_EINVAL, "tracker: k must be >= 1 with targets (got %d)", k);
    size_t i = spectral_nonfinite(n * n, K0);
    if (i < n * n) return ntk_set_error(NTK_ENUMERIC, "tracker: K0[%zu, %zu] is not finite", i / n, i % n);
    if (Y && (i = spectral_nonfinite(n * (size_t)k, Y)) < n * (size_t)k)
        return ntk_set_error(NTK_ENUMERIC, "tracker: Y[%zu, %zu] is not finite", i / (size_t)k, i % (size_t)k);
    return NTK_OK;
}

/* K_0's spectrum, top eigenvectors and centred targets; K0: [n x n], Y: [n x k] or NULL. */
static ntk_status tr_init(ntk_tracker *tr, const double *K0, const double *Y, double active_thr)
{
    size_t n = tr->n;
    memcpy(tr->K0, K0, n * n * sizeof *tr->K0);
    size_t nz = 0;
    while (nz < n * n && K0[nz] == 0) nz++;
    if (nz == n * n) return ntk_set_error(NTK_EINVAL, "tracker: K0 is zero (drift relative to it is undefined)");
    ntk_status st = tr_eig(tr, K0, tr->w0, tr->U0);
    if (st != NTK_OK) return st;
    tr->norm0_op = fmax(fabs(tr->w0[0]), fabs(tr->w0[n - 1]));
    tr->thr = active_thr * tr->w0[0];
    memcpy(tr->wprev, tr->w0, n * sizeof *tr->wprev);
    memset(tr->tv, 0, n * sizeof *tr->tv);
    if (Y) {
        tr->ynorm = spectral_center_targets(n, tr->k, Y, tr->Yc);
        if (tr->ynorm == 0)
            return ntk_set_error(NTK_EINVAL, "tracker: the centred targets are zero (every column of Y is constant)");
    }
    return NTK_OK;
}

ntk_status ntk_tracker_alloc(size_t n, const double *K0, int k, const double *Y, const ntk_tracker_opts *o,
                             ntk_tracker **out)
{
    ntk_status st = tr_check_args(n, K0, k, Y, out);
    if (st == NTK_OK) st = tr_check_opts(o);
    if (st != NTK_OK) return st;
    ntk_tracker *tr = calloc(1, sizeof *tr);
    if (!tr) return ntk_set_error(NTK_ENOMEM, "tracker: out of memory");
    tr->n = n;
    int top_k = o ? o->top_k : 10;
    tr->p = (size_t)top_k > n ? (int)n : top_k;
    tr->k = Y ? k : 0;
    st = tr_buffers(tr);
    if (st == NTK_OK) {
        tr->lwork = tr_lwork(tr);
        tr->work = malloc(tr->lwork * sizeof *tr->work);
        if (!tr->work) st = ntk_set_error(NTK_ENOMEM, "tracker: out of memory for %zu work doubles", tr->lwork);
    }
    if (st == NTK_OK) st = tr_init(tr, K0, Y, o ? o->active_thr : 1e-3);
    if (st != NTK_OK) {
        ntk_tracker_free(tr);
        return st;
    }
    *out = tr;
    return NTK_OK;
}

void ntk_tracker_free(ntk_tracker *tr)
{
    if (!tr) return;
    free(tr->K0);
    free(tr->iwork);
    free(tr->work);
    free(tr->lz);
    free(tr->ilz);
    free(tr);
}

/* ------------------------------------------------------------------- update */

/* Eigenvalue metrics of tr->wt against K_0 and the previous update (commits tv). */
static void tr_eig_metrics(ntk_tracker *tr, ntk_drift *out)
{
    double worst = 0;
    for (int i = 0; i < tr->p; i++) {
        double dl = fabs(tr->wt[i] - tr->w0[i]), ref = fabs(tr->w0[i]);
        double r = ref > 0 ? dl / ref : dl > 0 ? INFINITY : 0.0;
        if (r > worst) worst = r;
    }
    int active = 0;
    for (size_t i = 0; i < tr->n; i++) {
        tr->tv[i] += fabs(tr->wt[i] - tr->wprev[i]);
        if (tr->tv[i] > tr->thr) active++;
    }
    out->eig_drift_max = worst;
    out->active_modes = active;
    out->lambda_max = tr->wt[0];
    out->lambda_min = tr->wt[tr->n - 1];
}

ntk_status ntk_tracker_update(ntk_tracker *tr, double t, const double *Kt, ntk_drift *out)
{
    if (!tr || !Kt || !out) return ntk_set_error(NTK_EINVAL, "tracker update: tr, Kt and out must not be NULL");
    if (!isfinite(t)) return ntk_set_error(NTK_EINVAL, "tracker update: time %g is not finite", t);
    if (tr->have_prev && !(t > tr->t_prev))
        return ntk_set_error(NTK_EINVAL, "tracker update: time %g does not increase (previous %g)", t, tr->t_prev);
    size_t n = tr->n, i = spectral_nonfinite(n * n, Kt);
    if (i < n * n) return ntk_set_error(NTK_ENUMERIC, "tracker update: Kt[%zu, %zu] is not finite", i / n, i % n);
    double dop = 0;
    ntk_status st = tr_diff_norm(tr, Kt, &dop);
    if (st == NTK_OK) st = tr_eig(tr, Kt, tr->wt, tr->Ut);
    if (st == NTK_OK) st = spectral_angles(1, n, tr->p, tr->U0, tr->Ut, tr->angles, tr->work, tr->lwork);
    if (st != NTK_OK) return st;   /* nothing committed yet */
    out->drift_fro = ntk_rel_fro(n * n, Kt, tr->K0);
    out->drift_op = dop / tr->norm0_op;
    out->kernel_distance = ntk_kernel_distance(n * n, tr->K0, Kt);
    out->velocity = tr->have_prev ? ntk_kernel_distance(n * n, tr->Kprev, Kt) / (t - tr->t_prev) : 0.0;
    out->alignment = tr->Yc ? spectral_alignment(n, Kt, tr->k, tr->Yc, tr->ynorm, tr->work) : NAN;
    out->angle_max = tr->angles[tr->p - 1];
    out->projector_dist = ntk_projector_distance(tr->p, tr->angles);
    tr_eig_metrics(tr, out);
    out->eigs = tr->wt;
    out->angles = tr->angles;
    out->top_vectors = tr->Ut;
    out->top_k = tr->p;
    memcpy(tr->Kprev, Kt, n * n * sizeof *tr->Kprev);
    memcpy(tr->wprev, tr->wt, n * sizeof *tr->wprev);
    tr->t_prev = t;
    tr->have_prev = 1;
    return NTK_OK;
}

/* ------------------------------------------------------------- freeze time */

/* Secant slope s(t_j) over the interval [t_{j-delta}, t_j] that ends at snapshot j >= delta;
 * t, drift: [S]. */
static double slope(const double *t, const double *drift, size_t j, size_t delta)
{
    return (drift[j] - drift[j - delta]) / (t[j] - t[j - delta]);
}

double ntk_freeze_time(size_t S, const double *t, const double *drift, double eps, int kcons, int delta)
{
    if (!t || !drift || kcons < 1 || delta < 1 || !(isfinite(eps) && eps > 0)) {
        ntk_set_error(NTK_EINVAL, "freeze time: need t, drift, finite eps > 0, kcons >= 1, delta >= 1 "
                      "(got eps %g, kcons %d, delta %d)", eps, kcons, delta);
        return NAN;
    }
    for (size_t j = 0; j < S; j++)
        if (!isfinite(t[j]) || (j > 0 && !(t[j] > t[j - 1]))) {
            ntk_set_error(NTK_EINVAL, "freeze time: t must be finite and increasing (t[%zu] = %g)", j, t[j]);
            return NAN;
        }
    size_t dl = (size_t)delta;
    if (S <= dl || S - dl < (size_t)kcons) return NAN;   /* fewer than kcons slopes */
    double s0 = fabs(slope(t, drift, dl, dl));
    if (!(s0 > 0)) return NAN;                            /* flat or NaN start: nothing to freeze */
    size_t run = 0;
    for (size_t j = dl; j < S; j++) {
        if (fabs(slope(t, drift, j, dl)) < eps * s0) {
            if (++run == (size_t)kcons) return t[j + 1 - run];
        } else {
            run = 0;
        }
    }
    return NAN;
}
