/* frozen.c -- frozen against evolving (docs/modes.md): the network's tracked training run, and operator
 * gradient descent with its initial kernel at the same snapshot steps and the matched step
 * eta_op = eta c n, with the residual's Fourier planes of both and the rotation of K_t's top
 * eigenspace against K_0's at every snapshot. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_fe_opts ntk_fe_opts_defaults(void)
{
    return (ntk_fe_opts){.train = ntk_train_run_defaults(), .kmax = 8, .top_k = 8};
}

/* What the network's observer keeps of each snapshot for the second pass. */
typedef struct {
    const ntk_fe_opts *o;
    const ntk_dataset *data;
    size_t n, w, S, cap;
    double *K0, *U0, *V, *Ut, *w_eig; /* [n x n] K_0, [n x k] its top eigenvectors, scratch */
    long *step;               /* [cap] */
    double *t, *loss, *f, *coef, *angles; /* [cap], [cap], [cap x n], [cap x w], [cap x top_k] */
    double *C0, *Ct, *A, *leak, *drift;   /* [w x w] blocks at 0 and t, [n x n] K_t / n; [cap], [cap x 3 x (K+1)] */
    double eta;
} fe_run;

static ntk_status grow(fe_run *r)
{
    if (r->S < r->cap) return NTK_OK;
    size_t cap = r->cap ? 2 * r->cap : 32, k = (size_t)r->o->top_k;
    long *step = realloc(r->step, cap * sizeof *step);
    if (step) r->step = step;
    double *t = step ? realloc(r->t, cap * sizeof *t) : NULL;
    if (t) r->t = t;
    double *loss = t ? realloc(r->loss, cap * sizeof *loss) : NULL;
    if (loss) r->loss = loss;
    double *f = loss ? realloc(r->f, cap * r->n * sizeof *f) : NULL;
    if (f) r->f = f;
    double *coef = f ? realloc(r->coef, cap * r->w * sizeof *coef) : NULL;
    if (coef) r->coef = coef;
    double *ang = coef ? realloc(r->angles, (cap * k + 1) * sizeof *ang) : NULL;
    if (ang) r->angles = ang;
    double *leak = ang ? realloc(r->leak, cap * sizeof *leak) : NULL;
    if (leak) r->leak = leak;
    double *drift = leak ? realloc(r->drift, cap * 3 * ((size_t)r->o->kmax + 1) * sizeof *drift) : NULL;
    if (drift) r->drift = drift;
    if (!drift) return ntk_set_error(NTK_ENOMEM, "frozen_evolving: no memory for %zu snapshots", cap);
    r->cap = cap;
    return NTK_OK;
}

/* The top k eigenvectors of K: [n x n] into U: [n x k] (row-major). */
static ntk_status top_vectors(fe_run *r, const double *K, double *U)
{
    size_t n = r->n, k = (size_t)r->o->top_k;
    ntk_status st = ntk_eigh(n, K, r->w_eig, r->V);
    for (size_t i = 0; st == NTK_OK && i < n; i++) memcpy(U + i * k, r->V + i * n, k * sizeof *U);
    return st;
}

static ntk_status on_network(void *user, const ntk_train_snapshot *s)
{
    fe_run *r = user;
    size_t n = r->n;
    ntk_status st = grow(r);
    if (st != NTK_OK) return st;
    if (s->index == 0) {
        memcpy(r->K0, s->K, n * n * sizeof *r->K0);
        if ((st = top_vectors(r, s->K, r->U0)) != NTK_OK) return st;
    }
    size_t i = r->S;
    double *res = malloc(n * sizeof *res);
    if (!res) return ntk_set_error(NTK_ENOMEM, "frozen_evolving: no memory");
    for (size_t j = 0; j < n; j++) res[j] = s->f[j] - r->data->Y_train[j];
    st = ntk_fourier_project(n, r->data->gamma_train, r->o->kmax, res, r->coef + i * r->w, NULL);
    free(res);
    if (st == NTK_OK) { /* the Fourier blocks of A_t = K_t / n, and their drift from step 0 */
        size_t K1 = (size_t)r->o->kmax + 1;
        for (size_t j = 0; j < n * n; j++) r->A[j] = s->K[j] / (double)n;
        double *C = s->index == 0 ? r->C0 : r->Ct, *d = r->drift + i * 3 * K1;
        st = ntk_fourier_blocks(n, r->A, r->data->gamma_train, r->o->kmax, C, r->leak + i);
        if (st == NTK_OK) st = ntk_fourier_block_drift(r->o->kmax, r->C0, C, d, d + K1, d + 2 * K1);
    }
    if (st == NTK_OK && r->o->top_k > 0) {
        st = top_vectors(r, s->K, r->Ut);
        if (st == NTK_OK) st = ntk_principal_angles(n, r->o->top_k, r->Ut, r->U0, r->angles + i * (size_t)r->o->top_k);
    }
    if (st != NTK_OK) return st;
    r->step[i] = s->step, r->t[i] = s->t, r->loss[i] = s->loss;
    memcpy(r->f + i * n, s->f, n * sizeof *r->f);
    r->S++;
    return NTK_OK;
}

typedef struct {
    fe_run *r;
    ntk_fe_observer obs;
    void *user;
    double eta_op, ref;       /* ||y - f_0|| */
    size_t i;
    double *plane_net;        /* [K+1] */
} fe_pair;

