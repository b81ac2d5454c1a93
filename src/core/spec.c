/* spec.c -- network specification: defaults, validation, names. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

ntk_spec ntk_spec_default(void)
{
    ntk_spec s;
    memset(&s, 0, sizeof s);
    s.depth = 3;
    s.widths = NULL;
    s.n0 = 16;
    s.outputs = 1;
    s.act = NTK_ACT_RELU;
    s.param = NTK_PARAM_NTK;
    s.sw2 = 2.0;
    s.sw2_out = 1.0;
    s.sb = 1.0;
    s.bias = NTK_BIAS_ZERO;
    s.bias_out = NTK_BIAS_ZERO;
    s.first_layer = NTK_FIRST_FAN_IN;
    return s;
}

static ntk_status spec_fail(char *msg, size_t cap, const char *fmt, const char *field, double v)
{
    char buf[512];
    snprintf(buf, sizeof buf, fmt, field, v);
    if (msg && cap) snprintf(msg, cap, "%s", buf);
    return ntk_set_error(NTK_EINVAL, "%s", buf);
}

ntk_status ntk_spec_check(const ntk_spec *s, char *msg, size_t cap)
{
    if (!s) return spec_fail(msg, cap, "%s: spec is NULL%.0f", "spec", 0);
    if (s->depth < 0 || s->depth > NTK_MAX_DEPTH)
        return spec_fail(msg, cap, "%s must be in [0, 100000] (hidden layers), got %.0f", "depth",
                         s->depth);
    if (s->depth > 0 && !s->widths)
        return spec_fail(msg, cap, "%s: depth %.0f needs a width per hidden layer", "widths", s->depth);
    for (int l = 0; l < s->depth; l++) {
        if (s->widths[l] <= 0) {
            char field[48];
            snprintf(field, sizeof field, "widths[%d]", l + 1);
            return spec_fail(msg, cap, "%s must be a positive integer, got %.0f", field, s->widths[l]);
        }
    }
    if (s->n0 <= 0) return spec_fail(msg, cap, "%s must be a positive integer, got %.0f", "n0", s->n0);
    if (s->outputs <= 0)
        return spec_fail(msg, cap, "%s must be a positive integer, got %.0f", "outputs", s->outputs);
    if ((unsigned)s->act > NTK_ACT_SIGMOID)
        return spec_fail(msg, cap, "%s: unknown activation code %.0f", "act", (double)s->act);
    if ((unsigned)s->param > NTK_PARAM_STANDARD)
        return spec_fail(msg, cap, "%s: unknown parameterization code %.0f", "param", (double)s->param);
    if ((unsigned)s->bias > NTK_BIAS_ZERO)
        return spec_fail(msg, cap, "%s: unknown bias option code %.0f", "bias", (double)s->bias);
    if ((unsigned)s->bias_out > NTK_BIAS_ZERO)
        return spec_fail(msg, cap, "%s: unknown bias option code %.0f", "bias_out", (double)s->bias_out);
    if ((unsigned)s->first_layer > NTK_FIRST_NONE)
        return spec_fail(msg, cap, "%s: unknown first-layer option code %.0f", "first_layer",
                         (double)s->first_layer);
    if (!isfinite(s->sw2) || s->sw2 <= 0)
        return spec_fail(msg, cap, "%s (hidden sigma_w^2) must be finite and > 0, got %g", "sw2", s->sw2);
    if (!isfinite(s->sw2_out) || s->sw2_out <= 0)
        return spec_fail(msg, cap, "%s (readout sigma_w^2) must be finite and > 0, got %g", "sw2_out",
                         s->sw2_out);
    if (!isfinite(s->sb) || s->sb < 0)
        return spec_fail(msg, cap, "%s (bias multiplier c_b) must be finite and >= 0, got %g", "sb", s->sb);
    int has_bias = s->bias != NTK_BIAS_NONE || s->bias_out != NTK_BIAS_NONE;
    if (has_bias && s->sb == 0 && s->param == NTK_PARAM_NTK)
        return spec_fail(msg, cap,
                         "%s = %g with bias parameters present: a bias multiplied by 0 is not "
                         "trainable; use bias none instead",
                         "sb", s->sb);
    /* parameter count must fit comfortably in size_t and int-based BLAS dims */
    double P = 0;
    int prev = s->n0;
    for (int l = 0; l <= s->depth; l++) {
        int n = l < s->depth ? s->widths[l] : s->outputs;
        P += (double)n * prev + n;
        prev = n;
    }
    if (P > 4e12)
        return spec_fail(msg, cap, "%s: the network would have %.3g parameters; too many", "widths", P);
    if (msg && cap) msg[0] = '\0';
    return NTK_OK;
}

