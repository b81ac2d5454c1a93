/* test_kernel_tiled.c -- the memory plan (src/kernel/kernel_plan.c), the row-block engine
 * (src/kernel/kernel_tiled.c) and its .npy sink (src/kernel/kernel_sink_npy.c).
 *
 * - The engine through a memory sink, for k = 1 and 2 (and 3), per-layer terms on and off, float32
 *   and float64, B not dividing N: K, K_trace and K_layers equal each block recomputed by
 *   ntk_kernel_rows to the last bit, read through the file-layout index formula, and equal
 *   ntk_kernel_full to rounding (not bit-identical: OpenBLAS rounds another row count, and SYRK,
 *   differently); the summary equals ntk_kernel_summarize of the trace.
 * - Resume from block j (the summary a sink saw after block j-1) ends bit-identical to a full run;
 *   a sink error stops the loop at once and is returned with the sink's message.
 * - The .npy sink: files equal the memory sink's arrays, a release + reopen (resume) continues to
 *   the same bytes, and their data sizes equal ntk_kernel_file_bytes.
 * - The byte estimates against ntk_feats_bytes / ntk_kernel_bytes / ntk_kernel_rows_bytes;
 *   ntk_kernel_tile_rows at its edges (0 when no row fits, exactly one row, the 512 MB cap, N);
 *   ntk_plan_max_points against the closed-form root of a quadratic bytes_for.
 * - ntk_disk_free_bytes against statfs(2) (another system call than the statvfs it uses) of the
 *   directory itself, of the nearest existing ancestor of a path that does not exist, and of the
 *   working directory for a relative path, "" and NULL. */
#include "testutil.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

typedef struct {
    size_t N, k, d, es;
    char *K, *Kt, *Kl;        /* file layouts: [N x N x k x k], [N x N], [d x N x N x k x k] */
    size_t calls, fail_at;    /* fail_at: the call (1-based) that returns NTK_EIO; 0 never */
    size_t r0_seen[64];
    ntk_kernel_summary *sm;   /* the engine's summary, copied after each block into sm_after */
    ntk_kernel_summary sm_after[64];
    int trace_null, layers_null;
} mem_sink;

static ntk_status mem_rows(void *user, size_t r0, size_t B, const void *K, const void *Kt, const void *Kl)
{
    mem_sink *m = user;
    m->calls++;
    if (m->fail_at && m->calls == m->fail_at) return ntk_set_error(NTK_EIO, "test sink: disk on fire at row %zu", r0);
    size_t row = m->N * m->k * m->k;
    m->r0_seen[m->calls - 1] = r0;
    memcpy(m->K + r0 * row * m->es, K, B * row * m->es);
    m->trace_null += Kt == NULL;
    m->layers_null += Kl == NULL;
    if (Kt && m->Kt) memcpy(m->Kt + r0 * m->N * m->es, Kt, B * m->N * m->es);
    for (size_t l = 0; Kl && m->Kl && l < m->d; l++)
        memcpy(m->Kl + (l * m->N + r0) * row * m->es, (const char *)Kl + l * B * row * m->es, B * row * m->es);
    if (m->sm) m->sm_after[m->calls - 1] = *m->sm;
    return NTK_OK;
}

static mem_sink sink_new(size_t N, size_t k, size_t d, ntk_dtype t)
{
    mem_sink m = {.N = N, .k = k, .d = d, .es = t == NTK_F32 ? 4 : 8};
    size_t nn = N * N * k * k * m.es;
    m.K = calloc(1, nn);
    m.Kt = calloc(1, N * N * m.es);
    m.Kl = calloc(d, nn);
    assert_true(m.K && m.Kt && m.Kl);
    return m;
}

static void sink_free(mem_sink *m)
{
    free(m->K);
    free(m->Kt);
    free(m->Kl);
}

static double get(const void *p, size_t i, ntk_dtype t)
{
    return t == NTK_F32 ? ((const float *)p)[i] : ((const double *)p)[i];
}

typedef struct {
    ntk_net *net;
    ntk_feats *f;
    double *X;
    size_t N, k, d;
} setup;

