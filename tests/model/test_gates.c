/* test_gates.c -- frozen gates (ntk_net_freeze_gates, ntk_train_run_opts.gates_frozen), the ReLU
 * control of the hierarchy (docs/dynamics.md, "Frozen gates"), against independent computations:
 *  - at theta = theta_g the gated network is the relu network bit for bit: f, the gradient, K (float64
 *    and float32, with its layer terms), the velocity Kdot, O3 and O4 (the gate pass repeats the
 *    forward's operations on a copy of the same parameters);
 *  - after gradient descent has moved theta away from theta_g (until units have crossed their kinks:
 *    counted, > 0):
 *      the gated forward equals a forward written out here in plain loops (h = z o 1[z(theta_g) > 0],
 *      z = c_w W h + c_b b), to 1e-12 relative (summation order against BLAS: ~n eps);
 *      K (ntk_kernel_full) equals J J^T of the central-difference Jacobian of the gated forward to 1e-8
 *      relative (with the gates fixed f is affine in each single parameter, every parameter entering one
 *      layer linearly, so central differences have no truncation error; their rounding, eps |f| / h with
 *      h = 1e-4, is ~1e-12; measured 4e-13, 9e-13), at k = 1 and k = 2, and the gradient of the loss
 *      equals J^T c r to 1e-8 (measured 8e-11: the residual r is small after training, so J^T r
 *      cancels more);
 *      Kdot and O3 equal central differences of the gated K along -grad L and along g_c (K is a
 *      polynomial in theta: truncation ~h^2 |K'''| with steps h |v| ~ 1e-5 |theta|, below 1e-7;
 *      measured 5e-10, 8e-10) to 1e-6;
 *    a gate read from z(theta) instead of z(theta_g) at any site misses by ~0.3 (the relu network's
 *    distance below), far above every bound;
 *      the float32 gated kernel is the float64 one to 1e-5 (float32 rounding, eps 6e-8, over sums of
 *      ~20 terms and two layers; measured 1e-7), so the float32 path honours the gates;
 *      and the relu network at the same theta differs (its K, f by more than 1e-3);
 *  - freezing copies: theta_g is the parameters at the call and stays when they move; thawing gives
 *    the plain network back (bit for bit, the same feats reused);
 *  - the tracked run (gates_frozen): theta_g is the seeded initialisation and the run's last K and f
 *    are those of a network gated by hand there (bit for bit);
 *  - the order result: the gated control at level 4 beats the linearized prediction by >= 10x (the
 *    geometric mean over 4 seeds) where the plain relu network does not (test_order: setup, measured
 *    ratios and the margins there);
 *  - refusals: freezing an erf or identity network, gates_frozen on erf in ntk_train_run_check, a
 *    gates_frozen other than 0 / 1. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* TU_ASSERT_LE, printing the measured value under NTK_TEST_VERBOSE. */
static void check_le(double val, double bound, const char *what)
{
    if (getenv("NTK_TEST_VERBOSE")) print_message("%s: %.3g (bound %.3g)\n", what, val, bound);
    TU_ASSERT_LE(val, bound, what);
}

static double norm(size_t n, const double *a)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * a[i];
    return sqrt(s);
}

/* depth 2, widths w, w + 1 (unequal: a transposed index shows), relu, normal biases everywhere */
static ntk_net *relu_net(int w, int n0, int k, uint64_t seed)
{
    tu_netcfg c = tu_cfg(2, w, n0, k);
    return tu_net(&c, seed);
}

/* A copy of net's parameters in a fresh network of the same spec (no gates). */
static ntk_net *clone(const ntk_net *net)
{
    ntk_net *c = NULL;
    TU_OK(ntk_net_alloc(ntk_net_spec(net), &c));
    memcpy(ntk_net_params(c), ntk_net_params_const(net), ntk_net_num_params(net) * sizeof(double));
    return c;
}

/* K: [N k x N k] (dtype t), K_layers [d x N k x N k] or NULL, F: [N x k] (float64). */
static void kernel_of(ntk_net *net, size_t N, const double *X, ntk_dtype t, void *K, void *Kl, double *F)
{
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, t, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    TU_OK(ntk_kernel_full(net, f, K, Kl));
    if (F) TU_OK(ntk_feats_output(f, F));
    ntk_feats_free(f);
}

