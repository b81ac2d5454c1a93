/* test_checkpoint.c -- ntk_checkpoint_save / ntk_checkpoint_load and ntk_npz_read_into.
 *
 * - save -> load into a different network and a fresh trainer is bit-identical: parameters, adam
 *   moments, the step and the info; one more step from each gives bit-identical parameters (the
 *   trainer's step, which adam's bias correction uses, is restored too);
 * - the saved file holds exactly the documented members (format [1] = 2, theta [P], opt_state
 *   [2P], step [1], losses [3]), read back member by member;
 * - a file without "format" (the layout before versioning) loads like a format-1 file;
 * - gd: the saved opt_state is empty, a format-1 gd file's P unused values are not read, and a
 *   format-2 gd file with P values is refused;
 * - a wrong format (3, NaN, two values), a wrong count (theta, opt_state, losses), a step that is
 *   NaN / 1e300 / fractional / negative / past max_step, and losses[2] fractional or past the step
 *   are each refused with their exact message, and leave the network, the trainer and the info
 *   untouched;
 * - ntk_npz_read_into copies a member of any shape with the right count, and refuses a wrong count
 *   with its message, dst untouched;
 * - ntk_train_snapshot_save writes exactly the documented members with their shapes and values
 *   (read back by ntk_npz_read, not by the loader), leaving out the NULL ones; ntk_train_snapshot_load
 *   fills the replay buffers bit for bit and refuses a size that does not match the file;
 * - ntk_train_trajectory_save: every documented member with its shape and values, the eval members
 *   only with an eval set. */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { N = 5, N0 = 3, P = 41, S = 2 * P, MAX_STEP = 10 };

typedef struct {
    char dir[64];
    double X[N * N0], Y[N];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ntk_test_checkpoint_XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    for (int i = 0; i < N * N0; i++) f->X[i] = 0.3 * sin(1.0 + i);
    for (int i = 0; i < N; i++) f->Y[i] = cos(2.0 * i);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(p);
    }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *in_dir(const fixture *f, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", f->dir, name);
    return buf;
}

/* Depth 2, widths 4 and 4, n0 3, one output, trainable biases: P = 41; adam: state 2P. */
static ntk_net *small_net(uint64_t seed)
{
    int widths[2] = {4, 4};
    ntk_spec s = ntk_spec_default();
    s.depth = 2;
    s.widths = widths;
    s.n0 = N0;
    s.outputs = 1;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    TU_OK(ntk_net_init(net, seed));
    assert_int_equal(ntk_net_num_params(net), P);
    return net;
}

static ntk_trainer *adam(ntk_net *net, const fixture *f)
{
    ntk_train_opts o = ntk_train_defaults();
    o.opt = NTK_OPT_ADAM;
    o.lr = 0.01;
    ntk_trainer *tr = NULL;
    TU_OK(ntk_trainer_alloc(net, N, f->X, f->Y, &o, &tr));
    assert_int_equal(ntk_trainer_state_len(tr), S);
    return tr;
}

/* A network and an adam trainer 3 steps in: nonzero moments, step count 3. */
static void trained(const fixture *f, ntk_net **net, ntk_trainer **tr, ntk_checkpoint_info *info)
{
    *net = small_net(11);
    *tr = adam(*net, f);
    double L, loss0 = NAN, lmax = -INFINITY;
    long lstep = 0;
    for (long t = 0; t < 3; t++) {
        TU_OK(ntk_trainer_step(*tr, &L));
        if (t == 0) loss0 = L;
        if (L > lmax) lmax = L, lstep = t;
    }
    assert_int_equal(ntk_trainer_step_count(*tr), 3);
    *info = (ntk_checkpoint_info){3, loss0, lmax, lstep};
}

static void assert_info_equal(const ntk_checkpoint_info *a, const ntk_checkpoint_info *b)
{
    assert_int_equal(a->step, b->step);
    assert_memory_equal(&a->loss0, &b->loss0, sizeof a->loss0);
    assert_memory_equal(&a->loss_max, &b->loss_max, sizeof a->loss_max);
    assert_int_equal(a->loss_max_step, b->loss_max_step);
}