static setup make(size_t N, int k, ntk_dtype t, uint64_t seed)
{
    tu_netcfg c = tu_cfg(2, 24, 5, k);
    setup s = {.net = tu_net(&c, seed), .N = N, .k = (size_t)k, .d = 3};
    s.X = tu_gauss_x(seed + 1, N, c.n0);
    TU_OK(ntk_feats_alloc(s.net, N, t, &s.f));
    TU_OK(ntk_feats_compute(s.net, s.f, s.X));
    return s;
}

static void unmake(setup *s)
{
    ntk_feats_free(s->f);
    ntk_net_free(s->net);
    free(s->X);
}

static void check_engine(size_t N, int k, ntk_dtype t, int per_layer, size_t B)
{
    setup s = make(N, k, t, 11);
    size_t kk = (size_t)k, R = N * kk, d = s.d, es = t == NTK_F32 ? 4 : 8;
    mem_sink m = sink_new(N, kk, d, t);
    ntk_kernel_summary sm;
    m.sm = &sm;
    ntk_tiled_opts o = ntk_tiled_defaults();
    o.rows_per_block = B, o.per_layer = per_layer;
    ntk_tiled_stats st;
    TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m, &sm, &st));
    if (B > N) B = N; /* more rows per block than points: one block */
    size_t blocks = (N + B - 1) / B;
    assert_int_equal(st.blocks, blocks);
    assert_int_equal(st.rows_per_block, B);
    assert_int_equal(m.calls, blocks);
    for (size_t b = 0; b < blocks; b++) assert_int_equal(m.r0_seen[b], b * B);
    assert_int_equal(m.trace_null, kk == 1 ? (int)blocks : 0);
    assert_int_equal(m.layers_null, per_layer ? 0 : (int)blocks);

    /* each block recomputed by ntk_kernel_rows with the same rows, read in the library's layout
     * (rows i*k+a, columns j*k+b) through the file-layout index: bit-identical */
    char *Kb = malloc(B * kk * R * es), *Lb = malloc(d * B * kk * R * es), *Tb = malloc(B * N * es);
    assert_true(Kb && Lb && Tb);
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t nb = r0 + B <= N ? B : N - r0;
        TU_OK(ntk_kernel_rows(s.net, s.f, r0, r0 + nb, Kb, Lb));
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < N; j++)
                for (size_t a = 0; a < kk; a++)
                    for (size_t b = 0; b < kk; b++) {
                        size_t lib = (i * kk + a) * R + j * kk + b, file = (((r0 + i) * N + j) * kk + a) * kk + b;
                        assert_memory_equal(m.K + file * es, Kb + lib * es, es);
                        for (size_t l = 0; per_layer && l < d; l++)
                            assert_memory_equal(m.Kl + (l * N * N * kk * kk + file) * es,
                                                Lb + (l * nb * kk * R + lib) * es, es);
                    }
        TU_OK(ntk_kernel_output_trace(nb, N, k, t, Kb, Tb));
        if (kk > 1) assert_memory_equal(m.Kt + r0 * N * es, Tb, nb * N * es);
    }
    /* against the whole kernel: ntk_kernel_full sums the same products by SYRK (lower triangle,
     * mirrored), and OpenBLAS's GEMM rounds differently for another number of rows, so agreement
     * is to rounding only: widths ~ 25 terms per dot product, a few hundred ulps at most */
    char *Kf = malloc(R * R * es), *Lf = malloc(d * R * R * es);
    assert_true(Kf && Lf);
    TU_OK(ntk_kernel_full(s.net, s.f, Kf, Lf));
    double maxabs = 0, maxdev = 0, maxdev_l = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            for (size_t a = 0; a < kk; a++)
                for (size_t b = 0; b < kk; b++) {
                    size_t lib = (i * kk + a) * R + j * kk + b, file = ((i * N + j) * kk + a) * kk + b;
                    double v = get(Kf, lib, t);
                    maxabs = fmax(maxabs, fabs(v));
                    maxdev = fmax(maxdev, fabs(get(m.K, file, t) - v));
                    for (size_t l = 0; per_layer && l < d; l++)
                        maxdev_l = fmax(maxdev_l, fabs(get(m.Kl, l * N * N * kk * kk + file, t) -
                                                       get(Lf, l * R * R + lib, t)));
                }
    double tol = t == NTK_F32 ? 1e-5 : 1e-13;
    TU_ASSERT_LE(maxdev / maxabs, tol, "tiled K vs ntk_kernel_full");
    TU_ASSERT_LE(maxdev_l / maxabs, tol, "tiled K_layers vs ntk_kernel_full's");
    ntk_kernel_summary ref;
    TU_OK(ntk_kernel_summarize(N, t, kk > 1 ? m.Kt : m.K, 0, &ref));
    /* same entries visited in the same order: the same doubles */
    assert_true(sm.trace == ref.trace && sm.sum_sq == ref.sum_sq && sm.fro == ref.fro);
    assert_true(sm.min_entry == ref.min_entry && sm.max_entry == ref.max_entry && sm.mean_diag == ref.mean_diag);
    assert_int_equal(sm.have_eig, 0);

    /* resume from every block j: the summary after block j-1, blocks j.. only, the same end */
    for (size_t j = 1; j < blocks; j++) {
        mem_sink m2 = sink_new(N, kk, d, t);
        ntk_kernel_summary sm2 = m.sm_after[j - 1];
        m2.sm = &sm2;
        o.first_block = j;
        TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m2, &sm2, &st));
        assert_int_equal(st.blocks, blocks);
        assert_int_equal(m2.calls, blocks - j);
        size_t done = j * B * N * kk * kk * es;
        char *zero = calloc(1, done);
        assert_memory_equal(m2.K, zero, done); /* blocks before j are not recomputed */
        free(zero);
        assert_memory_equal(m2.K + done, m.K + done, N * N * kk * kk * es - done);
        if (per_layer) assert_memory_equal(m2.Kl + done, m.Kl + done, N * N * kk * kk * es - done);
        assert_true(memcmp(&sm2, &sm, sizeof sm) == 0);
        sink_free(&m2);
    }
    o.first_block = blocks; /* everything done: no block, the summary finished */
    mem_sink m3 = sink_new(N, kk, d, t);
    ntk_kernel_summary sm3 = m.sm_after[blocks - 1];
    TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m3, &sm3, NULL));
    assert_int_equal(m3.calls, 0);
    assert_true(sm3.fro == sm.fro && sm3.mean_diag == sm.mean_diag);
    sink_free(&m3);
    free(Kb);
    free(Lb);
    free(Tb);
    free(Kf);
    free(Lf);
    sink_free(&m);
    unmake(&s);
}

