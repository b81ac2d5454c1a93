/* config_keys.c -- every setting of the CLI, once: one row per YAML key (config_keys.h).  Adding a
 * setting is one row here (and its member in its section's sub-structure of cli_config, named by
 * the key); the flag, the YAML key, config.yaml, --help and the docs table follow.  Rows are in the
 * order of config.yaml; a row's section and key name its member (MEMBER), whose C type is checked
 * against the row's type at compile time. */
#include "config_keys.h"

#include <limits.h>
#include <string.h>

/* offsetof(cli_config, m), refused at compile time unless m has type T. */
#define TYPED(m, T) (offsetof(cli_config, m) + 0 * sizeof(struct { int ok_[_Generic(((cli_config *)0)->m, T: 1, default: -1)]; }))
/* A row's member: its key in its section's sub-structure, MEMBER(TRAIN, blowup) = train.blowup. */
#define SEC_MODEL model
#define SEC_DATA data
#define SEC_STUDY study
#define SEC_RUN run
#define SEC_KERNEL kernel
#define SEC_ENSEMBLE ensemble
#define SEC_PROFILE profile
#define SEC_TRAIN train
#define SEC_SWEEP sweep
#define SEC_MODES modes
#define MEMBER(s, k) SEC_##s.k
#define SIZE(s, k) sizeof(((cli_config *)0)->MEMBER(s, k))
#define ROW(s, k, f, t, T, c, mv, h, ...)                                                                 \
    {.sec = S_##s, .key = #k, .flag = f, .type = t, .off = TYPED(MEMBER(s, k), T), .cmds = c, .meta = mv, \
     .help = h, __VA_ARGS__}
