/* _cdef.h -- the declarations of include/ntkdrift.h that the Python package calls, for cffi's ABI
 * mode (ffi.cdef; no compiler at import time).  Copied from the header, with its comments there:
 * tests/python/test_cdef.py compiles every prototype below against include/ntkdrift.h (a conflicting
 * redeclaration fails to compile) and compares the size and every field offset of each struct, and
 * the value of every enumerator and #define, with what gcc sees.  Edit both together. */

#define NTK_VERSION_MAJOR 0
#define NTK_VERSION_MINOR 1
#define NTK_VERSION_PATCH 0
#define NTK_MAX_DEPTH 100000
#define NTK_E2_TERMS 7

/* status */
typedef enum {
    NTK_OK = 0, NTK_EINVAL = 1, NTK_ENOMEM = 2, NTK_EIO = 3, NTK_EFORMAT = 4, NTK_ENUMERIC = 5,
} ntk_status;
const char *ntk_status_str(ntk_status s);
const char *ntk_last_error(void);
void ntk_clear_error(void);
const char *ntk_version(void);

/* network spec */
typedef enum { NTK_ACT_RELU, NTK_ACT_ERF, NTK_ACT_TANH, NTK_ACT_GELU, NTK_ACT_IDENTITY, NTK_ACT_SIGMOID } ntk_act;
typedef enum { NTK_PARAM_NTK, NTK_PARAM_STANDARD } ntk_param;
typedef enum { NTK_BIAS_NONE, NTK_BIAS_NORMAL, NTK_BIAS_ZERO } ntk_bias;
typedef enum { NTK_FIRST_FAN_IN, NTK_FIRST_NONE } ntk_first_layer;
typedef enum { NTK_F64, NTK_F32, NTK_I64, NTK_I32, NTK_U8 } ntk_dtype;
size_t ntk_dtype_size(ntk_dtype t);
const char *ntk_dtype_name(ntk_dtype t);
typedef struct {
    int depth;
    const int *widths;
    int n0;
    int outputs;
    ntk_act act;
    ntk_param param;
    double sw2;
    double sw2_out;
    double sb;
    ntk_bias bias;
    ntk_bias bias_out;
    ntk_first_layer first_layer;
} ntk_spec;
ntk_spec ntk_spec_default(void);
ntk_status ntk_spec_check(const ntk_spec *spec, char *msg, size_t msg_cap);
const char *ntk_act_name(ntk_act a);
const char *ntk_param_name(ntk_param p);
const char *ntk_bias_name(ntk_bias b);
const char *ntk_first_layer_name(ntk_first_layer f);
ntk_status ntk_act_parse(const char *s, ntk_act *out);
ntk_status ntk_param_parse(const char *s, ntk_param *out);
ntk_status ntk_bias_parse(const char *s, ntk_bias *out);
ntk_status ntk_first_layer_parse(const char *s, ntk_first_layer *out);

/* network */
typedef struct ntk_net ntk_net;
typedef struct {
    double *W;
    double *b;
    int rows, cols;
    double c_w;
    double c_b;
} ntk_layer;
ntk_status ntk_net_alloc(const ntk_spec *spec, ntk_net **out);
void ntk_net_free(ntk_net *net);
ntk_status ntk_net_init(ntk_net *net, uint64_t seed);
const ntk_spec *ntk_net_spec(const ntk_net *net);
int ntk_net_num_layers(const ntk_net *net);
int ntk_net_width(const ntk_net *net, int l);
size_t ntk_net_num_params(const ntk_net *net);
double *ntk_net_params(ntk_net *net);
ntk_status ntk_net_layer(const ntk_net *net, int l, ntk_layer *out);
void ntk_net_params_changed(ntk_net *net);
ntk_status ntk_net_freeze_gates(ntk_net *net);
void ntk_net_thaw_gates(ntk_net *net);
int ntk_net_gates_frozen(const ntk_net *net);
const double *ntk_net_gate_params(const ntk_net *net);
ntk_status ntk_net_forward(ntk_net *net, size_t N, const double *X, double *F);
typedef enum { NTK_LOSS_SUM, NTK_LOSS_MEAN, NTK_LOSS_MSE } ntk_loss;
const char *ntk_loss_name(ntk_loss l);
ntk_status ntk_loss_parse(const char *s, ntk_loss *out);
ntk_status ntk_net_save_params(const ntk_net *net, const char *path);
ntk_status ntk_net_load_params(ntk_net *net, const char *path);

