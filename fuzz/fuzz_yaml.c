/* fuzz_yaml.c -- the YAML configuration file (cli/config_yaml.c on libyaml).
 *
 * Each input is loaded over the defaults of `train` (cli_config_defaults, cli_config_load_yaml,
 * cli_config_free), as `ntkdrift train --config FILE` does.  Exercises the file reader (the
 * 16 MiB cap, empty and whitespace-only files), the walk over libyaml's events against the table
 * of settings (unknown and repeated keys, wrong node types, aliases refused), and the one setter's
 * checks of numbers, enums, booleans, lists and ranges (cli/config.c, cli/config_num.c).  A failed
 * load must not leak what it had copied so far. */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".yaml");
    cli_config c;
    cli_config_defaults(&c, "train");
    int rc = cli_config_load_yaml(&c, path);
    if (rc != 0 && rc != CLI_EXIT_USAGE && rc != CLI_EXIT_FAIL) {
        fprintf(stderr, "fuzz: cli_config_load_yaml returned %d\n", rc);
        abort();
    }
    cli_config_free(&c);
    return 0;
}
