/* fuzz_params.c -- parameter files (src/model/params_io.c: ntk_net_load_params over src/io/npz.c).
 *
 * The input is an .npz loaded into two small networks (depth 2, widths 4, n0 3, 2 outputs): one
 * with trainable biases (W1 [4x3], b1 [4], W2 [4x4], b2 [4], W3 [2x4], b3 [2]) and one with
 * bias none, where any b<l> member must be refused.  Exercises the member lookup, the shape
 * and ndim comparison and its message, the finiteness check and the copy into the parameter
 * vector.  A successful load must leave only finite parameters. */
#include <math.h>

#include "fuzz_util.h"

static ntk_net *make_net(ntk_bias bias)
{
    static const int widths[2] = {4, 4};
    ntk_spec s = ntk_spec_default();
    s.depth = 2;
    s.widths = widths;
    s.n0 = 3;
    s.outputs = 2;
    s.bias = s.bias_out = bias;
    ntk_net *net = NULL;
    if (ntk_net_alloc(&s, &net) != NTK_OK || ntk_net_init(net, 1) != NTK_OK) {
        fprintf(stderr, "fuzz: cannot build the test network: %s\n", ntk_last_error());
        abort();
    }
    return net;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ntk_net *nets[2];
    if (!nets[0]) {
        nets[0] = make_net(NTK_BIAS_ZERO);
        nets[1] = make_net(NTK_BIAS_NONE);
    }
    const char *path = fuzz_file(data, size, ".npz");
    for (int i = 0; i < 2; i++) {
        ntk_status st = ntk_net_load_params(nets[i], path);
        if (st != NTK_OK) {
            fuzz_check_error(st, path);
            continue;
        }
        const double *th = ntk_net_params_const(nets[i]);
        for (size_t j = 0; j < ntk_net_num_params(nets[i]); j++)
            if (!isfinite(th[j])) {
                fprintf(stderr, "fuzz: load_params accepted a non-finite parameter\n");
                abort();
            }
    }
    return 0;
}