/* Gradient descent on 1/2 sum (f - y)^2 for `steps` steps with eta = lr / lambda_max(K). */
static void descend(ntk_net *net, size_t N, const double *X, const double *Y, double lr, int steps)
{
    size_t k = (size_t)ntk_net_width(net, ntk_net_num_layers(net)), n = N * k;
    double *K = malloc(n * n * sizeof *K), *w = malloc(n * sizeof *w), L;
    kernel_of(net, N, X, NTK_F64, K, NULL, NULL);
    TU_OK(ntk_eigh(n, K, w, NULL));
    ntk_train_opts o = ntk_train_defaults();
    o.loss = NTK_LOSS_SUM, o.lr = lr / w[0];
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, X, Y, &o, &tr));
    for (int t = 0; t < steps; t++) TU_OK(ntk_trainer_step(tr, &L));
    ntk_trainer_free(tr);
    free(K);
    free(w);
}

/* ------------------------------------------------------------------ at theta_g */

static void test_equal_at_theta_g(void **state)
{
    (void)state;
    enum { N = 6, N0 = 3, W = 24 };
    double *X = tu_gauss_x(11, N, N0), Y[N];
    ntk_rng_normal(12, NTK_STREAM_TARGET, 0, 0, N, Y);
    ntk_net *a = relu_net(W, N0, 1, 7), *b = relu_net(W, N0, 1, 7);
    assert_int_equal(ntk_net_gates_frozen(b), 0);
    assert_null(ntk_net_gate_params(b));
    TU_OK(ntk_net_freeze_gates(b));
    assert_int_equal(ntk_net_gates_frozen(b), 1);
    size_t P = ntk_net_num_params(a), d = (size_t)ntk_net_num_layers(a);
    double Fa[N], Fb[N], Ka[N * N], Kb[N * N], Kla[3 * N * N], Klb[3 * N * N], Da[N * N], Db[N * N], La, Lb;
    float Ka32[N * N], Kb32[N * N];
    kernel_of(a, N, X, NTK_F64, Ka, Kla, Fa);
    kernel_of(b, N, X, NTK_F64, Kb, Klb, Fb);
    assert_memory_equal(Fa, Fb, sizeof Fa);
    assert_memory_equal(Ka, Kb, sizeof Ka);
    assert_memory_equal(Kla, Klb, d * N * N * sizeof(double));
    kernel_of(a, N, X, NTK_F32, Ka32, NULL, NULL);
    kernel_of(b, N, X, NTK_F32, Kb32, NULL, NULL);
    assert_memory_equal(Ka32, Kb32, sizeof Ka32);
    TU_OK(ntk_net_forward(a, N, X, Fa));
    TU_OK(ntk_net_forward(b, N, X, Fb));
    assert_memory_equal(Fa, Fb, sizeof Fa);
    double *ga = malloc(P * sizeof *ga), *gb = malloc(P * sizeof *gb);
    TU_OK(ntk_net_loss_grad(a, N, X, Y, NTK_LOSS_SUM, &La, ga));
    TU_OK(ntk_net_loss_grad(b, N, X, Y, NTK_LOSS_SUM, &Lb, gb));
    assert_true(La == Lb);
    assert_memory_equal(ga, gb, P * sizeof *ga);
    TU_OK(ntk_kernel_velocity(a, N, X, Y, NTK_LOSS_SUM, Da));
    TU_OK(ntk_kernel_velocity(b, N, X, Y, NTK_LOSS_SUM, Db));
    assert_memory_equal(Da, Db, sizeof Da);
    double *O3a = malloc(N * N * N * sizeof *O3a), *O3b = malloc(N * N * N * sizeof *O3b);
    double *O4a = malloc(N * N * N * N * sizeof *O4a), *O4b = malloc(N * N * N * N * sizeof *O4b);
    TU_OK(ntk_o3(a, NULL, N, X, 0, NULL, O3a, NULL));
    TU_OK(ntk_o3(b, NULL, N, X, 0, NULL, O3b, NULL));
    assert_memory_equal(O3a, O3b, N * N * N * sizeof *O3a);
    TU_OK(ntk_o4(a, NULL, N, X, 0, NULL, O4a, NULL));
    TU_OK(ntk_o4(b, NULL, N, X, 0, NULL, O4b, NULL));
    assert_memory_equal(O4a, O4b, N * N * N * N * sizeof *O4a);
    assert_true(norm(N * N * N, O3a) > 0); /* the comparison is not of zeros */
    free(O3a), free(O3b), free(O4a), free(O4b), free(ga), free(gb), free(X);
    ntk_net_free(a);
    ntk_net_free(b);
}

