/* ntkdrift.h -- the one public header of libntkdrift.
 *
 * Empirical Neural Tangent Kernels of fully-connected networks, computed from
 * per-layer Gram matrices (no Jacobian is ever formed).  Conventions are in
 * docs/conventions.md; the short form:
 *
 *   h^(0) = x,  z^(l) = c_w^(l) W^(l) h^(l-1) + c_b^(l) b^(l),  h^(l) = phi(z^(l)),
 *   f(x) = z^(L+1),  l = 1 .. L+1  (L hidden layers, d = L+1 weight layers).
 *
 * Matrices are row-major.  Every matrix argument carries a shape comment.  Two exceptions, each
 * stated at its argument, hold eigenvectors straight from LAPACK: ntk_drift.top_vectors and the U of
 * ntk_rkhs_stats are column-major [n x p] (column i is eigenvector i, contiguous).
 *
 * Ownership: `ntk_X_alloc` / `ntk_X_free` create and free an opaque handle (and free(NULL) is a
 * no-op); `ntk_X_clear` frees what a caller-owned struct holds (ntk_array, ntk_idx, ntk_dataset) and
 * leaves it empty; close / abort functions finish or discard a writer and free it.
 *
 * Status convention: every function that can fail returns ntk_status; NTK_OK
 * is 0.  On failure a one-line message naming the offending field is available
 * from ntk_last_error() (thread-local: threads never see each other's errors).
 * The library never exits or aborts.
 *
 * Worked example (examples/c/minimal.c builds and runs it): the empirical NTK of a depth-2 ReLU
 * network on N Gaussian points.
 *
 *   int widths[2] = {64, 64};
 *   ntk_spec s = ntk_spec_default();            // depth 3, relu, NTK param, sw2 2 / 1, zero biases
 *   s.depth = 2; s.widths = widths; s.n0 = 4;   // widths point at caller storage
 *   double X[5 * 4], K[5 * 5];                  // X: [N x n0], K: [N x N] (k = 1 output)
 *   ntk_net *net = NULL; ntk_feats *f = NULL;
 *   if (ntk_net_alloc(&s, &net) || ntk_net_init(net, 42) || ntk_data_gaussian(7, 5, 4, X) ||
 *       ntk_feats_alloc(net, 5, NTK_F64, &f) || ntk_feats_compute(net, f, X) ||
 *       ntk_kernel_full(net, f, K, NULL))
 *       fprintf(stderr, "%s\n", ntk_last_error());   // one line naming the field
 *   ntk_feats_free(f); ntk_net_free(net);        // handles: alloc / free pairs
 */
#ifndef NTKDRIFT_H
#define NTKDRIFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version: MAJOR.MINOR.PATCH.  CMakeLists.txt reads these lines for the project VERSION and the
 * shared library's soname (libntkdrift.so.MAJOR); tests/core/test_version.c checks that the string is
 * made of the three numbers and that ntk_version() returns it. */
#define NTK_VERSION_MAJOR 0
#define NTK_VERSION_MINOR 1
#define NTK_VERSION_PATCH 0
#define NTK_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ status */

typedef enum {
    NTK_OK = 0,
    NTK_EINVAL = 1,    /* invalid argument or specification */
    NTK_ENOMEM = 2,    /* allocation failed or would not fit (estimate first) */
    NTK_EIO = 3,       /* file could not be opened, read or written */
    NTK_EFORMAT = 4,   /* file is malformed or has unexpected contents */
    NTK_ENUMERIC = 5,  /* NaN/Inf or a failed factorisation */
} ntk_status;

const char *ntk_status_str(ntk_status s);
/* Message of the last failure in this thread ("" if none). */
const char *ntk_last_error(void);
void ntk_clear_error(void);

const char *ntk_version(void);

/* ------------------------------------------------------------ network spec */

/* sigmoid: 1 / (1 + e^{-z}); appended last so the other codes keep their values. */
typedef enum { NTK_ACT_RELU, NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_IDENTITY, NTK_ACT_SIGMOID } ntk_act;
typedef enum { NTK_PARAM_NTK, NTK_PARAM_STANDARD } ntk_param;
/* none: no bias parameters; normal: trainable, drawn N(0,1) (NTK) or N(0, sb^2)
 * (standard); zero: trainable, initialised to 0. */
typedef enum { NTK_BIAS_NONE, NTK_BIAS_NORMAL, NTK_BIAS_ZERO } ntk_bias;
/* fan_in: first layer scaled by 1/sqrt(n_0) like every other; none: no 1/sqrt(n_0). */
typedef enum { NTK_FIRST_FAN_IN, NTK_FIRST_NONE } ntk_first_layer;
/* The one element type of the library.  The rule for `void *`: every untyped array argument holds
 * elements of the ntk_dtype passed beside it, or of the dtype of the ntk_feats it is computed from
 * (kernels: ntk_feats_alloc's dtype).  Kernels and their helpers take NTK_F64 or NTK_F32 (anything
 * else: NTK_EINVAL); the file writers (.npy, .npz) take every type; arrays read from files are
 * float64 (ntk_array).  Typed arguments (`double *`) are float64 whatever the dtype. */
typedef enum { NTK_F64, NTK_F32, NTK_I64, NTK_I32, NTK_U8 } ntk_dtype;
size_t ntk_dtype_size(ntk_dtype t);       /* bytes per element; 0 for an unknown type */
const char *ntk_dtype_name(ntk_dtype t);  /* numpy's name: "float64", "float32", "int64", "int32", "uint8" */

#define NTK_MAX_DEPTH 100000

typedef struct {
    int depth;              /* L >= 0 hidden layers; d = L+1 weight layers */
    const int *widths;      /* [depth] hidden widths n_1..n_L (caller-owned) */
    int n0;                 /* input dimension */
    int outputs;            /* k >= 1 */
    ntk_act act;
    ntk_param param;
    double sw2;             /* sigma_w^2 for hidden layers 1..L */
    double sw2_out;         /* sigma_w^2 for the readout layer L+1 */
    double sb;              /* bias multiplier c_b (NTK) / bias std (standard) */
    ntk_bias bias;          /* hidden layers */
    ntk_bias bias_out;      /* readout layer */
    ntk_first_layer first_layer;
} ntk_spec;

/* A spec with the documented defaults: depth 3, width 256 (widths must still
 * be pointed at caller storage), n0 16, k 1, relu, NTK param, sw2 2, sw2_out 1,
 * sb 1, bias zero (trainable), first layer fan_in. */
ntk_spec ntk_spec_default(void);
/* Checks every field and combination; on failure writes one precise message
 * into msg (if msg != NULL) and into ntk_last_error(). */
ntk_status ntk_spec_check(const ntk_spec *spec, char *msg, size_t msg_cap);

const char *ntk_act_name(ntk_act a);
const char *ntk_param_name(ntk_param p);
const char *ntk_bias_name(ntk_bias b);
const char *ntk_first_layer_name(ntk_first_layer f);
/* Parse names ("relu", "ntk", "zero", "fan_in", ...); NTK_EINVAL if unknown. */
ntk_status ntk_act_parse(const char *s, ntk_act *out);
ntk_status ntk_param_parse(const char *s, ntk_param *out);
ntk_status ntk_bias_parse(const char *s, ntk_bias *out);
ntk_status ntk_first_layer_parse(const char *s, ntk_first_layer *out);

/* ----------------------------------------------------------------- network */

typedef struct ntk_net ntk_net;

/* View of layer l (1 .. L+1) inside the single parameter allocation. */
typedef struct {
    double *W;        /* [rows x cols] = [n_l x n_{l-1}], row-major */
    double *b;        /* [rows], NULL when the layer has no bias */
    int rows, cols;   /* n_l, n_{l-1} */
    double c_w;       /* multiplier of W in z = c_w W h + c_b b */
    double c_b;       /* multiplier of b (0 when no bias) */
} ntk_layer;

ntk_status ntk_net_alloc(const ntk_spec *spec, ntk_net **out);
void ntk_net_free(ntk_net *net);
/* Deterministic initialisation: parameter (layer l, index i) depends only on
 * (seed, l, i) through Philox4x64-10 and Box-Muller. */
ntk_status ntk_net_init(ntk_net *net, uint64_t seed);
const ntk_spec *ntk_net_spec(const ntk_net *net);   /* widths point into net */
int ntk_net_num_layers(const ntk_net *net);         /* d = L+1 */
int ntk_net_width(const ntk_net *net, int l);       /* n_l, l = 0 .. L+1 */
size_t ntk_net_num_params(const ntk_net *net);      /* P */
double *ntk_net_params(ntk_net *net);               /* [P]: W1 b1 W2 b2 ... */
const double *ntk_net_params_const(const ntk_net *net);
ntk_status ntk_net_layer(const ntk_net *net, int l, ntk_layer *out);
/* Parameters changed by the caller: refresh internal float32 mirrors. */
void ntk_net_params_changed(ntk_net *net);

/* Frozen gates, the ReLU control of the hierarchy (docs/dynamics.md, "Frozen gates"): each hidden
 * unit's on/off state on each input is fixed at its value at theta_g, a copy of the parameters at
 * the call,
 *   h_l(x) = z_l(x; theta) o 1[z_l(x; theta_g) > 0]   (hidden layers, per input x),
 * so phi' is the gate and phi'' = 0 everywhere: every forward (a second pass at theta_g per set of
 * inputs), gradient, kernel, velocity and hierarchy tensor, float64 and float32, is the gated
 * network's.  At theta = theta_g it is the relu network bit for bit.  act relu only (NTK_EINVAL
 * otherwise).  theta_g stays through ntk_net_init, ntk_net_load_params and parameter writes until
 * ntk_net_thaw_gates or another freeze; it is not saved with the parameters.  Gated feats hold
 * N sum_l n_l gates more than ntk_feats_bytes counts. */
ntk_status ntk_net_freeze_gates(ntk_net *net);
void ntk_net_thaw_gates(ntk_net *net);               /* back to the plain activation */
int ntk_net_gates_frozen(const ntk_net *net);        /* 1 when frozen, else 0 */
const double *ntk_net_gate_params(const ntk_net *net); /* [P] theta_g, or NULL when not frozen */

/* f = net(X).  X: [N x n0], F: [N x k]. */
ntk_status ntk_net_forward(ntk_net *net, size_t N, const double *X, double *F);

/* Three loss normalisations, all written L = c * 1/2 sum_i ||f(x_i) - y_i||^2 over N rows:
 *   half_sum  (NTK_LOSS_SUM):  1/2 sum ||f - y||^2,       c = 1
 *   half_mean (NTK_LOSS_MEAN): 1/2 mean_i ||f - y||^2,    c = 1/N
 *   mse       (NTK_LOSS_MSE):  mean_i ||f - y||^2, no 1/2, c = 2/N
 * (mean over examples i; the k outputs of one example are summed).  ntk_loss_parse also takes
 * "sum" and "mean" for half_sum and half_mean. */
typedef enum { NTK_LOSS_SUM, NTK_LOSS_MEAN, NTK_LOSS_MSE } ntk_loss;
const char *ntk_loss_name(ntk_loss l);
ntk_status ntk_loss_parse(const char *s, ntk_loss *out);
/* The factor c of the loss over N rows (NAN for N = 0 or an unknown loss). */
double ntk_loss_factor(ntk_loss l, size_t N);

/* L = c * 1/2 sum_i ||f(x_i) - y_i||^2 and its gradient.
 * X: [N x n0], Y: [N x k], grad: [P] (same layout as ntk_net_params). */
ntk_status ntk_net_loss_grad(ntk_net *net, size_t N, const double *X, const double *Y,
                             ntk_loss loss, double *loss_out, double *grad);

/* A reusable workspace for forward passes and gradients on batches of exactly N rows (the
 * calls above allocate one inside the network; loops should hold their own). */
typedef struct ntk_grad_ws ntk_grad_ws;
ntk_status ntk_grad_ws_alloc(const ntk_net *net, size_t N, ntk_grad_ws **out);
void ntk_grad_ws_free(ntk_grad_ws *w);
/* X: [N x n0], F: [N x k]. */
ntk_status ntk_net_forward_ws(ntk_net *net, ntk_grad_ws *w, const double *X, double *F);
/* X: [N x n0], Y: [N x k], grad: [P]; c = 1/N for mean loss with N the workspace's rows. */
ntk_status ntk_net_loss_grad_ws(ntk_net *net, ntk_grad_ws *w, const double *X, const double *Y, ntk_loss loss,
                                double *loss_out, double *grad);

/* ---------------------------------------------------------------- features
 * Forward activations and per-example backprop vectors for a batch, the
 * ingredients of every kernel.  For k outputs the deltas carry one row per
 * (example i, output a), row index i*k + a. */

typedef struct ntk_feats ntk_feats;

ntk_status ntk_feats_alloc(const ntk_net *net, size_t N, ntk_dtype dtype, ntk_feats **out);
void ntk_feats_free(ntk_feats *f);
/* Forward and backward for X: [N x n0] (N as allocated). */
ntk_status ntk_feats_compute(ntk_net *net, ntk_feats *f, const double *X);
size_t ntk_feats_n(const ntk_feats *f);
ntk_dtype ntk_feats_dtype(const ntk_feats *f);
/* delta^(l) = df/dz^(l) for l = 1..L+1 as float64 copy: out [N*k x n_l]. */
ntk_status ntk_feats_delta(const ntk_feats *f, int l, double *out);
/* Network outputs f(x_i) of the last compute, float64 copy: out [N x k]. */
ntk_status ntk_feats_output(const ntk_feats *f, double *out);
/* h^(l) for l = 0..L as float64 copy: out [N x n_l]. */
ntk_status ntk_feats_act(const ntk_feats *f, int l, double *out);
/* z^(l) = c_w W_l h^(l-1) + c_b b_l, the pre-activations, for l = 1..L+1 as float64 copy: out [N x n_l]
 * (z^(L+1) = f). */
ntk_status ntk_feats_preact(const ntk_feats *f, int l, double *out);
/* Bytes held by a feats object of this size (for memory planning). */
size_t ntk_feats_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype);

/* ----------------------------------------------------------------- kernels
 * Output buffers are float64 when the feats are NTK_F64 and float32 when
 * NTK_F32 (void* below).  Kernel layout for k outputs: (N, k, N, k) as a
 * (N*k) x (N*k) row-major matrix, entry [(i*k+a), (j*k+b)] = K_ab(x_i, x_j). */

/* K: [N*k x N*k] full symmetric kernel.  K_layers (may be NULL):
 * [(L+1) x N*k x N*k], K_layers[l-1] = K^(l); they sum to K. */
ntk_status ntk_kernel_full(const ntk_net *net, const ntk_feats *f, void *K, void *K_layers);
/* K: [Na*k x Nb*k] cross kernel between two batches (same dtype). */
ntk_status ntk_kernel_cross(const ntk_net *net, const ntk_feats *fa, const ntk_feats *fb,
                            void *K, void *K_layers);
/* Rows [r0, r1) of the full kernel, for kernels larger than memory (tiling): each block is
 * computed by GEMM against all N points, so blocks do not depend on the tiling.
 * K: [(r1-r0)*k x N*k]; K_layers (may be NULL): [(L+1) x (r1-r0)*k x N*k]. */
ntk_status ntk_kernel_rows(const ntk_net *net, const ntk_feats *f, size_t r0, size_t r1, void *K,
                           void *K_layers);
/* Bytes one call of ntk_kernel_rows with B rows needs: the block, per-layer terms and Grams. */
size_t ntk_kernel_rows_bytes(const ntk_spec *spec, size_t N, size_t B, ntk_dtype dtype, int per_layer);
/* diag: [N x k x k], diag[i] = K(x_i, x_i) block; O(N P) work, no N x N. */
ntk_status ntk_kernel_diag(const ntk_net *net, const ntk_feats *f, void *diag);
/* Sum over outputs: Kt[i,j] = sum_a K[(i,a),(j,a)].  K: [N*k x M*k] -> Kt: [N x M]. */
ntk_status ntk_kernel_output_trace(size_t N, size_t M, int k, ntk_dtype dtype, const void *K, void *Kt);
/* Mean over outputs: Km[i,j] = (1/k) sum_a K[(i,a),(j,a)], the scalar kernel the commands compare
 * with the per-output infinite-width limit (docs/conventions.md).  K: [N*k x M*k] -> Km: [N x M]. */
ntk_status ntk_kernel_output_mean(size_t N, size_t M, int k, ntk_dtype dtype, const void *K, void *Km);
/* Bytes the kernel computation needs besides feats: result, per-layer terms
 * and two Gram scratch buffers. */
size_t ntk_kernel_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer);
/* Memory for a large array (a kernel, its per-layer terms): from 1 MiB on 2 MiB-aligned, in whole
 * 2 MiB pages advised to use transparent huge pages, so its first touch takes a few page faults
 * instead of one per 4 KiB (ntk_net_alloc and ntk_feats_alloc allocate this way).  Released with
 * free(); NULL when out of memory. */
void *ntk_alloc_big(size_t bytes);

/* Kernel velocity at the current parameters: Kdot = dK(theta(tau))/dtau along gradient flow
 * theta' = -grad L (L on X, Y with `loss`), so one GD step of size eta moves K by ~ eta Kdot.
 * Exact for smooth activations; for relu "pathwise" (activation masks frozen, phi'' = 0).
 * X: [N x n0], Y: [N x k], Kdot: [N*k x N*k] (float64, layout of ntk_kernel_full). */
ntk_status ntk_kernel_velocity(ntk_net *net, size_t N, const double *X, const double *Y, ntk_loss loss,
                               double *Kdot);

/* ------------------------------------------------------------ tiled kernel
 * Kernels larger than memory: the memory plan (byte estimates, the memory available, rows per
 * block, the largest N a budget holds) and the row-block engine, which hands each block of rows
 * to a sink callback; ntk_npy_sink streams them to .npy files.  File layout of a k-output kernel:
 * (N, N, k, k), entry [i, j, a, b] = K_ab(x_i, x_j) (docs/conventions.md); P: parameter count. */

/* Peak bytes of a whole kernel run with N points: the feats, the inputs (float64) and the
 * parameters, plus, in memory, ntk_kernel_bytes and for k > 1 the (N, N, k, k) file layout of K
 * (and of the per-layer terms); tiled with B rows per block, one block of ntk_kernel_rows and for
 * k > 1 its file layout and its output trace. */
double ntk_kernel_bytes_in_memory(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer, size_t P);
double ntk_kernel_bytes_tiled(const ntk_spec *spec, size_t N, size_t B, ntk_dtype dtype, int per_layer, size_t P);
/* Bytes on disk of the tiled path's files: K, K_trace (k > 1), K_layers (per_layer), X. */
double ntk_kernel_file_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer);
/* Rows per block within `have` bytes: the most rows whose block buffers fit in min(what is left
 * of `have` after the fixed part, NTK_TILE_TARGET_BYTES), at most N; 0 when not even one fits
 * (larger blocks buy no speed: the GEMMs are already large). */
