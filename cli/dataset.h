/* dataset.h -- the CLI's input points: built-in sets or a user file (the library's ntk_data_inputs). */
#ifndef NTK_CLI_DATASET_H
#define NTK_CLI_DATASET_H

#include "config.h"

/* The library's data options from c (they point into c; teacher is left NULL). */
ntk_data_opts cli_data_opts(const cli_config *c);
/* X: [N x n0] (malloc'ed).  Sets c->n0 from the data (circle: 2, file: its
 * columns) and c->n from the rows used.  Prints one message and returns an
 * exit status on failure; 0 on success. */
int cli_load_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t desc_cap);
#endif
