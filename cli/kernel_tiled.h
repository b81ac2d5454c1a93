/* kernel_tiled.h -- `ntkdrift kernel` for kernels larger than memory: the memory plan that
 * chooses between the in-memory and the tiled path, and the tiled path itself (row blocks of K
 * streamed to .npy files in the run directory). */
#ifndef NTK_CLI_KERNEL_TILED_H
#define NTK_CLI_KERNEL_TILED_H

#include <stddef.h>

#include "config.h"
#include "rundir.h"
#include "summary.h"

/* Peak bytes of the whole run with N points: in memory, or tiled with B rows per block. */
double kernel_bytes_in_memory(const ntk_spec *s, size_t N, ntk_dtype t, bool per_layer, size_t P);
double kernel_bytes_tiled(const ntk_spec *s, size_t N, size_t B, ntk_dtype t, bool per_layer, size_t P);

/* Rows per block: c->tile_rows when set, else the most that keep the block buffers within
 * min(what is left of `have` after the fixed part, KERNEL_TILE_TARGET bytes).  0 when not even
 * one row fits. */
#define KERNEL_TILE_TARGET 512e6
size_t kernel_tile_rows(const cli_config *c, const ntk_spec *s, size_t N, size_t P, double have);

/* (Na, k, Nb, k) -> (Na, Nb, k, k): the file layout of a block of rows.  es: bytes per element. */
void kernel_relayout(size_t Na, size_t Nb, size_t k, size_t es, const char *src, char *dst);

typedef struct {
    size_t rows_per_block, blocks;
    double seconds_grams, seconds_write;
} kernel_tiled_stats;

/* Streams K (and K_trace for k > 1, K_layers with --per-layer) to .npy files in the run
 * directory, B rows at a time; records the artifacts and fills the summary (no eigenvalues).
 * After every block the files are synced and tiles.json records the progress, so a killed run
 * continues with `--resume` (c->resume set) from the last finished block, with that run's B. */
int kernel_tiled_run(cli_run *run, const cli_config *c, const ntk_spec *spec, const ntk_net *net,
                     const ntk_feats *feats, size_t N, size_t B, ntk_kernel_summary *sm, kernel_tiled_stats *ts);
/* Does the run directory hold the progress of a tiled kernel (tiles.json)? */
bool kernel_tiled_in_progress(const cli_run *run);
#endif
