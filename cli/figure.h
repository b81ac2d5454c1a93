/* figure.h -- gnuplot figures a user can restyle: FIGDIR/NAME.dat (the data, gnuplot blocks),
 * FIGDIR/NAME.gp (the script; `gnuplot NAME.gp` in FIGDIR redraws) and FIGDIR/NAME.png. */
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

/* Write NAME.dat and NAME.gp (atomically) and draw NAME.png with gnuplot (pngcairo).  The printf
 * format `body` gives the script after the standard header (terminal, output, data file `dat`).
 * Returns 0 when the files were written; a missing or failing gnuplot is reported once on
 * stderr and leaves the .dat and .gp in place (still 0).  Non-zero only if writing failed. */
int fig_draw(const char *figdir, const char *name, const fig_text *dat, const char *body, ...)
    __attribute__((format(printf, 4, 5)));

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
