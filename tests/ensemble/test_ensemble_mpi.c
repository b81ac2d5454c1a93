/* test_ensemble_mpi.c -- ntk_ensemble_cell and ntk_dist across MPI ranks (ctest ensemble_mpi runs it
 * under mpirun -np 2; registered when the library is built with MPI and mpiexec is found).
 *
 * On every rank: the cell with members dealt to the ranks (o.dist) is bit-identical to the same cell
 * computed by this process alone (o.dist NULL), samples, per-layer terms and statistics; both ranks
 * hold all of it.  ntk_dist_sum adds the ranks' values, ntk_dist_bcast gives rank 0's bytes,
 * ntk_dist_agree the largest code, and a failure on one rank fails the cell on every rank.  Exits 1
 * on any mismatch, and when it is not run on exactly 2 ranks (a single-rank run would prove nothing). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ntkdrift.h"

static int fails = 0;
static void check(int ok, int rank, const char *what)
{
    if (!ok) {
        fprintf(stderr, "rank %d: FAIL %s (%s)\n", rank, what, ntk_last_error());
        fails++;
    }
}

int main(void)
{
    ntk_dist d;
    if (ntk_dist_start(&d) != NTK_OK || d.size != 2 || !d.started) {
        fprintf(stderr, "test_ensemble_mpi: needs mpirun -np 2 (rank %d of %d, MPI started %d): %s\n", d.rank, d.size,
                d.started, ntk_last_error());
        ntk_dist_stop(&d);
        return 1;
    }
    int w[3] = {12, 12, 12};
    ntk_spec s = ntk_spec_default();
    s.depth = 3, s.widths = w, s.n0 = 5;
    double x[5], xp[5];
    check(ntk_ensemble_probes(3, 5, 1, 60, x, xp) == NTK_OK, d.rank, "probes");
    ntk_ensemble_opts o = ntk_ensemble_defaults();
    o.members = 97, o.x = x, o.xp = xp, o.seed = 8, o.threads = 1;
    ntk_ensemble_samples a, b;
    ntk_ensemble_stats sa, sb;
    check(ntk_ensemble_samples_alloc(&a, o.members, s.depth) == NTK_OK, d.rank, "alloc");
    check(ntk_ensemble_samples_alloc(&b, o.members, s.depth) == NTK_OK, d.rank, "alloc");
    check(ntk_ensemble_cell(&s, &o, 2, &a, &sa) == NTK_OK, d.rank, "cell alone");
    o.dist = &d;
    check(ntk_ensemble_cell(&s, &o, 2, &b, &sb) == NTK_OK, d.rank, "cell over 2 ranks");
    for (int k = 0; k < NTK_ENS_NQ; k++)
        check(memcmp(a.q[k], b.q[k], o.members * sizeof(double)) == 0, d.rank, ntk_ensemble_q_name((ntk_ensemble_q)k));
    check(memcmp(a.layers, b.layers, o.members * 4 * sizeof(double)) == 0, d.rank, "K_layers");
    sa.seconds = sb.seconds = 0;
    check(memcmp(&sa, &sb, sizeof sa) == 0, d.rank, "statistics");

    double v[2] = {1.0 + d.rank, -0.5 * d.rank};
    check(ntk_dist_sum(&d, v, 2) == NTK_OK && v[0] == 3.0 && v[1] == -0.5, d.rank, "sum");
    char msg[8];
    snprintf(msg, sizeof msg, "rank%d", d.rank);
    check(ntk_dist_bcast(&d, msg, sizeof msg) == NTK_OK && strcmp(msg, "rank0") == 0, d.rank, "bcast");
    check(ntk_dist_agree(&d, d.rank == 1 ? 2 : 0) == 2, d.rank, "agree");
    /* one rank's bad options (rank 1: samples for fewer members) fail the cell on both ranks, with
     * no rank left waiting */
    ntk_ensemble_opts bad = o;
    if (d.rank == 1) bad.members = o.members + 1;
    ntk_status st = ntk_ensemble_cell(&s, &bad, 2, &b, NULL);
    check(st == NTK_EINVAL, d.rank, "one rank's bad options fail every rank");
    check(d.rank == 1 || strstr(ntk_last_error(), "another rank") != NULL, d.rank, "rank 0's message names the other rank");
    ntk_dist_stop(&d);
    ntk_ensemble_samples_clear(&a);
    ntk_ensemble_samples_clear(&b);
    if (fails == 0 && d.rank == 0) printf("test_ensemble_mpi: 2 ranks bit-identical to one process\n");
    return fails ? 1 : 0;
}
