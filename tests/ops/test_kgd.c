/* test_kgd.c -- operator gradient descent (src/ops/kgd.c) against independent computations:
 *   - on the circulant path every Fourier plane decays exactly as the closed form
 *     |1 - eta mu_k|^t plane_k(0) (the modes are eigenvectors; 1e-10 relative: 2000 steps of rounding
 *     ~ 2000 eps per mode);
 *   - the dense path against a plain loop u <- u - eta A (u - y) written out here (1e-12: the same
 *     arithmetic in another order);
 *   - the dense and circulant paths on the same grid agree in u, the losses, the Fourier coefficients
 *     and planes, the eval predictions and |proj_eig| of non-degenerate modes (1e-10, the bound);
 *   - eval points equal to the training points predict u itself (1e-10);
 *   - bad input: a kernel that is not symmetric, one that is not PSD (its lambda_min in the message),
 *     K > n/2, unsorted snapshots; an observer's stop; divergence keeps the snapshots so far;
 *   - preconditioned: on the grid each plane k <= K decays as |1 - eta mu_k M_k|^t with M_k =
 *     1/(lambda_k^(n) + tau) (theory) or 1/(mu_k + tau + reg) (empirical), planes above K stay put
 *     (1e-10); dense and FFT paths agree (1e-10); on random points the dense path equals the step
 *     with P = Phi M G^{-1} Phi^T / n formed as an n x n matrix here, G inverted by Gauss-Jordan
 *     (1e-10: G's condition number is ~10, so the inverse costs a few digits at most);
 *   - float32: the dense path's eigenvalues within 1e-5 lambda_max of float64's (ssyevd's rounding is
 *     ~n eps32 lambda_max = 4e-6 here) and its function within 1e-3 relative (2000 steps of float32
 *     rounding, ~1e-7 each, pile up in the slow modes: ~2e-4). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { N = 64, KM = 10, TOPK = 6, SNAPS = 4, M = 24 };

static double theta_bias(double d, void *ctx)
{
    (void)ctx;
    return ntk_circle_theta(d, 1);
}

typedef struct {
    int count;
    long step[SNAPS];
    double loss[SNAPS], loss_eval[SNAPS], u[SNAPS][N], ue[SNAPS][M];
    double coef[SNAPS][2 * KM + 1], plane[SNAPS][KM + 1], ideal[SNAPS][KM + 1], proj[SNAPS][TOPK];
    double coef_e[SNAPS][2 * KM + 1];
    int stop_at; /* stop after this many snapshots (0: never) */
} record;

static ntk_status keep(void *user, const ntk_kgd_snapshot *s)
{
    record *r = user;
    int i = r->count++;
    if (i >= SNAPS) return NTK_OK;
    r->step[i] = s->step, r->loss[i] = s->loss, r->loss_eval[i] = s->loss_eval;
    memcpy(r->u[i], s->u, sizeof r->u[i]);
    if (s->u_eval) memcpy(r->ue[i], s->u_eval, sizeof r->ue[i]);
    if (s->coef_train) memcpy(r->coef[i], s->coef_train, sizeof r->coef[i]), memcpy(r->plane[i], s->plane_train, sizeof r->plane[i]);
    if (s->ideal_plane) memcpy(r->ideal[i], s->ideal_plane, sizeof r->ideal[i]);
    if (s->proj_eig) memcpy(r->proj[i], s->proj_eig, sizeof r->proj[i]);
    if (s->coef_eval) memcpy(r->coef_e[i], s->coef_eval, sizeof r->coef_e[i]);
    return r->stop_at && r->count >= r->stop_at ? NTK_EINVAL : NTK_OK;
}

typedef struct {
    double g[N], ge[M], row[N], A[N * N], Ae[M * N], y[N], ye[M], u0[N], u0e[M], mu[N];
    ntk_circulant *C;
} problem;

