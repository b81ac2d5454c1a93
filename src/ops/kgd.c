/* kgd.c -- operator gradient descent with a fixed kernel (docs/modes.md):
 *     u_{t+1} = u_t - eta A (u_t - y),  a_{t+1} = a_t - eta (u_t - y),  u_eval,t = u_eval,0 + A_eval a_t,
 * so that u_t = u_0 + A a_t.  The dense path steps with a symmetric matrix-vector product; the
 * circulant path steps in the Fourier domain, where A is diagonal (mu_m), and returns to the grid
 * only at snapshots.  Each snapshot gets the residual's Fourier coefficients and plane masses, its
 * coefficients on the top eigenvectors of A, and the ideal decay |1 - eta mu_k|^t of each plane. */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "la.h"
#include "ops.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_kgd_opts ntk_kgd_opts_defaults(void)
{
    return (ntk_kgd_opts){.eta_scale = 0.05, .steps = 100, .kmax = 8, .top_k = 8, .tau = 1e-3};
}

static const char *const PRECOND[] = {"none", "theory", "empirical"};

const char *ntk_precond_name(ntk_precond p) { return (unsigned)p < 3 ? PRECOND[p] : "?"; }

ntk_status ntk_precond_parse(const char *s, ntk_precond *out)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, PRECOND[i]) == 0) return *out = (ntk_precond)i, NTK_OK;
    return ntk_set_error(NTK_EINVAL, "unknown preconditioner '%s' (expected none|theory|empirical)", s ? s : "(null)");
}

/* An eigenvector of the circulant operator: frequency m, cos (0) or sin (1), eigenvalue mu. */
typedef struct {
    double mu;
    size_t m;
    int sin_part;
} cmode;

static int cmode_desc(const void *a, const void *b)
{
    const cmode *x = a, *y = b;
    if (x->mu != y->mu) return x->mu > y->mu ? -1 : 1;
    if (x->m != y->m) return x->m < y->m ? -1 : 1;
    return x->sin_part - y->sin_part;
}

typedef struct {
    const ntk_kgd_opts *o;
    size_t n, m, nk;          /* points, eval points, 2K+1 */
    double eta;
    double *u, *r, *a, *ue;   /* [n] function, residual, accumulated step; [m] eval function */
    double *coef, *plane, *coef_e, *plane_e, *ideal, *plane0, *proj; /* per snapshot */
    double *mode_mu;          /* [K+1] mu per frequency for the ideal decay, or NULL */
    int have_plane0;
    /* dense */
    double *w, *V;            /* [n] eigenvalues descending, [n x n] eigenvectors (columns) */
    float *Af, *Vf, *uf, *rf, *af, *yf; /* float32: [n x n] A, [n x n] eigenvectors (column-major:
                                            vector j at Vf + j n, ascending), [n] u, r, a, y */
    /* circulant */
    const double *mu;         /* [n/2 + 1] */
    cmode *modes;             /* [n] eigenvectors by descending mu */
    fftw_complex *U, *Y, *Aa; /* [n/2 + 1] spectra of u, y and a */
    double *buf;              /* [n] fftw_malloc'ed scratch for c2r */
    /* preconditioned (both paths step on the grid's values) */
    double *Phi, *Phie;       /* [n x w], [m x w] the Fourier basis at the training and eval angles */
    double *Q;                /* [w x w] M G^{-1} */
    double *b, *x, *z, *cv;   /* [w] eval coefficients; [n] A r; [w] Phi^T A r / n; [w] Q z */
    double rho;               /* the largest eigenvalue of the step's operator */
} kgd;

