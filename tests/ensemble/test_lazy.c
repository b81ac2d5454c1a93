/* test_lazy.c -- the exact lazy samplers of K(x, x) and of the 2 x 2 block at two inputs against
 * the full-matrix path (distributions) and against exact identities.
 *
 * Statistical bounds: 4 standard errors for means (false alarm ~6e-5 per check); the two-sample
 * Kolmogorov-Smirnov statistic below its alpha = 0.001 critical value 1.95 sqrt(2/M); the readout
 * identity within 3 delta-method standard errors of log R, as the issue asks.
 *
 * Seeds: NTK_TEST_SEED (default 7) keys the lazy members and, shifted, the full-matrix networks, so
 * every check can be re-run on fresh draws; at these bounds about one seed in 200 fails by chance (the
 * readout identity's two 3-standard-error checks: seed 2 gives z = -3.08 at depth 4, width 64).
 * `test_lazy PATTERN` runs only the tests whose names match (scripts/mutants_lazy.sh: the update
 * test under ten seeds for each mutant of lazy.c). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t lazy_seed(void) { return tu_seed(7); }

/* Full-matrix network m of a comparison: its own range of seeds per test (off) and per NTK_TEST_SEED. */
static uint64_t full_seed(uint64_t off, int m) { return (lazy_seed() << 32) + off + (uint64_t)m; }

#define make_spec tu_spec_uniform

static void lazy_samples(const ntk_spec *s, const double *x, int M, double *K, double *Kd)
{
    double *work = malloc(ntk_lazy_work_len(s) * sizeof *work);
    for (int m = 0; m < M; m++) {
        ntk_member_diag md;
        TU_OK(ntk_lazy_diag(s, x, lazy_seed(), (uint64_t)m, work, &md, NULL));
        K[m] = md.K;
        if (Kd) Kd[m] = md.K_readout;
    }
    free(work);
}

static void full_samples(const ntk_spec *s, const double *x, int M, double *K)
{
    ntk_net *net = NULL;
    ntk_feats *f = NULL;
    TU_OK(ntk_net_alloc(s, &net));
    TU_OK(ntk_feats_alloc(net, 1, NTK_F64, &f));
    for (int m = 0; m < M; m++) {
        TU_OK(ntk_net_init(net, full_seed(100000, m)));
        TU_OK(ntk_feats_compute(net, f, x));
        TU_OK(ntk_kernel_diag(net, f, &K[m]));
    }
    ntk_feats_free(f);
    ntk_net_free(net);
}

static void mean_se(int M, const double *v, double *mean, double *se)
{
    double m = 0, q = 0;
    for (int i = 0; i < M; i++) m += v[i] / M;
    for (int i = 0; i < M; i++) q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = sqrt(q / (M - 1) / M);
}

/* Per-member decomposition: K = weight + bias parts = sum of per-layer terms. */
static void test_decomposition(void **state)
{
    (void)state;
    int w[3];
    ntk_spec s = make_spec(3, w, 20, 4);
    s.bias = NTK_BIAS_NORMAL;
    double x[4] = {0.3, -1.2, 0.8, 2.0}, layers[4], *work = malloc(ntk_lazy_work_len(&s) * sizeof *work);
    ntk_member_diag md;
    TU_OK(ntk_lazy_diag(&s, x, lazy_seed(), 2, work, &md, layers));
    assert_true(fabs(md.K - md.K_weight - md.K_bias) <= 1e-14 * md.K);
    assert_true(fabs(md.K - (layers[0] + layers[1] + layers[2] + layers[3])) <= 1e-14 * md.K);
    assert_true(md.K_readout > 0 && md.K_readout < layers[3]); /* readout weights only; layers[3] adds its bias */
    ntk_member_diag m2;
    TU_OK(ntk_lazy_diag(&s, x, lazy_seed(), 2, work, &m2, NULL)); /* same (seed, sub): same member */
    assert_true(m2.K == md.K && m2.f == md.f);
    s.outputs = 2;
    assert_int_equal(ntk_lazy_diag(&s, x, lazy_seed(), 2, work, &md, NULL), NTK_EINVAL);
    free(work);
}

