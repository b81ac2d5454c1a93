/* config_help.c -- `ntkdrift <command> --help` and the key table of docs/cli.md
 * (`ntkdrift <command> --keys-markdown`), both from the table of settings (config_keys.c). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"

/* A short form of k's range or words ("" when any value of its type goes). */
static void range_text(const cli_key *k, char *buf, size_t cap)
{
    long long big = k->type == T_LONG && k->hi > INT_MAX ? LONG_MAX / 2 : INT_MAX;
    buf[0] = '\0';
    if (k->type == T_INT || k->type == T_LONG || k->type == T_INTS) {
        if (k->hi >= big) snprintf(buf, cap, ">= %lld", k->lo);
        else snprintf(buf, cap, "%lld..%lld", k->lo, k->hi);
    } else if ((k->type == T_F64 || k->type == T_F64S) && k->rng != R_ANY) {
        if (k->rng == R_IN) snprintf(buf, cap, "%lld..%lld", k->lo, k->hi);
        else snprintf(buf, cap, "%s %lld", k->rng == R_GE ? ">=" : ">", k->lo);
    } else if (k->type == T_ENUM || k->choices) {
        char what[256];
        cli_key_expected(k, what, sizeof what);
        snprintf(buf, cap, "%s", what + strlen("one of "));
    }
}

/* Whether d's value of k is a default worth showing (not an unset string, list or switch; a choice
 * always has one, also when config.yaml writes it only when set). */
static bool has_default(const cli_config *d, const cli_key *k)
{
    if (k->type == T_BOOL || k->type == T_IBOOL || k->write == W_NEVER) return false;
    if (k->type == T_CHOICE) return true;
    if (k->write == W_SET || k->write == W_ANGLE || k->write == W_LR || k->write == W_LRFRAC) return cli_key_written(d, k);
    return true;
}

/* d's value of k as --help shows it, or "" (fmemopen terminates it: the buffer is zeroed). */
static void value_text(const cli_config *d, const cli_key *k, char *buf, size_t cap)
{
    memset(buf, 0, cap);
    FILE *m = has_default(d, k) ? fmemopen(buf, cap - 1, "w") : NULL;
    if (!m) return;
    cli_key_print(m, d, k, false);
    fclose(m);
}

/* text from column 23 on, wrapped at 110 with continuation lines indented to 23. */
static void wrap(const char *text)
{
    for (int col = 23, first = 1; *text; first = 0) {
        int len = (int)strcspn(text, " ");
        if (!first && col + 1 + len > 110) col = printf("\n%23s", "") - 1, first = 1;
        col += printf("%s%.*s", first ? "" : " ", len, text);
        for (text += len; *text == ' ';) text++;
    }
    putchar('\n');
}

void cli_config_help(const char *command)
{
    unsigned bit = cli_command_bit(command);
    int ci = 0;
    while (ci < CLI_NCOMMANDS - 1 && !(bit >> ci & 1)) ci++;
    cli_config d;
    cli_config_defaults(&d, command);
    printf("usage: ntkdrift %s [--config FILE.yaml] [flags]\n\n%s\n", command, CLI_COMMAND_INTRO[ci]);
    printf("Writes a run directory results/<name>/<YYYYmmdd-HHMMSS>-<id>/ (and a 'latest' link), or exactly\n"
           "--out DIR. Every flag is also a YAML key under its section, with '-' written as '_' (or as given\n"
           "in parentheses). Flags override the file; the file overrides defaults. {range} [default]\n\n");
    int sec = -1;
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        const cli_key *k = &CLI_KEYS[i];
        if (!k->flag || !(k->cmds & bit)) continue;
        if (k->sec != sec) printf("%s:\n", CLI_SECTIONS[sec = k->sec]);
        char head[96], key[64], r[256], v[256], text[1536];
        snprintf(key, sizeof key, "%s", k->flag);
        for (char *p = key; *p; p++) *p = *p == '-' ? '_' : *p;
        bool word = k->type == T_CHOICE || k->type == T_WORD; /* its words are its metavar */
        snprintf(head, sizeof head, "  --%s%s%s", k->flag, k->meta ? " " : "", k->meta ? k->meta : "");
        range_text(k, r, sizeof r);
        if (word) r[0] = '\0';
        value_text(&d, k, v, sizeof v);
        bool other = strcmp(key, k->key) != 0;
        snprintf(text, sizeof text, "%s%s%s%s%s%s%s%s%s%s%s%s", other ? "(" : "", other ? CLI_SECTIONS[k->sec] : "",
                 other ? "." : "", other ? k->key : "", other ? ") " : "",
                 k->help, r[0] ? " {" : "", r, r[0] ? "}" : "", v[0] ? " [" : "", v, v[0] ? "]" : "");
        if (strlen(head) < 23) printf("%-23s", head);
        else printf("%s\n%23s", head, "");
        wrap(text);
    }
    if (bit == C_STUDY) printf("  --quick              the CI-sized form of the study\n");
    printf("\n  --help               this text\n");
    cli_config_free(&d);
}

/* text with '|' escaped for a markdown table cell. */
static void cell(FILE *fp, const char *text)
{
    fputs(" ", fp);
    for (; *text; text++) fputs(*text == '|' ? "\\|" : (char[]){*text, 0}, fp);
    fputs(" |", fp);
}

void cli_config_keys_markdown(FILE *fp)
{
    static const char *types[] = {"integer", "integer", "integer (64-bit)", "number", "boolean", "boolean", "string",
                                  "word", "word", "word", "integers", "numbers", "words"};
    cli_config d;
    cli_config_defaults(&d, "<command>");
    fputs("| key | flag | type | default | range | commands | meaning |\n|---|---|---|---|---|---|---|\n", fp);
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        const cli_key *k = &CLI_KEYS[i];
        char buf[1024], r[256];
        size_t len = 0;
        fprintf(fp, "| `%s.%s` |", CLI_SECTIONS[k->sec], k->key);
        snprintf(buf, sizeof buf, "%s%s", k->flag ? "--" : "", k->flag ? k->flag : "");
        cell(fp, buf);
        cell(fp, types[k->type]);
        value_text(&d, k, buf, sizeof buf);
        for (size_t j = 0; j < CLI_NOVERRIDES; j++) { /* per-command defaults */
            const cli_override *o = &CLI_OVERRIDES[j];
            size_t n = strlen(CLI_SECTIONS[k->sec]);
            if (strncmp(o->key, CLI_SECTIONS[k->sec], n) != 0 || strcmp(o->key + n + 1, k->key) != 0) continue;
            len = strlen(buf);
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", len ? "; " : "");
            for (unsigned b = 0; b < CLI_NCOMMANDS; b++)
                if (o->cmds >> b & 1) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s ", CLI_COMMANDS[b]);
            snprintf(buf + len - 1, sizeof buf - len + 1, ": %s", o->value);
        }
        cell(fp, buf);
        range_text(k, r, sizeof r);
        cell(fp, r);
        len = 0;
        buf[0] = '\0';
        for (unsigned b = 0; b < CLI_NCOMMANDS; b++)
            if (k->cmds >> b & 1) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? ", " : "", CLI_COMMANDS[b]);
        cell(fp, k->cmds == C_ALL ? "all" : k->cmds == (C_ALL & ~C_STUDY) ? "all but study" : buf);
        cell(fp, k->help);
        fputc('\n', fp);
    }
    cli_config_free(&d);
}