/* net and tr hold exactly theta, state and step. */
static void assert_holds(const ntk_net *net, const ntk_trainer *tr, const double *theta, const double *state,
                         long step)
{
    double got[S];
    assert_memory_equal(ntk_net_params_const(net), theta, P * sizeof *theta);
    ntk_trainer_state_get(tr, got);
    assert_memory_equal(got, state, S * sizeof *state);
    assert_int_equal(ntk_trainer_step_count(tr), step);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    char path[128];
    ntk_net *a;
    ntk_trainer *ta;
    ntk_checkpoint_info info;
    trained(f, &a, &ta, &info);
    TU_OK(ntk_checkpoint_save(in_dir(f, "ck.npz", path, sizeof path), a, ta, &info));
    double sa[S];
    ntk_trainer_state_get(ta, sa);

    ntk_net *b = small_net(99); /* other parameters, zero moments, step 0 */
    ntk_trainer *tb = adam(b, f);
    assert_true(memcmp(ntk_net_params_const(a), ntk_net_params_const(b), P * sizeof(double)) != 0);
    ntk_checkpoint_info got = {-1, 0, 0, -1};
    TU_OK(ntk_checkpoint_load(path, b, tb, MAX_STEP, &got));
    assert_holds(b, tb, ntk_net_params_const(a), sa, 3);
    assert_info_equal(&got, &info);

    /* the next step continues the same run bit for bit */
    double La, Lb;
    TU_OK(ntk_trainer_step(ta, &La));
    TU_OK(ntk_trainer_step(tb, &Lb));
    assert_memory_equal(&La, &Lb, sizeof La);
    assert_memory_equal(ntk_net_params_const(a), ntk_net_params_const(b), P * sizeof(double));

    /* the documented members, read one by one */
    double v[S], losses[3];
    TU_OK(ntk_npz_read_into(path, "format", 1, v));
    assert_true(v[0] == NTK_CHECKPOINT_FORMAT && NTK_CHECKPOINT_FORMAT == 2);
    ntk_array arr = {0};
    TU_OK(ntk_npz_read(path, "theta", &arr));
    assert_int_equal(arr.ndim, 1);
    assert_int_equal(arr.shape[0], P);
    ntk_array_clear(&arr);
    TU_OK(ntk_npz_read(path, "opt_state", &arr));
    assert_int_equal(arr.ndim, 1);
    assert_int_equal(arr.shape[0], S);
    assert_memory_equal(arr.data, sa, S * sizeof *sa);
    ntk_array_clear(&arr);
    TU_OK(ntk_npz_read_into(path, "step", 1, v));
    assert_true(v[0] == 3.0);
    TU_OK(ntk_npz_read_into(path, "losses", 3, losses));
    assert_memory_equal(&losses[0], &info.loss0, sizeof(double));
    assert_memory_equal(&losses[1], &info.loss_max, sizeof(double));
    assert_true(losses[2] == (double)info.loss_max_step);

    ntk_trainer_free(ta);
    ntk_trainer_free(tb);
    ntk_net_free(a);
    ntk_net_free(b);
}

/* A hand-made checkpoint: the members of a format-1 file with the given counts and values; format:
 * [nformat] values, none when nformat = 0.  theta and opt_state are filled with recognisable values. */
typedef struct {
    size_t nformat;
    double format[2];
    size_t ntheta, nstate, nlosses;
    double step;
    double losses[3];
} ck_file;

static ck_file good_file(void)
{
    return (ck_file){1, {1, 0}, P, S, 3, 4, {0.75, 1.25, 2}};
}

