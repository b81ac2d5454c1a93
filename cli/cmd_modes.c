/* cmd_modes.c -- `ntkdrift modes`: the sampled, finite-width kernel operator against the continuum over
 * sample sizes x widths x seeds (ntk_modes_cell: lemma objects, eigenspaces against the Fourier planes,
 * leakage, regression against the limit) and the concentration Monte Carlo (ntk_concentration_run) with
 * its tail bound, into modes.csv, concentration.csv and exceedance.csv (docs/modes.md). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plots.h"
#include "study.h"

typedef struct {
    cli_config c;
    ntk_spec spec;
    int *ns, nn, *seeds, nseeds, *wid; /* wid: [depth] scratch for the cells' specs */
    int K;
    cli_run run;
    bool run_open;
    FILE *csv;
} modes_ctx;

/* The kernel source of one cell: the model's NTK at `width` and `seed`, or --kernel when width is 0. */
static int cell_source(modes_ctx *x, int width, int seed, ntk_kernel_source *src)
{
    memset(src, 0, sizeof *src);
    if (width > 0) {
        for (int l = 0; l < x->spec.depth; l++) x->wid[l] = width;
        src->kind = NTK_KSRC_EMPIRICAL, src->spec = x->spec, src->spec.widths = x->wid, src->seed = (uint64_t)seed;
        return 0;
    }
    if (ntk_ksrc_parse(x->c.modes.kernel, &src->kind) != NTK_OK || src->kind == NTK_KSRC_MATRIX)
        return cli_errorf("kernel: modes takes theta_bias|theta_nobias|k0|k1|limit|empirical (or --widths), got '%s'",
                          x->c.modes.kernel);
    src->spec = x->spec, src->seed = (uint64_t)seed;
    return 0;
}

/* One row of modes.csv per (n, width, seed). */
static int cells(modes_ctx *x, const int *widths, int nw)
{
    int K = x->K, rc = 0;
    ntk_plane_match *pl = malloc(((size_t)K + 1) * sizeof *pl);
    if (!pl) return study_failf("modes: out of memory");
    for (int a = 0; a < x->nn && !rc; a++) {
        ntk_dataset d;
        char desc[CLI_PATH_MAX + 64];
        x->c.data.n = x->ns[a];
        if ((rc = cli_train_data(&x->c, &d, desc, sizeof desc))) break;
        for (int b = 0; b < nw && !rc; b++)
            for (int s = 0; s < x->nseeds && !rc; s++) {
                ntk_modes_opts mo = ntk_modes_opts_defaults();
                mo.kmax = K, mo.search = (size_t)x->c.modes.search, mo.ridge = x->c.train.ridge;
                ntk_modes_result r = {.planes = pl};
                if ((rc = cell_source(x, widths[b], x->seeds[s], &mo.src))) break;
                if (ntk_modes_cell(&mo, &d, &r) != NTK_OK) {
                    rc = study_fail("modes", CLI_EXIT_USAGE);
                    break;
                }
                const ntk_lemma_norms *l = &r.lemma;
                fprintf(x->csv, "%d,%d,%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g", x->ns[a],
                        widths[b], x->seeds[s], l->G_max, l->G_fro, l->H_max, l->H_fro, l->E_max, l->E_fro, r.leakage,
                        r.pred_err, r.pred_err_inf, r.pred_rel_inf);
                for (int k = 0; k <= K; k++) fprintf(x->csv, ",%.10g,%.10g", pl[k].angle_max, pl[k].eig_err);
                fprintf(x->csv, "\n");
                rc = study_log_flush(x->csv, "modes.csv");
                fprintf(stderr, "modes: n %d width %d seed %d: leakage %.4g\n", x->ns[a], widths[b], x->seeds[s],
                        r.leakage);
            }
        ntk_dataset_clear(&d);
    }
    free(pl);
    return rc;
}

/* The continuum eigenvalues lambda_k and Theta(0) of the source of width 0 (the spec's limit when
 * widths are given) from a problem on a small grid; *p keeps the profile for the sample kind. */
