/* ntk_dot.c -- the kernel's velocity along gradient flow, Kdot = dK/dtau with
 * theta' = v = -grad L.  Forward-mode tangents of the Gram factors:
 *   Zdot_l = c_w (Hdot_{l-1} W_l^T + H_{l-1} V_l^T) + c_b 1 vb_l^T,  Hdot_l = phi'(Z_l) o Zdot_l
 *   Ddot_{l-1} = c_w (Ddot_l W_l + D_l V_l) o phi'(Z_{l-1}) + c_w (D_l W_l) o phi''(Z_{l-1}) o Zdot_{l-1}
 * (D_{L+1} is constant), and per layer
 *   Kdot += (Ddot D^T + D Ddot^T) o (c_w^2 H H^T + c_b^2) + (D D^T) o c_w^2 (Hdot H^T + H Hdot^T).
 * For relu phi'' = 0: the "pathwise" velocity with activation masks frozen.  With frozen gates phi'
 * is the gate (feats_dphi_arg): the exact velocity of the gated network. */
#include "net.h"
#include "ntk_private.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "tangents.h"

typedef struct {
    double **Zd, **Hd, **Dd; /* [d+1] tangents: Zdot_l, Hdot_l [N x n_l], Ddot_l [N*k x n_l] */
    double *block;
    double *GH, *GHd, *GD, *GDd; /* Gram scratch: [N x N] and [N*k x N*k] */
    double *tmp;                 /* [N*k x max n] */
} dot_ws;

static void dot_ws_free(dot_ws *w)
{
    free(w->Zd);
    free(w->block);
    free(w->GH);
    free(w->tmp);
    memset(w, 0, sizeof *w);
}

static ntk_status dot_ws_alloc(const ntk_net *net, size_t N, dot_ws *w)
{
    memset(w, 0, sizeof *w);
    int d = net->d;
    size_t k = (size_t)net->n[d], total = 0, R = N * k;
    for (int l = 0; l <= d; l++) total += N * (size_t)net->n[l] * (2 + k);
    w->Zd = calloc(3 * ((size_t)d + 1), sizeof *w->Zd);
    w->block = calloc(total ? total : 1, sizeof *w->block);
    w->GH = malloc((2 * N * N + 2 * R * R) * sizeof *w->GH);
    w->tmp = malloc(R * (size_t)net->max_n * sizeof *w->tmp);
    if (!w->Zd || !w->block || !w->GH || !w->tmp) {
        dot_ws_free(w);
        return ntk_set_error(NTK_ENOMEM, "kernel velocity: out of memory for N = %zu", N);
    }
    w->Hd = w->Zd + d + 1;
    w->Dd = w->Hd + d + 1;
    double *p = w->block;
    for (int l = 0; l <= d; l++) {
        size_t nl = (size_t)net->n[l];
        w->Zd[l] = p, p += N * nl;
        w->Hd[l] = p, p += N * nl;
        w->Dd[l] = p, p += N * k * nl;
    }
    w->GHd = w->GH + N * N;
    w->GD = w->GHd + N * N;
    w->GDd = w->GD + R * R;
    return NTK_OK;
}

void feat_tangents_forward(const ntk_net *net, const ntk_feats *f, const double *v, double **Zdl, double **Hdl)
{
    size_t N = f->N;
    memset(Hdl[0], 0, N * (size_t)net->n[0] * sizeof(double));
    for (int l = 1; l <= net->d; l++) {
        size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
        const double *W = net->theta + net->offW[l], *VW = v + net->offW[l];
        double *Zd = Zdl[l];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)nl, (int)np, net->cw[l], Hdl[l - 1],
                    (int)np, W, (int)np, 0.0, Zd, (int)nl);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)nl, (int)np, net->cw[l], f->H[l - 1],
                    (int)np, VW, (int)np, 1.0, Zd, (int)nl);
        if (net_has_bias(net, l)) act_add_bias_rows(NTK_F64, N, nl, net->cb[l], v + net->offb[l], Zd);
        if (l < net->d) {
            const double *Z = feats_dphi_arg(f, l);
            for (size_t i = 0; i < N * nl; i++) Hdl[l][i] = act_dphi(net->spec.act, Z[i]) * Zd[i];
        }
    }
}