static void write_file(const char *path, const ck_file *c)
{
    static double theta[S], st[S];
    for (int i = 0; i < S; i++) theta[i] = 0.01 * i - 0.2, st[i] = 1e-3 * (i + 1);
    size_t shf[1] = {c->nformat}, shP[1] = {c->ntheta}, shS[1] = {c->nstate}, sh1[1] = {1}, sh3[1] = {c->nlosses};
    ntk_npz_writer *w = NULL;
    TU_OK(ntk_npz_open(path, &w));
    if (c->nformat) TU_OK(ntk_npz_add(w, "format", NTK_F64, 1, shf, c->format));
    TU_OK(ntk_npz_add(w, "theta", NTK_F64, 1, shP, theta));
    TU_OK(ntk_npz_add(w, "opt_state", NTK_F64, 1, shS, st));
    TU_OK(ntk_npz_add(w, "step", NTK_F64, 1, sh1, &c->step));
    TU_OK(ntk_npz_add(w, "losses", NTK_F64, 1, sh3, c->losses));
    TU_OK(ntk_npz_close(w));
}

static void test_without_format(void **state)
{
    fixture *f = *state;
    char p1[128], p0[128];
    ck_file c = good_file();
    write_file(in_dir(f, "v1.npz", p1, sizeof p1), &c);
    c.nformat = 0;
    write_file(in_dir(f, "v0.npz", p0, sizeof p0), &c);
    ntk_net *n1 = small_net(1), *n0 = small_net(2);
    ntk_trainer *t1 = adam(n1, f), *t0 = adam(n0, f);
    ntk_checkpoint_info i1, i0;
    TU_OK(ntk_checkpoint_load(p1, n1, t1, MAX_STEP, &i1));
    TU_OK(ntk_checkpoint_load(p0, n0, t0, MAX_STEP, &i0));
    double s1[S];
    ntk_trainer_state_get(t1, s1);
    assert_holds(n0, t0, ntk_net_params_const(n1), s1, 4);
    assert_info_equal(&i0, &i1);
    assert_int_equal(i0.step, 4);
    assert_int_equal(i0.loss_max_step, 2);
    assert_true(i0.loss0 == 0.75 && i0.loss_max == 1.25);
    ntk_trainer_free(t1);
    ntk_trainer_free(t0);
    ntk_net_free(n1);
    ntk_net_free(n0);
}

