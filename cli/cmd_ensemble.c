/* cmd_ensemble.c -- `ntkdrift ensemble`: the library's ensemble cells (ntk_ensemble_cell,
 * docs/ensemble.md) on a (depth, width) grid or on lines of fixed beta, over OpenMP threads and MPI
 * ranks (ntk_dist).  Here: configuration -> options, the run directory, cells.csv (statistics and
 * theory columns), samples.npz, the checkpoint of every completed cell (cells/cell_<i>.npz;
 * --resume skips those), the manifest and the figures. */
#include <math.h>
#include <stdlib.h>

#include "commands.h"
#include "fsutil.h" /* ntk_mkdir_p: the library's private file-system helpers */
#include "plots.h"
#include "study.h"

typedef struct {
    cli_config c;
    study_grid g;
    ntk_spec base;
    ntk_ensemble_opts o;
    double *x, *xp;        /* [n0] the probes */
    double *layers;        /* [M x (depth + 1)] of the current cell: per-layer terms K^(l)(x,x) per member */
    double *q[NTK_ENS_NQ]; /* [ncells x M] per quantity */
    double *R;             /* [ncells] R of each cell (rank 0), for the log R - beta line */
    double sec_sampling;   /* wall seconds of the members (this rank) */
    int M, ncells;
    int *cdepth, *cwidth;  /* [ncells] the cells: the depth x width grid, or lines of fixed beta */
    cli_run run;
    bool run_open;
    bool keep; /* config.yaml and cells/ exist: a failure keeps the finished cells for --resume */
    ntk_dist dist;
} ens_ctx;

static ntk_ensemble_samples cell_samples(const ens_ctx *e, int cell, int depth)
{
    ntk_ensemble_samples s = {.members = (size_t)e->M, .depth = depth, .layers = e->layers};
    for (int k = 0; k < NTK_ENS_NQ; k++) s.q[k] = e->q[k] + (size_t)cell * (size_t)e->M;
    return s;
}

static void cell_path(const ens_ctx *e, int cell, char *buf, size_t cap)
{
    char rel[48];
    snprintf(rel, sizeof rel, "cells/cell_%05d.npz", cell);
    cli_run_path(&e->run, rel, buf, cap);
}

/* All members of one cell (every rank), then its checkpoint (rank 0). */
static int run_cell(ens_ctx *e, int cell, const ntk_spec *s, ntk_ensemble_stats *st)
{
    ntk_ensemble_samples smp = cell_samples(e, cell, s->depth);
    if (ntk_ensemble_cell(s, &e->o, (uint64_t)cell, &smp, e->dist.rank == 0 ? st : NULL) != NTK_OK)
        return study_fail(NULL, CLI_EXIT_FAIL);
    e->sec_sampling += st->seconds;
    if (e->dist.rank != 0) return 0;
    char path[CLI_PATH_MAX + 64];
    cell_path(e, cell, path, sizeof path);
    study_member m[NTK_ENS_NQ + 1] = {[NTK_ENS_NQ] = {"K_layers", 2, {(size_t)e->M, (size_t)s->depth + 1}, .data = e->layers}};
    for (int k = 0; k < NTK_ENS_NQ; k++)
        m[k] = (study_member){ntk_ensemble_q_name((ntk_ensemble_q)k), 1, {(size_t)e->M}, .data = smp.q[k]};
    if (study_npz(path, m, NTK_ENS_NQ + 1) == NTK_OK) return 0;
    return study_failf("ensemble: writing %s: %s", path, ntk_last_error());
}

/* A checkpointed cell, if its file exists and matches. */
static int load_cell(ens_ctx *e, int cell, bool *done)
{
    char path[CLI_PATH_MAX + 64];
    cell_path(e, cell, path, sizeof path);
    if (!(*done = study_exists(path, ""))) return 0;
    ntk_ensemble_samples smp = cell_samples(e, cell, 0);
    for (int k = 0; k < NTK_ENS_NQ; k++)
        if (ntk_npz_read_into(path, ntk_ensemble_q_name((ntk_ensemble_q)k), smp.members, smp.q[k]) != NTK_OK)
            return cli_errorf("resume: %s does not match this run (%s)", path, ntk_last_error());
    return 0;
}

