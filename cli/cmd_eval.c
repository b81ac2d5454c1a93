/* cmd_eval.c -- `ntkdrift eval`: the outputs f(x) of a network on any points, the network given
 * by its spec (flags or --config, e.g. a train run's config.yaml) and either a seed or a
 * params.npz (--load-params, e.g. a train run's params.npz or one of its snapshots). */
#include <stdlib.h>

#include "commands.h"
#include "study.h"

int cmd_eval(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "eval");
    if (rc >= 0) return rc;
    double *X = NULL, *F = NULL;
    ntk_net *net = NULL;
    cli_run run = {0};
    bool run_open = false;
    ntk_spec spec;
    size_t N = 0;
    char desc[CLI_PATH_MAX + 64];
    const char *src = c.kernel.load_params[0] ? c.kernel.load_params : "seed";
    if (c.kernel.dtype != NTK_F64 || c.kernel.save_params || c.kernel.per_layer)
        rc = cli_errorf("eval: --dtype f32, --save-params and --per-layer do not apply (eval writes float64 outputs)");
    if (rc > 0 || (rc = study_inputs(&c, &X, &N, desc, sizeof desc, &spec))) goto done;
    size_t k = (size_t)spec.outputs;
    if (!(F = malloc(N * k * sizeof *F)) || ntk_net_alloc(&spec, &net) != NTK_OK) {
        rc = study_failf("eval: %s", F ? ntk_last_error() : "out of memory");
        goto done;
    }
    if ((rc = study_net_params(net, &c)) || (rc = study_run_start(&run, &c, "eval", &run_open))) goto done;
    if (ntk_net_forward(net, N, X, F) != NTK_OK) {
        rc = study_fail("eval", CLI_EXIT_FAIL);
        goto done;
    }
    const study_member m[2] = {{"f", 2, {N, k}, F, "network outputs f(x_i), one row per point", NTK_F64},
                               {"X", 2, {N, (size_t)spec.n0}, X, "inputs, one row per point", NTK_F64}};
    if ((rc = study_write_npz(&run, "eval.npz", m, 2))) goto done;
    cJSON *extra = cJSON_CreateObject();
    study_data_json(extra, desc, N);
    cJSON *ej = cJSON_AddObjectToObject(extra, "eval");
    cJSON_AddStringToObject(ej, "params_source", src);
    cJSON_AddNumberToObject(ej, "seed", (double)c.run.seed);
    if ((rc = study_run_finish(&run, &c, &spec, extra, argc, argv, &run_open))) goto done;
    printf("ntkdrift eval: f on %zu points (%zu outputs), parameters from %s\n  run directory: %s\n", N, k,
           c.kernel.load_params[0] ? src : "the seed", run.dir);
done:
    if (run_open) cli_run_abort(&run);
    ntk_net_free(net);
    free(X);
    free(F);
    cli_config_free(&c);
    return rc;
}
