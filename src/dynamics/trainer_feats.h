/* trainer_feats.h -- internal: a training step that takes the features a tracked run's snapshot has
 * just computed at the same parameters (train.c), instead of computing them again. */
#ifndef NTK_TRAINER_FEATS_H
#define NTK_TRAINER_FEATS_H
#include "ntkdrift.h"

/* One step from f: float64 features with deltas of the trainer's N training rows, computed by
 * ntk_feats_compute at the current parameters.  Bit-identical to ntk_trainer_step, which computes
 * the same features itself.  Used for the batched gradient (not the fused one), full batch, one
 * output; otherwise it is ntk_trainer_step (f unused). */
ntk_status trainer_step_feats(ntk_trainer *tr, const ntk_feats *f, double *loss);
#endif