static void write_row(FILE *csv, const ntk_spec *s, int width, int M, double sn, double angle,
                      const ntk_ensemble_stats *st)
{
    ntk_ensemble_theory th;
    ntk_ensemble_theory_of(s, width, sn, &th);
    const double *mu = st->mean, *se = st->se;
    fprintf(csv,
            "%d,%d,%.8g,%d,%.8g,%.10g,%.6g,%.10g,%.8g,%.6g,%.8g,%.8g,%.10g,%.8g,%.6g,%.8g,%.8g,%.6g,%.8g,%.10g,%.6g,"
            "%.10g,%.6g,%.8g,%d,%d,%.8g,%.10g,%.6g,%.8g,%.6g,%.10g,%.6g\n",
            s->depth, width, th.beta, M, sn, mu[NTK_ENS_K], se[NTK_ENS_K], th.K_mean, st->R, st->R_log_se, st->R_boot_lo,
            st->R_boot_hi, mu[NTK_ENS_K_READOUT], st->Kd_R, st->Kd_R_log_se, th.Kd_R, st->Kw_R, st->Kw_R_log_se,
            th.exp5beta, mu[NTK_ENS_DK_PATH], se[NTK_ENS_DK_PATH], mu[NTK_ENS_DK_LITERAL], se[NTK_ENS_DK_LITERAL],
            th.dK_scale, st->warn_ceiling, st->warn_tail, angle, mu[NTK_ENS_K_OFF], se[NTK_ENS_K_OFF], st->Koff_R,
            st->Koff_R_log_se, mu[NTK_ENS_RHO_OFF], se[NTK_ENS_RHO_OFF]);
}

static int write_samples(ens_ctx *e)
{
    size_t nc = (size_t)e->ncells;
    char meaning[NTK_ENS_NQ][160];
    study_member m[NTK_ENS_NQ + 2] = {[NTK_ENS_NQ] = {"depth", 1, {nc}, e->cdepth, NULL, NTK_I32},
                                      {"width", 1, {nc}, e->cwidth, NULL, NTK_I32}};
    for (int k = 0; k < NTK_ENS_NQ; k++) {
        const char *name = ntk_ensemble_q_name((ntk_ensemble_q)k);
        snprintf(meaning[k], sizeof meaning[k], "per member (cell, member): %s%s", name,
                 k == NTK_ENS_DK_PATH      ? " = pathwise first-step dK(x,x)/lambda (masks frozen)"
                 : k == NTK_ENS_DK_LITERAL ? " = literal one-step (K(theta - lambda grad) - K)/lambda"
                 : k == NTK_ENS_K_OFF      ? " = K(x, x') at the manifest's angle (an independent network per member)"
                 : k == NTK_ENS_RHO_OFF    ? " = K(x, x') / sqrt(K(x, x) K(x', x')) of that network" : "");
        m[k] = (study_member){name, 2, {nc, (size_t)e->M}, e->q[k], meaning[k], NTK_F64};
    }
    return study_write_npz(&e->run, "samples.npz", m, NTK_ENS_NQ + 2);
}

