/* config.c -- defaults, YAML (libcyaml) and command-line flags for the CLI.
 * Precedence: built-in defaults < --config FILE < flags. */
#include "config.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ntkdrift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_config_defaults(cli_config *c, const char *command)
{
    memset(c, 0, sizeof *c);
    ntk_spec s = ntk_spec_default();
    c->depth = s.depth;
    c->width = 256;
    c->n0 = s.n0;
    c->outputs = s.outputs;
    c->act = s.act;
    c->param = s.param;
    c->sw2 = s.sw2;
    c->sw2_out = s.sw2_out;
    c->sb = s.sb;
    c->bias = s.bias;
    c->bias_out = s.bias_out;
    c->first_layer = s.first_layer;
    snprintf(c->data, sizeof c->data, "gaussian");
    c->n = 128;
    c->seed = 0;
    c->threads = 0;
    snprintf(c->name, sizeof c->name, "%s", command);
    snprintf(c->command, sizeof c->command, "%s", command);
    snprintf(c->results, sizeof c->results, "results");
    c->dtype = NTK_F64;
    snprintf(c->target, sizeof c->target, "fourier");
    c->n_eval = 0;
    c->steps = 1000;
    c->lr = 0;
    c->lr_frac = 0.5;
    c->loss = NTK_LOSS_MEAN;
    c->opt = NTK_OPT_GD;
    c->batch = 0;
    c->momentum = 0.9;
    snprintf(c->snapshots, sizeof c->snapshots, "log:20");
    c->checkpoint_every = 0;
    c->ridge = 1e-8;
    c->top_k = 10;
    c->fourier_k = 4;
    c->noise = 0;
    c->blowup = 1e6;
}

void cli_config_free(cli_config *c)
{
    free(c->widths);
    c->widths = NULL;
    c->widths_count = 0;
    free(c->study_widths);
    free(c->study_depths);
    free(c->seeds);
    free(c->classes);
    c->study_widths = c->study_depths = c->seeds = c->classes = NULL;
    c->study_widths_count = c->study_depths_count = c->seeds_count = c->classes_count = 0;
}

/* ------------------------------------------------------------------ YAML */

typedef struct {
    int *depth, *width, *n0, *outputs;
    int *widths;
    unsigned widths_count;
    char *act, *param, *bias, *bias_out, *first_layer;
    double *sw2, *sw2_out, *sb;
} y_model;

typedef struct {
    char *data;
    int64_t *n;
    int *classes;
    unsigned classes_count;
    char *pixels;
} y_data;

typedef struct {
    int *widths, *depths, *seeds;
    unsigned widths_count, depths_count, seeds_count;
} y_study;

typedef struct {
    uint64_t *seed;
    int *threads;
    char *out, *name, *results;
    double *max_memory_gb;
} y_run;

typedef struct {
    bool *per_layer, *save_params;
    char *dtype, *load_params;
} y_kernel;

typedef struct {
    char *target, *loss, *opt, *snapshots, *resume;
    int64_t *n_eval, *steps, *batch, *checkpoint_every;
    double *lr, *lr_frac, *momentum, *ridge, *noise, *blowup;
    int *top_k, *fourier_k;
    bool *flow;
} y_train;

typedef struct {
    y_model *model;
    y_data *data;
    y_run *run;
    y_kernel *kernel;
    y_study *study;
    y_train *train;
} y_root;

#define OPT CYAML_FLAG_OPTIONAL
static const cyaml_schema_value_t int_entry = {CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int)};

