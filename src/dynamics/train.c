/* train.c -- optimizers over the network's single parameter array: gd, sgd,
 * momentum, adam.  All buffers are allocated by ntk_trainer_alloc. */
#include "net.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "train_fused.h"
#include "trainer_feats.h"

struct ntk_trainer {
    ntk_net *net;
    ntk_train_opts o;
    size_t N, B;          /* data rows, rows per step */
    int n0, k;
    const double *X, *Y;  /* [N x n0], [N x k] (caller's) */
    double *Xb, *Yb;      /* [B x n0], [B x k] minibatch copies (NULL for full batch) */
    size_t *perm;         /* [N] scratch for drawing minibatches */
    double *u;            /* [B] uniforms */
    ntk_grad_ws *ws;      /* [B rows], or NULL when fw does the gradient */
    tf_ws *fw;            /* the fused gradient of small one-hidden-layer networks (train_fused.c), or NULL */
    double *grad;         /* [P] */
    double *m1, *m2;      /* [P] momentum / adam moments */
    long step;
};

static const char *opt_names[] = {"gd", "sgd", "momentum", "adam"};

const char *ntk_opt_name(ntk_opt o) { return (unsigned)o < 4 ? opt_names[o] : "?"; }

ntk_status ntk_opt_parse(const char *s, ntk_opt *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, opt_names[i]) == 0) {
            *out = (ntk_opt)i;
            return NTK_OK;
        }
    return ntk_set_error(NTK_EINVAL, "unknown optimizer '%s' (expected gd|sgd|momentum|adam)", s ? s : "(null)");
}

ntk_train_opts ntk_train_defaults(void)
{
    ntk_train_opts o = {NTK_OPT_GD, NTK_LOSS_MEAN, 0.1, 0, 0.9, 0.9, 0.999, 1e-8, 0};
    return o;
}

void ntk_trainer_free(ntk_trainer *tr)
{
    if (!tr) return;
    ntk_grad_ws_free(tr->ws);
    tf_free(tr->fw);
    free(tr->Xb);
    free(tr->Yb);
    free(tr->perm);
    free(tr->u);
    free(tr->grad);
    free(tr->m1);
    free(tr->m2);
    free(tr);
}

ntk_status ntk_train_opts_check(const ntk_train_opts *o, size_t N)
{
    if ((unsigned)o->opt > NTK_OPT_ADAM) return ntk_set_error(NTK_EINVAL, "opt: unknown optimizer code %d", o->opt);
    if ((unsigned)o->loss > NTK_LOSS_MSE) return ntk_set_error(NTK_EINVAL, "loss: unknown code %d", o->loss);
    if (!(o->lr > 0) || !isfinite(o->lr)) return ntk_set_error(NTK_EINVAL, "lr must be finite and > 0, got %g", o->lr);
    if (o->batch > N) return ntk_set_error(NTK_EINVAL, "batch %zu exceeds the %zu training points", o->batch, N);
    if (o->opt == NTK_OPT_SGD && o->batch == 0)
        return ntk_set_error(NTK_EINVAL, "batch: sgd needs a minibatch size 0 < B <= N");
    if (!(o->momentum >= 0 && o->momentum < 1)) return ntk_set_error(NTK_EINVAL, "momentum must be in [0, 1), got %g", o->momentum);
    if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) || !(o->adam_eps > 0))
        return ntk_set_error(NTK_EINVAL, "adam: need 0 <= beta1, beta2 < 1 and eps > 0");
    return NTK_OK;
}

ntk_status ntk_trainer_alloc(ntk_net *net, size_t N, const double *X, const double *Y, const ntk_train_opts *o,
                             ntk_trainer **out)
{
    *out = NULL;
    if (N == 0 || !X || !Y) return ntk_set_error(NTK_EINVAL, "trainer: need N >= 1 and non-NULL X, Y");
    ntk_status st = ntk_train_opts_check(o, N);
    if (st != NTK_OK) return st;
    ntk_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return ntk_set_error(NTK_ENOMEM, "trainer: out of memory");
    tr->net = net;
    tr->o = *o;
    tr->N = N;
    tr->B = (o->batch > 0 && o->batch < N) ? o->batch : N;
    tr->n0 = net->n[0];
    tr->k = net->n[net->d];
    tr->X = X;
    tr->Y = Y;
    size_t P = net->P ? net->P : 1;
    tr->grad = malloc(P * sizeof *tr->grad);
    tr->m1 = calloc(P, sizeof *tr->m1);
    tr->m2 = o->opt == NTK_OPT_ADAM ? calloc(P, sizeof *tr->m2) : NULL;
    bool ok = tr->grad && tr->m1 && (o->opt != NTK_OPT_ADAM || tr->m2);
    if (ok && tr->B < N) {
        tr->Xb = malloc(tr->B * (size_t)tr->n0 * sizeof *tr->Xb);
        tr->Yb = malloc(tr->B * (size_t)tr->k * sizeof *tr->Yb);
        tr->perm = malloc(N * sizeof *tr->perm);
        tr->u = malloc(tr->B * sizeof *tr->u);
        ok = tr->Xb && tr->Yb && tr->perm && tr->u;
    }
    if (!ok) {
        ntk_trainer_free(tr);
        return ntk_set_error(NTK_ENOMEM, "trainer: out of memory for P = %zu", net->P);
    }
    st = tf_applies(net) ? tf_alloc(net, tr->B, &tr->fw) : ntk_grad_ws_alloc(net, tr->B, &tr->ws);
    if (st != NTK_OK) {
        ntk_trainer_free(tr);
        return st;
    }
    *out = tr;
    return NTK_OK;
}

