/* test_circle_modes.c -- leakage of circle Fourier modes across eigenspaces (src/analysis/circle_modes.c) on
 * constructed circulant kernels: none for K_t = K_0 (and for any kernel with the same eigenspaces),
 * complete for two modes whose ranks are swapped, sin^2(theta)/2 when a cosine is rotated by theta
 * into the next mode inside its rank position.  Tolerances: the kernels are built exactly from their
 * eigenvectors, so the only error is dsyevd's (~n eps ||K|| / gap ~ 1e-14 here); 1e-12 / 1e-10 leave a
 * margin of 100 or more (1e-10 where a rotation makes the projection a sum of squared cosines). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 16, KMAX = 8 };

/* Unit cos / sin vectors of frequency k on the grid. */
static void fourier(int k, double *c, double *s)
{
    double nc = 0, ns = 0;
    for (int i = 0; i < N; i++) {
        c[i] = cos(2 * M_PI * k * i / N + 0.3 * k); /* a grid offset gamma_0 = 0.3 */
        s[i] = sin(2 * M_PI * k * i / N + 0.3 * k);
        nc += c[i] * c[i], ns += s[i] * s[i];
    }
    for (int i = 0; i < N; i++) c[i] /= sqrt(nc), s[i] = ns > 1e-20 ? s[i] / sqrt(ns) : 0;
}

static void add_outer(double *K, double lam, const double *v)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) K[i * N + j] += lam * v[i] * v[j];
}

/* sum_k lam[k] (c_k c_k^T + s_k s_k^T), with c_1 replaced by cos(th) c1 + sin(th) c2 and c_2 by
 * -sin(th) c1 + cos(th) c2 (th = 0: circulant). */
static void kernel(const double *lam, double th, double *K)
{
    double c[KMAX + 1][N], s[KMAX + 1][N], a[N], b[N];
    memset(K, 0, N * N * sizeof *K);
    for (int k = 0; k <= KMAX; k++) fourier(k, c[k], s[k]);
    for (int i = 0; i < N; i++) a[i] = cos(th) * c[1][i] + sin(th) * c[2][i], b[i] = -sin(th) * c[1][i] + cos(th) * c[2][i];
    for (int k = 0; k <= KMAX; k++) {
        add_outer(K, lam[k], k == 1 ? a : k == 2 ? b : c[k]);
        if (k != 0 && k != KMAX) add_outer(K, lam[k], s[k]);
    }
}

static void test_leakage(void **state)
{
    (void)state;
    double lam[KMAX + 1], K0[N * N], Kt[N * N], leak[KMAX + 1];
    for (int k = 0; k <= KMAX; k++) lam[k] = 10.0 / (1 + k * k); /* decreasing with frequency */
    kernel(lam, 0, K0);
    TU_OK(ntk_circle_leakage(N, K0, K0, KMAX, leak));
    for (int k = 0; k <= KMAX; k++) TU_ASSERT_LE(leak[k], 1e-12, "K_t = K_0: no leakage");
    /* same eigenspaces, other eigenvalues (order kept): still none */
    double l2[KMAX + 1];
    for (int k = 0; k <= KMAX; k++) l2[k] = 3 * lam[k] + 0.1 / (1 + k);
    kernel(l2, 0, Kt);
    TU_OK(ntk_circle_leakage(N, K0, Kt, KMAX, leak));
    for (int k = 0; k <= KMAX; k++) TU_ASSERT_LE(leak[k], 1e-12, "rescaled spectrum: no leakage");
    /* modes 1 and 3 swap ranks: both leak completely, the others not at all */
    memcpy(l2, lam, sizeof l2);
    l2[1] = lam[3], l2[3] = lam[1];
    kernel(l2, 0, Kt);
    TU_OK(ntk_circle_leakage(N, K0, Kt, KMAX, leak));
    for (int k = 0; k <= KMAX; k++)
        TU_ASSERT_LE(fabs(leak[k] - (k == 1 || k == 3 ? 1.0 : 0.0)), 1e-10, "swapped ranks");
    /* cos of mode 1 rotated by theta into mode 2 within its rank: leak_1 = leak_2 = sin^2(theta)/2 */
    double th = 0.4;
    kernel(lam, th, Kt);
    TU_OK(ntk_circle_leakage(N, K0, Kt, KMAX, leak));
    TU_ASSERT_LE(fabs(leak[1] - sin(th) * sin(th) / 2), 1e-10, "rotated mode 1");
    TU_ASSERT_LE(fabs(leak[2] - sin(th) * sin(th) / 2), 1e-10, "rotated mode 2");
    TU_ASSERT_LE(leak[5], 1e-10, "mode 5 untouched");
    assert_int_equal(ntk_circle_leakage(N, K0, Kt, N / 2 + 1, leak), NTK_EINVAL);
    assert_int_equal(ntk_circle_leakage(N, NULL, Kt, 2, leak), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_leakage)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
