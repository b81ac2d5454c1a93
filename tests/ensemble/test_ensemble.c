/* test_ensemble.c -- the ensemble cell engine (src/ensemble/ensemble.c, ensemble_stats.c, ensemble_probe.c)
 * and the single-process face of src/dist/dist.c.
 *
 * - A cell's members are the lazy sampler's members of the documented keys: every member's K, parts,
 *   f and per-layer terms equal ntk_lazy_diag at sub = cell * 2^32 + m (bitwise: the same function on
 *   the same key), the pathwise update ntk_lazy_diag_update's, K(x, x') ntk_lazy_pair's on
 *   NTK_STREAM_ENSEMBLE_PAIR; the cell's mean K is the average of those direct draws.
 * - The literal one-step update against the pathwise one on the same full-matrix network (sampler
 *   full, tanh, a tiny step): (K(theta - lambda grad) - K) / lambda -> dK_path as lambda -> 0.
 * - sampler_full: E[K] = d s + (d + 1) / 2 within 4 standard errors (ReLU, He, zero-init biases).
 * - Threads 1 vs 2 (and a cell run twice): bit-identical samples and statistics.
 * - The statistics against a direct computation (two-pass mean / sample sd, the moment ratio, the
 *   bootstrap redrawn with ntk_rng_uniform on NTK_STREAM_ENSEMBLE_BOOTSTRAP, the two warnings).
 * - R's delta-method error against a numeric evaluation (the gradient of log(m2 / m1^2) by central
 *   differences with the sample covariance) and against the spread of log R over independent cells.
 * - The fit against ntk_ols on the same points; the theory columns against their closed forms; the
 *   probes' norms and angle; bad options -> NTK_EINVAL; ntk_dist outside mpirun is one rank.
 * - ntk_ensemble_grid: the cells written out by hand (width fastest; lines of fixed beta rounded and
 *   clamped to [1, NTK_MAX_DEPTH]). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define make_spec tu_spec_uniform

static void run_cell(const ntk_spec *s, const ntk_ensemble_opts *o, uint64_t cell, ntk_ensemble_samples *smp,
                     ntk_ensemble_stats *st)
{
    TU_OK(ntk_ensemble_samples_alloc(smp, o->members, s->depth));
    TU_OK(ntk_ensemble_cell(s, o, cell, smp, st));
}

static int same_bits(size_t n, const double *a, const double *b) { return memcmp(a, b, n * sizeof *a) == 0; }

static void test_members_are_lazy_draws(void **state)
{
    (void)state;
    int w[3];
    ntk_spec s = make_spec(3, w, 16, 5);
    double x[5], xp[5];
    TU_OK(ntk_ensemble_probes(7, 5, 1.5, 60, x, xp));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 301, o.x = x, o.xp = xp, o.seed = 42, o.y = 0.3, o.threads = 2;
    const uint64_t cell = 3;
    ntk_ensemble_samples smp;
    ntk_ensemble_stats st;
    run_cell(&s, &o, cell, &smp, &st);
    double *work = malloc(ntk_lazy_work_len(&s) * sizeof *work), *work2 = malloc(ntk_lazy_pair_work_len(&s) * sizeof *work2);
    double lay[4], sumK = 0;
    int bad = 0;
    for (size_t m = 0; m < o.members; m++) {
        uint64_t sub = (cell << 32) | m;
        ntk_member_diag md, mu;
        ntk_member_pair mp;
        double dkp;
        TU_OK(ntk_lazy_diag(&s, x, o.seed, sub, work, &md, lay));
        TU_OK(ntk_lazy_diag_update(&s, x, o.y, o.seed, sub, work, &mu, NULL, &dkp));
        TU_OK(ntk_lazy_pair(&s, x, xp, o.seed, NTK_STREAM_ENSEMBLE_PAIR, sub, work2, &mp));
        sumK += md.K;
        bad += smp.q[NTK_ENS_K][m] != md.K || smp.q[NTK_ENS_K_WEIGHT][m] != md.K_weight ||
               smp.q[NTK_ENS_K_BIAS][m] != md.K_bias || smp.q[NTK_ENS_K_READOUT][m] != md.K_readout ||
               smp.q[NTK_ENS_F][m] != md.f || !same_bits(4, smp.layers + 4 * m, lay) ||
               smp.q[NTK_ENS_DK_PATH][m] != dkp || smp.q[NTK_ENS_K_OFF][m] != mp.K12 ||
               smp.q[NTK_ENS_RHO_OFF][m] != mp.K12 / sqrt(mp.K11 * mp.K22) || !isfinite(smp.q[NTK_ENS_DK_LITERAL][m]);
    }
    assert_int_equal(bad, 0);
    /* the library's mean adds K_i / M, this one sum(K_i) / M: a few ulps of O(10) values over 301 terms */
    TU_ASSERT_LE(fabs(st.mean[NTK_ENS_K] - sumK / (double)o.members) / st.mean[NTK_ENS_K], 1e-13,
                 "mean K vs the average of ntk_lazy_diag over the same members");
    /* another cell draws other members */
    ntk_ensemble_samples other;
    run_cell(&s, &o, cell + 1, &other, NULL);
    assert_false(other.q[NTK_ENS_K][0] == smp.q[NTK_ENS_K][0]);
    free(work);
    free(work2);
    ntk_ensemble_samples_clear(&smp);
    ntk_ensemble_samples_clear(&other);
}

