/* experiment.c -- one experiment through the public header alone: the empirical NTK of a network,
 * gradient descent with the kernel tracked at snapshots, and one ensemble cell of random networks.
 *
 *   experiment OUTDIR
 *
 * writes into OUTDIR (created if missing), with the library's own writers:
 *   K.npy          [N x N]        the empirical NTK at initialisation            (ntk_npy_write)
 *   train.npz      per snapshot:  step, t, loss, loss_eval, drift_fro, kernel_distance, lambda_max,
 *                  lin_err [S]; K [S x N x N]; f_train [S x N]; f_lin [S x N] and eta [1]
 *   ensemble.npz   the cell's samples K, K_weight, ..., rho_off [M] and K_layers [M x (depth + 1)];
 *                  its statistics (mean, se [NTK_ENS_NQ], R, ..., warn_tail [1] each) and theory
 * and prints a few numbers on the way.  Any failed call prints ntk_last_error() and exits 1.
 *
 * The settings are the constants below.  For the same settings the CLI writes the same numbers, bit
 * for bit (tests/cli/test_example_experiment.py compares them):
 *
 *   ntkdrift kernel   --data circle --n 32 --depth 2 --width 128 --seed 3 --out DIR
 *       K.npy = kernel.npz's K (and = train.npz's K[0]: the same points and network)
 *   ntkdrift train    --data circle --n 32 --n-eval 16 --depth 2 --width 128 --seed 3 --data-seed 5 \
 *                     --steps 200 --lr-frac 0.5 --snapshots every:50 --out DIR
 *       train.npz = trajectory.npz and snapshots/snap_<step>.npz (and metrics.csv to its 10 digits)
 *   ntkdrift ensemble --depths 3 --widths 64 --members 200 --n0 8 --seed 3 --data-seed 5 --angle 60 \
 *                     --lr 1e-3 --out DIR
 *       ensemble.npz = samples.npz and cells/cell_00000.npz (and cells.csv to its printed digits)
 *
 * Against an installed libntkdrift: cc -std=c17 experiment.c $(pkg-config --cflags --libs ntkdrift)
 * (see minimal.c).  In the build tree it is the target example_experiment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ntkdrift.h>

/* ---- the settings (the command lines above) */
/* the network of the kernel and of training: 2 hidden ReLU layers of width 128, NTK parameterization */
enum { DEPTH = 2, WIDTH = 128 };
#define SEED 3u        /* the parameters (--seed) */
#define DATA_SEED 5u   /* inputs, evaluation points and targets (--data-seed) */
/* data: N points of the uniform grid on the circle (n0 = 2); training adds M random evaluation
 * points and the Fourier target sum_k sin(k gamma) / k, k <= 4 (the defaults of --target) */
enum { N = 32, M_EVAL = 16 };
/* training: full-batch gradient descent, eta = 0.5 * 2 / lambda_max(c K_0), half-mean loss */
#define STEPS 200L
#define LR_FRAC 0.5
#define SCHEDULE "every:50"
/* the ensemble cell: relu, depth 3, width 64, M members, probe x of norm^2 s n0 (s = 1) in n0 = 8
 * dimensions and x' at 60 degrees to it; the one-step updates with learning rate 1e-3, target 0 */
enum { ENS_DEPTH = 3, ENS_WIDTH = 64, ENS_N0 = 8, MEMBERS = 200 };
#define ENS_S 1.0
#define ENS_ANGLE 60.0
#define ENS_LR 1e-3

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) != NTK_OK) {                                                  \
            fprintf(stderr, "experiment: %s: %s\n", #call, ntk_last_error());    \
            goto done;                                                           \
        }                                                                        \
    } while (0)

static char *path_in(const char *dir, const char *file)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, file);
    return buf;
}

/* ------------------------------------------------------------------ (1) the kernel */

