/* config_flags.c -- command-line flags (getopt_long) and --help; --config is read first so
 * flags override the file. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_num.h"

/* A path or word into dst[cap]: refused when empty or too long (never truncated). */
static int copy_path(const char *flag, const char *s, char *dst, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap) {
        cli_errorf("--%s: %s", flag, n ? "too long" : "empty");
        return CLI_EXIT_USAGE;
    }
    memcpy(dst, s, n + 1);
    return 0;
}

/* The row of a numeric key (config_num.c) and "--<flag>" for its messages. */
static const cli_num_key *flag_key(const char *key, char *name, size_t cap)
{
    const cli_num_key *k = cli_num_find(key);
    if (k) snprintf(name, cap, "--%s", k->flag);
    else cli_errorf("internal: no numeric key '%s'", key);
    return k;
}

/* A scalar numeric flag into c, parsed whole (config_num.c). */
static int flag_num(cli_config *c, const char *key, const char *s)
{
    char name[64], msg[384];
    const cli_num_key *k = flag_key(key, name, sizeof name);
    if (!k) return CLI_EXIT_FAIL;
    int rc = cli_num_set(c, k, name, s, msg, sizeof msg);
    if (rc) cli_errorf("%s", msg);
    return rc;
}

/* Comma-separated finite numbers (> 0 for a POS list) into the list key. */
static int parse_pos_list(cli_config *c, const char *key, const char *s)
{
    char name[64], msg[384];
    const cli_num_key *k = flag_key(key, name, sizeof name);
    if (!k) return CLI_EXIT_FAIL;
    int n = 1;
    for (const char *q = s; *q; q++) n += *q == ',';
    double *v = malloc((size_t)n * sizeof *v);
    char *buf = strdup(s);
    if (!v || !buf) {
        free(v);
        free(buf);
        return CLI_EXIT_FAIL;
    }
    int got = 0, rc = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        rc = cli_num_entry(k, name, tok, &v[got], msg, sizeof msg);
        if (rc) cli_errorf("%s", msg);
        got++;
    }
    if (!rc && got != n) {
        cli_errorf("%s: empty entry in '%s'", name, s);
        rc = CLI_EXIT_USAGE;
    }
    free(buf);
    if (rc) {
        free(v);
        return rc;
    }
    cli_num_store_list(c, k, v, n);
    return 0;
}

/* Comma-separated integers in the list key's range; an item "a:b" expands to a, a+1, ..., b-1
 * (so --seeds 0:16 means 16 seeds). */
