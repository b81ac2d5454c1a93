/* test_study_nth.c -- the hierarchy's width study (src/analysis/study_nth.c, study_nth_fit.c) against
 * a direct computation through the lower-level public functions:
 *   - one cell by hand as in tests/dynamics/test_nth.c's test_order: ntk_trainer_step for the network,
 *     ntk_linpred_at and ntk_nth_advance for the predictions from K_0, O3 and O4 of ntk_o3 / ntk_o4 at
 *     step 0, the errors e, eS and k summed here, the sign flips from pre-activations formed here
 *     (c_w W h + c_b b by loops over ntk_net_layer and ntk_feats_act; ntk_feats_preact against them),
 *     the learning rate from ntk_eigh, losses and drift; the hook and the cell callback;
 *   - a truncation that diverges: recorded at the step ntk_nth_diverged_at gives, e and k +inf from
 *     there, the seed mean +inf, no crossover;
 *   - the aggregates on values set here: means and standard errors, slopes against the OLS formulas
 *     (and an exact power law), the widths a fit leaves out, the crossover cases;
 *   - the same study with 1 and 2 threads, bit for bit; the byte estimate; bad options. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 8, N0 = 4 };
static double g_X[N * N0], g_y[N];
static int g_wb[8];

static ntk_spec make_spec(int depth, ntk_act act)
{
    ntk_spec s = ntk_spec_default();
    s.depth = depth, s.widths = g_wb, s.n0 = N0, s.act = act;
    s.bias = NTK_BIAS_NORMAL, s.bias_out = NTK_BIAS_NONE;
    for (int l = 0; l < depth; l++) g_wb[l] = 16;
    return s;
}

static ntk_nth_study_opts make_opts(size_t nw, const int *widths, size_t ns, const int *seeds, long T)
{
    ntk_data_gaussian_raw(1, N, N0, g_X);
    ntk_rng_normal(2, NTK_STREAM_TARGET, 0, 0, N, g_y);
    ntk_nth_study_opts o = ntk_nth_study_defaults();
    o.N = N, o.X = g_X, o.y = g_y, o.steps = T, o.n_widths = nw, o.widths = widths, o.n_seeds = ns, o.seeds = seeds;
    return o;
}

static double dist(size_t n, const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

/* |a - b| <= tol |b| (equal infinities and NaNs count as equal). */
static void near(double a, double b, double tol, const char *what, size_t j)
{
    if (isnan(b) && isnan(a)) return;
    if (isinf(b) && a == b) return;
    if (!(fabs(a - b) <= tol * fabs(b))) fail_msg("%s at %zu: engine %.17g, by hand %.17g", what, j, a, b);
}

/* The hidden pre-activations z_l(x_i) of the network on X by loops: z_1 = c_w W_1 x + c_b b_1, then
 * z_l = c_w W_l h_{l-1} + c_b b_l with h_{l-1} from ntk_feats_act.  z: [L x N x width]. */
static void preacts(ntk_net *net, ntk_feats *ft, int L, size_t width, double *z)
{
    double *h = malloc(N * (width > N0 ? width : N0) * sizeof *h);
    assert_non_null(h);
    for (int l = 1; l <= L; l++) {
        ntk_layer ly;
        TU_OK(ntk_net_layer(net, l, &ly));
        TU_OK(ntk_feats_act(ft, l - 1, h));
        size_t rows = (size_t)ly.rows, cols = (size_t)ly.cols, off = (size_t)(l - 1) * N;
        for (size_t i = 0; i < N; i++)
            for (size_t u = 0; u < rows; u++) {
                double s = 0;
                for (size_t v = 0; v < cols; v++) s += ly.W[u * cols + v] * h[i * cols + v];
                z[(off + i) * width + u] = ly.c_w * s + (ly.b ? ly.c_b * ly.b[u] : 0);
            }
    }
    free(h);
}

typedef struct {
    int hooks, cells;
    size_t order[16];
    int hook_width[16];
} calls;

static ntk_status hook(void *user, ntk_net *net)
{
    calls *c = user;
    c->hook_width[c->hooks++] = ntk_net_width(net, 1);
    return NTK_OK;
}

static ntk_status cell_done(void *user, const ntk_nth_study *r, size_t w, size_t s)
{
    calls *c = user;
    assert_true(isfinite(r->q[w * r->S + s])); /* e_lin at T: the cell is complete */
    c->order[c->cells++] = w * r->S + s;
    return NTK_OK;
}

