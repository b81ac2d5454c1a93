/* study.h -- shared pieces of the grid experiments (profile, converge): the
 * (depth, width, seed) grid from the configuration and per-cell networks. */
#ifndef NTK_CLI_STUDY_H
#define NTK_CLI_STUDY_H

#include <stdio.h>

#include "config.h"
#include "rundir.h"

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
