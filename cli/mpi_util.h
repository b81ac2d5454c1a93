/* mpi_util.h -- the CLI's use of MPI (OpenMPI), shared by `ensemble` and `sweep`.  MPI is started
 * only when the process was launched by mpirun, so a plain run needs no MPI runtime; without MPI
 * support compiled in every function is the single-rank identity. */
#ifndef NTK_CLI_MPI_UTIL_H
#define NTK_CLI_MPI_UTIL_H

typedef struct {
    int rank, size; /* 0 / 1 without MPI */
} cli_mpi;

void cli_mpi_start(cli_mpi *m);
/* Every rank gets the worst (largest) status, so all stop together. */
int cli_mpi_agree(const cli_mpi *m, int rc);
/* Rank 0's bytes to every rank. */
void cli_mpi_bcast(const cli_mpi *m, void *buf, int bytes);
/* Element-wise sum over ranks, in place, on every rank. */
void cli_mpi_sum(const cli_mpi *m, double *buf, int count);
void cli_mpi_stop(const cli_mpi *m);

#endif