/* Each damaged file is refused with its message; net, trainer and info are untouched. */
static void test_refusals(void **state)
{
    fixture *f = *state;
    struct {
        const char *name;
        ck_file c;
        const char *msg; /* after "<path>: " */
    } cases[] = {
        {"format3", {1, {3, 0}, P, S, 3, 4, {0.75, 1.25, 2}},
         "format 3 is not a checkpoint format this version reads (1 or 2)"},
        {"formatnan", {1, {NAN, 0}, P, S, 3, 4, {0.75, 1.25, 2}},
         "format nan is not a checkpoint format this version reads (1 or 2)"},
        {"format_two", {2, {1, 1}, P, S, 3, 4, {0.75, 1.25, 2}}, "format has 2 values, expected 1"},
        {"theta", {1, {1, 0}, P - 1, S, 3, 4, {0.75, 1.25, 2}}, "theta has 40 values, expected 41"},
        {"opt_state", {1, {1, 0}, P, P, 3, 4, {0.75, 1.25, 2}}, "opt_state has 41 values, expected 82"},
        {"losses", {1, {1, 0}, P, S, 2, 4, {0.75, 1.25, 2}}, "losses has 2 values, expected 3"},
        {"step_nan", {1, {1, 0}, P, S, 3, NAN, {0.75, 1.25, 0}}, "step nan is not a step of this run (0..10)"},
        {"step_1e300", {1, {1, 0}, P, S, 3, 1e300, {0.75, 1.25, 0}}, "step 1e+300 is not a step of this run (0..10)"},
        {"step_frac", {1, {1, 0}, P, S, 3, 2.5, {0.75, 1.25, 0}}, "step 2.5 is not a step of this run (0..10)"},
        {"step_neg", {1, {1, 0}, P, S, 3, -1, {0.75, 1.25, 0}}, "step -1 is not a step of this run (0..10)"},
        {"step_past", {1, {1, 0}, P, S, 3, 11, {0.75, 1.25, 0}}, "step 11 is not a step of this run (0..10)"},
        {"lmax_past", {1, {1, 0}, P, S, 3, 4, {0.75, 1.25, 5}},
         "losses[2] (step of the largest loss) 5 is not a step in 0..4"},
        {"lmax_frac", {1, {1, 0}, P, S, 3, 4, {0.75, 1.25, 0.5}},
         "losses[2] (step of the largest loss) 0.5 is not a step in 0..4"},
        {"lmax_nan", {1, {1, 0}, P, S, 3, 4, {0.75, 1.25, NAN}},
         "losses[2] (step of the largest loss) nan is not a step in 0..4"},
    };
    ntk_net *net;
    ntk_trainer *tr;
    ntk_checkpoint_info info;
    trained(f, &net, &tr, &info);
    double theta[P], st[S];
    memcpy(theta, ntk_net_params_const(net), sizeof theta);
    ntk_trainer_state_get(tr, st);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[128], want[256], name[64];
        snprintf(name, sizeof name, "%s.npz", cases[i].name);
        write_file(in_dir(f, name, path, sizeof path), &cases[i].c);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].msg);
        ntk_checkpoint_info got = info;
        ntk_status s = ntk_checkpoint_load(path, net, tr, MAX_STEP, &got);
        if (s != NTK_EFORMAT || strcmp(ntk_last_error(), want) != 0)
            fail_msg("%s: got %s '%s', expected NTK_EFORMAT '%s'", cases[i].name, ntk_status_str(s), ntk_last_error(),
                     want);
        assert_holds(net, tr, theta, st, 3);
        assert_info_equal(&got, &info);
    }
    /* the unchanged good file is accepted by the same net and trainer (the cases differ from it
     * only where they say) */
    char path[128];
    ck_file c = good_file();
    write_file(in_dir(f, "good.npz", path, sizeof path), &c);
    TU_OK(ntk_checkpoint_load(path, net, tr, MAX_STEP, &info));
    assert_int_equal(ntk_trainer_step_count(tr), 4);
    /* a missing member and a file that is no archive */
    char junk[128];
    FILE *fp = fopen(in_dir(f, "junk.npz", junk, sizeof junk), "w");
    assert_non_null(fp);
    fputs("not a zip archive\n", fp);
    fclose(fp);
    memcpy(theta, ntk_net_params_const(net), sizeof theta);
    ntk_trainer_state_get(tr, st);
    assert_int_equal(ntk_checkpoint_load(junk, net, tr, MAX_STEP, &info), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), junk));
    assert_holds(net, tr, theta, st, 4);
    char theta_only[128];
    ntk_npz_writer *w = NULL;
    double one[P] = {0};
    size_t shP[1] = {P};
    TU_OK(ntk_npz_open(in_dir(f, "theta_only.npz", theta_only, sizeof theta_only), &w));
    TU_OK(ntk_npz_add(w, "theta", NTK_F64, 1, shP, one));
    TU_OK(ntk_npz_close(w));
    assert_int_equal(ntk_checkpoint_load(theta_only, net, tr, MAX_STEP, &info), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "no member 'opt_state'"));
    assert_holds(net, tr, theta, st, 4);
    assert_int_equal(ntk_checkpoint_load(path, net, tr, -1, &info), NTK_EINVAL);
    assert_holds(net, tr, theta, st, 4);
    ntk_trainer_free(tr);
    ntk_net_free(net);
}

