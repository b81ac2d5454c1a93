/* cmd_train.c -- `ntkdrift train`: gradient descent with the NTK tracked at a
 * snapshot schedule, predictions of the dynamics beside the truth, checkpoints,
 * resume, and divergence handling. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "plots.h"
#include "rundir.h"
#include "study.h"
#include "summary.h"
#include "train_data.h"
#include "train_run.h"
#include "train_track.h"

typedef struct {
    cli_config c;
    ntk_spec spec;
    ntk_dataset d;
    char desc[CLI_PATH_MAX + 64];
    ntk_net *net;
    ntk_trainer *tr;
    ntk_feats *ft, *fe;       /* features of the train / eval sets */
    size_t N, M, k, n, m;     /* n = N k, m = M k */
    double c_loss, eta;
    long *snaps;              /* schedule, increasing, contains 0 and T */
    size_t nsnaps;
    double *K, *Ke, *Kraw, *f, *fev, *Kdot;  /* [n x n], [m x n], raw scratch, [n], [m], [n x n] */
    double *theta0;           /* [P] parameters at step 0 (parameter movement) */
    double *Kl;               /* [d x n x n] per-layer kernels (--per-layer), else NULL */
    double *movebuf;          /* [d] */
    double kdot_literal;      /* ||(K(theta_0 - eta grad) - K_0)/eta - Kdot_0|| / ||Kdot_0|| */
    double sec_steps, sec_snaps;
    double loss0, loss_max;   /* loss before the first step, and the largest loss of any step */
    long loss_max_step;
    cli_run run;
    bool run_open;
    bool keep;          /* config.yaml is written: a failure keeps the directory for --resume */
    FILE *csv;
    train_track *track;
} train_ctx;

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* every:K | log:K | t1,t2,...  ->  sorted unique steps in [0, T] including 0 and T. */
static int parse_schedule(const char *s, long T, long **out, size_t *count)
{
    size_t cap = 64, n = 0;
    long *v = malloc(cap * sizeof *v);
    if (!v) return CLI_EXIT_FAIL;
#define PUSH(x)                                                                                                  \
    do {                                                                                                         \
        if (n == cap) {                                                                                          \
            long *nv = realloc(v, (cap *= 2) * sizeof *v);                                                       \
            if (!nv) { free(v); return CLI_EXIT_FAIL; }                                                          \
            v = nv;                                                                                              \
        }                                                                                                        \
        v[n++] = (x);                                                                                            \
    } while (0)
    PUSH(0);
    PUSH(T);
    char *end;
    if (strncmp(s, "every:", 6) == 0 || strncmp(s, "log:", 4) == 0) {
        bool every = s[0] == 'e';
        long K = strtol(s + (every ? 6 : 4), &end, 10);
        if (*end || K < 1) {
            free(v);
            cli_errorf("train.snapshots (--snapshots): expected every:K or log:K with K >= 1, got '%s'", s);
            return CLI_EXIT_USAGE;
        }
        if (every)
            for (long t = K; t < T; t += K) PUSH(t);
        else
            for (long i = 0; i < K && T > 1; i++) PUSH((long)llround(pow((double)T, (double)i / (double)K)));
    } else {
        const char *p = s;
        while (*p) {
            long t = strtol(p, &end, 10);
            if (end == p || t < 0 || t > T || (*end && *end != ',')) {
                free(v);
                cli_errorf("train.snapshots (--snapshots): expected steps in [0, %ld] separated by commas, got '%s'",
                           T, s);
                return CLI_EXIT_USAGE;
            }
            PUSH(t);
            p = *end ? end + 1 : end;
        }
    }
#undef PUSH
    qsort(v, n, sizeof *v, cmp_long);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v[i] != v[u - 1]) v[u++] = v[i];
    *out = v;
    *count = u;
    return 0;
}

static double full_loss(const train_ctx *x, const double *f, const double *y, size_t rows, double c)
{
    double s = 0;
    for (size_t i = 0; i < rows * x->k; i++) s += (f[i] - y[i]) * (f[i] - y[i]);
    return 0.5 * c * s;
}

