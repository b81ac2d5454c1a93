/* cmd_kgd.c -- `ntkdrift kgd`: operator gradient descent on a kernel source (ntk_kgd_problem_build,
 * ntk_kgd_run; docs/modes.md), the residual's Fourier and eigenvector modes per snapshot into
 * modes.npz, and the mode-decay figure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plots.h"
#include "study.h"

typedef struct {
    size_t S, cap, K1, top_k;
    double *step, *t, *loss, *loss_eval, *coef, *plane, *coef_e, *plane_e, *ideal, *proj;
    bool have_eval, have_ideal;
} rows;

/* Room for one more snapshot in every column. */
static int grow(rows *r)
{
    if (r->S < r->cap) return 0;
    size_t cap = r->cap ? 2 * r->cap : 32, w = 2 * r->K1 - 1;
    double **cols[] = {&r->step, &r->t, &r->loss, &r->loss_eval, &r->coef, &r->plane, &r->coef_e, &r->plane_e, &r->ideal, &r->proj};
    size_t per[] = {1, 1, 1, 1, w, r->K1, w, r->K1, r->K1, r->top_k ? r->top_k : 1};
    for (size_t i = 0; i < sizeof per / sizeof *per; i++) {
        double *p = realloc(*cols[i], cap * per[i] * sizeof *p);
        if (!p) return study_failf("kgd: out of memory for %zu snapshots", cap);
        *cols[i] = p;
    }
    r->cap = cap;
    return 0;
}

static void put(double *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = src ? src[i] : NAN;
}

static ntk_status on_snapshot(void *user, const ntk_kgd_snapshot *s)
{
    rows *r = user;
    if (grow(r)) return NTK_ENOMEM;
    size_t i = r->S++, w = 2 * r->K1 - 1;
    r->step[i] = (double)s->step, r->t[i] = s->t, r->loss[i] = s->loss, r->loss_eval[i] = s->loss_eval;
    put(r->coef + i * w, s->coef_train, w), put(r->plane + i * r->K1, s->plane_train, r->K1);
    put(r->coef_e + i * w, s->coef_eval, w), put(r->plane_e + i * r->K1, s->plane_eval, r->K1);
    put(r->ideal + i * r->K1, s->ideal_plane, r->K1), put(r->proj + i * r->top_k, s->proj_eig, r->top_k);
    r->have_eval = s->coef_eval != NULL, r->have_ideal = s->ideal_plane != NULL;
    fprintf(stderr, "kgd: step %ld  t %.4g  loss %.6e\n", s->step, s->t, s->loss);
    return NTK_OK;
}

static void rows_free(rows *r)
{
    free(r->step), free(r->t), free(r->loss), free(r->loss_eval), free(r->coef), free(r->plane);
    free(r->coef_e), free(r->plane_e), free(r->ideal), free(r->proj);
}

/* The kernel source of --kernel: a word, or a file (K, and K_eval when an .npz has it). */
static int kernel_source(cli_config *c, const ntk_dataset *d, ntk_kernel_source *src, ntk_net **net, ntk_array *K,
                         ntk_array *Ke, ntk_spec *spec)
{
    memset(src, 0, sizeof *src);
    const char *k = c->modes.kernel;
    size_t len = strlen(k);
    int rc = 0;
    if (len > 4 && (strcmp(k + len - 4, ".npy") == 0 || strcmp(k + len - 4, ".npz") == 0)) {
        bool npz = strcmp(k + len - 4, ".npz") == 0;
        ntk_status st = npz ? ntk_npz_read(k, "K", K) : ntk_npy_read(k, K);
        if (st != NTK_OK) return cli_errorf("kernel: %s", ntk_last_error());
        if (K->ndim != 2 || K->shape[0] != d->n_train || K->shape[1] != d->n_train)
            return cli_errorf("kernel: %s is not a %zu x %zu matrix (one row and column per training point)", k,
                              d->n_train, d->n_train);
        src->kind = NTK_KSRC_MATRIX, src->K = K->data;
        if (npz && d->n_eval && ntk_npz_read(k, "K_eval", Ke) == NTK_OK) {
            if (Ke->ndim != 2 || Ke->shape[0] != d->n_eval || Ke->shape[1] != d->n_train)
                return cli_errorf("kernel: %s's K_eval is not %zu x %zu", k, d->n_eval, d->n_train);
            src->K_eval = Ke->data;
        }
        return 0;
    }
    if (ntk_ksrc_parse(k, &src->kind) != NTK_OK || src->kind == NTK_KSRC_MATRIX)
        return cli_errorf("kernel: unknown kernel source '%s' (expected theta_bias|theta_nobias|k0|k1|limit|empirical|"
                          "PATH.npy|PATH.npz)", k);
    if (src->kind != NTK_KSRC_LIMIT && src->kind != NTK_KSRC_EMPIRICAL) return 0;
    if ((rc = cli_model_spec(&c->model, spec))) return rc;
    src->spec = *spec, src->seed = c->run.seed;
    if (src->kind == NTK_KSRC_EMPIRICAL) {
        if (ntk_net_alloc(spec, net) != NTK_OK) return study_fail("kgd", CLI_EXIT_USAGE);
        if ((rc = study_net_params(*net, c))) return rc;
        src->net = *net;
    }
    return 0;
}

