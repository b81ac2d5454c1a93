/* ntk.c -- empirical NTK from per-layer Gram matrices:
 *   K = sum_l (D_l D_l^T) o (c_w^2 H_{l-1} H_{l-1}^T + c_b^2 11^T)
 * (docs/architecture.md, "The kernel computation").  No Jacobian is formed; the cost is two Gram
 * products per layer, O(N^2 sum_l n_l). */
#include "net.h"
#include "ntk_private.h"

#include <stdlib.h>
#include <string.h>

#include "kernel_grams.h"
#include "la.h"

size_t ntk_kernel_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer)
{
    double nk = (double)N * spec->outputs, n2 = (double)N * (double)N;
    double mats = 2 * nk * nk + n2 + (per_layer ? (spec->depth + 1.0) * nk * nk : 0);
    double b = mats * (double)la_elem(dtype);
    return b > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

static ntk_status check_feats(const ntk_net *net, const ntk_feats *f)
{
    if (f->d != net->d || f->k != net->n[net->d])
        return ntk_set_error(NTK_EINVAL, "features were computed for another network");
    if (!f->have_deltas) return ntk_set_error(NTK_EINVAL, "features lack deltas (call ntk_feats_compute)");
    return NTK_OK;
}

/* Shared body of the full kernel (fa == fb, rows [0, N): lower triangle + SYRK), the cross
 * kernel and row blocks of the full kernel: rows [a0, a0 + Na) of batch fa against all of fb, by
 * the Gram tiles of kernel_grams.c.  K: [Na*k x Nb*k]; K_layers: [(L+1) x Na*k x Nb*k] or NULL. */
static ntk_status kernel_block(const ntk_net *net, const ntk_feats *fa, size_t a0, size_t Na,
                               const ntk_feats *fb, bool sym, void *K, void *K_layers)
{
    ntk_status st = check_feats(net, fa);
    if (st == NTK_OK) st = check_feats(net, fb);
    if (st != NTK_OK) return st;
    if (fa->dtype != fb->dtype) return ntk_set_error(NTK_EINVAL, "cross kernel: batches differ in dtype");
    size_t k = (size_t)fa->k;
    if (!la_dims_ok(Na * k, fb->N * k, (size_t)net->max_n)) return NTK_EINVAL;
    return kernel_grams(net, fa, a0, Na, fb, sym, K, K_layers);
}

ntk_status ntk_kernel_full(const ntk_net *net, const ntk_feats *f, void *K, void *K_layers)
{
    return kernel_block(net, f, 0, f->N, f, true, K, K_layers);
}

ntk_status ntk_kernel_cross(const ntk_net *net, const ntk_feats *fa, const ntk_feats *fb, void *K,
                            void *K_layers)
{
    return kernel_block(net, fa, 0, fa->N, fb, fa == fb, K, K_layers);
}

ntk_status ntk_kernel_rows(const ntk_net *net, const ntk_feats *f, size_t r0, size_t r1, void *K,
                           void *K_layers)
{
    if (r0 >= r1 || r1 > f->N)
        return ntk_set_error(NTK_EINVAL, "kernel rows: block [%zu, %zu) is empty or outside [0, %zu)", r0, r1,
                             f->N);
    /* A block of all rows is computed as a cross kernel (full rows by GEMM), like every other
     * block, so tiled results do not depend on the tiling. */
    return kernel_block(net, f, r0, r1 - r0, f, false, K, K_layers);
}

size_t ntk_kernel_rows_bytes(const ntk_spec *spec, size_t N, size_t B, ntk_dtype dtype, int per_layer)
{
    double k = spec->outputs, row = (double)N * k * k; /* one point's rows of a block, elements */
    double mats = (double)B * (2 * row + (double)N + (per_layer ? (spec->depth + 1.0) * row : 0));
    double b = mats * (double)la_elem(dtype);
    return b > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

static double dot_rows(ntk_dtype t, const void *A, size_t ia, const void *B, size_t ib, size_t n)
{
    double s = 0;
    for (size_t u = 0; u < n; u++) s += la_get(A, ia * n + u, t) * la_get(B, ib * n + u, t);
    return s;
}

ntk_status ntk_kernel_diag(const ntk_net *net, const ntk_feats *f, void *diag)
{
    ntk_status st = check_feats(net, f);
    if (st != NTK_OK) return st;
    ntk_dtype t = f->dtype;
    size_t N = f->N, k = (size_t)f->k;
    for (size_t i = 0; i < N; i++) {
        for (size_t a = 0; a < k; a++) {
            for (size_t b = 0; b < k; b++) {
                double s = 0;
                for (int l = 1; l <= net->d; l++) {
                    size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
                    double hh = dot_rows(t, f->H[l - 1], i, f->H[l - 1], i, np);
                    double dd = l == net->d ? (a == b ? 1.0 : 0.0)
                                            : dot_rows(t, f->D[l], i * k + a, f->D[l], i * k + b, nl);
                    s += dd * (net->cw[l] * net->cw[l] * hh + net->cb[l] * net->cb[l]);
                }
                la_set(diag, (i * k + a) * k + b, t, s);
            }
        }
    }
    return NTK_OK;
}

/* out[i, j] = scale * sum_a K[(i,a), (j,a)]: the output trace (scale 1) or mean (scale 1/k). */
static ntk_status output_reduce(size_t N, size_t M, int k, ntk_dtype t, const void *K, void *out, double scale,
                                const char *what)
{
    if (k < 1) return ntk_set_error(NTK_EINVAL, "%s: k must be >= 1", what);
    size_t kk = (size_t)k, C = M * kk;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < M; j++) {
            double s = 0;
            for (size_t a = 0; a < kk; a++) s += la_get(K, (i * kk + a) * C + j * kk + a, t);
            la_set(out, i * M + j, t, scale * s);
        }
    return NTK_OK;
}

ntk_status ntk_kernel_output_trace(size_t N, size_t M, int k, ntk_dtype t, const void *K, void *Kt)
{
    if (!la_float_type(t)) return ntk_set_error(NTK_EINVAL, "output trace: dtype %s is not float64 or float32", ntk_dtype_name(t));
    return output_reduce(N, M, k, t, K, Kt, 1.0, "output trace");
}

ntk_status ntk_kernel_output_mean(size_t N, size_t M, int k, ntk_dtype t, const void *K, void *Km)
{
    if (!la_float_type(t)) return ntk_set_error(NTK_EINVAL, "output mean: dtype %s is not float64 or float32", ntk_dtype_name(t));
    return output_reduce(N, M, k, t, K, Km, k > 0 ? 1.0 / (double)k : 0.0, "output mean");
}