static ntk_status check(const ntk_kgd_opts *o)
{
    if (!o->y) return ntk_set_error(NTK_EINVAL, "kgd: the targets y must not be NULL");
    if (!o->A && !o->C) return ntk_set_error(NTK_EINVAL, "kgd: give a dense operator A or a circulant C");
    size_t n = o->A ? o->n : ntk_circulant_size(o->C);
    if (o->A && n == 0) return ntk_set_error(NTK_EINVAL, "kgd: n must be >= 1");
    if (!o->A && o->n != 0 && o->n != n)
        return ntk_set_error(NTK_EINVAL, "kgd: n = %zu but the circulant operator has %zu points", o->n, n);
    if (o->steps < 0) return ntk_set_error(NTK_EINVAL, "kgd: steps must be >= 0, got %ld", o->steps);
    if (!(o->eta > 0) && !(o->eta_scale > 0))
        return ntk_set_error(NTK_EINVAL, "kgd: give eta > 0 or eta_scale > 0 (got %g and %g)", o->eta, o->eta_scale);
    if (!isfinite(o->eta) || !isfinite(o->eta_scale)) return ntk_set_error(NTK_EINVAL, "kgd: eta must be finite");
    if (o->kmax < 0 || 2 * (size_t)o->kmax > n)
        return ntk_set_error(NTK_EINVAL, "kgd: kmax K = %d is greater than n/2 = %zu", o->kmax, n / 2);
    if (o->top_k < 0 || (size_t)o->top_k > n)
        return ntk_set_error(NTK_EINVAL, "kgd: top_k = %d must be in [0, n = %zu]", o->top_k, n);
    if (o->threads < 0) return ntk_set_error(NTK_EINVAL, "kgd: threads must be >= 0, got %d", o->threads);
    if (o->m > 0 && o->A && !o->A_eval) return ntk_set_error(NTK_EINVAL, "kgd: m > 0 eval points need A_eval [m x n]");
    if (o->m > 0 && !o->A && (!o->profile || !o->gamma_eval))
        return ntk_set_error(NTK_EINVAL, "kgd: eval points on the circulant path need the kernel profile and gamma_eval");
    if (o->dtype != NTK_F64 && o->dtype != NTK_F32) return ntk_set_error(NTK_EINVAL, "kgd: dtype must be f64 or f32");
    if (o->dtype == NTK_F32 && (!o->A || o->precond))
        return ntk_set_error(NTK_EINVAL, "kgd: float32 is for the dense path without a preconditioner (the FFT path is float64)");
    if ((unsigned)o->precond > NTK_PRECOND_EMPIRICAL) return ntk_set_error(NTK_EINVAL, "kgd: unknown preconditioner %d", (int)o->precond);
    if (o->precond && o->A && !o->gamma) return ntk_set_error(NTK_EINVAL, "kgd: a preconditioner on the dense path needs gamma");
    if (o->precond && o->m > 0 && !o->gamma_eval)
        return ntk_set_error(NTK_EINVAL, "kgd: a preconditioner with eval points needs gamma_eval");
    if (o->precond == NTK_PRECOND_THEORY && !o->lambda)
        return ntk_set_error(NTK_EINVAL, "kgd: the theory preconditioner needs the continuum eigenvalues lambda [K+1]");
    if (o->precond && (!(o->tau >= 0) || !(o->reg >= 0)))
        return ntk_set_error(NTK_EINVAL, "kgd: tau and reg must be >= 0 (got %g, %g)", o->tau, o->reg);
    for (size_t i = 0; o->snap && i < o->n_snap; i++)
        if (o->snap[i] < 0 || o->snap[i] > o->steps || (i && o->snap[i] <= o->snap[i - 1]))
            return ntk_set_error(NTK_EINVAL, "kgd: snapshot steps must ascend strictly within [0, %ld] (entry %zu: %ld)",
                                 o->steps, i, o->snap[i]);
    return NTK_OK;
}

