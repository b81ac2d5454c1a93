/* train_data.h -- training and evaluation sets with their targets for `train`. */
#ifndef NTK_CLI_TRAIN_DATA_H
#define NTK_CLI_TRAIN_DATA_H
#include "config.h"

/* Fills d (X_train [N x n0], Y_train [N x k], X_eval [M x n0], Y_eval [M x k]); sets c->n0 and,
 * for fmnist, c->outputs.  desc: a sentence for the manifest.  Prints one message and returns an
 * exit status on failure. */
int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap);
#endif
