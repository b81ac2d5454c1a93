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
    double *theta_g;    /* [P] frozen gates: the parameters theta_g the gates are taken at, else NULL */
    float *theta_g32;   /* [P] its float32 mirror, allocated on first use (theta_g never changes) */
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
    /* Frozen gates (the net's theta_g): G[l], l = 1..L, the gates 1[z^(l)(x; theta_g) > 0] as 0 / 1
     * [N x n_l] in the feats' dtype, set by every forward of a gated net; gated says whether the last
     * forward was one.  G (one allocation, gblock) is made on the first gated forward. */
    void **G;
    void *gblock;
    bool gated;
};

/* The argument of phi' for the hidden layer l (1..L) of the last forward: Z[l], or with frozen gates
 * G[l], whose relu derivative 1[G > 0] is the gate (and phi'' = 0 either way).  Every derivative
 * site (backward, gradient, tangents, hierarchy) reads it, so none crosses a kink. */
static inline const void *feats_dphi_arg(const ntk_feats *f, int l) { return f->gated ? f->G[l] : f->Z[l]; }

/* Parameters of the requested dtype (syncs the float32 mirror). */
const void *net_theta(ntk_net *net, ntk_dtype t);
/* Forward only (fills H, Z); deltas are computed by feats_backward. */
ntk_status feats_forward(ntk_net *net, ntk_feats *f, const double *X);
ntk_status feats_backward(ntk_net *net, ntk_feats *f);
bool net_has_bias(const ntk_net *net, int l);
/* The gate parameters theta_g in dtype t (the float32 mirror made on first use), NULL when out of memory. */
const void *net_theta_g(ntk_net *net, ntk_dtype t);
/* The loss and gradient of one output from f (float64, with deltas, computed by ntk_feats_compute at
 * the current parameters on the rows of Y: [N x 1]); w: the workspace of those N rows (its scratch). */
ntk_status net_loss_grad_feats(const ntk_net *net, ntk_grad_ws *w, const ntk_feats *f, const double *Y, ntk_loss loss,
                               double *loss_out, double *grad);
#endif
