/* config.c -- the CLI configuration: defaults, the spec built from it, and the resolved
 * configuration as YAML.  Precedence: built-in defaults < --config FILE (config_yaml.c) < flags
 * (config_flags.c). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    c->data_seed = 0;
    snprintf(c->eval_points, sizeof c->eval_points, "uniform");
    c->noise_seed = 0;
    c->freeze_eps = 0.01;
    c->freeze_k = 3;
    c->freeze_delta = 2;
    snprintf(c->train_data, sizeof c->train_data, "gaussian");
    c->train_n = 256;
    c->members = 1000;
    c->s_norm = 1.0;
    c->angle_deg = -1; /* no second probe unless --angle */
    c->ens_lr = 1e-3;
    c->target_y = 0.0;
    c->lazy_drift = 0.1;
    c->lazy_lin_err = 0.1;
    c->unstable_loss_ratio = 1.0;
    c->catapult_spike = 1.0;
    c->tau = 0;
}

static int dup_list(void **dst, const void *src, size_t count, size_t size)
{
    *dst = NULL;
    if (!src || !count) return 0;
    *dst = malloc(count * size);
    if (!*dst) return CLI_EXIT_FAIL;
    memcpy(*dst, src, count * size);
    return 0;
}

int cli_config_copy(cli_config *dst, const cli_config *src)
{
    *dst = *src;
    int rc = dup_list((void **)&dst->widths, src->widths, (size_t)src->widths_count, sizeof(int));
    rc |= dup_list((void **)&dst->study_widths, src->study_widths, (size_t)src->study_widths_count, sizeof(int));
    rc |= dup_list((void **)&dst->study_depths, src->study_depths, (size_t)src->study_depths_count, sizeof(int));
    rc |= dup_list((void **)&dst->seeds, src->seeds, (size_t)src->seeds_count, sizeof(int));
    rc |= dup_list((void **)&dst->classes, src->classes, (size_t)src->classes_count, sizeof(int));
    rc |= dup_list((void **)&dst->lr_fracs, src->lr_fracs, (size_t)src->lr_fracs_count, sizeof(double));
    rc |= dup_list((void **)&dst->betas, src->betas, (size_t)src->betas_count, sizeof(double));
    rc |= dup_list((void **)&dst->target_modes, src->target_modes, (size_t)src->target_modes_count, sizeof(int));
    rc |= dup_list((void **)&dst->target_amps, src->target_amps, (size_t)src->target_amps_count, sizeof(double));
    rc |= dup_list((void **)&dst->target_phases, src->target_phases, (size_t)src->target_phases_count, sizeof(double));
    rc |= dup_list((void **)&dst->target_cos, src->target_cos, (size_t)src->target_cos_count, sizeof(int));
    if (rc) {
        cli_config_free(dst);
        cli_errorf("out of memory copying the configuration");
        return CLI_EXIT_FAIL;
    }
    return 0;
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
    free(c->lr_fracs);
    c->lr_fracs = NULL;
    c->lr_fracs_count = 0;
    free(c->betas);
    c->betas = NULL;
    c->betas_count = 0;
    free(c->target_modes);
    free(c->target_amps);
    free(c->target_phases);
    free(c->target_cos);
    c->target_modes = c->target_cos = NULL;
    c->target_amps = c->target_phases = NULL;
    c->target_modes_count = c->target_amps_count = c->target_phases_count = c->target_cos_count = 0;
    c->study_widths = c->study_depths = c->seeds = c->classes = NULL;
    c->study_widths_count = c->study_depths_count = c->seeds_count = c->classes_count = 0;
}

