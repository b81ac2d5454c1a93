/* cmd_train.c -- `ntkdrift train`: the configuration into ntk_train_run (the library trains and
 * analyses), and the run directory: an observer writes snap_<step>.npz, params_<step>.npz and the
 * metrics.csv rows, a replay callback reads the snapshots back on --resume, and the end writes
 * trajectory.npz, params.npz, data.npz and the manifest. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fsutil.h" /* ntk_mkdir_p: the library's private file-system helpers */
#include "plots.h"
#include "study.h"

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
    double *row;        /* one metrics.csv row */
} train_ctx;

/* A callback's failure: its exit status for train_execute, and a status that stops the engine. */
static ntk_status cb_fail(train_ctx *x, int rc) { return x->cb_rc = rc, NTK_EIO; }

/* snapshots/snap_<step>.npz in the run directory (the library's snapshot file, replayed on --resume). */
static const char *snap_path(const train_ctx *x, long step, char *path, size_t cap)
{
    char rel[64];
    snprintf(rel, sizeof rel, "snapshots/snap_%010ld.npz", step);
    return cli_run_path(&x->run, rel, path, cap);
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
    if (ntk_net_save_params(net, cli_run_path(&x->run, rel, path, sizeof path)) != NTK_OK)
        return study_failf("writing %s: %s", rel, ntk_last_error());
    if (step < 0) cli_run_wrote(&x->run, rel);
    return 0;
}

static void metrics_header(train_ctx *x)
{
    int d = x->spec.depth + 1;
    fprintf(x->csv, "step");
    for (int i = 0; i < NTK_TRAIN_METRICS_COLS; i++) fprintf(x->csv, ",%s", ntk_train_metrics_name(i));
    for (int l = 1; l <= d; l++) fprintf(x->csv, ",move_l%d", l);
    for (int l = 1; x->c.kernel.per_layer && l <= d; l++) fprintf(x->csv, ",drift_l%d", l);
    for (int i = 0; x->c.train.nth && i < NTK_TRAIN_NTH_COLS; i++) fprintf(x->csv, ",%s", ntk_train_nth_name(i));
    fprintf(x->csv, "\n");
}

/* The observer: the metrics.csv row, then (unless replayed) the snapshot and parameter files. */
static ntk_status on_snapshot(void *user, const ntk_train_snapshot *s)
{
    train_ctx *x = user;
    if (!s->replayed) x->delivered = true;
    if (s->rkhs_error) fprintf(stderr, "ntkdrift: note: RKHS diagnostics at step %ld: %s\n", s->step, s->rkhs_error);
    double *row = x->row; /* [NTK_TRAIN_METRICS_COLS + 2 d + NTK_TRAIN_NTH_COLS] */
    size_t n = ntk_train_metrics_row(s, row);
    fprintf(x->csv, "%ld", s->step);
    for (size_t i = 0; i < n; i++) fprintf(x->csv, ",%.10g", row[i]);
    fprintf(x->csv, "\n");
    int rc = study_log_flush(x->csv, "metrics.csv");
    char path[CLI_PATH_MAX + 96];
    if (!rc && !s->replayed && ntk_train_snapshot_save(snap_path(x, s->step, path, sizeof path), s) != NTK_OK)
        rc = study_failf("writing snapshots/snap_%010ld.npz: %s", s->step, ntk_last_error());
    if (!rc && !s->replayed && x->c.kernel.save_params) rc = write_params(x, s->net, s->step);
    return rc ? cb_fail(x, rc) : NTK_OK;
}

/* --resume: one snapshot file back into the engine's buffers, each member with exactly its count. */
static ntk_status on_replay(void *user, ntk_train_replay *r)
{
    train_ctx *x = user;
    char path[CLI_PATH_MAX + 96];
    ntk_status st = ntk_train_snapshot_load(snap_path(x, r->step, path, sizeof path), r);
    if (st == NTK_OK) return NTK_OK;
    cli_errorf("resume: %s", ntk_last_error());
    return cb_fail(x, st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE);
}

/* The "step ... ETA" line on stderr every 2 s. */
static void on_progress(void *user, long step, double loss)
{
    train_ctx *x = user;
    if (x->start < 0) x->start = step - 1;
    double now = cli_now();
    if (now - x->last_print > 2.0) {
        double eta_s = (now - x->t0) / (double)(step - x->start) * (double)(x->c.train.steps - step);
        fprintf(stderr, "train: step %ld/%ld loss %.4g, ETA %.0f s\n", step, x->c.train.steps, loss, eta_s);
        x->last_print = now;
    }
}

