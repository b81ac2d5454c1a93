/* run_summaries.c -- the small reductions a finished run's figures and manifest show: a spec's
 * beta, the distinct values of a table column, group means, a scale constant fitted in log space
 * and the Fourier amplitudes of profiles on a circle grid.  Each keeps the summation order the
 * CLI's own loops had, so the figures' data files stayed the same to the last digit. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double ntk_spec_beta(const ntk_spec *s)
{
    if (!s || (s->depth > 0 && !s->widths)) return NAN;
    double beta = 0;
    for (int l = 0; l < s->depth; l++) beta += 1.0 / s->widths[l];
    return beta;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

ntk_status ntk_distinct_values(size_t n, const double *v, double *values, size_t *nvalues, size_t *index)
{
    if (!nvalues || (n > 0 && (!v || !values)))
        return ntk_set_error(NTK_EINVAL, "distinct_values: need values v, an output and its count");
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        if (!isfinite(v[r])) continue;
        size_t i = 0;
        while (i < k && values[i] != v[r]) i++;
        if (i == k) values[k++] = v[r];
    }
    if (k > 1) qsort(values, k, sizeof *values, cmp_double); /* values may be NULL when n = 0 */
    *nvalues = k;
    for (size_t r = 0; index && r < n; r++) {
        index[r] = SIZE_MAX;
        if (!isfinite(v[r])) continue;
        size_t lo = 0, hi = k; /* the first value >= v[r]: v[r] itself (== compares 0 and -0 equal) */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (values[mid] < v[r]) lo = mid + 1;
            else hi = mid;
        }
        index[r] = lo;
    }
    return NTK_OK;
}

ntk_status ntk_group_means(size_t n, const size_t *group, size_t ngroups, const double *v, double *mean)
{
    if ((n > 0 && (!group || !v)) || (ngroups > 0 && !mean))
        return ntk_set_error(NTK_EINVAL, "group_means: need groups, values and an output");
    size_t *cnt = calloc(ngroups ? ngroups : 1, sizeof *cnt);
    if (!cnt) return ntk_set_error(NTK_ENOMEM, "group_means: no memory for %zu groups", ngroups);
    for (size_t g = 0; g < ngroups; g++) mean[g] = 0;
    for (size_t i = 0; i < n; i++)
        if (group[i] < ngroups && isfinite(v[i])) mean[group[i]] += v[i], cnt[group[i]]++;
    for (size_t g = 0; g < ngroups; g++) mean[g] = cnt[g] ? mean[g] / (double)cnt[g] : NAN;
    free(cnt);
    return NTK_OK;
}

ntk_status ntk_log_scale_fit(size_t n, const double *y, const double *u, const double *x, double *C, size_t *used)
{
    if (!C || (n > 0 && (!y || !x))) return ntk_set_error(NTK_EINVAL, "log_scale_fit: need y, x and an output C");
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double ui = u ? u[i] : 1;
        if (isfinite(y[i]) && isfinite(x[i]) && y[i] != 0 && x[i] > 0 && ui > 0)
            num += log(fabs(y[i]) / ui / x[i]), den += 1;
    }
    *C = den > 0 ? exp(num / den) : NAN;
    if (used) *used = (size_t)den;
    return NTK_OK;
}

ntk_status ntk_circle_fourier_amplitudes(size_t S, size_t n, const double *F, const double *y, int kmax,
                                         double *amp)
{
    if ((S > 0 && (!F || !amp)) || n < 2 || kmax < 1 || 2 * (size_t)kmax > n)
        return ntk_set_error(NTK_EINVAL,
                             "circle_fourier_amplitudes: need profiles F, an output, n >= 2 and 1 <= kmax <= n/2 "
                             "(n %zu, kmax %d)", n, kmax);
    for (size_t s = 0; s < S; s++)
        for (size_t k = 1; k <= (size_t)kmax; k++) {
            double re = 0, im = 0;
            for (size_t i = 0; i < n; i++) {
                double r = F[s * n + i] - (y ? y[i] : 0), a = 2 * M_PI * (double)(k * i) / (double)n;
                re += r * cos(a);
                im -= r * sin(a);
            }
            amp[s * (size_t)kmax + k - 1] = 2 * sqrt(re * re + im * im) / (double)n;
        }
    return NTK_OK;
}
