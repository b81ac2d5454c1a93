/* kernel_tiled.c -- the memory plan of `ntkdrift kernel` and its tiled path: K computed in
 * blocks of B rows (ntk_kernel_rows) and streamed to K.npy, so N beyond memory works.  Only the
 * activations and deltas of all N points (O(N sum n_l)) and one block (O(B N)) are in memory. */
#include "kernel_tiled.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Held by every run whatever the path: activations and deltas, inputs, parameters. */
static double fixed_bytes(const ntk_spec *s, size_t N, ntk_dtype t, size_t P)
{
    return (double)ntk_feats_bytes(s, N, t) + (double)N * s->n0 * 8.0 + 8.0 * (double)P;
}

double kernel_bytes_in_memory(const ntk_spec *s, size_t N, ntk_dtype t, bool per_layer, size_t P)
{
    double es = t == NTK_F32 ? 4 : 8, nk = (double)N * s->outputs;
    double b = fixed_bytes(s, N, t, P) + (double)ntk_kernel_bytes(s, N, t, per_layer);
    if (s->outputs > 1) b += nk * nk * es * (per_layer ? 2 : 1); /* (N,N,k,k) re-layout for the file */
    return b;
}

/* One block of B rows: ntk_kernel_rows' buffers, plus for k > 1 the re-layout and trace rows. */
static double block_bytes(const ntk_spec *s, size_t N, size_t B, ntk_dtype t, bool per_layer)
{
    double es = t == NTK_F32 ? 4 : 8, k = s->outputs;
    double b = (double)ntk_kernel_rows_bytes(s, N, B, t, per_layer);
    if (s->outputs > 1) b += es * (double)B * (double)N * (k * k + 1);
    return b;
}

double kernel_bytes_tiled(const ntk_spec *s, size_t N, size_t B, ntk_dtype t, bool per_layer, size_t P)
{
    return fixed_bytes(s, N, t, P) + block_bytes(s, N, B, t, per_layer);
}

size_t kernel_tile_rows(const cli_config *c, const ntk_spec *s, size_t N, size_t P, double have)
{
    if (c->tile_rows > 0) return (size_t)c->tile_rows < N ? (size_t)c->tile_rows : N;
    double room = have - fixed_bytes(s, N, c->dtype, P);
    if (room > KERNEL_TILE_TARGET) room = KERNEL_TILE_TARGET;
    double per_row = block_bytes(s, N, 1, c->dtype, c->per_layer);
    if (!(room >= per_row)) return 0;
    double B = floor(room / per_row);
    return B >= (double)N ? N : (size_t)B;
}

void kernel_relayout(size_t Na, size_t Nb, size_t k, size_t es, const char *src, char *dst)
{
    for (size_t i = 0; i < Na; i++)
        for (size_t a = 0; a < k; a++)
            for (size_t j = 0; j < Nb; j++)
                for (size_t b = 0; b < k; b++)
                    memcpy(dst + (((i * Nb + j) * k + a) * k + b) * es,
                           src + ((i * k + a) * Nb * k + j * k + b) * es, es);
}

typedef struct {
    ntk_npy_stream *K, *Kt, *Kl;
    void *blk, *blk_layers, *tmp, *trace;
} tiled_bufs;

/* keep: blocks are done and recorded in tiles.json; keep the .partial files for --resume */
static void bufs_free(tiled_bufs *b, bool keep)
{
    void (*end)(ntk_npy_stream *) = keep ? ntk_npy_stream_release : ntk_npy_stream_abort;
    if (b->K) end(b->K);
    if (b->Kt) end(b->Kt);
    if (b->Kl) end(b->Kl);
    free(b->blk);
    free(b->blk_layers);
    free(b->tmp);
    free(b->trace);
}

