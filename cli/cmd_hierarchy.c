/* cmd_hierarchy.c -- `ntkdrift hierarchy`: the neural tangent hierarchy's width study
 * (ntk_nth_study_run; docs/dynamics.md, "The width study") for one model and data set over --widths
 * x --seeds: hierarchy.csv (a row per cell, streamed as the cells finish), hierarchy_summary.csv (per
 * width), slopes.csv, hierarchy.npz (every snapshot's errors and flips), the manifest's crossover
 * widths and wall time, and the figure hierarchy_width. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plots.h"
#include "study.h"

typedef struct {
    const ntk_spec *spec;
    int wmax;
    FILE *csv;
    int rc; /* a failed write: its exit status (the message is printed) */
} hier_ctx;

static double hier_bytes_for(size_t N, void *ctx)
{
    const hier_ctx *h = ctx;
    return ntk_nth_study_bytes(h->spec, h->wmax, N);
}

/* hierarchy.csv's header: width, seed, the run's numbers, the quantities, flips per layer, divergence. */
static char *cells_header(int L)
{
    char *h = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&h, &len);
    if (!m) return NULL;
    fprintf(m, "width,seed,eta,a_lambda_max,loss_0,loss_T,drift_T");
    for (int q = 0; q < NTK_NTHQ_COUNT; q++) fprintf(m, ",%s", ntk_nthq_name(q));
    for (int l = 1; l <= L; l++) fprintf(m, ",flips_l%d", l);
    fprintf(m, ",diverged_3,diverged_4,seconds");
    return fclose(m) == 0 ? h : (free(h), NULL);
}

/* One row of hierarchy.csv when cell (w, s) is done. */
static ntk_status cell_row(void *user, const ntk_nth_study *r, size_t w, size_t s)
{
    hier_ctx *h = user;
    size_t C = r->W * r->S, c = w * r->S + s, L = (size_t)r->L;
    fprintf(h->csv, "%d,%d,%.12g,%.12g,%.12g,%.12g,%.12g", r->widths[w], r->seeds[s], r->eta[c], r->a_lambda_max[c],
            r->loss0[c], r->lossT[c], r->drift[c]);
    for (size_t q = 0; q < NTK_NTHQ_COUNT; q++) fprintf(h->csv, ",%.12g", r->q[q * C + c]);
    for (size_t l = 0; l < L; l++) fprintf(h->csv, ",%.12g", r->flips[c * L + l]);
    fprintf(h->csv, ",%ld,%ld,%.3f\n", r->diverged[c], r->diverged[C + c], r->seconds[c]);
    if ((h->rc = study_log_flush(h->csv, "hierarchy.csv"))) return NTK_EIO;
    fprintf(stderr, "hierarchy: width %d seed %d: e_lin %.4g, e_3 %.4g, e_4 %.4g%s%s (%.1f s)\n", r->widths[w],
            r->seeds[s], r->q[NTK_NTHQ_E_LIN * C + c], r->q[NTK_NTHQ_E_3 * C + c], r->q[NTK_NTHQ_E_4 * C + c],
            r->diverged[c] >= 0 ? ", level 3 diverged" : "", r->diverged[C + c] >= 0 ? ", level 4 diverged" : "",
            r->seconds[c]);
    return NTK_OK;
}

/* hierarchy_summary.csv's header: per quantity and layer a mean and a standard error. */
static char *summary_header(int L)
{
    char *h = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&h, &len);
    if (!m) return NULL;
    fprintf(m, "width,seeds");
    for (int q = 0; q < NTK_NTHQ_COUNT; q++) fprintf(m, ",%s_mean,%s_se", ntk_nthq_name(q), ntk_nthq_name(q));
    for (int l = 1; l <= L; l++) fprintf(m, ",flips_l%d_mean,flips_l%d_se", l, l);
    fprintf(m, ",diverged_3,diverged_4");
    return fclose(m) == 0 ? h : (free(h), NULL);
}