/* Dense A: symmetric and positive semi-definite (to rounding), its eigendecomposition. */
static ntk_status dense_setup(kgd *g)
{
    const ntk_kgd_opts *o = g->o;
    size_t n = g->n;
    double amax = 0;
    for (size_t i = 0; i < n * n; i++) {
        if (!isfinite(o->A[i])) return ntk_set_error(NTK_EINVAL, "kgd: the kernel has a non-finite entry (%zu, %zu)", i / n, i % n);
        amax = fmax(amax, fabs(o->A[i]));
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (fabs(o->A[i * n + j] - o->A[j * n + i]) > 1e-12 * amax) /* rounding of a symmetric product is ~1e-16 n */
                return ntk_set_error(NTK_EINVAL, "kgd: the kernel is not symmetric: K[%zu][%zu] = %.17g, K[%zu][%zu] = %.17g",
                                     i, j, o->A[i * n + j] * (double)n, j, i, o->A[j * n + i] * (double)n);
    g->w = malloc(n * sizeof *g->w);
    ntk_status st = NTK_OK;
    if (o->dtype == NTK_F32) {
        float *wf = malloc(n * sizeof *wf);
        g->Af = malloc(n * n * sizeof *g->Af), g->Vf = malloc(n * n * sizeof *g->Vf);
        g->uf = malloc(4 * n * sizeof *g->uf);
        if (!g->w || !wf || !g->Af || !g->Vf || !g->uf) {
            free(wf);
            return ntk_set_error(NTK_ENOMEM, "kgd: no memory for the float32 operator (n %zu)", n);
        }
        g->rf = g->uf + n, g->af = g->rf + n, g->yf = g->af + n;
        for (size_t i = 0; i < n * n; i++) g->Af[i] = (float)o->A[i];
        memcpy(g->Vf, g->Af, n * n * sizeof *g->Vf); /* symmetric: row- and column-major alike */
        lapack_int info = LAPACKE_ssyevd(LAPACK_COL_MAJOR, o->top_k ? 'V' : 'N', 'L', (lapack_int)n, g->Vf, (lapack_int)n, wf);
        for (size_t i = 0; i < n; i++) g->w[i] = wf[n - 1 - i];
        free(wf);
        if (info != 0) return ntk_set_error(NTK_ENUMERIC, "kgd: ssyevd failed (info %d)", (int)info);
    } else {
        g->V = o->top_k ? malloc(n * n * sizeof *g->V) : NULL;
        if (!g->w || (o->top_k && !g->V)) return ntk_set_error(NTK_ENOMEM, "kgd: no memory for the eigenvectors (n %zu)", n);
        if ((st = ntk_eigh(n, o->A, g->w, g->V)) != NTK_OK) return st;
    }
    /* PSD to rounding: eigenvalues are accurate to ~1e-16 n lambda_max */
    /* float32 eigenvalues carry ~n eps32 lambda_max of rounding (eps32 = 6e-8): a looser floor */
    if (g->w[n - 1] < -(o->dtype == NTK_F32 ? 1e-4 : 1e-9) * fmax(fabs(g->w[0]), 1e-300))
        return ntk_set_error(NTK_EINVAL, "kgd: the kernel is not positive semi-definite: lambda_min(K) = %.6g (lambda_max %.6g)",
                             g->w[n - 1] * (double)n, g->w[0] * (double)n);
    if (o->mode_mu) g->mode_mu = (double *)o->mode_mu;
    return NTK_OK;
}

static ntk_status circ_setup(kgd *g)
{
    size_t n = g->n, nc = n / 2 + 1;
    g->mu = ops_circulant_mu(g->o->C);
    g->modes = malloc(n * sizeof *g->modes);
    g->buf = fftw_malloc(n * sizeof *g->buf);
    g->Aa = fftw_malloc(nc * sizeof *g->Aa);
    double *z = g->u; /* u0 (or zero) already in g->u */
    g->U = g->buf ? ops_circulant_forward(g->o->C, z) : NULL;
    g->Y = g->U ? ops_circulant_forward(g->o->C, g->o->y) : NULL;
    if (!g->modes || !g->buf || !g->Aa || !g->U || !g->Y) return ntk_set_error(NTK_ENOMEM, "kgd: no memory (n %zu)", n);
    memset(g->Aa, 0, nc * sizeof *g->Aa);
    size_t q = 0;
    for (size_t m = 0; m < nc; m++) {
        g->modes[q++] = (cmode){g->mu[m], m, 0};
        if (m > 0 && 2 * m < n) g->modes[q++] = (cmode){g->mu[m], m, 1};
    }
    qsort(g->modes, q, sizeof *g->modes, cmode_desc);
    if (g->modes[q - 1].mu < -1e-9 * fmax(fabs(g->modes[0].mu), 1e-300)) /* FFT rounding ~1e-16 log n lambda_max */
        return ntk_set_error(NTK_EINVAL, "kgd: the kernel is not positive semi-definite: lambda_min(K) = %.6g (lambda_max %.6g)",
                             g->modes[q - 1].mu * (double)n, g->modes[0].mu * (double)n);
    g->mode_mu = malloc(((size_t)g->o->kmax + 1) * sizeof *g->mode_mu);
    if (!g->mode_mu) return ntk_set_error(NTK_ENOMEM, "kgd: no memory");
    for (int k = 0; k <= g->o->kmax; k++) g->mode_mu[k] = g->mu[k];
    return NTK_OK;
}

/* X := A^{-1} B for A, B: [w x w] (A copied; B overwritten by the solution), LU with pivoting. */
static ntk_status solve(size_t w, const double *A, double *B, const char *what)
{
    double *L = malloc(w * w * sizeof *L);
    lapack_int *piv = malloc(w * sizeof *piv);
    lapack_int info = -1;
    if (L && piv) {
        memcpy(L, A, w * w * sizeof *L);
        info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, (lapack_int)w, (lapack_int)w, L, (lapack_int)w, piv, B, (lapack_int)w);
    }
    free(L), free(piv);
    if (info < 0) return ntk_set_error(NTK_ENOMEM, "kgd: no memory for the preconditioner");
    if (info > 0) return ntk_set_error(NTK_ENUMERIC, "kgd: %s is singular (raise tau or reg, or lower kmax)", what);
    return NTK_OK;
}

