/* rng.h -- internal: counter-based random numbers (see rng.c). */
#ifndef NTK_RNG_H
#define NTK_RNG_H
#include "ntkdrift.h"
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#endif
