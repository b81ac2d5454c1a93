/* expect.h -- internal: 2-D Gaussian expectations of activations (see expect.c). */
#ifndef NTK_EXPECT_H
#define NTK_EXPECT_H
#include "ntkdrift.h"

#include <stdbool.h>

typedef struct {
    ntk_act act;
    bool quad;
    int nr, nt;
    double *r, *rw;   /* [nr] Gauss-Legendre nodes / weights on [-1, 1] for radial panels */
    double *tx, *tw;  /* [nt] Gauss-Legendre nodes / weights on [-1, 1] */
} expect_ctx;

ntk_status expect_init(expect_ctx *c, ntk_act act, ntk_expect_method m, int nr, int nt);
void expect_free(expect_ctx *c);
/* Read-only after init: safe to share between threads. */
void expect_eval(const expect_ctx *c, double s11, double s22, double s12, double *ee, double *ed);
/* The same with the angle theta = acos(s12 / sqrt(s11 s22)) given directly: acos loses
 * half the digits near +-1, so callers that can compute theta accurately pass it. */
void expect_eval_angle(const expect_ctx *c, double s11, double s22, double theta, double *ee, double *ed);
/* The diagonal s11 = s22 = s, theta = 0: closed forms as above, or a 1-D rule for quadrature
 * activations (E[phi(sqrt(s) z)^2], E[phi'(sqrt(s) z)^2]). */
void expect_eval_diag(const expect_ctx *c, double s, double *ee, double *ed);
#endif