/* Cell (width 32, seed 7) of a 2 x 2 study of a two-layer erf network, by hand.  The engine and this
 * test call the same library functions in the same order, so the values agree to rounding of the
 * norms summed here (1e-12 leaves that room); sign flips are counts (exact). */
static void test_cell_by_hand(void **state)
{
    (void)state;
    enum { T = 40, L = 2, WID = 32, SEED = 7 };
    const int widths[2] = {24, WID}, seeds[2] = {3, SEED};
    ntk_spec spec = make_spec(L, NTK_ACT_ERF);
    ntk_nth_study_opts o = make_opts(2, widths, 2, seeds, T);
    calls cl = {0};
    o.net_hook = hook, o.hook_user = &cl, o.cell_done = cell_done, o.cell_user = &cl;
    ntk_nth_study r;
    TU_OK(ntk_nth_study_run(&spec, &o, &r));
    assert_int_equal(cl.hooks, 4);
    assert_int_equal(cl.cells, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(cl.order[i], (size_t)i); /* widths outer, seeds inner */
    assert_int_equal(cl.hook_width[0], 24);
    assert_int_equal(cl.hook_width[3], WID);
    assert_int_equal(r.J, 5);
    for (size_t j = 0; j < r.J; j++) assert_int_equal(r.steps[j], (long)(10 * j));

    /* by hand, on one thread (the engine ran with the default count) */
    int threads = ntk_get_threads();
    ntk_set_threads(1);
    for (int l = 0; l < L; l++) g_wb[l] = WID;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&spec, &net));
    TU_OK(ntk_net_init(net, SEED));
    ntk_feats *ft = NULL;
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &ft));
    double K0[N * N], K[N * N], Kp[N * N], f0[N], f[N], fp[N], ev[N];
    double *z0 = malloc(L * N * WID * sizeof *z0), *z = malloc(L * N * WID * sizeof *z);
    double *O3 = malloc(N * N * N * sizeof *O3), *O4 = malloc(N * N * N * N * sizeof *O4);
    TU_OK(ntk_feats_compute(net, ft, g_X));
    TU_OK(ntk_kernel_full(net, ft, K0, NULL));
    TU_OK(ntk_feats_output(ft, f0));
    preacts(net, ft, L, WID, z0);
    for (int l = 1; l <= L; l++) { /* ntk_feats_preact against the loops: GEMM and loop sums round apart */
        TU_OK(ntk_feats_preact(ft, l, z));
        TU_ASSERT_LE(tu_rel_max(N * WID, z, z0 + (size_t)(l - 1) * N * WID), 1e-13, "ntk_feats_preact");
    }
    TU_OK(ntk_feats_preact(ft, L + 1, fp)); /* the readout's is f */
    assert_memory_equal(fp, f0, sizeof f0);
    assert_int_equal(ntk_feats_preact(ft, 0, z), NTK_EINVAL);
    assert_int_equal(ntk_feats_preact(ft, L + 2, z), NTK_EINVAL);
    TU_OK(ntk_eigh(N, K0, ev, NULL));
    double eta = 0.25 * 2 / ev[0]; /* half_sum: c = 1 */
    TU_OK(ntk_o3(net, NULL, N, g_X, 0, NULL, O3, NULL));
    TU_OK(ntk_o4(net, NULL, N, g_X, 0, NULL, O4, NULL));
    ntk_linpred *lp = NULL;
    TU_OK(ntk_linpred_alloc(N, K0, 0, NULL, f0, g_y, NULL, eta, 0, &lp));
    ntk_nth *h[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        ntk_nth_opts no = ntk_nth_defaults();
        no.level = 3 + i, no.a = eta;
        TU_OK(ntk_nth_alloc(&no, N, K0, O3, i ? O4 : NULL, f0, g_y, 0, NULL, NULL, NULL, NULL, &h[i]));
    }
    ntk_train_opts to = ntk_train_defaults();
    to.loss = NTK_LOSS_SUM, to.lr = eta;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, g_X, g_y, &to, &tr));
    double de[3][5], kk[2][5], flips[5][L];
    for (int j = 0; j < 5; j++) {
        double loss;
        if (j > 0)
            for (int t = 0; t < 10; t++) TU_OK(ntk_trainer_step(tr, &loss));
        TU_OK(ntk_feats_compute(net, ft, g_X));
        TU_OK(ntk_kernel_full(net, ft, K, NULL));
        TU_OK(ntk_feats_output(ft, f));
        preacts(net, ft, L, WID, z);
        TU_OK(ntk_linpred_at(lp, 10.0 * j, fp, NULL));
        de[0][j] = dist(N, fp, f);
        for (int i = 0; i < 2; i++) {
            TU_OK(ntk_nth_advance(h[i], 10 * j));
            TU_OK(ntk_nth_get(h[i], fp, NULL, Kp, NULL));
            assert_int_equal(ntk_nth_diverged_at(h[i]), -1);
            de[i + 1][j] = dist(N, fp, f);
            kk[i][j] = dist(N * N, Kp, K) / dist(N * N, K, K0);
        }
        for (int l = 0; l < L; l++) {
            int c = 0;
            for (int u = 0; u < N * WID; u++) c += (z[l * N * WID + u] > 0) != (z0[l * N * WID + u] > 0);
            flips[j][l] = (double)c / (N * WID);
        }
    }
    ntk_set_threads(threads);
    size_t c = 1 * 2 + 1, W = 2, S = 2, J = 5;
    double D = dist(N, f, f0);
    near(r.eta[c], eta, 0, "eta", c);
    near(r.a_lambda_max[c], 0.5, 1e-15, "a lambda_max", c); /* 0.25 * 2: one rounding */
    for (size_t p = 0; p < 3; p++) {
        double mx = 0;
        for (size_t j = 0; j < J; j++) {
            near(r.e_t[(p * W * S + c) * J + j], de[p][j] / D, 1e-12, "e_t", p * 10 + j);
            mx = fmax(mx, de[p][j] / D);
        }
        near(r.q[p * W * S + c], de[p][J - 1] / D, 1e-12, "e at T", p);
        near(r.q[(NTK_NTHQ_ES_LIN + p) * W * S + c], mx, 1e-12, "eS", p);
    }
    for (size_t i = 0; i < 2; i++) {
        assert_true(isnan(r.k_t[(i * W * S + c) * J]));
        for (size_t j = 1; j < J; j++) near(r.k_t[(i * W * S + c) * J + j], kk[i][j], 1e-12, "k_t", i * 10 + j);
        near(r.q[(NTK_NTHQ_K_3 + i) * W * S + c], kk[i][J - 1], 1e-12, "k at T", i);
        assert_int_equal(r.diverged[i * W * S + c], -1);
    }
    for (size_t j = 0; j < J; j++)
        for (size_t l = 0; l < L; l++) assert_true(r.flips_t[(c * J + j) * L + l] == flips[j][l]);
    for (size_t l = 0; l < L; l++) assert_true(r.flips[c * L + l] == flips[J - 1][l]);
    assert_true(flips[J - 1][0] > 0 && flips[J - 1][1] > 0); /* the comparison saw flips to count */
    near(r.loss0[c], 0.5 * dist(N, f0, g_y) * dist(N, f0, g_y), 1e-12, "loss0", c);
    near(r.lossT[c], 0.5 * dist(N, f, g_y) * dist(N, f, g_y), 1e-12, "lossT", c);
    double zero[N * N] = {0};
    near(r.drift[c], dist(N * N, K, K0) / dist(N * N, K0, zero), 1e-12, "drift", c);
    assert_true(r.seconds[c] >= 0);
    ntk_trainer_free(tr);
    ntk_nth_free(h[0]), ntk_nth_free(h[1]);
    ntk_linpred_free(lp);
    ntk_feats_free(ft);
    ntk_net_free(net);
    free(z0), free(z), free(O3), free(O4);
    ntk_nth_study_clear(&r);
    assert_null(r.q);
}

