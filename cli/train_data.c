/* train_data.c -- inputs (train / eval split) and targets for `ntkdrift train`:
 * circle grids with Fourier targets, Gaussian inputs with the product target,
 * teacher networks, random targets, Fashion-MNIST, or user files. */
#include "train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

static int fail(const char *what)
{
    cli_errorf("%s", what);
    return CLI_EXIT_USAGE;
}

/* Angles of circle inputs (X rows are (cos, sin)). */
static void angles(size_t n, const double *X, double *g)
{
    for (size_t i = 0; i < n; i++) g[i] = atan2(X[2 * i + 1], X[2 * i]);
}

static int targets(cli_config *c, const ntk_spec *spec, size_t n, const double *X, double *Y, int sub)
{
    size_t k = (size_t)c->outputs;
    if (strcmp(c->target, "fourier") == 0) {
        if (c->n0 != 2 || k != 1) return fail("target: fourier needs circle data (n0 = 2) and one output");
        double *g = malloc(n * sizeof *g), *a = malloc((size_t)c->fourier_k * sizeof *a);
        if (!g || !a) {
            free(g);
            free(a);
            return fail("out of memory");
        }
        for (int j = 0; j < c->fourier_k; j++) a[j] = 1.0 / (j + 1);
        angles(n, X, g);
        ntk_target_fourier(n, g, c->fourier_k, a, NULL, 0, Y);
        free(g);
        free(a);
    } else if (strcmp(c->target, "product") == 0) {
        if (c->n0 < 2 || k != 1) return fail("target: product x1*x2 needs n0 >= 2 and one output");
        ntk_target_product(n, c->n0, X, Y);
    } else if (strcmp(c->target, "teacher") == 0) {
        if (ntk_target_teacher(spec, c->seed + 1, n, X, Y) != NTK_OK) {
            cli_errorf("target: teacher: %s", ntk_last_error());
            return CLI_EXIT_USAGE;
        }
    } else if (strcmp(c->target, "random") == 0) {
        ntk_rng_normal(c->seed, NTK_STREAM_TARGET, (uint64_t)sub, 0, n * k, Y);
    } else {
        return -1; /* a file: handled by the caller */
    }
    if (c->noise > 0) ntk_target_add_noise(c->seed, (uint64_t)sub, c->noise, n * k, Y);
    return 0;
}

static int file_targets(cli_config *c, size_t N, double *Y)
{
    size_t len = strlen(c->target);
    if (len < 5 || strcmp(c->target + len - 4, ".npy") != 0) {
        cli_errorf("target: unknown value '%s' (expected fourier|product|teacher|random|PATH.npy)", c->target);
        return CLI_EXIT_USAGE;
    }
    ntk_array a = {0};
    if (ntk_npy_read(c->target, &a) != NTK_OK) {
        cli_errorf("target: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    size_t k = (size_t)c->outputs;
    bool ok = (a.ndim == 1 && k == 1 && a.shape[0] >= N) || (a.ndim == 2 && a.shape[1] == k && a.shape[0] >= N);
    if (!ok) {
        ntk_array_free(&a);
        cli_errorf("target: %s must have shape (N,) or (N, k) with at least N = %zu rows and k = %zu", c->target, N, k);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < N * k; i++)
        if (!isfinite(a.data[i])) {
            ntk_array_free(&a);
            cli_errorf("target: %s: non-finite value at index %zu", c->target, i);
            return CLI_EXIT_USAGE;
        }
    memcpy(Y, a.data, N * k * sizeof *Y);
    ntk_array_free(&a);
    if (c->noise > 0) ntk_target_add_noise(c->seed, 0, c->noise, N * k, Y);
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
    o.seed = c->seed;
    if (ntk_fmnist_load(&o, d) != NTK_OK) {
        cli_errorf("data: fmnist: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    if (c->n_eval == 0) d->n_eval = 0;
    c->n0 = d->n0;
    c->outputs = d->k;
    snprintf(desc, cap, "Fashion-MNIST classes %d..., %zu train / %zu eval, %s targets", o.classes[0], d->n_train,
             d->n_eval, o.targets == NTK_TARGETS_BINARY ? "+-1" : "one-hot");
    if (c->noise > 0) ntk_target_add_noise(c->seed, 0, c->noise, d->n_train * (size_t)d->k, d->Y_train);
    return 0;
}

int cli_train_data(cli_config *c, ntk_dataset *d, char *desc, size_t cap)
{
    memset(d, 0, sizeof *d);
    if (strcmp(c->data, "fmnist") == 0) return fmnist(c, d, desc, cap);
    size_t M = (size_t)c->n_eval;
    double *X = NULL;
    size_t N = 0;
    bool gauss = strcmp(c->data, "gaussian") == 0, sphere = strcmp(c->data, "sphere") == 0;
    long n_train = c->n;
    if (gauss || sphere) c->n = n_train + (long)M; /* one draw, split into train and eval rows */
    int rc = cli_load_inputs(c, &X, &N, desc, cap);
    c->n = n_train;
    if (rc) return rc;
    if (gauss || sphere) N = (size_t)n_train;
    bool circle = c->n0 == 2 && strncmp(c->data, "circle", 6) == 0;
    if (M > 0 && !gauss && !sphere && !circle) {
        free(X);
        return fail("n-eval: evaluation points need gaussian, sphere or circle data");
    }
    size_t k = (size_t)c->outputs;
    d->n_train = N;
    d->n_eval = M;
    d->n0 = c->n0;
    d->k = (int)k;
    d->X_train = X;
    d->Y_train = malloc(N * k * sizeof(double));
    if (M > 0) {
        d->X_eval = malloc(M * (size_t)c->n0 * sizeof(double));
        d->Y_eval = malloc(M * k * sizeof(double));
    }
    if (!d->Y_train || (M > 0 && (!d->X_eval || !d->Y_eval))) {
        ntk_dataset_free(d);
        return fail("out of memory for the dataset");
    }
    if (M > 0) {
        if (circle)
            ntk_data_circle_uniform(c->seed, M, NTK_ANGLES_SYM, NULL, d->X_eval);
        else
            memcpy(d->X_eval, X + N * (size_t)c->n0, M * (size_t)c->n0 * sizeof(double));
    }
    ntk_spec spec;
    if ((rc = cli_config_spec(c, &spec))) {
        ntk_dataset_free(d);
        return rc;
    }
    rc = targets(c, &spec, N, d->X_train, d->Y_train, 0);
    if (rc == -1) {
        if (M > 0) {
            ntk_dataset_free(d);
            return fail("n-eval: evaluation targets are not available for file targets");
        }
        rc = file_targets(c, N, d->Y_train);
    } else if (rc == 0 && M > 0) {
        double noise = c->noise;
        c->noise = 0; /* label noise on the training targets only */
        rc = targets(c, &spec, M, d->X_eval, d->Y_eval, 1);
        c->noise = noise;
    }
    if (rc) ntk_dataset_free(d);
    return rc;
}
