/* data_build.c -- training and evaluation sets with their targets (what `train`, `sweep` and
 * `profile` train on): circle grids, training points drawn from an evaluation grid, Gaussian and
 * sphere rows split into train and eval rows, Fashion-MNIST, user files; Fourier / e2 / product /
 * teacher / random targets or targets from files; label noise from its own seed (docs/data.md). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_build.h"

/* The E2 target of the first user's experiments (docs/data.md). */
static const int e2_modes[NTK_E2_TERMS] = {2, 4, 7, 11, 16, 23, 32};
static const double e2_amps[NTK_E2_TERMS] = {0.9, 0.7, 0.55, 0.45, 0.35, 0.28, 0.22};
static const double e2_phases[NTK_E2_TERMS] = {0, M_PI / 2, 1.2, 2.0, 0.942, 4.5, 5.8};

void ntk_target_e2_terms(ntk_fourier_term *t)
{
    for (int j = 0; j < NTK_E2_TERMS; j++)
        t[j] = (ntk_fourier_term){e2_modes[j], e2_amps[j], e2_phases[j], NTK_FOURIER_SIN};
}

static int is_e2(const ntk_data_opts *o) { return o->target && strcmp(o->target, "e2") == 0; }

double ntk_data_noise(const ntk_data_opts *o)
{
    if (!o) return 0;
    return o->noise >= 0 ? o->noise : is_e2(o) ? NTK_E2_NOISE : 0;
}

static size_t str_len(const char *s) { return s ? strlen(s) : 0; }

/* ------------------------------------------------------------------ targets */

/* The terms of the fourier / e2 target: *out [*count] (malloc'ed). */
static ntk_status fourier_terms(const ntk_data_opts *o, ntk_fourier_term **out, int *count)
{
    int e2 = is_e2(o);
    int n = e2 ? NTK_E2_TERMS : o->n_modes ? o->n_modes : o->fourier_k;
    if (e2 && (o->n_modes || o->n_amps || o->n_phases))
        return ntk_set_error(NTK_EINVAL, "train.target_modes: target e2 has its own modes, amplitudes and phases; "
                             "use target fourier with explicit lists instead");
    if (!e2 && !o->n_modes && (o->n_amps || o->n_phases))
        return ntk_set_error(NTK_EINVAL,
                             "train.target_amps: amplitudes and phases need train.target_modes (--target-modes)");
    if (o->n_modes && o->n_amps != o->n_modes)
        return ntk_set_error(NTK_EINVAL, "train.target_amps: %d amplitudes for %d modes (one per mode)", o->n_amps,
                             o->n_modes);
    if (o->n_phases && o->n_phases != n)
        return ntk_set_error(NTK_EINVAL, "train.target_phases: %d phases for %d modes (one per mode, or none for 0)",
                             o->n_phases, n);
    if (o->n_cosine > 1 && o->n_cosine != n)
        return ntk_set_error(NTK_EINVAL, "train.target_basis: %d bases for %d modes (one for all, or one per mode)",
                             o->n_cosine, n);
    if (o->partial > n)
        return ntk_set_error(NTK_EINVAL, "train.target_partial: %d is more than the %d terms of the target",
                             o->partial, n);
    ntk_fourier_term *t = malloc((size_t)(n > 0 ? n : 1) * sizeof *t);
    if (!t) return ntk_set_error(NTK_ENOMEM, "out of memory");
    if (e2) ntk_target_e2_terms(t);
    for (int j = 0; j < n; j++) {
        if (!e2) {
            t[j].mode = o->n_modes ? o->modes[j] : j + 1;
            t[j].amp = o->n_modes ? o->amps[j] : 1.0 / (j + 1);
            t[j].phase = o->n_phases ? o->phases[j] : 0.0;
        }
        int cosine = o->n_cosine ? o->cosine[o->n_cosine > 1 ? j : 0] : 0;
        t[j].basis = cosine ? NTK_FOURIER_COS : NTK_FOURIER_SIN;
    }
    *out = t;
    *count = n;
    return NTK_OK;
}

/* Generated targets of n points Y [n x k] (sub 0: training set, 1: evaluation set).  *is_file = 1
 * (and nothing done) when the target names a file. */
