/* config_keys.h -- the table of settings (config_keys.c): every setting declared once, with its
 * section and YAML key (which name its member of cli_config), flag, type, default, range, commands
 * and help.  The defaults, the flags (config_flags.c), the YAML reader (config_yaml.c), the resolved
 * config.yaml, the range checks (config.c), the --help text and the key table of docs/cli.md
 * (config_help.c) are all generated from it. */
#ifndef NTK_CLI_CONFIG_KEYS_H
#define NTK_CLI_CONFIG_KEYS_H

#include <stdio.h>

#include "config.h"

/* Sections in the order of config.yaml. */
typedef enum { S_MODEL, S_DATA, S_STUDY, S_RUN, S_KERNEL, S_ENSEMBLE, S_PROFILE, S_TRAIN, S_SWEEP, S_MODES, S_COUNT } cli_section;

typedef enum {
    T_INT, T_LONG, T_U64, T_F64, /* scalars; integers in [lo, hi], doubles in their range */
    T_BOOL, T_IBOOL,             /* bool / int member; a flag without a value */
    T_STR,                       /* char[] member: non-empty, must fit */
    T_ENUM,                      /* library enum, parsed and named by the library */
    T_CHOICE, T_WORD,            /* a word of the row's choices (a|b): its index (int-sized member) / its text (char[]) */
    T_INTS, T_F64S, T_CHOICES    /* lists: pointer member, int count at aux; T_CHOICES: indexes of words */
} cli_type;

typedef enum { R_ANY, R_GE, R_GT, R_IN } cli_range;               /* doubles: any, >= lo, > lo, [lo, hi] */
typedef enum { W_ALWAYS, W_SET, W_NEVER, W_NOWIDTHS, W_LR, W_LRFRAC, W_ANGLE, W_BIAS_OUT } cli_write;
typedef enum { H_NONE, H_SEEN, H_WIDTH, H_LR, H_LRFRAC, H_NAME } cli_hook; /* H_SEEN: bool at aux := true */

/* Commands (bits of cli_key.cmds), in the order of CLI_COMMANDS. */
enum { C_KERNEL = 1, C_LIMIT = 2, C_EVAL = 4, C_PROFILE = 8, C_CONVERGE = 16, C_TRAIN = 32, C_ENSEMBLE = 64,
       C_SWEEP = 128, C_STUDY = 256, C_KGD = 512, C_MODES = 1024, C_HIER = 2048, C_ALL = 4095 };
enum { CLI_NCOMMANDS = 12 };

typedef struct {
    int (*parse)(const char *s, int *v); /* 0, or -1 with ntk_last_error() set */
    const char *(*name)(int v);          /* "?" past the last value */
} cli_enum;

typedef struct {
    unsigned char sec, type, rng, write, hook;
    const char *key, *flag, *meta; /* flag without "--" (NULL: none); meta: the value in --help */
    size_t off, aux;               /* the member; lists: the count; T_STR, T_WORD: the size; H_SEEN: the bool */
    long long lo, hi;              /* integers and list entries: inclusive range; doubles: the range's ends */
    const char *choices;           /* T_CHOICE, T_WORD, T_CHOICES: "a|b" */
    const cli_enum *en;            /* T_ENUM */
    const char *dflt;              /* default as text (NULL: zero, or the library's ntk_spec_default) */
    unsigned cmds;                 /* commands that use it (--help; a flag of two rows names its command's) */
    const char *help;
} cli_key;

#define CLI_MAX_KEYS 128 /* the table has fewer rows (checked in config_keys.c) */
extern const cli_key CLI_KEYS[];
extern const size_t CLI_NKEYS;
extern const char *const CLI_SECTIONS[S_COUNT];
extern const unsigned CLI_SECTION_CMDS[S_COUNT]; /* commands whose config.yaml writes the section */
extern const char *const CLI_COMMANDS[CLI_NCOMMANDS];
extern const char *const CLI_COMMAND_INTRO[CLI_NCOMMANDS];

/* Per-command defaults beside the table: for cmds, key takes value. */
typedef struct {
    unsigned cmds;
    const char *key, *value;
} cli_override;
extern const cli_override CLI_OVERRIDES[];
extern const size_t CLI_NOVERRIDES;

unsigned cli_command_bit(const char *command); /* 0 for no such command */
const cli_key *cli_key_find(const char *section, const char *key);
/* Set k from n texts (n == 1 for scalars); name ("--width", "model.width") starts the message in
 * msg[cap].  checked = false for defaults: no range, no hook.  *bad: the entry that failed. */
int cli_key_set(cli_config *c, const cli_key *k, const char *name, const char *const *items, int n, bool checked,
                int *bad, char *msg, size_t cap);
/* What a value (a list's entry) of k must be, e.g. "an integer in [1, 2147483647]". */
void cli_key_expected(const cli_key *k, char *buf, size_t cap);
/* Whether c's config.yaml writes k, and its value as there (quote: strings in quotes). */
bool cli_key_written(const cli_config *c, const cli_key *k);
void cli_key_print(FILE *fp, const cli_config *c, const cli_key *k, bool quote);
bool cli_key_is_list(const cli_key *k);
/* config_help.c: `ntkdrift <command> --help` on stdout, and the key table of docs/cli.md. */
void cli_config_help(const char *command);
void cli_config_keys_markdown(FILE *fp);
#endif
