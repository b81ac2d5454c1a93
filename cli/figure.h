/* figure.h -- gnuplot figures a user can restyle: FIGDIR/NAME.dat (the data, gnuplot blocks),
 * FIGDIR/NAME.gp (the script; `gnuplot NAME.gp` in FIGDIR redraws) and FIGDIR/NAME.png.  The
 * scripts are the templates of cli/figures/ (compiled in) with their {{NAME}} values filled in. */
#ifndef NTK_CLI_FIGURE_H
#define NTK_CLI_FIGURE_H

#include <stddef.h>

/* A growable text buffer for .dat and .gp contents. */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} fig_text;

void fig_printf(fig_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fig_text_free(fig_text *t);

/* The files of cli/figures/, compiled in by cmake/embed_figures.cmake: NAME.gp, the script of
 * figure NAME after header.gp; NAME.html, its caption (one line); report.html.in, the start of the
 * report's page.  Ends with {NULL, NULL}. */
typedef struct {
    const char *name, *text;
} fig_file;
extern const fig_file fig_files[];
const char *fig_file_text(const char *name, const char *ext); /* NAME.EXT, or NULL */

/* Template tpl into out, each {{KEY}} replaced by its value in vars (lines "KEY=VALUE"): 0, or
 * CLI_EXIT_FAIL with a message for a KEY without a value or no tpl (NULL). */
int fig_fill(fig_text *out, const char *tpl, const fig_text *vars);

/* One figure's data (NAME.dat) and the values its script's {{KEY}}s take (fig_set). */
typedef struct {
    fig_text dat, vars;
} fig_data;
void fig_set(fig_data *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fig_data_clear(fig_data *f);

/* Write NAME.dat and NAME.gp (header.gp and NAME.gp of cli/figures/, {{name}} and f's values
 * filled in; atomically) and draw NAME.png with gnuplot (pngcairo).  Returns 0 when the files were
 * written; a missing or failing gnuplot is reported once on stderr and leaves the .dat and .gp in
 * place (still 0).  Non-zero (with a message) if writing failed or a {{KEY}} of the template has no value. */
int fig_draw(const char *figdir, const char *name, const fig_data *f);

/* FIGDIR/NAME.gp drawn again as SVG text (malloc'ed), for embedding in a report; NULL when
 * gnuplot is missing or fails. */
char *fig_svg(const char *figdir, const char *name);

/* A CSV file with a one-line header: numeric cells ("nan" allowed; text cells read as NaN). */
typedef struct {
    size_t ncols, nrows;
    char **names;  /* [ncols] */
    double *v;     /* [nrows x ncols] row-major */
} cli_table;

int cli_table_read(const char *path, cli_table *t); /* 0, or CLI_EXIT_* with a message */
int cli_table_col(const cli_table *t, const char *name); /* column index, -1 when absent */
double cli_table_at(const cli_table *t, size_t row, int col); /* NaN for col < 0 */
double *cli_table_column(const cli_table *t, const char *name); /* [nrows] copy (NaN if absent), or NULL */
void cli_table_free(cli_table *t);

#endif
