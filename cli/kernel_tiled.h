/* kernel_tiled.h -- `ntkdrift kernel` for kernels larger than memory: the library's tiled engine
 * (ntk_kernel_tiled) with its .npy sink writing into the run directory, and the progress record
 * (tiles.json) that lets a killed run continue. */
#ifndef NTK_CLI_KERNEL_TILED_H
#define NTK_CLI_KERNEL_TILED_H

#include <stddef.h>

#include "config.h"
#include "rundir.h"

/* Streams K (and K_trace for k > 1, K_layers with --per-layer) to .npy files in the run
 * directory, B rows at a time; records the artifacts and fills the summary (no eigenvalues).
 * After every block the files are synced and tiles.json records the progress, so a killed run
 * continues with `--resume` (c->resume set) from the last finished block, with that run's B. */
int kernel_tiled_run(cli_run *run, const cli_config *c, const ntk_spec *spec, const ntk_net *net,
                     const ntk_feats *feats, size_t N, size_t B, ntk_kernel_summary *sm, ntk_tiled_stats *ts);
#endif
