/* study.c -- shared pieces of the experiment commands: arguments, run start, grids, logs, .npz. */
#include "study.h"

#include "dataset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <sys/stat.h>

int study_parse(cli_config *c, int argc, char **argv, const char *cmd)
{
    cli_config_defaults(c, cmd);
    int rc = cli_config_parse_args(c, argc, argv, cmd);
    if (rc >= 0) cli_config_free(c);
    return rc;
}

int study_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t cap, ntk_spec *spec)
{
    int rc = cli_load_inputs(c, X, N, desc, cap);
    if (!rc) rc = cli_model_spec(&c->model, spec);
    ntk_set_threads(c->run.threads);
    return rc;
}

int study_net_params(ntk_net *net, const cli_config *c)
{
    if (!c->kernel.load_params[0]) {
        ntk_net_init(net, c->run.seed);
        return 0;
    }
    return ntk_net_load_params(net, c->kernel.load_params) != NTK_OK ? study_fail("load-params", CLI_EXIT_USAGE) : 0;
}

int study_run_start(cli_run *run, const cli_config *c, const char *cmd, bool *open)
{
    int rc = cli_run_create(run, c, cmd);
    *open = true;
    return rc ? rc : cli_run_write_config(run, c);
}

int study_run_finish(cli_run *run, const cli_config *c, const ntk_spec *spec, cJSON *extra, int argc, char **argv,
                     bool *open)
{
    int rc = cli_run_finish(run, c, spec, extra, argc, argv);
    if (!rc) *open = false;
    return rc;
}

int study_fail(const char *what, int rc)
{
    if (what) cli_errorf("%s: %s", what, ntk_last_error());
    else cli_errorf("%s", ntk_last_error());
    return rc;
}

cJSON *study_data_json(cJSON *extra, const char *desc, size_t N)
{
    cJSON *dj = cJSON_AddObjectToObject(extra, "data");
    cJSON_AddStringToObject(dj, "source", desc);
    cJSON_AddNumberToObject(dj, "N", (double)N);
    return dj;
}

/* A copy of v [n], or when n = 0 the m values first, first + 1, ...; *count: its length. */
static int *dup_or_range(const int *v, int n, int first, int m, int *count)
{
    *count = n > 0 ? n : m;
    int *out = malloc((size_t)*count * sizeof *out);
    for (int i = 0; out && i < *count; i++) out[i] = n > 0 ? v[i] : first + i;
    return out;
}

int study_grid_init(study_grid *g, const cli_config *c, int default_seeds)
{
    memset(g, 0, sizeof *g);
    g->depths = dup_or_range(c->study.depths, c->study.depths_count, c->model.depth, 1, &g->nd);
    g->widths = dup_or_range(c->study.widths, c->study.widths_count, c->model.width, 1, &g->nw);
    g->seeds = dup_or_range(c->study.seeds, c->study.seeds_count, 0, default_seeds, &g->ns);
    int maxd = 1;
    for (int i = 0; g->depths && i < g->nd; i++)
        if (g->depths[i] > maxd) maxd = g->depths[i];
    if (c->study.betas_count) maxd = NTK_MAX_DEPTH; /* lines of fixed beta: depths come from beta x width */
    g->width_buf = malloc((size_t)maxd * sizeof *g->width_buf);
    if (!g->depths || !g->widths || !g->seeds || !g->width_buf) {
        study_grid_free(g);
        cli_errorf("out of memory");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

void study_grid_free(study_grid *g)
{
    free(g->depths);
    free(g->widths);
    free(g->seeds);
    free(g->width_buf);
    memset(g, 0, sizeof *g);
}

ntk_spec study_cell_spec(study_grid *g, const ntk_spec *base, int depth, int width)
{
    ntk_spec s = *base;
    for (int l = 0; l < depth; l++) g->width_buf[l] = width;
    s.depth = depth;
    s.widths = g->width_buf;
    return s;
}

FILE *study_open_csv(const char *dir, const char *file, const char *header)
{
    char path[CLI_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "w");
    if (!fp) return NULL;
    fprintf(fp, "%s\n", header);
    fflush(fp);
    return fp;
}

double study_peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kB */
}

int study_log_flush(FILE *fp, const char *file)
{
    errno = 0;
    if (fflush(fp) != 0 || ferror(fp)) {
        cli_errorf("writing %s: %s", file, errno ? strerror(errno) : "write error");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

int study_log_close(FILE **fp, const char *file)
{
    if (!*fp) return 0;
    int rc = study_log_flush(*fp, file);
    errno = 0;
    if (fclose(*fp) != 0 && !rc) {
        cli_errorf("closing %s: %s", file, errno ? strerror(errno) : "write error");
        rc = CLI_EXIT_FAIL;
    }
    *fp = NULL;
    return rc;
}

ntk_status study_npz(const char *path, const study_member *m, int n)
{
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    for (int i = 0; i < n && st == NTK_OK; i++)
        if (m[i].data) st = ntk_npz_add(w, m[i].name, m[i].type, m[i].ndim, m[i].shape, m[i].data);
    if (st == NTK_OK) return ntk_npz_close(w);
    ntk_npz_abort(w);
    return st;
}

int study_write_npz(cli_run *run, const char *file, const study_member *m, int n)
{
    char path[CLI_PATH_MAX + 64];
    if (study_npz(cli_run_path(run, file, path, sizeof path), m, n) != NTK_OK)
        return study_failf("writing %s: %s", file, ntk_last_error());
    cli_run_wrote(run, file);
    for (int i = 0; i < n; i++)
        if (m[i].meaning && m[i].data)
            cli_run_artifact(run, file, m[i].name, ntk_dtype_name(m[i].type), m[i].ndim, m[i].shape, m[i].meaning);
    return 0;
}

void study_nums(cJSON *o, const char *keys, const double *v)
{
    for (const char *k = keys; *k; v++) {
        size_t len = strcspn(k, " ");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)len, k);
        cJSON_AddNumberToObject(o, key, *v);
        k += len + (k[len] == ' ');
    }
}

bool study_exists(const char *dir, const char *file)
{
    char p[CLI_PATH_MAX + 192];
    struct stat sb;
    snprintf(p, sizeof p, "%s%s%s", dir, *file ? "/" : "", file);
    return stat(p, &sb) == 0;
}

int study_failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ntkdrift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_FAIL;
}
