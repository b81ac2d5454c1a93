/* test_ntk_hier.c -- the hierarchy tensors O3 and O4 (src/kernel/ntk_hier.c) against independent
 * computations:
 *  - O3[:, :, c] against finite differences of the kernel (ntk_kernel_full, itself checked against
 *    the Jacobian and PyTorch) along g_c = grad f(x_c), a row of the reference Jacobian
 *    (ntk_jacobian): forward differences must halve their error when the step halves (ratio in
 *    [1.7, 2.3]: the O(eps^2) remainder moves it by ~eps relative), central differences at
 *    h = 1e-4 within 1e-6 (truncation ~h^2 |K'''| ~ 1e-8 relative, rounding ~1e-16 / h = 1e-12);
 *    the eval rows likewise against the cross kernel ntk_kernel_cross;
 *  - contracted with the residual, -c O3 r is the kernel velocity of ntk_kernel_velocity (another
 *    algorithm: full-parameter tangents of the Gram factors), to 1e-12 (rounding of sums of ~N
 *    products of O(1) terms, ~1e-15 relative; 1e-12 leaves room for cancellation in small entries);
 *  - O4[:, :, :, d] against central differences of O3 (and O3e) along g_d: the error must quarter
 *    when h halves (ratio in [3.4, 4.6], as in test_ntk_dot.c) and be within 1e-6 at h = 1e-4;
 *  - relu: pathwise tensors against central differences at h = 1e-6, where no unit changes sign
 *    (the kernel is then a polynomial in h; rounding ~1e-16 / h = 1e-10; 1e-6 asserted);
 *  - the refusals: k > 1, a plan above the budget, O4 above NTK_O4_MAX_N. */
#include "testutil.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t N, M;
    double *X, *Xe;
} pts;

static pts make_pts(size_t N, size_t M, int n0)
{
    pts p = {N, M, tu_gauss_x(21, N, n0), M ? tu_gauss_x(22, M, n0) : NULL};
    return p;
}

/* K: [N x N] and Ke: [M x N] at the current parameters. */
static void kernels(ntk_net *net, const pts *p, double *K, double *Ke)
{
    ntk_feats *f = NULL, *fe = NULL;
    TU_OK(ntk_feats_alloc(net, p->N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, p->X));
    TU_OK(ntk_kernel_full(net, f, K, NULL));
    if (p->M) {
        TU_OK(ntk_feats_alloc(net, p->M, NTK_F64, &fe));
        TU_OK(ntk_feats_compute(net, fe, p->Xe));
        TU_OK(ntk_kernel_cross(net, fe, f, Ke, NULL));
    }
    ntk_feats_free(f);
    ntk_feats_free(fe);
}

/* theta = theta0 + eps * J[c]. */
static void shift(ntk_net *net, const double *theta0, const double *J, size_t c, double eps)
{
    size_t P = ntk_net_num_params(net);
    double *th = ntk_net_params(net);
    for (size_t i = 0; i < P; i++) th[i] = theta0[i] + eps * J[c * P + i];
    ntk_net_params_changed(net);
}

static void restore(ntk_net *net, const double *theta0)
{
    memcpy(ntk_net_params(net), theta0, ntk_net_num_params(net) * sizeof *theta0);
    ntk_net_params_changed(net);
}

/* Finite differences of (K, Ke) along every g_c: FD [N x N x N], FDe [M x N x N] (index c last);
 * central when central != 0, else forward. */