#define NTK_TILE_TARGET_BYTES 512e6
size_t ntk_kernel_tile_rows(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer, size_t P, double have);
/* Bytes of memory available to a new allocation: MemAvailable of /proc/meminfo, else the
 * physical memory, else 1e18 when neither can be told. */
double ntk_mem_available_bytes(void);
/* Bytes free (to an unprivileged user) on the file system that holds path, or would hold it: its
 * nearest existing ancestor ("" or NULL: the working directory); 1e300 when that cannot be told. */
double ntk_disk_free_bytes(const char *path);
/* The largest N in [1, N_hi] with bytes_for(N, ctx) <= budget (bytes_for nondecreasing in N, found
 * by bisection); 0 when not even N = 1 fits. */
size_t ntk_plan_max_points(double budget, double (*bytes_for)(size_t N, void *ctx), void *ctx, size_t N_hi);

/* (Na, k, Nb, k) -> (Na, Nb, k, k): src [Na*k x Nb*k] (the library's layout) -> dst [Na x Nb x k x k]
 * (the file layout); src and dst must not overlap.  float32 for NTK_F32. */
ntk_status ntk_kernel_relayout(size_t Na, size_t Nb, int k, ntk_dtype dtype, const void *src, void *dst);

/* A block of rows r0 .. r0+B-1 of the kernel, in the file layout and the feats' dtype:
 * K_rows [B x N x k x k]; K_trace_rows [B x N], the output trace, or NULL when k = 1;
 * K_layer_rows [(L+1) x B x N x k x k], the per-layer terms, or NULL without per_layer.  The
 * buffers are the engine's and valid during the call only.  A status other than NTK_OK stops the
 * engine, which returns it (the sink sets the message). */
typedef ntk_status (*ntk_rows_sink)(void *user, size_t r0, size_t B, const void *K_rows, const void *K_trace_rows,
                                    const void *K_layer_rows);
typedef struct {
    size_t rows_per_block; /* B >= 1; more than N means one block */
    int per_layer;         /* also hand over the per-layer terms */
    size_t first_block;    /* resume: blocks 0 .. first_block-1 are done; sm holds their summary */
    int threads;           /* 0: leave the current setting (restored on return) */
} ntk_tiled_opts;
ntk_tiled_opts ntk_tiled_defaults(void); /* B 256, no per-layer terms, from block 0, threads 0 */
typedef struct ntk_kernel_summary ntk_kernel_summary; /* defined under "analysis" below */
typedef struct {
    size_t rows_per_block, blocks; /* blocks finished, those done before a resume included */
    double seconds_grams;          /* ntk_kernel_rows and the output trace */
    double seconds_sink;           /* the file layout and the sink */
} ntk_tiled_stats;
/* The whole kernel of the computed feats (dtype theirs), B rows at a time: each block by
 * ntk_kernel_rows, bit-identical to that call with the same rows (equal to ntk_kernel_full to
 * rounding only: BLAS may round a block of another number of rows differently), added to the
 * summary of the output trace (sm: no eigenvalues; started afresh when first_block is 0, else
 * continued; updated before the sink sees the block, so a sink may record it as progress;
 * finished after the last block), then handed to the sink.  Non-finite entries stop it with
 * NTK_ENUMERIC naming the rows.  st (may be NULL): counts and seconds. */
ntk_status ntk_kernel_tiled(const ntk_net *net, const ntk_feats *f, const ntk_tiled_opts *o, ntk_rows_sink sink,
                            void *user, ntk_kernel_summary *sm, ntk_tiled_stats *st);

/* The .npy sink: K [N x N] (k = 1) or [N x N x k x k], K_trace [N x N] (k > 1 only) and K_layers
 * [(L+1) x N x N (x k x k)] (when K_layers_path is given), each an ntk_npy_stream reserved at full
 * size on open and synced after every block, so the blocks handed over so far survive a kill;
 * resume = 1 reopens the .partial files of a killed run.  Paths: K_path required, K_trace_path
 * required when k > 1 (ignored when k = 1), K_layers_path NULL for none.  Use ntk_npy_sink_rows
 * as the engine's sink with the handle as user.  close renames every file into place; abort
 * removes them; release keeps the .partial files for a resume.  Each frees the handle. */
typedef struct ntk_npy_sink ntk_npy_sink;
ntk_status ntk_npy_sink_open(const ntk_spec *spec, size_t N, ntk_dtype dtype, const char *K_path,
                             const char *K_trace_path, const char *K_layers_path, int resume, ntk_npy_sink **out);
ntk_status ntk_npy_sink_rows(void *sink, size_t r0, size_t B, const void *K_rows, const void *K_trace_rows,
                             const void *K_layer_rows);
ntk_status ntk_npy_sink_close(ntk_npy_sink *s);
void ntk_npy_sink_abort(ntk_npy_sink *s);
void ntk_npy_sink_release(ntk_npy_sink *s);

/* ---------------------------------------------------------------- training
 * Gradient descent on L = c * 1/2 sum ||f(x_i) - y_i||^2 (c = 1 or 1/B over the batch used):
 * gd: theta -= eta g (full batch); sgd: the same on minibatches of B rows drawn without
 * replacement per step (stream NTK_STREAM_BATCH, sub = step: reproducible and resumable); momentum
 * (heavy ball): v = mu v + g, theta -= eta v; adam: bias-corrected moments, theta -=
 * eta mhat / (sqrt(vhat) + eps).  Momentum and adam use minibatches when 0 < B < N. */

typedef enum { NTK_OPT_GD, NTK_OPT_SGD, NTK_OPT_MOMENTUM, NTK_OPT_ADAM } ntk_opt;
const char *ntk_opt_name(ntk_opt o);
ntk_status ntk_opt_parse(const char *s, ntk_opt *out);

typedef struct {
    ntk_opt opt;
    ntk_loss loss;
    double lr;            /* eta, absolute */
    size_t batch;         /* minibatch rows B (0: full batch; sgd needs 0 < B <= N) */
    double momentum;      /* mu (default 0.9) */
    double beta1, beta2, adam_eps;  /* defaults 0.9, 0.999, 1e-8 */
    uint64_t seed;        /* minibatch draws */
} ntk_train_opts;
ntk_train_opts ntk_train_defaults(void);

typedef struct ntk_trainer ntk_trainer;
/* X: [N x n0], Y: [N x k] (caller-owned; must outlive the trainer).  Every workspace is
 * allocated here: ntk_trainer_step never allocates. */
ntk_status ntk_trainer_alloc(ntk_net *net, size_t N, const double *X, const double *Y, const ntk_train_opts *o,
                             ntk_trainer **out);
void ntk_trainer_free(ntk_trainer *tr);
/* One step. *loss: L on the batch used, at the parameters before the step; a non-finite loss
 * or gradient returns NTK_ENUMERIC and leaves the parameters unchanged. */
ntk_status ntk_trainer_step(ntk_trainer *tr, double *loss);
long ntk_trainer_step_count(const ntk_trainer *tr);
/* Optimizer state for checkpoints (momentum's velocity, adam's moments; none for gd and sgd),
 * state: [ntk_trainer_state_len]. */
size_t ntk_trainer_state_len(const ntk_trainer *tr);
void ntk_trainer_state_get(const ntk_trainer *tr, double *state);
void ntk_trainer_state_set(ntk_trainer *tr, const double *state, long step);

/* Checkpoints (src/dynamics/checkpoint.c): a training run's state as an .npz of float64 vectors,
 *   format     [1]   NTK_CHECKPOINT_FORMAT (a file without it is format 1, the layout before
 *                    the member existed); any other value is refused
 *   theta      [P]   the parameters as stored (ntk_net_params)
 *   opt_state  [S]   ntk_trainer_state_get, S = ntk_trainer_state_len (0 for gd and sgd, P for
 *                    momentum, 2P for adam)
 *   step       [1]   optimizer steps taken
 *   losses     [3]   loss0, loss_max, loss_max_step (ntk_checkpoint_info).
 * A new layout takes a new format number; readers refuse numbers they do not know.  Format 2 (this
 * one) differs from format 1 in opt_state only: format 1 stored P unused zeros for gd and sgd,
 * which ntk_checkpoint_load still reads (and ignores). */
#define NTK_CHECKPOINT_FORMAT 2
typedef struct {
    long step;           /* optimizer steps taken */
    double loss0;        /* the loss the first step reports (at step 0's parameters); NaN while step = 0 */
    double loss_max;     /* the largest loss any step reported; NaN while step = 0 */
    long loss_max_step;  /* the step of loss_max, in [0, step] */
} ntk_checkpoint_info;
/* Read member `name` of an .npz into dst: [count]; it must hold exactly count values (any shape).
 * dst is untouched on failure. */
ntk_status ntk_npz_read_into(const char *path, const char *name, size_t count, double *dst);
/* Write path atomically: net's parameters, tr's optimizer state and info.  tr trains net. */
ntk_status ntk_checkpoint_save(const char *path, const ntk_net *net, const ntk_trainer *tr,
                               const ntk_checkpoint_info *info);
/* Read a checkpoint (format 1 or 2) of net and tr (tr trains net): every count must match (a format-1
 * file's opt_state is not read for gd and sgd, whose state is empty), step must be a whole
 * number in [0, max_step] and losses[2] a whole number in [0, step].  Then, and only then, net's
 * parameters, tr's state and step (ntk_trainer_state_set) and *info are set: a failed load leaves
 * all three unchanged. */
ntk_status ntk_checkpoint_load(const char *path, ntk_net *net, ntk_trainer *tr, long max_step,
                               ntk_checkpoint_info *info);

/* ---------------------------------------------------------- tracked training
 * Gradient descent with the kernel tracked at a snapshot schedule, in one call (docs/train.md):
 * the learning rate (absolute, or a fraction of 2 / lambda_max(c K_0)), K_0's velocity Kdot_0 and
 * the literal one-step change beside it, the loop of ntk_trainer_step, divergence, checkpoints and
 * resume (src/dynamics/train_run.c), and at every snapshot the analysis: drift metrics (ntk_tracker), the
 * frozen-K_0, first-order-in-Delta-K and piecewise-frozen predictions, kernel regression, the RKHS
 * diagnostics, parameter movement, per-layer drift (src/dynamics/train_analysis.c).  Every snapshot goes
 * to an observer; ntk_train_run writes no file but the checkpoint (the snapshot and trajectory
 * files below are for the observer and the caller).  n = N k and m = M k are the
 * train and eval vector lengths, d = depth + 1 the weight layers. */

typedef struct ntk_dataset ntk_dataset; /* the inputs and targets (under data, below) */

/* A snapshot schedule: sorted unique steps in [0, T], the first 0 and the last T. */
typedef struct {
    size_t count;
    long *steps;          /* [count], owned: ntk_train_schedule_clear */
} ntk_train_schedule;
/* "every:K" (0, K, 2K, ... below T, and T), "log:K" (round(T^(i/K)) for i = 0 .. K-1 when T > 1,
 * and 0, T) or "t1,t2,..." (steps in [0, T]), K >= 1; 0 and T are always in.  A malformed string
 * is NTK_EINVAL with a message quoting it ("expected every:K or log:K with K >= 1, got 'every:0'"). */
ntk_status ntk_train_schedule_parse(const char *s, long T, ntk_train_schedule *out);
void ntk_train_schedule_clear(ntk_train_schedule *s);

/* The analysis of one snapshot: the metrics.csv columns of docs/train.md, named as there. */
typedef struct {
    double drift_fro, drift_op, kernel_distance, velocity, alignment; /* ntk_drift, against K_0 */
    double lambda_max, lambda_min, eig_drift_max, angle_max, projector_dist;
    int active_modes;
    double lin_err, pert_err, pw_err;  /* ||f - prediction|| / ||f - f_0|| (0 at index 0) */
    double kdot_err;           /* ||K - (K_0 + t Kdot_0)||_F / ||K - K_0||_F (NAN at index 0) */
    double krr_vs_net, krr_eval_err;   /* kernel regression with K (NAN when m = 0) */
    double rkhs_ridge, rkhs_norm_y, rkhs_norm_f, eff_dim, energy_y_topk, energy_res_topk, cond; /* ntk_rkhs */
} ntk_train_metrics;
/* metrics.csv (docs/train.md) after its step column: the NTK_TRAIN_METRICS_COLS fixed columns t, loss,
 * loss_eval and the ntk_train_metrics fields in their order (active_modes as a number), named by
 * ntk_train_metrics_name(i), then move_l1 .. move_ld and, with drift_layers, drift_l1 .. drift_ld.
 * row: [NTK_TRAIN_METRICS_COLS + 2 d]; returns the number of values written. */
#define NTK_TRAIN_METRICS_COLS 27
const char *ntk_train_metrics_name(int i); /* NULL outside [0, NTK_TRAIN_METRICS_COLS); the row: below */
/* With ntk_train_run_opts.nth, the row ends with NTK_TRAIN_NTH_COLS more: nth_err, nth_kerr,
 * nth_drift, nth_eval_err, nth_eval_kerr (ntk_train_nth_name(i); ntk_train_snapshot, below). */
#define NTK_TRAIN_NTH_COLS 5
const char *ntk_train_nth_name(int i); /* NULL outside [0, NTK_TRAIN_NTH_COLS) */

/* One snapshot as the observer sees it; pointers stay valid until the observer returns. */
typedef struct {
    long step;                 /* optimizer steps taken */
    size_t index;              /* its position in the schedule */
    int replayed;              /* 1: rebuilt on resume from ntk_train_run_opts.replay (no new kernel) */
    double t;                  /* eta * step, the gradient-flow time */
    double loss, loss_eval;    /* full training loss, eval loss (c of the eval set; NAN when M = 0) */
    size_t n, m;               /* N k, M k */
    int d;                     /* weight layers */
    const double *K;           /* [n x n] train kernel */
    const double *K_eval;      /* [m x n] eval x train kernel, NULL when m = 0 */
    const double *f, *f_eval;  /* [n], [m] network outputs (f_eval NULL when m = 0) */
    const double *Kdot;        /* [n x n] Kdot_0 at index 0, else NULL */
    const double *move;        /* [d] ||theta_l - theta_l(0)|| / ||theta_l(0)|| per weight layer (W and b) */
    const double *K_layers;    /* [d x n x n] per-layer kernels (opts.per_layer), else NULL */
    const double *eigs;        /* [n] eigenvalues of K, descending */
    const ntk_net *net;        /* the network at this step; NULL when replayed */
    ntk_train_metrics mt;      /* the analysis */
    const char *rkhs_error;    /* NULL, or why the RKHS diagnostics failed: the run goes on, and
                                  the rkhs_* values but rkhs_ridge are NAN */
    const double *drift_layers; /* [d] ||K^(l) - K^(l)_0||_F / ||K^(l)_0||_F (per_layer), else NULL */
    /* The truncated hierarchy (ntk_train_run_opts.nth = 3 or 4; else nth 0, the pointers NULL and the
     * values NAN): the ntk_nth_* state from O3 (O4) of the network at step 0, advanced to this step. */
    int nth;                   /* the level, or 0 */
    const double *f_nth, *f_nth_eval; /* [n], [m] predicted f (f_nth_eval NULL when m = 0) */
    const double *K_nth, *K_nth_eval; /* [n x n], [m x n] predicted K (K_nth_eval NULL when m = 0) */
    double nth_err;            /* ||f - f_nth|| / ||f - f_0|| (lin_err's normalisation; 0 at index 0) */
    double nth_kerr;           /* ||K - K_nth||_F / ||K - K_0||_F (NAN at index 0) */
    double nth_drift;          /* ||K_nth - K_0||_F / ||K_0||_F, the predicted drift_fro */
    double nth_eval_err, nth_eval_kerr; /* the same on the eval set (f_eval, K_eval; NAN when m = 0) */
} ntk_train_snapshot;
/* The metrics.csv values of snapshot s after its step (above, ntk_train_metrics_name); with s->nth
 * the NTK_TRAIN_NTH_COLS values last, so row: [NTK_TRAIN_METRICS_COLS + 2 d + NTK_TRAIN_NTH_COLS]. */
size_t ntk_train_metrics_row(const ntk_train_snapshot *s, double *row);

/* Resume: the caller hands back an earlier snapshot's stored values (what the observer saw),
 * filling loss, loss_eval and the buffers below; non-OK stops the run with that status. */
typedef struct {
    long step;
    size_t index;
    size_t n, m;
    int d;
    double loss, loss_eval;    /* to fill */
    double *K;                 /* [n x n] to fill */
    double *K_eval;            /* [m x n] to fill, NULL when m = 0 */
    double *f, *f_eval;        /* [n], [m] to fill (f_eval NULL when m = 0) */
    double *Kdot;              /* [n x n] to fill at index 0, else NULL */
    double *move;              /* [d] to fill */
    double *K_layers;          /* [d x n x n] to fill (per_layer), else NULL */
} ntk_train_replay;

/* Snapshot files (src/dynamics/checkpoint.c, docs/train.md): what an observer saw at one snapshot,
 * enough to replay it on resume, as an .npz of float64 members: meta [3] (step, loss, loss_eval),
 * K [n x n], f_train [n], eigs [n], and those present: K_eval [m x n], f_eval [m], Kdot [n x n],
 * K_layers [d x n x n], move [d], and with nth f_nth [n], K_nth [n x n], f_nth_eval [m], K_nth_eval
 * [m x n] (the hierarchy's prediction; not read back).  Save writes path atomically; load fills r's
 * non-NULL buffers (each member must hold exactly its count) and r->loss, r->loss_eval. */
ntk_status ntk_train_snapshot_save(const char *path, const ntk_train_snapshot *s);
ntk_status ntk_train_snapshot_load(const char *path, ntk_train_replay *r);

/* Non-OK from an observer or replay callback stops the run; ntk_train_run returns that status. */
typedef ntk_status (*ntk_train_observer)(void *user, const ntk_train_snapshot *s);
typedef ntk_status (*ntk_train_replay_fn)(void *user, ntk_train_replay *r);
/* After every step that did not diverge: steps taken so far and the step's (batch) loss. */
typedef void (*ntk_train_progress_fn)(void *user, long step, double loss);

