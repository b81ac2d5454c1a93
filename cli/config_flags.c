/* config_flags.c -- command-line flags: getopt_long's options built from the table of settings
 * (config_keys.c); --config is read first so flags override the file.  Not settings: --config,
 * --help, --quick (study), and the hidden --keys-markdown (docs/cli.md's key table) and
 * --print-config (the resolved config.yaml on stdout, then exit; tests/cli/test_config_table.py). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "config_num.h"

enum { OPT_CONFIG = 1, OPT_QUICK, OPT_HELP, OPT_PRINT, OPT_KEY = 256 };

/* The row a flag sets for command: the one that lists the command (--widths, --lr name two rows),
 * else the first. */
static const cli_key *flag_row(const char *flag, unsigned bit)
{
    const cli_key *first = NULL;
    for (size_t i = 0; i < CLI_NKEYS; i++)
        if (CLI_KEYS[i].flag && strcmp(CLI_KEYS[i].flag, flag) == 0) {
            if (CLI_KEYS[i].cmds & bit) return &CLI_KEYS[i];
            if (!first) first = &CLI_KEYS[i];
        }
    return first;
}

/* A flag's value into its row: a list is comma-separated (no empty entries). */
static int set_flag(cli_config *c, const cli_key *k, const char *arg)
{
    char name[64], msg[512], what[160], *buf = NULL;
    const char *one = k->type == T_BOOL || k->type == T_IBOOL ? "true" : arg, **items = &one;
    int n = 1, bad, rc = 0;
    snprintf(name, sizeof name, "--%s", k->flag);
    if (cli_key_is_list(k)) {
        for (const char *q = arg; *q; q++) n += *q == ',';
        buf = strdup(arg);
        items = malloc((size_t)n * sizeof *items);
        if (!buf || !items) rc = CLI_EXIT_FAIL, snprintf(msg, sizeof msg, "%s: out of memory", name);
        char *p = buf;
        cli_key_expected(k, what, sizeof what);
        for (int i = 0; !rc && i < n; i++) {
            items[i] = p;
            p += strcspn(p, ",");
            if (*p) *p++ = '\0';
            if (!items[i][0])
                rc = cli_msgf(msg, sizeof msg, "%s: empty entry in '%.60s' (a comma-separated list; entries: %s%s)",
                              name, arg, what, k->type == T_INTS ? ", or ranges a:b = a..b-1" : "");
        }
    }
    if (!rc) rc = cli_key_set(c, k, name, items, n, true, &bad, msg, sizeof msg);
    if (rc) cli_errorf("%s", msg);
    if (items != &one) free(items);
    free(buf);
    return rc;
}

/* getopt refused `arg`: a flag that takes no value given one (--flag=x), or no such flag. */
static int unknown_option(const char *arg, const char *command, const struct option *opts)
{
    const char *eq = strchr(arg, '=');
    if (arg[0] == '-' && arg[1] == '-' && eq)
        for (const struct option *o = opts; o->name; o++)
            if (o->has_arg == no_argument && strlen(o->name) == (size_t)(eq - arg - 2) &&
                strncmp(o->name, arg + 2, (size_t)(eq - arg - 2)) == 0)
                return cli_errorf("--%s: takes no value, got '%s'", o->name, arg);
    return cli_errorf("unknown option '%s' (see ntkdrift %s --help)", arg, command);
}

int cli_config_parse_args(cli_config *c, int argc, char **argv, const char *command)
{
    bool print = false;
    for (int i = 1; i < argc; i++) { /* pass 1: --config and --help, so that flags override the file */
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return cli_config_help(command), CLI_EXIT_OK;
        if (strcmp(argv[i], "--keys-markdown") == 0) return cli_config_keys_markdown(stdout), CLI_EXIT_OK;
        print = print || strcmp(argv[i], "--print-config") == 0;
        const char *path = strncmp(argv[i], "--config=", 9) == 0 ? argv[i] + 9 : NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 >= argc) return cli_errorf("--config: missing file name");
        if (strcmp(argv[i], "--config") == 0) path = argv[i + 1];
        int rc = path ? cli_config_load_yaml(c, path) : 0;
        if (rc) return rc;
    }
    struct option opts[CLI_MAX_KEYS + 5];
    const cli_key *rows[CLI_MAX_KEYS];
    int n = 0;
    for (size_t i = 0; i < CLI_NKEYS; i++) {
        const cli_key *k = &CLI_KEYS[i];
        bool dup = false;
        for (int j = 0; j < n && k->flag; j++) dup = dup || strcmp(opts[j].name, k->flag) == 0;
        if (!k->flag || dup) continue;
        rows[n] = k;
        opts[n] = (struct option){k->flag, k->type == T_BOOL || k->type == T_IBOOL ? no_argument : required_argument,
                                  0, OPT_KEY + n};
        n++;
    }
    static const struct option more[] = { /* not settings; the end */
        {"config", required_argument, 0, OPT_CONFIG}, {"quick", no_argument, 0, OPT_QUICK},
        {"help", no_argument, 0, OPT_HELP}, {"print-config", no_argument, 0, OPT_PRINT}, {0, 0, 0, 0}};
    memcpy(opts + n, more, sizeof more);
    unsigned bit = cli_command_bit(command);
    bool depth_flag = false;
    optind = 1;
    opterr = 0;
    int opt, rc = 0;
    while (!rc && (opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (opt >= OPT_KEY) {
            const cli_key *k = flag_row(rows[opt - OPT_KEY]->flag, bit);
            rc = set_flag(c, k, optarg);
            depth_flag = depth_flag || k == cli_key_find("model", "depth");
        } else if (opt == OPT_QUICK && strcmp(command, "study") != 0)
            rc = cli_errorf("--quick: only for ntkdrift study");
        else if (opt == OPT_QUICK)
            c->quick = 1;
        else if (opt == ':')
            rc = cli_errorf("%s: missing value (see ntkdrift %s --help)", argv[optind - 1], command);
        else if (opt != OPT_CONFIG && opt != OPT_PRINT && opt != OPT_HELP)
            rc = unknown_option(argv[optind - 1], command, opts);
    }
    if (rc) return rc;
    if (optind < argc) return cli_errorf("unexpected argument '%s' (see ntkdrift %s --help)", argv[optind], command);
    if (c->model.widths_count > 0 && !depth_flag) c->model.depth = c->model.widths_count;
    if (!print) return -1;
    char *y = cli_config_to_yaml(c);
    if (y) fputs(y, stdout);
    free(y);
    return y ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
