/* ntk_hier.c -- the neural tangent hierarchy's tensors at the current parameters (docs/dynamics.md,
 * "The neural tangent hierarchy"), one output (k = 1):
 *   O3_abc = grad K_ab . g_c,   O4_abcd = grad O3_abc . g_d,   g_c = grad_theta f(x_c).
 *
 * No Jacobian.  With T_p(s, s') = g_s^T (d^2 f(x_p) / d theta^2) g_s' (symmetric in s, s'),
 * K_ab = g_a . g_b gives O3_abc = T_a(b, c) + T_b(a, c).  T_p comes from the forward tangents of point
 * p along the directions g_s, which need no parameter-sized vector because every layer's part of g_s
 * is rank one (c_w delta_l(s) h_{l-1}(s)^T, c_b delta_l(s)):
 *   dZ_1[p,s] = A_1[p,s] delta_1(s),
 *   dZ_l[p,s] = c_w W_l dH_{l-1}[p,s] + A_l[p,s] delta_l(s),   A_l[p,s] = c_w^2 h_{l-1}(p).h_{l-1}(s) + c_b^2,
 *   dH_l[p,s] = phi'(z_l(p)) o dZ_l[p,s]                        (dZ_{L+1}[p,s] = K_ps),
 * and the second-order adjoint sum over the layers,
 *   T_p(s,s') = sum_{l>=2} c_w^2 [GD_l(p,s) h_{l-1}(s).dH_{l-1}[p,s'] + GD_l(p,s') h_{l-1}(s').dH_{l-1}[p,s]]
 *             + sum_{l<=L} sum_u e_l(p)_u phi''(z_l(p)_u) dZ_l[p,s]_u dZ_l[p,s']_u,
 * with GD_l(p,s) = delta_l(p).delta_l(s) (1 at the readout) and e_l = c_w^{(l+1)} W_{l+1}^T delta_{l+1}
 * = df/dh_l.  O4 is the same computation differentiated in forward mode along g_d (every feature,
 * Gram and tangent carries its own tangent; phi''' enters through e_l phi''(z_l)), so it is the exact
 * derivative of O3(theta) along g_d, the change of the directions g_c included.  relu: phi'' = 0, the
 * pathwise tensors (activation masks frozen), as ntk_kernel_velocity; with frozen gates
 * (ntk_net_freeze_gates) phi' is the gate, and the tensors are the gated network's exact ones.
 *
 * Hessian points are processed in blocks of B rows (the forward tangents of a block are B S x n_l). */
#include "net.h"
#include "ntk_private.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "la.h"
#include "tangents.h"

/* Block workspace target: the forward tangents of a block stay below this many bytes. */
#define HIER_BLOCK_BYTES 256e6
/* Weight layers the plan handles (a stack array of widths). */
#define NTK_HIER_MAX_LAYERS 4096

typedef struct {
    const ntk_net *net;
    const ntk_feats *f; /* features of [X; Xe]: NU = N + M rows */
    size_t N, M, NU;
    int d, smooth, tan;
    double **GH, **GD, **E;       /* GH[l-1], l = 1..d: [NU x NU]; GD[l], l = 1..d-1: [NU x NU]; E[l], l = 1..d-1: [NU x n_l] */
    double **GHt, **GDt, **Et;    /* their tangents along v (tan) */
    double **Zt, **Ht, **Dt;      /* feature tangents along v (tan) */
    double *v;                    /* [P] direction g_d (tan) */
    double *ftmp;                 /* [NU x max n] */
    size_t Bmax, Smax;
    double *dZ, *dH, *dHp, *dZt, *dHt, *dHpt; /* [Bmax Smax x max n] */
    double *Q, *Qt;               /* [Bmax Smax x Smax] */
    double *T, *Tt;               /* [Bmax x Smax x Smax] */
    double *sc, *sct;             /* [Smax x max n] */
    double *g, *g2, *w, *wt;      /* [max n] */
    double *mem;
    ntk_feats *own;
} hier;

/* Rows per block: the block buffers ([B S x max n] forward tangents, [B S x S] Q and T; doubled
 * with tangents) within HIER_BLOCK_BYTES. */
