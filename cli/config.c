/* config.c -- the CLI configuration from the table of settings (config_keys.c): defaults, the one
 * setter every value goes through (flags, YAML, defaults), the resolved config.yaml, copies, and
 * the spec built from it.  Precedence: built-in defaults < --config FILE (config_yaml.c) < flags
 * (config_flags.c). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_keys.h"
#include "config_num.h"

_Static_assert(sizeof(ntk_act) == sizeof(int) && sizeof(ntk_dtype) == sizeof(int), "enums are int-sized");

int cli_vmessage(int rc, const char *fmt, va_list ap)
{
    fputs("ntkdrift: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return rc;
}

int cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_vmessage(CLI_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_msgf(char *msg, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

static void *at(const cli_config *c, size_t off) { return (char *)c + off; }

/* Empty list k of c. */
static void list_clear(cli_config *c, const cli_key *k)
{
    free(*(void **)at(c, k->off));
    *(void **)at(c, k->off) = NULL;
    *(int *)at(c, k->aux) = 0;
}

bool cli_key_is_list(const cli_key *k) { return k->type == T_INTS || k->type == T_F64S || k->type == T_CHOICES; }

/* The index of word w in "a|b|c", or -1; word i of it into buf. */
static int word_index(const char *choices, const char *w)
{
    size_t n = strlen(w);
    for (int i = 0;; i++) {
        const char *bar = strchr(choices, '|');
        size_t len = bar ? (size_t)(bar - choices) : strlen(choices);
        if (len == n && strncmp(choices, w, n) == 0) return i;
        if (!bar) return -1;
        choices = bar + 1;
    }
}

static const char *word_at(const char *choices, int i, char *buf, size_t cap)
{
    for (; i > 0 && choices; i--) choices = strchr(choices, '|') ? strchr(choices, '|') + 1 : NULL;
    snprintf(buf, cap, "%.*s", choices ? (int)strcspn(choices, "|") : 1, choices ? choices : "?");
    return buf;
}

/* The words of a library enum, "a|b|c". */
static void enum_words(const cli_enum *en, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int v = 0; strcmp(en->name(v), "?") != 0 && len < cap; v++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", v ? "|" : "", en->name(v));
}

void cli_key_expected(const cli_key *k, char *buf, size_t cap)
{
    static const char *number[] = {"a finite number", "a finite number >= %lld", "a finite number > %lld",
                                   "a finite number in [%lld, %lld]"}; /* by k->rng */
    char words[256];
    switch (k->type) {
    case T_U64: snprintf(buf, cap, "an integer in [0, %llu]", (unsigned long long)UINT64_MAX); break;
    case T_F64:
    case T_F64S: snprintf(buf, cap, number[k->rng], k->lo, k->hi); break;
    case T_BOOL:
    case T_IBOOL: snprintf(buf, cap, "true or false"); break;
    case T_STR: snprintf(buf, cap, "a string"); break;
    case T_ENUM: enum_words(k->en, words, sizeof words); snprintf(buf, cap, "one of %s", words); break;
    case T_CHOICE:
    case T_WORD:
    case T_CHOICES: snprintf(buf, cap, "one of %s", k->choices); break;
    default: snprintf(buf, cap, "an integer in [%lld, %lld]", k->lo, k->hi); break;
    }
}

