/* linpred_cont.h -- the first-order correction over an interval that continues the previous one
 * (internal; src/dynamics/predict.c, used by the training analysis). */
#ifndef NTK_LINPRED_CONT_H
#define NTK_LINPRED_CONT_H

#include "ntkdrift.h"

/* ntk_linpred_pert_advance when dK0 (and dKe0) are the dK1 (dKe1) of the previous call on lp, or zero at
 * s0 = 0 on a fresh lp: the rotation Q dK0 Q^T that call made is reused, so only dK1 is rotated (two
 * GEMMs instead of four).  B = Q dK1 Q^T - Q dK0 Q^T instead of Q (dK1 - dK0) Q^T: equal to rounding.
 * dK0 is not read (its entries were checked by the previous call); NTK_EINVAL when the rotation is not
 * kept (a plain ntk_linpred_pert_advance came in between). */
ntk_status linpred_pert_continue(ntk_linpred *lp, long s0, const double *dK0, const double *dKe0, long s1,
                                 const double *dK1, const double *dKe1, double *df_train, double *df_eval);

#endif