static size_t block_rows(size_t mx, size_t NP, size_t S, int tan)
{
    double per = 8.0 * (double)S * ((double)mx * 3 + 2.0 * (double)S) * (tan ? 2 : 1);
    double B = floor(HIER_BLOCK_BYTES / per);
    if (B < 1) B = 1;
    return B >= (double)NP ? NP : (size_t)B;
}

/* The workspace's layout, in doubles: widths n[0..d]; pointers are set when h != NULL (base:
 * the allocation).  One walk for the plan and the allocation, so the plan is what is allocated. */
static size_t hier_layout(const int *n, int d, size_t NU, size_t Bmax, size_t Smax, int tan, hier *h, double *base)
{
    size_t o = 0, mx = 1, BS = Bmax * Smax;
    for (int l = 0; l <= d; l++)
        if ((size_t)n[l] > mx) mx = (size_t)n[l];
#define TAKE(ptr, cnt)                                                                                        \
    do {                                                                                                       \
        if (h) (ptr) = base + o;                                                                               \
        o += (cnt);                                                                                            \
    } while (0)
    for (int l = 0; l < d; l++) {
        size_t nl = (size_t)n[l];
        TAKE(h->GH[l], NU * NU);
        if (l >= 1) {
            TAKE(h->GD[l], NU * NU);
            TAKE(h->E[l], NU * nl);
        }
        if (tan) {
            TAKE(h->GHt[l], NU * NU);
            if (l >= 1) {
                TAKE(h->GDt[l], NU * NU);
                TAKE(h->Et[l], NU * nl);
            }
        }
    }
    if (tan)
        for (int l = 0; l <= d; l++) {
            size_t nl = (size_t)n[l];
            if (l >= 1) TAKE(h->Zt[l], NU * nl);
            if (l >= 1) TAKE(h->Dt[l], NU * nl);
            if (l < d) TAKE(h->Ht[l], NU * nl);
        }
    TAKE(h->ftmp, NU * mx);
    TAKE(h->dZ, BS * mx);
    TAKE(h->dH, BS * mx);
    TAKE(h->dHp, BS * mx);
    TAKE(h->Q, BS * Smax);
    TAKE(h->T, BS * Smax);
    TAKE(h->sc, Smax * mx);
    TAKE(h->g, mx);
    TAKE(h->g2, mx);
    TAKE(h->w, mx);
    TAKE(h->wt, mx);
    if (tan) {
        TAKE(h->dZt, BS * mx);
        TAKE(h->dHt, BS * mx);
        TAKE(h->dHpt, BS * mx);
        TAKE(h->Qt, BS * Smax);
        TAKE(h->Tt, BS * Smax);
        TAKE(h->sct, Smax * mx);
    }
#undef TAKE
    return o;
}

/* Bytes besides the outputs: features of N + M points, the workspace, the direction v (tan). */
static double work_bytes(const ntk_spec *s, size_t N, size_t M, int tan)
{
    int d = s->depth + 1, n[NTK_HIER_MAX_LAYERS + 1];
    if (d > NTK_HIER_MAX_LAYERS) return INFINITY;
    n[0] = s->n0;
    for (int l = 1; l < d; l++) n[l] = s->widths[l - 1];
    n[d] = s->outputs;
    size_t NU = N + M, Smax = M ? NU : N, mx = 1;
    double P = 0;
    for (int l = 0; l <= d; l++) {
        if ((size_t)n[l] > mx) mx = (size_t)n[l];
        if (l >= 1) P += (double)n[l] * (n[l - 1] + 1.0);
    }
    size_t B = block_rows(mx, NU, Smax, tan);
    double e = (double)hier_layout(n, d, NU, B, Smax, tan, NULL, NULL) + (tan ? P : 0);
    return 8.0 * e + (double)ntk_feats_bytes(s, NU, NTK_F64);
}

double ntk_o3_bytes(const ntk_spec *spec, size_t N, size_t M)
{
    double n = (double)N, out = n * n * n + (double)M * n * n;
    return 8.0 * out + work_bytes(spec, N, M, 0);
}

double ntk_o4_bytes(const ntk_spec *spec, size_t N, size_t M)
{
    double n = (double)N, n3 = n * n * n, out = n3 * n + (double)M * n3;
    return 8.0 * out + work_bytes(spec, N, M, 1);
}

