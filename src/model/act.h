/* act.h -- internal: activation functions and derivatives on arrays. */
#ifndef NTK_ACT_H
#define NTK_ACT_H
#include "ntkdrift.h"

double act_phi(ntk_act a, double z);
double act_dphi(ntk_act a, double z);
/* phi''(z); 0 for relu (almost everywhere) and identity. */
double act_d2phi(ntk_act a, double z);
/* phi'''(z); 0 for relu and identity (the hierarchy's fourth-order tensor needs it). */
double act_d3phi(ntk_act a, double z);
/* h[i] = phi(z[i]), i < n (z and h may alias). */
void act_forward(ntk_act a, ntk_dtype t, size_t n, const void *z, void *h);
/* Frozen gates (relu only): g[i] = 1 if z[i] > 0 else 0, and the gated forward h[i] = z[i] if g[i] > 0
 * else 0 (z and h may alias), i < n. */
void act_gates(ntk_dtype t, size_t n, const void *z, void *g);
void act_gated_forward(ntk_dtype t, size_t n, const void *z, const void *g, void *h);
/* D[(i*k + c), u] *= phi'(Z[i, u]).  Z: [N x n], D: [N*k x n].
 * scratch: [2 n] doubles (unused for relu and identity). */
void act_deriv_mul_rows(ntk_act a, ntk_dtype t, size_t N, int k, size_t n, const void *Z, void *D,
                        double *scratch);
/* Y[i, u] += alpha * b[u].  Y: [N x n], b: [n] (float64). */
void act_add_bias_rows(ntk_dtype t, size_t N, size_t n, double alpha, const double *b, void *Y);
#endif
