/* kernel_tiled.c -- the whole kernel of a batch in blocks of B rows, for kernels larger than
 * memory: each block by ntk_kernel_rows (GEMM against all N points), its output trace and the
 * running summary, put into the file layout (N, N, k, k) and handed to a sink.  Only the feats
 * (O(N sum n_l)) and one block (O(B N)) are in memory. */
#include "net.h"
#include "la.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

ntk_status ntk_kernel_relayout(size_t Na, size_t Nb, int k, ntk_dtype dtype, const void *src, void *dst)
{
    if (!la_float_type(dtype)) return ntk_set_error(NTK_EINVAL, "kernel relayout: dtype %s is not float64 or float32", ntk_dtype_name(dtype));
    if (k < 1 || (Na * Nb > 0 && (!src || !dst)))
        return ntk_set_error(NTK_EINVAL, "kernel relayout: need k >= 1 and both buffers");
    size_t es = dtype == NTK_F32 ? 4 : 8, kk = (size_t)k;
    const char *s = src;
    char *d = dst;
    for (size_t i = 0; i < Na; i++)
        for (size_t a = 0; a < kk; a++)
            for (size_t j = 0; j < Nb; j++)
                for (size_t b = 0; b < kk; b++)
                    memcpy(d + (((i * Nb + j) * kk + a) * kk + b) * es, s + ((i * kk + a) * Nb * kk + j * kk + b) * es,
                           es);
    return NTK_OK;
}

ntk_tiled_opts ntk_tiled_defaults(void)
{
    return (ntk_tiled_opts){.rows_per_block = 256, .per_layer = 0, .first_block = 0, .threads = 0};
}

typedef struct {
    void *blk, *layers, *tmp, *trace;
} tiled_bufs;

static void bufs_free(tiled_bufs *b)
{
    free(b->blk);
    free(b->layers);
    free(b->tmp);
    free(b->trace);
}

/* One block: rows, trace, summary, file layout, sink. */
static ntk_status one_block(const ntk_net *net, const ntk_feats *f, const ntk_tiled_opts *o, size_t r0, size_t nb,
                            tiled_bufs *b, ntk_rows_sink sink, void *user, ntk_kernel_summary *sm,
                            ntk_tiled_stats *st)
{
    size_t N = f->N, k = (size_t)f->k, d = (size_t)f->d, es = f->dtype == NTK_F32 ? 4 : 8, row = N * k * k;
    double t0 = now_s();
    ntk_status s = ntk_kernel_rows(net, f, r0, r0 + nb, b->blk, o->per_layer ? b->layers : NULL);
    if (s == NTK_OK && k > 1) s = ntk_kernel_output_trace(nb, N, (int)k, f->dtype, b->blk, b->trace);
    double t1 = now_s();
    st->seconds_grams += t1 - t0;
    if (s != NTK_OK) return s;
    ntk_kernel_summary_add_rows(sm, r0, nb, N, f->dtype, k > 1 ? b->trace : b->blk);
    if (!isfinite(sm->sum_sq))
        return ntk_set_error(NTK_ENUMERIC,
                             "non-finite entries in rows %zu..%zu (check the scales sw2, sw2_out, sb and the inputs)",
                             r0, r0 + nb - 1);
    const void *Kfile = b->blk;
    if (k > 1) {
        /* the per-layer terms in place through tmp, then K into tmp */
        for (size_t l = 0; o->per_layer && l < d; l++) {
            char *src = (char *)b->layers + l * nb * row * es;
            ntk_kernel_relayout(nb, N, (int)k, f->dtype, src, b->tmp);
            memcpy(src, b->tmp, nb * row * es);
        }
        ntk_kernel_relayout(nb, N, (int)k, f->dtype, b->blk, b->tmp);
        Kfile = b->tmp;
    }
    s = sink(user, r0, nb, Kfile, k > 1 ? b->trace : NULL, o->per_layer ? b->layers : NULL);
    st->seconds_sink += now_s() - t1;
    if (s == NTK_OK) st->blocks++;
    return s;
}

ntk_status ntk_kernel_tiled(const ntk_net *net, const ntk_feats *f, const ntk_tiled_opts *o, ntk_rows_sink sink,
                            void *user, ntk_kernel_summary *sm, ntk_tiled_stats *st)
{
    if (!net || !f || !o || !sink || !sm)
        return ntk_set_error(NTK_EINVAL, "tiled kernel: need the network, the feats, options, a sink and a summary");
    if (o->rows_per_block == 0) return ntk_set_error(NTK_EINVAL, "tiled kernel: rows_per_block must be >= 1");
    size_t N = f->N, B = o->rows_per_block < N ? o->rows_per_block : N;
    size_t blocks = (N + B - 1) / B;
    if (o->first_block > blocks)
        return ntk_set_error(NTK_EINVAL, "tiled kernel: first_block %zu beyond the %zu blocks of %zu rows",
                             o->first_block, blocks, B);
    if (o->threads < 0) return ntk_set_error(NTK_EINVAL, "tiled kernel: threads must be >= 0");
    ntk_tiled_stats local;
    if (!st) st = &local;
    *st = (ntk_tiled_stats){.rows_per_block = B, .blocks = o->first_block};
    if (o->first_block == 0) ntk_kernel_summary_init(sm);
    size_t k = (size_t)f->k, d = (size_t)f->d, es = f->dtype == NTK_F32 ? 4 : 8, row = N * k * k;
    tiled_bufs b = {0};
    b.blk = malloc(B * row * es);
    b.layers = o->per_layer ? malloc(d * B * row * es) : NULL;
    b.tmp = k > 1 ? malloc(B * row * es) : NULL;
    b.trace = k > 1 ? malloc(B * N * es) : NULL;
    if (!b.blk || (o->per_layer && !b.layers) || (k > 1 && (!b.tmp || !b.trace))) {
        bufs_free(&b);
        return ntk_set_error(NTK_ENOMEM, "out of memory for a block of %zu rows", B);
    }
    int threads_before = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads);
    ntk_status s = NTK_OK;
    for (size_t r0 = o->first_block * B; s == NTK_OK && r0 < N; r0 += B)
        s = one_block(net, f, o, r0, r0 + B <= N ? B : N - r0, &b, sink, user, sm, st);
    if (o->threads > 0) ntk_set_threads(threads_before);
    bufs_free(&b);
    if (s == NTK_OK) ntk_kernel_summary_finish(sm, N);
    return s;
}
