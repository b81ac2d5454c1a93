/* mlp.c -- the network: allocation, deterministic initialisation, layer views, frozen gates,
 * batched forward, loss and gradient. */
#include "net.h"
#include "ntk_private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "la.h"

bool net_has_bias(const ntk_net *net, int l) { return net->offb[l] != SIZE_MAX; }

ntk_status ntk_net_alloc(const ntk_spec *spec, ntk_net **out)
{
    *out = NULL;
    ntk_status st = ntk_spec_check(spec, NULL, 0);
    if (st != NTK_OK) return st;
    ntk_net *net = calloc(1, sizeof *net);
    if (!net) return ntk_set_error(NTK_ENOMEM, "network: out of memory");
    int d = spec->depth + 1;
    net->spec = *spec;
    net->d = d;
    net->n = calloc((size_t)d + 1, sizeof *net->n);
    net->offW = calloc((size_t)d + 1, sizeof *net->offW);
    net->offb = calloc((size_t)d + 1, sizeof *net->offb);
    net->cw = calloc((size_t)d + 1, sizeof *net->cw);
    net->cb = calloc((size_t)d + 1, sizeof *net->cb);
    if (!net->n || !net->offW || !net->offb || !net->cw || !net->cb) goto oom;
    net->n[0] = spec->n0;
    for (int l = 1; l <= spec->depth; l++) net->n[l] = spec->widths[l - 1];
    net->n[d] = spec->outputs;
    net->spec.widths = net->n + 1;
    size_t P = 0;
    net->max_n = 0;
    for (int l = 0; l <= d; l++)
        if (net->n[l] > net->max_n) net->max_n = net->n[l];
    for (int l = 1; l <= d; l++) {
        double sw2 = l == d ? spec->sw2_out : spec->sw2;
        ntk_bias b = l == d ? spec->bias_out : spec->bias;
        bool fan_in = !(l == 1 && spec->first_layer == NTK_FIRST_NONE);
        double scale = sqrt(sw2 / (fan_in ? (double)net->n[l - 1] : 1.0));
        net->offW[l] = P;
        P += (size_t)net->n[l] * (size_t)net->n[l - 1];
        if (spec->param == NTK_PARAM_NTK) {
            net->cw[l] = scale;
            net->cb[l] = b == NTK_BIAS_NONE ? 0 : spec->sb;
        } else {
            net->cw[l] = 1.0;
            net->cb[l] = b == NTK_BIAS_NONE ? 0 : 1.0;
        }
        if (b == NTK_BIAS_NONE) {
            net->offb[l] = SIZE_MAX;
        } else {
            net->offb[l] = P;
            P += (size_t)net->n[l];
        }
    }
    net->P = P;
    net->theta = la_calloc_big((P ? P : 1) * sizeof *net->theta);
    if (!net->theta) goto oom;
    *out = net;
    return NTK_OK;
oom:
    ntk_net_free(net);
    return ntk_set_error(NTK_ENOMEM, "network: cannot allocate parameters");
}

void ntk_net_free(ntk_net *net)
{
    if (!net) return;
    ntk_grad_ws_free(net->ws);
    free(net->theta_g32);
    free(net->theta_g);
    free(net->theta32);
    free(net->theta);
    free(net->cb);
    free(net->cw);
    free(net->offb);
    free(net->offW);
    free(net->n);
    free(net);
}

/* Values per work item of init_weights: a multiple of 4 (one Philox block gives four normals). */
#define INIT_CHUNK ((size_t)1 << 14)

/* The weights of every layer, in chunks of INIT_CHUNK values over one team of threads (one region
 * for all layers; inside it each ntk_rng_normal runs serially).  Value i of layer l's stream depends
 * on (seed, l, i) alone, so the split changes no bit.  starts: [d + 2] scratch. */
static void init_weights(ntk_net *net, uint64_t seed, size_t *starts)
{
    starts[1] = 0; /* starts[l]: the first work item of layer l */
    for (int l = 1; l <= net->d; l++)
        starts[l + 1] = starts[l] + ((size_t)net->n[l] * (size_t)net->n[l - 1] + INIT_CHUNK - 1) / INIT_CHUNK;
    size_t items = starts[net->d + 1];
    la_team team = la_team_begin(items >= 8 ? items : 1);
#pragma omp parallel for schedule(dynamic, 4) num_threads(team.threads) if (team.threads > 1)
    for (size_t q = 0; q < items; q++) {
        int l = 1;
        while (starts[l + 1] <= q) l++;
        size_t nW = (size_t)net->n[l] * (size_t)net->n[l - 1], i0 = (q - starts[l]) * INIT_CHUNK;
        ntk_rng_normal(seed, NTK_STREAM_WEIGHT, (uint64_t)l, i0, nW - i0 < INIT_CHUNK ? nW - i0 : INIT_CHUNK,
                       net->theta + net->offW[l] + i0);
    }
    la_team_end(team);
}

