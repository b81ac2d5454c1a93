/* dataset.c -- gaussian / circle inputs or X from .npy / .npz (member X). */
#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int cli_load_inputs(cli_config *c, double **Xout, size_t *Nout, char *desc, size_t cap)
{
    *Xout = NULL;
    size_t N = (size_t)c->n;
    if (strcmp(c->data, "gaussian") == 0) {
        double *X = malloc(N * (size_t)c->n0 * sizeof *X);
        if (!X) {
            cli_errorf("data: cannot allocate %zu x %d inputs", N, c->n0);
            return CLI_EXIT_USAGE;
        }
        ntk_data_gaussian(c->seed, N, c->n0, X);
        snprintf(desc, cap, "gaussian rows rescaled to norm sqrt(n0), seed %llu (stream DATA_X)",
                 (unsigned long long)c->seed);
        *Xout = X;
        *Nout = N;
        return 0;
    }
    if (strcmp(c->data, "circle") == 0) {
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
        ntk_data_circle(N, X);
        snprintf(desc, cap, "unit circle, angles -pi + 2 pi i / N");
        *Xout = X;
        *Nout = N;
        return 0;
    }
    if (!ends_with(c->data, ".npy") && !ends_with(c->data, ".npz")) {
        cli_errorf("data: unknown value '%s' (expected gaussian|circle|PATH.npy|PATH.npz)", c->data);
        return CLI_EXIT_USAGE;
    }
    ntk_array a = {0};
    ntk_status st = ends_with(c->data, ".npy") ? ntk_npy_read(c->data, &a) : ntk_npz_read(c->data, "X", &a);
    if (st != NTK_OK) {
        cli_errorf("data: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    if (a.ndim != 2 || a.shape[0] == 0 || a.shape[1] == 0) {
        cli_errorf("data: %s: X must be a non-empty 2-D array (N, n0), got %d dimensions", c->data, a.ndim);
        ntk_array_free(&a);
        return CLI_EXIT_USAGE;
    }
    size_t rows = a.shape[0], cols = a.shape[1];
    if (c->n0_set && (size_t)c->n0 != cols) {
        cli_errorf("data: %s has %zu columns but n0 = %d was given", c->data, cols, c->n0);
        ntk_array_free(&a);
        return CLI_EXIT_USAGE;
    }
    if (cols > 1u << 30) {
        cli_errorf("data: %s: %zu columns is too many", c->data, cols);
        ntk_array_free(&a);
        return CLI_EXIT_USAGE;
    }
    if (c->n_set && N > rows) {
        cli_errorf("data: %s has %zu rows but n = %zu was asked for", c->data, rows, N);
        ntk_array_free(&a);
        return CLI_EXIT_USAGE;
    }
    if (!c->n_set) N = rows;
    for (size_t i = 0; i < N * cols; i++)
        if (!isfinite(a.data[i])) {
            cli_errorf("data: %s: non-finite value at row %zu, column %zu", c->data, i / cols, i % cols);
            ntk_array_free(&a);
            return CLI_EXIT_USAGE;
        }
    c->n0 = (int)cols;
    c->n = (long)N;
    snprintf(desc, cap, "%s: first %zu of %zu rows", c->data, N, rows);
    *Xout = a.data; /* rows beyond N are simply unused */
    *Nout = N;
    return 0;
}
