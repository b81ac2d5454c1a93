/* config.h -- the resolved configuration of a CLI run: built-in defaults, then a YAML file
 * (--config), then command-line flags, all from the table of settings (config_keys.c). */
#ifndef NTK_CLI_CONFIG_H
#define NTK_CLI_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntkdrift.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* runtime failure (I/O, numerics) */
#define CLI_EXIT_USAGE 2  /* bad input: flags, config, files, sizes */

#define CLI_PATH_MAX 1024

/* One sub-structure per section of config.yaml, in its order.  A setting's member is its YAML key
 * (train.blowup is c->train.blowup) with the type of its row in the table of settings (config_keys.c,
 * which documents each).  Lists: an owned pointer and an int count beside it.  A *_set bool records
 * that a value was given, where a default depends on it. */
typedef struct {
    int depth, width;          /* width: used when widths_count == 0 */
    int *widths, widths_count; /* explicit hidden widths */
    int n0, outputs;
    bool n0_set;               /* explicit n0 (checked against the data) */
    ntk_act act;
    ntk_param param;
    double sw2, sw2_out, sb;
    ntk_bias bias, bias_out;
    bool bias_out_set;         /* else follows bias */
    ntk_first_layer first_layer;
} cli_model_cfg;

typedef struct {
    char data[CLI_PATH_MAX], eval_points[16], eval_data[CLI_PATH_MAX];
    long n;
    bool n_set;                  /* explicit n (required to match a file's rows if given) */
    uint64_t seed;               /* of every generated input and target; the parameters' is run.seed */
    int *classes, classes_count; /* fmnist */
    ntk_pixels pixels;
    char fmnist_dir[CLI_PATH_MAX]; /* "": the Debian package's */
} cli_data_cfg;

typedef struct { /* the grids (--widths means study.widths for the commands of grids) */
    double *betas, *lr_fracs;
    int betas_count, lr_fracs_count;
    int *widths, widths_count, *depths, depths_count, *seeds, seeds_count;
    int min_width;             /* hierarchy: the slopes' smallest width (0: all) */
} cli_study_cfg;

typedef struct { /* shared by every command */
    uint64_t seed;             /* of the parameters (and minibatches) */
    int threads;
    char name[128], results[CLI_PATH_MAX], out[CLI_PATH_MAX];
    double max_memory_gb;      /* 0 = use available memory */
} cli_run_cfg;

typedef struct {
    bool per_layer, save_params;
    int eig;                   /* the summary's eigenvalues (an int: written to config.yaml only when set) */
    ntk_dtype dtype;
    char load_params[CLI_PATH_MAX];
    long tile_rows;
} cli_kernel_cfg;

typedef struct {
    long members;
    double s, lr, y, angle;    /* angle: degrees; < 0: no second probe */
    int no_updates, no_literal, sampler; /* sampler: 0 lazy, 1 full */
} cli_ensemble_cfg;

typedef struct { /* profile --steps T: its training set */
    char train_data[CLI_PATH_MAX];
    long train_n;
} cli_profile_cfg;

typedef struct {
    char target[CLI_PATH_MAX], snapshots[256], eval_target[CLI_PATH_MAX];
    char resume[CLI_PATH_MAX]; /* every command that resumes (kernel, train, sweep, ensemble, study) */
    long n_eval, steps, batch, checkpoint_every;
    double lr, lr_frac;        /* lr_frac > 0: eta = lr_frac * 2 / lambda_max(c K_0) */
    ntk_loss loss;
    ntk_opt opt;
    double momentum, ridge, noise, blowup, freeze_eps;
    bool noise_set;            /* noise given explicitly (the e2 target's default noise is 0.02) */
    uint64_t noise_seed;
    int top_k, fourier_k, flow, freeze_k, freeze_delta, target_partial;
    int nth;                   /* 0, or the hierarchy's level 3 | 4 (train only) */
    int gates;                 /* 0 live, 1 frozen at step 0 (relu; train only) */
    int *target_modes, target_modes_count; /* explicit Fourier terms (docs/data.md) */
    double *target_amps, *target_phases;
    int target_amps_count, target_phases_count;
    int *target_basis, target_basis_count; /* per term 0 = sin(k g + phi), 1 = cos(k g - phi); one entry: all */
} cli_train_cfg;

typedef struct { /* operator dynamics on a kernel (docs/modes.md) */
    char kernel[CLI_PATH_MAX]; /* theta_bias | theta_nobias | k0 | k1 | limit | empirical | PATH.npy | PATH.npz */
    char init[8], precond[16], fft[8];
    double eta_scale, tau, reg;
    int kmax;
    uint64_t gp_seed;
    int *ns, ns_count;         /* modes: sample sizes */
    double *eps, bound_c, bound_l;
    int eps_count, search;
    int compare_train;         /* kgd: the network beside operator GD with its K_0 */
    int no_cells;              /* modes: the concentration only */
} cli_modes_cfg;

typedef struct { /* regime thresholds (docs/sweep.md) */
    double lazy_drift, lazy_lin_err, unstable_loss_ratio, catapult_spike, tau;
} cli_sweep_cfg;

typedef struct {
    cli_model_cfg model;
    cli_data_cfg data;
    cli_study_cfg study;
    cli_run_cfg run;
    cli_kernel_cfg kernel;
    cli_ensemble_cfg ensemble;
    cli_profile_cfg profile;
    cli_train_cfg train;
    cli_sweep_cfg sweep;
    cli_modes_cfg modes;
    int quick;                 /* bookkeeping: study --quick, the CI-sized form (a flag, not a setting) */
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
/* --resume: replace c by the run directory's own resolved config.yaml (c->train.resume names the
 * directory), keeping run.out = train.resume = that directory.  Prints its own error. */
int cli_config_reload(cli_config *c, const char *command);
/* Deep copy of src into dst (owned lists duplicated); 0 or CLI_EXIT_FAIL (out of memory). */
int cli_config_copy(cli_config *dst, const cli_config *src);
/* Fill an ntk_spec from the model section; widths point into m (m must outlive spec; a uniform
 * width becomes m->widths).  Checks it and prints the library's message on failure (returns
 * CLI_EXIT_USAGE). */
int cli_model_spec(cli_model_cfg *m, ntk_spec *spec);
/* The resolved configuration as YAML text (malloc'ed). */
char *cli_config_to_yaml(const cli_config *c);
/* Print "ntkdrift: <message>" to stderr; returns rc (cli_errorf and study_failf). */
int cli_vmessage(int rc, const char *fmt, va_list ap);
/* Print "ntkdrift: <msg>" to stderr; returns CLI_EXIT_USAGE. */
int cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
