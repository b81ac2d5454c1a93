/* stats.c -- summary statistics over repeated runs (seeds, ensemble members): percentiles by
 * numpy's default ('linear') rule, the mean with its standard error, the second-moment ratio
 * mean(v^2) / mean(v)^2 with the delta-method error of its log, and the least-squares line.
 * NaN marks a missing value (a failed run) and is left out everywhere, as numpy's nan* functions do. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

ntk_status ntk_percentiles(size_t n, const double *v, int nq, const double *q, double *out)
{
    if (nq < 1 || !q || !out || (n > 0 && !v))
        return ntk_set_error(NTK_EINVAL, "percentiles: need values, nq >= 1 levels and an output");
    for (int j = 0; j < nq; j++)
        if (!(q[j] >= 0 && q[j] <= 1))
            return ntk_set_error(NTK_EINVAL, "percentiles: level %d is %g, not in [0, 1]", j, q[j]);
    double *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return ntk_set_error(NTK_ENOMEM, "percentiles: no memory for %zu values", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) s[m++] = v[i];   /* NaN values (failed runs) are left out, like numpy.nanpercentile */
    qsort(s, m, sizeof *s, cmp_double);
    for (int j = 0; j < nq; j++) {
        if (m == 0) {
            out[j] = NAN;
            continue;
        }
        double pos = q[j] * (double)(m - 1);
        size_t i = (size_t)floor(pos);
        out[j] = i + 1 >= m ? s[m - 1] : s[i] + (pos - (double)i) * (s[i + 1] - s[i]);
    }
    free(s);
    return NTK_OK;
}

/* Every mean below is accumulated as sum_i (v_i / m), the rule the CLI's statistics used before they
 * moved here, so their outputs stayed bit-identical. */

static size_t count_values(size_t n, const double *v)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) m++;
    return m;
}

/* The points (x[i], y[i]) with neither value NaN. */
static bool ols_point(const double *x, const double *y, size_t i)
{
    return !isnan(x[i]) && !isnan(y[i]);
}

ntk_status ntk_ols(size_t n, const double *x, const double *y, double *slope, double *intercept, double *slope_se)
{
    if (!slope || (n > 0 && (!x || !y)))
        return ntk_set_error(NTK_EINVAL, "ols: need points x, y and an output for the slope");
    size_t m = 0;
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (ols_point(x, y, i)) m++, xmin = fmin(xmin, x[i]), xmax = fmax(xmax, x[i]);
    double mx = m ? 0 : NAN, my = m ? 0 : NAN, sxx = 0, sxy = 0, rss = 0;
    for (size_t i = 0; i < n && m; i++)
        if (ols_point(x, y, i)) mx += x[i] / (double)m, my += y[i] / (double)m;
    for (size_t i = 0; i < n; i++)
        if (ols_point(x, y, i)) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
    /* no line through fewer than two distinct abscissae.  Equal x are tested as such: their rounded
     * mean need not equal them, and then Sxx is a rounding residue ~1e-33, not 0 */
    double b = xmin < xmax ? sxy / sxx : NAN;
    for (size_t i = 0; i < n; i++)
        if (ols_point(x, y, i)) {
            double r = y[i] - my - b * (x[i] - mx);
            rss += r * r;
        }
    *slope = b;
    if (intercept) *intercept = my - b * mx;
    if (slope_se) *slope_se = m > 2 && !isnan(b) ? sqrt(rss / (double)(m - 2) / sxx) : NAN;
    return NTK_OK;
}

ntk_status ntk_mean_se(size_t n, const double *v, double *mean, double *se, double *sd)
{
    if (!mean || (n > 0 && !v)) return ntk_set_error(NTK_EINVAL, "mean_se: need values and an output for the mean");
    size_t m = count_values(n, v);
    double a = m ? 0 : NAN, q = 0;
    for (size_t i = 0; i < n && m; i++)
        if (!isnan(v[i])) a += v[i] / (double)m;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) q += (v[i] - a) * (v[i] - a);
    *mean = a;
    if (sd) *sd = m > 1 ? sqrt(q / (double)(m - 1)) : NAN;
    if (se) *se = m > 1 ? sqrt(q / (double)(m - 1) / (double)m) : NAN;
    return NTK_OK;
}

ntk_status ntk_moment_ratio(size_t n, const double *v, double *R, double *log_se)
{
    if (!R || (n > 0 && !v)) return ntk_set_error(NTK_EINVAL, "moment_ratio: need values and an output for R");
    size_t m = count_values(n, v);
    double m1 = m ? 0 : NAN, m2 = m ? 0 : NAN;
    for (size_t i = 0; i < n && m; i++)
        if (!isnan(v[i])) m1 += v[i] / (double)m, m2 += v[i] * v[i] / (double)m;
    *R = m2 / (m1 * m1);
    if (!log_se) return NTK_OK;
    /* the sample (co)variances (ddof 1) of v and v^2; one value leaves them NaN (d = 0 and
     * a = b = 0 exactly, as m1 = v / 1: 0 / 0) */
    double v11 = 0, v22 = 0, v12 = 0, d = (double)m - 1;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            double a = v[i] - m1, b = v[i] * v[i] - m2;
            v11 += a * a / d, v22 += b * b / d, v12 += a * b / d;
        }
    double var = (v22 / (m2 * m2) + 4 * v11 / (m1 * m1) - 4 * v12 / (m1 * m2)) / (double)m;
    *log_se = var > 0 ? sqrt(var) : NAN;
    return NTK_OK;
}
