/* circle_modes.c -- leakage of the Fourier modes of a uniform circle grid across the eigenspaces of
 * a moving kernel.  On a grid gamma_i = gamma_0 + 2 pi i / n a rotation-invariant kernel is
 * circulant and its eigenspaces are the Fourier modes F_k = span{cos k gamma, sin k gamma}; a
 * finite network's K_0 is nearly so.  Mode k occupies the dim(F_k) rank positions S_k of K_0's
 * eigenvectors that overlap it most; its leakage at time t is the share of F_k outside K_t's
 * eigenvectors at those same rank positions:
 *   leak_k = 1 - ||V_t[:, S_k]^T Q_k||_F^2 / dim F_k,
 * 0 while the eigenspaces keep their modes, 1 when mode k has moved to other ranks entirely. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Orthonormal basis of F_k on the grid into Q: [n x 2] row-major; its dimension (1 for k = 0 and
 * k = n/2, else 2).  The grid offset gamma_0 only rotates within F_k, so gamma_0 = 0 is used. */
static int mode_basis(size_t n, int k, double *Q)
{
    int dim = (k == 0 || 2 * (size_t)k == n) ? 1 : 2;
    double nc = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        double a = 2 * M_PI * (double)k * (double)i / (double)n;
        Q[2 * i] = cos(a);
        Q[2 * i + 1] = dim == 2 ? sin(a) : 0;
        nc += Q[2 * i] * Q[2 * i];
        ns += Q[2 * i + 1] * Q[2 * i + 1];
    }
    for (size_t i = 0; i < n; i++) {
        Q[2 * i] /= sqrt(nc);
        if (dim == 2) Q[2 * i + 1] /= sqrt(ns);
    }
    return dim;
}

/* ||V[:, j]^T Q||^2 for eigenvector column j of V: [n x n] row-major. */
static double overlap(size_t n, const double *V, size_t j, const double *Q)
{
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        a += V[i * n + j] * Q[2 * i];
        b += V[i * n + j] * Q[2 * i + 1];
    }
    return a * a + b * b;
}

ntk_status ntk_circle_leakage(size_t n, const double *K0, const double *Kt, int kmax, double *leak)
{
    if (!K0 || !Kt || !leak) return ntk_set_error(NTK_EINVAL, "circle_leakage: K0, Kt and leak must not be NULL");
    if (n < 2 || kmax < 0 || 2 * (size_t)kmax > n)
        return ntk_set_error(NTK_EINVAL, "circle_leakage: need n >= 2 and 0 <= kmax <= n/2 (n %zu, kmax %d)", n, kmax);
    double *w = malloc(n * sizeof *w), *V0 = malloc(n * n * sizeof *V0), *Vt = malloc(n * n * sizeof *Vt);
    double *Q = malloc(2 * n * sizeof *Q), *ov = malloc(n * sizeof *ov);
    size_t *pos = malloc(n * sizeof *pos);
    ntk_status st = (w && V0 && Vt && Q && ov && pos) ? NTK_OK
                                                       : ntk_set_error(NTK_ENOMEM, "circle_leakage: no memory (n %zu)", n);
    if (st == NTK_OK) st = ntk_eigh(n, K0, w, V0);
    if (st == NTK_OK) st = ntk_eigh(n, Kt, w, Vt);
    for (int k = 0; st == NTK_OK && k <= kmax; k++) {
        int dim = mode_basis(n, k, Q);
        /* S_k: the dim rank positions of K_0 with the largest overlap with F_k */
        for (size_t j = 0; j < n; j++) ov[j] = overlap(n, V0, j, Q), pos[j] = j;
        for (int a = 0; a < dim; a++)
            for (size_t j = (size_t)a + 1; j < n; j++)
                if (ov[pos[j]] > ov[pos[a]]) {
                    size_t t = pos[a];
                    pos[a] = pos[j];
                    pos[j] = t;
                }
        double kept = 0;
        for (int a = 0; a < dim; a++) kept += overlap(n, Vt, pos[a], Q);
        leak[k] = fmin(1.0, fmax(0.0, 1.0 - kept / dim));
    }
    free(w);
    free(V0);
    free(Vt);
    free(Q);
    free(ov);
    free(pos);
    return st;
}
