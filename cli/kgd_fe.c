/* kgd_fe.c -- `ntkdrift kgd --compare-train`: frozen against evolving (ntk_frozen_evolving_run,
 * docs/modes.md): the network trained with the train section beside operator gradient descent with its
 * K_0 at the matched step eta_op = eta c n, per snapshot the Fourier planes of both residuals, their gap
 * and the principal angles of K_t's top eigenspace against K_0's, into fe.npz. */
#include <stdlib.h>
#include <string.h>

#include "plots.h"
#include "study.h"

typedef struct {
    size_t S, cap, K1, k;
    double eta_op;            /* the operator's step (the library's eta c n) */
    double *step, *t, *loss_net, *loss_op, *gap, *plane_net, *plane_op, *angles, *leak, *drift;
} fe_rows;

static ntk_status keep(void *user, const ntk_fe_snapshot *s)
{
    fe_rows *r = user;
    if (r->S == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        double **cols[] = {&r->step, &r->t, &r->loss_net, &r->loss_op, &r->gap, &r->plane_net, &r->plane_op, &r->angles,
                           &r->leak, &r->drift};
        size_t per[] = {1, 1, 1, 1, 1, r->K1, r->K1, r->k ? r->k : 1, 1, 3 * r->K1};
        for (size_t i = 0; i < 10; i++) {
            double *p = realloc(*cols[i], cap * per[i] * sizeof *p);
            if (!p) return NTK_ENOMEM;
            *cols[i] = p;
        }
        r->cap = cap;
    }
    size_t i = r->S++;
    r->eta_op = s->eta_op;
    r->step[i] = (double)s->step, r->t[i] = s->t, r->loss_net[i] = s->loss_net, r->loss_op[i] = s->loss_op;
    r->gap[i] = s->gap, r->leak[i] = s->leakage;
    memcpy(r->drift + i * 3 * r->K1, s->block_drift, 3 * r->K1 * sizeof(double));
    memcpy(r->plane_net + i * r->K1, s->plane_net, r->K1 * sizeof(double));
    memcpy(r->plane_op + i * r->K1, s->plane_op, r->K1 * sizeof(double));
    if (r->k) memcpy(r->angles + i * r->k, s->angles, r->k * sizeof(double));
    fprintf(stderr, "kgd: step %ld  t %.4g  loss net %.6e  operator %.6e  gap %.4g\n", s->step, s->t, s->loss_net,
            s->loss_op, s->gap);
    return NTK_OK;
}

int kgd_compare_train(cli_config *c, int argc, char **argv)
{
    ntk_dataset d = {0};
    ntk_train_schedule sched = {0};
    ntk_train_result res = {0};
    cli_run run = {0};
    bool run_open = false;
    fe_rows r = {0};
    ntk_spec spec;
    char desc[CLI_PATH_MAX + 64];
    int rc = cli_train_data(c, &d, desc, sizeof desc);
    if (!rc && (d.k != 1 || !d.gamma_train))
        rc = cli_errorf("kgd --compare-train: needs circle data and one output");
    if (rc || (rc = cli_model_spec(&c->model, &spec)) || (rc = train_check_memory(c, &spec, d.n_train, d.n_eval)))
        goto done;
    ntk_fe_opts o = ntk_fe_opts_defaults();
    o.train = cli_train_opts(c), o.train.spec = spec, o.kmax = c->modes.kmax;
    o.top_k = (size_t)c->train.top_k < d.n_train ? c->train.top_k : (int)d.n_train;
    if (ntk_train_schedule_parse(c->train.snapshots, o.train.steps, &sched) != NTK_OK) {
        rc = study_fail("snapshots", CLI_EXIT_USAGE);
        goto done;
    }
    o.train.snapshots = sched.steps, o.train.n_snapshots = sched.count, o.train.schedule = NULL;
    if (ntk_train_run_check(&o.train, &d) != NTK_OK) {
        rc = study_fail(NULL, CLI_EXIT_USAGE);
        goto done;
    }
    r.K1 = (size_t)o.kmax + 1, r.k = (size_t)o.top_k;
    if ((rc = study_run_start(&run, c, "kgd", &run_open))) goto done;
    double t0 = cli_now();
    if (ntk_frozen_evolving_run(&o, &d, keep, &r, &res) != NTK_OK) {
        rc = study_fail(NULL, CLI_EXIT_FAIL);
        goto done;
    }
    size_t S = r.S;
    const study_member m[] = {
        {"step", 1, {S}, r.step, "snapshot steps", NTK_F64},
        {"t", 1, {S}, r.t, "eta * step (the network's)", NTK_F64},
        {"loss_net", 1, {S}, r.loss_net, "the network's training loss", NTK_F64},
        {"loss_op", 1, {S}, r.loss_op, "(1/2n) ||u - y||^2 of operator GD with K_0", NTK_F64},
        {"plane_net", 2, {S, r.K1}, r.plane_net, "Fourier plane masses of f_t - y", NTK_F64},
        {"plane_op", 2, {S, r.K1}, r.plane_op, "Fourier plane masses of u_t - y", NTK_F64},
        {"gap", 1, {S}, r.gap, "||f_t - u_t|| / ||y - f_0||", NTK_F64},
        {"angles", 2, {S, r.k}, r.k ? r.angles : NULL, "principal angles, top-k eigenspaces of K_t against K_0", NTK_F64},
        {"leakage", 1, {S}, r.leak, "leakage of K_t's Fourier blocks", NTK_F64},
        {"block_drift", 3, {S, 3, r.K1}, r.drift, "Frobenius, operator, max norms of C_k(t) - C_k(0)", NTK_F64},
    };
    if ((rc = study_write_npz(&run, "fe.npz", m, (int)(sizeof m / sizeof *m)))) goto done;
    cJSON *extra = cJSON_CreateObject();
    study_data_json(extra, desc, d.n_train);
    cJSON *fj = cJSON_AddObjectToObject(extra, "kgd");
    cJSON_AddStringToObject(fj, "compare_train", "the network beside operator GD with its K_0 (A_0 = K_0/n)");
    cJSON_AddStringToObject(fj, "step_mapping", "eta_op = eta c n (half_mean: eta_op = eta)");
    study_nums(fj, "eta c eta_op seconds diverged_at",
               (const double[]){res.eta, res.c, r.eta_op, cli_now() - t0, (double)res.diverged_at});
    plot_before_manifest(run.dir, "kgd");
    if ((rc = study_run_finish(&run, c, &spec, extra, argc, argv, &run_open))) goto done;
    printf("ntkdrift kgd --compare-train: %zu points, %zu snapshots, eta %.6g, eta_op %.6g, final gap %.4g\n"
           "  run directory: %s\n", d.n_train, S, res.eta, r.eta_op, S ? r.gap[S - 1] : 0,
           run.dir);
done:
    if (run_open) cli_run_abort(&run);
    ntk_train_result_clear(&res);
    ntk_train_schedule_clear(&sched);
    ntk_dataset_clear(&d);
    free(r.step), free(r.t), free(r.loss_net), free(r.loss_op), free(r.gap), free(r.plane_net), free(r.plane_op);
    free(r.angles), free(r.leak), free(r.drift);
    return rc;
}
