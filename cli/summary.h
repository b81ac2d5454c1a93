/* summary.h -- shared pieces of the kernel-producing commands: a short
 * numeric summary of a kernel and the memory check made before allocating. */
#ifndef NTK_CLI_SUMMARY_H
#define NTK_CLI_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Kernels summarised with their eigenvalues up to this side (ntk_kernel_summarize). */
#define CLI_SUMMARY_EIG_MAX_N 2048
/* Bytes available to this run: --max-memory, else MemAvailable. */
double cli_available_bytes(const cli_run_cfg *r);
/* Refuses (exit 2, one message naming what fits) when bytes_for(N) exceeds
 * the available memory; `what` lists what the estimate counts. */
int cli_check_memory(const cli_run_cfg *r, size_t N, double (*bytes_for)(size_t N, void *ctx), void *ctx,
                     const char *what);
/* Adds the summary to a manifest object. */
struct cJSON;
void cli_summary_json(struct cJSON *parent, const char *key, const ntk_kernel_summary *s);
#endif
