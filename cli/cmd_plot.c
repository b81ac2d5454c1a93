/* cmd_plot.c -- `ntkdrift plot RUN_DIR...`: (re)draw the figures of finished runs from their
 * output files into RUN_DIR/figures/ (PNG + gnuplot script + data). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "plots.h"
#include "rundir.h"

int cmd_plot(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *fp = argc < 2 ? stderr : stdout;
        fprintf(fp, "usage: ntkdrift plot RUN_DIR...\n\n"
                    "Draw the figures of finished runs into RUN_DIR/figures/: NAME.png, the gnuplot script NAME.gp\n"
                    "and its data NAME.dat (edit the script and run `gnuplot NAME.gp` there to restyle).\n"
                    "ensemble runs: hn_logR (log R against beta per width, with log prod(1+5/n) and 5 beta),\n"
                    "hn_dK (|E dK|/E K against beta).  train runs: loss, drift, angles, predictions, spectrum.\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            cli_errorf("plot: unknown flag '%s' (usage: ntkdrift plot RUN_DIR...)", argv[i]);
            return CLI_EXIT_USAGE;
        }
        int rc = plot_run(argv[i]);
        if (rc) return rc;
        printf("figures: %s/figures\n", argv[i]);
    }
    return CLI_EXIT_OK;
}
