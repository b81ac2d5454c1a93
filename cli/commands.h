/* commands.h -- the CLI's commands (each a thin layer over the library). */
#ifndef NTK_CLI_COMMANDS_H
#define NTK_CLI_COMMANDS_H
int cmd_kernel(int argc, char **argv);
int cmd_limit(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_converge(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_ensemble(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_kgd(int argc, char **argv);
int cmd_modes(int argc, char **argv);
int cmd_spectra(int argc, char **argv);
int cmd_hierarchy(int argc, char **argv);
#endif
