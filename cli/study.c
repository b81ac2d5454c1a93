/* study.c -- grids of (depth, width, seed) for the experiment commands. */
#include "study.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>

static int *dup_or_default(const int *v, int n, int dflt, int *count)
{
    int m = n > 0 ? n : 1;
    int *out = malloc((size_t)m * sizeof *out);
    if (!out) return NULL;
    if (n > 0)
        memcpy(out, v, (size_t)n * sizeof *out);
    else
        out[0] = dflt;
    *count = m;
    return out;
}

int study_grid_init(study_grid *g, const cli_config *c, int default_seeds)
{
    memset(g, 0, sizeof *g);
    g->depths = dup_or_default(c->study.depths, c->study.depths_count, c->model.depth, &g->nd);
    g->widths = dup_or_default(c->study.widths, c->study.widths_count, c->model.width, &g->nw);
    if (c->study.seeds_count > 0) {
        g->seeds = dup_or_default(c->study.seeds, c->study.seeds_count, 0, &g->ns);
    } else {
        g->ns = default_seeds;
        g->seeds = malloc((size_t)default_seeds * sizeof *g->seeds);
        for (int i = 0; g->seeds && i < default_seeds; i++) g->seeds[i] = i;
    }
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

int study_write_npz(cli_run *run, const char *file, const study_member *m, int n)
{
    char path[CLI_PATH_MAX + 64];
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(cli_run_path(run, file, path, sizeof path), &w);
    for (int i = 0; i < n && st == NTK_OK; i++) st = ntk_npz_add(w, m[i].name, m[i].type, m[i].ndim, m[i].shape, m[i].data);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else ntk_npz_abort(w);
    if (st != NTK_OK) {
        cli_errorf("writing %s: %s", file, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(run, file);
    for (int i = 0; i < n; i++)
        if (m[i].meaning)
            cli_run_artifact(run, file, m[i].name, m[i].type == NTK_I32 ? "int32" : "float64", m[i].ndim,
                             m[i].shape, m[i].meaning);
    return 0;
}

ntk_status study_write_f64(const char *path, const study_f64 *m, size_t n)
{
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    for (size_t i = 0; st == NTK_OK && i < n; i++)
        if (m[i].data) st = ntk_npz_add(w, m[i].name, NTK_F64, m[i].ndim, m[i].shape, m[i].data);
    if (st == NTK_OK) return ntk_npz_close(w);
    ntk_npz_abort(w);
    return st;
}

void study_add_numbers(cJSON *o, int count, const char *const *keys, const double *v)
{
    for (int i = 0; i < count; i++) cJSON_AddNumberToObject(o, keys[i], v[i]);
}