/* On the full-matrix network the literal step is a finite difference of the pathwise velocity:
 * (K(theta - lambda grad) - K) / lambda = dK_path + O(lambda) for a smooth activation. */
static void test_literal_vs_pathwise(void **state)
{
    (void)state;
    int w[2];
    ntk_spec s = make_spec(2, w, 12, 4);
    s.act = NTK_ACT_TANH;
    double x[4];
    TU_OK(ntk_ensemble_probes(3, 4, 1, -1, x, NULL));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 40, o.x = x, o.sampler_full = 1, o.lr = 1e-6, o.y = 0.5, o.seed = 9;
    ntk_ensemble_samples smp;
    run_cell(&s, &o, 0, &smp, NULL);
    double worst = 0, scale = 0;
    for (size_t m = 0; m < o.members; m++) {
        double a = smp.q[NTK_ENS_DK_LITERAL][m], b = smp.q[NTK_ENS_DK_PATH][m];
        worst = fmax(worst, fabs(a - b));
        scale = fmax(scale, fabs(b));
        assert_true(isnan(smp.q[NTK_ENS_K_WEIGHT][m]) && isnan(smp.layers[3 * m])); /* parts: lazy sampler only */
    }
    /* O(lambda) = 1e-6 times O(1) curvature, plus the difference's rounding 1e-16 K / lambda ~ 1e-9:
     * 1e-4 of the largest update; a wrong sign, factor or network is off by O(1) */
    TU_ASSERT_LE(worst, 1e-4 * scale, "literal one-step update vs pathwise velocity (same network)");
    assert_true(scale > 0);
    ntk_ensemble_samples_clear(&smp);
}

static void test_full_sampler_mean(void **state)
{
    (void)state;
    int w[2];
    ntk_spec s = make_spec(2, w, 24, 6);
    double x[6];
    TU_OK(ntk_ensemble_probes(1, 6, 1, -1, x, NULL));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 3000, o.x = x, o.sampler_full = 1, o.no_updates = 1, o.seed = tu_seed(5);
    ntk_ensemble_samples smp;
    ntk_ensemble_stats st;
    run_cell(&s, &o, 0, &smp, &st);
    ntk_ensemble_theory th;
    TU_OK(ntk_ensemble_theory_of(&s, 24, 1, &th));
    /* 4 standard errors: a false failure has probability 6e-5 */
    TU_ASSERT_LE(fabs(st.mean[NTK_ENS_K] - th.K_mean), 4 * st.se[NTK_ENS_K], "full sampler: E[K] = d s + (d+1)/2");
    assert_true(isnan(st.mean[NTK_ENS_K_OFF]) && isnan(st.mean[NTK_ENS_DK_PATH]));
    ntk_ensemble_samples_clear(&smp);
}