/* ---------------------------------------------------------------- away from it */

/* Units (input, layer, unit) whose relu state at the net's parameters differs from the gates of
 * gref (a plain network at theta_g). */
static size_t crossings(ntk_net *plain, ntk_net *gref, size_t N, const double *X)
{
    ntk_feats *f1 = NULL, *f2 = NULL;
    TU_OK(ntk_feats_alloc(plain, N, NTK_F64, &f1));
    TU_OK(ntk_feats_alloc(gref, N, NTK_F64, &f2));
    TU_OK(ntk_feats_compute(plain, f1, X));
    TU_OK(ntk_feats_compute(gref, f2, X));
    size_t c = 0;
    for (int l = 1; l < ntk_net_num_layers(plain); l++) {
        size_t n = N * (size_t)ntk_net_width(plain, l);
        double *h1 = malloc(n * sizeof *h1), *h2 = malloc(n * sizeof *h2);
        TU_OK(ntk_feats_act(f1, l, h1));
        TU_OK(ntk_feats_act(f2, l, h2));
        for (size_t i = 0; i < n; i++) c += (h1[i] > 0) != (h2[i] > 0);
        free(h1), free(h2);
    }
    ntk_feats_free(f1);
    ntk_feats_free(f2);
    return c;
}

/* The gated network written out: z_l = c_w W_l h_{l-1} + c_b b_l with the parameters of net, gates
 * from the same recursion with the parameters of gnet (relu), one input at a time.  F: [N x k],
 * H1: [N x n_1] the first hidden layer's h (gated). */
static void loops_forward(const ntk_net *net, const ntk_net *gnet, size_t N, const double *X, double *F, double *H1)
{
    int d = ntk_net_num_layers(net), mx = 0;
    for (int l = 0; l <= d; l++)
        if (ntk_net_width(net, l) > mx) mx = ntk_net_width(net, l);
    double *h = malloc((size_t)mx * sizeof *h), *hg = malloc((size_t)mx * sizeof *hg);
    double *z = malloc((size_t)mx * sizeof *z), *zg = malloc((size_t)mx * sizeof *zg);
    for (size_t i = 0; i < N; i++) {
        int n0 = ntk_net_width(net, 0);
        for (int u = 0; u < n0; u++) h[u] = hg[u] = X[i * (size_t)n0 + (size_t)u];
        for (int l = 1; l <= d; l++) {
            ntk_layer L, G;
            TU_OK(ntk_net_layer(net, l, &L));
            TU_OK(ntk_net_layer(gnet, l, &G));
            for (int u = 0; u < L.rows; u++) {
                double s = 0, sg = 0;
                for (int v = 0; v < L.cols; v++) {
                    s += L.W[(size_t)u * (size_t)L.cols + (size_t)v] * h[v];
                    sg += G.W[(size_t)u * (size_t)L.cols + (size_t)v] * hg[v];
                }
                z[u] = L.c_w * s + (L.b ? L.c_b * L.b[u] : 0);
                zg[u] = G.c_w * sg + (G.b ? G.c_b * G.b[u] : 0);
            }
            if (l == d) {
                memcpy(F + i * (size_t)L.rows, z, (size_t)L.rows * sizeof *z);
                break;
            }
            for (int u = 0; u < L.rows; u++) {
                h[u] = zg[u] > 0 ? z[u] : 0;
                hg[u] = zg[u] > 0 ? zg[u] : 0;
            }
            if (l == 1) memcpy(H1 + i * (size_t)L.rows, h, (size_t)L.rows * sizeof *h);
        }
    }
    free(h), free(hg), free(z), free(zg);
}

