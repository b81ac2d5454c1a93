/* train_data.c -- the training and evaluation sets of `train`, `sweep` and `profile`: the
 * configuration mapped to ntk_data_build (docs/data.md). */
#include "train_data.h"

#include <string.h>

#include "dataset.h"

int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    memset(d, 0, sizeof *d);
    ntk_data_opts o = cli_data_opts(c);
    ntk_spec teacher;
    if (strcmp(c->data.data, "fmnist") != 0) { /* the model is checked before the targets, as it always was */
        int rc = cli_model_spec(&c->model, &teacher); /* the teacher's n0 and outputs come from the data */
        if (rc) return rc;
        o.teacher = &teacher;
    }
    if (ntk_data_build(&o, d, desc, cap) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    c->model.n0 = d->n0;
    c->model.outputs = d->k;
    if (!c->train.noise_set) c->train.noise = ntk_data_noise(&o); /* the e2 target's default */
    return 0;
}