int cli_config_reload(cli_config *c, const char *command)
{
    char dir[CLI_PATH_MAX], cfg[CLI_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s", c->resume);
    cli_config_free(c);
    cli_config_defaults(c, command);
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    struct stat sb;
    int st = stat(dir, &sb), err = errno;
    if (st != 0 || !S_ISDIR(sb.st_mode)) {
        cli_errorf("resume: %s is not a run directory (%s)", dir,
                   st != 0 && err != ENOENT ? strerror(err) : st != 0 ? "no such directory" : "not a directory");
        return CLI_EXIT_USAGE;
    }
    if (access(cfg, F_OK) != 0) {
        cli_errorf("resume: %s is not a run directory (no config.yaml)", dir);
        return CLI_EXIT_USAGE;
    }
    int rc = cli_config_load_yaml(c, cfg);
    if (rc) return rc;
    snprintf(c->out, sizeof c->out, "%s", dir);
    snprintf(c->resume, sizeof c->resume, "%s", dir);
    return 0;
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

static void yaml_dlist(char **b, size_t *len, size_t *cap, const char *key, const double *v, int n)
{
    yaml_str(b, len, cap, "%s: [", key);
    for (int i = 0; i < n; i++) yaml_str(b, len, cap, "%s%.17g", i ? ", " : "", v[i]);
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
    yaml_str(&b, &len, &cap, "data:\n  data: \"%s\"\n  n: %ld\n  seed: %llu\n  eval_points: %s\n", c->data, c->n,
             (unsigned long long)c->data_seed, c->eval_points);
    if (c->eval_data[0]) yaml_str(&b, &len, &cap, "  eval_data: \"%s\"\n", c->eval_data);
    if (c->classes_count) yaml_list(&b, &len, &cap, "  classes", c->classes, c->classes_count);
    yaml_str(&b, &len, &cap, "  pixels: %s\n", c->pixels == NTK_PIXELS_STANDARDIZE ? "standardize" : "unit");
    if (c->fmnist_dir[0]) yaml_str(&b, &len, &cap, "  fmnist_dir: \"%s\"\n", c->fmnist_dir);
    if (c->study_widths_count || c->study_depths_count || c->seeds_count || c->lr_fracs_count || c->betas_count) {
        yaml_str(&b, &len, &cap, "study:\n");
        if (c->betas_count) yaml_dlist(&b, &len, &cap, "  betas", c->betas, c->betas_count);
        if (c->lr_fracs_count) yaml_dlist(&b, &len, &cap, "  lr_fracs", c->lr_fracs, c->lr_fracs_count);
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
    if (c->tile_rows) yaml_str(&b, &len, &cap, "  tile_rows: %ld\n", c->tile_rows);
    if (strcmp(c->command, "ensemble") == 0) {
        yaml_str(&b, &len, &cap, "ensemble:\n  members: %ld\n  s: %.17g\n  lr: %.17g\n  y: %.17g\n"
                 "  no_updates: %s\n  no_literal: %s\n  sampler: %s\n", c->members, c->s_norm, c->ens_lr,
                 c->target_y, c->no_updates ? "true" : "false", c->no_literal ? "true" : "false",
                 c->sampler_full ? "full" : "lazy");
        if (c->angle_deg >= 0) yaml_str(&b, &len, &cap, "  angle: %.17g\n", c->angle_deg);
    }
    bool profile = strcmp(c->command, "profile") == 0;
    if (profile) yaml_str(&b, &len, &cap, "profile:\n  train_data: \"%s\"\n  train_n: %ld\n", c->train_data, c->train_n);
    if (strcmp(c->command, "train") != 0 && strcmp(c->command, "sweep") != 0 && !profile) return b;
    yaml_str(&b, &len, &cap, "train:\n  target: \"%s\"\n  n_eval: %ld\n  steps: %ld\n", c->target, c->n_eval, c->steps);
    if (c->lr_frac > 0)
        yaml_str(&b, &len, &cap, "  lr_frac: %.17g\n", c->lr_frac);
    else
        yaml_str(&b, &len, &cap, "  lr: %.17g\n", c->lr);
    yaml_str(&b, &len, &cap, "  loss: %s\n  opt: %s\n  batch: %ld\n  momentum: %.17g\n  snapshots: \"%s\"\n",
             ntk_loss_name(c->loss), ntk_opt_name(c->opt), c->batch, c->momentum, c->snapshots);
    yaml_str(&b, &len, &cap, "  checkpoint_every: %ld\n  ridge: %.17g\n  top_k: %d\n  fourier_k: %d\n",
             c->checkpoint_every, c->ridge, c->top_k, c->fourier_k);
    yaml_str(&b, &len, &cap, "  noise: %.17g\n  noise_seed: %llu\n  blowup: %.17g\n  flow: %s\n", c->noise,
             (unsigned long long)c->noise_seed, c->blowup, c->flow ? "true" : "false");
    yaml_str(&b, &len, &cap, "  freeze_eps: %.17g\n  freeze_k: %d\n  freeze_delta: %d\n", c->freeze_eps, c->freeze_k,
             c->freeze_delta);
    if (c->eval_target[0]) yaml_str(&b, &len, &cap, "  eval_target: \"%s\"\n", c->eval_target);
    if (c->target_modes_count) yaml_list(&b, &len, &cap, "  target_modes", c->target_modes, c->target_modes_count);
    if (c->target_amps_count) yaml_dlist(&b, &len, &cap, "  target_amps", c->target_amps, c->target_amps_count);
    if (c->target_phases_count)
        yaml_dlist(&b, &len, &cap, "  target_phases", c->target_phases, c->target_phases_count);
    if (c->target_cos_count) {
        yaml_str(&b, &len, &cap, "  target_basis: [");
        for (int i = 0; i < c->target_cos_count; i++)
            yaml_str(&b, &len, &cap, "%s%s", i ? ", " : "", c->target_cos[i] ? "cos" : "sin");
        yaml_str(&b, &len, &cap, "]\n");
    }
    if (c->target_partial) yaml_str(&b, &len, &cap, "  target_partial: %d\n", c->target_partial);
    if (strcmp(c->command, "sweep") == 0)
        yaml_str(&b, &len, &cap, "sweep:\n  lazy_drift: %.17g\n  lazy_lin_err: %.17g\n  unstable_loss_ratio: %.17g\n"
                 "  catapult_spike: %.17g\n  tau: %.17g\n", c->lazy_drift, c->lazy_lin_err, c->unstable_loss_ratio,
                 c->catapult_spike, c->tau);
    return b;
}

int cli_set_eval_points(cli_config *c, const char *name, const char *v)
{
    if (strcmp(v, "uniform") != 0 && strcmp(v, "grid") != 0) {
        cli_errorf("%s: unknown value '%s' (expected uniform|grid)", name, v);
        return CLI_EXIT_USAGE;
    }
    snprintf(c->eval_points, sizeof c->eval_points, "%s", v);
    return 0;
}

int cli_set_target_basis(cli_config *c, const char *name, char *const *items, int n)
{
    if (n < 1) {
        cli_errorf("%s: expected sin or cos, or a list of them", name);
        return CLI_EXIT_USAGE;
    }
    int *v = malloc((size_t)n * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
    for (int i = 0; i < n; i++) {
        if (strcmp(items[i], "sin") != 0 && strcmp(items[i], "cos") != 0) {
            cli_errorf("%s: entry %d is '%s' (expected sin or cos)", name, i, items[i]);
            free(v);
            return CLI_EXIT_USAGE;
        }
        v[i] = items[i][0] == 'c';
    }
    free(c->target_cos);
    c->target_cos = v;
    c->target_cos_count = n;
    return 0;
}