/* Rows of this step's minibatch: a partial Fisher-Yates shuffle driven by
 * (seed, BATCH, step), so a resumed run draws the same batches. */
static void draw_batch(ntk_trainer *tr)
{
    size_t N = tr->N, B = tr->B;
    for (size_t i = 0; i < N; i++) tr->perm[i] = i;
    ntk_rng_uniform(tr->o.seed, NTK_STREAM_BATCH, (uint64_t)tr->step, 0, B, tr->u);
    for (size_t i = 0; i < B; i++) {
        size_t j = i + (size_t)(tr->u[i] * (double)(N - i));
        if (j >= N) j = N - 1;
        size_t t = tr->perm[i];
        tr->perm[i] = tr->perm[j];
        tr->perm[j] = t;
    }
    for (size_t i = 0; i < B; i++) {
        size_t r = tr->perm[i];
        memcpy(tr->Xb + i * (size_t)tr->n0, tr->X + r * (size_t)tr->n0, (size_t)tr->n0 * sizeof(double));
        memcpy(tr->Yb + i * (size_t)tr->k, tr->Y + r * (size_t)tr->k, (size_t)tr->k * sizeof(double));
    }
}

/* The update of the parameters from tr->grad (and the loss of that gradient, checked finite). */
static ntk_status apply_step(ntk_trainer *tr, const double *loss)
{
    ntk_net *net = tr->net;
    size_t P = net->P;
    double gsum = 0;
    for (size_t i = 0; i < P; i++) gsum += tr->grad[i] * tr->grad[i];
    if (!isfinite(*loss) || !isfinite(gsum))
        return ntk_set_error(NTK_ENUMERIC, "step %ld: non-finite loss or gradient (loss %g)", tr->step, *loss);
    double *th = net->theta, eta = tr->o.lr, *g = tr->grad;
    switch (tr->o.opt) {
    case NTK_OPT_GD:
    case NTK_OPT_SGD:
        for (size_t i = 0; i < P; i++) th[i] -= eta * g[i];
        break;
    case NTK_OPT_MOMENTUM:
        for (size_t i = 0; i < P; i++) {
            tr->m1[i] = tr->o.momentum * tr->m1[i] + g[i];
            th[i] -= eta * tr->m1[i];
        }
        break;
    case NTK_OPT_ADAM: {
        double b1 = tr->o.beta1, b2 = tr->o.beta2, t = (double)(tr->step + 1);
        double c1 = 1 - pow(b1, t), c2 = 1 - pow(b2, t);
        for (size_t i = 0; i < P; i++) {
            tr->m1[i] = b1 * tr->m1[i] + (1 - b1) * g[i];
            tr->m2[i] = b2 * tr->m2[i] + (1 - b2) * g[i] * g[i];
            th[i] -= eta * (tr->m1[i] / c1) / (sqrt(tr->m2[i] / c2) + tr->o.adam_eps);
        }
        break;
    }
    }
    ntk_net_params_changed(net);
    tr->step++;
    return NTK_OK;
}

ntk_status ntk_trainer_step(ntk_trainer *tr, double *loss)
{
    ntk_net *net = tr->net;
    const double *X = tr->X, *Y = tr->Y;
    if (tr->B < tr->N) {
        draw_batch(tr);
        X = tr->Xb;
        Y = tr->Yb;
    }
    ntk_status st = tr->fw ? tf_loss_grad(tr->fw, net, X, Y, tr->o.loss, loss, tr->grad)
                           : ntk_net_loss_grad_ws(net, tr->ws, X, Y, tr->o.loss, loss, tr->grad);
    return st != NTK_OK ? st : apply_step(tr, loss);
}

ntk_status trainer_step_feats(ntk_trainer *tr, const ntk_feats *f, double *loss)
{
    if (!(tr->ws && tr->B == tr->N && tr->k == 1)) return ntk_trainer_step(tr, loss);
    ntk_status st = net_loss_grad_feats(tr->net, tr->ws, f, tr->Y, tr->o.loss, loss, tr->grad);
    return st != NTK_OK ? st : apply_step(tr, loss);
}

long ntk_trainer_step_count(const ntk_trainer *tr) { return tr->step; }

/* gd and sgd keep no state between steps; momentum its velocity m1, adam both moments. */
size_t ntk_trainer_state_len(const ntk_trainer *tr)
{
    switch (tr->o.opt) {
    case NTK_OPT_MOMENTUM: return tr->net->P;
    case NTK_OPT_ADAM: return 2 * tr->net->P;
    default: return 0;
    }
}

void ntk_trainer_state_get(const ntk_trainer *tr, double *state)
{
    size_t P = tr->net->P, S = ntk_trainer_state_len(tr); /* 0, P (m1) or 2 P (m1, m2) */
    if (S > 0) memcpy(state, tr->m1, P * sizeof *state);
    if (S > P) memcpy(state + P, tr->m2, P * sizeof *state);
}

void ntk_trainer_state_set(ntk_trainer *tr, const double *state, long step)
{
    size_t P = tr->net->P, S = ntk_trainer_state_len(tr); /* 0, P (m1) or 2 P (m1, m2) */
    if (S > 0) memcpy(tr->m1, state, P * sizeof *state);
    if (S > P) memcpy(tr->m2, state + P, P * sizeof *state);
    tr->step = step;
}
