/* minimal.c -- the empirical NTK of a small network through the public header alone.
 *
 * A ReLU network (2 hidden layers of width 64, NTK parameterization, 4 inputs, 1 output), its
 * empirical kernel K (N x N) on N = 5 Gaussian points, printed as K's trace and diagonal.  Any failed
 * call prints ntk_last_error() and exits 1.
 *
 * Against an installed libntkdrift (cmake --install build --prefix DIR):
 *   export PKG_CONFIG_PATH=DIR/lib/pkgconfig        # or DIR/lib/<multiarch>/pkgconfig
 *   cc -std=c17 minimal.c $(pkg-config --cflags --libs ntkdrift) -o minimal
 *   LD_LIBRARY_PATH=DIR/lib ./minimal
 * In the build tree it is the target example_minimal (ctest -R example_minimal).
 */
#include <stdio.h>

#include <ntkdrift.h>

enum { N = 5, N0 = 4 };

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) != NTK_OK) {                                                  \
            fprintf(stderr, "minimal: %s: %s\n", #call, ntk_last_error());       \
            goto done;                                                           \
        }                                                                        \
    } while (0)

int main(void)
{
    int widths[2] = {64, 64};
    ntk_spec s = ntk_spec_default();
    s.depth = 2;
    s.widths = widths;
    s.n0 = N0;

    double X[N * N0]; /* [N x n0] inputs, rows of norm sqrt(n0) */
    double K[N * N];  /* [N x N] the kernel (one output: k = 1) */
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    int rc = 1;

    CHECK(ntk_net_alloc(&s, &net));
    CHECK(ntk_net_init(net, 42));
    CHECK(ntk_data_gaussian(7, N, N0, X));
    CHECK(ntk_feats_alloc(net, N, NTK_F64, &f));
    CHECK(ntk_feats_compute(net, f, X));
    CHECK(ntk_kernel_full(net, f, K, NULL));

    double trace = 0.0;
    for (int i = 0; i < N; i++)
        trace += K[i * N + i];
    printf("ntkdrift %s: depth %d, width %d, n0 %d, N %d Gaussian points, %zu parameters\n",
           ntk_version(), s.depth, widths[0], N0, N, ntk_net_num_params(net));
    printf("trace %.12e\n", trace);
    for (int i = 0; i < N; i++)
        printf("K[%d,%d] %.12e\n", i, i, K[i * N + i]);
    rc = 0;
done:
    ntk_feats_free(f);
    ntk_net_free(net);
    return rc;
}