typedef struct {
    ntk_spec spec;             /* the network; initialised by ntk_net_init(seed) */
    uint64_t seed;             /* initialisation and minibatches */
    ntk_loss loss;             /* default half_mean */
    ntk_opt opt;               /* default gd */
    double lr;                 /* eta, used when lr_frac <= 0 */
    double lr_frac;            /* > 0: eta = lr_frac * 2 / (c lambda_max(K_0)) (default 0.5) */
    long steps;                /* T >= 0 (default 1000) */
    size_t batch;              /* minibatch rows (ntk_train_opts) */
    double momentum;           /* default 0.9 */
    const long *snapshots;     /* [n_snapshots] increasing steps in [0, T] from 0 (a schedule), or NULL: ... */
    size_t n_snapshots;
    const char *schedule;      /* ... parse this (default "log:20") */
    int per_layer;             /* per-layer kernels and drift_layers */
    int top_k;                 /* tracker eigenspace (default 10) */
    double ridge;              /* kernel regression and RKHS ridge relative to mean diag K (default 1e-8) */
    int flow;                  /* predictions by gradient flow in time eta step */
    double blowup;             /* diverged: a non-finite loss or loss > blowup * initial (> 1, default 1e6) */
    double freeze_eps;         /* ntk_freeze_time's eps, kcons, delta (defaults 0.01, 3, 2) */
    int freeze_k, freeze_delta;
    const char *checkpoint;    /* NULL: none; else ntk_checkpoint_save there at step 0 and at the first
                                  snapshot at least checkpoint_every steps after the last one */
    long checkpoint_every;     /* >= 0; 0: at every snapshot */
    int resume;                /* continue from `checkpoint` (a missing file: start over from step 0),
                                  replaying the snapshots up to its step through `replay` */
    ntk_train_replay_fn replay;
    ntk_train_progress_fn progress; /* may be NULL */
    int threads;               /* 0: leave the current setting; restored on return */
    int nth;                   /* 0 (off), 3 or 4: the truncated hierarchy at every snapshot (ntk_train_snapshot);
                                  one output (k = 1), opt gd, full batch; O3 (and O4) of the N train and M eval
                                  points must fit (ntk_o3_bytes, ntk_o4_bytes, NTK_O4_MAX_N), checked first */
    int gates_frozen;          /* 1: frozen gates (ntk_net_freeze_gates) at the parameters of step 0, the seeded
                                  initialisation (also on resume); act relu only; the result's net keeps them */
} ntk_train_run_opts;
ntk_train_run_opts ntk_train_run_defaults(void);

/* What a run leaves: the numbers of the manifest and the trajectory (owned: ntk_train_result_clear). */
typedef struct {
    double eta, c;             /* learning rate used, loss factor c of the N training rows */
    double kdot_literal;       /* ||(K(theta_0 - eta grad) - K_0) / eta - Kdot_0||_F / ||Kdot_0||_F */
    double loss0, loss_max;    /* the first step's loss, the largest any step reported (NAN: no step) */
    long loss_max_step;
    long start_step;           /* 0, or the checkpoint's step when resumed */
    long diverged_at;          /* the step that diverged, or -1 */
    double diverged_loss;      /* its loss */
    double seconds_steps, seconds_snapshots;
    int resume_error;          /* 1: the failure came from reading the checkpoint */
    /* summary */
    double freeze_step;        /* ntk_freeze_time of drift_fro over steps; NAN if never */
    double a_lambda_max;       /* eta c lambda_max(K_0) (NAN without a snapshot) */
    int unstable_modes;        /* ntk_linpred_unstable of the frozen-K_0 predictor */
    long lin_nonfinite_step, pert_nonfinite_step, pw_nonfinite_step; /* first non-finite error, or -1 */
    long nth_diverged_step;    /* ntk_nth_diverged_at of the hierarchy (nth), or -1 */
    double seconds_nth;        /* computing O3 (and O4) at step 0 */
    /* trajectory over the S snapshots delivered */
    size_t S, n, m;
    double *steps, *loss, *loss_eval, *drift_fro;       /* [S] */
    double *y_train;                                    /* [n] */
    double *f_train, *f_lin, *f_pert, *f_pw;            /* [S x n] */
    double *f_eval, *f_lin_eval, *f_pert_eval, *f_pw_eval; /* [S x m] (m > 0) */
    ntk_net *net;              /* the network at the end (owned) */
} ntk_train_result;
void ntk_train_result_clear(ntk_train_result *r);
/* A run's trajectory.npz (docs/train.md): float64 members steps, loss, drift_fro [S], f_train [S x n],
 * y_train [n], f_lin, f_pert, f_pw [S x n], and when m > 0 loss_eval [S], f_eval, f_lin_eval,
 * f_pert_eval, f_pw_eval [S x m] (those not NULL), from r (ntk_train_run's result); atomically. */
ntk_status ntk_train_trajectory_save(const char *path, const ntk_train_result *r);

/* The checks of o that ntk_trainer_alloc makes for N training rows (NTK_EINVAL naming the field). */
ntk_status ntk_train_opts_check(const ntk_train_opts *o, size_t N);
/* The checks ntk_train_run makes before it allocates anything (spec, data shapes, schedule,
 * optimizer and analysis options): NTK_EINVAL with a message naming the field, "train: ..." */
ntk_status ntk_train_run_check(const ntk_train_run_opts *o, const ntk_dataset *data);
/* Peak bytes of ntk_train_run for N train and M eval points (an estimate, float64). */
double ntk_train_run_bytes(const ntk_spec *spec, size_t N, size_t M, int per_layer);
/* Train on data (X_train [N x n0], Y_train [N x k]; X_eval [M x n0], Y_eval [M x k] when n_eval
 * = M > 0; caller-owned, read only), calling obs (may be NULL) at every snapshot in order, and o's
 * callbacks, with user.  A divergence is NTK_OK with diverged_at >= 0 (the snapshots up to that
 * step delivered).  res is filled as far as the run got, also on failure.
 * Messages carry their context ("train: ...", "resume: ...", "writing checkpoint: ..."). */
ntk_status ntk_train_run(const ntk_train_run_opts *o, const ntk_dataset *data, ntk_train_observer obs, void *user,
                         ntk_train_result *res);

/* ------------------------------------------------------------------ limits
 * Infinite-width NNGP and NTK of the spec (widths -> infinity), float64.
 * Per output: the limit is diagonal in outputs, K_ab = [a == b] K, so one
 * scalar kernel is returned for any k.  relu, erf and identity use closed
 * forms; other activations use quadrature of the 2-D Gaussian expectations
 * (NTK_EXPECT_QUAD forces quadrature for every activation, for tests).
 *
 * Standard parameterization: the NTK grows linearly with the widths (the
 * weight term of layer l carries a factor n_{l-1} / sigma_w^2); `ntk` is
 * evaluated at the spec's widths and `ntk_normalized` = ntk / mean hidden width
 * (for NTK parameterization ntk_normalized = ntk). */

typedef enum { NTK_EXPECT_AUTO, NTK_EXPECT_QUAD } ntk_expect_method;

/* E[phi(u) phi(v)] and E[phi'(u) phi'(v)] for (u, v) ~ N(0, [[s11, s12], [s12, s22]]). */
ntk_status ntk_gauss_expect(ntk_act act, ntk_expect_method m, double s11, double s22, double s12,
                            double *e_phiphi, double *e_dphidphi);

typedef struct {
    ntk_expect_method method;
    int quad_radial;        /* Gauss-Legendre nodes per radial panel (0: 12) */
    int quad_angular;       /* Gauss-Legendre nodes per angular panel (0: 16) */
    int no_table;           /* quadrature activations on equal-norm inputs are tabulated in the angle
                               per layer (129 Chebyshev nodes); 1 integrates every pair instead */
    int no_series;          /* smooth quadrature activations (tanh, gelu, sigmoid; erf and identity under
                               NTK_EXPECT_QUAD) use a Hermite series per pair, with the 2-D quadrature
                               where its truncation bound is not met (docs/limits.md); 1 integrates
                               every pair by the 2-D quadrature instead */
} ntk_limit_opts;

/* Kernels between Xa: [Na x n0] and Xb: [Nb x n0].  nngp, ntk, ntk_normalized: [Na x Nb]
 * (any may be NULL); ntk_layers: [(L+1) x Na x Nb] or NULL, the per-layer terms (sum = ntk). */
ntk_status ntk_limit_cross(const ntk_spec *spec, const ntk_limit_opts *o, size_t Na, const double *Xa,
                           size_t Nb, const double *Xb, double *nngp, double *ntk, double *ntk_normalized,
                           double *ntk_layers);
/* Symmetric full kernels on X: [N x n0] (computes one triangle). Outputs as above with Na = Nb = N. */
ntk_status ntk_limit_full(const ntk_spec *spec, const ntk_limit_opts *o, size_t N, const double *X,
                          double *nngp, double *ntk, double *ntk_normalized, double *ntk_layers);
/* Diagonals only: nngp_diag, ntk_diag: [N] (either may be NULL). O(N depth). */
ntk_status ntk_limit_diag(const ntk_spec *spec, const ntk_limit_opts *o, size_t N, const double *X,
                          double *nngp_diag, double *ntk_diag);

/* Closed forms on the circle S^1 (one hidden ReLU layer, unit inputs, angle delta in [0, pi]):
 * K0 = (sin d + (pi - d) cos d) / 2pi, K1 = (pi - d) / 2pi, Theta_nobias = K0 + cos d K1,
 * Theta_bias = K0 + (1 + cos d) K1. */
double ntk_circle_k0(double delta);
double ntk_circle_k1(double delta);
double ntk_circle_theta(double delta, int with_bias);
/* Continuum eigenvalues lambda_k = (1/pi) int_0^pi Theta(d) cos(k d) dd, k = 0..kmax-1, of a
 * kernel profile on the circle (uniform measure), by composite Gauss-Legendre.  lambda: [kmax]. */
ntk_status ntk_circle_eigenvalues(double (*profile)(double delta, void *ctx), void *ctx, int kmax,
                                  double *lambda);
/* Closed form of the same for Theta_bias / Theta_nobias. */
double ntk_circle_eigenvalue_closed(int k, int with_bias);

/* ---------------------------------------------------------------- analysis
 * Kernel comparisons, spectra, subspace angles and kernel regression.
 * float64, row-major; n is a kernel's side (N*k for k outputs). */

/* ||A - B||_F / ||B||_F over n entries (any shape); +inf if B = 0 != A. */
double ntk_rel_fro(size_t n, const double *A, const double *B);
/* Kernel distance S(A, B) = 1 - <A,B>_F / (||A||_F ||B||_F) (Fort et al. 2020), in [0, 1] for
 * PSD A, B; 0 when A and B are both zero. */
double ntk_kernel_distance(size_t n, const double *A, const double *B);
/* Symmetric eigendecomposition (LAPACK dsyevd), eigenvalues descending.  K: [n x n];
 * w: [n]; V: [n x n] with column i the eigenvector of w[i] (row-major), or NULL. */
ntk_status ntk_eigh(size_t n, const double *K, double *w, double *V);
/* Leakage of the Fourier modes of a uniform circle grid (gamma_i = gamma_0 + 2 pi i / n) across the
 * eigenspaces of Kt relative to K0: mode k = 0..kmax occupies the dim F_k rank positions S_k of
 * K0's eigenvectors that overlap it most; leak[k] = 1 - ||V_t[:, S_k]^T Q_k||_F^2 / dim F_k in [0, 1].
 * K0, Kt: [n x n]; leak: [kmax + 1]; kmax <= n/2.  Two eigendecompositions (O(n^3)). */
ntk_status ntk_circle_leakage(size_t n, const double *K0, const double *Kt, int kmax, double *leak);
/* ||A - B||_2 / ||B||_2 for symmetric A, B: [n x n]. */
ntk_status ntk_rel_op(size_t n, const double *A, const double *B, double *out);
/* Centred kernel-target alignment <HKH, H Y Y^T H>_F / (||HKH||_F ||H Y Y^T H||_F), H = I - 11^T/n.
 * K: [n x n], Y: [n x k]. */
ntk_status ntk_alignment_centered(size_t n, const double *K, int k, const double *Y, double *out);
/* Principal angles between span(U) and span(V), ascending, in [0, pi/2].  U, V: [n x p] with
 * orthonormal columns; angles: [p]. */
ntk_status ntk_principal_angles(size_t n, int p, const double *U, const double *V, double *angles);
/* Projector distance ||U U^T - V V^T||_F = sqrt(2 sum_i sin^2 angles_i).  angles: [p]. */
double ntk_projector_distance(int p, const double *angles);
/* Kernel ridge regression: alpha = (K + ridge I)^{-1} Y (Cholesky; ridge >= 0; a singular or
 * indefinite system gives NTK_ENUMERIC naming the ridge), pred = Kxe alpha.
 * K: [n x n], Y: [n x k], Kxe: [m x n] (NULL when m = 0), pred: [m x k], alpha: [n x k] or NULL. */
ntk_status ntk_krr(size_t n, const double *K, int k, const double *Y, double ridge, size_t m, const double *Kxe,
                   double *pred, double *alpha);
/* Freeze time of a drift curve: with the secant slopes s(t_j) = (drift[j] - drift[j-delta]) /
 * (t[j] - t[j-delta]) for j >= delta (s(t_j) belongs to the END of its interval), the first t_j
 * such that |s(t_i)| < eps |s(t_delta)| for the kcons consecutive i = j .. j+kcons-1; NAN if
 * never, or if s(t_delta) is 0 or not finite.  So a falling drift is not frozen while it falls.
 * t, drift: [S] (t increasing).  Defaults in the docs: eps 0.01, kcons 3, delta 2. */
double ntk_freeze_time(size_t S, const double *t, const double *drift, double eps, int kcons, int delta);

/* A short summary of a kernel: trace, ||K||_F, extreme entries, mean diagonal and (optionally) the
 * extreme eigenvalues.  Whole: ntk_kernel_summarize, with eigenvalues (values only) when N <=
 * eig_max_n.  By row blocks (kernels larger than memory): init, add_rows for every block, finish;
 * the entries are visited in the same order either way, so the two agree to the last bit. */
typedef struct ntk_kernel_summary {
    double trace, fro, min_entry, max_entry, mean_diag;
    double sum_sq;                  /* running sum of squares (fro = sqrt(sum_sq) after finish) */
    double lambda_min, lambda_max;  /* valid when have_eig */
    int have_eig;
} ntk_kernel_summary;
void ntk_kernel_summary_init(ntk_kernel_summary *s);
/* rows: [B x N] rows r0 .. r0+B-1 of an N x N kernel, float32 for NTK_F32. */
ntk_status ntk_kernel_summary_add_rows(ntk_kernel_summary *s, size_t r0, size_t B, size_t N, ntk_dtype t,
                                       const void *rows);
void ntk_kernel_summary_finish(ntk_kernel_summary *s, size_t N);
/* K: [N x N] symmetric, float32 for NTK_F32. */
ntk_status ntk_kernel_summarize(size_t N, ntk_dtype t, const void *K, size_t eig_max_n, ntk_kernel_summary *s);

/* Percentiles of v: [n] at the levels q: [nq] in [0, 1], numpy's default ('linear') rule on the
 * sorted values; NaN values are left out (numpy.nanpercentile); NaN when none is left.  out: [nq]. */
ntk_status ntk_percentiles(size_t n, const double *v, int nq, const double *q, double *out);
/* Mean of the m values of v: [n] that are not NaN (NaN left out, as in ntk_percentiles: numpy.nanmean),
 * their sample standard deviation sd (ddof 1: numpy.nanstd(v, ddof=1)) and the standard error of
 * the mean se = sd / sqrt(m).  One convention for small m: m = 0 gives mean, sd and se NaN; m = 1
 * gives the mean (that value) and sd = se = NaN.  Infinite values are kept (mean +-inf, sd and se
 * NaN).  se and sd may be NULL. */
ntk_status ntk_mean_se(size_t n, const double *v, double *mean, double *se, double *sd);
/* R = mean(v^2) / mean(v)^2 over the m non-NaN values of v: [n], and the delta-method standard
 * error of log R, sqrt((S22 / m2^2 + 4 S11 / m1^2 - 4 S12 / (m1 m2)) / m) with m1, m2 the means of v
 * and v^2 and S11, S22, S12 the sample (co)variances (ddof 1) of v and v^2.  m = 0 gives R NaN;
 * m <= 1, or an estimate of Var(log R) that is not positive, gives log_se NaN.  log_se may be NULL. */
ntk_status ntk_moment_ratio(size_t n, const double *v, double *R, double *log_se);
/* Least-squares line y = intercept + slope x through the m points (x[i], y[i]) with neither value
 * NaN: slope = Sxy / Sxx, intercept = mean(y) - slope mean(x), and the slope's standard error
 * sqrt(RSS / (m - 2) / Sxx) (RSS the residual sum of squares).  Slope and intercept are NaN when
 * m <= 1 or all x are equal (compared as values: rounding can leave Sxx a tiny positive residue);
 * slope_se is NaN then and when m = 2.  x, y: [n].  intercept and slope_se may be NULL. */
ntk_status ntk_ols(size_t n, const double *x, const double *y, double *slope, double *intercept, double *slope_se);

/* Tracker: drift metrics of a stream of kernels K_t against K_0 and against the previous
 * snapshot, keeping only what the metrics need (K_0, its top eigenvectors, the previous K_t). */
typedef struct ntk_tracker ntk_tracker;
typedef struct {
    int top_k;            /* eigenspace dimension for angles / eigenvalue drift (default 10) */
    double active_thr;    /* a mode is active when its eigenvalue's total variation over time
                             exceeds active_thr * lambda_max(K_0) (default 1e-3) */
} ntk_tracker_opts;
typedef struct {
    double drift_fro;        /* ||K_t - K_0||_F / ||K_0||_F */
    double drift_op;         /* ||K_t - K_0||_2 / ||K_0||_2 */
    double kernel_distance;  /* S(K_0, K_t) */
    double velocity;         /* S(K_prev, K_t) / (t - t_prev); 0 at the first snapshot */
    double alignment;        /* centred kernel-target alignment of K_t (NAN without targets) */
    double lambda_max, lambda_min;
    double eig_drift_max;    /* max_i<top_k |lambda_i(t) - lambda_i(0)| / lambda_i(0) */
    double angle_max;        /* largest principal angle between the top-k eigenspaces of K_0, K_t */
    double projector_dist;   /* ||P_0 - P_t||_F of those eigenspaces */
    int active_modes;        /* sorted eigenvalues whose total variation so far exceeds the threshold */
    const double *eigs;      /* [n] eigenvalues of K_t, descending (valid until the next update) */
    const double *angles;    /* [top_k] principal angles, ascending */
    const double *top_vectors; /* [n x top_k] column-major: the top eigenvectors of K_t (valid until
                                  the next update) */
    int top_k;               /* their number (min(opts.top_k, n)) */
} ntk_drift;
/* K0: [n x n]; Y: [n x k] targets for the alignment (NULL: none). */
ntk_status ntk_tracker_alloc(size_t n, const double *K0, int k, const double *Y, const ntk_tracker_opts *o,
                             ntk_tracker **out);
