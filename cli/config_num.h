/* config_num.h -- strict numbers for flags and YAML (docs/cli.md, "Numbers").  Every numeric
 * value is parsed whole and checked against its key's type and range; flags (config_flags.c) and
 * the YAML file (config_yaml.c, where libcyaml reads numbers as text) share these parsers and
 * the table of numeric keys (config_num.c). */
#ifndef NTK_CLI_CONFIG_NUM_H
#define NTK_CLI_CONFIG_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The parsers.  name ("--width", "model.width") starts the message; on failure msg[cap] holds
 * "<name>: <problem>" (one line) and the return value is CLI_EXIT_USAGE, else 0.
 * Integers: plain digits, or a decimal point / exponent form whose value is exactly an integer
 * ("1e3", "2.0"), read exactly from the digits (no rounding through a double); no hex, no
 * leading zero in plain digits ("012", octal in YAML 1.1), no inf/nan, no spaces, no junk. */
int cli_parse_int_key(const char *name, const char *text, long long lo, long long hi, long long *out, char *msg,
                      size_t cap);
/* 0 .. 2^64 - 1, the same forms. */
int cli_parse_u64_key(const char *name, const char *text, uint64_t *out, char *msg, size_t cap);
/* A finite decimal number ([-+] digits [. digits] [e[-+]digits]); no hex, inf or nan, no value
 * that overflows a double or a nonzero one that would read as 0. */
int cli_parse_double_key(const char *name, const char *text, double *out, char *msg, size_t cap);

typedef enum {
    CLI_NUM_INT,      /* int in [lo, hi] */
    CLI_NUM_LONG,     /* long in [lo, hi] */
    CLI_NUM_U64,      /* uint64_t, 0 .. 2^64 - 1 */
    CLI_NUM_F64,      /* finite double (key-specific ranges are checked after file and flags merge) */
    CLI_NUM_INTS,     /* list of int, each in [lo, hi]: int * at off, int count at count_off */
    CLI_NUM_POS_F64S, /* list of finite doubles > 0: double * at off, int count at count_off */
    CLI_NUM_F64S      /* list of finite doubles */
} cli_num_kind;

/* One numeric key: the YAML key, its flag, and where the value goes in cli_config. */
typedef struct {
    const char *key;  /* "section.key" */
    const char *flag; /* flag name without "--" */
    cli_num_kind kind;
    long long lo, hi; /* integer kinds: inclusive range */
    size_t off;       /* offset of the value in cli_config (lists: of the pointer) */
    size_t count_off; /* lists: offset of the int count */
} cli_num_key;

/* The row of a YAML key ("model.width"), or NULL when the key is not numeric. */
const cli_num_key *cli_num_find(const char *key);
bool cli_num_is_list(const cli_num_key *k);
/* What a value of k must be, e.g. "an integer in [1, 2147483647]" (an entry, for lists). */
void cli_num_expected(const cli_num_key *k, char *buf, size_t cap);
/* A scalar key's value from text into c. */
int cli_num_set(cli_config *c, const cli_num_key *k, const char *name, const char *text, char *msg, size_t cap);
/* One entry of a list key: into *(int *)dst or *(double *)dst. */
int cli_num_entry(const cli_num_key *k, const char *name, const char *text, void *dst, char *msg, size_t cap);
/* A list key's entries from n texts into c (replacing the list); on failure *bad is the entry.
 * CLI_EXIT_FAIL when out of memory. */
int cli_num_set_list(cli_config *c, const cli_num_key *k, const char *name, char *const *texts, int n, int *bad,
                     char *msg, size_t cap);
/* Replace a list key's list in c by values[n] (malloc'ed int or double array; ownership moves). */
void cli_num_store_list(cli_config *c, const cli_num_key *k, void *values, int n);
#endif