/* Kernel of the train set (and eval x train) at the current parameters; outputs f, fe. */
static int compute_kernels(train_ctx *x)
{
    ntk_status st = ntk_feats_compute(x->net, x->ft, x->d.X_train);
    if (st == NTK_OK) st = ntk_kernel_full(x->net, x->ft, x->K, x->Kl);
    if (st == NTK_OK) st = ntk_feats_output(x->ft, x->f);
    if (st == NTK_OK && x->M) {
        st = ntk_feats_compute(x->net, x->fe, x->d.X_eval);
        if (st == NTK_OK) st = ntk_kernel_cross(x->net, x->fe, x->ft, x->Ke, NULL);
        if (st == NTK_OK) st = ntk_feats_output(x->fe, x->fev);
    }
    if (st != NTK_OK) {
        cli_errorf("train: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static void snap_name(char *buf, size_t cap, long step) { snprintf(buf, cap, "snapshots/snap_%010ld.npz", step); }

/* ||theta_l - theta_l(0)|| / ||theta_l(0)|| per weight layer (W and b together). */
static void param_movement(train_ctx *x)
{
    int d = ntk_net_num_layers(x->net);
    const double *th = ntk_net_params_const(x->net);
    for (int l = 1; l <= d; l++) {
        ntk_layer ly;
        ntk_net_layer(x->net, l, &ly);
        size_t off = (size_t)(ly.W - ntk_net_params(x->net)), cnt = (size_t)ly.rows * (size_t)ly.cols;
        if (ly.b) cnt += (size_t)ly.rows; /* b follows W in the single allocation */
        double num = 0, den = 0;
        for (size_t i = off; i < off + cnt; i++) {
            num += (th[i] - x->theta0[i]) * (th[i] - x->theta0[i]);
            den += x->theta0[i] * x->theta0[i];
        }
        x->movebuf[l - 1] = den > 0 ? sqrt(num / den) : sqrt(num);
    }
}

/* Write the snapshot file (atomic) holding everything the analysis needs. */
static int write_snapshot(train_ctx *x, long step, double loss, double loss_eval, const double *eigs)
{
    char rel[64], path[CLI_PATH_MAX + 96];
    snap_name(rel, sizeof rel, step);
    cli_run_path(&x->run, rel, path, sizeof path);
    size_t shK[2] = {x->n, x->n}, shKe[2] = {x->m, x->n}, shn[1] = {x->n}, shm[1] = {x->m};
    double meta[3] = {(double)step, loss, loss_eval};
    size_t sh3[1] = {3};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "meta", NTK_NPY_F64, 1, sh3, meta);
    if (st == NTK_OK) st = ntk_npz_add(w, "K", NTK_NPY_F64, 2, shK, x->K);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_train", NTK_NPY_F64, 1, shn, x->f);
    if (st == NTK_OK && eigs) st = ntk_npz_add(w, "eigs", NTK_NPY_F64, 1, shn, eigs);
    if (st == NTK_OK && x->m) st = ntk_npz_add(w, "K_eval", NTK_NPY_F64, 2, shKe, x->Ke);
    if (st == NTK_OK && x->m) st = ntk_npz_add(w, "f_eval", NTK_NPY_F64, 1, shm, x->fev);
    if (st == NTK_OK && step == 0) st = ntk_npz_add(w, "Kdot", NTK_NPY_F64, 2, shK, x->Kdot);
    size_t shd[1] = {(size_t)ntk_net_num_layers(x->net)}, shL[3] = {shd[0], x->n, x->n};
    if (st == NTK_OK && x->Kl) st = ntk_npz_add(w, "K_layers", NTK_NPY_F64, 3, shL, x->Kl);
    if (st == NTK_OK) st = ntk_npz_add(w, "move", NTK_NPY_F64, 1, shd, x->movebuf);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else ntk_npz_abort(w);
    if (st != NTK_OK) {
        cli_errorf("writing %s: %s", rel, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* The parameters as stored (params.npz layout, loadable by kernel / profile / eval --load-params):
 * snapshots/params_<step>.npz, or params.npz at the end (step < 0). */
static int write_params(train_ctx *x, long step)
{
    char rel[64], path[CLI_PATH_MAX + 96];
    if (step >= 0)
        snprintf(rel, sizeof rel, "snapshots/params_%010ld.npz", step);
    else
        snprintf(rel, sizeof rel, "params.npz");
    if (ntk_net_save_params(x->net, cli_run_path(&x->run, rel, path, sizeof path)) != NTK_OK) {
        cli_errorf("writing %s: %s", rel, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    if (step < 0) cli_run_wrote(&x->run, rel);
    return 0;
}

/* data.npz: the training and evaluation sets exactly as trained on (and their angles on the circle). */
static int write_data(train_ctx *x)
{
    char path[CLI_PATH_MAX + 64];
    const ntk_dataset *d = &x->d;
    size_t n0 = (size_t)d->n0, k = (size_t)d->k;
    size_t shX[2] = {d->n_train, n0}, shY[2] = {d->n_train, k}, shXe[2] = {d->n_eval, n0}, shYe[2] = {d->n_eval, k};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(cli_run_path(&x->run, "data.npz", path, sizeof path), &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "X_train", NTK_NPY_F64, 2, shX, d->X_train);
    if (st == NTK_OK) st = ntk_npz_add(w, "y_train", NTK_NPY_F64, 2, shY, d->Y_train);
    if (st == NTK_OK && d->gamma_train) st = ntk_npz_add(w, "gamma_train", NTK_NPY_F64, 1, shX, d->gamma_train);
    if (st == NTK_OK && d->n_eval) {
        st = ntk_npz_add(w, "X_eval", NTK_NPY_F64, 2, shXe, d->X_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "y_eval", NTK_NPY_F64, 2, shYe, d->Y_eval);
        if (st == NTK_OK && d->gamma_eval) st = ntk_npz_add(w, "gamma_eval", NTK_NPY_F64, 1, shXe, d->gamma_eval);
    }
    if (st == NTK_OK) st = ntk_npz_close(w);
    else ntk_npz_abort(w);
    if (st != NTK_OK) {
        cli_errorf("writing data.npz: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(&x->run, "data.npz");
    cli_run_artifact(&x->run, "data.npz", "X_train", "float64", 2, shX, "training inputs");
    cli_run_artifact(&x->run, "data.npz", "y_train", "float64", 2, shY, "training targets (label noise included)");
    if (d->gamma_train)
        cli_run_artifact(&x->run, "data.npz", "gamma_train", "float64", 1, shX, "angles of the training points");
    if (d->n_eval) {
        cli_run_artifact(&x->run, "data.npz", "X_eval", "float64", 2, shXe, "evaluation inputs");
        cli_run_artifact(&x->run, "data.npz", "y_eval", "float64", 2, shYe, "evaluation targets (no label noise)");
        if (d->gamma_eval)
            cli_run_artifact(&x->run, "data.npz", "gamma_eval", "float64", 1, shXe, "angles of the evaluation points");
    }
    return 0;
}

static int take_snapshot(train_ctx *x, long step)
{
    int rc = compute_kernels(x);
    if (rc) return rc;
    double loss = full_loss(x, x->f, x->d.Y_train, x->N, x->c_loss);
    double loss_eval = x->M ? full_loss(x, x->fev, x->d.Y_eval, x->M, ntk_loss_factor(x->c.loss, x->M)) : NAN;
    param_movement(x);
    snap_view sv = {step, loss, loss_eval, x->K, x->m ? x->Ke : NULL, x->f, x->m ? x->fev : NULL,
                    step == 0 ? x->Kdot : NULL, x->movebuf, x->Kl};
    if ((rc = track_add(x->track, &sv))) return rc;
    if ((rc = write_snapshot(x, step, loss, loss_eval, track_last_eigs(x->track)))) return rc;
    return x->c.save_params ? write_params(x, step) : 0;
}

static int write_checkpoint(train_ctx *x, long step)
{
    char path[CLI_PATH_MAX + 64];
    ntk_checkpoint_info info = {step, x->loss0, x->loss_max, x->loss_max_step};
    if (ntk_checkpoint_save(cli_run_path(&x->run, "checkpoint.npz", path, sizeof path), x->net, x->tr, &info) !=
        NTK_OK) {
        cli_errorf("writing checkpoint: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(&x->run, "checkpoint.npz");
    return 0;
}

/* One member of a snapshot file being replayed, with exactly count values. */
static int read_snap_member(const char *path, const char *name, size_t count, double *dst)
{
    ntk_status st = ntk_npz_read_into(path, name, count, dst);
    if (st == NTK_OK) return 0;
    cli_errorf("resume: %s", ntk_last_error());
    return st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
}

/* Resume: parameters and optimizer state from the checkpoint (ntk_checkpoint_load), then the
 * analysis rebuilt by replaying every snapshot up to it.  *start: the step to continue from, or -1
 * when the run stopped before its first checkpoint (it starts over). */
static int resume_state(train_ctx *x, long *start)
{
    char path[CLI_PATH_MAX + 96];
    cli_run_path(&x->run, "checkpoint.npz", path, sizeof path);
    if (access(path, F_OK) != 0 && errno == ENOENT) { /* stopped before its first checkpoint: start over */
        *start = -1;
        return 0;
    }
    ntk_checkpoint_info info;
    ntk_status st = ntk_checkpoint_load(path, x->net, x->tr, x->c.steps, &info);
    if (st != NTK_OK) {
        cli_errorf("resume: %s", ntk_last_error());
        return st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    x->loss0 = info.loss0;
    x->loss_max = info.loss_max;
    x->loss_max_step = info.loss_max_step;
    *start = info.step;
    int rc = 0;
    double meta[3];
    for (size_t j = 0; !rc && j < x->nsnaps && x->snaps[j] <= *start; j++) {
        char rel[64];
        snap_name(rel, sizeof rel, x->snaps[j]);
        cli_run_path(&x->run, rel, path, sizeof path);
        rc = read_snap_member(path, "meta", 3, meta);
        if (!rc) rc = read_snap_member(path, "K", x->n * x->n, x->K);
        if (!rc) rc = read_snap_member(path, "f_train", x->n, x->f);
        if (!rc && x->m) rc = read_snap_member(path, "K_eval", x->m * x->n, x->Ke);
        if (!rc && x->m) rc = read_snap_member(path, "f_eval", x->m, x->fev);
        if (!rc && j == 0) rc = read_snap_member(path, "Kdot", x->n * x->n, x->Kdot);
        if (!rc) rc = read_snap_member(path, "move", (size_t)ntk_net_num_layers(x->net), x->movebuf);
        if (!rc && x->Kl)
            rc = read_snap_member(path, "K_layers", (size_t)ntk_net_num_layers(x->net) * x->n * x->n, x->Kl);
        if (rc) break;
        snap_view sv = {x->snaps[j], meta[1], meta[2], x->K, x->m ? x->Ke : NULL, x->f, x->m ? x->fev : NULL,
                        j == 0 ? x->Kdot : NULL, x->movebuf, x->Kl};
        rc = track_add(x->track, &sv);
    }
    return rc;
}

/* The literal one-step change (K(theta_0 - eta grad L) - K_0) / eta against the pathwise Kdot_0:
 * for relu it also counts units whose sign flips in the step.  Parameters are restored. */
static int literal_step(train_ctx *x)
{
    size_t P = ntk_net_num_params(x->net), nn = x->n * x->n;
    double *g = malloc(P * sizeof *g), *K0 = malloc(nn * sizeof *K0), L;
    int rc = 0;
    if (!g || !K0 || ntk_net_loss_grad(x->net, x->N, x->d.X_train, x->d.Y_train, x->c.loss, &L, g) != NTK_OK) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    memcpy(K0, x->K, nn * sizeof *K0);
    double *th = ntk_net_params(x->net);
    for (size_t i = 0; i < P; i++) th[i] = x->theta0[i] - x->eta * g[i];
    ntk_net_params_changed(x->net);
    if ((rc = compute_kernels(x))) goto out;
    double num = 0, den = 0;
    for (size_t i = 0; i < nn; i++) {
        double e = (x->K[i] - K0[i]) / x->eta - x->Kdot[i];
        num += e * e;
        den += x->Kdot[i] * x->Kdot[i];
    }
    x->kdot_literal = den > 0 ? sqrt(num / den) : 0;
    memcpy(th, x->theta0, P * sizeof *th);
    ntk_net_params_changed(x->net);
    memcpy(x->K, K0, nn * sizeof *K0);
out:
    free(g);
    free(K0);
    if (rc) cli_errorf("train: one-step kernel change: %s", ntk_last_error());
    return rc;
}

/* Learning rate: absolute, or lr_frac * 2 / lambda_max(c K_0). Also Kdot_0. */
static int initial_kernel(train_ctx *x)
{
    int rc = compute_kernels(x);
    if (rc) return rc;
    double lmax = 0;
    double *w = malloc(x->n * sizeof *w);
    if (!w || ntk_eigh(x->n, x->K, w, NULL) != NTK_OK) {
        free(w);
        cli_errorf("train: eigenvalues of K_0: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    lmax = w[0];
    free(w);
    x->eta = x->c.lr_frac > 0 ? x->c.lr_frac * 2.0 / (x->c_loss * lmax) : x->c.lr;
    if (ntk_kernel_velocity(x->net, x->N, x->d.X_train, x->d.Y_train, x->c.loss, x->Kdot) != NTK_OK) {
        cli_errorf("train: kernel velocity: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return literal_step(x);
}

void train_config_defaults(cli_config *c, const char *command)
{
    cli_config_defaults(c, command);
    c->n = 64;
    snprintf(c->data, sizeof c->data, "circle");
}

/* Peak estimate of a training run (float64), with n = N k and m = M k: about 18 n x n matrices
 * alive at the peak (K, Kdot and their previous copies, the tracker's eigenvectors and workspace,
 * the linearized predictor's eigenbasis, the two Gram buffers of a kernel computation), the
 * per-layer terms and their initial copies, 6 m x n blocks (eval kernels), activations and deltas of
 * both batches, the parameters with optimizer state, and 64 MB for the process itself.  Measured
 * peaks (depth 2, width 64): N = 1000 0.15 GB, N = 2000 0.55 GB; this gives 0.21 and 0.65 GB. */
typedef struct {
    const ntk_spec *spec;
    size_t M;
    bool per_layer;
} train_bytes_ctx;

static double train_run_bytes(size_t N, void *ctx)
{
    const train_bytes_ctx *t = ctx;
    double k = t->spec->outputs, n = (double)N * k, m = (double)t->M * k, d = t->spec->depth + 1.0;
    double P = 0, prev = t->spec->n0;
    for (int l = 0; l <= t->spec->depth; l++) {
        double w = l < t->spec->depth ? t->spec->widths[l] : k;
        P += (prev + 1) * w;
        prev = w;
    }
    double mats = 18 * n * n + (t->per_layer ? 2 * d * n * n : 0) + 6 * m * n + 4 * P;
    return 8 * mats + (double)ntk_feats_bytes(t->spec, N, NTK_F64) +
           (t->M ? (double)ntk_feats_bytes(t->spec, t->M, NTK_F64) : 0) + 64e6;
}

int train_check_memory(const cli_config *c, const ntk_spec *spec, size_t N, size_t M)
{
    train_bytes_ctx t = {spec, M, c->per_layer};
    return cli_check_memory(c, N, train_run_bytes, &t,
                            "about 18 (N k)^2 doubles of kernels, eigenvectors and workspaces, per-layer terms, "
                            "eval kernels, activations, parameters");
}

/* Everything before the first step, from a parsed configuration (x->c). */
static int setup(train_ctx *x)
{
    cli_config *c = &x->c;
    int rc;
    if (c->resume[0] && (rc = cli_config_reload(c, "train"))) return rc;
    if (c->dtype != NTK_F64 || c->load_params[0]) {
        cli_errorf("train: --dtype f32 and --load-params do not apply (training is float64 from a seeded init)");
        return CLI_EXIT_USAGE;
    }
    if ((rc = cli_train_data(c, &x->d, x->desc, sizeof x->desc))) return rc;
    if ((rc = cli_config_spec(c, &x->spec))) return rc;
    if ((rc = parse_schedule(c->snapshots, c->steps, &x->snaps, &x->nsnaps))) return rc;
    ntk_set_threads(c->threads);
    x->N = x->d.n_train;
    x->M = x->d.n_eval;
    x->k = (size_t)x->spec.outputs;
    x->n = x->N * x->k;
    x->m = x->M * x->k;
    x->c_loss = ntk_loss_factor(c->loss, x->N);
    if ((rc = train_check_memory(c, &x->spec, x->N, x->M))) return rc;
    x->K = malloc(x->n * x->n * sizeof(double));
    x->Kdot = malloc(x->n * x->n * sizeof(double));
    x->f = malloc(x->n * sizeof(double));
    x->Ke = x->m ? malloc(x->m * x->n * sizeof(double)) : NULL;
    size_t dlay = (size_t)x->spec.depth + 1;
    x->Kl = c->per_layer ? malloc(dlay * x->n * x->n * sizeof(double)) : NULL;
    x->fev = x->m ? malloc(x->m * sizeof(double)) : NULL;
    if (!x->K || !x->Kdot || !x->f || (x->m && (!x->Ke || !x->fev)) || (c->per_layer && !x->Kl)) {
        cli_errorf("out of memory for N = %zu", x->N);
        return CLI_EXIT_FAIL;
    }
    if (ntk_net_alloc(&x->spec, &x->net) != NTK_OK || ntk_net_init(x->net, c->seed) != NTK_OK ||
        ntk_feats_alloc(x->net, x->N, NTK_F64, &x->ft) != NTK_OK ||
        (x->M && ntk_feats_alloc(x->net, x->M, NTK_F64, &x->fe) != NTK_OK)) {
        cli_errorf("train: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    size_t P = ntk_net_num_params(x->net);
    x->theta0 = malloc(P * sizeof *x->theta0);
    x->movebuf = calloc((size_t)ntk_net_num_layers(x->net), sizeof *x->movebuf);
    if (!x->theta0 || !x->movebuf) {
        cli_errorf("out of memory");
        return CLI_EXIT_FAIL;
    }
    memcpy(x->theta0, ntk_net_params_const(x->net), P * sizeof *x->theta0);
    if ((rc = initial_kernel(x))) return rc;
    ntk_train_opts o = ntk_train_defaults();
    o.opt = c->opt;
    o.loss = c->loss;
    o.lr = x->eta;
    o.batch = (size_t)c->batch;
    o.momentum = c->momentum;
    o.seed = c->seed;
    if (ntk_trainer_alloc(x->net, x->N, x->d.X_train, x->d.Y_train, &o, &x->tr) != NTK_OK) {
        cli_errorf("train: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int open_run(train_ctx *x)
{
    char path[CLI_PATH_MAX + 64];
    int rc;
    if (x->c.resume[0]) {
        rc = cli_run_open_existing(&x->run, x->c.resume, "train");
    } else {
        rc = cli_run_create(&x->run, &x->c, "train");
        x->run_open = true;
        if (!rc) rc = cli_run_write_config(&x->run, &x->c);
        x->keep = rc == 0;
    }
    if (rc) return rc;
    x->run_open = true;
    if (ntk_mkdir_p(cli_run_path(&x->run, "snapshots", path, sizeof path)) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    x->csv = fopen(cli_run_path(&x->run, "metrics.csv", path, sizeof path), "w");
    if (!x->csv) {
        cli_errorf("cannot write %s: %s", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(&x->run, "metrics.csv");
    return track_alloc(x->n, x->m, ntk_net_num_layers(x->net), x->Kl != NULL, x->d.Y_train, x->d.Y_eval, x->eta,
                       x->c_loss, &x->c, x->csv, x->nsnaps, &x->track);
}

/* trajectory.npz, the figures (unless quiet), then the manifest: the run is complete. */
static int finish(train_ctx *x, int argc, char **argv, long diverged_at, int quiet)
{
    char path[CLI_PATH_MAX + 64];
    int rc = track_write_trajectory(x->track, cli_run_path(&x->run, "trajectory.npz", path, sizeof path));
    if (rc) return rc;
    if ((rc = write_params(x, -1)) || (rc = write_data(x))) return rc;
    cli_run_wrote(&x->run, "trajectory.npz");
    size_t S = x->nsnaps, sh1[1] = {S}, shn[2] = {S, x->n};
    cli_run_artifact(&x->run, "metrics.csv", NULL, NULL, 1, sh1, "one row per snapshot (docs/train.md)");
    cli_run_artifact(&x->run, "trajectory.npz", "steps", "float64", 1, sh1, "snapshot steps");
    cli_run_artifact(&x->run, "trajectory.npz", "f_train", "float64", 2, shn, "network outputs on the train set");
    cli_run_artifact(&x->run, "trajectory.npz", "f_lin", "float64", 2, shn, "frozen-K_0 (linearized) prediction");
    cli_run_artifact(&x->run, "trajectory.npz", "f_pert", "float64", 2, shn, "linearized + first-order in Delta K");
    cli_run_artifact(&x->run, "trajectory.npz", "f_pw", "float64", 2, shn, "piecewise-frozen K_t prediction");
    cli_run_artifact(&x->run, "snapshots/", NULL, NULL, 1, sh1,
                     "snap_<step>.npz: meta (step, loss, eval loss), K, f_train, eigs, K_eval, f_eval, Kdot (step 0)");
    cli_run_artifact(&x->run, "checkpoint.npz", NULL, NULL, 0, NULL, "theta, optimizer state and step of the last checkpoint");
    cli_run_artifact(&x->run, "params.npz", NULL, NULL, 0, NULL,
                     "W1.. W{L+1}, b1.. b{L+1} at the end of the run, as stored (kernel / profile / eval --load-params)");
    if (x->c.save_params)
        cli_run_artifact(&x->run, "snapshots/", NULL, NULL, 1, sh1, "params_<step>.npz: the parameters at each snapshot");
    cJSON *extra = cJSON_CreateObject();
    cJSON *dj = cJSON_AddObjectToObject(extra, "data");
    cJSON_AddStringToObject(dj, "source", x->desc);
    cJSON_AddNumberToObject(dj, "N", (double)x->N);
    cJSON_AddNumberToObject(dj, "n_eval", (double)x->M);
    cJSON_AddNumberToObject(dj, "data_seed", (double)x->c.data_seed);
    cJSON_AddNumberToObject(dj, "noise", x->c.noise);
    cJSON_AddNumberToObject(dj, "noise_seed", (double)x->c.noise_seed);
    cJSON *tj = cJSON_AddObjectToObject(extra, "train");
    cJSON_AddStringToObject(tj, "opt", ntk_opt_name(x->c.opt));
    cJSON_AddStringToObject(tj, "loss", ntk_loss_name(x->c.loss));
    cJSON_AddNumberToObject(tj, "c", x->c_loss);
    cJSON_AddNumberToObject(tj, "eta", x->eta);
    cJSON_AddNumberToObject(tj, "steps", (double)x->c.steps);
    cJSON_AddStringToObject(tj, "time_units", "t = eta * step (column t of metrics.csv)");
    cJSON_AddNumberToObject(tj, "kdot_literal_vs_pathwise", x->kdot_literal);
    cJSON_AddNumberToObject(tj, "initial_loss", x->loss0);
    cJSON_AddNumberToObject(tj, "max_loss", x->loss_max);
    cJSON_AddNumberToObject(tj, "max_loss_step", (double)x->loss_max_step);
    cJSON_AddNumberToObject(tj, "seconds_steps", x->sec_steps);
    cJSON_AddNumberToObject(tj, "seconds_snapshots", x->sec_snaps);
    if (diverged_at >= 0) {
        cJSON_AddStringToObject(tj, "outcome", "diverged");
        cJSON_AddNumberToObject(tj, "diverged_at_step", (double)diverged_at);
    } else
        cJSON_AddStringToObject(tj, "outcome", "completed");
    track_summary(x->track, tj);
    if (!quiet) plot_before_manifest(x->run.dir, "train");
    rc = cli_run_finish(&x->run, &x->c, &x->spec, extra, argc, argv);
    if (!rc) x->run_open = false;
    return rc;
}

int train_execute(const cli_config *cfg, int argc, char **argv, int quiet)
{
    train_ctx x;
    memset(&x, 0, sizeof x);
    x.loss0 = x.loss_max = NAN;
    x.c = *cfg; /* takes over the owned lists; the caller must not free cfg */
    int rc = setup(&x);
    if (rc >= 0) goto done;
    if ((rc = open_run(&x))) goto done;
    long start = 0, diverged = -1;
    size_t j = 0;
    if (x.c.resume[0]) {
        if ((rc = resume_state(&x, &start))) goto done;
        if (start < 0)
            start = 0; /* no checkpoint yet: from the beginning, snapshot 0 included */
        else
            while (j < x.nsnaps && x.snaps[j] <= start) j++;
    }
    long last_ckpt = start;
    double t0 = cli_now(), last_print = t0, loss0 = start > 0 ? x.loss0 : NAN, loss = NAN;
    for (long t = start;; t++) {
        if (j < x.nsnaps && x.snaps[j] == t) {
            double ts = cli_now();
            if ((rc = take_snapshot(&x, t))) goto done;
            x.sec_snaps += cli_now() - ts;
            j++;
            if (t == 0 || x.c.checkpoint_every == 0 || t - last_ckpt >= x.c.checkpoint_every) {
                if ((rc = write_checkpoint(&x, t))) goto done;
                last_ckpt = t;
            }
        }
        if (t >= x.c.steps) break;
        double tstep = cli_now();
        ntk_status st = ntk_trainer_step(x.tr, &loss);
        x.sec_steps += cli_now() - tstep;
        if (isnan(loss0)) loss0 = x.loss0 = x.loss_max = loss;
        if (loss > x.loss_max) x.loss_max = loss, x.loss_max_step = t;
        if (st != NTK_OK || !isfinite(loss) || loss > x.c.blowup * loss0) {
            diverged = t;
            fprintf(stderr, "ntkdrift: train: diverged at step %ld (loss %g, initial %g)\n", t, loss, loss0);
            break;
        }
        double now = cli_now();
        if (!quiet && now - last_print > 2.0) {
            double eta_s = (now - t0) / (double)(t + 1 - start) * (double)(x.c.steps - t - 1);
            fprintf(stderr, "train: step %ld/%ld loss %.4g, ETA %.0f s\n", t + 1, x.c.steps, loss, eta_s);
            last_print = now;
        }
    }
    if ((rc = study_log_close(&x.csv, "metrics.csv"))) goto done;
    if ((rc = finish(&x, argc, argv, diverged, quiet))) goto done;
    if (!quiet)
        printf("ntkdrift train: %zu points, %ld steps, eta %.4g (%s loss, %s)%s\n  run directory: %s\n", x.N,
           x.c.steps, x.eta, ntk_loss_name(x.c.loss), ntk_opt_name(x.c.opt),
           diverged >= 0 ? ", DIVERGED" : "", x.run.dir);
    rc = diverged >= 0 ? CLI_EXIT_DIVERGED : 0;
done:
    if (x.csv) fclose(x.csv);
    if (x.run_open && rc && rc != CLI_EXIT_DIVERGED) {
        if (x.keep || x.c.resume[0]) {
            /* a run that failed after it started (a full disk, an I/O error) keeps what it finished */
            if (!quiet && rc == CLI_EXIT_FAIL)
                fprintf(stderr, "ntkdrift: the incomplete run is kept; continue it with --resume %s\n", x.run.dir);
            cli_run_release(&x.run);
        } else {
            cli_run_abort(&x.run);
        }
    }
    track_free(x.track);
    ntk_trainer_free(x.tr);
    ntk_feats_free(x.ft);
    ntk_feats_free(x.fe);
    ntk_net_free(x.net);
    ntk_dataset_clear(&x.d);
    free(x.snaps);
    free(x.K);
    free(x.Ke);
    free(x.f);
    free(x.fev);
    free(x.Kdot);
    free(x.theta0);
    free(x.Kl);
    free(x.movebuf);
    cli_config_free(&x.c);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    cli_config c;
    train_config_defaults(&c, "train");
    int rc = cli_config_parse_args(&c, argc, argv, "train");
    if (rc >= 0) {
        cli_config_free(&c);
        return rc;
    }
    return train_execute(&c, argc, argv, 0);
}
