/* test_data_build.c -- the dataset builder (ntk_data_build), the input loader (ntk_data_inputs) and
 * the checked matrix reader (ntk_matrix_read): every data and target kind against a direct
 * construction through the lower-level public functions (ntk_data_circle_grid, ntk_data_subset,
 * ntk_target_fourier_terms, ntk_target_teacher, ntk_target_add_noise, ...), Fourier and e2 targets
 * against closed forms at known angles, the noise seed's independence from the data seed, files
 * with wrong columns / rows / NaN, and the e2 defaults. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PI 3.14159265358979323846

static int setup_dir(void **state)
{
    (void)state;
    return tu_tmpdir_make("data_build");
}

static int remove_dir(void **state)
{
    (void)state;
    return tu_tmpdir_remove();
}

#define tpath tu_tmp_path

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(tpath(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_npy(const char *name, size_t rows, size_t cols, const double *x)
{
    size_t shape[2] = {rows, cols};
    TU_OK(ntk_npy_write(tpath(name), NTK_F64, cols ? 2 : 1, shape, x));
}

/* Bit-for-bit equality of n doubles (the builder must do exactly what the direct calls do). */
static void assert_same(size_t n, const double *a, const double *b, const char *what)
{
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) fail_msg("%s[%zu]: %.17g != %.17g", what, i, a[i], b[i]);
}

static void expect_error(ntk_status got, ntk_status want, const char *prefix, const char *part)
{
    if (got != want)
        fail_msg("status %s, expected %s (%s)", ntk_status_str(got), ntk_status_str(want), ntk_last_error());
    const char *m = ntk_last_error();
    if (strncmp(m, prefix, strlen(prefix)) != 0) fail_msg("message '%s' does not start with '%s'", m, prefix);
    if (part && !strstr(m, part)) fail_msg("message '%s' lacks '%s'", m, part);
    if (strchr(m, '\n')) fail_msg("message '%s' is more than one line", m);
}