/* hierarchy_summary.csv (per width) and slopes.csv (per quantity). */
static int write_tables(cli_run *run, const ntk_nth_study *r)
{
    char *header = summary_header(r->L);
    FILE *sm = header ? study_open_csv(run, "hierarchy_summary.csv", header) : NULL, *sl = NULL;
    int rc = sm ? 0 : header ? CLI_EXIT_FAIL : study_failf("out of memory");
    free(header);
    size_t W = r->W, L = (size_t)r->L;
    for (size_t w = 0; w < W && !rc; w++) {
        fprintf(sm, "%d,%zu", r->widths[w], r->S);
        for (size_t q = 0; q < NTK_NTHQ_COUNT; q++) fprintf(sm, ",%.12g,%.12g", r->mean[q * W + w], r->se[q * W + w]);
        for (size_t l = 0; l < L; l++) fprintf(sm, ",%.12g,%.12g", r->flips_mean[w * L + l], r->flips_se[w * L + l]);
        fprintf(sm, ",%d,%d\n", r->n_diverged[w], r->n_diverged[W + w]);
    }
    if (!rc) rc = study_log_close(&sm, "hierarchy_summary.csv");
    if (!rc && !(sl = study_open_csv(run, "slopes.csv", "quantity,slope,se,points,width_min,width_max"))) rc = CLI_EXIT_FAIL;
    for (int q = 0; q < NTK_NTHQ_COUNT && !rc; q++) {
        const ntk_width_fit *f = &r->fit[q];
        fprintf(sl, "%s,%.12g,%.12g,%zu,%d,%d\n", ntk_nthq_name(q), f->slope, f->slope_se, f->points, f->width_min,
                f->width_max);
    }
    if (!rc) rc = study_log_close(&sl, "slopes.csv");
    if (sm) fclose(sm);
    if (sl) fclose(sl);
    return rc;
}

/* The manifest's hierarchy block: crossovers, wall time, slopes, the definitions. */
static cJSON *manifest_block(cJSON *extra, const ntk_nth_study *r, const cli_config *c, double wall)
{
    cJSON *hj = cJSON_AddObjectToObject(extra, "hierarchy");
    study_nums(hj, "crossover_3 crossover_4 wall_seconds min_width",
               (const double[]){r->crossover_3, r->crossover_4, wall, r->min_width});
    cJSON_AddStringToObject(hj, "snapshots", c->train.snapshots);
    cJSON_AddStringToObject(hj, "gates", c->train.gates ? "frozen at each cell's initialisation (the gated control)" : "live");
    cJSON *sj = cJSON_AddObjectToObject(hj, "slopes");
    for (int q = 0; q < NTK_NTHQ_COUNT; q++) {
        cJSON *o = cJSON_AddObjectToObject(sj, ntk_nthq_name(q));
        study_nums(o, "slope se points width_min width_max",
                   (const double[]){r->fit[q].slope, r->fit[q].slope_se, (double)r->fit[q].points, r->fit[q].width_min,
                                    r->fit[q].width_max});
    }
    cJSON_AddStringToObject(hj, "e", "||f_t^P - f_t|| / ||f_T - f_0|| for P = lin, 3, 4 (at T; eS: the largest over the "
                                     "snapshots); +inf from the step a truncation diverged");
    cJSON_AddStringToObject(hj, "k", "||K_t^P - K_t||_F / ||K_t - K_0||_F for P = 3, 4, at T");
    cJSON_AddStringToObject(hj, "flips", "share of (hidden unit, training point) pairs of a layer whose pre-activation "
                                         "sign [z > 0] differs from step 0, at T");
    cJSON_AddStringToObject(hj, "slope", "OLS of log(seed mean) on log(width) over the widths >= min_width whose mean "
                                         "is finite and positive; se from the residuals");
    cJSON_AddStringToObject(hj, "crossover", "the smallest width from which on the seed mean of e_P at T is below "
                                             "that of e_lin (null: none)");
    return hj;
}