/* One erf hidden layer of width 64, seed 5: both truncations blow up within 80 steps (the network
 * does not; measured: level 3 at step 59, level 4 at 31).  The steps are ntk_nth_diverged_at of the
 * integrators driven by hand; a snapshot just before that step may already hold e = +inf (f finite
 * but its distance past the double range), so only the first two snapshots must be finite. */
static void test_divergence(void **state)
{
    (void)state;
    const int widths[1] = {64}, seeds[1] = {5};
    ntk_spec spec = make_spec(1, NTK_ACT_ERF);
    ntk_nth_study_opts o = make_opts(1, widths, 1, seeds, 80);
    ntk_nth_study r;
    TU_OK(ntk_nth_study_run(&spec, &o, &r));
    g_wb[0] = 64;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&spec, &net));
    TU_OK(ntk_net_init(net, 5));
    ntk_feats *ft = NULL;
    double K0[N * N], f0[N];
    double *O3 = malloc(N * N * N * sizeof *O3), *O4 = malloc(N * N * N * N * sizeof *O4);
    TU_OK(ntk_feats_alloc(net, N, NTK_F64, &ft));
    TU_OK(ntk_feats_compute(net, ft, g_X));
    TU_OK(ntk_kernel_full(net, ft, K0, NULL));
    TU_OK(ntk_feats_output(ft, f0));
    TU_OK(ntk_o3(net, NULL, N, g_X, 0, NULL, O3, NULL));
    TU_OK(ntk_o4(net, NULL, N, g_X, 0, NULL, O4, NULL));
    for (int i = 0; i < 2; i++) {
        ntk_nth_opts no = ntk_nth_defaults();
        no.level = 3 + i, no.a = r.eta[0];
        ntk_nth *h = NULL;
        TU_OK(ntk_nth_alloc(&no, N, K0, O3, i ? O4 : NULL, f0, g_y, 0, NULL, NULL, NULL, NULL, &h));
        TU_OK(ntk_nth_advance(h, 80));
        long at = ntk_nth_diverged_at(h);
        ntk_nth_free(h);
        assert_true(at > 0 && at <= 80); /* the setup diverges */
        assert_int_equal(r.diverged[i], at);
        for (size_t j = 0; j < r.J; j++) {
            double e = r.e_t[(size_t)(i + 1) * r.J + j], k = r.k_t[(size_t)i * r.J + j];
            if (r.steps[j] >= at) assert_true(isinf(e) && e > 0 && isinf(k) && k > 0);
            else if (j < 2 && (!isfinite(e) || (j > 0 && !isfinite(k)))) /* steps 0, 10: before the blow-up */
                fail_msg("level %d, step %ld: e %g, k %g", i + 3, r.steps[j], e, k);
        }
        assert_true(isinf(r.q[(NTK_NTHQ_E_3 + i)]) && isinf(r.q[(NTK_NTHQ_ES_3 + i)]));
        assert_true(isinf(r.mean[NTK_NTHQ_E_3 + i]));
        assert_int_equal(r.n_diverged[i], 1);
    }
    assert_true(isfinite(r.q[NTK_NTHQ_E_LIN]) && r.q[NTK_NTHQ_E_LIN] > 0);
    assert_true(isnan(r.crossover_3) && isnan(r.crossover_4));
    assert_int_equal(r.fit[NTK_NTHQ_E_4].points, 0); /* an infinite mean is left out of the fit */
    free(O3), free(O4);
    ntk_feats_free(ft);
    ntk_net_free(net);
    ntk_nth_study_clear(&r);
}