/* A failed build leaves the dataset empty. */
static void assert_empty(const ntk_dataset *d)
{
    assert_null(d->X_train);
    assert_null(d->Y_train);
    assert_null(d->X_eval);
    assert_null(d->Y_eval);
    assert_null(d->gamma_train);
    assert_null(d->gamma_eval);
    assert_int_equal(d->n_train, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    ntk_data_opts o = ntk_data_defaults();
    assert_string_equal(o.data, "gaussian");
    assert_string_equal(o.target, "fourier");
    assert_string_equal(o.eval_points, "uniform");
    assert_int_equal(o.n, 128);
    assert_int_equal(o.n0, 16);
    assert_int_equal(o.outputs, 1);
    assert_int_equal(o.fourier_k, 4);
    assert_int_equal(o.n_eval, 0);
    assert_true(o.noise < 0);
    assert_true(ntk_data_known("circle-pos-subset") && ntk_data_known("fmnist") && ntk_data_known("a/b.csv"));
    assert_false(ntk_data_known("mnist") || ntk_data_known("x.txt") || ntk_data_known(NULL));
}

/* The e2 target's documented constants, and its noise default (0.02 unless a noise is given). */
static void test_e2_defaults(void **state)
{
    (void)state;
    static const int modes[7] = {2, 4, 7, 11, 16, 23, 32};
    static const double amps[7] = {0.9, 0.7, 0.55, 0.45, 0.35, 0.28, 0.22};
    static const double phases[7] = {0, PI / 2, 1.2, 2.0, 0.942, 4.5, 5.8};
    ntk_fourier_term t[NTK_E2_TERMS];
    assert_int_equal(NTK_E2_TERMS, 7);
    ntk_target_e2_terms(t);
    for (int j = 0; j < 7; j++) {
        assert_int_equal(t[j].mode, modes[j]);
        assert_true(t[j].amp == amps[j] && t[j].phase == phases[j]);
        assert_int_equal(t[j].basis, NTK_FOURIER_SIN);
    }
    ntk_data_opts o = ntk_data_defaults();
    assert_true(ntk_data_noise(&o) == 0);
    o.target = "e2";
    assert_true(ntk_data_noise(&o) == NTK_E2_NOISE && NTK_E2_NOISE == 0.02);
    o.noise = 0;
    assert_true(ntk_data_noise(&o) == 0);
    o.noise = 0.3;
    assert_true(ntk_data_noise(&o) == 0.3);

    /* The e2 build at known angles against the closed form, plus its default noise. */
    o = ntk_data_defaults();
    o.data = "circle";
    o.target = "e2";
    o.n = 16;
    o.noise_seed = 11;
    ntk_dataset d;
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    double y[16];
    for (int i = 0; i < 16; i++) {
        double g = -PI + 2 * PI * i / 16, s = 0;
        for (int j = 0; j < 7; j++) s += amps[j] * sin(modes[j] * g + phases[j]);
        y[i] = s;
    }
    double noise[16] = {0};
    TU_OK(ntk_target_add_noise(11, 0, 1.0, 16, noise));
    double worst = 0;
    for (int i = 0; i < 16; i++) worst = fmax(worst, fabs(d.Y_train[i] - (y[i] + 0.02 * noise[i])));
    /* sin at |arguments| up to 32 pi + 5.8 against the library's order of additions: a few ulps of 3 */
    TU_ASSERT_LE(worst, 1e-13, "e2 target against its closed form");
    ntk_dataset_clear(&d);
}

/* circle + fourier (default terms k = 1..4, a = 1/k) at known angles, evaluation angles uniform
 * from sub-stream 1 of the data seed. */
static void test_circle_fourier(void **state)
{
    (void)state;
    ntk_data_opts o = ntk_data_defaults();
    o.data = "circle";
    o.n = 12;
    o.n_eval = 9;
    o.data_seed = 5;
    ntk_dataset d;
    char desc[256];
    TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
    assert_int_equal(d.n_train, 12);
    assert_int_equal(d.n_eval, 9);
    assert_int_equal(d.n0, 2);
    assert_int_equal(d.k, 1);
    assert_string_equal(desc, "unit circle, angles -pi + 2 pi i / N; 9 evaluation angles uniform at random (sub-stream 1)");
    double g[12], X[24], ge[9], Xe[18];
    TU_OK(ntk_data_circle_grid(12, NTK_ANGLES_SYM, g, X));
    TU_OK(ntk_data_circle_uniform(5, 1, 9, NTK_ANGLES_SYM, ge, Xe));
    assert_same(12, d.gamma_train, g, "gamma_train");
    assert_same(24, d.X_train, X, "X_train");
    assert_same(9, d.gamma_eval, ge, "gamma_eval");
    assert_same(18, d.X_eval, Xe, "X_eval");
    double worst = 0;
    for (int i = 0; i < 12; i++) {
        double gi = -PI + 2 * PI * i / 12, s = 0;
        for (int k = 1; k <= 4; k++) s += sin(k * gi) / k;
        worst = fmax(worst, fabs(d.Y_train[i] - s));
    }
    for (int i = 0; i < 9; i++) {
        double s = 0;
        for (int k = 1; k <= 4; k++) s += sin(k * ge[i]) / k;
        worst = fmax(worst, fabs(d.Y_eval[i] - s));
    }
    /* four terms of size <= 1, libm sin: rounding only */
    TU_ASSERT_LE(worst, 1e-14, "fourier target against its closed form");
    ntk_dataset_clear(&d);
}

/* circle-pos with an evaluation grid and explicit terms (modes, amplitudes, phases, per-term bases,
 * a partial sum) against ntk_target_fourier_terms on the same angles. */
static void test_circle_pos_terms(void **state)
{
    (void)state;
    int modes[3] = {2, 4, 7}, cosine[3] = {0, 1, 0};
    double amps[3] = {0.9, 0.7, 0.5}, phases[3] = {0, 1.5, 1.2};
    ntk_data_opts o = ntk_data_defaults();
    o.data = "circle-pos";
    o.n = 10;
    o.n_eval = 7;
    o.eval_points = "grid";
    o.modes = modes;
    o.n_modes = 3;
    o.amps = amps;
    o.n_amps = 3;
    o.phases = phases;
    o.n_phases = 3;
    o.cosine = cosine;
    o.n_cosine = 3;
    o.partial = 2;
    ntk_dataset d;
    char desc[256];
    TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
    assert_string_equal(desc, "unit circle, angles 0 + 2 pi i / N; 7 evaluation angles on an equispaced grid");
    ntk_fourier_term t[3] = {{2, 0.9, 0, NTK_FOURIER_SIN}, {4, 0.7, 1.5, NTK_FOURIER_COS}, {7, 0.5, 1.2, NTK_FOURIER_SIN}};
    double g[10], ge[7], Xe[14], y[10], ye[7];
    TU_OK(ntk_data_circle_grid(10, NTK_ANGLES_POS, g, NULL));
    TU_OK(ntk_data_circle_grid(7, NTK_ANGLES_POS, ge, Xe));
    TU_OK(ntk_target_fourier_terms(10, g, 3, t, 2, y));
    TU_OK(ntk_target_fourier_terms(7, ge, 3, t, 2, ye));
    assert_same(10, d.gamma_train, g, "gamma_train");
    assert_same(14, d.X_eval, Xe, "X_eval");
    assert_same(10, d.Y_train, y, "Y_train");
    assert_same(7, d.Y_eval, ye, "Y_eval");
    /* and the partial sum itself at a known angle: gamma_1 = 2 pi / 10 */
    double want = 0.9 * sin(2 * (2 * PI / 10)) + 0.7 * cos(4 * (2 * PI / 10) - 1.5);
    TU_ASSERT_LE(fabs(d.Y_train[1] - want), 1e-15, "partial sum at gamma_1 (two terms of size < 1, rounding)");
    ntk_dataset_clear(&d);

    /* one basis for all terms */
    int cos1[1] = {1};
    o.cosine = cos1;
    o.n_cosine = 1;
    o.partial = 0;
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    for (int j = 0; j < 3; j++) t[j].basis = NTK_FOURIER_COS;
    TU_OK(ntk_target_fourier_terms(10, g, 3, t, 0, y));
    assert_same(10, d.Y_train, y, "Y_train (all cos)");
    ntk_dataset_clear(&d);
}

/* circle-uniform: training angles from sub-stream 0, evaluation angles from sub-stream 1. */
static void test_circle_uniform(void **state)
{
    (void)state;
    ntk_data_opts o = ntk_data_defaults();
    o.data = "circle-uniform";
    o.n = 20;
    o.n_eval = 6;
    o.data_seed = 3;
    o.target = "random";
    ntk_dataset d;
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    double g[20], X[40], ge[6], y[20], ye[6];
    TU_OK(ntk_data_circle_uniform(3, 0, 20, NTK_ANGLES_SYM, g, X));
    TU_OK(ntk_data_circle_uniform(3, 1, 6, NTK_ANGLES_SYM, ge, NULL));
    ntk_rng_normal(3, NTK_STREAM_TARGET, 0, 0, 20, y);
    ntk_rng_normal(3, NTK_STREAM_TARGET, 1, 0, 6, ye);
    assert_same(20, d.gamma_train, g, "gamma_train");
    assert_same(40, d.X_train, X, "X_train");
    assert_same(6, d.gamma_eval, ge, "gamma_eval");
    assert_same(20, d.Y_train, y, "Y_train (random, sub 0)");
    assert_same(6, d.Y_eval, ye, "Y_eval (random, sub 1)");
    ntk_dataset_clear(&d);
}

/* circle-subset / circle-pos-subset: the evaluation grid, and training points drawn from it. */
static void test_circle_subset(void **state)
{
    (void)state;
    for (int pos = 0; pos < 2; pos++) {
        ntk_data_opts o = ntk_data_defaults();
        o.data = pos ? "circle-pos-subset" : "circle-subset";
        o.n = 8;
        o.n_eval = 25;
        o.data_seed = 4;
        ntk_dataset d;
        char desc[300];
        TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
        assert_int_equal(d.n_train, 8);
        assert_int_equal(d.n_eval, 25);
        assert_non_null(strstr(desc, "training points drawn from it without replacement, data seed 4"));
        double ge[25], Xe[50], ye[25];
        size_t idx[8];
        TU_OK(ntk_data_circle_grid(25, pos ? NTK_ANGLES_POS : NTK_ANGLES_SYM, ge, Xe));
        TU_OK(ntk_data_subset(4, 0, 25, 8, idx));
        assert_same(25, d.gamma_eval, ge, "gamma_eval");
        assert_same(50, d.X_eval, Xe, "X_eval");
        for (size_t i = 0; i < 8; i++) {
            assert_same(1, &d.gamma_train[i], &ge[idx[i]], "gamma_train");
            assert_same(2, &d.X_train[2 * i], &Xe[2 * idx[i]], "X_train");
            assert_same(1, &d.Y_train[i], &d.Y_eval[idx[i]], "Y_train (the grid's targets)");
        }
        ntk_fourier_term t[4];
        for (int j = 0; j < 4; j++) t[j] = (ntk_fourier_term){j + 1, 1.0 / (j + 1), 0, NTK_FOURIER_SIN};
        TU_OK(ntk_target_fourier_terms(25, ge, 4, t, 0, ye));
        assert_same(25, d.Y_eval, ye, "Y_eval");
        ntk_dataset_clear(&d);
        o.n_eval = 7; /* fewer grid points than training points */
        expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.n_eval", "needs n_eval >= n (got 7)");
        assert_empty(&d);
        o.n_eval = 25;
        o.eval_data = "x.npy";
        expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "data.eval_data", "from its grid");
        o.eval_data = NULL;
        o.n0 = 3;
        o.n0_given = 1;
        expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "n0:", "n0 = 3 was given");
    }
}