static ntk_status targets(const ntk_data_opts *o, int n0, int k, size_t n, const double *X, const double *gamma,
                          double *Y, uint64_t sub, int *is_file)
{
    *is_file = 0;
    const char *t = o->target;
    if (strcmp(t, "fourier") == 0 || strcmp(t, "e2") == 0) {
        if (!gamma || k != 1)
            return ntk_set_error(NTK_EINVAL, "target: %s needs circle data (n0 = 2) and one output", t);
        ntk_fourier_term *terms = NULL;
        int nt = 0;
        ntk_status st = fourier_terms(o, &terms, &nt);
        if (st != NTK_OK) return st;
        st = ntk_target_fourier_terms(n, gamma, nt, terms, o->partial, Y);
        free(terms);
        return st == NTK_OK ? NTK_OK : data_prefix_error(st, "target: ");
    }
    if (strcmp(t, "product") == 0) {
        if (n0 < 2 || k != 1) return ntk_set_error(NTK_EINVAL, "target: product x1*x2 needs n0 >= 2 and one output");
        return ntk_target_product(n, n0, X, Y);
    }
    if (strcmp(t, "teacher") == 0) {
        if (!o->teacher) return ntk_set_error(NTK_EINVAL, "target: teacher: no teacher network given");
        ntk_spec s = *o->teacher;
        s.n0 = n0;
        s.outputs = k;
        ntk_status st = ntk_target_teacher(&s, o->data_seed ^ NTK_TEACHER_SEED_XOR, n, X, Y);
        return st == NTK_OK ? NTK_OK : data_prefix_error(st, "target: teacher: ");
    }
    if (strcmp(t, "random") == 0) {
        ntk_rng_normal(o->data_seed, NTK_STREAM_TARGET, sub, 0, n * (size_t)k, Y);
        return NTK_OK;
    }
    *is_file = 1;
    return NTK_OK;
}

/* Targets from a .npy file: Y [N x k] from its first N rows.  key names the option in messages. */
static ntk_status file_targets(const char *key, const char *path, size_t N, int k_, double *Y)
{
    size_t k = (size_t)k_;
    if (!data_ends_with(path, ".npy") || strlen(path) < 5)
        return ntk_set_error(NTK_EINVAL, "%s: unknown value '%s' (expected fourier|e2|product|teacher|random|PATH.npy)",
                             key, path);
    ntk_array a = {0};
    ntk_status st = ntk_npy_read(path, &a);
    if (st != NTK_OK) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s: ", key);
        return data_prefix_error(st, prefix);
    }
    int ok = (a.ndim == 1 && k == 1 && a.shape[0] >= N) || (a.ndim == 2 && a.shape[1] == k && a.shape[0] >= N);
    if (!ok) {
        ntk_array_clear(&a);
        return ntk_set_error(NTK_EINVAL, "%s: %s must have shape (N,) or (N, k) with at least N = %zu rows and k = %zu",
                             key, path, N, k);
    }
    for (size_t i = 0; i < N * k; i++)
        if (!isfinite(a.data[i])) {
            ntk_array_clear(&a);
            return ntk_set_error(NTK_EINVAL, "%s: %s: non-finite value at index %zu", key, path, i);
        }
    memcpy(Y, a.data, N * k * sizeof *Y);
    ntk_array_clear(&a);
    return NTK_OK;
}

/* Y_train and Y_eval of d (non-fmnist data). */
static ntk_status all_targets(const ntk_data_opts *o, ntk_dataset *d)
{
    size_t N = d->n_train, M = d->n_eval, k = (size_t)d->k;
    d->Y_train = malloc(N * k * sizeof(double));
    d->Y_eval = M ? malloc(M * k * sizeof(double)) : NULL;
    if (!d->Y_train || (M && !d->Y_eval)) return ntk_set_error(NTK_ENOMEM, "out of memory for the dataset");
    int is_file = 0;
    ntk_status st = targets(o, d->n0, d->k, N, d->X_train, d->gamma_train, d->Y_train, 0, &is_file);
    if (st != NTK_OK) return st;
    if (is_file) {
        if ((st = file_targets("target", o->target, N, d->k, d->Y_train)) != NTK_OK || !M) return st;
        if (!str_len(o->eval_target))
            return ntk_set_error(NTK_EINVAL, "train.eval_target (--eval-target): targets from %s need evaluation "
                                 "targets from a file too (n_eval = %zu)", o->target, M);
        return file_targets("train.eval_target", o->eval_target, M, d->k, d->Y_eval);
    }
    if (str_len(o->eval_target))
        return ntk_set_error(NTK_EINVAL, "train.eval_target (--eval-target): applies to targets from a file, not to "
                             "target %s", o->target);
    if (!M) return NTK_OK;
    return targets(o, d->n0, d->k, M, d->X_eval, d->gamma_eval, d->Y_eval, 1, &is_file);
}