static double angle(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

static void setup_problem(problem *p, double g0)
{
    for (int j = 0; j < N; j++) p->g[j] = g0 + 2 * M_PI * j / N;
    for (int i = 0; i < M; i++) p->ge[i] = -3 + 0.25 * i; /* off the grid */
    TU_OK(ntk_circulant_row(N, theta_bias, NULL, p->row));
    TU_OK(ntk_circulant_create(N, p->row, &p->C));
    TU_OK(ntk_circulant_eigenvalues(p->C, p->mu));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) p->A[i * N + j] = theta_bias(angle(p->g[i], p->g[j]), NULL) / N;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) p->Ae[i * N + j] = theta_bias(angle(p->ge[i], p->g[j]), NULL) / N;
    for (int j = 0; j < N; j++) p->y[j] = sin(3 * p->g[j]) + 0.5 * cos(p->g[j]) + 0.2 * cos(7 * p->g[j]);
    for (int i = 0; i < M; i++) p->ye[i] = sin(3 * p->ge[i]) + 0.5 * cos(p->ge[i]) + 0.2 * cos(7 * p->ge[i]);
    for (int j = 0; j < N; j++) p->u0[j] = 0.1 * sin(0.7 * j * j); /* some init, not a trig polynomial */
    for (int i = 0; i < M; i++) p->u0e[i] = 0.1 * cos(1.3 * i);
}

static const long SNAP[SNAPS] = {0, 10, 500, 2000};

static ntk_kgd_opts base(const problem *p)
{
    ntk_kgd_opts o = ntk_kgd_opts_defaults();
    o.n = N, o.y = p->y, o.u0 = p->u0, o.steps = 2000, o.snap = SNAP, o.n_snap = SNAPS, o.kmax = KM, o.top_k = TOPK;
    o.eta_scale = 0.5;
    return o;
}

static ntk_kgd_opts circulant(const problem *p, double g0)
{
    ntk_kgd_opts o = base(p);
    o.C = p->C, o.g0 = g0, o.m = M, o.profile = theta_bias, o.gamma_eval = p->ge, o.y_eval = p->ye, o.u0_eval = p->u0e;
    return o;
}

static ntk_kgd_opts dense(const problem *p)
{
    ntk_kgd_opts o = base(p);
    o.A = p->A, o.gamma = p->g, o.m = M, o.A_eval = p->Ae, o.gamma_eval = p->ge, o.y_eval = p->ye, o.u0_eval = p->u0e;
    return o;
}

static void test_circulant_closed_form(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    ntk_kgd_opts o = circulant(p, 0.3);
    record *r = calloc(1, sizeof *r);
    ntk_kgd_result res = {0};
    TU_OK(ntk_kgd_run(&o, keep, r, &res));
    assert_int_equal(r->count, SNAPS);
    double lmax = 0;
    for (int m = 0; m < N; m++) lmax = fmax(lmax, p->mu[m]);
    TU_ASSERT_LE(fabs(res.lambda_max - lmax), 0, "lambda_max");
    TU_ASSERT_LE(fabs(res.eta - 0.5 / lmax), 1e-15 * res.eta, "eta = eta_scale / lambda_max");
    for (int s = 0; s < SNAPS; s++)
        for (int k = 0; k <= KM; k++) {
            double want = pow(fabs(1 - res.eta * p->mu[k]), (double)SNAP[s]) * r->plane[0][k];
            TU_ASSERT_LE(fabs(r->plane[s][k] - want), 1e-10 * r->plane[0][k] + 1e-300, "plane against (1 - eta mu)^t");
            TU_ASSERT_LE(fabs(r->ideal[s][k] - want), 1e-12 * r->plane[0][k] + 1e-300, "ideal_plane");
        }
    ntk_circulant_free(p->C);
    free(p), free(r);
}

static void test_dense_against_loop(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    ntk_kgd_opts o = dense(p);
    o.eta = 0.7, o.m = 0; /* absolute eta */
    record *r = calloc(1, sizeof *r);
    ntk_kgd_result res = {0};
    TU_OK(ntk_kgd_run(&o, keep, r, &res));
    assert_true(res.eta == 0.7);
    double u[N], g[N];
    memcpy(u, p->u0, sizeof u);
    for (long t = 0, s = 0; t <= 2000; t++) {
        if (t == SNAP[s]) TU_ASSERT_LE(tu_rel_max(N, r->u[s++], u), 1e-12, "dense path against a plain loop");
        for (int i = 0; i < N; i++) {
            g[i] = 0;
            for (int j = 0; j < N; j++) g[i] += p->A[i * N + j] * (u[j] - p->y[j]);
        }
        for (int i = 0; i < N; i++) u[i] -= 0.7 * g[i];
    }
    ntk_circulant_free(p->C);
    free(p), free(r);
}