/* Central-difference Jacobian of the network's forward: J [N k x P]. */
static void fd_jacobian(ntk_net *net, size_t N, const double *X, double h, double *J)
{
    size_t P = ntk_net_num_params(net), k = (size_t)ntk_net_width(net, ntk_net_num_layers(net)), R = N * k;
    double *Fp = malloc(R * sizeof *Fp), *Fm = malloc(R * sizeof *Fm), *th = ntk_net_params(net);
    for (size_t p = 0; p < P; p++) {
        double old = th[p];
        th[p] = old + h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_forward(net, N, X, Fp));
        th[p] = old - h;
        ntk_net_params_changed(net);
        TU_OK(ntk_net_forward(net, N, X, Fm));
        th[p] = old;
        ntk_net_params_changed(net);
        for (size_t r = 0; r < R; r++) J[r * P + p] = (Fp[r] - Fm[r]) / (2 * h);
    }
    free(Fp), free(Fm);
}

/* (K(theta + h v) - K(theta - h v)) / 2h into D: [n x n]. */
static void fd_kernel_along(ntk_net *net, size_t N, const double *X, const double *v, double h, double *D)
{
    size_t P = ntk_net_num_params(net), nn = N * N;
    double *th = ntk_net_params(net), *t0 = malloc(P * sizeof *t0), *Kp = malloc(nn * sizeof *Kp);
    memcpy(t0, th, P * sizeof *t0);
    for (size_t p = 0; p < P; p++) th[p] = t0[p] + h * v[p];
    ntk_net_params_changed(net);
    kernel_of(net, N, X, NTK_F64, Kp, NULL, NULL);
    for (size_t p = 0; p < P; p++) th[p] = t0[p] - h * v[p];
    ntk_net_params_changed(net);
    kernel_of(net, N, X, NTK_F64, D, NULL, NULL);
    for (size_t i = 0; i < nn; i++) D[i] = (Kp[i] - D[i]) / (2 * h);
    memcpy(th, t0, P * sizeof *t0);
    ntk_net_params_changed(net);
    free(t0), free(Kp);
}

static void away(int k)
{
    enum { N = 5, N0 = 3, W = 16 };
    size_t R = N * (size_t)k;
    double *X = tu_gauss_x(21, N, N0), Y[N * 2];
    ntk_rng_normal(22, NTK_STREAM_TARGET, 0, 0, R, Y);
    ntk_net *net = relu_net(W, N0, k, 3);
    ntk_net *gref = clone(net); /* plain, at theta_g */
    TU_OK(ntk_net_freeze_gates(net));
    descend(net, N, X, Y, 1.5, 40); /* the gated network trains */
    ntk_net *plain = clone(net);     /* plain relu at the same theta */
    size_t P = ntk_net_num_params(net), cross = crossings(plain, gref, N, X);
    char what[160];
    snprintf(what, sizeof what, "k = %d: units crossed their kink (%zu of %d)", k, cross, N * (2 * W + 1));
    if (getenv("NTK_TEST_VERBOSE")) print_message("%s\n", what);
    assert_true(cross > 0);
    assert_memory_equal(ntk_net_gate_params(net), ntk_net_params_const(gref), P * sizeof(double));
    /* the forward in loops */
    double F[N * 2], Fl[N * 2], H1[N * (W + 1)], H1l[N * (W + 1)], Fp[N * 2];
    loops_forward(net, gref, N, X, Fl, H1l);
    ntk_feats *f = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    TU_OK(ntk_feats_output(f, F));
    TU_OK(ntk_feats_act(f, 1, H1));
    ntk_feats_free(f);
    snprintf(what, sizeof what, "k = %d: gated forward vs loops", k);
    check_le(tu_rel_max(R, F, Fl), 1e-12, what);
    check_le(tu_rel_max(N * (size_t)ntk_net_width(net, 1), H1, H1l), 1e-12, what);
    /* K against J J^T of central differences */
    double *J = malloc(R * P * sizeof *J), *K = malloc(R * R * sizeof *K), *Kfd = calloc(R * R, sizeof *Kfd);
    double *Kp = malloc(R * R * sizeof *Kp);
    float *K32 = malloc(R * R * sizeof *K32);
    fd_jacobian(net, N, X, 1e-4, J);
    for (size_t r = 0; r < R; r++)
        for (size_t q = 0; q < R; q++)
            for (size_t p = 0; p < P; p++) Kfd[r * R + q] += J[r * P + p] * J[q * P + p];
    kernel_of(net, N, X, NTK_F64, K, NULL, F);
    snprintf(what, sizeof what, "k = %d: gated K vs J J^T of central differences", k);
    check_le(tu_rel_fro(R * R, K, Kfd), 1e-8, what);
    /* the gradient: J^T (f - y) (c = 1) */
    double L, *g = malloc(P * sizeof *g), *gj = calloc(P, sizeof *gj);
    TU_OK(ntk_net_loss_grad(net, N, X, Y, NTK_LOSS_SUM, &L, g));
    for (size_t r = 0; r < R; r++)
        for (size_t p = 0; p < P; p++) gj[p] += J[r * P + p] * (F[r] - Y[r]);
    snprintf(what, sizeof what, "k = %d: gated gradient vs J^T r", k);
    check_le(tu_rel_fro(P, g, gj), 1e-8, what);
    /* float32 */
    kernel_of(net, N, X, NTK_F32, K32, NULL, NULL);
    for (size_t i = 0; i < R * R; i++) Kp[i] = K32[i];
    snprintf(what, sizeof what, "k = %d: gated float32 K vs float64", k);
    check_le(tu_rel_fro(R * R, Kp, K), 1e-5, what);
    /* the relu network at the same theta is another network */
    kernel_of(plain, N, X, NTK_F64, Kp, NULL, Fp);
    snprintf(what, sizeof what, "k = %d: relu and gated K differ (%.3g), f differ (%.3g)", k, tu_rel_fro(R * R, Kp, K),
             tu_rel_fro(R, Fp, F));
    if (getenv("NTK_TEST_VERBOSE")) print_message("%s\n", what);
    TU_ASSERT_LE(1e-3, tu_rel_fro(R * R, Kp, K), what);
    TU_ASSERT_LE(1e-3, tu_rel_fro(R, Fp, F), what);
    /* thawed: the plain network, bit for bit, through the same feats */
    double *Kt = malloc(R * R * sizeof *Kt);
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &f));
    TU_OK(ntk_feats_compute(net, f, X));
    ntk_net_thaw_gates(net);
    assert_int_equal(ntk_net_gates_frozen(net), 0);
    TU_OK(ntk_feats_compute(net, f, X));
    TU_OK(ntk_kernel_full(net, f, Kt, NULL));
    assert_memory_equal(Kt, Kp, R * R * sizeof *Kt);
    ntk_feats_free(f);
    free(J), free(K), free(Kfd), free(Kp), free(K32), free(g), free(gj), free(Kt), free(X);
    ntk_net_free(net);
    ntk_net_free(gref);
    ntk_net_free(plain);
}

