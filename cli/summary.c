/* summary.c -- kernel summaries in the manifest and the pre-allocation memory check. */
#include "summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

double cli_available_bytes(const cli_config *c)
{
    if (c->max_memory_gb > 0) return c->max_memory_gb * 1e9;
    FILE *fp = fopen("/proc/meminfo", "r");
    double kb = 0;
    if (fp) {
        char line[256];
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
        fclose(fp);
    }
    if (kb > 0) return kb * 1024.0;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (double)pages * (double)psz : 1e18;
}

int cli_check_memory(const cli_config *c, size_t N, double (*bytes_for)(size_t, void *), void *ctx, const char *what)
{
    double need = bytes_for(N, ctx), have = cli_available_bytes(c);
    if (need <= have) return 0;
    size_t lo = 1, hi = N; /* largest N that fits */
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (bytes_for(mid, ctx) <= have)
            lo = mid;
        else
            hi = mid - 1;
    }
    char fits[64] = "nothing fits";
    if (bytes_for(lo, ctx) <= have) snprintf(fits, sizeof fits, "N <= %zu fits", lo);
    cli_errorf("n: N = %zu needs an estimated %.3g GB (%s) but %.3g GB is available%s; %s", N, need / 1e9, what,
               have / 1e9, c->max_memory_gb > 0 ? " (--max-memory)" : "", fits);
    return CLI_EXIT_USAGE;
}

double cli_free_disk_bytes(const char *path)
{
    char dir[CLI_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path && *path ? path : ".");
    for (;;) {
        struct statvfs sv;
        if (statvfs(dir, &sv) == 0) return (double)sv.f_bavail * (double)sv.f_frsize;
        char *slash = strrchr(dir, '/');
        if (!slash) {
            if (strcmp(dir, ".") == 0) return 1e300;
            snprintf(dir, sizeof dir, ".");
        } else if (slash == dir) {
            if (dir[1] == '\0') return 1e300;
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
}