static void test_engine_k1(void **state)
{
    (void)state;
    check_engine(23, 1, NTK_F64, 0, 5);
    check_engine(23, 1, NTK_F64, 1, 7);
    check_engine(23, 1, NTK_F32, 1, 4);
    check_engine(23, 1, NTK_F32, 0, 23); /* one block */
    check_engine(6, 1, NTK_F64, 1, 40);  /* B > N: one block of N rows */
}

static void test_engine_k2(void **state)
{
    (void)state;
    check_engine(19, 2, NTK_F64, 0, 4);
    check_engine(19, 2, NTK_F64, 1, 6);
    check_engine(19, 2, NTK_F32, 1, 5);
    check_engine(19, 2, NTK_F32, 0, 1); /* one row per block */
    check_engine(11, 3, NTK_F64, 1, 3);
}

static void test_sink_error_stops(void **state)
{
    (void)state;
    setup s = make(20, 2, NTK_F64, 3);
    mem_sink m = sink_new(20, 2, 3, NTK_F64);
    m.fail_at = 2;
    ntk_kernel_summary sm;
    ntk_tiled_opts o = ntk_tiled_defaults();
    o.rows_per_block = 6, o.per_layer = 1;
    ntk_tiled_stats st;
    assert_int_equal(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m, &sm, &st), NTK_EIO);
    assert_int_equal(m.calls, 2); /* no block after the failing one */
    assert_int_equal(st.blocks, 1);
    assert_string_equal(ntk_last_error(), "test sink: disk on fire at row 6");
    /* bad options */
    o.rows_per_block = 0;
    assert_int_equal(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m, &sm, &st), NTK_EINVAL);
    o.rows_per_block = 6, o.first_block = 5; /* 4 blocks */
    assert_int_equal(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m, &sm, &st), NTK_EINVAL);
    o.first_block = 0;
    assert_int_equal(ntk_kernel_tiled(s.net, s.f, &o, NULL, &m, &sm, &st), NTK_EINVAL);
    assert_int_equal(m.calls, 2);
    sink_free(&m);
    unmake(&s);
}

