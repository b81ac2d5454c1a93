/* train_fused.h -- the loss gradient of a one-hidden-layer network with few inputs and outputs, fused
 * over rows (internal; src/dynamics/train_fused.c).  ntk_trainer_step takes it instead of the batched
 * ntk_net_loss_grad_ws whenever tf_applies says the network qualifies. */
#ifndef NTK_TRAIN_FUSED_H
#define NTK_TRAIN_FUSED_H

#include <stdbool.h>
#include <stddef.h>

#include "ntkdrift.h"

/* Largest input dimension n0 and output count k of the fused path (above them the batched BLAS path
 * is not overhead-bound: its products have inner dimension n0 and k). */
enum { TF_N0_MAX = 16, TF_K_MAX = 8 };

typedef struct tf_ws tf_ws;

/* The network qualifies: depth 1 (two weight layers), relu (frozen gates or not) or identity,
 * n0 <= TF_N0_MAX, k <= TF_K_MAX. */
bool tf_applies(const ntk_net *net);
/* Workspace for batches of B rows (per-chunk gradients, scaled weight copies); *out NULL on failure. */
ntk_status tf_alloc(const ntk_net *net, size_t B, tf_ws **out);
void tf_free(tf_ws *w);
/* L and grad = dL/dtheta: [P] at the network's parameters (and gates) for X: [B x n0], Y: [B x k];
 * the same quantities as ntk_net_loss_grad_ws, equal to rounding, bit-identical for any thread count. */
ntk_status tf_loss_grad(tf_ws *w, ntk_net *net, const double *X, const double *Y, ntk_loss loss, double *loss_out,
                        double *grad);

#endif
