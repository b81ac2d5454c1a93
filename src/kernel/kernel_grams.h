/* kernel_grams.h -- internal: the tiled layer sum of the structured kernel (kernel_grams.c). */
#ifndef NTK_KERNEL_GRAMS_H
#define NTK_KERNEL_GRAMS_H
#include "net.h"

#include <stdbool.h>

/* K: [Na*k x Nb*k], rows of points [a0, a0 + Na) of fa against all Nb points of fb; K_layers:
 * [(L+1) x Na*k x Nb*k] or NULL.  sym: fa == fb, a0 = 0, Na = N: the lower triangle by SYRK
 * on the diagonal tiles, mirrored.  Feats checked by the caller. */
ntk_status kernel_grams(const ntk_net *net, const ntk_feats *fa, size_t a0, size_t Na, const ntk_feats *fb,
                        bool sym, void *K, void *K_layers);
#endif