ntk_status ntk_net_init(ntk_net *net, uint64_t seed)
{
    const ntk_spec *s = &net->spec;
    size_t *starts = malloc(((size_t)net->d + 2) * sizeof *starts);
    if (!starts) return ntk_set_error(NTK_ENOMEM, "network init: out of memory");
    init_weights(net, seed, starts);
    free(starts);
    for (int l = 1; l <= net->d; l++) {
        size_t nW = (size_t)net->n[l] * (size_t)net->n[l - 1];
        double *W = net->theta + net->offW[l];
        if (s->param == NTK_PARAM_STANDARD) {
            double sw2 = l == net->d ? s->sw2_out : s->sw2;
            bool fan_in = !(l == 1 && s->first_layer == NTK_FIRST_NONE);
            double scale = sqrt(sw2 / (fan_in ? (double)net->n[l - 1] : 1.0));
            for (size_t i = 0; i < nW; i++) W[i] *= scale;
        }
        if (!net_has_bias(net, l)) continue;
        double *b = net->theta + net->offb[l];
        ntk_bias kind = l == net->d ? s->bias_out : s->bias;
        if (kind == NTK_BIAS_ZERO) {
            memset(b, 0, (size_t)net->n[l] * sizeof *b);
        } else {
            ntk_rng_normal(seed, NTK_STREAM_BIAS, (uint64_t)l, 0, (size_t)net->n[l], b);
            if (s->param == NTK_PARAM_STANDARD)
                for (int i = 0; i < net->n[l]; i++) b[i] *= s->sb;
        }
    }
    net->theta32_valid = false;
    return NTK_OK;
}

const ntk_spec *ntk_net_spec(const ntk_net *net) { return &net->spec; }
int ntk_net_num_layers(const ntk_net *net) { return net->d; }
int ntk_net_width(const ntk_net *net, int l) { return (l >= 0 && l <= net->d) ? net->n[l] : -1; }
size_t ntk_net_num_params(const ntk_net *net) { return net->P; }
double *ntk_net_params(ntk_net *net)
{
    net->theta32_valid = false;
    return net->theta;
}
const double *ntk_net_params_const(const ntk_net *net) { return net->theta; }
void ntk_net_params_changed(ntk_net *net) { net->theta32_valid = false; }

ntk_status ntk_net_layer(const ntk_net *net, int l, ntk_layer *out)
{
    if (l < 1 || l > net->d)
        return ntk_set_error(NTK_EINVAL, "layer %d out of range 1..%d", l, net->d);
    out->W = net->theta + net->offW[l];
    out->b = net_has_bias(net, l) ? net->theta + net->offb[l] : NULL;
    out->rows = net->n[l];
    out->cols = net->n[l - 1];
    out->c_w = net->cw[l];
    out->c_b = net->cb[l];
    return NTK_OK;
}

const void *net_theta(ntk_net *net, ntk_dtype t)
{
    if (t == NTK_F64) return net->theta;
    if (!net->theta32) {
        net->theta32 = la_alloc_big((net->P ? net->P : 1) * sizeof *net->theta32);
        if (!net->theta32) return NULL;
        net->theta32_valid = false;
    }
    if (!net->theta32_valid) {
        for (size_t i = 0; i < net->P; i++) net->theta32[i] = (float)net->theta[i];
        net->theta32_valid = true;
    }
    return net->theta32;
}

ntk_status ntk_net_freeze_gates(ntk_net *net)
{
    if (!net) return ntk_set_error(NTK_EINVAL, "frozen gates: the network is NULL");
    if (net->spec.act != NTK_ACT_RELU)
        return ntk_set_error(NTK_EINVAL,
                             "frozen gates: act is %s, gates are for relu only (the gated network replaces relu's "
                             "phi'(z) = 1[z > 0] by its value at theta_g)",
                             ntk_act_name(net->spec.act));
    if (!net->theta_g && !(net->theta_g = malloc((net->P ? net->P : 1) * sizeof *net->theta_g)))
        return ntk_set_error(NTK_ENOMEM, "frozen gates: out of memory for P = %zu parameters", net->P);
    memcpy(net->theta_g, net->theta, net->P * sizeof *net->theta_g);
    free(net->theta_g32); /* remade from the new theta_g on first use */
    net->theta_g32 = NULL;
    return NTK_OK;
}

