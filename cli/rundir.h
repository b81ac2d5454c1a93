/* rundir.h -- run directories: results/<name>/<YYYYmmdd-HHMMSS>-<id>/ with a
 * 'latest' link, artifacts written atomically and listed in manifest.json
 * (written last: a run directory without it is incomplete). */
#ifndef NTK_CLI_RUNDIR_H
#define NTK_CLI_RUNDIR_H

#include <cjson/cJSON.h>

#include "config.h"

typedef struct {
    char dir[CLI_PATH_MAX];
    char parent[CLI_PATH_MAX];   /* results/<name>, where 'latest' lives ("" with --out) */
    char leaf[64];               /* <YYYYmmdd-HHMMSS>-<id> */
    bool created;                /* we created dir (remove it on abort) */
    char written[16][64];        /* files written so far (for abort) */
    int nwritten;
    cJSON *artifacts;            /* array of {file, member, shape, dtype, meaning} */
    double t0;                   /* monotonic start */
    char started[40];            /* ISO-8601 UTC */
    const char *command;
} cli_run;

/* Create the run directory (refuses a --out DIR that already holds a
 * manifest.json).  Prints its own error; returns 0 or an exit status. */
int cli_run_create(cli_run *r, const cli_config *c, const char *command);
/* Re-open an existing, incomplete run directory (for --resume): refuses one that is
 * complete (has manifest.json) or does not exist. */
int cli_run_open_existing(cli_run *r, const char *dir, const char *command);
/* path of a file inside the run directory */
const char *cli_run_path(const cli_run *r, const char *file, char *buf, size_t cap);
/* Note a file as written (so abort can remove it). */
void cli_run_wrote(cli_run *r, const char *file);
/* Describe one array artifact in the manifest. shape: [ndim]. */
void cli_run_artifact(cli_run *r, const char *file, const char *member, const char *dtype, int ndim,
                      const size_t *shape, const char *meaning);
/* Write config.yaml (resolved). */
int cli_run_write_config(cli_run *r, const cli_config *c);
/* Write run_info.json and manifest.json (manifest gets spec (when not NULL), conventions,
 * artifacts and the caller's `extra` object, which this takes over), then
 * point 'latest' at the run. */
int cli_run_finish(cli_run *r, const cli_config *c, const ntk_spec *spec, cJSON *extra, int argc, char **argv);
/* Remove what this run wrote; leaves no directory that looks complete. */
void cli_run_abort(cli_run *r);
/* Let go of an unfinished run and keep its files (a failure after the start: --resume continues). */
void cli_run_release(cli_run *r);
/* A whole text file, NUL-terminated (malloc'ed), or NULL (errno says why). */
char *cli_read_text(const char *path);
/* A JSON file (a run's manifest.json), or NULL with a message. */
cJSON *cli_read_json(const char *path);
/* Monotonic seconds. */
double cli_now(void);
/* obj[key] = v, or null when v is not finite (JSON has no NaN). */
void cli_json_number(cJSON *obj, const char *key, double v);
#endif
