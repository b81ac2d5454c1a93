/* ensemble_probe.c -- the ensemble's probe inputs: a Gaussian direction x with ||x||^2 = s n0 and a
 * second probe x' of the same norm at a given angle to x. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

ntk_status ntk_ensemble_probes(uint64_t data_seed, int n0, double s, double angle_deg, double *x, double *xp)
{
    if (n0 < 1 || !x || !(s > 0) || !isfinite(s) || !(angle_deg <= 180) || (angle_deg >= 0 && !xp))
        return ntk_set_error(NTK_EINVAL, "ensemble_probes: need n0 >= 1, a finite s > 0, an angle <= 180 degrees "
                                         "and the outputs (got n0 %d, s %g, angle %g)", n0, s, angle_deg);
    int exact = angle_deg == 0 || angle_deg == 180;
    if (angle_deg >= 0 && n0 < 2 && !exact)
        return ntk_set_error(NTK_EINVAL, "ensemble_probes: with n0 = 1 the second probe can only be at 0 or 180 "
                                         "degrees (got %g)", angle_deg);
    ntk_status st = ntk_data_gaussian(data_seed, 1, n0, x); /* norm sqrt(n0), then scaled to ||x||^2 = s n0 */
    if (st != NTK_OK) return st;
    for (int i = 0; i < n0; i++) x[i] *= sqrt(s);
    if (angle_deg < 0) return NTK_OK; /* no second probe */
    /* x' = cos(theta) x + sin(theta) ||x|| u, u the unit part of a second Gaussian row orthogonal to x */
    double *g = malloc(2 * (size_t)n0 * sizeof *g);
    if (!g) return ntk_set_error(NTK_ENOMEM, "ensemble_probes: no memory for n0 = %d", n0);
    if ((st = ntk_data_gaussian(data_seed, 2, n0, g)) != NTK_OK) {
        free(g);
        return st;
    }
    double th = angle_deg * M_PI / 180.0, co = cos(th), si = sin(th), nx = 0, xu = 0, nu = 0;
    if (exact) si = 0, co = angle_deg == 0 ? 1 : -1;
    double *u = g + n0;
    for (int i = 0; i < n0; i++) nx += x[i] * x[i], xu += x[i] * u[i];
    for (int i = 0; i < n0; i++) u[i] -= xu / nx * x[i], nu += u[i] * u[i];
    for (int i = 0; i < n0; i++) xp[i] = co * x[i] + (si != 0 ? si * sqrt(nx / nu) * u[i] : 0);
    free(g);
    return NTK_OK;
}