static void test_dense_equals_circulant(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    record *rc = calloc(1, sizeof *rc), *rd = calloc(1, sizeof *rd);
    ntk_kgd_opts oc = circulant(p, 0.3), od = dense(p);
    double mu[KM + 1];
    for (int k = 0; k <= KM; k++) mu[k] = p->mu[k];
    od.mode_mu = mu;
    double eigc[N], eigd[N];
    ntk_kgd_result resc = {.eig = eigc}, resd = {.eig = eigd};
    TU_OK(ntk_kgd_run(&oc, keep, rc, &resc));
    TU_OK(ntk_kgd_run(&od, keep, rd, &resd));
    TU_ASSERT_LE(tu_rel_max(N, eigc, eigd), 1e-12, "eigenvalues, dense against circulant");
    TU_ASSERT_LE(fabs(resc.eta - resd.eta), 1e-12 * resd.eta, "eta");
    for (int s = 0; s < SNAPS; s++) {
        TU_ASSERT_LE(tu_rel_max(N, rc->u[s], rd->u[s]), 1e-10, "u");
        TU_ASSERT_LE(tu_rel_max(M, rc->ue[s], rd->ue[s]), 1e-10, "u_eval");
        TU_ASSERT_LE(fabs(rc->loss[s] - rd->loss[s]), 1e-10 * rd->loss[0], "loss");
        TU_ASSERT_LE(fabs(rc->loss_eval[s] - rd->loss_eval[s]), 1e-10 * rd->loss_eval[0], "eval loss");
        TU_ASSERT_LE(tu_rel_max(2 * KM + 1, rc->coef[s], rd->coef[s]), 1e-10, "Fourier coefficients");
        TU_ASSERT_LE(tu_rel_max(KM + 1, rc->plane[s], rd->plane[s]), 1e-10, "planes");
        TU_ASSERT_LE(tu_rel_max(KM + 1, rc->ideal[s], rd->ideal[s]), 1e-10, "ideal planes");
        TU_ASSERT_LE(tu_rel_max(2 * KM + 1, rc->coef_e[s], rd->coef_e[s]), 1e-10, "eval coefficients");
        /* the top eigenvector is frequency 0 (a simple eigenvalue): the same up to sign */
        TU_ASSERT_LE(fabs(fabs(rc->proj[s][0]) - fabs(rd->proj[s][0])), 1e-10 * fabs(rd->proj[0][0]), "proj_eig[0]");
        /* each pair (1, 2), (3, 4) spans one frequency: the same mass whatever the rotation inside it */
        for (int q = 1; q + 1 < TOPK; q += 2)
            TU_ASSERT_LE(fabs(hypot(rc->proj[s][q], rc->proj[s][q + 1]) - hypot(rd->proj[s][q], rd->proj[s][q + 1])),
                         1e-10 * fabs(rd->proj[0][0]), "proj_eig pair");
    }
    ntk_circulant_free(p->C);
    free(p), free(rc), free(rd);
}

static void test_eval_on_train_points(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.0);
    ntk_kgd_opts o = circulant(p, 0.0);
    o.m = N, o.gamma_eval = p->g, o.y_eval = p->y, o.u0_eval = p->u0;
    record *r = calloc(1, sizeof *r);
    /* the record holds M eval values: compare those */
    TU_OK(ntk_kgd_run(&o, keep, r, NULL));
    for (int s = 0; s < SNAPS; s++) TU_ASSERT_LE(tu_rel_max(M, r->ue[s], r->u[s]), 1e-10, "u_eval on the training points");
    ntk_circulant_free(p->C);
    free(p), free(r);
}