/* K: [N x N] (one output), the empirical NTK of the network ntk_net_init(SEED) on the circle grid. */
static int kernel_at_init(const ntk_spec *spec_in, const char *out)
{
    int rc = 1;
    ntk_spec spec = *spec_in;
    ntk_dataset d = {0};
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    double *K = NULL;

    /* The input points of a data kind, as `ntkdrift kernel` reads them: here the grid
     * gamma_i = -pi + 2 pi i / N on the unit circle, X_train [N x 2]. */
    ntk_data_opts dopt = ntk_data_defaults();
    dopt.data = "circle";
    dopt.n = N;
    dopt.data_seed = DATA_SEED;
    CHECK(ntk_data_inputs(&dopt, &d, NULL, 0));
    spec.n0 = d.n0; /* the data decides n0 (2 on the circle) */

    CHECK(ntk_net_alloc(&spec, &net));
    CHECK(ntk_net_init(net, SEED));
    /* Forward activations and backprop vectors of all N points (float64), then K from the
     * per-layer Grams: K = sum_l (H_{l-1} H_{l-1}^T) o (Delta_l Delta_l^T) (one SYRK each). */
    CHECK(ntk_feats_alloc(net, N, NTK_F64, &f));
    CHECK(ntk_feats_compute(net, f, d.X_train));
    K = malloc(sizeof(double) * N * N);
    if (!K) goto done;
    CHECK(ntk_kernel_full(net, f, K, NULL));

    ntk_kernel_summary sm;
    CHECK(ntk_kernel_summarize(N, NTK_F64, K, N, &sm));
    printf("(1) kernel: %zu parameters, N = %d on the circle: trace %.6g, lambda_max %.6g, lambda_min %.3g\n",
           ntk_net_num_params(net), N, sm.trace, sm.lambda_max, sm.lambda_min);
    size_t shape[2] = {N, N};
    CHECK(ntk_npy_write(path_in(out, "K.npy"), NTK_F64, 2, shape, K));
    rc = 0;
done:
    free(K);
    ntk_feats_free(f);
    ntk_net_free(net);
    ntk_dataset_clear(&d);
    return rc;
}

/* ------------------------------------------------------------------ (2) training */

/* What the observer keeps of every snapshot (S of them, known from the schedule). */
typedef struct {
    size_t S, n, seen;
    double *step, *t, *loss, *loss_eval, *drift_fro, *kdist, *lambda_max, *lin_err; /* [S] */
    double *K;                                                                     /* [S x n x n] */
    double *f;                                                                     /* [S x n] */
} track;

/* The observer: called at every snapshot in order; the pointers in s live until it returns. */
static ntk_status on_snapshot(void *user, const ntk_train_snapshot *s)
{
    track *tr = user;
    size_t i = tr->seen++;
    if (i >= tr->S || s->n != tr->n) return NTK_EINVAL; /* cannot happen with the schedule we passed */
    tr->step[i] = (double)s->step;
    tr->t[i] = s->t;
    tr->loss[i] = s->loss;
    tr->loss_eval[i] = s->loss_eval;
    tr->drift_fro[i] = s->mt.drift_fro;
    tr->kdist[i] = s->mt.kernel_distance;
    tr->lambda_max[i] = s->mt.lambda_max;
    tr->lin_err[i] = s->mt.lin_err;
    memcpy(tr->K + i * tr->n * tr->n, s->K, sizeof(double) * tr->n * tr->n);
    memcpy(tr->f + i * tr->n, s->f, sizeof(double) * tr->n);
    printf("    step %4ld  t %7.3f  loss %.4e  eval %.4e  drift %.3e  lambda_max %.4f  lin_err %.3e\n", s->step, s->t,
           s->loss, s->loss_eval, s->mt.drift_fro, s->mt.lambda_max, s->mt.lin_err);
    return NTK_OK;
}

