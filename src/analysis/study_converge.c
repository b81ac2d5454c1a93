/* study_converge.c -- one cell of the convergence study (docs/cli.md, converge): the empirical
 * kernel at initialisation against the infinite-width one over seeds, the seed mean's error and
 * the diagonal's statistics; the log-log line in width; the peak memory of a cell. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_converge_opts ntk_converge_defaults(void)
{
    ntk_converge_opts o;
    memset(&o, 0, sizeof o);
    return o;
}

/* K_inf, the seed mean, K and the limit recursion's two N x N buffers, the raw (N k)^2 kernel with
 * two Gram buffers, activations of the largest network, the diagonals of the S seeds. */
double ntk_converge_bytes(const ntk_spec *spec, size_t nd, const int *depths, size_t nw, const int *widths,
                          size_t N, size_t S)
{
    if (!spec || nd == 0 || nw == 0 || !depths || !widths) return NAN;
    int dmax = 0, wmax = 0;
    for (size_t i = 0; i < nd; i++) dmax = depths[i] > dmax ? depths[i] : dmax;
    for (size_t i = 0; i < nw; i++) wmax = widths[i] > wmax ? widths[i] : wmax;
    int *wb = malloc((size_t)(dmax > 0 ? dmax : 1) * sizeof *wb);
    if (!wb) return NAN;
    for (int l = 0; l < dmax; l++) wb[l] = wmax;
    ntk_spec s = *spec;
    s.depth = dmax;
    s.widths = wb;
    double n2 = (double)N * (double)N, nk = (double)N * s.outputs;
    double b = 8 * (5 * n2 + 3 * nk * nk) + (double)ntk_feats_bytes(&s, N, NTK_F64) + (double)N * s.n0 * 8 +
               8 * (double)N * (double)S;
    free(wb);
    return b;
}

double ntk_limit_bytes(const ntk_spec *spec, size_t N, int per_layer)
{
    if (!spec) return NAN;
    double mats = 2 + (spec->param == NTK_PARAM_STANDARD ? 1 : 0) + (per_layer ? spec->depth + 1.0 : 0);
    return mats * (double)N * (double)N * 8.0 + (double)N * spec->n0 * 8.0;
}

typedef struct {
    double *Kinf, *Kmean, *K, *Kraw;
    double *diag; /* [N x S]: K(x_i, x_i) of seed s at i * S + s */
} conv_ws;

static ntk_status run_seeds(const ntk_spec *spec, const ntk_converge_opts *o, conv_ws *b, ntk_converge_result *r)
{
    size_t N = o->N, NN = N * N, S = o->n_seeds;
    int k = spec->outputs;
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    ntk_status st = ntk_limit_full(spec, NULL, N, o->X, NULL, b->Kinf, NULL, NULL);
    if (st == NTK_OK) st = ntk_net_alloc(spec, &net);
    if (st == NTK_OK) st = ntk_feats_alloc(net, N, NTK_F64, &f);
    /* the limit is diagonal in outputs (K_ab -> [a = b] K_inf): the mean over the k outputs tends
     * to K_inf (docs/conventions.md, multi-output) */
    memset(b->Kmean, 0, NN * sizeof *b->Kmean);
    for (size_t si = 0; si < S && st == NTK_OK; si++) {
        ntk_net_init(net, (uint64_t)o->seeds[si]);
        st = ntk_feats_compute(net, f, o->X);
        if (st == NTK_OK) st = ntk_kernel_full(net, f, k > 1 ? b->Kraw : b->K, NULL);
        if (st == NTK_OK && k > 1) st = ntk_kernel_output_mean(N, N, k, NTK_F64, b->Kraw, b->K);
        if (st != NTK_OK) break;
        r->err[si] = ntk_rel_fro(NN, b->K, b->Kinf);
        for (size_t i = 0; i < NN; i++) b->Kmean[i] += b->K[i] / (double)S;
        for (size_t i = 0; i < N; i++) b->diag[i * S + si] = b->K[i * N + i];
    }
    ntk_feats_free(f);
    ntk_net_free(net);
    if (st != NTK_OK) return st;
    r->err_mean = ntk_rel_fro(NN, b->Kmean, b->Kinf);
    double dm = 0, dv = 0, dl = 0;
    for (size_t i = 0; i < N; i++) { /* per point over the seeds: mean and variance (ddof 1; NaN for one seed) */
        double m, sd;
        ntk_mean_se(S, b->diag + i * S, &m, NULL, &sd);
        dm += m / (double)N;
        dv += sd * sd / (double)N;
        dl += b->Kinf[i * N + i] / (double)N;
    }
    r->diag_mean = dm;
    r->diag_var = dv;
    r->diag_limit = dl;
    return ntk_mean_se(S, r->err, &r->err_single_mean, &r->err_single_se, NULL);
}