#define INT(s, k, f, l, u, c, mv, h, ...) ROW(s, k, f, T_INT, int, c, mv, h, .lo = l, .hi = u, __VA_ARGS__)
#define LONG(s, k, f, l, u, c, mv, h, ...) ROW(s, k, f, T_LONG, long, c, mv, h, .lo = l, .hi = u, __VA_ARGS__)
#define U64(s, k, f, c, mv, h, ...) ROW(s, k, f, T_U64, uint64_t, c, mv, h, __VA_ARGS__)
#define F64(s, k, f, c, mv, h, ...) ROW(s, k, f, T_F64, double, c, mv, h, __VA_ARGS__)
#define BOOL(s, k, f, c, h, ...) ROW(s, k, f, T_BOOL, bool, c, NULL, h, __VA_ARGS__)
#define IBOOL(s, k, f, c, h, ...) ROW(s, k, f, T_IBOOL, int, c, NULL, h, __VA_ARGS__)
#define STR(s, k, f, c, mv, h, ...) ROW(s, k, f, T_STR, char *, c, mv, h, .aux = SIZE(s, k), __VA_ARGS__)
#define ENUM(s, k, f, T, c, mv, h, ...) ROW(s, k, f, T_ENUM, ntk_##T, c, mv, h, .en = &E_##T, __VA_ARGS__)
#define CHOICE(s, k, f, T, w, c, h, ...) ROW(s, k, f, T_CHOICE, T, c, w, h, .choices = w, __VA_ARGS__)
#define WORD(s, k, f, w, c, h, ...) ROW(s, k, f, T_WORD, char *, c, w, h, .choices = w, .aux = SIZE(s, k), __VA_ARGS__)
#define LIST(s, k, f, t, T, c, mv, h, ...) \
    ROW(s, k, f, t, T *, c, mv, h, .aux = TYPED(MEMBER(s, k##_count), int), .write = W_SET, __VA_ARGS__)
#define SEEN(m) .hook = H_SEEN, .aux = TYPED(m, bool)

/* The library's enums as int parse / name functions. */
#define ENUM_OF(T)                                                                          \
    static int T##_parse(const char *s, int *v)                                             \
    {                                                                                       \
        ntk_##T e;                                                                          \
        return ntk_##T##_parse(s, &e) == NTK_OK ? (*v = (int)e, 0) : -1;                    \
    }                                                                                       \
    static const char *T##_name(int v) { return ntk_##T##_name((ntk_##T)v); }             \
    static const cli_enum E_##T = {T##_parse, T##_name};
ENUM_OF(act)
ENUM_OF(param)
ENUM_OF(bias)
ENUM_OF(first_layer)
ENUM_OF(loss)
ENUM_OF(opt)

#define MODELC (C_ALL & ~C_STUDY)
#define DATAC (C_ALL & ~C_STUDY & ~C_ENSEMBLE)
#define GRIDC (C_PROFILE | C_CONVERGE | C_ENSEMBLE | C_SWEEP)
#define TRAINC (C_TRAIN | C_SWEEP)
#define TPC (C_TRAIN | C_SWEEP | C_PROFILE)
#define K100K 100000

const cli_key CLI_KEYS[] = {
    INT(MODEL, depth, "depth", 0, NTK_MAX_DEPTH, MODELC, "L", "hidden layers (weight layers d = L+1; 0 = linear model)"),
    INT(MODEL, width, "width", 1, INT_MAX, MODELC, "n", "width of every hidden layer", .dflt = "256",
        .hook = H_WIDTH, .write = W_NOWIDTHS),
    LIST(MODEL, widths, "widths", T_INTS, int, C_KERNEL | C_LIMIT | C_EVAL | C_TRAIN,
         "n1,...,nL", "per-layer widths (overrides --width; sets depth if --depth is absent)", .lo = 1, .hi = INT_MAX),
    INT(MODEL, n0, "n0", 1, INT_MAX, MODELC, "D", "input dimension (circle data: 2; file data: its columns)", SEEN(model.n0_set)),
    INT(MODEL, outputs, "outputs", 1, INT_MAX, MODELC, "k", "network outputs"),
    ENUM(MODEL, act, "act", act, MODELC, "A", "activation"),
    ENUM(MODEL, param, "param", param, MODELC, "P", "parameterization"),
    F64(MODEL, sw2, "sw2", MODELC, "S", "sigma_w^2 of the hidden layers (> 0, checked with the model)"),
    F64(MODEL, sw2_out, "sw2-out", MODELC, "S", "sigma_w^2 of the readout (> 0, checked with the model)"),
    F64(MODEL, sb, "sb", MODELC, "S", "bias multiplier c_b (ntk) / bias init std (standard), >= 0"),
    ENUM(MODEL, bias, "bias", bias, MODELC, "B", "none = no bias parameters; zero = trainable, initialised at 0"),
    ENUM(MODEL, bias_out, "bias-out", bias, MODELC, "B", "readout bias (default: as bias)", SEEN(model.bias_out_set),
         .write = W_BIAS_OUT),
    ENUM(MODEL, first_layer, "first-layer", first_layer, MODELC, "F", "first layer with or without 1/sqrt(n0)"),
    STR(DATA, data, "data", DATAC, "D",
        "gaussian (rows of norm sqrt(n0)) | gaussian-raw (N(0, I)) | circle (grid on [-pi, pi)) | circle-pos (grid on "
        "[0, 2 pi)) | circle-uniform (random angles) | circle-subset, circle-pos-subset (train: n points of the "
        "evaluation grid of n-eval angles) | sphere | fmnist (Fashion-MNIST) | PATH.npy | PATH.npz (member X) | PATH.csv",
        .dflt = "gaussian"),
    LONG(DATA, n, "n", 1, INT_MAX, DATAC, "N", "number of points (a file: its first N rows)", .dflt = "128", SEEN(data.n_set)),
    U64(DATA, seed, "data-seed", DATAC | C_ENSEMBLE, "S",
        "seed of every generated input, evaluation point and random/teacher target; independent of --seed"),
    WORD(DATA, eval_points, "eval-points", "uniform|grid", TRAINC | C_KGD,
         "circle data: evaluation angles random (uniform) or equispaced (grid)", .dflt = "uniform"),
    STR(DATA, eval_data, "eval-data", TRAINC | C_KGD, "FILE", "evaluation inputs from PATH.npy|.npz|.csv", .write = W_SET),
    LIST(DATA, classes, "classes", T_INTS, int, DATAC, "c1,c2,...", "fmnist: classes to keep (default: all)",
         .lo = 0, .hi = 9),
    CHOICE(DATA, pixels, "pixels", ntk_pixels, "unit|standardize", DATAC,
           "fmnist: x/255 (unit) or per pixel by the training statistics (standardize)"),
    STR(DATA, fmnist_dir, "fmnist-dir", DATAC, "DIR",
        "fmnist: directory of the four IDX files [" NTK_FMNIST_DIR "]", .write = W_SET),
    LIST(STUDY, betas, "betas", T_F64S, double, C_ENSEMBLE, "b1,b2,...",
         "lines of fixed beta instead of a depth grid: depth = round(beta * width), at least 1", .rng = R_GT),
    LIST(STUDY, lr_fracs, "lr-fracs", T_F64S, double, C_SWEEP, "f1,f2,...",
         "learning rates as fractions of 2 / lambda_max(c K_0)", .rng = R_GT),
    LIST(STUDY, widths, "widths", T_INTS, int, GRIDC | C_STUDY | C_MODES | C_HIER, "n1,n2,...",
         "widths to sweep (every hidden layer that width)", .lo = 1, .hi = INT_MAX),
    LIST(STUDY, depths, "depths", T_INTS, int, GRIDC, "L1,L2,...",
         "depths (hidden layers) to sweep", .lo = 0, .hi = NTK_MAX_DEPTH),
    LIST(STUDY, seeds, "seeds", T_INTS, int, GRIDC | C_MODES | C_HIER, "S", "seeds: a list and/or ranges a:b (= a..b-1)",
         .lo = 0, .hi = INT_MAX),
    INT(STUDY, min_width, "min-width", 0, INT_MAX, C_HIER, "n",
        "log-log slopes in width over the widths >= n (0: all)", .write = W_SET),
    U64(RUN, seed, "seed", MODELC, "S", "seed of the parameters (and minibatches); data has --data-seed"),
    INT(RUN, threads, "threads", 0, 1024, C_ALL, "T", "BLAS threads (0 = library default)"),
    STR(RUN, name, "name", C_ALL, "NAME", "experiment name under results/ (default: the command)", .hook = H_NAME),
    STR(RUN, results, "results", C_ALL, "DIR", "results root", .dflt = "results"),
    STR(RUN, out, "out", C_ALL, "DIR", "write the run exactly into DIR", .write = W_SET),
    F64(RUN, max_memory_gb, "max-memory", MODELC, "GB",
        "refuse runs whose estimated peak exceeds this many GB (default: available RAM)", .rng = R_GT, .write = W_SET),
    BOOL(KERNEL, per_layer, "per-layer", C_KERNEL | C_LIMIT | C_TRAIN, "also store the per-layer terms K_layers"),
    CHOICE(KERNEL, dtype, "dtype", ntk_dtype, "f64|f32", C_KERNEL | C_KGD, "precision of the computation and of K"),
    BOOL(KERNEL, save_params, "save-params", C_KERNEL | C_TRAIN,
         "write params.npz; train: also snapshots/params_<step>.npz at every snapshot"),
    STR(KERNEL, load_params, "load-params", C_KERNEL | C_EVAL | C_PROFILE | C_KGD, "FILE",
        "parameters from such a file instead of the seed", .write = W_SET),
    LONG(KERNEL, tile_rows, "tile-rows", 0, LONG_MAX / 2, C_KERNEL, "B",
         "K in blocks of B rows streamed to K.npy (0: only when K does not fit in memory)", .write = W_SET),
    IBOOL(KERNEL, eig, "eig", C_KERNEL,
         "also the extreme eigenvalues of K_trace in the summary (one O(N^3) eigendecomposition, N <= 2048)",
         .write = W_SET),
    LONG(ENSEMBLE, members, "members", 2, INT_MAX, C_ENSEMBLE, "M", "initializations per (depth, width) cell",
         .dflt = "1000"),
    F64(ENSEMBLE, s, "s", C_ENSEMBLE, "S", "probe input norm s = ||x||^2 / n0", .rng = R_GT, .dflt = "1"),
    F64(ENSEMBLE, lr, "lr", C_ENSEMBLE, "L", "learning rate of the one-step kernel updates", .rng = R_GT,
        .dflt = "1e-3"),
    F64(ENSEMBLE, y, "y", C_ENSEMBLE, "Y", "target of the one-step loss 1/2 (f(x) - y)^2"),
    IBOOL(ENSEMBLE, no_updates, "no-updates", C_ENSEMBLE, "skip the first-step updates (pathwise and literal)"),
    IBOOL(ENSEMBLE, no_literal, "no-literal", C_ENSEMBLE, "skip only the literal one-step update (O(P) per member)"),
    CHOICE(ENSEMBLE, sampler, "sampler", int, "lazy|full", C_ENSEMBLE,
           "K(x,x) by the exact O(depth x width) sampler, or every weight drawn (the reference path)"),
    F64(ENSEMBLE, angle, "angle", C_ENSEMBLE, "DEG", "also K(x,x') with a second probe at this angle (degrees)",
        .rng = R_IN, .lo = 0, .hi = 180, .dflt = "-1", .write = W_ANGLE),
    STR(PROFILE, train_data, "train-data", C_PROFILE, "D", "inputs of the training set of --steps T (as --data)",
        .dflt = "gaussian"),
    LONG(PROFILE, train_n, "train-n", 1, INT_MAX, C_PROFILE, "N", "points of that training set", .dflt = "256"),
    STR(TRAIN, target, "target", TPC | C_KGD | C_MODES | C_HIER, "T",
        "fourier (circle: sum_k sin(k gamma)/k, k <= fourier-k, or the target-* terms) | e2 (the E2 mixture, noise 0.02) "
        "| product (x1 x2) | teacher (a random net of the same spec) | random | PATH.npy", .dflt = "fourier"),
    LONG(TRAIN, n_eval, "n-eval", 0, INT_MAX, TPC | C_KGD | C_MODES, "M", "evaluation points (circle: --eval-points)"),
    LONG(TRAIN, steps, "steps", 0, LONG_MAX / 2, TPC | C_KGD | C_HIER, "T", "optimizer steps (profile: 0 = at init only)", .dflt = "1000"),
    F64(TRAIN, lr, "lr", TPC | C_KGD | C_HIER, "ETA", "absolute learning rate (instead of lr_frac; kgd: of eta-scale)", .rng = R_GT, .hook = H_LR, .write = W_LR),
    F64(TRAIN, lr_frac, "lr-frac", TPC | C_KGD | C_HIER, "F", "learning rate F * 2 / lambda_max(c K_0) (lr_frac wins over lr in a file)",
        .rng = R_GT, .dflt = "0.5", .hook = H_LRFRAC, .write = W_LRFRAC),
    ENUM(TRAIN, loss, "loss", loss, TPC | C_KGD | C_HIER, "L",
         "half_sum (1/2 sum, c = 1) | half_mean (1/2 mean, c = 1/N) | mse (mean, no 1/2, c = 2/N); N = B for minibatches",
         .dflt = "half_mean"),
    ENUM(TRAIN, opt, "opt", opt, TPC, "O", "optimizer", .dflt = "gd"),
    LONG(TRAIN, batch, "batch", 0, INT_MAX, TPC, "B", "minibatch rows (0: full batch)"),
    F64(TRAIN, momentum, "momentum", TPC, "MU", "momentum of opt momentum (in [0, 1))", .dflt = "0.9"),
    STR(TRAIN, snapshots, "snapshots", TRAINC | C_KGD | C_HIER, "S", "every:K | log:K (K log-spaced steps) | t1,t2,... (0 and T always)",
        .dflt = "log:20"),
    LONG(TRAIN, checkpoint_every, "checkpoint-every", 0, LONG_MAX / 2, TRAINC, "K",
         "steps between checkpoints (0: at every snapshot)"),
    F64(TRAIN, ridge, "ridge", TRAINC | C_MODES, "R", "kernel regression ridge, relative to the mean diagonal of K", .rng = R_GT,
        .dflt = "1e-8"),
    INT(TRAIN, top_k, "top-k", 1, K100K, TRAINC | C_KGD, "K", "eigenspace dimension for angles / eigenvalue drift", .dflt = "10"),
    INT(TRAIN, fourier_k, "fourier-k", 1, K100K, TPC | C_KGD | C_MODES, "K", "terms of the Fourier target", .dflt = "4"),
    F64(TRAIN, noise, "noise", TPC | C_KGD, "S", "label noise std", .rng = R_GE, SEEN(train.noise_set)),
    U64(TRAIN, noise_seed, "noise-seed", TPC | C_KGD, "S", "seed of the label noise"),
    F64(TRAIN, blowup, "blowup", TPC, "B", "divergence when the loss exceeds B times its initial value", .rng = R_GT,
        .lo = 1, .dflt = "1e6"),
    IBOOL(TRAIN, flow, "flow", TRAINC, "frozen-kernel predictions by gradient flow in time eta * step"),
    INT(TRAIN, nth, "nth", 0, 4, C_TRAIN, "L",
        "neural tangent hierarchy at level 3 (O3 frozen) | 4 (O4 frozen): f and K predicted from step 0 "
        "(nth_* columns, f_nth / K_nth; k = 1, gd, N <= 64 at 4; 0: off)", .write = W_SET),
    CHOICE(TRAIN, gates, "gates", int, "live|frozen", C_TRAIN | C_HIER,
           "relu units' on/off states: live, or frozen at their values at step 0 on every input (the gated "
           "control: no unit crosses its kink; act relu)", .write = W_SET),
    F64(TRAIN, freeze_eps, "freeze-eps", TRAINC, "E", "freeze time: |slope over D snapshots| < E |first slope| ...",
        .rng = R_GT, .dflt = "0.01"),
    INT(TRAIN, freeze_k, "freeze-k", 1, K100K, TRAINC, "K", "... for K consecutive snapshots", .dflt = "3"),
    INT(TRAIN, freeze_delta, "freeze-delta", 1, K100K, TRAINC, "D", "... slopes over D snapshots", .dflt = "2"),
    STR(TRAIN, eval_target, "eval-target", TRAINC | C_KGD, "FILE", "evaluation targets (.npy) when the target is a file",
        .write = W_SET),
    LIST(TRAIN, target_modes, "target-modes", T_INTS, int, TRAINC | C_KGD, "k1,...",
         "explicit Fourier terms: modes", .lo = 0, .hi = K100K),
    LIST(TRAIN, target_amps, "target-amps", T_F64S, double, TRAINC | C_KGD, "a1,...", "their amplitudes (one per mode)"),
    LIST(TRAIN, target_phases, "target-phases", T_F64S, double, TRAINC | C_KGD, "p1,...",
         "their phases (one per mode, or none for 0)"),
    LIST(TRAIN, target_basis, "target-basis", T_CHOICES, int, TRAINC | C_KGD, "B",
         "sin (a sin(k g + p)) | cos (a cos(k g - p)): one for all terms, or one per term (default: sin)", .choices = "sin|cos"),
    INT(TRAIN, target_partial, "target-partial", 0, K100K, TRAINC | C_KGD, "m",
        "keep only the first m terms (partial sums; 0: all)", .write = W_SET),
    STR(TRAIN, resume, "resume", C_KERNEL | TRAINC | C_ENSEMBLE | C_STUDY, "DIR",
        "continue a stopped run in DIR to the same results (its own config.yaml)", .write = W_NEVER),
    F64(SWEEP, lazy_drift, "lazy-drift", C_SWEEP, "D", "lazy: final relative kernel drift <= D ...", .rng = R_GE,
        .dflt = "0.1"),
    F64(SWEEP, lazy_lin_err, "lazy-lin-err", C_SWEEP, "E", "... and linearization error <= E", .rng = R_GE,
        .dflt = "0.1"),
    F64(SWEEP, unstable_loss_ratio, "unstable-loss-ratio", C_SWEEP, "R",
        "unstable: diverged, or final loss >= R * initial loss", .rng = R_GT, .dflt = "1"),
    F64(SWEEP, catapult_spike, "catapult-spike", C_SWEEP, "S",
        "catapult: a loss above (1 + S) * initial, then convergence", .rng = R_GE, .dflt = "1"),
    F64(SWEEP, tau, "tau", C_SWEEP, "T", "also the drift at t = eta * step = T (0: the smallest eta T of the cells)",
        .rng = R_GE),
    STR(MODES, kernel, "kernel", C_KGD | C_MODES, "K",
        "theta_bias | theta_nobias | k0 | k1 (closed forms on the circle) | limit (the model's infinite-width NTK) | "
        "empirical (the model's NTK at --seed or --load-params) | PATH.npy | PATH.npz (member K, e.g. a train snapshot)",
        .dflt = "theta_bias"),
    F64(MODES, eta_scale, "eta-scale", C_KGD, "S", "step eta = S / lambda_max(A) (--lr: absolute)", .rng = R_GT,
        .dflt = "0.05"),
    IBOOL(MODES, compare_train, "compare-train", C_KGD,
          "frozen against evolving: train the model (train section) beside operator GD with its K_0 (fe.npz)"),
    INT(MODES, kmax, "kmax", 0, K100K, C_KGD | C_MODES, "K", "Fourier frequencies 0..K projected on (K <= n/2)", .dflt = "8"),
    WORD(MODES, init, "init", "zero|gp", C_KGD, "u_0: zero, or a Gaussian-process draw N(0, NNGP)", .dflt = "zero"),
    U64(MODES, gp_seed, "gp-seed", C_KGD, "S", "seed of the GP draw of --init gp"),
    WORD(MODES, precond, "precond", "none|theory|empirical", C_KGD,
         "preconditioner P on the Fourier basis up to kmax (docs/modes.md)", .dflt = "none"),
    F64(MODES, tau, "tau", C_KGD, "T", "preconditioner shift tau", .rng = R_GE, .dflt = "1e-3"),
    F64(MODES, reg, "reg", C_KGD, "R", "empirical preconditioner's extra shift", .rng = R_GE),
    WORD(MODES, fft, "fft", "auto|on|off", C_KGD,
         "the FFT path (an equispaced grid and a kernel of the angle; auto: when possible)", .dflt = "auto"),
    LIST(MODES, ns, "ns", T_INTS, int, C_MODES, "n1,n2,...", "sample sizes (default: --n)", .lo = 2, .hi = INT_MAX),
    LIST(MODES, eps, "eps", T_F64S, double, C_MODES, "e1,e2,...", "exceedance thresholds of the concentration",
         .rng = R_GT),
    F64(MODES, bound_c, "bound-c", C_MODES, "C", "the tail bound's c in 2 d^2 exp(-c m min(e^2/L^2, e/L))", .rng = R_GT,
        .dflt = "1"),
    F64(MODES, bound_l, "bound-l", C_MODES, "L", "the tail bound's L", .rng = R_GT, .dflt = "1"),
    INT(MODES, search, "search", 0, INT_MAX, C_MODES, "S", "eigenvectors searched per Fourier plane (0: all)"),
    IBOOL(MODES, no_cells, "no-cells", C_MODES,
          "only the concentration Monte Carlo: no per-cell rows in modes.csv (their eigendecompositions)"),
};
const size_t CLI_NKEYS = sizeof CLI_KEYS / sizeof *CLI_KEYS;
_Static_assert(sizeof CLI_KEYS / sizeof *CLI_KEYS <= CLI_MAX_KEYS, "raise CLI_MAX_KEYS");

const cli_override CLI_OVERRIDES[] = {
    {C_TRAIN | C_SWEEP | C_CONVERGE | C_PROFILE, "data.data", "circle"},
    {C_TRAIN | C_SWEEP | C_CONVERGE, "data.n", "64"},
    {C_PROFILE, "data.n", "256"},
    {C_PROFILE, "train.steps", "0"},
    {C_KGD, "data.data", "circle"},
    {C_KGD, "data.n", "256"},
    {C_KGD, "train.steps", "2000"},
    {C_KGD, "train.snapshots", "every:100"},
    {C_KGD, "train.top_k", "8"},
    {C_MODES, "data.data", "circle"},
    {C_MODES, "data.n", "256"},
    {C_MODES, "model.depth", "1"},
    {C_MODES, "train.n_eval", "64"},
    {C_HIER, "model.depth", "2"},
    {C_HIER, "model.n0", "4"},
    {C_HIER, "model.bias", "normal"},
    {C_HIER, "model.bias_out", "none"},
    {C_HIER, "data.data", "gaussian-raw"},
    {C_HIER, "data.n", "16"},
    {C_HIER, "study.widths", "256,512,1024,2048,4096"},
    {C_HIER, "study.seeds", "0:5"},
    {C_HIER, "train.target", "random"},
    {C_HIER, "train.loss", "half_sum"},
    {C_HIER, "train.lr_frac", "0.25"},
    {C_HIER, "train.steps", "200"},
    {C_HIER, "train.snapshots", "every:10"},
};
const size_t CLI_NOVERRIDES = sizeof CLI_OVERRIDES / sizeof *CLI_OVERRIDES;

const char *const CLI_SECTIONS[S_COUNT] = {"model", "data",  "study", "run",  "kernel",
                                           "ensemble", "profile", "train", "sweep", "modes"};
const unsigned CLI_SECTION_CMDS[S_COUNT] = {C_ALL,     C_ALL,       C_ALL,   C_ALL,
                                            C_ALL,     C_ENSEMBLE,  C_PROFILE, TPC | C_KGD | C_MODES | C_HIER,
                                            C_SWEEP,   C_KGD | C_MODES};
const char *const CLI_COMMANDS[CLI_NCOMMANDS] = {"kernel", "limit",    "eval",  "profile", "converge",
                                                 "train",  "ensemble", "sweep", "study",   "kgd",
                                                 "modes",  "hierarchy"};
const char *const CLI_COMMAND_INTRO[CLI_NCOMMANDS] = {
    "Empirical NTK of a fully-connected network on a dataset (kernel.npz; docs/cli.md).",
    "Infinite-width NNGP and NTK of the network on a dataset (limit.npz; float64 only; docs/limits.md).",
    "The outputs f(x) of the network on a dataset (eval.npz), its parameters from the seed or --load-params.",
    "Kernel profile K(x0, x(gamma)) on the circle over depths, widths and seeds, with the limit (profile.npz).",
    "Distance of K_0 from K_inf over depths, widths and seeds, and its log-log slopes (converge.npz).",
    "Gradient descent with the NTK tracked: drift, spectra, predictions (docs/train.md).",
    "Monte Carlo over initializations on (depth, width) grids (docs/ensemble.md).",
    "Regime map: train runs over depth x width x learning rate x seed (docs/sweep.md).",
    "The main job: a regime sweep, the circle spectral bias run and the report (docs/cli.md).",
    "Operator gradient descent on a kernel with the residual's Fourier and eigenvector modes (modes.npz; docs/modes.md).",
    "The sampled, finite-width operator against the continuum over n x widths x seeds: lemma objects, eigenspaces\n"
    "against the Fourier planes, leakage, concentration with its tail bound (modes.csv, concentration.csv; docs/modes.md).",
    "The neural tangent hierarchy over widths x seeds: one gradient-descent run per cell against the linearized model\n"
    "and the truncations at levels 3 and 4 from O3, O4 at step 0; errors, sign flips, log-log slopes in width and the\n"
    "crossover widths (hierarchy.csv, hierarchy_summary.csv, slopes.csv; docs/dynamics.md, \"The width study\").",
};

unsigned cli_command_bit(const char *command)
{
    for (unsigned i = 0; i < CLI_NCOMMANDS; i++)
        if (strcmp(command, CLI_COMMANDS[i]) == 0) return 1u << i;
    return 0;
}

const cli_key *cli_key_find(const char *section, const char *key)
{
    for (size_t i = 0; i < CLI_NKEYS; i++)
        if (strcmp(CLI_SECTIONS[CLI_KEYS[i].sec], section) == 0 && strcmp(CLI_KEYS[i].key, key) == 0) return &CLI_KEYS[i];
    return NULL;
}
