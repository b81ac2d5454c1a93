/* dataset.c -- gaussian / circle inputs or X from .npy / .npz (member X). */
#include "dataset.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

bool cli_data_known(const char *s)
{
    static const char *kinds[] = {"gaussian", "gaussian-raw", "circle", "circle-pos", "circle-uniform", "circle-subset",
                                  "circle-pos-subset", "sphere", "fmnist"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(s, kinds[i]) == 0) return true;
    return ends_with(s, ".npy") || ends_with(s, ".npz") || ends_with(s, ".csv");
}

int cli_read_matrix(const char *path, const char *what, int cols_req, size_t rows_req, ntk_array *out)
{
    bool npy = ends_with(path, ".npy"), npz = ends_with(path, ".npz");
    ntk_array a = {0};
    ntk_status st = npy ? ntk_npy_read(path, &a) : npz ? ntk_npz_read(path, "X", &a) : ntk_csv_read(path, &a);
    if (st != NTK_OK) {
        cli_errorf("%s: %s", what, ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    if (a.ndim != 2 || a.shape[0] == 0 || a.shape[1] == 0) {
        char shape[160] = "";
        for (int d = 0, n = 0; d < a.ndim && n < (int)sizeof shape - 24; d++)
            n += snprintf(shape + n, sizeof shape - (size_t)n, d ? ", %zu" : "%zu", a.shape[d]);
        cli_errorf("%s: %s: X must be a non-empty 2-D array (N, n0), got shape (%s%s)", what, path, shape,
                   a.ndim == 1 ? "," : "");
        ntk_array_clear(&a);
        return CLI_EXIT_USAGE;
    }
    size_t rows = a.shape[0], cols = a.shape[1];
    if (cols_req > 0 && (size_t)cols_req != cols) {
        cli_errorf("%s: %s has %zu columns but n0 = %d was given", what, path, cols, cols_req);
        ntk_array_clear(&a);
        return CLI_EXIT_USAGE;
    }
    if (cols > 1u << 30) {
        cli_errorf("%s: %s: %zu columns is too many", what, path, cols);
        ntk_array_clear(&a);
        return CLI_EXIT_USAGE;
    }
    if (rows_req > rows) {
        cli_errorf("%s: %s has %zu rows but n = %zu was asked for", what, path, rows, rows_req);
        ntk_array_clear(&a);
        return CLI_EXIT_USAGE;
    }
    size_t used = rows_req ? rows_req : rows;
    for (size_t i = 0; i < used * cols; i++)
        if (!isfinite(a.data[i])) {
            cli_errorf("%s: %s: non-finite value at row %zu, column %zu", what, path, i / cols, i % cols);
            ntk_array_clear(&a);
            return CLI_EXIT_USAGE;
        }
    *out = a;
    return 0;
}

int cli_load_inputs(cli_config *c, double **Xout, size_t *Nout, char *desc, size_t cap)
{
    *Xout = NULL;
    size_t N = (size_t)c->n;
    bool raw = strcmp(c->data, "gaussian-raw") == 0;
    if (raw || strcmp(c->data, "gaussian") == 0) {
        double *X = malloc(N * (size_t)c->n0 * sizeof *X);
        if (!X) {
            cli_errorf("data: cannot allocate %zu x %d inputs", N, c->n0);
            return CLI_EXIT_USAGE;
        }
        if (raw)
            ntk_data_gaussian_raw(c->data_seed, N, c->n0, X);
        else
            ntk_data_gaussian(c->data_seed, N, c->n0, X);
        snprintf(desc, cap, "gaussian rows%s, data seed %llu (stream DATA_X)",
                 raw ? " N(0, I) as drawn (not rescaled)" : " rescaled to norm sqrt(n0)",
                 (unsigned long long)c->data_seed);
        *Xout = X;
        *Nout = N;
        return 0;
    }
    bool circle = strcmp(c->data, "circle") == 0, circle_pos = strcmp(c->data, "circle-pos") == 0,
         circle_uni = strcmp(c->data, "circle-uniform") == 0;
    if (strcmp(c->data, "circle-subset") == 0 || strcmp(c->data, "circle-pos-subset") == 0) {
        cli_errorf("data: %s (training points drawn from the evaluation grid) applies to train and sweep only", c->data);
        return CLI_EXIT_USAGE;
    }
    if (circle || circle_pos || circle_uni) {
        if (c->n0_set && c->n0 != 2) {
            cli_errorf("n0: circle data has n0 = 2, but n0 = %d was given", c->n0);
            return CLI_EXIT_USAGE;
        }
        c->n0 = 2;
        double *X = malloc(N * 2 * sizeof *X);
        if (!X) {
            cli_errorf("data: cannot allocate %zu circle points", N);
            return CLI_EXIT_USAGE;
        }
        if (circle_uni) {
            ntk_data_circle_uniform(c->data_seed, 0, N, NTK_ANGLES_SYM, NULL, X);
            snprintf(desc, cap, "unit circle, uniform random angles on [-pi, pi), data seed %llu (stream ANGLES)",
                     (unsigned long long)c->data_seed);
        } else {
            ntk_data_circle_grid(N, circle ? NTK_ANGLES_SYM : NTK_ANGLES_POS, NULL, X);
            snprintf(desc, cap, "unit circle, angles %s + 2 pi i / N", circle ? "-pi" : "0");
        }
        *Xout = X;
        *Nout = N;
        return 0;
    }
    if (strcmp(c->data, "sphere") == 0) {
        double *X = malloc(N * (size_t)c->n0 * sizeof *X);
        if (!X || ntk_data_sphere(c->data_seed, N, c->n0, X) != NTK_OK) {
            free(X);
            cli_errorf("data: sphere: %s", X ? ntk_last_error() : "out of memory");
            return CLI_EXIT_USAGE;
        }
        snprintf(desc, cap, "uniform on the unit sphere S^{n0-1}, data seed %llu (stream SPHERE)",
                 (unsigned long long)c->data_seed);
        *Xout = X;
        *Nout = N;
        return 0;
    }
    if (strcmp(c->data, "fmnist") == 0) {
        if (c->n0_set && c->n0 != 784) {
            cli_errorf("n0: Fashion-MNIST has n0 = 784, but n0 = %d was given", c->n0);
            return CLI_EXIT_USAGE;
        }
        ntk_fmnist_opts o = ntk_fmnist_defaults();
        o.classes = c->classes_count ? c->classes : NULL;
        o.n_classes = c->classes_count;
        o.n_train = N;
        o.n_eval = 1;
        o.pixels = c->pixels;
        o.dir = c->fmnist_dir[0] ? c->fmnist_dir : NULL;
        o.seed = c->data_seed;
        ntk_dataset ds = {0};
        if (ntk_fmnist_load(&o, &ds) != NTK_OK) {
            cli_errorf("data: fmnist: %s", ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        c->n0 = ds.n0;
        *Xout = ds.X_train;
        ds.X_train = NULL;
        ntk_dataset_clear(&ds);
        snprintf(desc, cap, "Fashion-MNIST training images (%d classes), %zu drawn with data seed %llu, pixels %s",
                 c->classes_count ? c->classes_count : 10, N, (unsigned long long)c->data_seed,
                 c->pixels == NTK_PIXELS_STANDARDIZE ? "standardized" : "x/255");
        *Nout = N;
        return 0;
    }
    if (!ends_with(c->data, ".npy") && !ends_with(c->data, ".npz") && !ends_with(c->data, ".csv")) {
        cli_errorf("data: unknown value '%s' (expected gaussian|gaussian-raw|circle|circle-pos|circle-uniform|"
                   "circle-subset|circle-pos-subset|sphere|fmnist|PATH.npy|PATH.npz|PATH.csv)", c->data);
        return CLI_EXIT_USAGE;
    }
    ntk_array a = {0};
    int rc = cli_read_matrix(c->data, "data", c->n0_set ? c->n0 : 0, c->n_set ? N : 0, &a);
    if (rc) return rc;
    size_t rows = a.shape[0], cols = a.shape[1];
    if (!c->n_set) N = rows;
    c->n0 = (int)cols;
    c->n = (long)N;
    snprintf(desc, cap, "%s: first %zu of %zu rows", c->data, N, rows);
    *Xout = a.data; /* rows beyond N are simply unused */
    *Nout = N;
    return 0;
}