static int continuum(modes_ctx *x, bool widths, ntk_kgd_problem *p)
{
    ntk_dataset d;
    char desc[CLI_PATH_MAX + 64];
    x->c.data.n = 2 * x->K + 2;
    snprintf(x->c.data.data, sizeof x->c.data.data, "circle");
    int rc = cli_train_data(&x->c, &d, desc, sizeof desc);
    if (rc) return rc;
    ntk_kernel_source src;
    if (!(rc = cell_source(x, 0, 0, &src))) {
        if (widths) src.kind = NTK_KSRC_LIMIT;
        ntk_kgd_problem_opts po = ntk_kgd_problem_defaults();
        po.kmax = x->K;
        if (ntk_kgd_problem_build(&src, &d, &po, p) != NTK_OK || !p->lambda) rc = study_fail("modes", CLI_EXIT_USAGE);
    }
    ntk_dataset_clear(&d);
    return rc;
}

/* concentration.csv (per seed) and exceedance.csv (per epsilon) of one kind. */
static int concentration(modes_ctx *x, ntk_conc_kind kind, const int *widths, int nw, ntk_kgd_problem *p,
                         FILE *cc, FILE *ex)
{
    size_t cells = kind == NTK_CONC_WIDTH ? (size_t)nw : (size_t)x->nn, S = (size_t)x->nseeds;
    size_t ne = (size_t)x->c.modes.eps_count;
    size_t *ns = malloc(cells * sizeof *ns);
    double *B = malloc(cells * S * 3 * sizeof *B), *F = malloc(cells * S * 3 * sizeof *F), *bias = malloc(cells * 3 * sizeof *bias);
    double *exc = malloc((cells * ne + 1) * sizeof *exc), *bd = malloc((cells * ne + 1) * sizeof *bd);
    int rc = ns && B && F && bias && exc && bd ? 0 : study_failf("modes: out of memory");
    for (size_t i = 0; !rc && kind == NTK_CONC_SAMPLE && i < cells; i++) ns[i] = (size_t)x->ns[i];
    ntk_conc_opts o = ntk_conc_opts_defaults();
    o.kind = kind, o.K = x->K, o.spec = &x->spec, o.widths = widths, o.n = (size_t)x->ns[0], o.ns = ns;
    o.profile = ntk_kgd_problem_profile, o.profile_ctx = p, o.n_cells = cells, o.lambda = p->lambda;
    o.theta0 = p->theta0, o.seeds = x->nseeds, o.seed = (uint64_t)x->seeds[0], o.eps = x->c.modes.eps, o.n_eps = ne;
    o.c = x->c.modes.bound_c, o.L = x->c.modes.bound_l, o.threads = x->c.run.threads;
    ntk_lemma_norms *lem = malloc(cells * S * sizeof *lem);
    if (!rc && !lem) rc = study_failf("modes: out of memory");
    ntk_conc_result r = {.B = B, .F = F, .lemma = lem, .bias = bias, .exceed = exc, .bound = bd};
    if (!rc && ntk_concentration_run(&o, &r) != NTK_OK) rc = study_fail("modes: concentration", CLI_EXIT_USAGE);
    const char *kn = kind == NTK_CONC_WIDTH ? "width" : "sample";
    for (size_t i = 0; !rc && i < cells; i++) {
        int m = kind == NTK_CONC_WIDTH ? widths[i] : x->ns[i];
        for (size_t s = 0; s < S; s++) {
            const double *b = B + 3 * (i * S + s), *f = F + 3 * (i * S + s);
            const ntk_lemma_norms *l = lem + i * S + s;
            fprintf(cc, "%s,%d,%d,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n",
                    kn, m, x->seeds[0] + (int)s, b[0], b[1], b[2], f[0], f[1], f[2], bias[3 * i], bias[3 * i + 1],
                    bias[3 * i + 2], l->G_max, l->G_fro, l->H_max, l->H_fro, l->E_max, l->E_fro);
        }
        for (size_t e = 0; e < ne; e++)
            fprintf(ex, "%s,%d,%.10g,%.10g,%.10g\n", kn, m, x->c.modes.eps[e], exc[i * ne + e], bd[i * ne + e]);
    }
    free(ns), free(B), free(F), free(bias), free(exc), free(bd), free(lem);
    return rc ? rc : study_log_flush(cc, "concentration.csv") || study_log_flush(ex, "exceedance.csv");
}

