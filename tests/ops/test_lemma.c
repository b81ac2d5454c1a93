/* test_lemma.c -- the lemma objects (src/ops/lemma.c) and the subspace metrics (src/ops/subspace.c)
 * against closed forms and direct computations:
 *   - on an equispaced grid with a circulant kernel G = I, H = diag(mu_k) and E_p = (mu_k - lambda_k^(n)) Phi_p
 *     exactly (mu_k the FFT eigenvalues): 1e-12, a few hundred eps of the O(n) sums;
 *   - the dense and FFT paths agree (1e-12), and on uniform random points every norm equals the
 *     triple loop written out here (1e-12);
 *   - eigenspaces of a circulant kernel match their planes (angles below 1e-6: principal angles near
 *     0 come from an SVD of U^T Q whose cosines are 1 - O(eps), so the angle is ~sqrt(eps)); a kernel
 *     whose cos 1 eigenvector is rotated by theta into cos 2 has angle theta, projector distance
 *     sqrt2 sin theta, affinity sqrt((1 + cos^2 theta) / 2), leakage 2|l1 - l2| cos sin / trace
 *     and block drift |l1 - l2| sin^2 theta in all three norms (1e-10). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 64, K = 8, W = 2 * K + 1 };

static double theta_bias(double d, void *ctx)
{
    (void)ctx;
    return ntk_circle_theta(d, 1);
}

static double angle(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

static void dense_A(size_t n, const double *g, double *A)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] = theta_bias(angle(g[i], g[j]), NULL) / (double)n;
}

static void lambdas(double *lam)
{
    for (int k = 0; k <= K; k++) lam[k] = ntk_circle_eigenvalue_closed(k, 1);
}

static void test_grid_closed_form(void **state)
{
    (void)state;
    double row[N], mu[N], g[N], lam[K + 1], e_col[W], G[W * W], H[W * W], Gd[W * W], Hd[W * W], ed[W];
    double *A = malloc(N * N * sizeof *A);
    const double g0 = 0.25;
    for (int j = 0; j < N; j++) g[j] = g0 + 2 * M_PI * j / N;
    lambdas(lam);
    TU_OK(ntk_circulant_row(N, theta_bias, NULL, row));
    ntk_circulant *C;
    TU_OK(ntk_circulant_create(N, row, &C));
    TU_OK(ntk_circulant_eigenvalues(C, mu));
    ntk_lemma_opts o = ntk_lemma_opts_defaults();
    o.C = C, o.g0 = g0, o.K = K, o.lambda = lam, o.theta0 = theta_bias(0, NULL);
    ntk_lemma_norms nf, nd;
    TU_OK(ntk_lemma_objects(&o, &nf, e_col, G, H));
    TU_ASSERT_LE(nf.G_max, 1e-12, "G = I on a grid");
    double hmax = 0;
    for (int p = 0; p < W; p++) {
        int k = (p + 1) / 2;
        double ln = (1 - 1.0 / N) * lam[k] + o.theta0 / N, d = fabs(mu[k] - ln);
        hmax = fmax(hmax, d);
        TU_ASSERT_LE(fabs(H[p * W + p] - mu[k]), 1e-12, "H_pp = mu_k");
        TU_ASSERT_LE(fabs(e_col[p] - d), 1e-12, "||E_p|| / ||Phi_p|| = |mu_k - lambda_k^(n)|");
        for (int q = 0; q < W; q++)
            if (q != p) TU_ASSERT_LE(fabs(H[p * W + q]), 1e-12, "H is diagonal on a grid");
    }
    TU_ASSERT_LE(fabs(nf.H_max - hmax), 1e-12, "||H - Lambda_n||_max");
    dense_A(N, g, A);
    o.C = NULL, o.A = A, o.n = N, o.gamma = g;
    TU_OK(ntk_lemma_objects(&o, &nd, ed, Gd, Hd));
    TU_ASSERT_LE(tu_rel_max(W * W, Gd, G), 1e-12, "G dense against FFT");
    TU_ASSERT_LE(fabs(nd.H_fro - nf.H_fro) + fabs(nd.E_fro - nf.E_fro) + fabs(nd.E_max - nf.E_max), 1e-12,
                 "norms dense against FFT");
    TU_ASSERT_LE(tu_rel_max(W, ed, e_col), 1e-10, "per-mode E dense against FFT");
    ntk_circulant_free(C);
    free(A);
}

static void test_random_points_direct(void **state)
{
    (void)state;
    double g[N], X[2 * N], lam[K + 1], G[W * W], H[W * W];
    double *A = malloc(N * N * sizeof *A), *Phi = malloc(N * W * sizeof *Phi);
    TU_OK(ntk_data_circle_uniform(7, 0, N, NTK_ANGLES_SYM, g, X));
    dense_A(N, g, A);
    lambdas(lam);
    ntk_lemma_opts o = ntk_lemma_opts_defaults();
    o.A = A, o.n = N, o.gamma = g, o.K = K, o.lambda = lam, o.theta0 = theta_bias(0, NULL);
    ntk_lemma_norms nm;
    TU_OK(ntk_lemma_objects(&o, &nm, NULL, G, H));
    /* the definitions, entry by entry */
    for (int i = 0; i < N; i++)
        for (int p = 0; p < W; p++) {
            int k = (p + 1) / 2;
            Phi[i * W + p] = p == 0 ? 1 : (p % 2 ? sqrt(2) * cos(k * g[i]) : sqrt(2) * sin(k * g[i]));
        }
    double gm = 0, gf = 0, hm = 0, hf = 0, em = 0, ef = 0;
    for (int p = 0; p < W; p++) {
        int k = (p + 1) / 2;
        double ln = (1 - 1.0 / N) * lam[k] + o.theta0 / N;
        for (int q = 0; q < W; q++) {
            double sg = 0, sh = 0;
            for (int i = 0; i < N; i++) {
                sg += Phi[i * W + p] * Phi[i * W + q];
                for (int j = 0; j < N; j++) sh += Phi[i * W + p] * A[i * N + j] * Phi[j * W + q];
            }
            double dg = sg / N - (p == q), dh = sh / N - (p == q ? ln : 0);
            TU_ASSERT_LE(fabs(G[p * W + q] - sg / N), 1e-12, "G entry");
            gm = fmax(gm, fabs(dg)), gf += dg * dg, hm = fmax(hm, fabs(dh)), hf += dh * dh;
        }
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int j = 0; j < N; j++) s += A[i * N + j] * Phi[j * W + p];
            double e = s - Phi[i * W + p] * ln;
            em = fmax(em, fabs(e)), ef += e * e;
        }
    }
    TU_ASSERT_LE(fabs(nm.G_max - gm) + fabs(nm.G_fro - sqrt(gf)), 1e-12, "||G - I||");
    TU_ASSERT_LE(fabs(nm.H_max - hm) + fabs(nm.H_fro - sqrt(hf)), 1e-12, "||H - Lambda_n||");
    TU_ASSERT_LE(fabs(nm.E_max - em) + fabs(nm.E_fro - sqrt(ef)), 1e-12, "||E||");
    assert_true(nm.G_max > 1e-3); /* random points: G is not I, so the check above is not vacuous */
    free(A), free(Phi);
}

