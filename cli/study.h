/* study.h -- what the commands share: arguments, the data (the configuration as the library's data
 * options, input points, training sets), the memory check, the run's start, the (depth, width, seed)
 * grid, streamed logs, .npz tables and manifest numbers, and `train` runs for the sweep's cells. */
#ifndef NTK_CLI_STUDY_H
#define NTK_CLI_STUDY_H

#include <stdio.h>

#include "config.h"
#include "rundir.h"

#define CLI_EXIT_DIVERGED 3 /* a complete train run whose training diverged */
/* Kernels summarised with their eigenvalues up to this side (ntk_kernel_summarize). */
#define CLI_SUMMARY_EIG_MAX_N 2048

/* Defaults and arguments of `cmd` into c: -1 to go on, else the exit status (c freed). */
int study_parse(cli_config *c, int argc, char **argv, const char *cmd);
/* The library's data options from c (they point into c; teacher is left NULL). */
ntk_data_opts cli_data_opts(const cli_config *c);
/* X: [N x n0] (malloc'ed) through ntk_data_inputs.  Sets c->n0 from the data (circle: 2, file: its
 * columns) and c->n from the rows used.  Prints one message and returns an exit status on failure. */
int cli_load_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t desc_cap);
/* The training and evaluation sets of `train`, `sweep` and `profile` through ntk_data_build: d
 * (X_train [N x n0], Y_train [N x k], X_eval [M x n0], Y_eval [M x k]); sets c->n0, c->outputs
 * (fmnist) and the e2 target's default noise.  desc: a sentence for the manifest.  Prints one
 * message and returns an exit status on failure. */
int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap);
/* The train section (with run.seed, run.threads and kernel.per_layer) as ntk_train_run's options, the
 * rest at their defaults: the one mapping, for `train`, the sweep's cells and `profile --steps`. */
ntk_train_run_opts cli_train_opts(const cli_config *c);
/* One training run from a parsed configuration (cfg->out names its directory, or results/...), in
 * cmd_train.c.  Takes over cfg's owned lists (the caller must not free them).  argc/argv are recorded
 * in the manifest.  quiet: no progress, summary or figures.  Returns 0, CLI_EXIT_DIVERGED or another
 * exit status after printing the error. */
int train_execute(const cli_config *cfg, int argc, char **argv, int quiet);
/* `kgd --compare-train` (cli/kgd_fe.c): the network's run beside operator GD with its K_0. */
int kgd_compare_train(cli_config *c, int argc, char **argv);
/* Refuses (exit 2, one message saying which N fits) a training run whose estimated peak
 * (ntk_train_run_bytes) exceeds the memory budget.  N, M: training and evaluation points. */
int train_check_memory(const cli_config *c, const ntk_spec *spec, size_t N, size_t M);
/* Bytes available to this run: --max-memory, else MemAvailable. */
double cli_available_bytes(const cli_run_cfg *r);
/* Refuses (exit 2, one message naming what fits) when bytes_for(N) exceeds the available memory;
 * `what` lists what the estimate counts. */
int cli_check_memory(const cli_run_cfg *r, size_t N, double (*bytes_for)(size_t N, void *ctx), void *ctx,
                     const char *what);
/* A kernel's summary into a manifest object under key. */
void cli_summary_json(cJSON *parent, const char *key, const ntk_kernel_summary *s);
/* The input points X [N x n0] (cli_load_inputs), the model's spec and the thread count. */
int study_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t cap, ntk_spec *spec);
/* The network's parameters: --load-params (exit 2 when it does not fit), else drawn from the seed. */
int study_net_params(ntk_net *net, const cli_config *c);
/* A new run directory with its config.yaml; *open is set (abort also releases a failed create). */
int study_run_start(cli_run *run, const cli_config *c, const char *cmd, bool *open);
/* An unfinished run that keeps what it did for --resume (cli_run_release), saying so on stderr when rc is
 * CLI_EXIT_FAIL: "the finished <what> are kept; continue with --resume DIR". */
void study_run_keep(cli_run *run, int rc, const char *what);
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
/* What the peak estimates of limit, train and converge runs depend on besides N (their cli_check_memory
 * ctx): the spec (converge: the base spec of the grid g), evaluation points, per-layer terms. */
typedef struct {
    const ntk_spec *spec;
    size_t M;
    bool per_layer;
    const study_grid *g;
} study_bytes_ctx;

/* Grid from c (defaults: the model's depth and width, seeds 0:default_seeds).
 * Prints its own error; returns 0 or an exit status. */
int study_grid_init(study_grid *g, const cli_config *c, int default_seeds);
void study_grid_free(study_grid *g);
/* Spec of the cell (depth, width): base spec with every hidden layer `width`. */
ntk_spec study_cell_spec(study_grid *g, const ntk_spec *base, int depth, int width);
/* Peak resident memory of this process so far, MB (getrusage). */
double study_peak_rss_mb(void);
/* `file` (metrics.csv, cells.csv) in the run directory for streaming, header written and noted
 * written; NULL with one message. */
FILE *study_open_csv(cli_run *run, const char *file, const char *header);
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
/* Numbers v under the space-separated keys (one value each, in order) into the object o; a value
 * that is not finite is null (cli_json_number). */
void study_nums(cJSON *o, const char *keys, const double *v);
/* Does dir/file exist (dir itself for file "")? */
bool study_exists(const char *dir, const char *file);
/* Prints "ntkdrift: <message>"; returns CLI_EXIT_FAIL (cli_errorf's counterpart for failures). */
int study_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
