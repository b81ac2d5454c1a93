/* subspace.c -- the eigenspaces of a finite kernel against the Fourier planes of the circle
 * (docs/modes.md, "Subspace metrics"): each plane matched to the eigenvectors that overlap it most,
 * with principal angles, projector distances, affinity and eigenvalue error; and the plane blocks
 * C_k of U^T A U (U the normalised Fourier basis), their leakage and their drift. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "la.h"
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* An orthonormal basis Q: [n x 2] (row-major; the second column 0 when the plane has dimension 1)
 * of plane k at gamma, by Gram-Schmidt over its columns cos, sin (1 for k = 0) that are not zero on
 * the sample; its dimension. */
static int plane_basis(size_t n, const double *gamma, int k, double *Q)
{
    double *c = malloc(2 * n * sizeof *c);
    if (!c) return -1;
    for (size_t i = 0; i < n; i++) c[2 * i] = k ? cos(k * gamma[i]) : 1, c[2 * i + 1] = k ? sin(k * gamma[i]) : 0;
    memset(Q, 0, 2 * n * sizeof *Q);
    size_t dim = 0;
    for (size_t col = 0; col < 2; col++) {
        double d = 0, s = 0;
        for (size_t i = 0; dim == 1 && i < n; i++) d += Q[2 * i] * c[2 * i + col];
        for (size_t i = 0; i < n; i++) {
            double v = c[2 * i + col] - (dim == 1 ? d * Q[2 * i] : 0);
            c[2 * i + col] = v, s += v * v;
        }
        if (!(s > OPS_ZERO_COL2 * (double)n)) continue; /* a zero column on the sample, e.g. sin(n/2 g) on a grid */
        for (size_t i = 0; i < n; i++) Q[2 * i + dim] = c[2 * i + col] / sqrt(s);
        dim++;
    }
    free(c);
    return (int)dim;
}

ntk_status ntk_fourier_subspaces(size_t n, const double *w, const double *V, const double *gamma, int K,
                                 const double *lambda, size_t search, ntk_plane_match *out)
{
    if (!w || !V || !gamma || !lambda || !out) return ntk_set_error(NTK_EINVAL, "fourier_subspaces: NULL argument");
    if (n < 2 || K < 0 || 2 * (size_t)K > n)
        return ntk_set_error(NTK_EINVAL, "fourier_subspaces: kmax K = %d must be in [0, n/2] (n %zu)", K, n);
    if (search == 0 || search > n) search = n;
    double *Q = malloc(2 * n * sizeof *Q), *U = malloc(2 * n * sizeof *U);
    if (!Q || !U) {
        free(Q), free(U);
        return ntk_set_error(NTK_ENOMEM, "fourier_subspaces: no memory (n %zu)", n);
    }
    ntk_status st = NTK_OK;
    for (int k = 0; k <= K && st == NTK_OK; k++) {
        ntk_plane_match *m = &out[k];
        memset(m, 0, sizeof *m);
        if ((m->dim = plane_basis(n, gamma, k, Q)) <= 0) {
            st = ntk_set_error(m->dim < 0 ? NTK_ENOMEM : NTK_EINVAL, "fourier_subspaces: plane %d is zero on the sample", k);
            break;
        }
        double best[2] = {-1, -1};
        int at[2] = {-1, -1};
        for (size_t j = 0; j < search; j++) { /* the d largest overlaps ||Q^T v_j||^2 */
            double a = 0, b = 0;
            for (size_t i = 0; i < n; i++) a += Q[2 * i] * V[i * n + j], b += Q[2 * i + 1] * V[i * n + j];
            double ov = a * a + b * b;
            if (ov > best[0]) best[1] = best[0], at[1] = at[0], best[0] = ov, at[0] = (int)j;
            else if (ov > best[1]) best[1] = ov, at[1] = (int)j;
        }
        if (m->dim == 2 && at[1] < 0) {
            st = ntk_set_error(NTK_EINVAL, "fourier_subspaces: search = %zu eigenvectors cannot match a plane of dimension 2", search);
            break;
        }
        m->rank[0] = m->dim == 2 && at[1] < at[0] ? at[1] : at[0];
        m->rank[1] = m->dim == 2 ? (at[1] < at[0] ? at[0] : at[1]) : -1;
        for (size_t i = 0; i < n; i++) {
            U[i * (size_t)m->dim] = V[i * n + (size_t)m->rank[0]];
            if (m->dim == 2) U[i * 2 + 1] = V[i * n + (size_t)m->rank[1]];
        }
        double *Qd = Q;
        if (m->dim == 1) /* a [n x 1] basis: the first column, packed */
            for (size_t i = 0; i < n; i++) Q[i] = Q[2 * i];
        double th[2] = {0, 0};
        if ((st = ntk_principal_angles(n, m->dim, U, Qd, th)) != NTK_OK) break;
        double s2 = 0, c2 = 0;
        for (int i = 0; i < m->dim; i++) {
            s2 += sin(th[i]) * sin(th[i]), c2 += cos(th[i]) * cos(th[i]);
            m->angle_max = fmax(m->angle_max, th[i]);
            m->eig_err += fabs(w[m->rank[i]] - lambda[k]) / fabs(lambda[k]) / m->dim;
        }
        m->proj_fro = sqrt(2 * s2), m->proj_op = sin(m->angle_max), m->affinity = sqrt(c2 / m->dim);
    }
    free(Q), free(U);
    return st;
}

