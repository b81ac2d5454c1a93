/* ntk.c -- empirical NTK from per-layer Gram matrices:
 *   K = sum_l (D_l D_l^T) o (c_w^2 H_{l-1} H_{l-1}^T + c_b^2 11^T)
 * (docs/architecture.md, "The kernel computation").  No Jacobian is formed; the cost is two Gram
 * products per layer, O(N^2 sum_l n_l). */
#include "net.h"
#include "ntk_private.h"

#include <stdlib.h>
#include <string.h>

#include "la.h"

size_t ntk_kernel_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer)
{
    double nk = (double)N * spec->outputs, n2 = (double)N * (double)N;
    double mats = 2 * nk * nk + n2 + (per_layer ? (spec->depth + 1.0) * nk * nk : 0);
    double b = mats * (double)la_elem(dtype);
    return b > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

/* Layer term into Kl (or accumulated into K): for rows r in [0, Na*k), cols q
 * (lower triangle only when `lower`), Kl[r,q] = GD[r,q] * (cw2 GH[i,j] + cb2)
 * with i = r/k, j = q/k.  GD == NULL means the readout layer, GD = [a == b].
 * Typed loops (one per dtype), row pointers hoisted, no division inside: they
 * vectorize at -O3. */
static void hadamard_f64(size_t Na, size_t Nb, size_t k, bool lower, const double *GD, const double *GH,
                         double cw2, double cb2, double *K, double *Kl)
{
    size_t C = Nb * k;
    for (size_t i = 0; i < Na; i++)
        for (size_t a = 0; a < k; a++) {
            size_t r = i * k + a, qend = lower ? r + 1 : C;
            const double *gh = GH + i * Nb, *gd = GD ? GD + r * C : NULL;
            double *kr = K + r * C, *klr = Kl ? Kl + r * C : NULL;
            if (k == 1) {
                for (size_t q = 0; q < qend; q++) {
                    double v = (gd ? gd[q] : 1.0) * (cw2 * gh[q] + cb2);
                    kr[q] += v;
                    if (klr) klr[q] = v;
                }
                continue;
            }
            for (size_t j = 0, q = 0; q < qend; j++)
                for (size_t b = 0; b < k && q < qend; b++, q++) {
                    double v = (gd ? gd[q] : (a == b ? 1.0 : 0.0)) * (cw2 * gh[j] + cb2);
                    kr[q] += v;
                    if (klr) klr[q] = v;
                }
        }
}

static void hadamard_f32(size_t Na, size_t Nb, size_t k, bool lower, const float *GD, const float *GH, float cw2,
                         float cb2, float *K, float *Kl)
{
    size_t C = Nb * k;
    for (size_t i = 0; i < Na; i++)
        for (size_t a = 0; a < k; a++) {
            size_t r = i * k + a, qend = lower ? r + 1 : C;
            const float *gh = GH + i * Nb, *gd = GD ? GD + r * C : NULL;
            float *kr = K + r * C, *klr = Kl ? Kl + r * C : NULL;
            if (k == 1) {
                for (size_t q = 0; q < qend; q++) {
                    float v = (gd ? gd[q] : 1.0f) * (cw2 * gh[q] + cb2);
                    kr[q] += v;
                    if (klr) klr[q] = v;
                }
                continue;
            }
            for (size_t j = 0, q = 0; q < qend; j++)
                for (size_t b = 0; b < k && q < qend; b++, q++) {
                    float v = (gd ? gd[q] : (a == b ? 1.0f : 0.0f)) * (cw2 * gh[j] + cb2);
                    kr[q] += v;
                    if (klr) klr[q] = v;
                }
        }
}

static void hadamard_layer(ntk_dtype t, size_t Na, size_t Nb, size_t k, bool lower, const void *GD,
                           const void *GH, double cw2, double cb2, void *K, void *Kl)
{
    if (t == NTK_F64)
        hadamard_f64(Na, Nb, k, lower, GD, GH, cw2, cb2, K, Kl);
    else
        hadamard_f32(Na, Nb, k, lower, GD, GH, (float)cw2, (float)cb2, K, Kl);
}

static ntk_status check_feats(const ntk_net *net, const ntk_feats *f)
{
    if (f->d != net->d || f->k != net->n[net->d])
        return ntk_set_error(NTK_EINVAL, "features were computed for another network");
    if (!f->have_deltas) return ntk_set_error(NTK_EINVAL, "features lack deltas (call ntk_feats_compute)");
    return NTK_OK;
}

/* Shared body of the full kernel (fa == fb, rows [0, N): lower triangle + syrk), the cross
 * kernel and row blocks of the full kernel: rows [a0, a0 + Na) of batch fa against all of fb.
 * sym: fa == fb with all rows, computed as a lower triangle by syrk and mirrored; otherwise GEMM.
 * K: [Na*k x Nb*k]; K_layers: [(L+1) x Na*k x Nb*k] or NULL. */
static ntk_status kernel_block(const ntk_net *net, const ntk_feats *fa, size_t a0, size_t Na,
                               const ntk_feats *fb, bool sym, void *K, void *K_layers)
{
    ntk_status st = check_feats(net, fa);
    if (st == NTK_OK) st = check_feats(net, fb);
    if (st != NTK_OK) return st;
    if (fa->dtype != fb->dtype) return ntk_set_error(NTK_EINVAL, "cross kernel: batches differ in dtype");
    ntk_dtype t = fa->dtype;
    size_t Nb = fb->N, k = (size_t)fa->k, es = la_elem(t);
    size_t R = Na * k, C = Nb * k;
    if (!la_dims_ok(R, C, (size_t)net->max_n)) return NTK_EINVAL;
    void *GH = la_alloc_big(Na * Nb * es);
    void *GD = la_alloc_big(R * C * es);
    if (!GH || !GD) {
        free(GH);
        free(GD);
        return ntk_set_error(NTK_ENOMEM, "kernel: cannot allocate two %zu x %zu Gram buffers", R, C);
    }
    memset(K, 0, R * C * es);
    for (int l = 1; l <= net->d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        bool readout = l == net->d;
        const char *Ha = (const char *)fa->H[l - 1] + a0 * np * es;
        const char *Da = readout ? NULL : (const char *)fa->D[l] + a0 * k * nl * es;
        if (sym) {
            la_syrk_lower(t, Na, np, 1.0, Ha, np, 0.0, GH, Na);
            if (!readout) la_syrk_lower(t, R, nl, 1.0, Da, nl, 0.0, GD, R);
        } else {
            la_gemm(t, false, true, Na, Nb, np, 1.0, Ha, np, fb->H[l - 1], np, 0.0, GH, Nb);
            if (!readout) la_gemm(t, false, true, R, C, nl, 1.0, Da, nl, fb->D[l], nl, 0.0, GD, C);
        }
        double cw2 = net->cw[l] * net->cw[l], cb2 = net->cb[l] * net->cb[l];
        void *Kl = K_layers ? (char *)K_layers + (size_t)(l - 1) * R * C * es : NULL;
        hadamard_layer(t, Na, Nb, k, sym, readout ? NULL : GD, GH, cw2, cb2, K, Kl);
        if (Kl && sym) la_symmetrize_lower(t, R, Kl);
    }
    if (sym) la_symmetrize_lower(t, R, K);
    free(GH);
    free(GD);
    return NTK_OK;
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
