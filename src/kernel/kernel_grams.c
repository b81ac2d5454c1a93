/* kernel_grams.c -- the layer sum of the structured kernel,
 *   K = sum_l (D_l D_l^T) o (c_w^2 H_{l-1} H_{l-1}^T + c_b^2 11^T),
 * computed in tiles of KG_TILE_ROWS rows: per tile and layer the two Gram blocks by BLAS (SYRK on the
 * diagonal tiles of a symmetric kernel, GEMM elsewhere) into a per-thread scratch, then the Hadamard
 * product added into K while both are in cache.  Tiles run over OpenMP threads with BLAS single-threaded
 * inside (la_team_begin); the tiling depends on the sizes only, so K is the same to the bit for every
 * thread count. */
#include "net.h"
#include "ntk_private.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_grams.h"
#include "la.h"

/* Rows of K per tile (points times outputs): GH and GD of one tile stay in the L2 cache. */
#define KG_TILE_ROWS 128

typedef struct {
    const ntk_net *net;
    const ntk_feats *fa, *fb;
    size_t a0, Na, Nb, k, tp; /* tp: points per tile */
    bool sym;
    ntk_dtype t;
    size_t es, C;             /* C = Nb k: row stride of K and of each layer of K_layers */
    void *K, *K_layers;
} kg_job;

/* One layer's term on a tile: rows r < ti k (r = ii k + a), columns q < tj k (q = jj k + b; the lower
 * triangle q <= r only on a diagonal tile).  GD: [ti k x tj k] (NULL: readout, GD = [a == b]),
 * GH: [ti x tj]; K, Kl: the tile's corner, row stride ldk.  Kl (may be NULL) gets the term itself. */
#define KG_HADAMARD(NAME, T)                                                                                   \
    static void NAME(size_t ti, size_t tj, size_t k, bool diag, const T *GD, const T *GH, T cw2, T cb2, T *K,     \
                     T *Kl, size_t ldk)                                                                         \
    {                                                                                                           \
        size_t cols = tj * k;                                                                                   \
        for (size_t ii = 0; ii < ti; ii++)                                                                      \
            for (size_t a = 0; a < k; a++) {                                                                    \
                size_t r = ii * k + a, qend = diag ? r + 1 : cols;                                              \
                const T *gh = GH + ii * tj, *gd = GD ? GD + r * cols : NULL;                                    \
                T *kr = K + r * ldk, *klr = Kl ? Kl + r * ldk : NULL;                                           \
                if (k == 1 && gd) {                                                                             \
                    if (klr)                                                                                    \
                        for (size_t q = 0; q < qend; q++) {                                                     \
                            T v = gd[q] * (cw2 * gh[q] + cb2);                                                  \
                            kr[q] += v;                                                                         \
                            klr[q] = v;                                                                         \
                        }                                                                                       \
                    else                                                                                        \
                        for (size_t q = 0; q < qend; q++) kr[q] += gd[q] * (cw2 * gh[q] + cb2);                 \
                    continue;                                                                                   \
                }                                                                                               \
                for (size_t jj = 0, q = 0; q < qend; jj++)                                                      \
                    for (size_t b = 0; b < k && q < qend; b++, q++) {                                           \
                        T v = (gd ? gd[q] : (T)(a == b)) * (cw2 * gh[jj] + cb2);                                \
                        kr[q] += v;                                                                             \
                        if (klr) klr[q] = v;                                                                    \
                    }                                                                                           \
            }                                                                                                   \
    }
KG_HADAMARD(hadamard_f64, double)
KG_HADAMARD(hadamard_f32, float)

/* The upper triangle of a tile from its lower: block (rows [r0, r0+m), cols [q0, q0+n)) of the
 * lower triangle into its mirror image (all of it off the diagonal, q < r on it). */
#define KG_MIRROR(NAME, T)                                                                                     \
    static void NAME(T *K, size_t ld, size_t r0, size_t q0, size_t m, size_t n, bool diag)                      \
    {                                                                                                           \
        for (size_t r = 0; r < m; r++) {                                                                        \
            const T *src = K + (r0 + r) * ld + q0;                                                              \
            size_t qend = diag ? r : n;                                                                         \
            for (size_t q = 0; q < qend; q++) K[(q0 + q) * ld + r0 + r] = src[q];                               \
        }                                                                                                       \
    }
KG_MIRROR(mirror_f64, double)
KG_MIRROR(mirror_f32, float)

static void zero_tile(void *K, size_t es, size_t ld, size_t m, size_t n)
{
    for (size_t r = 0; r < m; r++) memset((char *)K + r * ld * es, 0, n * es);
}