static void test_away_k1(void **state)
{
    (void)state;
    away(1);
}

static void test_away_k2(void **state)
{
    (void)state;
    away(2);
}

/* Kdot and O3 of the gated network away from theta_g against central differences of its K. */
static void test_velocity_o3(void **state)
{
    (void)state;
    enum { N = 5, N0 = 3, W = 16 };
    double *X = tu_gauss_x(31, N, N0), Y[N];
    ntk_rng_normal(32, NTK_STREAM_TARGET, 0, 0, N, Y);
    ntk_net *net = relu_net(W, N0, 1, 4), *gref = clone(net);
    TU_OK(ntk_net_freeze_gates(net));
    descend(net, N, X, Y, 1.5, 40);
    ntk_net *plain = clone(net);
    assert_true(crossings(plain, gref, N, X) > 0);
    size_t P = ntk_net_num_params(net);
    double h = 1e-5 * norm(P, ntk_net_params_const(net));
    double D[N * N], Dfd[N * N], L, *v = malloc(P * sizeof *v), *J = malloc(N * P * sizeof *J);
    TU_OK(ntk_kernel_velocity(net, N, X, Y, NTK_LOSS_SUM, D));
    TU_OK(ntk_net_loss_grad(net, N, X, Y, NTK_LOSS_SUM, &L, v));
    double nv = norm(P, v);
    for (size_t p = 0; p < P; p++) v[p] = -v[p] / nv;
    fd_kernel_along(net, N, X, v, h, Dfd);
    for (size_t i = 0; i < N * N; i++) Dfd[i] *= nv;
    check_le(tu_rel_fro(N * N, D, Dfd), 1e-6, "gated Kdot vs central differences of K along -grad L");
    double Dp[N * N];
    TU_OK(ntk_kernel_velocity(plain, N, X, Y, NTK_LOSS_SUM, Dp));
    TU_ASSERT_LE(1e-3, tu_rel_fro(N * N, Dp, D), "relu and gated Kdot differ");
    /* O3[a][b][c] = grad K_ab . g_c, g_c = row c of the Jacobian */
    double *O3 = malloc(N * N * N * sizeof *O3), *O3fd = malloc(N * N * N * sizeof *O3fd);
    TU_OK(ntk_o3(net, NULL, N, X, 0, NULL, O3, NULL));
    fd_jacobian(net, N, X, 1e-4, J);
    for (size_t c = 0; c < N; c++) {
        double nc = norm(P, J + c * P);
        for (size_t p = 0; p < P; p++) v[p] = J[c * P + p] / nc;
        fd_kernel_along(net, N, X, v, h, Dfd);
        for (size_t ab = 0; ab < N * N; ab++) O3fd[ab * N + c] = nc * Dfd[ab];
    }
    check_le(tu_rel_fro(N * N * N, O3, O3fd), 1e-6, "gated O3 vs central differences of K along g_c");
    free(v), free(J), free(O3), free(O3fd), free(X);
    ntk_net_free(net);
    ntk_net_free(gref);
    ntk_net_free(plain);
}

