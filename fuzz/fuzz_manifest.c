/* fuzz_manifest.c -- run manifests (manifest.json) read by cli_read_json (cli/rundir.c:
 * cli_read_text + cJSON_Parse), then consumed the way `ntkdrift plot`, `report` and `sweep` do:
 * the "command" string, train.outcome and the numeric train fields, and cJSON_Print of
 * "conventions" and "spec".  Exercises the growing text reader (empty files, embedded NULs,
 * large files) and cJSON on arbitrary text (deep nesting, huge numbers, bad escapes/UTF-16). */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "rundir.h"

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".json");
    cJSON *m = cli_read_json(path);
    if (!m) return 0;
    volatile double sink = 0;
    char cmd[32] = "";
    const cJSON *cj = cJSON_GetObjectItemCaseSensitive(m, "command");
    if (cJSON_IsString(cj)) snprintf(cmd, sizeof cmd, "%s", cj->valuestring);
    sink += (double)strlen(cmd);
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(m, "train");
    const cJSON *oc = cJSON_GetObjectItemCaseSensitive(tj, "outcome");
    sink += cJSON_IsString(oc) && strcmp(oc->valuestring, "diverged") == 0;
    sink += num(tj, "eta") + num(tj, "steps") + num(tj, "initial_loss") + num(tj, "max_loss");
    char *conv = cJSON_Print(cJSON_GetObjectItemCaseSensitive(m, "conventions"));
    char *spec = cJSON_Print(cJSON_GetObjectItemCaseSensitive(m, "spec"));
    free(conv);
    free(spec);
    cJSON_Delete(m);
    (void)sink;
    return 0;
}