static void kernel_fd(ntk_net *net, const pts *p, const double *J, double eps, int central, double *FD, double *FDe)
{
    size_t N = p->N, M = p->M, P = ntk_net_num_params(net);
    double *theta0 = malloc(P * sizeof *theta0);
    memcpy(theta0, ntk_net_params_const(net), P * sizeof *theta0);
    double *K0 = malloc(N * N * sizeof *K0), *K1 = malloc(N * N * sizeof *K1), *K2 = malloc(N * N * sizeof *K2);
    double *E0 = malloc((M * N + 1) * sizeof *E0), *E1 = malloc((M * N + 1) * sizeof *E1);
    double *E2 = malloc((M * N + 1) * sizeof *E2);
    kernels(net, p, K0, E0);
    for (size_t c = 0; c < N; c++) {
        shift(net, theta0, J, c, eps);
        kernels(net, p, K1, E1);
        if (central) {
            shift(net, theta0, J, c, -eps);
            kernels(net, p, K2, E2);
        } else {
            memcpy(K2, K0, N * N * sizeof *K2);
            memcpy(E2, E0, M * N * sizeof *E2);
        }
        double den = central ? 2 * eps : eps;
        for (size_t ab = 0; ab < N * N; ab++) FD[ab * N + c] = (K1[ab] - K2[ab]) / den;
        for (size_t eb = 0; eb < M * N; eb++) FDe[eb * N + c] = (E1[eb] - E2[eb]) / den;
    }
    restore(net, theta0);
    free(theta0); free(K0); free(K1); free(K2); free(E0); free(E1); free(E2);
}

static double *jacobian(ntk_net *net, const pts *p)
{
    double *J = malloc(p->N * ntk_net_num_params(net) * sizeof *J);
    TU_OK(ntk_jacobian(net, p->N, p->X, J));
    return J;
}

static const char *describe(const tu_netcfg *c)
{
    static char buf[160];
    snprintf(buf, sizeof buf, "act %s, param %s, bias %s/%s", ntk_act_name(c->act), ntk_param_name(c->param),
             ntk_bias_name(c->bias), ntk_bias_name(c->bias_out));
    return buf;
}

static void check_o3_cfg(tu_netcfg c)
{
    ntk_net *net = tu_net(&c, 5);
    pts p = make_pts(5, 3, c.n0);
    size_t N = p.N, M = p.M, n3 = N * N * N, me = M * N * N;
    double *O3 = malloc(n3 * sizeof *O3), *O3e = malloc(me * sizeof *O3e);
    double *FD = malloc(n3 * sizeof *FD), *FDe = malloc(me * sizeof *FDe);
    TU_OK(ntk_o3(net, NULL, N, p.X, M, p.Xe, O3, O3e));
    double *J = jacobian(net, &p);
    char what[256];
    if (c.act == NTK_ACT_RELU) {
        kernel_fd(net, &p, J, 1e-6, 1, FD, FDe);
        snprintf(what, sizeof what, "%s: O3 vs central differences at h = 1e-6", describe(&c));
        TU_ASSERT_LE(tu_rel_fro(n3, FD, O3), 1e-6, what);
        TU_ASSERT_LE(tu_rel_fro(me, FDe, O3e), 1e-6, what);
    } else {
        double err[3], erre[3], eps = 1e-3;
        for (int e = 0; e < 3; e++, eps /= 2) {
            kernel_fd(net, &p, J, eps, 0, FD, FDe);
            err[e] = tu_rel_fro(n3, FD, O3);
            erre[e] = tu_rel_fro(me, FDe, O3e);
        }
        snprintf(what, sizeof what, "%s: O3 forward-difference errors %.3g %.3g %.3g, eval %.3g %.3g %.3g",
                 describe(&c), err[0], err[1], err[2], erre[0], erre[1], erre[2]);
        for (int e = 0; e < 2; e++) {
            double r = err[e] / err[e + 1], re = erre[e] / erre[e + 1];
            if (!(r > 1.7 && r < 2.3 && re > 1.7 && re < 2.3)) fail_msg("%s: do not halve with eps", what);
        }
        kernel_fd(net, &p, J, 1e-4, 1, FD, FDe);
        TU_ASSERT_LE(tu_rel_fro(n3, FD, O3), 1e-6, what);
        TU_ASSERT_LE(tu_rel_fro(me, FDe, O3e), 1e-6, what);
    }
    /* -c O3 r = Kdot */
    double Y[5] = {0.4, -0.3, 1.1, -0.8, 0.2}, F[5], r[5], Kd[25], pred[25];
    TU_OK(ntk_net_forward(net, N, p.X, F));
    for (size_t i = 0; i < N; i++) r[i] = F[i] - Y[i];
    TU_OK(ntk_kernel_velocity(net, N, p.X, Y, NTK_LOSS_MEAN, Kd));
    double cf = ntk_loss_factor(NTK_LOSS_MEAN, N);
    for (size_t ab = 0; ab < N * N; ab++) {
        double s = 0;
        for (size_t q = 0; q < N; q++) s += O3[ab * N + q] * r[q];
        pred[ab] = -cf * s;
    }
    snprintf(what, sizeof what, "%s: -c O3 r vs ntk_kernel_velocity", describe(&c));
    TU_ASSERT_LE(tu_rel_fro(N * N, pred, Kd), 1e-12, what);
    free(O3); free(O3e); free(FD); free(FDe); free(J); free(p.X); free(p.Xe);
    ntk_net_free(net);
}