/* Unit cos / sin vectors of frequency k on the grid g. */
static void unit_mode(const double *g, int k, double *c, double *s)
{
    double nc = 0, ns = 0;
    for (int i = 0; i < N; i++) c[i] = cos(k * g[i]), s[i] = sin(k * g[i]), nc += c[i] * c[i], ns += s[i] * s[i];
    for (int i = 0; i < N; i++) c[i] /= sqrt(nc), s[i] = k ? s[i] / sqrt(ns) : 0;
}

/* K = sum_k l_k (c_k c_k^T + s_k s_k^T), cos 1 rotated by th towards cos 2 (and cos 2 back). */
static void rotated(const double *g, const double *l, double th, double *A)
{
    double c[K + 1][N], s[K + 1][N], v1[N], v2[N];
    memset(A, 0, N * N * sizeof *A);
    for (int k = 0; k <= K; k++) unit_mode(g, k, c[k], s[k]);
    for (int i = 0; i < N; i++) v1[i] = cos(th) * c[1][i] + sin(th) * c[2][i], v2[i] = -sin(th) * c[1][i] + cos(th) * c[2][i];
    for (int k = 0; k <= K; k++) {
        const double *cc = k == 1 ? v1 : k == 2 ? v2 : c[k];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) A[i * N + j] += l[k] * (cc[i] * cc[j] + s[k][i] * s[k][j]);
    }
}

