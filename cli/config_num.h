/* config_num.h -- strict numbers for flags and YAML (docs/cli.md, "Numbers").  Every numeric
 * value is parsed whole; flags (config_flags.c) and the YAML file (config_yaml.c, which reads
 * every value as text) share these parsers through the table of settings (config_keys.c). */
#ifndef NTK_CLI_CONFIG_NUM_H
#define NTK_CLI_CONFIG_NUM_H

#include <stddef.h>
#include <stdint.h>

/* name ("--width", "model.width") starts the message; on failure msg[cap] holds
 * "<name>: expected ..., got '<text>'" (one line) and the return value is CLI_EXIT_USAGE, else 0.
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
/* text for a message: at most 60 characters, control characters as \xNN (one line). */
void cli_quote_text(const char *text, char *buf, size_t cap);
/* msg[cap] := the formatted message; returns CLI_EXIT_USAGE. */
int cli_msgf(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
