/* train_analysis.h -- the per-snapshot analysis of ntk_train_run (internal; src/dynamics/train_analysis.c).
 * It depends only on the snapshots it is given, in step order, so a resumed run rebuilds it
 * exactly by replaying the stored ones. */
#ifndef NTK_TRAIN_ANALYSIS_H
#define NTK_TRAIN_ANALYSIS_H

#include "ntkdrift.h"

typedef struct tra tra;

/* n = N k, m = M k, d weight layers (per_layer: drift_layers); y: [n], ye: [m] targets (copied);
 * eta, c: learning rate and loss factor; cap: the most snapshots the run will have. */
ntk_status tra_alloc(size_t n, size_t m, int d, int per_layer, const double *y, const double *ye, double eta,
                     double c, const ntk_train_run_opts *o, size_t cap, tra **out);
void tra_free(tra *t);
/* nth (o->nth of tra_alloc): O3 [N^3], O3e [M N^2] (NULL when M = 0), and at level 4 O4 [N^4],
 * O4e [M N^3] (else NULL) at step 0, malloc'd; t takes them over (freed by tra_free). */
void tra_nth(tra *t, double *O3, double *O3e, double *O4, double *O4e);
/* One snapshot, in step order: reads step, loss, loss_eval, K, K_eval, f, f_eval, Kdot (index 0),
 * move, K_layers of s; fills s->index, t, eigs, mt, rkhs_error and drift_layers, and appends to
 * the trajectory. */
ntk_status tra_add(tra *t, ntk_train_snapshot *s);
/* The summary and the trajectory into res (the trajectory's buffers move to res). */
void tra_finish(tra *t, const ntk_train_run_opts *o, ntk_train_result *res);

#endif