static void test_read_into(void **state)
{
    fixture *f = *state;
    char path[128], want[256];
    double m[6] = {1, 2, 3, 4, 5, 6}, dst[6];
    size_t sh[2] = {2, 3};
    ntk_npz_writer *w = NULL;
    TU_OK(ntk_npz_open(in_dir(f, "m.npz", path, sizeof path), &w));
    TU_OK(ntk_npz_add(w, "M", NTK_F64, 2, sh, m));
    TU_OK(ntk_npz_close(w));
    TU_OK(ntk_npz_read_into(path, "M", 6, dst)); /* any shape: only the count matters */
    assert_memory_equal(dst, m, sizeof m);
    for (int i = 0; i < 6; i++) dst[i] = -1;
    assert_int_equal(ntk_npz_read_into(path, "M", 5, dst), NTK_EFORMAT);
    snprintf(want, sizeof want, "%s: M has 6 values, expected 5", path);
    assert_string_equal(ntk_last_error(), want);
    for (int i = 0; i < 6; i++) assert_true(dst[i] == -1);
    assert_int_equal(ntk_npz_read_into(path, "K", 6, dst), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "no member 'K'"));
    for (int i = 0; i < 6; i++) assert_true(dst[i] == -1);
}

/* The snapshot file against the independent member reader, then the loader. */
static void assert_member(const char *path, const char *name, int ndim, const size_t *shape, const double *want)
{
    ntk_array a = {0};
    if (!want) { /* left out */
        assert_int_not_equal(ntk_npz_read(path, name, &a), NTK_OK);
        return;
    }
    TU_OK(ntk_npz_read(path, name, &a));
    assert_int_equal(a.ndim, ndim);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) assert_int_equal(a.shape[i], shape[i]), count *= shape[i];
    assert_int_equal(a.count, count);
    assert_memory_equal(a.data, want, count * sizeof *want); /* stored as given, bit for bit */
    ntk_array_clear(&a);
}

static void test_snapshot_files(void **state)
{
    fixture *f = *state;
    enum { n = 4, m = 2, d = 3 };
    double K[n * n], Ke[m * n], fv[n], fe[m], Kd[n * n], Kl[d * n * n], mv[d], eg[n];
    double *all[] = {K, Ke, fv, fe, Kd, Kl, mv, eg};
    size_t len[] = {n * n, m * n, n, m, n * n, d * n * n, d, n};
    for (size_t a = 0, v = 0; a < 8; a++)
        for (size_t i = 0; i < len[a]; i++, v++) all[a][i] = 0.37 * (double)v - 1.0 / (double)(v + 3);
    ntk_train_snapshot s = {.step = 17, .loss = 0.25, .loss_eval = 1.5, .n = n, .m = m, .d = d, .K = K,
                            .K_eval = Ke, .f = fv, .f_eval = fe, .Kdot = Kd, .move = mv, .K_layers = Kl, .eigs = eg};
    char path[128], path0[128];
    TU_OK(ntk_train_snapshot_save(in_dir(f, "snap.npz", path, sizeof path), &s));
    double meta[3] = {17, 0.25, 1.5};
    assert_member(path, "meta", 1, (size_t[]){3}, meta);
    assert_member(path, "K", 2, (size_t[]){n, n}, K);
    assert_member(path, "f_train", 1, (size_t[]){n}, fv);
    assert_member(path, "eigs", 1, (size_t[]){n}, eg);
    assert_member(path, "K_eval", 2, (size_t[]){m, n}, Ke);
    assert_member(path, "f_eval", 1, (size_t[]){m}, fe);
    assert_member(path, "Kdot", 2, (size_t[]){n, n}, Kd);
    assert_member(path, "K_layers", 3, (size_t[]){d, n, n}, Kl);
    assert_member(path, "move", 1, (size_t[]){d}, mv);
    /* no eval set, no Kdot (a later snapshot), no per-layer terms: those members are absent */
    ntk_train_snapshot s0 = s;
    s0.m = 0, s0.K_eval = s0.f_eval = s0.Kdot = s0.K_layers = NULL, s0.loss_eval = NAN;
    TU_OK(ntk_train_snapshot_save(in_dir(f, "snap0.npz", path0, sizeof path0), &s0));
    assert_member(path0, "K_eval", 2, NULL, NULL);
    assert_member(path0, "f_eval", 1, NULL, NULL);
    assert_member(path0, "Kdot", 2, NULL, NULL);
    assert_member(path0, "K_layers", 3, NULL, NULL);
    assert_member(path0, "move", 1, (size_t[]){d}, mv);
    /* the loader: every buffer back bit for bit */
    double rK[n * n], rKe[m * n], rf[n], rfe[m], rKd[n * n], rKl[d * n * n], rmv[d];
    ntk_train_replay r = {.step = 17, .n = n, .m = m, .d = d, .K = rK, .K_eval = rKe, .f = rf, .f_eval = rfe,
                          .Kdot = rKd, .move = rmv, .K_layers = rKl};
    TU_OK(ntk_train_snapshot_load(path, &r));
    assert_true(r.loss == 0.25 && r.loss_eval == 1.5);
    double *got[] = {rK, rKe, rf, rfe, rKd, rKl, rmv};
    for (size_t a = 0; a < 7; a++) assert_memory_equal(got[a], all[a], len[a] * sizeof(double));
    ntk_train_replay r0 = {.n = n, .d = d, .K = rK, .f = rf, .move = rmv}; /* NULL buffers are not read */
    TU_OK(ntk_train_snapshot_load(path0, &r0));
    assert_true(r0.loss == 0.25 && isnan(r0.loss_eval));
    /* a size that does not match the file */
    double big[25];
    ntk_train_replay rb = {.n = 5, .d = d, .K = big, .f = big, .move = rmv};
    assert_int_equal(ntk_train_snapshot_load(path0, &rb), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "K has 16 values, expected 25"));
    assert_int_equal(ntk_train_snapshot_load(path0, &r), NTK_EFORMAT); /* K_eval asked for, not stored */
}