static int train_tracked(const ntk_spec *spec_in, const char *out)
{
    int rc = 1;
    ntk_spec spec = *spec_in;
    ntk_dataset d = {0};
    ntk_train_schedule sched = {0};
    ntk_train_result res = {0};
    track tr = {0};
    double **vec[] = {&tr.step, &tr.t, &tr.loss, &tr.loss_eval, &tr.drift_fro, &tr.kdist, &tr.lambda_max, &tr.lin_err};
    ntk_npz_writer *w = NULL;

    /* Training and evaluation sets with their targets, as `ntkdrift train` builds them: the circle
     * grid (X_train [N x 2]), M random angles (X_eval [M x 2]), y = sum_{k<=4} sin(k gamma) / k. */
    ntk_data_opts dopt = ntk_data_defaults();
    dopt.data = "circle";
    dopt.n = N;
    dopt.n_eval = M_EVAL;
    dopt.data_seed = DATA_SEED;
    char desc[256];
    CHECK(ntk_data_build(&dopt, &d, desc, sizeof desc));
    spec.n0 = d.n0;
    spec.outputs = d.k;

    /* The snapshot steps 0, 50, ..., 200, parsed up front so the observer knows how many. */
    CHECK(ntk_train_schedule_parse(SCHEDULE, STEPS, &sched));
    ntk_train_run_opts o = ntk_train_run_defaults(); /* half_mean loss, gd, top_k 10, ridge 1e-8, ... */
    o.spec = spec;
    o.seed = SEED;
    o.steps = STEPS;
    o.lr_frac = LR_FRAC;
    o.snapshots = sched.steps;
    o.n_snapshots = sched.count;
    CHECK(ntk_train_run_check(&o, &d)); /* every option checked before anything is allocated */

    tr.S = sched.count;
    tr.n = d.n_train * (size_t)d.k;
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
        if (!(*vec[i] = calloc(tr.S, sizeof(double)))) goto done;
    tr.K = calloc(tr.S * tr.n * tr.n, sizeof(double));
    tr.f = calloc(tr.S * tr.n, sizeof(double));
    if (!tr.K || !tr.f) goto done;

    printf("(2) training on %s, %ld steps, snapshots %s:\n", desc, STEPS, SCHEDULE);
    CHECK(ntk_train_run(&o, &d, on_snapshot, &tr, &res));
    if (res.diverged_at >= 0) printf("    diverged at step %ld\n", res.diverged_at);
    printf("    eta %.6g (a lambda_max = %.4f), kernel velocity: literal one-step vs pathwise %.3e, freeze step %g\n",
           res.eta, res.a_lambda_max, res.kdot_literal, res.freeze_step);

    size_t S = tr.seen, n = tr.n, sh1[1] = {S}, shK[3] = {S, n, n}, shF[2] = {S, n}, sh0[1] = {1};
    const char *names[] = {"step", "t", "loss", "loss_eval", "drift_fro", "kernel_distance", "lambda_max", "lin_err"};
    CHECK(ntk_npz_open(path_in(out, "train.npz"), &w));
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
        CHECK(ntk_npz_add(w, names[i], NTK_F64, 1, sh1, *vec[i]));
    CHECK(ntk_npz_add(w, "K", NTK_F64, 3, shK, tr.K));
    CHECK(ntk_npz_add(w, "f_train", NTK_F64, 2, shF, tr.f));
    CHECK(ntk_npz_add(w, "f_lin", NTK_F64, 2, shF, res.f_lin)); /* the frozen-K_0 prediction */
    CHECK(ntk_npz_add(w, "eta", NTK_F64, 1, sh0, &res.eta));
    ntk_npz_writer *wc = w;
    w = NULL;
    CHECK(ntk_npz_close(wc)); /* the members are written now: the buffers had to live until here */
    rc = 0;
done:
    if (w) ntk_npz_abort(w);
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) free(*vec[i]);
    free(tr.K);
    free(tr.f);
    ntk_train_result_clear(&res);
    ntk_train_schedule_clear(&sched);
    ntk_dataset_clear(&d);
    return rc;
}

/* ------------------------------------------------------------------ (3) an ensemble cell */