/* OLS slope and its standard error of (x, y) [m], written out. */
static void ols(size_t m, const double *x, const double *y, double *b, double *se)
{
    double mx = 0, my = 0, sxx = 0, sxy = 0, rss = 0;
    double dm = (double)m;
    for (size_t i = 0; i < m; i++) mx += x[i] / dm, my += y[i] / dm;
    for (size_t i = 0; i < m; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    *b = sxy / sxx;
    for (size_t i = 0; i < m; i++) rss += pow(y[i] - my - *b * (x[i] - mx), 2);
    *se = sqrt(rss / (dm - 2) / sxx);
}

/* Aggregates of values set here, on the arrays of a real (tiny) study. */
static void test_aggregate(void **state)
{
    (void)state;
    enum { W = 5, S = 3 };
    const int widths[W] = {4, 8, 16, 32, 64}, seeds[S] = {0, 1, 2};
    ntk_spec spec = make_spec(1, NTK_ACT_RELU);
    ntk_nth_study_opts o = make_opts(W, widths, S, seeds, 1);
    ntk_nth_study r;
    TU_OK(ntk_nth_study_run(&spec, &o, &r));
    /* quantity i of cell (w, s): 3 w^-(i+1)/2 times (1 + 0.1 (s - 1) + 0.01 (i + 1) w s): seeds spread, and
     * the means off the power law */
    for (int i = 0; i < NTK_NTHQ_COUNT; i++)
        for (int w = 0; w < W; w++)
            for (int s = 0; s < S; s++)
                r.q[(i * W + w) * S + s] = 3 * pow(widths[w], -(i + 1) / 2.0) * (1 + 0.1 * (s - 1) + 0.01 * (i + 1) * w * s);
    for (int w = 0; w < W; w++)
        for (int s = 0; s < S; s++) r.flips[w * S + s] = 0.25 * (s + 1) / (w + 1);
    TU_OK(ntk_nth_study_aggregate(&r, 8));
    assert_int_equal(r.min_width, 8);
    for (int i = 0; i < NTK_NTHQ_COUNT; i++) {
        double x[W], y[W], b, se;
        for (int w = 0; w < W; w++) {
            const double *v = r.q + (i * W + w) * S;
            double m = (v[0] + v[1] + v[2]) / 3, sd = sqrt((pow(v[0] - m, 2) + pow(v[1] - m, 2) + pow(v[2] - m, 2)) / 2);
            near(r.mean[i * W + w], m, 1e-14, "mean", (size_t)(i * W + w)); /* a few roundings */
            near(r.se[i * W + w], sd / sqrt(3), 1e-12, "se", (size_t)(i * W + w));
            x[w] = log(widths[w]), y[w] = log(m);
        }
        ols(W - 1, x + 1, y + 1, &b, &se); /* the widths >= 8 */
        near(r.fit[i].slope, b, 1e-12, "slope", (size_t)i);
        near(r.fit[i].slope_se, se, 1e-9, "slope se", (size_t)i); /* a small residual: cancellation */
        assert_int_equal(r.fit[i].points, W - 1);
        assert_int_equal(r.fit[i].width_min, 8);
        assert_int_equal(r.fit[i].width_max, 64);
        assert_true(fabs(b + (i + 1) / 2.0) < 0.1); /* close to the power law's */
    }
    for (int w = 0; w < W; w++) near(r.flips_mean[w], 0.5 / (w + 1), 1e-15, "flips mean", (size_t)w);
    /* an exact power law: slope -1/2, standard error at rounding level */
    for (int w = 0; w < W; w++)
        for (int s = 0; s < S; s++) r.q[(NTK_NTHQ_E_LIN * W + w) * S + s] = 2 / sqrt(widths[w]);
    /* crossovers: e_3 below e_lin from 16 on (above at 8), e_4 below only at 4 and 8 */
    const double r3[W] = {0.5, 2, 0.5, 0.9, 0.1}, r4[W] = {0.5, 0.5, 2, 2, 3};
    for (int w = 0; w < W; w++)
        for (int s = 0; s < S; s++) {
            r.q[(NTK_NTHQ_E_3 * W + w) * S + s] = r3[w] * 2 / sqrt(widths[w]);
            r.q[(NTK_NTHQ_E_4 * W + w) * S + s] = r4[w] * 2 / sqrt(widths[w]);
        }
    r.q[(NTK_NTHQ_E_4 * W + 4) * S + 1] = INFINITY; /* a diverged seed: the mean +inf, left out of the fit */
    TU_OK(ntk_nth_study_aggregate(&r, 0));
    near(r.fit[NTK_NTHQ_E_LIN].slope, -0.5, 1e-14, "exact power law", 0);
    TU_ASSERT_LE(r.fit[NTK_NTHQ_E_LIN].slope_se, 1e-14, "exact power law: slope se");
    assert_true(r.crossover_3 == 16);
    assert_true(isnan(r.crossover_4));
    assert_true(isinf(r.mean[NTK_NTHQ_E_4 * W + 4]));
    assert_int_equal(r.fit[NTK_NTHQ_E_4].points, W - 1);
    assert_int_equal(r.fit[NTK_NTHQ_E_4].width_max, 32);
    for (int s = 0; s < S; s++) r.q[(NTK_NTHQ_E_4 * W + 4) * S + s] = 0.1 * 2 / sqrt(64); /* below from 64 on */
    TU_OK(ntk_nth_study_aggregate(&r, 0));
    assert_true(r.crossover_4 == 64);
    for (int w = 0; w < W; w++)
        for (int s = 0; s < S; s++) r.q[(NTK_NTHQ_E_4 * W + w) * S + s] = 0.5 * 2 / sqrt(widths[w]);
    TU_OK(ntk_nth_study_aggregate(&r, 0));
    assert_true(r.crossover_4 == 4); /* below everywhere */
    TU_OK(ntk_nth_study_aggregate(&r, 1000));
    assert_int_equal(r.fit[0].points, 0);
    assert_true(isnan(r.fit[0].slope));
    assert_int_equal(ntk_nth_study_aggregate(NULL, 0), NTK_EINVAL);
    ntk_nth_study_clear(&r);
    assert_string_equal(ntk_nthq_name(NTK_NTHQ_ES_4), "eS_4");
    assert_null(ntk_nthq_name(NTK_NTHQ_COUNT));
    assert_null(ntk_nthq_name(-1));
}

/* The thread count changes no bit of the results. */
static void test_threads(void **state)
{
    (void)state;
    const int widths[2] = {128, 256}, seeds[1] = {1};
    ntk_spec spec = make_spec(2, NTK_ACT_TANH);
    ntk_nth_study r[2];
    for (int i = 0; i < 2; i++) {
        ntk_nth_study_opts o = make_opts(2, widths, 1, seeds, 20);
        o.threads = i + 1;
        TU_OK(ntk_nth_study_run(&spec, &o, &r[i]));
    }
    assert_memory_equal(r[0].q, r[1].q, NTK_NTHQ_COUNT * 2 * sizeof(double));
    assert_memory_equal(r[0].e_t, r[1].e_t, 3 * 2 * r[0].J * sizeof(double));
    assert_memory_equal(r[0].flips_t, r[1].flips_t, 2 * r[0].J * 2 * sizeof(double));
    for (int i = 0; i < 2; i++) ntk_nth_study_clear(&r[i]);
}

static void test_bytes_and_options(void **state)
{
    (void)state;
    ntk_spec spec = make_spec(2, NTK_ACT_RELU);
    g_wb[0] = g_wb[1] = 512;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&spec, &net));
    double P = (double)ntk_net_num_params(net), b = ntk_nth_study_bytes(&spec, 512, N);
    ntk_net_free(net);
    /* at least the parameters with the trainer's gradient and O4's plan */
    assert_true(b >= 16 * P + ntk_o4_bytes(&spec, N, 0));
    assert_true(ntk_nth_study_bytes(&spec, 1024, N) > b);
    assert_true(isnan(ntk_nth_study_bytes(NULL, 8, N)));

    const int widths[2] = {8, 16}, seeds[1] = {0};
    ntk_nth_study r;
    ntk_nth_study_opts o = make_opts(2, widths, 1, seeds, 10);
    struct {
        const char *what;
        ntk_status st;
    } bad[] = {{"strictly increasing", NTK_EINVAL}, {"refused above N = 64", NTK_ENOMEM}, {"one output", NTK_EINVAL},
               {"steps must be >= 1", NTK_EINVAL}, {"negative", NTK_EINVAL}, {"snapshots", NTK_EINVAL},
               {"depth must be >= 1", NTK_EINVAL}, {"absolute lr", NTK_EINVAL}, {"min_width", NTK_EINVAL}};
    for (int i = 0; i < 9; i++) {
        ntk_spec s = spec;
        ntk_nth_study_opts q = o;
        const int down[2] = {16, 8}, neg[1] = {-1};
        if (i == 0) q.widths = down;
        if (i == 1) q.N = 65;
        if (i == 2) s.outputs = 2;
        if (i == 3) q.steps = 0;
        if (i == 4) q.seeds = neg;
        if (i == 5) q.schedule = "every:0";
        if (i == 6) s.depth = 0;
        if (i == 7) q.lr_frac = 0, q.lr = 0;
        if (i == 8) q.min_width = -1;
        assert_int_equal(ntk_nth_study_run(&s, &q, &r), bad[i].st);
        if (!strstr(ntk_last_error(), bad[i].what)) fail_msg("case %d: '%s' lacks '%s'", i, ntk_last_error(), bad[i].what);
        assert_null(r.q); /* refused before anything is allocated */
    }
    assert_int_equal(ntk_nth_study_run(&spec, NULL, &r), NTK_EINVAL);
    assert_int_equal(ntk_nth_study_run(&spec, &o, NULL), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_by_hand), cmocka_unit_test(test_divergence), cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_threads), cmocka_unit_test(test_bytes_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
