/* train_data.c -- inputs (train / eval split) and targets for `ntkdrift train` and `sweep`:
 * circle grids (or training points drawn from an evaluation grid) with Fourier targets, Gaussian
 * inputs with the product target, teacher networks, random targets, Fashion-MNIST, or user files.
 * Inputs and generated targets use the data seed, label noise its own seed: never the init seed
 * (docs/data.md). */
#include "train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

/* The E2 target of the first user's experiments (docs/data.md). */
static const int e2_modes[] = {2, 4, 7, 11, 16, 23, 32};
static const double e2_amps[] = {0.9, 0.7, 0.55, 0.45, 0.35, 0.28, 0.22};
static const double e2_phases[] = {0, M_PI / 2, 1.2, 2.0, 0.942, 4.5, 5.8};
#define E2_TERMS 7
#define E2_NOISE 0.02

/* Teacher networks are initialised from the data seed XOR ASCII "teacher", so that a teacher
 * never shares its parameters with a student initialised from a small seed. */
#define TEACHER_SEED_XOR 0x7465616368657200ULL

static int fail(const char *what)
{
    cli_errorf("%s", what);
    return CLI_EXIT_USAGE;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* The terms of the fourier / e2 target: terms[*count] (malloc'ed). */
static int fourier_terms(const cli_config *c, ntk_fourier_term **out, int *count)
{
    bool e2 = strcmp(c->target, "e2") == 0;
    int n = e2 ? E2_TERMS : c->target_modes_count ? c->target_modes_count : c->fourier_k;
    if (e2 && (c->target_modes_count || c->target_amps_count || c->target_phases_count))
        return fail("train.target_modes: target e2 has its own modes, amplitudes and phases; use target fourier "
                    "with explicit lists instead");
    if (!e2 && !c->target_modes_count && (c->target_amps_count || c->target_phases_count))
        return fail("train.target_amps: amplitudes and phases need train.target_modes (--target-modes)");
    if (c->target_modes_count && c->target_amps_count != c->target_modes_count) {
        cli_errorf("train.target_amps: %d amplitudes for %d modes (one per mode)", c->target_amps_count,
                   c->target_modes_count);
        return CLI_EXIT_USAGE;
    }
    if (c->target_phases_count && c->target_phases_count != n) {
        cli_errorf("train.target_phases: %d phases for %d modes (one per mode, or none for 0)", c->target_phases_count,
                   n);
        return CLI_EXIT_USAGE;
    }
    if (c->target_cos_count > 1 && c->target_cos_count != n) {
        cli_errorf("train.target_basis: %d bases for %d modes (one for all, or one per mode)", c->target_cos_count, n);
        return CLI_EXIT_USAGE;
    }
    if (c->target_partial > n) {
        cli_errorf("train.target_partial: %d is more than the %d terms of the target", c->target_partial, n);
        return CLI_EXIT_USAGE;
    }
    ntk_fourier_term *t = malloc((size_t)n * sizeof *t);
    if (!t) return fail("out of memory");
    for (int j = 0; j < n; j++) {
        t[j].mode = e2 ? e2_modes[j] : c->target_modes_count ? c->target_modes[j] : j + 1;
        t[j].amp = e2 ? e2_amps[j] : c->target_modes_count ? c->target_amps[j] : 1.0 / (j + 1);
        t[j].phase = e2 ? e2_phases[j] : c->target_phases_count ? c->target_phases[j] : 0.0;
        int cosine = c->target_cos_count ? c->target_cos[c->target_cos_count > 1 ? j : 0] : 0;
        t[j].basis = cosine ? NTK_FOURIER_COS : NTK_FOURIER_SIN;
    }
    *out = t;
    *count = n;
    return 0;
}

/* Generated targets of n points (sub 0: training set, 1: evaluation set); -1 for a file target. */
static int targets(const cli_config *c, const ntk_spec *spec, size_t n, const double *X, const double *gamma,
                   double *Y, int sub)
{
    size_t k = (size_t)c->outputs;
    if (strcmp(c->target, "fourier") == 0 || strcmp(c->target, "e2") == 0) {
        if (!gamma || k != 1) {
            cli_errorf("target: %s needs circle data (n0 = 2) and one output", c->target);
            return CLI_EXIT_USAGE;
        }
        ntk_fourier_term *t = NULL;
        int nt = 0, rc = fourier_terms(c, &t, &nt);
        if (rc) return rc;
        ntk_status st = ntk_target_fourier_terms(n, gamma, nt, t, c->target_partial, Y);
        free(t);
        if (st != NTK_OK) {
            cli_errorf("target: %s", ntk_last_error());
            return CLI_EXIT_USAGE;
        }
    } else if (strcmp(c->target, "product") == 0) {
        if (c->n0 < 2 || k != 1) return fail("target: product x1*x2 needs n0 >= 2 and one output");
        ntk_target_product(n, c->n0, X, Y);
    } else if (strcmp(c->target, "teacher") == 0) {
        if (ntk_target_teacher(spec, c->data_seed ^ TEACHER_SEED_XOR, n, X, Y) != NTK_OK) {
            cli_errorf("target: teacher: %s", ntk_last_error());
            return CLI_EXIT_USAGE;
        }
    } else if (strcmp(c->target, "random") == 0) {
        ntk_rng_normal(c->data_seed, NTK_STREAM_TARGET, (uint64_t)sub, 0, n * k, Y);
    } else {
        return -1; /* a file: handled by the caller */
    }
    return 0;
}

/* Targets from a .npy file: Y [N x k] from its first N rows. */
static int file_targets(const cli_config *c, const char *key, const char *path, size_t N, double *Y)
{
    if (!ends_with(path, ".npy") || strlen(path) < 5) {
        cli_errorf("%s: unknown value '%s' (expected fourier|e2|product|teacher|random|PATH.npy)", key, path);
        return CLI_EXIT_USAGE;
    }
    ntk_array a = {0};
    if (ntk_npy_read(path, &a) != NTK_OK) {
        cli_errorf("%s: %s", key, ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    size_t k = (size_t)c->outputs;
    bool ok = (a.ndim == 1 && k == 1 && a.shape[0] >= N) || (a.ndim == 2 && a.shape[1] == k && a.shape[0] >= N);
    if (!ok) {
        ntk_array_clear(&a);
        cli_errorf("%s: %s must have shape (N,) or (N, k) with at least N = %zu rows and k = %zu", key, path, N, k);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < N * k; i++)
        if (!isfinite(a.data[i])) {
            ntk_array_clear(&a);
            cli_errorf("%s: %s: non-finite value at index %zu", key, path, i);
            return CLI_EXIT_USAGE;
        }
    memcpy(Y, a.data, N * k * sizeof *Y);
    ntk_array_clear(&a);
    return 0;
}

static int fmnist(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    ntk_fmnist_opts o = ntk_fmnist_defaults();
    int two[2] = {0, 9};
    o.classes = c->classes_count ? c->classes : two;
    o.n_classes = c->classes_count ? c->classes_count : 2;
    o.targets = o.n_classes == 2 ? NTK_TARGETS_BINARY : NTK_TARGETS_ONEHOT;
    o.n_train = (size_t)c->n;
    o.dir = c->fmnist_dir[0] ? c->fmnist_dir : NULL;
    o.n_eval = c->n_eval > 0 ? (size_t)c->n_eval : 1;
    o.pixels = c->pixels;
    o.seed = c->data_seed;
    if (ntk_fmnist_load(&o, d) != NTK_OK) {
        cli_errorf("data: fmnist: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    if (c->n_eval == 0) d->n_eval = 0;
    c->n0 = d->n0;
    c->outputs = d->k;
    snprintf(desc, cap, "Fashion-MNIST classes %d..., %zu train / %zu eval, %s targets, data seed %llu",
             o.classes[0], d->n_train, d->n_eval, o.targets == NTK_TARGETS_BINARY ? "+-1" : "one-hot",
             (unsigned long long)c->data_seed);
    return 0;
}

/* Circle data whose training points are n distinct points of the evaluation grid of n_eval. */
static int circle_subset(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    bool pos = strcmp(c->data, "circle-pos-subset") == 0;
    if (c->n0_set && c->n0 != 2) {
        cli_errorf("n0: circle data has n0 = 2, but n0 = %d was given", c->n0);
        return CLI_EXIT_USAGE;
    }
    if (c->eval_data[0]) return fail("data.eval_data: circle-subset data takes its evaluation points from its grid");
    if (c->n_eval < c->n) {
        cli_errorf("train.n_eval (--n-eval): %s draws the n = %ld training points from the evaluation grid, which "
                   "needs n_eval >= n (got %ld)", c->data, c->n, c->n_eval);
        return CLI_EXIT_USAGE;
    }
    size_t N = (size_t)c->n, M = (size_t)c->n_eval;
    c->n0 = 2;
    d->n_train = N;
    d->n_eval = M;
    d->n0 = 2;
    d->k = c->outputs;
    d->X_train = malloc(N * 2 * sizeof(double));
    d->X_eval = malloc(M * 2 * sizeof(double));
    d->gamma_train = malloc(N * sizeof(double));
    d->gamma_eval = malloc(M * sizeof(double));
    size_t *idx = malloc(N * sizeof *idx);
    if (!d->X_train || !d->X_eval || !d->gamma_train || !d->gamma_eval || !idx) {
        free(idx);
        return fail("out of memory for the dataset");
    }
    ntk_angle_range r = pos ? NTK_ANGLES_POS : NTK_ANGLES_SYM;
    if (ntk_data_circle_grid(M, r, d->gamma_eval, d->X_eval) != NTK_OK ||
        ntk_data_subset(c->data_seed, 0, M, N, idx) != NTK_OK) {
        free(idx);
        cli_errorf("data: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < N; i++) {
        d->gamma_train[i] = d->gamma_eval[idx[i]];
        d->X_train[2 * i] = d->X_eval[2 * idx[i]];
        d->X_train[2 * i + 1] = d->X_eval[2 * idx[i] + 1];
    }
    free(idx);
    snprintf(desc, cap, "unit circle: evaluation grid of %zu angles %s + 2 pi i / n_eval; %zu training points drawn "
             "from it without replacement, data seed %llu (stream SUBSET)", M, pos ? "0" : "-pi", N,
             (unsigned long long)c->data_seed);
    return 0;
}

/* Inputs of both sets (with angles for circle data). */
static int inputs(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    size_t M = (size_t)c->n_eval;
    bool gauss = strcmp(c->data, "gaussian") == 0 || strcmp(c->data, "gaussian-raw") == 0,
         sphere = strcmp(c->data, "sphere") == 0, file_eval = c->eval_data[0] != '\0';
    long n_train = c->n;
    if ((gauss || sphere) && !file_eval) c->n = n_train + (long)M; /* one draw, split into train and eval rows */
    double *X = NULL;
    size_t N = 0;
    int rc = cli_load_inputs(c, &X, &N, desc, cap);
    c->n = n_train;
    if (rc) return rc;
    if ((gauss || sphere) && !file_eval) N = (size_t)n_train;
    bool circle = c->n0 == 2 && strncmp(c->data, "circle", 6) == 0;
    d->X_train = X;
    d->n_train = N;
    d->n0 = c->n0;
    d->k = c->outputs;
    if (circle) {
        d->gamma_train = malloc(N * sizeof(double));
        if (!d->gamma_train) return fail("out of memory for the dataset");
        if (strcmp(c->data, "circle-uniform") == 0)
            ntk_data_circle_uniform(c->data_seed, 0, N, NTK_ANGLES_SYM, d->gamma_train, NULL);
        else
            ntk_data_circle_grid(N, strcmp(c->data, "circle") == 0 ? NTK_ANGLES_SYM : NTK_ANGLES_POS, d->gamma_train,
                                 NULL);
    }
    if (file_eval) {
        ntk_array a = {0};
        if ((rc = cli_read_matrix(c->eval_data, "data.eval_data", c->n0, M, &a))) return rc;
        if (!M) M = a.shape[0];
        d->X_eval = a.data; /* rows beyond M are unused */
        d->n_eval = M;
        return 0;
    }
    if (M == 0) return 0;
    if (!gauss && !sphere && !circle)
        return fail("n-eval: evaluation points need gaussian, sphere or circle data, or data.eval_data (--eval-data)");
    d->n_eval = M;
    d->X_eval = malloc(M * (size_t)c->n0 * sizeof(double));
    if (!d->X_eval) return fail("out of memory for the dataset");
    if (!circle) {
        memcpy(d->X_eval, X + N * (size_t)c->n0, M * (size_t)c->n0 * sizeof(double));
        return 0;
    }
    d->gamma_eval = malloc(M * sizeof(double));
    if (!d->gamma_eval) return fail("out of memory for the dataset");
    ntk_angle_range r = strcmp(c->data, "circle-pos") == 0 ? NTK_ANGLES_POS : NTK_ANGLES_SYM;
    if (strcmp(c->eval_points, "grid") == 0)
        ntk_data_circle_grid(M, r, d->gamma_eval, d->X_eval);
    else if (strcmp(c->eval_points, "uniform") == 0)
        ntk_data_circle_uniform(c->data_seed, 1, M, r, d->gamma_eval, d->X_eval);
    else {
        cli_errorf("data.eval_points (--eval-points): unknown value '%s' (expected uniform|grid)", c->eval_points);
        return CLI_EXIT_USAGE;
    }
    size_t len = strlen(desc);
    snprintf(desc + len, cap - len, "; %zu evaluation angles %s", M,
             strcmp(c->eval_points, "grid") == 0 ? "on an equispaced grid" : "uniform at random (sub-stream 1)");
    return 0;
}

int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    memset(d, 0, sizeof *d);
    int rc;
    if (strcmp(c->data, "fmnist") == 0)
        rc = fmnist(c, d, desc, cap);
    else if (strcmp(c->data, "circle-subset") == 0 || strcmp(c->data, "circle-pos-subset") == 0)
        rc = circle_subset(c, d, desc, cap);
    else
        rc = inputs(c, d, desc, cap);
    if (rc) {
        ntk_dataset_clear(d);
        return rc;
    }
    size_t N = d->n_train, M = d->n_eval, k = (size_t)c->outputs;
    if (strcmp(c->target, "e2") == 0 && !c->noise_set) c->noise = E2_NOISE;
    if (strcmp(c->data, "fmnist") != 0) {
        d->Y_train = malloc(N * k * sizeof(double));
        d->Y_eval = M ? malloc(M * k * sizeof(double)) : NULL;
        if (!d->Y_train || (M && !d->Y_eval)) {
            ntk_dataset_clear(d);
            return fail("out of memory for the dataset");
        }
        ntk_spec spec;
        if ((rc = cli_config_spec(c, &spec))) {
            ntk_dataset_clear(d);
            return rc;
        }
        rc = targets(c, &spec, N, d->X_train, d->gamma_train, d->Y_train, 0);
        if (rc == -1) {
            rc = file_targets(c, "target", c->target, N, d->Y_train);
            if (!rc && M) {
                if (!c->eval_target[0]) {
                    cli_errorf("train.eval_target (--eval-target): targets from %s need evaluation targets from a "
                               "file too (n_eval = %zu)", c->target, M);
                    rc = CLI_EXIT_USAGE;
                } else {
                    rc = file_targets(c, "train.eval_target", c->eval_target, M, d->Y_eval);
                }
            }
        } else if (!rc && c->eval_target[0]) {
            cli_errorf("train.eval_target (--eval-target): applies to targets from a file, not to target %s",
                       c->target);
            rc = CLI_EXIT_USAGE;
        } else if (!rc && M) {
            rc = targets(c, &spec, M, d->X_eval, d->gamma_eval, d->Y_eval, 1);
        }
        if (rc) {
            ntk_dataset_clear(d);
            return rc;
        }
    }
    /* label noise on the training targets only, from its own seed */
    if (c->noise > 0) ntk_target_add_noise(c->noise_seed, 0, c->noise, N * (size_t)d->k, d->Y_train);
    return 0;
}
