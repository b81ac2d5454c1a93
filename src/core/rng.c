/* rng.c -- counter-based random numbers (Random123 Philox4x64-10).
 *
 * Value number `i` of a stream depends only on (seed, stream, sub, i):
 * key = {seed, stream}, counter = {i / 4, sub, 0, 0}.  One Philox call yields
 * four 53-bit uniforms in (0, 1) and, by two Box-Muller transforms, four
 * normals: element i takes the (i mod 4)-th.  Any split of [start, start+n)
 * over threads or ranks therefore reproduces the same numbers bit for bit. */
#include "rng.h"

#include "la.h"

#include <math.h>
#include <Random123/philox.h>
#include <Random123/u01fixedpt.h>

static void philox_uniform4(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t block, double u[4])
{
    philox4x64_ctr_t c = {{block, sub, 0, 0}};
    philox4x64_key_t k = {{seed, (uint64_t)stream}};
    philox4x64_ctr_t r = philox4x64(c, k);
    for (int j = 0; j < 4; j++) u[j] = u01fixedpt_open_open_64_double(r.v[j]);
}

static void normal4(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t block, double z[4])
{
    double u[4];
    philox_uniform4(seed, stream, sub, block, u);
    for (int j = 0; j < 4; j += 2) {
        double r = sqrt(-2.0 * log(u[j])), t = 2.0 * M_PI * u[j + 1];
        z[j] = r * cos(t);
        z[j + 1] = r * sin(t);
    }
}

static void normal_range(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start, size_t n, double *out)
{
    size_t i = 0;
    while (i < n) {
        uint64_t idx = start + i, block = idx >> 2;
        unsigned off = (unsigned)(idx & 3);
        if (off == 0 && n - i >= 4) { /* whole block straight into the output */
            normal4(seed, stream, sub, block, out + i);
            i += 4;
            continue;
        }
        double z[4];
        normal4(seed, stream, sub, block, z);
        for (unsigned j = off; j < 4 && i < n; j++) out[i++] = z[j];
    }
}

/* Long ranges in chunks over a team of OpenMP threads (la_team_begin: as many as BLAS has; a
 * network's weights are millions of values); value i depends on i alone, so the split changes no
 * bit. */
#define RNG_CHUNK ((size_t)1 << 14)

void ntk_rng_normal(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start, size_t n, double *out)
{
    size_t chunks = n / RNG_CHUNK;
    la_team team = la_team_begin(chunks < 4 ? 1 : chunks);
    if (team.threads < 2) {
        normal_range(seed, stream, sub, start, n, out);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(team.threads)
    for (size_t c = 0; c <= chunks; c++) {
        size_t i0 = c * RNG_CHUNK, m = c < chunks ? RNG_CHUNK : n - i0;
        if (m) normal_range(seed, stream, sub, start + i0, m, out + i0);
    }
    la_team_end(team);
}

void ntk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start, size_t n, double *out)
{
    size_t i = 0;
    while (i < n) {
        uint64_t idx = start + i;
        double u[4];
        philox_uniform4(seed, stream, sub, idx >> 2, u);
        for (unsigned j = (unsigned)(idx & 3); j < 4 && i < n; j++) out[i++] = u[j];
    }
}