void ntk_tracker_free(ntk_tracker *tr);
/* Metrics of K_t at time t (the first call should pass K_0 itself at t = 0).  Kt: [n x n]. */
ntk_status ntk_tracker_update(ntk_tracker *tr, double t, const double *Kt, ntk_drift *out);

/* Sweep cells (docs/sweep.md, "Regimes"): the regime of a finished training run from its summary,
 * a snapshot curve at any time, and the test-error arithmetic of cells.csv (src/analysis/regime.c).  The
 * enum values are cells.csv's regime_code. */
typedef enum { NTK_REGIME_LAZY = 0, NTK_REGIME_WEAK = 1, NTK_REGIME_UNSTABLE = 2 } ntk_regime;
const char *ntk_regime_name(ntk_regime r); /* "lazy", "weak_feature_learning", "unstable" */
typedef struct {
    double lazy_drift;          /* lazy: drift_fro <= lazy_drift (>= 0, default 0.1) ... */
    double lazy_lin_err;        /* ... and lin_err <= lazy_lin_err (>= 0, default 0.1) */
    double unstable_loss_ratio; /* unstable: diverged, or not loss_T < ratio * loss0 (> 0, default 1) */
    double catapult_spike;      /* catapult: loss_max > (1 + spike) loss0 (>= 0, default 1) */
} ntk_regime_opts;
ntk_regime_opts ntk_regime_defaults(void);
typedef struct {
    int diverged;                     /* the run stopped on a non-finite or blown-up loss */
    double loss0, loss_T, loss_max;   /* initial, final and largest training loss */
    double drift_fro;                 /* final ||K_T - K_0||_F / ||K_0||_F */
    double lin_err;                   /* final ||f_T - f_lin|| / ||f_T - f_0|| of the frozen-K_0 predictor */
    double lambda_max_0, lambda_max_T; /* top eigenvalue of K_0 and K_T */
} ntk_cell_summary;
/* Unstable when diverged or the loss did not fall below unstable_loss_ratio x loss0; else lazy
 * when drift_fro and lin_err are both within their thresholds; else weak feature learning.
 * *catapult (may be NULL) = 1 when not unstable, loss_max > (1 + catapult_spike) loss0 and
 * lambda_max_T < lambda_max_0.  A NaN summary value never makes a run lazy, stable or a catapult. */
ntk_status ntk_regime_classify(const ntk_regime_opts *o, const ntk_cell_summary *c, ntk_regime *out,
                               int *catapult);
/* v at time tau, linear between the points (t_i, v_i): t, v: [S], t increasing.  NaN outside
 * [t_0, t_{S-1}] (or for a NaN tau); at a point t_i exactly v_i. */
double ntk_interp_at(size_t S, const double *t, const double *v, double tau);
/* Root mean squared error per entry sqrt(sum_i (a_i - b_i)^2 / n); a, b: [n]; NaN for n = 0. */
double ntk_rmse(size_t n, const double *a, const double *b);
/* Mean diagonal (1/n) sum_i K_ii, the scale of the relative ridges; K: [n x n]; NaN for n = 0. */
double ntk_mean_diag(size_t n, const double *K);
/* The kernel-regression predictor started from an initial function f0 (the linearized network
 * trained to convergence from f0): pred_init = pred + f0e - Kxe (K + ridge I)^{-1} f0, with pred
 * the predictor from zero (ntk_krr of Y).  K: [n x n], f0: [n x k] on the training points,
 * Kxe: [m x n], pred, f0e (f0 on the evaluation points), pred_init: [m x k].  Errors as ntk_krr. */
ntk_status ntk_krr_init_shift(size_t n, const double *K, int k, const double *f0, double ridge, size_t m,
                              const double *Kxe, const double *pred, const double *f0e, double *pred_init);

/* Evolving-RKHS diagnostics of one kernel (docs/train.md, "RKHS diagnostics"), with the ridge
 * lambda stated in the result.  Conditioning is reported, never clamped. */
typedef struct {
    double ridge;     /* lambda (absolute) */
    double norm_y;    /* y^T (K + lambda I)^{-1} y: RKHS norm^2 of the target */
    double norm_f;    /* f^T (K + lambda I)^{-1} f: of the current function */
    double eff_dim;   /* tr K (K + lambda I)^{-1} = sum_i lambda_i / (lambda_i + lambda) */
    double energy_y;  /* ||U^T y||^2 / ||y||^2: target energy in the top-p eigenspace */
    double energy_r;  /* ||U^T (f - y)||^2 / ||f - y||^2: residual energy there (NaN when f = y) */
    double cond;      /* lambda_max / lambda_min of K (inf when lambda_min <= 0) */
} ntk_rkhs;
/* K: [n x n] symmetric (its upper triangle is read); w: [n] its eigenvalues, descending; U: [n x p]
 * column-major, its top-p eigenvectors (NULL when p = 0); y, f: [n]; ridge > 0.  Allocates O(n^2) scratch. */
ntk_status ntk_rkhs_stats(size_t n, const double *K, const double *w, int p, const double *U, const double *y,
                          const double *f, double ridge, ntk_rkhs *out);

/* Predictions of the training dynamics from the initial kernel (linearized / frozen K_0) and
 * the first-order correction in Delta K_t = K_t - K_0 (docs/dynamics.md).  Train vectors have
 * n = N*k entries, eval vectors m = M*k; `a` = eta * c (learning rate times loss factor). */
typedef struct ntk_linpred ntk_linpred;
/* K0: [n x n], Ke0: [m x n] eval x train kernel (NULL when m = 0), f0, y: [n], f0e: [m].
 * flow: continuous gradient flow f' = -c K0 (f - y) with time measured in eta * steps. */
ntk_status ntk_linpred_alloc(size_t n, const double *K0, size_t m, const double *Ke0, const double *f0,
                             const double *y, const double *f0e, double a, int flow, ntk_linpred **out);
void ntk_linpred_free(ntk_linpred *lp);
/* Modes that grow without bound: a lambda_p > 2 (discrete steps) or lambda_p < 0 (flow); the
 * largest a lambda_p into *a_lambda_max (may be NULL).  Past the stability edge the predictions
 * below are still computed and returned with NTK_OK; they may be +-inf or NaN. */
int ntk_linpred_unstable(const ntk_linpred *lp, double *a_lambda_max);
/* Frozen-K0 prediction after t steps (any real t >= 0): f_train: [n], f_eval: [m] (may be NULL). */
ntk_status ntk_linpred_at(const ntk_linpred *lp, double t, double *f_train, double *f_eval);
/* h steps of discrete gradient descent with the kernel frozen at K, by matrix-vector products
 * (about 2 h (n + m) n flops; cheaper than an eigendecomposition for h below ~n):
 * r = f - y; f <- f - a K r, fe <- fe - a Ke r.  K: [n x n], Ke: [m x n] (NULL when m = 0),
 * y: [n]; f: [n] and fe: [m] (NULL when m = 0) are advanced in place. */
ntk_status ntk_frozen_gd_steps(size_t n, const double *K, size_t m, const double *Ke, const double *y, double a,
                               long h, double *f, double *fe);
/* First-order correction, advanced interval by interval over the snapshot grid: Delta K_s is
 * interpolated linearly in s between snapshot steps s0 < s1 (dK0 at s0, dK1 at s1; train x train
 * [n x n], and eval x train [m x n] or NULL).  Call with increasing intervals starting at s0 = 0
 * (dK = 0 there); on return df_train [n] / df_eval [m] hold delta f at step s1. */
ntk_status ntk_linpred_pert_advance(ntk_linpred *lp, long s0, const double *dK0, const double *dKe0, long s1,
                                    const double *dK1, const double *dKe1, double *df_train, double *df_eval);

/* --------------------------------------------------- neural tangent hierarchy
 * The hierarchy of gradient descent on L = c * 1/2 sum (f - y)^2 (Huang & Yau 2020; Dyer & Gur-Ari
 * 2020; docs/dynamics.md, "The neural tangent hierarchy"), one output (k = 1), float64:
 *   O3_abc = grad_theta K_ab . g_c,   O4_abcd = grad_theta O3_abc . g_d,   g_c = grad_theta f(x_c),
 * so that along gradient flow theta' = -grad L, with r = f - y:  f' = -c K r, K' = -c O3 r,
 * O3' = -c O4 r.  Train indices a, b, c, d run over the N training points; eval rows replace the
 * first index by one of M evaluation points e: O3e_ebc = grad K_eb . g_c (K_eb the eval x train
 * kernel), O4e_ebcd = grad O3e_ebc . g_d.  Both are symmetric in their first two train indices
 * (O3_abc = O3_bac); O3 r contracts the last index.  Layout: row-major, O3[(a N + b) N + c],
 * O4[((a N + b) N + c) N + d].  relu: the pathwise tensors (activation masks frozen, phi'' = 0).
 *
 * Cost (flops, n_l the widths, L hidden layers, P_h = sum_{l=2}^{L+1} n_l n_{l-1}, S = N + M
 * directions for the training points' Hessians and N for the eval points'):
 *   O3: 2 (N S + M N) P_h (the forward tangents of every point along every g_s, by GEMM)
 *       + 2 (N S^2 + M N^2) sum_{l=1}^{L} n_l (their contractions; twice that for smooth activations)
 *       + one kernel's features and Grams of the N + M points; no N x P array is formed
 *       (about N/2 kernels: bench/README.md, "o3").
 *   O4: N times the O3 computation differentiated in forward mode along g_d: about 3 N times O3.
 * Memory: the outputs, the features, (2L+1) (N+M)^2 Grams and the block buffers (ntk_o3_bytes). */

/* NTK_O4_MAX_N: O4 is held in memory (N^4 + M N^3 doubles): N and M at most 64 (268 MB). */
#define NTK_O4_MAX_N 64
typedef struct {
    double budget;   /* bytes the call may hold, outputs included (0: ntk_mem_available_bytes()) */
    int threads;     /* 0: leave the current setting (restored on return) */
} ntk_o3_opts;
ntk_o3_opts ntk_o3_defaults(void); /* budget 0 (MemAvailable), threads 0 */
/* Peak bytes of ntk_o3 / ntk_o4 for N train and M eval points: the outputs, the features and the
 * workspace (the plan the calls check and then allocate; spec->outputs must be 1). */
double ntk_o3_bytes(const ntk_spec *spec, size_t N, size_t M);
double ntk_o4_bytes(const ntk_spec *spec, size_t N, size_t M);
/* O3 at the network's current parameters.  X: [N x n0], Xe: [M x n0] (NULL when M = 0),
 * O3: [N x N x N], O3e: [M x N x N] (NULL when M = 0).  o may be NULL (defaults).  k > 1:
 * NTK_EINVAL; a plan above the budget: NTK_ENOMEM naming the sizes, before anything is allocated. */
ntk_status ntk_o3(ntk_net *net, const ntk_o3_opts *o, size_t N, const double *X, size_t M, const double *Xe,
                  double *O3, double *O3e);
/* O4 likewise.  O4: [N x N x N x N], O4e: [M x N x N x N]; N, M > NTK_O4_MAX_N: NTK_ENOMEM. */
ntk_status ntk_o4(ntk_net *net, const ntk_o3_opts *o, size_t N, const double *X, size_t M, const double *Xe,
                  double *O4, double *O4e);

/* The truncated hierarchy in discrete time, one step of gradient descent per step (a = eta c):
 *   r_t = f_t - y,   f_{t+1} = f_t - a K_t r_t,   fe_{t+1} = fe_t - a Ke_t r_t,
 *   K_{t+1} = K_t - a O3_t r_t,   Ke_{t+1} = Ke_t - a O3e_t r_t,
 *   level 4 only:  O3_{t+1} = O3_t - a O4 r_t,   O3e_{t+1} = O3e_t - a O4e r_t,
 * every right-hand side at step t (explicit Euler, the optimizer's own step).  Level 3 freezes O3
 * (and O3e) at their initial values, level 4 freezes O4 (and O4e).  n = N train entries (k = 1),
 * m = M eval entries. */
typedef struct {
    int level;  /* 3 or 4 (default 4) */
    double a;   /* eta * c, > 0 (default 0: must be set) */
} ntk_nth_opts;
ntk_nth_opts ntk_nth_defaults(void);
typedef struct ntk_nth ntk_nth;
/* K0: [n x n], O3: [n x n x n], f0, y: [n]; eval side (all NULL when m = 0): Ke0: [m x n],
 * O3e: [m x n x n], fe0: [m]; level 4: O4: [n x n x n x n] and O4e: [m x n x n x n] (NULL when
 * m = 0), NULL at level 3.  K0, Ke0, O3, O3e, f0, fe0 are copied (they evolve); O4 and O4e are
 * referenced and must outlive the handle.  The state starts at step 0. */
ntk_status ntk_nth_alloc(const ntk_nth_opts *o, size_t n, const double *K0, const double *O3, const double *O4,
                         const double *f0, const double *y, size_t m, const double *Ke0, const double *O3e,
                         const double *O4e, const double *fe0, ntk_nth **out);
void ntk_nth_free(ntk_nth *s);
/* Advance to step t >= the current step (a smaller t: NTK_EINVAL, nothing changed).  A step that
 * makes f non-finite marks the state diverged (ntk_nth_diverged_at); it stops there, later calls
 * return NTK_OK and change nothing. */
ntk_status ntk_nth_advance(ntk_nth *s, long t);
long ntk_nth_step(const ntk_nth *s);        /* the current step */
long ntk_nth_diverged_at(const ntk_nth *s); /* the step whose f first was non-finite, or -1 */
/* The state at the current step (each may be NULL): f: [n], fe: [m], K: [n x n], Ke: [m x n]. */
ntk_status ntk_nth_get(const ntk_nth *s, double *f, double *fe, double *K, double *Ke);

/* ---------------------------------------------------------------- studies
 * The grid experiments one (depth, width) cell at a time (docs/cli.md: profile, converge) and the
 * sweep's per-cell summary from a finished cell's arrays (docs/sweep.md).  Every buffer is
 * caller-owned; a cell's networks are initialised with ntk_net_init(seeds[s]) in seed order.
 * Engines set `threads` (0: leave the current setting) for the call and restore the previous
 * count on return; no result depends on it.  Scalar kernels of k-output networks are the output
 * mean (1/k) sum_a K_aa, compared with the per-output limit (docs/conventions.md). */

/* Per-column statistics over the S rows of a [S x N] sample: mean, standard deviation (ddof 1:
 * NaN for S = 1), percentiles p10 / p50 / p90 (ntk_percentiles).  Each [N], any may be NULL. */
typedef struct {
    double *mean, *std, *p10, *p50, *p90;
} ntk_seed_stats;
/* How far a seed mean is from a reference profile lim (the infinite-width one). */
typedef struct {
    double rel_err;      /* ||mean - lim|| / ||lim|| */
    double rel_std;      /* sqrt(sum_j std_j^2) / ||lim||: the seed spread relative to the limit */
    double max_abs_dev;  /* max_j |mean_j - lim_j| */
} ntk_profile_err;
/* samples: [S x N], lim: [N]; out's arrays [N]; err may be NULL. */
ntk_status ntk_seed_column_stats(size_t S, size_t N, const double *samples, const double *lim,
                                 const ntk_seed_stats *out, ntk_profile_err *err);

/* The kernel profile K(x_0, x_j) of one cell over seeds (Jacot et al. 2018, Figure 1): the
 * anchor row of each seed's empirical kernel (output mean) beside the infinite-width row, at
 * initialisation (or at `params`) and, with steps T > 0, again after T optimizer steps on a
 * training set of its own. */
typedef struct {
    const double *x0;          /* [n0] the anchor */
    size_t N;
    const double *X;           /* [N x n0] the profile's points */
    size_t n_seeds;            /* S >= 1 */
    const int *seeds;          /* [S] >= 0; unused when params is given */
    const double *params;      /* [P] parameters every seed starts from (a loaded network), or NULL */
    long steps;                /* T >= 0 */
    size_t n_train;            /* training set of the T steps (steps > 0): */
    const double *X_train;     /* [n_train x n0] */
    const double *Y_train;     /* [n_train x k] */
    ntk_train_opts train;      /* optimizer, loss, batch, momentum, minibatch seed; lr when lr_frac <= 0 */
    double lr_frac;            /* > 0: lr = lr_frac * 2 / lambda_max(c K_0) per network, K_0 its kernel on
                                  X_train, c = ntk_loss_factor over the batch (full batch: n_train) */
    double blowup;             /* diverged: a step's loss not finite or > blowup * the first step's loss */
    int threads;
} ntk_profile_opts;
ntk_profile_opts ntk_profile_defaults(void); /* steps 0, blowup 1e6, ntk_train_defaults() */
typedef struct {
    double *K;                  /* [S x N] K(x_0, x_j) per seed (caller-owned) */
    double *limit;              /* [N] the infinite-width K_inf(x_0, x_j), per output */
    ntk_seed_stats stats;       /* of K (arrays caller-owned, any NULL) */
    ntk_profile_err err;        /* of stats.mean against limit */
    /* steps > 0 only (the pointers may be NULL otherwise): */
    double *K_trained;          /* [S x N] after the T steps */
    ntk_seed_stats stats_trained;
    ntk_profile_err err_trained;
    double *loss_T;             /* [S] the loss on the whole training set after step T; inf: diverged
                                   (K_trained is then the profile where training stopped) */
    double *eta;                /* [S] the learning rate of each run */
    double rel_change;          /* seed mean of ||K_trained_s - K_s|| / ||K_s|| */
    double loss_T_median;       /* median of loss_T (ntk_percentiles) */
    size_t diverged;            /* seeds whose training diverged */
} ntk_profile_result;
/* An invalid option or a trainer the options do not allow gives NTK_EINVAL. */
ntk_status ntk_profile_cell(const ntk_spec *spec, const ntk_profile_opts *o, ntk_profile_result *r);

/* Convergence of the empirical kernel at initialisation to the infinite-width one on X for one
 * cell: relative Frobenius errors per seed (ntk_rel_fro of the output mean against K_inf), of the
 * seed-mean kernel, and the diagonal's statistics. */
