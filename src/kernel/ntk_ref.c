/* ntk_ref.c -- reference empirical NTK by Jacobian contraction, K = J J^T.
 * O(N^2 P) time and an N*k x P Jacobian in memory: for tests only. */
#include "net.h"
#include "ntk_private.h"

#include <stdlib.h>

#include "la.h"

ntk_status ntk_jacobian(ntk_net *net, size_t N, const double *X, double *J)
{
    ntk_feats *f = NULL;
    ntk_status st = ntk_feats_alloc(net, N, NTK_F64, &f);
    if (st == NTK_OK) st = ntk_feats_compute(net, f, X);
    if (st != NTK_OK) {
        ntk_feats_free(f);
        return st;
    }
    size_t k = (size_t)f->k, P = net->P;
    for (size_t i = 0; i < N; i++) {
        for (size_t a = 0; a < k; a++) {
            double *row = J + (i * k + a) * P;
            for (int l = 1; l <= net->d; l++) {
                size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
                const double *delta = (const double *)f->D[l] + (i * k + a) * nl; /* [n_l] */
                const double *h = (const double *)f->H[l - 1] + i * np;          /* [n_{l-1}] */
                double *gW = row + net->offW[l];                                 /* [n_l x n_{l-1}] */
                for (size_t u = 0; u < nl; u++)
                    for (size_t v = 0; v < np; v++) gW[u * np + v] = net->cw[l] * delta[u] * h[v];
                if (net_has_bias(net, l)) {
                    double *gb = row + net->offb[l];
                    for (size_t u = 0; u < nl; u++) gb[u] = net->cb[l] * delta[u];
                }
            }
        }
    }
    ntk_feats_free(f);
    return NTK_OK;
}

ntk_status ntk_kernel_jacobian_ref(ntk_net *net, size_t N, const double *X, double *K)
{
    size_t R = N * (size_t)net->n[net->d], P = net->P;
    if (!la_dims_ok(R, P, 1)) return NTK_EINVAL;
    double *J = malloc(R * P * sizeof *J);
    if (!J) return ntk_set_error(NTK_ENOMEM, "reference kernel: cannot allocate a %zu x %zu Jacobian", R, P);
    ntk_status st = ntk_jacobian(net, N, X, J);
    if (st == NTK_OK) {
        /* K = J J^T: [R x R] */
        la_gemm(NTK_F64, false, true, R, R, P, 1.0, J, P, J, P, 0.0, K, R);
    }
    free(J);
    return st;
}