static void test_subspaces(void **state)
{
    (void)state;
    double g[N], l[K + 1], w[N], lam[K + 1];
    double *A = malloc(N * N * sizeof *A), *V = malloc(N * N * sizeof *V);
    for (int j = 0; j < N; j++) g[j] = 2 * M_PI * j / N;
    for (int k = 0; k <= K; k++) l[k] = 1.0 / (1 + k * k), lam[k] = l[k];
    ntk_plane_match pm[K + 1];
    /* unrotated: every plane is an eigenspace; eigenvalues exact, so eig_err 0 */
    rotated(g, l, 0, A);
    TU_OK(ntk_eigh(N, A, w, V));
    TU_OK(ntk_fourier_subspaces(N, w, V, g, K, lam, 0, pm));
    for (int k = 0; k <= K; k++) {
        assert_int_equal(pm[k].dim, k ? 2 : 1);
        TU_ASSERT_LE(pm[k].angle_max, 1e-6, "a plane against its own eigenspace");
        TU_ASSERT_LE(fabs(pm[k].affinity - 1), 1e-12, "affinity 1");
        TU_ASSERT_LE(pm[k].eig_err, 1e-12, "eigenvalue error");
        assert_int_equal(pm[k].rank[0], k ? 2 * k - 1 : 0); /* l descends with k: ranks 0, (1, 2), (3, 4), ... */
    }
    const double th = 0.3;
    rotated(g, l, th, A);
    TU_OK(ntk_eigh(N, A, w, V));
    TU_OK(ntk_fourier_subspaces(N, w, V, g, K, lam, 0, pm));
    TU_ASSERT_LE(fabs(pm[1].angle_max - th), 1e-10, "rotated plane: angle theta");
    TU_ASSERT_LE(fabs(pm[1].proj_fro - sqrt(2) * sin(th)), 1e-10, "projector distance");
    TU_ASSERT_LE(fabs(pm[1].proj_op - sin(th)), 1e-10, "operator projector distance");
    TU_ASSERT_LE(fabs(pm[1].affinity - sqrt((1 + cos(th) * cos(th)) / 2)), 1e-10, "affinity");
    TU_ASSERT_LE(pm[3].angle_max, 1e-6, "an untouched plane");
    /* blocks and their drift */
    double C0[W * W], Ct[W * W], leak0, leakt, fro[K + 1], op[K + 1], mx[K + 1];
    rotated(g, l, 0, A);
    TU_OK(ntk_fourier_blocks(N, A, g, K, C0, &leak0));
    rotated(g, l, th, A);
    TU_OK(ntk_fourier_blocks(N, A, g, K, Ct, &leakt));
    double trace = l[0];
    for (int k = 1; k <= K; k++) trace += 2 * l[k];
    TU_ASSERT_LE(leak0, 1e-12, "no leakage for a circulant kernel");
    TU_ASSERT_LE(fabs(leakt - 2 * fabs(l[1] - l[2]) * cos(th) * sin(th) / trace), 1e-10, "leakage");
    TU_OK(ntk_fourier_block_drift(K, C0, Ct, fro, op, mx));
    double want = fabs(l[1] - l[2]) * sin(th) * sin(th);
    for (int k = 1; k <= 2; k++) {
        TU_ASSERT_LE(fabs(fro[k] - want), 1e-10, "block drift, Frobenius");
        TU_ASSERT_LE(fabs(op[k] - want), 1e-10, "block drift, operator");
        TU_ASSERT_LE(fabs(mx[k] - want), 1e-10, "block drift, max");
    }
    TU_ASSERT_LE(fro[0] + fro[3], 1e-12, "untouched blocks do not drift");
    assert_int_equal(ntk_fourier_subspaces(N, w, V, g, N / 2 + 1, lam, 0, pm), NTK_EINVAL);
    free(A), free(V);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_closed_form),
        cmocka_unit_test(test_random_points_direct),
        cmocka_unit_test(test_subspaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
