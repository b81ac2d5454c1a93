/* train_fused.c -- the loss gradient of a network with one hidden layer of width w, few inputs and few
 * outputs (relu, relu with frozen gates, identity), fused over rows: ntk_trainer_step's path for the
 * small networks of kernel-drift runs (docs/performance.md, "Training steps").
 *
 * The batched path (ntk_net_loss_grad_ws) makes six BLAS calls of thin shapes (inner dimension n0 = 2,
 * matrix-vector products for a scalar readout) and writes and reads four B x w arrays (Z, H, the
 * deltas, their mask), so its time is packing and memory traffic, not flops.  Here:
 *  - the rows are cut into chunks of TF_ROWS, the hidden units into blocks of TF_UNITS;
 *  - forward, per chunk: for each unit block and each row, z = c_w1 W1 x + c_b1 b1, h = phi(z), and the
 *    outputs' partial sums over the block (TF_LANES interleaved sums per output, a fixed order); the
 *    block's weights stay in L1 across the chunk's rows;
 *  - backward, per chunk, once the outputs and residuals r = c (f - y) are known: z is recomputed
 *    (n0 multiply-adds, cheaper than storing it), delta = phi'(z) o (c_w2 W2^T r), and the chunk's
 *    gradient accumulates r h^T, delta x^T, delta, r;
 *  - the chunk gradients are summed in chunk order and scaled by c_w, c_b.
 * No B x w array exists; the chunks are independent of the thread count, so the result is
 * bit-identical for any number of threads.  It equals the batched path's to rounding (the sums run in
 * another order). */
#include "train_fused.h"

#include "net.h"
#include "ntk_private.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { TF_ROWS = 32, TF_UNITS = 256, TF_LANES = 8, TF_GROUP = 4 };
enum { TF_RELU, TF_GATED, TF_IDENTITY };

/* Wider vector units where the CPU has them (the same operations in the same order: the results do not
 * change, ISO C forbids contracting a * b + c into one rounding). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NTK_NO_CLONES)
#define TF_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TF_CLONES
#endif

/* The unit loops write the chunk's sums and read the weights: disjoint arrays (GCC would otherwise test
 * at run time whether rows j W + u of one array overlap). */
#if defined(__GNUC__) && !defined(__clang__)
#define TF_IVDEP _Pragma("GCC ivdep")
#else
#define TF_IVDEP
#endif

struct tf_ws {
    size_t B, nchunks, plen;
    size_t n0, w, k;
    double *W1s; /* [n0 x w] row j = c_w1 W1[:, j] (W1^T, scaled) */
    double *b1s; /* [w] c_b1 b1, or zeros */
    double *G1s; /* [n0 x w], [w] (g1s): the same of theta_g, used with frozen gates */
    double *g1s;
    double *W2s; /* [k x w] c_w2 W2 */
    const double *b2s; /* [k] c_b2 b2 or zeros, during tf_loss_grad */
    double *part; /* [nchunks x plen]: per chunk gW1 [n0 x w] (transposed), gb1 [w], gW2 [k x w], gb2 [k], sum e^2 */
    double *mem;
};

bool tf_applies(const ntk_net *net)
{
    ntk_act a = net->spec.act;
    return net->d == 2 && (a == NTK_ACT_RELU || a == NTK_ACT_IDENTITY) && net->n[0] >= 1 &&
           net->n[0] <= TF_N0_MAX && net->n[2] >= 1 && net->n[2] <= TF_K_MAX && net->n[1] >= 1;
}

void tf_free(tf_ws *w)
{
    if (!w) return;
    free(w->mem);
    free(w);
}

