/* hermite.h -- internal: the Hermite (Mehler) series of the 2-D Gaussian expectations of smooth
 * activations (see hermite.c). */
#ifndef NTK_HERMITE_H
#define NTK_HERMITE_H
#include "ntkdrift.h"

#include <stdbool.h>
#include <stddef.h>

/* Terms per function: coefficients k = start + 2r, r < HS_TERMS (k up to 256 or 257), plus one
 * "extra" coefficient of the other parity (k = 0 or 1) where the activation has one. */
#define HS_TERMS 129
/* Rows per function in a coefficient table: the HS_TERMS terms, then the extra one. */
#define HS_ROWS (HS_TERMS + 1)

typedef struct {
    ntk_act act;
    int h;            /* nodes of the composite rule on z > 0 (hermite.c) */
    double *x, *w;    /* [h] nodes > 0 and their weights times the normal density (-x has the same weight) */
    double *W;        /* [(kmax + 1) x h]: w_m h_k(x_m), h_k the orthonormal Hermite polynomials */
    int kmax;         /* highest degree tabulated */
    int start[2];     /* [phi, phi']: parity of the series' terms (0 even, 1 odd) */
    int extra[2];     /* [phi, phi']: the other parity's one coefficient (0 or 1), or -1 */
} hseries;

/* Whether the series applies: activations that are smooth, with the parities above. */
bool hseries_supported(ntk_act act);
ntk_status hseries_init(hseries *s, ntk_act act);
void hseries_free(hseries *s);

/* Coefficients of phi(sqrt(q_p) z) and phi'(sqrt(q_p) z) in h_k for LANES points p: row r of
 * function f (0: phi, 1: phi') at cf[(f * HS_ROWS + r) * stride + p], r < HS_TERMS the term
 * k = start[f] + 2r, r = HS_TERMS the extra one (0 if none).  Also sq[f * LANES + p] = the
 * sum of the squares of those coefficients (for the tail bound) and gh[f * LANES + p] the rule's
 * own E[f(sqrt(q_p) z)^2] (its accuracy check).  q: [LANES]; scratch: [2 * 2 * h * LANES] doubles. */
void hseries_coeffs(const hseries *s, const double *q, double *cf, size_t stride, double *sq, double *gh,
                    double *scratch);
#endif
