/* fuzz_checkpoint.c -- train checkpoints and snapshots as `ntkdrift train --resume` reads them
 * (cli/cmd_train.c: resume_state / read_member, over src/npz.c and src/npy.c).
 *
 * The input is one .npz read twice over: as checkpoint.npz (members theta, opt_state, step,
 * losses) and as a snapshot snap_*.npz (meta, K, f_train, Kdot, move, K_layers), each member
 * through a copy of read_member: ntk_npz_read, then the element count must equal what the run's
 * configuration expects before the values are copied into fixed-size buffers.  The sizes are
 * those of a depth-2 width-4 network (n0 3, 1 output, trainable biases: P = 41 parameters,
 * adam state 2P) on n = 5 points.  Unlike resume_state, every member is read even after one
 * fails, so one input covers all of them.  step and losses[2] then go through resume_state's own
 * checks (whole steps of a run of STEPS steps) and its casts to long. */
#include <math.h>

#include "config.h"
#include "fuzz_util.h"

enum { P = 41, L_STATE = 2 * P, N = 5, D = 3, STEPS = 1000 };

/* A copy of cli/cmd_train.c read_member (which is static there). */
static int read_member(const char *path, const char *name, size_t count, double *dst)
{
    ntk_array a = {0};
    ntk_status st = ntk_npz_read(path, name, &a);
    fuzz_check_array(st, &a, path);
    if (st != NTK_OK) {
        cli_errorf("resume: %s", ntk_last_error());
        return CLI_EXIT_USAGE;
    }
    if (a.count != count) {
        ntk_array_free(&a);
        cli_errorf("resume: %s: %s has %zu values, expected %zu (a different configuration?)", path, name,
                   a.count, count);
        return CLI_EXIT_USAGE;
    }
    memcpy(dst, a.data, count * sizeof *dst);
    ntk_array_free(&a);
    return 0;
}

/* resume_state's checks of the checkpoint's step and losses[2], then its casts; -1 if refused. */
static long resume_step(const double *meta, const double *losses, long *loss_max_step)
{
    if (!(meta[0] >= 0 && meta[0] <= (double)STEPS && meta[0] == floor(meta[0]))) return -1;
    if (!(losses[2] >= 0 && losses[2] <= meta[0] && losses[2] == floor(losses[2]))) return -1;
    *loss_max_step = (long)losses[2];
    return (long)meta[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static double theta[P], state[L_STATE], meta[3], losses[3], K[N * N], f[N], Kdot[N * N], move[D],
        Kl[D * N * N];
    const char *path = fuzz_file(data, size, ".npz");
    volatile long sink = 0;
    /* checkpoint.npz */
    read_member(path, "theta", P, theta);
    read_member(path, "opt_state", L_STATE, state);
    int bad = read_member(path, "step", 1, meta);
    bad |= read_member(path, "losses", 3, losses);
    if (!bad) {
        long loss_max_step = 0;
        sink += resume_step(meta, losses, &loss_max_step) + loss_max_step;
    }
    /* snapshots/snap_<step>.npz (meta[0] is not converted there: the step comes from the schedule) */
    if (!read_member(path, "meta", 3, meta)) sink += meta[1] > meta[2];
    read_member(path, "K", N * N, K);
    read_member(path, "f_train", N, f);
    read_member(path, "Kdot", N * N, Kdot);
    read_member(path, "move", D, move);
    read_member(path, "K_layers", D * N * N, Kl);
    (void)sink;
    return 0;
}
