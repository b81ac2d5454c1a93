/* dataset.c -- the configuration's data options for the library, and the input points of kernel,
 * limit, eval, profile and converge (ntk_data_inputs: built-in kinds or a file). */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

ntk_data_opts cli_data_opts(const cli_config *c)
{
    ntk_data_opts o = ntk_data_defaults();
    o.data = c->data.data;
    o.n = c->data.n > 0 ? (size_t)c->data.n : 0;
    o.all_rows = !c->data.n_set;
    o.n0 = c->model.n0;
    o.n0_given = c->model.n0_set;
    o.outputs = c->model.outputs;
    o.data_seed = c->data.seed;
    o.n_eval = c->train.n_eval > 0 ? (size_t)c->train.n_eval : 0;
    o.eval_points = c->data.eval_points;
    o.eval_data = c->data.eval_data;
    o.target = c->train.target;
    o.eval_target = c->train.eval_target;
    o.fourier_k = c->train.fourier_k;
    o.modes = c->train.target_modes;
    o.n_modes = c->train.target_modes_count;
    o.amps = c->train.target_amps;
    o.n_amps = c->train.target_amps_count;
    o.phases = c->train.target_phases;
    o.n_phases = c->train.target_phases_count;
    o.cosine = c->train.target_basis;
    o.n_cosine = c->train.target_basis_count;
    o.partial = c->train.target_partial;
    o.noise = c->train.noise_set ? (c->train.noise > 0 ? c->train.noise : 0) : -1; /* -1: the target's default */
    o.noise_seed = c->train.noise_seed;
    o.fmnist_dir = c->data.fmnist_dir;
    o.classes = c->data.classes;
    o.n_classes = c->data.classes_count;
    o.pixels = c->data.pixels;
    return o;
}

int cli_load_inputs(cli_config *c, double **X, size_t *N, char *desc, size_t cap)
{
    *X = NULL;
    ntk_data_opts o = cli_data_opts(c);
    ntk_dataset d;
    if (ntk_data_inputs(&o, &d, desc, cap) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    c->model.n0 = d.n0;
    c->data.n = (long)d.n_train;
    *X = d.X_train; /* rows beyond N (a file's) are simply unused */
    *N = d.n_train;
    d.X_train = NULL;
    ntk_dataset_clear(&d);
    return 0;
}