ntk_o3_opts ntk_o3_defaults(void) { return (ntk_o3_opts){.budget = 0, .threads = 0}; }

static void hier_free(hier *h)
{
    free(h->GH);
    free(h->mem);
    free(h->v);
    ntk_feats_free(h->own);
    memset(h, 0, sizeof *h);
}

/* Features of [X; Xe], Grams, e_l; with tan the tangent buffers too (filled per direction). */
static ntk_status hier_alloc(ntk_net *net, size_t N, const double *X, size_t M, const double *Xe, int tan, hier *h,
                             const char *what)
{
    memset(h, 0, sizeof *h);
    int d = net->d;
    size_t NU = N + M, n0 = (size_t)net->n[0], mx = (size_t)net->max_n;
    if (d > NTK_HIER_MAX_LAYERS) return ntk_set_error(NTK_EINVAL, "%s: depth %d exceeds %d", what, d - 1, NTK_HIER_MAX_LAYERS - 1);
    h->net = net;
    h->N = N, h->M = M, h->NU = NU, h->d = d, h->tan = tan;
    h->smooth = net->spec.act != NTK_ACT_RELU && net->spec.act != NTK_ACT_IDENTITY;
    h->Smax = M ? NU : N;
    h->Bmax = block_rows(mx, NU, h->Smax, tan);
    if (!la_dims_ok(h->Bmax * h->Smax, mx > h->Smax ? mx : h->Smax, NU)) return NTK_EINVAL;
    double *Xall = malloc(NU * n0 * sizeof *Xall);
    ntk_status st = Xall ? ntk_feats_alloc(net, NU, NTK_F64, &h->own) : NTK_ENOMEM;
    if (st == NTK_OK) {
        memcpy(Xall, X, N * n0 * sizeof *X);
        if (M) memcpy(Xall + N * n0, Xe, M * n0 * sizeof *Xe);
        st = ntk_feats_compute(net, h->own, Xall);
    }
    free(Xall);
    if (st != NTK_OK) {
        hier_free(h);
        return st == NTK_ENOMEM ? ntk_set_error(NTK_ENOMEM, "%s: out of memory for the features", what) : st;
    }
    h->f = h->own;
    size_t total = hier_layout(net->n, d, NU, h->Bmax, h->Smax, tan, NULL, NULL);
    h->GH = calloc(9 * ((size_t)d + 1), sizeof *h->GH);
    h->mem = la_alloc_big(total * sizeof(double));
    if (tan) h->v = malloc((net->P ? net->P : 1) * sizeof *h->v);
    if (!h->GH || !h->mem || (tan && !h->v)) {
        hier_free(h);
        return ntk_set_error(NTK_ENOMEM, "%s: out of memory for the workspace (%.3g GB)", what, 8e-9 * (double)total);
    }
    h->GD = h->GH + d + 1, h->E = h->GD + d + 1;
    h->GHt = h->E + d + 1, h->GDt = h->GHt + d + 1, h->Et = h->GDt + d + 1;
    h->Zt = h->Et + d + 1, h->Ht = h->Zt + d + 1, h->Dt = h->Ht + d + 1;
    hier_layout(net->n, d, NU, h->Bmax, h->Smax, tan, h, h->mem);
    memset(h->mem, 0, total * sizeof(double));
    /* Grams: GH[l-1] = H_{l-1} H_{l-1}^T, GD[l] = D_l D_l^T, and e_l = c_w^{l+1} D_{l+1} W_{l+1} */
    const ntk_feats *f = h->f;
    for (int l = 1; l <= d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)NU, (int)np, 1.0, f->H[l - 1], (int)np, 0.0,
                    h->GH[l - 1], (int)NU);
        la_symmetrize_lower(NTK_F64, NU, h->GH[l - 1]);
        if (l < d) {
            cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)NU, (int)nl, 1.0, f->D[l], (int)nl, 0.0,
                        h->GD[l], (int)NU);
            la_symmetrize_lower(NTK_F64, NU, h->GD[l]);
            size_t nn = (size_t)net->n[l + 1];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)NU, (int)nl, (int)nn, net->cw[l + 1],
                        f->D[l + 1], (int)nn, net->theta + net->offW[l + 1], (int)nl, 0.0, h->E[l], (int)nl);
        }
    }
    return NTK_OK;
}

