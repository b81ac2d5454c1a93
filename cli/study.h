/* study.h -- shared pieces of the experiment commands (kernel, limit, eval, profile, converge,
 * ensemble): arguments, the run's start, the (depth, width, seed) grid, streamed logs, .npz tables. */
#ifndef NTK_CLI_STUDY_H
#define NTK_CLI_STUDY_H

#include <stdio.h>

#include "config.h"
#include "rundir.h"

/* Defaults and arguments of `cmd` into c: -1 to go on, else the exit status (c freed). */
int study_parse(cli_config *c, int argc, char **argv, const char *cmd);
/* The input points X [N x n0] (cli_load_inputs), the model's spec and the thread count. */
int study_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t cap, ntk_spec *spec);
/* The network's parameters: --load-params (exit 2 when it does not fit), else drawn from the seed. */
int study_net_params(ntk_net *net, const cli_config *c);
/* A new run directory with its config.yaml; *open is set (abort also releases a failed create). */
int study_run_start(cli_run *run, const cli_config *c, const char *cmd, bool *open);
/* cli_run_finish; *open cleared when it succeeded. */
int study_run_finish(cli_run *run, const cli_config *c, const ntk_spec *spec, cJSON *extra, int argc, char **argv,
                     bool *open);
/* One message "what: <the library's error>" (just the library's with what NULL); returns rc. */
int study_fail(const char *what, int rc);
/* The manifest's data block {source, N} in extra; returns it. */
cJSON *study_data_json(cJSON *extra, const char *desc, size_t N);

typedef struct {
    int *depths, nd;
    int *widths, nw;
    int *seeds, ns;
    int *width_buf;   /* [max depth] scratch for specs */
} study_grid;

/* Grid from c (defaults: the model's depth and width, seeds 0:default_seeds).
 * Prints its own error; returns 0 or an exit status. */
int study_grid_init(study_grid *g, const cli_config *c, int default_seeds);
void study_grid_free(study_grid *g);
/* Spec of the cell (depth, width): base spec with every hidden layer `width`. */
ntk_spec study_cell_spec(study_grid *g, const ntk_spec *base, int depth, int width);
/* Peak resident memory of this process so far, MB (getrusage). */
double study_peak_rss_mb(void);
/* Open metrics.csv in the run directory for streaming (header written). */
FILE *study_open_csv(const char *dir, const char *file, const char *header);
/* A streamed log (metrics.csv, cells.csv) after a row: flushes and checks that every byte so far
 * reached the file (a full disk shows up here, not silently in a truncated log).  0 or
 * CLI_EXIT_FAIL with one message naming the file. */
int study_log_flush(FILE *fp, const char *file);
/* Closes such a log (*fp = NULL), with the same check. */
int study_log_close(FILE **fp, const char *file);
/* One member of a run's .npz: name, shape [ndim], data (NULL: left out), its manifest entry (NULL:
 * none) and its element type (NTK_F64 when left out of an initializer). */
typedef struct {
    const char *name;
    int ndim;
    size_t shape[5];
    const void *data;
    const char *meaning;
    ntk_dtype type;
} study_member;
/* Writes the members whose data is not NULL, in order, to the .npz at path, atomically (no message). */
ntk_status study_npz(const char *path, const study_member *m, int n);
/* The same as `file` in the run directory, noted written, its members with a meaning listed in the
 * manifest in the same order.  0 or CLI_EXIT_FAIL with one message. */
int study_write_npz(cli_run *run, const char *file, const study_member *m, int n);
/* Numbers v under the space-separated keys (one value each, in order) into the object o. */
void study_nums(cJSON *o, const char *keys, const double *v);
/* Does dir/file exist (dir itself for file "")? */
bool study_exists(const char *dir, const char *file);
/* Prints "ntkdrift: <message>"; returns CLI_EXIT_FAIL (cli_errorf's counterpart for failures). */
int study_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
