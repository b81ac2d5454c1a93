/* train_track.h -- the analysis of a training run's snapshot stream: drift
 * metrics, predictions (frozen K_0, first-order in Delta K, piecewise frozen,
 * linear drift K_0 + eta t Kdot_0), kernel regression, metrics.csv rows and the
 * trajectory.  It depends only on the snapshots, so a resumed run rebuilds it
 * exactly by replaying the snapshot files. */
#ifndef NTK_CLI_TRAIN_TRACK_H
#define NTK_CLI_TRAIN_TRACK_H

#include <stdio.h>

#include "config.h"

typedef struct {
    long step;
    double loss, loss_eval;   /* full training loss, eval loss (NAN without eval set) */
    const double *K;          /* [n x n] train kernel */
    const double *Ke;         /* [m x n] eval x train kernel, NULL when m = 0 */
    const double *f, *fe;     /* [n], [m] network outputs */
    const double *Kdot;       /* [n x n] velocity at step 0 (NULL later) */
    const double *move;       /* [d] ||theta_l - theta_l(0)|| / ||theta_l(0)|| per weight layer */
    const double *Kl;         /* [d x n x n] per-layer kernels, or NULL (no per-layer drift) */
} snap_view;

typedef struct train_track train_track;

/* n = N k, m = M k, d weight layers (per_layer: drift_l columns); y: [n], ye: [m]; eta, c: learning rate and loss factor. csv: open
 * metrics.csv (header written by this). */
int track_alloc(size_t n, size_t m, int d, int per_layer, const double *y, const double *ye, double eta, double c,
                const cli_config *cfg, FILE *csv, size_t max_snaps, train_track **out);
void track_free(train_track *t);
/* Process one snapshot (in step order); writes its metrics.csv row. */
int track_add(train_track *t, const snap_view *s);
/* Eigenvalues of the last snapshot's kernel, descending: [n]. */
const double *track_last_eigs(const train_track *t);
/* trajectory.npz: steps, losses, f_train / f_lin / f_pert / f_pw and eval counterparts. */
int track_write_trajectory(const train_track *t, const char *path);
/* Summary for the manifest (freeze time, final errors). */
struct cJSON;
void track_summary(const train_track *t, struct cJSON *obj);
#endif
