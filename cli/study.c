/* study.c -- what the commands share: arguments, data options, input points and training sets
 * (ntk_data_inputs, ntk_data_build), the train section as options, the memory check, run start,
 * grids, logs, .npz, manifest numbers. */
#include "study.h"

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

ntk_data_opts cli_data_opts(const cli_config *c)
{
    const cli_data_cfg *d = &c->data;
    const cli_train_cfg *t = &c->train;
    ntk_data_opts o = ntk_data_defaults();
    o.data = d->data, o.n = d->n > 0 ? (size_t)d->n : 0, o.all_rows = !d->n_set, o.data_seed = d->seed;
    o.n0 = c->model.n0, o.n0_given = c->model.n0_set, o.outputs = c->model.outputs;
    o.n_eval = t->n_eval > 0 ? (size_t)t->n_eval : 0, o.eval_points = d->eval_points, o.eval_data = d->eval_data;
    o.target = t->target, o.eval_target = t->eval_target, o.fourier_k = t->fourier_k, o.partial = t->target_partial;
    o.modes = t->target_modes, o.n_modes = t->target_modes_count, o.amps = t->target_amps;
    o.n_amps = t->target_amps_count, o.phases = t->target_phases, o.n_phases = t->target_phases_count;
    o.cosine = t->target_basis, o.n_cosine = t->target_basis_count;
    o.noise = t->noise_set ? (t->noise > 0 ? t->noise : 0) : -1; /* -1: the target's default */
    o.noise_seed = t->noise_seed, o.fmnist_dir = d->fmnist_dir, o.classes = d->classes;
    o.n_classes = d->classes_count, o.pixels = d->pixels;
    return o;
}

int cli_load_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t cap)
{
    *X = NULL;
    ntk_data_opts o = cli_data_opts(c);
    ntk_dataset d;
    if (ntk_data_inputs(&o, &d, desc, cap) != NTK_OK) return cli_errorf("%s", ntk_last_error());
    c->model.n0 = d.n0, c->data.n = (long)d.n_train;
    *X = d.X_train, *N = d.n_train; /* rows beyond N (a file's) are simply unused */
    d.X_train = NULL;
    ntk_dataset_clear(&d);
    return 0;
}

int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    memset(d, 0, sizeof *d);
    ntk_data_opts o = cli_data_opts(c);
    ntk_spec teacher;
    if (strcmp(c->data.data, "fmnist") != 0) { /* the model is checked before the targets, as it always was */
        int rc = cli_model_spec(&c->model, &teacher); /* the teacher's n0 and outputs come from the data */
        if (rc) return rc;
        o.teacher = &teacher;
    }
    if (ntk_data_build(&o, d, desc, cap) != NTK_OK) return cli_errorf("%s", ntk_last_error());
    c->model.n0 = d->n0, c->model.outputs = d->k;
    if (!c->train.noise_set) c->train.noise = ntk_data_noise(&o); /* the e2 target's default */
    return 0;
}

ntk_train_run_opts cli_train_opts(const cli_config *c)
{
    const cli_train_cfg *t = &c->train;
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.loss = t->loss, o.opt = t->opt, o.lr = t->lr, o.lr_frac = t->lr_frac, o.steps = t->steps;
    o.batch = (size_t)t->batch, o.momentum = t->momentum, o.checkpoint_every = t->checkpoint_every;
    o.top_k = t->top_k, o.ridge = t->ridge, o.flow = t->flow, o.blowup = t->blowup;
    o.freeze_eps = t->freeze_eps, o.freeze_k = t->freeze_k, o.freeze_delta = t->freeze_delta;
    o.seed = c->run.seed, o.threads = c->run.threads, o.per_layer = c->kernel.per_layer;
    o.nth = t->nth, o.gates_frozen = t->gates;
    return o;
}

void cli_summary_json(cJSON *parent, const char *key, const ntk_kernel_summary *s)
{
    cJSON *sj = cJSON_AddObjectToObject(parent, key);
    study_nums(sj, "trace mean_diag fro", (const double[]){s->trace, s->mean_diag, s->fro});
    if (s->have_eig) study_nums(sj, "lambda_max lambda_min", (const double[]){s->lambda_max, s->lambda_min});
}

double cli_available_bytes(const cli_run_cfg *r)
{
    return r->max_memory_gb > 0 ? r->max_memory_gb * 1e9 : ntk_mem_available_bytes();
}

int cli_check_memory(const cli_run_cfg *r, size_t N, double (*bytes_for)(size_t, void *), void *ctx, const char *what)
{
    double need = bytes_for(N, ctx), have = cli_available_bytes(r);
    if (need <= have) return 0;
    size_t fit = ntk_plan_max_points(have, bytes_for, ctx, N);
    char fits[64] = "nothing fits";
    if (fit) snprintf(fits, sizeof fits, "N <= %zu fits", fit);
    return cli_errorf("n: N = %zu needs an estimated %.3g GB (%s) but %.3g GB is available%s; %s", N, need / 1e9,
                      what, have / 1e9, r->max_memory_gb > 0 ? " (--max-memory)" : "", fits);
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
    if (!c->kernel.load_params[0]) return ntk_net_init(net, c->run.seed) != NTK_OK ? study_fail("init", CLI_EXIT_FAIL) : 0;
    return ntk_net_load_params(net, c->kernel.load_params) != NTK_OK ? study_fail("load-params", CLI_EXIT_USAGE) : 0;
}

int study_run_start(cli_run *run, const cli_config *c, const char *cmd, bool *open)
{
    int rc = cli_run_create(run, c, cmd);
    *open = true;
    return rc ? rc : cli_run_write_config(run, c);
}

void study_run_keep(cli_run *run, int rc, const char *what)
{
    if (rc == CLI_EXIT_FAIL)
        fprintf(stderr, "ntkdrift: the finished %s are kept; continue with --resume %s\n", what, run->dir);
    cli_run_release(run);
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
    if (g->depths && g->widths && g->seeds && g->width_buf) return 0;
    study_grid_free(g);
    return study_failf("out of memory");
}

void study_grid_free(study_grid *g)
{
    free(g->depths), free(g->widths), free(g->seeds), free(g->width_buf);
    memset(g, 0, sizeof *g);
}

ntk_spec study_cell_spec(study_grid *g, const ntk_spec *base, int depth, int width)
{
    ntk_spec s = *base;
    for (int l = 0; l < depth; l++) g->width_buf[l] = width;
    s.depth = depth, s.widths = g->width_buf;
    return s;
}

FILE *study_open_csv(cli_run *run, const char *file, const char *header)
{
    char path[CLI_PATH_MAX + 64];
    FILE *fp = fopen(cli_run_path(run, file, path, sizeof path), "w");
    if (!fp) {
        study_failf("cannot create %s: %s", path, strerror(errno));
        return NULL;
    }
    cli_run_wrote(run, file);
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
    if (fflush(fp) == 0 && !ferror(fp)) return 0;
    return study_failf("writing %s: %s", file, errno ? strerror(errno) : "write error");
}

int study_log_close(FILE **fp, const char *file)
{
    if (!*fp) return 0;
    int rc = study_log_flush(*fp, file);
    errno = 0;
    if (fclose(*fp) != 0 && !rc) rc = study_failf("closing %s: %s", file, errno ? strerror(errno) : "write error");
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
        cli_json_number(o, key, *v);
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
    int rc = cli_vmessage(CLI_EXIT_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}