static int ensemble_cell(const char *out)
{
    int rc = 1;
    int widths[ENS_DEPTH];
    for (int l = 0; l < ENS_DEPTH; l++) widths[l] = ENS_WIDTH;
    ntk_spec spec = ntk_spec_default();
    spec.depth = ENS_DEPTH;
    spec.widths = widths;
    spec.n0 = ENS_N0;
    ntk_ensemble_samples smp = {0};
    ntk_npz_writer *w = NULL;

    /* The probes: x from the data seed with ||x||^2 = s n0, x' of the same norm at ENS_ANGLE to it. */
    double x[ENS_N0], xp[ENS_N0];
    CHECK(ntk_ensemble_probes(DATA_SEED, ENS_N0, ENS_S, ENS_ANGLE, x, xp));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = MEMBERS;
    o.x = x;
    o.xp = xp;
    o.lr = ENS_LR;
    o.seed = SEED;
    CHECK(ntk_ensemble_samples_alloc(&smp, MEMBERS, ENS_DEPTH));
    /* Cell 0 (the first cell of `ntkdrift ensemble`'s grid): member m draws from (seed, cell, m) only,
     * so the samples do not depend on the thread or rank count. */
    ntk_ensemble_stats st;
    CHECK(ntk_ensemble_cell(&spec, &o, 0, &smp, &st));
    ntk_ensemble_theory th;
    CHECK(ntk_ensemble_theory_of(&spec, ENS_WIDTH, ENS_S, &th));
    printf("(3) ensemble: depth %d, width %d, %d members: E[K(x,x)] %.5g +- %.2g (theory %.5g), R %.4g "
           "[%.4g, %.4g], E[dK_path] %.4g, E[rho(x,x')] %.4f\n",
           ENS_DEPTH, ENS_WIDTH, MEMBERS, st.mean[NTK_ENS_K], st.se[NTK_ENS_K], th.K_mean, st.R, st.R_boot_lo,
           st.R_boot_hi, st.mean[NTK_ENS_DK_PATH], st.mean[NTK_ENS_RHO_OFF]);

    size_t shM[1] = {MEMBERS}, shL[2] = {MEMBERS, ENS_DEPTH + 1}, shQ[1] = {NTK_ENS_NQ}, sh0[1] = {1};
    double warn[2] = {st.warn_ceiling, st.warn_tail};
    const struct {
        const char *name;
        const double *v;
    } scalars[] = {{"R", &st.R},       {"R_log_se", &st.R_log_se},       {"R_boot_lo", &st.R_boot_lo},
                   {"R_boot_hi", &st.R_boot_hi}, {"Kd_R", &st.Kd_R},   {"Kd_R_log_se", &st.Kd_R_log_se},
                   {"Kw_R", &st.Kw_R}, {"Kw_R_log_se", &st.Kw_R_log_se}, {"Koff_R", &st.Koff_R},
                   {"Koff_R_log_se", &st.Koff_R_log_se}, {"warn_ceiling", &warn[0]}, {"warn_tail", &warn[1]},
                   {"beta", &th.beta}, {"K_theory", &th.K_mean}, {"Kd_R_theory", &th.Kd_R},
                   {"exp5beta", &th.exp5beta}, {"dK_scale_theory", &th.dK_scale}};
    CHECK(ntk_npz_open(path_in(out, "ensemble.npz"), &w));
    for (int q = 0; q < NTK_ENS_NQ; q++)
        CHECK(ntk_npz_add(w, ntk_ensemble_q_name((ntk_ensemble_q)q), NTK_F64, 1, shM, smp.q[q]));
    CHECK(ntk_npz_add(w, "K_layers", NTK_F64, 2, shL, smp.layers));
    CHECK(ntk_npz_add(w, "mean", NTK_F64, 1, shQ, st.mean)); /* indexed by ntk_ensemble_q */
    CHECK(ntk_npz_add(w, "se", NTK_F64, 1, shQ, st.se));
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        CHECK(ntk_npz_add(w, scalars[i].name, NTK_F64, 1, sh0, scalars[i].v));
    ntk_npz_writer *wc = w;
    w = NULL;
    CHECK(ntk_npz_close(wc));
    rc = 0;
done:
    if (w) ntk_npz_abort(w);
    ntk_ensemble_samples_clear(&smp);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: experiment OUTDIR\n");
        return 2;
    }
    const char *out = argv[1];
    if (mkdir(out, 0777) != 0 && errno != EEXIST) { /* the directory itself; its parent must exist */
        fprintf(stderr, "experiment: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    int widths[DEPTH];
    for (int l = 0; l < DEPTH; l++) widths[l] = WIDTH;
    ntk_spec spec = ntk_spec_default(); /* relu, NTK parameterization, sw2 2 / sw2_out 1, zero biases */
    spec.depth = DEPTH;
    spec.widths = widths;               /* caller storage: it must outlive every use of spec */
    char msg[256];
    spec.n0 = 2;                        /* the circle; checked here, set from the data below */
    if (ntk_spec_check(&spec, msg, sizeof msg) != NTK_OK) {
        fprintf(stderr, "experiment: invalid model: %s\n", msg);
        return 1;
    }
    printf("ntkdrift %s: results in %s\n", ntk_version(), out);
    if (kernel_at_init(&spec, out) || train_tracked(&spec, out) || ensemble_cell(out)) return 1;
    return 0;
}
