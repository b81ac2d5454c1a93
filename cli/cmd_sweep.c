/* cmd_sweep.c -- `ntkdrift sweep`: a grid over depth x width (hence beta) x learning rate x seed,
 * each cell a complete `train` run of the tracking engine in cells/cell_<i>/, then cells.csv with
 * one row per cell and its regime label (docs/sweep.md).  Cells are dealt round-robin to MPI ranks
 * (when launched by mpirun); within a rank they run one after another on the BLAS threads.  A cell
 * whose run directory is complete is never recomputed, a killed one resumes from its checkpoint,
 * and cells.csv is rebuilt from the cells' own files, so --resume ends identical to one run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */
#include "figure.h"
#include "plots.h"
#include "study.h"

typedef struct {
    int depth, width, seed;
    double lr_frac;
} sweep_cell;

typedef struct {
    cli_config c;
    sweep_cell *cells;
    int ncells;
    cli_run run;
    bool run_open;
    ntk_dist mpi;
} sweep_ctx;

/* What a finished cell's files say. */
typedef struct {
    ntk_cell_summary sum;  /* what the regime label is read from (ntk_regime_classify) */
    double eta, steps, loss_eval_T, drift_op, pert_err, pw_err;
    double err_k0, err_kT, err_kinf, t_end;
    double err_net;        /* eval RMSE per entry of the trained network, from its trajectory */
    double rel_kinf;       /* ||f_T - y_inf|| / ||y_inf|| on the eval set, y_inf the K_inf regression */
    double rel_kinf_init;  /* the same against y_inf + f_0 - K_inf(., X) (K_inf + ridge)^{-1} f_0(X) */
    int k;                 /* outputs of the cell's network (its manifest's spec) */
    size_t S;              /* snapshots: rows of metrics.csv */
    double *t, *drift;     /* [S] their times t = eta * step and drift_fro (owned) */
} cell_result;

static void cell_dir(const sweep_ctx *s, int i, char *buf, size_t cap)
{
    char rel[48];
    snprintf(rel, sizeof rel, "cells/cell_%05d", i);
    cli_run_path(&s->run, rel, buf, cap);
}

static int build_grid(sweep_ctx *s)
{
    cli_config *c = &s->c;
    const cli_study_cfg *st = &c->study;
    int nd = st->depths_count ? st->depths_count : 1, nw = st->widths_count ? st->widths_count : 1;
    int nl = st->lr_fracs_count ? st->lr_fracs_count : 1, ns = st->seeds_count ? st->seeds_count : 1;
    long n = (long)nd * nw * nl * ns;
    if (n > 100000) return cli_errorf("sweep: %ld cells is more than 100000", n);
    if (c->train.lr <= 0 && c->train.lr_frac <= 0 && !st->lr_fracs_count)
        return cli_errorf("sweep: give --lr-fracs (or --lr-frac / --lr)");
    if (!(s->cells = malloc((size_t)n * sizeof *s->cells))) return CLI_EXIT_FAIL;
    s->ncells = 0;
    for (int a = 0; a < nd; a++)
        for (int b = 0; b < nw; b++)
            for (int l = 0; l < nl; l++)
                for (int r = 0; r < ns; r++)
                    s->cells[s->ncells++] = (sweep_cell){
                        st->depths_count ? st->depths[a] : c->model.depth,
                        st->widths_count ? st->widths[b] : c->model.width,
                        st->seeds_count ? st->seeds[r] : (int)c->run.seed,
                        st->lr_fracs_count ? st->lr_fracs[l] : c->train.lr_frac};
    return 0;
}

/* The train configuration of cell i (owned lists of its own), writing into dir. */
static int cell_config(const sweep_ctx *s, int i, const char *dir, cli_config *cc)
{
    int rc = cli_config_copy(cc, &s->c);
    if (rc) return rc;
    const sweep_cell *k = &s->cells[i];
    free(cc->study.widths), free(cc->study.depths), free(cc->study.seeds), free(cc->study.lr_fracs);
    free(cc->model.widths);
    cc->study.widths = cc->study.depths = cc->study.seeds = cc->model.widths = NULL, cc->study.lr_fracs = NULL;
    cc->study.widths_count = cc->study.depths_count = cc->study.seeds_count = cc->study.lr_fracs_count = 0;
    cc->model.widths_count = 0, cc->model.depth = k->depth, cc->model.width = k->width, cc->run.seed = (uint64_t)k->seed;
    if (s->c.study.lr_fracs_count || s->c.train.lr <= 0) cc->train.lr_frac = k->lr_frac;
    snprintf(cc->command, sizeof cc->command, "train");
    snprintf(cc->run.out, sizeof cc->run.out, "%s", dir);
    cc->train.resume[0] = 0;
    if (study_exists(dir, "checkpoint.npz") && study_exists(dir, "config.yaml"))
        snprintf(cc->train.resume, sizeof cc->train.resume, "%s", dir); /* killed mid-cell: continue it */
    return 0;
}

