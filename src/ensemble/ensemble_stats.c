/* ensemble_stats.c -- an ensemble cell's statistics (docs/ensemble.md): means and standard errors,
 * the second-moment ratios R = mean(v^2) / mean(v)^2 with their delta-method errors (src/analysis/stats.c),
 * the bootstrap interval of R, the two warnings, the theory columns, and the line of log R against
 * beta over the cells.  Every loop runs over the members in index order: the numbers depend on the
 * samples alone. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile bootstrap interval (2.5%, 97.5%) of R with 400 resamples drawn from (seed, cell) on
 * their own stream (resample b of cell c: sub = c * 400 + b, uniforms 0 .. M-1).  NaN when the
 * resample buffer cannot be allocated (the rest of the statistics stand). */
static void bootstrap(size_t M, const double *v, uint64_t seed, uint64_t cell, double *lo, double *hi)
{
    enum { B = 400 };
    double r[B], *u = malloc(M * sizeof *u);
    if (!u) {
        *lo = *hi = NAN;
        return;
    }
    double Md = (double)M;
    for (int b = 0; b < B; b++) {
        ntk_rng_uniform(seed, NTK_STREAM_ENSEMBLE_BOOTSTRAP, cell * B + (uint64_t)b, 0, M, u);
        double m1 = 0, m2 = 0;
        for (size_t i = 0; i < M; i++) {
            size_t j = (size_t)(u[i] * Md);
            double x = v[j < M ? j : M - 1];
            m1 += x;
            m2 += x * x;
        }
        m1 /= Md, m2 /= Md;
        r[b] = m2 / (m1 * m1);
    }
    free(u);
    qsort(r, B, sizeof *r, cmp_d);
    *lo = r[(int)(0.025 * B)];
    *hi = r[(int)(0.975 * B) - 1];
}

ntk_status ntk_ensemble_stats_compute(const ntk_ensemble_samples *s, uint64_t seed, uint64_t cell,
                                      ntk_ensemble_stats *st)
{
    if (!s || !st || s->members < 1) return ntk_set_error(NTK_EINVAL, "ensemble_stats: need samples of >= 1 member and an output");
    for (int k = 0; k < NTK_ENS_NQ; k++)
        if (!s->q[k]) return ntk_set_error(NTK_EINVAL, "ensemble_stats: samples have no %s array", ntk_ensemble_q_name((ntk_ensemble_q)k));
    memset(st, 0, sizeof *st);
    size_t M = s->members;
    const double *K = s->q[NTK_ENS_K];
    /* src/analysis/stats.c's conventions: NaN members (the parts under sampler_full) left out; one member's
     * standard errors NaN */
    for (int k = 0; k < NTK_ENS_NQ; k++) ntk_mean_se(M, s->q[k], &st->mean[k], &st->se[k], NULL);
    ntk_moment_ratio(M, K, &st->R, &st->R_log_se);
    ntk_moment_ratio(M, s->q[NTK_ENS_K_READOUT], &st->Kd_R, &st->Kd_R_log_se);
    ntk_moment_ratio(M, s->q[NTK_ENS_K_WEIGHT], &st->Kw_R, &st->Kw_R_log_se);
    ntk_moment_ratio(M, s->q[NTK_ENS_K_OFF], &st->Koff_R, &st->Koff_R_log_se);
    bootstrap(M, K, seed, cell, &st->R_boot_lo, &st->R_boot_hi);
    /* R can never exceed M with M samples; near it the estimate is the ceiling, not the law */
    st->warn_ceiling = st->R > 0.1 * (double)M;
    /* a tail so heavy that the largest member carries > 10% of sum K^2 */
    double mx = 0, s2 = 0;
    for (size_t i = 0; i < M; i++) mx = fmax(mx, K[i] * K[i]), s2 += K[i] * K[i];
    st->warn_tail = mx > 0.1 * s2;
    return NTK_OK;
}

ntk_status ntk_ensemble_theory_of(const ntk_spec *s, int width, double sn, ntk_ensemble_theory *th)
{
    if (!s || !th || width < 1 || s->depth < 0 || (s->depth > 0 && !s->widths))
        return ntk_set_error(NTK_EINVAL, "ensemble_theory: need a spec with its widths, width >= 1 and an output");
    int d = s->depth + 1;
    double beta = s->depth > 0 ? (double)s->depth / width : 0;
    bool he = s->act == NTK_ACT_RELU && s->param == NTK_PARAM_NTK && s->sw2 == 2.0 && s->sw2_out == 1.0 &&
              s->first_layer == NTK_FIRST_FAN_IN &&
              ((s->bias == NTK_BIAS_ZERO && s->bias_out == NTK_BIAS_ZERO && s->sb == 1.0) ||
               (s->bias == NTK_BIAS_NONE && s->bias_out == NTK_BIAS_NONE));
    double prodR = 1;
    for (int l = 0; l < s->depth; l++) prodR *= 1 + 5.0 / s->widths[l];
    th->beta = beta;
    th->K_mean = he ? d * sn + (s->bias == NTK_BIAS_ZERO ? (d + 1) / 2.0 : 0) : NAN;
    th->Kd_R = he ? prodR : NAN;
    th->exp5beta = exp(5 * beta);
    th->dK_scale = (double)d * d / width * exp(5 * beta);
    return NTK_OK;
}

ntk_status ntk_ensemble_grid(size_t nd, const int *depths, size_t nb, const double *betas, size_t nw,
                             const int *widths, int *depth, int *width, int *max_depth)
{
    if ((nw > 0 && (!widths || !depth || !width)) || (nb == 0 && nd > 0 && !depths) || (nb > 0 && !betas))
        return ntk_set_error(NTK_EINVAL, "ensemble_grid: need the depths or betas, the widths and the outputs");
    int dmax = 0;
    for (size_t i = 0, n = (nb > 0 ? nb : nd) * nw; i < n; i++) {
        width[i] = widths[i % nw];
        if (nb > 0) { /* a line of fixed beta: depth = round(beta n), at least 1 */
            long dd = lround(betas[i / nw] * widths[i % nw]);
            depth[i] = dd < 1 ? 1 : dd > NTK_MAX_DEPTH ? NTK_MAX_DEPTH : (int)dd;
        } else {
            depth[i] = depths[i / nw];
        }
        dmax = depth[i] > dmax ? depth[i] : dmax;
    }
    if (max_depth) *max_depth = dmax;
    return NTK_OK;
}

ntk_status ntk_ensemble_fit(size_t n, const int *depth, const int *width, const double *R, double *slope,
                            double *slope_se, size_t *used)
{
    if (!slope || (n > 0 && (!depth || !width || !R)))
        return ntk_set_error(NTK_EINVAL, "ensemble_fit: need the cells' depth, width and R and an output");
    *slope = NAN;
    if (slope_se) *slope_se = NAN;
    if (used) *used = 0;
    double *lx = malloc((n ? 2 * n : 1) * sizeof *lx);
    if (!lx) return ntk_set_error(NTK_ENOMEM, "ensemble_fit: no memory for %zu cells", n);
    double *ly = lx + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (depth[i] <= 0 || !isfinite(R[i])) continue;
        if (width[i] < 1) {
            free(lx);
            return ntk_set_error(NTK_EINVAL, "ensemble_fit: cell %zu has width %d", i, width[i]);
        }
        lx[m] = (double)depth[i] / width[i];
        ly[m++] = log(R[i]);
    }
    ntk_status st = m >= 2 ? ntk_ols(m, lx, ly, slope, NULL, slope_se) : NTK_OK;
    free(lx);
    if (used) *used = m;
    return st;
}