/* v = g_q = grad_theta f(x_q): W_l part c_w delta_l(q) h_{l-1}(q)^T, bias part c_b delta_l(q). */
static void tangent_direction(const hier *h, size_t q)
{
    const ntk_net *net = h->net;
    const ntk_feats *f = h->f;
    memset(h->v, 0, net->P * sizeof *h->v);
    for (int l = 1; l <= h->d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        const double *D = (const double *)f->D[l] + q * nl, *Hq = (const double *)f->H[l - 1] + q * np;
        double *VW = h->v + net->offW[l];
        for (size_t u = 0; u < nl; u++)
            for (size_t j = 0; j < np; j++) VW[u * np + j] = net->cw[l] * D[u] * Hq[j];
        if (net_has_bias(net, l))
            for (size_t u = 0; u < nl; u++) h->v[net->offb[l] + u] = net->cb[l] * D[u];
    }
}

/* Tangents along v of the features, Grams and e_l. */
static void hier_tangents(hier *h)
{
    const ntk_net *net = h->net;
    const ntk_feats *f = h->f;
    size_t NU = h->NU;
    int d = h->d;
    feat_tangents_forward(net, f, h->v, h->Zt, h->Ht);
    feat_tangents_backward(net, f, h->v, h->Zt, h->Dt, h->ftmp);
    for (int l = 1; l <= d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        cblas_dsyr2k(CblasRowMajor, CblasLower, CblasNoTrans, (int)NU, (int)np, 1.0, h->Ht[l - 1], (int)np,
                     f->H[l - 1], (int)np, 0.0, h->GHt[l - 1], (int)NU);
        la_symmetrize_lower(NTK_F64, NU, h->GHt[l - 1]);
        if (l < d) {
            cblas_dsyr2k(CblasRowMajor, CblasLower, CblasNoTrans, (int)NU, (int)nl, 1.0, h->Dt[l], (int)nl, f->D[l],
                         (int)nl, 0.0, h->GDt[l], (int)NU);
            la_symmetrize_lower(NTK_F64, NU, h->GDt[l]);
            size_t nn = (size_t)net->n[l + 1];
            const double *W = net->theta + net->offW[l + 1], *VW = h->v + net->offW[l + 1];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)NU, (int)nl, (int)nn, net->cw[l + 1],
                        h->Dt[l + 1], (int)nn, W, (int)nl, 0.0, h->Et[l], (int)nl);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)NU, (int)nl, (int)nn, net->cw[l + 1],
                        f->D[l + 1], (int)nn, VW, (int)nl, 1.0, h->Et[l], (int)nl);
        }
    }
}