/* ------------------------------------------------------------------- inputs */

static void append_desc(char *desc, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append_desc(char *desc, size_t cap, const char *fmt, ...)
{
    if (!desc || !cap) return;
    size_t len = strlen(desc);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc + len, cap - len, fmt, ap);
    va_end(ap);
}

static ntk_status fmnist(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    ntk_fmnist_opts f = ntk_fmnist_defaults();
    static const int two[2] = {0, 9};
    f.classes = o->n_classes ? o->classes : two;
    f.n_classes = o->n_classes ? o->n_classes : 2;
    f.targets = f.n_classes == 2 ? NTK_TARGETS_BINARY : NTK_TARGETS_ONEHOT;
    f.n_train = o->n;
    f.dir = str_len(o->fmnist_dir) ? o->fmnist_dir : NULL;
    f.n_eval = o->n_eval > 0 ? o->n_eval : 1;
    f.pixels = o->pixels;
    f.seed = o->data_seed;
    ntk_status st = ntk_fmnist_load(&f, d);
    if (st != NTK_OK) return data_prefix_error(st, "data: fmnist: ");
    if (o->n_eval == 0) d->n_eval = 0;
    if (desc && cap)
        snprintf(desc, cap, "Fashion-MNIST classes %d..., %zu train / %zu eval, %s targets, data seed %llu",
                 f.classes[0], d->n_train, d->n_eval, f.targets == NTK_TARGETS_BINARY ? "+-1" : "one-hot",
                 (unsigned long long)o->data_seed);
    return NTK_OK;
}

/* Circle data whose training points are n distinct points of the evaluation grid of n_eval. */
static ntk_status circle_subset(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    int pos = strcmp(o->data, "circle-pos-subset") == 0;
    if (o->n0_given && o->n0 != 2)
        return ntk_set_error(NTK_EINVAL, "n0: circle data has n0 = 2, but n0 = %d was given", o->n0);
    if (str_len(o->eval_data))
        return ntk_set_error(NTK_EINVAL, "data.eval_data: circle-subset data takes its evaluation points from its grid");
    if (o->n_eval < o->n)
        return ntk_set_error(NTK_EINVAL, "train.n_eval (--n-eval): %s draws the n = %zu training points from the "
                             "evaluation grid, which needs n_eval >= n (got %zu)", o->data, o->n, o->n_eval);
    size_t N = o->n, M = o->n_eval;
    d->n_train = N;
    d->n_eval = M;
    d->n0 = 2;
    d->k = o->outputs;
    d->X_train = malloc(N * 2 * sizeof(double));
    d->X_eval = malloc(M * 2 * sizeof(double));
    d->gamma_train = malloc(N * sizeof(double));
    d->gamma_eval = malloc(M * sizeof(double));
    size_t *idx = malloc(N * sizeof *idx);
    if (!d->X_train || !d->X_eval || !d->gamma_train || !d->gamma_eval || !idx) {
        free(idx);
        return ntk_set_error(NTK_ENOMEM, "out of memory for the dataset");
    }
    ntk_angle_range r = pos ? NTK_ANGLES_POS : NTK_ANGLES_SYM;
    ntk_status st = ntk_data_circle_grid(M, r, d->gamma_eval, d->X_eval);
    if (st == NTK_OK) st = ntk_data_subset(o->data_seed, 0, M, N, idx);
    if (st != NTK_OK) {
        free(idx);
        return data_prefix_error(st, "data: ");
    }
    for (size_t i = 0; i < N; i++) {
        d->gamma_train[i] = d->gamma_eval[idx[i]];
        d->X_train[2 * i] = d->X_eval[2 * idx[i]];
        d->X_train[2 * i + 1] = d->X_eval[2 * idx[i] + 1];
    }
    free(idx);
    if (desc && cap)
        snprintf(desc, cap, "unit circle: evaluation grid of %zu angles %s + 2 pi i / n_eval; %zu training points "
                 "drawn from it without replacement, data seed %llu (stream SUBSET)", M, pos ? "0" : "-pi", N,
                 (unsigned long long)o->data_seed);
    return NTK_OK;
}

