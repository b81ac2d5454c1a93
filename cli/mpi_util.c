/* mpi_util.c -- see mpi_util.h. */
#include "mpi_util.h"

#include <stdlib.h>

#ifdef NTK_HAVE_MPI
#include <mpi.h>
#endif

void cli_mpi_start(cli_mpi *m)
{
    m->rank = 0;
    m->size = 1;
#ifdef NTK_HAVE_MPI
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK")) {
        MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    }
#endif
}

int cli_mpi_agree(const cli_mpi *m, int rc)
{
#ifdef NTK_HAVE_MPI
    if (m->size > 1) {
        int all = rc;
        MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        return all;
    }
#endif
    (void)m;
    return rc;
}

void cli_mpi_bcast(const cli_mpi *m, void *buf, int bytes)
{
#ifdef NTK_HAVE_MPI
    if (m->size > 1) MPI_Bcast(buf, bytes, MPI_CHAR, 0, MPI_COMM_WORLD);
#else
    (void)m;
    (void)buf;
    (void)bytes;
#endif
}

void cli_mpi_sum(const cli_mpi *m, double *buf, int count)
{
#ifdef NTK_HAVE_MPI
    if (m->size > 1) MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)m;
    (void)buf;
    (void)count;
#endif
}

void cli_mpi_stop(const cli_mpi *m)
{
#ifdef NTK_HAVE_MPI
    int init = 0;
    MPI_Initialized(&init);
    if (init && m->size >= 1) MPI_Finalize();
#else
    (void)m;
#endif
}