/* Tile (I, J): points [I tp, ..) of the a-block against [J tp, ..) of b, every layer, then its mirror. */
static void one_tile(const kg_job *j, size_t I, size_t J, void *GH, void *GD)
{
    const ntk_net *net = j->net;
    size_t tp = j->tp, k = j->k, es = j->es, C = j->C;
    size_t i0 = I * tp, j0 = J * tp;
    size_t ti = i0 + tp <= j->Na ? tp : j->Na - i0, tj = j0 + tp <= j->Nb ? tp : j->Nb - j0;
    bool diag = j->sym && I == J;
    size_t corner = i0 * k * C + j0 * k; /* element offset of the tile in K */
    char *K = (char *)j->K + corner * es;
    zero_tile(K, es, C, ti * k, tj * k);
    for (int l = 1; l <= net->d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        bool readout = l == net->d;
        const char *Ha = (const char *)j->fa->H[l - 1] + (j->a0 + i0) * np * es;
        const char *Hb = (const char *)j->fb->H[l - 1] + j0 * np * es;
        if (diag)
            la_syrk_lower(j->t, ti, np, 1.0, Ha, np, 0.0, GH, tj);
        else
            la_gemm(j->t, false, true, ti, tj, np, 1.0, Ha, np, Hb, np, 0.0, GH, tj);
        if (!readout) {
            const char *Da = (const char *)j->fa->D[l] + (j->a0 + i0) * k * nl * es;
            const char *Db = (const char *)j->fb->D[l] + j0 * k * nl * es;
            if (diag)
                la_syrk_lower(j->t, ti * k, nl, 1.0, Da, nl, 0.0, GD, tj * k);
            else
                la_gemm(j->t, false, true, ti * k, tj * k, nl, 1.0, Da, nl, Db, nl, 0.0, GD, tj * k);
        }
        double cw2 = net->cw[l] * net->cw[l], cb2 = net->cb[l] * net->cb[l];
        char *Kl = j->K_layers ? (char *)j->K_layers + ((size_t)(l - 1) * j->Na * k * C + corner) * es : NULL;
        if (j->t == NTK_F64)
            hadamard_f64(ti, tj, k, diag, readout ? NULL : GD, GH, cw2, cb2, (double *)K, (double *)Kl, C);
        else
            hadamard_f32(ti, tj, k, diag, readout ? NULL : GD, GH, (float)cw2, (float)cb2, (float *)K, (float *)Kl,
                         C);
        if (Kl && j->sym) {
            if (j->t == NTK_F64)
                mirror_f64((double *)j->K_layers + (size_t)(l - 1) * j->Na * k * C, C, i0 * k, j0 * k, ti * k,
                           tj * k, diag);
            else
                mirror_f32((float *)j->K_layers + (size_t)(l - 1) * j->Na * k * C, C, i0 * k, j0 * k, ti * k,
                           tj * k, diag);
        }
    }
    if (j->sym) {
        if (j->t == NTK_F64)
            mirror_f64(j->K, C, i0 * k, j0 * k, ti * k, tj * k, diag);
        else
            mirror_f32(j->K, C, i0 * k, j0 * k, ti * k, tj * k, diag);
    }
}

ntk_status kernel_grams(const ntk_net *net, const ntk_feats *fa, size_t a0, size_t Na, const ntk_feats *fb,
                        bool sym, void *K, void *K_layers)
{
    ntk_dtype t = fa->dtype;
    size_t k = (size_t)fa->k, es = la_elem(t), Nb = fb->N;
    size_t tp = KG_TILE_ROWS / k ? KG_TILE_ROWS / k : 1;
    size_t nI = (Na + tp - 1) / tp, nJ = (Nb + tp - 1) / tp;
    /* the tiles, largest first (off-diagonal before diagonal: a diagonal SYRK tile costs half) */
    size_t ntiles = sym ? nI * (nI + 1) / 2 : nI * nJ;
    size_t *tiles = malloc(2 * ntiles * sizeof *tiles);
    kg_job j = {net, fa, fb, a0, Na, Nb, k, tp, sym, t, es, Nb * k, K, K_layers};
    la_team team = la_team_begin(ntiles);
    int nt = team.threads;
    size_t scratch = tp * tp + tp * k * tp * k; /* GH + GD of one tile, elements */
    /* from the scratch pool: repeated calls reuse the same mapped block (a fresh malloc of this size
     * can be a fresh mapping every call, its pages faulted in again) */
    void *buf = tiles ? la_scratch_get((size_t)nt * scratch * es) : NULL;
    if (!buf) {
        la_team_end(team);
        free(tiles);
        return ntk_set_error(NTK_ENOMEM, "kernel: cannot allocate the Gram tiles (%zu x %zu rows)", tp * k, tp * k);
    }
    size_t n = 0;
    for (size_t I = 0; I < nI; I++)
        for (size_t J = 0; J < (sym ? I : nJ); J++) tiles[2 * n] = I, tiles[2 * n + 1] = J, n++;
    for (size_t I = 0; sym && I < nI; I++) tiles[2 * n] = I, tiles[2 * n + 1] = I, n++;
#pragma omp parallel num_threads(nt)
    {
        char *GH = (char *)buf + (size_t)omp_get_thread_num() * scratch * es, *GD = GH + tp * tp * es;
#pragma omp for schedule(dynamic, 1)
        for (size_t q = 0; q < ntiles; q++) one_tile(&j, tiles[2 * q], tiles[2 * q + 1], GH, GD);
    }
    la_team_end(team);
    la_scratch_put(buf);
    free(tiles);
    return NTK_OK;
}
