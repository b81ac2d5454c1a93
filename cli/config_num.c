/* config_num.c -- strict numbers for flags and YAML (docs/cli.md, "Numbers").  A value is read
 * whole against the decimal grammar YAML 1.2 uses,
 *     [-+]? ( digits [ "." digits* ] | "." digits ) ( [eE] [-+]? digits )?
 * and integers are then taken exactly from their digits, so "1e3" is 1000 and "2.5" is no
 * integer, whatever a double would round them to. */
#include "config_num.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

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
    if ((d->expo = *s == 'e' || *s == 'E')) {
        bool eneg = *++s == '-';
        if (*s == '+' || *s == '-') s++;
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
        *overflow = *mag > (ULLONG_MAX - dig) / 10;
        *mag = *overflow ? *mag : *mag * 10 + dig;
    }
    for (long i = n; i < p && *mag != 0 && !*overflow; i++) /* zeros the exponent appends: overflow by 20 */
        *mag = (*overflow = *mag > ULLONG_MAX / 10) ? *mag : *mag * 10;
}

/* 'text' for a message: at most 60 characters, control characters as \xNN (one line). */
void cli_quote_text(const char *text, char *buf, size_t cap)
{
    size_t k = 0, i = 0;
    for (; text[i] && i < 60 && k + 5 < cap; i++) {
        unsigned char ch = (unsigned char)text[i];
            if (ch < 0x20 || ch == 0x7f) k += (size_t)snprintf(buf + k, cap - k, "\\x%02x", ch);
        else buf[k++] = (char)ch;
    }
    if (text[i] && k + 4 < cap) k += (size_t)snprintf(buf + k, cap - k, "...");
    buf[k < cap ? k : cap - 1] = '\0';
}

static int refuse(const char *name, const char *what, const char *text, const char *why, char *msg, size_t cap)
{
    char q[256];
    cli_quote_text(text, q, sizeof q);
    return cli_msgf(msg, cap, "%s: expected %s, got '%s'%s", name, what, q, why);
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
    if (mag > (unsigned long long)LLONG_MAX + neg) return refuse(name, what, text, "", msg, cap);
    long long v = !neg ? (long long)mag : mag == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)mag;
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
    double v = strtod(text, &end);
    if (!end || *end != '\0' || !isfinite(v)) return refuse(name, "a finite number", text, "", msg, cap);
    for (long i = 0; v == 0 && i < (long)(d.n_int + d.n_frac); i++) /* nonzero digits read as 0 */
        if (dec_digit(&d, i) != '0')
            return refuse(name, "a finite number", text, " (too small for a double: it would read as 0)", msg, cap);
    *out = v;
    return 0;
}