ntk_status ntk_converge_cell(const ntk_spec *spec, const ntk_converge_opts *o, ntk_converge_result *r)
{
    if (!spec || !o || !r || !r->err)
        return ntk_set_error(NTK_EINVAL, "converge: spec, options and result (with err) must not be NULL");
    if (o->N == 0 || !o->X || o->n_seeds == 0 || !o->seeds)
        return ntk_set_error(NTK_EINVAL, "converge: N >= 1 points X and n_seeds >= 1 seeds needed");
    for (size_t s = 0; s < o->n_seeds; s++)
        if (o->seeds[s] < 0) return ntk_set_error(NTK_EINVAL, "converge: seeds[%zu] = %d is negative", s, o->seeds[s]);
    size_t N = o->N, NN = N * N, kk = (size_t)(spec->outputs > 0 ? spec->outputs : 1);
    conv_ws b = {0};
    b.Kinf = malloc(NN * sizeof(double));
    b.Kmean = malloc(NN * sizeof(double));
    b.K = malloc(NN * sizeof(double));
    b.Kraw = kk > 1 ? malloc(NN * kk * kk * sizeof(double)) : NULL;
    b.diag = malloc(N * o->n_seeds * sizeof(double));
    ntk_status st = NTK_OK;
    if (!b.Kinf || !b.Kmean || !b.K || (kk > 1 && !b.Kraw) || !b.diag) {
        st = ntk_set_error(NTK_ENOMEM, "converge: out of memory for N = %zu", N);
    } else {
        int prev = ntk_get_threads();
        if (o->threads > 0) ntk_set_threads(o->threads);
        st = run_seeds(spec, o, &b, r);
        if (o->threads > 0) ntk_set_threads(prev);
    }
    free(b.Kinf);
    free(b.Kmean);
    free(b.K);
    free(b.Kraw);
    free(b.diag);
    return st;
}

ntk_status ntk_converge_fit(size_t W, const int *widths, size_t S, const double *err, ntk_width_fit *out)
{
    if (W == 0 || S == 0 || !widths || !err || !out)
        return ntk_set_error(NTK_EINVAL, "converge fit: W and S must be >= 1, widths, err and out must not be NULL");
    size_t n = W * S;
    double *lx = malloc(n * sizeof *lx), *ly = malloc(n * sizeof *ly);
    if (!lx || !ly) {
        free(lx);
        free(ly);
        return ntk_set_error(NTK_ENOMEM, "converge fit: out of memory for %zu points", n);
    }
    out->width_min = out->width_max = widths[0];
    for (size_t w = 0; w < W; w++) {
        for (size_t s = 0; s < S; s++) {
            lx[w * S + s] = log((double)widths[w]);
            ly[w * S + s] = log(err[w * S + s]);
        }
        out->width_min = widths[w] < out->width_min ? widths[w] : out->width_min;
        out->width_max = widths[w] > out->width_max ? widths[w] : out->width_max;
    }
    out->points = n;
    ntk_status st = ntk_ols(n, lx, ly, &out->slope, NULL, &out->slope_se);
    free(lx);
    free(ly);
    return st;
}