static void test_bad_input(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    ntk_kgd_opts o = dense(p);
    record r = {0};
    p->A[1] += 1e-3; /* not symmetric */
    assert_int_equal(ntk_kgd_run(&o, keep, &r, NULL), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "not symmetric"));
    p->A[1] -= 1e-3;
    p->A[0] -= 1.0, p->A[N + 1] -= 1.0; /* lambda_min < 0 */
    assert_int_equal(ntk_kgd_run(&o, keep, &r, NULL), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "lambda_min"));
    p->A[0] += 1.0, p->A[N + 1] += 1.0;
    o.kmax = N / 2 + 1;
    assert_int_equal(ntk_kgd_run(&o, keep, &r, NULL), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "greater than n/2"));
    o.kmax = KM;
    long bad[2] = {10, 5};
    o.snap = bad, o.n_snap = 2;
    assert_int_equal(ntk_kgd_run(&o, keep, &r, NULL), NTK_EINVAL);
    assert_int_equal(r.count, 0);
    o.snap = SNAP, o.n_snap = SNAPS;
    r.stop_at = 2; /* the observer's status stops the run */
    assert_int_equal(ntk_kgd_run(&o, keep, &r, NULL), NTK_EINVAL);
    assert_int_equal(r.count, 2);
    /* divergence: eta = 3 / lambda_max grows the top mode by 2x a step; the snapshots before stay */
    record *d = calloc(1, sizeof *d);
    ntk_kgd_opts oc = circulant(p, 0.3);
    oc.eta_scale = 3;
    assert_int_equal(ntk_kgd_run(&oc, keep, d, NULL), NTK_ENUMERIC);
    assert_int_equal(d->count, SNAPS);
    assert_true(isfinite(d->loss[1]) && !isfinite(d->loss[3]));
    assert_non_null(strstr(ntk_last_error(), "diverged"));
    ntk_circulant_free(p->C);
    free(p), free(d);
}

static void precond_grid(ntk_precond pc, double tau, double reg)
{
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    double lam[KM + 1];
    for (int k = 0; k <= KM; k++) lam[k] = ntk_circle_eigenvalue_closed(k, 1);
    ntk_kgd_opts oc = circulant(p, 0.3), od = dense(p);
    oc.precond = od.precond = pc, oc.tau = od.tau = tau, oc.reg = od.reg = reg;
    oc.lambda = od.lambda = lam, oc.theta0 = od.theta0 = theta_bias(0, NULL);
    oc.eta_scale = od.eta_scale = 0.5;
    record *rc = calloc(1, sizeof *rc), *rd = calloc(1, sizeof *rd);
    ntk_kgd_result resc = {0}, resd = {0};
    TU_OK(ntk_kgd_run(&oc, keep, rc, &resc));
    TU_OK(ntk_kgd_run(&od, keep, rd, &resd));
    double rho = 0, mult[KM + 1];
    for (int k = 0; k <= KM; k++) {
        double ln = (1 - 1.0 / N) * lam[k] + oc.theta0 / N;
        mult[k] = p->mu[k] / (pc == NTK_PRECOND_THEORY ? ln + tau : p->mu[k] + tau + reg);
        rho = fmax(rho, mult[k]);
    }
    TU_ASSERT_LE(fabs(resc.rho - rho), 1e-12 * rho, "rho of P A");
    TU_ASSERT_LE(fabs(resd.rho - rho), 1e-10 * rho, "rho of P A, dense");
    for (int s = 0; s < SNAPS; s++) {
        for (int k = 0; k <= KM; k++) {
            double want = pow(fabs(1 - resc.eta * mult[k]), (double)SNAP[s]) * rc->plane[0][k];
            TU_ASSERT_LE(fabs(rc->plane[s][k] - want), 1e-10 * rc->plane[0][k] + 1e-300, "preconditioned plane decay");
            TU_ASSERT_LE(fabs(rc->ideal[s][k] - want), 1e-10 * rc->plane[0][k] + 1e-300, "preconditioned ideal");
        }
        TU_ASSERT_LE(tu_rel_max(N, rc->u[s], rd->u[s]), 1e-10, "preconditioned u, dense against FFT");
        TU_ASSERT_LE(tu_rel_max(M, rc->ue[s], rd->ue[s]), 1e-10, "preconditioned u_eval, dense against FFT");
    }
    ntk_circulant_free(p->C);
    free(p), free(rc), free(rd);
}

