/* feats.c -- batched forward activations and per-example backprop vectors
 * (the Gram factors of every kernel), in float64 or float32; with frozen gates (ntk_net_freeze_gates)
 * each forward first runs the network at theta_g for the gates. */
#include "net.h"
#include "ntk_private.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "la.h"

size_t ntk_feats_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype)
{
    /* H: n_0..n_L, Z: n_1..n_{L+1}, D: k * (n_1..n_{L+1}) */
    double units = spec->n0, k = spec->outputs;
    double hidden = 0;
    for (int l = 0; l < spec->depth; l++) hidden += spec->widths[l];
    units += 2 * hidden + k + k * (hidden + k);
    double b = units * (double)N * (double)la_elem(dtype);
    return b > (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

ntk_status ntk_feats_alloc(const ntk_net *net, size_t N, ntk_dtype dtype, ntk_feats **out)
{
    *out = NULL;
    if (N == 0) return ntk_set_error(NTK_EINVAL, "features: batch size N must be > 0");
    if (!la_float_type(dtype)) return ntk_set_error(NTK_EINVAL, "features: dtype %s is not float64 or float32", ntk_dtype_name(dtype));
    int d = net->d, k = net->n[d];
    size_t es = la_elem(dtype), total = 0;
    for (int l = 0; l < d; l++) total += N * (size_t)net->n[l];                    /* H */
    for (int l = 1; l <= d; l++) total += N * (size_t)net->n[l] * (1 + (size_t)k); /* Z, D */
    if (!la_dims_ok(N * (size_t)k, (size_t)net->max_n, 1)) return NTK_EINVAL;
    ntk_feats *f = calloc(1, sizeof *f);
    if (!f) return ntk_set_error(NTK_ENOMEM, "features: out of memory");
    f->dtype = dtype;
    f->N = N;
    f->k = k;
    f->d = d;
    f->n = malloc(((size_t)d + 1) * sizeof *f->n);
    f->H = calloc((size_t)d + 1, sizeof *f->H);
    f->Z = calloc((size_t)d + 1, sizeof *f->Z);
    f->D = calloc((size_t)d + 1, sizeof *f->D);
    f->block = la_alloc_big(total * es);
    f->scratch = malloc(2 * (size_t)net->max_n * sizeof *f->scratch);
    if (!f->scratch || !f->n || !f->H || !f->Z || !f->D || !f->block) {
        ntk_feats_free(f);
        return ntk_set_error(NTK_ENOMEM, "features: cannot allocate %zu bytes for N = %zu", total * es, N);
    }
    memcpy(f->n, net->n, ((size_t)d + 1) * sizeof *f->n);
    char *p = f->block;
    for (int l = 0; l < d; l++) {
        f->H[l] = p;
        p += N * (size_t)net->n[l] * es;
    }
    for (int l = 1; l <= d; l++) {
        f->Z[l] = p;
        p += N * (size_t)net->n[l] * es;
        f->D[l] = p;
        p += N * (size_t)k * (size_t)net->n[l] * es;
    }
    *out = f;
    return NTK_OK;
}

void ntk_feats_free(ntk_feats *f)
{
    if (!f) return;
    free(f->block);
    free(f->gblock);
    free(f->G);
    free(f->scratch);
    free(f->D);
    free(f->Z);
    free(f->H);
    free(f->n);
    free(f);
}

size_t ntk_feats_n(const ntk_feats *f) { return f->N; }
ntk_dtype ntk_feats_dtype(const ntk_feats *f) { return f->dtype; }

static bool feats_match(const ntk_net *net, const ntk_feats *f)
{
    if (f->d != net->d) return false;
    for (int l = 0; l <= f->d; l++)
        if (f->n[l] != net->n[l]) return false;
    return true;
}

/* Rows [r0, r1) of Z_l = c_w H_{l-1} W_l^T (+ c_b 1 b_l^T): [N x n_l], with W_l, b_l of the parameter
 * vector th (float64 th64 for the bias; th in the feats' dtype for W). */
static void layer_pre(const ntk_net *net, ntk_feats *f, int l, const char *th, const double *th64, size_t r0,
                      size_t r1)
{
    ntk_dtype t = f->dtype;
    size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1], es = la_elem(t);
    char *Z = (char *)f->Z[l] + r0 * nl * es;
    la_gemm(t, false, true, r1 - r0, nl, np, net->cw[l], (const char *)f->H[l - 1] + r0 * np * es, np,
            th + net->offW[l] * es, np, 0.0, Z, nl);
    if (net_has_bias(net, l)) act_add_bias_rows(t, r1 - r0, nl, net->cb[l], th64 + net->offb[l], Z);
}

/* Frozen gates: G (one allocation) on the first gated forward. */
static ntk_status gates_alloc(ntk_feats *f)
{
    if (f->G) return NTK_OK;
    size_t N = f->N, es = la_elem(f->dtype), total = 0;
    for (int l = 1; l < f->d; l++) total += N * (size_t)f->n[l];
    f->G = calloc((size_t)f->d + 1, sizeof *f->G);
    f->gblock = la_alloc_big((total ? total : 1) * es);
    if (!f->G || !f->gblock) {
        free(f->G), free(f->gblock);
        f->G = NULL, f->gblock = NULL;
        return ntk_set_error(NTK_ENOMEM, "frozen gates: cannot allocate %zu bytes of gates for N = %zu", total * es, N);
    }
    char *p = f->gblock;
    for (int l = 1; l < f->d; l++) {
        f->G[l] = p;
        p += N * (size_t)f->n[l] * es;
    }
    return NTK_OK;
}

/* Rows [r0, r1) of the frozen gates: the relu network at theta_g (thg) on the inputs in H[0] (Z and H
 * of the hidden layers as its scratch, overwritten by the forward that follows),
 * G[l] = 1[z^(l)(x; theta_g) > 0]. */
static void gate_rows(ntk_net *net, ntk_feats *f, const char *thg, size_t r0, size_t r1)
{
    ntk_dtype t = f->dtype;
    size_t es = la_elem(t), rows = r1 - r0;
    for (int l = 1; l < net->d; l++) {
        size_t nl = (size_t)net->n[l], off = r0 * nl * es;
        layer_pre(net, f, l, thg, net->theta_g, r0, r1);
        act_gates(t, rows * nl, (char *)f->Z[l] + off, (char *)f->G[l] + off);
        if (l + 1 < net->d) act_forward(NTK_ACT_RELU, t, rows * nl, (char *)f->Z[l] + off, (char *)f->H[l] + off);
    }
}

/* Rows [r0, r1) of the forward pass: H[0] from X, the gates when gated (thg), Z and H of every layer. */
static void forward_rows(ntk_net *net, ntk_feats *f, const double *X, const char *theta, const char *thg, size_t r0,
                         size_t r1)
{
    ntk_dtype t = f->dtype;
    size_t es = la_elem(t), rows = r1 - r0, n0 = (size_t)net->n[0];
    la_convert(t, (char *)f->H[0] + r0 * n0 * es, NTK_F64, X + r0 * n0, rows * n0);
    if (thg) gate_rows(net, f, thg, r0, r1);
    for (int l = 1; l <= net->d; l++) {
        size_t nl = (size_t)net->n[l], off = r0 * nl * es;
        layer_pre(net, f, l, theta, net->theta, r0, r1);
        if (l == net->d) break;
        if (thg)
            act_gated_forward(t, rows * nl, (char *)f->Z[l] + off, (char *)f->G[l] + off, (char *)f->H[l] + off);
        else
            act_forward(net->spec.act, t, rows * nl, (char *)f->Z[l] + off, (char *)f->H[l] + off);
    }
}

/* Rows [r0, r1) of the backward pass (the deltas of those points; Z and the gates as left by the
 * forward).  scratch: [2 max n] doubles. */
static void backward_rows(ntk_net *net, ntk_feats *f, const char *theta, size_t r0, size_t r1, double *scratch)
{
    ntk_dtype t = f->dtype;
    size_t k = (size_t)f->k, es = la_elem(t), rows = r1 - r0;
    int d = net->d;
    /* delta^(L+1)[(i,a), b] = [a == b] */
    char *Dd = (char *)f->D[d] + r0 * k * k * es;
    memset(Dd, 0, rows * k * k * es);
    for (size_t i = 0; i < rows; i++)
        for (size_t a = 0; a < k; a++) la_set(Dd, (i * k + a) * k + a, t, 1.0);
    for (int l = d; l >= 2; l--) {
        size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
        char *Dp = (char *)f->D[l - 1] + r0 * k * np * es;
        /* D_{l-1} = c_w (D_l W_l) o phi'(Z_{l-1}) (the gates G_{l-1} when frozen): [N*k x n_{l-1}] */
        la_gemm(t, false, false, rows * k, np, nl, net->cw[l], (const char *)f->D[l] + r0 * k * nl * es, nl,
                theta + net->offW[l] * es, np, 0.0, Dp, np);
        act_deriv_mul_rows(net->spec.act, t, rows, (int)k, np, (const char *)feats_dphi_arg(f, l - 1) + r0 * np * es,
                           Dp, scratch);
    }
}

/* The parameters of the feats' dtype and, for a net with frozen gates, the gate parameters and the
 * gates' buffers: everything a forward needs before its rows run (none of it thread-safe). */
static ntk_status forward_prepare(ntk_net *net, ntk_feats *f, const char **theta, const char **thg)
{
    if (!feats_match(net, f)) return ntk_set_error(NTK_EINVAL, "features were allocated for another network");
    *thg = NULL;
    if (!(*theta = net_theta(net, f->dtype))) return ntk_set_error(NTK_ENOMEM, "float32 parameter mirror: out of memory");
    f->have_deltas = false;
    f->gated = false;
    if (net->theta_g) {
        ntk_status st = gates_alloc(f);
        if (st != NTK_OK) return st;
        if (!(*thg = net_theta_g(net, f->dtype)))
            return ntk_set_error(NTK_ENOMEM, "frozen gates: float32 mirror of theta_g: out of memory");
    }
    return NTK_OK;
}

ntk_status feats_forward(ntk_net *net, ntk_feats *f, const double *X)
{
    const char *theta = NULL, *thg = NULL;
    ntk_status st = forward_prepare(net, f, &theta, &thg);
    if (st != NTK_OK) return st;
    forward_rows(net, f, X, theta, thg, 0, f->N);
    f->gated = thg != NULL;
    return NTK_OK;
}

ntk_status feats_backward(ntk_net *net, ntk_feats *f)
{
    const char *theta = net_theta(net, f->dtype);
    if (!theta) return ntk_set_error(NTK_ENOMEM, "float32 parameter mirror: out of memory");
    backward_rows(net, f, theta, 0, f->N, f->scratch);
    f->have_deltas = true;
    return NTK_OK;
}

/* Points per chunk of ntk_feats_compute: a function of N alone (never of the thread count), so the
 * BLAS calls and with them the features are the same to the bit for every thread count.  Half of N
 * (two chunks share two threads), rounded up to a multiple of 4 (OpenBLAS's row unrolling), within
 * [FEATS_CHUNK_MIN, FEATS_CHUNK_MAX]: below 128 rows GEMM pays for packing W once per chunk, and
 * 256-row chunks run GEMM within ~2 % of its peak while many of them keep more threads busy. */
#define FEATS_CHUNK_MIN 128
#define FEATS_CHUNK_MAX 256

static size_t chunk_rows(size_t N)
{
    size_t c = (N / 2 + 3) / 4 * 4;
    return c < FEATS_CHUNK_MIN ? FEATS_CHUNK_MIN : c > FEATS_CHUNK_MAX ? FEATS_CHUNK_MAX : c;
}

/* Forward and backward chunk by chunk over OpenMP threads (BLAS single-threaded inside): every point
 * is independent, and a chunk's layers stay in cache from its forward to its backward. */
ntk_status ntk_feats_compute(ntk_net *net, ntk_feats *f, const double *X)
{
    const char *theta = NULL, *thg = NULL;
    ntk_status st = forward_prepare(net, f, &theta, &thg);
    if (st != NTK_OK) return st;
    f->gated = thg != NULL; /* the backward reads the gates through feats_dphi_arg */
    size_t N = f->N, B = chunk_rows(N), chunks = (N + B - 1) / B;
    if (chunks == 1) {
        forward_rows(net, f, X, theta, thg, 0, N);
        backward_rows(net, f, theta, 0, N, f->scratch);
        f->have_deltas = true;
        return NTK_OK;
    }
    la_team team = la_team_begin(chunks);
    int nt = team.threads;
    size_t per = 2 * (size_t)net->max_n;
    double *scratch = malloc((size_t)nt * per * sizeof *scratch);
    if (!scratch) {
        la_team_end(team);
        return ntk_set_error(NTK_ENOMEM, "features: out of memory");
    }
#pragma omp parallel num_threads(nt)
    {
        double *s = scratch + (size_t)omp_get_thread_num() * per;
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < chunks; c++) {
            size_t r0 = c * B, r1 = r0 + B < N ? r0 + B : N;
            forward_rows(net, f, X, theta, thg, r0, r1);
            backward_rows(net, f, theta, r0, r1, s);
        }
    }
    la_team_end(team);
    free(scratch);
    f->have_deltas = true;
    return NTK_OK;
}

