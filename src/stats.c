/* stats.c -- summary statistics over repeated runs (seeds): percentiles by numpy's default
 * ('linear') rule. */
#include "ntkdrift.h"

#include <math.h>
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