void feat_tangents_backward(const ntk_net *net, const ntk_feats *f, const double *v, double *const *Zdl, double **Ddl,
                            double *tmp)
{
    size_t N = f->N, k = (size_t)f->k, R = N * k;
    int d = net->d;
    memset(Ddl[d], 0, R * k * sizeof(double));
    for (int l = d; l >= 2; l--) {
        size_t nl = (size_t)net->n[l], np = (size_t)net->n[l - 1];
        const double *W = net->theta + net->offW[l], *VW = v + net->offW[l];
        const double *D = f->D[l], *Z = feats_dphi_arg(f, l - 1), *Zd = Zdl[l - 1];
        double *Dd = Ddl[l - 1], *DW = tmp;
        /* Dd = c_w (Ddot_l W + D_l V); DW = c_w D_l W */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)np, (int)nl, net->cw[l], Ddl[l],
                    (int)nl, W, (int)np, 0.0, Dd, (int)np);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)np, (int)nl, net->cw[l], D, (int)nl,
                    VW, (int)np, 1.0, Dd, (int)np);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)np, (int)nl, net->cw[l], D, (int)nl,
                    W, (int)np, 0.0, DW, (int)np);
        for (size_t i = 0; i < N; i++)
            for (size_t u = 0; u < np; u++) {
                double z = Z[i * np + u], g1 = act_dphi(net->spec.act, z);
                double g2 = act_d2phi(net->spec.act, z) * Zd[i * np + u];
                for (size_t a = 0; a < k; a++) {
                    size_t idx = (i * k + a) * np + u;
                    Dd[idx] = Dd[idx] * g1 + DW[idx] * g2;
                }
            }
    }
}

ntk_status ntk_kernel_velocity(ntk_net *net, size_t N, const double *X, const double *Y, ntk_loss loss,
                               double *Kdot)
{
    double *v = malloc((net->P ? net->P : 1) * sizeof *v), Lval;
    ntk_feats *f = NULL;
    dot_ws w = {0};
    ntk_status st = v ? NTK_OK : ntk_set_error(NTK_ENOMEM, "kernel velocity: out of memory");
    if (st == NTK_OK) st = ntk_net_loss_grad(net, N, X, Y, loss, &Lval, v);
    if (st == NTK_OK) st = ntk_feats_alloc(net, N, NTK_F64, &f);
    if (st == NTK_OK) st = ntk_feats_compute(net, f, X);
    if (st == NTK_OK) st = dot_ws_alloc(net, N, &w);
    if (st != NTK_OK) goto out;
    for (size_t i = 0; i < net->P; i++) v[i] = -v[i];
    feat_tangents_forward(net, f, v, w.Zd, w.Hd);
    feat_tangents_backward(net, f, v, w.Zd, w.Dd, w.tmp);
    size_t k = (size_t)f->k, R = N * k;
    memset(Kdot, 0, R * R * sizeof *Kdot);
    for (int l = 1; l <= net->d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        bool readout = l == net->d;
        double cw2 = net->cw[l] * net->cw[l], cb2 = net->cb[l] * net->cb[l];
        const double *H = f->H[l - 1], *Hd = w.Hd[l - 1];
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)N, (int)np, 1.0, H, (int)np, 0.0, w.GH, (int)N);
        cblas_dsyr2k(CblasRowMajor, CblasLower, CblasNoTrans, (int)N, (int)np, 1.0, Hd, (int)np, H, (int)np, 0.0,
                     w.GHd, (int)N);
        if (!readout) {
            cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)R, (int)nl, 1.0, f->D[l], (int)nl, 0.0, w.GD,
                        (int)R);
            cblas_dsyr2k(CblasRowMajor, CblasLower, CblasNoTrans, (int)R, (int)nl, 1.0, w.Dd[l], (int)nl, f->D[l],
                         (int)nl, 0.0, w.GDd, (int)R);
        }
        for (size_t r = 0; r < R; r++)
            for (size_t q = 0; q <= r; q++) {
                size_t i = r / k, j = q / k, a = r % k, b = q % k, ij = i * N + j;
                double gd = readout ? (a == b) : w.GD[r * R + q], gdd = readout ? 0.0 : w.GDd[r * R + q];
                Kdot[r * R + q] += gdd * (cw2 * w.GH[ij] + cb2) + gd * cw2 * w.GHd[ij];
            }
    }
    for (size_t r = 0; r < R; r++)
        for (size_t q = 0; q < r; q++) Kdot[q * R + r] = Kdot[r * R + q];
out:
    dot_ws_free(&w);
    ntk_feats_free(f);
    free(v);
    return st;
}
