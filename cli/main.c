/* main.c -- `ntkdrift <command>`: dispatch to the command implementations. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: ntkdrift <command> [flags]   (ntkdrift <command> --help for its flags)\n\n"
            "commands:\n"
            "  study      the main job: regime sweep on Fashion-MNIST + circle spectral bias + report\n"
            "  kernel     empirical NTK of a network on a dataset (full, per layer, multi-output)\n"
            "  limit      infinite-width NNGP and NTK of the same network on the same data\n"
            "  eval       the outputs f(x) of a network (seed or --load-params params.npz) on any points\n"
            "  profile    kernel profile K(x_0, x(gamma)) on the circle over seeds and widths, with the limit\n"
            "  converge   distance of K_0 from K_inf over widths, depths and seeds; log-log slopes\n"
            "  train      gradient descent with the NTK tracked, drift metrics and predicted dynamics\n"
            "  ensemble   Monte Carlo over initializations on (depth, width) grids (Hanin-Nica)\n"
            "  sweep      regime map: training runs over depth x width x learning rate x seed\n"
            "  plot       (re)draw the figures of finished runs (gnuplot)\n"
            "  report     one self-contained HTML page (figures, tables, configuration) for runs\n"
            "  kgd        operator gradient descent on a kernel with the residual's Fourier modes (docs/modes.md)\n"
            "  modes      the sampled, finite-width kernel operator against the continuum; concentration\n"
            "  spectra    seed-mean spectra of a group of train runs: drift, per-mode variance, active modes\n"
            "  hierarchy  the neural tangent hierarchy over widths x seeds: errors, slopes, crossover widths\n\n"
            "  --version  print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr), CLI_EXIT_USAGE;
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) return usage(stdout), 0;
    if (strcmp(cmd, "--version") == 0)
        return printf("ntkdrift %s%s\n", ntk_version(), ntk_dist_have_mpi() ? " (mpi)" : ""), 0;
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {{"kernel", cmd_kernel},     {"limit", cmd_limit},       {"eval", cmd_eval},
                    {"profile", cmd_profile},   {"converge", cmd_converge}, {"train", cmd_train},
                    {"ensemble", cmd_ensemble}, {"plot", cmd_plot},         {"sweep", cmd_sweep},
                    {"report", cmd_report},     {"study", cmd_study},       {"kgd", cmd_kgd},
                    {"modes", cmd_modes},       {"spectra", cmd_spectra},   {"hierarchy", cmd_hierarchy}};
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ntkdrift: unknown command '%s' (commands: study kernel limit eval profile converge train "
            "ensemble sweep plot report kgd modes spectra hierarchy; ntkdrift --help)\n", cmd);
    return CLI_EXIT_USAGE;
}
