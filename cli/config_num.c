/* config_num.c -- strict numbers for flags and YAML: the parsers and the table of numeric keys
 * (docs/cli.md, "Numbers").  A value is read whole against the decimal grammar YAML 1.2 uses,
 *     [-+]? ( digits [ "." digits* ] | "." digits ) ( [eE] [-+]? digits )?
 * and integers are then taken exactly from their digits, so "1e3" is 1000 and "2.5" is no
 * integer, whatever a double would round them to. */
#include "config_num.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ULLONG_MAX == UINT64_MAX, "unsigned long long holds exactly the uint64_t range");

/* A number in the decimal grammar, split into its parts. */
typedef struct {
    bool neg, point, expo;
    const char *digits_int, *digits_frac;
    size_t n_int, n_frac;
    long exp; /* the exponent, saturated at +-EXP_CAP */
} dec_form;

enum { EXP_CAP = 100000000 }; /* far beyond any digit count of a 16 MiB file, and far below LONG_MAX */

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static bool dec_scan(const char *s, dec_form *d)
{
    memset(d, 0, sizeof *d);
    if (*s == '+' || *s == '-') d->neg = *s++ == '-';
    d->digits_int = s;
    while (is_digit(*s)) s++;
    d->n_int = (size_t)(s - d->digits_int);
    d->digits_frac = s;
    if (*s == '.') {
        d->point = true;
        d->digits_frac = ++s;
        while (is_digit(*s)) s++;
        d->n_frac = (size_t)(s - d->digits_frac);
    }
    if (d->n_int + d->n_frac == 0) return false;
    if (*s == 'e' || *s == 'E') {
        d->expo = true;
        s++;
        bool eneg = false;
        if (*s == '+' || *s == '-') eneg = *s++ == '-';
        if (!is_digit(*s)) return false;
        long e = 0;
        for (; is_digit(*s); s++) e = e >= EXP_CAP / 10 ? EXP_CAP : e * 10 + (*s - '0');
        d->exp = eneg ? -e : e;
    }
    return *s == '\0';
}

/* Digit i of the mantissa's digits (integer part, then fraction). */
static char dec_digit(const dec_form *d, long i)
{
    return (size_t)i < d->n_int ? d->digits_int[i] : d->digits_frac[(size_t)i - d->n_int];
}

/* The magnitude of d when it is exactly an integer: *is_int, and *mag (with *overflow past 2^64-1). */
static void dec_integer(const dec_form *d, bool *is_int, bool *overflow, unsigned long long *mag)
{
    long n = (long)(d->n_int + d->n_frac), p = (long)d->n_int + d->exp; /* digits before the point */
    *is_int = true;
    *overflow = false;
    *mag = 0;
    for (long i = p < 0 ? 0 : p; i < n; i++)
        if (dec_digit(d, i) != '0') *is_int = false;
    for (long i = 0; i < p && i < n && !*overflow; i++) { /* the digits before the point */
        unsigned dig = (unsigned)(dec_digit(d, i) - '0');
        if (*mag > (ULLONG_MAX - dig) / 10)
            *overflow = true;
        else
            *mag = *mag * 10 + dig;
    }
    for (long i = n; i < p && *mag != 0 && !*overflow; i++) { /* zeros the exponent appends: overflow by 20 */
        if (*mag > ULLONG_MAX / 10)
            *overflow = true;
        else
            *mag *= 10;
    }
}

/* 'text' for a message: at most 60 characters, control characters as \xNN (one line). */
static void quote_text(const char *text, char *buf, size_t cap)
{
    size_t k = 0, i = 0;
    for (; text[i] && i < 60 && k + 5 < cap; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 || ch == 0x7f)
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", ch);
        else
            buf[k++] = (char)ch;
    }
    if (text[i] && k + 4 < cap) k += (size_t)snprintf(buf + k, cap - k, "...");
    buf[k < cap ? k : cap - 1] = '\0';
}

static int refuse(const char *name, const char *what, const char *text, const char *why, char *msg, size_t cap)
{
    char q[256];
    quote_text(text, q, sizeof q);
    snprintf(msg, cap, "%s: expected %s, got '%s'%s", name, what, q, why);
    return CLI_EXIT_USAGE;
}

