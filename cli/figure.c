/* figure.c -- gnuplot figures (PNG by the pngcairo terminal) with their data and script beside
 * them, written atomically; and the header-aware CSV reader the plots read run outputs with. */
#define _GNU_SOURCE
#include "figure.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ntkdrift.h"
#include "rundir.h"

static void fig_vprintf(fig_text *t, const char *fmt, va_list ap)
{
    while (!t->oom) {
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, aq);
        va_end(aq);
        if (n >= 0 && t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? 2 * t->cap : 4096) + (size_t)(n > 0 ? n : 0) + 1;
        char *p = n < 0 ? NULL : realloc(t->s, cap);
        if (!p) t->oom = 1;
        else t->s = p, t->cap = cap;
    }
}

void fig_printf(fig_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fig_vprintf(t, fmt, ap);
    va_end(ap);
}

void fig_text_free(fig_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

const char *fig_file_text(const char *name, const char *ext)
{
    size_t n = strlen(name);
    for (const fig_file *f = fig_files; f->name; f++)
        if (strncmp(f->name, name, n) == 0 && f->name[n] == '.' && strcmp(f->name + n + 1, ext) == 0) return f->text;
    return NULL;
}

void fig_set(fig_data *f, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fig_printf(&f->vars, "%s=", key);
    fig_vprintf(&f->vars, fmt, ap);
    fig_printf(&f->vars, "\n");
    va_end(ap);
}

void fig_data_clear(fig_data *f)
{
    fig_text_free(&f->dat);
    fig_text_free(&f->vars);
}

int fig_fill(fig_text *out, const char *tpl, const fig_text *vars)
{
    if (!tpl) return cli_errorf("template: not compiled in (cli/figures/)"), CLI_EXIT_FAIL;
    for (const char *p = tpl, *o, *c; *p; p = c + 2) {
        if (!(o = strstr(p, "{{")) || !(c = strstr(o + 2, "}}"))) {
            fig_printf(out, "%s", p);
            break;
        }
        size_t n = (size_t)(c - o - 2);
        const char *v = vars->s;
        while (v && *v && (strncmp(v, o + 2, n) != 0 || v[n] != '=')) v = strchr(v, '\n') + 1;
        if (!v || !*v) {
            cli_errorf("template: {{%.*s}} has no value", (int)n, o + 2);
            return CLI_EXIT_FAIL;
        }
        fig_printf(out, "%.*s%.*s", (int)(o - p), p, (int)strcspn(v + n + 1, "\n"), v + n + 1);
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const char *ext, const char *text, size_t len)
{
    char path[CLI_PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    if (ntk_write_file_atomic(path, text, len) != NTK_OK) {
        cli_errorf("figure %s: %s", name, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* Run `gnuplot -e "[term='TERM'; ]outfile='NAME.EXT.part'" NAME.gp` in dir; its exit status (127: not
 * found).  part gets DIR/NAME.EXT.part. */
static int run_gnuplot(const char *dir, const char *name, const char *term, const char *ext, char *part, size_t cap)
{
    char script[160], out[160], expr[600];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(out, sizeof out, "%s.%s.part", name, ext);
    snprintf(part, cap, "%s/%s", dir, out);
    if (term) snprintf(expr, sizeof expr, "term='%s'; outfile='%s'", term, out);
    else snprintf(expr, sizeof expr, "outfile='%s'", out);
    fflush(NULL); /* or the child's stdio copies would print the parent's pending output again */
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* quiet: warnings such as an empty data block are not errors; a failure is reported by the
         * exit status, and `gnuplot NAME.gp` in the figure directory shows why */
        FILE *null = freopen("/dev/null", "w", stdout);
        null = freopen("/dev/null", "w", stderr);
        (void)null;
        if (chdir(dir) != 0) _exit(126);
        execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int fig_draw(const char *figdir, const char *name, const fig_data *f)
{
    static int warned;
    fig_text gp = {0}, vars = {0};
    fig_printf(&vars, "name=%s\n%s", name, f->vars.s ? f->vars.s : "");
    int rc = fig_fill(&gp, fig_file_text("header", "gp"), &vars) || fig_fill(&gp, fig_file_text(name, "gp"), &vars)
                 ? CLI_EXIT_FAIL : 0;
    if (!rc && (vars.oom || f->vars.oom || f->dat.oom || gp.oom)) {
        cli_errorf("figure %s: out of memory", name);
        rc = CLI_EXIT_FAIL;
    }
    if (!rc) rc = write_file(figdir, name, "dat", f->dat.s ? f->dat.s : "", f->dat.len);
    if (!rc) rc = write_file(figdir, name, "gp", gp.s, gp.len);
    fig_text_free(&gp);
    fig_text_free(&vars);
    if (rc) return rc;
    char part[CLI_PATH_MAX + 192], png[CLI_PATH_MAX + 128];
    int st = run_gnuplot(figdir, name, NULL, "png", part, sizeof part);
    snprintf(png, sizeof png, "%s/%s.png", figdir, name);
    if (st == 0 && rename(part, png) == 0) return 0;
    unlink(part);
    if (!warned) {
        fprintf(stderr, "ntkdrift: note: %s; figures left as .gp + .dat in %s\n",
                st == 127 ? "gnuplot is not installed (Debian: gnuplot-nox)"
                          : "gnuplot failed (run `gnuplot NAME.gp` there to see why)", figdir);
        warned = 1;
    }
    return 0;
}

char *fig_svg(const char *figdir, const char *name)
{
    char path[CLI_PATH_MAX + 192];
    int st = run_gnuplot(figdir, name, "svg size 960,640 dynamic enhanced font \"sans,11\" background rgb \"white\"",
                         "svg", path, sizeof path);
    char *svg = st == 0 ? cli_read_text(path) : NULL;
    unlink(path);
    return svg;
}

/* ------------------------------------------------------------------ tables */

int cli_table_read(const char *path, cli_table *t)
{
    memset(t, 0, sizeof *t);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        cli_errorf("%s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, rcap = 0;
    int rc = 0;
    if (getline(&line, &cap, fp) < 0) {
        cli_errorf("%s: empty file (want a header line)", path);
        rc = CLI_EXIT_USAGE;
    }
    for (char *p = line; !rc && p;) {
        char **nn = realloc(t->names, (t->ncols + 1) * sizeof *nn), *f = strsep(&p, ",");
        char *nm = nn ? strndup(f, strcspn(f, "\r\n")) : NULL;
        if (nn) t->names = nn;
        if (!nm) rc = CLI_EXIT_FAIL;
        else t->names[t->ncols++] = nm;
    }
    while (!rc && getline(&line, &cap, fp) >= 0) {
        if (line[0] == '\n' || line[0] == '#') continue;
        if (t->nrows == rcap) {
            rcap = rcap ? 2 * rcap : 64;
            double *v = realloc(t->v, rcap * t->ncols * sizeof *v);
            if (!v) {
                rc = CLI_EXIT_FAIL;
                break;
            }
            t->v = v;
        }
        char *p = line;
        for (size_t c = 0; c < t->ncols; c++) { /* missing fields and text read as NaN */
            char *f = p ? strsep(&p, ",") : "", *end;
            double x = strtod(f, &end);
            t->v[t->nrows * t->ncols + c] = end != f ? x : NAN;
        }
        t->nrows++;
    }
    free(line);
    fclose(fp);
    if (rc == CLI_EXIT_FAIL) cli_errorf("%s: out of memory", path);
    if (rc) cli_table_free(t);
    return rc;
}

int cli_table_col(const cli_table *t, const char *name)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return (int)c;
    return -1;
}

double cli_table_at(const cli_table *t, size_t row, int col)
{
    return col < 0 || row >= t->nrows ? NAN : t->v[row * t->ncols + (size_t)col];
}

double *cli_table_column(const cli_table *t, const char *name)
{
    double *v = malloc((t->nrows ? t->nrows : 1) * sizeof *v);
    int c = cli_table_col(t, name);
    for (size_t r = 0; v && r < t->nrows; r++) v[r] = cli_table_at(t, r, c);
    if (!v) cli_errorf("out of memory");
    return v;
}

void cli_table_free(cli_table *t)
{
    for (size_t c = 0; c < t->ncols; c++) free(t->names[c]);
    free(t->names);
    free(t->v);
    memset(t, 0, sizeof *t);
}
