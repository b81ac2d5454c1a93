/* train_data.h -- training and evaluation sets with their targets for `train`, `sweep` and `profile`. */
#ifndef NTK_CLI_TRAIN_DATA_H
#define NTK_CLI_TRAIN_DATA_H
#include "config.h"

/* Fills d (X_train [N x n0], Y_train [N x k], X_eval [M x n0], Y_eval [M x k]) through
 * ntk_data_build; sets c->n0, c->outputs (fmnist) and the e2 target's default noise.  desc: a
 * sentence for the manifest.  Prints one message and returns an exit status on failure. */
int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap);
/* The train section (with run.seed, run.threads and kernel.per_layer) as ntk_train_run's options, the
 * rest at their defaults: the one mapping, for `train`, the sweep's cells and `profile --steps`. */
ntk_train_run_opts cli_train_opts(const cli_config *c);
#endif