static void test_o3_activations(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_SIGMOID, NTK_ACT_RELU, NTK_ACT_IDENTITY};
    for (int i = 0; i < 6; i++) {
        tu_netcfg c = tu_cfg(3, 9, 3, 1);
        c.act = acts[i];
        check_o3_cfg(c);
    }
}

/* Both parameterizations x hidden bias none / normal / zero x readout bias, activations rotating. */
static void test_o3_param_and_bias(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_TANH, NTK_ACT_ERF, NTK_ACT_SIGMOID, NTK_ACT_GELU};
    int n = 0;
    for (int param = 0; param < 2; param++)
        for (int b = 0; b < 3; b++)
            for (int bo = 0; bo < 3; bo += b == NTK_BIAS_NORMAL ? 1 : 2) {
                tu_netcfg c = tu_cfg(2, 8, 3, 1);
                c.act = acts[n % 4];
                c.param = (ntk_param)param;
                c.bias = (ntk_bias)b;
                c.bias_out = (ntk_bias)bo;
                c.sb = 0.6;
                if (param == NTK_PARAM_STANDARD) c.sw2 = 1.0 / 8, c.sw2_out = 1.0 / 8; /* keep the scale O(1) */
                check_o3_cfg(c);
                n++;
            }
}

/* Central differences of (O3, O3e) along every g_d: FD [N^4], FDe [M N^3] (index d last). */
static void o3_fd(ntk_net *net, const pts *p, const double *J, double h, double *FD, double *FDe)
{
    size_t N = p->N, M = p->M, n3 = N * N * N, me = M * N * N, P = ntk_net_num_params(net);
    double *theta0 = malloc(P * sizeof *theta0);
    memcpy(theta0, ntk_net_params_const(net), P * sizeof *theta0);
    double *A = malloc(n3 * sizeof *A), *B = malloc(n3 * sizeof *B);
    double *Ae = malloc(me * sizeof *Ae), *Be = malloc(me * sizeof *Be);
    for (size_t q = 0; q < N; q++) {
        shift(net, theta0, J, q, h);
        TU_OK(ntk_o3(net, NULL, N, p->X, M, p->Xe, A, Ae));
        shift(net, theta0, J, q, -h);
        TU_OK(ntk_o3(net, NULL, N, p->X, M, p->Xe, B, Be));
        for (size_t i = 0; i < n3; i++) FD[i * N + q] = (A[i] - B[i]) / (2 * h);
        for (size_t i = 0; i < me; i++) FDe[i * N + q] = (Ae[i] - Be[i]) / (2 * h);
    }
    restore(net, theta0);
    free(theta0); free(A); free(B); free(Ae); free(Be);
}