static void test_threads_identical(void **state)
{
    (void)state;
    int w[4];
    ntk_spec s = make_spec(4, w, 20, 6);
    double x[6], xp[6];
    TU_OK(ntk_ensemble_probes(2, 6, 1, 45, x, xp));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 203, o.x = x, o.xp = xp, o.seed = 11;
    ntk_ensemble_samples a, b;
    ntk_ensemble_stats sa, sb;
    ntk_set_threads(3);
    o.threads = 1;
    run_cell(&s, &o, 1, &a, &sa);
    assert_int_equal(ntk_get_threads(), 3); /* restored */
    o.threads = 2;
    run_cell(&s, &o, 1, &b, &sb);
    assert_int_equal(ntk_get_threads(), 3);
    for (int k = 0; k < NTK_ENS_NQ; k++) assert_true(same_bits(o.members, a.q[k], b.q[k]));
    assert_true(same_bits(o.members * 5, a.layers, b.layers));
    sa.seconds = sb.seconds = 0;
    assert_memory_equal(&sa, &sb, sizeof sa);
    ntk_ensemble_samples_clear(&a);
    ntk_ensemble_samples_clear(&b);
}

/* Samples with known values: K lognormal-ish from N(0,1) draws, the rest other draws. */
static void fill_samples(ntk_ensemble_samples *s, uint64_t seed)
{
    for (int k = 0; k < NTK_ENS_NQ; k++) {
        ntk_rng_normal(seed, 200, (uint64_t)k, 0, s->members, s->q[k]);
        for (size_t i = 0; i < s->members; i++) s->q[k][i] = exp(0.5 * s->q[k][i]);
    }
}

static void direct_moments(size_t n, const double *v, double *mean, double *se, double *R, double *log_se)
{
    double m1 = 0, m2 = 0, c11 = 0, c22 = 0, c12 = 0;
    for (size_t i = 0; i < n; i++) m1 += v[i], m2 += v[i] * v[i];
    m1 /= (double)n, m2 /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double a = v[i] - m1, b = v[i] * v[i] - m2;
        c11 += a * a, c22 += b * b, c12 += a * b;
    }
    c11 /= (double)(n - 1), c22 /= (double)(n - 1), c12 /= (double)(n - 1);
    *mean = m1;
    *se = sqrt(c11 / (double)n);
    *R = m2 / (m1 * m1);
    *log_se = sqrt((c22 / (m2 * m2) + 4 * c11 / (m1 * m1) - 4 * c12 / (m1 * m2)) / (double)n);
}