typedef struct {
    size_t N;
    const double *X;           /* [N x n0] */
    size_t n_seeds;            /* S >= 1 */
    const int *seeds;          /* [S] >= 0 */
    int threads;
} ntk_converge_opts;
typedef struct {
    double *err;               /* [S] ||K_s - K_inf||_F / ||K_inf||_F (caller-owned) */
    double err_mean;           /* the same for the seed-mean kernel (1/S) sum_s K_s */
    double err_single_mean;    /* mean of err over the seeds ... */
    double err_single_se;      /* ... and its standard error (ntk_mean_se: NaN for one seed) */
    double diag_mean;          /* (1/N) sum_i mean_s K_s(x_i, x_i) */
    double diag_var;           /* (1/N) sum_i var_s K_s(x_i, x_i) (ddof 1; NaN for one seed) */
    double diag_limit;         /* (1/N) sum_i K_inf(x_i, x_i) */
} ntk_converge_result;
ntk_converge_opts ntk_converge_defaults(void);
ntk_status ntk_converge_cell(const ntk_spec *spec, const ntk_converge_opts *o, ntk_converge_result *r);
/* Peak bytes of ntk_converge_cell for the largest network of a grid (spec with every one of
 * max(depths) hidden layers max(widths) wide), N points and S seeds.  depths: [nd], widths: [nw]. */
double ntk_converge_bytes(const ntk_spec *spec, size_t nd, const int *depths, size_t nw, const int *widths,
                          size_t N, size_t S);
/* The log-log line of the single-network error in width over one depth's cells: OLS (ntk_ols) of
 * log err on log width over all W x S points.  widths: [W], err: [W x S] (row w: the S seeds). */
typedef struct {
    double slope, slope_se;    /* NaN for one width (ntk_ols) */
    size_t points;             /* W * S */
    int width_min, width_max;
} ntk_width_fit;
ntk_status ntk_converge_fit(size_t W, const int *widths, size_t S, const double *err, ntk_width_fit *out);

/* The hierarchy's width study (docs/dynamics.md, "The width study"; src/analysis/study_nth.c).  For
 * one network spec over widths x seeds (every hidden layer of a cell `width` wide, initialised by
 * ntk_net_init(seed)) on one data set (X, y; one output), each cell trains its network once by
 * gradient descent on L = c 1/2 sum (f - y)^2 and compares it with three predictions from step 0:
 * the linearized model (ntk_linpred) and the truncated hierarchy at levels 3 and 4 (ntk_nth), both
 * from the same O3 and O4 (ntk_o3, ntk_o4 at step 0).  At every snapshot t, with f_t, K_t the
 * network's outputs and kernel on the N points:
 *   e_P(t) = ||f_t^P - f_t|| / ||f_T - f_0||         P = lin, 3, 4 (one normalisation: the final distance)
 *   k_P(t) = ||K_t^P - K_t||_F / ||K_t - K_0||_F      P = 3, 4 (NAN at step 0)
 *   flips_l(t) = the share of the pairs (unit u of hidden layer l, training point i) whose
 *                pre-activation sign [z_l(x_i)_u > 0] differs from step 0 (relu: on/off changes).
 * A truncation that diverges (ntk_nth_diverged_at) is recorded, not fatal: its e and k are +inf from
 * that step on.  The quantities of a cell (ntk_nthq): e at T, eS = the largest e over the snapshots,
 * and k at T.  Per width: seed means and standard errors (ntk_mean_se); slopes in width: OLS
 * (ntk_ols) of log(seed mean) on log(width) over the widths >= min_width whose mean is finite and
 * positive; the crossover of level P: the smallest width from which on (at it and every larger one)
 * the seed mean of e_P at T is below that of e_lin (NAN if none). */
typedef enum {
    NTK_NTHQ_E_LIN, NTK_NTHQ_E_3, NTK_NTHQ_E_4,    /* e at T */
    NTK_NTHQ_ES_LIN, NTK_NTHQ_ES_3, NTK_NTHQ_ES_4, /* max over the snapshots of e */
    NTK_NTHQ_K_3, NTK_NTHQ_K_4,                    /* k at T */
    NTK_NTHQ_COUNT
} ntk_nthq;
const char *ntk_nthq_name(int q); /* "e_lin" "e_3" "e_4" "eS_lin" "eS_3" "eS_4" "k_3" "k_4"; NULL outside */

typedef struct ntk_nth_study ntk_nth_study;
/* Called on each cell's network right after ntk_net_init(seed), before anything is computed from it
 * (a control that changes the network, e.g. its gates); non-OK stops the study with that status. */
typedef ntk_status (*ntk_nth_study_hook)(void *user, ntk_net *net);
/* Called when cell (w, s) is complete in r (its entries, not yet the aggregates); non-OK stops the
 * study with that status. */
typedef ntk_status (*ntk_nth_study_cell_fn)(void *user, const ntk_nth_study *r, size_t w, size_t s);

typedef struct {
    size_t N;                   /* 1 <= N <= NTK_O4_MAX_N training points */
    const double *X;            /* [N x n0] */
    const double *y;            /* [N] targets */
    ntk_loss loss;              /* default half_sum (c = 1) */
    double lr_frac;             /* > 0: eta = lr_frac * 2 / lambda_max(c K_0) per network (default 0.25) */
    double lr;                  /* eta when lr_frac <= 0 */
    long steps;                 /* T >= 1 (default 200) */
    const char *schedule;       /* snapshots (ntk_train_schedule_parse; default "every:10") */
    size_t n_widths;            /* W >= 1 */
    const int *widths;          /* [W] strictly increasing */
    size_t n_seeds;             /* S >= 1 */
    const int *seeds;           /* [S] >= 0 */
    int min_width;              /* the slopes' widths are >= min_width (0: all) */
    int threads;                /* 0: leave the current setting (restored on return) */
    int gates_frozen;           /* 1: each cell's network has its gates frozen at its initialisation
                                   (ntk_net_freeze_gates; act relu): the gated control, no unit crosses
                                   its kink (the flips still count the pre-activations' sign changes) */
    ntk_nth_study_hook net_hook;  /* NULL: none (called after the gates are frozen) */
    void *hook_user;
    ntk_nth_study_cell_fn cell_done; /* NULL: none */
    void *cell_user;
} ntk_nth_study_opts;
ntk_nth_study_opts ntk_nth_study_defaults(void);

/* The study's results (owned: ntk_nth_study_clear).  Cell (w, s) is entry c = w S + s. */
struct ntk_nth_study {
    size_t W, S, J;             /* widths, seeds, snapshots */
    int L;                      /* hidden layers */
    int *widths, *seeds;        /* [W], [S] */
    long *steps;                /* [J] the snapshot steps, 0 first and T last */
    double *q;                  /* [NTK_NTHQ_COUNT x W x S]: quantity i of cell c at i W S + c */
    double *flips;              /* [W x S x L] flips_l at T */
    long *diverged;             /* [2 x W x S] ntk_nth_diverged_at of level 3 (row 0) and 4 (row 1), or -1 */
    double *eta;                /* [W x S] the learning rate */
    double *a_lambda_max;       /* [W x S] eta c lambda_max(K_0) */
    double *loss0, *lossT;      /* [W x S] L at step 0 and at T */
    double *drift;              /* [W x S] ||K_T - K_0||_F / ||K_0||_F */
    double *seconds;            /* [W x S] the cell's time (O3, O4, training, snapshots) */
    double *e_t;                /* [3 x W x S x J] e_lin, e_3, e_4 at every snapshot */
    double *k_t;                /* [2 x W x S x J] k_3, k_4 at every snapshot */
    double *flips_t;            /* [W x S x J x L] flips_l at every snapshot */
    /* per width (ntk_nth_study_aggregate) */
    double *mean, *se;          /* [NTK_NTHQ_COUNT x W] over the seeds (ntk_mean_se) */
    double *flips_mean, *flips_se; /* [W x L] */
    int *n_diverged;            /* [2 x W] seeds whose level 3 (row 0) / 4 (row 1) truncation diverged */
    ntk_width_fit fit[NTK_NTHQ_COUNT]; /* slope of log(mean) on log(width); points: widths used */
    int min_width;
    double crossover_3, crossover_4; /* widths, or NAN */
};
void ntk_nth_study_clear(ntk_nth_study *r);
/* What ntk_nth_study_run checks before it allocates anything: NTK_EINVAL naming the field ("nth
 * study: ..."); NTK_ENOMEM when N > NTK_O4_MAX_N. */
ntk_status ntk_nth_study_check(const ntk_spec *spec, const ntk_nth_study_opts *o);
/* Peak bytes of one cell at width `width` (the network, its trainer, O3, O4 and their planner's
 * workspace, the integrators' states) for N points. */
double ntk_nth_study_bytes(const ntk_spec *spec, int width, size_t N);
/* The whole study into r (cleared first; filled as far as it got, also on failure), the cells in
 * order w = 0 .. W-1, s = 0 .. S-1, then the aggregates.  The network's training diverging (a
 * non-finite loss) is NTK_ENUMERIC naming the cell. */
ntk_status ntk_nth_study_run(const ntk_spec *spec, const ntk_nth_study_opts *o, ntk_nth_study *r);
/* The per-width aggregates of r's cells (above) with the slopes over the widths >= min_width. */
ntk_status ntk_nth_study_aggregate(ntk_nth_study *r, int min_width);

/* Peak bytes of ntk_limit_full on N points: NNGP and NTK, the normalized NTK for the standard
 * parameterization, the per-layer terms when per_layer, and the inputs. */
double ntk_limit_bytes(const ntk_spec *spec, size_t N, int per_layer);

/* The infinite-width kernel regression of one sweep cell on its data, beside its trained network
 * (docs/sweep.md): K_inf on the training points, ridge = ridge_rel * mean diagonal (as for K_0
 * and K_T), the predictor from zero (ntk_krr) and the one started from the network's f_0
 * (ntk_krr_init_shift); test errors are RMSEs per entry (ntk_rmse). */
typedef struct {
    size_t N, M;               /* training and evaluation points (M >= 1) */
    const double *X_train;     /* [N x n0] */
    const double *Y_train;     /* [N x k] */
    const double *X_eval;      /* [M x n0] */
    const double *Y_eval;      /* [M x k] */
    const double *f_train0;    /* [N x k] the network's outputs at init on the training points */
    const double *f_eval0;     /* [M x k] ... at init on the evaluation points */
    const double *f_eval_T;    /* [M x k] ... after training */
    double ridge_rel;          /* >= 0 */
    int threads;
} ntk_kinf_opts;
typedef struct {
    double *K;                 /* [N x N] K_inf on the training points (caller-owned) */
    double *K_eval;            /* [M x N] K_inf(x_eval, x_train) */
    double *pred;              /* [M x k] the K_inf regression of Y_train from zero */
    double *pred_init;         /* [M x k] ... started from f_0 */
    double ridge;              /* absolute */
    int solved;                /* 0: the regression failed (its message is ntk_last_error()); pred,
                                  pred_init and the errors below but err_net are NaN */
    double err_net;            /* RMSE per entry of f_eval_T against Y_eval */
    double err_kinf;           /* ... of pred */
    double rel_kinf;           /* ||f_eval_T - pred|| / ||pred|| */
    double rel_kinf_init;      /* ||f_eval_T - pred_init|| / ||pred_init|| */
} ntk_kinf_result;
/* NTK_OK also when the solve fails (solved = 0); errors for bad arguments and the limit kernels. */
ntk_status ntk_kinf_regression(const ntk_spec *spec, const ntk_kinf_opts *o, ntk_kinf_result *r);
/* The same for a finished training run from its files (a sweep cell): f_train0, f_eval0 and f_eval_T
 * are rows 0, 0 and S-1 of f_train [S x N k] and f_eval [S x M k] in trajectory_path (as
 * ntk_train_trajectory_save writes it), on the run's data d (n_eval = M >= 1); kinf_path receives
 * float64 K_inf [N x N], K_inf_eval [M x N], y_train [N x k], y_eval [M x k], pred, pred_init [M x k]
 * and ridge [1], atomically.  r's numbers are set; its buffers are the function's own (NULL on return). */
ntk_status ntk_kinf_regression_files(const ntk_spec *spec, const ntk_dataset *d, double ridge_rel, int threads,
                                     const char *trajectory_path, const char *kinf_path, ntk_kinf_result *r);

/* The sweep's common time tau: the smallest end time t_end[i] > 0 among the cells that did not
 * diverge (diverged[i] = 0); 0 when there is none.  t_end, diverged: [n]. */
double ntk_sweep_tau(size_t n, const double *t_end, const int *diverged);
/* Cells with equal keys form a group (groups.csv: equal depth, width and lr_frac; the members are
 * the seeds).  Groups are numbered in the order of their first cell; a NaN key equals nothing.
 * keys: [n x nk]; group: [n] each cell's group; first, count: [n] (the first *ngroups entries are
 * set: each group's first cell and its size; either may be NULL). */
ntk_status ntk_group_keys(size_t n, int nk, const double *keys, size_t *group, size_t *ngroups, size_t *first,
                          size_t *count);
/* Percentiles (ntk_percentiles: NaN left out) of v over each group's members.  group: [n] as from
 * ntk_group_keys, v: [n], q: [nq], out: [ngroups x nq]. */
ntk_status ntk_group_percentiles(size_t n, const size_t *group, size_t ngroups, const double *v, int nq,
                                 const double *q, double *out);

/* --------------------------------------------------------------- operators
 * Gradient descent in function space with a fixed kernel, and the projections of its residual on
 * Fourier modes and eigenvectors (docs/modes.md).  Points on S^1 are x_j = (cos g_j, sin g_j); the
 * sampled operator is A = K/n (K_ij = Theta(x_i, x_j)).  The Fourier basis Phi: [n x (2K+1)] has
 * the columns 1, sqrt2 cos(k g), sqrt2 sin(k g) for k = 1..K (column 2k-1: cos, 2k: sin), which are
 * orthonormal in the continuum; projections use Phi_unit, its columns normalised on the sample (a
 * column of norm below 1e-8 sqrt(n), such as sin(n/2 g) on a grid, has coefficient 0). */

/* Phi: [n x (2K+1)] at the angles gamma: [n]. */
ntk_status ntk_fourier_matrix(size_t n, const double *gamma, int K, double *Phi);
/* coef: [2K+1] = Phi_unit^T r, and plane: [K+1] the per-frequency plane mass |c_0|,
 * ||(c_cos k, c_sin k)||, of r: [n] at the angles gamma: [n].  Either output may be NULL. */
ntk_status ntk_fourier_project(size_t n, const double *gamma, int K, const double *r, double *coef, double *plane);
/* plane: [K+1] from coef: [2K+1] (as above). */
void ntk_fourier_planes(int K, const double *coef, double *plane);

/* The operator A = K/n of a kernel of the angle difference on the equispaced grid
 * g_j = g_0 + 2 pi j / n: a symmetric circulant matrix, diagonal in the Fourier basis, applied by
 * FFT (FFTW) in O(n log n) time and O(n) memory; no n x n matrix is formed. */
typedef struct ntk_circulant ntk_circulant;
/* row: [n], row_j = Theta(2 pi j / n), the kernel between g_0 and g_j.  Refused unless the row is
 * symmetric (|row_j - row_{n-j}| <= 1e-12 max|row|: a kernel of the angle difference) and finite. */
ntk_status ntk_circulant_create(size_t n, const double *row, ntk_circulant **out);
/* row: [n] from a profile Theta(delta), delta in [0, pi] the angle between two points. */
ntk_status ntk_circulant_row(size_t n, double (*profile)(double delta, void *ctx), void *ctx, double *row);
void ntk_circulant_free(ntk_circulant *c);
size_t ntk_circulant_size(const ntk_circulant *c);
/* mu: [n], the eigenvalue of A on frequency m, mu_m = (1/n) sum_j row_j cos(2 pi j m / n) (the
 * Fourier coefficients of the sampled kernel, aliasing included; mu_m = mu_{n-m}).  Its Fourier
 * modes cos(m g), sin(m g) are the eigenvectors. */
ntk_status ntk_circulant_eigenvalues(const ntk_circulant *c, double *mu);
/* y = A x; x, y: [n] (may be the same array). */
ntk_status ntk_circulant_apply(const ntk_circulant *c, const double *x, double *y);
/* ntk_fourier_project for the grid's angles g_j = g0 + 2 pi j / n, by one FFT: coef: [2K+1],
 * plane: [K+1] (either may be NULL) of r: [n]; K <= n/2. */
ntk_status ntk_circulant_project(const ntk_circulant *c, double g0, int K, const double *r, double *coef,
                                 double *plane);

/* Operator gradient descent u_{t+1} = u_t - eta A (u_t - y) on the n training points, with the eval
 * predictions u_eval,t = u_eval,0 + A_eval a_t, a_t = -eta sum_{s<t} (u_s - y) (A_eval = K(X_eval, X)/n).
 * For the loss half_mean on a network, (1/2n) sum (f - y)^2, this is the linearized network's step
 * with the same eta (docs/modes.md).  Two paths:
 *   dense      A: [n x n] symmetric, any points; O(n^2) per step, one eigendecomposition;
 *   circulant  C (A NULL): an equispaced grid; the step runs in the Fourier domain, O(n) per step and
 *              O(n log n) per snapshot, O(n) memory; eval points through the kernel profile.
 * Preconditioned: u_{t+1} = u_t - eta P A (u_t - y) with P = Phi M G^{-1} Phi^T / n on the Fourier
 * basis up to kmax (G = Phi^T Phi / n, H = Phi^T A Phi / n), M = (Lambda_n + tau I)^{-1} (theory,
 * Lambda_n the finite-sample eigenvalues from lambda and theta0) or (G^{-1} H + (tau + reg) I)^{-1}
 * (empirical); eval points follow through the same Fourier functions, u_eval = u_eval,0 + Phi_eval b_t.
 * eta_scale is then relative to the largest eigenvalue of P A (that of M G^{-1} H). */