/* E[K(x,x)] = d s + (d+1)/2 (relu, NTK, He, zero-init biases, c_b = 1); d s without biases. */
static void test_lazy_mean_identity(void **state)
{
    (void)state;
    struct { int depth, width; double s; } cells[] = {{1, 16, 1.0}, {4, 32, 0.5}, {8, 64, 2.0}};
    const int M = 40000;
    double *K = malloc((size_t)M * sizeof *K);
    for (int c = 0; c < 3; c++) {
        int w[8];
        ntk_spec sp = make_spec(cells[c].depth, w, cells[c].width, 6);
        double x[6];
        TU_OK(ntk_data_gaussian(3, 1, 6, x));
        for (int i = 0; i < 6; i++) x[i] *= sqrt(cells[c].s);
        for (int bias = 0; bias <= 1; bias++) {
            sp.bias = sp.bias_out = bias ? NTK_BIAS_ZERO : NTK_BIAS_NONE;
            lazy_samples(&sp, x, M, K, NULL);
            double mean, se, d = cells[c].depth + 1, expect = d * cells[c].s + (bias ? (d + 1) / 2 : 0);
            mean_se(M, K, &mean, &se);
            char what[128];
            snprintf(what, sizeof what, "lazy mean of K(x,x) at depth %d width %d s %g bias %d: %.4f vs %.4f",
                     cells[c].depth, cells[c].width, cells[c].s, bias, mean, expect);
            TU_ASSERT_LE(fabs(mean - expect) / se, 4.0, what);
        }
    }
    free(K);
}

/* mean(K_d^2) / mean(K_d)^2 = prod_l (1 + 5/n_l) exactly (relu, Gaussian weights, no biases). */
static void test_readout_identity(void **state)
{
    (void)state;
    const int M = 200000;
    double *K = malloc((size_t)M * sizeof *K), *Kd = malloc((size_t)M * sizeof *Kd);
    int cells[][2] = {{4, 64}, {8, 32}};
    for (int c = 0; c < 2; c++) {
        int w[8];
        ntk_spec sp = make_spec(cells[c][0], w, cells[c][1], 5);
        sp.bias = sp.bias_out = NTK_BIAS_NONE;
        double x[5] = {1, 0.5, -1, 2, 0.1};
        lazy_samples(&sp, x, M, K, Kd);
        double m1 = 0, m2 = 0, v11 = 0, v22 = 0, v12 = 0;
        for (int i = 0; i < M; i++) {
            m1 += Kd[i] / M;
            m2 += Kd[i] * Kd[i] / M;
        }
        for (int i = 0; i < M; i++) {
            double a = Kd[i] - m1, b = Kd[i] * Kd[i] - m2;
            v11 += a * a / (M - 1);
            v22 += b * b / (M - 1);
            v12 += a * b / (M - 1);
        }
        /* log R = log m2 - 2 log m1: delta method */
        double se = sqrt((v22 / (m2 * m2) + 4 * v11 / (m1 * m1) - 4 * v12 / (m1 * m2)) / M);
        double theory = 1;
        for (int l = 0; l < cells[c][0]; l++) theory *= 1 + 5.0 / cells[c][1];
        char what[128];
        snprintf(what, sizeof what, "readout R = %.4f vs prod(1 + 5/n) = %.4f (depth %d width %d)", m2 / (m1 * m1),
                 theory, cells[c][0], cells[c][1]);
        TU_ASSERT_LE(fabs(log(m2 / (m1 * m1)) - log(theory)) / se, 3.0, what);
    }
    free(K);
    free(Kd);
}

/* Samples A and B: [M] (reordered) come from the same law: means and second moments within 4
 * standard errors, two-sample KS below its alpha = 0.001 critical value. */
static void same_law(int M, double *A, double *B, const char *label)
{
    double ma, sa, mb, sb;
    char what[160];
    mean_se(M, A, &ma, &sa);
    mean_se(M, B, &mb, &sb);
    snprintf(what, sizeof what, "%s: means %.4f vs %.4f", label, ma, mb);
    TU_ASSERT_LE(fabs(ma - mb) / sqrt(sa * sa + sb * sb), 4.0, what);
    double *A2 = malloc((size_t)M * sizeof *A2), *B2 = malloc((size_t)M * sizeof *B2);
    for (int i = 0; i < M; i++) A2[i] = A[i] * A[i], B2[i] = B[i] * B[i];
    mean_se(M, A2, &ma, &sa);
    mean_se(M, B2, &mb, &sb);
    free(A2);
    free(B2);
    snprintf(what, sizeof what, "%s: second moments %.4f vs %.4f", label, ma, mb);
    TU_ASSERT_LE(fabs(ma - mb) / sqrt(sa * sa + sb * sb), 4.0, what);
    qsort(A, (size_t)M, sizeof *A, cmp_d);
    qsort(B, (size_t)M, sizeof *B, cmp_d);
    double ks = 0; /* sup |F_A - F_B| at the sample values: ties (an atom, e.g. K = 0) are stepped over together */
    for (int i = 0, j = 0; i < M || j < M;) {
        double v = j == M || (i < M && A[i] <= B[j]) ? A[i] : B[j];
        while (i < M && A[i] == v) i++;
        while (j < M && B[j] == v) j++;
        ks = fmax(ks, fabs((double)i / M - (double)j / M));
    }
    snprintf(what, sizeof what, "%s: two-sample KS statistic %.4f", label, ks);
    TU_ASSERT_LE(ks, 1.95 * sqrt(2.0 / M), what);
}