static const cyaml_schema_field_t model_fields[] = {
    CYAML_FIELD_INT_PTR("depth", OPT, y_model, depth),
    CYAML_FIELD_INT_PTR("width", OPT, y_model, width),
    CYAML_FIELD_SEQUENCE("widths", CYAML_FLAG_POINTER | OPT, y_model, widths, &int_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_INT_PTR("n0", OPT, y_model, n0),
    CYAML_FIELD_INT_PTR("outputs", OPT, y_model, outputs),
    CYAML_FIELD_STRING_PTR("act", OPT, y_model, act, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("param", OPT, y_model, param, 0, CYAML_UNLIMITED),
    CYAML_FIELD_FLOAT_PTR("sw2", OPT, y_model, sw2),
    CYAML_FIELD_FLOAT_PTR("sw2_out", OPT, y_model, sw2_out),
    CYAML_FIELD_FLOAT_PTR("sb", OPT, y_model, sb),
    CYAML_FIELD_STRING_PTR("bias", OPT, y_model, bias, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("bias_out", OPT, y_model, bias_out, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("first_layer", OPT, y_model, first_layer, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t data_fields[] = {
    CYAML_FIELD_STRING_PTR("data", OPT, y_data, data, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_INT_PTR("n", OPT, y_data, n),
    CYAML_FIELD_SEQUENCE("classes", CYAML_FLAG_POINTER | OPT, y_data, classes, &int_entry, 1, 10),
    CYAML_FIELD_STRING_PTR("pixels", OPT, y_data, pixels, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t study_fields[] = {
    CYAML_FIELD_SEQUENCE("widths", CYAML_FLAG_POINTER | OPT, y_study, widths, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("depths", CYAML_FLAG_POINTER | OPT, y_study, depths, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("seeds", CYAML_FLAG_POINTER | OPT, y_study, seeds, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t run_fields[] = {
    CYAML_FIELD_UINT_PTR("seed", OPT, y_run, seed),
    CYAML_FIELD_INT_PTR("threads", OPT, y_run, threads),
    CYAML_FIELD_STRING_PTR("out", OPT, y_run, out, 0, CLI_PATH_MAX - 1),
    CYAML_FIELD_STRING_PTR("name", OPT, y_run, name, 1, 127),
    CYAML_FIELD_STRING_PTR("results", OPT, y_run, results, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_FLOAT_PTR("max_memory_gb", OPT, y_run, max_memory_gb),
    CYAML_FIELD_END};

static const cyaml_schema_field_t kernel_fields[] = {
    CYAML_FIELD_BOOL_PTR("per_layer", OPT, y_kernel, per_layer),
    CYAML_FIELD_BOOL_PTR("save_params", OPT, y_kernel, save_params),
    CYAML_FIELD_STRING_PTR("dtype", OPT, y_kernel, dtype, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("load_params", OPT, y_kernel, load_params, 0, CLI_PATH_MAX - 1),
    CYAML_FIELD_END};

static const cyaml_schema_field_t train_fields[] = {
    CYAML_FIELD_STRING_PTR("target", OPT, y_train, target, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_STRING_PTR("loss", OPT, y_train, loss, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("opt", OPT, y_train, opt, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("snapshots", OPT, y_train, snapshots, 1, 255),
    CYAML_FIELD_STRING_PTR("resume", OPT, y_train, resume, 0, CLI_PATH_MAX - 1),
    CYAML_FIELD_INT_PTR("n_eval", OPT, y_train, n_eval),
    CYAML_FIELD_INT_PTR("steps", OPT, y_train, steps),
    CYAML_FIELD_INT_PTR("batch", OPT, y_train, batch),
    CYAML_FIELD_INT_PTR("checkpoint_every", OPT, y_train, checkpoint_every),
    CYAML_FIELD_FLOAT_PTR("lr", OPT, y_train, lr),
    CYAML_FIELD_FLOAT_PTR("lr_frac", OPT, y_train, lr_frac),
    CYAML_FIELD_FLOAT_PTR("momentum", OPT, y_train, momentum),
    CYAML_FIELD_FLOAT_PTR("ridge", OPT, y_train, ridge),
    CYAML_FIELD_FLOAT_PTR("noise", OPT, y_train, noise),
    CYAML_FIELD_FLOAT_PTR("blowup", OPT, y_train, blowup),
    CYAML_FIELD_INT_PTR("top_k", OPT, y_train, top_k),
    CYAML_FIELD_INT_PTR("fourier_k", OPT, y_train, fourier_k),
    CYAML_FIELD_BOOL_PTR("flow", OPT, y_train, flow),
    CYAML_FIELD_END};

static const cyaml_schema_field_t root_fields[] = {
    CYAML_FIELD_MAPPING_PTR("model", OPT, y_root, model, model_fields),
    CYAML_FIELD_MAPPING_PTR("data", OPT, y_root, data, data_fields),
    CYAML_FIELD_MAPPING_PTR("run", OPT, y_root, run, run_fields),
    CYAML_FIELD_MAPPING_PTR("kernel", OPT, y_root, kernel, kernel_fields),
    CYAML_FIELD_MAPPING_PTR("study", OPT, y_root, study, study_fields),
    CYAML_FIELD_MAPPING_PTR("train", OPT, y_root, train, train_fields),
    CYAML_FIELD_END};

static const cyaml_schema_value_t root_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, y_root, root_fields)};

/* libcyaml reports an error as several log lines: the message, then a
 * backtrace from the innermost field outwards.  Fold them into one line:
 * "<line>:<col>: <section.key>: <message>". */
typedef struct {
    char msg[256];
    char path[256];
    int line, col;
} y_log;

static void y_log_fn(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    if (level < CYAML_LOG_ERROR) return;
    y_log *lg = ctx;
    char text[512];
    vsnprintf(text, sizeof text, fmt, args);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = '\0';
    const char *p = text;
    if (strncmp(p, "Load: ", 6) == 0) p += 6;
    while (*p == ' ') p++;
    if (strncmp(p, "Backtrace", 9) == 0) return;
    const char *field = strstr(p, "in mapping field '");
    if (field) {
        field += strlen("in mapping field '");
        const char *q = strchr(field, '\'');
        if (!q) return;
        char joined[512];
        int seglen = (int)(q - field) < 100 ? (int)(q - field) : 100;
        snprintf(joined, sizeof joined, "%.*s%s%.255s", seglen, field, lg->path[0] ? "." : "", lg->path);
        snprintf(lg->path, sizeof lg->path, "%.255s", joined);
    }
    int ln, cl;
    const char *lc = strstr(p, "(line: ");
    if (lc && sscanf(lc, "(line: %d, column: %d)", &ln, &cl) == 2 && lg->line == 0) {
        lg->line = ln;
        lg->col = cl;
    }
    if (!field && strncmp(p, "in mapping", 10) != 0 && strncmp(p, "in sequence", 11) != 0 && !lg->msg[0])
        snprintf(lg->msg, sizeof lg->msg, "%.255s", p);
}

static int enum_from_yaml(const char *path, const char *key, const char *val, ntk_status st)
{
    (void)val;
    if (st == NTK_OK) return 0;
    cli_errorf("config %s: %s: %s", path, key, ntk_last_error());
    return CLI_EXIT_USAGE;
}

static int copy_ints(const int *src, unsigned n, int **dst, int *count)
{
    int *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
    memcpy(v, src, n * sizeof *v);
    free(*dst);
    *dst = v;
    *count = (int)n;
    return 0;
}

static int apply_yaml(cli_config *c, const y_root *y, const char *path)
{
    int rc = 0;
    if (y->model) {
        const y_model *m = y->model;
        if (m->depth) c->depth = *m->depth;
        if (m->width) c->width = *m->width;
        if (m->widths && (rc = copy_ints(m->widths, m->widths_count, &c->widths, &c->widths_count))) return rc;
        if (m->n0) {
            c->n0 = *m->n0;
            c->n0_set = true;
        }
        if (m->outputs) c->outputs = *m->outputs;
        if (m->sw2) c->sw2 = *m->sw2;
        if (m->sw2_out) c->sw2_out = *m->sw2_out;
        if (m->sb) c->sb = *m->sb;
        if (!rc && m->act) rc = enum_from_yaml(path, "model.act", m->act, ntk_act_parse(m->act, &c->act));
        if (!rc && m->param) rc = enum_from_yaml(path, "model.param", m->param, ntk_param_parse(m->param, &c->param));
        if (!rc && m->bias) rc = enum_from_yaml(path, "model.bias", m->bias, ntk_bias_parse(m->bias, &c->bias));
        if (!rc && m->bias_out) {
            rc = enum_from_yaml(path, "model.bias_out", m->bias_out, ntk_bias_parse(m->bias_out, &c->bias_out));
            c->bias_out_set = true;
        }
        if (!rc && m->first_layer)
            rc = enum_from_yaml(path, "model.first_layer", m->first_layer,
                                ntk_first_layer_parse(m->first_layer, &c->first_layer));
    }
    if (!rc && y->data) {
        if (y->data->data) snprintf(c->data, sizeof c->data, "%s", y->data->data);
        if (y->data->n) {
            if (*y->data->n <= 0 || *y->data->n > INT_MAX) {
                cli_errorf("config %s: data.n must be a positive integer, got %lld", path, (long long)*y->data->n);
                return CLI_EXIT_USAGE;
            }
            c->n = (long)*y->data->n;
            c->n_set = true;
        }
    }
    if (!rc && y->data && y->data->classes) {
        for (unsigned i = 0; i < y->data->classes_count; i++)
            if (y->data->classes[i] < 0 || y->data->classes[i] > 9) {
                cli_errorf("config %s: data.classes: class %d is not in 0..9", path, y->data->classes[i]);
                return CLI_EXIT_USAGE;
            }
        if ((rc = copy_ints(y->data->classes, y->data->classes_count, &c->classes, &c->classes_count))) return rc;
    }
    if (!rc && y->data && y->data->pixels) {
        if (strcmp(y->data->pixels, "unit") == 0)
            c->pixels = NTK_PIXELS_UNIT;
        else if (strcmp(y->data->pixels, "standardize") == 0)
            c->pixels = NTK_PIXELS_STANDARDIZE;
        else {
            cli_errorf("config %s: data.pixels: unknown value '%s' (expected unit|standardize)", path, y->data->pixels);
            return CLI_EXIT_USAGE;
        }
    }
    if (!rc && y->study) {
        const y_study *st = y->study;
        const char *bad = NULL;
        for (unsigned i = 0; st->widths && i < st->widths_count && !bad; i++)
            if (st->widths[i] <= 0) bad = "study.widths";
        for (unsigned i = 0; st->depths && i < st->depths_count && !bad; i++)
            if (st->depths[i] < 0) bad = "study.depths";
        for (unsigned i = 0; st->seeds && i < st->seeds_count && !bad; i++)
            if (st->seeds[i] < 0) bad = "study.seeds";
        if (bad) {
            cli_errorf("config %s: %s: entries must be %s", path, bad,
                       strcmp(bad, "study.widths") == 0 ? "positive" : "non-negative");
            return CLI_EXIT_USAGE;
        }
        if (st->widths && (rc = copy_ints(st->widths, st->widths_count, &c->study_widths, &c->study_widths_count)))
            return rc;
        if (st->depths && (rc = copy_ints(st->depths, st->depths_count, &c->study_depths, &c->study_depths_count)))
            return rc;
        if (st->seeds && (rc = copy_ints(st->seeds, st->seeds_count, &c->seeds, &c->seeds_count))) return rc;
    }
    if (!rc && y->train) {
        const y_train *t = y->train;
        if (t->target) snprintf(c->target, sizeof c->target, "%s", t->target);
        if (t->snapshots) snprintf(c->snapshots, sizeof c->snapshots, "%s", t->snapshots);
        if (t->resume) snprintf(c->resume, sizeof c->resume, "%s", t->resume);
        if (t->n_eval) c->n_eval = (long)*t->n_eval;
        if (t->steps) c->steps = (long)*t->steps;
        if (t->batch) c->batch = (long)*t->batch;
        if (t->checkpoint_every) c->checkpoint_every = (long)*t->checkpoint_every;
        if (t->lr) {
            c->lr = *t->lr;
            c->lr_frac = 0;
        }
        if (t->lr_frac) {
            c->lr_frac = *t->lr_frac;
            c->lr = 0;
        }
        if (t->momentum) c->momentum = *t->momentum;
        if (t->ridge) c->ridge = *t->ridge;
        if (t->noise) c->noise = *t->noise;
        if (t->blowup) c->blowup = *t->blowup;
        if (t->top_k) c->top_k = *t->top_k;
        if (t->fourier_k) c->fourier_k = *t->fourier_k;
        if (t->flow) c->flow = *t->flow;
        if (t->loss && ntk_loss_parse(t->loss, &c->loss) != NTK_OK) {
            cli_errorf("config %s: train.loss: %s", path, ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        if (t->opt && ntk_opt_parse(t->opt, &c->opt) != NTK_OK) {
            cli_errorf("config %s: train.opt: %s", path, ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        if (c->n_eval < 0 || c->steps < 0 || c->batch < 0 || c->checkpoint_every < 0 || c->top_k < 1 ||
            c->fourier_k < 1) {
            cli_errorf("config %s: train: n_eval, steps, batch, checkpoint_every must be >= 0 and top_k, "
                       "fourier_k >= 1", path);
            return CLI_EXIT_USAGE;
        }
    }
    if (!rc && y->run) {
        const y_run *r = y->run;
        if (r->seed) c->seed = *r->seed;
        if (r->threads) c->threads = *r->threads;
        if (r->out) snprintf(c->out, sizeof c->out, "%s", r->out);
        if (r->name) snprintf(c->name, sizeof c->name, "%s", r->name);
        if (r->results) snprintf(c->results, sizeof c->results, "%s", r->results);
        if (r->max_memory_gb) c->max_memory_gb = *r->max_memory_gb;
    }
    if (!rc && y->kernel) {
        const y_kernel *k = y->kernel;
        if (k->per_layer) c->per_layer = *k->per_layer;
        if (k->save_params) c->save_params = *k->save_params;
        if (k->load_params) snprintf(c->load_params, sizeof c->load_params, "%s", k->load_params);
        if (k->dtype) {
            if (strcmp(k->dtype, "f64") == 0)
                c->dtype = NTK_F64;
            else if (strcmp(k->dtype, "f32") == 0)
                c->dtype = NTK_F32;
            else {
                cli_errorf("config %s: kernel.dtype: unknown value '%s' (expected f64|f32)", path, k->dtype);
                rc = CLI_EXIT_USAGE;
            }
        }
    }
    return rc;
}

int cli_config_load_yaml(cli_config *c, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cli_errorf("config %s: cannot open: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
        if (len == cap) {
            if (cap >= (1u << 24)) { /* 16 MiB is no config file */
                free(buf);
                fclose(fp);
                cli_errorf("config %s: file too large for a configuration", path);
                return CLI_EXIT_USAGE;
            }
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else
                buf = nb;
        }
    }
    int read_err = ferror(fp);
    fclose(fp);
    if (!buf || read_err) {
        free(buf);
        cli_errorf("config %s: cannot read", path);
        return CLI_EXIT_USAGE;
    }
    snprintf(c->config_path, sizeof c->config_path, "%s", path);
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r')) i++;
    if (i == len) { /* empty file: nothing to override */
        free(buf);
        return 0;
    }
    y_log lg = {{0}, {0}, 0, 0};
    cyaml_config_t cfg = {.log_fn = y_log_fn, .log_ctx = &lg, .mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR,
                          .flags = CYAML_CFG_NO_ALIAS};
    y_root *y = NULL;
    cyaml_err_t err = cyaml_load_data((const uint8_t *)buf, len, &cfg, &root_schema, (cyaml_data_t **)&y, NULL);
    free(buf);
    if (err != CYAML_OK) {
        char where[32] = "";
        if (lg.line) snprintf(where, sizeof where, ":%d:%d", lg.line, lg.col);
        cli_errorf("config %s%s: %s%s%s", path, where, lg.path[0] ? lg.path : "", lg.path[0] ? ": " : "",
                   lg.msg[0] ? lg.msg : cyaml_strerror(err));
        return CLI_EXIT_USAGE;
    }
    int rc = apply_yaml(c, y, path);
    cyaml_free(&cfg, &root_schema, y, 0);
    return rc;
}

/* ----------------------------------------------------------------- flags */

static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || end == s || *end != '\0' || v < lo || v > hi) {
        cli_errorf("--%s: expected an integer in [%ld, %ld], got '%s'", flag, lo, hi, s);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    long v;
    int rc = parse_long(flag, s, lo, hi, &v);
    if (!rc) *out = (int)v;
    return rc;
}

static int parse_double(const char *flag, const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || end == s || *end != '\0' || !isfinite(v)) {
        cli_errorf("--%s: expected a finite number, got '%s'", flag, s);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

static int parse_u64(const char *flag, const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] == '-') {
        cli_errorf("--%s: expected a non-negative integer, got '%s'", flag, s);
        return CLI_EXIT_USAGE;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || end == s || *end != '\0') {
        cli_errorf("--%s: expected a non-negative integer, got '%s'", flag, s);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* Comma-separated integers in [lo, hi]; an item "a:b" expands to a, a+1, ..., b-1
 * (so --seeds 0:16 means 16 seeds).  *out is malloc'ed. */
static int parse_int_list(const char *flag, const char *s, int lo, int hi, int **out, int *count)
{
    int cap = 16, n = 0;
    int *v = malloc((size_t)cap * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
    const char *p = s;
    for (;;) {
        char item[64];
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int a, b;
        if (len == 0 || len >= sizeof item) goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        if (colon) {
            *colon = '\0';
            if (parse_int(flag, item, lo, hi, &a) || parse_int(flag, colon + 1, lo, hi, &b)) goto fail;
            if (b <= a || b - a > 10000000) goto bad;
        } else {
            if (parse_int(flag, item, lo, hi, &a)) goto fail;
            b = a + 1;
        }
        for (int x = a; x < b; x++) {
            if (n == cap) {
                int *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
                if (!nv) goto fail;
                v = nv;
            }
            v[n++] = x;
        }
        if (!comma) break;
        p = comma + 1;
    }
    free(*out);
    *out = v;
    *count = n;
    return 0;
bad:
    cli_errorf("--%s: expected a comma-separated list of integers in [%d, %d] (a:b = a..b-1), got '%s'", flag, lo, hi, s);
fail:
    free(v);
    return CLI_EXIT_USAGE;
}

static bool is_study(const char *command)
{
    return strcmp(command, "profile") == 0 || strcmp(command, "converge") == 0;
}

enum {
    OPT_CONFIG = 256, OPT_DEPTH, OPT_WIDTH, OPT_WIDTHS, OPT_N0, OPT_OUTPUTS, OPT_ACT, OPT_PARAM, OPT_SW2,
    OPT_SW2_OUT, OPT_SB, OPT_BIAS, OPT_BIAS_OUT, OPT_FIRST, OPT_DATA, OPT_N, OPT_SEED, OPT_PER_LAYER,
    OPT_DTYPE, OPT_SAVE_PARAMS, OPT_LOAD_PARAMS, OPT_OUT, OPT_NAME, OPT_RESULTS, OPT_THREADS, OPT_MAXMEM,
    OPT_DEPTHS, OPT_SEEDS, OPT_CLASSES, OPT_PIXELS, OPT_TARGET, OPT_NEVAL, OPT_STEPS, OPT_LR, OPT_LRFRAC,
    OPT_LOSS, OPT_OPT, OPT_BATCH, OPT_MOMENTUM, OPT_SNAPSHOTS, OPT_CKPT, OPT_RESUME, OPT_RIDGE, OPT_TOPK,
    OPT_FOURIERK, OPT_NOISE, OPT_BLOWUP, OPT_FLOW, OPT_HELP
};

static const struct option long_opts[] = {
    {"config", required_argument, 0, OPT_CONFIG},     {"depth", required_argument, 0, OPT_DEPTH},
    {"width", required_argument, 0, OPT_WIDTH},       {"widths", required_argument, 0, OPT_WIDTHS},
    {"n0", required_argument, 0, OPT_N0},             {"outputs", required_argument, 0, OPT_OUTPUTS},
    {"act", required_argument, 0, OPT_ACT},           {"param", required_argument, 0, OPT_PARAM},
    {"sw2", required_argument, 0, OPT_SW2},           {"sw2-out", required_argument, 0, OPT_SW2_OUT},
    {"sb", required_argument, 0, OPT_SB},             {"bias", required_argument, 0, OPT_BIAS},
    {"bias-out", required_argument, 0, OPT_BIAS_OUT}, {"first-layer", required_argument, 0, OPT_FIRST},
    {"data", required_argument, 0, OPT_DATA},         {"n", required_argument, 0, OPT_N},
    {"seed", required_argument, 0, OPT_SEED},         {"per-layer", no_argument, 0, OPT_PER_LAYER},
    {"dtype", required_argument, 0, OPT_DTYPE},       {"save-params", no_argument, 0, OPT_SAVE_PARAMS},
    {"load-params", required_argument, 0, OPT_LOAD_PARAMS}, {"out", required_argument, 0, OPT_OUT},
    {"name", required_argument, 0, OPT_NAME},         {"results", required_argument, 0, OPT_RESULTS},
    {"threads", required_argument, 0, OPT_THREADS},   {"max-memory", required_argument, 0, OPT_MAXMEM},
    {"depths", required_argument, 0, OPT_DEPTHS},     {"seeds", required_argument, 0, OPT_SEEDS},
    {"classes", required_argument, 0, OPT_CLASSES},   {"pixels", required_argument, 0, OPT_PIXELS},
    {"target", required_argument, 0, OPT_TARGET},     {"n-eval", required_argument, 0, OPT_NEVAL},
    {"steps", required_argument, 0, OPT_STEPS},       {"lr", required_argument, 0, OPT_LR},
    {"lr-frac", required_argument, 0, OPT_LRFRAC},    {"loss", required_argument, 0, OPT_LOSS},
    {"opt", required_argument, 0, OPT_OPT},           {"batch", required_argument, 0, OPT_BATCH},
    {"momentum", required_argument, 0, OPT_MOMENTUM}, {"snapshots", required_argument, 0, OPT_SNAPSHOTS},
    {"checkpoint-every", required_argument, 0, OPT_CKPT}, {"resume", required_argument, 0, OPT_RESUME},
    {"ridge", required_argument, 0, OPT_RIDGE},       {"top-k", required_argument, 0, OPT_TOPK},
    {"fourier-k", required_argument, 0, OPT_FOURIERK}, {"noise", required_argument, 0, OPT_NOISE},
    {"blowup", required_argument, 0, OPT_BLOWUP},     {"flow", no_argument, 0, OPT_FLOW},
    {"help", no_argument, 0, OPT_HELP},               {0, 0, 0, 0}};

static void print_help(const char *command)
{
    printf("usage: ntkdrift %s [--config FILE.yaml] [flags]\n\n", command);
    if (strcmp(command, "limit") == 0)
        printf("Infinite-width NNGP and NTK of the network below on a dataset (limit.npz: ntk, nngp, X;\n"
               "standard parameterization also ntk_normalized; --per-layer: ntk_layers). float64 only;\n"
               "--dtype, --save-params and --load-params do not apply.\n");
    else
        printf("Empirical NTK of a fully-connected network on a dataset.\n");
    printf("Writes a run directory "
           "results/<name>/<YYYYmmdd-HHMMSS>-<id>/ (and a 'latest' link), or exactly --out DIR.\n"
           "Every flag is also a YAML key under its section (model:, data:, run:, kernel:),\n"
           "with '-' written as '_'. Flags override the file; the file overrides defaults.\n\n"
           "model:\n"
           "  --depth L            hidden layers (weight layers d = L+1; 0 = linear model) [3]\n"
           "  --width n            width of every hidden layer [256]\n"
           "  --widths n1,...,nL   per-layer widths (overrides --width; sets depth if --depth absent)\n"
           "  --n0 D               input dimension (circle data: 2; .npy data: its columns) [16]\n"
           "  --outputs k          network outputs [1]\n"
           "  --act A              relu|erf|tanh|gelu|identity [relu]\n"
           "  --param P            ntk|standard [ntk]\n"
           "  --sw2 S              sigma_w^2 of hidden layers [2]\n"
           "  --sw2-out S          sigma_w^2 of the readout [1]\n"
           "  --sb S               bias multiplier c_b (ntk) / bias init std (standard) [1]\n"
           "  --bias B             none|normal|zero: none = no bias parameters; zero = trainable,\n"
           "                       initialised at 0 [zero]\n"
           "  --bias-out B         readout bias (default: as --bias)\n"
           "  --first-layer F      fan_in|none: first layer with or without 1/sqrt(n0) [fan_in]\n"
           "data:\n"
           "  --data D             gaussian (rows of norm sqrt(n0)) | circle (grid on [-pi, pi)) |\n"
           "                       circle-pos (grid on [0, 2 pi)) | circle-uniform (random angles) |\n"
           "                       sphere (uniform on S^{n0-1}) | fmnist (Fashion-MNIST training images) |\n"
           "                       PATH.npy | PATH.npz (member X) | PATH.csv\n"
           "  --n N                number of points [128]\n"
           "  --classes c1,c2,...  fmnist: classes to keep [all]\n"
           "  --pixels P           fmnist: unit (x/255) | standardize (per pixel, training statistics) [unit]\n"
           "run:\n"
           "  --seed S             seed of parameters (and of gaussian data, on its own stream) [0]\n"
           "  --threads T          BLAS threads (0 = library default) [0]\n"
           "  --out DIR            write the run exactly into DIR\n"
           "  --name NAME          experiment name under results/ [%s]\n"
           "  --results DIR        results root [results]\n"
           "  --max-memory GB      refuse runs whose estimated peak exceeds this (default: available RAM)\n"
           "kernel:\n"
           "  --per-layer          also store the per-layer terms K_layers (L+1, N, N)\n"
           "  --dtype f64|f32      precision of the computation and of K [f64]\n"
           "  --save-params        write params.npz (W1..W{L+1}, b1..b{L+1}, float64, as stored)\n"
           "  --load-params FILE   use parameters from such a file instead of the seed\n"
           "train:\n"
           "  --target T           fourier (circle data: sum_k sin(k gamma)/k, k <= fourier-k) | product (x1 x2) |\n"
           "                       teacher (random net of the same spec, seed + 1) | random | PATH.npy [fourier]\n"
           "  --n-eval M           evaluation points (circle: uniform random angles; gaussian: more rows) [0]\n"
           "  --steps T            optimizer steps [1000]\n"
           "  --lr ETA | --lr-frac F  absolute eta, or F * 2 / lambda_max(c K_0) [--lr-frac 0.5]\n"
           "  --loss sum|mean      c = 1 or 1/N (1/B for minibatches) [mean]\n"
           "  --opt gd|sgd|momentum|adam  [gd];  --batch B minibatch rows;  --momentum MU [0.9]\n"
           "  --snapshots S        every:K | log:K (K log-spaced steps) | t1,t2,... (0 and T always) [log:20]\n"
           "  --checkpoint-every K steps between checkpoints (0: at every snapshot) [0]\n"
           "  --resume DIR         continue a killed run in DIR to the same results\n"
           "  --ridge R            kernel regression ridge, relative to the mean diagonal of K [1e-8]\n"
           "  --top-k K            eigenspace dimension for angles / eigenvalue drift [10]\n"
           "  --fourier-k K        terms of the Fourier target [4];  --noise S label noise std [0]\n"
           "  --blowup B           divergence when the loss exceeds B times its initial value [1e6]\n"
           "  --flow               frozen-kernel predictions by gradient flow in time eta * step (no f_pert)\n"
           "study (profile, converge):\n"
           "  --widths n1,n2,...   widths to sweep (every hidden layer that width)\n"
           "  --depths L1,L2,...   depths (hidden layers) to sweep\n"
           "  --seeds S            seeds: a list and/or ranges a:b (= a..b-1), e.g. 0:16\n"
           "\n  --help               this text\n",
           command);
}

int cli_config_parse_args(cli_config *c, int argc, char **argv, const char *command)
{
    /* pass 1: --config and --help, so that flags override the file */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(command);
            return CLI_EXIT_OK;
        }
        const char *path = NULL;
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                cli_errorf("--config: missing file name");
                return CLI_EXIT_USAGE;
            }
            path = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            int rc = cli_config_load_yaml(c, path);
            if (rc) return rc;
        }
    }
    bool depth_flag = false;
    optind = 1;
    opterr = 0;
    int opt, rc = 0;
    while (!rc && (opt = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
        switch (opt) {
        case OPT_CONFIG: break;
        case OPT_DEPTH: rc = parse_int("depth", optarg, 0, NTK_MAX_DEPTH, &c->depth); depth_flag = true; break;
        case OPT_WIDTH:
            rc = parse_int("width", optarg, 1, INT_MAX, &c->width);
            if (!rc) { /* --width replaces a list from the config */
                free(c->widths);
                c->widths = NULL;
                c->widths_count = 0;
            }
            break;
        case OPT_WIDTHS:
            if (is_study(command))
                rc = parse_int_list("widths", optarg, 1, INT_MAX, &c->study_widths, &c->study_widths_count);
            else
                rc = parse_int_list("widths", optarg, 1, INT_MAX, &c->widths, &c->widths_count);
            break;
        case OPT_DEPTHS: rc = parse_int_list("depths", optarg, 0, NTK_MAX_DEPTH, &c->study_depths, &c->study_depths_count); break;
        case OPT_SEEDS: rc = parse_int_list("seeds", optarg, 0, INT_MAX, &c->seeds, &c->seeds_count); break;
        case OPT_CLASSES: rc = parse_int_list("classes", optarg, 0, 9, &c->classes, &c->classes_count); break;
        case OPT_PIXELS:
            if (strcmp(optarg, "unit") == 0) c->pixels = NTK_PIXELS_UNIT;
            else if (strcmp(optarg, "standardize") == 0) c->pixels = NTK_PIXELS_STANDARDIZE;
            else { cli_errorf("--pixels: unknown value '%s' (expected unit|standardize)", optarg); rc = 2; }
            break;
        case OPT_N0: rc = parse_int("n0", optarg, 1, INT_MAX, &c->n0); c->n0_set = true; break;
        case OPT_OUTPUTS: rc = parse_int("outputs", optarg, 1, INT_MAX, &c->outputs); break;
        case OPT_ACT: if (ntk_act_parse(optarg, &c->act)) { cli_errorf("--act: %s", ntk_last_error()); rc = 2; } break;
        case OPT_PARAM: if (ntk_param_parse(optarg, &c->param)) { cli_errorf("--param: %s", ntk_last_error()); rc = 2; } break;
        case OPT_SW2: rc = parse_double("sw2", optarg, &c->sw2); break;
        case OPT_SW2_OUT: rc = parse_double("sw2-out", optarg, &c->sw2_out); break;
        case OPT_SB: rc = parse_double("sb", optarg, &c->sb); break;
        case OPT_BIAS: if (ntk_bias_parse(optarg, &c->bias)) { cli_errorf("--bias: %s", ntk_last_error()); rc = 2; } break;
        case OPT_BIAS_OUT:
            if (ntk_bias_parse(optarg, &c->bias_out)) { cli_errorf("--bias-out: %s", ntk_last_error()); rc = 2; }
            c->bias_out_set = true;
            break;
        case OPT_FIRST:
            if (ntk_first_layer_parse(optarg, &c->first_layer)) { cli_errorf("--first-layer: %s", ntk_last_error()); rc = 2; }
            break;
        case OPT_DATA:
            if (strlen(optarg) >= sizeof c->data || !optarg[0]) { cli_errorf("--data: empty or too long"); rc = 2; }
            else snprintf(c->data, sizeof c->data, "%s", optarg);
            break;
        case OPT_N: rc = parse_long("n", optarg, 1, INT_MAX, &c->n); c->n_set = true; break;
        case OPT_SEED: rc = parse_u64("seed", optarg, &c->seed); break;
        case OPT_PER_LAYER: c->per_layer = true; break;
        case OPT_DTYPE:
            if (strcmp(optarg, "f64") == 0) c->dtype = NTK_F64;
            else if (strcmp(optarg, "f32") == 0) c->dtype = NTK_F32;
            else { cli_errorf("--dtype: unknown value '%s' (expected f64|f32)", optarg); rc = 2; }
            break;
        case OPT_SAVE_PARAMS: c->save_params = true; break;
        case OPT_LOAD_PARAMS: snprintf(c->load_params, sizeof c->load_params, "%s", optarg); break;
        case OPT_OUT: snprintf(c->out, sizeof c->out, "%s", optarg); break;
        case OPT_NAME:
            if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) >= sizeof c->name) {
                cli_errorf("--name: must be a non-empty name without '/', got '%s'", optarg);
                rc = 2;
            } else snprintf(c->name, sizeof c->name, "%s", optarg);
            break;
        case OPT_RESULTS: snprintf(c->results, sizeof c->results, "%s", optarg); break;
        case OPT_THREADS: rc = parse_int("threads", optarg, 0, 1024, &c->threads); break;
        case OPT_MAXMEM:
            rc = parse_double("max-memory", optarg, &c->max_memory_gb);
            if (!rc && c->max_memory_gb <= 0) { cli_errorf("--max-memory: must be > 0 (GB), got '%s'", optarg); rc = 2; }
            break;
        case OPT_TARGET:
            if (!optarg[0] || strlen(optarg) >= sizeof c->target) { cli_errorf("--target: empty or too long"); rc = 2; }
            else snprintf(c->target, sizeof c->target, "%s", optarg);
            break;
        case OPT_NEVAL: rc = parse_long("n-eval", optarg, 0, INT_MAX, &c->n_eval); break;
        case OPT_STEPS: rc = parse_long("steps", optarg, 0, LONG_MAX / 2, &c->steps); break;
        case OPT_LR:
            rc = parse_double("lr", optarg, &c->lr);
            if (!rc && c->lr <= 0) { cli_errorf("--lr: must be > 0, got '%s'", optarg); rc = 2; }
            c->lr_frac = 0;
            break;
        case OPT_LRFRAC:
            rc = parse_double("lr-frac", optarg, &c->lr_frac);
            if (!rc && c->lr_frac <= 0) { cli_errorf("--lr-frac: must be > 0, got '%s'", optarg); rc = 2; }
            c->lr = 0;
            break;
        case OPT_LOSS: if (ntk_loss_parse(optarg, &c->loss)) { cli_errorf("--loss: %s", ntk_last_error()); rc = 2; } break;
        case OPT_OPT: if (ntk_opt_parse(optarg, &c->opt)) { cli_errorf("--opt: %s", ntk_last_error()); rc = 2; } break;
        case OPT_BATCH: rc = parse_long("batch", optarg, 0, INT_MAX, &c->batch); break;
        case OPT_MOMENTUM: rc = parse_double("momentum", optarg, &c->momentum); break;
        case OPT_SNAPSHOTS:
            if (!optarg[0] || strlen(optarg) >= sizeof c->snapshots) { cli_errorf("--snapshots: empty or too long"); rc = 2; }
            else snprintf(c->snapshots, sizeof c->snapshots, "%s", optarg);
            break;
        case OPT_CKPT: rc = parse_long("checkpoint-every", optarg, 0, LONG_MAX / 2, &c->checkpoint_every); break;
        case OPT_RESUME: snprintf(c->resume, sizeof c->resume, "%s", optarg); break;
        case OPT_RIDGE:
            rc = parse_double("ridge", optarg, &c->ridge);
            if (!rc && c->ridge < 0) { cli_errorf("--ridge: must be >= 0, got '%s'", optarg); rc = 2; }
            break;
        case OPT_TOPK: rc = parse_int("top-k", optarg, 1, 100000, &c->top_k); break;
        case OPT_FOURIERK: rc = parse_int("fourier-k", optarg, 1, 100000, &c->fourier_k); break;
        case OPT_NOISE:
            rc = parse_double("noise", optarg, &c->noise);
            if (!rc && c->noise < 0) { cli_errorf("--noise: must be >= 0, got '%s'", optarg); rc = 2; }
            break;
        case OPT_BLOWUP:
            rc = parse_double("blowup", optarg, &c->blowup);
            if (!rc && c->blowup <= 1) { cli_errorf("--blowup: must be > 1, got '%s'", optarg); rc = 2; }
            break;
        case OPT_FLOW: c->flow = 1; break;
        case OPT_HELP: print_help(command); return CLI_EXIT_OK;
        case ':': cli_errorf("%s: missing value (see ntkdrift %s --help)", argv[optind - 1], command); rc = 2; break;
        default: cli_errorf("unknown option '%s' (see ntkdrift %s --help)", argv[optind - 1], command); rc = 2; break;
        }
    }
    if (rc) return rc;
    if (optind < argc) {
        cli_errorf("unexpected argument '%s' (see ntkdrift %s --help)", argv[optind], command);
        return CLI_EXIT_USAGE;
    }
    if (c->widths_count > 0 && !depth_flag) c->depth = c->widths_count;
    return -1;
}

int cli_config_spec(cli_config *c, ntk_spec *spec)
{
    if (c->widths_count > 0 && c->widths_count != c->depth) {
        cli_errorf("widths: %d widths given for depth %d (one per hidden layer)", c->widths_count, c->depth);
        return CLI_EXIT_USAGE;
    }
    if (c->widths_count == 0 && c->depth > 0) {
        if (c->width <= 0) {
            cli_errorf("width must be a positive integer, got %d", c->width);
            return CLI_EXIT_USAGE;
        }
        c->widths = malloc((size_t)c->depth * sizeof *c->widths);
        if (!c->widths) return CLI_EXIT_FAIL;
        for (int l = 0; l < c->depth; l++) c->widths[l] = c->width;
        c->widths_count = c->depth;
    }
    *spec = ntk_spec_default();
    spec->depth = c->depth;
    spec->widths = c->widths;
    spec->n0 = c->n0;
    spec->outputs = c->outputs;
    spec->act = c->act;
    spec->param = c->param;
    spec->sw2 = c->sw2;
    spec->sw2_out = c->sw2_out;
    spec->sb = c->sb;
    spec->bias = c->bias;
    spec->bias_out = c->bias_out_set ? c->bias_out : c->bias;
    spec->first_layer = c->first_layer;
    char msg[512];
    if (ntk_spec_check(spec, msg, sizeof msg) != NTK_OK) {
        cli_errorf("invalid model: %s", msg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void yaml_str(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void yaml_str(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*buf) return;
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        char *nb = realloc(*buf, *cap * 2 + (size_t)n);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *cap = *cap * 2 + (size_t)n;
    }
}

static void yaml_list(char **b, size_t *len, size_t *cap, const char *key, const int *v, int n)
{
    yaml_str(b, len, cap, "%s: [", key);
    for (int i = 0; i < n; i++) yaml_str(b, len, cap, "%s%d", i ? ", " : "", v[i]);
    yaml_str(b, len, cap, "]\n");
}

char *cli_config_to_yaml(const cli_config *c)
{
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    b[0] = '\0';
    yaml_str(&b, &len, &cap, "# resolved configuration (defaults < config file < flags)\nmodel:\n");
    yaml_str(&b, &len, &cap, "  depth: %d\n", c->depth);
    if (c->widths_count) yaml_list(&b, &len, &cap, "  widths", c->widths, c->widths_count);
    else yaml_str(&b, &len, &cap, "  width: %d\n", c->width);
    yaml_str(&b, &len, &cap, "  n0: %d\n  outputs: %d\n  act: %s\n  param: %s\n", c->n0, c->outputs,
             ntk_act_name(c->act), ntk_param_name(c->param));
    yaml_str(&b, &len, &cap, "  sw2: %.17g\n  sw2_out: %.17g\n  sb: %.17g\n", c->sw2, c->sw2_out, c->sb);
    yaml_str(&b, &len, &cap, "  bias: %s\n  bias_out: %s\n  first_layer: %s\n", ntk_bias_name(c->bias),
             ntk_bias_name(c->bias_out_set ? c->bias_out : c->bias), ntk_first_layer_name(c->first_layer));
    yaml_str(&b, &len, &cap, "data:\n  data: \"%s\"\n  n: %ld\n", c->data, c->n);
    if (c->classes_count) yaml_list(&b, &len, &cap, "  classes", c->classes, c->classes_count);
    yaml_str(&b, &len, &cap, "  pixels: %s\n", c->pixels == NTK_PIXELS_STANDARDIZE ? "standardize" : "unit");
    if (c->study_widths_count || c->study_depths_count || c->seeds_count) {
        yaml_str(&b, &len, &cap, "study:\n");
        if (c->study_widths_count) yaml_list(&b, &len, &cap, "  widths", c->study_widths, c->study_widths_count);
        if (c->study_depths_count) yaml_list(&b, &len, &cap, "  depths", c->study_depths, c->study_depths_count);
        if (c->seeds_count) yaml_list(&b, &len, &cap, "  seeds", c->seeds, c->seeds_count);
    }
    yaml_str(&b, &len, &cap, "run:\n  seed: %llu\n  threads: %d\n  name: \"%s\"\n  results: \"%s\"\n",
             (unsigned long long)c->seed, c->threads, c->name, c->results);
    if (c->out[0]) yaml_str(&b, &len, &cap, "  out: \"%s\"\n", c->out);
    if (c->max_memory_gb > 0) yaml_str(&b, &len, &cap, "  max_memory_gb: %.17g\n", c->max_memory_gb);
    yaml_str(&b, &len, &cap, "kernel:\n  per_layer: %s\n  dtype: %s\n  save_params: %s\n",
             c->per_layer ? "true" : "false", c->dtype == NTK_F32 ? "f32" : "f64",
             c->save_params ? "true" : "false");
    if (c->load_params[0]) yaml_str(&b, &len, &cap, "  load_params: \"%s\"\n", c->load_params);
    if (strcmp(c->command, "train") != 0 && strcmp(c->command, "sweep") != 0) return b;
    yaml_str(&b, &len, &cap, "train:\n  target: \"%s\"\n  n_eval: %ld\n  steps: %ld\n", c->target, c->n_eval, c->steps);
    if (c->lr_frac > 0)
        yaml_str(&b, &len, &cap, "  lr_frac: %.17g\n", c->lr_frac);
    else
        yaml_str(&b, &len, &cap, "  lr: %.17g\n", c->lr);
    yaml_str(&b, &len, &cap, "  loss: %s\n  opt: %s\n  batch: %ld\n  momentum: %.17g\n  snapshots: \"%s\"\n",
             ntk_loss_name(c->loss), ntk_opt_name(c->opt), c->batch, c->momentum, c->snapshots);
    yaml_str(&b, &len, &cap, "  checkpoint_every: %ld\n  ridge: %.17g\n  top_k: %d\n  fourier_k: %d\n",
             c->checkpoint_every, c->ridge, c->top_k, c->fourier_k);
    yaml_str(&b, &len, &cap, "  noise: %.17g\n  blowup: %.17g\n  flow: %s\n", c->noise, c->blowup,
             c->flow ? "true" : "false");
    return b;
}