/* threads: set for the call, restored after, and the blocks the same as with one thread */
static void test_threads_restored(void **state)
{
    (void)state;
    setup s = make(30, 1, NTK_F64, 5);
    mem_sink a = sink_new(30, 1, 3, NTK_F64), b = sink_new(30, 1, 3, NTK_F64);
    ntk_kernel_summary sm;
    ntk_tiled_opts o = ntk_tiled_defaults();
    o.rows_per_block = 7;
    ntk_set_threads(1);
    TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &a, &sm, NULL));
    o.threads = 2;
    TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &b, &sm, NULL));
    assert_int_equal(ntk_get_threads(), 1);
    double ref = 0, dev = 0;
    for (size_t i = 0; i < 900; i++) {
        ref = fmax(ref, fabs(((double *)a.K)[i]));
        dev = fmax(dev, fabs(((double *)a.K)[i] - ((double *)b.K)[i]));
    }
    /* BLAS may split the GEMM another way with two threads: rounding only (tests/core/test_threads.c) */
    TU_ASSERT_LE(dev / ref, 1e-14, "2 threads vs 1");
    sink_free(&a);
    sink_free(&b);
    unmake(&s);
}

static size_t npy_data_bytes(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char h[10];
    assert_int_equal(fread(h, 1, 10, fp), 10);
    fclose(fp);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (size_t)sb.st_size - (10 + (size_t)h[8] + 256 * (size_t)h[9]); /* npy 1.0: magic, version, u16 length */
}

typedef struct {
    ntk_npy_sink *s;
    size_t calls, stop_after;
} stopping;

static ntk_status stopping_rows(void *user, size_t r0, size_t B, const void *K, const void *Kt, const void *Kl)
{
    stopping *p = user;
    if (p->stop_after && p->calls == p->stop_after) return ntk_set_error(NTK_EIO, "killed");
    p->calls++;
    return ntk_npy_sink_rows(p->s, r0, B, K, Kt, Kl);
}