/* features and kernels */
typedef struct ntk_feats ntk_feats;
ntk_status ntk_feats_alloc(const ntk_net *net, size_t N, ntk_dtype dtype, ntk_feats **out);
void ntk_feats_free(ntk_feats *f);
ntk_status ntk_feats_compute(ntk_net *net, ntk_feats *f, const double *X);
ntk_status ntk_kernel_full(const ntk_net *net, const ntk_feats *f, void *K, void *K_layers);
ntk_status ntk_kernel_cross(const ntk_net *net, const ntk_feats *fa, const ntk_feats *fb, void *K, void *K_layers);
ntk_status ntk_kernel_diag(const ntk_net *net, const ntk_feats *f, void *diag);
ntk_status ntk_kernel_relayout(size_t Na, size_t Nb, int k, ntk_dtype dtype, const void *src, void *dst);

/* threads */
void ntk_set_threads(int n);
int ntk_get_threads(void);

/* limits */
typedef enum { NTK_EXPECT_AUTO, NTK_EXPECT_QUAD } ntk_expect_method;
typedef struct {
    ntk_expect_method method;
    int quad_radial;
    int quad_angular;
    int no_table;
    int no_series;
} ntk_limit_opts;
ntk_status ntk_limit_cross(const ntk_spec *spec, const ntk_limit_opts *o, size_t Na, const double *Xa,
                           size_t Nb, const double *Xb, double *nngp, double *ntk, double *ntk_normalized,
                           double *ntk_layers);
ntk_status ntk_limit_full(const ntk_spec *spec, const ntk_limit_opts *o, size_t N, const double *X,
                          double *nngp, double *ntk, double *ntk_normalized, double *ntk_layers);