static void swap(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

/* T[p][s][s'] = T_{p0+p}(s, s') for p < B, s, s' < S (and its tangent Tt along v when h->tan). */
static void hier_block(hier *h, size_t p0, size_t B, size_t S)
{
    const ntk_net *net = h->net;
    const ntk_feats *f = h->f;
    const ntk_act act = net->spec.act;
    size_t NU = h->NU, BS = B * S, SS = S * S;
    int d = h->d, tan = h->tan;
    memset(h->T, 0, B * SS * sizeof *h->T);
    if (tan) memset(h->Tt, 0, B * SS * sizeof *h->Tt);
    double *dZ = h->dZ, *dH = h->dH, *dHp = h->dHp, *dZt = h->dZt, *dHt = h->dHt, *dHpt = h->dHpt;
    for (int l = 1; l <= d; l++) {
        size_t np = (size_t)net->n[l - 1], nl = (size_t)net->n[l];
        double cw = net->cw[l], cw2 = cw * cw, cb2 = net->cb[l] * net->cb[l];
        const double *W = net->theta + net->offW[l], *Dl = f->D[l], *GHp = h->GH[l - 1];
        const double *Hp = f->H[l - 1];
        /* dZ_l = c_w dH_{l-1} W_l^T + A_l delta_l(s) */
        if (l >= 2)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)nl, (int)np, cw, dHp, (int)np, W,
                        (int)np, 0.0, dZ, (int)nl);
        else
            memset(dZ, 0, BS * nl * sizeof *dZ);
        if (tan) {
            if (l >= 2) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)nl, (int)np, cw, dHpt, (int)np, W,
                            (int)np, 0.0, dZt, (int)nl);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)nl, (int)np, cw, dHp, (int)np,
                            h->v + net->offW[l], (int)np, 1.0, dZt, (int)nl);
            } else
                memset(dZt, 0, BS * nl * sizeof *dZt);
        }
        for (size_t p = 0; p < B; p++)
            for (size_t s = 0; s < S; s++) {
                double A = cw2 * GHp[(p0 + p) * NU + s] + cb2;
                double *z = dZ + (p * S + s) * nl;
                const double *ds = Dl + s * nl;
                for (size_t u = 0; u < nl; u++) z[u] += A * ds[u];
                if (tan) {
                    double At = cw2 * h->GHt[l - 1][(p0 + p) * NU + s];
                    const double *dts = h->Dt[l] + s * nl;
                    double *zt = dZt + (p * S + s) * nl;
                    for (size_t u = 0; u < nl; u++) zt[u] += At * ds[u] + A * dts[u];
                }
            }
        /* Q[(p,s'), s] = h_{l-1}(s) . dH_{l-1}[p,s'] and the GD-weighted terms */
        if (l >= 2) {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)S, (int)np, 1.0, dHp, (int)np, Hp,
                        (int)np, 0.0, h->Q, (int)S);
            if (tan) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)S, (int)np, 1.0, dHpt, (int)np, Hp,
                            (int)np, 0.0, h->Qt, (int)S);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)BS, (int)S, (int)np, 1.0, dHp, (int)np,
                            h->Ht[l - 1], (int)np, 1.0, h->Qt, (int)S);
            }
            for (size_t p = 0; p < B; p++) {
                const double *gd = l < d ? h->GD[l] + (p0 + p) * NU : NULL;
                const double *gdt = l < d && tan ? h->GDt[l] + (p0 + p) * NU : NULL;
                const double *Q = h->Q + p * SS, *Qt = tan ? h->Qt + p * SS : NULL;
                double *T = h->T + p * SS, *Tt = tan ? h->Tt + p * SS : NULL;
                for (size_t s = 0; s < S; s++) {
                    double gs = gd ? gd[s] : 1.0, gts = gdt ? gdt[s] : 0.0;
                    for (size_t s2 = 0; s2 < S; s2++) {
                        double g2 = gd ? gd[s2] : 1.0;
                        T[s * S + s2] += cw2 * (gs * Q[s2 * S + s] + g2 * Q[s * S + s2]);
                        if (tan) {
                            double gt2 = gdt ? gdt[s2] : 0.0;
                            Tt[s * S + s2] += cw2 * (gts * Q[s2 * S + s] + gs * Qt[s2 * S + s] +
                                                     gt2 * Q[s * S + s2] + g2 * Qt[s * S + s2]);
                        }
                    }
                }
            }
        }
        if (l == d) break;
        /* dH_l = phi'(z_l(p)) o dZ_l; the phi'' term */
        const double *Zl = feats_dphi_arg(f, l); /* relu with frozen gates: the gates (smooth is 0) */
        for (size_t p = 0; p < B; p++) {
            const double *z = Zl + (p0 + p) * nl, *zt = tan ? h->Zt[l] + (p0 + p) * nl : NULL;
            for (size_t u = 0; u < nl; u++) {
                h->g[u] = act_dphi(act, z[u]);
                h->g2[u] = h->smooth ? act_d2phi(act, z[u]) : 0.0;
            }
            for (size_t s = 0; s < S; s++) {
                size_t o = (p * S + s) * nl;
                for (size_t u = 0; u < nl; u++) dH[o + u] = h->g[u] * dZ[o + u];
                if (tan)
                    for (size_t u = 0; u < nl; u++) dHt[o + u] = h->g2[u] * zt[u] * dZ[o + u] + h->g[u] * dZt[o + u];
            }
            if (!h->smooth) continue;
            const double *e = h->E[l] + (p0 + p) * nl;
            for (size_t u = 0; u < nl; u++) h->w[u] = e[u] * h->g2[u];
            if (tan) {
                const double *et = h->Et[l] + (p0 + p) * nl;
                for (size_t u = 0; u < nl; u++) h->wt[u] = et[u] * h->g2[u] + e[u] * act_d3phi(act, z[u]) * zt[u];
            }
            const double *dZp = dZ + p * S * nl;
            for (size_t s = 0; s < S; s++)
                for (size_t u = 0; u < nl; u++) h->sc[s * nl + u] = dZp[s * nl + u] * h->w[u];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)S, (int)S, (int)nl, 1.0, h->sc, (int)nl, dZp,
                        (int)nl, 1.0, h->T + p * SS, (int)S);
            if (tan) {
                const double *dZpt = dZt + p * S * nl;
                double *Tt = h->Tt + p * SS;
                /* (dZ o w) dZt^T + dZt (dZ o w)^T + (dZ o wt) dZ^T */
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)S, (int)S, (int)nl, 1.0, h->sc, (int)nl,
                            dZpt, (int)nl, 1.0, Tt, (int)S);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)S, (int)S, (int)nl, 1.0, dZpt, (int)nl,
                            h->sc, (int)nl, 1.0, Tt, (int)S);
                for (size_t s = 0; s < S; s++)
                    for (size_t u = 0; u < nl; u++) h->sct[s * nl + u] = dZp[s * nl + u] * h->wt[u];
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)S, (int)S, (int)nl, 1.0, h->sct, (int)nl,
                            dZp, (int)nl, 1.0, Tt, (int)S);
            }
        }
        swap(&dH, &dHp);
        if (tan) swap(&dHt, &dHpt);
    }
}