/* trajectory.npz: every member with its shape and values, the eval ones only with an eval set. */
static void test_trajectory_file(void **state)
{
    fixture *f = *state;
    enum { T = 3, n = 4, m = 2 }; /* T snapshots */
    double st[T], ls[T], dr[T], le[T], yt[n], fn[4][T * n], fm[4][T * m];
    for (int i = 0; i < T; i++) st[i] = 10.0 * i, ls[i] = 1.0 / (i + 1), dr[i] = 0.01 * i, le[i] = 2.0 + i;
    for (int i = 0; i < n; i++) yt[i] = i - 1.5;
    for (int a = 0; a < 4; a++) {
        for (int i = 0; i < T * n; i++) fn[a][i] = 0.1 * a + 0.01 * i;
        for (int i = 0; i < T * m; i++) fm[a][i] = -0.2 * a - 0.03 * i;
    }
    ntk_train_result r = {.S = T, .n = n, .m = m, .steps = st, .loss = ls, .loss_eval = le, .drift_fro = dr,
                          .y_train = yt, .f_train = fn[0], .f_lin = fn[1], .f_pert = fn[2], .f_pw = fn[3],
                          .f_eval = fm[0], .f_lin_eval = fm[1], .f_pert_eval = fm[2], .f_pw_eval = fm[3]};
    char path[128], path0[128];
    TU_OK(ntk_train_trajectory_save(in_dir(f, "trajectory.npz", path, sizeof path), &r));
    assert_member(path, "steps", 1, (size_t[]){T}, st);
    assert_member(path, "loss", 1, (size_t[]){T}, ls);
    assert_member(path, "drift_fro", 1, (size_t[]){T}, dr);
    assert_member(path, "y_train", 1, (size_t[]){n}, yt);
    assert_member(path, "loss_eval", 1, (size_t[]){T}, le);
    const char *names[4] = {"f_train", "f_lin", "f_pert", "f_pw"}, *enames[4] = {"f_eval", "f_lin_eval",
                                                                                  "f_pert_eval", "f_pw_eval"};
    for (int a = 0; a < 4; a++) {
        assert_member(path, names[a], 2, (size_t[]){T, n}, fn[a]);
        assert_member(path, enames[a], 2, (size_t[]){T, m}, fm[a]);
    }
    ntk_train_result r0 = r; /* no eval set: the eval members are absent */
    r0.m = 0, r0.f_eval = r0.f_lin_eval = r0.f_pert_eval = r0.f_pw_eval = NULL;
    TU_OK(ntk_train_trajectory_save(in_dir(f, "trajectory0.npz", path0, sizeof path0), &r0));
    assert_member(path0, "loss_eval", 1, NULL, NULL);
    for (int a = 0; a < 4; a++) assert_member(path0, enames[a], 2, NULL, NULL);
    assert_member(path0, "f_pw", 2, (size_t[]){T, n}, fn[3]);
    assert_int_equal(ntk_train_trajectory_save("", &r), NTK_EINVAL);
}