/* data.npz: the training and evaluation sets exactly as trained on (and their angles on the circle),
 * and trajectory.npz: steps, losses, f_train / f_lin / f_pert / f_pw and their eval counterparts. */
static int write_data_trajectory(train_ctx *x)
{
    const ntk_dataset *d = &x->d;
    const ntk_train_result *t = &x->res;
    size_t N = d->n_train, M = d->n_eval, n0 = (size_t)d->n0, k = (size_t)d->k;
    bool e = M > 0;
    const study_member dm[] = {
        {"X_train", 2, {N, n0}, d->X_train, "training inputs", NTK_F64},
        {"y_train", 2, {N, k}, d->Y_train, "training targets (label noise included)", NTK_F64},
        {"gamma_train", 1, {N}, d->gamma_train, "angles of the training points", NTK_F64},
        {"X_eval", 2, {M, n0}, e ? d->X_eval : NULL, "evaluation inputs", NTK_F64},
        {"y_eval", 2, {M, k}, e ? d->Y_eval : NULL, "evaluation targets (no label noise)", NTK_F64},
        {"gamma_eval", 1, {M}, e ? d->gamma_eval : NULL, "angles of the evaluation points", NTK_F64}};
    char path[CLI_PATH_MAX + 64];
    if (ntk_train_trajectory_save(cli_run_path(&x->run, "trajectory.npz", path, sizeof path), t) != NTK_OK)
        return study_fail("writing trajectory.npz", CLI_EXIT_FAIL);
    cli_run_wrote(&x->run, "trajectory.npz");
    int rc = write_params(x, t->net, -1);
    return rc ? rc : study_write_npz(&x->run, "data.npz", dm, sizeof dm / sizeof dm[0]);
}

static double train_run_bytes(size_t N, void *ctx)
{
    const study_bytes_ctx *t = ctx;
    return ntk_train_run_bytes(t->spec, N, t->M, t->per_layer);
}

int train_check_memory(const cli_config *c, const ntk_spec *spec, size_t N, size_t M)
{
    study_bytes_ctx t = {.spec = spec, .M = M, .per_layer = c->kernel.per_layer};
    return cli_check_memory(&c->run, N, train_run_bytes, &t,
                            "about 18 (N k)^2 doubles of kernels, eigenvectors and workspaces, per-layer terms, "
                            "eval kernels, activations, parameters");
}