static void test_npy_sink(void **state)
{
    (void)state;
    char dir[] = "/tmp/ntk_tiled_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pK[64], pT[64], pL[64], part[80];
    snprintf(pK, sizeof pK, "%s/K.npy", dir);
    snprintf(pT, sizeof pT, "%s/K_trace.npy", dir);
    snprintf(pL, sizeof pL, "%s/K_layers.npy", dir);
    for (int dt = 0; dt < 2; dt++) {
        ntk_dtype t = dt ? NTK_F32 : NTK_F64;
        size_t N = 17, k = 2, d = 3, es = t == NTK_F32 ? 4 : 8, nn = N * N * k * k * es;
        setup s = make(N, (int)k, t, 9);
        const ntk_spec *spec = ntk_net_spec(s.net);
        mem_sink m = sink_new(N, k, d, t);
        ntk_kernel_summary sm, sm_npy;
        ntk_tiled_opts o = ntk_tiled_defaults();
        o.rows_per_block = 4, o.per_layer = 1;
        TU_OK(ntk_kernel_tiled(s.net, s.f, &o, mem_rows, &m, &sm, NULL));
        /* killed after 2 of 5 blocks: the .partial files stay; resumed from block 2 */
        stopping p = {.stop_after = 2};
        TU_OK(ntk_npy_sink_open(spec, N, t, pK, pT, pL, 0, &p.s));
        assert_int_equal(ntk_kernel_tiled(s.net, s.f, &o, stopping_rows, &p, &sm_npy, NULL), NTK_EIO);
        ntk_npy_sink_release(p.s);
        snprintf(part, sizeof part, "%s.partial", pK);
        assert_int_equal(access(part, F_OK), 0);
        assert_int_equal(access(pK, F_OK), -1);
        ntk_kernel_summary resumed = {0};
        ntk_kernel_summary_init(&resumed);
        ntk_kernel_summary_add_rows(&resumed, 0, 8, N, t, m.Kt); /* the summary after two blocks */
        p = (stopping){0};
        TU_OK(ntk_npy_sink_open(spec, N, t, pK, pT, pL, 1, &p.s));
        o.first_block = 2;
        TU_OK(ntk_kernel_tiled(s.net, s.f, &o, stopping_rows, &p, &resumed, NULL));
        assert_int_equal(p.calls, 3);
        TU_OK(ntk_npy_sink_close(p.s));
        assert_true(memcmp(&resumed, &sm, sizeof sm) == 0);
        ntk_array a = {0};
        TU_OK(ntk_npy_read(pK, &a));
        assert_int_equal(a.ndim, 4);
        assert_int_equal(a.count, N * N * k * k);
        for (size_t i = 0; i < a.count; i++) assert_true(a.data[i] == get(m.K, i, t)); /* exact in float64 */
        ntk_array_clear(&a);
        TU_OK(ntk_npy_read(pT, &a));
        for (size_t i = 0; i < a.count; i++) assert_true(a.data[i] == get(m.Kt, i, t));
        ntk_array_clear(&a);
        TU_OK(ntk_npy_read(pL, &a));
        assert_int_equal(a.count, d * N * N * k * k);
        for (size_t i = 0; i < a.count; i++) assert_true(a.data[i] == get(m.Kl, i, t));
        ntk_array_clear(&a);
        /* the file estimate: the data of the three files and X ([N x n0] float64) */
        double files = (double)(npy_data_bytes(pK) + npy_data_bytes(pT) + npy_data_bytes(pL));
        assert_true(files == (double)(nn * (1 + d) + N * N * es));
        assert_true(ntk_kernel_file_bytes(spec, N, t, 1) == files + (double)(N * (size_t)spec->n0 * 8));
        assert_true(ntk_kernel_file_bytes(spec, N, t, 0) == (double)(nn + N * N * es + N * (size_t)spec->n0 * 8));
        remove(pK);
        remove(pT);
        remove(pL);
        /* a shape that does not match the .partial of another run is refused on resume */
        TU_OK(ntk_npy_sink_open(spec, N, t, pK, pT, NULL, 0, &p.s));
        ntk_npy_sink_release(p.s);
        assert_int_equal(ntk_npy_sink_open(spec, N + 1, t, pK, pT, NULL, 1, &p.s), NTK_EFORMAT);
        assert_null(p.s);
        assert_int_equal(access(part, F_OK), 0); /* a failed resume keeps what the killed run left */
        TU_OK(ntk_npy_sink_open(spec, N, t, pK, pT, NULL, 1, &p.s));
        ntk_npy_sink_abort(p.s);
        assert_int_equal(access(part, F_OK), -1);
        assert_int_equal(ntk_npy_sink_open(spec, N, t, pK, NULL, NULL, 0, &p.s), NTK_EINVAL); /* k > 1 needs K_trace */
        sink_free(&m);
        unmake(&s);
    }
    rmdir(dir);
}