static void check_o4_cfg(tu_netcfg c)
{
    ntk_net *net = tu_net(&c, 6);
    pts p = make_pts(4, 2, c.n0);
    size_t N = p.N, M = p.M, n4 = N * N * N * N, me = M * N * N * N;
    double *O4 = malloc(n4 * sizeof *O4), *O4e = malloc(me * sizeof *O4e);
    double *FD = malloc(n4 * sizeof *FD), *FDe = malloc(me * sizeof *FDe);
    TU_OK(ntk_o4(net, NULL, N, p.X, M, p.Xe, O4, O4e));
    double *J = jacobian(net, &p);
    char what[256];
    if (c.act == NTK_ACT_RELU) {
        o3_fd(net, &p, J, 1e-6, FD, FDe);
        snprintf(what, sizeof what, "%s: O4 vs central differences of O3 at h = 1e-6", describe(&c));
        TU_ASSERT_LE(tu_rel_fro(n4, FD, O4), 1e-6, what);
        TU_ASSERT_LE(tu_rel_fro(me, FDe, O4e), 1e-6, what);
    } else {
        double err[2], erre[2], h = 1e-3;
        for (int e = 0; e < 2; e++, h /= 2) {
            o3_fd(net, &p, J, h, FD, FDe);
            err[e] = tu_rel_fro(n4, FD, O4);
            erre[e] = tu_rel_fro(me, FDe, O4e);
        }
        snprintf(what, sizeof what, "%s: O4 central-difference errors %.3g %.3g, eval %.3g %.3g", describe(&c), err[0],
                 err[1], erre[0], erre[1]);
        double r = err[0] / err[1], re = erre[0] / erre[1];
        if (!(r > 3.4 && r < 4.6 && re > 3.4 && re < 4.6)) fail_msg("%s: do not quarter with h", what);
        o3_fd(net, &p, J, 1e-4, FD, FDe);
        TU_ASSERT_LE(tu_rel_fro(n4, FD, O4), 1e-6, what);
        TU_ASSERT_LE(tu_rel_fro(me, FDe, O4e), 1e-6, what);
    }
    free(O4); free(O4e); free(FD); free(FDe); free(J); free(p.X); free(p.Xe);
    ntk_net_free(net);
}

static void test_o4(void **state)
{
    (void)state;
    ntk_act acts[] = {NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_SIGMOID, NTK_ACT_RELU};
    for (int i = 0; i < 5; i++) {
        tu_netcfg c = tu_cfg(2 + i % 2, 7, 3, 1);
        c.act = acts[i];
        if (i == 1) c.param = NTK_PARAM_STANDARD, c.sw2 = 1.0 / 7, c.sw2_out = 1.0 / 7, c.bias = NTK_BIAS_ZERO;
        if (i == 2) c.bias = NTK_BIAS_NONE, c.bias_out = NTK_BIAS_ZERO;
        check_o4_cfg(c);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(2, 6, 3, 2);
    ntk_net *net = tu_net(&c, 1);
    double *X = tu_gauss_x(1, 70, 3), buf[64];
    assert_int_equal(ntk_o3(net, NULL, 2, X, 0, NULL, buf, NULL), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "one output"));
    ntk_net_free(net);
    c.k = 1;
    net = tu_net(&c, 1);
    ntk_o3_opts o = ntk_o3_defaults();
    o.budget = 1000;
    assert_int_equal(ntk_o3(net, &o, 3, X, 0, NULL, buf, NULL), NTK_ENOMEM);
    assert_non_null(strstr(ntk_last_error(), "more than the"));
    /* the plan: above the outputs, growing with N and M */
    const ntk_spec *s = ntk_net_spec(net);
    assert_true(ntk_o3_bytes(s, 10, 0) > 8.0 * 1000);
    assert_true(ntk_o3_bytes(s, 20, 0) > ntk_o3_bytes(s, 10, 0));
    assert_true(ntk_o3_bytes(s, 10, 5) > ntk_o3_bytes(s, 10, 0) + 8.0 * 500);
    assert_true(ntk_o4_bytes(s, 10, 0) > 8.0 * 10000);
    double *big = malloc(65 * 65 * sizeof *big); /* never written: refused first */
    assert_int_equal(ntk_o4(net, NULL, 65, X, 0, NULL, big, NULL), NTK_ENOMEM);
    assert_non_null(strstr(ntk_last_error(), "refused above"));
    assert_int_equal(ntk_o3(net, NULL, 3, X, 2, NULL, buf, NULL), NTK_EINVAL);
    free(big);
    free(X);
    ntk_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_o3_activations),
        cmocka_unit_test(test_o3_param_and_bias),
        cmocka_unit_test(test_o4),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
