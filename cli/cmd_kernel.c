/* cmd_kernel.c -- `ntkdrift kernel`: the empirical NTK of a network on a dataset, written as a run
 * directory: in memory into kernel.npz when it fits, else by the library's row-block engine
 * (ntk_kernel_tiled), whose .npy sink streams the blocks into K.npy; after every block tiles.json
 * records the progress, so a killed run continues with --resume. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fsutil.h" /* ntk_write_file_atomic: the library's private file-system helpers */
#include "study.h"

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
    const cli_kernel_cfg *kc = &k->c->kernel;
    double tiled = ntk_kernel_bytes_tiled(k->spec, N, kc->tile_rows > 0 ? (size_t)kc->tile_rows : 1, kc->dtype,
                                          kc->per_layer, k->P);
    double mem = ntk_kernel_bytes_in_memory(k->spec, N, kc->dtype, kc->per_layer, k->P);
    return tiled < mem ? tiled : mem;
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
    const char *where = c->run.out[0] ? c->run.out : c->run.results;
    double need = file_bytes(N, kb), have = ntk_disk_free_bytes(where);
    if (need <= have) return 0;
    return cli_errorf("n: N = %zu computed in row blocks needs %.3g GB on disk for K%s but %.3g GB is free where the "
                      "run goes (%s); N <= %zu fits", N, need / 1e9, c->kernel.per_layer ? " and the per-layer terms" : "",
                      have / 1e9, where, ntk_plan_max_points(have, file_bytes, kb, N));
}

/* ------------------------------------------------------------------ in memory: kernel.npz */

typedef struct {
    ntk_net *net;
    ntk_feats *feats;
    double *X;
    void *K, *Kl, *Kt, *tmp;
} kernel_state;

static int write_kernel_npz(cli_run *run, const cli_config *c, const ntk_spec *spec, kernel_state *s, size_t N)
{
    size_t k = (size_t)spec->outputs, es = c->kernel.dtype == NTK_F32 ? 4 : 8, d = (size_t)spec->depth + 1;
    ntk_dtype nt = c->kernel.dtype;
    /* The writer streams from our buffers at close: every buffer handed to it must stay unchanged
     * until then, so re-layout the per-layer terms in place first and use tmp for K alone. */
    for (size_t l = 0, blk = N * k * N * k * es; s->Kl && k > 1 && l < d; l++) {
        ntk_kernel_relayout(N, N, (int)k, nt, (char *)s->Kl + l * blk, s->tmp);
        memcpy((char *)s->Kl + l * blk, s->tmp, blk);
    }
    if (k > 1) ntk_kernel_relayout(N, N, (int)k, nt, s->K, s->tmp);
    const study_member m[4] = {
        {"K", k == 1 ? 2 : 4, {N, N, k, k}, k > 1 ? s->tmp : s->K,
         k == 1 ? "empirical NTK K(x_i, x_j) = sum_theta df(x_i)/dtheta df(x_j)/dtheta"
                : "empirical NTK K[i, j, a, b] = sum_theta df_a(x_i)/dtheta df_b(x_j)/dtheta", nt},
        {"K_trace", 2, {N, N}, k > 1 ? s->Kt : s->K, "sum over outputs of K[i, j, a, a] (neural-tangents' trace_axes gives this / k)",
         nt},
        {"X", 2, {N, (size_t)spec->n0}, s->X, "inputs, one row per point", NTK_F64},
        {"K_layers", k == 1 ? 3 : 5, {d, N, N, k, k}, s->Kl,
         "per-layer terms K^(l), l = 1..L+1 (weights and bias of layer l); they sum to K", nt}};
    return study_write_npz(run, "kernel.npz", m, 4);
}

/* ---------------------------------------------------- in row blocks: K.npy and tiles.json */

/* tiles.json: rows per block, blocks finished, and the running summary (trace, fro2, min, max) as
 * exact hex floats, so a resumed run ends with the same numbers as an uninterrupted one. */
static const char *const summary_keys[4] = {"trace", "fro2", "min", "max"};