/* Freezing copies the parameters of the call; a second freeze takes the new ones. */
static void test_freeze_copies(void **state)
{
    (void)state;
    ntk_net *net = relu_net(8, 3, 1, 5);
    size_t P = ntk_net_num_params(net);
    double *t0 = malloc(P * sizeof *t0);
    memcpy(t0, ntk_net_params_const(net), P * sizeof *t0);
    TU_OK(ntk_net_freeze_gates(net));
    double *th = ntk_net_params(net);
    for (size_t p = 0; p < P; p++) th[p] += 0.25;
    ntk_net_params_changed(net);
    assert_memory_equal(ntk_net_gate_params(net), t0, P * sizeof *t0);
    TU_OK(ntk_net_init(net, 6)); /* re-initialising moves theta, not theta_g */
    assert_memory_equal(ntk_net_gate_params(net), t0, P * sizeof *t0);
    TU_OK(ntk_net_freeze_gates(net));
    assert_memory_equal(ntk_net_gate_params(net), ntk_net_params_const(net), P * sizeof *t0);
    ntk_net_thaw_gates(net);
    assert_null(ntk_net_gate_params(net));
    ntk_net_thaw_gates(net); /* twice is harmless */
    free(t0);
    ntk_net_free(net);
}

/* ------------------------------------------------------------------ the order test */

typedef struct {
    double lin, nth;
} last_errs;

static ntk_status keep_last(void *user, const ntk_train_snapshot *s)
{
    last_errs *e = user;
    e->lin = s->mt.lin_err;
    e->nth = s->nth_err;
    return NTK_OK;
}

/* lin_err / nth_err at the last snapshot of the tracked run (level 4). */
static double order_ratio(int width, uint64_t seed, int gates, const ntk_dataset *d, double *lin, double *nth)
{
    int w[2] = {width, width};
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec.depth = 2, o.spec.widths = w, o.spec.n0 = d->n0, o.spec.outputs = 1, o.spec.act = NTK_ACT_RELU;
    o.spec.bias = NTK_BIAS_NORMAL, o.spec.bias_out = NTK_BIAS_NONE;
    o.seed = seed, o.loss = NTK_LOSS_SUM, o.lr_frac = 0.25; /* eta = 0.25 * 2 / lambda_max(K_0), c = 1 */
    o.steps = 100, o.schedule = "every:100", o.nth = 4, o.gates_frozen = gates, o.threads = 1;
    last_errs e = {NAN, NAN};
    ntk_train_result res;
    TU_OK(ntk_train_run(&o, d, keep_last, &e, &res));
    assert_int_equal(res.diverged_at, -1);
    assert_int_equal(res.nth_diverged_step, -1);
    assert_int_equal(ntk_net_gates_frozen(res.net), gates);
    ntk_train_result_clear(&res);
    *lin = e.lin, *nth = e.nth;
    return e.lin / e.nth;
}

