/* cmd_ensemble.c -- `ntkdrift ensemble`: Monte Carlo over initializations on a (depth, width)
 * grid (Hanin & Nica 2020).  Per member, by the exact lazy sampler: K(x,x), its weight and bias
 * parts and the readout term; by the full-matrix path: the pathwise first-step update dK/lambda
 * (masks frozen) and the literal one with step lambda, for one SGD step on 1/2 (f(x) - y)^2 at x.
 * Per cell: means and standard errors, R = E[K^2]/E[K]^2 with a delta-method standard error of
 * log R and a bootstrap interval, the same for K_d and the weight part, and the theory columns.
 * Each member's randomness depends only on (seed, cell, member): results are identical for any
 * thread count.  Completed cells are checkpointed (cells/cell_<i>.npz); --resume skips them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include "commands.h"
#include "config.h"
#include "mpi_util.h"
#include "plots.h"
#include "rundir.h"
#include "study.h"


enum { Q_K, Q_KW, Q_KB, Q_KD, Q_F, Q_DKP, Q_DKL, Q_KX, Q_RHO, NQ };
static const char *qnames[NQ] = {"K", "K_weight", "K_bias", "K_readout", "f", "dK_path", "dK_literal", "K_off", "rho_off"};

/* Members beyond this many parameters skip the full-matrix updates (NaN). */
#define UPDATE_MAX_PARAMS 20000000.0

static uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* dK/lambda along one SGD step on 1/2 (f(x) - y)^2 at x: pathwise (velocity) and literal. */
static int member_updates(ntk_net *net, const double *x, double y, double lambda, double K0, double *dkp,
                          double *dkl, double *grad, double *theta0)
{
    double Kd, L, yy = y;
    size_t P = ntk_net_num_params(net);
    if (dkp) { /* the pathwise update on the full matrices (--sampler full) */
        if (ntk_kernel_velocity(net, 1, x, &yy, NTK_LOSS_SUM, &Kd) != NTK_OK) return -1;
        *dkp = Kd;
    }
    if (ntk_net_loss_grad(net, 1, x, &yy, NTK_LOSS_SUM, &L, grad) != NTK_OK) return -1;
    double *th = ntk_net_params(net);
    memcpy(theta0, th, P * sizeof *th);
    for (size_t i = 0; i < P; i++) th[i] -= lambda * grad[i];
    ntk_net_params_changed(net);
    ntk_feats *f = NULL;
    double K1 = NAN; /* stays NaN when a step below fails (then rc = -1 and *dkl is NaN) */
    int rc = (ntk_feats_alloc(net, 1, NTK_F64, &f) == NTK_OK && ntk_feats_compute(net, f, x) == NTK_OK &&
              ntk_kernel_diag(net, f, &K1) == NTK_OK) ? 0 : -1;
    ntk_feats_free(f);
    memcpy(th, theta0, P * sizeof *th);
    ntk_net_params_changed(net);
    *dkl = (K1 - K0) / lambda;
    return rc;
}

typedef struct {
    double mean[NQ], se[NQ];
    double R, R_log_se, R_lo, R_hi, Kd_R, Kd_R_log_se, Kw_R, Kw_R_log_se, Kx_R, Kx_R_log_se;
    int warn_ceiling, warn_tail;
} cell_stats;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile bootstrap interval (2.5%, 97.5%) of R with 400 resamples drawn from (seed, cell) on
 * their own stream (resample b of cell c: sub = c * 400 + b, uniforms 0 .. M-1). */
