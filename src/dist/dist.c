/* dist.c -- work distribution over MPI ranks (OpenMPI or any MPI; compiled with NTK_HAVE_MPI when
 * CMake finds MPI).  Without MPI every function is the single-rank identity, so the header and the
 * ABI do not depend on the build.  MPI is started only when the process was launched by mpirun or
 * srun, so a plain run needs no MPI runtime.  Communication errors come back as NTK_EIO (the
 * communicator's error handler is set to return them when this module started MPI). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <limits.h>
#include <stdlib.h>

#ifdef NTK_HAVE_MPI
#include <mpi.h>
#endif

int ntk_dist_have_mpi(void)
{
#ifdef NTK_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef NTK_HAVE_MPI
static ntk_status mpi_fail(const char *what, int code)
{
    char s[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(code, s, &len);
    return ntk_set_error(NTK_EIO, "dist: %s failed: %s", what, s);
}
#endif

ntk_status ntk_dist_start(ntk_dist *d)
{
    if (!d) return ntk_set_error(NTK_EINVAL, "dist_start: need a ntk_dist");
    d->rank = 0;
    d->size = 1;
    d->started = 0;
#ifdef NTK_HAVE_MPI
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
        if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) return NTK_OK;
        int rc = MPI_Init(NULL, NULL);
        if (rc != MPI_SUCCESS) return mpi_fail("MPI_Init", rc);
        d->started = 1;
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
#endif
    return NTK_OK;
}

ntk_status ntk_dist_stop(ntk_dist *d)
{
    if (!d) return NTK_OK;
    ntk_status st = NTK_OK;
#ifdef NTK_HAVE_MPI
    if (d->started) {
        int rc = MPI_Finalize();
        if (rc != MPI_SUCCESS) st = mpi_fail("MPI_Finalize", rc);
    }
#endif
    d->rank = 0;
    d->size = 1;
    d->started = 0;
    return st;
}

int ntk_dist_agree(const ntk_dist *d, int code)
{
#ifdef NTK_HAVE_MPI
    if (d && d->size > 1) {
        int all = code;
        int rc = MPI_Allreduce(&code, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            mpi_fail("MPI_Allreduce", rc);
            return code > 1 ? code : 1; /* a failure, whatever the codes mean */
        }
        return all;
    }
#endif
    (void)d;
    return code;
}

ntk_status ntk_dist_bcast(const ntk_dist *d, void *buf, size_t bytes)
{
    if (bytes > 0 && !buf) return ntk_set_error(NTK_EINVAL, "dist_bcast: need a buffer");
#ifdef NTK_HAVE_MPI
    if (d && d->size > 1) {
        for (size_t off = 0; off < bytes;) { /* MPI counts are int: INT_MAX bytes at a time */
            size_t n = bytes - off < (size_t)INT_MAX ? bytes - off : (size_t)INT_MAX;
            int rc = MPI_Bcast((char *)buf + off, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD);
            if (rc != MPI_SUCCESS) return mpi_fail("MPI_Bcast", rc);
            off += n;
        }
    }
#else
    (void)d;
#endif
    return NTK_OK;
}

ntk_status ntk_dist_sum(const ntk_dist *d, double *buf, size_t count)
{
    if (count > 0 && !buf) return ntk_set_error(NTK_EINVAL, "dist_sum: need a buffer");
#ifdef NTK_HAVE_MPI
    if (d && d->size > 1) {
        for (size_t off = 0; off < count;) {
            size_t n = count - off < (size_t)INT_MAX ? count - off : (size_t)INT_MAX;
            int rc = MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            if (rc != MPI_SUCCESS) return mpi_fail("MPI_Allreduce", rc);
            off += n;
        }
    }
#else
    (void)d;
#endif
    return NTK_OK;
}