static int save_progress(cli_run *run, size_t B, size_t done, const ntk_kernel_summary *sm)
{
    char path[CLI_PATH_MAX + 64], hex[40];
    double v[4] = {sm->trace, sm->sum_sq, sm->min_entry, sm->max_entry};
    cJSON *j = cJSON_CreateObject();
    study_nums(j, "rows_per_block blocks_done", (const double[]){(double)B, (double)done});
    for (int i = 0; i < 4; i++) {
        snprintf(hex, sizeof hex, "%a", v[i]);
        cJSON_AddStringToObject(j, summary_keys[i], hex);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return study_failf("writing tiles.json: out of memory");
    ntk_status st = ntk_write_file_atomic(cli_run_path(run, "tiles.json", path, sizeof path), text, strlen(text));
    free(text);
    return st != NTK_OK ? study_fail("writing tiles.json", CLI_EXIT_FAIL) : 0;
}

static int load_progress(cli_run *run, size_t N, size_t *B, size_t *done, ntk_kernel_summary *sm)
{
    char path[CLI_PATH_MAX + 64];
    cJSON *j = cli_read_json(cli_run_path(run, "tiles.json", path, sizeof path));
    if (!j) return CLI_EXIT_USAGE;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "rows_per_block"),
                *d = cJSON_GetObjectItemCaseSensitive(j, "blocks_done");
    double v[4];
    bool ok = cJSON_IsNumber(b) && cJSON_IsNumber(d) && b->valuedouble >= 1 && b->valuedouble <= (double)N &&
              d->valuedouble >= 0 && d->valuedouble * b->valuedouble < (double)N + b->valuedouble;
    for (int i = 0; ok && i < 4; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, summary_keys[i]);
        char *end = NULL;
        ok = cJSON_IsString(x) && (v[i] = strtod(x->valuestring, &end), end && *end == '\0' && end != x->valuestring);
    }
    if (ok) {
        *B = (size_t)b->valuedouble;
        *done = (size_t)d->valuedouble;
        sm->trace = v[0], sm->sum_sq = v[1], sm->min_entry = v[2], sm->max_entry = v[3];
    }
    cJSON_Delete(j);
    return ok ? 0 : cli_errorf("resume: %s: not the progress record of this run", path);
}

/* The sink of the run: the library's .npy sink, then the progress record. */
typedef struct {
    cli_run *run;
    ntk_npy_sink *files;
    size_t B;
    const ntk_kernel_summary *sm;
    int rc;           /* save_progress failed (its message is out) */
    bool sink_failed; /* writing the files failed */
} progress;

static ntk_status progress_rows(void *user, size_t r0, size_t B, const void *K, const void *Kt, const void *Kl)
{
    progress *p = user;
    ntk_status st = ntk_npy_sink_rows(p->files, r0, B, K, Kt, Kl);
    if (st != NTK_OK) {
        p->sink_failed = true;
        return st;
    }
    return (p->rc = save_progress(p->run, p->B, r0 / p->B + 1, p->sm)) ? NTK_EIO : NTK_OK;
}

/* Streams K (and K_trace for k > 1, K_layers with --per-layer) to .npy files in the run directory,
 * B rows at a time (a resumed run: from its last finished block, with its B), then X.npy; records
 * the artifacts and fills the summary (no eigenvalues). */
