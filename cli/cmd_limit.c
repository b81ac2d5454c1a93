/* cmd_limit.c -- `ntkdrift limit`: infinite-width NNGP and NTK of the spec on
 * a dataset, written as a run directory like `ntkdrift kernel`. */
#include <math.h>
#include <stdlib.h>

#include "commands.h"
#include "study.h"

static double limit_bytes_for(size_t N, void *ctx)
{
    const study_bytes_ctx *l = ctx;
    return ntk_limit_bytes(l->spec, N, l->per_layer);
}

int cmd_limit(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "limit");
    if (rc >= 0) return rc;
    double *X = NULL, *G = NULL;
    cli_run run = {0};
    bool run_open = false;
    ntk_spec spec;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    if (c.kernel.dtype != NTK_F64 || c.kernel.save_params || c.kernel.load_params[0])
        rc = cli_errorf("limit: --dtype f32, --save-params and --load-params do not apply (infinite-width kernels "
                        "are float64 and have no parameters)");
    if (rc > 0 || (rc = study_inputs(&c, &X, &N, desc, sizeof desc, &spec))) goto done;
    bool normalized = spec.param == NTK_PARAM_STANDARD;
    study_bytes_ctx lb = {.spec = &spec, .per_layer = c.kernel.per_layer};
    if ((rc = cli_check_memory(&c.run, N, limit_bytes_for, &lb, "NNGP, NTK, per-layer terms if asked")))
        goto done;
    size_t d = (size_t)spec.depth + 1, NN = N * N, Kl_at = normalized ? 2 : 1;
    /* G, K, Kn, Kl in one block, in huge pages: a 4 KiB first touch would cost more than the kernel */
    G = ntk_alloc_big((1 + Kl_at + (c.kernel.per_layer ? d : 0)) * NN * sizeof *G);
    if (!G) {
        rc = study_failf("out of memory for N = %zu", N);
        goto done;
    }
    double *K = G + NN, *Kn = normalized ? K + NN : NULL, *Kl = c.kernel.per_layer ? K + Kl_at * NN : NULL;
    if ((rc = study_run_start(&run, &c, "limit", &run_open))) goto done;
    double t0 = cli_now();
    if (ntk_limit_full(&spec, NULL, N, X, G, K, Kn, Kl) != NTK_OK) {
        rc = study_fail("limit", CLI_EXIT_FAIL);
        goto done;
    }
    double t1 = cli_now();
    ntk_kernel_summary sm;
    ntk_kernel_summarize(N, NTK_F64, K, CLI_SUMMARY_EIG_MAX_N, &sm);
    if (!isfinite(sm.fro)) {
        rc = study_failf("limit: non-finite entries (check the scales sw2, sw2_out, sb and the inputs)");
        goto done;
    }
    const study_member m[5] = {
        {"ntk", 2, {N, N}, K,
         spec.param == NTK_PARAM_NTK ? "infinite-width NTK (per output; the k-output limit is ntk (x) I_k)"
                                     : "leading-order NTK at the spec's widths (standard param: grows linearly with "
                                       "width)", NTK_F64},
        {"nngp", 2, {N, N}, G, "infinite-width NNGP kernel of the output", NTK_F64},
        {"X", 2, {N, (size_t)spec.n0}, X, "inputs, one row per point", NTK_F64},
        {"ntk_normalized", 2, {N, N}, Kn, "ntk / mean hidden width", NTK_F64},
        {"ntk_layers", 3, {d, N, N}, Kl, "per-layer terms of the limit NTK, l = 1..L+1; they sum to ntk", NTK_F64}};
    if ((rc = study_write_npz(&run, "limit.npz", m, 5))) goto done;
    cJSON *extra = cJSON_CreateObject();
    study_data_json(extra, desc, N);
    cJSON *lj = cJSON_AddObjectToObject(extra, "limit");
    bool closed = spec.act == NTK_ACT_RELU || spec.act == NTK_ACT_ERF || spec.act == NTK_ACT_IDENTITY;
    cJSON_AddStringToObject(lj, "method", closed ? "closed-form Gaussian expectations"
                                                 : "quadrature of the 2-D Gaussian expectations");
    cJSON_AddNumberToObject(lj, "seconds", t1 - t0);
    cli_summary_json(extra, "summary", &sm);
    if ((rc = study_run_finish(&run, &c, &spec, extra, argc, argv, &run_open))) goto done;
    printf("ntkdrift limit: N = %zu, n0 = %d, depth %d, %s, %s param\n", N, spec.n0, spec.depth,
           ntk_act_name(spec.act), ntk_param_name(spec.param));
    printf("  time: %.3f s\n  NTK: mean diagonal %.6g, ||K||_F %.6g", t1 - t0, sm.mean_diag, sm.fro);
    if (sm.have_eig) printf(", lambda in [%.4g, %.6g]", sm.lambda_min, sm.lambda_max);
    printf("\n  run directory: %s\n", run.dir);
done:
    if (run_open) cli_run_abort(&run);
    free(X);
    free(G);
    cli_config_free(&c);
    return rc;
}
