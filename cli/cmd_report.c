/* cmd_report.c -- `ntkdrift report RUN_DIR... --out FILE.html`: one self-contained HTML page
 * (figures embedded as inline SVG drawn from each run's own gnuplot scripts, tables, the resolved
 * configuration and the conventions, one paragraph per figure saying what is plotted) that a
 * browser opens offline.  Links to the PNG, script and data files sit beside each figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */
#include "figure.h"
#include "plots.h"
#include "rundir.h"

static void esc(fig_text *h, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" : *s == '"' ? "&quot;" : NULL;
        if (e) fig_printf(h, "%s", e);
        else fig_printf(h, "%c", *s);
    }
}

/* A CSV file as an HTML table (at most max_rows rows). */
static void csv_table(fig_text *h, const char *path, int max_rows)
{
    char *text = cli_read_text(path);
    if (!text) return;
    fig_printf(h, "<div class=\"scroll\"><table>\n");
    int row = 0;
    for (char *line = strtok(text, "\n"); line && row <= max_rows; line = strtok(NULL, "\n"), row++) {
        fig_printf(h, "<tr>");
        for (char *p = line;;) {
            char *c = strchr(p, ',');
            if (c) *c = 0;
            fig_printf(h, row == 0 ? "<th>" : "<td>");
            esc(h, p);
            fig_printf(h, row == 0 ? "</th>" : "</td>");
            if (!c) break;
            p = c + 1;
        }
        fig_printf(h, "</tr>\n");
    }
    fig_printf(h, "</table></div>\n");
    if (row > max_rows) fig_printf(h, "<p class=\"note\">First %d rows; the whole table is in the CSV.</p>\n", max_rows);
    free(text);
}

/* Every figure of the run (figures/NAME.gp) with its caption (cli/figures/NAME.html), in the
 * order of plots.c's table. */
static void figures(fig_text *h, const char *run, const char *rel)
{
    char figdir[CLI_PATH_MAX + 32];
    snprintf(figdir, sizeof figdir, "%s/figures", run);
    const char *name, *text;
    for (size_t i = 0; (name = plot_figure_name(i)); i++) {
        text = fig_file_text(name, "html");
        char gp[CLI_PATH_MAX + 96];
        struct stat sb;
        snprintf(gp, sizeof gp, "%s/%s.gp", figdir, name);
        if (stat(gp, &sb) != 0) continue;
        fig_printf(h, "<figure>\n");
        char *svg = fig_svg(figdir, name);
        if (svg) {
            const char *start = strstr(svg, "<svg"); /* drop the XML prolog and doctype */
            fig_printf(h, "%s\n", start ? start : svg);
            free(svg);
        } else {
            fig_printf(h, "<p class=\"note\">(gnuplot was not available to draw this figure.)</p>\n");
        }
        fig_printf(h, "<figcaption><b>%s.</b> %s<br><span class=\"files\">Files: ", name, text);
        static const char *ext[3] = {"png", "gp", "dat"};
        for (int e = 0; e < 3; e++) {
            fig_printf(h, "%s<a href=\"", e ? " &middot; " : "");
            esc(h, rel);
            fig_printf(h, "/figures/%s.%s\">%s.%s</a>", name, ext[e], name, ext[e]);
        }
        fig_printf(h, "</span></figcaption>\n</figure>\n");
    }
}