/* P = Phi M G^{-1} Phi^T / n: Q = M G^{-1}, the step's largest eigenvalue rho (that of Q H) and, on
 * the grid, P A's eigenvalue per frequency for the ideal decay. */
static ntk_status precond_setup(kgd *g)
{
    const ntk_kgd_opts *o = g->o;
    size_t n = g->n, w = 2 * (size_t)o->kmax + 1, K1 = (size_t)o->kmax + 1;
    double *gam = NULL, *G = malloc(w * w * sizeof *G), *H = malloc(w * w * sizeof *H), *T = malloc(w * w * sizeof *T);
    double *zero = calloc(K1, sizeof *zero), *wr = malloc(2 * w * sizeof *wr);
    g->Phi = malloc(n * w * sizeof *g->Phi), g->Q = malloc(w * w * sizeof *g->Q), g->x = malloc(n * sizeof *g->x);
    g->b = calloc(3 * w, sizeof *g->b), g->Phie = g->m ? malloc(g->m * w * sizeof *g->Phie) : NULL;
    if (!o->A) gam = malloc(n * sizeof *gam);
    ntk_status st = G && H && T && zero && wr && g->Phi && g->Q && g->x && g->b && (!g->m || g->Phie) && (o->A || gam)
                        ? NTK_OK : ntk_set_error(NTK_ENOMEM, "kgd: no memory for the preconditioner (n %zu, K %d)", n, o->kmax);
    if (st != NTK_OK) goto done;
    g->z = g->b + w, g->cv = g->z + w;
    for (size_t j = 0; gam && j < n; j++) gam[j] = o->g0 + 2 * M_PI * (double)j / (double)n;
    ntk_fourier_matrix(n, o->A ? o->gamma : gam, o->kmax, g->Phi);
    if (g->m) ntk_fourier_matrix(g->m, o->gamma_eval, o->kmax, g->Phie);
    ntk_lemma_opts lo = {.n = n, .A = o->A, .C = o->A ? NULL : o->C, .gamma = o->gamma, .g0 = o->g0, .K = o->kmax,
                         .lambda = o->lambda ? o->lambda : zero, .theta0 = o->theta0};
    ntk_lemma_norms nm;
    if ((st = ntk_lemma_objects(&lo, &nm, NULL, G, H)) != NTK_OK) goto done;
    /* M into T */
    memset(T, 0, w * w * sizeof *T);
    if (o->precond == NTK_PRECOND_THEORY) {
        for (size_t p = 0; p < w; p++) {
            double ln = (1 - 1 / (double)n) * o->lambda[(p + 1) / 2] + o->theta0 / (double)n;
            if (!(ln + o->tau > 0)) {
                st = ntk_set_error(NTK_EINVAL, "kgd: lambda_%zu^(n) + tau = %g is not positive", (p + 1) / 2, ln + o->tau);
                goto done;
            }
            T[p * w + p] = 1 / (ln + o->tau);
        }
    } else { /* (G^{-1} H + (tau + reg) I)^{-1} */
        memcpy(g->Q, H, w * w * sizeof *g->Q);
        if ((st = solve(w, G, g->Q, "G = Phi^T Phi / n")) != NTK_OK) goto done;
        for (size_t p = 0; p < w; p++) g->Q[p * w + p] += o->tau + o->reg, T[p * w + p] = 1;
        if ((st = solve(w, g->Q, T, "G^{-1} H + (tau + reg) I")) != NTK_OK) goto done;
    }
    /* Q = M G^{-1} = (G^{-T} M^T)^T: solve G^T X = M^T, G symmetric */
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < w; q++) g->Q[q * w + p] = T[p * w + q];
    if ((st = solve(w, G, g->Q, "G = Phi^T Phi / n")) != NTK_OK) goto done;
    for (size_t p = 0; p < w; p++)
        for (size_t q = 0; q < p; q++) {
            double t = g->Q[p * w + q];
            g->Q[p * w + q] = g->Q[q * w + p], g->Q[q * w + p] = t;
        }
    la_gemm(NTK_F64, false, false, w, w, w, 1.0, g->Q, w, H, w, 0.0, T, w); /* T = Q H */
    if (!o->A) { /* on the grid Q H is diagonal: P A's eigenvalue of frequency k */
        g->mode_mu = malloc(K1 * sizeof *g->mode_mu);
        if (!g->mode_mu) {
            st = ntk_set_error(NTK_ENOMEM, "kgd: no memory");
            goto done;
        }
        for (size_t k = 0; k < K1; k++) g->mode_mu[k] = T[(k ? 2 * k - 1 : 0) * (w + 1)];
    }
    if (LAPACKE_dgeev(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)w, T, (lapack_int)w, wr, wr + w, NULL, 1, NULL, 1) != 0) {
        st = ntk_set_error(NTK_ENUMERIC, "kgd: the eigenvalues of the preconditioned operator did not converge");
        goto done;
    }
    g->rho = 0;
    for (size_t p = 0; p < w; p++) g->rho = fmax(g->rho, hypot(wr[p], wr[w + p]));
