/* plots.h -- the figures of a finished run (RUN_DIR/figures/NAME.{png,gp,dat}). */
#ifndef NTK_CLI_PLOTS_H
#define NTK_CLI_PLOTS_H
#include <stddef.h>
/* Draw every figure the run's outputs support; 0 or CLI_EXIT_* with a message. */
int plot_run(const char *run_dir);
/* The same for a run of `command` whose manifest is not written yet: the commands draw their
 * figures before the manifest, so a run killed while drawing is incomplete and --resume redraws
 * them.  A failure only prints a note (the figures are not results). */
void plot_before_manifest(const char *run_dir, const char *command);
/* The figures in the report's order (captions: cli/figures/NAME.html); NULL past the last. */
const char *plot_figure_name(size_t i);
#endif
