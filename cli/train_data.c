/* train_data.c -- the training and evaluation sets of `train`, `sweep` and `profile`: the
 * configuration mapped to ntk_data_build (docs/data.md); the train section as the engine's options. */
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

ntk_train_run_opts cli_train_opts(const cli_config *c)
{
    const cli_train_cfg *t = &c->train;
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.loss = t->loss, o.opt = t->opt, o.lr = t->lr, o.lr_frac = t->lr_frac, o.steps = t->steps;
    o.batch = (size_t)t->batch, o.momentum = t->momentum, o.checkpoint_every = t->checkpoint_every;
    o.top_k = t->top_k, o.ridge = t->ridge, o.flow = t->flow, o.blowup = t->blowup;
    o.freeze_eps = t->freeze_eps, o.freeze_k = t->freeze_k, o.freeze_delta = t->freeze_delta;
    o.seed = c->run.seed, o.threads = c->run.threads, o.per_layer = c->kernel.per_layer;
    return o;
}
