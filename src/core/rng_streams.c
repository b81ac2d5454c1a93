/* rng_streams.c -- the registry of random-number streams (include/ntkdrift.h, "rng").
 *
 * One row per NTK_STREAM_* enumerator, in increasing id: its name, its one consumer
 * ("file:function", "" when reserved) and what it draws.  tests/core/test_rng_streams.py checks every
 * use of a stream in src/ and cli/ against this table and the header's enum against it. */
#include "ntkdrift.h"

#define STREAM(id, consumer, what) {id, #id, consumer, what}

static const ntk_stream_info streams[] = {
    STREAM(NTK_STREAM_WEIGHT, "src/model/mlp.c:ntk_net_init", "weight matrices at initialisation (sub = layer)"),
    STREAM(NTK_STREAM_BIAS, "src/model/mlp.c:ntk_net_init", "biases at initialisation (sub = layer)"),
    STREAM(NTK_STREAM_DATA_X, "src/data/data.c:ntk_data_gaussian_raw", "Gaussian input rows (rescaled by ntk_data_gaussian)"),
    STREAM(NTK_STREAM_TARGET, "src/data/data_build.c:targets", "random N(0,1) targets (sub = train / eval)"),
    STREAM(NTK_STREAM_ANGLES, "src/data/data.c:ntk_data_circle_uniform", "uniform random angles on the circle"),
    STREAM(NTK_STREAM_SUBSET, "src/data/data.c:ntk_data_subset", "subsets drawn without replacement"),
    STREAM(NTK_STREAM_SPHERE, "src/data/data.c:ntk_data_sphere", "points uniform on the sphere"),
    STREAM(NTK_STREAM_NOISE, "src/data/data.c:ntk_target_add_noise", "additive Gaussian label noise (sub = train / eval)"),
    STREAM(NTK_STREAM_FOURIER, "", "reserved: random Fourier coefficients / phases"),
    STREAM(NTK_STREAM_BATCH, "src/dynamics/train.c:ntk_trainer_step", "minibatch rows (sub = step)"),
    STREAM(NTK_STREAM_ENSEMBLE, "src/ensemble/lazy.c:lazy_member", "one ensemble member's normals (sub = cell, member)"),
    STREAM(NTK_STREAM_ENSEMBLE_PAIR, "src/ensemble/ensemble.c:member_lazy",
           "the ensemble member at the two inputs (x, x'), through ntk_lazy_pair (sub = cell, member)"),
    STREAM(NTK_STREAM_ENSEMBLE_BOOTSTRAP, "src/ensemble/ensemble_stats.c:bootstrap",
           "the ensemble's bootstrap resamples of R (sub = cell * 400 + resample)"),
    STREAM(NTK_STREAM_PROBE, "", "reserved: probe / evaluation points"),
    STREAM(NTK_STREAM_GP, "src/ops/gp.c:ntk_gp_draw", "a Gaussian-process draw u ~ N(0, K), the gp init of operator GD (sub = draw)"),
    STREAM(NTK_STREAM_LANCZOS, "src/analysis/lanczos.c:spectral_lanczos_extremes",
           "the Lanczos start vector of the tracker's ||K_t - K_0||_2 (seed 0, sub 0: a fixed vector)"),
};

size_t ntk_rng_streams(const ntk_stream_info **out)
{
    if (out) *out = streams;
    return sizeof streams / sizeof streams[0];
}