static double boot_R(const double *K, size_t M, uint64_t seed, uint64_t cell, int b, double *u)
{
    ntk_rng_uniform(seed, NTK_STREAM_ENSEMBLE_BOOTSTRAP, cell * 400 + (uint64_t)b, 0, M, u);
    double m1 = 0, m2 = 0;
    for (size_t i = 0; i < M; i++) {
        size_t j = (size_t)floor(u[i] * (double)M);
        double v = K[j < M ? j : M - 1];
        m1 += v, m2 += v * v;
    }
    m1 /= (double)M, m2 /= (double)M;
    return m2 / (m1 * m1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_stats_direct(void **state)
{
    (void)state;
    ntk_ensemble_samples s;
    TU_OK(ntk_ensemble_samples_alloc(&s, 500, 2));
    fill_samples(&s, 17);
    ntk_ensemble_stats st;
    TU_OK(ntk_ensemble_stats_compute(&s, 23, 4, &st));
    for (int k = 0; k < NTK_ENS_NQ; k++) {
        double mean, se, R, lse;
        direct_moments(s.members, s.q[k], &mean, &se, &R, &lse);
        /* two-pass sums of 500 O(1) values in another order than src/analysis/stats.c: ~1e-14 relative */
        TU_ASSERT_LE(fabs(st.mean[k] - mean) / mean, 1e-12, "mean vs a direct two-pass mean");
        TU_ASSERT_LE(fabs(st.se[k] - se) / se, 1e-12, "se vs sd(ddof 1) / sqrt(M)");
        const double *Rk = k == NTK_ENS_K ? &st.R : k == NTK_ENS_K_READOUT ? &st.Kd_R : k == NTK_ENS_K_WEIGHT ? &st.Kw_R
                         : k == NTK_ENS_K_OFF ? &st.Koff_R : NULL;
        if (Rk) {
            TU_ASSERT_LE(fabs(Rk[0] - R) / R, 1e-12, "R vs mean(v^2) / mean(v)^2");
            TU_ASSERT_LE(fabs(Rk[1] - lse) / lse, 1e-10, "delta-method se of log R vs the direct formula");
        }
    }
    /* the bootstrap redrawn: the same uniforms and the same sums in the same order -> the same bits;
     * 1e-12 relative leaves room for a compiler's contraction of the sums */
    double r[400], *u = malloc(s.members * sizeof *u);
    for (int b = 0; b < 400; b++) r[b] = boot_R(s.q[NTK_ENS_K], s.members, 23, 4, b, u);
    free(u);
    qsort(r, 400, sizeof *r, cmp_d);
    TU_ASSERT_LE(fabs(st.R_boot_lo - r[10]) / r[10], 1e-12, "bootstrap: sorted resample 10 of 400");
    TU_ASSERT_LE(fabs(st.R_boot_hi - r[389]) / r[389], 1e-12, "bootstrap: sorted resample 389 of 400");
    assert_true(st.R_boot_lo < st.R && st.R < st.R_boot_hi);
    assert_int_equal(st.warn_ceiling, 0);
    assert_int_equal(st.warn_tail, 0);
    /* one member far out: it carries > 10% of sum K^2 (warn_tail) and R ~ M > M / 10 (warn_ceiling) */
    s.q[NTK_ENS_K][7] = 1e6;
    TU_OK(ntk_ensemble_stats_compute(&s, 23, 4, &st));
    assert_int_equal(st.warn_tail, 1);
    assert_int_equal(st.warn_ceiling, 1);
    /* NaN members are left out (src/analysis/stats.c), an all-NaN quantity has NaN statistics */
    for (size_t i = 0; i < s.members; i++) s.q[NTK_ENS_K_OFF][i] = NAN;
    TU_OK(ntk_ensemble_stats_compute(&s, 23, 4, &st));
    assert_true(isnan(st.mean[NTK_ENS_K_OFF]) && isnan(st.Koff_R));
    ntk_ensemble_samples_clear(&s);
}

/* log R = g(m1, m2) = log m2 - 2 log m1; Var(log R) = grad g^T C grad g / M with C the sample
 * covariance of (v, v^2): the gradient here by central differences, not by the formula. */
static void test_delta_method_numeric(void **state)
{
    (void)state;
    ntk_ensemble_samples s;
    TU_OK(ntk_ensemble_samples_alloc(&s, 800, 0));
    fill_samples(&s, 31);
    ntk_ensemble_stats st;
    TU_OK(ntk_ensemble_stats_compute(&s, 1, 0, &st));
    const double *v = s.q[NTK_ENS_K];
    size_t n = s.members;
    double m[2] = {0, 0}, C[2][2] = {{0, 0}, {0, 0}};
    for (size_t i = 0; i < n; i++) m[0] += v[i] / (double)n, m[1] += v[i] * v[i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d[2] = {v[i] - m[0], v[i] * v[i] - m[1]};
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) C[a][b] += d[a] * d[b] / (double)(n - 1);
    }
    double g[2];
    for (int a = 0; a < 2; a++) {
        double h = 1e-5 * m[a], p[2] = {m[0], m[1]}, q[2] = {m[0], m[1]};
        p[a] += h, q[a] -= h;
        g[a] = (log(p[1] / (p[0] * p[0])) - log(q[1] / (q[0] * q[0]))) / (2 * h);
    }
    double var = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) var += g[a] * C[a][b] * g[b];
    /* central differences of log: O(h^2) = 1e-10 relative, rounding 1e-16 / 1e-5 = 1e-11 */
    TU_ASSERT_LE(fabs(st.R_log_se - sqrt(var / (double)n)) / st.R_log_se, 1e-7,
                 "delta-method se of log R vs its numeric evaluation");
    ntk_ensemble_samples_clear(&s);
}