/* Inputs of both sets (with angles for circle data): the kind's points, the evaluation set from
 * further rows of the same draw, the circle's grid or uniform angles, or a file. */
static ntk_status input_sets(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    size_t M = o->n_eval;
    int drawn = data_is_drawn(o->data), circle = data_is_circle(o->data), file_eval = str_len(o->eval_data) > 0;
    ntk_data_opts oi = *o;
    if (drawn && !file_eval) oi.n = o->n + M; /* one draw, split into train and eval rows */
    ntk_status st = ntk_data_inputs(&oi, d, desc, cap);
    if (st != NTK_OK) return st;
    if (drawn && !file_eval) d->n_train = o->n;
    size_t N = d->n_train, n0 = (size_t)d->n0;
    if (file_eval) {
        size_t rows = 0, cols = 0;
        st = ntk_matrix_read(o->eval_data, "data.eval_data", d->n0, M, &d->X_eval, &rows, &cols);
        if (st != NTK_OK) return st;
        d->n_eval = M ? M : rows; /* rows beyond M are unused */
        return NTK_OK;
    }
    if (M == 0) return NTK_OK;
    if (!drawn && !circle)
        return ntk_set_error(NTK_EINVAL, "n-eval: evaluation points need gaussian, sphere or circle data, or "
                             "data.eval_data (--eval-data)");
    d->n_eval = M;
    d->X_eval = malloc(M * n0 * sizeof(double));
    if (!d->X_eval) return ntk_set_error(NTK_ENOMEM, "out of memory for the dataset");
    if (!circle) {
        memcpy(d->X_eval, d->X_train + N * n0, M * n0 * sizeof(double));
        return NTK_OK;
    }
    d->gamma_eval = malloc(M * sizeof(double));
    if (!d->gamma_eval) return ntk_set_error(NTK_ENOMEM, "out of memory for the dataset");
    ntk_angle_range r = strcmp(o->data, "circle-pos") == 0 ? NTK_ANGLES_POS : NTK_ANGLES_SYM;
    const char *ep = o->eval_points ? o->eval_points : "uniform";
    int grid = strcmp(ep, "grid") == 0;
    if (grid)
        st = ntk_data_circle_grid(M, r, d->gamma_eval, d->X_eval);
    else if (strcmp(ep, "uniform") == 0)
        st = ntk_data_circle_uniform(o->data_seed, 1, M, r, d->gamma_eval, d->X_eval);
    else
        return ntk_set_error(NTK_EINVAL, "data.eval_points (--eval-points): unknown value '%s' (expected uniform|grid)",
                             ep);
    if (st != NTK_OK) return data_prefix_error(st, "data: ");
    append_desc(desc, cap, "; %zu evaluation angles %s", M,
                grid ? "on an equispaced grid" : "uniform at random (sub-stream 1)");
    return NTK_OK;
}

ntk_status ntk_data_build(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    if (!d) return ntk_set_error(NTK_EINVAL, "data: no dataset to fill");
    memset(d, 0, sizeof *d);
    if (desc && cap) desc[0] = '\0';
    if (!o || !o->data) return ntk_set_error(NTK_EINVAL, "data: no data kind given");
    if (!o->target) return ntk_set_error(NTK_EINVAL, "target: no target given");
    int fm = strcmp(o->data, "fmnist") == 0;
    ntk_status st;
    if (fm)
        st = fmnist(o, d, desc, cap);
    else if (strcmp(o->data, "circle-subset") == 0 || strcmp(o->data, "circle-pos-subset") == 0)
        st = circle_subset(o, d, desc, cap);
    else
        st = input_sets(o, d, desc, cap);
    if (st == NTK_OK && !fm) st = all_targets(o, d);
    if (st != NTK_OK) {
        ntk_dataset_clear(d);
        return st;
    }
    /* label noise on the training targets only, from its own seed */
    double noise = ntk_data_noise(o);
    if (noise > 0) ntk_target_add_noise(o->noise_seed, 0, noise, d->n_train * (size_t)d->k, d->Y_train);
    return NTK_OK;
}