static int section(fig_text *h, const char *run, const char *rel)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", run);
    if (access(path, F_OK) != 0) {
        cli_errorf("report: %s is not a finished ntkdrift run (no manifest.json)", run);
        return CLI_EXIT_USAGE;
    }
    cJSON *m = cli_read_json(path); /* says what is wrong with it */
    if (!m) return CLI_EXIT_USAGE;
    int rc = plot_run(run); /* (re)draw so the figures match the files */
    if (rc) {
        cJSON_Delete(m);
        return rc;
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
    fig_printf(h, "<section>\n<h2>%s: ", cJSON_IsString(cmd) ? cmd->valuestring : "run");
    esc(h, rel);
    fig_printf(h, "</h2>\n");
    figures(h, run, rel);
    static const struct {
        const char *file, *title;
        int rows;
    } TABLES[4] = {{"cells.csv", "cells.csv", 200}, {"metrics.csv", "metrics.csv (one row per snapshot)", 60},
                   {"hierarchy_summary.csv", "hierarchy_summary.csv (one row per width)", 60},
                   {"slopes.csv", "slopes.csv (log-log slopes in width)", 60}};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", run, TABLES[i].file);
        if (access(path, F_OK) != 0) continue;
        fig_printf(h, "<h3>%s</h3>\n", TABLES[i].title);
        csv_table(h, path, TABLES[i].rows);
    }
    snprintf(path, sizeof path, "%s/config.yaml", run);
    char *cfg = cli_read_text(path);
    fig_printf(h, "<details><summary>Configuration (config.yaml)</summary><pre>");
    esc(h, cfg ? cfg : "(missing)");
    fig_printf(h, "</pre></details>\n");
    free(cfg);
    char *conv = cJSON_Print(cJSON_GetObjectItemCaseSensitive(m, "conventions"));
    char *spec = cJSON_Print(cJSON_GetObjectItemCaseSensitive(m, "spec"));
    fig_printf(h, "<details><summary>Conventions and model (manifest.json)</summary><pre>");
    esc(h, conv ? conv : "");
    fig_printf(h, "\n");
    esc(h, spec ? spec : "");
    fig_printf(h, "</pre></details>\n</section>\n");
    free(conv);
    free(spec);
    cJSON_Delete(m);
    return 0;
}

/* The path of `run` relative to the directory of `out` when run lies below it, else absolute. */
static void relative(const char *out, const char *run, char *buf, size_t cap)
{
    char ao[CLI_PATH_MAX], ar[CLI_PATH_MAX], od[CLI_PATH_MAX];
    if (!realpath(run, ar)) snprintf(ar, sizeof ar, "%s", run);
    snprintf(od, sizeof od, "%s", out);
    char *slash = strrchr(od, '/');
    if (slash) *slash = 0;
    else snprintf(od, sizeof od, ".");
    if (!realpath(od, ao)) snprintf(ao, sizeof ao, "%s", od);
    size_t n = strlen(ao);
    if (strncmp(ar, ao, n) == 0 && ar[n] == '/') snprintf(buf, cap, "%s", ar + n + 1);
    else snprintf(buf, cap, "%s", ar);
}

int cmd_report(int argc, char **argv)
{
    const char *out = "report.html";
    const char *runs[64];
    int nruns = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: ntkdrift report RUN_DIR... [--out FILE.html]\n\n"
                   "One self-contained HTML page for the runs: every figure (inline SVG drawn from the run's\n"
                   "gnuplot scripts, with links to the PNG, script and data), a paragraph saying what each shows,\n"
                   "the cells/metrics tables, the resolved configuration and the conventions.  [report.html]\n");
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) {
                cli_errorf("--out: missing value");
                return CLI_EXIT_USAGE;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-') {
            cli_errorf("report: unknown flag '%s' (usage: ntkdrift report RUN_DIR... --out FILE.html)", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (nruns < 64) {
            runs[nruns++] = argv[i];
        } else {
            cli_errorf("report: at most 64 runs");
            return CLI_EXIT_USAGE;
        }
    }
    if (!nruns) {
        cli_errorf("report: give at least one run directory (usage: ntkdrift report RUN_DIR... --out FILE.html)");
        return CLI_EXIT_USAGE;
    }
    fig_text h = {0}, vars = {0}; /* the page starts with cli/figures/report.html.in */
    fig_printf(&vars, "version=%s\nruns=%d\n", ntk_version(), nruns);
    int rc = fig_fill(&h, fig_file_text("report", "html.in"), &vars);
    fig_text_free(&vars);
    for (int i = 0; i < nruns && !rc; i++) {
        char rel[CLI_PATH_MAX];
        relative(out, runs[i], rel, sizeof rel);
        rc = section(&h, runs[i], rel);
    }
    fig_printf(&h, "</body></html>\n");
    if (!rc && h.oom) {
        cli_errorf("report: out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (!rc && ntk_write_file_atomic(out, h.s, h.len) != NTK_OK) {
        cli_errorf("report: %s", ntk_last_error());
        rc = CLI_EXIT_FAIL;
    }
    fig_text_free(&h);
    if (!rc) printf("report: %s\n", out);
    return rc;
}
