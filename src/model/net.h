/* net.h -- internal layout of ntk_net and ntk_feats, shared by mlp.c, feats.c,
 * ntk.c and ntk_ref.c. */
#ifndef NTK_NET_H
#define NTK_NET_H
#include "ntkdrift.h"

#include <stdbool.h>

struct ntk_net {
    ntk_spec spec;      /* spec.widths points at n + 1 */
    int d;              /* weight layers L+1 */
    int *n;             /* [d+1]: n_0 .. n_{L+1} */
    size_t P;           /* parameter count */
    double *theta;      /* [P]: W1 b1 W2 b2 ... (one allocation) */
    size_t *offW;       /* [d+1], index 1..d: offset of W_l in theta */
    size_t *offb;       /* [d+1]: offset of b_l, or SIZE_MAX when no bias */
    double *cw, *cb;    /* [d+1]: multipliers (cb 0 when no bias) */
    float *theta32;     /* [P] float32 mirror, allocated on first use */
    bool theta32_valid;
    ntk_grad_ws *ws;    /* workspace of the convenience forward / loss_grad calls */
    int max_n;
};

struct ntk_feats {
    ntk_dtype dtype;
    size_t N;
    int k, d;           /* outputs, weight layers */
    int *n;             /* [d+1] widths (copy) */
    void **H;           /* [d]: H[l] = h^(l), l = 0..L: [N x n_l] */
    void **Z;           /* [d+1]: Z[l] = z^(l), l = 1..L+1: [N x n_l]; Z[d] = f */
    void **D;           /* [d+1]: D[l] = delta^(l), l = 1..L+1: [N*k x n_l] */
    void *block;        /* one allocation backing H, Z, D */
    double *scratch;    /* [2 max n]: activation-derivative rows */
    bool have_deltas;
};

/* Parameters of the requested dtype (syncs the float32 mirror). */
const void *net_theta(ntk_net *net, ntk_dtype t);
/* Forward only (fills H, Z); deltas are computed by feats_backward. */
ntk_status feats_forward(ntk_net *net, ntk_feats *f, const double *X);
ntk_status feats_backward(ntk_net *net, ntk_feats *f);
bool net_has_bias(const ntk_net *net, int l);
#endif