/* One value (a list's entry) of k from text into dst. */
static int parse_one(const cli_key *k, const char *name, const char *t, void *dst, bool checked, char *msg, size_t cap)
{
    long long v;
    int rc = 0, i;
    double d;
    char q[256], what[160];
    cli_quote_text(t, q, sizeof q);
    switch (k->type) {
    case T_INT:
    case T_INTS:
    case T_LONG:
        if ((rc = cli_parse_int_key(name, t, k->lo, k->hi, &v, msg, cap))) return rc;
        if (k->type == T_LONG) *(long *)dst = (long)v;
        else *(int *)dst = (int)v;
        return 0;
    case T_U64: return cli_parse_u64_key(name, t, dst, msg, cap);
    case T_F64:
    case T_F64S:
        if ((rc = cli_parse_double_key(name, t, &d, msg, cap))) return rc;
        if (checked && ((k->rng == R_GE && !(d >= (double)k->lo)) || (k->rng == R_GT && !(d > (double)k->lo)) ||
                        (k->rng == R_IN && !(d >= (double)k->lo && d <= (double)k->hi))))
            return cli_key_expected(k, what, sizeof what),
                   cli_msgf(msg, cap, "%s: expected %s, got '%s'", name, what, q);
        return *(double *)dst = d, 0;
    case T_BOOL:
    case T_IBOOL: {
        static const char *words[] = {"false", "no", "off", "0", "true", "yes", "on", "1"};
        for (i = 0; i < 8 && strcasecmp(t, words[i]) != 0;) i++;
        if (i == 8) return cli_msgf(msg, cap, "%s: expected true or false, got '%s'", name, q);
        if (k->type == T_BOOL) *(bool *)dst = i >= 4;
        else *(int *)dst = i >= 4;
        return 0;
    }
    case T_ENUM:
        return k->en->parse(t, dst) == 0 ? 0 : cli_msgf(msg, cap, "%s: %s", name, ntk_last_error());
    default: /* T_STR, T_WORD, T_CHOICE, T_CHOICES */
        if (k->type != T_STR && (i = word_index(k->choices, t)) < 0)
            return cli_msgf(msg, cap, "%s: unknown value '%s' (expected %s)", name, q, k->choices);
        if (k->type == T_CHOICE || k->type == T_CHOICES) return *(int *)dst = i, 0;
        if (!t[0] || strlen(t) >= k->aux) return cli_msgf(msg, cap, "%s: %s", name, t[0] ? "too long" : "empty");
        if (checked && k->hook == H_NAME && strchr(t, '/'))
            return cli_msgf(msg, cap, "%s: must be a non-empty name without '/', got '%s'", name, q);
        return memcpy(dst, t, strlen(t) + 1), 0;
    }
}

/* A list's entries (at least one); an integer entry "a:b" is a, a+1, ..., b-1. */
static int parse_list(cli_config *c, const cli_key *k, const char *name, const char *const *items, int n, bool checked,
                      int *bad, char *msg, size_t cap)
{
    char text[64];
    if (n == 0)
        return cli_key_expected(k, text, sizeof text),
               cli_msgf(msg, cap, "%s: expected a list (entries: %s), got an empty list", name, text);
    size_t size = k->type == T_F64S ? sizeof(double) : sizeof(int), room = (size_t)n, got = 0;
    char *v = malloc(room * size), *nv = NULL;
    int rc = v ? 0 : CLI_EXIT_FAIL;
    for (int i = 0; i < n && !rc; *bad = i++) {
        const char *colon = k->type == T_INTS ? strchr(items[i], ':') : NULL;
        long long a = 0, b = 0;
        if (!colon) {
            rc = parse_one(k, name, items[i], v + got++ * size, checked, msg, cap);
            continue;
        }
        bool fits = colon - items[i] < (long)sizeof text;
        snprintf(text, sizeof text, "%.*s", (int)(colon - items[i]), items[i]);
        rc = fits && !cli_parse_int_key(name, text, k->lo, k->hi, &a, msg, cap) &&
                     !cli_parse_int_key(name, colon + 1, k->lo, k->hi, &b, msg, cap) ? 0 : CLI_EXIT_USAGE;
        if (!fits || (!rc && (b <= a || b - a > 10000000)))
            rc = cli_msgf(msg, cap, "%s: expected a range a:b with a < b (= a..b-1), got '%.60s'", name, items[i]);
        if (!rc && !(nv = realloc(v, (room = got + (size_t)(b - a) + (size_t)(n - i)) * size))) rc = CLI_EXIT_FAIL;
        for (v = rc ? v : nv; !rc && a < b; a++) ((int *)(void *)v)[got++] = (int)a;
    }
    if (rc == CLI_EXIT_FAIL) snprintf(msg, cap, "%s: out of memory", name);
    if (rc) return free(v), rc;
    *bad = -1;
    list_clear(c, k);
    *(void **)at(c, k->off) = v;
    *(int *)at(c, k->aux) = (int)got;
    return 0;
}

int cli_key_set(cli_config *c, const cli_key *k, const char *name, const char *const *items, int n, bool checked,
                int *bad, char *msg, size_t cap)
{
    *bad = -1;
    int rc = cli_key_is_list(k) ? parse_list(c, k, name, items, n, checked, bad, msg, cap)
                                : parse_one(k, name, items[0], at(c, k->off), checked, msg, cap);
    if (rc || !checked) return rc;
    if (k->hook == H_SEEN) *(bool *)at(c, k->aux) = true;
    if (k->hook == H_LR) c->train.lr_frac = 0; /* one learning rate: the last given (in a file, lr_frac) */
    if (k->hook == H_LRFRAC) c->train.lr = 0;
    if (k->hook == H_WIDTH) list_clear(c, cli_key_find("model", "widths")); /* --width replaces a list of widths */
    return 0;
}