int cmd_kgd(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "kgd");
    if (rc >= 0) return rc;
    if (c.modes.compare_train) {
        rc = kgd_compare_train(&c, argc, argv);
        cli_config_free(&c);
        return rc;
    }
    ntk_dataset d = {0};
    ntk_kgd_problem p = {0};
    ntk_array K = {0}, Ke = {0};
    ntk_net *net = NULL;
    ntk_kernel_source src;
    ntk_spec spec = ntk_spec_default();
    ntk_train_schedule sched = {0};
    cli_run run = {0};
    bool run_open = false, built = false;
    rows r = {0};
    double *eig = NULL, *eig64 = NULL;
    char desc[CLI_PATH_MAX + 64];
    if ((rc = cli_train_data(&c, &d, desc, sizeof desc))) goto done;
    if (d.k != 1) {
        rc = cli_errorf("kgd: one output only (the data has %d)", d.k);
        goto done;
    }
    if ((rc = kernel_source(&c, &d, &src, &net, &K, &Ke, &spec))) goto done;
    ntk_kgd_problem_opts po = ntk_kgd_problem_defaults();
    po.fft = strcmp(c.modes.fft, "on") == 0 ? 1 : strcmp(c.modes.fft, "off") == 0 ? 0 : -1;
    po.gp_init = strcmp(c.modes.init, "gp") == 0, po.gp_seed = c.modes.gp_seed, po.kmax = c.modes.kmax;
    if (ntk_kgd_problem_build(&src, &d, &po, &p) != NTK_OK) {
        rc = study_fail(NULL, CLI_EXIT_USAGE);
        goto done;
    }
    built = true;
    ntk_kgd_opts o = ntk_kgd_opts_defaults();
    ntk_kgd_problem_apply(&p, &o);
    o.steps = c.train.steps, o.eta = c.train.lr, o.eta_scale = c.modes.eta_scale, o.top_k = c.train.top_k;
    o.tau = c.modes.tau, o.reg = c.modes.reg, o.dtype = c.kernel.dtype, o.threads = c.run.threads;
    if ((size_t)o.top_k > p.n) o.top_k = (int)p.n;
    if (ntk_precond_parse(c.modes.precond, &o.precond) != NTK_OK ||
        ntk_train_schedule_parse(c.train.snapshots, o.steps, &sched) != NTK_OK) {
        rc = study_fail("kgd", CLI_EXIT_USAGE);
        goto done;
    }
    o.snap = sched.steps, o.n_snap = sched.count;
    r.K1 = (size_t)o.kmax + 1, r.top_k = (size_t)o.top_k;
    if (!(eig = malloc(p.n * sizeof *eig))) {
        rc = study_failf("kgd: out of memory");
        goto done;
    }
    if ((rc = study_run_start(&run, &c, "kgd", &run_open))) goto done;
    bool f32 = o.dtype == NTK_F32 && o.A;
    if (f32 && !(eig64 = malloc(p.n * sizeof *eig64))) {
        rc = study_failf("kgd: out of memory");
        goto done;
    }
    ntk_kgd_result res = {.eig = eig, .eig_f64 = eig64};
    double t0 = cli_now();
    ntk_status st = ntk_kgd_run(&o, on_snapshot, &r, &res);
    double secs = cli_now() - t0;
    bool diverged = st == NTK_ENUMERIC && r.S > 0;
    if (st != NTK_OK && !diverged) {
        rc = study_fail(NULL, st == NTK_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL);
        goto done;
    }
    if (diverged) fprintf(stderr, "ntkdrift: %s; the snapshots so far are written\n", ntk_last_error());
    size_t S = r.S, w = 2 * r.K1 - 1, n = p.n;
    double *kk = malloc(r.K1 * sizeof *kk);
    for (size_t i = 0; kk && i < r.K1; i++) kk[i] = (double)i;
    const study_member m[] = {
        {"step", 1, {S}, r.step, "snapshot steps", NTK_F64},
        {"t", 1, {S}, r.t, "eta * step", NTK_F64},
        {"k", 1, {r.K1}, kk, "Fourier frequencies 0..K", NTK_F64},
        {"loss", 1, {S}, r.loss, "(1/2n) ||u - y||^2 on the training points", NTK_F64},
        {"loss_eval", 1, {S}, r.have_eval || p.m ? r.loss_eval : NULL, "(1/2m) ||u_eval - y_eval||^2", NTK_F64},
        {"coef_train", 2, {S, w}, r.coef, "Fourier coefficients of u - y on the unit columns 1, cos k g, sin k g", NTK_F64},
        {"plane_train", 2, {S, r.K1}, r.plane, "per-frequency plane mass of u - y", NTK_F64},
        {"coef_eval", 2, {S, w}, r.have_eval ? r.coef_e : NULL, "the same of u_eval - y_eval", NTK_F64},
        {"plane_eval", 2, {S, r.K1}, r.have_eval ? r.plane_e : NULL, "the same of u_eval - y_eval", NTK_F64},
        {"ideal_plane", 2, {S, r.K1}, r.have_ideal ? r.ideal : NULL, "|1 - eta mu_k|^t plane_train(0)", NTK_F64},
        {"eig", 1, {n}, eig, f32 ? "eigenvalues of A = K/n, descending (float32 decomposition)"
                                 : "eigenvalues of A = K/n, descending", NTK_F64},
        {"eig_f64", 1, {n}, eig64, "the same from a float64 decomposition of A (dtype f32 only)", NTK_F64},
        {"proj_eig", 2, {S, r.top_k}, r.top_k ? r.proj : NULL, "v_i^T (u - y) on the top eigenvectors of A", NTK_F64},
        {"lambda", 1, {r.K1}, p.lambda, "continuum eigenvalues lambda_k of the source", NTK_F64},
    };
    if (!kk) rc = study_failf("kgd: out of memory");
    if (!rc) rc = study_write_npz(&run, "modes.npz", m, (int)(sizeof m / sizeof *m));
    free(kk);
    if (rc) goto done;
    cJSON *extra = cJSON_CreateObject();
    study_data_json(extra, desc, d.n_train);
    cJSON *kj = cJSON_AddObjectToObject(extra, "kgd");
    cJSON_AddStringToObject(kj, "kernel", c.modes.kernel);
    cJSON_AddStringToObject(kj, "path", p.fft ? "circulant (FFT)" : "dense");
    cJSON_AddStringToObject(kj, "precond", c.modes.precond);
    cJSON_AddStringToObject(kj, "init", c.modes.init);
    cJSON_AddStringToObject(kj, "dtype", ntk_dtype_name(o.dtype));
    cJSON_AddStringToObject(kj, "operator", "A = K/n; u <- u - eta A (u - y); loss (1/2n) ||u - y||^2");
    const double nums[] = {res.eta, res.lambda_max, res.rho, (double)o.kmax, (double)p.m, secs, diverged ? 1 : 0};
    study_nums(kj, "eta lambda_max rho kmax n_eval seconds diverged", nums);
    if (f32) {
        cJSON *fj = cJSON_AddObjectToObject(kj, "f32_vs_f64");
        cli_json_number(fj, "max_abs_over_lambda_max", res.f32_abs);
        cJSON_AddNumberToObject(fj, "first_index_rel_gt_1e-2", (double)res.f32_rel1);
    }
    plot_before_manifest(run.dir, "kgd");
    const ntk_spec *mspec = src.kind == NTK_KSRC_LIMIT || src.kind == NTK_KSRC_EMPIRICAL ? &spec : NULL;
    if ((rc = study_run_finish(&run, &c, mspec, extra, argc, argv, &run_open))) goto done;
    printf("ntkdrift kgd: %s on %zu points (%s path), %ld steps, eta %.6g (lambda_max %.6g)\n", c.modes.kernel, n,
           p.fft ? "FFT" : "dense", o.steps, res.eta, res.lambda_max);
    if (f32 && res.f32_rel1 >= 0)
        printf("  float32 against float64 eigenvalues: max |difference| %.3g lambda_max; from index %ld (lambda "
               "%.4g) on they differ by more than 1%%\n", res.f32_abs, res.f32_rel1, eig64[res.f32_rel1]);
    else if (f32)
        printf("  float32 against float64 eigenvalues: max |difference| %.3g lambda_max; all within 1%%\n", res.f32_abs);
    printf("  loss %.6e -> %.6e in %.3f s\n  run directory: %s\n", r.loss[0], r.loss[S - 1], secs, run.dir);
    rc = diverged ? CLI_EXIT_DIVERGED : 0;
done:
    if (run_open) cli_run_abort(&run);
    if (built) ntk_kgd_problem_clear(&p);
    ntk_train_schedule_clear(&sched);
    ntk_dataset_clear(&d);
    ntk_array_clear(&K), ntk_array_clear(&Ke);
    ntk_net_free(net);
    rows_free(&r);
    free(eig), free(eig64);
    cli_config_free(&c);
    return rc;
}
