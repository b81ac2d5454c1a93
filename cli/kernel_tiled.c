/* kernel_tiled.c -- the tiled path of `ntkdrift kernel`: the library's row-block engine
 * (ntk_kernel_tiled) hands each block to its .npy sink, which streams it into K.npy in the run
 * directory; after every block tiles.json records the progress, so a killed run continues. */
#include "kernel_tiled.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */
#include "study.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Does the run directory hold the progress of a tiled kernel (tiles.json)? */
static bool in_progress(const cli_run *run)
{
    char path[CLI_PATH_MAX + 64];
    return access(cli_run_path(run, "tiles.json", path, sizeof path), F_OK) == 0;
}

/* tiles.json: rows per block, blocks finished, and the running summary (trace, fro2, min, max) as
 * exact hex floats, so a resumed run ends with the same numbers as an uninterrupted one. */
static const char *const summary_keys[4] = {"trace", "fro2", "min", "max"};

static int save_progress(cli_run *run, size_t B, size_t done, const ntk_kernel_summary *sm)
{
    char path[CLI_PATH_MAX + 64], hex[40];
    double v[4] = {sm->trace, sm->sum_sq, sm->min_entry, sm->max_entry};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "rows_per_block", (double)B);
    cJSON_AddNumberToObject(j, "blocks_done", (double)done);
    for (int i = 0; i < 4; i++) {
        snprintf(hex, sizeof hex, "%a", v[i]);
        cJSON_AddStringToObject(j, summary_keys[i], hex);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        cli_errorf("writing tiles.json: out of memory");
        return CLI_EXIT_FAIL;
    }
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
    if (!ok) {
        cli_errorf("resume: %s: not the progress record of this run", path);
        return CLI_EXIT_USAGE;
    }
    return 0;
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
    if ((p->rc = save_progress(p->run, p->B, r0 / p->B + 1, p->sm))) return NTK_EIO;
    return NTK_OK;
}

int kernel_tiled_run(cli_run *run, const cli_config *c, const ntk_spec *spec, const ntk_net *net,
                     const ntk_feats *feats, size_t N, size_t B, ntk_kernel_summary *sm, ntk_tiled_stats *ts)
{
    size_t k = (size_t)spec->outputs, d = (size_t)spec->depth + 1, done = 0;
    const char *dts = c->kernel.dtype == NTK_F32 ? "float32" : "float64";
    size_t shK[4] = {N, N, k, k}, shT[2] = {N, N}, shL[5] = {d, N, N, k, k};
    int rc = 0, resume = c->train.resume[0] && in_progress(run);
    ntk_kernel_summary_init(sm);
    if (resume && (rc = load_progress(run, N, &B, &done, sm))) return rc;
    char pK[CLI_PATH_MAX + 64], pT[CLI_PATH_MAX + 64], pL[CLI_PATH_MAX + 64];
    progress p = {.run = run, .B = B, .sm = sm};
    /* Every file is reserved first: a disk that cannot hold them fails before any work. */
    if (ntk_npy_sink_open(spec, N, c->kernel.dtype, cli_run_path(run, "K.npy", pK, sizeof pK),
                          k > 1 ? cli_run_path(run, "K_trace.npy", pT, sizeof pT) : NULL,
                          c->kernel.per_layer ? cli_run_path(run, "K_layers.npy", pL, sizeof pL) : NULL, resume,
                          &p.files) != NTK_OK)
        return study_fail("writing the kernel", CLI_EXIT_FAIL);
    ntk_tiled_opts o = ntk_tiled_defaults();
    o.rows_per_block = B, o.per_layer = c->kernel.per_layer, o.first_block = done;
    ntk_status st = ntk_kernel_tiled(net, feats, &o, progress_rows, &p, sm, ts);
    if (st != NTK_OK) {
        if (p.sink_failed)
            study_fail("writing the kernel", 0);
        else if (!p.rc)
            cli_errorf("kernel: %s%s", ntk_last_error(), st == NTK_ENOMEM ? " (lower --tile-rows)" : "");
        /* blocks are done and recorded in tiles.json: keep the .partial files for --resume */
        (in_progress(run) ? ntk_npy_sink_release : ntk_npy_sink_abort)(p.files);
        return CLI_EXIT_FAIL;
    }
    double t2 = cli_now();
    if (ntk_npy_sink_close(p.files) != NTK_OK) return study_fail("writing the kernel", CLI_EXIT_FAIL);
    cli_run_wrote(run, "K.npy");
    if (k > 1) cli_run_wrote(run, "K_trace.npy");
    if (c->kernel.per_layer) cli_run_wrote(run, "K_layers.npy");
    char path[CLI_PATH_MAX + 64];
    (void)remove(cli_run_path(run, "tiles.json", path, sizeof path)); /* the manifest records the tiling */
    ts->seconds_sink += cli_now() - t2;
    cli_run_artifact(run, "K.npy", NULL, dts, k == 1 ? 2 : 4, shK,
                     "empirical NTK computed in row blocks; same layout as kernel.npz's K");
    if (k > 1) cli_run_artifact(run, "K_trace.npy", NULL, dts, 2, shT, "sum over outputs of K[i, j, a, a]");
    if (c->kernel.per_layer)
        cli_run_artifact(run, "K_layers.npy", NULL, dts, k == 1 ? 3 : 5, shL,
                         "per-layer terms K^(l), l = 1..L+1; they sum to K");
    return 0;
}
