/* config_yaml.c -- the YAML configuration file (libcyaml schema): every flag is a key under
 * its section (model, data, study, run, kernel, train); unknown keys and wrong types are errors
 * reported as "<file>:<line>:<col>: <section.key>: <problem>".  Numbers are read as text and
 * converted by config_num.c (the same strict rules as flags); yaml_where.c finds their position. */
#include <cyaml/cyaml.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_num.h"
#include "yaml_where.h"

/* Numbers are read as text (char *, lists char ** with a count) and converted by config_num.c:
 * libcyaml never converts a number itself. */
typedef struct {
    char *depth, *width, *n0, *outputs, *sw2, *sw2_out, *sb;
    char **widths;
    unsigned widths_count;
    char *act, *param, *bias, *bias_out, *first_layer;
} y_model;

typedef struct {
    char *data, *n;
    char **classes;
    unsigned classes_count;
    char *pixels;
    char *fmnist_dir;
    char *seed, *eval_points, *eval_data;
} y_data;

typedef struct {
    char **widths, **depths, **seeds, **lr_fracs, **betas;
    unsigned widths_count, depths_count, seeds_count, lr_fracs_count, betas_count;
} y_study;

typedef struct {
    char *lazy_drift, *lazy_lin_err, *unstable_loss_ratio, *catapult_spike, *tau;
} y_sweep;

typedef struct {
    char *seed, *threads, *max_memory_gb;
    char *out, *name, *results;
} y_run;

typedef struct {
    char *per_layer, *save_params; /* booleans read as text: libcyaml takes any word but false-words as true */
    char *dtype, *load_params;
    char *tile_rows;
} y_kernel;

typedef struct {
    char *target, *loss, *opt, *snapshots, *resume;
    char *n_eval, *steps, *batch, *checkpoint_every, *lr, *lr_frac, *momentum, *ridge, *noise, *blowup, *top_k,
        *fourier_k;
    char *noise_seed, *target_partial, *freeze_eps, *freeze_k, *freeze_delta, *eval_target;
    char **target_modes, **target_amps, **target_phases, **target_basis;
    unsigned target_modes_count, target_amps_count, target_phases_count, target_basis_count;
    char *flow;
} y_train;

typedef struct {
    char *members, *s, *angle, *lr, *y;
    char *no_updates, *no_literal;
    char *sampler;
} y_ens;

typedef struct {
    char *train_data, *train_n;
} y_profile;

typedef struct {
    y_model *model;
    y_data *data;
    y_run *run;
    y_kernel *kernel;
    y_study *study;
    y_train *train;
    y_ens *ensemble;
    y_sweep *sweep;
    y_profile *profile;
} y_root;

#define OPT CYAML_FLAG_OPTIONAL
static const cyaml_schema_value_t num_entry = {CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED)};
/* A numeric key (its row in config_num.c gives its type and range), and a list of them. */
#define NUM(key, st, m) CYAML_FIELD_STRING_PTR(key, OPT, st, m, 0, CYAML_UNLIMITED)
#define NUMS(key, st, m, lo, hi) CYAML_FIELD_SEQUENCE(key, CYAML_FLAG_POINTER | OPT, st, m, &num_entry, lo, hi)

