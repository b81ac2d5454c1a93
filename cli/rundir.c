/* rundir.c -- run directory layout, manifest.json, run_info.json, 'latest'. */
#define _GNU_SOURCE /* nftw, asprintf, getdelim */
#include "rundir.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <errno.h>
#include <math.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void iso_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Start a run record at dir (NULL: set later); whether dir already holds a manifest.json. */
static bool run_init(cli_run *r, const char *command, const char *dir)
{
    memset(r, 0, sizeof *r);
    r->command = command;
    r->t0 = cli_now();
    iso_now(r->started, sizeof r->started);
    char mpath[CLI_PATH_MAX + 32];
    struct stat st;
    snprintf(r->dir, sizeof r->dir, "%s", dir ? dir : "");
    snprintf(mpath, sizeof mpath, "%s/manifest.json", r->dir);
    return dir && stat(mpath, &st) == 0;
}

int cli_run_create(cli_run *r, const cli_config *c, const char *command)
{
    struct stat st;
    bool complete = run_init(r, command, c->run.out[0] ? c->run.out : NULL);
    r->artifacts = cJSON_CreateArray();
    if (complete) {
        cli_errorf("--out %s already holds a complete run (manifest.json); choose another directory", r->dir);
        return CLI_EXIT_USAGE;
    }
    if (c->run.out[0]) {
        r->created = stat(r->dir, &st) != 0;
    } else {
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned id = (unsigned)(ts.tv_nsec ^ ((unsigned)getpid() << 12)) & 0xffffffu;
        snprintf(r->leaf, sizeof r->leaf, "%s-%06x", stamp, id);
        int n1 = snprintf(r->parent, sizeof r->parent, "%.900s/%.120s", c->run.results, c->run.name);
        int n = snprintf(r->dir, sizeof r->dir, "%.950s/%.60s", r->parent, r->leaf);
        if (n1 < 0 || (size_t)n1 >= sizeof r->parent || n < 0 || (size_t)n >= sizeof r->dir) {
            cli_errorf("results path too long");
            return CLI_EXIT_USAGE;
        }
        r->created = true;
    }
    if (ntk_mkdir_p(r->dir) != NTK_OK) {
        cli_errorf("cannot create run directory %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    if (access(r->dir, W_OK) != 0) {
        cli_errorf("run directory %s is not writable: %s", r->dir, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* A temp file of the atomic writers (NAME.tmp.PID.N, or libzip's NAME.tmp.PID.N.<six random
 * characters>) whose process is gone: what a killed run left half-written.  Removed on resume; a live process's temp
 * file (another MPI rank) is kept. */
static int remove_stale_temp(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    const char *base = strrchr(path, '/'), *t = strstr(base ? base : path, ".tmp.");
    char *end = NULL, suffix[8];
    long pid = t && type == FTW_F ? strtol(t + 5, &end, 10) : 0;
    int n = -1, nz = -1; /* the end of ".N" and of libzip's suffix (six letters or digits) */
    if (pid > 0) (void)sscanf(end, ".%*[0-9]%n.%6[A-Za-z0-9]%n", &n, suffix, &nz);
    bool named = n > 0 && (end[n] == '\0' || (nz == n + 7 && end[nz] == '\0'));
    if (named && kill((pid_t)pid, 0) != 0 && errno != EPERM) (void)remove(path); /* its process is gone */
    return 0;
}

int cli_run_open_existing(cli_run *r, const char *dir, const char *command)
{
    bool complete = run_init(r, command, dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_errorf("resume: %s is not a run directory", dir);
        return CLI_EXIT_USAGE;
    }
    if (complete) {
        cli_errorf("resume: %s is already complete (manifest.json); nothing to resume", dir);
        return CLI_EXIT_USAGE;
    }
    (void)nftw(dir, remove_stale_temp, 16, FTW_PHYS);
    r->artifacts = cJSON_CreateArray();
    return 0;
}

const char *cli_run_path(const cli_run *r, const char *file, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", r->dir, file);
    return buf;
}

void cli_run_wrote(cli_run *r, const char *file)
{
    for (int i = 0; i < r->nwritten; i++)
        if (strcmp(r->written[i], file) == 0) return;
    if (r->nwritten < 16) snprintf(r->written[r->nwritten++], sizeof r->written[0], "%s", file);
}

void cli_run_artifact(cli_run *r, const char *file, const char *member, const char *dtype, int ndim,
                      const size_t *shape, const char *meaning)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "file", file);
    if (member) cJSON_AddStringToObject(a, "member", member);
    cJSON *sh = cJSON_AddArrayToObject(a, "shape");
    for (int i = 0; i < ndim; i++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)shape[i]));
    if (dtype) cJSON_AddStringToObject(a, "dtype", dtype);
    cJSON_AddStringToObject(a, "meaning", meaning);
    cJSON_AddItemToArray(r->artifacts, a);
}