done:
    free(gam), free(G), free(H), free(T), free(zero), free(wr);
    return st;
}

/* The angle between two points of the circle, in [0, pi]. */
static double angle_between(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

/* Bring the state to the grid: u, r = u - y, a, and u_eval. */
static ntk_status sync_state(kgd *g)
{
    const ntk_kgd_opts *o = g->o;
    size_t n = g->n;
    for (size_t i = 0; g->uf && i < n; i++) g->u[i] = g->uf[i], g->r[i] = g->rf[i], g->a[i] = g->af[i];
    if (!o->A && !o->precond) {
        size_t nc = n / 2 + 1;
        fftw_complex *T = fftw_malloc(nc * sizeof *T); /* c2r overwrites its input */
        if (!T) return ntk_set_error(NTK_ENOMEM, "kgd: no memory (n %zu)", n);
        memcpy(T, g->U, nc * sizeof *T);
        fftw_execute_dft_c2r(ops_circulant_bwd(o->C), T, g->buf);
        for (size_t i = 0; i < n; i++) g->u[i] = g->buf[i] / (double)n;
        memcpy(T, g->Aa, nc * sizeof *T);
        fftw_execute_dft_c2r(ops_circulant_bwd(o->C), T, g->buf);
        for (size_t i = 0; i < n; i++) g->a[i] = g->buf[i] / (double)n;
        fftw_free(T);
        for (size_t i = 0; i < n; i++) g->r[i] = g->u[i] - o->y[i];
    }
    if (g->m == 0) return NTK_OK;
    for (size_t i = 0; i < g->m; i++) g->ue[i] = o->u0_eval ? o->u0_eval[i] : 0;
    if (o->precond) { /* u_eval = u_eval,0 + Phi_eval b */
        size_t w = 2 * (size_t)o->kmax + 1;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)g->m, (int)w, 1.0, g->Phie, (int)w, g->b, 1, 1.0, g->ue, 1);
        return NTK_OK;
    }
    if (o->A) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)g->m, (int)n, 1.0, o->A_eval, (int)n, g->a, 1, 1.0, g->ue, 1);
        return NTK_OK;
    }
    for (size_t i = 0; i < g->m; i++) { /* (1/n) sum_j Theta(angle(g_e,i, g_j)) a_j */
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += o->profile(angle_between(o->gamma_eval[i], o->g0 + 2 * M_PI * (double)j / (double)n), o->profile_ctx) *
                 g->a[j];
        g->ue[i] += s / (double)n;
    }
    return NTK_OK;
}