/* training */
typedef enum { NTK_OPT_GD, NTK_OPT_SGD, NTK_OPT_MOMENTUM, NTK_OPT_ADAM } ntk_opt;
const char *ntk_opt_name(ntk_opt o);
ntk_status ntk_opt_parse(const char *s, ntk_opt *out);
typedef struct ntk_dataset {
    size_t n_train, n_eval;
    int n0, k;
    double *X_train;
    double *Y_train;
    double *X_eval;
    double *Y_eval;
    double *gamma_train;
    double *gamma_eval;
    int *label_train;
    int *label_eval;
} ntk_dataset;
void ntk_dataset_clear(ntk_dataset *d);
typedef struct {
    size_t count;
    long *steps;
} ntk_train_schedule;
ntk_status ntk_train_schedule_parse(const char *s, long T, ntk_train_schedule *out);
void ntk_train_schedule_clear(ntk_train_schedule *s);
typedef struct {
    double drift_fro, drift_op, kernel_distance, velocity, alignment;
    double lambda_max, lambda_min, eig_drift_max, angle_max, projector_dist;
    int active_modes;
    double lin_err, pert_err, pw_err;
    double kdot_err;
    double krr_vs_net, krr_eval_err;
    double rkhs_ridge, rkhs_norm_y, rkhs_norm_f, eff_dim, energy_y_topk, energy_res_topk, cond;
} ntk_train_metrics;
typedef struct {
    long step;
    size_t index;
    int replayed;
    double t;
    double loss, loss_eval;
    size_t n, m;
    int d;
    const double *K;
    const double *K_eval;
    const double *f, *f_eval;
    const double *Kdot;
    const double *move;
    const double *K_layers;
    const double *eigs;
    const ntk_net *net;
    ntk_train_metrics mt;
    const char *rkhs_error;
    const double *drift_layers;
    int nth;
    const double *f_nth, *f_nth_eval;
    const double *K_nth, *K_nth_eval;
    double nth_err;
    double nth_kerr;
    double nth_drift;
    double nth_eval_err, nth_eval_kerr;
} ntk_train_snapshot;
typedef struct {
    long step;
    size_t index;
    size_t n, m;
    int d;
    double loss, loss_eval;
    double *K;
    double *K_eval;
    double *f, *f_eval;
    double *Kdot;
    double *move;
    double *K_layers;
} ntk_train_replay;
typedef ntk_status (*ntk_train_observer)(void *user, const ntk_train_snapshot *s);
typedef ntk_status (*ntk_train_replay_fn)(void *user, ntk_train_replay *r);
typedef void (*ntk_train_progress_fn)(void *user, long step, double loss);
typedef struct {
    ntk_spec spec;
    uint64_t seed;
    ntk_loss loss;
    ntk_opt opt;
    double lr;
    double lr_frac;
    long steps;
    size_t batch;
    double momentum;
    const long *snapshots;
    size_t n_snapshots;
    const char *schedule;
    int per_layer;
    int top_k;
    double ridge;
    int flow;
    double blowup;
    double freeze_eps;
    int freeze_k, freeze_delta;
    const char *checkpoint;
    long checkpoint_every;
    int resume;
    ntk_train_replay_fn replay;
    ntk_train_progress_fn progress;
    int threads;
    int nth;
    int gates_frozen;
} ntk_train_run_opts;
ntk_train_run_opts ntk_train_run_defaults(void);
typedef struct {
    double eta, c;
    double kdot_literal;
    double loss0, loss_max;
    long loss_max_step;
    long start_step;
    long diverged_at;
    double diverged_loss;
    double seconds_steps, seconds_snapshots;
    int resume_error;
    double freeze_step;
    double a_lambda_max;
    int unstable_modes;
    long lin_nonfinite_step, pert_nonfinite_step, pw_nonfinite_step;
    long nth_diverged_step;
    double seconds_nth;
    size_t S, n, m;
    double *steps, *loss, *loss_eval, *drift_fro;
    double *y_train;
    double *f_train, *f_lin, *f_pert, *f_pw;
    double *f_eval, *f_lin_eval, *f_pert_eval, *f_pw_eval;
    ntk_net *net;
} ntk_train_result;
void ntk_train_result_clear(ntk_train_result *r);
ntk_status ntk_train_run_check(const ntk_train_run_opts *o, const ntk_dataset *data);
ntk_status ntk_train_run(const ntk_train_run_opts *o, const ntk_dataset *data, ntk_train_observer obs, void *user,
                         ntk_train_result *res);

/* ensembles */
typedef enum {
    NTK_ENS_K, NTK_ENS_K_WEIGHT, NTK_ENS_K_BIAS, NTK_ENS_K_READOUT, NTK_ENS_F, NTK_ENS_DK_PATH,
    NTK_ENS_DK_LITERAL, NTK_ENS_K_OFF, NTK_ENS_RHO_OFF, NTK_ENS_NQ
} ntk_ensemble_q;
const char *ntk_ensemble_q_name(ntk_ensemble_q q);
typedef struct ntk_dist {
    int rank, size;
    int started;
} ntk_dist;
typedef struct {
    size_t members;
    const double *x;
    const double *xp;
    double lr;
    double y;
    int no_updates;
    int no_literal;
    int sampler_full;
    uint64_t seed;
    int threads;
    const struct ntk_dist *dist;
} ntk_ensemble_opts;
ntk_ensemble_opts ntk_ensemble_defaults(void);
typedef struct {
    size_t members;
    int depth;
    double *q[9];  /* NTK_ENS_NQ (cffi's ABI mode takes no enumerator as an array size) */
    double *layers;
} ntk_ensemble_samples;
typedef struct {
    double mean[9], se[9];  /* NTK_ENS_NQ */
    double R, R_log_se;
    double R_boot_lo, R_boot_hi;
    double Kd_R, Kd_R_log_se;
    double Kw_R, Kw_R_log_se;
    double Koff_R, Koff_R_log_se;
    int warn_ceiling;
    int warn_tail;
    double seconds;
} ntk_ensemble_stats;
ntk_status ntk_ensemble_stats_compute(const ntk_ensemble_samples *s, uint64_t seed, uint64_t cell,
                                      ntk_ensemble_stats *st);