/* O[idx(a,b,c) * L + dir] += the block's T (O3: L = 1, dir = 0; O4: L = N, dir = d):
 * train p: O[p][b][c] and O[b][p][c] += T_p(b,c), Oe[e][p][c] += T_p(N+e, c); eval p = N+e:
 * Oe[e][b][c] += T_p(b,c). */
static void scatter(const hier *h, const double *T, size_t p0, size_t B, size_t S, double *O, double *Oe, size_t L,
                    size_t dir)
{
    size_t N = h->N, M = h->M;
    for (size_t p = 0; p < B; p++) {
        size_t q = p0 + p;
        const double *Tp = T + p * S * S;
        if (q < N) {
            for (size_t b = 0; b < N; b++)
                for (size_t c = 0; c < N; c++) {
                    double t = Tp[b * S + c];
                    O[((q * N + b) * N + c) * L + dir] += t;
                    O[((b * N + q) * N + c) * L + dir] += t;
                }
            if (M && Oe)
                for (size_t e = 0; e < M; e++)
                    for (size_t c = 0; c < N; c++) Oe[((e * N + q) * N + c) * L + dir] += Tp[(N + e) * S + c];
        } else if (Oe) {
            size_t e = q - N;
            for (size_t b = 0; b < N; b++)
                for (size_t c = 0; c < N; c++) Oe[((e * N + b) * N + c) * L + dir] += Tp[b * S + c];
        }
    }
}

/* Every block of Hessian points: train points over S = N (+ M) directions, eval points over N. */
static void hier_all(hier *h, double *O, double *Oe, size_t L, size_t dir)
{
    size_t N = h->N, NU = h->M && Oe ? h->NU : N;
    for (size_t p0 = 0; p0 < NU;) {
        size_t S = p0 < N ? h->Smax : N, end = p0 < N ? N : NU;
        if (!Oe) S = N;
        size_t B = end - p0 < h->Bmax ? end - p0 : h->Bmax;
        hier_block(h, p0, B, S);
        scatter(h, h->tan ? h->Tt : h->T, p0, B, S, O, Oe, L, dir);
        p0 += B;
    }
}

