/* data.c -- built-in input sets: Gaussian rows on the sphere of radius
 * sqrt(n0), and evenly spaced points on the unit circle. */
#include "ntkdrift.h"

#include <math.h>

#include "rng.h"

ntk_status ntk_data_gaussian(uint64_t seed, size_t N, int n0, double *X)
{
    if (N == 0 || n0 <= 0) return ntk_set_error(NTK_EINVAL, "gaussian data: N and n0 must be > 0");
    size_t m = (size_t)n0;
    ntk_rng_normal(seed, NTK_STREAM_DATA_X, 0, 0, N * m, X);
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (size_t j = 0; j < m; j++) s += X[i * m + j] * X[i * m + j];
        double r = sqrt((double)n0 / s);
        for (size_t j = 0; j < m; j++) X[i * m + j] *= r;
    }
    return NTK_OK;
}

ntk_status ntk_data_circle(size_t N, double *X)
{
    if (N == 0) return ntk_set_error(NTK_EINVAL, "circle data: N must be > 0");
    for (size_t i = 0; i < N; i++) {
        double g = -M_PI + 2.0 * M_PI * (double)i / (double)N;
        X[2 * i] = cos(g);
        X[2 * i + 1] = sin(g);
    }
    return NTK_OK;
}
