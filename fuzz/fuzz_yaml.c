/* fuzz_yaml.c -- the YAML configuration file (cli/config_yaml.c on libcyaml / libyaml).
 *
 * Each input is loaded over the defaults of `train` (cli_config_defaults, cli_config_load_yaml,
 * cli_config_free), as `ntkdrift train --config FILE` does.  Exercises the file reader (the
 * 16 MiB cap, empty and whitespace-only files), the libcyaml schema (unknown keys, wrong types,
 * sequences with bounds, out-of-range integers, aliases refused), the error-log folding in
 * y_log_fn, the strict numbers (cli/config_num.c) with the position of a refused one
 * (cli/yaml_where.c), and apply_yaml's checks of enums, booleans, lists and ranges.  A failed load
 * must not leak what it had copied so far. */
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