static int write_text(cli_run *r, const char *file, const char *text)
{
    char path[CLI_PATH_MAX + 64];
    cli_run_path(r, file, path, sizeof path);
    if (ntk_write_file_atomic(path, text, strlen(text)) != NTK_OK) {
        cli_errorf("%s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(r, file);
    return 0;
}

int cli_run_write_config(cli_run *r, const cli_config *c)
{
    char *y = cli_config_to_yaml(c);
    int rc = y ? write_text(r, "config.yaml", y) : (cli_errorf("out of memory"), CLI_EXIT_FAIL);
    free(y);
    return rc;
}

static cJSON *spec_json(const ntk_spec *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "depth", s->depth);
    cJSON_AddNumberToObject(o, "weight_layers", s->depth + 1);
    cJSON *w = cJSON_AddArrayToObject(o, "widths");
    for (int l = 0; l < s->depth; l++) cJSON_AddItemToArray(w, cJSON_CreateNumber(s->widths[l]));
    cJSON_AddNumberToObject(o, "n0", s->n0);
    cJSON_AddNumberToObject(o, "outputs", s->outputs);
    cJSON_AddStringToObject(o, "act", ntk_act_name(s->act));
    cJSON_AddStringToObject(o, "param", ntk_param_name(s->param));
    cJSON_AddNumberToObject(o, "sw2", s->sw2);
    cJSON_AddNumberToObject(o, "sw2_out", s->sw2_out);
    cJSON_AddNumberToObject(o, "sb", s->sb);
    cJSON_AddStringToObject(o, "bias", ntk_bias_name(s->bias));
    cJSON_AddStringToObject(o, "bias_out", ntk_bias_name(s->bias_out));
    cJSON_AddStringToObject(o, "first_layer", ntk_first_layer_name(s->first_layer));
    cJSON_AddNumberToObject(o, "beta", ntk_spec_beta(s));
    return o;
}

/* The conventions every manifest states (docs/conventions.md). */
static const char *const CONVENTIONS[][2] = {
    {"network", "h0 = x; z_l = c_w,l W_l h_{l-1} + c_b,l b_l; h_l = phi(z_l); f = z_{L+1}; "
                "depth L counts hidden layers, d = L+1 weight layers"},
    {"param_ntk", "W, b ~ N(0,1) (b = 0 if bias zero); c_w = sqrt(sw2/n_{l-1}) (sqrt(sw2) for a "
                  "first layer without fan_in); c_b = sb; sw2_out on the readout"},
    {"param_standard", "z = W h + b; W ~ N(0, sw2/fan), fan = n_{l-1} (fan = 1 for a first layer with "
                       "first_layer none); sw2_out on the readout; b ~ N(0, sb^2) (bias normal) or 0 (bias zero)"},
    {"kernel", "K_ab(x,x') = sum over trainable parameters theta of df_a(x)/dtheta * "
               "df_b(x')/dtheta; no division by width, P or k"},
    {"kernel_layout", "k = 1: K (N, N); k > 1: K (N, N, k, k) as neural-tangents; K_trace = sum_a K_aa "
                      "(neural-tangents' trace_axes convention takes the mean: K_trace / k)"},
    {"multi_output", "commands that reduce a k-output kernel to a scalar one (profile, converge) use the "
                     "output mean Kbar(x,x') = (1/k) sum_a K_aa(x,x') and compare it with the per-output "
                     "limit K_inf (the limit is diagonal in outputs: K_ab -> [a = b] K_inf); K_trace in "
                     "kernel.npz stays the sum; test errors are RMSEs per entry, "
                     "sqrt(sum_{i,a} (f_ia - y_ia)^2 / (M k))"},
    {"loss", "L = c * 1/2 sum_i ||f(x_i) - y_i||^2 over N examples: half_sum c = 1, half_mean c = 1/N, "
             "mse (mean without the 1/2) c = 2/N"},
    {"seeds", "run.seed: parameters (and minibatches); data.seed: inputs, evaluation points, random and "
              "teacher targets; train.noise_seed: label noise; none defaults to another"},
    {"learning_rate", "absolute eta on L as defined, or a fraction of 2 / lambda_max(c K_0)"},
    {"beta", "beta = sum_{l=1}^{L} 1/n_l over hidden layers (= L/n for equal widths)"},
};

/* A new object with the tool, version and command (run_info.json and manifest.json begin so). */
static cJSON *run_header(const cli_run *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "tool", "ntkdrift");
    cJSON_AddStringToObject(o, "version", ntk_version());
    cJSON_AddStringToObject(o, "command", r->command);
    return o;
}