ntk_status tf_alloc(const ntk_net *net, size_t B, tf_ws **out)
{
    *out = NULL;
    if (!tf_applies(net) || B == 0) return ntk_set_error(NTK_EINVAL, "fused gradient: the network does not qualify");
    tf_ws *w = calloc(1, sizeof *w);
    if (!w) return ntk_set_error(NTK_ENOMEM, "fused gradient: out of memory");
    w->B = B;
    w->n0 = (size_t)net->n[0], w->w = (size_t)net->n[1], w->k = (size_t)net->n[2];
    w->nchunks = (B + TF_ROWS - 1) / TF_ROWS;
    w->plen = (w->n0 + 1 + w->k) * w->w + w->k + 1;
    size_t weights = 2 * (w->n0 + 1) * w->w + w->k * w->w;
    w->mem = malloc((weights + w->nchunks * w->plen) * sizeof(double));
    if (!w->mem) {
        free(w);
        return ntk_set_error(NTK_ENOMEM, "fused gradient: out of memory for B = %zu, width %zu", B, (size_t)net->n[1]);
    }
    double *p = w->mem;
    w->W1s = p, p += w->n0 * w->w;
    w->b1s = p, p += w->w;
    w->G1s = p, p += w->n0 * w->w;
    w->g1s = p, p += w->w;
    w->W2s = p, p += w->k * w->w;
    w->part = p;
    *out = w;
    return NTK_OK;
}

/* --------------------------------------------------------------- the kernels */

/* Units [u0, u1) of the scaled copies: W1s, b1s (and G1s, g1s from theta_g when gated), W2s. */
static void prepare(tf_ws *w, const ntk_net *net, int gated, size_t u0, size_t u1)
{
    size_t n0 = w->n0, W = w->w;
    for (int g = 0; g <= gated; g++) {
        const double *th = g ? net->theta_g : net->theta;
        const double *W1 = th + net->offW[1], *b1 = net_has_bias(net, 1) ? th + net->offb[1] : NULL;
        double *Ws = g ? w->G1s : w->W1s, *bs = g ? w->g1s : w->b1s;
        for (size_t u = u0; u < u1; u++)
            for (size_t j = 0; j < n0; j++) Ws[j * W + u] = net->cw[1] * W1[u * n0 + j];
        for (size_t u = u0; u < u1; u++) bs[u] = b1 ? net->cb[1] * b1[u] : 0.0;
    }
    const double *W2 = net->theta + net->offW[2];
    for (size_t a = 0; a < w->k; a++)
        for (size_t u = u0; u < u1; u++) w->W2s[a * W + u] = net->cw[2] * W2[a * W + u];
}

/* acc[u % TF_LANES] += a[u] b[u], u < nu (the block starts at a multiple of TF_LANES). */
static inline void lane_dot(size_t nu, const double *restrict a, const double *restrict b, double *restrict acc)
{
    double s[TF_LANES];
    memcpy(s, acc, sizeof s);
    size_t u = 0;
    for (; u + TF_LANES <= nu; u += TF_LANES)
        for (size_t l = 0; l < TF_LANES; l++) s[l] += a[u + l] * b[u + l];
    for (; u < nu; u++) s[u % TF_LANES] += a[u] * b[u];
    memcpy(acc, s, sizeof s);
}

/* Unit u of a block: z = sum_j W1s[j] x_j + b1s (j in order) for the row x: [n0] (W1s: [n0 x w] from the
 * block's first unit, b1s likewise), and *gz, whose sign says whether the unit is on: z itself, or with
 * frozen gates theta_g's pre-activation (G1s, g1s). */
static inline __attribute__((always_inline)) double unit(const double *restrict W1s, const double *restrict b1s,
                                                         const double *restrict G1s, const double *restrict g1s,
                                                         size_t W, size_t u, const double *x, size_t n0, int mode,
                                                         double *gz)
{
    double z = W1s[u] * x[0];
    _Pragma("GCC unroll 16")
    for (size_t j = 1; j < n0; j++) z += W1s[j * W + u] * x[j];
    z += b1s[u];
    *gz = z;
    if (mode == TF_GATED) {
        double q = G1s[u] * x[0];
        _Pragma("GCC unroll 16")
        for (size_t j = 1; j < n0; j++) q += G1s[j * W + u] * x[j];
        *gz = q + g1s[u];
    }
    return z;
}

/* Forward over units [u0, u0 + nu) for G rows x: [G x n0]: h = phi(z) into hb: [G x TF_UNITS].  With
 * constant n0, G and mode (the instantiations below) the loop over u is one vector loop. */
