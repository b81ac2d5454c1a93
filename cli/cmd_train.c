/* cmd_train.c -- `ntkdrift train`: the configuration into ntk_train_run (the library trains and
 * analyses), and the run directory: an observer writes snap_<step>.npz, params_<step>.npz and the
 * metrics.csv rows, a replay callback reads the snapshots back on --resume, and the end writes
 * trajectory.npz, params.npz, data.npz and the manifest. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "plots.h"
#include "rundir.h"
#include "study.h"
#include "summary.h"
#include "train_data.h"
#include "train_run.h"

typedef struct {
    cli_config c;
    ntk_spec spec;
    ntk_dataset d;
    char desc[CLI_PATH_MAX + 64];
    char ckpt[CLI_PATH_MAX + 64];
    ntk_train_schedule sched;
    ntk_train_run_opts o;
    ntk_train_result res;
    cli_run run;
    bool run_open;
    bool keep;          /* config.yaml is written: a failure keeps the directory for --resume */
    bool delivered;     /* a new snapshot reached the observer */
    bool engine_failed; /* ntk_train_run failed */
    FILE *csv;
    int cb_rc;          /* exit status of a failed callback, whose message is printed */
    long start;         /* progress: the step the loop started from, -1 before the first */
    double t0, last_print;
} train_ctx;

static ntk_status cb_fail(train_ctx *x, int rc)
{
    x->cb_rc = rc;
    return NTK_EIO;
}

static void snap_name(char *buf, size_t cap, long step) { snprintf(buf, cap, "snapshots/snap_%010ld.npz", step); }