int cmd_modes(int argc, char **argv)
{
    modes_ctx x = {0};
    int rc = study_parse(&x.c, argc, argv, "modes");
    if (rc >= 0) return rc;
    cli_config *c = &x.c;
    FILE *cc = NULL, *ex = NULL;
    ntk_kgd_problem p = {0};
    bool built = false;
    int nw = c->study.widths_count, zero = 0, *widths = nw ? c->study.widths : &zero;
    int default_seeds[5] = {0, 1, 2, 3, 4};
    x.K = c->modes.kmax;
    x.ns = c->modes.ns_count ? c->modes.ns : (int[]){(int)c->data.n};
    x.nn = c->modes.ns_count ? c->modes.ns_count : 1;
    x.seeds = c->study.seeds_count ? c->study.seeds : default_seeds;
    x.nseeds = c->study.seeds_count ? c->study.seeds_count : 5;
    c->model.n0 = 2;
    if ((rc = cli_model_spec(&c->model, &x.spec))) goto done;
    if (!(x.wid = malloc((size_t)(x.spec.depth > 0 ? x.spec.depth : 1) * sizeof *x.wid))) {
        rc = study_failf("modes: out of memory");
        goto done;
    }
    if ((rc = study_run_start(&x.run, c, "modes", &x.run_open))) goto done;
    char hdr[64 * 1024];
    size_t hl = (size_t)snprintf(hdr, sizeof hdr, "n,width,seed,G_max,G_fro,H_max,H_fro,E_max,E_fro,leakage,pred_err,"
                                                  "pred_err_inf,pred_rel_inf");
    for (int k = 0; k <= x.K && hl < sizeof hdr; k++) hl += (size_t)snprintf(hdr + hl, sizeof hdr - hl, ",angle_%d,eig_err_%d", k, k);
    if (hl >= sizeof hdr) {
        rc = cli_errorf("modes: kmax %d is too large for the table", x.K);
        goto done;
    }
    if (!(x.csv = study_open_csv(&x.run, "modes.csv", hdr))) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    char data_kind[CLI_PATH_MAX];
    snprintf(data_kind, sizeof data_kind, "%s", c->data.data);
    if ((!c->modes.no_cells && (rc = cells(&x, widths, nw ? nw : 1))) || (rc = study_log_close(&x.csv, "modes.csv")))
        goto done;
    if (!(cc = study_open_csv(&x.run, "concentration.csv",
                              "kind,m,seed,B_max,B_fro,B_op,F_max,F_fro,F_op,bias_max,bias_fro,bias_op,G_max,G_fro,"
                              "H_max,H_fro,E_max,E_fro")) ||
        !(ex = study_open_csv(&x.run, "exceedance.csv", "kind,m,eps,exceed,bound"))) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if ((rc = continuum(&x, nw > 0, &p))) goto done;
    built = true;
    FILE *cf = study_open_csv(&x.run, "continuum.csv", "k,lambda");
    for (int k = 0; cf && k <= x.K; k++) fprintf(cf, "%d,%.17g\n", k, p.lambda[k]);
    if (!cf || (rc = study_log_close(&cf, "continuum.csv"))) {
        rc = rc ? rc : CLI_EXIT_FAIL;
        goto done;
    }
    snprintf(c->data.data, sizeof c->data.data, "%s", data_kind);
    if (nw) rc = concentration(&x, NTK_CONC_WIDTH, widths, nw, &p, cc, ex);
    else rc = concentration(&x, NTK_CONC_SAMPLE, widths, nw, &p, cc, ex);
    if (rc || (rc = study_log_close(&cc, "concentration.csv")) || (rc = study_log_close(&ex, "exceedance.csv"))) goto done;
    cJSON *extra = cJSON_CreateObject();
    cJSON *mj = cJSON_AddObjectToObject(extra, "modes");
    cJSON_AddStringToObject(mj, "source", nw ? "empirical NTK of the model at each width" : c->modes.kernel);
    cJSON_AddStringToObject(mj, "concentration", nw ? "finite width, on the grid of the first n" : "finite sample");
    cJSON_AddStringToObject(mj, "operator", "A = K/n; B = Phi^T A Phi / n - Lambda_K");
    plot_before_manifest(x.run.dir, "modes");
    if ((rc = study_run_finish(&x.run, c, &x.spec, extra, argc, argv, &x.run_open))) goto done;
    printf("ntkdrift modes: %d sample size(s) x %d width(s) x %d seed(s), K = %d\n  run directory: %s\n", x.nn,
           nw ? nw : 1, x.nseeds, x.K, x.run.dir);
done:
    if (x.csv) fclose(x.csv);
    if (cc) fclose(cc);
    if (ex) fclose(ex);
    if (built) ntk_kgd_problem_clear(&p);
    if (x.run_open) cli_run_abort(&x.run);
    free(x.wid);
    cli_config_free(c);
    return rc;
}
