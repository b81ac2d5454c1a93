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
/* One member of a run's .npz: name, type, shape [ndim], data, and its manifest entry (NULL: none). */
typedef struct {
    const char *name;
    ntk_dtype type;
    int ndim;
    const size_t *shape;
    const void *data;
    const char *meaning;
} study_member;
/* Writes the n members in order to the .npz at path (no message). */
ntk_status study_npz(const char *path, const study_member *m, int n);
/* Writes `file` in the run directory with the n members in order, notes it written and lists the
 * members in the manifest in the same order.  0 or CLI_EXIT_FAIL with one message. */
int study_write_npz(cli_run *run, const char *file, const study_member *m, int n);
/* One float64 member of an .npz written by study_write_f64 (data NULL: left out). */
typedef struct {
    const char *name;
    int ndim;
    size_t shape[3];
    const double *data;
} study_f64;
/* path atomically with the n members whose data is not NULL, in order; the caller reports a failure
 * (ntk_last_error). */
ntk_status study_write_f64(const char *path, const study_f64 *m, size_t n);
/* count numbers v under keys into the object o, in order. */
void study_add_numbers(cJSON *o, int count, const char *const *keys, const double *v);
#endif
