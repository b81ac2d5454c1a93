/* lazy_layers.h -- internal: the layer geometry both lazy samplers (lazy.c, lazy_pair.c) walk. */
#ifndef NTK_LAZY_LAYERS_H
#define NTK_LAZY_LAYERS_H

#include <math.h>
#include <stddef.h>

#include "ntkdrift.h"

/* Width of layer l: n0 for the input, the hidden widths, 1 for the readout (l = depth + 1). */
static inline size_t lazy_width(const ntk_spec *s, int l)
{
    return l == 0 ? (size_t)s->n0 : l <= s->depth ? (size_t)s->widths[l - 1] : 1;
}

/* Sum and maximum of the widths of layers 0 .. depth + 1 (for workspace sizes). */
static inline void lazy_sizes(const ntk_spec *s, size_t *sum, size_t *mx)
{
    *sum = 0;
    *mx = 1;
    for (int l = 0; l <= s->depth + 1; l++) {
        size_t w = lazy_width(s, l);
        *sum += w;
        if (w > *mx) *mx = w;
    }
}

/* Effective weight multiplier of layer l of d weight layers (both parameterizations' forward law). */
static inline double lazy_layer_scale(const ntk_spec *s, int l, int d)
{
    double sw2 = l == d ? s->sw2_out : s->sw2;
    double fan = (l == 1 && s->first_layer == NTK_FIRST_NONE) ? 1.0 : (double)lazy_width(s, l - 1);
    return sqrt(sw2 / fan);
}

static inline double lazy_dot(size_t n, const double *a, const double *b)
{
    double r = 0;
    for (size_t i = 0; i < n; i++) r += a[i] * b[i];
    return r;
}

#endif
