/* config_yaml.c -- the YAML configuration file (libcyaml schema): every flag is a key under
 * its section (model, data, study, run, kernel, train); unknown keys and wrong types are errors
 * reported as "<file>:<line>:<col>: <section.key>: <problem>". */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

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
    char *fmnist_dir;
} y_data;

typedef struct {
    int *widths, *depths, *seeds;
    unsigned widths_count, depths_count, seeds_count;
    double *lr_fracs, *betas;
    unsigned lr_fracs_count, betas_count;
} y_study;

typedef struct {
    double *lazy_drift, *lazy_lin_err, *unstable_loss_ratio, *catapult_spike, *tau;
} y_sweep;

typedef struct {
    uint64_t *seed;
    int *threads;
    char *out, *name, *results;
    double *max_memory_gb;
} y_run;

typedef struct {
    char *per_layer, *save_params; /* booleans read as text: libcyaml takes any word but false-words as true */
    char *dtype, *load_params;
    int64_t *tile_rows;
} y_kernel;

typedef struct {
    char *target, *loss, *opt, *snapshots, *resume;
    int64_t *n_eval, *steps, *batch, *checkpoint_every;
    double *lr, *lr_frac, *momentum, *ridge, *noise, *blowup;
    int *top_k, *fourier_k;
    char *flow;
} y_train;

typedef struct {
    int64_t *members;
    double *s, *angle, *lr, *y;
    char *no_updates, *no_literal;
    char *sampler;
} y_ens;

typedef struct {
    y_model *model;
    y_data *data;
    y_run *run;
    y_kernel *kernel;
    y_study *study;
    y_train *train;
    y_ens *ensemble;
    y_sweep *sweep;
} y_root;

#define OPT CYAML_FLAG_OPTIONAL
static const cyaml_schema_value_t int_entry = {CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int)};
static const cyaml_schema_value_t float_entry = {CYAML_VALUE_FLOAT(CYAML_FLAG_DEFAULT, double)};

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
    CYAML_FIELD_STRING_PTR("fmnist_dir", OPT, y_data, fmnist_dir, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_END};