/* gaussian and gaussian-raw: one draw of N + M rows split into training and evaluation rows;
 * the product target x1 x2 in closed form. */
static void test_gaussian_product(void **state)
{
    (void)state;
    for (int raw = 0; raw < 2; raw++) {
        ntk_data_opts o = ntk_data_defaults();
        o.data = raw ? "gaussian-raw" : "gaussian";
        o.n = 10;
        o.n0 = 3;
        o.n_eval = 5;
        o.data_seed = 8;
        o.target = "product";
        ntk_dataset d;
        char desc[256];
        TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
        assert_string_equal(desc, raw ? "gaussian rows N(0, I) as drawn (not rescaled), data seed 8 (stream DATA_X)"
                                      : "gaussian rows rescaled to norm sqrt(n0), data seed 8 (stream DATA_X)");
        double X[45];
        TU_OK(raw ? ntk_data_gaussian_raw(8, 15, 3, X) : ntk_data_gaussian(8, 15, 3, X));
        assert_same(30, d.X_train, X, "X_train");
        assert_same(15, d.X_eval, X + 30, "X_eval (further rows of the draw)");
        assert_null(d.gamma_train);
        for (int i = 0; i < 10; i++) assert_true(d.Y_train[i] == X[3 * i] * X[3 * i + 1]);
        for (int i = 0; i < 5; i++) assert_true(d.Y_eval[i] == X[30 + 3 * i] * X[30 + 3 * i + 1]);
        ntk_dataset_clear(&d);
    }
    /* fourier needs the circle */
    ntk_data_opts o = ntk_data_defaults();
    ntk_dataset d;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "target: fourier needs circle data", NULL);
    assert_empty(&d);
}

