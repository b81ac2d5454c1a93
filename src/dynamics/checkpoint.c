/* checkpoint.c -- a training run's checkpoint (parameters, optimizer state, step, loss record) as
 * a versioned .npz; a snapshot file (what the observer saw, for replay on resume) and a run's
 * trajectory; the member reader with an exact element count that they use.  The format is documented in include/ntkdrift.h and docs/train.md. */
#include "npz.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ntk_status ntk_npz_read_into(const char *path, const char *name, size_t count, double *dst)
{
    if (!dst && count) return ntk_set_error(NTK_EINVAL, "npz_read_into: dst is NULL");
    ntk_array a = {0};
    ntk_status st = ntk_npz_read(path, name, &a);
    if (st != NTK_OK) return st;
    if (a.count != count) {
        st = ntk_set_error(NTK_EFORMAT, "%s: %s has %zu values, expected %zu", path, name, a.count, count);
        ntk_array_clear(&a);
        return st;
    }
    if (count) memcpy(dst, a.data, count * sizeof *dst);
    ntk_array_clear(&a);
    return NTK_OK;
}

ntk_status ntk_checkpoint_save(const char *path, const ntk_net *net, const ntk_trainer *tr,
                               const ntk_checkpoint_info *info)
{
    if (!path || !*path || !net || !tr || !info)
        return ntk_set_error(NTK_EINVAL, "checkpoint_save: empty path, or a NULL net, trainer or info");
    size_t P = ntk_net_num_params(net), S = ntk_trainer_state_len(tr);
    double *state = malloc((S ? S : 1) * sizeof *state);
    if (!state) return ntk_set_error(NTK_ENOMEM, "%s: cannot allocate the optimizer state (%zu values)", path, S);
    ntk_trainer_state_get(tr, state);
    double format[1] = {NTK_CHECKPOINT_FORMAT}, step[1] = {(double)info->step},
           losses[3] = {info->loss0, info->loss_max, (double)info->loss_max_step};
    size_t shP[1] = {P}, shS[1] = {S}, sh1[1] = {1}, sh3[1] = {3};
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    if (st == NTK_OK) st = ntk_npz_add(w, "format", NTK_F64, 1, sh1, format);
    if (st == NTK_OK) st = ntk_npz_add(w, "theta", NTK_F64, 1, shP, ntk_net_params_const(net));
    if (st == NTK_OK) st = ntk_npz_add(w, "opt_state", NTK_F64, 1, shS, state);
    if (st == NTK_OK) st = ntk_npz_add(w, "step", NTK_F64, 1, sh1, step);
    if (st == NTK_OK) st = ntk_npz_add(w, "losses", NTK_F64, 1, sh3, losses);
    if (st == NTK_OK) st = ntk_npz_close(w);
    else if (w) ntk_npz_abort(w);
    free(state);
    return st;
}

/* The format member: absent is format 1 (checkpoints written before it existed); present, it must
 * be one value, 1 or NTK_CHECKPOINT_FORMAT (2).  *fmt: the format read. */
static ntk_status check_format(const char *path, int *fmt)
{
    bool has = false;
    *fmt = 1;
    ntk_status st = npz_has_member(path, "format", &has);
    if (st != NTK_OK || !has) return st;
    double v;
    if ((st = ntk_npz_read_into(path, "format", 1, &v)) != NTK_OK) return st;
    if (v != 1 && v != NTK_CHECKPOINT_FORMAT)
        return ntk_set_error(NTK_EFORMAT, "%s: format %g is not a checkpoint format this version reads (1 or %d)", path,
                             v, NTK_CHECKPOINT_FORMAT);
    *fmt = (int)v;
    return NTK_OK;
}

ntk_status ntk_checkpoint_load(const char *path, ntk_net *net, ntk_trainer *tr, long max_step,
                               ntk_checkpoint_info *info)
{
    if (!path || !*path || !net || !tr || !info)
        return ntk_set_error(NTK_EINVAL, "checkpoint_load: empty path, or a NULL net, trainer or info");
    if (max_step < 0) return ntk_set_error(NTK_EINVAL, "checkpoint_load: max_step %ld < 0", max_step);
    size_t P = ntk_net_num_params(net), S = ntk_trainer_state_len(tr);
    double *theta = malloc(P * sizeof *theta), *state = malloc((S ? S : 1) * sizeof *state), step, losses[3];
    ntk_status st = theta && state ? NTK_OK
                                   : ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu parameters and %zu "
                                                               "optimizer values", path, P, S);
    int fmt = 1;
    if (st == NTK_OK) st = check_format(path, &fmt);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "theta", P, theta);
    /* format 1 stored P unused zeros for gd and sgd (S = 0): there the member is not read */
    if (st == NTK_OK && (S > 0 || fmt >= 2)) st = ntk_npz_read_into(path, "opt_state", S, state);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "step", 1, &step);
    if (st == NTK_OK) st = ntk_npz_read_into(path, "losses", 3, losses);
    /* whole steps of the run, and finite (NaN fails every comparison): then the casts are defined */
    if (st == NTK_OK && !(step >= 0 && step <= (double)max_step && step == floor(step)))
        st = ntk_set_error(NTK_EFORMAT, "%s: step %g is not a step of this run (0..%ld)", path, step, max_step);
    if (st == NTK_OK && !(losses[2] >= 0 && losses[2] <= step && losses[2] == floor(losses[2])))
        st = ntk_set_error(NTK_EFORMAT, "%s: losses[2] (step of the largest loss) %g is not a step in 0..%g", path,
                           losses[2], step);
    if (st == NTK_OK) {
        memcpy(ntk_net_params(net), theta, P * sizeof *theta);
        ntk_net_params_changed(net);
        ntk_trainer_state_set(tr, state, (long)step);
        info->step = (long)step;
        info->loss0 = losses[0];
        info->loss_max = losses[1];
        info->loss_max_step = (long)losses[2];
    }
    free(theta);
    free(state);
    return st;
}

