/* tangents.h -- internal: forward-mode tangents of the batched float64 features along a parameter
 * direction v (same layout as theta), shared by the kernel velocity (ntk_dot.c) and the hierarchy
 * tensors (ntk_hier.c).  With V_l the W_l part of v and vb_l its bias part:
 *   Zdot_l = c_w (Hdot_{l-1} W_l^T + H_{l-1} V_l^T) + c_b 1 vb_l^T,  Hdot_l = phi'(Z_l) o Zdot_l,
 *   Ddot_{l-1} = c_w (Ddot_l W_l + D_l V_l) o phi'(Z_{l-1}) + c_w (D_l W_l) o phi''(Z_{l-1}) o Zdot_{l-1}
 * (phi' at feats_dphi_arg: the gates of a net with frozen gates, whose tangents are the gated network's). */
#ifndef NTK_TANGENTS_H
#define NTK_TANGENTS_H
#include "net.h"

/* Zd[l] (l = 1..d), Hd[l] (l = 0..d-1): [N x n_l]; Hd[0] is zeroed.  f: float64, computed. */
void feat_tangents_forward(const ntk_net *net, const ntk_feats *f, const double *v, double **Zd, double **Hd);
/* Dd[l] (l = 1..d): [N*k x n_l] from Zd of feat_tangents_forward; tmp: [N*k x max n]. */
void feat_tangents_backward(const ntk_net *net, const ntk_feats *f, const double *v, double *const *Zd, double **Dd,
                            double *tmp);
#endif