static ntk_status snapshot(kgd *g, long step, ntk_kgd_observer obs, void *user)
{
    const ntk_kgd_opts *o = g->o;
    size_t n = g->n;
    int K = o->kmax;
    ntk_status st = sync_state(g);
    if (st != NTK_OK) return st;
    ntk_kgd_snapshot s = {.step = step, .t = g->eta * (double)step, .u = g->u, .u_eval = g->m ? g->ue : NULL,
                          .loss_eval = NAN};
    double l = 0;
    for (size_t i = 0; i < n; i++) l += g->r[i] * g->r[i];
    s.loss = l / (2 * (double)n);
    if (g->m && o->y_eval) {
        l = 0;
        for (size_t i = 0; i < g->m; i++) l += (g->ue[i] - o->y_eval[i]) * (g->ue[i] - o->y_eval[i]);
        s.loss_eval = l / (2 * (double)g->m);
    }
    fftw_complex *R = NULL;
    if (!o->A) { /* the residual's spectrum, straight from the Fourier-domain state */
        R = o->precond ? ops_circulant_forward(o->C, g->r) : fftw_malloc((n / 2 + 1) * sizeof *R);
        if (!R) return ntk_set_error(NTK_ENOMEM, "kgd: no memory (n %zu)", n);
        for (size_t q = 0; !o->precond && q <= n / 2; q++)
            R[q][0] = g->U[q][0] - g->Y[q][0], R[q][1] = g->U[q][1] - g->Y[q][1];
        ops_circulant_project_spectrum(n, (const fftw_complex *)R, o->g0, K, g->coef);
        for (int i = 0; i < o->top_k; i++)
            g->proj[i] = ops_circulant_mode_coef(n, (const fftw_complex *)R, o->g0, g->modes[i].m, g->modes[i].sin_part);
        fftw_free(R);
    } else {
        if (o->gamma && (st = ntk_fourier_project(n, o->gamma, K, g->r, g->coef, NULL)) != NTK_OK) return st;
        if (o->top_k && g->V)
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, o->top_k, 1.0, g->V, (int)n, g->r, 1, 0.0, g->proj, 1);
        for (int i = 0; g->Vf && i < o->top_k; i++) { /* float32 eigenvector n-1-i, in float64 sums */
            const float *v = g->Vf + (n - 1 - (size_t)i) * n;
            double sum = 0;
            for (size_t j = 0; j < n; j++) sum += (double)v[j] * g->r[j];
            g->proj[i] = sum;
        }
    }
    int have_coef = !o->A || o->gamma;
    if (have_coef) {
        ntk_fourier_planes(K, g->coef, g->plane);
        s.coef_train = g->coef, s.plane_train = g->plane;
        if (!g->have_plane0) memcpy(g->plane0, g->plane, ((size_t)K + 1) * sizeof *g->plane0), g->have_plane0 = 1;
        if (g->mode_mu) {
            for (int k = 0; k <= K; k++)
                g->ideal[k] = pow(fabs(1 - g->eta * g->mode_mu[k]), (double)step) * g->plane0[k];
            s.ideal_plane = g->ideal;
        }
    }
    if (g->m && o->y_eval && o->gamma_eval) {
        double *re = malloc(g->m * sizeof *re);
        if (!re) return ntk_set_error(NTK_ENOMEM, "kgd: no memory (m %zu)", g->m);
        for (size_t i = 0; i < g->m; i++) re[i] = g->ue[i] - o->y_eval[i];
        st = ntk_fourier_project(g->m, o->gamma_eval, K, re, g->coef_e, g->plane_e);
        free(re);
        if (st != NTK_OK) return st;
        s.coef_eval = g->coef_e, s.plane_eval = g->plane_e;
    }
    s.proj_eig = o->top_k ? g->proj : NULL;
    st = obs ? obs(user, &s) : NTK_OK;
    if (st == NTK_OK && !isfinite(s.loss)) /* the snapshot went out first: the data so far is the caller's */
        st = ntk_set_error(NTK_ENUMERIC, "kgd: diverged by step %ld (eta %g; stable below 2 / lambda_max)", step, g->eta);
    return st;
}

