/* config_yaml.c -- the YAML configuration file, by a walk over libyaml's events against the table
 * of settings (config_keys.c): sections and keys are the table's, every value is read as text
 * (a list: texts) and set by the same setter as a flag, in the table's order once the whole file
 * is read.  Every refusal is one line "config <file>:<line>:<col>: <section.key>: <problem>";
 * unknown sections and keys, repeated ones, aliases and more than one document are refused. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "config_keys.h"

typedef struct {
    int line, col;
} pos;

typedef struct { /* what the file gives one key */
    bool given;
    pos at;
    char **items;
    pos *where;
    int n;
} slot;

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have; /* ev holds an event to delete */
    const char *path;
    slot slots[CLI_MAX_KEYS];
} walk;

static pos here(const walk *w) { return (pos){(int)w->ev.start_mark.line + 1, (int)w->ev.start_mark.column + 1}; }

static int fail(const walk *w, pos at, const char *what, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(const walk *w, pos at, const char *what, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cli_errorf("config %s:%d:%d: %s%s%s", w->path, at.line, at.col, what, what[0] ? ": " : "", msg);
}

static int next(walk *w)
{
    if (w->have) yaml_event_delete(&w->ev);
    w->have = yaml_parser_parse(&w->parser, &w->ev) == 1;
    if (w->have) return 0;
    pos at = {(int)w->parser.problem_mark.line + 1, (int)w->parser.problem_mark.column + 1};
    return fail(w, at, "", "not YAML: %s", w->parser.problem ? w->parser.problem : "syntax error");
}

static const char *kind(const walk *w)
{
    switch (w->ev.type) {
    case YAML_SCALAR_EVENT: return "a single value";
    case YAML_SEQUENCE_START_EVENT: return "a sequence";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_ALIAS_EVENT: return "an alias (not supported)";
    default: return "no value";
    }
}

static const char *scalar(const walk *w) { return (const char *)w->ev.data.scalar.value; }

static int add_item(walk *w, slot *s)
{
    if ((s->n & (s->n - 1)) == 0) { /* room for 2n entries at every power of two */
        size_t room = s->n ? 2 * (size_t)s->n : 1;
        char **items = realloc(s->items, room * sizeof *items);
        if (items) s->items = items;
        pos *where = items ? realloc(s->where, room * sizeof *where) : NULL;
        if (!where) return cli_errorf("out of memory"), CLI_EXIT_FAIL;
        s->where = where;
    }
    if (!(s->items[s->n] = strdup(scalar(w)))) return cli_errorf("out of memory"), CLI_EXIT_FAIL;
    s->where[s->n++] = here(w);
    return 0;
}

/* The value of k (w->ev its first event): one text, or a sequence of them for a list. */
static int read_value(walk *w, const cli_key *k, slot *s, const char *name)
{
    char what[160];
    cli_key_expected(k, what, sizeof what);
    s->given = true;
    s->at = here(w);
    if (!cli_key_is_list(k))
        return w->ev.type == YAML_SCALAR_EVENT ? add_item(w, s) : fail(w, s->at, name, "expected %s, got %s", what, kind(w));
    if (w->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail(w, s->at, name, "expected a list (entries: %s), got %s", what, kind(w));
    for (int rc;;) {
        if ((rc = next(w))) return rc;
        if (w->ev.type == YAML_SEQUENCE_END_EVENT) return 0;
        if (w->ev.type != YAML_SCALAR_EVENT) return fail(w, here(w), name, "expected %s, got %s", what, kind(w));
        if ((rc = add_item(w, s))) return rc;
    }
}

/* One section's mapping (w->ev its start). */
static int read_section(walk *w, int sec)
{
    const char *sname = CLI_SECTIONS[sec];
    if (w->ev.type != YAML_MAPPING_START_EVENT) return fail(w, here(w), sname, "expected a mapping of keys, got %s", kind(w));
    for (int rc;;) {
        if ((rc = next(w))) return rc;
        if (w->ev.type == YAML_MAPPING_END_EVENT) return 0;
        if (w->ev.type != YAML_SCALAR_EVENT) return fail(w, here(w), sname, "expected a key, got %s", kind(w));
        char name[160];
        snprintf(name, sizeof name, "%s.%.100s", sname, scalar(w));
        const cli_key *k = cli_key_find(sname, scalar(w));
        if (!k) {
            char keys[1024];
            size_t len = 0;
            for (size_t i = 0; i < CLI_NKEYS && len < sizeof keys; i++)
                if (CLI_KEYS[i].sec == sec)
                    len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", len ? " " : "", CLI_KEYS[i].key);
            return fail(w, here(w), name, "unknown key (%s keys: %s)", sname, keys);
        }
        slot *s = &w->slots[k - CLI_KEYS];
        if (s->given) return fail(w, here(w), name, "repeated key");
        if ((rc = next(w)) || (rc = read_value(w, k, s, name))) return rc;
    }
}

/* The whole stream: nothing, an empty document, or one mapping of sections. */
static int read_stream(walk *w)
{
    int rc, seen[S_COUNT] = {0};
    if ((rc = next(w)) || (rc = next(w)) || w->ev.type == YAML_STREAM_END_EVENT || (rc = next(w))) return rc;
    bool empty = w->ev.type == YAML_SCALAR_EVENT && w->ev.data.scalar.plain_implicit &&
                 (!scalar(w)[0] || strcmp(scalar(w), "~") == 0 || strcmp(scalar(w), "null") == 0);
    if (!empty && w->ev.type != YAML_MAPPING_START_EVENT)
        return fail(w, here(w), "", "expected a mapping of sections (model:, data:, ...), got %s", kind(w));
    while (!empty) { /* an empty document: nothing to override */
        if ((rc = next(w))) return rc;
        if (w->ev.type == YAML_MAPPING_END_EVENT) break;
        int sec = 0;
        while (sec < S_COUNT && !(w->ev.type == YAML_SCALAR_EVENT && strcmp(scalar(w), CLI_SECTIONS[sec]) == 0)) sec++;
        if (sec == S_COUNT && w->ev.type != YAML_SCALAR_EVENT)
            return fail(w, here(w), "", "expected a section name, got %s", kind(w));
        if (sec == S_COUNT)
            return fail(w, here(w), scalar(w), "unknown section (expected model|data|study|run|kernel|ensemble|"
                                               "profile|train|sweep|modes)");
        if (seen[sec]++) return fail(w, here(w), CLI_SECTIONS[sec], "repeated section");
        if ((rc = next(w)) || (rc = read_section(w, sec))) return rc;
    }
    if ((rc = next(w)) || (rc = next(w))) return rc; /* the document's end, then the stream's */
    return w->ev.type == YAML_STREAM_END_EVENT ? 0 : fail(w, here(w), "", "more than one YAML document");
}

/* The file's bytes (at most 16 MiB) into *buf[*len]. */
static int read_file(const char *path, char **buf, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return cli_errorf("config %s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, got;
    *len = 0;
    *buf = malloc(cap);
    while (*buf && (got = fread(*buf + *len, 1, cap - *len, fp)) > 0)
        if ((*len += got) == cap) {
            char *nb = cap >= (1u << 24) ? NULL : realloc(*buf, cap *= 2);
            if (!nb && cap >= (1u << 24))
                return free(*buf), fclose(fp), cli_errorf("config %s: file too large for a configuration", path);
            if (!nb) free(*buf);
            *buf = nb;
        }
    int err = ferror(fp);
    fclose(fp);
    return !*buf || err ? free(*buf), cli_errorf("config %s: cannot read", path) : 0;
}

int cli_config_load_yaml(cli_config *c, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len);
    if (rc) return rc;
    walk *w = calloc(1, sizeof *w);
    if (!w || !yaml_parser_initialize(&w->parser))
        return free(w), free(buf), cli_errorf("config %s: out of memory", path), CLI_EXIT_FAIL;
    w->path = path;
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)buf, len);
    rc = read_stream(w);
    for (size_t i = 0; i < CLI_NKEYS && !rc; i++) { /* in the table's order: in a file, lr_frac wins over lr */
        const slot *s = &w->slots[i];
        char name[160], msg[512];
        int bad;
        snprintf(name, sizeof name, "%s.%s", CLI_SECTIONS[CLI_KEYS[i].sec], CLI_KEYS[i].key);
        if (s->given && (rc = cli_key_set(c, &CLI_KEYS[i], name, (const char *const *)s->items, s->n, true, &bad, msg,
                                          sizeof msg))) {
            pos at = bad >= 0 && bad < s->n ? s->where[bad] : s->at;
            cli_errorf("config %s:%d:%d: %s", path, at.line, at.col, msg);
        }
    }
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        for (int j = 0; j < w->slots[i].n; j++) free(w->slots[i].items[j]);
        free(w->slots[i].items);
        free(w->slots[i].where);
    }
    if (w->have) yaml_event_delete(&w->ev);
    yaml_parser_delete(&w->parser);
    free(w);
    free(buf);
    return rc;
}