/* The cases every comparison runs: relu / tanh / sigmoid, both parameterizations, with biases
 * (normal; zero-initialised for sigmoid). */
enum { LAW_CASES = 4 };
static ntk_spec law_case(int v, int *w)
{
    ntk_spec sp = make_spec(3, w, 16, 4);
    sp.act = v == 1 ? NTK_ACT_TANH : v == 3 ? NTK_ACT_SIGMOID : NTK_ACT_RELU;
    sp.param = v >= 2 ? NTK_PARAM_STANDARD : NTK_PARAM_NTK;
    sp.bias = v == 3 ? NTK_BIAS_ZERO : NTK_BIAS_NORMAL;
    sp.sb = 0.4;
    sp.first_layer = v == 1 ? NTK_FIRST_NONE : NTK_FIRST_FAN_IN;
    return sp;
}

/* The lazy sampler and the full-matrix path draw K(x,x) from the same law. */
static void test_lazy_matches_full_matrix(void **state)
{
    (void)state;
    const int M = 6000;
    double *A = malloc((size_t)M * sizeof *A), *B = malloc((size_t)M * sizeof *B);
    for (int v = 0; v < LAW_CASES; v++) {
        int w[3];
        ntk_spec sp = law_case(v, w);
        double x[4] = {0.7, -0.2, 1.1, 0.4};
        lazy_samples(&sp, x, M, A, NULL);
        full_samples(&sp, x, M, B);
        char label[64];
        snprintf(label, sizeof label, "K(x,x) lazy vs full, case %d", v);
        same_law(M, A, B, label);
    }
    free(A);
    free(B);
}

/* The lazy pathwise first-step update has the law of the full-matrix one (ntk_kernel_velocity on
 * every weight drawn: dk = -2 (f - y) grad f^T H grad f with masks frozen); the member's K is unchanged.
 * Two quantities are compared: dk itself, and the scale-free curvature of f along its gradient,
 *   rho = grad f^T H grad f / ||grad f||^2 = dk / (-2 (f - y) K),
 * which isolates the sampled Hessian from the residual and the kernel's scale: its second moment is
 * far less heavy-tailed than dk's, so the same members resolve much smaller errors.  With M = 20000
 * members an update without the bias term of the first tangent tau moves rho's second moment by ~20
 * standard errors (cases 0 and 2), one without the (I - dhat dhat^T) projection of the fresh draw by
 * ~13 (case 1), and dk's KS statistic reaches ~1.5 times its critical value for both: each fails
 * every one of ten seeds (scripts/mutants_lazy.sh), where 6000 members comparing dk alone let both
 * through for some seeds. */