/* The configuration (x->c) into the engine's options, checked before anything is written. */
static int setup(train_ctx *x)
{
    cli_config *c = &x->c;
    int rc;
    if (c->train.resume[0] && (rc = cli_config_reload(c, "train"))) return rc;
    if (c->kernel.dtype != NTK_F64 || c->kernel.load_params[0])
        return cli_errorf("train: --dtype f32 and --load-params do not apply (training is float64 from a seeded init)");
    if ((rc = cli_train_data(c, &x->d, x->desc, sizeof x->desc)) || (rc = cli_model_spec(&c->model, &x->spec)))
        return rc;
    ntk_status st = ntk_train_schedule_parse(c->train.snapshots, c->train.steps, &x->sched);
    if (st != NTK_OK) {
        cli_errorf("train.snapshots (--snapshots): %s", ntk_last_error());
        return st == NTK_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    ntk_set_threads(c->run.threads);
    if ((rc = train_check_memory(c, &x->spec, x->d.n_train, x->d.n_eval))) return rc;
    x->o = cli_train_opts(c);
    x->o.spec = x->spec, x->o.snapshots = x->sched.steps, x->o.n_snapshots = x->sched.count, x->o.replay = on_replay;
    return ntk_train_run_check(&x->o, &x->d) != NTK_OK ? cli_errorf("%s", ntk_last_error()) : 0;
}

static int open_run(train_ctx *x)
{
    char path[CLI_PATH_MAX + 64];
    int rc;
    if (x->c.train.resume[0]) {
        rc = cli_run_open_existing(&x->run, x->c.train.resume, "train");
    } else {
        rc = cli_run_create(&x->run, &x->c, "train");
        x->run_open = true;
        if (!rc) rc = cli_run_write_config(&x->run, &x->c);
        x->keep = rc == 0;
    }
    if (rc) return rc;
    x->run_open = true;
    if (ntk_mkdir_p(cli_run_path(&x->run, "snapshots", path, sizeof path)) != NTK_OK)
        return study_fail(NULL, CLI_EXIT_FAIL);
    if (!(x->csv = fopen(cli_run_path(&x->run, "metrics.csv", path, sizeof path), "w")))
        return study_failf("cannot write %s: %s", path, strerror(errno));
    cli_run_wrote(&x->run, "metrics.csv");
    x->o.checkpoint = cli_run_path(&x->run, "checkpoint.npz", x->ckpt, sizeof x->ckpt);
    x->o.resume = x->c.train.resume[0] != 0;
    metrics_header(x);
    if (!(x->row = malloc((NTK_TRAIN_METRICS_COLS + 2 * (size_t)(x->spec.depth + 1) + NTK_TRAIN_NTH_COLS) *
                          sizeof *x->row)))
        return study_failf("out of memory");
    return study_log_flush(x->csv, "metrics.csv") ? CLI_EXIT_FAIL : 0;
}

/* trajectory.npz, params.npz, data.npz, the figures (unless quiet), then the manifest: the run is complete. */
static int finish(train_ctx *x, int argc, char **argv, int quiet)
{
    const ntk_train_result *r = &x->res;
    const cli_config *c = &x->c;
    int rc = write_data_trajectory(x);
    if (rc) return rc;
    size_t S = x->sched.count, sh1[1] = {S}, shn[2] = {S, r->n}; /* the schedule's count, also when diverged */
    const struct {
        const char *file, *member; /* a member is float64 */
        int ndim;
        const size_t *shape;
        const char *meaning;
    } art[] = {
        {"metrics.csv", NULL, 1, sh1, "one row per snapshot (docs/train.md)"},
        {"trajectory.npz", "steps", 1, sh1, "snapshot steps"},
        {"trajectory.npz", "f_train", 2, shn, "network outputs on the train set"},
        {"trajectory.npz", "f_lin", 2, shn, "frozen-K_0 (linearized) prediction"},
        {"trajectory.npz", "f_pert", 2, shn, "linearized + first-order in Delta K"},
        {"trajectory.npz", "f_pw", 2, shn, "piecewise-frozen K_t prediction"},
        {"snapshots/", NULL, 1, sh1,
         "snap_<step>.npz: meta (step, loss, eval loss), K, f_train, eigs, K_eval, f_eval, Kdot (step 0)"},
        {"snapshots/", NULL, c->train.nth ? 1 : -1, sh1,
         "snap_<step>.npz with --nth also: f_nth, K_nth, f_nth_eval, K_nth_eval (the hierarchy's prediction)"},
        {"checkpoint.npz", NULL, 0, NULL, "theta, optimizer state and step of the last checkpoint"},
        {"params.npz", NULL, 0, NULL,
         "W1.. W{L+1}, b1.. b{L+1} at the end of the run, as stored (kernel / profile / eval --load-params)"},
        {"snapshots/", NULL, c->kernel.save_params ? 1 : -1, sh1, "params_<step>.npz: the parameters at each snapshot"},
    };
    for (size_t i = 0; i < sizeof art / sizeof art[0]; i++)
        if (art[i].ndim >= 0)
            cli_run_artifact(&x->run, art[i].file, art[i].member, art[i].member ? "float64" : NULL, art[i].ndim,
                             art[i].shape, art[i].meaning);
    cJSON *extra = cJSON_CreateObject(), *dj = study_data_json(extra, x->desc, x->d.n_train);
    study_nums(dj, "n_eval data_seed noise noise_seed",
               (const double[]){(double)x->d.n_eval, (double)c->data.seed, c->train.noise, (double)c->train.noise_seed});
    cJSON *tj = cJSON_AddObjectToObject(extra, "train");
    cJSON_AddStringToObject(tj, "opt", ntk_opt_name(c->train.opt));
    cJSON_AddStringToObject(tj, "loss", ntk_loss_name(c->train.loss));
    study_nums(tj, "c eta steps", (const double[]){r->c, r->eta, (double)c->train.steps});
    cJSON_AddStringToObject(tj, "time_units", "t = eta * step (column t of metrics.csv)");
    study_nums(tj, "kdot_literal_vs_pathwise initial_loss max_loss max_loss_step seconds_steps seconds_snapshots",
               (const double[]){r->kdot_literal, r->loss0, r->loss_max, (double)r->loss_max_step, r->seconds_steps,
                                r->seconds_snapshots});
    cJSON_AddStringToObject(tj, "outcome", r->diverged_at >= 0 ? "diverged" : "completed");
    if (r->diverged_at >= 0) cJSON_AddNumberToObject(tj, "diverged_at_step", (double)r->diverged_at);
    cJSON_AddNumberToObject(tj, "snapshots", (double)r->S);
    cli_json_number(tj, "freeze_step", r->freeze_step);
    cJSON *fj = cJSON_AddObjectToObject(tj, "freeze");
    study_nums(fj, "eps k delta", (const double[]){c->train.freeze_eps, c->train.freeze_k, c->train.freeze_delta});
    cJSON_AddStringToObject(fj, "definition",
                            "s(t_j) = (drift_fro(t_j) - drift_fro(t_{j-delta})) / (step_j - step_{j-delta}); freeze_step "
                            "= the first snapshot step t_j with |s| < eps |s(t_delta)| at j and the k-1 snapshots after "
                            "it (the end of the first small interval); null if never");
    if (r->S) cJSON_AddNumberToObject(tj, "final_drift_fro", r->drift_fro[r->S - 1]);
    cJSON *lj = cJSON_AddObjectToObject(tj, "predictions");
    study_nums(lj, "a_lambda_max unstable_modes", (const double[]){r->a_lambda_max, r->unstable_modes});
    cJSON_AddStringToObject(lj, "stability",
                            r->unstable_modes ? (c->train.flow ? "unstable: K_0 has negative eigenvalues (flow)"
                                                         : "past the edge: eta c lambda_max(K_0) > 2, the linearized "
                                                           "prediction grows without bound")
                                              : "stable: eta c lambda_max(K_0) <= 2");
    cli_json_number(lj, "lin_nonfinite_step", r->lin_nonfinite_step >= 0 ? (double)r->lin_nonfinite_step : NAN);
    cli_json_number(lj, "pert_nonfinite_step", r->pert_nonfinite_step >= 0 ? (double)r->pert_nonfinite_step : NAN);
    cli_json_number(lj, "pw_nonfinite_step", r->pw_nonfinite_step >= 0 ? (double)r->pw_nonfinite_step : NAN);
    if (c->train.gates) cJSON_AddStringToObject(tj, "gates", "frozen"); /* absent: live */
    if (c->train.nth) {
        cJSON *hj = cJSON_AddObjectToObject(tj, "nth");
        study_nums(hj, "level seconds_tensors", (const double[]){c->train.nth, r->seconds_nth});
        cli_json_number(hj, "diverged_step", r->nth_diverged_step >= 0 ? (double)r->nth_diverged_step : NAN);
        cJSON_AddStringToObject(hj, "frozen", c->train.nth == 4 ? "O4 (O3, K, f evolve)" : "O3 (K, f evolve)");
        cJSON_AddStringToObject(hj, "columns",
                                "nth_err = ||f - f_nth|| / ||f - f_0||, nth_kerr = ||K - K_nth||_F / ||K - K_0||_F, "
                                "and their eval counterparts (docs/dynamics.md)");
    }
    if (!quiet) plot_before_manifest(x->run.dir, "train");
    rc = cli_run_finish(&x->run, c, &x->spec, extra, argc, argv);
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
               x.c.train.steps, x.res.eta, ntk_loss_name(x.c.train.loss), ntk_opt_name(x.c.train.opt),
               diverged >= 0 ? ", DIVERGED" : "", x.run.dir);
    rc = diverged >= 0 ? CLI_EXIT_DIVERGED : 0;
done:
    if (x.csv) fclose(x.csv);
    if (x.run_open && rc && rc != CLI_EXIT_DIVERGED) {
        if (x.engine_failed && !x.delivered && !x.c.train.resume[0]) {
            /* nothing trained yet (out of memory, a failed factorisation): no directory is left */
            char path[CLI_PATH_MAX + 64];
            rmdir(cli_run_path(&x.run, "snapshots", path, sizeof path));
            cli_run_abort(&x.run);
        } else if (x.keep || x.c.train.resume[0]) {
            /* a run that failed after it started (a full disk, an I/O error) keeps what it finished */
            if (!quiet && rc == CLI_EXIT_FAIL)
                fprintf(stderr, "ntkdrift: the incomplete run is kept; continue it with --resume %s\n", x.run.dir);
            cli_run_release(&x.run);
        } else {
            cli_run_abort(&x.run);
        }
    }
    free(x.row);
    ntk_train_result_clear(&x.res);
    ntk_train_schedule_clear(&x.sched);
    ntk_dataset_clear(&x.d);
    cli_config_free(&x.c);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "train");
    return rc >= 0 ? rc : train_execute(&c, argc, argv, 0);
}