/* sphere + teacher: the teacher network of the given spec (n0 and outputs from the data),
 * initialised with the data seed XOR "teacher"; k = 2 outputs. */
static void test_sphere_teacher(void **state)
{
    (void)state;
    int widths[1] = {7};
    ntk_spec s = ntk_spec_default();
    s.depth = 1;
    s.widths = widths;
    s.n0 = 99; /* replaced by the data's n0 */
    s.outputs = 5;
    ntk_data_opts o = ntk_data_defaults();
    o.data = "sphere";
    o.n = 9;
    o.n0 = 4;
    o.outputs = 2;
    o.n_eval = 3;
    o.data_seed = 2;
    o.target = "teacher";
    o.teacher = &s;
    ntk_dataset d;
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    assert_int_equal(d.k, 2);
    double X[48], Y[24];
    TU_OK(ntk_data_sphere(2, 12, 4, X));
    assert_same(36, d.X_train, X, "X_train");
    assert_same(12, d.X_eval, X + 36, "X_eval");
    ntk_spec t = s;
    t.n0 = 4;
    t.outputs = 2;
    TU_OK(ntk_target_teacher(&t, 2 ^ NTK_TEACHER_SEED_XOR, 12, X, Y));
    assert_same(18, d.Y_train, Y, "Y_train");
    assert_same(6, d.Y_eval, Y + 18, "Y_eval");
    ntk_dataset_clear(&d);
    o.teacher = NULL;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "target: teacher", NULL);
}