static const char *LEADING_ZERO = " (a leading zero: octal in YAML 1.1; write the number without it)";

/* The sign and magnitude of an integer written in any accepted form (plain digits without a leading
 * zero, or a decimal / exponent form whose value is an exact integer); refused with the message
 * otherwise.  what: "an integer in [lo, hi]". */
static int int_magnitude(const char *name, const char *what, const char *text, bool *neg, unsigned long long *mag,
                         char *msg, size_t cap)
{
    dec_form d;
    if (!dec_scan(text, &d)) return refuse(name, what, text, "", msg, cap);
    if (!d.point && !d.expo && d.n_int > 1 && d.digits_int[0] == '0')
        return refuse(name, what, text, LEADING_ZERO, msg, cap);
    bool is_int, overflow;
    dec_integer(&d, &is_int, &overflow, mag);
    if (!is_int || overflow) return refuse(name, what, text, "", msg, cap);
    *neg = d.neg;
    return 0;
}

int cli_parse_int_key(const char *name, const char *text, long long lo, long long hi, long long *out, char *msg,
                      size_t cap)
{
    char what[96];
    snprintf(what, sizeof what, "an integer in [%lld, %lld]", lo, hi);
    bool neg;
    unsigned long long mag;
    if (int_magnitude(name, what, text, &neg, &mag, msg, cap)) return CLI_EXIT_USAGE;
    long long v;
    if (neg) {
        if (mag > (unsigned long long)LLONG_MAX + 1) return refuse(name, what, text, "", msg, cap);
        v = mag == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)mag;
    } else {
        if (mag > (unsigned long long)LLONG_MAX) return refuse(name, what, text, "", msg, cap);
        v = (long long)mag;
    }
    if (v < lo || v > hi) return refuse(name, what, text, "", msg, cap);
    *out = v;
    return 0;
}

int cli_parse_u64_key(const char *name, const char *text, uint64_t *out, char *msg, size_t cap)
{
    char what[96];
    snprintf(what, sizeof what, "an integer in [0, %llu]", (unsigned long long)UINT64_MAX);
    bool neg;
    unsigned long long mag;
    if (int_magnitude(name, what, text, &neg, &mag, msg, cap)) return CLI_EXIT_USAGE;
    if (neg && mag != 0) return refuse(name, what, text, "", msg, cap);
    *out = (uint64_t)mag;
    return 0;
}

