/* plots.h -- the figures of a finished run (RUN_DIR/figures/NAME.{png,gp,dat}). */
#ifndef NTK_CLI_PLOTS_H
#define NTK_CLI_PLOTS_H
/* Draw every figure the run's outputs support; 0 or CLI_EXIT_* with a message. */
int plot_run(const char *run_dir);
#endif