/* Bad input is refused before anything is written: every cell's spec, and the data once. */
static int validate(sweep_ctx *s)
{
    size_t N = 0, M = 0;
    for (int i = 0; i < s->ncells; i++) {
        cli_config cc;
        ntk_spec spec;
        int rc = cell_config(s, i, "", &cc);
        if (!rc) rc = cli_model_spec(&cc.model, &spec);
        if (!rc && i == 0) {
            ntk_dataset d = {0};
            char desc[CLI_PATH_MAX + 64];
            rc = cli_train_data(&cc, &d, desc, sizeof desc);
            N = d.n_train, M = d.n_eval;
            ntk_dataset_clear(&d);
            s->c.model.n0 = cc.model.n0; /* resolved from the data (circle: 2), as config.yaml must record it */
        }
        if (!rc) rc = train_check_memory(&cc, &spec, N, M); /* every cell, before any runs */
        cli_config_free(&cc);
        if (rc) return rc;
    }
    return 0;
}

static int run_cells(sweep_ctx *s, int argc, char **argv)
{
    for (int i = 0; i < s->ncells; i++) {
        if (i % s->mpi.size != s->mpi.rank) continue;
        char dir[CLI_PATH_MAX + 64];
        cell_dir(s, i, dir, sizeof dir);
        if (study_exists(dir, "manifest.json")) continue; /* done before a resume */
        cli_config cc;
        int rc = cell_config(s, i, dir, &cc);
        if (rc) return rc;
        double t0 = cli_now();
        rc = train_execute(&cc, argc, argv, 1); /* takes over cc */
        const sweep_cell *k = &s->cells[i];
        if (rc && rc != CLI_EXIT_DIVERGED) {
            cli_errorf("sweep: cell %d (depth %d, width %d, lr_frac %g, seed %d) failed; rerun with --resume %s", i,
                       k->depth, k->width, k->lr_frac, k->seed, s->run.dir);
            return rc;
        }
        fprintf(stderr, "sweep: cell %d/%d depth %d width %d lr_frac %g seed %d: %s, %.1f s\n", i + 1, s->ncells,
                k->depth, k->width, k->lr_frac, k->seed, rc ? "diverged" : "done", cli_now() - t0);
    }
    return 0;
}