/* One float64 member of the run files below (data NULL: not stored). */
typedef struct {
    const char *name;
    int ndim;
    size_t shape[3];
    const double *data;
} f64_member;

static ntk_status write_members(const char *path, const f64_member *mb, size_t n)
{
    ntk_npz_writer *w = NULL;
    ntk_status st = ntk_npz_open(path, &w);
    for (size_t i = 0; st == NTK_OK && i < n; i++)
        if (mb[i].data) st = ntk_npz_add(w, mb[i].name, NTK_F64, mb[i].ndim, mb[i].shape, mb[i].data);
    if (st == NTK_OK) return ntk_npz_close(w);
    if (w) ntk_npz_abort(w);
    return st;
}

ntk_status ntk_train_snapshot_save(const char *path, const ntk_train_snapshot *s)
{
    if (!path || !*path || !s) return ntk_set_error(NTK_EINVAL, "train_snapshot_save: empty path or NULL snapshot");
    double meta[3] = {(double)s->step, s->loss, s->loss_eval};
    size_t n = s->n, m = s->m, d = (size_t)s->d;
    const f64_member mb[] = {{"meta", 1, {3}, meta},           {"K", 2, {n, n}, s->K},
                             {"f_train", 1, {n}, s->f},        {"eigs", 1, {n}, s->eigs},
                             {"K_eval", 2, {m, n}, s->K_eval}, {"f_eval", 1, {m}, s->f_eval},
                             {"Kdot", 2, {n, n}, s->Kdot},     {"K_layers", 3, {d, n, n}, s->K_layers},
                             {"move", 1, {d}, s->move},        {"f_nth", 1, {n}, s->f_nth},
                             {"K_nth", 2, {n, n}, s->K_nth},   {"f_nth_eval", 1, {m}, s->f_nth_eval},
                             {"K_nth_eval", 2, {m, n}, s->K_nth_eval}};
    return write_members(path, mb, sizeof mb / sizeof mb[0]);
}

ntk_status ntk_train_trajectory_save(const char *path, const ntk_train_result *t)
{
    if (!path || !*path || !t) return ntk_set_error(NTK_EINVAL, "train_trajectory_save: empty path or NULL result");
    size_t S = t->S, n = t->n, m = t->m;
    const f64_member tm[] = {{"steps", 1, {S}, t->steps},       {"loss", 1, {S}, t->loss},
                             {"drift_fro", 1, {S}, t->drift_fro}, {"f_train", 2, {S, n}, t->f_train},
                             {"y_train", 1, {n}, t->y_train},   {"f_lin", 2, {S, n}, t->f_lin},
                             {"f_pert", 2, {S, n}, t->f_pert},  {"f_pw", 2, {S, n}, t->f_pw},
                             {"loss_eval", 1, {S}, m ? t->loss_eval : NULL}, {"f_eval", 2, {S, m}, t->f_eval},
                             {"f_lin_eval", 2, {S, m}, t->f_lin_eval}, {"f_pert_eval", 2, {S, m}, t->f_pert_eval},
                             {"f_pw_eval", 2, {S, m}, t->f_pw_eval}};
    return write_members(path, tm, sizeof tm / sizeof tm[0]);
}

ntk_status ntk_train_snapshot_load(const char *path, ntk_train_replay *r)
{
    if (!path || !*path || !r) return ntk_set_error(NTK_EINVAL, "train_snapshot_load: empty path or NULL replay");
    double meta[3];
    size_t n = r->n, m = r->m, d = (size_t)r->d;
    const struct {
        const char *name;
        size_t count;
        double *dst; /* NULL: not read */
    } mb[] = {{"meta", 3, meta},           {"K", n * n, r->K},        {"f_train", n, r->f},
              {"K_eval", m * n, r->K_eval}, {"f_eval", m, r->f_eval}, {"Kdot", n * n, r->Kdot},
              {"move", d, r->move},         {"K_layers", d * n * n, r->K_layers}};
    ntk_status st = NTK_OK;
    for (size_t i = 0; st == NTK_OK && i < sizeof mb / sizeof mb[0]; i++)
        if (mb[i].dst) st = ntk_npz_read_into(path, mb[i].name, mb[i].count, mb[i].dst);
    if (st != NTK_OK) return st;
    r->loss = meta[1];
    r->loss_eval = meta[2];
    return NTK_OK;
}
