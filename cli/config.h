/* config.h -- the resolved configuration of a CLI run: built-in defaults,
 * then a YAML file (--config, libcyaml), then command-line flags.  Every flag
 * is also a YAML key under its section (model, data, run, kernel). */
#ifndef NTK_CLI_CONFIG_H
#define NTK_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntkdrift.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* runtime failure (I/O, numerics) */
#define CLI_EXIT_USAGE 2  /* bad input: flags, config, files, sizes */

#define CLI_PATH_MAX 1024

typedef struct {
    /* model */
    int depth;
    int width;               /* used when widths_count == 0 */
    int *widths;             /* [widths_count] explicit hidden widths (owned) */
    int widths_count;
    int n0;
    bool n0_set;             /* explicit n0 (checked against the data) */
    int outputs;
    ntk_act act;
    ntk_param param;
    double sw2, sw2_out, sb;
    ntk_bias bias, bias_out;
    bool bias_out_set;       /* else follows bias */
    ntk_first_layer first_layer;
    /* data */
    char data[CLI_PATH_MAX]; /* gaussian | gaussian-raw | circle | circle-pos | circle-uniform | circle-subset |
                                circle-pos-subset | sphere | fmnist | PATH.npy | PATH.npz | PATH.csv */
    long n;
    bool n_set;              /* explicit n (required to match a file's rows if given) */
    uint64_t data_seed;      /* inputs, subsets, random and teacher targets: fixed, independent of seed */
    char eval_points[16];    /* circle data: eval angles "uniform" (random) or "grid" (equispaced) */
    char eval_data[CLI_PATH_MAX]; /* X_eval from a file (PATH.npy|.npz|.csv), or "" */
    /* run */
    uint64_t seed;
    int threads;
    char out[CLI_PATH_MAX];  /* exact run directory, or "" */
    char name[128];          /* experiment name: results/<name>/... */
    char results[CLI_PATH_MAX];
    double max_memory_gb;    /* 0 = use available memory */
    /* study (profile, converge): sweep lists; --widths means these there */
    int *study_widths, study_widths_count;
    int *study_depths, study_depths_count;
    int *seeds, seeds_count;
    double *betas;               /* ensemble: lines of fixed beta (depth = round(beta * width)) instead of a grid */
    int betas_count;
    double *lr_fracs;            /* sweep: learning rates as fractions of 2 / lambda_max(c K_0) */
    int lr_fracs_count;
    /* sweep: regime thresholds (docs/sweep.md) */
    double lazy_drift;           /* lazy: final ||K_T - K_0||_F / ||K_0||_F <= this ... */
    double lazy_lin_err;         /* ... and linearization error <= this */
    double unstable_loss_ratio;  /* unstable: diverged, or final loss >= this * initial loss */
    double catapult_spike;       /* catapult: some step's loss > (1 + this) * initial loss, then converged */
    double tau;                  /* drift reported at t = eta * step = tau (0: the smallest eta T of the cells) */
    int quick;                   /* study: the CI-sized form */
    /* ensemble */
    long members;                /* M per cell */
    double s_norm;               /* s = ||x||^2 / n0 of the probe input */
    double angle_deg;            /* angle between x and the second probe x' (degrees) */
    double ens_lr;               /* lambda of the first-step updates (--lr for ensemble) */
    double target_y;             /* y of the one-step loss 1/2 (f(x) - y)^2 */
    int no_updates;              /* skip the first-step updates (pathwise and literal) */
    int no_literal;              /* skip only the literal one-step update (full-matrix, O(P) per member) */
    int sampler_full;            /* K(x,x) by the full-matrix path instead of the lazy sampler */
    /* data extras (fmnist) */
    int *classes, classes_count;
    ntk_pixels pixels;
    char fmnist_dir[CLI_PATH_MAX]; /* directory of the four Fashion-MNIST IDX files ("": the Debian package's) */
    /* kernel */
    bool per_layer;
    long tile_rows;              /* > 0: kernel in row blocks of this many points; 0: only when K does not fit */
    ntk_dtype dtype;
    bool save_params;
    char load_params[CLI_PATH_MAX];
    /* train */
    char target[CLI_PATH_MAX];   /* fourier | product | teacher | random | PATH.npy */
    long n_eval;
    long steps;
    double lr, lr_frac;          /* lr_frac > 0: eta = lr_frac * 2 / lambda_max(c K_0) */
    ntk_loss loss;
    ntk_opt opt;
    long batch;
    double momentum;
    char snapshots[256];         /* every:K | log:K | t1,t2,... */
    long checkpoint_every;       /* steps; 0: at every snapshot */
    char resume[CLI_PATH_MAX];
    double ridge;                /* kernel regression ridge, relative to mean diag(K) */
    int top_k;
    int fourier_k;
    double noise;
    bool noise_set;              /* noise given explicitly (the e2 target's default noise is 0.02) */
    uint64_t noise_seed;         /* label noise: its own seed */
    char eval_target[CLI_PATH_MAX]; /* Y_eval from a .npy file when the targets come from files, or "" */
    /* explicit Fourier terms of the fourier target (docs/data.md): modes, amplitudes, phases, bases */
    int *target_modes, target_modes_count;
    double *target_amps, *target_phases;
    int target_amps_count, target_phases_count;
    int *target_cos, target_cos_count;  /* per term 0 = sin(k g + phi), 1 = cos(k g - phi); one entry: all */
    int target_partial;          /* partial sums: the first m terms (0: all) */
    double freeze_eps;           /* freeze time: |slope| < eps |first slope| ... */
    int freeze_k, freeze_delta;  /* ... for k consecutive intervals, slopes over delta snapshots */
    /* profile --steps T: the training set of its networks */
    char train_data[CLI_PATH_MAX]; /* inputs (as --data: gaussian, gaussian-raw, circle..., PATH.npy) */
    long train_n;                  /* its points */
    double blowup;               /* divergence: loss > blowup * initial loss */
    int flow;                    /* predictions by gradient flow (time eta * step) instead of discrete GD */
    /* bookkeeping */
    char config_path[CLI_PATH_MAX];
    char command[16];
} cli_config;