/* Label noise: its own seed on the training targets only; independent of the data seed. */
static void test_noise_seed(void **state)
{
    (void)state;
    ntk_data_opts o = ntk_data_defaults();
    o.data = "gaussian";
    o.n = 12;
    o.n0 = 3;
    o.n_eval = 4;
    o.target = "random";
    o.data_seed = 1;
    o.noise = 0;
    ntk_dataset clean, a, b, c;
    TU_OK(ntk_data_build(&o, &clean, NULL, 0));
    o.noise = 0.25;
    o.noise_seed = 7;
    TU_OK(ntk_data_build(&o, &a, NULL, 0));
    o.noise_seed = 8;
    TU_OK(ntk_data_build(&o, &b, NULL, 0));
    o.data_seed = 2;
    o.noise_seed = 7;
    TU_OK(ntk_data_build(&o, &c, NULL, 0));
    /* the noise seed changes neither the inputs nor the evaluation targets */
    assert_same(36, b.X_train, a.X_train, "X_train across noise seeds");
    assert_same(4, b.Y_eval, a.Y_eval, "Y_eval across noise seeds");
    assert_same(4, a.Y_eval, clean.Y_eval, "Y_eval carries no noise");
    double z[12] = {0}, na[12], nb[12], nc[12], ca[12];
    TU_OK(ntk_target_add_noise(7, 0, 0.25, 12, z));
    int differ = 0;
    for (int i = 0; i < 12; i++) {
        ca[i] = clean.Y_train[i] + z[i];
        na[i] = a.Y_train[i] - clean.Y_train[i];
        nb[i] = b.Y_train[i] - clean.Y_train[i];
        differ += na[i] != nb[i];
    }
    assert_same(12, a.Y_train, ca, "Y_train = clean + ntk_target_add_noise(noise seed)");
    assert_true(differ == 12);
    /* another data seed: other targets, the same noise draw */
    ntk_dataset cleanc;
    o.noise = 0;
    TU_OK(ntk_data_build(&o, &cleanc, NULL, 0));
    for (int i = 0; i < 12; i++) nc[i] = c.Y_train[i] - cleanc.Y_train[i];
    /* the noise recovered as a difference of two sums of O(1) terms: rounding of order 1e-16 */
    TU_ASSERT_LE(tu_rel_max(12, nc, na), 1e-14, "noise under another data seed");
    assert_true(cleanc.Y_train[0] != clean.Y_train[0]);
    ntk_dataset_clear(&clean);
    ntk_dataset_clear(&a);
    ntk_dataset_clear(&b);
    ntk_dataset_clear(&c);
    ntk_dataset_clear(&cleanc);
}

