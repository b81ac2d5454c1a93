/* kgd_problem.c -- a kernel source on a data set, resolved into what operator gradient descent and
 * the mode studies need (docs/modes.md): the operator A = K/n (dense) or its circulant (FFT path on
 * an equispaced grid), the eval operator, the init (zero or a GP draw from the source's NNGP), and the
 * continuum eigenvalues lambda_k with the finite-sample lambda_k^(n). */
#include "ntkdrift.h"
#include "ntk_private.h"
#include "ops.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const KSRC[] = {"theta_bias", "theta_nobias", "k0", "k1", "limit", "empirical", "matrix"};

const char *ntk_ksrc_name(ntk_ksrc s) { return (unsigned)s <= NTK_KSRC_MATRIX ? KSRC[s] : "?"; }

ntk_status ntk_ksrc_parse(const char *s, ntk_ksrc *out)
{
    for (int i = 0; s && i <= NTK_KSRC_MATRIX; i++)
        if (strcmp(s, KSRC[i]) == 0) return *out = (ntk_ksrc)i, NTK_OK;
    return ntk_set_error(NTK_EINVAL, "unknown kernel source '%s' (expected theta_bias|theta_nobias|k0|k1|limit|empirical|matrix)",
                         s ? s : "(null)");
}

ntk_kgd_problem_opts ntk_kgd_problem_defaults(void) { return (ntk_kgd_problem_opts){.fft = -1, .kmax = 8}; }

/* A source's kernel of the angle on the unit circle: its NTK or its NNGP. */
typedef struct {
    ntk_ksrc kind;
    ntk_spec spec;            /* limit / empirical: the widths point into `widths` */
    int *widths;
    int nngp;                 /* 1: the NNGP profile */
} profile_state;

static double src_profile(double d, void *ctx)
{
    const profile_state *p = ctx;
    switch (p->kind) {
    case NTK_KSRC_THETA_BIAS: return p->nngp ? ntk_circle_k0(d) : ntk_circle_theta(d, 1);
    case NTK_KSRC_THETA_NOBIAS: return p->nngp ? ntk_circle_k0(d) : ntk_circle_theta(d, 0);
    case NTK_KSRC_K0: return ntk_circle_k0(d);
    case NTK_KSRC_K1: return p->nngp ? ntk_circle_k0(d) : ntk_circle_k1(d);
    case NTK_KSRC_LIMIT:
    case NTK_KSRC_EMPIRICAL: {
        double a[2] = {1, 0}, b[2] = {cos(d), sin(d)}, k = NAN;
        if (p->nngp) ntk_limit_cross(&p->spec, NULL, 1, a, 1, b, &k, NULL, NULL, NULL);
        else ntk_limit_cross(&p->spec, NULL, 1, a, 1, b, NULL, &k, NULL, NULL);
        return k;
    }
    default: return NAN;
    }
}

double ntk_kgd_problem_profile(double delta, void *problem)
{
    const ntk_kgd_problem *p = problem;
    return p && p->profile_state ? src_profile(delta, (void *)p->profile_state) : NAN;
}

static bool closed_form(ntk_ksrc k) { return k <= NTK_KSRC_K1; }

static double angle_between(double a, double b)
{
    double d = fmod(fabs(a - b), 2 * M_PI);
    return d > M_PI ? 2 * M_PI - d : d;
}

/* gamma [n] an equispaced grid g_j = g_0 + 2 pi j / n (to 1e-12, the rounding of the angles' own sums). */
static bool equispaced(size_t n, const double *g)
{
    for (size_t j = 0; g && j < n; j++)
        if (fabs(angle_between(g[j], g[0] + 2 * M_PI * (double)j / (double)n)) > 1e-12) return false;
    return g != NULL;
}

