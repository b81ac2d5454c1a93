/* rng.c -- counter-based random numbers (Random123 Philox4x64-10).
 *
 * Value number `i` of a stream depends only on (seed, stream, sub, i):
 * key = {seed, stream}, counter = {i / 2, sub, 0, 0}.  One Philox call yields
 * two 53-bit uniforms and, by Box-Muller, two normals: element i takes the
 * (i mod 2)-th of them.  Any split of [start, start+n) over threads or ranks
 * therefore reproduces the same numbers bit for bit. */
#include "rng.h"

#include <math.h>
#include <Random123/philox.h>
#include <Random123/u01fixedpt.h>

static void philox_pair_uniform(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t pair,
                                double *u0, double *u1)
{
    philox4x64_ctr_t c = {{pair, sub, 0, 0}};
    philox4x64_key_t k = {{seed, (uint64_t)stream}};
    philox4x64_ctr_t r = philox4x64(c, k);
    *u0 = u01fixedpt_open_open_64_double(r.v[0]);
    *u1 = u01fixedpt_open_open_64_double(r.v[1]);
}

static void box_muller(double u0, double u1, double *z0, double *z1)
{
    double r = sqrt(-2.0 * log(u0));
    double t = 2.0 * M_PI * u1;
    *z0 = r * cos(t);
    *z1 = r * sin(t);
}

void ntk_rng_normal(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start, size_t n,
                    double *out)
{
    size_t i = 0;
    while (i < n) {
        uint64_t idx = start + i;
        double u0, u1, z0, z1;
        philox_pair_uniform(seed, stream, sub, idx >> 1, &u0, &u1);
        box_muller(u0, u1, &z0, &z1);
        if ((idx & 1) == 0) {
            out[i++] = z0;
            if (i < n) out[i++] = z1;
        } else {
            out[i++] = z1;
        }
    }
}

void ntk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start, size_t n,
                     double *out)
{
    size_t i = 0;
    while (i < n) {
        uint64_t idx = start + i;
        double u0, u1;
        philox_pair_uniform(seed, stream, sub, idx >> 1, &u0, &u1);
        if ((idx & 1) == 0) {
            out[i++] = u0;
            if (i < n) out[i++] = u1;
        } else {
            out[i++] = u1;
        }
    }
}