static cJSON *run_info_json(const cli_run *r, int argc, char **argv, const cli_config *c)
{
    cJSON *o = run_header(r);
    cJSON *av = cJSON_AddArrayToObject(o, "argv");
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(av, cJSON_CreateString(argv[i]));
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddNumberToObject(o, "threads", ntk_get_threads());
    cJSON_AddNumberToObject(o, "threads_requested", c->run.threads);
    cJSON_AddNumberToObject(o, "ranks", 1);
    cJSON_AddStringToObject(o, "started", r->started);
    char end[40];
    iso_now(end, sizeof end);
    cJSON_AddStringToObject(o, "finished", end);
    cJSON_AddNumberToObject(o, "wall_seconds", cli_now() - r->t0);
    return o;
}

static int write_json(cli_run *r, const char *file, cJSON *j)
{
    char *s = cJSON_Print(j), *t = NULL;
    int rc = s && asprintf(&t, "%s\n", s) >= 0 ? write_text(r, file, t) : (cli_errorf("out of memory"), CLI_EXIT_FAIL);
    free(t);
    cJSON_free(s);
    return rc;
}

int cli_run_finish(cli_run *r, const cli_config *c, const ntk_spec *spec, cJSON *extra, int argc, char **argv)
{
    cJSON *info = run_info_json(r, argc, argv, c);
    int rc = write_json(r, "run_info.json", info);
    cJSON_Delete(info);
    if (rc) {
        cJSON_Delete(extra);
        return rc;
    }
    cJSON *m = run_header(r);
    cJSON_AddStringToObject(m, "status", "complete");
    if (spec) cJSON_AddItemToObject(m, "spec", spec_json(spec)); /* NULL: a study of several models */
    cJSON *conv = cJSON_AddObjectToObject(m, "conventions");
    for (size_t i = 0; i < sizeof CONVENTIONS / sizeof *CONVENTIONS; i++)
        cJSON_AddStringToObject(conv, CONVENTIONS[i][0], CONVENTIONS[i][1]);
    for (cJSON *it; extra && (it = extra->child);) /* the key is copied before the old one is freed */
        cJSON_AddItemToObject(m, it->string, cJSON_DetachItemViaPointer(extra, it));
    cJSON_Delete(extra);
    cJSON_AddItemToObject(m, "artifacts", r->artifacts);
    r->artifacts = NULL;
    rc = write_json(r, "manifest.json", m);
    cJSON_Delete(m);
    if (rc) return rc;
    if (r->parent[0]) { /* latest -> leaf, replaced atomically */
        char tmp[CLI_PATH_MAX + 64], link[CLI_PATH_MAX + 16];
        snprintf(tmp, sizeof tmp, "%s/.latest.%d", r->parent, (int)getpid());
        snprintf(link, sizeof link, "%s/latest", r->parent);
        unlink(tmp);
        if (symlink(r->leaf, tmp) != 0 || rename(tmp, link) != 0) {
            unlink(tmp);
            fprintf(stderr, "ntkdrift: warning: could not update %s: %s\n", link, strerror(errno));
        }
    }
    return 0;
}

void cli_run_abort(cli_run *r)
{
    char path[CLI_PATH_MAX + 64];
    for (int i = 0; i < r->nwritten; i++) unlink(cli_run_path(r, r->written[i], path, sizeof path));
    r->nwritten = 0;
    if (r->created && r->dir[0]) rmdir(r->dir); /* only if empty */
    cli_run_release(r);
}

void cli_run_release(cli_run *r)
{
    cJSON_Delete(r->artifacts);
    r->artifacts = NULL;
}

char *cli_read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *text = NULL;
    size_t cap = 0;
    if (getdelim(&text, &cap, '\0', fp) < 0 && (free(text), text = calloc(1, 1)) == NULL) errno = ENOMEM;
    fclose(fp);
    return text; /* text files: up to the first NUL */
}

cJSON *cli_read_json(const char *path)
{
    char *text = cli_read_text(path);
    if (!text) {
        cli_errorf("%s: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) cli_errorf("%s: not valid JSON", path);
    return j;
}

void cli_json_number(cJSON *obj, const char *key, double v)
{
    cJSON_AddItemToObject(obj, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}