typedef enum { NTK_PRECOND_NONE = 0, NTK_PRECOND_THEORY = 1, NTK_PRECOND_EMPIRICAL = 2 } ntk_precond;
const char *ntk_precond_name(ntk_precond p);
ntk_status ntk_precond_parse(const char *s, ntk_precond *out);
typedef struct {
    size_t n, m;                  /* training and eval points (m = 0: none) */
    const double *A;              /* dense path: [n x n] the operator K/n, symmetric; or NULL */
    const ntk_circulant *C;       /* circulant path (A == NULL) */
    double g0;                    /* circulant path: the grid's first angle */
    const double *A_eval;         /* dense path, m > 0: [m x n] K(X_eval, X)/n */
    double (*profile)(double delta, void *ctx); /* circulant path, m > 0: Theta(delta) for the eval rows */
    void *profile_ctx;
    const double *y;              /* [n] targets */
    const double *y_eval;         /* [m] eval targets, or NULL */
    const double *u0, *u0_eval;   /* [n], [m] the initial function; NULL: zero */
    const double *gamma;          /* [n] training angles (dense path; NULL: no Fourier projections) */
    const double *gamma_eval;     /* [m] eval angles (NULL: no eval projections) */
    const double *mode_mu;        /* [K+1] eigenvalue per frequency for ideal_plane (dense path; NULL:
                                     none); the circulant path uses its own mu */
    double eta;                   /* > 0: the step */
    double eta_scale;             /* eta <= 0: eta = eta_scale / lambda_max(A) (default 0.05) */
    long steps;                   /* default 100 */
    const long *snap;             /* [n_snap] ascending snapshot steps in [0, steps]; NULL: 0 and steps */
    size_t n_snap;
    int kmax;                     /* K: Fourier frequencies 0..K (default 8; <= n/2) */
    int top_k;                    /* eigenvectors projected on (default 8; <= n) */
    ntk_precond precond;          /* default NONE */
    double tau, reg;              /* preconditioner shifts (default 1e-3, 0) */
    const double *lambda;         /* theory: [K+1] continuum eigenvalues (ntk_circle_eigenvalues) */
    double theta0;                /* theory: Theta(0) */
    ntk_dtype dtype;              /* dense path without preconditioner: NTK_F32 keeps A, the eigen-
                                     decomposition (ssyevd) and the steps in float32 (snapshots are
                                     reported in float64); default NTK_F64 */
    int threads;                  /* 0: the library's current count */
} ntk_kgd_opts;
ntk_kgd_opts ntk_kgd_opts_defaults(void);

typedef struct {
    long step;
    double t;                     /* eta * step */
    double loss, loss_eval;       /* (1/2n) ||u - y||^2, (1/2m) ||u_eval - y_eval||^2 (NAN: none) */
    const double *u, *u_eval;     /* [n], [m] */
    const double *coef_train;     /* [2K+1] Fourier coefficients of u - y (NULL: no angles) */
    const double *plane_train;    /* [K+1] their plane mass */
    const double *coef_eval, *plane_eval; /* the same for u_eval - y_eval (NULL: none) */
    const double *ideal_plane;    /* [K+1] |1 - eta mu_k|^t plane_train at step 0 (NULL: undefined);
                                     preconditioned on the circulant path mu_k is P A's, mu_k M_kk */
    const double *proj_eig;       /* [top_k] v_i^T (u - y) on the top eigenvectors of A, descending */
} ntk_kgd_snapshot;
/* Non-OK stops the run; ntk_kgd_run returns it. */
typedef ntk_status (*ntk_kgd_observer)(void *user, const ntk_kgd_snapshot *s);

typedef struct {
    double eta, lambda_max;       /* the step used and lambda_max(A) */
    double rho;                   /* the largest eigenvalue of the step's operator (A, or P A) */
    double *eig;                  /* caller's [n] or NULL: the eigenvalues of A, descending (float32's
                                     with dtype NTK_F32) */
    double *eig_f64;              /* caller's [n] or NULL: the eigenvalues of the same A in float64
                                     (dense path; with dtype NTK_F32 a values-only float64
                                     decomposition besides, for the float32-against-float64
                                     difference of small eigenvalues; else a copy of eig) */
    double f32_abs;               /* with eig_f64 and NTK_F32: max_i |eig_i - eig_f64_i| / eig_f64_0 (else 0) */
    long f32_rel1;                /* ... the first index i (descending) with |eig_i - eig_f64_i| > 1e-2
                                     |eig_f64_i|: where float32 stops resolving the spectrum (-1: none) */
} ntk_kgd_result;
ntk_status ntk_kgd_run(const ntk_kgd_opts *o, ntk_kgd_observer obs, void *user, ntk_kgd_result *res);
/* A Gaussian-process draw u ~ N(0, K) (the `gp` init; stream GP, sub = draw), from one of:
 *   K: [n x n] PSD, by the Cholesky factor of K + jitter * mean(diag K) I (jitter >= 0, 1e-10 is
 *      usually enough for a rank-deficient kernel), u = L z;
 *   C (K NULL): the grid's circulant A = K/n, by FFT, u = F diag(sqrt(n mu_m)) F^-1 z (eigenvalues
 *      below 0 from rounding count as 0), O(n log n) and no n x n matrix.
 * z: [n] standard normals (seed, NTK_STREAM_GP, sub).  u: [n]. */
ntk_status ntk_gp_draw(size_t n, const double *K, const ntk_circulant *C, double jitter, uint64_t seed, uint64_t sub,
                       double *u);

/* Kernel sources for operator gradient descent and the mode studies (docs/modes.md): the closed-form
 * circle kernels of one hidden ReLU layer (Theta_bias, Theta_nobias, K0 alone, K1 alone), the
 * infinite-width NTK of a spec, the empirical NTK of a network, or a given matrix. */
typedef enum {
    NTK_KSRC_THETA_BIAS, NTK_KSRC_THETA_NOBIAS, NTK_KSRC_K0, NTK_KSRC_K1, NTK_KSRC_LIMIT, NTK_KSRC_EMPIRICAL,
    NTK_KSRC_MATRIX
} ntk_ksrc;
/* "theta_bias" | "theta_nobias" | "k0" | "k1" | "limit" | "empirical" | "matrix" */
const char *ntk_ksrc_name(ntk_ksrc s);
ntk_status ntk_ksrc_parse(const char *s, ntk_ksrc *out);
typedef struct {
    ntk_ksrc kind;
    ntk_spec spec;                /* limit, empirical: the network (n0 = the data's) */
    uint64_t seed;                /* empirical: ntk_net_init's seed (when net is NULL) */
    const ntk_net *net;           /* empirical: this network instead (e.g. a train run's params.npz) */
    const double *K;              /* matrix: [n x n] over the training points */
    const double *K_eval;         /* matrix: [m x n] eval x train, or NULL (no eval predictions) */
} ntk_kernel_source;

/* What a source on a data set resolves to: the operator, its data and the continuum quantities
 * (owned; ntk_kgd_problem_clear).  The continuum eigenvalues lambda_k are the source's (closed forms,
 * or by quadrature of the limit kernel's profile; empirical: its spec's infinite-width NTK; matrix:
 * none) and theta0 its Theta(0). */
typedef struct {
    size_t n, m;
    int fft;                      /* 1: the circulant path (C), 0: dense (A) */
    double *A, *A_eval;           /* dense: [n x n] K/n, [m x n] K(X_eval, X)/n (NULL when m = 0) */
    ntk_circulant *C;             /* fft */
    double g0;                    /* fft: the grid's first angle */
    double *y, *y_eval;           /* [n], [m] */
    double *u0, *u0_eval;         /* [n], [m] the init (zero, or a GP draw) */
    double *gamma, *gamma_eval;   /* [n], [m] angles (circle data), or NULL */
    int K;                        /* frequencies of lambda */
    double *lambda;               /* [K+1] continuum eigenvalues, or NULL */
    double *mode_mu;              /* [K+1] lambda_k^(n) = (1 - 1/n) lambda_k + theta0 / n, or NULL */
    double theta0;
    ntk_ksrc kind;                /* for the eval profile of the fft path */
    const void *profile_state;    /* internal */
} ntk_kgd_problem;
typedef struct {
    int fft;                      /* -1 (default): the FFT path when the training points are an
                                     equispaced grid and the source a kernel of the angle (the
                                     closed forms, limit); 0: dense; 1: FFT or NTK_EINVAL */
    int gp_init;                  /* 1: u0 ~ N(0, NNGP) by ntk_gp_draw (the NNGP is K0 for the closed
                                     forms, the spec's NNGP for limit and empirical, K for a matrix) */
    uint64_t gp_seed;
    int kmax;                     /* frequencies of lambda (default 8) */
} ntk_kgd_problem_opts;
ntk_kgd_problem_opts ntk_kgd_problem_defaults(void);
/* d: one output (k = 1); circle data carry gamma_train / gamma_eval.  Refuses K > n/2, a matrix of
 * the wrong size, and the FFT path on points that are not an equispaced grid. */
ntk_status ntk_kgd_problem_build(const ntk_kernel_source *src, const ntk_dataset *d, const ntk_kgd_problem_opts *po,
                                 ntk_kgd_problem *out);
void ntk_kgd_problem_clear(ntk_kgd_problem *p);
/* The problem's fields into o: n, m, A or C and g0, A_eval or the eval profile, y, y_eval, u0,
 * u0_eval, gamma, gamma_eval, mode_mu (dense), lambda and theta0 (the theory preconditioner) and
 * kmax = the problem's K.  o keeps pointers into p. */
void ntk_kgd_problem_apply(const ntk_kgd_problem *p, ntk_kgd_opts *o);
/* Theta(delta) of a problem's source on the circle (closed forms and limit; NAN otherwise). */
double ntk_kgd_problem_profile(double delta, void *problem);

/* The sampled operator against the continuum one on the Fourier basis ("lemma objects",
 * docs/modes.md): G = Phi^T Phi / n, H = Phi^T A Phi / n, E = A Phi - Phi Lambda_n, where Lambda_n
 * holds the finite-sample eigenvalue lambda_k^(n) = (1 - 1/n) lambda_k + Theta(0)/n of each column's
 * frequency k (lambda_k of the continuum operator (T f)(phi) = int Theta(phi - psi) f(psi) dpsi / 2pi). */
typedef struct {
    size_t n;
    const double *A;              /* dense: [n x n] the operator K/n; or NULL */
    const ntk_circulant *C;       /* circulant (A NULL): the grid g0 + 2 pi j / n, A Phi by FFT */
    const double *gamma;          /* dense: [n] the angles */
    double g0;
    int K;                        /* frequencies 0..K (default 8; <= n/2) */
    const double *lambda;         /* [K+1] continuum eigenvalues (ntk_circle_eigenvalues) */
    double theta0;                /* Theta(0), the kernel's diagonal */
} ntk_lemma_opts;
ntk_lemma_opts ntk_lemma_opts_defaults(void);
typedef struct {
    double G_max, G_fro;          /* ||G - I|| in the max-entry and the Frobenius norm */
    double H_max, H_fro;          /* ||H - Lambda_n|| */
    double E_max, E_fro;          /* ||E|| */
} ntk_lemma_norms;
/* e_col: [2K+1] the per-mode ||E_{:,p}|| / ||Phi_{:,p}|| (or NULL); G, H: [(2K+1) x (2K+1)] the
 * matrices themselves (or NULL).  Memory 2 n (2K+1) doubles beside A. */
ntk_status ntk_lemma_objects(const ntk_lemma_opts *o, ntk_lemma_norms *out, double *e_col, double *G, double *H);

/* The top eigenspaces of a finite kernel against the Fourier planes F_k = span{cos k g, sin k g}
 * (dimension d_k: 1 for k = 0 and k = n/2, else 2; "subspace metrics", docs/modes.md).  Plane k is
 * matched to the d_k eigenvectors with the largest overlap sum ||Q_k^T v_i||^2 among the first
 * `search` (by descending eigenvalue; 0: all n), Q_k its orthonormal basis on the sample. */
typedef struct {
    int dim;                      /* d_k */
    int rank[2];                  /* the matched eigenvectors' rank positions (0-based, ascending) */
    double angle_max;             /* the largest principal angle between the two spans */
    double proj_fro;              /* projector distance, Frobenius: sqrt(2 sum sin^2 theta) */
    double proj_op;               /* projector distance, operator: max sin theta */
    double affinity;              /* sqrt(sum cos^2 theta / d_k), 1 when the spans agree */
    double eig_err;               /* mean |w_i - lambda_k| / lambda_k over the matched eigenvalues of A
                                     (= K's against n lambda_k) */
} ntk_plane_match;
/* w: [n] eigenvalues of A descending, V: [n x n] its eigenvectors (columns; ntk_eigh), gamma: [n],
 * lambda: [K+1] the continuum eigenvalues; out: [K+1]. */
ntk_status ntk_fourier_subspaces(size_t n, const double *w, const double *V, const double *gamma, int K,
                                 const double *lambda, size_t search, ntk_plane_match *out);
/* C = U^T A U with U = Phi_unit: [n x (2K+1)] at gamma: [n]; C: [(2K+1) x (2K+1)] (symmetric);
 * leakage = sum |entries outside the plane blocks| / sum |entries inside|.  A: [n x n]. */
ntk_status ntk_fourier_blocks(size_t n, const double *A, const double *gamma, int K, double *C, double *leakage);
/* The drift of each plane block C_k between two such C (t against 0): fro, op, max: [K+1] the
 * Frobenius, operator and max-entry norms of C_k(t) - C_k(0).  C0, Ct: [(2K+1) x (2K+1)]. */
ntk_status ntk_fourier_block_drift(int K, const double *C0, const double *Ct, double *fro, double *op, double *max);

/* Concentration of the sampled operator over seeds ("concentration Monte Carlo", docs/modes.md):
 * B = Phi^T A Phi / n - Lambda_K on the Fourier basis up to K, Lambda_K = diag(lambda_k) per column.
 *   width   A = K_m / n with K_m the empirical NTK of the spec at hidden width m on the equispaced grid
 *           of n points (g_j = 2 pi j / n), one network per seed; its own bias is that of the grid,
 *           B_inf = Phi^T A_inf Phi / n - Lambda_K with A_inf the spec's infinite-width NTK on the grid,
 *           and the fluctuation is B - B_inf;
 *   sample  A = Theta / n for the kernel profile at n uniform random angles per seed; the bias is
 *           E B = Lambda_n - Lambda_K (lambda_k^(n) = (1 - 1/n) lambda_k + Theta(0)/n) and the
 *           fluctuation B - E B.
 * The exceedance is the share of seeds with ||fluctuation||_max >= eps, beside the bound
 * 2 d^2 exp(-c m min(eps^2 / L^2, eps / L)), d = 2K+1, m the width or n. */
typedef enum { NTK_CONC_WIDTH = 0, NTK_CONC_SAMPLE = 1 } ntk_conc_kind;
typedef struct {
    ntk_conc_kind kind;
    int K;                        /* default 8 */
    const ntk_spec *spec;         /* width: the network (its hidden widths are set to each m) */
    const int *widths;            /* width: [n_cells] */
    size_t n;                     /* width: grid points */
    double (*profile)(double delta, void *ctx); /* sample: Theta(delta), delta in [0, pi] */
    void *profile_ctx;
    const size_t *ns;             /* sample: [n_cells] sample sizes */
    size_t n_cells;
    const double *lambda;         /* [K+1] the continuum eigenvalues of the infinite-width kernel */
    double theta0;                /* sample: Theta(0) */
    int seeds;                    /* per cell (default 10) */
    uint64_t seed;                /* width: network seed + s; sample: draw s of the angles (sub = s) */
    const double *eps;            /* [n_eps] thresholds */
    size_t n_eps;
    double c, L;                  /* bound constants (default 1, 1) */
    int threads;                  /* 0: the library's current count */
} ntk_conc_opts;
ntk_conc_opts ntk_conc_opts_defaults(void);
/* Per cell i, seed s (index i * seeds + s) and per cell; every array is the caller's. */
typedef struct {
    double *B;                    /* [n_cells x seeds x 3] ||B|| max, Frobenius, operator */
    double *F;                    /* [n_cells x seeds x 3] ||fluctuation|| max, Frobenius, operator */
    ntk_lemma_norms *lemma;       /* [n_cells x seeds] G, H, E of the sampled operator (or NULL) */
    double *bias;                 /* [n_cells x 3] ||bias|| max, Frobenius, operator */
    double *exceed;               /* [n_cells x n_eps] P(||fluctuation||_max >= eps) over seeds */
    double *bound;                /* [n_cells x n_eps] the tail bound */
} ntk_conc_result;
ntk_status ntk_concentration_run(const ntk_conc_opts *o, ntk_conc_result *r);

/* Seed-mean spectra of a group of runs ("seed-mean spectra", docs/modes.md).  S: [seeds x T x p]
 * the top-p eigenvalues at T snapshots of each seed (the same snapshot steps).  mean: [T x p] the
 * seed mean s_bar_j(t); drift: [T] ||s_bar(t) - s_bar(0)|| / ||s_bar(0)||; var: [T x p] the
 * per-mode variance over seeds (ddof 1, ntk_mean_se's convention: NaN for one seed); tv: [p]
 * TV_j = sum_t |s_bar_j(t+1) - s_bar_j(t)|; active: [p] 1 where TV_j > tau.  Any output may be NULL. */
ntk_status ntk_seed_spectra(size_t seeds, size_t T, size_t p, const double *S, double tau, double *mean, double *drift,
                            double *var, double *tv, int *active);

/* Frozen against evolving ("frozen against evolving", docs/modes.md): a network trained by
 * ntk_train_run beside operator gradient descent with its K_0, time-matched at the same snapshot
 * steps.  The network's step on the loss c 1/2 sum (f - y)^2 moves its linearization by
 * f <- f - eta c K_0 (f - y) = f - eta_op A_0 (f - y) with A_0 = K_0 / n: the operator runs with
 * eta_op = eta c n (half_mean: eta_op = eta; half_sum: eta n; mse: 2 eta) from u_0 = f_0.  One output
 * (k = 1); the training inputs are on the circle (data->gamma_train). */
typedef struct {
    ntk_train_run_opts train;     /* the network's run */
    int kmax;                     /* Fourier frequencies 0..K (default 8) */
    int top_k;                    /* principal angles between the top-k eigenspaces of K_t and K_0 (default 8) */
} ntk_fe_opts;
ntk_fe_opts ntk_fe_opts_defaults(void);
typedef struct {
    long step;
    double t;                     /* eta * step */
    double eta_op;                /* the operator's step */
    double loss_net, loss_op;     /* the network's training loss; (1/2n) ||u - y||^2 */
    const double *coef_net, *plane_net; /* [2K+1], [K+1] Fourier coefficients and planes of f_t - y */
    const double *coef_op, *plane_op;   /* the same of u_t - y */
    const double *f, *u;          /* [n] the network's outputs and the operator's function */
    double gap;                   /* ||f_t - u_t|| / ||y - f_0|| */
    const double *angles;         /* [top_k] principal angles, ascending, of span top-k(K_t) against K_0's */
    double leakage;               /* of K_t's Fourier blocks (ntk_fourier_blocks of A_t = K_t/n) */
    const double *block_drift;    /* [3 x (K+1)] Frobenius, operator and max norms of C_k(t) - C_k(0) */
} ntk_fe_snapshot;
typedef ntk_status (*ntk_fe_observer)(void *user, const ntk_fe_snapshot *s);
/* Runs the network (res as ntk_train_run's, the caller clears it), then the operator; obs sees
 * every snapshot the network reached. */
ntk_status ntk_frozen_evolving_run(const ntk_fe_opts *o, const ntk_dataset *data, ntk_fe_observer obs, void *user,
                                   ntk_train_result *res);