static ntk_status on_operator(void *user, const ntk_kgd_snapshot *s)
{
    fe_pair *p = user;
    fe_run *r = p->r;
    size_t i = p->i++, n = r->n;
    const double *f = r->f + i * n;
    double g = 0;
    for (size_t j = 0; j < n; j++) g += (f[j] - s->u[j]) * (f[j] - s->u[j]);
    ntk_fourier_planes(r->o->kmax, r->coef + i * r->w, p->plane_net);
    ntk_fe_snapshot out = {.step = r->step[i], .t = r->t[i], .eta_op = p->eta_op, .loss_net = r->loss[i],
                           .loss_op = s->loss, .coef_net = r->coef + i * r->w, .plane_net = p->plane_net,
                           .coef_op = s->coef_train, .plane_op = s->plane_train, .f = f, .u = s->u,
                           .gap = sqrt(g) / p->ref, .angles = r->o->top_k ? r->angles + i * (size_t)r->o->top_k : NULL,
                           .leakage = r->leak[i], .block_drift = r->drift + i * 3 * ((size_t)r->o->kmax + 1)};
    return p->obs ? p->obs(p->user, &out) : NTK_OK;
}

static ntk_status check(const ntk_fe_opts *o, const ntk_dataset *d)
{
    if (!o || !d) return ntk_set_error(NTK_EINVAL, "frozen_evolving: opts and data must not be NULL");
    if (d->k != 1 || !d->gamma_train)
        return ntk_set_error(NTK_EINVAL, "frozen_evolving: needs one output and training points on the circle (k = %d)", d->k);
    if (o->kmax < 0 || 2 * (size_t)o->kmax > d->n_train)
        return ntk_set_error(NTK_EINVAL, "frozen_evolving: kmax K = %d is greater than n/2 = %zu", o->kmax, d->n_train / 2);
    if (o->top_k < 0 || (size_t)o->top_k > d->n_train)
        return ntk_set_error(NTK_EINVAL, "frozen_evolving: top_k = %d must be in [0, n = %zu]", o->top_k, d->n_train);
    return NTK_OK;
}

ntk_status ntk_frozen_evolving_run(const ntk_fe_opts *o, const ntk_dataset *data, ntk_fe_observer obs, void *user,
                                   ntk_train_result *res)
{
    ntk_status st = check(o, data);
    if (st != NTK_OK) return st;
    if (!res) return ntk_set_error(NTK_EINVAL, "frozen_evolving: res must not be NULL");
    size_t n = data->n_train, k = (size_t)o->top_k;
    fe_run r = {.o = o, .data = data, .n = n, .w = 2 * (size_t)o->kmax + 1};
    r.K0 = malloc(n * n * sizeof *r.K0), r.V = malloc(n * n * sizeof *r.V), r.w_eig = malloc(n * sizeof *r.w_eig);
    r.U0 = malloc((n * k + 1) * sizeof *r.U0), r.Ut = malloc((n * k + 1) * sizeof *r.Ut);
    double *A = malloc(n * n * sizeof *A), *plane = malloc(((size_t)o->kmax + 1) * sizeof *plane);
    r.C0 = malloc(r.w * r.w * sizeof *r.C0), r.Ct = malloc(r.w * r.w * sizeof *r.Ct), r.A = malloc(n * n * sizeof *r.A);
    long *snap = NULL;
    if (!r.K0 || !r.V || !r.w_eig || !r.U0 || !r.Ut || !A || !plane || !r.C0 || !r.Ct || !r.A) {
        st = ntk_set_error(NTK_ENOMEM, "frozen_evolving: no memory (n %zu)", n);
        goto done;
    }
    if ((st = ntk_train_run(&o->train, data, on_network, &r, res)) != NTK_OK) goto done;
    if (r.S == 0) goto done;
    /* the operator: A_0 = K_0 / n, eta_op = eta c n, u_0 = f_0, the network's snapshot steps */
    double eta_op = res->eta * res->c * (double)n, ref = 0;
    for (size_t i = 0; i < n * n; i++) A[i] = r.K0[i] / (double)n;
    for (size_t j = 0; j < n; j++) ref += (data->Y_train[j] - r.f[j]) * (data->Y_train[j] - r.f[j]);
    snap = malloc(r.S * sizeof *snap);
    if (!snap) {
        st = ntk_set_error(NTK_ENOMEM, "frozen_evolving: no memory");
        goto done;
    }
    memcpy(snap, r.step, r.S * sizeof *snap);
    ntk_kgd_opts ko = ntk_kgd_opts_defaults();
    ko.n = n, ko.A = A, ko.y = data->Y_train, ko.u0 = r.f, ko.gamma = data->gamma_train, ko.eta = eta_op;
    ko.steps = snap[r.S - 1], ko.snap = snap, ko.n_snap = r.S, ko.kmax = o->kmax, ko.top_k = 0;
    ko.threads = o->train.threads;
    fe_pair pair = {.r = &r, .obs = obs, .user = user, .eta_op = eta_op, .ref = ref > 0 ? sqrt(ref) : 1, .plane_net = plane};
    st = ntk_kgd_run(&ko, on_operator, &pair, NULL);
done:
    free(r.K0), free(r.V), free(r.w_eig), free(r.U0), free(r.Ut), free(r.step), free(r.t), free(r.loss), free(r.f);
    free(r.coef), free(r.angles), free(A), free(plane), free(snap), free(r.C0), free(r.Ct), free(r.A), free(r.leak);
    free(r.drift);
    return st;
}