/* The order result of issue 16's control.  Two hidden relu layers of width n (NTK parameterization,
 * sigma_w^2 2 / 1, trainable normal hidden biases, no readout bias), 8 N(0, I) points in 4 dimensions
 * with N(0, 1) targets (data seed 1, target seed 2), n = 512 and 1024, init seeds 1..4; gradient
 * descent on 1/2 sum (f - y)^2 with eta = 0.5 / lambda_max(K_0) for 100 steps, gates frozen at step 0
 * (ntk_train_run, nth 4), and at seed 1 also live.  Ratio lin_err / nth_err at step 100, measured:
 *   gated n = 512:  13.1, 32.0, 10.7, 21.2 (seeds 1..4; geometric mean 17.6)
 *   gated n = 1024: 25.6, 31.8, 64.9, 9.9  (geometric mean 26.9)
 *   plain (live gates), seed 1: 0.99 at 512, 1.06 at 1024 (seeds 2: 0.93, 0.96)
 * (gated: lin_err 1e-4 .. 5.5e-4, nth_err 5e-6 .. 3e-5; plain: lin_err 2.7e-3 .. 1.4e-2 and nth_err as
 * large: the kink crossings are what the hierarchy misses).  The single-seed ratio scatters by a
 * factor ~3 (16 points, 200 steps, seeds 1..3: 9.5 .. 70), so the 10x is asserted on the
 * geometric mean over the 4 seeds at each width (measured 17.6 and 26.9: 1.8x and 2.7x above it),
 * each seed at >= 5 (half the margin; measured >= 9.9), and the gated ratio 5x above the plain one at
 * seed 1 (measured 13x, 24x).  The numbers are deterministic: only BLAS rounding could move them. */
static void test_order(void **state)
{
    (void)state;
    enum { N = 8, N0 = 4, SEEDS = 4 };
    double X[N * N0], y[N];
    TU_OK(ntk_data_gaussian_raw(1, N, N0, X));
    ntk_rng_normal(2, NTK_STREAM_TARGET, 0, 0, N, y);
    ntk_dataset d;
    memset(&d, 0, sizeof d);
    d.n_train = N, d.n0 = N0, d.k = 1, d.X_train = X, d.Y_train = y;
    const int widths[2] = {512, 1024};
    for (int wi = 0; wi < 2; wi++) {
        double lmean = 0, first = NAN;
        char what[256];
        for (uint64_t seed = 1; seed <= SEEDS; seed++) {
            double lg, ng, rg = order_ratio(widths[wi], seed, 1, &d, &lg, &ng);
            snprintf(what, sizeof what, "n = %d, seed %d: gated lin_err / nth_err %.3g (%.3g / %.3g)", widths[wi],
                     (int)seed, rg, lg, ng);
            if (getenv("NTK_TEST_VERBOSE")) print_message("%s\n", what);
            TU_ASSERT_LE(5.0, rg, what);
            lmean += log(rg) / SEEDS;
            if (seed == 1) first = rg;
        }
        double lp, np, rp = order_ratio(widths[wi], 1, 0, &d, &lp, &np);
        snprintf(what, sizeof what, "n = %d: gated geometric mean %.3g; seed 1 gated %.3g, plain %.3g (%.3g / %.3g)",
                 widths[wi], exp(lmean), first, rp, lp, np);
        if (getenv("NTK_TEST_VERBOSE")) print_message("%s\n", what);
        TU_ASSERT_LE(10.0, exp(lmean), what);
        TU_ASSERT_LE(5.0 * rp, first, what);
    }
}

typedef struct {
    long step;
    double K[36], f[6];
} last_snap;

static ntk_status keep_snap(void *user, const ntk_train_snapshot *s)
{
    last_snap *r = user;
    r->step = s->step;
    memcpy(r->K, s->K, s->n * s->n * sizeof(double));
    memcpy(r->f, s->f, s->n * sizeof(double));
    return NTK_OK;
}

/* The tracked run with gates_frozen: theta_g is the seeded initialisation, and the last snapshot's K
 * and f are those of a network frozen by hand at that initialisation and moved to the run's final
 * parameters (bit for bit: the same operations); a live run ends elsewhere. */
