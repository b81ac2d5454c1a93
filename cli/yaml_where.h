/* yaml_where.h -- where a value sits in a YAML text, for messages about values checked after
 * libcyaml has loaded them (the numbers of config_yaml.c). */
#ifndef NTK_CLI_YAML_WHERE_H
#define NTK_CLI_YAML_WHERE_H

#include <stdbool.h>
#include <stddef.h>

/* The 1-based line and column of the value of section.key in the top-level mapping of buf[len]
 * (index >= 0: of entry index of that value's sequence), as libcyaml reports positions.  false
 * when the text has no such value. */
bool cli_yaml_where(const char *buf, size_t len, const char *section, const char *key, int index, int *line,
                    int *col);
#endif