static ntk_status check_common(const ntk_net *net, size_t N, const double *X, size_t M, const double *Xe,
                               const void *O, const void *Oe, const char *what)
{
    if (!net || !X || !O) return ntk_set_error(NTK_EINVAL, "%s: net, X and the output must not be NULL", what);
    if (net->n[net->d] != 1)
        return ntk_set_error(NTK_EINVAL, "%s: one output only (the network has k = %d; the hierarchy here is for one output)",
                             what, net->n[net->d]);
    if (N == 0) return ntk_set_error(NTK_EINVAL, "%s: N must be > 0", what);
    if (M && (!Xe || !Oe))
        return ntk_set_error(NTK_EINVAL, "%s: M = %zu eval points need Xe and the eval output", what, M);
    return NTK_OK;
}

static ntk_status check_fit(double need, double budget, const char *what, size_t N, size_t M, double out_bytes)
{
    double have = budget > 0 ? budget : ntk_mem_available_bytes();
    if (need > have)
        return ntk_set_error(NTK_ENOMEM,
                             "%s: N = %zu, M = %zu needs %.3g GB (the tensors %.3g GB, workspace %.3g GB), more than "
                             "the %.3g GB %s",
                             what, N, M, need * 1e-9, out_bytes * 1e-9, (need - out_bytes) * 1e-9, have * 1e-9,
                             budget > 0 ? "budget" : "available");
    return NTK_OK;
}

/* O3 (level 3) or O4 (level 4) into O [N^(level)] and Oe [M N^(level-1)] (zeroed first): O3 in one
 * pass, O4 as one pass per direction q of its last index; o's thread count for the call. */
static ntk_status hier_compute(ntk_net *net, const ntk_o3_opts *o, size_t N, const double *X, size_t M,
                               const double *Xe, int level, double *O, double *Oe)
{
    size_t per = level == 4 ? N * N * N : N * N, L = level == 4 ? N : 1;
    int prev = ntk_get_threads();
    if (o->threads > 0) ntk_set_threads(o->threads);
    hier h;
    ntk_status st = hier_alloc(net, N, X, M, Xe, level == 4, &h, level == 4 ? "O4" : "O3");
    if (st == NTK_OK) {
        memset(O, 0, N * per * sizeof *O);
        if (M) memset(Oe, 0, M * per * sizeof *Oe);
        for (size_t q = 0; q < L; q++) {
            if (level == 4) {
                tangent_direction(&h, q);
                hier_tangents(&h);
            }
            hier_all(&h, O, M ? Oe : NULL, L, q);
        }
        hier_free(&h);
    }
    if (o->threads > 0) ntk_set_threads(prev);
    return st;
}

ntk_status ntk_o3(ntk_net *net, const ntk_o3_opts *o, size_t N, const double *X, size_t M, const double *Xe,
                  double *O3, double *O3e)
{
    ntk_o3_opts dflt = ntk_o3_defaults();
    if (!o) o = &dflt;
    ntk_status st = check_common(net, N, X, M, Xe, O3, O3e, "O3");
    if (st != NTK_OK) return st;
    double n = (double)N;
    st = check_fit(ntk_o3_bytes(&net->spec, N, M), o->budget, "O3", N, M, 8.0 * (n * n * n + (double)M * n * n));
    if (st != NTK_OK) return st;
    return hier_compute(net, o, N, X, M, Xe, 3, O3, O3e);
}

ntk_status ntk_o4(ntk_net *net, const ntk_o3_opts *o, size_t N, const double *X, size_t M, const double *Xe,
                  double *O4, double *O4e)
{
    ntk_o3_opts dflt = ntk_o3_defaults();
    if (!o) o = &dflt;
    ntk_status st = check_common(net, N, X, M, Xe, O4, O4e, "O4");
    if (st != NTK_OK) return st;
    if (N > NTK_O4_MAX_N || M > NTK_O4_MAX_N)
        return ntk_set_error(NTK_ENOMEM,
                             "O4: N = %zu, M = %zu: O4 holds N^4 + M N^3 entries in memory, refused above N, M = %d "
                             "(this one would need %.3g GB)",
                             N, M, NTK_O4_MAX_N, 1e-9 * ntk_o4_bytes(&net->spec, N, M));
    double n = (double)N, n3 = n * n * n;
    st = check_fit(ntk_o4_bytes(&net->spec, N, M), o->budget, "O4", N, M, 8.0 * (n3 * n + (double)M * n3));
    if (st != NTK_OK) return st;
    return hier_compute(net, o, N, X, M, Xe, 4, O4, O4e);
}