static const char *act_names[] = {"relu", "erf", "tanh", "gelu", "identity", "sigmoid"};
static const char *param_names[] = {"ntk", "standard"};
static const char *bias_names[] = {"none", "normal", "zero"};
static const char *first_names[] = {"fan_in", "none"};
static const char *loss_names[] = {"half_sum", "half_mean", "mse"};

#define NAME_OF(tab, v) ((unsigned)(v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

const char *ntk_act_name(ntk_act a) { return NAME_OF(act_names, a); }
const char *ntk_param_name(ntk_param p) { return NAME_OF(param_names, p); }
const char *ntk_bias_name(ntk_bias b) { return NAME_OF(bias_names, b); }
const char *ntk_first_layer_name(ntk_first_layer f) { return NAME_OF(first_names, f); }
const char *ntk_loss_name(ntk_loss l) { return NAME_OF(loss_names, l); }

static const char *dtype_names[] = {"float64", "float32", "int64", "int32", "uint8"};
static const size_t dtype_sizes[] = {8, 4, 8, 4, 1};
const char *ntk_dtype_name(ntk_dtype t) { return NAME_OF(dtype_names, t); }
size_t ntk_dtype_size(ntk_dtype t) { return (unsigned)t < 5 ? dtype_sizes[t] : 0; }

static int lookup(const char *s, const char *const *tab, int n)
{
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(s, tab[i]) == 0) return i;
    return -1;
}

static ntk_status parse_enum(const char *s, const char *const *tab, int n, const char *what, int *out)
{
    int i = lookup(s, tab, n);
    if (i < 0) {
        char choices[128] = "";
        for (int j = 0; j < n; j++) {
            strncat(choices, tab[j], sizeof choices - strlen(choices) - 1);
            if (j + 1 < n) strncat(choices, "|", sizeof choices - strlen(choices) - 1);
        }
        return ntk_set_error(NTK_EINVAL, "unknown %s '%s' (expected %s)", what, s ? s : "(null)", choices);
    }
    *out = i;
    return NTK_OK;
}

ntk_status ntk_act_parse(const char *s, ntk_act *out)
{
    int v = 0;
    ntk_status st = parse_enum(s, act_names, (int)(sizeof act_names / sizeof act_names[0]), "activation", &v);
    if (st == NTK_OK) *out = (ntk_act)v;
    return st;
}

ntk_status ntk_param_parse(const char *s, ntk_param *out)
{
    int v = 0;
    ntk_status st = parse_enum(s, param_names, 2, "parameterization", &v);
    if (st == NTK_OK) *out = (ntk_param)v;
    return st;
}

ntk_status ntk_bias_parse(const char *s, ntk_bias *out)
{
    int v = 0;
    ntk_status st = parse_enum(s, bias_names, 3, "bias option", &v);
    if (st == NTK_OK) *out = (ntk_bias)v;
    return st;
}

ntk_status ntk_first_layer_parse(const char *s, ntk_first_layer *out)
{
    int v = 0;
    ntk_status st = parse_enum(s, first_names, 2, "first-layer option", &v);
    if (st == NTK_OK) *out = (ntk_first_layer)v;
    return st;
}

ntk_status ntk_loss_parse(const char *s, ntk_loss *out)
{
    /* "sum" and "mean", the names before mse existed, stay accepted for half_sum and half_mean */
    if (s && strcmp(s, "sum") == 0) s = "half_sum";
    if (s && strcmp(s, "mean") == 0) s = "half_mean";
    int v = 0;
    ntk_status st = parse_enum(s, loss_names, 3, "loss", &v);
    if (st == NTK_OK) *out = (ntk_loss)v;
    return st;
}

double ntk_loss_factor(ntk_loss l, size_t N)
{
    switch (l) {
    case NTK_LOSS_SUM: return 1.0;
    case NTK_LOSS_MEAN: return N ? 1.0 / (double)N : NAN;
    case NTK_LOSS_MSE: return N ? 2.0 / (double)N : NAN;
    }
    return NAN;
}