/* Inputs, evaluation points and targets from files (.npy, .npz member X, .csv). */
static void test_files(void **state)
{
    (void)state;
    double X[8 * 3], Xe[5 * 3], y[8], ye2[5 * 2];
    for (int i = 0; i < 24; i++) X[i] = 0.1 * i - 1;
    for (int i = 0; i < 15; i++) Xe[i] = 0.3 * i;
    for (int i = 0; i < 8; i++) y[i] = i * i;
    for (int i = 0; i < 10; i++) ye2[i] = -i;
    write_npy("X.npy", 8, 3, X);
    write_npy("Xe.npy", 5, 3, Xe);
    write_npy("y.npy", 8, 0, y);
    write_npy("ye.npy", 5, 0, ye2);
    ntk_data_opts o = ntk_data_defaults();
    char path[256], epath[256], tp[256], ep[256];
    snprintf(path, sizeof path, "%s", tpath("X.npy"));
    snprintf(epath, sizeof epath, "%s", tpath("Xe.npy"));
    snprintf(tp, sizeof tp, "%s", tpath("y.npy"));
    snprintf(ep, sizeof ep, "%s", tpath("ye.npy"));
    o.data = path;
    o.all_rows = 1;
    o.eval_data = epath;
    o.target = tp;
    o.eval_target = ep;
    ntk_dataset d;
    char desc[512];
    TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
    assert_int_equal(d.n_train, 8);
    assert_int_equal(d.n_eval, 5);
    assert_int_equal(d.n0, 3);
    assert_same(24, d.X_train, X, "X_train");
    assert_same(15, d.X_eval, Xe, "X_eval");
    assert_same(8, d.Y_train, y, "Y_train");
    assert_same(5, d.Y_eval, ye2, "Y_eval");
    assert_non_null(strstr(desc, ": first 8 of 8 rows"));
    ntk_dataset_clear(&d);
    /* the first n rows, and the first n_eval rows */
    o.all_rows = 0;
    o.n = 6;
    o.n_eval = 2;
    TU_OK(ntk_data_build(&o, &d, desc, sizeof desc));
    assert_int_equal(d.n_train, 6);
    assert_int_equal(d.n_eval, 2);
    assert_same(6, d.Y_train, y, "Y_train (first rows)");
    assert_same(2, d.Y_eval, ye2, "Y_eval (first rows)");
    assert_non_null(strstr(desc, ": first 6 of 8 rows"));
    ntk_dataset_clear(&d);
    /* file targets need file evaluation targets, and only file targets take them */
    o.eval_target = NULL;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.eval_target", "from a file too (n_eval = 2)");
    o.target = "random";
    o.eval_target = ep;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.eval_target",
                 "applies to targets from a file, not to target random");
    o.eval_target = NULL;
    o.target = "nosuch";
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "target: unknown value 'nosuch'", NULL);
    /* targets of the wrong shape, and non-finite targets */
    o.target = tp;
    o.outputs = 2;
    o.eval_target = ep;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "target:", "k = 2");
    double ybad[8] = {1, 2, 3, NAN, 5, 6, 7, 8};
    write_npy("ybad.npy", 8, 0, ybad);
    o.target = tpath("ybad.npy");
    o.outputs = 1;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "target:", "non-finite value at index 3");
    assert_empty(&d);
    /* evaluation points from a file whose columns differ from the inputs' */
    o.target = "random";
    o.eval_target = NULL;
    o.data = "circle";
    write_npy("Xe3.npy", 5, 3, Xe);
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "data.eval_data:", "3 columns but n0 = 2");
    /* file inputs without evaluation points of their own */
    o.data = path;
    o.eval_data = NULL;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "n-eval:", NULL);

    /* .npz (member X) and .csv give the same inputs */
    ntk_npz_writer *w = NULL;
    size_t shape[2] = {8, 3};
    TU_OK(ntk_npz_open(tpath("X.npz"), &w));
    TU_OK(ntk_npz_add(w, "X", NTK_F64, 2, shape, X));
    TU_OK(ntk_npz_close(w));
    write_text("X.csv", "a,b,c\n-1,-0.9,-0.8\n-0.7,-0.6,-0.5\n");
    ntk_data_opts oi = ntk_data_defaults();
    oi.data = tpath("X.npz");
    oi.all_rows = 1;
    TU_OK(ntk_data_inputs(&oi, &d, NULL, 0));
    assert_int_equal(d.n_train, 8);
    assert_same(24, d.X_train, X, "X from .npz");
    ntk_dataset_clear(&d);
    oi.data = tpath("X.csv");
    TU_OK(ntk_data_inputs(&oi, &d, desc, sizeof desc));
    assert_int_equal(d.n_train, 2);
    assert_int_equal(d.n0, 3);
    TU_ASSERT_LE(tu_rel_max(6, d.X_train, X), 1e-15, "X from .csv (decimal text, one rounding per value)");
    ntk_dataset_clear(&d);
}