void ntk_net_thaw_gates(ntk_net *net)
{
    if (!net) return;
    free(net->theta_g32);
    free(net->theta_g);
    net->theta_g32 = NULL;
    net->theta_g = NULL;
}

int ntk_net_gates_frozen(const ntk_net *net) { return net && net->theta_g ? 1 : 0; }
const double *ntk_net_gate_params(const ntk_net *net) { return net ? net->theta_g : NULL; }

const void *net_theta_g(ntk_net *net, ntk_dtype t)
{
    if (t == NTK_F64 || !net->theta_g) return net->theta_g;
    if (!net->theta_g32) {
        net->theta_g32 = malloc((net->P ? net->P : 1) * sizeof *net->theta_g32);
        if (!net->theta_g32) return NULL;
        for (size_t i = 0; i < net->P; i++) net->theta_g32[i] = (float)net->theta_g[i];
    }
    return net->theta_g32;
}

struct ntk_grad_ws {
    ntk_feats *f;        /* forward activations of the batch */
    double *r0, *r1;     /* [N x max n]: residual backprop ping-pong */
    size_t N;
};

ntk_status ntk_grad_ws_alloc(const ntk_net *net, size_t N, ntk_grad_ws **out)
{
    *out = NULL;
    ntk_grad_ws *w = calloc(1, sizeof *w);
    if (!w) return ntk_set_error(NTK_ENOMEM, "gradient workspace: out of memory");
    ntk_status st = ntk_feats_alloc(net, N, NTK_F64, &w->f);
    size_t m = N * (size_t)net->max_n;
    if (st == NTK_OK) {
        w->r0 = malloc((m ? m : 1) * sizeof(double));
        w->r1 = malloc((m ? m : 1) * sizeof(double));
        if (!w->r0 || !w->r1) st = ntk_set_error(NTK_ENOMEM, "gradient workspace: out of memory for N = %zu", N);
    }
    if (st != NTK_OK) {
        ntk_grad_ws_free(w);
        return st;
    }
    w->N = N;
    *out = w;
    return NTK_OK;
}

void ntk_grad_ws_free(ntk_grad_ws *w)
{
    if (!w) return;
    ntk_feats_free(w->f);
    free(w->r0);
    free(w->r1);
    free(w);
}

/* The network's own workspace for the convenience calls, re-made when N changes. */
static ntk_status net_workspace(ntk_net *net, size_t N)
{
    if (net->ws && net->ws->N == N) return NTK_OK;
    ntk_grad_ws_free(net->ws);
    net->ws = NULL;
    return ntk_grad_ws_alloc(net, N, &net->ws);
}

ntk_status ntk_net_forward_ws(ntk_net *net, ntk_grad_ws *w, const double *X, double *F)
{
    ntk_status st = feats_forward(net, w->f, X);
    if (st != NTK_OK) return st;
    memcpy(F, w->f->Z[net->d], w->N * (size_t)net->n[net->d] * sizeof *F);
    return NTK_OK;
}

ntk_status ntk_net_forward(ntk_net *net, size_t N, const double *X, double *F)
{
    ntk_status st = net_workspace(net, N);
    return st != NTK_OK ? st : ntk_net_forward_ws(net, net->ws, X, F);
}

ntk_status ntk_net_loss_grad(ntk_net *net, size_t N, const double *X, const double *Y, ntk_loss loss,
                             double *loss_out, double *grad)
{
    if (N == 0) return ntk_set_error(NTK_EINVAL, "loss_grad: empty batch");
    ntk_status st = net_workspace(net, N);
    return st != NTK_OK ? st : ntk_net_loss_grad_ws(net, net->ws, X, Y, loss, loss_out, grad);
}

/* db = c_b 1^T R: the bias gradient of a layer from its deltas R: [N x nl] (rows summed in order). */
static void bias_grad(size_t N, size_t nl, const double *R, double cb, double *gb)
{
    for (size_t u = 0; u < nl; u++) gb[u] = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t u = 0; u < nl; u++) gb[u] += R[i * nl + u];
    for (size_t u = 0; u < nl; u++) gb[u] *= cb;
}