static int kernel_tiled_run(cli_run *run, const cli_config *c, const ntk_spec *spec, const kernel_state *s, size_t N,
                            size_t B, ntk_kernel_summary *sm, ntk_tiled_stats *ts)
{
    size_t k = (size_t)spec->outputs, d = (size_t)spec->depth + 1, done = 0;
    char pK[CLI_PATH_MAX + 64], pT[CLI_PATH_MAX + 64], pL[CLI_PATH_MAX + 64];
    int rc = 0, resume = c->train.resume[0] && study_exists(cli_run_path(run, "tiles.json", pK, sizeof pK), "");
    ntk_kernel_summary_init(sm);
    if (resume && (rc = load_progress(run, N, &B, &done, sm))) return rc;
    progress p = {.run = run, .B = B, .sm = sm};
    /* Every file is reserved first: a disk that cannot hold them fails before any work. */
    if (ntk_npy_sink_open(spec, N, c->kernel.dtype, cli_run_path(run, "K.npy", pK, sizeof pK),
                          k > 1 ? cli_run_path(run, "K_trace.npy", pT, sizeof pT) : NULL,
                          c->kernel.per_layer ? cli_run_path(run, "K_layers.npy", pL, sizeof pL) : NULL, resume,
                          &p.files) != NTK_OK)
        return study_fail("writing the kernel", CLI_EXIT_FAIL);
    ntk_tiled_opts o = ntk_tiled_defaults();
    o.rows_per_block = B, o.per_layer = c->kernel.per_layer, o.first_block = done;
    ntk_status st = ntk_kernel_tiled(s->net, s->feats, &o, progress_rows, &p, sm, ts);
    if (st != NTK_OK) {
        if (p.sink_failed)
            study_fail("writing the kernel", 0);
        else if (!p.rc)
            cli_errorf("kernel: %s%s", ntk_last_error(), st == NTK_ENOMEM ? " (lower --tile-rows)" : "");
        /* blocks are done and recorded in tiles.json: keep the .partial files for --resume */
        (study_exists(cli_run_path(run, "tiles.json", pK, sizeof pK), "") ? ntk_npy_sink_release
                                                                          : ntk_npy_sink_abort)(p.files);
        return CLI_EXIT_FAIL;
    }
    double t2 = cli_now();
    if (ntk_npy_sink_close(p.files) != NTK_OK) return study_fail("writing the kernel", CLI_EXIT_FAIL);
    (void)remove(cli_run_path(run, "tiles.json", pK, sizeof pK)); /* the manifest records the tiling */
    ts->seconds_sink += cli_now() - t2;
    const char *dts = ntk_dtype_name(c->kernel.dtype);
    cli_run_wrote(run, "K.npy");
    cli_run_artifact(run, "K.npy", NULL, dts, k == 1 ? 2 : 4, (size_t[]){N, N, k, k},
                     "empirical NTK computed in row blocks; same layout as kernel.npz's K");
    if (k > 1) cli_run_wrote(run, "K_trace.npy");
    if (k > 1) cli_run_artifact(run, "K_trace.npy", NULL, dts, 2, (size_t[]){N, N}, "sum over outputs of K[i, j, a, a]");
    if (c->kernel.per_layer) cli_run_wrote(run, "K_layers.npy");
    if (c->kernel.per_layer)
        cli_run_artifact(run, "K_layers.npy", NULL, dts, k == 1 ? 3 : 5, (size_t[]){d, N, N, k, k},
                         "per-layer terms K^(l), l = 1..L+1; they sum to K");
    size_t shX[2] = {N, (size_t)spec->n0}; /* the inputs (kernel.npz holds them on the in-memory path) */
    if (ntk_npy_write(cli_run_path(run, "X.npy", pK, sizeof pK), NTK_F64, 2, shX, s->X) != NTK_OK)
        return study_failf("writing X.npy: %s", ntk_last_error());
    cli_run_wrote(run, "X.npy");
    cli_run_artifact(run, "X.npy", NULL, "float64", 2, shX, "inputs, one row per point");
    return 0;
}