void cli_config_defaults(cli_config *c, const char *command)
{
    memset(c, 0, sizeof *c);
    ntk_spec s = ntk_spec_default(); /* the model's defaults are the library's */
    cli_model_cfg *m = &c->model;
    m->depth = s.depth, m->n0 = s.n0, m->outputs = s.outputs, m->act = s.act, m->param = s.param, m->sw2 = s.sw2;
    m->sw2_out = s.sw2_out, m->sb = s.sb, m->bias = s.bias, m->bias_out = s.bias_out, m->first_layer = s.first_layer;
    char msg[256];
    int bad;
    for (size_t i = 0; i < CLI_NKEYS; i++)
        if (CLI_KEYS[i].dflt) cli_key_set(c, &CLI_KEYS[i], CLI_KEYS[i].key, &CLI_KEYS[i].dflt, 1, false, &bad, msg, sizeof msg);
    unsigned bit = cli_command_bit(command);
    for (size_t i = 0; i < CLI_NOVERRIDES; i++) {
        const cli_override *o = &CLI_OVERRIDES[i];
        char sec[16], list[256];
        snprintf(sec, sizeof sec, "%.*s", (int)strcspn(o->key, "."), o->key);
        const cli_key *k = cli_key_find(sec, strchr(o->key, '.') + 1);
        if (!(o->cmds & bit) || !k) continue;
        const char *items[16] = {o->value};
        int n = 1;
        if (cli_key_is_list(k)) { /* a list's default: comma-separated entries */
            snprintf(list, sizeof list, "%s", o->value);
            items[0] = list;
            for (char *p = list; (p = strchr(p, ',')) && n < 16;) *p++ = '\0', items[n++] = p;
        }
        cli_key_set(c, k, o->key, items, n, false, &bad, msg, sizeof msg);
        if (k->write == W_BIAS_OUT) c->model.bias_out_set = true; /* a command's own readout bias */
    }
    snprintf(c->run.name, sizeof c->run.name, "%s", command);
    snprintf(c->command, sizeof c->command, "%s", command);
}

void cli_config_free(cli_config *c)
{
    for (size_t i = 0; i < CLI_NKEYS; i++)
        if (cli_key_is_list(&CLI_KEYS[i])) list_clear(c, &CLI_KEYS[i]);
}

int cli_config_copy(cli_config *dst, const cli_config *src)
{
    *dst = *src;
    int rc = 0;
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        const cli_key *k = &CLI_KEYS[i];
        if (!cli_key_is_list(k)) continue;
        size_t bytes = (size_t)*(int *)at(src, k->aux) * (k->type == T_F64S ? sizeof(double) : sizeof(int));
        void **p = at(dst, k->off), *v = bytes ? malloc(bytes) : NULL;
        if (bytes && v) memcpy(v, *(void **)at(src, k->off), bytes);
        if (bytes && !v) rc = CLI_EXIT_FAIL, *(int *)at(dst, k->aux) = 0;
        *p = v;
    }
    if (rc) cli_config_free(dst), cli_errorf("out of memory copying the configuration");
    return rc;
}