/* The snapshot file (atomic): everything the analysis needs to be replayed. */
static int write_snapshot(train_ctx *x, const ntk_train_snapshot *s)
{
    char rel[64], path[CLI_PATH_MAX + 96];
    snap_name(rel, sizeof rel, s->step);
    cli_run_path(&x->run, rel, path, sizeof path);
    size_t shK[2] = {s->n, s->n}, shKe[2] = {s->m, s->n}, shn[1] = {s->n}, shm[1] = {s->m};
    double meta[3] = {(double)s->step, s->loss, s->loss_eval};
    size_t sh3[1] = {3}, shd[1] = {(size_t)s->d}, shL[3] = {(size_t)s->d, s->n, s->n};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "meta", NTK_NPY_F64, 1, sh3, meta);
    if (st == NTK_OK) st = ntk_npz_add(w, "K", NTK_NPY_F64, 2, shK, s->K);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_train", NTK_NPY_F64, 1, shn, s->f);
    if (st == NTK_OK && s->eigs) st = ntk_npz_add(w, "eigs", NTK_NPY_F64, 1, shn, s->eigs);
    if (st == NTK_OK && s->m) st = ntk_npz_add(w, "K_eval", NTK_NPY_F64, 2, shKe, s->K_eval);
    if (st == NTK_OK && s->m) st = ntk_npz_add(w, "f_eval", NTK_NPY_F64, 1, shm, s->f_eval);
    if (st == NTK_OK && s->Kdot) st = ntk_npz_add(w, "Kdot", NTK_NPY_F64, 2, shK, s->Kdot);
    if (st == NTK_OK && s->K_layers) st = ntk_npz_add(w, "K_layers", NTK_NPY_F64, 3, shL, s->K_layers);
    if (st == NTK_OK) st = ntk_npz_add(w, "move", NTK_NPY_F64, 1, shd, s->move);
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
static int write_params(train_ctx *x, const ntk_net *net, long step)
{
    char rel[64], path[CLI_PATH_MAX + 96];
    if (step >= 0)
        snprintf(rel, sizeof rel, "snapshots/params_%010ld.npz", step);
    else
        snprintf(rel, sizeof rel, "params.npz");
    if (ntk_net_save_params(net, cli_run_path(&x->run, rel, path, sizeof path)) != NTK_OK) {
        cli_errorf("writing %s: %s", rel, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    if (step < 0) cli_run_wrote(&x->run, rel);
    return 0;
}

static void metrics_header(train_ctx *x)
{
    int d = x->spec.depth + 1;
    fprintf(x->csv, "step,t,loss,loss_eval,drift_fro,drift_op,kernel_distance,velocity,alignment,lambda_max,"
                    "lambda_min,eig_drift_max,angle_max,projector_dist,active_modes,lin_err,pert_err,pw_err,kdot_err,"
                    "krr_vs_net,krr_eval_err,rkhs_ridge,rkhs_norm_y,rkhs_norm_f,eff_dim,energy_y_topk,"
                    "energy_res_topk,cond");
    for (int l = 1; l <= d; l++) fprintf(x->csv, ",move_l%d", l);
    for (int l = 1; x->c.per_layer && l <= d; l++) fprintf(x->csv, ",drift_l%d", l);
    fprintf(x->csv, "\n");
}

/* The observer: the metrics.csv row, then (unless replayed) the snapshot and parameter files. */
static ntk_status on_snapshot(void *user, const ntk_train_snapshot *s)
{
    train_ctx *x = user;
    if (!s->replayed) x->delivered = true;
    if (s->rkhs_error) fprintf(stderr, "ntkdrift: note: RKHS diagnostics at step %ld: %s\n", s->step, s->rkhs_error);
    const ntk_train_metrics *r = &s->mt;
    fprintf(x->csv, "%ld,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%.10g,%.10g,"
                    "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g",
            s->step, s->t, s->loss, s->loss_eval, r->drift_fro, r->drift_op, r->kernel_distance, r->velocity,
            r->alignment, r->lambda_max, r->lambda_min, r->eig_drift_max, r->angle_max, r->projector_dist,
            r->active_modes, r->lin_err, r->pert_err, r->pw_err, r->kdot_err, r->krr_vs_net, r->krr_eval_err,
            r->rkhs_ridge, r->rkhs_norm_y, r->rkhs_norm_f, r->eff_dim, r->energy_y_topk, r->energy_res_topk, r->cond);
    for (int l = 0; l < s->d; l++) fprintf(x->csv, ",%.10g", s->move[l]);
    for (int l = 0; s->drift_layers && l < s->d; l++) fprintf(x->csv, ",%.10g", s->drift_layers[l]);
    fprintf(x->csv, "\n");
    int rc = study_log_flush(x->csv, "metrics.csv");
    if (!rc && !s->replayed) rc = write_snapshot(x, s);
    if (!rc && !s->replayed && x->c.save_params) rc = write_params(x, s->net, s->step);
    return rc ? cb_fail(x, rc) : NTK_OK;
}

/* --resume: one snapshot file back into the engine's buffers, each member with exactly its count. */
static ntk_status on_replay(void *user, ntk_train_replay *r)
{
    train_ctx *x = user;
    char rel[64], path[CLI_PATH_MAX + 96];
    snap_name(rel, sizeof rel, r->step);
    cli_run_path(&x->run, rel, path, sizeof path);
    double meta[3];
    size_t d = (size_t)r->d;
    ntk_status st = ntk_npz_read_into(path, "meta", 3, meta);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "K", r->n * r->n, r->K);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "f_train", r->n, r->f);
    if (st == NTK_OK && r->m) st = ntk_npz_read_into(path, "K_eval", r->m * r->n, r->K_eval);
    if (st == NTK_OK && r->m) st = ntk_npz_read_into(path, "f_eval", r->m, r->f_eval);
    if (st == NTK_OK && r->Kdot) st = ntk_npz_read_into(path, "Kdot", r->n * r->n, r->Kdot);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "move", d, r->move);
    if (st == NTK_OK && r->K_layers) st = ntk_npz_read_into(path, "K_layers", d * r->n * r->n, r->K_layers);
    if (st != NTK_OK) {
        cli_errorf("resume: %s", ntk_last_error());
        return cb_fail(x, st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE);
    }
    r->loss = meta[1];
    r->loss_eval = meta[2];
    return NTK_OK;
}

