/* study_nth.c -- the hierarchy's width study (docs/dynamics.md, "The width study"): per cell (width,
 * seed) one network trained once by gradient descent against the linearized model and the truncated
 * hierarchy at levels 3 and 4 from the same O3 and O4 at step 0, the errors e, eS, k and the sign
 * flips at every snapshot; the per-width aggregates are in study_nth_fit.c. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const QNAMES[NTK_NTHQ_COUNT] = {"e_lin", "e_3", "e_4", "eS_lin", "eS_3", "eS_4", "k_3", "k_4"};

const char *ntk_nthq_name(int q) { return q >= 0 && q < NTK_NTHQ_COUNT ? QNAMES[q] : NULL; }

/* st with "<prefix>: " before the library's last message. */
static ntk_status wrap(ntk_status st, const char *prefix)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ntk_last_error());
    return ntk_set_error(st, "%s: %s", prefix, msg);
}

ntk_nth_study_opts ntk_nth_study_defaults(void)
{
    ntk_nth_study_opts o;
    memset(&o, 0, sizeof o);
    o.loss = NTK_LOSS_SUM, o.lr_frac = 0.25, o.steps = 200, o.schedule = "every:10";
    return o;
}

void ntk_nth_study_clear(ntk_nth_study *r)
{
    if (!r) return;
    free(r->widths), free(r->seeds), free(r->steps), free(r->q), free(r->flips), free(r->diverged);
    free(r->eta), free(r->a_lambda_max), free(r->loss0), free(r->lossT), free(r->drift), free(r->seconds);
    free(r->e_t), free(r->k_t), free(r->flips_t), free(r->mean), free(r->se), free(r->flips_mean);
    free(r->flips_se), free(r->n_diverged);
    memset(r, 0, sizeof *r);
}

/* spec with every hidden layer `width` wide (wbuf: [depth]). */
static ntk_spec cell_spec(const ntk_spec *spec, int width, int *wbuf)
{
    ntk_spec s = *spec;
    for (int l = 0; l < s.depth; l++) wbuf[l] = width;
    s.widths = wbuf;
    return s;
}

ntk_status ntk_nth_study_check(const ntk_spec *spec, const ntk_nth_study_opts *o)
{
    if (!spec || !o) return ntk_set_error(NTK_EINVAL, "nth study: spec and options must not be NULL");
    if (spec->depth < 1 || spec->depth > NTK_MAX_DEPTH)
        return ntk_set_error(NTK_EINVAL, "nth study: depth must be >= 1 (the widths are the hidden layers'), got %d",
                             spec->depth);
    if (spec->outputs != 1)
        return ntk_set_error(NTK_EINVAL, "nth study: one output only (k = %d; the hierarchy is implemented for k = 1)",
                             spec->outputs);
    if (o->gates_frozen && spec->act != NTK_ACT_RELU)
        return ntk_set_error(NTK_EINVAL, "nth study: frozen gates are for act relu only, got %s", ntk_act_name(spec->act));
    if (o->N == 0 || !o->X || !o->y) return ntk_set_error(NTK_EINVAL, "nth study: N >= 1 points X and targets y needed");
    if (o->N > NTK_O4_MAX_N)
        return ntk_set_error(NTK_ENOMEM, "nth study: N = %zu: O4 holds N^4 entries in memory, refused above N = %d",
                             o->N, NTK_O4_MAX_N);
    if (o->steps < 1) return ntk_set_error(NTK_EINVAL, "nth study: steps must be >= 1, got %ld", o->steps);
    if (!isfinite(o->lr_frac) || o->lr_frac < 0)
        return ntk_set_error(NTK_EINVAL, "nth study: lr_frac must be finite and >= 0, got %g", o->lr_frac);
    if (!(o->lr_frac > 0) && !(isfinite(o->lr) && o->lr > 0))
        return ntk_set_error(NTK_EINVAL, "nth study: an absolute lr must be finite and > 0 (lr_frac 0), got %g", o->lr);
    if (!isfinite(ntk_loss_factor(o->loss, o->N))) return ntk_set_error(NTK_EINVAL, "nth study: unknown loss %d", (int)o->loss);
    if (o->n_widths == 0 || !o->widths) return ntk_set_error(NTK_EINVAL, "nth study: at least one width needed");
    for (size_t w = 0; w < o->n_widths; w++)
        if (o->widths[w] < 1 || (w > 0 && o->widths[w] <= o->widths[w - 1]))
            return ntk_set_error(NTK_EINVAL, "nth study: widths must be >= 1 and strictly increasing, got %d after %d",
                                 o->widths[w], w > 0 ? o->widths[w - 1] : 0);
    if (o->n_seeds == 0 || !o->seeds) return ntk_set_error(NTK_EINVAL, "nth study: at least one seed needed");
    for (size_t s = 0; s < o->n_seeds; s++)
        if (o->seeds[s] < 0) return ntk_set_error(NTK_EINVAL, "nth study: seeds[%zu] = %d is negative", s, o->seeds[s]);
    if (o->min_width < 0) return ntk_set_error(NTK_EINVAL, "nth study: min_width must be >= 0, got %d", o->min_width);
    ntk_train_schedule sc;
    if (ntk_train_schedule_parse(o->schedule ? o->schedule : "every:10", o->steps, &sc) != NTK_OK)
        return wrap(NTK_EINVAL, "nth study: snapshots");
    ntk_train_schedule_clear(&sc);
    int *wb = malloc((size_t)spec->depth * sizeof *wb);
    if (!wb) return ntk_set_error(NTK_ENOMEM, "nth study: out of memory");
    char msg[512];
    ntk_spec s = cell_spec(spec, o->widths[0], wb);
    ntk_status st = ntk_spec_check(&s, msg, sizeof msg);
    free(wb);
    return st == NTK_OK ? NTK_OK : ntk_set_error(NTK_EINVAL, "nth study: %s", msg);
}