int cli_config_reload(cli_config *c, const char *command)
{
    char dir[CLI_PATH_MAX], cfg[CLI_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s", c->train.resume);
    cli_config_free(c);
    cli_config_defaults(c, command);
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    struct stat sb;
    int st = stat(dir, &sb), err = errno;
    if (st != 0 || !S_ISDIR(sb.st_mode))
        return cli_errorf("resume: %s is not a run directory (%s)", dir,
                          st != 0 && err != ENOENT ? strerror(err) : st != 0 ? "no such directory" : "not a directory");
    if (access(cfg, F_OK) != 0) return cli_errorf("resume: %s is not a run directory (no config.yaml)", dir);
    int rc = cli_config_load_yaml(c, cfg);
    if (rc) return rc;
    snprintf(c->run.out, sizeof c->run.out, "%s", dir);
    snprintf(c->train.resume, sizeof c->train.resume, "%s", dir);
    return 0;
}

int cli_model_spec(cli_model_cfg *m, ntk_spec *spec)
{
    if (m->widths_count > 0 && m->widths_count != m->depth)
        return cli_errorf("widths: %d widths given for depth %d (one per hidden layer)", m->widths_count, m->depth);
    if (m->widths_count == 0 && m->depth > 0) {
        if (m->width <= 0) return cli_errorf("width must be a positive integer, got %d", m->width);
        m->widths = malloc((size_t)m->depth * sizeof *m->widths);
        if (!m->widths) return CLI_EXIT_FAIL;
        for (int l = 0; l < m->depth; l++) m->widths[l] = m->width;
        m->widths_count = m->depth;
    }
    *spec = ntk_spec_default();
    spec->depth = m->depth, spec->widths = m->widths, spec->n0 = m->n0, spec->outputs = m->outputs;
    spec->act = m->act, spec->param = m->param, spec->sw2 = m->sw2, spec->sw2_out = m->sw2_out, spec->sb = m->sb;
    spec->bias = m->bias, spec->bias_out = m->bias_out_set ? m->bias_out : m->bias, spec->first_layer = m->first_layer;
    char msg[512];
    return ntk_spec_check(spec, msg, sizeof msg) == NTK_OK ? 0 : cli_errorf("invalid model: %s", msg);
}

bool cli_key_written(const cli_config *c, const cli_key *k)
{
    unsigned s = CLI_SECTION_CMDS[k->sec];
    if (s != C_ALL && !(s & cli_command_bit(c->command))) return false;
    const void *p = at(c, k->off);
    switch (k->write) {
    case W_NEVER: return false;
    case W_NOWIDTHS: return c->model.widths_count == 0;
    case W_LR: return !(c->train.lr_frac > 0);
    case W_LRFRAC: return c->train.lr_frac > 0;
    case W_ANGLE: return c->ensemble.angle >= 0;
    case W_SET:
        if (cli_key_is_list(k)) return *(const int *)at(c, k->aux) > 0;
        if (k->type == T_STR) return ((const char *)p)[0] != '\0';
        if (k->type == T_F64) return *(const double *)p != 0;
        return k->type == T_LONG ? *(const long *)p != 0 : *(const int *)p != 0;
    default: return true;
    }
}

void cli_key_print(FILE *fp, const cli_config *c, const cli_key *k, bool yaml)
{
    const void *p = at(c, k->off);
    char w[64];
    if (cli_key_is_list(k)) {
        int n = *(const int *)at(c, k->aux);
        fputc('[', fp);
        for (int i = 0; i < n; i++) {
            const void *e = *(const char *const *)p + (size_t)i * (k->type == T_F64S ? sizeof(double) : sizeof(int));
            if (i) fputs(", ", fp);
            if (k->type == T_F64S) fprintf(fp, yaml ? "%.17g" : "%g", *(const double *)e);
            else if (k->type == T_CHOICES) fputs(word_at(k->choices, *(const int *)e, w, sizeof w), fp);
            else fprintf(fp, "%d", *(const int *)e);
        }
        fputc(']', fp);
        return;
    }
    switch (k->type) {
    case T_INT: fprintf(fp, "%d", *(const int *)p); break;
    case T_LONG: fprintf(fp, "%ld", *(const long *)p); break;
    case T_U64: fprintf(fp, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case T_F64: fprintf(fp, yaml ? "%.17g" : "%g", *(const double *)p); break;
    case T_BOOL: fputs(*(const bool *)p ? "true" : "false", fp); break;
    case T_IBOOL: fputs(*(const int *)p ? "true" : "false", fp); break;
    case T_STR: fprintf(fp, yaml ? "\"%s\"" : "%s", (const char *)p); break;
    case T_WORD: fputs((const char *)p, fp); break;
    case T_CHOICE: fputs(word_at(k->choices, *(const int *)p, w, sizeof w), fp); break;
    default: /* T_ENUM; an unset readout bias is the hidden layers' */
        fputs(k->en->name(k->write == W_BIAS_OUT && !c->model.bias_out_set ? (int)c->model.bias : *(const int *)p), fp);
        break;
    }
}

char *cli_config_to_yaml(const cli_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    fputs("# resolved configuration (defaults < config file < flags)\n", fp);
    int sec = -1;
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        const cli_key *k = &CLI_KEYS[i];
        if (!cli_key_written(c, k)) continue;
        if (k->sec != sec) fprintf(fp, "%s:\n", CLI_SECTIONS[sec = k->sec]);
        fprintf(fp, "  %s: ", k->key);
        cli_key_print(fp, c, k, true);
        fputc('\n', fp);
    }
    return fclose(fp) == 0 ? buf : (free(buf), NULL);
}
