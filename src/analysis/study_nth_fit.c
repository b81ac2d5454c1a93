/* study_nth_fit.c -- the hierarchy's width study per width (docs/dynamics.md, "The width study"):
 * seed means and standard errors of every quantity and of the sign flips, the diverged seeds, the
 * log-log slopes in width and the crossover widths, from the cells of study_nth.c. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

/* OLS of log(mean[w]) on log(widths[w]) over the widths >= min_width with a finite, positive mean. */
static ntk_status fit_one(size_t W, const int *widths, const double *mean, int min_width, double *lx, double *ly,
                          ntk_width_fit *out)
{
    size_t m = 0;
    out->width_min = out->width_max = 0;
    for (size_t w = 0; w < W; w++) {
        if (widths[w] < min_width || !isfinite(mean[w]) || !(mean[w] > 0)) continue;
        lx[m] = log((double)widths[w]), ly[m] = log(mean[w]);
        if (!m) out->width_min = widths[w];
        out->width_max = widths[w], m++;
    }
    out->points = m;
    return ntk_ols(m, lx, ly, &out->slope, NULL, &out->slope_se);
}

/* The smallest width from which on (it and every larger one) mean_p < mean_lin; NAN if none. */
static double crossover(size_t W, const int *widths, const double *mean_p, const double *mean_lin)
{
    double x = NAN;
    for (size_t w = W; w-- > 0 && mean_p[w] < mean_lin[w];) x = widths[w];
    return x;
}

ntk_status ntk_nth_study_aggregate(ntk_nth_study *r, int min_width)
{
    if (!r || !r->q || !r->mean || !r->se || !r->widths || r->W == 0 || r->S == 0)
        return ntk_set_error(NTK_EINVAL, "nth study aggregate: a result of ntk_nth_study_run is needed");
    size_t W = r->W, S = r->S, L = (size_t)r->L;
    double *tmp = malloc((S + 2 * W) * sizeof *tmp), *lx = tmp + S, *ly = lx + W;
    if (!tmp) return ntk_set_error(NTK_ENOMEM, "nth study aggregate: out of memory");
    ntk_status st = NTK_OK;
    for (size_t i = 0; i < NTK_NTHQ_COUNT && st == NTK_OK; i++)
        for (size_t w = 0; w < W && st == NTK_OK; w++)
            st = ntk_mean_se(S, r->q + (i * W + w) * S, r->mean + i * W + w, r->se + i * W + w, NULL);
    for (size_t i = 0; i < NTK_NTHQ_COUNT * W; i++) /* an infinite mean's se (inf - inf): the positive NAN */
        if (isnan(r->se[i])) r->se[i] = NAN;
    for (size_t w = 0; w < W && st == NTK_OK; w++)
        for (size_t l = 0; l < L && st == NTK_OK; l++) {
            for (size_t s = 0; s < S; s++) tmp[s] = r->flips[(w * S + s) * L + l];
            st = ntk_mean_se(S, tmp, r->flips_mean + w * L + l, r->flips_se + w * L + l, NULL);
        }
    for (size_t i = 0; i < 2 * W; i++) {
        r->n_diverged[i] = 0;
        for (size_t s = 0; s < S; s++) r->n_diverged[i] += r->diverged[i * S + s] >= 0;
    }
    for (int i = 0; i < NTK_NTHQ_COUNT && st == NTK_OK; i++)
        st = fit_one(W, r->widths, r->mean + (size_t)i * W, min_width, lx, ly, &r->fit[i]);
    free(tmp);
    r->min_width = min_width;
    r->crossover_3 = crossover(W, r->widths, r->mean + NTK_NTHQ_E_3 * W, r->mean + NTK_NTHQ_E_LIN * W);
    r->crossover_4 = crossover(W, r->widths, r->mean + NTK_NTHQ_E_4 * W, r->mean + NTK_NTHQ_E_LIN * W);
    return st;
}