/* The cells (grid or lines of fixed beta), the buffers, the probes and the options. */
static int setup(ens_ctx *e)
{
    cli_config *c = &e->c;
    int rc;
    if ((rc = cli_model_spec(&c->model, &e->base))) return rc;
    if (e->base.outputs != 1) return cli_errorf("outputs: ensemble samples scalar networks (outputs = 1)");
    if (c->ensemble.angle >= 0 && c->ensemble.angle != 0 && c->ensemble.angle != 180 && c->model.n0 < 2)
        return cli_errorf("--angle: with n0 = 1 the second probe can only be at 0 or 180 degrees (got %g)",
                          c->ensemble.angle);
    if ((rc = study_grid_init(&e->g, c, 1))) return rc;
    e->M = (int)c->ensemble.members;
    e->ncells = c->study.betas_count ? c->study.betas_count * e->g.nw : e->g.nd * e->g.nw;
    size_t nc = (size_t)e->ncells;
    e->cdepth = malloc(2 * nc * sizeof *e->cdepth); /* cdepth, then cwidth */
    e->R = malloc(nc * sizeof *e->R);
    if (!e->cdepth || !e->R) return CLI_EXIT_FAIL;
    e->cwidth = e->cdepth + nc;
    int dmax = 0;
    if (ntk_ensemble_grid((size_t)e->g.nd, e->g.depths, (size_t)c->study.betas_count, c->study.betas,
                          (size_t)e->g.nw, e->g.widths, e->cdepth, e->cwidth, &dmax) != NTK_OK)
        return study_fail(NULL, CLI_EXIT_FAIL);
    e->x = malloc(2 * (size_t)c->model.n0 * sizeof *e->x); /* x, then xp */
    e->xp = e->x ? e->x + c->model.n0 : NULL;
    bool have_q = true; /* every accumulator, not only the last one allocated */
    for (int k = 0; k < NTK_ENS_NQ; k++) have_q = (e->q[k] = malloc(nc * (size_t)e->M * sizeof(double))) && have_q;
    e->layers = malloc((size_t)e->M * (size_t)(dmax + 1) * sizeof *e->layers);
    if (!e->x || !have_q || !e->layers) return study_failf("out of memory for %d cells x %d members", e->ncells, e->M);
    if (ntk_ensemble_probes(c->data.seed, c->model.n0, c->ensemble.s, c->ensemble.angle, e->x, e->xp) != NTK_OK)
        return study_fail(NULL, CLI_EXIT_FAIL);
    const cli_ensemble_cfg *en = &c->ensemble;
    ntk_ensemble_opts *o = &e->o;
    *o = ntk_ensemble_defaults();
    o->members = (size_t)e->M, o->x = e->x, o->xp = en->angle >= 0 ? e->xp : NULL;
    o->lr = en->lr, o->y = en->y, o->seed = c->run.seed, o->threads = c->run.threads, o->dist = &e->dist;
    o->no_updates = en->no_updates, o->no_literal = en->no_literal, o->sampler_full = en->sampler;
    return 0;
}

/* The manifest's ensemble block, the log R - beta line and the artifacts (rank 0, after the cells). */
static int finish(ens_ctx *e, int argc, char **argv)
{
    const cli_ensemble_cfg *en = &e->c.ensemble;
    cJSON *extra = cJSON_CreateObject();
    cJSON *ej = cJSON_AddObjectToObject(extra, "ensemble");
    study_nums(ej, "members ranks s angle_deg lambda y",
               (const double[]){e->M, e->dist.size, en->s, en->angle >= 0 ? en->angle : NAN, en->lr, en->y});
    cJSON_AddStringToObject(ej, "sampler",
                            en->sampler ? "full-matrix path (every weight drawn) for K(x,x), f and the pathwise update; "
                                              "parts and K(x,x') NaN"
                                            : "exact lazy O(depth x width) for K, its parts, K(x,x') and the pathwise update "
                                              "(docs/ensemble.md); full-matrix path for the literal one-step update");
    cJSON_AddNumberToObject(ej, "seconds_sampling", e->sec_sampling);
    double slope, se;
    size_t nfit = 0;
    if (ntk_ensemble_fit((size_t)e->ncells, e->cdepth, e->cwidth, e->R, &slope, &se, &nfit) == NTK_OK && nfit >= 2) {
        study_nums(ej, "logR_vs_beta_slope logR_vs_beta_slope_se", (const double[]){slope, se});
        printf("log R against beta: slope %.3f +- %.3f over %zu cells (Hanin-Nica: R ~ exp(5 beta) up to constants)\n",
               slope, se, nfit);
    }
    size_t shc[1] = {(size_t)e->ncells};
    cli_run_artifact(&e->run, "cells.csv", NULL, NULL, 1, shc,
                     "one row per (depth, width) cell: statistics and theory columns");
    cli_run_artifact(&e->run, "cells/", NULL, NULL, 1, shc, "cell_<i>.npz: the per-member samples of each completed "
                     "cell, with K_layers (M, depth + 1): the per-layer terms K^(l)(x,x) of each member (lazy sampler)");
    int rc = write_samples(e);
    if (rc) {
        cJSON_Delete(extra);
        return rc;
    }
    ntk_spec s0 = study_cell_spec(&e->g, &e->base, e->cdepth[0], e->cwidth[0]);
    plot_before_manifest(e->run.dir, "ensemble");
    if ((rc = cli_run_finish(&e->run, &e->c, &s0, extra, argc, argv))) return rc;
    e->run_open = false;
    printf("ntkdrift ensemble: %d cells x %d members\n  run directory: %s\n", e->ncells, e->M, e->run.dir);
    return 0;
}

