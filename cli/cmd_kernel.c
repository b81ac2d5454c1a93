/* cmd_kernel.c -- `ntkdrift kernel`: the empirical NTK of a network on a
 * dataset, written as a run directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "dataset.h"
#include "kernel_tiled.h"
#include "rundir.h"
#include "study.h"
#include "summary.h"

typedef struct {
    const ntk_spec *spec;
    const cli_config *c;
    size_t P;
} kernel_bytes_ctx;

/* The least a run with N points needs: the in-memory path when asked for or when N is small, else
 * the tiled path with one row per block (for the message that says which N fits). */
static double kernel_least_bytes(size_t N, void *ctx)
{
    const kernel_bytes_ctx *k = ctx;
    double tiled = ntk_kernel_bytes_tiled(k->spec, N, k->c->kernel.tile_rows > 0 ? (size_t)k->c->kernel.tile_rows : 1,
                                          k->c->kernel.dtype, k->c->kernel.per_layer, k->P);
    double mem = ntk_kernel_bytes_in_memory(k->spec, N, k->c->kernel.dtype, k->c->kernel.per_layer, k->P);
    return tiled < mem ? tiled : mem;
}

typedef struct {
    ntk_net *net;
    ntk_feats *feats;
    double *X;
    void *K, *Kl, *Kt, *tmp;
} kernel_state;

static void state_free(kernel_state *s)
{
    ntk_feats_free(s->feats);
    ntk_net_free(s->net);
    free(s->X);
    free(s->K);
    free(s->Kl);
    free(s->Kt);
    free(s->tmp);
}

static int write_kernel_npz(cli_run *run, const cli_config *c, const ntk_spec *spec, kernel_state *s, size_t N)
{
    size_t k = (size_t)spec->outputs, es = c->kernel.dtype == NTK_F32 ? 4 : 8, d = (size_t)spec->depth + 1;
    ntk_dtype nt = c->kernel.dtype;
    size_t shK[4] = {N, N, k, k}, shT[2] = {N, N}, shX[2] = {N, (size_t)spec->n0}, shL[5] = {d, N, N, k, k};
    /* The writer streams from our buffers at close: every buffer handed to it must stay unchanged
     * until then, so re-layout the per-layer terms in place first and use tmp for K alone. */
    for (size_t l = 0, blk = N * k * N * k * es; s->Kl && k > 1 && l < d; l++) {
        ntk_kernel_relayout(N, N, (int)k, nt, (char *)s->Kl + l * blk, s->tmp);
        memcpy((char *)s->Kl + l * blk, s->tmp, blk);
    }
    if (k > 1) ntk_kernel_relayout(N, N, (int)k, nt, s->K, s->tmp);
    const study_member m[4] = {
        {"K", nt, k == 1 ? 2 : 4, shK, k > 1 ? s->tmp : s->K,
         k == 1 ? "empirical NTK K(x_i, x_j) = sum_theta df(x_i)/dtheta df(x_j)/dtheta"
                : "empirical NTK K[i, j, a, b] = sum_theta df_a(x_i)/dtheta df_b(x_j)/dtheta"},
        {"K_trace", nt, 2, shT, s->Kt, "sum over outputs of K[i, j, a, a] (neural-tangents' trace_axes gives this / k)"},
        {"X", NTK_F64, 2, shX, s->X, "inputs, one row per point"},
        {"K_layers", nt, k == 1 ? 3 : 5, shL, s->Kl,
         "per-layer terms K^(l), l = 1..L+1 (weights and bias of layer l); they sum to K"}};
    return study_write_npz(run, "kernel.npz", m, s->Kl ? 4 : 3);
}

/* The tiled path's files: K (and K_trace for k > 1, K_layers with --per-layer) on disk.  Refused
 * (exit 2, saying which N fits) when the file system of the run directory has less free space. */