ntk_status ntk_feats_delta(const ntk_feats *f, int l, double *out)
{
    if (l < 1 || l > f->d) return ntk_set_error(NTK_EINVAL, "delta layer %d out of range 1..%d", l, f->d);
    if (!f->have_deltas) return ntk_set_error(NTK_EINVAL, "deltas not computed (call ntk_feats_compute)");
    la_convert(NTK_F64, out, f->dtype, f->D[l], f->N * (size_t)f->k * (size_t)f->n[l]);
    return NTK_OK;
}

ntk_status ntk_feats_act(const ntk_feats *f, int l, double *out)
{
    if (l < 0 || l >= f->d) return ntk_set_error(NTK_EINVAL, "activation layer %d out of range 0..%d", l, f->d - 1);
    la_convert(NTK_F64, out, f->dtype, f->H[l], f->N * (size_t)f->n[l]);
    return NTK_OK;
}

ntk_status ntk_feats_preact(const ntk_feats *f, int l, double *out)
{
    if (l < 1 || l > f->d) return ntk_set_error(NTK_EINVAL, "pre-activation layer %d out of range 1..%d", l, f->d);
    la_convert(NTK_F64, out, f->dtype, f->Z[l], f->N * (size_t)f->n[l]);
    return NTK_OK;
}

ntk_status ntk_feats_output(const ntk_feats *f, double *out)
{
    la_convert(NTK_F64, out, f->dtype, f->Z[f->d], f->N * (size_t)f->k);
    return NTK_OK;
}