/* The checked reader: wrong columns, too few rows, NaN, not 2-D; every message names `what`. */
static void test_matrix_read(void **state)
{
    (void)state;
    double A[4 * 2] = {1, 2, 3, 4, 5, NAN, 7, 8}, v[3] = {1, 2, 3};
    write_npy("nan.npy", 4, 2, A);
    write_npy("vec.npy", 3, 0, v);
    write_text("inf.csv", "1,2\n3,inf\n");
    double *X = NULL;
    size_t r = 0, c = 0;
    const char *nan = tpath("nan.npy");
    expect_error(ntk_matrix_read(nan, "data.eval_data", 3, 0, &X, &r, &c), NTK_EINVAL, "data.eval_data: ",
                 "has 2 columns but n0 = 3 was given");
    assert_null(X);
    expect_error(ntk_matrix_read(nan, "my.key", 0, 5, &X, &r, &c), NTK_EINVAL, "my.key: ",
                 "has 4 rows but n = 5 was asked for");
    expect_error(ntk_matrix_read(nan, "data", 2, 0, &X, &r, &c), NTK_EINVAL, "data: ",
                 "non-finite value at row 2, column 1");
    expect_error(ntk_matrix_read(tpath("vec.npy"), "data", 0, 0, &X, &r, &c), NTK_EINVAL, "data: ",
                 "X must be a non-empty 2-D array (N, n0), got shape (3,)");
    ntk_status st = ntk_matrix_read(tpath("inf.csv"), "data", 0, 0, &X, &r, &c);
    assert_int_not_equal(st, NTK_OK); /* the CSV reader refuses it itself */
    assert_non_null(strstr(ntk_last_error(), "data: "));
    expect_error(ntk_matrix_read(tpath("missing.npy"), "data", 0, 0, &X, &r, &c), NTK_EIO, "data: ",
                 "cannot open");
    assert_null(X);
    /* only the rows used must be finite: the first two rows are */
    TU_OK(ntk_matrix_read(nan, "data", 2, 2, &X, &r, &c));
    assert_int_equal(r, 4);
    assert_int_equal(c, 2);
    assert_same(4, X, A, "the rows read");
    free(X);
}

/* The input loader of kernel / limit / eval: each kind as the lower-level call makes it. */
static void test_inputs(void **state)
{
    (void)state;
    ntk_data_opts o = ntk_data_defaults();
    ntk_dataset d;
    char desc[256];
    o.n = 6;
    o.n0 = 3;
    o.data_seed = 9;
    double X[18], g[6];
    o.data = "sphere";
    TU_OK(ntk_data_inputs(&o, &d, desc, sizeof desc));
    TU_OK(ntk_data_sphere(9, 6, 3, X));
    assert_same(18, d.X_train, X, "sphere");
    assert_string_equal(desc, "uniform on the unit sphere S^{n0-1}, data seed 9 (stream SPHERE)");
    ntk_dataset_clear(&d);
    o.data = "circle-uniform";
    TU_OK(ntk_data_inputs(&o, &d, desc, sizeof desc));
    assert_int_equal(d.n0, 2);
    TU_OK(ntk_data_circle_uniform(9, 0, 6, NTK_ANGLES_SYM, g, X));
    assert_same(12, d.X_train, X, "circle-uniform");
    assert_same(6, d.gamma_train, g, "circle-uniform angles");
    ntk_dataset_clear(&d);
    o.data = "circle-pos";
    TU_OK(ntk_data_inputs(&o, &d, desc, sizeof desc));
    assert_string_equal(desc, "unit circle, angles 0 + 2 pi i / N");
    TU_OK(ntk_data_circle_grid(6, NTK_ANGLES_POS, NULL, X));
    assert_same(12, d.X_train, X, "circle-pos");
    ntk_dataset_clear(&d);
    o.n0_given = 1;
    expect_error(ntk_data_inputs(&o, &d, NULL, 0), NTK_EINVAL, "n0: circle data has n0 = 2", "n0 = 3 was given");
    o.data = "circle-subset";
    expect_error(ntk_data_inputs(&o, &d, NULL, 0), NTK_EINVAL, "data: circle-subset", "applies to train and sweep only");
    o.data = "fmnist";
    expect_error(ntk_data_inputs(&o, &d, NULL, 0), NTK_EINVAL, "n0: Fashion-MNIST has n0 = 784", NULL);
    o.data = "mnist";
    expect_error(ntk_data_inputs(&o, &d, NULL, 0), NTK_EINVAL, "data: unknown value 'mnist'", "PATH.csv");
    assert_empty(&d);
}