static int parse_int_list(cli_config *c, const char *key, const char *s)
{
    char name[64], msg[384];
    const cli_num_key *k = flag_key(key, name, sizeof name);
    if (!k) return CLI_EXIT_FAIL;
    int cap = 16, n = 0;
    int *v = malloc((size_t)cap * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
    const char *p = s;
    for (;;) {
        char item[64];
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        long long a, b;
        if (len == 0 || len >= sizeof item) goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        if (colon) {
            *colon = '\0';
            if (cli_parse_int_key(name, item, k->lo, k->hi, &a, msg, sizeof msg) ||
                cli_parse_int_key(name, colon + 1, k->lo, k->hi, &b, msg, sizeof msg))
                goto fail;
            if (b <= a || b - a > 10000000) goto bad;
        } else {
            if (cli_parse_int_key(name, item, k->lo, k->hi, &a, msg, sizeof msg)) goto fail;
            b = a + 1;
        }
        for (long long x = a; x < b; x++) {
            if (n == cap) {
                int *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
                if (!nv) {
                    free(v);
                    return CLI_EXIT_FAIL;
                }
                v = nv;
            }
            v[n++] = (int)x;
        }
        if (!comma) break;
        p = comma + 1;
    }
    cli_num_store_list(c, k, v, n);
    return 0;
bad:
    snprintf(msg, sizeof msg, "%s: expected a comma-separated list of integers in [%lld, %lld] (a:b = a..b-1), got '%s'",
             name, k->lo, k->hi, s);
fail:
    cli_errorf("%s", msg);
    free(v);
    return CLI_EXIT_USAGE;
}

static bool is_study(const char *command)
{
    return strcmp(command, "profile") == 0 || strcmp(command, "converge") == 0 || strcmp(command, "ensemble") == 0 ||
           strcmp(command, "sweep") == 0 || strcmp(command, "study") == 0;
}

enum {
    OPT_CONFIG = 256, OPT_DEPTH, OPT_WIDTH, OPT_WIDTHS, OPT_N0, OPT_OUTPUTS, OPT_ACT, OPT_PARAM, OPT_SW2,
    OPT_SW2_OUT, OPT_SB, OPT_BIAS, OPT_BIAS_OUT, OPT_FIRST, OPT_DATA, OPT_N, OPT_SEED, OPT_PER_LAYER,
    OPT_DTYPE, OPT_SAVE_PARAMS, OPT_LOAD_PARAMS, OPT_OUT, OPT_NAME, OPT_RESULTS, OPT_THREADS, OPT_MAXMEM, OPT_TILE_ROWS,
    OPT_DEPTHS, OPT_SEEDS, OPT_CLASSES, OPT_PIXELS, OPT_FMNIST_DIR, OPT_TARGET, OPT_NEVAL, OPT_STEPS, OPT_LR, OPT_LRFRAC,
    OPT_LOSS, OPT_OPT, OPT_BATCH, OPT_MOMENTUM, OPT_SNAPSHOTS, OPT_CKPT, OPT_RESUME, OPT_RIDGE, OPT_TOPK,
    OPT_FOURIERK, OPT_NOISE, OPT_BLOWUP, OPT_FLOW, OPT_MEMBERS, OPT_SNORM, OPT_ANGLE, OPT_TARGETY, OPT_NOUPD, OPT_NOLIT, OPT_BETAS, OPT_SAMPLER, OPT_LRFRACS, OPT_LAZYDRIFT, OPT_LAZYLIN, OPT_UNSTABLE, OPT_CATAPULT,
    OPT_TAU, OPT_QUICK, OPT_DATA_SEED, OPT_NOISE_SEED, OPT_EVAL_POINTS, OPT_EVAL_DATA, OPT_EVAL_TARGET,
    OPT_TARGET_MODES, OPT_TARGET_AMPS, OPT_TARGET_PHASES, OPT_TARGET_BASIS, OPT_TARGET_PARTIAL, OPT_FREEZE_EPS,
    OPT_FREEZE_K, OPT_FREEZE_DELTA, OPT_TRAIN_DATA, OPT_TRAIN_N, OPT_HELP
};

static const struct option long_opts[] = {
    {"config", required_argument, 0, OPT_CONFIG},     {"depth", required_argument, 0, OPT_DEPTH},
    {"width", required_argument, 0, OPT_WIDTH},       {"widths", required_argument, 0, OPT_WIDTHS},
    {"n0", required_argument, 0, OPT_N0},             {"outputs", required_argument, 0, OPT_OUTPUTS},
    {"act", required_argument, 0, OPT_ACT},           {"param", required_argument, 0, OPT_PARAM},
    {"sw2", required_argument, 0, OPT_SW2},           {"sw2-out", required_argument, 0, OPT_SW2_OUT},
    {"sb", required_argument, 0, OPT_SB},             {"bias", required_argument, 0, OPT_BIAS},
    {"bias-out", required_argument, 0, OPT_BIAS_OUT}, {"first-layer", required_argument, 0, OPT_FIRST},
    {"data", required_argument, 0, OPT_DATA},         {"n", required_argument, 0, OPT_N},
    {"seed", required_argument, 0, OPT_SEED},         {"per-layer", no_argument, 0, OPT_PER_LAYER},
    {"tile-rows", required_argument, 0, OPT_TILE_ROWS},
    {"dtype", required_argument, 0, OPT_DTYPE},       {"save-params", no_argument, 0, OPT_SAVE_PARAMS},
    {"load-params", required_argument, 0, OPT_LOAD_PARAMS}, {"out", required_argument, 0, OPT_OUT},
    {"name", required_argument, 0, OPT_NAME},         {"results", required_argument, 0, OPT_RESULTS},
    {"threads", required_argument, 0, OPT_THREADS},   {"max-memory", required_argument, 0, OPT_MAXMEM},
    {"depths", required_argument, 0, OPT_DEPTHS},     {"seeds", required_argument, 0, OPT_SEEDS},
    {"classes", required_argument, 0, OPT_CLASSES},   {"pixels", required_argument, 0, OPT_PIXELS},
    {"fmnist-dir", required_argument, 0, OPT_FMNIST_DIR},
    {"target", required_argument, 0, OPT_TARGET},     {"n-eval", required_argument, 0, OPT_NEVAL},
    {"steps", required_argument, 0, OPT_STEPS},       {"lr", required_argument, 0, OPT_LR},
    {"lr-frac", required_argument, 0, OPT_LRFRAC},    {"loss", required_argument, 0, OPT_LOSS},
    {"opt", required_argument, 0, OPT_OPT},           {"batch", required_argument, 0, OPT_BATCH},
    {"momentum", required_argument, 0, OPT_MOMENTUM}, {"snapshots", required_argument, 0, OPT_SNAPSHOTS},
    {"checkpoint-every", required_argument, 0, OPT_CKPT}, {"resume", required_argument, 0, OPT_RESUME},
    {"ridge", required_argument, 0, OPT_RIDGE},       {"top-k", required_argument, 0, OPT_TOPK},
    {"fourier-k", required_argument, 0, OPT_FOURIERK}, {"noise", required_argument, 0, OPT_NOISE},
    {"blowup", required_argument, 0, OPT_BLOWUP},     {"flow", no_argument, 0, OPT_FLOW},
    {"members", required_argument, 0, OPT_MEMBERS},   {"s", required_argument, 0, OPT_SNORM},
    {"y", required_argument, 0, OPT_TARGETY}, {"angle", required_argument, 0, OPT_ANGLE},         {"no-updates", no_argument, 0, OPT_NOUPD}, {"sampler", required_argument, 0, OPT_SAMPLER}, {"no-literal", no_argument, 0, OPT_NOLIT},
    {"betas", required_argument, 0, OPT_BETAS},
    {"lr-fracs", required_argument, 0, OPT_LRFRACS}, {"lazy-drift", required_argument, 0, OPT_LAZYDRIFT},
    {"lazy-lin-err", required_argument, 0, OPT_LAZYLIN}, {"unstable-loss-ratio", required_argument, 0, OPT_UNSTABLE},
    {"catapult-spike", required_argument, 0, OPT_CATAPULT}, {"tau", required_argument, 0, OPT_TAU},
    {"quick", no_argument, 0, OPT_QUICK},
    {"data-seed", required_argument, 0, OPT_DATA_SEED}, {"noise-seed", required_argument, 0, OPT_NOISE_SEED},
    {"eval-points", required_argument, 0, OPT_EVAL_POINTS}, {"eval-data", required_argument, 0, OPT_EVAL_DATA},
    {"eval-target", required_argument, 0, OPT_EVAL_TARGET}, {"target-modes", required_argument, 0, OPT_TARGET_MODES},
    {"target-amps", required_argument, 0, OPT_TARGET_AMPS}, {"target-phases", required_argument, 0, OPT_TARGET_PHASES},
    {"target-basis", required_argument, 0, OPT_TARGET_BASIS},
    {"target-partial", required_argument, 0, OPT_TARGET_PARTIAL},
    {"freeze-eps", required_argument, 0, OPT_FREEZE_EPS}, {"freeze-k", required_argument, 0, OPT_FREEZE_K},
    {"freeze-delta", required_argument, 0, OPT_FREEZE_DELTA},
    {"train-data", required_argument, 0, OPT_TRAIN_DATA}, {"train-n", required_argument, 0, OPT_TRAIN_N},
    {"help", no_argument, 0, OPT_HELP},               {0, 0, 0, 0}};

static void print_help(const char *command)
{
    printf("usage: ntkdrift %s [--config FILE.yaml] [flags]\n\n", command);
    if (strcmp(command, "limit") == 0)
        printf("Infinite-width NNGP and NTK of the network below on a dataset (limit.npz: ntk, nngp, X;\n"
               "standard parameterization also ntk_normalized; --per-layer: ntk_layers). float64 only;\n"
               "--dtype, --save-params and --load-params do not apply.\n");
    else if (strcmp(command, "eval") == 0)
        printf("The outputs f(x) of the network below on a dataset (eval.npz: f, X), its parameters from the\n"
               "seed or from --load-params (a train run's params.npz or snapshots/params_<step>.npz).\n");
    else
        printf("Empirical NTK of a fully-connected network on a dataset.\n");
    printf("Writes a run directory "
           "results/<name>/<YYYYmmdd-HHMMSS>-<id>/ (and a 'latest' link), or exactly --out DIR.\n"
           "Every flag is also a YAML key under its section (model:, data:, run:, kernel:),\n"
           "with '-' written as '_'. Flags override the file; the file overrides defaults.\n\n"
           "model:\n"
           "  --depth L            hidden layers (weight layers d = L+1; 0 = linear model) [3]\n"
           "  --width n            width of every hidden layer [256]\n"
           "  --widths n1,...,nL   per-layer widths (overrides --width; sets depth if --depth absent)\n"
           "  --n0 D               input dimension (circle data: 2; .npy data: its columns) [16]\n"
           "  --outputs k          network outputs [1]\n"
           "  --act A              relu|erf|tanh|gelu|identity|sigmoid [relu]\n"
           "  --param P            ntk|standard [ntk]\n"
           "  --sw2 S              sigma_w^2 of hidden layers [2]\n"
           "  --sw2-out S          sigma_w^2 of the readout [1]\n"
           "  --sb S               bias multiplier c_b (ntk) / bias init std (standard) [1]\n"
           "  --bias B             none|normal|zero: none = no bias parameters; zero = trainable,\n"
           "                       initialised at 0 [zero]\n"
           "  --bias-out B         readout bias (default: as --bias)\n"
           "  --first-layer F      fan_in|none: first layer with or without 1/sqrt(n0) [fan_in]\n"
           "data:\n"
           "  --data D             gaussian (rows of norm sqrt(n0)) | gaussian-raw (N(0, I), not rescaled) |\n"
           "                       circle (grid on [-pi, pi)) | circle-pos (grid on [0, 2 pi)) |\n"
           "                       circle-uniform (random angles) | circle-subset, circle-pos-subset (train:\n"
           "                       n points drawn from the evaluation grid of n-eval angles) |\n"
           "                       sphere (uniform on S^{n0-1}) | fmnist (Fashion-MNIST training images) |\n"
           "                       PATH.npy | PATH.npz (member X) | PATH.csv\n"
           "  --n N                number of points [128]\n"
           "  --data-seed S        seed of every generated input, evaluation point and random/teacher target;\n"
           "                       independent of --seed [0]\n"
           "  --eval-points P      train, circle data: evaluation angles uniform (random) | grid [uniform]\n"
           "  --eval-data FILE     train: evaluation inputs from PATH.npy|.npz|.csv\n"
           "  --classes c1,c2,...  fmnist: classes to keep [all]\n"
           "  --pixels P           fmnist: unit (x/255) | standardize (per pixel, training statistics) [unit]\n"
           "  --fmnist-dir DIR     fmnist: directory of train-/t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz\n"
           "                       [" NTK_FMNIST_DIR "]\n"
           "run:\n"
           "  --seed S             seed of the parameters (and minibatches); data has --data-seed [0]\n"
           "  --threads T          BLAS threads (0 = library default) [0]\n"
           "  --out DIR            write the run exactly into DIR\n"
           "  --name NAME          experiment name under results/ [%s]\n"
           "  --results DIR        results root [results]\n"
           "  --max-memory GB      refuse runs whose estimated peak exceeds this (default: available RAM)\n"
           "kernel:\n"
           "  --per-layer          also store the per-layer terms K_layers (L+1, N, N)\n"
           "  --dtype f64|f32      precision of the computation and of K [f64]\n"
           "  --save-params        write params.npz (W1..W{L+1}, b1..b{L+1}, float64, as stored); train: also\n"
           "                       snapshots/params_<step>.npz at every snapshot (params.npz is always written)\n"
           "  --load-params FILE   use parameters from such a file instead of the seed (kernel, eval, profile)\n"
           "  --tile-rows B        compute K in blocks of B rows streamed to K.npy (0: only when K does not\n"
           "                       fit in memory, with blocks sized to fit) [0]\n"
           "train:\n"
           "  --target T           fourier (circle data: sum_k sin(k gamma)/k, k <= fourier-k, or the terms\n"
           "                       below) | e2 (the E2 mixture, noise 0.02) | product (x1 x2) | teacher (random\n"
           "                       net of the same spec) | random | PATH.npy [fourier]\n"
           "  --target-modes k1,.. --target-amps a1,.. --target-phases p1,..  explicit Fourier terms\n"
           "  --target-basis B     sin (a sin(k g + p)) | cos (a cos(k g - p)), or one per term [sin]\n"
           "  --target-partial m   keep only the first m terms (partial sums) [all]\n"
           "  --eval-target FILE   evaluation targets (.npy) when --target is a file\n"
           "  --n-eval M           evaluation points (circle: --eval-points; gaussian: more rows) [0]\n"
           "  --steps T            optimizer steps [1000]\n"
           "  --lr ETA | --lr-frac F  absolute eta, or F * 2 / lambda_max(c K_0) [--lr-frac 0.5]\n"
           "  --loss L             half_sum (1/2 sum, c = 1) | half_mean (1/2 mean, c = 1/N) | mse (mean, no 1/2,\n"
           "                       c = 2/N); N = B for minibatches [half_mean]\n"
           "  --opt gd|sgd|momentum|adam  [gd];  --batch B minibatch rows;  --momentum MU [0.9]\n"
           "  --snapshots S        every:K | log:K (K log-spaced steps) | t1,t2,... (0 and T always) [log:20]\n"
           "  --checkpoint-every K steps between checkpoints (0: at every snapshot) [0]\n"
           "  --resume DIR         continue a killed run in DIR to the same results\n"
           "  --ridge R            kernel regression ridge, relative to the mean diagonal of K [1e-8]\n"
           "  --top-k K            eigenspace dimension for angles / eigenvalue drift [10]\n"
           "  --fourier-k K        terms of the Fourier target [4];  --noise S label noise std [0]\n"
           "  --noise-seed S       seed of the label noise [0]\n"
           "  --freeze-eps E --freeze-k K --freeze-delta D  freeze time: |slope over D snapshots| < E |first\n"
           "                       slope| for K consecutive snapshots [0.01, 3, 2]\n"
           "  --blowup B           divergence when the loss exceeds B times its initial value [1e6]\n"
           "  --flow               frozen-kernel predictions by gradient flow in time eta * step (no f_pert)\n"
           "ensemble:\n"
           "  --members M          initializations per (depth, width) cell [1000]\n"
           "  --s S                probe input norm s = ||x||^2 / n0 [1]\n"
           "  --lr L               learning rate of the one-step kernel updates [1e-3];  --y Y target [0]\n"
           "  --angle DEG          also K(x,x') with a second probe at this angle to x (degrees) [none]\n"
           "  --sampler S          lazy (exact O(depth x width), default) | full (every weight drawn: the\n"
           "                       reference path; K(x,x) and f only)\n"
           "  --no-updates         skip the first-step updates (pathwise and literal)\n"
           "  --no-literal         skip only the literal one-step update (full-matrix path, O(P) per member)\n"
           "study (profile, converge, ensemble):\n"
           "  --widths n1,n2,...   widths to sweep (every hidden layer that width)\n"
           "  --depths L1,L2,...   depths (hidden layers) to sweep\n"
           "  --betas b1,b2,...    ensemble: lines of fixed beta instead of a depth grid: for each beta and\n"
           "                       width, depth = round(beta * width) (at least 1)\n"
           "  --seeds S            seeds: a list and/or ranges a:b (= a..b-1), e.g. 0:16\n"
           "profile:\n"
           "  --steps T            also the profile after T steps of training (train section: --target, --loss,\n"
           "                       --lr | --lr-frac, --opt) on its own training set [0: at init only]\n"
           "  --train-data D       inputs of that training set (as --data; n0 = 2) [gaussian]\n"
           "  --train-n N          its points [256];  --load-params FILE: the profile of one loaded network\n"
           "sweep (docs/sweep.md):\n"
           "  --lr-fracs f1,f2,... learning rates as fractions of 2 / lambda_max(c K_0)\n"
           "  --lazy-drift D       lazy: final relative kernel drift <= D [0.1] ...\n"
           "  --lazy-lin-err E     ... and linearization error <= E [0.1]\n"
           "  --unstable-loss-ratio R  unstable: diverged or final loss >= R * initial loss [1]\n"
           "  --catapult-spike S   catapult: a loss above (1 + S) * initial, then convergence [1]\n"
           "  --tau T              also report the drift at t = eta * step = T (0: smallest eta T of the cells) [0]\n"
           "\n  --help               this text\n",
           command);
}

/* Ranges of the scalar settings the spec check does not cover, after file and flags are merged;
 * the message names the YAML key and the flag.  -1 when all hold. */
static int check_ranges(const cli_config *c)
{
    static const struct {
        const char *key, *flag;
        size_t off;
        double lo;
        int strict; /* 1: value > lo, 0: value >= lo */
    } R[] = {
        {"run.max_memory_gb", "--max-memory", offsetof(cli_config, max_memory_gb), 0, 0},
        {"train.lr_frac", "--lr-frac", offsetof(cli_config, lr_frac), 0, 0},
        {"train.lr", "--lr", offsetof(cli_config, lr), 0, 0},
        {"train.ridge", "--ridge", offsetof(cli_config, ridge), 0, 1},
        {"train.noise", "--noise", offsetof(cli_config, noise), 0, 0},
        {"train.blowup", "--blowup", offsetof(cli_config, blowup), 1, 1},
        {"sweep.lazy_drift", "--lazy-drift", offsetof(cli_config, lazy_drift), 0, 0},
        {"sweep.lazy_lin_err", "--lazy-lin-err", offsetof(cli_config, lazy_lin_err), 0, 0},
        {"sweep.unstable_loss_ratio", "--unstable-loss-ratio", offsetof(cli_config, unstable_loss_ratio), 0, 1},
        {"sweep.catapult_spike", "--catapult-spike", offsetof(cli_config, catapult_spike), 0, 0},
        {"sweep.tau", "--tau", offsetof(cli_config, tau), 0, 0},
        {"train.freeze_eps", "--freeze-eps", offsetof(cli_config, freeze_eps), 0, 1},
    };
    for (size_t i = 0; i < sizeof R / sizeof *R; i++) {
        double v = *(const double *)((const char *)c + R[i].off);
        if (!isfinite(v) || (R[i].strict ? !(v > R[i].lo) : !(v >= R[i].lo))) {
            cli_errorf("%s (%s): must be %s %g, got %g", R[i].key, R[i].flag, R[i].strict ? ">" : ">=", R[i].lo, v);
            return CLI_EXIT_USAGE;
        }
    }
    return -1;
}

/* getopt refused `arg`: a flag that takes no value given one (--flag=x), or no such flag. */
static void unknown_option(const char *arg, const char *command)
{
    const char *eq = strchr(arg, '=');
    if (arg[0] == '-' && arg[1] == '-' && eq)
        for (const struct option *o = long_opts; o->name; o++)
            if (o->has_arg == no_argument && strlen(o->name) == (size_t)(eq - arg - 2) &&
                strncmp(o->name, arg + 2, (size_t)(eq - arg - 2)) == 0) {
                cli_errorf("--%s: takes no value, got '%s'", o->name, arg);
                return;
            }
    cli_errorf("unknown option '%s' (see ntkdrift %s --help)", arg, command);
}

int cli_config_parse_args(cli_config *c, int argc, char **argv, const char *command)
{
    /* pass 1: --config and --help, so that flags override the file */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(command);
            return CLI_EXIT_OK;
        }
        const char *path = NULL;
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                cli_errorf("--config: missing file name");
                return CLI_EXIT_USAGE;
            }
            path = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path) {
            int rc = cli_config_load_yaml(c, path);
            if (rc) return rc;
        }
    }
    bool depth_flag = false;
    optind = 1;
    opterr = 0;
    int opt, rc = 0;
    while (!rc && (opt = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
        switch (opt) {
        case OPT_CONFIG: break;
        case OPT_DEPTH: rc = flag_num(c, "model.depth", optarg); depth_flag = true; break;
        case OPT_WIDTH:
            rc = flag_num(c, "model.width", optarg);
            if (!rc) { /* --width replaces a list from the config */
                free(c->widths);
                c->widths = NULL;
                c->widths_count = 0;
            }
            break;
        case OPT_WIDTHS:
            rc = parse_int_list(c, is_study(command) ? "study.widths" : "model.widths", optarg);
            break;
        case OPT_DEPTHS: rc = parse_int_list(c, "study.depths", optarg); break;
        case OPT_SEEDS: rc = parse_int_list(c, "study.seeds", optarg); break;
        case OPT_CLASSES: rc = parse_int_list(c, "data.classes", optarg); break;
        case OPT_FMNIST_DIR: rc = copy_path("fmnist-dir", optarg, c->fmnist_dir, sizeof c->fmnist_dir); break;
        case OPT_PIXELS:
            if (strcmp(optarg, "unit") == 0) c->pixels = NTK_PIXELS_UNIT;
            else if (strcmp(optarg, "standardize") == 0) c->pixels = NTK_PIXELS_STANDARDIZE;
            else { cli_errorf("--pixels: unknown value '%s' (expected unit|standardize)", optarg); rc = 2; }
            break;
        case OPT_N0: rc = flag_num(c, "model.n0", optarg); c->n0_set = true; break;
        case OPT_OUTPUTS: rc = flag_num(c, "model.outputs", optarg); break;
        case OPT_ACT: if (ntk_act_parse(optarg, &c->act)) { cli_errorf("--act: %s", ntk_last_error()); rc = 2; } break;
        case OPT_PARAM: if (ntk_param_parse(optarg, &c->param)) { cli_errorf("--param: %s", ntk_last_error()); rc = 2; } break;
        case OPT_SW2: rc = flag_num(c, "model.sw2", optarg); break;
        case OPT_SW2_OUT: rc = flag_num(c, "model.sw2_out", optarg); break;
        case OPT_SB: rc = flag_num(c, "model.sb", optarg); break;
        case OPT_BIAS: if (ntk_bias_parse(optarg, &c->bias)) { cli_errorf("--bias: %s", ntk_last_error()); rc = 2; } break;
        case OPT_BIAS_OUT:
            if (ntk_bias_parse(optarg, &c->bias_out)) { cli_errorf("--bias-out: %s", ntk_last_error()); rc = 2; }
            c->bias_out_set = true;
            break;
        case OPT_FIRST:
            if (ntk_first_layer_parse(optarg, &c->first_layer)) { cli_errorf("--first-layer: %s", ntk_last_error()); rc = 2; }
            break;
        case OPT_DATA:
            rc = copy_path("data", optarg, c->data, sizeof c->data);
            break;
        case OPT_N: rc = flag_num(c, "data.n", optarg); c->n_set = true; break;
        case OPT_SEED: rc = flag_num(c, "run.seed", optarg); break;
        case OPT_PER_LAYER: c->per_layer = true; break;
        case OPT_TILE_ROWS: rc = flag_num(c, "kernel.tile_rows", optarg); break;
        case OPT_DTYPE:
            if (strcmp(optarg, "f64") == 0) c->dtype = NTK_F64;
            else if (strcmp(optarg, "f32") == 0) c->dtype = NTK_F32;
            else { cli_errorf("--dtype: unknown value '%s' (expected f64|f32)", optarg); rc = 2; }
            break;
        case OPT_SAVE_PARAMS: c->save_params = true; break;
        case OPT_LOAD_PARAMS: rc = copy_path("load-params", optarg, c->load_params, sizeof c->load_params); break;
        case OPT_OUT: rc = copy_path("out", optarg, c->out, sizeof c->out); break;
        case OPT_NAME:
            if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) >= sizeof c->name) {
                cli_errorf("--name: must be a non-empty name without '/', got '%s'", optarg);
                rc = 2;
            } else snprintf(c->name, sizeof c->name, "%s", optarg);
            break;
        case OPT_RESULTS: rc = copy_path("results", optarg, c->results, sizeof c->results); break;
        case OPT_THREADS: rc = flag_num(c, "run.threads", optarg); break;
        case OPT_MAXMEM:
            rc = flag_num(c, "run.max_memory_gb", optarg);
            if (!rc && c->max_memory_gb <= 0) { cli_errorf("--max-memory: must be > 0 (GB), got '%s'", optarg); rc = 2; }
            break;
        case OPT_TARGET:
            rc = copy_path("target", optarg, c->target, sizeof c->target);
            break;
        case OPT_NEVAL: rc = flag_num(c, "train.n_eval", optarg); break;
        case OPT_STEPS: rc = flag_num(c, "train.steps", optarg); break;
        case OPT_LR:
            rc = flag_num(c, "train.lr", optarg);
            if (!rc && c->lr <= 0) { cli_errorf("--lr: must be > 0, got '%s'", optarg); rc = 2; }
            c->lr_frac = 0;
            c->ens_lr = c->lr;
            break;
        case OPT_LRFRAC:
            rc = flag_num(c, "train.lr_frac", optarg);
            if (!rc && c->lr_frac <= 0) { cli_errorf("--lr-frac: must be > 0, got '%s'", optarg); rc = 2; }
            c->lr = 0;
            break;
        case OPT_LOSS: if (ntk_loss_parse(optarg, &c->loss)) { cli_errorf("--loss: %s", ntk_last_error()); rc = 2; } break;
        case OPT_OPT: if (ntk_opt_parse(optarg, &c->opt)) { cli_errorf("--opt: %s", ntk_last_error()); rc = 2; } break;
        case OPT_BATCH: rc = flag_num(c, "train.batch", optarg); break;
        case OPT_MOMENTUM: rc = flag_num(c, "train.momentum", optarg); break;
        case OPT_SNAPSHOTS:
            rc = copy_path("snapshots", optarg, c->snapshots, sizeof c->snapshots);
            break;
        case OPT_CKPT: rc = flag_num(c, "train.checkpoint_every", optarg); break;
        case OPT_RESUME: rc = copy_path("resume", optarg, c->resume, sizeof c->resume); break;
        case OPT_RIDGE:
            rc = flag_num(c, "train.ridge", optarg);
            if (!rc && c->ridge < 0) { cli_errorf("--ridge: must be >= 0, got '%s'", optarg); rc = 2; }
            break;
        case OPT_TOPK: rc = flag_num(c, "train.top_k", optarg); break;
        case OPT_FOURIERK: rc = flag_num(c, "train.fourier_k", optarg); break;
        case OPT_NOISE:
            rc = flag_num(c, "train.noise", optarg);
            c->noise_set = true;
            if (!rc && c->noise < 0) { cli_errorf("--noise: must be >= 0, got '%s'", optarg); rc = 2; }
            break;
        case OPT_BLOWUP:
            rc = flag_num(c, "train.blowup", optarg);
            if (!rc && c->blowup <= 1) { cli_errorf("--blowup: must be > 1, got '%s'", optarg); rc = 2; }
            break;
        case OPT_FLOW: c->flow = 1; break;
        case OPT_MEMBERS: rc = flag_num(c, "ensemble.members", optarg); break;
        case OPT_SNORM:
            rc = flag_num(c, "ensemble.s", optarg);
            if (!rc && c->s_norm <= 0) { cli_errorf("--s: must be > 0, got '%s'", optarg); rc = 2; }
            break;
        case OPT_TARGETY: rc = flag_num(c, "ensemble.y", optarg); break;
        case OPT_ANGLE:
            rc = flag_num(c, "ensemble.angle", optarg);
            if (!rc && !(c->angle_deg >= 0 && c->angle_deg <= 180)) {
                cli_errorf("--angle: must be in [0, 180] degrees, got '%s'", optarg);
                rc = 2;
            }
            break;
        case OPT_NOUPD: c->no_updates = 1; break;
        case OPT_NOLIT: c->no_literal = 1; break;
        case OPT_BETAS: rc = parse_pos_list(c, "study.betas", optarg); break;
        case OPT_LRFRACS: rc = parse_pos_list(c, "study.lr_fracs", optarg); break;
        case OPT_LAZYDRIFT: rc = flag_num(c, "sweep.lazy_drift", optarg); break;
        case OPT_LAZYLIN: rc = flag_num(c, "sweep.lazy_lin_err", optarg); break;
        case OPT_UNSTABLE: rc = flag_num(c, "sweep.unstable_loss_ratio", optarg); break;
        case OPT_CATAPULT: rc = flag_num(c, "sweep.catapult_spike", optarg); break;
        case OPT_TAU: rc = flag_num(c, "sweep.tau", optarg); break;
        case OPT_QUICK:
            if (strcmp(command, "study") != 0) {
                cli_errorf("--quick: only for ntkdrift study");
                rc = 2;
            } else
                c->quick = 1;
            break;
        case OPT_SAMPLER:
            if (strcmp(optarg, "lazy") == 0 || strcmp(optarg, "full") == 0) c->sampler_full = optarg[0] == 'f';
            else {
                cli_errorf("--sampler: expected lazy or full, got '%s'", optarg);
                rc = 2;
            }
            break;
        case OPT_DATA_SEED: rc = flag_num(c, "data.seed", optarg); break;
        case OPT_NOISE_SEED: rc = flag_num(c, "train.noise_seed", optarg); break;
        case OPT_EVAL_POINTS: rc = cli_set_eval_points(c, "--eval-points", optarg); break;
        case OPT_EVAL_DATA: rc = copy_path("eval-data", optarg, c->eval_data, sizeof c->eval_data); break;
        case OPT_EVAL_TARGET: rc = copy_path("eval-target", optarg, c->eval_target, sizeof c->eval_target); break;
        case OPT_TARGET_MODES: rc = parse_int_list(c, "train.target_modes", optarg); break;
        case OPT_TARGET_AMPS: rc = parse_pos_list(c, "train.target_amps", optarg); break;
        case OPT_TARGET_PHASES: rc = parse_pos_list(c, "train.target_phases", optarg); break;
        case OPT_TARGET_BASIS: {
            char *items[256];
            int n = 0;
            char buf[1024];
            rc = copy_path("target-basis", optarg, buf, sizeof buf);
            for (char *save = NULL, *tok = rc ? NULL : strtok_r(buf, ",", &save); tok && n < 256;
                 tok = strtok_r(NULL, ",", &save))
                items[n++] = tok;
            if (!rc) rc = cli_set_target_basis(c, "--target-basis", items, n);
            break;
        }
        case OPT_TARGET_PARTIAL: rc = flag_num(c, "train.target_partial", optarg); break;
        case OPT_FREEZE_EPS: rc = flag_num(c, "train.freeze_eps", optarg); break;
        case OPT_FREEZE_K: rc = flag_num(c, "train.freeze_k", optarg); break;
        case OPT_FREEZE_DELTA: rc = flag_num(c, "train.freeze_delta", optarg); break;
        case OPT_TRAIN_DATA: rc = copy_path("train-data", optarg, c->train_data, sizeof c->train_data); break;
        case OPT_TRAIN_N: rc = flag_num(c, "profile.train_n", optarg); break;
        case OPT_HELP: print_help(command); return CLI_EXIT_OK;
        case ':': cli_errorf("%s: missing value (see ntkdrift %s --help)", argv[optind - 1], command); rc = 2; break;
        default: unknown_option(argv[optind - 1], command); rc = 2; break;
        }
    }
    if (rc) return rc;
    if (optind < argc) {
        cli_errorf("unexpected argument '%s' (see ntkdrift %s --help)", argv[optind], command);
        return CLI_EXIT_USAGE;
    }
    if (c->widths_count > 0 && !depth_flag) c->depth = c->widths_count;
    return check_ranges(c);
}