void cli_config_defaults(cli_config *c, const char *command);
void cli_config_free(cli_config *c);
/* Load YAML into c (fields present override). On error prints one message to
 * stderr and returns CLI_EXIT_USAGE. */
int cli_config_load_yaml(cli_config *c, const char *path);
/* Parse argv (after the command word) into c.  Handles --config first so
 * flags override the file.  Returns -1 to continue, or an exit status (0 after
 * --help). */
int cli_config_parse_args(cli_config *c, int argc, char **argv, const char *command);
/* --resume: replace c by the run directory's own resolved config.yaml (c->resume names the
 * directory), keeping out = resume = that directory.  Prints its own error. */
int cli_config_reload(cli_config *c, const char *command);
/* Deep copy of src into dst (owned lists duplicated); 0 or CLI_EXIT_FAIL (out of memory). */
int cli_config_copy(cli_config *dst, const cli_config *src);
/* Fill an ntk_spec from c; widths point into c (c must outlive spec). Checks
 * it and prints the library's message on failure (returns CLI_EXIT_USAGE). */
int cli_config_spec(cli_config *c, ntk_spec *spec);
/* The resolved configuration as YAML text (malloc'ed). */
char *cli_config_to_yaml(const cli_config *c);
/* data.eval_points: uniform | grid.  name ("--eval-points" or "config F: data.eval_points") starts the
 * one message. */
int cli_set_eval_points(cli_config *c, const char *name, const char *v);
/* train.target_basis: n entries, each sin or cos (one for all terms, or one per term). */
int cli_set_target_basis(cli_config *c, const char *name, char *const *items, int n);
/* Print "ntkdrift: <msg>" to stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
