/* cmd_kernel.c -- `ntkdrift kernel`: the empirical NTK of a network on a
 * dataset, written as a run directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "dataset.h"
#include "rundir.h"
#include "summary.h"

/* Peak estimate of a kernel run with N points. */
static double kernel_run_bytes(const ntk_spec *s, size_t N, ntk_dtype t, bool per_layer, size_t P)
{
    double es = t == NTK_F32 ? 4 : 8, nk = (double)N * s->outputs;
    double b = (double)ntk_feats_bytes(s, N, t) + (double)ntk_kernel_bytes(s, N, t, per_layer) + 8.0 * (double)P;
    if (s->outputs > 1) b += nk * nk * es * (per_layer ? 2 : 1); /* (N,N,k,k) re-layout for the file */
    b += (double)N * s->n0 * 8.0;
    return b;
}

typedef struct {
    const ntk_spec *spec;
    const cli_config *c;
    size_t P;
} kernel_bytes_ctx;

static double kernel_bytes_for(size_t N, void *ctx)
{
    const kernel_bytes_ctx *k = ctx;
    return kernel_run_bytes(k->spec, N, k->c->dtype, k->c->per_layer, k->P);
}

/* (N, k, N, k) -> (N, N, k, k) */
static void relayout(size_t N, size_t k, size_t es, const char *src, char *dst)
{
    for (size_t i = 0; i < N; i++)
        for (size_t a = 0; a < k; a++)
            for (size_t j = 0; j < N; j++)
                for (size_t b = 0; b < k; b++)
                    memcpy(dst + (((i * N + j) * k + a) * k + b) * es, src + ((i * k + a) * N * k + j * k + b) * es, es);
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
    size_t k = (size_t)spec->outputs, es = c->dtype == NTK_F32 ? 4 : 8, d = (size_t)spec->depth + 1;
    ntk_npy_type nt = c->dtype == NTK_F32 ? NTK_NPY_F32 : NTK_NPY_F64;
    const char *dts = c->dtype == NTK_F32 ? "float32" : "float64";
    char path[CLI_PATH_MAX + 64];
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(cli_run_path(run, "kernel.npz", path, sizeof path), &w);
    size_t shK[4] = {N, N, k, k}, shT[2] = {N, N}, shX[2] = {N, (size_t)spec->n0};
    size_t shL[5] = {d, N, N, k, k};
    int ndimK = k == 1 ? 2 : 4;
    /* The writer streams from our buffers at close: every buffer handed to it
     * must stay unchanged until then, so re-layout the per-layer terms in place
     * first and use tmp for K alone. */
    if (st == NTK_OK && s->Kl && k > 1) {
        size_t blk = N * k * N * k * es;
        for (size_t l = 0; l < d; l++) {
            relayout(N, k, es, (char *)s->Kl + l * blk, s->tmp);
            memcpy((char *)s->Kl + l * blk, s->tmp, blk);
        }
    }
    if (st == NTK_OK) {
        const void *Kfile = s->K;
        if (k > 1) {
            relayout(N, k, es, s->K, s->tmp);
            Kfile = s->tmp;
        }
        st = ntk_npz_add(w, "K", nt, ndimK, shK, Kfile);
    }
    if (st == NTK_OK) st = ntk_npz_add(w, "K_trace", nt, 2, shT, s->Kt);
    if (st == NTK_OK) st = ntk_npz_add(w, "X", NTK_NPY_F64, 2, shX, s->X);
    if (st == NTK_OK && s->Kl) st = ntk_npz_add(w, "K_layers", nt, k == 1 ? 3 : 5, shL, s->Kl);
    if (st != NTK_OK) {
        ntk_npz_abort(w);
        cli_errorf("writing kernel.npz: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    if (ntk_npz_close(w) != NTK_OK) {
        cli_errorf("writing kernel.npz: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(run, "kernel.npz");
    cli_run_artifact(run, "kernel.npz", "K", dts, ndimK, shK,
                     k == 1 ? "empirical NTK K(x_i, x_j) = sum_theta df(x_i)/dtheta df(x_j)/dtheta"
                            : "empirical NTK K[i, j, a, b] = sum_theta df_a(x_i)/dtheta df_b(x_j)/dtheta");
    cli_run_artifact(run, "kernel.npz", "K_trace", dts, 2, shT,
                     "sum over outputs of K[i, j, a, a] (neural-tangents' trace_axes gives this / k)");
    cli_run_artifact(run, "kernel.npz", "X", "float64", 2, shX, "inputs, one row per point");
    if (s->Kl)
        cli_run_artifact(run, "kernel.npz", "K_layers", dts, k == 1 ? 3 : 5, shL,
                         "per-layer terms K^(l), l = 1..L+1 (weights and bias of layer l); they sum to K");
    return 0;
}

int cmd_kernel(int argc, char **argv)
{
    cli_config c;
    cli_config_defaults(&c, "kernel");
    int rc = cli_config_parse_args(&c, argc, argv, "kernel");
    if (rc >= 0) {
        cli_config_free(&c);
        return rc;
    }
    kernel_state s = {0};
    cli_run run = {0};
    bool run_open = false;
    ntk_spec spec;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    if ((rc = cli_load_inputs(&c, &s.X, &N, desc, sizeof desc))) goto done;
    if ((rc = cli_config_spec(&c, &spec))) goto done;
    ntk_set_threads(c.threads);
    if (ntk_net_alloc(&spec, &s.net) != NTK_OK) {
        cli_errorf("model: %s", ntk_last_error());
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    size_t P = ntk_net_num_params(s.net);
    kernel_bytes_ctx kb = {&spec, &c, P};
    if ((rc = cli_check_memory(&c, N, kernel_bytes_for, &kb,
                               c.per_layer ? "K, two Gram buffers, per-layer terms, activations, deltas, parameters"
                                           : "K, two Gram buffers, activations, deltas, parameters")))
        goto done;
    if (c.load_params[0]) {
        if (ntk_net_load_params(s.net, c.load_params) != NTK_OK) {
            cli_errorf("load-params: %s", ntk_last_error());
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    } else {
        ntk_net_init(s.net, c.seed);
    }
    size_t k = (size_t)spec.outputs, R = N * k, es = c.dtype == NTK_F32 ? 4 : 8, d = (size_t)spec.depth + 1;
    s.K = malloc(R * R * es);
    s.Kt = malloc(N * N * es);
    s.Kl = c.per_layer ? malloc(d * R * R * es) : NULL;
    s.tmp = k > 1 ? malloc(R * R * es) : NULL;
    if (!s.K || !s.Kt || (c.per_layer && !s.Kl) || (k > 1 && !s.tmp) ||
        ntk_feats_alloc(s.net, N, c.dtype, &s.feats) != NTK_OK) {
        cli_errorf("out of memory for N = %zu (lower --n or use --dtype f32)", N);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    rc = cli_run_create(&run, &c, "kernel");
    run_open = true; /* abort also releases what a failed create holds */
    if (rc) goto done;
    if ((rc = cli_run_write_config(&run, &c))) goto done;

    double t0 = cli_now();
    ntk_status st = ntk_feats_compute(s.net, s.feats, s.X);
    double t1 = cli_now();
    if (st == NTK_OK) st = ntk_kernel_full(s.net, s.feats, s.K, s.Kl);
    double t2 = cli_now();
    if (st == NTK_OK) st = ntk_kernel_output_trace(N, N, (int)k, c.dtype, s.K, s.Kt);
    if (st != NTK_OK) {
        cli_errorf("kernel: %s", ntk_last_error());
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    cli_ksummary sm = cli_summarize(s.Kt, N, c.dtype == NTK_F32);
    if (!isfinite(sm.fro)) {
        cli_errorf("kernel: non-finite entries (check the scales sw2, sw2_out, sb and the inputs)");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = write_kernel_npz(&run, &c, &spec, &s, N))) goto done;
    if (c.save_params) {
        char path[CLI_PATH_MAX + 64];
        if (ntk_net_save_params(s.net, cli_run_path(&run, "params.npz", path, sizeof path)) != NTK_OK) {
            cli_errorf("writing params.npz: %s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
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
    cJSON *data = cJSON_AddObjectToObject(extra, "data");
    cJSON_AddStringToObject(data, "source", desc);
    cJSON_AddNumberToObject(data, "N", (double)N);
    cJSON_AddNumberToObject(data, "n0", spec.n0);
    cJSON *kj = cJSON_AddObjectToObject(extra, "kernel");
    cJSON_AddStringToObject(kj, "dtype", c.dtype == NTK_F32 ? "float32" : "float64");
    cJSON_AddStringToObject(kj, "method", "structured per-layer Grams (no Jacobian)");
    cJSON_AddNumberToObject(kj, "params", (double)P);
    cJSON_AddStringToObject(kj, "params_source", c.load_params[0] ? c.load_params : "seed");
    cJSON_AddNumberToObject(kj, "seed", (double)c.seed);
    cJSON_AddNumberToObject(kj, "seconds_features", t1 - t0);
    cJSON_AddNumberToObject(kj, "seconds_grams", t2 - t1);
    cli_summary_json(extra, "summary", &sm);
    if ((rc = cli_run_finish(&run, &c, &spec, extra, argc, argv))) goto done;
    run_open = false;

    printf("ntkdrift kernel: N = %zu, n0 = %d, depth %d (widths", N, spec.n0, spec.depth);
    for (int l = 0; l < spec.depth && l < 6; l++) printf(" %d", spec.widths[l]);
    printf("%s), k = %d, %s, %s param, P = %zu, %s\n", spec.depth > 6 ? " ..." : "", spec.outputs,
           ntk_act_name(spec.act), ntk_param_name(spec.param), P, c.dtype == NTK_F32 ? "float32" : "float64");
    printf("  time: %.3f s (features %.3f s, Grams %.3f s), %d BLAS threads\n", t2 - t0, t1 - t0, t2 - t1,
           ntk_get_threads());
    printf("  K_trace: mean diagonal %.6g, ||K||_F %.6g, entries in [%.6g, %.6g]", sm.mean_diag, sm.fro,
           sm.min_entry, sm.max_entry);
    if (sm.have_eig) printf(", lambda in [%.4g, %.6g]", sm.lambda_min, sm.lambda_max);
    printf("\n  run directory: %s\n", run.dir);
    rc = 0;
done:
    if (run_open) cli_run_abort(&run);
    state_free(&s);
    cli_config_free(&c);
    return rc;
}
