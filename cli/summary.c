/* summary.c -- kernel summaries in the manifest and the pre-allocation memory check. */
#include "summary.h"

#include <cjson/cJSON.h>
#include <stdio.h>

void cli_summary_json(cJSON *parent, const char *key, const ntk_kernel_summary *s)
{
    cJSON *sj = cJSON_AddObjectToObject(parent, key);
    cJSON_AddNumberToObject(sj, "trace", s->trace);
    cJSON_AddNumberToObject(sj, "mean_diag", s->mean_diag);
    cJSON_AddNumberToObject(sj, "fro", s->fro);
    if (s->have_eig) {
        cJSON_AddNumberToObject(sj, "lambda_max", s->lambda_max);
        cJSON_AddNumberToObject(sj, "lambda_min", s->lambda_min);
    }
}

double cli_available_bytes(const cli_run_cfg *r)
{
    return r->max_memory_gb > 0 ? r->max_memory_gb * 1e9 : ntk_mem_available_bytes();
}

int cli_check_memory(const cli_run_cfg *r, size_t N, double (*bytes_for)(size_t, void *), void *ctx, const char *what)
{
    double need = bytes_for(N, ctx), have = cli_available_bytes(r);
    if (need <= have) return 0;
    size_t fit = ntk_plan_max_points(have, bytes_for, ctx, N);
    char fits[64] = "nothing fits";
    if (fit) snprintf(fits, sizeof fits, "N <= %zu fits", fit);
    cli_errorf("n: N = %zu needs an estimated %.3g GB (%s) but %.3g GB is available%s; %s", N, need / 1e9, what,
               have / 1e9, r->max_memory_gb > 0 ? " (--max-memory)" : "", fits);
    return CLI_EXIT_USAGE;
}