ntk_status ntk_ensemble_cell(const ntk_spec *spec, const ntk_ensemble_opts *o, uint64_t cell,
                             ntk_ensemble_samples *samples, ntk_ensemble_stats *st);
ntk_status ntk_ensemble_probes(uint64_t data_seed, int n0, double s, double angle_deg, double *x, double *xp);
typedef struct {
    double beta;
    double K_mean;
    double Kd_R;
    double exp5beta;
    double dK_scale;
} ntk_ensemble_theory;
ntk_status ntk_ensemble_theory_of(const ntk_spec *spec, int width, double s, ntk_ensemble_theory *th);

/* data */
typedef enum { NTK_TARGETS_BINARY, NTK_TARGETS_ONEHOT } ntk_targets;
typedef enum { NTK_PIXELS_UNIT, NTK_PIXELS_STANDARDIZE } ntk_pixels;
typedef struct {
    const char *data;
    size_t n;
    int all_rows;
    int n0;
    int n0_given;
    int outputs;
    uint64_t data_seed;
    size_t n_eval;
    const char *eval_points;
    const char *eval_data;
    const char *target;
    const char *eval_target;
    int fourier_k;
    const int *modes;
    int n_modes;
    const double *amps;
    int n_amps;
    const double *phases;
    int n_phases;
    const int *cosine;
    int n_cosine;
    int partial;
    double noise;
    uint64_t noise_seed;
    const ntk_spec *teacher;
    const char *fmnist_dir;
    const int *classes;
    int n_classes;
    ntk_pixels pixels;
} ntk_data_opts;
ntk_data_opts ntk_data_defaults(void);
double ntk_data_noise(const ntk_data_opts *o);
ntk_status ntk_data_build(const ntk_data_opts *o, ntk_dataset *out, char *desc, size_t desc_cap);
ntk_status ntk_data_inputs(const ntk_data_opts *o, ntk_dataset *out, char *desc, size_t desc_cap);

/* operators (docs/modes.md) */
ntk_status ntk_fourier_matrix(size_t n, const double *gamma, int K, double *Phi);
ntk_status ntk_fourier_project(size_t n, const double *gamma, int K, const double *r, double *coef, double *plane);
typedef struct ntk_circulant ntk_circulant;
ntk_status ntk_circulant_create(size_t n, const double *row, ntk_circulant **out);
void ntk_circulant_free(ntk_circulant *c);
size_t ntk_circulant_size(const ntk_circulant *c);
ntk_status ntk_circulant_eigenvalues(const ntk_circulant *c, double *mu);
ntk_status ntk_circulant_apply(const ntk_circulant *c, const double *x, double *y);
typedef enum { NTK_PRECOND_NONE = 0, NTK_PRECOND_THEORY = 1, NTK_PRECOND_EMPIRICAL = 2 } ntk_precond;
ntk_status ntk_precond_parse(const char *s, ntk_precond *out);
typedef struct {
    size_t n, m;
    const double *A;
    const ntk_circulant *C;
    double g0;
    const double *A_eval;
    double (*profile)(double delta, void *ctx);
    void *profile_ctx;
    const double *y;
    const double *y_eval;
    const double *u0, *u0_eval;
    const double *gamma;
    const double *gamma_eval;
    const double *mode_mu;
    double eta;
    double eta_scale;
    long steps;
    const long *snap;
    size_t n_snap;
    int kmax;
    int top_k;
    ntk_precond precond;
    double tau, reg;
    const double *lambda;
    double theta0;
    ntk_dtype dtype;
    int threads;
} ntk_kgd_opts;
ntk_kgd_opts ntk_kgd_opts_defaults(void);
typedef struct {
    long step;
    double t;
    double loss, loss_eval;
    const double *u, *u_eval;
    const double *coef_train;
    const double *plane_train;
    const double *coef_eval, *plane_eval;
    const double *ideal_plane;
    const double *proj_eig;
} ntk_kgd_snapshot;
typedef ntk_status (*ntk_kgd_observer)(void *user, const ntk_kgd_snapshot *s);
typedef struct {
    double eta, lambda_max;
    double rho;
    double *eig;
    double *eig_f64;
    double f32_abs;
    long f32_rel1;
} ntk_kgd_result;
ntk_status ntk_kgd_run(const ntk_kgd_opts *o, ntk_kgd_observer obs, void *user, ntk_kgd_result *res);
typedef enum {
    NTK_KSRC_THETA_BIAS, NTK_KSRC_THETA_NOBIAS, NTK_KSRC_K0, NTK_KSRC_K1, NTK_KSRC_LIMIT, NTK_KSRC_EMPIRICAL,
    NTK_KSRC_MATRIX
} ntk_ksrc;
ntk_status ntk_ksrc_parse(const char *s, ntk_ksrc *out);
typedef struct {
    ntk_ksrc kind;
    ntk_spec spec;
    uint64_t seed;
    const ntk_net *net;
    const double *K;
    const double *K_eval;
} ntk_kernel_source;
typedef struct {
    size_t n, m;
    int fft;
    double *A, *A_eval;
    ntk_circulant *C;
    double g0;
    double *y, *y_eval;
    double *u0, *u0_eval;
    double *gamma, *gamma_eval;
    int K;
    double *lambda;
    double *mode_mu;
    double theta0;
    ntk_ksrc kind;
    const void *profile_state;
} ntk_kgd_problem;
typedef struct {
    int fft;
    int gp_init;
    uint64_t gp_seed;
    int kmax;
} ntk_kgd_problem_opts;
ntk_kgd_problem_opts ntk_kgd_problem_defaults(void);
ntk_status ntk_kgd_problem_build(const ntk_kernel_source *src, const ntk_dataset *d, const ntk_kgd_problem_opts *po,
                                 ntk_kgd_problem *out);
