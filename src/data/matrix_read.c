/* matrix_read.c -- a checked 2-D matrix from PATH.npy, PATH.npz (member X) or PATH.csv: non-empty,
 * the required columns, enough rows, finite values.  Every message starts with the caller's key. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_build.h"

int data_ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

ntk_status data_prefix_error(ntk_status st, const char *prefix)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ntk_last_error()); /* the message buffer is also the destination */
    return ntk_set_error(st, "%s%s", prefix, msg);
}

ntk_status ntk_matrix_read(const char *path, const char *what, int cols_req, size_t rows_req, double **X,
                           size_t *rows_out, size_t *cols_out)
{
    *X = NULL;
    *rows_out = *cols_out = 0;
    if (!what) what = "matrix";
    if (!path) return ntk_set_error(NTK_EINVAL, "%s: no file given", what);
    int npy = data_ends_with(path, ".npy"), npz = data_ends_with(path, ".npz");
    ntk_array a = {0};
    ntk_status st = npy ? ntk_npy_read(path, &a) : npz ? ntk_npz_read(path, "X", &a) : ntk_csv_read(path, &a);
    if (st != NTK_OK) {
        char prefix[256];
        snprintf(prefix, sizeof prefix, "%s: ", what);
        return data_prefix_error(st, prefix);
    }
    if (a.ndim != 2 || a.shape[0] == 0 || a.shape[1] == 0) {
        char shape[160] = "";
        for (int d = 0, n = 0; d < a.ndim && n < (int)sizeof shape - 24; d++)
            n += snprintf(shape + n, sizeof shape - (size_t)n, d ? ", %zu" : "%zu", a.shape[d]);
        st = ntk_set_error(NTK_EINVAL, "%s: %s: X must be a non-empty 2-D array (N, n0), got shape (%s%s)", what,
                           path, shape, a.ndim == 1 ? "," : "");
        ntk_array_clear(&a);
        return st;
    }
    size_t rows = a.shape[0], cols = a.shape[1];
    if (cols_req > 0 && (size_t)cols_req != cols)
        st = ntk_set_error(NTK_EINVAL, "%s: %s has %zu columns but n0 = %d was given", what, path, cols, cols_req);
    else if (cols > 1u << 30)
        st = ntk_set_error(NTK_EINVAL, "%s: %s: %zu columns is too many", what, path, cols);
    else if (rows_req > rows)
        st = ntk_set_error(NTK_EINVAL, "%s: %s has %zu rows but n = %zu was asked for", what, path, rows, rows_req);
    if (st != NTK_OK) {
        ntk_array_clear(&a);
        return st;
    }
    size_t used = rows_req ? rows_req : rows;
    for (size_t i = 0; i < used * cols; i++)
        if (!isfinite(a.data[i])) {
            st = ntk_set_error(NTK_EINVAL, "%s: %s: non-finite value at row %zu, column %zu", what, path, i / cols,
                               i % cols);
            ntk_array_clear(&a);
            return st;
        }
    *X = a.data;
    *rows_out = rows;
    *cols_out = cols;
    return NTK_OK;
}
