/* test_kernel_grams.c -- the chunked features (src/model/feats.c, ntk_feats_compute) and the tiled
 * layer sum (src/kernel/kernel_grams.c) at sizes that span several chunks and tiles, partial ones
 * included (N = 129: a chunk of 128 points and one of 1, N = 300: two of 152 and 148; tiles of 128 rows,
 * 42 points for k = 3):
 *
 * - features of a batch equal the features of each point computed alone (a batch of one: no chunks,
 *   no threads), plain and with frozen gates; the outputs equal ntk_net_forward's;
 * - ntk_kernel_full against the Jacobian contraction J J^T, its per-layer terms summing to K, exactly
 *   symmetric; ntk_kernel_rows of a block that starts inside a tile and ntk_kernel_cross of two
 *   batches against the blocks of the full kernel; float32 against float64;
 * - features, full, rows and cross kernels bit-identical with 1, 2 and 3 threads (float64 and
 *   float32): chunks and tiles depend on the sizes only.
 *
 * Tolerances: batch vs single point 1e-14 relative (the same products, rounded by GEMMs of another
 * row count: a few ulps); structured vs J J^T 1e-12 (sums of the same O(P) products in another order,
 * ~ sqrt(P) eps); per-layer sum 1e-14 (L+2 addends); blocks of the full kernel 1e-13 (SYRK against
 * GEMM tiles: rounding only); float32 vs float64 1e-5 (float32 eps 6e-8 times sqrt of ~100 terms per
 * dot product, with margin). */
#include "testutil.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ntk_feats *feats(ntk_net *net, size_t N, const double *X, ntk_dtype t)
{
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, t, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    return f;
}

static double *as_f64(const void *p, size_t n, ntk_dtype t)
{
    double *o = malloc(n * sizeof *o);
    assert_non_null(o);
    for (size_t i = 0; i < n; i++) o[i] = t == NTK_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
    return o;
}

/* Every H, Z and D of f in float64, concatenated layer by layer; *n gets the length. */
static double *all_feats(const ntk_net *net, const ntk_feats *f, size_t N, size_t *n)
{
    int d = ntk_net_num_layers(net), k = ntk_net_spec(net)->outputs;
    size_t total = 0;
    for (int l = 0; l < d; l++) total += N * (size_t)ntk_net_width(net, l);
    for (int l = 1; l <= d; l++) total += N * (size_t)ntk_net_width(net, l) * (1 + (size_t)k);
    double *o = malloc(total * sizeof *o), *p = o;
    assert_non_null(o);
    for (int l = 0; l < d; l++, p += N * (size_t)ntk_net_width(net, l - 1)) TU_OK(ntk_feats_act(f, l, p));
    for (int l = 1; l <= d; l++) {
        size_t nl = N * (size_t)ntk_net_width(net, l);
        TU_OK(ntk_feats_preact(f, l, p));
        p += nl;
        TU_OK(ntk_feats_delta(f, l, p));
        p += nl * (size_t)k;
    }
    *n = total;
    return o;
}

/* Batch features against those of each point alone, row by row. */
static void check_feats_vs_single(ntk_net *net, size_t N, const double *X)
{
    int d = ntk_net_num_layers(net), k = ntk_net_spec(net)->outputs, n0 = ntk_net_width(net, 0);
    ntk_feats *f = feats(net, N, X, NTK_F64);
    double maxdev = 0, scale = 0;
    for (size_t i = 0; i < N; i++) {
        ntk_feats *g = feats(net, 1, X + i * (size_t)n0, NTK_F64);
        for (int l = 1; l <= d; l++) {
            size_t nl = (size_t)ntk_net_width(net, l), kk = (size_t)k;
            double *Db = malloc(N * kk * nl * sizeof *Db), *Dg = malloc(kk * nl * sizeof *Dg);
            double *Zb = malloc(N * nl * sizeof *Zb), *Zg = malloc(nl * sizeof *Zg);
            TU_OK(ntk_feats_delta(f, l, Db));
            TU_OK(ntk_feats_delta(g, l, Dg));
            TU_OK(ntk_feats_preact(f, l, Zb));
            TU_OK(ntk_feats_preact(g, l, Zg));
            for (size_t u = 0; u < kk * nl; u++) {
                maxdev = fmax(maxdev, fabs(Db[i * kk * nl + u] - Dg[u]));
                scale = fmax(scale, fabs(Dg[u]));
            }
            for (size_t u = 0; u < nl; u++) {
                maxdev = fmax(maxdev, fabs(Zb[i * nl + u] - Zg[u]));
                scale = fmax(scale, fabs(Zg[u]));
            }
            free(Db), free(Dg), free(Zb), free(Zg);
        }
        ntk_feats_free(g);
    }
    TU_ASSERT_LE(maxdev / scale, 1e-14, "batch features vs each point alone");
    /* the outputs the features keep equal a separate forward pass (one GEMM per layer on all rows) */
    size_t R = N * (size_t)k;
    double *F1 = malloc(R * sizeof *F1), *F2 = malloc(R * sizeof *F2);
    TU_OK(ntk_feats_output(f, F1));
    TU_OK(ntk_net_forward(net, N, X, F2));
    TU_ASSERT_LE(tu_rel_max(R, F1, F2), 1e-14, "feats outputs vs ntk_net_forward");
    free(F1), free(F2);
    ntk_feats_free(f);
}

