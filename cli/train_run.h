/* train_run.h -- `ntkdrift train` over ntk_train_run, shared by `ntkdrift train` and the cells of
 * `ntkdrift sweep`. */
#ifndef NTK_CLI_TRAIN_RUN_H
#define NTK_CLI_TRAIN_RUN_H

#include "config.h"

#define CLI_EXIT_DIVERGED 3

/* One training run from a parsed configuration (cfg->out names its directory, or results/...).
 * Takes over cfg's owned lists (the caller must not free them).  argc/argv are recorded in the
 * manifest.  quiet: no progress, summary or figures.  Returns 0, CLI_EXIT_DIVERGED (a complete
 * run whose training diverged) or another exit status after printing the error. */
int train_execute(const cli_config *cfg, int argc, char **argv, int quiet);

/* Refuses (exit 2, one message saying which N fits) a training run whose estimated peak
 * (ntk_train_run_bytes) exceeds the memory budget (--max-memory or MemAvailable).  N, M: training
 * and evaluation points. */
int train_check_memory(const cli_config *c, const ntk_spec *spec, size_t N, size_t M);

#endif