static void test_relayout(void **state)
{
    (void)state;
    size_t Na = 3, Nb = 4, k = 3, n = Na * k * Nb * k;
    double src[108], dst[108];
    float srcf[108], dstf[108];
    for (size_t i = 0; i < n; i++) src[i] = (double)i, srcf[i] = (float)i;
    TU_OK(ntk_kernel_relayout(Na, Nb, (int)k, NTK_F64, src, dst));
    TU_OK(ntk_kernel_relayout(Na, Nb, (int)k, NTK_F32, srcf, dstf));
    for (size_t i = 0; i < Na; i++)
        for (size_t j = 0; j < Nb; j++)
            for (size_t a = 0; a < k; a++)
                for (size_t b = 0; b < k; b++) {
                    double want = (double)((i * k + a) * (Nb * k) + j * k + b);
                    assert_true(dst[((i * Nb + j) * k + a) * k + b] == want);
                    assert_true(dstf[((i * Nb + j) * k + a) * k + b] == (float)want);
                }
    TU_OK(ntk_kernel_relayout(Na, Nb, 1, NTK_F64, src, dst)); /* k = 1: a copy */
    assert_memory_equal(src, dst, Na * Nb * sizeof *src);
    assert_int_equal(ntk_kernel_relayout(Na, Nb, 0, NTK_F64, src, dst), NTK_EINVAL);
}

static ntk_spec spec_of(int depth, int *w, int n0, int k)
{
    ntk_spec s = ntk_spec_default();
    s.depth = depth, s.widths = w, s.n0 = n0, s.outputs = k;
    return s;
}

static void test_byte_estimates(void **state)
{
    (void)state;
    int w[2] = {64, 48};
    for (int k = 1; k <= 3; k++)
        for (int pl = 0; pl < 2; pl++)
            for (int dt = 0; dt < 2; dt++) {
                ntk_dtype t = dt ? NTK_F32 : NTK_F64;
                ntk_spec s = spec_of(2, w, 7, k);
                size_t N = 333, P = 12345, B = 17;
                double es = dt ? 4 : 8, nk = (double)N * k;
                double fixed = (double)ntk_feats_bytes(&s, N, t) + (double)N * 7 * 8 + 8.0 * (double)P;
                double mem = fixed + (double)ntk_kernel_bytes(&s, N, t, pl) + (k > 1 ? nk * nk * es * (pl ? 2 : 1) : 0);
                double blk = (double)ntk_kernel_rows_bytes(&s, N, B, t, pl) +
                             (k > 1 ? es * (double)B * (double)N * (k * k + 1) : 0);
                /* integers below 2^53: exact */
                assert_true(ntk_kernel_bytes_in_memory(&s, N, t, pl, P) == mem);
                assert_true(ntk_kernel_bytes_tiled(&s, N, B, t, pl, P) == fixed + blk);
                /* ntk_kernel_rows of all N rows holds as much as the whole kernel, Grams included */
                assert_true(ntk_kernel_rows_bytes(&s, N, N, t, pl) == ntk_kernel_bytes(&s, N, t, pl));
            }
}

static void test_tile_rows(void **state)
{
    (void)state;
    int w[3] = {128, 128, 128};
    ntk_spec s = spec_of(3, w, 10, 2);
    size_t P = 40000;
    for (int pl = 0; pl < 2; pl++) {
        size_t N = 5000;
        double one = ntk_kernel_bytes_tiled(&s, N, 1, NTK_F64, pl, P);
        double per_row = ntk_kernel_bytes_tiled(&s, N, 2, NTK_F64, pl, P) - one; /* linear in B */
        double fixed = one - per_row;
        assert_true(per_row > 0 && fixed > 0);
        assert_int_equal(ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, fixed + per_row), 1);
        assert_int_equal(ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, fixed + per_row - 1), 0); /* no row fits */
        assert_int_equal(ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, fixed / 2), 0);
        assert_int_equal(ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, 0), 0);
        assert_int_equal(ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, fixed + 3.5 * per_row), 3);
        /* a large budget: the 512 MB cap on the block buffers */
        size_t capped = ntk_kernel_tile_rows(&s, N, NTK_F64, pl, P, 1e15);
        assert_int_equal(capped, (size_t)floor(NTK_TILE_TARGET_BYTES / per_row));
        assert_true(ntk_kernel_bytes_tiled(&s, N, capped, NTK_F64, pl, P) <= fixed + NTK_TILE_TARGET_BYTES);
        assert_true(ntk_kernel_bytes_tiled(&s, N, capped + 1, NTK_F64, pl, P) > fixed + NTK_TILE_TARGET_BYTES);
        /* few points: all of them in one block */
        assert_int_equal(ntk_kernel_tile_rows(&s, 50, NTK_F64, pl, P, 1e15), 50);
    }
}