/* K(Xa, Xb) [na x nb] of the source (ntk, or nngp with nngp = 1) scaled by s. */
static ntk_status kernel(const ntk_kernel_source *src, const profile_state *ps, const ntk_net *net, size_t na,
                         const double *Xa, const double *ga, size_t nb, const double *Xb, const double *gb, int nngp,
                         double s, double *out)
{
    ntk_status st = NTK_OK;
    profile_state p = *ps;
    p.nngp = nngp;
    if (closed_form(src->kind)) {
        if (!ga || !gb) return ntk_set_error(NTK_EINVAL, "kgd: the closed-form circle kernels need circle data");
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++) out[i * nb + j] = src_profile(angle_between(ga[i], gb[j]), &p);
    } else if (src->kind == NTK_KSRC_LIMIT || (src->kind == NTK_KSRC_EMPIRICAL && nngp)) {
        st = ntk_limit_cross(&ps->spec, NULL, na, Xa, nb, Xb, nngp ? out : NULL, nngp ? NULL : out, NULL, NULL);
    } else if (src->kind == NTK_KSRC_EMPIRICAL) {
        ntk_feats *fa = NULL, *fb = NULL;
        st = ntk_feats_alloc(net, na, NTK_F64, &fa);
        if (st == NTK_OK) st = ntk_feats_compute((ntk_net *)net, fa, Xa);
        if (st == NTK_OK && Xa == Xb) st = ntk_kernel_full(net, fa, out, NULL);
        if (st == NTK_OK && Xa != Xb) st = ntk_feats_alloc(net, nb, NTK_F64, &fb);
        if (st == NTK_OK && Xa != Xb) st = ntk_feats_compute((ntk_net *)net, fb, Xb);
        if (st == NTK_OK && Xa != Xb) st = ntk_kernel_cross(net, fa, fb, out, NULL);
        ntk_feats_free(fa), ntk_feats_free(fb);
    } else { /* matrix */
        memcpy(out, Xa == Xb ? src->K : src->K_eval, na * nb * sizeof *out);
    }
    for (size_t i = 0; st == NTK_OK && s != 1 && i < na * nb; i++) out[i] *= s;
    return st;
}

static double *dup(const double *v, size_t n)
{
    double *p = v && n ? malloc(n * sizeof *p) : NULL;
    if (p) memcpy(p, v, n * sizeof *p);
    return p;
}

void ntk_kgd_problem_clear(ntk_kgd_problem *p)
{
    if (!p) return;
    free(p->A), free(p->A_eval), free(p->y), free(p->y_eval), free(p->u0), free(p->u0_eval), free(p->gamma);
    free(p->gamma_eval), free(p->lambda), free(p->mode_mu);
    ntk_circulant_free(p->C);
    if (p->profile_state) free(((profile_state *)p->profile_state)->widths);
    free((void *)p->profile_state);
    memset(p, 0, sizeof *p);
}

static ntk_status check(const ntk_kernel_source *src, const ntk_dataset *d, const ntk_kgd_problem_opts *po)
{
    if (!src || !d || !po) return ntk_set_error(NTK_EINVAL, "kgd: source, data and options must not be NULL");
    if ((unsigned)src->kind > NTK_KSRC_MATRIX) return ntk_set_error(NTK_EINVAL, "kgd: unknown kernel source %d", (int)src->kind);
    if (d->k != 1) return ntk_set_error(NTK_EINVAL, "kgd: one output only (the data has k = %d)", d->k);
    if (d->n_train < 2) return ntk_set_error(NTK_EINVAL, "kgd: need at least 2 training points");
    if (po->kmax < 0 || 2 * (size_t)po->kmax > d->n_train)
        return ntk_set_error(NTK_EINVAL, "kgd: kmax K = %d is greater than n/2 = %zu", po->kmax, d->n_train / 2);
    if (src->kind == NTK_KSRC_MATRIX && !src->K) return ntk_set_error(NTK_EINVAL, "kgd: the matrix source needs K");
    if ((src->kind == NTK_KSRC_LIMIT || src->kind == NTK_KSRC_EMPIRICAL) && !src->net && src->spec.n0 != d->n0)
        return ntk_set_error(NTK_EINVAL, "kgd: the network's n0 = %d but the data has %d columns", src->spec.n0, d->n0);
    return NTK_OK;
}