static void bootstrap(int M, const double *v, uint64_t seed, uint64_t cell, double *lo, double *hi)
{
    enum { B = 400 };
    double r[B], *u = malloc((size_t)M * sizeof *u);
    if (!u) {
        *lo = *hi = NAN;
        return;
    }
    for (int b = 0; b < B; b++) {
        ntk_rng_uniform(seed, NTK_STREAM_ENSEMBLE_BOOTSTRAP, cell * B + (uint64_t)b, 0, (size_t)M, u);
        double m1 = 0, m2 = 0;
        for (int i = 0; i < M; i++) {
            double x = v[(int)(u[i] * M) < M ? (int)(u[i] * M) : M - 1];
            m1 += x;
            m2 += x * x;
        }
        m1 /= M, m2 /= M;
        r[b] = m2 / (m1 * m1);
    }
    free(u);
    qsort(r, B, sizeof *r, cmp_d);
    *lo = r[(int)(0.025 * B)];
    *hi = r[(int)(0.975 * B) - 1];
}

static void stats(int M, double *const q[NQ], uint64_t seed, uint64_t cell, cell_stats *st)
{
    /* the library's conventions: NaN members (the parts under --sampler full) left out, one member's
     * standard errors NaN */
    size_t m = (size_t)M;
    for (int k = 0; k < NQ; k++) ntk_mean_se(m, q[k], &st->mean[k], &st->se[k], NULL);
    ntk_moment_ratio(m, q[Q_K], &st->R, &st->R_log_se);
    ntk_moment_ratio(m, q[Q_KD], &st->Kd_R, &st->Kd_R_log_se);
    ntk_moment_ratio(m, q[Q_KW], &st->Kw_R, &st->Kw_R_log_se);
    ntk_moment_ratio(m, q[Q_KX], &st->Kx_R, &st->Kx_R_log_se);
    bootstrap(M, q[Q_K], seed, cell, &st->R_lo, &st->R_hi);
    /* R can never exceed M with M samples; near it the estimate is the ceiling, not the law */
    st->warn_ceiling = st->R > 0.1 * M;
    /* a tail so heavy that the largest member carries > 10% of sum K^2 */
    double mx = 0, s2 = 0;
    for (int i = 0; i < M; i++) mx = fmax(mx, q[Q_K][i] * q[Q_K][i]), s2 += q[Q_K][i] * q[Q_K][i];
    st->warn_tail = mx > 0.1 * s2;
}

typedef struct {
    cli_config c;
    study_grid g;
    ntk_spec base;
    double *x;             /* [n0] probe input, ||x||^2 = s n0 */
    double *xp;            /* [n0] second probe: same norm, at the configured angle to x */
    double *layers;        /* [M x (depth + 1)] of the current cell: per-layer terms K^(l)(x,x) per member */
    double sec_sampling;   /* wall seconds in the members' parallel regions (this rank) */
    int M, ncells;
    int *cdepth, *cwidth;  /* [ncells] the cells: the depth x width grid, or lines of fixed beta */
    double *q[NQ];         /* [ncells x M] per quantity */
    cli_run run;
    bool run_open;
    bool keep; /* config.yaml and cells/ exist: a failure keeps the finished cells for --resume */
    cli_mpi mpi;           /* rank / ranks (0 / 1 without MPI) */
} ens_ctx;

/* Members are dealt round-robin to ranks; the others' slots hold 0.0, so a sum over ranks
 * reassembles every value exactly (x + 0.0 = x), identical for any number of ranks. */
static void mpi_combine(const ens_ctx *e, size_t off)
{
    for (int k = 0; k < NQ; k++) cli_mpi_sum(&e->mpi, e->q[k] + off, e->M);
}

static void cell_path(const ens_ctx *e, int cell, char *buf, size_t cap)
{
    char rel[48];
    snprintf(rel, sizeof rel, "cells/cell_%05d.npz", cell);
    cli_run_path(&e->run, rel, buf, cap);
}