/* --save-params: params.npz and its members in the manifest. */
static int save_params(cli_run *run, const ntk_net *net, int d)
{
    char path[CLI_PATH_MAX + 64];
    if (ntk_net_save_params(net, cli_run_path(run, "params.npz", path, sizeof path)) != NTK_OK)
        return study_fail("writing params.npz", CLI_EXIT_FAIL);
    cli_run_wrote(run, "params.npz");
    for (int l = 1; l <= d; l++) {
        ntk_layer ly;
        ntk_net_layer(net, l, &ly);
        char name[16], meaning[128];
        snprintf(name, sizeof name, "W%d", l);
        snprintf(meaning, sizeof meaning, "layer %d weights as stored (z = %.6g * W h + %.6g * b)", l, ly.c_w, ly.c_b);
        cli_run_artifact(run, "params.npz", name, "float64", 2, (size_t[]){(size_t)ly.rows, (size_t)ly.cols}, meaning);
        snprintf(name, sizeof name, "b%d", l);
        if (ly.b) cli_run_artifact(run, "params.npz", name, "float64", 1, (size_t[]){(size_t)ly.rows}, "layer bias as stored");
    }
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
    if (c.train.resume[0] && (rc = cli_config_reload(&c, "kernel"))) goto done;
    resumed_tiles = c.train.resume[0] && study_exists(c.train.resume, "tiles.json");
    if ((rc = study_inputs(&c, &s.X, &N, desc, sizeof desc, &spec))) goto done;
    if (ntk_net_alloc(&spec, &s.net) != NTK_OK) {
        rc = study_fail("model", CLI_EXIT_USAGE);
        goto done;
    }
    size_t P = ntk_net_num_params(s.net);
    /* Memory plan: in memory when the whole kernel fits (and no tiling was asked for), else in
     * row blocks streamed to disk; refused when not even one row per block fits. */
    const cli_kernel_cfg *kc = &c.kernel;
    kernel_bytes_ctx kb = {&spec, &c, P};
    double have = cli_available_bytes(&c.run);
    double need_mem = ntk_kernel_bytes_in_memory(&spec, N, kc->dtype, kc->per_layer, P);
    bool tiled = kc->tile_rows > 0 || need_mem > have || resumed_tiles;
    size_t B = !tiled ? 0
               : kc->tile_rows > 0 ? ((size_t)kc->tile_rows < N ? (size_t)kc->tile_rows : N)
                                   : ntk_kernel_tile_rows(&spec, N, kc->dtype, kc->per_layer, P, have);
    double need = tiled ? ntk_kernel_bytes_tiled(&spec, N, B ? B : 1, kc->dtype, kc->per_layer, P) : need_mem;
    if (tiled && (B == 0 || need > have) &&
        (rc = cli_check_memory(&c.run, N, kernel_least_bytes, &kb,
                               "activations and deltas of all points and one block of kernel rows")))
        goto done;
    if (tiled && !resumed_tiles && (rc = check_disk(&kb, N))) goto done; /* resumed: reserved already */
    size_t k = (size_t)spec.outputs, R = N * k, es = kc->dtype == NTK_F32 ? 4 : 8, d = (size_t)spec.depth + 1;
    if (tiled && kc->tile_rows == 0)
        fprintf(stderr, "ntkdrift kernel: K needs %.3g GB in memory, %.3g GB available: computing it in blocks "
                "of %zu rows streamed to K.npy (%.3g GB on disk)\n", need_mem / 1e9, have / 1e9, B,
                (double)N * (double)N * spec.outputs * spec.outputs * (double)es / 1e9);
    if ((rc = study_net_params(s.net, &c))) goto done;
    if (!tiled) { /* for k = 1, K_trace is K itself */
        s.K = ntk_alloc_big(R * R * es);
        s.Kt = k > 1 ? ntk_alloc_big(N * N * es) : NULL;
        s.Kl = kc->per_layer ? ntk_alloc_big(d * R * R * es) : NULL;
        s.tmp = k > 1 ? ntk_alloc_big(R * R * es) : NULL;
    }
    if ((!tiled && (!s.K || (k > 1 && (!s.Kt || !s.tmp)) || (kc->per_layer && !s.Kl))) ||
        ntk_feats_alloc(s.net, N, kc->dtype, &s.feats) != NTK_OK) {
        rc = study_failf("out of memory for N = %zu (lower --n or use --dtype f32)", N);
        goto done;
    }
    if (c.train.resume[0]) run_open = !(rc = cli_run_open_existing(&run, c.train.resume, "kernel"));
    else rc = study_run_start(&run, &c, "kernel", &run_open);
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
        if ((rc = kernel_tiled_run(&run, &c, &spec, &s, N, B, &sm, &ts))) goto done;
        t2 = cli_now();
    } else {
        st = ntk_kernel_full(s.net, s.feats, s.K, s.Kl);
        t2 = cli_now();
        if (st == NTK_OK && k > 1) st = ntk_kernel_output_trace(N, N, (int)k, kc->dtype, s.K, s.Kt);
        if (st != NTK_OK) {
            rc = study_fail("kernel", CLI_EXIT_FAIL);
            goto done;
        }
        /* the eigenvalues only when asked for (--eig): O(N^3) against the norms' O(N^2) */
        ntk_kernel_summarize(N, kc->dtype, k > 1 ? s.Kt : s.K, kc->eig ? CLI_SUMMARY_EIG_MAX_N : 0, &sm);
        if (!isfinite(sm.fro)) {
            rc = study_failf("kernel: non-finite entries (check the scales sw2, sw2_out, sb and the inputs)");
            goto done;
        }
        if ((rc = write_kernel_npz(&run, &c, &spec, &s, N))) goto done;
    }
    if (kc->save_params && (rc = save_params(&run, s.net, (int)d))) goto done;
    double grams = tiled ? ts.seconds_grams : t2 - t1;
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddNumberToObject(study_data_json(extra, desc, N), "n0", spec.n0);
    cJSON *kj = cJSON_AddObjectToObject(extra, "kernel");
    cJSON_AddStringToObject(kj, "dtype", ntk_dtype_name(kc->dtype));
    cJSON_AddStringToObject(kj, "method", "structured per-layer Grams (no Jacobian)");
    cJSON_AddNumberToObject(kj, "params", (double)P);
    cJSON_AddStringToObject(kj, "params_source", kc->load_params[0] ? kc->load_params : "seed");
    study_nums(kj, "seed seconds_features seconds_grams memory_available_gb memory_estimate_gb memory_in_memory_gb",
               (const double[]){(double)c.run.seed, t1 - t0, grams, have / 1e9, need / 1e9, need_mem / 1e9});
    if (tiled) {
        cJSON *tj = cJSON_AddObjectToObject(kj, "tiled");
        study_nums(tj, "rows_per_block blocks seconds_write",
                   (const double[]){(double)ts.rows_per_block, (double)ts.blocks, ts.seconds_sink});
        cJSON_AddStringToObject(tj, "why", kc->tile_rows > 0 ? "--tile-rows" : "K does not fit in memory");
    }
    cli_summary_json(extra, "summary", &sm);
    if ((rc = study_run_finish(&run, &c, &spec, extra, argc, argv, &run_open))) goto done;

    printf("ntkdrift kernel: N = %zu, n0 = %d, depth %d (widths", N, spec.n0, spec.depth);
    for (int l = 0; l < spec.depth && l < 6; l++) printf(" %d", spec.widths[l]);
    printf("%s), k = %d, %s, %s param, P = %zu, %s\n", spec.depth > 6 ? " ..." : "", spec.outputs,
           ntk_act_name(spec.act), ntk_param_name(spec.param), P, ntk_dtype_name(kc->dtype));
    printf("  time: %.3f s (features %.3f s, Grams %.3f s), %d BLAS threads\n", t2 - t0, t1 - t0, grams,
           ntk_get_threads());
    if (tiled)
        printf("  tiled: %zu blocks of %zu rows streamed to K.npy (writing %.3f s), peak estimate %.3g GB\n",
               ts.blocks, ts.rows_per_block, ts.seconds_sink, need / 1e9);
    printf("  K_trace: mean diagonal %.6g, ||K||_F %.6g, entries in [%.6g, %.6g]", sm.mean_diag, sm.fro,
           sm.min_entry, sm.max_entry);
    if (sm.have_eig) printf(", lambda in [%.4g, %.6g]", sm.lambda_min, sm.lambda_max);
    printf("\n  run directory: %s\n", run.dir);
done:
    if (run_open && keep) study_run_keep(&run, rc, "blocks");
    else if (run_open) cli_run_abort(&run);
    ntk_feats_free(s.feats);
    ntk_net_free(s.net);
    free(s.X), free(s.K), free(s.Kl), free(s.Kt), free(s.tmp);
    cli_config_free(&c);
    return rc;
}