static void test_precond_theory_grid(void **state)
{
    (void)state;
    precond_grid(NTK_PRECOND_THEORY, 1e-3, 0);
}

static void test_precond_empirical_grid(void **state)
{
    (void)state;
    precond_grid(NTK_PRECOND_EMPIRICAL, 1e-3, 1e-2);
}

/* inv := A^{-1} for A: [w x w], Gauss-Jordan with partial pivoting (A destroyed). */
static void gauss_jordan(int w, double *A, double *inv)
{
    for (int i = 0; i < w * w; i++) inv[i] = (i % (w + 1)) == 0;
    for (int c = 0; c < w; c++) {
        int piv = c;
        for (int r = c + 1; r < w; r++)
            if (fabs(A[r * w + c]) > fabs(A[piv * w + c])) piv = r;
        for (int j = 0; j < w; j++) {
            double t = A[c * w + j];
            A[c * w + j] = A[piv * w + j], A[piv * w + j] = t;
            t = inv[c * w + j], inv[c * w + j] = inv[piv * w + j], inv[piv * w + j] = t;
        }
        double d = A[c * w + c];
        for (int j = 0; j < w; j++) A[c * w + j] /= d, inv[c * w + j] /= d;
        for (int r = 0; r < w; r++) {
            if (r == c) continue;
            double f = A[r * w + c];
            for (int j = 0; j < w; j++) A[r * w + j] -= f * A[c * w + j], inv[r * w + j] -= f * inv[c * w + j];
        }
    }
}

/* The function at the last snapshot, into user: [40]. */
static ntk_status last_u(void *user, const ntk_kgd_snapshot *s)
{
    memcpy(user, s->u, 40 * sizeof *s->u);
    return NTK_OK;
}

static void test_precond_dense_random(void **state)
{
    (void)state;
    enum { n = 40, K = 4, w = 2 * K + 1, T = 300 };
    double g[n], X[2 * n], y[n], lam[K + 1], Phi[n * w], G[w * w], Gi[w * w], Qm[w * w];
    double *A = malloc(n * n * sizeof *A), *P = malloc(n * n * sizeof *P), *B = malloc(n * n * sizeof *B);
    TU_OK(ntk_data_circle_uniform(11, 0, n, NTK_ANGLES_SYM, g, X));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) A[i * n + j] = theta_bias(angle(g[i], g[j]), NULL) / n;
    for (int i = 0; i < n; i++) y[i] = sin(2 * g[i]) + 0.3 * cos(g[i]);
    for (int k = 0; k <= K; k++) lam[k] = ntk_circle_eigenvalue_closed(k, 1);
    const double tau = 1e-2, th0 = theta_bias(0, NULL);
    TU_OK(ntk_fourier_matrix(n, g, K, Phi));
    for (int p = 0; p < w; p++)
        for (int q = 0; q < w; q++) {
            G[p * w + q] = 0;
            for (int i = 0; i < n; i++) G[p * w + q] += Phi[i * w + p] * Phi[i * w + q] / n;
        }
    gauss_jordan(w, G, Gi);
    for (int p = 0; p < w; p++) /* Q = M G^{-1}, M diagonal */
        for (int q = 0; q < w; q++) Qm[p * w + q] = Gi[p * w + q] / ((1 - 1.0 / n) * lam[(p + 1) / 2] + th0 / n + tau);
    for (int i = 0; i < n; i++) /* P = Phi Q Phi^T / n, B = P A */
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < w; p++)
                for (int q = 0; q < w; q++) s += Phi[i * w + p] * Qm[p * w + q] * Phi[j * w + q];
            P[i * n + j] = s / n;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < n; l++) s += P[i * n + l] * A[l * n + j];
            B[i * n + j] = s;
        }
    ntk_kgd_opts o = ntk_kgd_opts_defaults();
    long snap[2] = {0, T};
    o.n = n, o.A = A, o.gamma = g, o.y = y, o.steps = T, o.snap = snap, o.n_snap = 2, o.kmax = K, o.top_k = 0;
    o.precond = NTK_PRECOND_THEORY, o.tau = tau, o.lambda = lam, o.theta0 = th0, o.eta = 0.4;
    double last[n];
    TU_OK(ntk_kgd_run(&o, last_u, last, NULL));
    double u[n] = {0}, r[n];
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < n; i++) r[i] = u[i] - y[i];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) s += B[i * n + j] * r[j];
            u[i] -= 0.4 * s;
        }
    }
    TU_ASSERT_LE(tu_rel_max(n, last, u), 1e-10, "preconditioned dense path against P A formed here");
    free(A), free(P), free(B);
}