static double file_bytes(size_t N, void *ctx)
{
    const kernel_bytes_ctx *k = ctx;
    return ntk_kernel_file_bytes(k->spec, N, k->c->kernel.dtype, k->c->kernel.per_layer);
}

static int check_disk(kernel_bytes_ctx *kb, size_t N)
{
    const cli_config *c = kb->c;
    double need = file_bytes(N, kb), have = cli_free_disk_bytes(c->run.out[0] ? c->run.out : c->run.results);
    if (need <= have) return 0;
    cli_errorf("n: N = %zu computed in row blocks needs %.3g GB on disk for K%s but %.3g GB is free where the "
               "run goes (%s); N <= %zu fits", N, need / 1e9, c->kernel.per_layer ? " and the per-layer terms" : "",
               have / 1e9, c->run.out[0] ? c->run.out : c->run.results, ntk_plan_max_points(have, file_bytes, kb, N));
    return CLI_EXIT_USAGE;
}

/* The tiled path's inputs, X.npy: [N x n0] (kernel.npz holds them on the in-memory path). */
static int write_inputs(cli_run *run, const ntk_spec *spec, const double *X, size_t N)
{
    char path[CLI_PATH_MAX + 64];
    size_t shX[2] = {N, (size_t)spec->n0};
    if (ntk_npy_write(cli_run_path(run, "X.npy", path, sizeof path), NTK_F64, 2, shX, X) != NTK_OK) {
        cli_errorf("writing X.npy: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(run, "X.npy");
    cli_run_artifact(run, "X.npy", NULL, "float64", 2, shX, "inputs, one row per point");
    return 0;
}

int cmd_kernel(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "kernel");
    if (rc >= 0) return rc;
    kernel_state s = {0};
    cli_run run = {0};
    bool run_open = false, keep = false; /* keep: a resumed or tiled run keeps its directory on failure */
    ntk_spec spec;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    bool resumed_tiles = false; /* --resume of a tiled run with blocks done (tiles.json) */
    if (c.train.resume[0]) {
        if ((rc = cli_config_reload(&c, "kernel"))) goto done;
        char tiles[CLI_PATH_MAX + 16];
        snprintf(tiles, sizeof tiles, "%s/tiles.json", c.train.resume);
        resumed_tiles = access(tiles, F_OK) == 0;
    }
    if ((rc = study_inputs(&c, &s.X, &N, desc, sizeof desc, &spec))) goto done;
    if (ntk_net_alloc(&spec, &s.net) != NTK_OK) {
        rc = study_fail("model", CLI_EXIT_USAGE);
        goto done;
    }
    size_t P = ntk_net_num_params(s.net);
    /* Memory plan: in memory when the whole kernel fits (and no tiling was asked for), else in
     * row blocks streamed to disk; refused when not even one row per block fits. */
    kernel_bytes_ctx kb = {&spec, &c, P};
    double have = cli_available_bytes(&c.run);
    double need_mem = ntk_kernel_bytes_in_memory(&spec, N, c.kernel.dtype, c.kernel.per_layer, P);
    bool tiled = c.kernel.tile_rows > 0 || need_mem > have || resumed_tiles;
    size_t B = !tiled ? 0
               : c.kernel.tile_rows > 0 ? ((size_t)c.kernel.tile_rows < N ? (size_t)c.kernel.tile_rows : N)
                                 : ntk_kernel_tile_rows(&spec, N, c.kernel.dtype, c.kernel.per_layer, P, have);
    double need = tiled ? ntk_kernel_bytes_tiled(&spec, N, B ? B : 1, c.kernel.dtype, c.kernel.per_layer, P) : need_mem;
    if (tiled && (B == 0 || need > have)) {
        if ((rc = cli_check_memory(&c.run, N, kernel_least_bytes, &kb,
                                   "activations and deltas of all points and one block of kernel rows")))
            goto done;
    }
    if (tiled && !resumed_tiles && (rc = check_disk(&kb, N))) goto done; /* resumed: reserved already */
    if (tiled && c.kernel.tile_rows == 0)
        fprintf(stderr, "ntkdrift kernel: K needs %.3g GB in memory, %.3g GB available: computing it in blocks "
                "of %zu rows streamed to K.npy (%.3g GB on disk)\n", need_mem / 1e9, have / 1e9, B,
                (double)N * (double)N * spec.outputs * spec.outputs * (c.kernel.dtype == NTK_F32 ? 4 : 8) / 1e9);
    if ((rc = study_net_params(s.net, &c))) goto done;
    size_t k = (size_t)spec.outputs, R = N * k, es = c.kernel.dtype == NTK_F32 ? 4 : 8, d = (size_t)spec.depth + 1;
    if (!tiled) {
        s.K = malloc(R * R * es);
        s.Kt = malloc(N * N * es);
        s.Kl = c.kernel.per_layer ? malloc(d * R * R * es) : NULL;
        s.tmp = k > 1 ? malloc(R * R * es) : NULL;
    }
    if ((!tiled && (!s.K || !s.Kt || (c.kernel.per_layer && !s.Kl) || (k > 1 && !s.tmp))) ||
        ntk_feats_alloc(s.net, N, c.kernel.dtype, &s.feats) != NTK_OK) {
        cli_errorf("out of memory for N = %zu (lower --n or use --dtype f32)", N);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (c.train.resume[0]) {
        rc = cli_run_open_existing(&run, c.train.resume, "kernel");
        run_open = rc == 0;
    } else {
        rc = study_run_start(&run, &c, "kernel", &run_open);
    }
    if (rc) goto done;
    keep = c.train.resume[0] || tiled; /* never remove what an earlier run left, nor finished blocks */

    double t0 = cli_now();
    ntk_status st = ntk_feats_compute(s.net, s.feats, s.X);
    double t1 = cli_now(), t2 = t1;
    if (st != NTK_OK) {
        rc = study_fail("kernel", CLI_EXIT_FAIL);
        goto done;
    }
    ntk_kernel_summary sm;
    ntk_tiled_stats ts = {0};
    if (tiled) {
        if ((rc = kernel_tiled_run(&run, &c, &spec, s.net, s.feats, N, B, &sm, &ts))) goto done;
        t2 = cli_now();
        if ((rc = write_inputs(&run, &spec, s.X, N))) goto done;
    } else {
        st = ntk_kernel_full(s.net, s.feats, s.K, s.Kl);
        t2 = cli_now();
        if (st == NTK_OK) st = ntk_kernel_output_trace(N, N, (int)k, c.kernel.dtype, s.K, s.Kt);
        if (st != NTK_OK) {
            rc = study_fail("kernel", CLI_EXIT_FAIL);
            goto done;
        }
        ntk_kernel_summarize(N, c.kernel.dtype, s.Kt, CLI_SUMMARY_EIG_MAX_N, &sm);
        if (!isfinite(sm.fro)) {
            cli_errorf("kernel: non-finite entries (check the scales sw2, sw2_out, sb and the inputs)");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        if ((rc = write_kernel_npz(&run, &c, &spec, &s, N))) goto done;
    }
    if (c.kernel.save_params) {
        char path[CLI_PATH_MAX + 64];
        if (ntk_net_save_params(s.net, cli_run_path(&run, "params.npz", path, sizeof path)) != NTK_OK) {
            rc = study_fail("writing params.npz", CLI_EXIT_FAIL);
            goto done;
        }
        cli_run_wrote(&run, "params.npz");
        for (int l = 1; l <= (int)d; l++) {
            ntk_layer ly;
            ntk_net_layer(s.net, l, &ly);
            char name[16], meaning[128];
            size_t shW[2] = {(size_t)ly.rows, (size_t)ly.cols}, shb[1] = {(size_t)ly.rows};
            snprintf(name, sizeof name, "W%d", l);
            snprintf(meaning, sizeof meaning, "layer %d weights as stored (z = %.6g * W h + %.6g * b)", l, ly.c_w, ly.c_b);
            cli_run_artifact(&run, "params.npz", name, "float64", 2, shW, meaning);
            if (ly.b) {
                snprintf(name, sizeof name, "b%d", l);
                cli_run_artifact(&run, "params.npz", name, "float64", 1, shb, "layer bias as stored");
            }
        }
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(study_data_json(extra, desc, N), "n0", spec.n0);
    cJSON *kj = cJSON_AddObjectToObject(extra, "kernel");
    cJSON_AddStringToObject(kj, "dtype", c.kernel.dtype == NTK_F32 ? "float32" : "float64");
    cJSON_AddStringToObject(kj, "method", "structured per-layer Grams (no Jacobian)");
    cJSON_AddNumberToObject(kj, "params", (double)P);
    cJSON_AddStringToObject(kj, "params_source", c.kernel.load_params[0] ? c.kernel.load_params : "seed");
    cJSON_AddNumberToObject(kj, "seed", (double)c.run.seed);
    cJSON_AddNumberToObject(kj, "seconds_features", t1 - t0);
    cJSON_AddNumberToObject(kj, "seconds_grams", tiled ? ts.seconds_grams : t2 - t1);
    cJSON_AddNumberToObject(kj, "memory_available_gb", have / 1e9);
    cJSON_AddNumberToObject(kj, "memory_estimate_gb", need / 1e9);
    cJSON_AddNumberToObject(kj, "memory_in_memory_gb", need_mem / 1e9);
    if (tiled) {
        cJSON *tj = cJSON_AddObjectToObject(kj, "tiled");
        cJSON_AddNumberToObject(tj, "rows_per_block", (double)ts.rows_per_block);
        cJSON_AddNumberToObject(tj, "blocks", (double)ts.blocks);
        cJSON_AddNumberToObject(tj, "seconds_write", ts.seconds_sink);
        cJSON_AddStringToObject(tj, "why", c.kernel.tile_rows > 0 ? "--tile-rows" : "K does not fit in memory");
    }
    cli_summary_json(extra, "summary", &sm);
    if ((rc = study_run_finish(&run, &c, &spec, extra, argc, argv, &run_open))) goto done;

    printf("ntkdrift kernel: N = %zu, n0 = %d, depth %d (widths", N, spec.n0, spec.depth);
    for (int l = 0; l < spec.depth && l < 6; l++) printf(" %d", spec.widths[l]);
    printf("%s), k = %d, %s, %s param, P = %zu, %s\n", spec.depth > 6 ? " ..." : "", spec.outputs,
           ntk_act_name(spec.act), ntk_param_name(spec.param), P, c.kernel.dtype == NTK_F32 ? "float32" : "float64");
    printf("  time: %.3f s (features %.3f s, Grams %.3f s), %d BLAS threads\n", t2 - t0, t1 - t0,
           tiled ? ts.seconds_grams : t2 - t1, ntk_get_threads());
    if (tiled)
        printf("  tiled: %zu blocks of %zu rows streamed to K.npy (writing %.3f s), peak estimate %.3g GB\n",
               ts.blocks, ts.rows_per_block, ts.seconds_sink, need / 1e9);
    printf("  K_trace: mean diagonal %.6g, ||K||_F %.6g, entries in [%.6g, %.6g]", sm.mean_diag, sm.fro,
           sm.min_entry, sm.max_entry);
    if (sm.have_eig) printf(", lambda in [%.4g, %.6g]", sm.lambda_min, sm.lambda_max);
    printf("\n  run directory: %s\n", run.dir);
    rc = 0;
done:
    if (run_open && keep) {
        if (rc == CLI_EXIT_FAIL)
            fprintf(stderr, "ntkdrift: the finished blocks are kept; continue with --resume %s\n", run.dir);
        cli_run_release(&run);
    } else if (run_open) {
        cli_run_abort(&run);
    }
    state_free(&s);
    cli_config_free(&c);
    return rc;
}
