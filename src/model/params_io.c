/* params_io.c -- save / load the trainable parameters as an .npz of
 * W1..W{L+1} and b1..b{L+1} (float64, shapes as stored). */
#include "net.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

ntk_status ntk_net_save_params(const ntk_net *net, const char *path)
{
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    if (st != NTK_OK) return st;
    for (int l = 1; l <= net->d && st == NTK_OK; l++) {
        char name[32];
        size_t shW[2] = {(size_t)net->n[l], (size_t)net->n[l - 1]}, shb[1] = {(size_t)net->n[l]};
        snprintf(name, sizeof name, "W%d", l);
        st = ntk_npz_add(w, name, NTK_F64, 2, shW, net->theta + net->offW[l]);
        if (st == NTK_OK && net_has_bias(net, l)) {
            snprintf(name, sizeof name, "b%d", l);
            st = ntk_npz_add(w, name, NTK_F64, 1, shb, net->theta + net->offb[l]);
        }
    }
    if (st != NTK_OK) {
        ntk_npz_abort(w);
        return st;
    }
    return ntk_npz_close(w);
}

static ntk_status load_one(const char *path, const char *name, int ndim, const size_t *shape, double *dst)
{
    ntk_array a = {0};
    ntk_status st = ntk_npz_read(path, name, &a);
    if (st != NTK_OK) return st;
    bool ok = a.ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = a.shape[i] == shape[i];
    if (!ok) {
        char got[128] = "(", want[128] = "(";
        for (int i = 0; i < a.ndim && i < NTK_NPY_MAX_DIM; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%zu%s", a.shape[i], i + 1 < a.ndim ? ", " : "");
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%zu%s", shape[i], i + 1 < ndim ? ", " : "");
        ntk_array_clear(&a);
        return ntk_set_error(NTK_EFORMAT, "%s: %s has shape %s), the network needs %s)", path, name, got, want);
    }
    for (size_t i = 0; i < a.count; i++)
        if (!isfinite(a.data[i])) {
            ntk_array_clear(&a);
            return ntk_set_error(NTK_EFORMAT, "%s: %s holds a non-finite value at index %zu", path, name, i);
        }
    memcpy(dst, a.data, a.count * sizeof *dst);
    ntk_array_clear(&a);
    return NTK_OK;
}

ntk_status ntk_net_load_params(ntk_net *net, const char *path)
{
    for (int l = 1; l <= net->d; l++) {
        char name[32];
        size_t shW[2] = {(size_t)net->n[l], (size_t)net->n[l - 1]}, shb[1] = {(size_t)net->n[l]};
        snprintf(name, sizeof name, "W%d", l);
        ntk_status st = load_one(path, name, 2, shW, net->theta + net->offW[l]);
        if (st != NTK_OK) return st;
        snprintf(name, sizeof name, "b%d", l);
        if (net_has_bias(net, l)) {
            st = load_one(path, name, 1, shb, net->theta + net->offb[l]);
            if (st != NTK_OK) return st;
        } else {
            ntk_array a = {0};
            if (ntk_npz_read(path, name, &a) == NTK_OK) {
                ntk_array_clear(&a);
                return ntk_set_error(NTK_EFORMAT, "%s: holds %s but layer %d has no bias (bias none)", path, name, l);
            }
        }
    }
    ntk_clear_error();
    net->theta32_valid = false;
    return NTK_OK;
}