void ntk_kgd_problem_clear(ntk_kgd_problem *p);
void ntk_kgd_problem_apply(const ntk_kgd_problem *p, ntk_kgd_opts *o);
typedef struct {
    double G_max, G_fro;
    double H_max, H_fro;
    double E_max, E_fro;
} ntk_lemma_norms;
typedef struct {
    int dim;
    int rank[2];
    double angle_max;
    double proj_fro;
    double proj_op;
    double affinity;
    double eig_err;
} ntk_plane_match;
typedef struct {
    ntk_kernel_source src;
    int kmax;
    size_t search;
    double ridge;
} ntk_modes_opts;
ntk_modes_opts ntk_modes_opts_defaults(void);
typedef struct {
    ntk_lemma_norms lemma;
    double *e_col;
    ntk_plane_match *planes;
    double *C;
    double leakage;
    double *eig;
    double pred_err;
    double pred_err_inf;
    double pred_rel_inf;
} ntk_modes_result;
ntk_status ntk_modes_cell(const ntk_modes_opts *o, const ntk_dataset *data, ntk_modes_result *r);
typedef enum { NTK_CONC_WIDTH = 0, NTK_CONC_SAMPLE = 1 } ntk_conc_kind;
typedef struct {
    ntk_conc_kind kind;
    int K;
    const ntk_spec *spec;
    const int *widths;
    size_t n;
    double (*profile)(double delta, void *ctx);
    void *profile_ctx;
    const size_t *ns;
    size_t n_cells;
    const double *lambda;
    double theta0;
    int seeds;
    uint64_t seed;
    const double *eps;
    size_t n_eps;
    double c, L;
    int threads;
} ntk_conc_opts;
double ntk_kgd_problem_profile(double delta, void *problem);
ntk_conc_opts ntk_conc_opts_defaults(void);
typedef struct {
    double *B;
    double *F;
    ntk_lemma_norms *lemma;
    double *bias;
    double *exceed;
    double *bound;
} ntk_conc_result;
ntk_status ntk_concentration_run(const ntk_conc_opts *o, ntk_conc_result *r);
ntk_status ntk_seed_spectra(size_t seeds, size_t T, size_t p, const double *S, double tau, double *mean, double *drift,
                            double *var, double *tv, int *active);