static int open_run(ens_ctx *e)
{
    cli_config *c = &e->c;
    int rc = c->train.resume[0] ? cli_run_open_existing(&e->run, c->train.resume, "ensemble")
                                : cli_run_create(&e->run, c, "ensemble");
    if (!rc && !c->train.resume[0]) rc = cli_run_write_config(&e->run, c);
    e->run_open = true;
    char path[CLI_PATH_MAX + 64];
    if (!rc && ntk_mkdir_p(cli_run_path(&e->run, "cells", path, sizeof path)) != NTK_OK)
        rc = study_fail(NULL, CLI_EXIT_FAIL);
    e->keep = rc == 0;
    return rc;
}

int cmd_ensemble(int argc, char **argv)
{
    ens_ctx e = {0};
    cli_config *c = &e.c;
    int rc = study_parse(c, argc, argv, "ensemble");
    if (rc >= 0) return rc;
    FILE *csv = NULL;
    ntk_dist_start(&e.dist);
    if (c->train.resume[0] && (rc = cli_config_reload(c, "ensemble"))) goto done;
    if ((rc = setup(&e))) goto done;
    if (e.dist.rank == 0) rc = open_run(&e);
    if ((rc = ntk_dist_agree(&e.dist, rc))) goto done;
    ntk_dist_bcast(&e.dist, e.run.dir, sizeof e.run.dir);
    if (e.dist.rank == 0)
        csv = study_open_csv(&e.run, "cells.csv",
                         "depth,width,beta,members,s,K_mean,K_se,K_theory,R,R_log_se,R_boot_lo,R_boot_hi,Kd_mean,Kd_R,"
                         "Kd_R_log_se,Kd_R_theory,Kw_R,Kw_R_log_se,exp5beta,dK_path_mean,dK_path_se,dK_lit_mean,"
                         "dK_lit_se,dK_scale_theory,warn_ceiling,warn_tail,angle,Koff_mean,Koff_se,Koff_R,Koff_R_log_se,"
                         "rho_mean,rho_se");
    if ((rc = ntk_dist_agree(&e.dist, e.dist.rank == 0 && !csv ? CLI_EXIT_FAIL : 0))) goto done;
    int log_rc = 0; /* rank 0 could not write cells.csv; agreed before the next cell */
    for (int cell = 0; cell < e.ncells && !rc; cell++) {
        ntk_spec s = study_cell_spec(&e.g, &e.base, e.cdepth[cell], e.cwidth[cell]);
        bool done = false;
        double t0 = cli_now();
        ntk_ensemble_stats st = {0};
        if ((rc = ntk_dist_agree(&e.dist, log_rc))) break;
        rc = ntk_dist_agree(&e.dist, load_cell(&e, cell, &done));
        if (!rc && !done) rc = ntk_dist_agree(&e.dist, run_cell(&e, cell, &s, &st));
        if (rc) break;
        if (e.dist.rank != 0) continue;
        ntk_ensemble_samples smp = cell_samples(&e, cell, s.depth);
        if (done) ntk_ensemble_stats_compute(&smp, c->run.seed, (uint64_t)cell, &st);
        e.R[cell] = st.R;
        write_row(csv, &s, e.cwidth[cell], e.M, c->ensemble.s, c->ensemble.angle >= 0 ? c->ensemble.angle : NAN, &st);
        if ((log_rc = study_log_flush(csv, "cells.csv"))) continue;
        fprintf(stderr, "ensemble: depth %d width %d: E[K] %.4g +- %.2g, R %.4g, %s %.2f s\n", s.depth,
                e.cwidth[cell], st.mean[NTK_ENS_K], st.se[NTK_ENS_K], st.R, done ? "resumed," : "", cli_now() - t0);
    }
    if (!rc) rc = ntk_dist_agree(&e.dist, log_rc);
    if (!rc && e.dist.rank == 0 && !(rc = study_log_close(&csv, "cells.csv"))) rc = finish(&e, argc, argv);
done:
    if (csv) fclose(csv);
    if (e.run_open && rc && (e.keep || c->train.resume[0])) study_run_keep(&e.run, rc, "cells");
    else if (e.run_open && rc) cli_run_abort(&e.run);
    ntk_dist_stop(&e.dist);
    study_grid_free(&e.g);
    free(e.x), free(e.cdepth), free(e.R), free(e.layers);
    for (int k = 0; k < NTK_ENS_NQ; k++) free(e.q[k]);
    cli_config_free(c);
    return rc;
}