/* gd keeps no optimizer state: its checkpoint's opt_state is empty; a format-1 file (which stored
 * P unused values for gd) loads without reading them; a format-2 file with P values is refused. */
static void test_gd_state(void **state)
{
    fixture *f = *state;
    ntk_net *a = small_net(5), *b = small_net(6);
    ntk_train_opts o = ntk_train_defaults();
    o.opt = NTK_OPT_GD;
    ntk_trainer *ta = NULL, *tb = NULL;
    TU_OK(ntk_trainer_alloc(a, N, f->X, f->Y, &o, &ta));
    TU_OK(ntk_trainer_alloc(b, N, f->X, f->Y, &o, &tb));
    assert_int_equal(ntk_trainer_state_len(ta), 0);
    double L;
    for (int t = 0; t < 2; t++) TU_OK(ntk_trainer_step(ta, &L));
    ntk_checkpoint_info info = {2, 0.5, 0.75, 1}, got;
    char path[128];
    TU_OK(ntk_checkpoint_save(in_dir(f, "gd.npz", path, sizeof path), a, ta, &info));
    ntk_array arr = {0};
    TU_OK(ntk_npz_read(path, "opt_state", &arr));
    assert_int_equal(arr.ndim, 1);
    assert_int_equal(arr.shape[0], 0);
    ntk_array_clear(&arr);
    TU_OK(ntk_checkpoint_load(path, b, tb, MAX_STEP, &got));
    assert_memory_equal(ntk_net_params_const(b), ntk_net_params_const(a), P * sizeof(double));
    assert_info_equal(&got, &info);
    double La, Lb; /* and the run goes on alike */
    TU_OK(ntk_trainer_step(ta, &La));
    TU_OK(ntk_trainer_step(tb, &Lb));
    assert_memory_equal(&La, &Lb, sizeof La);
    assert_memory_equal(ntk_net_params_const(b), ntk_net_params_const(a), P * sizeof(double));
    /* format 1 with P values in opt_state: loads, the values unread */
    ck_file c = good_file();
    c.nstate = P;
    write_file(in_dir(f, "gd_v1.npz", path, sizeof path), &c);
    TU_OK(ntk_checkpoint_load(path, b, tb, MAX_STEP, &got));
    assert_int_equal(got.step, 4);
    assert_int_equal(ntk_trainer_step_count(tb), 4);
    /* format 2 with P values: refused, b untouched */
    c.format[0] = 2;
    write_file(in_dir(f, "gd_v2.npz", path, sizeof path), &c);
    double theta[P];
    memcpy(theta, ntk_net_params_const(b), sizeof theta);
    char want[256];
    snprintf(want, sizeof want, "%s: opt_state has %d values, expected 0", path, P);
    ntk_status st = ntk_checkpoint_load(path, b, tb, MAX_STEP, &got);
    if (st != NTK_EFORMAT || strcmp(ntk_last_error(), want) != 0)
        fail_msg("gd format 2: got %s '%s', expected NTK_EFORMAT '%s'", ntk_status_str(st), ntk_last_error(), want);
    assert_memory_equal(ntk_net_params_const(b), theta, sizeof theta);
    ntk_trainer_free(ta);
    ntk_trainer_free(tb);
    ntk_net_free(a);
    ntk_net_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gd_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_into, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trajectory_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