static void test_update_matches_full_matrix(void **state)
{
    (void)state;
    const int M = 20000;
    double *A = malloc((size_t)M * sizeof *A), *B = malloc((size_t)M * sizeof *B), y = 0.3;
    double *RA = malloc((size_t)M * sizeof *RA), *RB = malloc((size_t)M * sizeof *RB);
    double x[4] = {0.7, -0.2, 1.1, 0.4};
    for (int v = 0; v < LAW_CASES; v++) {
        int w[3];
        ntk_spec sp = law_case(v, w);
        double *work = malloc(ntk_lazy_work_len(&sp) * sizeof *work);
        ntk_net *net = NULL;
        ntk_feats *f = NULL;
        TU_OK(ntk_net_alloc(&sp, &net));
        TU_OK(ntk_feats_alloc(net, 1, NTK_F64, &f));
        for (int m = 0; m < M; m++) {
            ntk_member_diag md, m2;
            TU_OK(ntk_lazy_diag_update(&sp, x, y, lazy_seed(), (uint64_t)m, work, &md, NULL, &A[m]));
            if (m < 20) {
                TU_OK(ntk_lazy_diag(&sp, x, lazy_seed(), (uint64_t)m, work, &m2, NULL));
                assert_true(m2.K == md.K && m2.f == md.f); /* the update draws after K's normals */
            }
            RA[m] = A[m] / (-2 * (md.f - y) * md.K);
            double K, fx;
            TU_OK(ntk_net_init(net, full_seed(300000, m)));
            TU_OK(ntk_feats_compute(net, f, x));
            TU_OK(ntk_kernel_diag(net, f, &K));
            TU_OK(ntk_feats_output(f, &fx));
            TU_OK(ntk_kernel_velocity(net, 1, x, &y, NTK_LOSS_SUM, &B[m]));
            RB[m] = B[m] / (-2 * (fx - y) * K);
        }
        char label[64];
        snprintf(label, sizeof label, "pathwise dK/lambda lazy vs full, case %d", v);
        same_law(M, A, B, label);
        snprintf(label, sizeof label, "curvature along grad f lazy vs full, case %d", v);
        same_law(M, RA, RB, label);
        ntk_feats_free(f);
        ntk_net_free(net);
        free(work);
    }
    free(A);
    free(B);
    free(RA);
    free(RB);
}

/* Two inputs: the lazy pair sampler's K(x,x') has the full-matrix path's law, and its K(x,x) the
 * one-input sampler's; x' = x (the rank-one case) gives three equal entries. */
static void test_pair_matches_full_matrix(void **state)
{
    (void)state;
    const int M = 6000;
    double *A = malloc((size_t)M * sizeof *A), *B = malloc((size_t)M * sizeof *B), *C = malloc((size_t)M * sizeof *C);
    double X[8] = {0.7, -0.2, 1.1, 0.4, -0.3, 0.9, 0.5, 1.2}, K[4];
    for (int v = 0; v < LAW_CASES; v++) {
        int w[3];
        ntk_spec sp = law_case(v, w);
        double *work = malloc(ntk_lazy_pair_work_len(&sp) * sizeof *work);
        ntk_net *net = NULL;
        ntk_feats *f = NULL;
        TU_OK(ntk_net_alloc(&sp, &net));
        TU_OK(ntk_feats_alloc(net, 2, NTK_F64, &f));
        for (int m = 0; m < M; m++) {
            ntk_member_pair mp;
            TU_OK(ntk_lazy_pair(&sp, X, X + 4, lazy_seed(), 40, (uint64_t)m, work, &mp));
            A[m] = mp.K12;
            C[m] = mp.K11;
            TU_OK(ntk_net_init(net, full_seed(200000, m)));
            TU_OK(ntk_feats_compute(net, f, X));
            TU_OK(ntk_kernel_full(net, f, K, NULL));
            B[m] = K[1];
        }
        char label[64];
        snprintf(label, sizeof label, "K(x,x') lazy pair vs full, case %d", v);
        same_law(M, A, B, label);
        lazy_samples(&sp, X, M, B, NULL);
        snprintf(label, sizeof label, "K(x,x) lazy pair vs one-input lazy, case %d", v);
        same_law(M, C, B, label);
        double Xs[8];
        for (int i = 0; i < 4; i++) Xs[i] = X[i], Xs[4 + i] = X[i];
        ntk_member_pair mp;
        TU_OK(ntk_lazy_pair(&sp, Xs, Xs + 4, lazy_seed(), 40, 3, work, &mp));
        TU_ASSERT_LE(fabs(mp.K12 - mp.K11) + fabs(mp.K22 - mp.K11), 1e-12 * mp.K11, "x' = x: equal entries");
        TU_ASSERT_LE(fabs(mp.f1 - mp.f2), 1e-12 * (fabs(mp.f1) + 1e-300), "x' = x: equal outputs");
        ntk_feats_free(f);
        ntk_net_free(net);
        free(work);
    }
    free(A);
    free(B);
    free(C);
}

int main(int argc, char **argv)
{
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decomposition),
        cmocka_unit_test(test_lazy_mean_identity),
        cmocka_unit_test(test_readout_identity),
        cmocka_unit_test(test_lazy_matches_full_matrix),
        cmocka_unit_test(test_pair_matches_full_matrix),
        cmocka_unit_test(test_update_matches_full_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
