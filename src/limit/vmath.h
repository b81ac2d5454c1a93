/* vmath.h -- internal: vector elementary functions for the lane loops of the infinite-width
 * recursion (pairs.c, hermite.c).
 *
 * glibc's libmvec has SIMD variants of acos, asin and atan2 (_ZGVbN2v_acos, _ZGVdN4v_acos,
 * _ZGVeN8v_acos, ...; glibc >= 2.35), but <math.h> declares them only under -ffast-math.  The
 * declarations below give GCC the same `declare simd` contract without it, so loops under
 * `#pragma omp simd` call the vector variants while every other operation keeps IEEE semantics
 * (no reassociation, no contraction to FMA, no finite-math assumptions).  The files that use them
 * are compiled with -fno-math-errno and -fno-trapping-math (CMakeLists.txt), which change no
 * value: errno is not set, and FP exception flags may be raised by lanes whose result a select
 * then drops (this lets GCC treat the calls as pure and if-convert the selects).  libmvec's variants are accurate to 4 ulp (glibc's manual); a
 * scalar call may differ from a lane's result in the last bits, so a lane loop always runs over
 * the full LANES block (padding included) and never has a scalar remainder: every pair goes
 * through the same instructions wherever it falls in the blocking and whatever the thread count.
 *
 * LANE_CLONES builds such a function for the x86-64 baseline (SSE2, 2 lanes), x86-64-v3 (AVX2,
 * 4 lanes) and x86-64-v4 (AVX-512, 8 lanes), chosen once at load time by the CPU (GCC's
 * target_clones); elsewhere (clang, other architectures) the loops are plain C and the calls
 * scalar, with the same results on every thread count. */
#ifndef NTK_VMATH_H
#define NTK_VMATH_H
#include <math.h>

/* Pairs per lane block: a multiple of every vector width above. */
#define LANES 64

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(_OPENMP)
#pragma omp declare simd notinbranch
double acos(double);
#pragma omp declare simd notinbranch
double asin(double);
#pragma omp declare simd notinbranch
double atan2(double, double);
#define LANE_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define LANE_CLONES
#endif
#endif