/* The plane of index p of the Fourier basis (0; 1, 2 -> 1; ...). */
static int plane_of(size_t p) { return (int)((p + 1) / 2); }

ntk_status ntk_fourier_blocks(size_t n, const double *A, const double *gamma, int K, double *C, double *leakage)
{
    if (!A || !gamma || !C) return ntk_set_error(NTK_EINVAL, "fourier_blocks: NULL argument");
    if (n < 1 || K < 0 || 2 * (size_t)K > n)
        return ntk_set_error(NTK_EINVAL, "fourier_blocks: kmax K = %d must be in [0, n/2] (n %zu)", K, n);
    size_t w = 2 * (size_t)K + 1;
    if (!la_dims_ok(n, n, w)) return NTK_EINVAL;
    double *U = malloc(n * w * sizeof *U), *AU = malloc(n * w * sizeof *AU);
    if (!U || !AU) {
        free(U), free(AU);
        return ntk_set_error(NTK_ENOMEM, "fourier_blocks: no memory (n %zu, K %d)", n, K);
    }
    ntk_fourier_matrix(n, gamma, K, U);
    for (size_t p = 0; p < w; p++) { /* normalise the columns on the sample (a zero column stays 0) */
        double s = 0;
        for (size_t i = 0; i < n; i++) s += U[i * w + p] * U[i * w + p];
        double f = s > OPS_ZERO_COL2 * (double)n ? 1 / sqrt(s) : 0;
        for (size_t i = 0; i < n; i++) U[i * w + p] *= f;
    }
    la_gemm(NTK_F64, false, false, n, w, n, 1.0, A, n, U, w, 0.0, AU, w);
    la_gemm(NTK_F64, true, false, w, w, n, 1.0, U, w, AU, w, 0.0, C, w);
    double in = 0, off = 0;
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < w; q++) *(plane_of(p) == plane_of(q) ? &in : &off) += fabs(C[p * w + q]);
    if (leakage) *leakage = in > 0 ? off / in : NAN;
    free(U), free(AU);
    return NTK_OK;
}

ntk_status ntk_fourier_block_drift(int K, const double *C0, const double *Ct, double *fro, double *op, double *max)
{
    if (!C0 || !Ct || K < 0) return ntk_set_error(NTK_EINVAL, "fourier_block_drift: need K >= 0, C0 and Ct");
    size_t w = 2 * (size_t)K + 1;
    for (int k = 0; k <= K; k++) {
        size_t p = k ? 2 * (size_t)k - 1 : 0, d = k ? 2 : 1;
        double D[2][2] = {{0, 0}, {0, 0}}, f = 0, mx = 0;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) {
                D[a][b] = Ct[(p + a) * w + p + b] - C0[(p + a) * w + p + b];
                f += D[a][b] * D[a][b], mx = fmax(mx, fabs(D[a][b]));
            }
        /* the eigenvalues of the symmetric 2 x 2 block: (a + c)/2 +- sqrt(((a - c)/2)^2 + b^2) */
        double m = (D[0][0] + D[1][1]) / 2, r = hypot((D[0][0] - D[1][1]) / 2, (D[0][1] + D[1][0]) / 2);
        if (fro) fro[k] = sqrt(f);
        if (op) op[k] = fabs(m) + r;
        if (max) max[k] = mx;
    }
    return NTK_OK;
}