static const cyaml_schema_field_t model_fields[] = {
    NUM("depth", y_model, depth),
    NUM("width", y_model, width),
    NUMS("widths", y_model, widths, 0, CYAML_UNLIMITED),
    NUM("n0", y_model, n0),
    NUM("outputs", y_model, outputs),
    CYAML_FIELD_STRING_PTR("act", OPT, y_model, act, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("param", OPT, y_model, param, 0, CYAML_UNLIMITED),
    NUM("sw2", y_model, sw2),
    NUM("sw2_out", y_model, sw2_out),
    NUM("sb", y_model, sb),
    CYAML_FIELD_STRING_PTR("bias", OPT, y_model, bias, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("bias_out", OPT, y_model, bias_out, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("first_layer", OPT, y_model, first_layer, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t data_fields[] = {
    CYAML_FIELD_STRING_PTR("data", OPT, y_data, data, 1, CLI_PATH_MAX - 1),
    NUM("n", y_data, n),
    NUMS("classes", y_data, classes, 1, 10),
    CYAML_FIELD_STRING_PTR("pixels", OPT, y_data, pixels, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("fmnist_dir", OPT, y_data, fmnist_dir, 1, CLI_PATH_MAX - 1),
    NUM("seed", y_data, seed),
    CYAML_FIELD_STRING_PTR("eval_points", OPT, y_data, eval_points, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("eval_data", OPT, y_data, eval_data, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_END};

static const cyaml_schema_field_t study_fields[] = {
    NUMS("widths", y_study, widths, 1, CYAML_UNLIMITED),
    NUMS("depths", y_study, depths, 1, CYAML_UNLIMITED),
    NUMS("seeds", y_study, seeds, 1, CYAML_UNLIMITED),
    NUMS("lr_fracs", y_study, lr_fracs, 1, CYAML_UNLIMITED),
    NUMS("betas", y_study, betas, 1, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t sweep_fields[] = {
    NUM("lazy_drift", y_sweep, lazy_drift),
    NUM("lazy_lin_err", y_sweep, lazy_lin_err),
    NUM("unstable_loss_ratio", y_sweep, unstable_loss_ratio),
    NUM("catapult_spike", y_sweep, catapult_spike),
    NUM("tau", y_sweep, tau),
    CYAML_FIELD_END};

static const cyaml_schema_field_t run_fields[] = {
    NUM("seed", y_run, seed),
    NUM("threads", y_run, threads),
    CYAML_FIELD_STRING_PTR("out", OPT, y_run, out, 0, CLI_PATH_MAX - 1),
    CYAML_FIELD_STRING_PTR("name", OPT, y_run, name, 1, 127),
    CYAML_FIELD_STRING_PTR("results", OPT, y_run, results, 1, CLI_PATH_MAX - 1),
    NUM("max_memory_gb", y_run, max_memory_gb),
    CYAML_FIELD_END};

static const cyaml_schema_field_t kernel_fields[] = {
    CYAML_FIELD_STRING_PTR("per_layer", OPT, y_kernel, per_layer, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("save_params", OPT, y_kernel, save_params, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("dtype", OPT, y_kernel, dtype, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("load_params", OPT, y_kernel, load_params, 0, CLI_PATH_MAX - 1),
    NUM("tile_rows", y_kernel, tile_rows),
    CYAML_FIELD_END};

static const cyaml_schema_field_t train_fields[] = {
    CYAML_FIELD_STRING_PTR("target", OPT, y_train, target, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_STRING_PTR("loss", OPT, y_train, loss, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("opt", OPT, y_train, opt, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("snapshots", OPT, y_train, snapshots, 1, 255),
    CYAML_FIELD_STRING_PTR("resume", OPT, y_train, resume, 0, CLI_PATH_MAX - 1),
    NUM("n_eval", y_train, n_eval),
    NUM("steps", y_train, steps),
    NUM("batch", y_train, batch),
    NUM("checkpoint_every", y_train, checkpoint_every),
    NUM("lr", y_train, lr),
    NUM("lr_frac", y_train, lr_frac),
    NUM("momentum", y_train, momentum),
    NUM("ridge", y_train, ridge),
    NUM("noise", y_train, noise),
    NUM("blowup", y_train, blowup),
    NUM("top_k", y_train, top_k),
    NUM("fourier_k", y_train, fourier_k),
    NUM("noise_seed", y_train, noise_seed),
    NUMS("target_modes", y_train, target_modes, 1, CYAML_UNLIMITED),
    NUMS("target_amps", y_train, target_amps, 1, CYAML_UNLIMITED),
    NUMS("target_phases", y_train, target_phases, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("target_basis", CYAML_FLAG_POINTER | OPT, y_train, target_basis, &num_entry, 1, 256),
    NUM("target_partial", y_train, target_partial),
    NUM("freeze_eps", y_train, freeze_eps),
    NUM("freeze_k", y_train, freeze_k),
    NUM("freeze_delta", y_train, freeze_delta),
    CYAML_FIELD_STRING_PTR("eval_target", OPT, y_train, eval_target, 1, CLI_PATH_MAX - 1),
    CYAML_FIELD_STRING_PTR("flow", OPT, y_train, flow, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t ens_fields[] = {
    NUM("members", y_ens, members),
    NUM("s", y_ens, s),
    NUM("angle", y_ens, angle),
    NUM("lr", y_ens, lr),
    NUM("y", y_ens, y),
    CYAML_FIELD_STRING_PTR("no_updates", OPT, y_ens, no_updates, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("no_literal", OPT, y_ens, no_literal, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("sampler", OPT, y_ens, sampler, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

static const cyaml_schema_field_t profile_fields[] = {
    CYAML_FIELD_STRING_PTR("train_data", OPT, y_profile, train_data, 1, CLI_PATH_MAX - 1),
    NUM("train_n", y_profile, train_n),
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
    CYAML_FIELD_MAPPING_PTR("profile", OPT, y_root, profile, profile_fields),
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

/* The YAML text being applied: its name, and its bytes (for the positions of values). */
typedef struct {
    const char *path, *buf;
    size_t len;
} y_src;

/* "config <file>:<line>:<col>: <msg>" with the position of section.key (entry index >= 0). */
static int num_error(const y_src *src, const char *section, const char *key, int index, const char *msg, int rc)
{
    int line, col;
    if (cli_yaml_where(src->buf, src->len, section, key, index, &line, &col))
        cli_errorf("config %s:%d:%d: %s", src->path, line, col, msg);
    else
        cli_errorf("config %s: %s", src->path, msg);
    return rc;
}

/* Every numeric key, by one walk over the schema: a field whose "section.key" has a row in
 * config_num.c is text (a list: texts) converted there, strictly. */
static int apply_numbers(cli_config *c, const y_root *y, const y_src *src)
{
    for (const cyaml_schema_field_t *s = root_fields; s->key; s++) {
        const char *sec = *(const char *const *)(const void *)((const char *)y + s->data_offset);
        for (const cyaml_schema_field_t *f = s->value.mapping.fields; sec && f->key; f++) {
            char key[128], msg[384];
            snprintf(key, sizeof key, "%s.%s", s->key, f->key);
            const cli_num_key *k = cli_num_find(key);
            if (!k) continue;
            if (f->value.type != (cli_num_is_list(k) ? CYAML_SEQUENCE : CYAML_STRING)) { /* a schema slip */
                cli_errorf("internal: numeric key %s is not read as text (use NUM / NUMS)", key);
                return CLI_EXIT_FAIL;
            }
            const void *slot = sec + f->data_offset;
            int rc = 0, bad = -1;
            if (cli_num_is_list(k)) {
                char *const *texts = *(char *const *const *)slot;
                unsigned n = 0;
                memcpy(&n, sec + f->count_offset, f->count_size < sizeof n ? f->count_size : sizeof n);
                if (texts) rc = cli_num_set_list(c, k, key, texts, (int)n, &bad, msg, sizeof msg);
            } else {
                const char *text = *(const char *const *)slot;
                if (text) rc = cli_num_set(c, k, key, text, msg, sizeof msg);
            }
            if (rc) return num_error(src, s->key, f->key, bad, msg, rc);
        }
    }
    return 0;
}

static int apply_yaml(cli_config *c, const y_root *y, const y_src *src)
{
    const char *path = src->path;
    int rc = apply_numbers(c, y, src);
    if (rc) return rc;
    if (y->model) {
        const y_model *m = y->model;
        if (m->n0) c->n0_set = true;
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
        if (y->data->n) c->n_set = true;
        if (y->data->eval_data) snprintf(c->eval_data, sizeof c->eval_data, "%s", y->data->eval_data);
        if (y->data->eval_points) {
            char name[CLI_PATH_MAX + 64];
            snprintf(name, sizeof name, "config %s: data.eval_points", path);
            if ((rc = cli_set_eval_points(c, name, y->data->eval_points))) return rc;
        }
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
    if (!rc && y->train) {
        const y_train *t = y->train;
        if (t->target) snprintf(c->target, sizeof c->target, "%s", t->target);
        if (t->snapshots) snprintf(c->snapshots, sizeof c->snapshots, "%s", t->snapshots);
        if (t->resume) snprintf(c->resume, sizeof c->resume, "%s", t->resume);
        if (t->eval_target) snprintf(c->eval_target, sizeof c->eval_target, "%s", t->eval_target);
        if (t->noise) c->noise_set = true;
        if (t->target_basis) {
            char name[CLI_PATH_MAX + 64];
            snprintf(name, sizeof name, "config %s: train.target_basis", path);
            if ((rc = cli_set_target_basis(c, name, t->target_basis, (int)t->target_basis_count))) return rc;
        }
        if (t->lr_frac) /* one learning rate: lr_frac wins when both are given */
            c->lr = 0;
        else if (t->lr)
            c->lr_frac = 0;
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
    }
    if (!rc && y->ensemble) {
        const y_ens *en = y->ensemble;
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
        const char *bad = !(c->s_norm > 0) ? "s: must be > 0"
                          : !(c->ens_lr > 0) ? "lr: must be > 0"
                          : en->angle && !(c->angle_deg >= 0 && c->angle_deg <= 180) ? "angle: must be in [0, 180] degrees"
                                                                                        : NULL;
        if (bad) {
            double v = bad[0] == 's' ? c->s_norm : bad[0] == 'l' ? c->ens_lr : c->angle_deg;
            cli_errorf("config %s: ensemble.%s, got %g", path, bad, v);
            return CLI_EXIT_USAGE;
        }
    }
    if (!rc && y->profile && y->profile->train_data)
        snprintf(c->train_data, sizeof c->train_data, "%s", y->profile->train_data);
    if (!rc && y->run) {
        const y_run *r = y->run;
        if (r->out) snprintf(c->out, sizeof c->out, "%s", r->out);
        if (r->name) snprintf(c->name, sizeof c->name, "%s", r->name);
        if (r->results) snprintf(c->results, sizeof c->results, "%s", r->results);
    }
    if (!rc && y->kernel) {
        const y_kernel *k = y->kernel;
        if (k->per_layer && (rc = yaml_bool(path, "kernel.per_layer", k->per_layer, &c->per_layer))) return rc;
        if (k->save_params && (rc = yaml_bool(path, "kernel.save_params", k->save_params, &c->save_params))) return rc;
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

/* libcyaml's type errors for a numeric key ("Expecting STRING, got event: SEQUENCE_START": it
 * reads numbers as text) said as the key's type: "expected an integer in [0, 100000], got a sequence". */
static void num_type_error(const char *path, char *msg, size_t cap)
{
    const cli_num_key *k = cli_num_find(path);
    const char *got = strstr(msg, ", got event: ");
    if (!k || !got || strncmp(msg, "Expecting ", 10) != 0) return;
    got += strlen(", got event: ");
    const char *what = strcmp(got, "SCALAR") == 0            ? "a single value"
                       : strcmp(got, "SEQUENCE_START") == 0 ? "a sequence"
                       : strcmp(got, "MAPPING_START") == 0  ? "a mapping"
                                                             : NULL;
    if (!what) return;
    char expected[96];
    cli_num_expected(k, expected, sizeof expected);
    bool list_itself = strncmp(msg, "Expecting SEQUENCE", 18) == 0;
    if (list_itself)
        snprintf(msg, cap, "expected a list (entries: %s), got %s", expected, what);
    else
        snprintf(msg, cap, "expected %s, got %s", expected, what);
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
    if (err != CYAML_OK) {
        free(buf);
        num_type_error(lg.path, lg.msg, sizeof lg.msg);
        char where[32] = "";
        if (lg.line) snprintf(where, sizeof where, ":%d:%d", lg.line, lg.col);
        cli_errorf("config %s%s: %s%s%s", path, where, lg.path[0] ? lg.path : "", lg.path[0] ? ": " : "",
                   lg.msg[0] ? lg.msg : cyaml_strerror(err));
        return CLI_EXIT_USAGE;
    }
    int rc = 0;
    if (y) { /* else no document (e.g. only comments): nothing to override */
        const y_src src = {path, buf, len};
        rc = apply_yaml(c, y, &src);
        cyaml_free(&cfg, &root_schema, y, 0);
    }
    free(buf);
    return rc;
}