/* The "step ... ETA" line on stderr every 2 s. */
static void on_progress(void *user, long step, double loss)
{
    train_ctx *x = user;
    if (x->start < 0) x->start = step - 1;
    double now = cli_now();
    if (now - x->last_print > 2.0) {
        double eta_s = (now - x->t0) / (double)(step - x->start) * (double)(x->c.steps - step);
        fprintf(stderr, "train: step %ld/%ld loss %.4g, ETA %.0f s\n", step, x->c.steps, loss, eta_s);
        x->last_print = now;
    }
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

/* trajectory.npz: steps, losses, f_train / f_lin / f_pert / f_pw and their eval counterparts. */
static int write_trajectory(train_ctx *x)
{
    const ntk_train_result *t = &x->res;
    char path[CLI_PATH_MAX + 64];
    size_t sh1[1] = {t->S}, shn[2] = {t->S, t->n}, shm[2] = {t->S, t->m};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(cli_run_path(&x->run, "trajectory.npz", path, sizeof path), &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "steps", NTK_NPY_F64, 1, sh1, t->steps);
    if (st == NTK_OK) st = ntk_npz_add(w, "loss", NTK_NPY_F64, 1, sh1, t->loss);
    if (st == NTK_OK) st = ntk_npz_add(w, "drift_fro", NTK_NPY_F64, 1, sh1, t->drift_fro);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_train", NTK_NPY_F64, 2, shn, t->f_train);
    if (st == NTK_OK) st = ntk_npz_add(w, "y_train", NTK_NPY_F64, 1, shn + 1, t->y_train);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_lin", NTK_NPY_F64, 2, shn, t->f_lin);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_pert", NTK_NPY_F64, 2, shn, t->f_pert);
    if (st == NTK_OK) st = ntk_npz_add(w, "f_pw", NTK_NPY_F64, 2, shn, t->f_pw);
    if (st == NTK_OK && t->m) {
        st = ntk_npz_add(w, "loss_eval", NTK_NPY_F64, 1, sh1, t->loss_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_eval", NTK_NPY_F64, 2, shm, t->f_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_lin_eval", NTK_NPY_F64, 2, shm, t->f_lin_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_pert_eval", NTK_NPY_F64, 2, shm, t->f_pert_eval);
        if (st == NTK_OK) st = ntk_npz_add(w, "f_pw_eval", NTK_NPY_F64, 2, shm, t->f_pw_eval);
    }
    if (st == NTK_OK) return ntk_npz_close(w) == NTK_OK ? 0 : (cli_errorf("%s", ntk_last_error()), CLI_EXIT_FAIL);
    ntk_npz_abort(w);
    cli_errorf("writing trajectory: %s", ntk_last_error());
    return CLI_EXIT_FAIL;
}

void train_config_defaults(cli_config *c, const char *command)
{
    cli_config_defaults(c, command);
    c->n = 64;
    snprintf(c->data, sizeof c->data, "circle");
}

typedef struct {
    const ntk_spec *spec;
    size_t M;
    bool per_layer;
} train_bytes_ctx;

static double train_run_bytes(size_t N, void *ctx)
{
    const train_bytes_ctx *t = ctx;
    return ntk_train_run_bytes(t->spec, N, t->M, t->per_layer);
}

int train_check_memory(const cli_config *c, const ntk_spec *spec, size_t N, size_t M)
{
    train_bytes_ctx t = {spec, M, c->per_layer};
    return cli_check_memory(c, N, train_run_bytes, &t,
                            "about 18 (N k)^2 doubles of kernels, eigenvectors and workspaces, per-layer terms, "
                            "eval kernels, activations, parameters");
}

/* The configuration (x->c) into the engine's options, checked before anything is written. */
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
    ntk_status st = ntk_train_schedule_parse(c->snapshots, c->steps, &x->sched);
    if (st != NTK_OK) {
        cli_errorf("train.snapshots (--snapshots): %s", ntk_last_error());
        return st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    ntk_set_threads(c->threads);
    if ((rc = train_check_memory(c, &x->spec, x->d.n_train, x->d.n_eval))) return rc;
    ntk_train_run_opts *o = &x->o;
    *o = ntk_train_run_defaults();
    o->spec = x->spec;
    o->seed = c->seed;
    o->loss = c->loss;
    o->opt = c->opt;
    o->lr = c->lr;
    o->lr_frac = c->lr_frac;
    o->steps = c->steps;
    o->batch = (size_t)c->batch;
    o->momentum = c->momentum;
    o->snapshots = x->sched.steps;
    o->n_snapshots = x->sched.count;
    o->per_layer = c->per_layer;
    o->top_k = c->top_k;
    o->ridge = c->ridge;
    o->flow = c->flow;
    o->blowup = c->blowup;
    o->freeze_eps = c->freeze_eps;
    o->freeze_k = c->freeze_k;
    o->freeze_delta = c->freeze_delta;
    o->checkpoint_every = c->checkpoint_every;
    o->replay = on_replay;
    o->threads = c->threads;
    if (ntk_train_run_check(o, &x->d) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    return 0;
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
    x->o.checkpoint = cli_run_path(&x->run, "checkpoint.npz", x->ckpt, sizeof x->ckpt);
    x->o.resume = x->c.resume[0] != 0;
    metrics_header(x);
    return study_log_flush(x->csv, "metrics.csv") ? CLI_EXIT_FAIL : 0;
}

/* trajectory.npz, the figures (unless quiet), then the manifest: the run is complete. */
static int finish(train_ctx *x, int argc, char **argv, int quiet)
{
    const ntk_train_result *r = &x->res;
    int rc = write_trajectory(x);
    if (rc) return rc;
    if ((rc = write_params(x, r->net, -1)) || (rc = write_data(x))) return rc;
    cli_run_wrote(&x->run, "trajectory.npz");
    size_t S = x->sched.count, sh1[1] = {S}, shn[2] = {S, r->n}; /* the schedule's count, also when diverged */
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
    cJSON_AddNumberToObject(dj, "N", (double)x->d.n_train);
    cJSON_AddNumberToObject(dj, "n_eval", (double)x->d.n_eval);
    cJSON_AddNumberToObject(dj, "data_seed", (double)x->c.data_seed);
    cJSON_AddNumberToObject(dj, "noise", x->c.noise);
    cJSON_AddNumberToObject(dj, "noise_seed", (double)x->c.noise_seed);
    cJSON *tj = cJSON_AddObjectToObject(extra, "train");
    cJSON_AddStringToObject(tj, "opt", ntk_opt_name(x->c.opt));
    cJSON_AddStringToObject(tj, "loss", ntk_loss_name(x->c.loss));
    cJSON_AddNumberToObject(tj, "c", r->c);
    cJSON_AddNumberToObject(tj, "eta", r->eta);
    cJSON_AddNumberToObject(tj, "steps", (double)x->c.steps);
    cJSON_AddStringToObject(tj, "time_units", "t = eta * step (column t of metrics.csv)");
    cJSON_AddNumberToObject(tj, "kdot_literal_vs_pathwise", r->kdot_literal);
    cJSON_AddNumberToObject(tj, "initial_loss", r->loss0);
    cJSON_AddNumberToObject(tj, "max_loss", r->loss_max);
    cJSON_AddNumberToObject(tj, "max_loss_step", (double)r->loss_max_step);
    cJSON_AddNumberToObject(tj, "seconds_steps", r->seconds_steps);
    cJSON_AddNumberToObject(tj, "seconds_snapshots", r->seconds_snapshots);
    if (r->diverged_at >= 0) {
        cJSON_AddStringToObject(tj, "outcome", "diverged");
        cJSON_AddNumberToObject(tj, "diverged_at_step", (double)r->diverged_at);
    } else
        cJSON_AddStringToObject(tj, "outcome", "completed");
    cJSON_AddNumberToObject(tj, "snapshots", (double)r->S);
    if (isfinite(r->freeze_step))
        cJSON_AddNumberToObject(tj, "freeze_step", r->freeze_step);
    else
        cJSON_AddNullToObject(tj, "freeze_step");
    cJSON *fj = cJSON_AddObjectToObject(tj, "freeze");
    cJSON_AddNumberToObject(fj, "eps", x->c.freeze_eps);
    cJSON_AddNumberToObject(fj, "k", x->c.freeze_k);
    cJSON_AddNumberToObject(fj, "delta", x->c.freeze_delta);
    cJSON_AddStringToObject(fj, "definition",
                            "s(t_j) = (drift_fro(t_j) - drift_fro(t_{j-delta})) / (step_j - step_{j-delta}); freeze_step "
                            "= the first snapshot step t_j with |s| < eps |s(t_delta)| at j and the k-1 snapshots after "
                            "it (the end of the first small interval); null if never");
    if (r->S) cJSON_AddNumberToObject(tj, "final_drift_fro", r->drift_fro[r->S - 1]);
    cJSON *lj = cJSON_AddObjectToObject(tj, "predictions");
    cJSON_AddNumberToObject(lj, "a_lambda_max", r->a_lambda_max);
    cJSON_AddNumberToObject(lj, "unstable_modes", r->unstable_modes);
    cJSON_AddStringToObject(lj, "stability",
                            r->unstable_modes ? (x->c.flow ? "unstable: K_0 has negative eigenvalues (flow)"
                                                           : "past the edge: eta c lambda_max(K_0) > 2, the linearized "
                                                             "prediction grows without bound")
                                              : "stable: eta c lambda_max(K_0) <= 2");
    const char *keys[3] = {"lin_nonfinite_step", "pert_nonfinite_step", "pw_nonfinite_step"};
    long v[3] = {r->lin_nonfinite_step, r->pert_nonfinite_step, r->pw_nonfinite_step};
    for (int i = 0; i < 3; i++)
        if (v[i] >= 0)
            cJSON_AddNumberToObject(lj, keys[i], (double)v[i]);
        else
            cJSON_AddNullToObject(lj, keys[i]);
    if (!quiet) plot_before_manifest(x->run.dir, "train");
    rc = cli_run_finish(&x->run, &x->c, &x->spec, extra, argc, argv);
    if (!rc) x->run_open = false;
    return rc;
}

int train_execute(const cli_config *cfg, int argc, char **argv, int quiet)
{
    train_ctx x;
    memset(&x, 0, sizeof x);
    x.c = *cfg; /* takes over the owned lists; the caller must not free cfg */
    x.start = -1;
    int rc = setup(&x);
    if (!rc) rc = open_run(&x);
    if (rc) goto done;
    x.o.progress = quiet ? NULL : on_progress;
    x.t0 = x.last_print = cli_now();
    ntk_status st = ntk_train_run(&x.o, &x.d, on_snapshot, &x, &x.res);
    if (st != NTK_OK) {
        x.engine_failed = true;
        if (!x.cb_rc) cli_errorf("%s", ntk_last_error());
        rc = x.cb_rc ? x.cb_rc
                     : st == NTK_EINVAL || (x.res.resume_error && st != NTK_ENOMEM) ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        goto done;
    }
    long diverged = x.res.diverged_at;
    if (diverged >= 0)
        fprintf(stderr, "ntkdrift: train: diverged at step %ld (loss %g, initial %g)\n", diverged, x.res.diverged_loss,
                x.res.loss0);
    if ((rc = study_log_close(&x.csv, "metrics.csv"))) goto done;
    if ((rc = finish(&x, argc, argv, quiet))) goto done;
    if (!quiet)
        printf("ntkdrift train: %zu points, %ld steps, eta %.4g (%s loss, %s)%s\n  run directory: %s\n", x.d.n_train,
               x.c.steps, x.res.eta, ntk_loss_name(x.c.loss), ntk_opt_name(x.c.opt), diverged >= 0 ? ", DIVERGED" : "",
               x.run.dir);
    rc = diverged >= 0 ? CLI_EXIT_DIVERGED : 0;
done:
    if (x.csv) fclose(x.csv);
    if (x.run_open && rc && rc != CLI_EXIT_DIVERGED) {
        if (x.engine_failed && !x.delivered && !x.c.resume[0]) {
            /* nothing trained yet (out of memory, a failed factorisation): no directory is left */
            char path[CLI_PATH_MAX + 64];
            rmdir(cli_run_path(&x.run, "snapshots", path, sizeof path));
            cli_run_abort(&x.run);
        } else if (x.keep || x.c.resume[0]) {
            /* a run that failed after it started (a full disk, an I/O error) keeps what it finished */
            if (!quiet && rc == CLI_EXIT_FAIL)
                fprintf(stderr, "ntkdrift: the incomplete run is kept; continue it with --resume %s\n", x.run.dir);
            cli_run_release(&x.run);
        } else {
            cli_run_abort(&x.run);
        }
    }
    ntk_train_result_clear(&x.res);
    ntk_train_schedule_clear(&x.sched);
    ntk_dataset_clear(&x.d);
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