static void release(kgd *g)
{
    free(g->u), free(g->r), free(g->a), free(g->ue), free(g->coef), free(g->w), free(g->V), free(g->modes);
    if (!g->o->A) free(g->mode_mu);
    free(g->Phi), free(g->Phie), free(g->Q), free(g->b), free(g->x), free(g->Af), free(g->Vf), free(g->uf);
    fftw_free(g->U), fftw_free(g->Y), fftw_free(g->Aa), fftw_free(g->buf);
}

static ntk_status run(kgd *g, ntk_kgd_observer obs, void *user, ntk_kgd_result *res)
{
    const ntk_kgd_opts *o = g->o;
    size_t n = g->n, K1 = (size_t)o->kmax + 1, nk = 2 * K1 - 1;
    g->u = malloc(n * sizeof *g->u), g->r = malloc(n * sizeof *g->r), g->a = calloc(n, sizeof *g->a);
    g->ue = g->m ? malloc(g->m * sizeof *g->ue) : NULL;
    g->coef = malloc((2 * nk + 4 * K1 + (size_t)o->top_k + 1) * sizeof *g->coef);
    if (!g->u || !g->r || !g->a || (g->m && !g->ue) || !g->coef) return ntk_set_error(NTK_ENOMEM, "kgd: no memory (n %zu)", n);
    g->coef_e = g->coef + nk, g->plane = g->coef_e + nk, g->plane_e = g->plane + K1, g->ideal = g->plane_e + K1;
    g->plane0 = g->ideal + K1, g->proj = g->plane0 + K1;
    for (size_t i = 0; i < n; i++) g->u[i] = o->u0 ? o->u0[i] : 0;
    for (size_t i = 0; i < n; i++) g->r[i] = g->u[i] - o->y[i];
    ntk_status st = o->A ? dense_setup(g) : circ_setup(g);
    if (st != NTK_OK) return st;
    for (size_t i = 0; g->uf && i < n; i++)
        g->uf[i] = (float)g->u[i], g->yf[i] = (float)o->y[i], g->rf[i] = g->uf[i] - g->yf[i], g->af[i] = 0;
    double lmax = o->A ? g->w[0] : g->modes[0].mu;
    g->rho = lmax;
    if (o->precond) {
        if (!o->A) free(g->mode_mu);
        g->mode_mu = NULL; /* the ideal decay of P A: on the grid only (precond_setup) */
        if ((st = precond_setup(g)) != NTK_OK) return st;
    }
    if (res) res->lambda_max = lmax, res->rho = g->rho;
    if (!(o->eta > 0) && !(g->rho > 0))
        return ntk_set_error(NTK_EINVAL, "kgd: the operator's largest eigenvalue is %g: no step eta_scale / lambda_max", g->rho);
    g->eta = o->eta > 0 ? o->eta : o->eta_scale / g->rho;
    if (res) res->eta = g->eta;
    if (res && res->eig_f64 && o->A) { /* float32: a values-only float64 decomposition of the same A */
        if (o->dtype == NTK_F32) {
            if ((st = ntk_eigh(n, o->A, res->eig_f64, NULL)) != NTK_OK) return st;
            res->f32_abs = 0, res->f32_rel1 = -1;
            for (size_t i = 0; i < n; i++) {
                double d = fabs(g->w[i] - res->eig_f64[i]);
                res->f32_abs = fmax(res->f32_abs, d / fmax(fabs(res->eig_f64[0]), 1e-300));
                if (res->f32_rel1 < 0 && d > 1e-2 * fabs(res->eig_f64[i])) res->f32_rel1 = (long)i;
            }
        } else {
            res->f32_abs = 0, res->f32_rel1 = -1;
            memcpy(res->eig_f64, g->w, n * sizeof *res->eig_f64);
        }
    }
    if (res && res->eig) {
        if (o->A) memcpy(res->eig, g->w, n * sizeof *res->eig);
        else
            for (size_t i = 0; i < n; i++) res->eig[i] = g->modes[i].mu; /* n modes: 1, pairs, and n/2 when n is even */
    }
    long default_snap[2] = {0, o->steps};
    const long *snap = o->snap ? o->snap : default_snap;
    size_t n_snap = o->snap ? o->n_snap : (o->steps > 0 ? 2 : 1), next = 0;
    for (long t = 0;; t++) {
        if (next < n_snap && snap[next] == t) {
            if ((st = snapshot(g, t, obs, user)) != NTK_OK) return st;
            next++;
        }
        if (t == o->steps) break;
        if (o->precond) { /* x = A r, z = Phi^T x / n, c = Q z; u -= eta Phi c, b -= eta c */
            size_t w = 2 * (size_t)o->kmax + 1;
            if (o->A) cblas_dsymv(CblasRowMajor, CblasLower, (int)n, 1.0, o->A, (int)n, g->r, 1, 0.0, g->x, 1);
            else if ((st = ntk_circulant_apply(o->C, g->r, g->x)) != NTK_OK) return st;
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)w, 1.0 / (double)n, g->Phi, (int)w, g->x, 1, 0.0, g->z, 1);
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)w, (int)w, 1.0, g->Q, (int)w, g->z, 1, 0.0, g->cv, 1);
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)w, -g->eta, g->Phi, (int)w, g->cv, 1, 1.0, g->u, 1);
            cblas_daxpy((int)w, -g->eta, g->cv, 1, g->b, 1);
            for (size_t i = 0; i < n; i++) g->r[i] = g->u[i] - o->y[i];
        } else if (g->Af) { /* the same in float32 */
            cblas_ssymv(CblasRowMajor, CblasLower, (int)n, (float)-g->eta, g->Af, (int)n, g->rf, 1, 1.0f, g->uf, 1);
            cblas_saxpy((int)n, (float)-g->eta, g->rf, 1, g->af, 1);
            for (size_t i = 0; i < n; i++) g->rf[i] = g->uf[i] - g->yf[i];
        } else if (o->A) { /* g = A r; u -= eta g; a -= eta r; r = u - y */
            cblas_dsymv(CblasRowMajor, CblasLower, (int)n, -g->eta, o->A, (int)n, g->r, 1, 1.0, g->u, 1);
            cblas_daxpy((int)n, -g->eta, g->r, 1, g->a, 1);
            for (size_t i = 0; i < n; i++) g->r[i] = g->u[i] - o->y[i];
        } else { /* each frequency on its own: U -= eta mu (U - Y), A_a -= eta (U - Y) */
            for (size_t q = 0; q <= n / 2; q++)
                for (int c = 0; c < 2; c++) {
                    double rq = g->U[q][c] - g->Y[q][c];
                    g->Aa[q][c] -= g->eta * rq;
                    g->U[q][c] -= g->eta * g->mu[q] * rq;
                }
        }
    }
    return NTK_OK;
}

ntk_status ntk_kgd_run(const ntk_kgd_opts *o, ntk_kgd_observer obs, void *user, ntk_kgd_result *res)
{
    if (!o) return ntk_set_error(NTK_EINVAL, "kgd: opts must not be NULL");
    ntk_status st = check(o);
    if (st != NTK_OK) return st;
    kgd g = {.o = o, .n = o->A ? o->n : ntk_circulant_size(o->C), .m = o->m};
    int threads = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads); /* restored below */
    st = run(&g, obs, user, res);
    if (o->threads > 0) ntk_set_threads(threads);
    release(&g);
    return st;
}