static void test_train_run(void **state)
{
    (void)state;
    enum { N = 6, N0 = 3 };
    double X[N * N0], Y[N];
    TU_OK(ntk_data_gaussian_raw(3, N, N0, X));
    ntk_rng_normal(4, NTK_STREAM_TARGET, 0, 0, N, Y);
    ntk_dataset d;
    memset(&d, 0, sizeof d);
    d.n_train = N, d.n0 = N0, d.k = 1, d.X_train = X, d.Y_train = Y;
    int w[2] = {16, 16};
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec.depth = 2, o.spec.widths = w, o.spec.n0 = N0, o.seed = 9, o.steps = 40, o.schedule = "every:20";
    o.lr_frac = 0.75, o.threads = 1, o.gates_frozen = 1;
    last_snap g, p;
    ntk_train_result rg, rp;
    TU_OK(ntk_train_run(&o, &d, keep_snap, &g, &rg));
    o.gates_frozen = 0;
    TU_OK(ntk_train_run(&o, &d, keep_snap, &p, &rp));
    assert_int_equal(g.step, 40);
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&o.spec, &net));
    TU_OK(ntk_net_init(net, o.seed));
    size_t P = ntk_net_num_params(net);
    assert_int_equal(ntk_net_gates_frozen(rg.net), 1);
    assert_int_equal(ntk_net_gates_frozen(rp.net), 0);
    assert_memory_equal(ntk_net_gate_params(rg.net), ntk_net_params_const(net), P * sizeof(double));
    TU_OK(ntk_net_freeze_gates(net));
    memcpy(ntk_net_params(net), ntk_net_params_const(rg.net), P * sizeof(double));
    double K[N * N], f[N];
    int threads = ntk_get_threads();
    ntk_set_threads(1); /* as in the run: the same BLAS partitioning */
    kernel_of(net, N, X, NTK_F64, K, NULL, f);
    ntk_set_threads(threads);
    assert_memory_equal(K, g.K, sizeof K);
    assert_memory_equal(f, g.f, sizeof f);
    TU_ASSERT_LE(1e-3, tu_rel_fro(N * N, p.K, g.K), "a live run ends with another kernel");
    ntk_train_result_clear(&rg);
    ntk_train_result_clear(&rp);
    ntk_net_free(net);
}

/* ------------------------------------------------------------------ refusals */

static void test_refusals(void **state)
{
    (void)state;
    tu_netcfg c = tu_cfg(1, 8, 3, 1);
    c.act = NTK_ACT_ERF;
    ntk_net *net = tu_net(&c, 1);
    assert_int_equal(ntk_net_freeze_gates(net), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "act is erf"));
    assert_non_null(strstr(ntk_last_error(), "relu only"));
    assert_int_equal(ntk_net_gates_frozen(net), 0);
    ntk_net_free(net);
    c.act = NTK_ACT_IDENTITY;
    net = tu_net(&c, 1);
    assert_int_equal(ntk_net_freeze_gates(net), NTK_EINVAL);
    ntk_net_free(net);
    assert_int_equal(ntk_net_freeze_gates(NULL), NTK_EINVAL);
    assert_int_equal(ntk_net_gates_frozen(NULL), 0);
    double X[4 * 3], Y[4];
    for (int i = 0; i < 12; i++) X[i] = sin(i + 1.0);
    for (int i = 0; i < 4; i++) Y[i] = cos(i + 1.0);
    ntk_dataset d;
    memset(&d, 0, sizeof d);
    d.n_train = 4, d.n0 = 3, d.k = 1, d.X_train = X, d.Y_train = Y;
    int w = 8;
    ntk_train_run_opts o = ntk_train_run_defaults();
    o.spec.depth = 1, o.spec.widths = &w, o.spec.n0 = 3, o.spec.act = NTK_ACT_ERF, o.steps = 2;
    o.gates_frozen = 1;
    assert_int_equal(ntk_train_run_check(&o, &d), NTK_EINVAL);
    assert_string_equal(ntk_last_error(), "train: gates frozen: act is erf, frozen gates are for relu only");
    o.spec.act = NTK_ACT_RELU;
    TU_OK(ntk_train_run_check(&o, &d));
    o.gates_frozen = 2;
    assert_int_equal(ntk_train_run_check(&o, &d), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "gates_frozen must be 0 (live) or 1 (frozen), got 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_at_theta_g), cmocka_unit_test(test_away_k1), cmocka_unit_test(test_away_k2),
        cmocka_unit_test(test_velocity_o3),      cmocka_unit_test(test_freeze_copies), cmocka_unit_test(test_order),
        cmocka_unit_test(test_train_run),        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