static void test_feats_chunks(void **state)
{
    (void)state;
    const size_t Ns[] = {129, 300};
    for (int gated = 0; gated < 2; gated++)
        for (int ni = 0; ni < 2; ni++) {
            tu_netcfg c = tu_cfg(3, 9, 4, gated ? 1 : 2);
            c.act = gated ? NTK_ACT_RELU : NTK_ACT_TANH;
            ntk_net *net = tu_net(&c, 5);
            if (gated) TU_OK(ntk_net_freeze_gates(net));
            if (gated) { /* move theta away from theta_g so that the gates differ from the live masks */
                double *th = ntk_net_params(net);
                for (size_t p = 0; p < ntk_net_num_params(net); p++) th[p] *= 1.0 + 0.3 * sin((double)p);
            }
            double *X = tu_gauss_x(6, Ns[ni], c.n0);
            check_feats_vs_single(net, Ns[ni], X);
            free(X);
            ntk_net_free(net);
        }
}

/* The full kernel and its blocks at several tiles; float32 against float64. */
static void check_kernel(int k, size_t N)
{
    tu_netcfg c = tu_cfg(2, 6, 3, k);
    c.act = NTK_ACT_GELU;
    ntk_net *net = tu_net(&c, 9);
    double *X = tu_gauss_x(10, N, c.n0);
    int d = ntk_net_num_layers(net);
    size_t kk = (size_t)k, R = N * kk;
    ntk_feats *f = feats(net, N, X, NTK_F64);
    double *K = malloc(R * R * sizeof *K), *Kl = malloc((size_t)d * R * R * sizeof *Kl);
    double *Kref = malloc(R * R * sizeof *Kref);
    TU_OK(ntk_kernel_full(net, f, K, Kl));
    TU_OK(ntk_kernel_jacobian_ref(net, N, X, Kref));
    char what[160];
    snprintf(what, sizeof what, "tiled K vs J J^T (k = %d, N = %zu)", k, N);
    TU_ASSERT_LE(tu_rel_fro(R * R, K, Kref), 1e-12, what);
    double *S = calloc(R * R, sizeof *S);
    for (int l = 0; l < d; l++)
        for (size_t i = 0; i < R * R; i++) S[i] += Kl[(size_t)l * R * R + i];
    TU_ASSERT_LE(tu_rel_fro(R * R, S, K), 1e-14, "per-layer terms sum to K");
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < i; j++) {
            assert_true(K[i * R + j] == K[j * R + i]);
            for (int l = 0; l < d; l++) assert_true(Kl[(size_t)l * R * R + i * R + j] == Kl[(size_t)l * R * R + j * R + i]);
        }
    /* rows [r0, r1): r0 inside the first tile, the block longer than a tile */
    size_t r0 = 37, r1 = N - 5, B = (r1 - r0) * kk;
    double *Kb = malloc(B * R * sizeof *Kb), *Lb = malloc((size_t)d * B * R * sizeof *Lb);
    TU_OK(ntk_kernel_rows(net, f, r0, r1, Kb, Lb));
    TU_ASSERT_LE(tu_rel_max(B * R, Kb, K + r0 * kk * R), 1e-13, "rows block vs rows of the full kernel");
    double dev = 0;
    for (int l = 0; l < d; l++)
        dev = fmax(dev, tu_rel_max(B * R, Lb + (size_t)l * B * R, Kl + (size_t)l * R * R + r0 * kk * R));
    TU_ASSERT_LE(dev, 1e-13, "rows block per-layer terms vs the full kernel's");
    /* cross kernel of points [0, Na) against [Na, N) */
    size_t Na = N / 2 + 3, Nb = N - Na;
    ntk_feats *fa = feats(net, Na, X, NTK_F64), *fb = feats(net, Nb, X + Na * (size_t)c.n0, NTK_F64);
    double *Kab = malloc(Na * kk * Nb * kk * sizeof *Kab);
    TU_OK(ntk_kernel_cross(net, fa, fb, Kab, NULL));
    TU_ASSERT_LE(tu_rel_max_block(Na * kk, Nb * kk, Kab, Nb * kk, K + Na * kk, R), 1e-13,
                 "cross kernel vs block of the full kernel");
    /* float32 */
    ntk_feats *f32 = feats(net, N, X, NTK_F32);
    float *K32 = malloc(R * R * sizeof *K32);
    TU_OK(ntk_kernel_full(net, f32, K32, NULL));
    double *K32d = as_f64(K32, R * R, NTK_F32);
    TU_ASSERT_LE(tu_rel_fro(R * R, K32d, K), 1e-5, "float32 tiled kernel vs float64");
    ntk_feats_free(f32), ntk_feats_free(fa), ntk_feats_free(fb), ntk_feats_free(f);
    free(K32), free(K32d), free(Kab), free(Kb), free(Lb), free(S), free(K), free(Kl), free(Kref), free(X);
    ntk_net_free(net);
}

