/* fuzz_checkpoint.c -- train checkpoints and snapshots as `ntkdrift train --resume` reads them:
 * ntk_checkpoint_load and ntk_npz_read_into (src/dynamics/checkpoint.c, over src/io/npz.c and src/io/npy.c).
 *
 * The input is one .npz read twice over: as checkpoint.npz, by ntk_checkpoint_load into a
 * depth-2 width-4 network (n0 3, 1 output, trainable biases: P = 41 parameters) and its adam
 * trainer (state 2P) for a run of STEPS steps; and as a snapshot snap_*.npz, whose members meta,
 * K, f_train, Kdot, move and K_layers go through ntk_npz_read_into with the counts of that network
 * on n = 5 points (every member is read even after one fails, so one input covers all of them).
 * Invariants beyond fuzz_util.h's: a refused checkpoint leaves the parameters, the optimizer state
 * and step (set to a pattern no corpus file holds before each input) and the info untouched; an accepted one has a step in [0, STEPS], the step of the
 * largest loss in [0, step], and the trainer at that step.  A refused member read leaves its
 * buffer untouched. */
#include <math.h>

#include "fuzz_util.h"

enum { P = 41, L_STATE = 2 * P, N = 5, N0 = 3, D = 3, STEPS = 1000 };

static ntk_net *net;
static ntk_trainer *tr;
static double X[N * N0], Y[N];

static void teardown(void)
{
    ntk_trainer_free(tr);
    ntk_net_free(net);
}

/* The harness's network and trainer, built once (freed at exit); aborts if that fails (the
 * harness's fault, not the reader's). */
static void setup(void)
{
    int widths[2] = {4, 4};
    ntk_spec s = ntk_spec_default();
    s.depth = 2;
    s.widths = widths;
    s.n0 = N0;
    s.outputs = 1;
    for (int i = 0; i < N * N0; i++) X[i] = 0.1 * i - 0.7;
    for (int i = 0; i < N; i++) Y[i] = 0.5 - 0.2 * i;
    ntk_train_opts o = ntk_train_defaults();
    o.opt = NTK_OPT_ADAM;
    o.lr = 0.01;
    if (ntk_net_alloc(&s, &net) != NTK_OK || ntk_net_init(net, 1) != NTK_OK ||
        ntk_trainer_alloc(net, N, X, Y, &o, &tr) != NTK_OK || ntk_net_num_params(net) != P ||
        ntk_trainer_state_len(tr) != L_STATE) {
        fprintf(stderr, "fuzz_checkpoint: setup: %s\n", ntk_last_error());
        abort();
    }
    atexit(teardown);
}

static void load_checkpoint(const char *path)
{
    /* a pattern no corpus file holds, set before each input: a refused load must leave it */
    static double theta0[P], state0[L_STATE], state1[L_STATE];
    for (int i = 0; i < P; i++) theta0[i] = 12345.5 + i;
    for (int i = 0; i < L_STATE; i++) state0[i] = -6789.25 - i;
    const long step0 = 4321;
    memcpy(ntk_net_params(net), theta0, sizeof theta0);
    ntk_net_params_changed(net);
    ntk_trainer_state_set(tr, state0, step0);
    ntk_checkpoint_info info = {-7, 1.0, 2.0, -7}, info0 = info;
    ntk_status st = ntk_checkpoint_load(path, net, tr, STEPS, &info);
    ntk_trainer_state_get(tr, state1);
    if (st != NTK_OK) {
        fuzz_check_error(st, path);
        if (memcmp(theta0, ntk_net_params_const(net), sizeof theta0) || memcmp(state0, state1, sizeof state0) ||
            ntk_trainer_step_count(tr) != step0 || info.step != info0.step || info.loss0 != info0.loss0 ||
            info.loss_max != info0.loss_max || info.loss_max_step != info0.loss_max_step)
            fuzz_fail_("a refused checkpoint changed the network, the trainer or the info", st);
        return;
    }
    if (info.step < 0 || info.step > STEPS || info.loss_max_step < 0 || info.loss_max_step > info.step ||
        ntk_trainer_step_count(tr) != info.step)
        fuzz_fail_("an accepted checkpoint's step or step of the largest loss is out of range", st);
    fuzz_touch(ntk_net_params_const(net), P);
    fuzz_touch(state1, L_STATE);
}

/* A member with exactly count values (count <= N * N * D); a refused read leaves dst untouched. */
static int read_member(const char *path, const char *name, size_t count, double *dst)
{
    static double before[D * N * N];
    memcpy(before, dst, count * sizeof *dst);
    ntk_status st = ntk_npz_read_into(path, name, count, dst);
    if (st != NTK_OK) {
        fuzz_check_error(st, path);
        if (memcmp(before, dst, count * sizeof *dst)) fuzz_fail_("a refused member read changed its buffer", st);
        return 1;
    }
    fuzz_touch(dst, count);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double meta[3], K[N * N], f[N], Kdot[N * N], move[D], Kl[D * N * N];
    if (!net) setup();
    const char *path = fuzz_file(data, size, ".npz");
    load_checkpoint(path);
    /* snapshots/snap_<step>.npz (meta[0] is not converted there: the step comes from the schedule) */
    volatile int sink = 0;
    if (!read_member(path, "meta", 3, meta)) sink += meta[1] > meta[2];
    read_member(path, "K", N * N, K);
    read_member(path, "f_train", N, f);
    read_member(path, "Kdot", N * N, Kdot);
    read_member(path, "move", D, move);
    read_member(path, "K_layers", D * N * N, Kl);
    (void)sink;
    return 0;
}