/* The delta-method se against the spread of log R over 300 independent ensemble cells (one hidden
 * layer of 32: a light tail, where the first-order error is small). */
static void test_delta_method_spread(void **state)
{
    (void)state;
    int w[1];
    ntk_spec s = make_spec(1, w, 32, 4);
    double x[4];
    TU_OK(ntk_ensemble_probes(2, 4, 1, -1, x, NULL));
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 400, o.x = x, o.no_updates = 1, o.seed = tu_seed(3);
    enum { C = 300 };
    double lr[C], se = 0, mean = 0, var = 0;
    ntk_ensemble_samples smp;
    TU_OK(ntk_ensemble_samples_alloc(&smp, o.members, s.depth));
    for (int c = 0; c < C; c++) {
        ntk_ensemble_stats st;
        TU_OK(ntk_ensemble_cell(&s, &o, (uint64_t)c, &smp, &st));
        lr[c] = log(st.R), se += st.R_log_se / C, mean += lr[c] / C;
    }
    for (int c = 0; c < C; c++) var += (lr[c] - mean) * (lr[c] - mean) / (C - 1);
    /* the sd of 300 values is known to 1/sqrt(2 * 299) = 4%; the delta method is first order in 1/M
     * (seeds 1-4 give ratios 0.96-1.05 here; a heavy tail, depth 3 width 8, gives 1.2-1.4, so the
     * cell is kept light): 15% is about 3.5 of those sds and well below a wrong factor (sqrt(2), 2) */
    TU_ASSERT_LE(fabs(sqrt(var) / se - 1), 0.15, "delta-method se vs the spread of log R over cells");
    ntk_ensemble_samples_clear(&smp);
}

static void test_fit_and_theory(void **state)
{
    (void)state;
    int depth[6] = {2, 4, 0, 6, 8, 3}, width[6] = {16, 16, 16, 32, 16, 8};
    double R[6] = {1.2, 1.5, 1.1, NAN, 2.8, 1.9}, lx[4], ly[4], slope, se, b, bse;
    size_t used, m = 0;
    for (int i = 0; i < 6; i++)
        if (depth[i] > 0 && isfinite(R[i])) lx[m] = (double)depth[i] / width[i], ly[m++] = log(R[i]);
    TU_OK(ntk_ensemble_fit(6, depth, width, R, &slope, &se, &used));
    TU_OK(ntk_ols(m, lx, ly, &b, NULL, &bse));
    assert_int_equal(used, 4);
    assert_true(slope == b && se == bse); /* the same points in the same order through ntk_ols */
    TU_OK(ntk_ensemble_fit(2, depth + 2, width + 2, R + 2, &slope, &se, &used)); /* one usable point */
    assert_true(used == 0 && isnan(slope) && isnan(se));

    int w[5];
    ntk_spec s = make_spec(5, w, 10, 3);
    ntk_ensemble_theory th;
    TU_OK(ntk_ensemble_theory_of(&s, 10, 0.5, &th));
    /* closed forms, rounding only */
    TU_ASSERT_LE(fabs(th.K_mean - (6 * 0.5 + 3.5)), 1e-14, "K theory d s + (d+1)/2");
    TU_ASSERT_LE(fabs(th.Kd_R - pow(1.5, 5)) / pow(1.5, 5), 1e-14, "Kd_R theory prod(1 + 5/n)");
    TU_ASSERT_LE(fabs(th.beta - 0.5) + fabs(th.exp5beta - exp(2.5)) / exp(2.5) + fabs(th.dK_scale - 3.6 * exp(2.5)) / 3.6 / exp(2.5),
                 1e-14, "beta, e^{5 beta}, (d^2/n) e^{5 beta}");
    s.bias = s.bias_out = NTK_BIAS_NONE;
    TU_OK(ntk_ensemble_theory_of(&s, 10, 0.5, &th));
    TU_ASSERT_LE(fabs(th.K_mean - 3), 1e-14, "K theory d s without biases");
    s.act = NTK_ACT_TANH;
    TU_OK(ntk_ensemble_theory_of(&s, 10, 0.5, &th));
    assert_true(isnan(th.K_mean) && isnan(th.Kd_R) && isfinite(th.dK_scale));
}

