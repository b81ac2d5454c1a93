/* o3_driver.c -- test helper for tests/kernel/test_o3_torch.py: one network's O3 and O4 with their
 * eval rows, written as .npy files beside its params.npz and inputs, for PyTorch to recompute.
 *
 * usage: o3_driver OUTDIR ACT PARAM BIAS BIAS_OUT DEPTH WIDTH SW2 SW2_OUT SB SEED
 * writes OUTDIR/params.npz, X.npy [N x n0], Xe.npy [M x n0], O3.npy [N x N x N], O3e.npy [M x N x N],
 * O4.npy [N x N x N x N], O4e.npy [M x N x N x N] (N = 5, M = 2, n0 = 3). */
#include "ntkdrift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "o3_driver: %s: %s\n", what, ntk_last_error());
    return 1;
}

static int save(const char *dir, const char *name, int ndim, const size_t *shape, const double *data)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ntk_npy_write(path, NTK_F64, ndim, shape, data) != NTK_OK;
}

int main(int argc, char **argv)
{
    if (argc != 12) {
        fprintf(stderr, "usage: o3_driver OUTDIR ACT PARAM BIAS BIAS_OUT DEPTH WIDTH SW2 SW2_OUT SB SEED\n");
        return 2;
    }
    const char *dir = argv[1];
    enum { N = 5, M = 2, N0 = 3 };
    int depth = atoi(argv[6]), width = atoi(argv[7]), widths[64];
    if (depth < 0 || depth > 64) return 2;
    for (int l = 0; l < depth; l++) widths[l] = width + l; /* unequal widths */
    ntk_spec s = ntk_spec_default();
    s.depth = depth, s.widths = widths, s.n0 = N0, s.outputs = 1;
    if (ntk_act_parse(argv[2], &s.act) || ntk_param_parse(argv[3], &s.param) || ntk_bias_parse(argv[4], &s.bias) ||
        ntk_bias_parse(argv[5], &s.bias_out))
        return fail("spec");
    s.sw2 = atof(argv[8]), s.sw2_out = atof(argv[9]), s.sb = atof(argv[10]);
    ntk_net *net = NULL;
    if (ntk_net_alloc(&s, &net) || ntk_net_init(net, strtoull(argv[11], NULL, 10))) return fail("network");
    double X[N * N0], Xe[M * N0];
    if (ntk_data_gaussian(31, N, N0, X) || ntk_data_gaussian(32, M, N0, Xe)) return fail("data");
    double *O3 = malloc(N * N * N * sizeof *O3), *O3e = malloc(M * N * N * sizeof *O3e);
    double *O4 = malloc(N * N * N * N * sizeof *O4), *O4e = malloc(M * N * N * N * sizeof *O4e);
    if (!O3 || !O3e || !O4 || !O4e) return 1;
    if (ntk_o3(net, NULL, N, X, M, Xe, O3, O3e)) return fail("ntk_o3");
    if (ntk_o4(net, NULL, N, X, M, Xe, O4, O4e)) return fail("ntk_o4");
    char path[4096];
    snprintf(path, sizeof path, "%s/params.npz", dir);
    if (ntk_net_save_params(net, path)) return fail("params");
    size_t sx[2] = {N, N0}, sxe[2] = {M, N0}, s3[3] = {N, N, N}, s3e[3] = {M, N, N}, s4[4] = {N, N, N, N},
           s4e[4] = {M, N, N, N};
    if (save(dir, "X.npy", 2, sx, X) || save(dir, "Xe.npy", 2, sxe, Xe) || save(dir, "O3.npy", 3, s3, O3) ||
        save(dir, "O3e.npy", 3, s3e, O3e) || save(dir, "O4.npy", 4, s4, O4) || save(dir, "O4e.npy", 4, s4e, O4e))
        return fail("writing");
    free(O3); free(O3e); free(O4); free(O4e);
    ntk_net_free(net);
    return 0;
}