int cmd_hierarchy(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "hierarchy"); /* the reference setup (CLI_OVERRIDES) */
    if (rc >= 0) return rc;
    study_grid g = {0};
    cli_run run = {0};
    bool run_open = false;
    ntk_dataset d = {0};
    ntk_nth_study r = {0};
    hier_ctx h = {0};
    char desc[CLI_PATH_MAX + 64], *header = NULL;
    ntk_spec spec;
    if ((rc = cli_train_data(&c, &d, desc, sizeof desc)) || (rc = cli_model_spec(&c.model, &spec)) ||
        (rc = study_grid_init(&g, &c, 5)))
        goto done;
    ntk_nth_study_opts o = ntk_nth_study_defaults();
    o.N = d.n_train, o.X = d.X_train, o.y = d.Y_train, o.loss = c.train.loss, o.lr_frac = c.train.lr_frac;
    o.lr = c.train.lr, o.steps = c.train.steps, o.schedule = c.train.snapshots, o.n_widths = (size_t)g.nw;
    o.widths = g.widths, o.n_seeds = (size_t)g.ns, o.seeds = g.seeds, o.min_width = c.study.min_width;
    o.threads = c.run.threads, o.cell_done = cell_row, o.cell_user = &h, o.gates_frozen = c.train.gates;
    if (ntk_nth_study_check(&spec, &o) != NTK_OK) {
        rc = study_fail(NULL, CLI_EXIT_USAGE);
        goto done;
    }
    h.spec = &spec, h.wmax = g.widths[g.nw - 1]; /* increasing: checked */
    if ((rc = cli_check_memory(&c.run, d.n_train, hier_bytes_for, &h,
                               "the widest cell's network and trainer, O3, O4 and the integrators")))
        goto done;
    if ((rc = study_run_start(&run, &c, "hierarchy", &run_open))) goto done;
    if (!(header = cells_header(spec.depth)) || !(h.csv = study_open_csv(&run, "hierarchy.csv", header))) {
        rc = header ? CLI_EXIT_FAIL : study_failf("out of memory");
        goto done;
    }
    ntk_status st = ntk_nth_study_run(&spec, &o, &r);
    double wall = cli_now() - run.t0;
    if (st != NTK_OK) {
        rc = h.rc ? h.rc : study_fail(NULL, CLI_EXIT_FAIL);
        goto done;
    }
    if ((rc = study_log_close(&h.csv, "hierarchy.csv")) || (rc = write_tables(&run, &r))) goto done;
    size_t W = r.W, S = r.S, J = r.J, L = (size_t)r.L;
    const study_member m[8] = {
        {"e", 4, {3, W, S, J}, r.e_t, "e_lin, e_3, e_4 per (width, seed, snapshot): ||f_t^P - f_t|| / ||f_T - f_0||", NTK_F64},
        {"k", 4, {2, W, S, J}, r.k_t, "k_3, k_4 per (width, seed, snapshot): ||K_t^P - K_t||_F / ||K_t - K_0||_F", NTK_F64},
        {"flips", 4, {W, S, J, L}, r.flips_t, "sign flips per (width, seed, snapshot, hidden layer)", NTK_F64},
        {"steps", 1, {J}, r.steps, "the snapshot steps", NTK_I64},
        {"widths", 1, {W}, r.widths, "widths", NTK_I32},
        {"seeds", 1, {S}, r.seeds, "seeds", NTK_I32},
        {"X", 2, {d.n_train, (size_t)d.n0}, d.X_train, "inputs", NTK_F64},
        {"y", 1, {d.n_train}, d.Y_train, "targets", NTK_F64}};
    if ((rc = study_write_npz(&run, "hierarchy.npz", m, 8))) goto done;
    cli_run_artifact(&run, "hierarchy.csv", NULL, NULL, 1, (size_t[]){W * S},
                     "one row per (width, seed): eta, eta c lambda_max(K_0), the losses at 0 and T, the kernel drift at "
                     "T, e_lin e_3 e_4 at T, their largest over the snapshots (eS_*), k_3 k_4 at T, the sign flips per "
                     "hidden layer at T, the step each truncation diverged (-1: never), seconds");
    cli_run_artifact(&run, "hierarchy_summary.csv", NULL, NULL, 1, (size_t[]){W},
                     "per width: seed means and standard errors of every quantity and of the flips, and the seeds whose "
                     "level 3 / level 4 truncation diverged");
    cli_run_artifact(&run, "slopes.csv", NULL, NULL, 1, (size_t[]){NTK_NTHQ_COUNT},
                     "per quantity: OLS slope of log(seed mean) on log(width) over the widths >= min_width, its "
                     "standard error, the widths used");
    cJSON *extra = cJSON_CreateObject();
    manifest_block(extra, &r, &c, wall);
    study_data_json(extra, desc, d.n_train);
    ntk_spec s0 = study_cell_spec(&g, &spec, spec.depth, g.widths[0]);
    plot_before_manifest(run.dir, "hierarchy");
    if ((rc = study_run_finish(&run, &c, &s0, extra, argc, argv, &run_open))) goto done;
    for (int q = NTK_NTHQ_E_LIN; q <= NTK_NTHQ_E_4; q++)
        printf("%s: log-log slope in width %.3f +- %.3f (%zu widths)\n", ntk_nthq_name(q), r.fit[q].slope,
               r.fit[q].slope_se, r.fit[q].points);
    printf("crossover width: level 3 %g, level 4 %g\nntkdrift hierarchy: %zu widths x %zu seeds, N = %zu, %.1f s\n"
           "  run directory: %s\n", r.crossover_3, r.crossover_4, W, S, d.n_train, wall, run.dir);
done:
    if (h.csv) fclose(h.csv);
    if (run_open) cli_run_abort(&run);
    free(header);
    ntk_nth_study_clear(&r);
    ntk_dataset_clear(&d);
    study_grid_free(&g);
    cli_config_free(&c);
    return rc;
}