static void test_float32(void **state)
{
    (void)state;
    problem *p = malloc(sizeof *p);
    setup_problem(p, 0.3);
    ntk_kgd_opts o64 = dense(p), o32 = dense(p);
    o32.dtype = NTK_F32;
    record *r64 = calloc(1, sizeof *r64), *r32 = calloc(1, sizeof *r32);
    double e64[N], e32[N], f64[N], b64[N];
    ntk_kgd_result res64 = {.eig = e64, .eig_f64 = b64}, res32 = {.eig = e32, .eig_f64 = f64};
    TU_OK(ntk_kgd_run(&o64, keep, r64, &res64));
    TU_OK(ntk_kgd_run(&o32, keep, r32, &res32));
    for (int i = 0; i < N; i++) TU_ASSERT_LE(fabs(e32[i] - e64[i]), 1e-5 * e64[0], "float32 eigenvalues");
    /* the float64 eigenvalues beside a float32 run are the float64 run's: values-only dsyevd against the
       one with vectors, both backward stable, so equal to ~n eps64 lambda_max (1e-12: a float32 value would
       miss by 1e-7); the report is recomputed here from the two arrays */
    for (int i = 0; i < N; i++) TU_ASSERT_LE(fabs(f64[i] - e64[i]), 1e-12 * e64[0], "float64 beside float32");
    assert_memory_equal(b64, e64, sizeof b64);
    assert_true(res64.f32_abs == 0 && res64.f32_rel1 == -1);
    double amax = 0;
    long first = -1;
    for (int i = 0; i < N; i++) {
        amax = fmax(amax, fabs(e32[i] - f64[i]) / f64[0]);
        if (first < 0 && fabs(e32[i] - f64[i]) > 1e-2 * fabs(f64[i])) first = i;
    }
    assert_true(res32.f32_abs == amax && amax > 0);
    assert_int_equal(res32.f32_rel1, first);
    for (int s = 0; s < SNAPS; s++) {
        TU_ASSERT_LE(tu_rel_max(N, r32->u[s], r64->u[s]), 1e-3, "float32 function");
        TU_ASSERT_LE(tu_rel_max(M, r32->ue[s], r64->ue[s]), 1e-3, "float32 eval function");
    }
    assert_true(memcmp(r32->u[3], r64->u[3], sizeof r32->u[3]) != 0); /* it did run in float32 */
    TU_ASSERT_LE(fabs(fabs(r32->proj[3][0]) - fabs(r64->proj[3][0])), 1e-3 * fabs(r64->proj[0][0]), "float32 proj_eig");
    ntk_kgd_opts oc = circulant(p, 0.3);
    oc.dtype = NTK_F32;
    assert_int_equal(ntk_kgd_run(&oc, keep, r32, NULL), NTK_EINVAL);
    ntk_circulant_free(p->C);
    free(p), free(r64), free(r32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_circulant_closed_form),
        cmocka_unit_test(test_dense_against_loop),
        cmocka_unit_test(test_dense_equals_circulant),
        cmocka_unit_test(test_eval_on_train_points),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_precond_theory_grid),
        cmocka_unit_test(test_precond_empirical_grid),
        cmocka_unit_test(test_precond_dense_random),
        cmocka_unit_test(test_float32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