double ntk_nth_study_bytes(const ntk_spec *spec, int width, size_t N)
{
    if (!spec || spec->depth < 1) return NAN;
    double P = 0, prev = spec->n0, n = (double)N, h = (double)spec->depth * width;
    for (int l = 0; l <= spec->depth; l++) {
        double w = l < spec->depth ? width : spec->outputs;
        P += (prev + 1) * w;
        prev = w;
    }
    int *wb = malloc((size_t)spec->depth * sizeof *wb);
    if (!wb) return NAN;
    ntk_spec s = cell_spec(spec, width, wb);
    /* parameters, gradient, momentum buffer and the network's own workspace (4 P); the features;
     * O4's plan (its output included) while O3 is held; both integrators' O3 and K; the pre-activations
     * at step 0 and now (2 N h); K_0, K, the prediction's K and small vectors */
    double b = 8 * (4 * P) + (double)ntk_feats_bytes(&s, N, NTK_F64) + ntk_o4_bytes(&s, N, 0) + 8 * n * n * n +
               8 * (2 * (n * n * n + n * n) + 2 * n * h + 6 * n * n + 16 * n);
    free(wb);
    return b;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double dist(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* The N-sized dense algebra (eigenvalues of K_0, the linearized predictor, the integrators) runs on
 * one BLAS thread: LAPACK's eigensolver and small BLAS calls round differently with the thread count,
 * and at N <= NTK_O4_MAX_N threads buy nothing.  The width-sized work (features, kernels, O3, O4,
 * training) is GEMM, whose results do not depend on the thread count.  Returns the count to restore. */
static int one_thread(void)
{
    int prev = ntk_get_threads();
    ntk_set_threads(1);
    return prev;
}

/* One cell's objects and buffers. */
typedef struct {
    ntk_net *net;
    ntk_feats *ft;
    ntk_trainer *tr;
    ntk_linpred *lp;
    ntk_nth *h[2];           /* levels 3, 4 */
    double *K0, *K, *Kp;     /* [N x N] */
    double *f0, *f, *fp, *w; /* [N] */
    double *O3, *O4;         /* [N^3], [N^4] */
    double *z0, *z;          /* [L x N x width] pre-activations at step 0 and now */
} cell_ws;

static void ws_free(cell_ws *c)
{
    ntk_nth_free(c->h[0]), ntk_nth_free(c->h[1]), ntk_linpred_free(c->lp), ntk_trainer_free(c->tr);
    ntk_feats_free(c->ft), ntk_net_free(c->net);
    free(c->K0), free(c->K), free(c->Kp), free(c->f0), free(c->f), free(c->fp), free(c->w), free(c->O3), free(c->O4);
    free(c->z0), free(c->z);
    memset(c, 0, sizeof *c);
}

/* The network's features on X: K, f and the hidden pre-activations z. */
static ntk_status observe(cell_ws *c, const double *X, int L, size_t Nh, double *K, double *f, double *z)
{
    ntk_status st = ntk_feats_compute(c->net, c->ft, X);
    if (st == NTK_OK) st = ntk_kernel_full(c->net, c->ft, K, NULL);
    if (st == NTK_OK) st = ntk_feats_output(c->ft, f);
    for (int l = 1; l <= L && st == NTK_OK; l++) st = ntk_feats_preact(c->ft, l, z + (size_t)(l - 1) * Nh);
    return st;
}

/* Everything before the first step: the network (and the hook), K_0, f_0, z_0, eta, O3, O4, the
 * three predictors and the trainer. */
static ntk_status cell_setup(const ntk_spec *s, const ntk_nth_study_opts *o, int seed, cell_ws *c, double *eta,
                             double *almax)
{
    size_t N = o->N, Nh = N * (size_t)s->widths[0], L = (size_t)s->depth;
    c->K0 = malloc(N * N * sizeof(double)), c->K = malloc(N * N * sizeof(double)), c->Kp = malloc(N * N * sizeof(double));
    c->f0 = malloc(N * sizeof(double)), c->f = malloc(N * sizeof(double)), c->fp = malloc(N * sizeof(double));
    c->w = malloc(N * sizeof(double)), c->O3 = malloc(N * N * N * sizeof(double));
    c->O4 = malloc(N * N * N * N * sizeof(double));
    c->z0 = malloc(L * Nh * sizeof(double)), c->z = malloc(L * Nh * sizeof(double));
    if (!c->K0 || !c->K || !c->Kp || !c->f0 || !c->f || !c->fp || !c->w || !c->O3 || !c->O4 || !c->z0 || !c->z)
        return ntk_set_error(NTK_ENOMEM, "out of memory for N = %zu", N);
    ntk_status st = ntk_net_alloc(s, &c->net);
    if (st == NTK_OK) st = ntk_net_init(c->net, (uint64_t)seed);
    if (st == NTK_OK && o->gates_frozen) st = ntk_net_freeze_gates(c->net);
    if (st == NTK_OK && o->net_hook) st = o->net_hook(o->hook_user, c->net);
    if (st == NTK_OK) st = ntk_feats_alloc(c->net, N, NTK_F64, &c->ft);
    if (st == NTK_OK) st = observe(c, o->X, s->depth, Nh, c->K0, c->f0, c->z0);
    if (st != NTK_OK) return st;
    int prev = one_thread();
    st = ntk_eigh(N, c->K0, c->w, NULL);
    ntk_set_threads(prev);
    if (st != NTK_OK) return st;
    double cf = ntk_loss_factor(o->loss, N), lmax = c->w[0];
    *eta = o->lr_frac > 0 ? o->lr_frac * 2.0 / (cf * lmax) : o->lr;
    *almax = *eta * cf * lmax;
    if (!(*eta > 0) || !isfinite(*eta))
        return ntk_set_error(NTK_ENUMERIC, "the learning rate %g (lambda_max(K_0) = %g) is not finite and > 0", *eta, lmax);
    ntk_o3_opts oo = ntk_o3_defaults();
    if ((st = ntk_o3(c->net, &oo, N, o->X, 0, NULL, c->O3, NULL)) != NTK_OK) return st;
    if ((st = ntk_o4(c->net, &oo, N, o->X, 0, NULL, c->O4, NULL)) != NTK_OK) return st;
    double a = *eta * cf;
    prev = one_thread();
    st = ntk_linpred_alloc(N, c->K0, 0, NULL, c->f0, o->y, NULL, a, 0, &c->lp);
    ntk_set_threads(prev);
    for (int i = 0; i < 2 && st == NTK_OK; i++) {
        ntk_nth_opts no = ntk_nth_defaults();
        no.level = 3 + i, no.a = a;
        st = ntk_nth_alloc(&no, N, c->K0, c->O3, i ? c->O4 : NULL, c->f0, o->y, 0, NULL, NULL, NULL, NULL, &c->h[i]);
    }
    if (st != NTK_OK) return st;
    ntk_train_opts to = ntk_train_defaults();
    to.loss = o->loss, to.lr = *eta;
    return ntk_trainer_alloc(c->net, N, o->X, o->y, &to, &c->tr);
}

/* Cell (w, s) into r: every snapshot, then the normalisation by ||f_T - f_0|| and the quantities. */
static ntk_status run_cell(const ntk_spec *spec, const ntk_nth_study_opts *o, ntk_nth_study *r, size_t wi, size_t si,
                           int *wbuf)
{
    double t0 = now_s();
    ntk_spec s = cell_spec(spec, r->widths[wi], wbuf);
    size_t N = o->N, NN = N * N, W = r->W, S = r->S, J = r->J, L = (size_t)r->L, c = wi * S + si;
    size_t Nh = N * (size_t)r->widths[wi];
    cell_ws x = {0};
    double eta = NAN, almax = NAN, *et = r->e_t + c * J, *kt = r->k_t + c * J;
    ntk_status st = cell_setup(&s, o, r->seeds[si], &x, &eta, &almax);
    r->eta[c] = eta, r->a_lambda_max[c] = almax;
    long step = 0;
    for (size_t j = 0; j < J && st == NTK_OK; j++) {
        for (double loss = NAN; step < r->steps[j] && st == NTK_OK; step++)
            if ((st = ntk_trainer_step(x.tr, &loss)) == NTK_ENUMERIC)
                st = ntk_set_error(NTK_ENUMERIC, "training diverged at step %ld (loss %g)", step + 1, loss);
        if (st != NTK_OK) break;
        if (j == 0) memcpy(x.K, x.K0, NN * sizeof *x.K), memcpy(x.f, x.f0, N * sizeof *x.f), memcpy(x.z, x.z0, L * Nh * sizeof *x.z);
        else if ((st = observe(&x, o->X, (int)L, Nh, x.K, x.f, x.z)) != NTK_OK) break;
        int prev = one_thread();
        st = ntk_linpred_at(x.lp, (double)r->steps[j], x.fp, NULL);
        et[j] = dist(N, x.fp, x.f);
        double dK = dist(NN, x.K, x.K0);
        for (int i = 0; i < 2 && st == NTK_OK; i++) {
            if ((st = ntk_nth_advance(x.h[i], r->steps[j])) != NTK_OK) break;
            ntk_nth_get(x.h[i], x.fp, NULL, x.Kp, NULL);
            long at = ntk_nth_diverged_at(x.h[i]);
            bool gone = at >= 0 && at <= r->steps[j];
            et[(size_t)(i + 1) * W * S * J + j] = gone ? INFINITY : dist(N, x.fp, x.f);
            kt[(size_t)i * W * S * J + j] = j == 0 ? NAN : gone ? INFINITY : dist(NN, x.Kp, x.K) / dK;
        }
        ntk_set_threads(prev);
        if (st != NTK_OK) break;
        for (size_t l = 0; l < L; l++) {
            size_t flips = 0;
            for (size_t u = l * Nh; u < (l + 1) * Nh; u++) flips += (x.z[u] > 0) != (x.z0[u] > 0);
            r->flips_t[(c * J + j) * L + l] = (double)flips / (double)Nh;
        }
    }
    if (st == NTK_OK) {
        double D = dist(N, x.f, x.f0), cf = ntk_loss_factor(o->loss, N);
        for (int p = 0; p < 3; p++) {
            double *e = et + (size_t)p * W * S * J, mx = 0;
            for (size_t j = 0; j < J; j++) e[j] /= D, mx = fmax(mx, e[j]);
            r->q[(size_t)p * W * S + c] = e[J - 1];
            r->q[(size_t)(NTK_NTHQ_ES_LIN + p) * W * S + c] = mx;
        }
        for (int i = 0; i < 2; i++) {
            r->q[(size_t)(NTK_NTHQ_K_3 + i) * W * S + c] = kt[(size_t)i * W * S * J + J - 1];
            r->diverged[(size_t)i * W * S + c] = ntk_nth_diverged_at(x.h[i]);
        }
        memcpy(r->flips + c * L, r->flips_t + (c * J + J - 1) * L, L * sizeof *r->flips);
        r->loss0[c] = 0.5 * cf * dist(N, x.f0, o->y) * dist(N, x.f0, o->y);
        r->lossT[c] = 0.5 * cf * dist(N, x.f, o->y) * dist(N, x.f, o->y);
        r->drift[c] = ntk_rel_fro(NN, x.K, x.K0);
        r->seconds[c] = now_s() - t0;
    } else {
        char what[96];
        snprintf(what, sizeof what, "nth study: width %d seed %d", r->widths[wi], r->seeds[si]);
        st = wrap(st, what);
    }
    ws_free(&x);
    return st;
}

/* r's arrays for W widths, S seeds, J snapshots and L hidden layers, NaN-filled (-1 for diverged). */
static ntk_status result_alloc(ntk_nth_study *r, const ntk_nth_study_opts *o, const ntk_train_schedule *sc, int L)
{
    size_t W = o->n_widths, S = o->n_seeds, J = sc->count, C = W * S, Q = NTK_NTHQ_COUNT, Lz = (size_t)L;
    r->W = W, r->S = S, r->J = J, r->L = L;
    r->widths = malloc(W * sizeof *r->widths), r->seeds = malloc(S * sizeof *r->seeds);
    r->steps = malloc(J * sizeof *r->steps), r->diverged = malloc(2 * C * sizeof *r->diverged);
    r->n_diverged = calloc(2 * W, sizeof *r->n_diverged);
    double **d[] = {&r->q, &r->flips, &r->eta, &r->a_lambda_max, &r->loss0, &r->lossT, &r->drift, &r->seconds,
                    &r->e_t, &r->k_t, &r->flips_t, &r->mean, &r->se, &r->flips_mean, &r->flips_se};
    size_t cnt[] = {Q * C, C * Lz, C, C, C, C, C, C, 3 * C * J, 2 * C * J, C * J * Lz, Q * W, Q * W, W * Lz, W * Lz};
    bool ok = r->widths && r->seeds && r->steps && r->diverged && r->n_diverged;
    for (size_t i = 0; i < sizeof cnt / sizeof *cnt; i++) {
        *d[i] = malloc((cnt[i] ? cnt[i] : 1) * sizeof(double));
        ok = ok && *d[i];
        for (size_t k = 0; *d[i] && k < cnt[i]; k++) (*d[i])[k] = NAN;
    }
    if (!ok) return ntk_set_error(NTK_ENOMEM, "nth study: out of memory for %zu cells x %zu snapshots", C, J);
    memcpy(r->widths, o->widths, W * sizeof *r->widths);
    memcpy(r->seeds, o->seeds, S * sizeof *r->seeds);
    memcpy(r->steps, sc->steps, J * sizeof *r->steps);
    for (size_t i = 0; i < 2 * C; i++) r->diverged[i] = -1;
    r->crossover_3 = r->crossover_4 = NAN;
    return NTK_OK;
}

ntk_status ntk_nth_study_run(const ntk_spec *spec, const ntk_nth_study_opts *o, ntk_nth_study *r)
{
    if (!r) return ntk_set_error(NTK_EINVAL, "nth study: the result must not be NULL");
    memset(r, 0, sizeof *r);
    ntk_status st = ntk_nth_study_check(spec, o);
    if (st != NTK_OK) return st;
    ntk_train_schedule sc;
    if ((st = ntk_train_schedule_parse(o->schedule ? o->schedule : "every:10", o->steps, &sc)) != NTK_OK) return st;
    st = result_alloc(r, o, &sc, spec->depth);
    ntk_train_schedule_clear(&sc);
    int *wbuf = st == NTK_OK ? malloc((size_t)spec->depth * sizeof *wbuf) : NULL;
    if (st == NTK_OK && !wbuf) st = ntk_set_error(NTK_ENOMEM, "nth study: out of memory");
    int prev = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads);
    for (size_t w = 0; w < r->W && st == NTK_OK; w++)
        for (size_t s = 0; s < r->S && st == NTK_OK; s++) {
            st = run_cell(spec, o, r, w, s, wbuf);
            if (st == NTK_OK && o->cell_done) st = o->cell_done(o->cell_user, r, w, s);
        }
    if (o->threads > 0) ntk_set_threads(prev);
    free(wbuf);
    return st == NTK_OK ? ntk_nth_study_aggregate(r, o->min_width) : st;
}
