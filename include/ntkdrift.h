/* ntkdrift.h -- the one public header of libntkdrift.
 *
 * Empirical Neural Tangent Kernels of fully-connected networks, computed from
 * per-layer Gram matrices (no Jacobian is ever formed).  Conventions are in
 * docs/conventions.md; the short form:
 *
 *   h^(0) = x,  z^(l) = c_w^(l) W^(l) h^(l-1) + c_b^(l) b^(l),  h^(l) = phi(z^(l)),
 *   f(x) = z^(L+1),  l = 1 .. L+1  (L hidden layers, d = L+1 weight layers).
 *
 * Matrices are row-major.  Every matrix argument carries a shape comment.
 *
 * Status convention: every function that can fail returns ntk_status; NTK_OK
 * is 0.  On failure a one-line message naming the offending field is available
 * from ntk_last_error() (thread-local: threads never see each other's errors).
 * The library never exits or aborts.
 */
#ifndef NTKDRIFT_H
#define NTKDRIFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

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
/* Set the thread's error message (printf-style); returns s for chaining. */
ntk_status ntk_set_error(ntk_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ntk_clear_error(void);

const char *ntk_version(void);

/* ------------------------------------------------------------ network spec */

typedef enum { NTK_ACT_RELU, NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_IDENTITY } ntk_act;
typedef enum { NTK_PARAM_NTK, NTK_PARAM_STANDARD } ntk_param;
/* none: no bias parameters; normal: trainable, drawn N(0,1) (NTK) or N(0, sb^2)
 * (standard); zero: trainable, initialised to 0. */
typedef enum { NTK_BIAS_NONE, NTK_BIAS_NORMAL, NTK_BIAS_ZERO } ntk_bias;
/* fan_in: first layer scaled by 1/sqrt(n_0) like every other; none: no 1/sqrt(n_0). */
typedef enum { NTK_FIRST_FAN_IN, NTK_FIRST_NONE } ntk_first_layer;
typedef enum { NTK_F64, NTK_F32 } ntk_dtype;

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

/* f = net(X).  X: [N x n0], F: [N x k]. */
ntk_status ntk_net_forward(ntk_net *net, size_t N, const double *X, double *F);

typedef enum { NTK_LOSS_SUM, NTK_LOSS_MEAN } ntk_loss;   /* c = 1 or 1/N */
const char *ntk_loss_name(ntk_loss l);
ntk_status ntk_loss_parse(const char *s, ntk_loss *out);

/* L = c * 1/2 sum_i ||f(x_i) - y_i||^2 and its gradient.
 * X: [N x n0], Y: [N x k], grad: [P] (same layout as ntk_net_params). */
ntk_status ntk_net_loss_grad(ntk_net *net, size_t N, const double *X, const double *Y,
                             ntk_loss loss, double *loss_out, double *grad);

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
/* h^(l) for l = 0..L as float64 copy: out [N x n_l]. */
ntk_status ntk_feats_act(const ntk_feats *f, int l, double *out);
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
/* diag: [N x k x k], diag[i] = K(x_i, x_i) block; O(N P) work, no N x N. */
ntk_status ntk_kernel_diag(const ntk_net *net, const ntk_feats *f, void *diag);
/* Sum over outputs: Kt[i,j] = sum_a K[(i,a),(j,a)].  K: [N*k x M*k] -> Kt: [N x M]. */
ntk_status ntk_kernel_output_trace(size_t N, size_t M, int k, ntk_dtype dtype, const void *K, void *Kt);
/* Bytes the kernel computation needs besides feats: result, per-layer terms
 * and two Gram scratch buffers. */
size_t ntk_kernel_bytes(const ntk_spec *spec, size_t N, ntk_dtype dtype, int per_layer);

/* Reference: materialised Jacobian J: [N*k x P] and K = J J^T (float64; tests
 * only, O(N^2 P)).  K: [N*k x N*k]. */
ntk_status ntk_jacobian(ntk_net *net, size_t N, const double *X, double *J);
ntk_status ntk_kernel_jacobian_ref(ntk_net *net, size_t N, const double *X, double *K);

/* ---------------------------------------------------------------- threads */

/* Threads used by BLAS (and later OpenMP regions). 0 = leave as is. */
void ntk_set_threads(int n);
int ntk_get_threads(void);

/* --------------------------------------------------------------------- rng
 * Counter-based normals: value depends only on (seed, stream, sub, index). */
enum {
    NTK_STREAM_WEIGHT = 1,
    NTK_STREAM_BIAS = 2,
    NTK_STREAM_DATA_X = 16,
    NTK_STREAM_TARGET = 17,
};
void ntk_rng_normal(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start,
                    size_t n, double *out);
void ntk_rng_uniform(uint64_t seed, uint32_t stream, uint64_t sub, uint64_t start,
                     size_t n, double *out);   /* in (0, 1) */

/* -------------------------------------------------------------------- data */

/* X: [N x n0] Gaussian rows rescaled to norm sqrt(n0) (stream DATA_X). */
ntk_status ntk_data_gaussian(uint64_t seed, size_t N, int n0, double *X);
/* X: [N x 2] points (cos g, sin g) on the unit circle, g_i = -pi + 2 pi i / N. */
ntk_status ntk_data_circle(size_t N, double *X);

/* ---------------------------------------------------------------------- io
 * .npy arrays and .npz archives (zip of .npy members, written with libzip,
 * stored uncompressed) that numpy.load opens.  All writers are atomic: the
 * file appears under its final name only when complete (temp file + rename). */

#define NTK_NPY_MAX_DIM 8

typedef enum { NTK_NPY_F64, NTK_NPY_F32, NTK_NPY_I64, NTK_NPY_I32, NTK_NPY_U8 } ntk_npy_type;

/* An array read from disk: data converted to float64, C order. */
typedef struct {
    int ndim;
    size_t shape[NTK_NPY_MAX_DIM];
    size_t count;        /* product of shape */
    double *data;        /* [count], owned; free with ntk_array_free */
} ntk_array;
void ntk_array_free(ntk_array *a);

/* Write one array.  shape: [ndim]; data: count elements of `type`. */
ntk_status ntk_npy_write(const char *path, ntk_npy_type type, int ndim, const size_t *shape,
                         const void *data);
/* Read a .npy (dtypes <f8 <f4 <i8 <i4 |u1 |i1 <i2 <u2 <u4 <u8, big-endian too, C or
 * Fortran order).  Any malformation gives NTK_EFORMAT with a message naming the file. */
ntk_status ntk_npy_read(const char *path, ntk_array *out);
/* Parse a .npy image held in memory (for .npz members and fuzzing). `what` names it in errors. */
ntk_status ntk_npy_parse(const void *buf, size_t len, const char *what, ntk_array *out);

typedef struct ntk_npz_writer ntk_npz_writer;
ntk_status ntk_npz_open(const char *path, ntk_npz_writer **out);
/* Add member `name` (".npy" is appended).  The data is not copied: it must stay valid and
 * unchanged until ntk_npz_close or ntk_npz_abort. */
ntk_status ntk_npz_add(ntk_npz_writer *w, const char *name, ntk_npy_type type, int ndim,
                       const size_t *shape, const void *data);
/* Finish the archive and rename it into place; frees w.  On failure nothing is left at path. */
ntk_status ntk_npz_close(ntk_npz_writer *w);
/* Discard an unfinished archive (temp file removed); frees w. */
void ntk_npz_abort(ntk_npz_writer *w);
/* Read member `name` (with or without ".npy") of an .npz. */
ntk_status ntk_npz_read(const char *path, const char *name, ntk_array *out);

/* Write `len` bytes to path atomically (temp file in the same directory, fsync, rename). */
ntk_status ntk_write_file_atomic(const char *path, const void *data, size_t len);
/* mkdir -p; NTK_EIO with a message on failure. */
ntk_status ntk_mkdir_p(const char *path);

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