static inline __attribute__((always_inline)) void block_fwd(const tf_ws *w, size_t u0, size_t nu, const double *x,
                                                            double *restrict hb, size_t n0, size_t G, int mode)
{
    const double *restrict W1s = w->W1s + u0, *restrict b1s = w->b1s + u0, *restrict G1s = w->G1s + u0,
                           *restrict g1s = w->g1s + u0;
    size_t W = w->w;
    double xs[TF_GROUP * TF_N0_MAX];
    _Pragma("GCC unroll 16")
    for (size_t i = 0; i < G * n0; i++) xs[i] = x[i];
    for (size_t u = 0; u < nu; u++)
        _Pragma("GCC unroll 16")
        for (size_t g = 0; g < G; g++) {
            double gz, z = unit(W1s, b1s, G1s, g1s, W, u, xs + g * n0, n0, mode, &gz);
            hb[g * TF_UNITS + u] = mode == TF_IDENTITY || gz > 0 ? z : 0.0;
        }
}

/* Backward over units [u0, u0 + nu) for G rows x: [G x n0] with residuals R: [G x k]: delta =
 * phi'(z) o (W2s^T r), and the chunk's sums gW2 += r h^T, gW1 += delta x^T (gW1 transposed, [n0 x w]),
 * gb1 += delta, each element taking the rows one after another (the order of one row at a time). */
static inline __attribute__((always_inline)) void block_bwd(const tf_ws *w, size_t u0, size_t nu, const double *x,
                                                            const double *R, double *gW1, double *gb1, double *gW2,
                                                            size_t n0, size_t k, size_t G, int mode)
{
    const double *restrict W1s = w->W1s + u0, *restrict b1s = w->b1s + u0, *restrict G1s = w->G1s + u0,
                           *restrict g1s = w->g1s + u0, *restrict W2s = w->W2s + u0;
    size_t W = w->w;
    double *restrict p1 = gW1 + u0, *restrict p2 = gW2 + u0, *restrict pb = gb1 + u0;
    double xs[TF_GROUP * TF_N0_MAX], rs[TF_GROUP * TF_K_MAX];
    _Pragma("GCC unroll 16")
    for (size_t i = 0; i < G * n0; i++) xs[i] = x[i];
    _Pragma("GCC unroll 16")
    for (size_t i = 0; i < G * k; i++) rs[i] = R[i];
    TF_IVDEP
    for (size_t u = 0; u < nu; u++) {
        double hh[TF_GROUP], dd[TF_GROUP];
        _Pragma("GCC unroll 16")
        for (size_t g = 0; g < G; g++) {
            double gz, z = unit(W1s, b1s, G1s, g1s, W, u, xs + g * n0, n0, mode, &gz);
            double sg = rs[g * k] * W2s[u];
            _Pragma("GCC unroll 16")
            for (size_t a = 1; a < k; a++) sg += rs[g * k + a] * W2s[a * W + u];
            int on = mode == TF_IDENTITY || gz > 0;
            hh[g] = on ? z : 0.0;
            dd[g] = on ? sg : 0.0;
        }
        _Pragma("GCC unroll 16")
        for (size_t a = 0; a < k; a++) {
            double t = p2[a * W + u];
            _Pragma("GCC unroll 16")
            for (size_t g = 0; g < G; g++) t += rs[g * k + a] * hh[g];
            p2[a * W + u] = t;
        }
        _Pragma("GCC unroll 16")
        for (size_t j = 0; j < n0; j++) {
            double t = p1[j * W + u];
            _Pragma("GCC unroll 16")
            for (size_t g = 0; g < G; g++) t += dd[g] * xs[g * n0 + j];
            p1[j * W + u] = t;
        }
        double t = pb[u];
        _Pragma("GCC unroll 16")
        for (size_t g = 0; g < G; g++) t += dd[g];
        pb[u] = t;
    }
}

/* The chunk's rows in groups of TF_GROUP, then one by one: forward (outputs into acc: [nr x k x TF_LANES]
 * lane sums) or backward (residuals R: [nr x k]) over every unit block. */