static int open_stream(cli_run *run, const char *file, ntk_npy_type nt, int ndim, const size_t *shape, int resume,
                       ntk_npy_stream **out)
{
    char path[CLI_PATH_MAX + 64];
    if (ntk_npy_stream_open(cli_run_path(run, file, path, sizeof path), nt, ndim, shape, resume, out) != NTK_OK) {
        cli_errorf("writing %s: %s", file, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int close_stream(cli_run *run, const char *file, ntk_npy_stream **s)
{
    ntk_status st = ntk_npy_stream_close(*s);
    *s = NULL;
    if (st != NTK_OK) {
        cli_errorf("writing %s: %s", file, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(run, file);
    return 0;
}

bool kernel_tiled_in_progress(const cli_run *run)
{
    char path[CLI_PATH_MAX + 64];
    return access(cli_run_path(run, "tiles.json", path, sizeof path), F_OK) == 0;
}

/* tiles.json: rows per block, blocks finished, and the running summary as exact hex floats, so a
 * resumed run ends with the same numbers as an uninterrupted one. */
static int save_progress(cli_run *run, size_t B, size_t done, const ntk_kernel_summary *sm)
{
    char path[CLI_PATH_MAX + 64], hex[4][40];
    double v[4] = {sm->trace, sm->sum_sq, sm->min_entry, sm->max_entry};
    for (int i = 0; i < 4; i++) snprintf(hex[i], sizeof hex[i], "%a", v[i]);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "rows_per_block", (double)B);
    cJSON_AddNumberToObject(j, "blocks_done", (double)done);
    cJSON_AddStringToObject(j, "trace", hex[0]);
    cJSON_AddStringToObject(j, "fro2", hex[1]);
    cJSON_AddStringToObject(j, "min", hex[2]);
    cJSON_AddStringToObject(j, "max", hex[3]);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        cli_errorf("writing tiles.json: out of memory");
        return CLI_EXIT_FAIL;
    }
    ntk_status st = ntk_write_file_atomic(cli_run_path(run, "tiles.json", path, sizeof path), text, strlen(text));
    free(text);
    if (st != NTK_OK) {
        cli_errorf("writing tiles.json: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static int load_progress(cli_run *run, size_t N, size_t *B, size_t *done, ntk_kernel_summary *sm)
{
    char path[CLI_PATH_MAX + 64];
    cJSON *j = cli_read_json(cli_run_path(run, "tiles.json", path, sizeof path));
    if (!j) return CLI_EXIT_USAGE;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "rows_per_block"),
                *d = cJSON_GetObjectItemCaseSensitive(j, "blocks_done");
    const char *keys[4] = {"trace", "fro2", "min", "max"};
    double v[4];
    bool ok = cJSON_IsNumber(b) && cJSON_IsNumber(d) && b->valuedouble >= 1 && b->valuedouble <= (double)N &&
              d->valuedouble >= 0 && d->valuedouble * b->valuedouble < (double)N + b->valuedouble;
    for (int i = 0; ok && i < 4; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        char *end = NULL;
        ok = cJSON_IsString(x) && (v[i] = strtod(x->valuestring, &end), end && *end == '\0' && end != x->valuestring);
    }
    if (ok) {
        *B = (size_t)b->valuedouble;
        *done = (size_t)d->valuedouble;
        sm->trace = v[0], sm->sum_sq = v[1], sm->min_entry = v[2], sm->max_entry = v[3];
    }
    cJSON_Delete(j);
    if (!ok) {
        cli_errorf("resume: %s: not the progress record of this run", path);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int kernel_tiled_run(cli_run *run, const cli_config *c, const ntk_spec *spec, const ntk_net *net,
                     const ntk_feats *feats, size_t N, size_t B, ntk_kernel_summary *sm, kernel_tiled_stats *ts)
{
    size_t k = (size_t)spec->outputs, d = (size_t)spec->depth + 1, es = c->dtype == NTK_F32 ? 4 : 8;
    ntk_npy_type nt = c->dtype == NTK_F32 ? NTK_NPY_F32 : NTK_NPY_F64;
    const char *dts = c->dtype == NTK_F32 ? "float32" : "float64";
    size_t shK[4] = {N, N, k, k}, shT[2] = {N, N}, shL[5] = {d, N, N, k, k};
    size_t row = N * k * k; /* elements of one point's rows in the file layout */
    tiled_bufs b = {0};
    int rc = 0, resume = c->resume[0] && kernel_tiled_in_progress(run);
    size_t done = 0;
    ntk_kernel_summary_init(sm);
    if (resume && (rc = load_progress(run, N, &B, &done, sm))) return rc;
    /* Reserve every file first: a disk that cannot hold them fails before any work. */
    if ((rc = open_stream(run, "K.npy", nt, k == 1 ? 2 : 4, shK, resume, &b.K))) goto out;
    if (k > 1 && (rc = open_stream(run, "K_trace.npy", nt, 2, shT, resume, &b.Kt))) goto out;
    if (c->per_layer && (rc = open_stream(run, "K_layers.npy", nt, k == 1 ? 3 : 5, shL, resume, &b.Kl))) goto out;
    b.blk = malloc(B * row * es);
    b.blk_layers = c->per_layer ? malloc(d * B * row * es) : NULL;
    b.tmp = k > 1 ? malloc(B * row * es) : NULL;
    b.trace = k > 1 ? malloc(B * N * es) : NULL;
    if (!b.blk || (c->per_layer && !b.blk_layers) || (k > 1 && (!b.tmp || !b.trace))) {
        cli_errorf("kernel: out of memory for a block of %zu rows (lower --tile-rows)", B);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    *ts = (kernel_tiled_stats){.rows_per_block = B, .blocks = done};
    for (size_t r0 = done * B; r0 < N; r0 += B) {
        size_t nb = r0 + B <= N ? B : N - r0;
        double t0 = cli_now();
        ntk_status st = ntk_kernel_rows(net, feats, r0, r0 + nb, b.blk, b.blk_layers);
        if (st == NTK_OK && k > 1) st = ntk_kernel_output_trace(nb, N, (int)k, c->dtype, b.blk, b.trace);
        double t1 = cli_now();
        if (st != NTK_OK) {
            cli_errorf("kernel: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        ntk_kernel_summary_add_rows(sm, r0, nb, N, c->dtype, k > 1 ? b.trace : b.blk);
        if (!isfinite(sm->sum_sq)) {
            cli_errorf("kernel: non-finite entries in rows %zu..%zu (check the scales sw2, sw2_out, sb and the "
                       "inputs)", r0, r0 + nb - 1);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        const void *Kfile = b.blk;
        if (k > 1) {
            kernel_relayout(nb, N, k, es, b.blk, b.tmp);
            Kfile = b.tmp;
        }
        st = ntk_npy_stream_write(b.K, r0 * row, Kfile, nb * row);
        if (st == NTK_OK && k > 1) st = ntk_npy_stream_write(b.Kt, r0 * N, b.trace, nb * N);
        for (size_t l = 0; st == NTK_OK && b.Kl && l < d; l++) {
            const char *src = (const char *)b.blk_layers + l * nb * row * es;
            if (k > 1) {
                kernel_relayout(nb, N, k, es, src, b.tmp);
                src = b.tmp;
            }
            st = ntk_npy_stream_write(b.Kl, (l * N + r0) * row, src, nb * row);
        }
        if (st != NTK_OK) {
            cli_errorf("writing the kernel: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        st = ntk_npy_stream_sync(b.K);
        if (st == NTK_OK && b.Kt) st = ntk_npy_stream_sync(b.Kt);
        if (st == NTK_OK && b.Kl) st = ntk_npy_stream_sync(b.Kl);
        if (st != NTK_OK) {
            cli_errorf("writing the kernel: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        ts->blocks++;
        if ((rc = save_progress(run, B, ts->blocks, sm))) goto out;
        ts->seconds_grams += t1 - t0;
        ts->seconds_write += cli_now() - t1;
    }
    ntk_kernel_summary_finish(sm, N);
    double t2 = cli_now();
    if ((rc = close_stream(run, "K.npy", &b.K))) goto out;
    if (k > 1 && (rc = close_stream(run, "K_trace.npy", &b.Kt))) goto out;
    if (c->per_layer && (rc = close_stream(run, "K_layers.npy", &b.Kl))) goto out;
    char path[CLI_PATH_MAX + 64];
    (void)remove(cli_run_path(run, "tiles.json", path, sizeof path)); /* the manifest records the tiling */
    ts->seconds_write += cli_now() - t2;
    cli_run_artifact(run, "K.npy", NULL, dts, k == 1 ? 2 : 4, shK,
                     "empirical NTK computed in row blocks; same layout as kernel.npz's K");
    if (k > 1) cli_run_artifact(run, "K_trace.npy", NULL, dts, 2, shT, "sum over outputs of K[i, j, a, a]");
    if (c->per_layer)
        cli_run_artifact(run, "K_layers.npy", NULL, dts, k == 1 ? 3 : 5, shL,
                         "per-layer terms K^(l), l = 1..L+1; they sum to K");
out:
    bufs_free(&b, rc != 0 && kernel_tiled_in_progress(run));
    return rc;
}
