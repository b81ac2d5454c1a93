/* cmd_spectra.c -- `ntkdrift spectra RUN_DIR...`: the seed-mean spectra of a group of train runs (the
 * seeds of one configuration): the top eigenvalues of K_t stored in each run's snapshots, reduced by
 * ntk_seed_spectra into the spectrum drift, the per-mode variance over seeds and the total-variation
 * active modes (spectra.csv, tv.csv, spectra.npz; docs/modes.md, "Seed-mean spectra"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "figure.h"
#include "plots.h"
#include "study.h"

enum { SPECTRA_MAX_RUNS = 1024 };

static const char USAGE[] = "usage: ntkdrift spectra RUN_DIR... [--top P] [--tau T] [--out DIR]";

typedef struct {
    const char *runs[SPECTRA_MAX_RUNS];
    int nruns;
    long top;
    double tau;
    const char *out;
} spectra_args;

static int parse_args(int argc, char **argv, spectra_args *a)
{
    a->top = 10, a->tau = 0.0, a->out = NULL, a->nruns = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--top") == 0 || strcmp(s, "--tau") == 0 || strcmp(s, "--out") == 0) {
            if (i + 1 >= argc) return cli_errorf("%s: missing value (%s)", s, USAGE);
            const char *v = argv[++i];
            char *end = NULL;
            if (strcmp(s, "--out") == 0) {
                a->out = v;
            } else if (strcmp(s, "--top") == 0) {
                a->top = strtol(v, &end, 10);
                if (!*v || *end || a->top < 1 || a->top > 100000)
                    return cli_errorf("--top: expected an integer in 1..100000, got '%s'", v);
            } else {
                a->tau = strtod(v, &end);
                if (!*v || *end || !(a->tau >= 0) || !isfinite(a->tau))
                    return cli_errorf("--tau: expected a finite number >= 0, got '%s'", v);
            }
        } else if (s[0] == '-') {
            return cli_errorf("spectra: unknown flag '%s' (%s)", s, USAGE);
        } else if (a->nruns < SPECTRA_MAX_RUNS) {
            a->runs[a->nruns++] = s;
        } else {
            return cli_errorf("spectra: at most %d runs", SPECTRA_MAX_RUNS);
        }
    }
    if (!a->nruns) return cli_errorf("spectra: give the run directories of the seeds (%s)", USAGE);
    return 0;
}

/* The snapshot steps (metrics.csv's step column) and t (its t column) of one train run. */
static int run_steps(const char *run, cli_table *t, int *cs, int *ct)
{
    char path[CLI_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    if (!study_exists(run, "metrics.csv") || !study_exists(run, "snapshots"))
        return cli_errorf("spectra: %s is not a train run with snapshots (no metrics.csv or snapshots/)", run);
    int rc = cli_table_read(path, t);
    if (rc) return rc;
    *cs = cli_table_col(t, "step"), *ct = cli_table_col(t, "t");
    if (*cs < 0 || !t->nrows) {
        cli_table_free(t);
        return cli_errorf("%s: not a train run's metrics (no step column or no rows)", path);
    }
    return 0;
}

/* The top p eigenvalues of run r's snapshot of `step` into S: [p]; *have the count stored. */
static int snapshot_eigs(const char *run, long step, size_t p, double *S, size_t *have)
{
    char path[CLI_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/snapshots/snap_%010ld.npz", run, step);
    ntk_array a = {0};
    if (ntk_npz_read(path, "eigs", &a) != NTK_OK) return cli_errorf("%s", ntk_last_error());
    *have = a.count;
    if (a.count < p) {
        ntk_array_clear(&a);
        return cli_errorf("%s: eigs holds %zu values, fewer than --top %zu", path, *have, p);
    }
    memcpy(S, a.data, p * sizeof *S);
    ntk_array_clear(&a);
    return 0;
}

/* Read every run's top p eigenvalues at the first run's snapshot steps: S [runs x T x p]. */
static int read_runs(const spectra_args *a, size_t *T, size_t *p, double **S, double **step, double **tt)
{
    cli_table t0 = {0};
    int cs, ct, rc = run_steps(a->runs[0], &t0, &cs, &ct);
    if (rc) return rc;
    *T = t0.nrows;
    size_t have = 0;
    double probe;
    if ((rc = snapshot_eigs(a->runs[0], (long)cli_table_at(&t0, 0, cs), 1, &probe, &have))) goto done;
    *p = (size_t)a->top < have ? (size_t)a->top : have;
    *S = malloc((size_t)a->nruns * *T * *p * sizeof **S);
    *step = malloc(*T * sizeof **step), *tt = malloc(*T * sizeof **tt);
    if (!*S || !*step || !*tt) {
        rc = study_failf("spectra: out of memory");
        goto done;
    }
    for (size_t j = 0; j < *T; j++) (*step)[j] = cli_table_at(&t0, j, cs), (*tt)[j] = cli_table_at(&t0, j, ct);
    for (int r = 0; r < a->nruns && !rc; r++) {
        cli_table t = {0};
        int rs, rt;
        if (r == 0) t = t0, rs = cs;
        else if ((rc = run_steps(a->runs[r], &t, &rs, &rt))) break;
        if (t.nrows != *T) rc = cli_errorf("spectra: %s has %zu snapshots, %s has %zu: the runs must share their snapshot steps",
                                           a->runs[r], t.nrows, a->runs[0], *T);
        for (size_t j = 0; !rc && j < *T; j++) {
            if (cli_table_at(&t, j, rs) != (*step)[j])
                rc = cli_errorf("spectra: %s's snapshot %zu is step %.0f, %s's is step %.0f: the runs must share "
                                "their snapshot steps", a->runs[r], j, cli_table_at(&t, j, rs), a->runs[0], (*step)[j]);
            else
                rc = snapshot_eigs(a->runs[r], (long)(*step)[j], *p, *S + ((size_t)r * *T + j) * *p, &have);
        }
        if (r > 0) cli_table_free(&t);
    }
done:
    cli_table_free(&t0);
    return rc;
}

/* spectra.csv: step, t, drift, mean_1..p, var_1..p per snapshot; tv.csv: mode, tv, active. */
static int write_tables(cli_run *run, size_t T, size_t p, const double *step, const double *tt, const double *drift,
                        const double *mean, const double *var, const double *tv, const int *active)
{
    fig_text h = {0};
    fig_printf(&h, "step,t,drift");
    for (size_t j = 0; j < p; j++) fig_printf(&h, ",mean_%zu", j + 1);
    for (size_t j = 0; j < p; j++) fig_printf(&h, ",var_%zu", j + 1);
    FILE *f = h.oom ? NULL : study_open_csv(run, "spectra.csv", h.s);
    fig_text_free(&h);
    if (!f) return CLI_EXIT_FAIL;
    for (size_t i = 0; i < T; i++) {
        fprintf(f, "%.0f,%.10g,%.10g", step[i], tt[i], drift[i]);
        for (size_t j = 0; j < p; j++) fprintf(f, ",%.10g", mean[i * p + j]);
        for (size_t j = 0; j < p; j++) fprintf(f, ",%.10g", var[i * p + j]);
        fprintf(f, "\n");
    }
    int rc = study_log_close(&f, "spectra.csv");
    if (rc || !(f = study_open_csv(run, "tv.csv", "mode,tv,active"))) return rc ? rc : CLI_EXIT_FAIL;
    for (size_t j = 0; j < p; j++) fprintf(f, "%zu,%.10g,%d\n", j + 1, tv[j], active[j]);
    return study_log_close(&f, "tv.csv");
}

int cmd_spectra(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("%s\n\nThe seed-mean spectra of a group of train runs (the seeds of one configuration, sharing their\n"
               "snapshot steps): the top P eigenvalues of K_t in each run's snapshots (eigs), their seed mean\n"
               "s(t), the spectrum drift ||s(t) - s(0)|| / ||s(0)||, the per-mode variance over seeds and the\n"
               "total variation TV_j = sum_t |s_j(t+1) - s_j(t)|, mode j active when TV_j > T (docs/modes.md).\n"
               "Writes spectra.csv, tv.csv and spectra.npz into results/spectra/<YYYYmmdd-HHMMSS>-<id>/ or\n"
               "exactly --out DIR.  [--top 10, --tau 0]\n", USAGE);
        return CLI_EXIT_OK;
    }
    spectra_args a;
    if (parse_args(argc, argv, &a)) return CLI_EXIT_USAGE;
    cli_config c;
    cli_config_defaults(&c, "spectra");
    if (a.out) snprintf(c.run.out, sizeof c.run.out, "%s", a.out);
    size_t T = 0, p = 0, R = (size_t)a.nruns;
    double *S = NULL, *step = NULL, *tt = NULL, *mean = NULL, *drift = NULL, *var = NULL, *tv = NULL;
    int *active = NULL;
    cli_run run = {0};
    bool run_open = false;
    int rc = read_runs(&a, &T, &p, &S, &step, &tt);
    if (rc) goto done;
    mean = malloc(T * p * sizeof *mean), var = malloc(T * p * sizeof *var), drift = malloc(T * sizeof *drift);
    tv = malloc(p * sizeof *tv), active = malloc(p * sizeof *active);
    if (!mean || !var || !drift || !tv || !active) {
        rc = study_failf("spectra: out of memory");
        goto done;
    }
    if (ntk_seed_spectra(R, T, p, S, a.tau, mean, drift, var, tv, active) != NTK_OK) {
        rc = study_fail("spectra", CLI_EXIT_USAGE);
        goto done;
    }
    if ((rc = cli_run_create(&run, &c, "spectra"))) goto done;
    run_open = true;
    if ((rc = write_tables(&run, T, p, step, tt, drift, mean, var, tv, active))) goto done;
    double *act = malloc(p * sizeof *act);
    for (size_t j = 0; act && j < p; j++) act[j] = active[j];
    const study_member m[] = {
        {"S", 3, {R, T, p}, S, "the top eigenvalues of K_t: runs x snapshots x modes (descending)", NTK_F64},
        {"step", 1, {T}, step, "snapshot steps", NTK_F64},
        {"t", 1, {T}, tt, "eta * step (the first run's)", NTK_F64},
        {"mean", 2, {T, p}, mean, "seed mean of the eigenvalues", NTK_F64},
        {"drift", 1, {T}, drift, "||s(t) - s(0)|| / ||s(0)|| of the seed mean s", NTK_F64},
        {"var", 2, {T, p}, var, "per-mode variance over the runs (ddof 1; NaN for one run)", NTK_F64},
        {"tv", 1, {p}, tv, "total variation of the seed mean per mode, sum_t |s_j(t+1) - s_j(t)|", NTK_F64},
        {"active", 1, {p}, act, "1 where tv > tau", NTK_F64},
    };
    rc = act ? study_write_npz(&run, "spectra.npz", m, (int)(sizeof m / sizeof *m)) : study_failf("spectra: out of memory");
    free(act);
    if (rc) goto done;
    cJSON *extra = cJSON_CreateObject(), *sj = cJSON_AddObjectToObject(extra, "spectra");
    cJSON *runs = cJSON_AddArrayToObject(sj, "runs");
    for (int r = 0; r < a.nruns; r++) cJSON_AddItemToArray(runs, cJSON_CreateString(a.runs[r]));
    const double nums[] = {(double)p, a.tau, (double)T};
    study_nums(sj, "top tau snapshots", nums);
    cJSON *aj = cJSON_AddArrayToObject(sj, "active_modes");
    int nact = 0;
    for (size_t j = 0; j < p; j++)
        if (active[j]) cJSON_AddItemToArray(aj, cJSON_CreateNumber((double)(j + 1))), nact++;
    cJSON_AddStringToObject(sj, "definitions", "s(t) = mean over runs of the top eigenvalues of K_t; drift = ||s(t) - "
                                               "s(0)|| / ||s(0)||; TV_j = sum_t |s_j(t+1) - s_j(t)|; active: TV_j > tau");
    plot_before_manifest(run.dir, "spectra");
    if ((rc = cli_run_finish(&run, &c, NULL, extra, argc, argv))) goto done;
    run_open = false;
    printf("ntkdrift spectra: %d run(s), %zu snapshots, top %zu eigenvalues\n", a.nruns, T, p);
    printf("  spectrum drift at the last snapshot %.6g; %d of %zu modes active (TV > %g)\n  run directory: %s\n",
           drift[T - 1], nact, p, a.tau, run.dir);
done:
    if (run_open) cli_run_abort(&run);
    free(S), free(step), free(tt), free(mean), free(drift), free(var), free(tv), free(active);
    cli_config_free(&c);
    return rc;
}