static inline __attribute__((always_inline)) void rows(const tf_ws *w, const double *X, size_t nr, double *acc,
                                                       const double *R, double *hb, double *gW1, double *gb1,
                                                       double *gW2, int fwd, size_t n0, size_t k, int mode)
{
    size_t W = w->w;
    for (size_t u0 = 0; u0 < W; u0 += TF_UNITS) {
        size_t nu = W - u0 < TF_UNITS ? W - u0 : TF_UNITS, r = 0;
        for (; r + TF_GROUP <= nr; r += TF_GROUP) {
            if (!fwd) {
                block_bwd(w, u0, nu, X + r * n0, R + r * k, gW1, gb1, gW2, n0, k, TF_GROUP, mode);
                continue;
            }
            block_fwd(w, u0, nu, X + r * n0, hb, n0, TF_GROUP, mode);
            for (size_t g = 0; g < TF_GROUP; g++)
                for (size_t a = 0; a < k; a++)
                    lane_dot(nu, w->W2s + a * W + u0, hb + g * TF_UNITS, acc + ((r + g) * k + a) * TF_LANES);
        }
        for (; r < nr; r++) {
            if (!fwd) {
                block_bwd(w, u0, nu, X + r * n0, R + r * k, gW1, gb1, gW2, n0, k, 1, mode);
                continue;
            }
            block_fwd(w, u0, nu, X + r * n0, hb, n0, 1, mode);
            for (size_t a = 0; a < k; a++) lane_dot(nu, w->W2s + a * W + u0, hb, acc + (r * k + a) * TF_LANES);
        }
    }
}

/* rows() with n0, k, mode as constants where they are the common ones. */
#define TF_CASE(N0, K, MODE)                                                                                \
    if (n0 == (N0) && k == (K) && mode == (MODE)) {                                                         \
        rows(w, X, nr, acc, R, hb, gW1, gb1, gW2, fwd, N0, K, MODE);                                        \
        return;                                                                                             \
    }
TF_CLONES static void rows_any(const tf_ws *w, const double *X, size_t nr, double *acc, const double *R, double *hb,
                               double *gW1, double *gb1, double *gW2, int fwd, int mode)
{
    size_t n0 = w->n0, k = w->k;
    TF_CASE(1, 1, TF_RELU) TF_CASE(2, 1, TF_RELU) TF_CASE(3, 1, TF_RELU) TF_CASE(4, 1, TF_RELU)
    TF_CASE(1, 1, TF_GATED) TF_CASE(2, 1, TF_GATED) TF_CASE(3, 1, TF_GATED) TF_CASE(4, 1, TF_GATED)
    rows(w, X, nr, acc, R, hb, gW1, gb1, gW2, fwd, n0, k, mode);
}
#undef TF_CASE

/* One chunk of rows: its gradient (unscaled by c_w, c_b) and sum of squared errors into its part. */
static void chunk(tf_ws *w, size_t c, int mode, const double *X, const double *Y, double cf)
{
    size_t n0 = w->n0, W = w->w, k = w->k, r0 = c * TF_ROWS, nr = w->B - r0 < TF_ROWS ? w->B - r0 : TF_ROWS;
    double *part = w->part + c * w->plen;
    memset(part, 0, w->plen * sizeof *part);
    double *gW1 = part, *gb1 = gW1 + n0 * W, *gW2 = gb1 + W, *gb2 = gW2 + k * W, *sse = gb2 + k;
    double acc[TF_ROWS * TF_K_MAX * TF_LANES], R[TF_ROWS * TF_K_MAX], hb[TF_GROUP * TF_UNITS];
    memset(acc, 0, nr * k * TF_LANES * sizeof *acc);
    X += r0 * n0;
    rows_any(w, X, nr, acc, R, hb, gW1, gb1, gW2, 1, mode);
    /* residuals r = c (f - y), f = sum of the lanes + c_b2 b2 */
    for (size_t r = 0; r < nr; r++)
        for (size_t a = 0; a < k; a++) {
            const double *l = acc + (r * k + a) * TF_LANES;
            double f = l[0];
            for (size_t q = 1; q < TF_LANES; q++) f += l[q];
            f += w->b2s[a];
            double e = f - Y[(r0 + r) * k + a];
            *sse += e * e;
            R[r * k + a] = cf * e;
        }
    rows_any(w, X, nr, acc, R, hb, gW1, gb1, gW2, 0, mode);
    for (size_t r = 0; r < nr; r++)
        for (size_t a = 0; a < k; a++) gb2[a] += R[r * k + a];
}