static void test_kernel_tiles(void **state)
{
    (void)state;
    check_kernel(1, 300);
    check_kernel(1, 129);
    check_kernel(3, 130);
}

/* Everything one thread count computes, as bytes. */
typedef struct {
    double *feats;
    size_t nfeats;
    void *K, *Kr, *Kx;
} snapshot;

static snapshot compute_all(int threads, ntk_dtype t)
{
    ntk_set_threads(threads);
    tu_netcfg c = tu_cfg(2, 40, 6, 2);
    c.act = NTK_ACT_TANH;
    ntk_net *net = tu_net(&c, 13);
    const size_t N = 300, kk = 2, R = N * kk, es = t == NTK_F32 ? 4 : 8, r0 = 50, r1 = 250, Na = 140;
    double *X = tu_gauss_x(14, N, c.n0);
    ntk_feats *f = feats(net, N, X, t);
    snapshot s = {0};
    s.feats = all_feats(net, f, N, &s.nfeats);
    s.K = malloc(R * R * es), s.Kr = malloc((r1 - r0) * kk * R * es), s.Kx = malloc(Na * kk * (N - Na) * kk * es);
    TU_OK(ntk_kernel_full(net, f, s.K, NULL));
    TU_OK(ntk_kernel_rows(net, f, r0, r1, s.Kr, NULL));
    ntk_feats *fa = feats(net, Na, X, t), *fb = feats(net, N - Na, X + Na * (size_t)c.n0, t);
    TU_OK(ntk_kernel_cross(net, fa, fb, s.Kx, NULL));
    ntk_feats_free(fa), ntk_feats_free(fb), ntk_feats_free(f);
    free(X);
    ntk_net_free(net);
    return s;
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    int before = ntk_get_threads();
    for (int ti = 0; ti < 2; ti++) {
        ntk_dtype t = ti ? NTK_F32 : NTK_F64;
        size_t es = t == NTK_F32 ? 4 : 8, R = 600;
        snapshot one = compute_all(1, t);
        for (int threads = 2; threads <= 3; threads++) {
            snapshot s = compute_all(threads, t);
            assert_int_equal(s.nfeats, one.nfeats);
            assert_memory_equal(s.feats, one.feats, s.nfeats * sizeof *s.feats);
            assert_memory_equal(s.K, one.K, R * R * es);
            assert_memory_equal(s.Kr, one.Kr, 200 * 2 * R * es);
            assert_memory_equal(s.Kx, one.Kx, 140 * 2 * 160 * 2 * es);
            free(s.feats), free(s.K), free(s.Kr), free(s.Kx);
        }
        free(one.feats), free(one.K), free(one.Kr), free(one.Kx);
    }
    ntk_set_threads(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_feats_chunks), cmocka_unit_test(test_kernel_tiles),
                                       cmocka_unit_test(test_threads_bit_identical)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