static const cyaml_schema_field_t study_fields[] = {
    CYAML_FIELD_SEQUENCE("widths", CYAML_FLAG_POINTER | OPT, y_study, widths, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("depths", CYAML_FLAG_POINTER | OPT, y_study, depths, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("seeds", CYAML_FLAG_POINTER | OPT, y_study, seeds, &int_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("lr_fracs", CYAML_FLAG_POINTER | OPT, y_study, lr_fracs, &float_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("betas", CYAML_FLAG_POINTER | OPT, y_study, betas, &float_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t sweep_fields[] = {
    CYAML_FIELD_FLOAT_PTR("lazy_drift", OPT, y_sweep, lazy_drift),
    CYAML_FIELD_FLOAT_PTR("lazy_lin_err", OPT, y_sweep, lazy_lin_err),
    CYAML_FIELD_FLOAT_PTR("unstable_loss_ratio", OPT, y_sweep, unstable_loss_ratio),
    CYAML_FIELD_FLOAT_PTR("catapult_spike", OPT, y_sweep, catapult_spike),
    CYAML_FIELD_FLOAT_PTR("tau", OPT, y_sweep, tau),
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
    CYAML_FIELD_STRING_PTR("per_layer", OPT, y_kernel, per_layer, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("save_params", OPT, y_kernel, save_params, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("dtype", OPT, y_kernel, dtype, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("load_params", OPT, y_kernel, load_params, 0, CLI_PATH_MAX - 1),
    CYAML_FIELD_INT_PTR("tile_rows", OPT, y_kernel, tile_rows),
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
    CYAML_FIELD_STRING_PTR("flow", OPT, y_train, flow, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t ens_fields[] = {
    CYAML_FIELD_INT_PTR("members", OPT, y_ens, members),
    CYAML_FIELD_FLOAT_PTR("s", OPT, y_ens, s),
    CYAML_FIELD_FLOAT_PTR("angle", OPT, y_ens, angle),
    CYAML_FIELD_FLOAT_PTR("lr", OPT, y_ens, lr),
    CYAML_FIELD_FLOAT_PTR("y", OPT, y_ens, y),
    CYAML_FIELD_STRING_PTR("no_updates", OPT, y_ens, no_updates, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("no_literal", OPT, y_ens, no_literal, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("sampler", OPT, y_ens, sampler, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t root_fields[] = {
    CYAML_FIELD_MAPPING_PTR("model", OPT, y_root, model, model_fields),
    CYAML_FIELD_MAPPING_PTR("data", OPT, y_root, data, data_fields),
    CYAML_FIELD_MAPPING_PTR("run", OPT, y_root, run, run_fields),
    CYAML_FIELD_MAPPING_PTR("kernel", OPT, y_root, kernel, kernel_fields),
    CYAML_FIELD_MAPPING_PTR("study", OPT, y_root, study, study_fields),
    CYAML_FIELD_MAPPING_PTR("train", OPT, y_root, train, train_fields),
    CYAML_FIELD_MAPPING_PTR("ensemble", OPT, y_root, ensemble, ens_fields),
    CYAML_FIELD_MAPPING_PTR("sweep", OPT, y_root, sweep, sweep_fields),
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

static int enum_from_yaml(const char *path, const char *key, ntk_status st)
{
    if (st == NTK_OK) return 0;
    cli_errorf("config %s: %s: %s", path, key, ntk_last_error());
    return CLI_EXIT_USAGE;
}

/* A YAML boolean, strictly: true/false, yes/no, on/off, 1/0 (any case). */
static int yaml_bool(const char *path, const char *key, const char *v, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0) return *out = false, 0;
    }
    cli_errorf("config %s: %s: expected true or false, got '%s'", path, key, v);
    return CLI_EXIT_USAGE;
}

/* A YAML list of numbers that must all be > 0, into *dst (replacing it). */
static int copy_positive(const char *path, const char *key, const double *src, unsigned n, double **dst, int *count)
{
    for (unsigned i = 0; i < n; i++)
        if (!(src[i] > 0)) {
            cli_errorf("config %s: %s: entries must be > 0", path, key);
            return CLI_EXIT_USAGE;
        }
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
    memcpy(v, src, n * sizeof *v);
    free(*dst);
    *dst = v;
    *count = (int)n;
    return 0;
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
        if (!rc && m->act) rc = enum_from_yaml(path, "model.act", ntk_act_parse(m->act, &c->act));
        if (!rc && m->param) rc = enum_from_yaml(path, "model.param", ntk_param_parse(m->param, &c->param));
        if (!rc && m->bias) rc = enum_from_yaml(path, "model.bias", ntk_bias_parse(m->bias, &c->bias));
        if (!rc && m->bias_out) {
            rc = enum_from_yaml(path, "model.bias_out", ntk_bias_parse(m->bias_out, &c->bias_out));
            c->bias_out_set = true;
        }
        if (!rc && m->first_layer)
            rc = enum_from_yaml(path, "model.first_layer",
                                ntk_first_layer_parse(m->first_layer, &c->first_layer));
    }
    if (!rc && y->data) {
        if (y->data->data) snprintf(c->data, sizeof c->data, "%s", y->data->data);
        if (y->data->fmnist_dir) snprintf(c->fmnist_dir, sizeof c->fmnist_dir, "%s", y->data->fmnist_dir);
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
        if (st->lr_fracs && (rc = copy_positive(path, "study.lr_fracs", st->lr_fracs, st->lr_fracs_count,
                                                 &c->lr_fracs, &c->lr_fracs_count)))
            return rc;
        if (st->betas &&
            (rc = copy_positive(path, "study.betas", st->betas, st->betas_count, &c->betas, &c->betas_count)))
            return rc;
    }
    if (!rc && y->sweep) {
        const y_sweep *sw = y->sweep;
        if (sw->lazy_drift) c->lazy_drift = *sw->lazy_drift;
        if (sw->lazy_lin_err) c->lazy_lin_err = *sw->lazy_lin_err;
        if (sw->unstable_loss_ratio) c->unstable_loss_ratio = *sw->unstable_loss_ratio;
        if (sw->catapult_spike) c->catapult_spike = *sw->catapult_spike;
        if (sw->tau) c->tau = *sw->tau;
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
        bool b;
        if (t->flow) {
            if ((rc = yaml_bool(path, "train.flow", t->flow, &b))) return rc;
            c->flow = b;
        }
        if (t->loss && ntk_loss_parse(t->loss, &c->loss) != NTK_OK) {
            cli_errorf("config %s: train.loss: %s", path, ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        if (t->opt && ntk_opt_parse(t->opt, &c->opt) != NTK_OK) {
            cli_errorf("config %s: train.opt: %s", path, ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        const struct {
            const char *key;
            long v, lo;
        } lim[] = {{"n_eval", c->n_eval, 0},   {"steps", c->steps, 0}, {"batch", c->batch, 0},
                   {"checkpoint_every", c->checkpoint_every, 0}, {"top_k", c->top_k, 1},
                   {"fourier_k", c->fourier_k, 1}};
        for (size_t i = 0; i < sizeof lim / sizeof *lim; i++)
            if (lim[i].v < lim[i].lo) {
                cli_errorf("config %s: train.%s: must be >= %ld, got %ld", path, lim[i].key, lim[i].lo, lim[i].v);
                return CLI_EXIT_USAGE;
            }
    }
    if (!rc && y->ensemble) {
        const y_ens *en = y->ensemble;
        if (en->members) c->members = (long)*en->members;
        if (en->s) c->s_norm = *en->s;
        if (en->angle) c->angle_deg = *en->angle;
        if (en->lr) c->ens_lr = *en->lr;
        if (en->y) c->target_y = *en->y;
        bool b;
        if (en->no_updates) {
            if ((rc = yaml_bool(path, "ensemble.no_updates", en->no_updates, &b))) return rc;
            c->no_updates = b;
        }
        if (en->no_literal) {
            if ((rc = yaml_bool(path, "ensemble.no_literal", en->no_literal, &b))) return rc;
            c->no_literal = b;
        }
        if (en->sampler) {
            if (strcmp(en->sampler, "lazy") != 0 && strcmp(en->sampler, "full") != 0) {
                cli_errorf("config %s: ensemble.sampler: expected lazy or full, got '%s'", path, en->sampler);
                return CLI_EXIT_USAGE;
            }
            c->sampler_full = en->sampler[0] == 'f';
        }
        const char *bad = c->members < 2 ? "members: must be >= 2"
                          : !(c->s_norm > 0) ? "s: must be > 0"
                          : !(c->ens_lr > 0) ? "lr: must be > 0"
                          : en->angle && !(c->angle_deg >= 0 && c->angle_deg <= 180) ? "angle: must be in [0, 180] degrees"
                                                                                        : NULL;
        if (bad) {
            double v = bad[0] == 'm' ? (double)c->members : bad[0] == 's' ? c->s_norm : bad[0] == 'l' ? c->ens_lr
                                                                                                      : c->angle_deg;
            cli_errorf("config %s: ensemble.%s, got %g", path, bad, v);
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
        if (k->per_layer && (rc = yaml_bool(path, "kernel.per_layer", k->per_layer, &c->per_layer))) return rc;
        if (k->save_params && (rc = yaml_bool(path, "kernel.save_params", k->save_params, &c->save_params))) return rc;
        if (k->load_params) snprintf(c->load_params, sizeof c->load_params, "%s", k->load_params);
        if (k->tile_rows) c->tile_rows = (long)*k->tile_rows;
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
    if (!y) return 0; /* no document (e.g. only comments): nothing to override */
    int rc = apply_yaml(c, y, path);
    cyaml_free(&cfg, &root_schema, y, 0);
    return rc;
}