/* t[u] = sum over chunks (in chunk order) of part[c][off + u], u < nu. */
static inline void chunk_sum(const tf_ws *w, size_t off, size_t nu, double *restrict t)
{
    memcpy(t, w->part + off, nu * sizeof *t);
    for (size_t c = 1; c < w->nchunks; c++) {
        const double *p = w->part + c * w->plen + off;
        for (size_t u = 0; u < nu; u++) t[u] += p[u];
    }
}

/* Units [u0, u0 + nu) of the gradient: W1 (back to [w x n0]), b1, W2. */
TF_CLONES static void reduce_units(const tf_ws *w, const ntk_net *net, size_t u0, size_t nu, double *grad)
{
    size_t n0 = w->n0, W = w->w;
    double t[TF_UNITS];
    double *gW1 = grad + net->offW[1], *gW2 = grad + net->offW[2];
    for (size_t j = 0; j < n0; j++) {
        chunk_sum(w, j * W + u0, nu, t);
        for (size_t u = 0; u < nu; u++) gW1[(u0 + u) * n0 + j] = net->cw[1] * t[u];
    }
    if (net_has_bias(net, 1)) {
        chunk_sum(w, n0 * W + u0, nu, t);
        double *gb1 = grad + net->offb[1];
        for (size_t u = 0; u < nu; u++) gb1[u0 + u] = net->cb[1] * t[u];
    }
    for (size_t a = 0; a < w->k; a++) {
        chunk_sum(w, (n0 + 1 + a) * W + u0, nu, t);
        for (size_t u = 0; u < nu; u++) gW2[a * W + u0 + u] = net->cw[2] * t[u];
    }
}

ntk_status tf_loss_grad(tf_ws *w, ntk_net *net, const double *X, const double *Y, ntk_loss loss, double *loss_out,
                        double *grad)
{
    if (!tf_applies(net) || (size_t)net->n[0] != w->n0 || (size_t)net->n[1] != w->w || (size_t)net->n[2] != w->k)
        return ntk_set_error(NTK_EINVAL, "fused gradient: the workspace was made for another network");
    int gated = net->theta_g != NULL, mode = gated ? TF_GATED : net->spec.act == NTK_ACT_RELU ? TF_RELU : TF_IDENTITY;
    double cf = ntk_loss_factor(loss, w->B);
    size_t nb = (w->w + TF_UNITS - 1) / TF_UNITS, k = w->k;
    double b2s[TF_K_MAX];
    for (size_t a = 0; a < k; a++) b2s[a] = net_has_bias(net, 2) ? net->cb[2] * net->theta[net->offb[2] + a] : 0.0;
    w->b2s = b2s;
    int nt = omp_get_max_threads();
    if (nt > (int)w->nchunks) nt = (int)w->nchunks;
    prepare(w, net, gated, 0, w->w); /* O(P): not worth a barrier */
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
#pragma omp for schedule(static)
        for (size_t c = 0; c < w->nchunks; c++) chunk(w, c, mode, X, Y, cf);
#pragma omp for schedule(static)
        for (size_t b = 0; b < nb; b++) {
            size_t u0 = b * TF_UNITS;
            reduce_units(w, net, u0, w->w - u0 < TF_UNITS ? w->w - u0 : TF_UNITS, grad);
        }
    }
    w->b2s = NULL;
    double sse = 0;
    size_t off = (w->n0 + 1 + k) * w->w;
    for (size_t a = 0; a < k; a++) {
        double t = 0;
        for (size_t c = 0; c < w->nchunks; c++) t += w->part[c * w->plen + off + a];
        if (net_has_bias(net, 2)) grad[net->offb[2] + a] = net->cb[2] * t;
    }
    for (size_t c = 0; c < w->nchunks; c++) sse += w->part[c * w->plen + off + k];
    *loss_out = 0.5 * cf * sse;
    return NTK_OK;
}