/* One cell of the mode studies ("subspace metrics", docs/modes.md): a finite kernel (its source on
 * circle data, dense) against the continuum, with the lemma objects, the eigenspaces matched to the
 * Fourier planes, the plane blocks and their leakage, and the prediction error of kernel regression
 * with it on the eval points, beside that of the source's infinite-width kernel (limit and empirical:
 * the spec's NTK; closed forms: themselves). */
typedef struct {
    ntk_kernel_source src;        /* the finite kernel */
    int kmax;                     /* frequencies 0..K (default 8) */
    size_t search;                /* eigenvectors searched per plane (0: all) */
    double ridge;                 /* kernel regression ridge relative to mean diag K (default 1e-8) */
} ntk_modes_opts;
ntk_modes_opts ntk_modes_opts_defaults(void);
typedef struct {                  /* every array the caller's */
    ntk_lemma_norms lemma;
    double *e_col;                /* [2K+1] per-mode ||E_p|| / ||Phi_p|| (or NULL) */
    ntk_plane_match *planes;      /* [K+1] (or NULL) */
    double *C;                    /* [(2K+1) x (2K+1)] the plane blocks U^T A U (or NULL) */
    double leakage;
    double *eig;                  /* [n] eigenvalues of A = K/n, descending (or NULL) */
    double pred_err;              /* eval RMSE of the kernel regression with K (NAN: no eval points) */
    double pred_err_inf;          /* the same with the infinite-width kernel */
    double pred_rel_inf;          /* ||f_K - f_inf|| / ||f_inf|| on the eval points */
} ntk_modes_result;
/* data: circle data (gamma_train; gamma_eval for eval points), one output. */
ntk_status ntk_modes_cell(const ntk_modes_opts *o, const ntk_dataset *data, ntk_modes_result *r);

/* ---------------------------------------------------------------- ensembles
 * Exact lazy sampling of one network's kernel at one input (docs/ensemble.md): a member needs
 * only W^(l) h / ||h|| in the forward pass (a fresh standard normal vector) and, in the backward
 * pass, W^(l)^T delta conditioned on that probe: hhat (u . delta) + ||delta|| (I - hhat hhat^T) g
 * with g fresh.  O(sum_l n_l) work and normals per member instead of O(P).  Scalar output (k = 1). */
typedef struct {
    double K;          /* K(x, x) */
    double K_weight;   /* weight part */
    double K_bias;     /* bias part */
    double K_readout;  /* K_d = c_w^2 ||h^(L)||^2: the readout weights' term (Hanin-Nica's K_d) */
    double f;          /* the output f(x) */
} ntk_member_diag;

/* Doubles of workspace ntk_lazy_diag needs for this spec. */
size_t ntk_lazy_work_len(const ntk_spec *spec);
/* One member: randomness from (seed, NTK_STREAM_ENSEMBLE, sub) only.  x: [n0]; work:
 * [ntk_lazy_work_len]; layers: [L+1] per-layer terms K^(l)(x, x) or NULL. */
ntk_status ntk_lazy_diag(const ntk_spec *spec, const double *x, uint64_t seed, uint64_t sub, double *work,
                         ntk_member_diag *out, double *layers);
/* The same member (identical K and parts) plus the pathwise first-step update of K(x,x) per unit
 * learning rate for one SGD step on 1/2 (f(x) - y)^2 at x, activation masks frozen (exact for
 * smooth activations): dk_path = -2 (f - y) grad f^T Hess f grad f, sampled lazily by conditioning
 * each W^(l) on its forward and backward probes (docs/ensemble.md, "Pathwise update").  Draws
 * after the member's other normals, so K is unchanged. */
ntk_status ntk_lazy_diag_update(const ntk_spec *spec, const double *x, double y, uint64_t seed, uint64_t sub,
                                double *work, ntk_member_diag *out, double *layers, double *dk_path);

/* The 2 x 2 block at two inputs of one random network, by the same exact lazy construction on
 * the span of the two inputs' vectors (docs/ensemble.md, "Two inputs"). */
typedef struct {
    double K11, K22, K12; /* K(x, x), K(x', x'), K(x, x') */
    double f1, f2;        /* f(x), f(x') */
} ntk_member_pair;

/* Doubles of workspace ntk_lazy_pair needs for this spec. */
size_t ntk_lazy_pair_work_len(const ntk_spec *spec);
/* One member: randomness from (seed, stream, sub) only.  x1, x2: [n0]; work: [ntk_lazy_pair_work_len]. */
ntk_status ntk_lazy_pair(const ntk_spec *spec, const double *x1, const double *x2, uint64_t seed, uint32_t stream,
                         uint64_t sub, double *work, ntk_member_pair *out);

/* ---------------------------------------------------------- ensemble cells
 * One (depth, width) cell of `ntkdrift ensemble` (docs/ensemble.md, "Library"): M members over
 * random initializations, each by the lazy sampler above (or with every weight drawn), their
 * per-member quantities and the cell's statistics.  Member m of cell c draws from (seed,
 * NTK_STREAM_ENSEMBLE, sub = c * 2^32 + m), its second-probe network from NTK_STREAM_ENSEMBLE_PAIR
 * with the same sub, and its full-matrix network (literal update, sampler_full) is ntk_net_init'ed
 * with a seed derived from (seed, sub): every value depends on (seed, cell, member) only, so the
 * samples are bit-identical for any thread or rank count.  Scalar output (k = 1). */

/* The per-member quantities; ntk_ensemble_q_name gives each one's name (the keys of samples.npz). */
typedef enum {
    NTK_ENS_K,          /* K(x, x) */
    NTK_ENS_K_WEIGHT,   /* its weight part (lazy sampler; NaN under sampler_full) */
    NTK_ENS_K_BIAS,     /* its bias part (idem) */
    NTK_ENS_K_READOUT,  /* K_d, the readout weights' term (idem) */
    NTK_ENS_F,          /* f(x) */
    NTK_ENS_DK_PATH,    /* pathwise first-step dK(x,x) / lambda, masks frozen (NaN: no_updates) */
    NTK_ENS_DK_LITERAL, /* literal one-step (K(theta - lambda grad) - K) / lambda (NaN: no_updates, no_literal,
                         * more than NTK_ENSEMBLE_LITERAL_MAX_PARAMS weights) */
    NTK_ENS_K_OFF,      /* K(x, x') of an independent network (NaN without a second probe) */
    NTK_ENS_RHO_OFF,    /* K(x, x') / sqrt(K(x, x) K(x', x')) of that network (idem) */
    NTK_ENS_NQ
} ntk_ensemble_q;
const char *ntk_ensemble_q_name(ntk_ensemble_q q); /* "K", "K_weight", ..., "rho_off"; NULL out of range */

/* Members with more weights than this skip the literal update (NaN). */
#define NTK_ENSEMBLE_LITERAL_MAX_PARAMS 20000000.0

struct ntk_dist; /* the distribution section below */

typedef struct {
    size_t members;        /* M >= 1 */
    const double *x;       /* [n0] the probe (ntk_ensemble_probes); required */
    const double *xp;      /* [n0] a second probe, or NULL: K_off and rho_off NaN */
    double lr;             /* lambda > 0 of the literal one-step update */
    double y;              /* target of the step's loss 1/2 (f(x) - y)^2 */
    int no_updates;        /* skip both first-step updates (NaN) */
    int no_literal;        /* skip the literal one (NaN) */
    int sampler_full;      /* every weight drawn: K, f and the pathwise update (full matrices) only */
    uint64_t seed;
    int threads;           /* OpenMP threads over members, 0: the current count; BLAS runs single-threaded
                            * inside, and the previous thread count is restored on return */
    const struct ntk_dist *dist; /* members dealt round-robin to its ranks and summed, or NULL: one process */
} ntk_ensemble_opts;
/* members 1000, x and xp NULL, lr 1e-3, y 0, every flag 0, seed 0, threads 0, dist NULL. */
ntk_ensemble_opts ntk_ensemble_defaults(void);

/* One cell's per-member values: caller-owned arrays (point them into larger buffers), or
 * ntk_ensemble_samples_alloc + ntk_ensemble_samples_clear. */
typedef struct {
    size_t members;          /* M */
    int depth;               /* the spec's depth: layers has depth + 1 columns */
    double *q[NTK_ENS_NQ];   /* [M] each, indexed by ntk_ensemble_q */
    double *layers;          /* [M x (depth + 1)] each member's per-layer terms K^(l)(x, x), which sum to K
                              * (NaN under sampler_full); NULL: not kept */
} ntk_ensemble_samples;
ntk_status ntk_ensemble_samples_alloc(ntk_ensemble_samples *s, size_t members, int depth);
void ntk_ensemble_samples_clear(ntk_ensemble_samples *s);

typedef struct {
    double mean[NTK_ENS_NQ], se[NTK_ENS_NQ]; /* ntk_mean_se of each quantity (NaN members left out) */
    double R, R_log_se;            /* ntk_moment_ratio of K: mean(K^2) / mean(K)^2, delta-method se of log R */
    double R_boot_lo, R_boot_hi;   /* 95% percentile bootstrap interval of R: 400 resamples, resample b of
                                    * cell c takes members floor(u M) for uniforms 0 .. M-1 of (seed,
                                    * NTK_STREAM_ENSEMBLE_BOOTSTRAP, c * 400 + b); the sorted ratios' entries
                                    * 10 and 389.  NaN when its buffer cannot be allocated */
    double Kd_R, Kd_R_log_se;      /* the same ratio of K_readout */
    double Kw_R, Kw_R_log_se;      /* of K_weight */
    double Koff_R, Koff_R_log_se;  /* of K_off */
    int warn_ceiling;              /* R > M / 10: near its ceiling M the estimate reflects M, not the law */
    int warn_tail;                 /* one member carries > 10% of sum K^2 */
    double seconds;                /* ntk_ensemble_cell: wall seconds of this rank's members; 0 otherwise */
} ntk_ensemble_stats;

/* The statistics of one cell's samples (cell: the bootstrap's key). */
ntk_status ntk_ensemble_stats_compute(const ntk_ensemble_samples *s, uint64_t seed, uint64_t cell,
                                      ntk_ensemble_stats *st);
/* Every member of cell `cell` into samples (members and depth must match o and spec); with o->dist
 * of several ranks, each rank computes members m with m % size == rank and the arrays are summed
 * over the ranks (exact: every other rank contributes 0.0), so every rank ends with all of them
 * (every rank passes layers, or none does).  st (or NULL): ntk_ensemble_stats_compute of the
 * result.  A failure on any rank, bad arguments included, fails the cell on every rank. */
ntk_status ntk_ensemble_cell(const ntk_spec *spec, const ntk_ensemble_opts *o, uint64_t cell,
                             ntk_ensemble_samples *samples, ntk_ensemble_stats *st);

/* The probes: x: [n0] row 0 of ntk_data_gaussian(data_seed) scaled to ||x||^2 = s n0; for
 * angle_deg >= 0 also xp: [n0], the second probe of the same norm at that angle to x,
 * cos t x + sin t ||x|| u with u the unit part of row 1 orthogonal to x (0 and 180 degrees exactly
 * x and -x; with n0 = 1 only those two).  angle_deg < 0: no second probe (xp untouched, may be NULL). */
ntk_status ntk_ensemble_probes(uint64_t data_seed, int n0, double s, double angle_deg, double *x, double *xp);

/* The theory columns of a cell of this spec and width n (every hidden layer n wide; at depth 0 n
 * enters dK_scale only), d = depth + 1 weight layers, probe norm ||x||^2 = s n0. */
typedef struct {
    double beta;     /* depth / n (0 at depth 0) */
    double K_mean;   /* E[K(x,x)] = d s + (d + 1) / 2 (relu, NTK parameterization, sw2 2, readout 1, fan-in
                      * first layer, zero-init biases with sb 1), d s without biases; NaN otherwise */
    double Kd_R;     /* E[K_d^2] / E[K_d]^2 = prod_l (1 + 5 / n_l) under the same conditions; NaN otherwise */
    double exp5beta; /* e^{5 beta} */
    double dK_scale; /* (d^2 / n) e^{5 beta}: the scale of the first-step update */
} ntk_ensemble_theory;
ntk_status ntk_ensemble_theory_of(const ntk_spec *spec, int width, double s, ntk_ensemble_theory *th);

/* The cells of an ensemble grid, width fastest: every (depth, width) of depths [nd] x widths [nw], or
 * with nb > 0 lines of fixed beta instead, betas [nb] x widths, depth = round(beta width) within
 * [1, NTK_MAX_DEPTH].  depth, width: [(nb > 0 ? nb : nd) nw]; *max_depth (may be NULL): the largest. */
ntk_status ntk_ensemble_grid(size_t nd, const int *depths, size_t nb, const double *betas, size_t nw,
                             const int *widths, int *depth, int *width, int *max_depth);

/* The least-squares line log R = a + slope beta (ntk_ols) through the cells with depth > 0 and a
 * finite R, beta = depth / width.  depth, width, R: [n]; *used: how many (slope and slope_se NaN
 * below 2, slope_se also at 2).  slope_se and used may be NULL. */
ntk_status ntk_ensemble_fit(size_t n, const int *depth, const int *width, const double *R, double *slope,
                            double *slope_se, size_t *used);

/* ------------------------------------------------------------ distribution
 * Work split over MPI ranks.  The library is built with MPI when CMake finds it; without it every
 * function below is the single-rank identity (the header and the ABI are the same either way).
 * MPI is started only when the process was launched by mpirun or srun (OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE or PMIX_RANK in the environment), so a plain run needs no MPI runtime.  agree, bcast and
 * sum are collective: every rank calls them in the same order.  A NULL ntk_dist is one process. */
typedef struct ntk_dist {
    int rank, size; /* this process and the number of ranks: 0 and 1 unless started under mpirun */
    int started;    /* ntk_dist_start initialised MPI (ntk_dist_stop finalises it) */
} ntk_dist;
/* 1 when the library was built with MPI. */
int ntk_dist_have_mpi(void);
/* Fill d; initialises MPI when launched by mpirun and MPI is not initialised yet (if the caller
 * already did, d takes its rank and size and ntk_dist_stop leaves it). */
ntk_status ntk_dist_start(ntk_dist *d);
/* Finalise MPI if ntk_dist_start initialised it; d becomes one process. */
ntk_status ntk_dist_stop(ntk_dist *d);
/* The largest code over the ranks, on every rank (a status, or an exit code), so all stop together. */
int ntk_dist_agree(const ntk_dist *d, int code);
/* Rank 0's bytes of buf: [bytes] to every rank. */
ntk_status ntk_dist_bcast(const ntk_dist *d, void *buf, size_t bytes);
/* buf: [count] summed element-wise over the ranks, in place, on every rank. */
ntk_status ntk_dist_sum(const ntk_dist *d, double *buf, size_t count);

/* ------------------------------------------------------------ run summaries
 * Small reductions over a finished run's tables that its figures and manifest show (cli/plots.c,
 * cli/rundir.c), so the CLI only selects and prints: a spec's beta, distinct column values, group
 * means, a scale constant fitted in log space and the Fourier amplitudes of circle profiles. */

/* beta = sum_{l=1}^{L} 1 / n_l over the hidden layers, added in layer order (L / n for equal
 * widths, 0 at depth 0; docs/conventions.md).  NaN for a NULL spec or widths. */
double ntk_spec_beta(const ntk_spec *spec);
/* The distinct finite values of v: [n], ascending, into values: [n] (*nvalues of them; values
 * that compare equal, such as 0 and -0, are one), and each entry's rank among them into index: [n]
 * (SIZE_MAX for a value that is not finite); index may be NULL. */
ntk_status ntk_distinct_values(size_t n, const double *v, double *values, size_t *nvalues, size_t *index);
/* Means of the finite values of v: [n] over each group: the sum in index order divided by their
 * count, NaN for a group without one.  group: [n] each entry's group, as from ntk_group_keys or
 * ntk_distinct_values' index; an entry with group[i] >= ngroups is left out (SIZE_MAX: excluded).
 * mean: [ngroups]. */
ntk_status ntk_group_means(size_t n, const size_t *group, size_t ngroups, const double *v, double *mean);
/* The constant C of |y| / u = C x, fitted in log space: C = exp(mean_i log(|y_i| / u_i / x_i)) over
 * the entries with y_i finite and non-zero, x_i finite and > 0 and u_i > 0 (the ensemble's
 * |E dK| / E K = C (d^2 / n) e^{5 beta}: y dK_path_mean, u K_mean, x dK_scale_theory).  u may be
 * NULL (u_i = 1).  *C NaN when no entry qualifies; *used (may be NULL): how many did.  y, u, x: [n]. */
ntk_status ntk_log_scale_fit(size_t n, const double *y, const double *u, const double *x, double *C, size_t *used);
/* Fourier amplitudes of S profiles on a uniform circle grid gamma_i = gamma_0 + 2 pi i / n:
 * amp[s, k-1] = (2 / n) |sum_i r_si e^{-2 pi i k i / n}|, r_si = F[s, i] - y[i], for k = 1..kmax, so a
 * residual a cos(k gamma + phi) has amplitude |a| for 0 < k < n/2 (the offset gamma_0 only turns the
 * phase).  F: [S x n]; y: [n] subtracted from every row, or NULL; amp: [S x kmax]; 1 <= kmax <= n/2.
 * Direct sums, O(S n kmax) (kmax is a handful of modes). */
ntk_status ntk_circle_fourier_amplitudes(size_t S, size_t n, const double *F, const double *y, int kmax,
                                         double *amp);

/* ---------------------------------------------------------------- threads */

/* The thread count is explicit state of each engine: ntk_train_run, ntk_ensemble_cell, ntk_kernel_tiled,
 * ntk_profile_cell and ntk_converge_cell take `threads` in their options (0: the current count), set
 * it for the call and restore the previous count on return, so one engine's choice never leaks into
 * the next call.  The lower-level functions (kernels, limits, eigendecompositions) run with the
 * process-wide count below.  Results do not depend on it: initialisation and sampling are
 * counter-based and reductions have a fixed order (bit-identical for the kernels, the training loop
 * and the ensemble cells; LAPACK eigendecompositions may differ in the last bits between counts).
 *
 * Threads used by BLAS and the OpenMP regions, for the whole process. 0 = leave as is. */
void ntk_set_threads(int n);
int ntk_get_threads(void);

/* --------------------------------------------------------------------- rng
 * Counter-based normals and uniforms: a value depends only on (seed, stream, sub, index).
 *
 * The stream registry (docs/conventions.md, "Initialisation and random numbers"): every random
 * task draws from its own stream, and each stream has exactly one consumer, the function named
 * beside it.  The numbers are part of every result ever written (they key the draws): they never
 * change, a new task takes a new number, and a stream id is never computed (no NTK_STREAM_X + 1).
 * ntk_rng_streams lists the same table at run time; tests/core/test_rng_streams.py checks src/ and cli/
 * against it. */