static void test_probes(void **state)
{
    (void)state;
    double x[7], xp[7], g[7];
    for (int a = 0; a <= 4; a++) {
        double ang = a * 45.0;
        TU_OK(ntk_ensemble_probes(5, 7, 2.5, ang, x, xp));
        TU_OK(ntk_data_gaussian(5, 1, 7, g));
        double nx = 0, np = 0, dot = 0;
        for (int i = 0; i < 7; i++) nx += x[i] * x[i], np += xp[i] * xp[i], dot += x[i] * xp[i];
        /* rounding of sums of 7 O(1) numbers */
        TU_ASSERT_LE(fabs(nx - 2.5 * 7) / 17.5, 1e-14, "||x||^2 = s n0");
        TU_ASSERT_LE(fabs(np - nx) / nx, 1e-13, "||x'|| = ||x||");
        TU_ASSERT_LE(fabs(dot / nx - cos(ang * 3.14159265358979323846 / 180)), 1e-13, "angle between x and x'");
        TU_ASSERT_LE(fabs(x[0] - sqrt(2.5) * g[0]), 1e-15 * fabs(g[0]) * 2, "x is data row 0 scaled");
        for (int i = 0; i < 7 && (a == 0 || a == 4); i++) assert_true(xp[i] == (a == 0 ? x[i] : -x[i]));
    }
    assert_int_equal(ntk_ensemble_probes(5, 1, 1, 45, x, xp), NTK_EINVAL); /* n0 = 1: only 0 or 180 */
    TU_OK(ntk_ensemble_probes(5, 1, 1, 180, x, xp));
    assert_true(xp[0] == -x[0]);
    assert_int_equal(ntk_ensemble_probes(5, 4, 0, -1, x, NULL), NTK_EINVAL);
    assert_int_equal(ntk_ensemble_probes(5, 4, 1, 200, x, xp), NTK_EINVAL);
    assert_int_equal(ntk_ensemble_probes(5, 4, 1, 30, x, NULL), NTK_EINVAL);
}

static void test_bad_options(void **state)
{
    (void)state;
    int w[2];
    ntk_spec s = make_spec(2, w, 8, 3);
    double x[3] = {1, 0, 1};
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 10, o.x = x;
    ntk_ensemble_samples smp;
    TU_OK(ntk_ensemble_samples_alloc(&smp, 10, 2));
    TU_OK(ntk_ensemble_cell(&s, &o, 0, &smp, NULL));
    ntk_ensemble_opts b = o;
    b.members = 0;
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    b = o, b.members = 11; /* samples for 10 */
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    b = o, b.x = NULL;
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    b = o, b.lr = 0;
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    b = o, b.threads = -1;
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    ntk_dist d = {2, 2, 0};
    b = o, b.dist = &d;
    assert_int_equal(ntk_ensemble_cell(&s, &b, 0, &smp, NULL), NTK_EINVAL);
    assert_int_equal(ntk_ensemble_cell(&s, &o, (uint64_t)1 << 32, &smp, NULL), NTK_EINVAL);
    assert_int_equal(ntk_ensemble_cell(&s, &o, 0, NULL, NULL), NTK_EINVAL);
    ntk_spec t = s;
    t.outputs = 2;
    assert_int_equal(ntk_ensemble_cell(&t, &o, 0, &smp, NULL), NTK_EINVAL);
    t = s, t.depth = 1; /* samples' layers for depth 2 */
    assert_int_equal(ntk_ensemble_cell(&t, &o, 0, &smp, NULL), NTK_EINVAL);
    t = s, t.sw2 = -1;
    assert_int_equal(ntk_ensemble_cell(&t, &o, 0, &smp, NULL), NTK_EINVAL);
    double *K = smp.q[NTK_ENS_K];
    smp.q[NTK_ENS_K] = NULL;
    assert_int_equal(ntk_ensemble_cell(&s, &o, 0, &smp, NULL), NTK_EINVAL);
    ntk_ensemble_stats st;
    assert_int_equal(ntk_ensemble_stats_compute(&smp, 0, 0, &st), NTK_EINVAL);
    smp.q[NTK_ENS_K] = K;
    ntk_ensemble_theory th;
    assert_int_equal(ntk_ensemble_theory_of(&s, 0, 1, &th), NTK_EINVAL);
    ntk_ensemble_samples_clear(&smp);
    assert_int_equal(ntk_ensemble_samples_alloc(&smp, 0, 2), NTK_EINVAL);
    assert_true(smp.q[NTK_ENS_K] == NULL && smp.layers == NULL);
    assert_true(ntk_ensemble_q_name(NTK_ENS_NQ) == NULL && strcmp(ntk_ensemble_q_name(NTK_ENS_DK_LITERAL), "dK_literal") == 0);
}