/* All members of one cell: lazy quantities in parallel, then the full-matrix updates. */
static int run_cell(ens_ctx *e, int cell, const ntk_spec *s)
{
    int M = e->M, failed = 0;
    size_t off = (size_t)cell * (size_t)M;
    double P = 0;
    int prev = s->n0;
    for (int l = 0; l <= s->depth; l++) {
        int n = l < s->depth ? s->widths[l] : 1;
        P += (double)n * prev;
        prev = n;
    }
    /* pathwise update: lazy with the lazy sampler; literal update: full matrices (it counts kink crossings
     * of a finite step, which no conditioning on a few directions captures), skipped above the size cap */
    bool updates = !e->c.no_updates && !e->c.no_literal && P <= UPDATE_MAX_PARAMS && s->outputs == 1;
    bool full = e->c.sampler_full, need_net = updates || full, lazy_path = !e->c.no_updates && !full;
    bool pair = e->c.angle_deg >= 0; /* K(x,x') only when asked for (--angle): it costs twice K(x,x) */
    int threads = ntk_get_threads();
    ntk_set_threads(1); /* one level of parallelism: members over OpenMP threads, BLAS single-threaded */
    double t0 = cli_now();
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        double *work = malloc(ntk_lazy_work_len(s) * sizeof *work);
        double *work2 = malloc(ntk_lazy_pair_work_len(s) * sizeof *work2);
        ntk_net *net = NULL;
        double *grad = NULL, *th0 = NULL;
        if (!work || !work2) failed = 1;
        if (need_net && !failed) {
            failed |= ntk_net_alloc(s, &net) != NTK_OK;
            if (!failed && updates) {
                grad = malloc(ntk_net_num_params(net) * sizeof *grad);
                th0 = malloc(ntk_net_num_params(net) * sizeof *th0);
                failed |= !grad || !th0;
            }
        }
#pragma omp for schedule(dynamic, 8)
        for (int m = 0; m < M; m++) {
            if (failed) continue;
            const size_t im = off + (size_t)m; /* member m's slot in e->q[k] */
            if (m % e->mpi.size != e->mpi.rank) { /* another rank's member */
                for (int k = 0; k < NQ; k++) e->q[k][im] = 0.0;
                for (int l = 0; l <= s->depth; l++) e->layers[(size_t)m * (size_t)(s->depth + 1) + (size_t)l] = 0.0;
                continue;
            }
            uint64_t sub = ((uint64_t)cell << 32) | (uint64_t)m;
            double dkp = NAN, dkl = NAN;
            if (!full) {
                ntk_member_diag md;
                ntk_member_pair mp = {NAN, NAN, NAN, NAN, NAN}; /* at (x, x'): an independent network, own stream */
                double *lay = e->layers + (size_t)m * (size_t)(s->depth + 1);
                ntk_status sd = lazy_path ? ntk_lazy_diag_update(s, e->x, e->c.target_y, e->c.seed, sub, work, &md, lay,
                                                                 &dkp)
                                          : ntk_lazy_diag(s, e->x, e->c.seed, sub, work, &md, lay);
                if (sd != NTK_OK || (pair && ntk_lazy_pair(s, e->x, e->xp, e->c.seed, NTK_STREAM_ENSEMBLE_PAIR, sub,
                                                           work2, &mp) != NTK_OK)) {
                    failed = 1;
                    continue;
                }
                e->q[Q_K][im] = md.K;
                e->q[Q_KW][im] = md.K_weight;
                e->q[Q_KB][im] = md.K_bias;
                e->q[Q_KD][im] = md.K_readout;
                e->q[Q_F][im] = md.f;
                e->q[Q_KX][im] = mp.K12;
                e->q[Q_RHO][im] = mp.K11 > 0 && mp.K22 > 0 ? mp.K12 / sqrt(mp.K11 * mp.K22) : NAN;
            } else { /* the reference path gives K(x,x) and f only */
                for (int k = 0; k < NQ; k++) e->q[k][im] = NAN;
                for (int l = 0; l <= s->depth; l++) e->layers[(size_t)m * (size_t)(s->depth + 1) + (size_t)l] = NAN;
            }
            if (need_net) { /* full-matrix path: its own draw of the same law, keyed by (seed, cell, m) */
                ntk_net_init(net, splitmix(e->c.seed ^ splitmix(sub)));
                ntk_feats *f = NULL;
                double K0, f0;
                if (ntk_feats_alloc(net, 1, NTK_F64, &f) != NTK_OK || ntk_feats_compute(net, f, e->x) != NTK_OK ||
                    ntk_kernel_diag(net, f, &K0) != NTK_OK || ntk_feats_output(f, &f0) != NTK_OK ||
                    (updates && member_updates(net, e->x, e->c.target_y, e->c.ens_lr, K0, full ? &dkp : NULL, &dkl,
                                               grad, th0) != 0))
                    failed = 1;
                ntk_feats_free(f);
                if (full) {
                    e->q[Q_K][im] = K0;
                    e->q[Q_F][im] = f0;
                }
            }
            e->q[Q_DKP][im] = dkp;
            e->q[Q_DKL][im] = dkl;
        }
        free(work);
        free(work2);
        free(grad);
        free(th0);
        ntk_net_free(net);
    }
    e->sec_sampling += cli_now() - t0;
    ntk_set_threads(threads);
    if (failed) cli_errorf("ensemble: cell %d: %s", cell, ntk_last_error()[0] ? ntk_last_error() : "out of memory");
    if (cli_mpi_agree(&e->mpi, failed ? CLI_EXIT_FAIL : 0)) return CLI_EXIT_FAIL;
    mpi_combine(e, off);
    cli_mpi_sum(&e->mpi, e->layers, M * (s->depth + 1));
    if (e->mpi.rank != 0) return 0;
    /* checkpoint the cell (rank 0) */
    char path[CLI_PATH_MAX + 64];
    cell_path(e, cell, path, sizeof path);
    ntk_npz_writer *w = NULL;
    size_t shM[1] = {(size_t)M};
    ntk_status st = ntk_npz_open(path, &w);
    for (int k = 0; k < NQ && st == NTK_OK; k++) st = ntk_npz_add(w, qnames[k], NTK_NPY_F64, 1, shM, e->q[k] + off);
    size_t shL[2] = {(size_t)M, (size_t)s->depth + 1};
    if (st == NTK_OK) st = ntk_npz_add(w, "K_layers", NTK_NPY_F64, 2, shL, e->layers);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else ntk_npz_abort(w);
    if (st != NTK_OK) {
        cli_errorf("ensemble: writing %s: %s", path, ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* A checkpointed cell, if its file exists and matches. */
static int load_cell(ens_ctx *e, int cell, bool *done)
{
    char path[CLI_PATH_MAX + 64];
    cell_path(e, cell, path, sizeof path);
    struct stat sb;
    *done = false;
    if (stat(path, &sb) != 0) return 0;
    size_t off = (size_t)cell * (size_t)e->M;
    for (int k = 0; k < NQ; k++) {
        ntk_array a = {0};
        if (ntk_npz_read(path, qnames[k], &a) != NTK_OK || a.count != (size_t)e->M) {
            ntk_array_clear(&a);
            cli_errorf("resume: %s does not match this run (%s)", path, ntk_last_error());
            return CLI_EXIT_USAGE;
        }
        memcpy(e->q[k] + off, a.data, a.count * sizeof(double));
        ntk_array_clear(&a);
    }
    *done = true;
    return 0;
}

static void write_row(FILE *csv, const ntk_spec *s, int width, int M, double sn, double angle, const cell_stats *st)
{
    int d = s->depth + 1;
    double beta = s->depth > 0 ? (double)s->depth / width : 0;
    bool he = s->act == NTK_ACT_RELU && s->param == NTK_PARAM_NTK && s->sw2 == 2.0 && s->sw2_out == 1.0 &&
              s->first_layer == NTK_FIRST_FAN_IN &&
              ((s->bias == NTK_BIAS_ZERO && s->bias_out == NTK_BIAS_ZERO && s->sb == 1.0) ||
               (s->bias == NTK_BIAS_NONE && s->bias_out == NTK_BIAS_NONE));
    double kth = he ? d * sn + (s->bias == NTK_BIAS_ZERO ? (d + 1) / 2.0 : 0) : NAN;
    double prodR = 1;
    for (int l = 0; l < s->depth; l++) prodR *= 1 + 5.0 / s->widths[l];
    fprintf(csv,
            "%d,%d,%.8g,%d,%.8g,%.10g,%.6g,%.10g,%.8g,%.6g,%.8g,%.8g,%.10g,%.8g,%.6g,%.8g,%.8g,%.6g,%.8g,%.10g,%.6g,"
            "%.10g,%.6g,%.8g,%d,%d,%.8g,%.10g,%.6g,%.8g,%.6g,%.10g,%.6g\n",
            s->depth, width, beta, M, sn, st->mean[Q_K], st->se[Q_K], kth, st->R, st->R_log_se, st->R_lo, st->R_hi,
            st->mean[Q_KD], st->Kd_R, st->Kd_R_log_se, he ? prodR : NAN, st->Kw_R,
            st->Kw_R_log_se, exp(5 * beta), st->mean[Q_DKP], st->se[Q_DKP], st->mean[Q_DKL], st->se[Q_DKL],
            (double)d * d / width * exp(5 * beta), st->warn_ceiling, st->warn_tail, angle, st->mean[Q_KX], st->se[Q_KX],
            st->Kx_R, st->Kx_R_log_se, st->mean[Q_RHO], st->se[Q_RHO]);
}

static int write_samples(ens_ctx *e)
{
    char path[CLI_PATH_MAX + 64];
    size_t sh[2] = {(size_t)e->ncells, (size_t)e->M}, shc[1] = {(size_t)e->ncells};
    int *dep = malloc((size_t)e->ncells * sizeof *dep), *wid = malloc((size_t)e->ncells * sizeof *wid);
    if (!dep || !wid) {
        free(dep);
        free(wid);
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < e->ncells; i++) dep[i] = e->cdepth[i], wid[i] = e->cwidth[i];
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(cli_run_path(&e->run, "samples.npz", path, sizeof path), &w);
    for (int k = 0; k < NQ && st == NTK_OK; k++) st = ntk_npz_add(w, qnames[k], NTK_NPY_F64, 2, sh, e->q[k]);
    if (st == NTK_OK) st = ntk_npz_add(w, "depth", NTK_NPY_I32, 1, shc, dep);
    if (st == NTK_OK) st = ntk_npz_add(w, "width", NTK_NPY_I32, 1, shc, wid);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else ntk_npz_abort(w);
    free(dep);
    free(wid);
    if (st != NTK_OK) {
        cli_errorf("writing samples.npz: %s", ntk_last_error());
        return CLI_EXIT_FAIL;
    }
    cli_run_wrote(&e->run, "samples.npz");
    for (int k = 0; k < NQ; k++) {
        char meaning[160];
        snprintf(meaning, sizeof meaning, "per member (cell, member): %s%s", qnames[k],
                 k == Q_DKP ? " = pathwise first-step dK(x,x)/lambda (masks frozen)"
                 : k == Q_DKL ? " = literal one-step (K(theta - lambda grad) - K)/lambda"
                 : k == Q_KX  ? " = K(x, x') at the manifest's angle (an independent network per member)"
                 : k == Q_RHO ? " = K(x, x') / sqrt(K(x, x) K(x', x')) of that network" : "");
        cli_run_artifact(&e->run, "samples.npz", qnames[k], "float64", 2, sh, meaning);
    }
    return 0;
}

int cli_have_mpi(void)
{
#ifdef NTK_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

/* x' with ||x'|| = ||x|| at angle theta to x: cos(theta) x + sin(theta) ||x|| u, u the unit part
 * of a second Gaussian row orthogonal to x.  xp: [2 n0] (the second half is scratch). */
static int second_probe(const cli_config *c, const double *x, double *xp)
{
    int n0 = c->n0;
    if (c->angle_deg < 0) return 0; /* no second probe */
    double th = c->angle_deg * M_PI / 180.0, co = cos(th), si = sin(th), nx = 0, xu = 0, nu = 0;
    if (c->angle_deg == 0 || c->angle_deg == 180) si = 0, co = c->angle_deg == 0 ? 1 : -1;
    else if (n0 < 2) {
        cli_errorf("--angle: with n0 = 1 the second probe can only be at 0 or 180 degrees (got %g)", c->angle_deg);
        return CLI_EXIT_USAGE;
    }
    ntk_data_gaussian(c->data_seed, 2, n0, xp);
    double *u = xp + n0;
    for (int i = 0; i < n0; i++) nx += x[i] * x[i], xu += x[i] * u[i];
    for (int i = 0; i < n0; i++) u[i] -= xu / nx * x[i], nu += u[i] * u[i];
    for (int i = 0; i < n0; i++) xp[i] = co * x[i] + (si != 0 ? si * sqrt(nx / nu) * u[i] : 0);
    return 0;
}

int cmd_ensemble(int argc, char **argv)
{
    ens_ctx e;
    memset(&e, 0, sizeof e);
    cli_config *c = &e.c;
    cli_config_defaults(c, "ensemble");
    int rc = cli_config_parse_args(c, argc, argv, "ensemble");
    if (rc >= 0) {
        cli_config_free(c);
        return rc;
    }
    FILE *csv = NULL;
    cli_mpi_start(&e.mpi);
    if (c->resume[0] && (rc = cli_config_reload(c, "ensemble"))) goto done;
    if ((rc = cli_config_spec(c, &e.base))) goto done;
    if (e.base.outputs != 1) {
        cli_errorf("outputs: ensemble samples scalar networks (outputs = 1)");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = study_grid_init(&e.g, c, 1))) goto done;
    e.M = (int)c->members;
    e.ncells = c->betas_count ? c->betas_count * e.g.nw : e.g.nd * e.g.nw;
    e.cdepth = malloc((size_t)e.ncells * sizeof *e.cdepth);
    e.cwidth = malloc((size_t)e.ncells * sizeof *e.cwidth);
    if (!e.cdepth || !e.cwidth) {
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    for (int i = 0; i < e.ncells; i++) {
        int wi = i % e.g.nw;
        e.cwidth[i] = e.g.widths[wi];
        if (c->betas_count) { /* a line of fixed beta: depth = round(beta n), at least 1 */
            long dd = lround(c->betas[i / e.g.nw] * e.g.widths[wi]);
            e.cdepth[i] = dd < 1 ? 1 : dd > NTK_MAX_DEPTH ? NTK_MAX_DEPTH : (int)dd;
        } else {
            e.cdepth[i] = e.g.depths[i / e.g.nw];
        }
    }
    e.x = malloc((size_t)c->n0 * sizeof *e.x);
    e.xp = malloc(2 * (size_t)c->n0 * sizeof *e.xp);
    for (int k = 0; k < NQ; k++) e.q[k] = malloc((size_t)e.ncells * (size_t)e.M * sizeof(double));
    int dmax = 0;
    for (int i = 0; i < e.ncells; i++) dmax = e.cdepth[i] > dmax ? e.cdepth[i] : dmax;
    e.layers = malloc((size_t)e.M * (size_t)(dmax + 1) * sizeof *e.layers);
    bool have_q = true; /* every accumulator, not only the last one allocated */
    for (int k = 0; k < NQ; k++) have_q = have_q && e.q[k];
    if (!e.x || !e.xp || !have_q || !e.layers) {
        cli_errorf("out of memory for %d cells x %d members", e.ncells, e.M);
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    ntk_data_gaussian(c->data_seed, 1, c->n0, e.x); /* norm sqrt(n0), then scaled to ||x||^2 = s n0 */
    for (int i = 0; i < c->n0; i++) e.x[i] *= sqrt(c->s_norm);
    if ((rc = second_probe(c, e.x, e.xp))) goto done;
    ntk_set_threads(c->threads);
    if (e.mpi.rank == 0) {
        if (c->resume[0]) {
            rc = cli_run_open_existing(&e.run, c->resume, "ensemble");
        } else {
            rc = cli_run_create(&e.run, c, "ensemble");
            if (!rc) rc = cli_run_write_config(&e.run, c);
        }
        e.run_open = true;
        char path[CLI_PATH_MAX + 64];
        if (!rc && ntk_mkdir_p(cli_run_path(&e.run, "cells", path, sizeof path)) != NTK_OK) {
            cli_errorf("%s", ntk_last_error());
            rc = CLI_EXIT_FAIL;
        }
        e.keep = rc == 0;
    }
    if ((rc = cli_mpi_agree(&e.mpi, rc))) goto done;
    cli_mpi_bcast(&e.mpi, e.run.dir, (int)sizeof e.run.dir);
    if (e.mpi.rank == 0)
        csv = study_open_csv(e.run.dir, "cells.csv",
                         "depth,width,beta,members,s,K_mean,K_se,K_theory,R,R_log_se,R_boot_lo,R_boot_hi,Kd_mean,Kd_R,"
                         "Kd_R_log_se,Kd_R_theory,Kw_R,Kw_R_log_se,exp5beta,dK_path_mean,dK_path_se,dK_lit_mean,"
                         "dK_lit_se,dK_scale_theory,warn_ceiling,warn_tail,angle,Koff_mean,Koff_se,Koff_R,Koff_R_log_se,"
                         "rho_mean,rho_se");
    if (e.mpi.rank == 0 && !csv) {
        cli_errorf("cannot write cells.csv in %s", e.run.dir);
        rc = CLI_EXIT_FAIL;
    }
    if ((rc = cli_mpi_agree(&e.mpi, rc))) goto done;
    if (e.mpi.rank == 0) cli_run_wrote(&e.run, "cells.csv");
    double *lx = malloc((size_t)e.ncells * sizeof *lx), *ly = malloc((size_t)e.ncells * sizeof *ly);
    int nfit = 0, log_rc = 0; /* log_rc: rank 0 could not write cells.csv; agreed before the next cell */
    for (int cell = 0; cell < e.ncells && !rc; cell++) {
        ntk_spec s = study_cell_spec(&e.g, &e.base, e.cdepth[cell], e.cwidth[cell]);
        bool done = false;
        double t0 = cli_now();
        if ((rc = cli_mpi_agree(&e.mpi, log_rc))) break;
        rc = cli_mpi_agree(&e.mpi, load_cell(&e, cell, &done));
        if (!rc && !done) rc = cli_mpi_agree(&e.mpi, run_cell(&e, cell, &s));
        if (rc) break;
        if (e.mpi.rank != 0) continue;
        double *qc[NQ];
        for (int k = 0; k < NQ; k++) qc[k] = e.q[k] + (size_t)cell * (size_t)e.M;
        cell_stats st;
        stats(e.M, qc, c->seed, (uint64_t)cell, &st);
        write_row(csv, &s, e.cwidth[cell], e.M, c->s_norm, c->angle_deg >= 0 ? c->angle_deg : NAN, &st);
        if ((log_rc = study_log_flush(csv, "cells.csv"))) continue;
        if (s.depth > 0 && lx && ly && isfinite(st.R)) {
            lx[nfit] = (double)s.depth / e.cwidth[cell];
            ly[nfit++] = log(st.R);
        }
        fprintf(stderr, "ensemble: depth %d width %d: E[K] %.4g +- %.2g, R %.4g, %s %.2f s\n", s.depth,
                e.cwidth[cell], st.mean[Q_K], st.se[Q_K], st.R, done ? "resumed," : "", cli_now() - t0);
    }
    if (!rc) rc = cli_mpi_agree(&e.mpi, log_rc);
    if (rc || e.mpi.rank != 0) {
        free(lx);
        free(ly);
        goto done;
    }
    if ((rc = study_log_close(&csv, "cells.csv"))) {
        free(lx);
        free(ly);
        goto done;
    }
    cJSON *extra = cJSON_CreateObject();
    cJSON *ej = cJSON_AddObjectToObject(extra, "ensemble");
    cJSON_AddNumberToObject(ej, "members", e.M);
    cJSON_AddNumberToObject(ej, "ranks", e.mpi.size);
    cJSON_AddNumberToObject(ej, "s", c->s_norm);
    if (c->angle_deg >= 0) cJSON_AddNumberToObject(ej, "angle_deg", c->angle_deg);
    else cJSON_AddNullToObject(ej, "angle_deg");
    cJSON_AddNumberToObject(ej, "lambda", c->ens_lr);
    cJSON_AddNumberToObject(ej, "y", c->target_y);
    cJSON_AddStringToObject(ej, "sampler",
                            c->sampler_full ? "full-matrix path (every weight drawn) for K(x,x), f and the pathwise update; "
                                              "parts and K(x,x') NaN"
                                            : "exact lazy O(depth x width) for K, its parts, K(x,x') and the pathwise update "
                                              "(docs/ensemble.md); full-matrix path for the literal one-step update");
    cJSON_AddNumberToObject(ej, "seconds_sampling", e.sec_sampling);
    if (nfit >= 2) {
        double slope, se;
        ntk_ols((size_t)nfit, lx, ly, &slope, NULL, &se);
        cli_json_number(ej, "logR_vs_beta_slope", slope);
        cli_json_number(ej, "logR_vs_beta_slope_se", se);
        printf("log R against beta: slope %.3f +- %.3f over %d cells (Hanin-Nica: R ~ exp(5 beta) up to constants)\n",
               slope, se, nfit);
    }
    free(lx);
    free(ly);
    size_t shc[1] = {(size_t)e.ncells};
    cli_run_artifact(&e.run, "cells.csv", NULL, NULL, 1, shc, "one row per (depth, width) cell: statistics and theory columns");
    cli_run_artifact(&e.run, "cells/", NULL, NULL, 1, shc, "cell_<i>.npz: the per-member samples of each completed cell, "
                     "with K_layers (M, depth + 1): the per-layer terms K^(l)(x,x) of each member (lazy sampler)");
    if ((rc = write_samples(&e))) {
        cJSON_Delete(extra);
        goto done;
    }
    ntk_spec s0 = study_cell_spec(&e.g, &e.base, e.cdepth[0], e.cwidth[0]);
    plot_before_manifest(e.run.dir, "ensemble");
    if ((rc = cli_run_finish(&e.run, c, &s0, extra, argc, argv))) goto done;
    e.run_open = false;
    printf("ntkdrift ensemble: %d cells x %d members\n  run directory: %s\n", e.ncells, e.M, e.run.dir);
done:
    if (csv) fclose(csv);
    if (e.run_open && rc) {
        if (e.keep || c->resume[0]) {
            if (rc == CLI_EXIT_FAIL)
                fprintf(stderr, "ntkdrift: the finished cells are kept; continue with --resume %s\n", e.run.dir);
            cli_run_release(&e.run);
        } else {
            cli_run_abort(&e.run);
        }
    }
    cli_mpi_stop(&e.mpi);
    study_grid_free(&e.g);
    free(e.x);
    free(e.cdepth);
    free(e.layers);
    free(e.cwidth);
    free(e.xp);
    for (int k = 0; k < NQ; k++) free(e.q[k]);
    cli_config_free(c);
    return rc;
}