static double num(const cJSON *o, const char *k) { return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* Kernel regression with the infinite-width NTK of the cell's network on the same data, from the cell's
 * trajectory.npz into its kinf.npz (ntk_kinf_regression_files; ridge relative to the mean diagonal as
 * for K_0 and K_T). */
static int kinf_regression(const sweep_ctx *s, int i, const char *dir, cell_result *r)
{
    r->err_kinf = r->err_net = r->rel_kinf = r->rel_kinf_init = NAN;
    cli_config cc;
    int rc = cell_config(s, i, dir, &cc);
    if (rc) return rc;
    ntk_dataset d = {0};
    ntk_spec spec;
    ntk_kinf_result kr;
    char desc[CLI_PATH_MAX + 64], tpath[CLI_PATH_MAX + 128], kpath[CLI_PATH_MAX + 128];
    snprintf(tpath, sizeof tpath, "%s/trajectory.npz", dir);
    snprintf(kpath, sizeof kpath, "%s/kinf.npz", dir);
    if ((rc = cli_train_data(&cc, &d, desc, sizeof desc)) || (rc = cli_model_spec(&cc.model, &spec)) ||
        d.n_eval == 0) /* no eval set: no test errors */
        goto out;
    if (ntk_kinf_regression_files(&spec, &d, cc.train.ridge, 0, tpath, kpath, &kr) != NTK_OK)
        rc = study_failf("sweep: cell %d: %s", i, ntk_last_error());
    else
        r->err_net = kr.err_net, r->err_kinf = kr.err_kinf, r->rel_kinf = kr.rel_kinf, r->rel_kinf_init = kr.rel_kinf_init;
out:
    ntk_dataset_clear(&d);
    cli_config_free(&cc);
    return rc;
}

static int read_cell(const sweep_ctx *s, int i, cell_result *r)
{
    char dir[CLI_PATH_MAX + 64], path[CLI_PATH_MAX + 96];
    cell_dir(s, i, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    cJSON *m = cli_read_json(path);
    if (!m) return CLI_EXIT_FAIL;
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(m, "train");
    const cJSON *oc = cJSON_GetObjectItemCaseSensitive(tj, "outcome");
    r->sum.diverged = cJSON_IsString(oc) && strcmp(oc->valuestring, "diverged") == 0;
    r->eta = num(tj, "eta"), r->steps = num(tj, "steps");
    r->sum.loss0 = num(tj, "initial_loss"), r->sum.loss_max = num(tj, "max_loss");
    double k = num(cJSON_GetObjectItemCaseSensitive(m, "spec"), "outputs");
    cJSON_Delete(m);
    if (!(k >= 1)) return study_failf("sweep: %s has no spec.outputs", path);
    r->k = (int)k;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    cli_table tab;
    int rc = cli_table_read(path, &tab);
    if (rc) return rc;
    const cli_table *t = &tab;
    const struct {
        const char *col;
        bool first; /* the first row, else the last */
        double *dst;
    } cols[] = {{"loss", 0, &r->sum.loss_T},           {"loss_eval", 0, &r->loss_eval_T},
                {"drift_fro", 0, &r->sum.drift_fro},   {"drift_op", 0, &r->drift_op},
                {"lin_err", 0, &r->sum.lin_err},       {"pert_err", 0, &r->pert_err},
                {"pw_err", 0, &r->pw_err},             {"lambda_max", 0, &r->sum.lambda_max_T},
                {"krr_eval_err", 0, &r->err_kT},       {"t", 0, &r->t_end},
                {"lambda_max", 1, &r->sum.lambda_max_0}, {"krr_eval_err", 1, &r->err_k0}};
    for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++)
        *cols[j].dst = cli_table_at(t, cols[j].first || !t->nrows ? 0 : t->nrows - 1, cli_table_col(t, cols[j].col));
    /* the drift curve, for drift_fro at t = tau once every cell's end time is known: r->t owns both */
    r->S = t->nrows;
    r->t = cli_table_column(t, "t");
    r->drift = cli_table_column(t, "drift_fro");
    cli_table_free(&tab);
    if (!r->t || !r->drift) return CLI_EXIT_FAIL; /* cli_table_column said why */
    return kinf_regression(s, i, dir, r);
}

/* The text b as `file` in the run directory unless rc (a failure so far) or b ran out of memory; frees b. */
static int write_text(sweep_ctx *s, const char *file, fig_text *b, int rc)
{
    char path[CLI_PATH_MAX + 32];
    if (!rc && b->oom) rc = CLI_EXIT_FAIL;
    if (!rc && ntk_write_file_atomic(cli_run_path(&s->run, file, path, sizeof path), b->s, b->len) != NTK_OK)
        rc = study_fail(NULL, CLI_EXIT_FAIL);
    if (!rc) cli_run_wrote(&s->run, file);
    fig_text_free(b);
    return rc;
}

/* groups.csv: one row per (depth, width, lr_frac) with the seed percentiles p10 / p50 / p90 of the
 * network's distance from the infinite-width predictors and of its test error (docs/sweep.md). */
static int write_groups_csv(sweep_ctx *s, const cell_result *res)
{
    size_t n = (size_t)s->ncells, cap = n > 0 ? n : 1, ng = 0;
    double *keys = malloc(16 * cap * sizeof *keys), *v = keys + 3 * cap, *pct = v + cap; /* [n 3], [n], [4 3 n] */
    size_t *group = malloc(3 * cap * sizeof *group), *first = group + cap, *count = first + cap; /* [n] each */
    fig_text b = {0};
    int rc = keys && group ? 0 : CLI_EXIT_FAIL;
    for (size_t i = 0; i < n && !rc; i++)
        memcpy(keys + 3 * i, (double[3]){s->cells[i].depth, s->cells[i].width, s->cells[i].lr_frac}, sizeof(double[3]));
    static const double q[3] = {0.1, 0.5, 0.9};
    ntk_status st = rc ? NTK_OK : ntk_group_keys(n, 3, keys, group, &ng, first, count);
    for (int f = 0; f < 4 && !rc && st == NTK_OK; f++) { /* pct[f][g][level] */
        for (size_t i = 0; i < n; i++)
            v[i] = f == 0 ? res[i].rel_kinf : f == 1 ? res[i].rel_kinf_init : f == 2 ? res[i].err_net : res[i].err_kinf;
        st = ntk_group_percentiles(n, group, ng, v, 3, q, pct + (size_t)f * 3 * ng);
    }
    if (!rc && st != NTK_OK) rc = study_fail("sweep", CLI_EXIT_FAIL);
    fig_printf(&b, "depth,width,beta,lr,lr_frac,seeds,rel_err_kinf_p10,rel_err_kinf_p50,rel_err_kinf_p90,"
                   "rel_err_kinf_init_p10,rel_err_kinf_init_p50,rel_err_kinf_init_p90,test_err_net_p10,"
                   "test_err_net_p50,test_err_net_p90,test_err_kinf_p50\n");
    for (size_t g = 0; g < ng && !rc; g++) {
        const sweep_cell *k = &s->cells[first[g]];
        fig_printf(&b, "%d,%d,%.8g,%.10g,%.8g,%zu", k->depth, k->width, k->depth > 0 ? (double)k->depth / k->width : 0,
                   res[first[g]].eta, k->lr_frac, count[g]);
        for (int f = 0; f < 3; f++) {
            const double *p = pct + ((size_t)f * ng + g) * 3;
            fig_printf(&b, ",%.10g,%.10g,%.10g", p[0], p[1], p[2]);
        }
        fig_printf(&b, ",%.10g\n", pct[(3 * ng + g) * 3 + 1]);
    }
    free(keys);
    free(group);
    return write_text(s, "groups.csv", &b, rc);
}

static int write_cells_csv(sweep_ctx *s)
{
    cell_result *res = calloc((size_t)s->ncells, sizeof *res);
    if (!res) return CLI_EXIT_FAIL;
    int rc = 0;
    double *t_end = malloc((size_t)(s->ncells ? s->ncells : 1) * sizeof *t_end);
    int *diverged = malloc((size_t)(s->ncells ? s->ncells : 1) * sizeof *diverged);
    if (!t_end || !diverged) rc = CLI_EXIT_FAIL;
    for (int i = 0; i < s->ncells && !rc; i++) {
        rc = read_cell(s, i, &res[i]);
        t_end[i] = res[i].t_end;
        diverged[i] = res[i].sum.diverged;
    }
    /* every cell's drift is read at one time: --tau, or the earliest end of a cell that did not diverge */
    const cli_sweep_cfg *w = &s->c.sweep;
    double tau = w->tau > 0 ? w->tau : ntk_sweep_tau((size_t)s->ncells, t_end, diverged);
    free(t_end);
    free(diverged);
    ntk_regime_opts ro = {w->lazy_drift, w->lazy_lin_err, w->unstable_loss_ratio, w->catapult_spike};
    fig_text b = {0};
    fig_printf(&b, "depth,width,beta,lr,lr_frac,seed,steps,outcome,regime,catapult,drift_fro,drift_op,tau,drift_tau,"
                   "lin_err,pert_err,pw_err,loss0,loss_T,loss_max,loss_eval_T,lambda_max_0,lambda_max_T,test_err_net,"
                   "test_err_k0,test_err_kT,test_err_kinf,rel_err_kinf,rel_err_kinf_init,regime_code,run\n");
    for (int i = 0; i < s->ncells && !rc; i++) {
        const sweep_cell *k = &s->cells[i];
        const cell_result *r = &res[i];
        int cat = 0;
        ntk_regime reg;
        if (ntk_regime_classify(&ro, &r->sum, &reg, &cat) != NTK_OK) {
            rc = study_fail("sweep", CLI_EXIT_FAIL);
            break;
        }
        double beta = k->depth > 0 ? (double)k->depth / k->width : 0;
        fig_printf(&b, "%d,%d,%.8g,%.10g,%.8g,%d,%.0f,%s,%s,%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,"
                       "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%d,cells/cell_%05d\n",
                   k->depth, k->width, beta, r->eta, k->lr_frac, k->seed, r->steps,
                   r->sum.diverged ? "diverged" : "completed", ntk_regime_name(reg), cat, r->sum.drift_fro,
                   r->drift_op, tau, ntk_interp_at(r->S, r->t, r->drift, tau), r->sum.lin_err, r->pert_err, r->pw_err,
                   r->sum.loss0, r->sum.loss_T, r->sum.loss_max, r->loss_eval_T, r->sum.lambda_max_0,
                   r->sum.lambda_max_T, r->err_net, r->err_k0, r->err_kT, r->err_kinf, r->rel_kinf, r->rel_kinf_init,
                   (int)reg, i);
    }
    if (!rc) rc = write_groups_csv(s, res);
    for (int i = 0; i < s->ncells; i++) free(res[i].t), free(res[i].drift);
    free(res);
    return write_text(s, "cells.csv", &b, rc);
}

static int finish(sweep_ctx *s, int argc, char **argv)
{
    size_t sh1[1] = {(size_t)s->ncells};
    cli_run_artifact(&s->run, "cells.csv", NULL, NULL, 1, sh1, "one row per cell (docs/sweep.md)");
    cli_run_artifact(&s->run, "groups.csv", NULL, NULL, 0, NULL,
                     "one row per (depth, width, lr_frac): seed percentiles p10/p50/p90 of rel_err_kinf, "
                     "rel_err_kinf_init and test_err_net (docs/sweep.md)");
    cli_run_artifact(&s->run, "cells/", NULL, NULL, 1, sh1,
                     "cell_<i>/: the cell's complete train run directory, plus kinf.npz (infinite-width "
                     "kernel regression)");
    cJSON *extra = cJSON_CreateObject();
    cJSON *sj = cJSON_AddObjectToObject(extra, "sweep");
    const cli_sweep_cfg *w = &s->c.sweep;
    study_nums(sj, "cells ranks lazy_drift lazy_lin_err unstable_loss_ratio catapult_spike",
               (const double[]){s->ncells, s->mpi.size, w->lazy_drift, w->lazy_lin_err, w->unstable_loss_ratio,
                                w->catapult_spike});
    cJSON_AddStringToObject(sj, "test_errors", "root mean squared error per entry on the eval set, "
                                               "sqrt(sum_{i,a} (f_ia - y_ia)^2 / (M k)) over M points and k "
                                               "outputs, network and kernel regression (ridge relative to the "
                                               "kernel's mean diagonal)");
    cJSON_AddStringToObject(sj, "regimes", "unstable: diverged or loss_T >= unstable_loss_ratio * loss0; lazy: "
                                           "drift_fro <= lazy_drift and lin_err <= lazy_lin_err; else "
                                           "weak_feature_learning; catapult: loss_max > (1 + catapult_spike) loss0, "
                                           "converged, lambda_max_T < lambda_max_0");
    ntk_spec spec;
    cli_config cc; /* the manifest's spec: cell 0's */
    int rc = cell_config(s, 0, "", &cc);
    if (!rc) rc = cli_model_spec(&cc.model, &spec);
    if (!rc) rc = cli_run_finish(&s->run, &s->c, &spec, extra, argc, argv);
    else cJSON_Delete(extra);
    cli_config_free(&cc);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_ctx s;
    memset(&s, 0, sizeof s);
    int rc = study_parse(&s.c, argc, argv, "sweep");
    if (rc >= 0) return rc;
    ntk_dist_start(&s.mpi);
    if (s.c.train.resume[0] && (rc = cli_config_reload(&s.c, "sweep"))) goto done;
    if ((rc = build_grid(&s)) || (rc = validate(&s))) goto done;
    if (s.mpi.rank == 0) {
        if (s.c.train.resume[0]) {
            rc = cli_run_open_existing(&s.run, s.c.train.resume, "sweep");
        } else {
            rc = cli_run_create(&s.run, &s.c, "sweep");
            if (!rc && (rc = cli_run_write_config(&s.run, &s.c))) cli_run_abort(&s.run);
        }
        s.run_open = !rc;
        char path[CLI_PATH_MAX + 32];
        if (!rc && ntk_mkdir_p(cli_run_path(&s.run, "cells", path, sizeof path)) != NTK_OK)
            rc = study_fail(NULL, CLI_EXIT_FAIL);
    }
    if ((rc = ntk_dist_agree(&s.mpi, rc))) goto done;
    ntk_dist_bcast(&s.mpi, s.run.dir, sizeof s.run.dir);
    ntk_set_threads(s.c.run.threads);
    rc = ntk_dist_agree(&s.mpi, run_cells(&s, argc, argv));
    if (rc || s.mpi.rank != 0) goto done;
    if ((rc = write_cells_csv(&s))) goto done;
    plot_before_manifest(s.run.dir, "sweep");
    if ((rc = finish(&s, argc, argv))) goto done;
    s.run_open = false;
    printf("ntkdrift sweep: %d cells\n  run directory: %s\n", s.ncells, s.run.dir);
done:
    if (s.run_open) study_run_keep(&s.run, rc, "cells");
    ntk_dist_stop(&s.mpi);
    free(s.cells);
    cli_config_free(&s.c);
    return rc;
}