typedef enum {
    NTK_STREAM_WEIGHT = 1,              /* src/model/mlp.c ntk_net_init: weight matrices, sub = layer */
    NTK_STREAM_BIAS = 2,                /* src/model/mlp.c ntk_net_init: biases, sub = layer */
    NTK_STREAM_DATA_X = 16,             /* src/data/data.c ntk_data_gaussian_raw: Gaussian input rows */
    NTK_STREAM_TARGET = 17,             /* src/data/data_build.c targets: N(0,1) targets (`random`), sub = train/eval */
    NTK_STREAM_ANGLES = 18,             /* src/data/data.c ntk_data_circle_uniform: uniform angles on the circle */
    NTK_STREAM_SUBSET = 19,             /* src/data/data.c ntk_data_subset: subsets drawn without replacement */
    NTK_STREAM_SPHERE = 20,             /* src/data/data.c ntk_data_sphere: points on the sphere */
    NTK_STREAM_NOISE = 21,              /* src/data/data.c ntk_target_add_noise: additive label noise */
    NTK_STREAM_FOURIER = 22,            /* reserved (no consumer yet): random Fourier coefficients / phases */
    NTK_STREAM_BATCH = 23,              /* src/dynamics/train.c ntk_trainer_step: minibatch rows, sub = step */
    NTK_STREAM_ENSEMBLE = 24,           /* src/ensemble/lazy.c lazy_member: one ensemble member's normals */
    NTK_STREAM_ENSEMBLE_PAIR = 25,      /* src/ensemble/ensemble.c member_lazy (via ntk_lazy_pair): the member at (x, x') */
    NTK_STREAM_ENSEMBLE_BOOTSTRAP = 26, /* src/ensemble/ensemble_stats.c bootstrap: the resamples of R's interval */
    NTK_STREAM_PROBE = 27,              /* reserved (no consumer yet): probe / evaluation points */
    NTK_STREAM_GP = 28,                 /* src/ops/gp.c ntk_gp_draw: a Gaussian-process draw N(0, K), sub = draw */
    NTK_STREAM_LANCZOS = 29,            /* src/analysis/lanczos.c spectral_lanczos_extremes: the fixed start vector */
} ntk_stream;

/* One registry entry: id, its enumerator's name ("NTK_STREAM_WEIGHT"), its one consumer as
 * "file:function" (the function that names the stream, itself or through static helpers only it
 * calls; "" for a reserved stream) and what it draws. */
typedef struct {
    ntk_stream id;
    const char *name;
    const char *consumer;
    const char *what;
} ntk_stream_info;
/* The registry: *out points to a static table of every stream, in increasing id; returns its length. */
size_t ntk_rng_streams(const ntk_stream_info **out);

void ntk_rng_normal(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start,
                    size_t n, double *out);
void ntk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start,
                     size_t n, double *out);   /* in (0, 1) */

/* -------------------------------------------------------------------- data */

/* X: [N x n0] Gaussian rows rescaled to norm sqrt(n0) (stream DATA_X). */
ntk_status ntk_data_gaussian(uint64_t seed, size_t N, int n0, double *X);
/* X: [N x n0] the same standard normal draws without the rescaling (entries i.i.d. N(0, 1)). */
ntk_status ntk_data_gaussian_raw(uint64_t seed, size_t N, int n0, double *X);
/* X: [N x 2] points (cos g, sin g) on the unit circle, g_i = -pi + 2 pi i / N. */
ntk_status ntk_data_circle(size_t N, double *X);

/* The data module's streams (each task its own) are in the registry above (rng). */

typedef enum { NTK_ANGLES_SYM, NTK_ANGLES_POS } ntk_angle_range; /* [-pi, pi) or [0, 2 pi) */
/* Evenly spaced grid: gamma_i = start + 2 pi i / N.  gamma: [N], X: [N x 2] (either may be NULL). */
ntk_status ntk_data_circle_grid(size_t N, ntk_angle_range r, double *gamma, double *X);
/* Uniform random angles in the range (stream ANGLES, sub-stream `sub`: the CLI draws training
 * points from sub 0 and evaluation points from sub 1).  gamma: [N], X: [N x 2] (either may be NULL). */
ntk_status ntk_data_circle_uniform(uint64_t seed, uint64_t sub, size_t N, ntk_angle_range r, double *gamma,
                                   double *X);
/* n_pick distinct indices of [0, n_total), drawn without replacement (stream SUBSET), returned
 * in increasing order.  idx: [n_pick]. */
ntk_status ntk_data_subset(uint64_t seed, uint64_t sub, size_t n_total, size_t n_pick, size_t *idx);
/* X: [N x n0] uniform on the unit sphere S^{n0-1} (normalised Gaussians, stream SPHERE). */
ntk_status ntk_data_sphere(uint64_t seed, size_t N, int n0, double *X);
/* y_i = sum_{k=1}^{K} a[k-1] sin(k gamma_i + phase[k-1]) (phase may be NULL = 0); only terms with
 * k <= kmax count (kmax <= 0: all), giving the partial sums.  gamma: [N], y: [N]. */
ntk_status ntk_target_fourier(size_t N, const double *gamma, int K, const double *a, const double *phase,
                              int kmax, double *y);
/* A Fourier mixture of explicit terms: sin terms a sin(k gamma + phi), cos terms a cos(k gamma - phi). */
typedef enum { NTK_FOURIER_SIN, NTK_FOURIER_COS } ntk_fourier_basis;
typedef struct {
    int mode;                 /* k >= 0 */
    double amp, phase;        /* a, phi */
    ntk_fourier_basis basis;
} ntk_fourier_term;
/* y_i = sum over the first m terms (m <= 0: all nterms) in list order.  gamma: [N], terms: [nterms],
 * y: [N]. */
ntk_status ntk_target_fourier_terms(size_t N, const double *gamma, int nterms, const ntk_fourier_term *terms,
                                    int m, double *y);
/* y_i = x_i1 * x_i2.  X: [N x n0] (n0 >= 2), y: [N]. */
ntk_status ntk_target_product(size_t N, int n0, const double *X, double *y);
/* y += std * N(0,1) on stream NOISE (sub distinguishes train/eval).  y: [n]. */
ntk_status ntk_target_add_noise(uint64_t seed, uint64_t sub, double std, size_t n, double *y);
/* Teacher-network targets: Y = f_teacher(X) for a random network of spec `teacher` (its own depth,
 * widths, activation, ...; teacher->n0 must equal the inputs' n0) initialised with `seed`.
 * X: [N x n0], Y: [N x teacher->outputs]. */
ntk_status ntk_target_teacher(const ntk_spec *teacher, uint64_t seed, size_t N, const double *X, double *Y);

/* IDX files (raw or gzip, read with zlib): unsigned-byte data only (type 0x08). */
typedef struct {
    int ndim;
    size_t shape[4];
    size_t count;
    unsigned char *data;   /* [count], owned */
} ntk_idx;
ntk_status ntk_idx_read(const char *path, ntk_idx *out);
void ntk_idx_clear(ntk_idx *a);

/* A supervised dataset: inputs and targets for training and evaluation. */
typedef struct ntk_dataset {
    size_t n_train, n_eval;
    int n0, k;
    double *X_train;       /* [n_train x n0] */
    double *Y_train;       /* [n_train x k] */
    double *X_eval;        /* [n_eval x n0] */
    double *Y_eval;        /* [n_eval x k] */
    double *gamma_train;   /* [n_train] angles of circle inputs, x = (cos, sin), or NULL */
    double *gamma_eval;    /* [n_eval] likewise */
    int *label_train;      /* [n_train] class labels, or NULL */
    int *label_eval;       /* [n_eval] */
} ntk_dataset;
void ntk_dataset_clear(ntk_dataset *d);

typedef enum { NTK_TARGETS_BINARY, NTK_TARGETS_ONEHOT } ntk_targets;
typedef enum { NTK_PIXELS_UNIT, NTK_PIXELS_STANDARDIZE } ntk_pixels;

#define NTK_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
typedef struct {
    const char *dir;        /* NULL: NTK_FMNIST_DIR */
    const int *classes;     /* [n_classes] labels 0..9 to keep, in this order; NULL: all 10 */
    int n_classes;
    size_t n_train, n_eval; /* 0: all available of the kept classes */
    ntk_targets targets;    /* binary: +1 for classes[0], -1 for classes[1] (needs 2 classes);
                               onehot: k = n_classes, 1 at the class position */
    ntk_pixels pixels;      /* unit: x / 255; standardize: (x/255 - mean_j) / std_j with the
                               training set's per-pixel statistics (std 0 -> 1) */
    uint64_t seed;          /* subsets of n_train / n_eval drawn without replacement */
} ntk_fmnist_opts;
ntk_fmnist_opts ntk_fmnist_defaults(void);
ntk_status ntk_fmnist_load(const ntk_fmnist_opts *o, ntk_dataset *out);

/* -------------------------------------------------------------- data build
 * The datasets of `ntkdrift train`, `sweep` and `profile` (training and evaluation sets with their
 * targets) and the input points of `kernel`, `limit`, `eval`, `profile` and `converge`, from one
 * options struct (docs/data.md).  Inputs, evaluation points and generated targets use the data
 * seed; label noise has its own seed; neither is the network's init seed.  Every message names the
 * offending option by its configuration key (data, n0, train.n_eval, target, train.target_amps, ...),
 * as the CLI reports it. */

/* The e2 target of the first user's experiments: 7 sin terms a sin(k gamma + phi) with modes
 * k = 2, 4, 7, 11, 16, 23, 32, amplitudes a = 0.9, 0.7, 0.55, 0.45, 0.35, 0.28, 0.22 and phases
 * phi = 0, pi/2, 1.2, 2.0, 0.942, 4.5, 5.8; label noise NTK_E2_NOISE unless a noise is given. */
#define NTK_E2_TERMS 7
#define NTK_E2_NOISE 0.02
/* terms: [NTK_E2_TERMS] */
void ntk_target_e2_terms(ntk_fourier_term *terms);
/* Teacher networks are initialised from the data seed XOR ASCII "teacher", so a teacher never
 * shares its parameters with a student initialised from a small seed. */
#define NTK_TEACHER_SEED_XOR 0x7465616368657200ULL

typedef struct {
    /* inputs */
    const char *data;        /* gaussian | gaussian-raw | circle | circle-pos | circle-uniform | circle-subset |
                                circle-pos-subset | sphere | fmnist | PATH.npy | PATH.npz (member X) | PATH.csv */
    size_t n;                /* training points N (a file: see all_rows) */
    int all_rows;            /* a file: 1 = all its rows (n ignored); 0 = its first n rows, which must exist */
    int n0;                  /* input dimension of gaussian, gaussian-raw and sphere data */
    int n0_given;            /* 1: n0 must match the data's (circle 2, fmnist 784, a file's columns) */
    int outputs;             /* k (fmnist: set by the classes) */
    uint64_t data_seed;
    size_t n_eval;           /* M evaluation points (build only; 0: none) */
    const char *eval_points; /* circle data: "uniform" (random, sub-stream 1) or "grid" */
    const char *eval_data;   /* X_eval from PATH.npy|.npz|.csv (its first n_eval rows, or all for 0); NULL: none */
    /* targets (build only; ignored for fmnist) */
    const char *target;      /* fourier | e2 | product | teacher | random | PATH.npy */
    const char *eval_target; /* Y_eval from PATH.npy for a file target; NULL: none */
    int fourier_k;           /* fourier without modes: terms k = 1..fourier_k, a = 1/k, sin, phase 0 */
    const int *modes;        /* [n_modes] explicit Fourier modes k >= 0, or NULL */
    int n_modes;
    const double *amps;      /* [n_amps], one per mode */
    int n_amps;
    const double *phases;    /* [n_phases], one per term (0 entries: all 0) */
    int n_phases;
    const int *cosine;       /* [n_cosine] 1 = cos(k g - phi), 0 = sin(k g + phi); one entry: all terms */
    int n_cosine;
    int partial;             /* the first m terms only (0: all) */
    double noise;            /* label noise std on the training targets; < 0: the target's default
                                (e2: NTK_E2_NOISE, otherwise 0) */
    uint64_t noise_seed;
    const ntk_spec *teacher; /* the teacher target's network; its n0 and outputs are taken from the data */
    /* Fashion-MNIST */
    const char *fmnist_dir;  /* NULL or "": NTK_FMNIST_DIR */
    const int *classes;      /* [n_classes], or NULL: build 0 and 9 (binary +-1), inputs all 10 */
    int n_classes;
    ntk_pixels pixels;
} ntk_data_opts;
/* data gaussian, n 128, n0 16, one output, data seed 0, no evaluation points (eval_points uniform),
 * target fourier with fourier_k 4, noise -1 (the target's default), noise seed 0, pixels unit. */
ntk_data_opts ntk_data_defaults(void);
/* Whether s names a data kind (or a file by its suffix .npy / .npz / .csv). */
int ntk_data_known(const char *s);
/* The label noise std build adds: o->noise, or the target's default when o->noise < 0. */
double ntk_data_noise(const ntk_data_opts *o);

/* Training and evaluation sets: out->X_train [n_train x n0], Y_train [n_train x k] (label noise
 * included), X_eval [n_eval x n0], Y_eval [n_eval x k] (no noise), gamma_train / gamma_eval on the
 * circle; out->n0 and out->k as resolved from the data.  desc (may be NULL when desc_cap is 0): a
 * sentence describing the inputs.  Free with ntk_dataset_clear (also on failure, it is left empty). */
ntk_status ntk_data_build(const ntk_data_opts *o, ntk_dataset *out, char *desc, size_t desc_cap);
/* Input points only: out->X_train [n_train x n0] and out->n_train, out->n0 (the circle kinds also fill
 * gamma_train; the subset kinds are refused, they need an evaluation grid).  n_eval and the targets are
 * ignored. */
ntk_status ntk_data_inputs(const ntk_data_opts *o, ntk_dataset *out, char *desc, size_t desc_cap);
/* A checked matrix from PATH.npy, PATH.npz (member X) or PATH.csv: 2-D and non-empty; cols_req > 0 must
 * equal its columns; rows_req > 0 rows must exist (0: all); the rows used must be finite.  *X:
 * [rows x cols] (malloc'ed; the caller frees it with free(); rows beyond rows_req are unchecked).  Every
 * message starts with `what` (a key such as "data" or "data.eval_data"). */
ntk_status ntk_matrix_read(const char *path, const char *what, int cols_req, size_t rows_req, double **X,
                           size_t *rows, size_t *cols);

/* ---------------------------------------------------------------------- io
 * .npy arrays and .npz archives (zip of .npy members, written with libzip,
 * stored uncompressed) that numpy.load opens.  All writers are atomic: the
 * file appears under its final name only when complete (temp file + rename). */

#define NTK_NPY_MAX_DIM 8

/* An array read from disk: data converted to float64, C order. */
typedef struct {
    int ndim;
    size_t shape[NTK_NPY_MAX_DIM];
    size_t count;        /* product of shape */
    double *data;        /* [count], owned; free with ntk_array_clear */
} ntk_array;
void ntk_array_clear(ntk_array *a);
/* A numeric CSV file (comma-separated, optional one-line text header, '#' comment lines) as a
 * 2-D array [rows x cols]; every row must have the same number of fields. */
ntk_status ntk_csv_read(const char *path, ntk_array *out);

/* Write one array.  shape: [ndim]; data: count elements of `type`. */
ntk_status ntk_npy_write(const char *path, ntk_dtype type, int ndim, const size_t *shape,
                         const void *data);
/* Read a .npy (dtypes <f8 <f4 <i8 <i4 |u1 |i1 <i2 <u2 <u4 <u8, big-endian too, C or
 * Fortran order).  Any malformation gives NTK_EFORMAT with a message naming the file. */
ntk_status ntk_npy_read(const char *path, ntk_array *out);
/* Parse a .npy image held in memory (for .npz members and fuzzing). `what` names it in errors. */
ntk_status ntk_npy_parse(const void *buf, size_t len, const char *what, ntk_array *out);

/* A .npy written in pieces (arrays larger than memory): it is written as `path`.partial, whose
 * full size is reserved on open (posix_fallocate, so a disk too small fails at once); pieces go
 * to element offsets in any order, and the file appears under `path` only on close (fsync +
 * rename).  resume = 1 reopens an existing .partial of the same type and shape (after a kill)
 * without touching what it holds.  shape: [ndim]. */
typedef struct ntk_npy_stream ntk_npy_stream;
ntk_status ntk_npy_stream_open(const char *path, ntk_dtype type, int ndim, const size_t *shape, int resume,
                               ntk_npy_stream **out);
/* Make every piece written so far durable (fdatasync), for a checkpoint of progress. */
ntk_status ntk_npy_stream_sync(ntk_npy_stream *s);
/* data: [count] elements of the stream's type, placed at element `offset` of the array. */
ntk_status ntk_npy_stream_write(ntk_npy_stream *s, size_t offset, const void *data, size_t count);
/* fsync and rename into place; frees s.  On failure nothing is left at path. */
ntk_status ntk_npy_stream_close(ntk_npy_stream *s);
/* Remove the unfinished file; frees s. */
void ntk_npy_stream_abort(ntk_npy_stream *s);
/* Close, keeping the unfinished .partial for a later resume; frees s. */
void ntk_npy_stream_release(ntk_npy_stream *s);

typedef struct ntk_npz_writer ntk_npz_writer;
ntk_status ntk_npz_open(const char *path, ntk_npz_writer **out);
/* Add member `name` (".npy" is appended).  The data is not copied: it must stay valid and
 * unchanged until ntk_npz_close or ntk_npz_abort. */
ntk_status ntk_npz_add(ntk_npz_writer *w, const char *name, ntk_dtype type, int ndim,
                       const size_t *shape, const void *data);
/* Finish the archive and rename it into place; frees w.  On failure nothing is left at path. */
ntk_status ntk_npz_close(ntk_npz_writer *w);
/* Discard an unfinished archive (temp file removed); frees w. */
void ntk_npz_abort(ntk_npz_writer *w);
/* Read member `name` (with or without ".npy") of an .npz. */
ntk_status ntk_npz_read(const char *path, const char *name, ntk_array *out);


/* Trainable parameters as stored: arrays W1..W{L+1} [n_l x n_{l-1}] and
 * b1..b{L+1} [n_l] (layers with bias only), float64, in an .npz. */
ntk_status ntk_net_save_params(const ntk_net *net, const char *path);
/* Load such a file; every array must exist with exactly the spec's shape, be
 * finite, and no bias may be present for a layer without bias. */
ntk_status ntk_net_load_params(ntk_net *net, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* NTKDRIFT_H */