static int have_fmnist(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", NTK_FMNIST_DIR);
    return access(p, R_OK) == 0;
}

/* Fashion-MNIST: build's defaults (classes 0 and 9, +-1 targets) and the loader's (all classes). */
static void test_fmnist(void **state)
{
    (void)state;
    if (!have_fmnist()) skip();
    ntk_data_opts o = ntk_data_defaults();
    o.data = "fmnist";
    o.n = 30;
    o.n_eval = 10;
    o.data_seed = 6;
    ntk_dataset d, ref;
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    ntk_fmnist_opts f = ntk_fmnist_defaults();
    int two[2] = {0, 9};
    f.classes = two;
    f.n_classes = 2;
    f.targets = NTK_TARGETS_BINARY;
    f.n_train = 30;
    f.n_eval = 10;
    f.seed = 6;
    TU_OK(ntk_fmnist_load(&f, &ref));
    assert_int_equal(d.n0, 784);
    assert_int_equal(d.k, 1);
    assert_same(30 * 784, d.X_train, ref.X_train, "fmnist X_train");
    assert_same(30, d.Y_train, ref.Y_train, "fmnist Y_train");
    assert_same(10, d.Y_eval, ref.Y_eval, "fmnist Y_eval");
    ntk_dataset_clear(&d);
    ntk_dataset_clear(&ref);
    o.n_eval = 0; /* no evaluation set */
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    assert_int_equal(d.n_eval, 0);
    ntk_dataset_clear(&d);
    /* the input loader: all ten classes */
    o.n = 5;
    TU_OK(ntk_data_inputs(&o, &d, NULL, 0));
    f = ntk_fmnist_defaults();
    f.n_train = 5;
    f.n_eval = 1;
    f.seed = 6;
    TU_OK(ntk_fmnist_load(&f, &ref));
    assert_same(5 * 784, d.X_train, ref.X_train, "fmnist inputs");
    ntk_dataset_clear(&d);
    ntk_dataset_clear(&ref);
}

/* The explicit-terms checks, each naming its key. */
static void test_term_errors(void **state)
{
    (void)state;
    int modes[2] = {1, 2}, cos3[3] = {0, 1, 0};
    double amps[2] = {1, 1}, ph[1] = {0};
    ntk_data_opts o = ntk_data_defaults();
    o.data = "circle";
    o.n = 8;
    ntk_dataset d;
    o.target = "e2";
    o.modes = modes;
    o.n_modes = 1;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_modes: target e2 has its own", NULL);
    o.target = "fourier";
    o.n_modes = 0;
    o.amps = amps;
    o.n_amps = 2;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_amps: amplitudes and phases need", NULL);
    o.n_modes = 2;
    o.n_amps = 1;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_amps: 1 amplitudes for 2 modes", NULL);
    o.n_amps = 2;
    o.phases = ph;
    o.n_phases = 1;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_phases: 1 phases for 2 modes", NULL);
    o.n_phases = 0;
    o.cosine = cos3;
    o.n_cosine = 3;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_basis: 3 bases for 2 modes", NULL);
    o.n_cosine = 0;
    o.partial = 3;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "train.target_partial: 3 is more than the 2 terms",
                 NULL);
    o.partial = 0;
    o.eval_points = "spiral";
    o.n_eval = 4;
    expect_error(ntk_data_build(&o, &d, NULL, 0), NTK_EINVAL, "data.eval_points", "unknown value 'spiral'");
    o.eval_points = "grid";
    TU_OK(ntk_data_build(&o, &d, NULL, 0));
    ntk_dataset_clear(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_e2_defaults),
        cmocka_unit_test(test_circle_fourier),   cmocka_unit_test(test_circle_pos_terms),
        cmocka_unit_test(test_circle_uniform),   cmocka_unit_test(test_circle_subset),
        cmocka_unit_test(test_gaussian_product), cmocka_unit_test(test_sphere_teacher),
        cmocka_unit_test(test_noise_seed),       cmocka_unit_test(test_files),
        cmocka_unit_test(test_matrix_read),      cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_fmnist),           cmocka_unit_test(test_term_errors),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
