/* spectra.c -- seed-mean spectra of a group of runs (docs/modes.md): the mean spectrum over seeds
 * at each snapshot, its relative drift, the per-mode variance over seeds and the total variation
 * that marks a mode as active. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

ntk_status ntk_seed_spectra(size_t seeds, size_t T, size_t p, const double *S, double tau, double *mean, double *drift,
                            double *var, double *tv, int *active)
{
    if (!S || seeds == 0 || T == 0 || p == 0)
        return ntk_set_error(NTK_EINVAL, "seed_spectra: need seeds, T, p >= 1 and S [seeds x T x p]");
    double *m = malloc(T * p * sizeof *m), *col = malloc(seeds * sizeof *col);
    if (!m || !col) {
        free(m), free(col);
        return ntk_set_error(NTK_ENOMEM, "seed_spectra: no memory (T %zu, p %zu)", T, p);
    }
    for (size_t t = 0; t < T; t++)
        for (size_t j = 0; j < p; j++) {
            for (size_t s = 0; s < seeds; s++) col[s] = S[(s * T + t) * p + j];
            double sd;
            ntk_mean_se(seeds, col, &m[t * p + j], NULL, &sd);
            if (var) var[t * p + j] = sd * sd;
        }
    double n0 = 0;
    for (size_t j = 0; j < p; j++) n0 += m[j] * m[j];
    for (size_t t = 0; drift && t < T; t++) {
        double d = 0;
        for (size_t j = 0; j < p; j++) d += (m[t * p + j] - m[j]) * (m[t * p + j] - m[j]);
        drift[t] = sqrt(d / n0);
    }
    for (size_t j = 0; j < p; j++) {
        double v = 0;
        for (size_t t = 0; t + 1 < T; t++) v += fabs(m[(t + 1) * p + j] - m[t * p + j]);
        if (tv) tv[j] = v;
        if (active) active[j] = v > tau;
    }
    for (size_t i = 0; mean && i < T * p; i++) mean[i] = m[i];
    free(m), free(col);
    return NTK_OK;
}
