/* yaml_where.c -- the position of section.key (or of one of its sequence entries) in a YAML text,
 * by a walk over libyaml's events. */
#include "yaml_where.h"

#include <string.h>
#include <yaml.h>

typedef struct {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have; /* ev holds an event to delete */
} walk;

static bool next(walk *w)
{
    if (w->have) yaml_event_delete(&w->ev);
    w->have = yaml_parser_parse(&w->parser, &w->ev) == 1;
    return w->have && w->ev.type != YAML_STREAM_END_EVENT;
}

/* Past the node whose first event is w->ev. */
static bool skip_node(walk *w)
{
    int depth = 0;
    do {
        yaml_event_type_t t = w->ev.type;
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT) depth++;
        if (t == YAML_MAPPING_END_EVENT || t == YAML_SEQUENCE_END_EVENT) depth--;
        if (depth == 0) return true;
    } while (next(w));
    return false;
}

/* Inside a mapping: on to the value of `key` (w->ev its first event); false at the mapping's end. */
static bool find_key(walk *w, const char *key)
{
    while (next(w) && w->ev.type != YAML_MAPPING_END_EVENT) {
        bool match = w->ev.type == YAML_SCALAR_EVENT && strcmp((const char *)w->ev.data.scalar.value, key) == 0;
        if (!next(w)) return false;
        if (match) return true;
        if (!skip_node(w)) return false;
    }
    return false;
}

bool cli_yaml_where(const char *buf, size_t len, const char *section, const char *key, int index, int *line,
                    int *col)
{
    walk w = {.have = false};
    if (!yaml_parser_initialize(&w.parser)) return false;
    yaml_parser_set_input_string(&w.parser, (const unsigned char *)buf, len);
    bool found = false;
    while (next(&w) && w.ev.type != YAML_MAPPING_START_EVENT && w.ev.type != YAML_SEQUENCE_START_EVENT &&
           w.ev.type != YAML_SCALAR_EVENT) {
    }
    if (w.have && w.ev.type == YAML_MAPPING_START_EVENT && find_key(&w, section) &&
        w.ev.type == YAML_MAPPING_START_EVENT && find_key(&w, key)) {
        if (index < 0)
            found = true;
        else if (w.ev.type == YAML_SEQUENCE_START_EVENT)
            for (int i = 0; next(&w) && w.ev.type != YAML_SEQUENCE_END_EVENT; i++) {
                if (i == index) {
                    found = true;
                    break;
                }
                if (!skip_node(&w)) break;
            }
    }
    if (found) {
        *line = (int)w.ev.start_mark.line + 1;
        *col = (int)w.ev.start_mark.column + 1;
    }
    if (w.have) yaml_event_delete(&w.ev);
    yaml_parser_delete(&w.parser);
    return found;
}
