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
            "  report     one self-contained HTML page (figures, tables, configuration) for runs\n\n"
            "  --version  print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ntkdrift %s%s\n", ntk_version(), ntk_dist_have_mpi() ? " (mpi)" : "");
        return 0;
    }
    if (strcmp(cmd, "kernel") == 0) return cmd_kernel(argc - 1, argv + 1);
    if (strcmp(cmd, "limit") == 0) return cmd_limit(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "profile") == 0) return cmd_profile(argc - 1, argv + 1);
    if (strcmp(cmd, "converge") == 0) return cmd_converge(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "ensemble") == 0) return cmd_ensemble(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0) return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0) return cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "study") == 0) return cmd_study(argc - 1, argv + 1);
    fprintf(stderr, "ntkdrift: unknown command '%s' (commands: study kernel limit eval profile converge train "
            "ensemble sweep plot report; ntkdrift --help)\n", cmd);
    return CLI_EXIT_USAGE;
}