ntk_status ntk_kgd_problem_build(const ntk_kernel_source *src, const ntk_dataset *d, const ntk_kgd_problem_opts *po,
                                 ntk_kgd_problem *p)
{
    if (!p) return ntk_set_error(NTK_EINVAL, "kgd: out must not be NULL");
    memset(p, 0, sizeof *p);
    ntk_status st = check(src, d, po);
    if (st != NTK_OK) return st;
    size_t n = d->n_train, m = src->kind == NTK_KSRC_MATRIX && !src->K_eval ? 0 : d->n_eval;
    profile_state *ps = calloc(1, sizeof *ps);
    ntk_net *own = NULL;
    if (!ps) return ntk_set_error(NTK_ENOMEM, "kgd: no memory");
    p->profile_state = ps;
    ps->kind = src->kind;
    const ntk_net *net = src->net;
    if (src->kind == NTK_KSRC_LIMIT || src->kind == NTK_KSRC_EMPIRICAL) { /* the spec, widths owned */
        ps->spec = net ? *ntk_net_spec(net) : src->spec;
        size_t L = ps->spec.depth > 0 ? (size_t)ps->spec.depth : 1;
        if (!(ps->widths = malloc(L * sizeof *ps->widths))) {
            st = ntk_set_error(NTK_ENOMEM, "kgd: no memory");
            goto fail;
        }
        memcpy(ps->widths, ps->spec.widths, (size_t)ps->spec.depth * sizeof *ps->widths);
        ps->spec.widths = ps->widths;
    }
    if (src->kind == NTK_KSRC_EMPIRICAL && !net) {
        if ((st = ntk_net_alloc(&ps->spec, &own)) == NTK_OK) st = ntk_net_init(own, src->seed);
        if (st != NTK_OK) goto fail;
        net = own;
    }
    bool angle_kernel = closed_form(src->kind) || (src->kind == NTK_KSRC_LIMIT && d->n0 == 2 && d->gamma_train);
    bool grid = equispaced(n, d->gamma_train);
    if (po->fft == 1 && !angle_kernel) {
        st = ntk_set_error(NTK_EINVAL, "kgd: the FFT path needs a kernel of the angle (theta_bias, theta_nobias, k0, k1 or "
                                       "limit on circle data), not %s", ntk_ksrc_name(src->kind));
        goto fail;
    }
    if (po->fft == 1 && !grid) {
        st = ntk_set_error(NTK_EINVAL, "kgd: the FFT path needs an equispaced grid of training points (data circle or "
                                       "circle-pos); these points are not equispaced");
        goto fail;
    }
    p->fft = po->fft == 1 || (po->fft < 0 && angle_kernel && grid);
    if (p->fft && po->gp_init && m > 0) {
        st = ntk_set_error(NTK_EINVAL, "kgd: a GP init with eval points needs the dense path (fft 0): the joint draw is dense");
        goto fail;
    }
    p->n = n, p->m = m, p->kind = src->kind, p->K = po->kmax;
    p->y = dup(d->Y_train, n), p->gamma = dup(d->gamma_train, n), p->u0 = calloc(n, sizeof *p->u0);
    if (m) p->y_eval = dup(d->Y_eval, m), p->gamma_eval = dup(d->gamma_eval, m), p->u0_eval = calloc(m, sizeof *p->u0_eval);
    if (!p->y || !p->u0 || (d->gamma_train && !p->gamma) || (m && (!p->y_eval || !p->u0_eval || (d->gamma_eval && !p->gamma_eval)))) {
        st = ntk_set_error(NTK_ENOMEM, "kgd: no memory (n %zu)", n);
        goto fail;
    }
    if (p->fft) {
        double *row = malloc(n * sizeof *row);
        st = row ? ntk_circulant_row(n, src_profile, ps, row) : ntk_set_error(NTK_ENOMEM, "kgd: no memory");
        if (st == NTK_OK) st = ntk_circulant_create(n, row, &p->C);
        if (st == NTK_OK && po->gp_init) { /* the NNGP's circulant */
            ntk_circulant *G = NULL;
            ps->nngp = 1;
            st = ntk_circulant_row(n, src_profile, ps, row);
            ps->nngp = 0;
            if (st == NTK_OK) st = ntk_circulant_create(n, row, &G);
            if (st == NTK_OK) st = ntk_gp_draw(n, NULL, G, 0, po->gp_seed, 0, p->u0);
            ntk_circulant_free(G);
        }
        free(row);
        p->g0 = d->gamma_train[0];
    } else {
        p->A = malloc(n * n * sizeof *p->A);
        if (m) p->A_eval = malloc(m * n * sizeof *p->A_eval);
        st = p->A && (!m || p->A_eval) ? NTK_OK : ntk_set_error(NTK_ENOMEM, "kgd: no memory for the %zu x %zu kernel", n, n);
        if (st == NTK_OK)
            st = kernel(src, ps, net, n, d->X_train, d->gamma_train, n, d->X_train, d->gamma_train, 0, 1 / (double)n, p->A);
        if (st == NTK_OK && m)
            st = kernel(src, ps, net, m, d->X_eval, d->gamma_eval, n, d->X_train, d->gamma_train, 0, 1 / (double)n, p->A_eval);
        if (st == NTK_OK && po->gp_init) { /* the joint draw over train and eval points */
            size_t t = n + m;
            double *X = malloc(t * (size_t)d->n0 * sizeof *X), *g = d->gamma_train ? malloc(t * sizeof *g) : NULL;
            double *G = malloc(t * t * sizeof *G), *u = malloc(t * sizeof *u);
            st = X && G && u && (g || !d->gamma_train) ? NTK_OK : ntk_set_error(NTK_ENOMEM, "kgd: no memory for the GP draw");
            if (st == NTK_OK) {
                memcpy(X, d->X_train, n * (size_t)d->n0 * sizeof *X);
                if (m) memcpy(X + n * (size_t)d->n0, d->X_eval, m * (size_t)d->n0 * sizeof *X);
                if (g) memcpy(g, d->gamma_train, n * sizeof *g);
                if (g && m) memcpy(g + n, d->gamma_eval, m * sizeof *g);
                if (src->kind == NTK_KSRC_MATRIX) { /* K and K_eval only: the joint covariance needs the eval block */
                    if (m) st = ntk_set_error(NTK_EINVAL, "kgd: a GP init from a matrix source cannot have eval points");
                    else memcpy(G, src->K, n * n * sizeof *G);
                } else {
                    st = kernel(src, ps, net, t, X, g, t, X, g, 1, 1, G);
                }
            }
            if (st == NTK_OK) st = ntk_gp_draw(t, G, NULL, 1e-10, po->gp_seed, 0, u);
            if (st == NTK_OK) {
                memcpy(p->u0, u, n * sizeof *u);
                if (m) memcpy(p->u0_eval, u + n, m * sizeof *u);
            }
            free(X), free(g), free(G), free(u);
        }
    }
    if (st != NTK_OK) goto fail;
    /* the continuum: closed forms exactly, the others by quadrature of their limit's profile on the circle */
    if (src->kind != NTK_KSRC_MATRIX && (closed_form(src->kind) || (d->n0 == 2 && d->gamma_train))) {
        size_t K1 = (size_t)po->kmax + 1;
        p->lambda = malloc(K1 * sizeof *p->lambda), p->mode_mu = malloc(K1 * sizeof *p->mode_mu);
        if (!p->lambda || !p->mode_mu) {
            st = ntk_set_error(NTK_ENOMEM, "kgd: no memory");
            goto fail;
        }
        if (src->kind == NTK_KSRC_THETA_BIAS || src->kind == NTK_KSRC_THETA_NOBIAS)
            for (size_t k = 0; k < K1; k++) p->lambda[k] = ntk_circle_eigenvalue_closed((int)k, src->kind == NTK_KSRC_THETA_BIAS);
        else if ((st = ntk_circle_eigenvalues(src_profile, ps, (int)K1, p->lambda)) != NTK_OK)
            goto fail;
        p->theta0 = src_profile(0, ps);
        for (size_t k = 0; k < K1; k++) p->mode_mu[k] = (1 - 1 / (double)n) * p->lambda[k] + p->theta0 / (double)n;
    }
    ntk_net_free(own);
    return NTK_OK;
fail:
    ntk_net_free(own);
    ntk_kgd_problem_clear(p);
    return st;
}

void ntk_kgd_problem_apply(const ntk_kgd_problem *p, ntk_kgd_opts *o)
{
    o->n = p->n, o->m = p->m, o->A = p->A, o->C = p->C, o->g0 = p->g0, o->A_eval = p->A_eval;
    o->profile = p->fft && p->m ? ntk_kgd_problem_profile : NULL;
    o->profile_ctx = (void *)p;
    o->y = p->y, o->y_eval = p->y_eval, o->u0 = p->u0, o->u0_eval = p->u0_eval;
    o->gamma = p->gamma, o->gamma_eval = p->gamma_eval;
    o->mode_mu = p->fft ? NULL : p->mode_mu;
    o->lambda = p->lambda, o->theta0 = p->theta0, o->kmax = p->K;
}