int cli_parse_double_key(const char *name, const char *text, double *out, char *msg, size_t cap)
{
    dec_form d;
    if (!dec_scan(text, &d)) return refuse(name, "a finite number", text, "", msg, cap);
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (!end || *end != '\0' || !isfinite(v)) return refuse(name, "a finite number", text, "", msg, cap);
    if (v == 0) {
        bool zero = true;
        for (long i = 0; i < (long)(d.n_int + d.n_frac); i++) zero = zero && dec_digit(&d, i) == '0';
        if (!zero) return refuse(name, "a finite number", text, " (too small for a double: it would read as 0)", msg, cap);
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- the numeric keys */

#define SCALAR(key, flag, kind, lo, hi, field) {key, flag, kind, lo, hi, offsetof(cli_config, field), 0}
#define LIST(key, flag, kind, lo, hi, field, count) \
    {key, flag, kind, lo, hi, offsetof(cli_config, field), offsetof(cli_config, count)}
#define F64(key, flag, field) SCALAR(key, flag, CLI_NUM_F64, 0, 0, field)

/* Every numeric YAML key and flag: adding a key is one row here (and its schema field, its flag). */
static const cli_num_key KEYS[] = {
    SCALAR("model.depth", "depth", CLI_NUM_INT, 0, NTK_MAX_DEPTH, depth),
    SCALAR("model.width", "width", CLI_NUM_INT, 1, INT_MAX, width),
    LIST("model.widths", "widths", CLI_NUM_INTS, 1, INT_MAX, widths, widths_count),
    SCALAR("model.n0", "n0", CLI_NUM_INT, 1, INT_MAX, n0),
    SCALAR("model.outputs", "outputs", CLI_NUM_INT, 1, INT_MAX, outputs),
    F64("model.sw2", "sw2", sw2),
    F64("model.sw2_out", "sw2-out", sw2_out),
    F64("model.sb", "sb", sb),
    SCALAR("data.n", "n", CLI_NUM_LONG, 1, INT_MAX, n),
    SCALAR("data.seed", "data-seed", CLI_NUM_U64, 0, 0, data_seed),
    LIST("data.classes", "classes", CLI_NUM_INTS, 0, 9, classes, classes_count),
    SCALAR("run.seed", "seed", CLI_NUM_U64, 0, 0, seed),
    SCALAR("run.threads", "threads", CLI_NUM_INT, 0, 1024, threads),
    F64("run.max_memory_gb", "max-memory", max_memory_gb),
    SCALAR("kernel.tile_rows", "tile-rows", CLI_NUM_LONG, 0, LONG_MAX / 2, tile_rows),
    LIST("study.widths", "widths", CLI_NUM_INTS, 1, INT_MAX, study_widths, study_widths_count),
    LIST("study.depths", "depths", CLI_NUM_INTS, 0, NTK_MAX_DEPTH, study_depths, study_depths_count),
    LIST("study.seeds", "seeds", CLI_NUM_INTS, 0, INT_MAX, seeds, seeds_count),
    LIST("study.lr_fracs", "lr-fracs", CLI_NUM_POS_F64S, 0, 0, lr_fracs, lr_fracs_count),
    LIST("study.betas", "betas", CLI_NUM_POS_F64S, 0, 0, betas, betas_count),
    F64("sweep.lazy_drift", "lazy-drift", lazy_drift),
    F64("sweep.lazy_lin_err", "lazy-lin-err", lazy_lin_err),
    F64("sweep.unstable_loss_ratio", "unstable-loss-ratio", unstable_loss_ratio),
    F64("sweep.catapult_spike", "catapult-spike", catapult_spike),
    F64("sweep.tau", "tau", tau),
    SCALAR("train.n_eval", "n-eval", CLI_NUM_LONG, 0, INT_MAX, n_eval),
    SCALAR("train.steps", "steps", CLI_NUM_LONG, 0, LONG_MAX / 2, steps),
    SCALAR("train.batch", "batch", CLI_NUM_LONG, 0, INT_MAX, batch),
    SCALAR("train.checkpoint_every", "checkpoint-every", CLI_NUM_LONG, 0, LONG_MAX / 2, checkpoint_every),
    F64("train.lr", "lr", lr),
    F64("train.lr_frac", "lr-frac", lr_frac),
    F64("train.momentum", "momentum", momentum),
    F64("train.ridge", "ridge", ridge),
    F64("train.noise", "noise", noise),
    F64("train.blowup", "blowup", blowup),
    SCALAR("train.top_k", "top-k", CLI_NUM_INT, 1, 100000, top_k),
    SCALAR("train.fourier_k", "fourier-k", CLI_NUM_INT, 1, 100000, fourier_k),
    SCALAR("train.noise_seed", "noise-seed", CLI_NUM_U64, 0, 0, noise_seed),
    LIST("train.target_modes", "target-modes", CLI_NUM_INTS, 0, 100000, target_modes, target_modes_count),
    LIST("train.target_amps", "target-amps", CLI_NUM_F64S, 0, 0, target_amps, target_amps_count),
    LIST("train.target_phases", "target-phases", CLI_NUM_F64S, 0, 0, target_phases, target_phases_count),
    SCALAR("train.target_partial", "target-partial", CLI_NUM_INT, 0, 100000, target_partial),
    F64("train.freeze_eps", "freeze-eps", freeze_eps),
    SCALAR("train.freeze_k", "freeze-k", CLI_NUM_INT, 1, 100000, freeze_k),
    SCALAR("train.freeze_delta", "freeze-delta", CLI_NUM_INT, 1, 100000, freeze_delta),
    SCALAR("profile.train_n", "train-n", CLI_NUM_LONG, 1, INT_MAX, train_n),
    SCALAR("ensemble.members", "members", CLI_NUM_LONG, 2, INT_MAX, members),
    F64("ensemble.s", "s", s_norm),
    F64("ensemble.angle", "angle", angle_deg),
    F64("ensemble.lr", "lr", ens_lr),
    F64("ensemble.y", "y", target_y),
};

const cli_num_key *cli_num_find(const char *key)
{
    for (size_t i = 0; i < sizeof KEYS / sizeof *KEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0) return &KEYS[i];
    return NULL;
}

bool cli_num_is_list(const cli_num_key *k)
{
    return k->kind == CLI_NUM_INTS || k->kind == CLI_NUM_POS_F64S || k->kind == CLI_NUM_F64S;
}

void cli_num_expected(const cli_num_key *k, char *buf, size_t cap)
{
    switch (k->kind) {
    case CLI_NUM_U64: snprintf(buf, cap, "an integer in [0, %llu]", (unsigned long long)UINT64_MAX); break;
    case CLI_NUM_F64:
    case CLI_NUM_F64S: snprintf(buf, cap, "a finite number"); break;
    case CLI_NUM_POS_F64S: snprintf(buf, cap, "a finite number > 0"); break;
    default: snprintf(buf, cap, "an integer in [%lld, %lld]", k->lo, k->hi); break;
    }
}

static void *field(cli_config *c, size_t off) { return (char *)c + off; }

int cli_num_set(cli_config *c, const cli_num_key *k, const char *name, const char *text, char *msg, size_t cap)
{
    long long v;
    int rc;
    switch (k->kind) {
    case CLI_NUM_INT:
        if ((rc = cli_parse_int_key(name, text, k->lo, k->hi, &v, msg, cap))) return rc;
        *(int *)field(c, k->off) = (int)v;
        return 0;
    case CLI_NUM_LONG:
        if ((rc = cli_parse_int_key(name, text, k->lo, k->hi, &v, msg, cap))) return rc;
        *(long *)field(c, k->off) = (long)v;
        return 0;
    case CLI_NUM_U64: return cli_parse_u64_key(name, text, (uint64_t *)field(c, k->off), msg, cap);
    case CLI_NUM_F64: return cli_parse_double_key(name, text, (double *)field(c, k->off), msg, cap);
    default: snprintf(msg, cap, "%s: is a list (internal: cli_num_set)", name); return CLI_EXIT_FAIL;
    }
}

int cli_num_entry(const cli_num_key *k, const char *name, const char *text, void *dst, char *msg, size_t cap)
{
    if (k->kind == CLI_NUM_INTS) {
        long long v;
        int rc = cli_parse_int_key(name, text, k->lo, k->hi, &v, msg, cap);
        if (!rc) *(int *)dst = (int)v;
        return rc;
    }
    double v;
    int rc = cli_parse_double_key(name, text, &v, msg, cap);
    if (rc) return rc;
    if (k->kind == CLI_NUM_POS_F64S && !(v > 0)) {
        char q[256];
        quote_text(text, q, sizeof q);
        snprintf(msg, cap, "%s: entries must be > 0, got '%s'", name, q);
        return CLI_EXIT_USAGE;
    }
    *(double *)dst = v;
    return 0;
}

void cli_num_store_list(cli_config *c, const cli_num_key *k, void *values, int n)
{
    void **p = (void **)field(c, k->off);
    free(*p);
    *p = values;
    *(int *)field(c, k->count_off) = n;
}

int cli_num_set_list(cli_config *c, const cli_num_key *k, const char *name, char *const *texts, int n, int *bad,
                     char *msg, size_t cap)
{
    size_t size = k->kind == CLI_NUM_INTS ? sizeof(int) : sizeof(double);
    char *v = malloc((n > 0 ? (size_t)n : 1) * size);
    if (!v) {
        snprintf(msg, cap, "%s: out of memory", name);
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < n; i++) {
        int rc = cli_num_entry(k, name, texts[i], v + (size_t)i * size, msg, cap);
        if (rc) {
            free(v);
            *bad = i;
            return rc;
        }
    }
    cli_num_store_list(c, k, v, n);
    return 0;
}
