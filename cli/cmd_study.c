/* cmd_study.c -- `ntkdrift study`: the main job.  On built-in defaults, end to end: a regime sweep
 * on a two-class Fashion-MNIST subset (T-shirt/top vs trouser, +-1 targets) over depth x width x
 * learning rate, the circle spectral-bias task (a Fourier target learned mode by mode), then one
 * report.html.  A thin layer over `sweep`, `train` and `report` (each sub-run is an ordinary run
 * directory inside the study's); --quick is the CI-sized form; --resume DIR finishes a killed one. */
#include "commands.h"
#include "study.h"

/* Run `cmd` with args (NULL-terminated), or resume / skip it by the state of out (out/manifest.json:
 * that run is complete). */
static int sub_run(int (*cmd)(int, char **), const char *name, char **args, const char *out)
{
    if (study_exists(out, "manifest.json")) return 0;
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)name;
    if (study_exists(out, "")) {
        argv[argc++] = "--resume";
        argv[argc++] = (char *)out;
    } else {
        for (int i = 0; args[i] && argc < 60; i++) argv[argc++] = args[i];
        argv[argc++] = "--out";
        argv[argc++] = (char *)out;
    }
    argv[argc] = NULL;
    fprintf(stderr, "study: %s %s\n", name, out);
    int rc = cmd(argc, argv);
    return rc == 3 ? 0 : rc; /* a diverged train run is a result, not a failure */
}

int cmd_study(int argc, char **argv)
{
    cli_config c;
    int rc = study_parse(&c, argc, argv, "study");
    if (rc >= 0) return rc;
    if (c.train.resume[0] && study_exists(c.train.resume, "manifest.json")) {
        printf("ntkdrift study: %s is already complete\n  report: %s/report.html\n", c.train.resume, c.train.resume);
        cli_config_free(&c);
        return 0;
    }
    cli_run run;
    double t0 = cli_now();
    if (c.train.resume[0]) rc = cli_run_open_existing(&run, c.train.resume, "study");
    else if ((rc = cli_run_create(&run, &c, "study")) || (rc = cli_run_write_config(&run, &c)))
        cli_run_abort(&run); /* also releases what a failed create holds */
    if (rc) {
        cli_config_free(&c);
        return rc;
    }
    char threads[16], sweep_dir[CLI_PATH_MAX + 32], circle_dir[CLI_PATH_MAX + 32], report[CLI_PATH_MAX + 32];
    snprintf(threads, sizeof threads, "%d", c.run.threads);
    cli_run_path(&run, "sweep", sweep_dir, sizeof sweep_dir);
    cli_run_path(&run, "circle", circle_dir, sizeof circle_dir);
    cli_run_path(&run, "report.html", report, sizeof report);
    bool q = c.quick; /* --quick: the CI-sized form */
    char *sweep[] = {"--data", "fmnist", "--classes", "0,1", "--n", q ? "48" : "96", "--n-eval", q ? "64" : "256",
                     "--depths", q ? "0,1,4" : "1,3,5", "--widths", q ? "16,256" : "16,64,256,1024", "--lr-fracs",
                     q ? "0.2,1.4,3" : "0.2,0.9,1.4,3", "--steps", q ? "120" : "300", "--snapshots",
                     q ? "log:8" : "log:10", "--threads", threads, NULL};
    char *circle[] = {"--depth", "2", "--width", q ? "128" : "256", "--data", "circle", "--n", q ? "32" : "64",
                      "--n-eval", q ? "32" : "64", "--fourier-k", q ? "4" : "6", "--steps", q ? "300" : "3000",
                      "--snapshots", q ? "log:12" : "log:30", "--threads", threads, NULL};
    rc = sub_run(cmd_sweep, "sweep", sweep, sweep_dir);
    if (!rc) rc = sub_run(cmd_train, "train", circle, circle_dir);
    if (!rc) {
        char *rargv[] = {"report", sweep_dir, circle_dir, "--out", report, NULL};
        rc = cmd_report(5, rargv);
    }
    if (!rc) {
        cli_run_artifact(&run, "sweep/", NULL, NULL, 0, NULL, "regime sweep on Fashion-MNIST classes 0 vs 1 (docs/sweep.md)");
        cli_run_artifact(&run, "circle/", NULL, NULL, 0, NULL, "train run: the circle spectral-bias task");
        cli_run_artifact(&run, "report.html", NULL, NULL, 0, NULL, "the report (open in a browser)");
        cJSON *extra = cJSON_CreateObject();
        cJSON *sj = cJSON_AddObjectToObject(extra, "study");
        cJSON_AddBoolToObject(sj, "quick", c.quick != 0);
        cJSON_AddNumberToObject(sj, "seconds", cli_now() - t0);
        rc = cli_run_finish(&run, &c, NULL, extra, argc, argv);
    }
    if (!rc)
        printf("ntkdrift study: done in %.0f s\n  report: %s\n  (open it in a browser; the runs are in %s)\n",
               cli_now() - t0, report, run.dir);
    else
        fprintf(stderr, "ntkdrift: study stopped; finish it with: ntkdrift study --resume %s\n", run.dir);
    cli_run_release(&run); /* no-op after cli_run_finish */
    cli_config_free(&c);
    return rc;
}