static double quad_bytes(size_t N, void *ctx)
{
    const double *c = ctx; /* a N^2 + b N + c0 */
    double n = (double)N;
    return c[0] * n * n + c[1] * n + c[2];
}

static void test_plan_max_points(void **state)
{
    (void)state;
    double c[3] = {8.0, 1000.0, 1e6};
    size_t hi = 1000000;
    double budgets[] = {1e7, 3.3e9, 8e11, 1.234567e10};
    for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
        double b = budgets[i];
        /* the root of a N^2 + b N + c0 = budget, rounded down */
        double root = (-c[1] + sqrt(c[1] * c[1] - 4 * c[0] * (c[2] - b))) / (2 * c[0]);
        size_t want = (size_t)floor(root);
        if (quad_bytes(want + 1, c) <= b) want++; /* the closed form's rounding, either way */
        if (quad_bytes(want, c) > b) want--;
        assert_int_equal(ntk_plan_max_points(b, quad_bytes, c, hi), want);
        assert_true(want > 0 && want < hi);
    }
    size_t m = 4321;
    assert_int_equal(ntk_plan_max_points(quad_bytes(m, c), quad_bytes, c, hi), m);        /* at the boundary */
    assert_int_equal(ntk_plan_max_points(quad_bytes(m, c) - 1, quad_bytes, c, hi), m - 1); /* just below */
    assert_int_equal(ntk_plan_max_points(quad_bytes(1, c) - 1, quad_bytes, c, hi), 0);     /* nothing fits */
    assert_int_equal(ntk_plan_max_points(1e300, quad_bytes, c, hi), hi);                  /* all fit */
    assert_int_equal(ntk_plan_max_points(1e300, quad_bytes, c, 0), 0);
    assert_int_equal(ntk_plan_max_points(1e300, quad_bytes, c, 1), 1);
}

static void test_mem_available(void **state)
{
    (void)state;
    double have = ntk_mem_available_bytes();
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    /* MemAvailable is at most the physical memory, and this test itself is running in some */
    assert_true(have > 1e6);
    if (pages > 0 && psz > 0) assert_true(have <= (double)pages * (double)psz);
}

static double statfs_free(const char *dir)
{
    struct statfs sf;
    assert_int_equal(statfs(dir, &sf), 0);
    return (double)sf.f_bavail * (double)sf.f_bsize;
}

static void test_disk_free(void **state)
{
    (void)state;
    /* other processes write to the same disks between the two calls: 1% or 256 MB apart at most */
#define NEAR(a, b) assert_true(fabs((a) - (b)) <= 0.01 * (b) + 256e6)
    double tmp = statfs_free("/tmp"), here = statfs_free("."), root = statfs_free("/");
    assert_true(tmp > 0 && here > 0);
    NEAR(ntk_disk_free_bytes("/tmp"), tmp);
    NEAR(ntk_disk_free_bytes("/tmp/ntk_no_such_dir_9f3/a/b"), tmp);
    NEAR(ntk_disk_free_bytes("ntk_no_such_dir_9f3/x"), here);
    NEAR(ntk_disk_free_bytes(""), here);
    NEAR(ntk_disk_free_bytes(NULL), here);
    NEAR(ntk_disk_free_bytes("/ntk_no_such_dir_9f3"), root);
#undef NEAR
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_k1),        cmocka_unit_test(test_engine_k2),
        cmocka_unit_test(test_sink_error_stops), cmocka_unit_test(test_threads_restored),
        cmocka_unit_test(test_npy_sink),         cmocka_unit_test(test_relayout),
        cmocka_unit_test(test_byte_estimates),   cmocka_unit_test(test_tile_rows),
        cmocka_unit_test(test_plan_max_points),  cmocka_unit_test(test_mem_available),
        cmocka_unit_test(test_disk_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
