/* kernel_sink_npy.c -- the .npy sink of the tiled kernel: each block of rows written into K.npy
 * (and K_trace.npy, K_layers.npy) through ntk_npy_stream, the files reserved at full size when
 * opened and synced after every block, so what was handed over survives a kill. */
#include "ntkdrift.h"
#include "la.h"
#include "ntk_private.h"

#include <stdlib.h>

struct ntk_npy_sink {
    ntk_npy_stream *K, *Kt, *Kl;
    size_t N, k, d, es; /* points, outputs, weight layers, bytes per element */
};

static void sink_end(ntk_npy_sink *s, void (*end)(ntk_npy_stream *))
{
    if (!s) return;
    if (s->K) end(s->K);
    if (s->Kt) end(s->Kt);
    if (s->Kl) end(s->Kl);
    free(s);
}

void ntk_npy_sink_abort(ntk_npy_sink *s) { sink_end(s, ntk_npy_stream_abort); }
void ntk_npy_sink_release(ntk_npy_sink *s) { sink_end(s, ntk_npy_stream_release); }

ntk_status ntk_npy_sink_open(const ntk_spec *spec, size_t N, ntk_dtype dtype, const char *K_path,
                             const char *K_trace_path, const char *K_layers_path, int resume, ntk_npy_sink **out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "npy sink: need an output handle");
    if (!la_float_type(dtype)) return ntk_set_error(NTK_EINVAL, "npy sink: dtype %s is not float64 or float32", ntk_dtype_name(dtype));
    *out = NULL;
    if (!spec || N == 0 || spec->outputs < 1 || spec->depth < 0 || !K_path || (spec->outputs > 1 && !K_trace_path))
        return ntk_set_error(NTK_EINVAL, "npy sink: need a spec, N >= 1, a path for K and, for k > 1, for K_trace");
    ntk_npy_sink *s = calloc(1, sizeof *s);
    if (!s) return ntk_set_error(NTK_ENOMEM, "npy sink: out of memory");
    s->N = N, s->k = (size_t)spec->outputs, s->d = (size_t)spec->depth + 1, s->es = dtype == NTK_F32 ? 4 : 8;
    ntk_dtype nt = dtype;
    size_t k = s->k, shK[4] = {N, N, k, k}, shT[2] = {N, N}, shL[5] = {s->d, N, N, k, k};
    /* Reserve every file first: a disk that cannot hold them fails before any work. */
    ntk_status st = ntk_npy_stream_open(K_path, nt, k == 1 ? 2 : 4, shK, resume, &s->K);
    if (st == NTK_OK && k > 1) st = ntk_npy_stream_open(K_trace_path, nt, 2, shT, resume, &s->Kt);
    if (st == NTK_OK && K_layers_path)
        st = ntk_npy_stream_open(K_layers_path, nt, k == 1 ? 3 : 5, shL, resume, &s->Kl);
    if (st != NTK_OK) {
        /* a file that failed to reopen on resume must not take the others' blocks with it */
        sink_end(s, resume ? ntk_npy_stream_release : ntk_npy_stream_abort);
        return st;
    }
    *out = s;
    return NTK_OK;
}

ntk_status ntk_npy_sink_rows(void *sink, size_t r0, size_t B, const void *K_rows, const void *K_trace_rows,
                             const void *K_layer_rows)
{
    ntk_npy_sink *s = sink;
    if (!s || !K_rows || (s->Kt && !K_trace_rows) || (s->Kl && !K_layer_rows) || r0 + B > s->N)
        return ntk_set_error(NTK_EINVAL, "npy sink: rows %zu..%zu or their buffers do not fit this sink", r0, r0 + B);
    size_t N = s->N, row = N * s->k * s->k; /* elements of one point's rows in the file layout */
    ntk_status st = ntk_npy_stream_write(s->K, r0 * row, K_rows, B * row);
    if (st == NTK_OK && s->Kt) st = ntk_npy_stream_write(s->Kt, r0 * N, K_trace_rows, B * N);
    for (size_t l = 0; st == NTK_OK && s->Kl && l < s->d; l++)
        st = ntk_npy_stream_write(s->Kl, (l * N + r0) * row, (const char *)K_layer_rows + l * B * row * s->es,
                                  B * row);
    if (st == NTK_OK) st = ntk_npy_stream_sync(s->K);
    if (st == NTK_OK && s->Kt) st = ntk_npy_stream_sync(s->Kt);
    if (st == NTK_OK && s->Kl) st = ntk_npy_stream_sync(s->Kl);
    return st;
}

ntk_status ntk_npy_sink_close(ntk_npy_sink *s)
{
    if (!s) return ntk_set_error(NTK_EINVAL, "npy sink: no sink to close");
    ntk_status st = ntk_npy_stream_close(s->K);
    s->K = NULL;
    if (st == NTK_OK && s->Kt) {
        st = ntk_npy_stream_close(s->Kt);
        s->Kt = NULL;
    }
    if (st == NTK_OK && s->Kl) {
        st = ntk_npy_stream_close(s->Kl);
        s->Kl = NULL;
    }
    sink_end(s, ntk_npy_stream_release); /* after a failure, the files not yet closed stay for a resume */
    return st;
}