/* The loss and its gradient for one output from features with deltas at the current parameters:
 * r = c (F - Y) [N], R_l = diag(r) D_l [N x n_l] (D_{L+1} = 1, so R_{L+1} = r), dW_l = c_w R_l^T H_{l-1}
 * [n_l x n_{l-1}], db_l = c_b 1^T R_l.  R_l equals the residual backprop's delta of layer l (the
 * backward is linear in its seed), to rounding. */
ntk_status net_loss_grad_feats(const ntk_net *net, ntk_grad_ws *w, const ntk_feats *f, const double *Y, ntk_loss loss,
                               double *loss_out, double *grad)
{
    size_t N = f->N;
    int d = net->d;
    if (f->dtype != NTK_F64 || !f->have_deltas || f->k != 1 || N != w->N)
        return ntk_set_error(NTK_EINVAL, "loss_grad: needs float64 features with deltas of one output for %zu points", w->N);
    double c = ntk_loss_factor(loss, N);
    const double *F = f->Z[d];
    double *r = w->r1, *R = w->r0, sum = 0;
    for (size_t i = 0; i < N; i++) {
        double e = F[i] - Y[i];
        sum += e * e;
        r[i] = c * e;
    }
    *loss_out = 0.5 * c * sum;
    for (int l = d; l >= 1; l--) {
        size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
        const double *Rl = r;
        if (l < d) {
            const double *D = f->D[l];
            for (size_t i = 0; i < N; i++)
                for (size_t u = 0; u < nl; u++) R[i * nl + u] = r[i] * D[i * nl + u];
            Rl = R;
        }
        /* dW_l = c_w R_l^T H_{l-1}: [n_l x n_{l-1}] */
        la_gemm(NTK_F64, true, false, nl, np, N, net->cw[l], Rl, nl, f->H[l - 1], np, 0.0, grad + net->offW[l], np);
        if (net_has_bias(net, l)) bias_grad(N, nl, Rl, net->cb[l], grad + net->offb[l]);
    }
    return NTK_OK;
}

/* One output: the features with deltas (ntk_feats_compute, as a tracked run's kernel computes them),
 * then net_loss_grad_feats, so a step can reuse a snapshot's features bit for bit.  k > 1 outputs:
 * the residual backprop (deltas of k seeds would cost k backward passes). */
ntk_status ntk_net_loss_grad_ws(ntk_net *net, ntk_grad_ws *w, const double *X, const double *Y, ntk_loss loss,
                                double *loss_out, double *grad)
{
    ntk_feats *f = w->f;
    size_t N = w->N;
    int d = net->d, k = net->n[d];
    if (k == 1) {
        ntk_status st = ntk_feats_compute(net, f, X);
        return st != NTK_OK ? st : net_loss_grad_feats(net, w, f, Y, loss, loss_out, grad);
    }
    ntk_status st = feats_forward(net, f, X);
    if (st != NTK_OK) return st;
    double c = ntk_loss_factor(loss, N);
    /* R = c (F - Y): [N x k] = dL/dz^(d) */
    const double *F = f->Z[d];
    double *R = w->r0, *Rn = w->r1, sum = 0;
    for (size_t i = 0; i < N * (size_t)k; i++) {
        double r = F[i] - Y[i];
        sum += r * r;
        R[i] = c * r;
    }
    *loss_out = 0.5 * c * sum;
    for (int l = d; l >= 1; l--) {
        size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
        const double *W = net->theta + net->offW[l];
        /* dW_l = c_w R^T H_{l-1}: [n_l x n_{l-1}] */
        la_gemm(NTK_F64, true, false, nl, np, N, net->cw[l], R, nl, f->H[l - 1], np, 0.0,
                grad + net->offW[l], np);
        if (net_has_bias(net, l)) bias_grad(N, nl, R, net->cb[l], grad + net->offb[l]);
        if (l == 1) break;
        /* R_{l-1} = c_w (R W_l) o phi'(Z_{l-1}): [N x n_{l-1}] */
        la_gemm(NTK_F64, false, false, N, np, nl, net->cw[l], R, nl, W, np, 0.0, Rn, np);
        act_deriv_mul_rows(net->spec.act, NTK_F64, N, 1, np, feats_dphi_arg(f, l - 1), Rn, f->scratch);
        double *tmp = R;
        R = Rn;
        Rn = tmp;
    }
    return NTK_OK;
}