/* Outside mpirun ntk_dist is one rank: agree, bcast and sum are the identity. */
static void test_dist_single(void **state)
{
    (void)state;
    ntk_dist d;
    TU_OK(ntk_dist_start(&d));
    assert_int_equal(d.rank, 0);
    assert_int_equal(d.size, 1);
    assert_int_equal(ntk_dist_agree(&d, 3), 3);
    assert_int_equal(ntk_dist_agree(NULL, 2), 2);
    double v[3] = {1.5, -2, 0.25};
    char c[4] = "abc";
    TU_OK(ntk_dist_sum(&d, v, 3));
    TU_OK(ntk_dist_bcast(&d, c, 4));
    assert_true(v[0] == 1.5 && v[1] == -2 && v[2] == 0.25 && strcmp(c, "abc") == 0);
    TU_OK(ntk_dist_stop(&d));
    assert_int_equal(d.size, 1);
}

/* The grid: width fastest; lines of fixed beta round beta x width and clamp to [1, NTK_MAX_DEPTH]. */
static void test_grid(void **state)
{
    (void)state;
    int depths[2] = {1, 3}, widths[3] = {8, 16, 32}, d[6], w[6], dmax = -1;
    TU_OK(ntk_ensemble_grid(2, depths, 0, NULL, 3, widths, d, w, &dmax));
    const int wd[6] = {1, 1, 1, 3, 3, 3}, ww[6] = {8, 16, 32, 8, 16, 32};
    assert_memory_equal(d, wd, sizeof wd);
    assert_memory_equal(w, ww, sizeof ww);
    assert_int_equal(dmax, 3);
    double betas[3] = {0.1, 0.25, 1e-9};
    int bw[2] = {8, 20};
    TU_OK(ntk_ensemble_grid(2, depths, 3, betas, 2, bw, d, w, &dmax)); /* betas take over from the depths */
    const int bd[6] = {1, 2, 2, 5, 1, 1}; /* round(0.8), round(2), round(2), round(5), at least 1 twice */
    assert_memory_equal(d, bd, sizeof bd);
    assert_int_equal(dmax, 5);
    double huge[1] = {1e9};
    TU_OK(ntk_ensemble_grid(0, NULL, 1, huge, 1, bw, d, w, NULL));
    assert_int_equal(d[0], NTK_MAX_DEPTH);
    assert_int_equal(ntk_ensemble_grid(2, NULL, 0, NULL, 3, widths, d, w, NULL), NTK_EINVAL);
    assert_int_equal(ntk_ensemble_grid(2, depths, 0, NULL, 3, widths, NULL, w, NULL), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_are_lazy_draws), cmocka_unit_test(test_literal_vs_pathwise),
        cmocka_unit_test(test_full_sampler_mean),      cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_stats_direct),           cmocka_unit_test(test_delta_method_numeric),
        cmocka_unit_test(test_delta_method_spread),    cmocka_unit_test(test_fit_and_theory),
        cmocka_unit_test(test_probes),                 cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_dist_single),            cmocka_unit_test(test_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
