// The run's processes over MPI. Every collective works on a duplicate of MPI_COMM_WORLD whose
// error handler returns errors (MPI's default aborts), so a failed call becomes a gan_err that
// names the call and MPI's reason. Buffers larger than an int's count go in chunks.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "dist.h"

typedef struct mpi_dist {
    gan_dist base;  // first: a gan_dist * is a mpi_dist *
    MPI_Comm comm;
} mpi_dist;

static MPI_Comm comm_of(gan_dist *d) { return ((mpi_dist *)d)->comm; }

static int mpi_fail(gan_err *err, const char *what, int rc) {
    char reason[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, reason, &len) != MPI_SUCCESS) snprintf(reason, sizeof reason, "MPI error %d", rc);
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s failed: %s", what, reason);
}

enum { CHUNK = 1 << 28 };  // elements per call, within an int count

static int allreduce(gan_dist *d, void *buf, int64_t n, size_t elem, MPI_Datatype type, MPI_Op op, gan_err *err) {
    for (int64_t at = 0; at < n; at += CHUNK) {
        int count = (int)(n - at < CHUNK ? n - at : CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * (int64_t)elem, count, type, op, comm_of(d));
        if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return 0;
}

static int mpi_allreduce_f32(gan_dist *d, float *buf, int64_t n, gan_err *err) {
    return allreduce(d, buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM, err);
}
static int mpi_allreduce_f64(gan_dist *d, double *buf, int64_t n, gan_err *err) {
    return allreduce(d, buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM, err);
}
static int mpi_allreduce_min_i32(gan_dist *d, int *buf, int64_t n, gan_err *err) {
    return allreduce(d, buf, n, sizeof *buf, MPI_INT, MPI_MIN, err);
}

static int mpi_broadcast(gan_dist *d, void *buf, int64_t bytes, int root, gan_err *err) {
    for (int64_t at = 0; at < bytes; at += CHUNK) {
        int count = (int)(bytes - at < CHUNK ? bytes - at : CHUNK);
        int rc = MPI_Bcast((char *)buf + at, count, MPI_BYTE, root, comm_of(d));
        if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Bcast", rc);
    }
    return 0;
}

// Under Open MPI's mpirun a process that exits without MPI_Finalize ends the whole job, and
// mpirun exits with its status: that is how a rank stops the run there. MPI_Abort is not used
// under mpirun because Debian 12's Open MPI 4.1.4 mpirun crashed (a segmentation fault in its
// help-message code, exit 139) whenever a rank called it. Other launchers (srun, MPICH's
// hydra) may leave the other processes running when one exits: there MPI_Abort ends them.
static void mpi_abort(gan_dist *d, int code) {
    fflush(stdout);
    fflush(stderr);
    if (getenv("OMPI_COMM_WORLD_SIZE") && !getenv("SLURM_JOB_ID")) _exit(code);
    MPI_Abort(comm_of(d), code);
    _exit(code);  // MPI_Abort does not return; this keeps the compiler's view simple
}

// Every rank leaves together: what a rank printed before closing is out before any rank exits
// (a non-zero exit makes mpirun end the rest; MPI_Finalize need not synchronise).
static void mpi_close(gan_dist *d) {
    mpi_dist *m = (mpi_dist *)d;
    MPI_Barrier(m->comm);
    MPI_Comm_free(&m->comm);
    MPI_Finalize();
    free(m);
}

static const gan_dist_impl mpi_impl = {
    .name = "mpi",
    .allreduce_f32 = mpi_allreduce_f32,
    .allreduce_f64 = mpi_allreduce_f64,
    .allreduce_min_i32 = mpi_allreduce_min_i32,
    .broadcast = mpi_broadcast,
    .abort = mpi_abort,
    .close = mpi_close,
};

gan_dist *gan_dist_mpi_open(gan_err *err) {
    // Only the main thread calls MPI; the backend's OpenMP threads never do.
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) {
        gan_errf(err, GAN_EXIT_RUNTIME, "MPI_Init_thread failed (error %d): is this process started by mpirun or srun?",
                 rc);
        return NULL;
    }
    mpi_dist *m = gan_xcalloc(1, sizeof *m, "the MPI process group");
    m->base.impl = &mpi_impl;
    MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(m->comm, &m->base.rank);
    MPI_Comm_size(m->comm, &m->base.size);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0';  // "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4"
    lib[48] = '\0';                    // a name, not a banner
    snprintf(m->base.name, sizeof m->base.name, "mpi (%.48s), %d processes", lib, m->base.size);
    return &m->base;
}
