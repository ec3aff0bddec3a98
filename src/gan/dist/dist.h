// The processes of one data-parallel run (docs/distributed.md): every rank holds the whole model
// and a slice of each global batch, and the ranks sum their gradients before every optimizer
// step. This is the interface the trainer talks to; dist_mpi.c fills it with MPI (in a build
// with the `mpi` option), dist_single.c with one process. An NCCL implementation, reducing GPU
// buffers in place, would fill the same table (gan_dist_impl below).
//
//   gan_dist *d = gan_dist_open(&err);          // MPI_Init when started by mpirun or srun
//   if (!d) return -1;
//   if (gan_dist_allreduce_sum(d, grads, n, &err) != 0) ...
//   if (gan_dist_first_failed(d, ok) >= 0) ...  // every rank stops together, no rank hangs
//   gan_dist_close(d);
//
// Every call is collective: all ranks make the same calls in the same order.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct gan_dist gan_dist;

// The processes a launcher says it started, read from its environment (Open MPI's
// OMPI_COMM_WORLD_SIZE, MPICH's and Intel MPI's PMI_SIZE, Slurm's SLURM_NTASKS under srun): 1
// when there is none. A build without MPI uses it to refuse `mpirun -np 2` instead of running
// two independent copies of one run.
int gan_dist_launcher_size(void);

// Whether this build can run over several processes ("mpi"), or not ("none").
const char *gan_dist_build_backend(void);

// Joins the run's processes: MPI when the build has it and a launcher started more than one
// process, otherwise a single process of rank 0 (without calling MPI at all, so a plain
// `gan train` of an MPI build needs no launcher). NULL with err when MPI cannot start, or when a
// launcher started several processes and the build has no MPI (the message says how to build it).
gan_dist *gan_dist_open(gan_err *err);
// Leaves the run (MPI_Finalize). A rank that fails returns an error up to the CLI, which calls
// gan_dist_abort instead, so the other ranks never wait on it.
void gan_dist_close(gan_dist *d);
// Ends every rank of the run with `code`, after this rank printed its message: under Open MPI's
// mpirun by leaving without MPI_Finalize (mpirun then ends the job), elsewhere with MPI_Abort
// (dist_mpi.c says why). Does not return.
void gan_dist_abort(gan_dist *d, int code);

int gan_dist_rank(const gan_dist *d);
int gan_dist_size(const gan_dist *d);
// "single" or "mpi" (later "nccl"), with the library's version for `gan --version` and logs.
const char *gan_dist_name(const gan_dist *d);

// buf (n floats, host memory) = the sum of every rank's buf. Rank order does not change the
// result's rounding between runs: MPI's reduction order is fixed for a given size and layout.
int gan_dist_allreduce_sum(gan_dist *d, float *buf, int64_t n, gan_err *err);
// Same for doubles (statistics that must not lose precision: batchnorm's sums under sync_bn).
int gan_dist_allreduce_sum_f64(gan_dist *d, double *buf, int64_t n, gan_err *err);
// buf (bytes) on every rank = root's buf.
int gan_dist_broadcast(gan_dist *d, void *buf, int64_t bytes, int root, gan_err *err);
// Every rank says whether it can go on; returns the lowest rank that cannot, or -1 when all can.
// The trainer asks at the points where one rank may fail alone (a NaN, an I/O error) so that
// all ranks stop together with one message.
int gan_dist_first_failed(gan_dist *d, bool ok);
// Whether buf (bytes) is identical on every rank (a checksum compared across ranks): the debug
// check that the ranks' weights have not drifted apart. *first_diff gets the lowest rank whose
// checksum differs from rank 0's, or -1.
int gan_dist_same_everywhere(gan_dist *d, const void *buf, int64_t bytes, int *first_diff, gan_err *err);

// The implementation's table. Collectives return 0, or -1 with err set.
typedef struct gan_dist_impl {
    const char *name;
    int (*allreduce_f32)(gan_dist *d, float *buf, int64_t n, gan_err *err);
    int (*allreduce_f64)(gan_dist *d, double *buf, int64_t n, gan_err *err);
    int (*allreduce_min_i32)(gan_dist *d, int *buf, int64_t n, gan_err *err);
    int (*broadcast)(gan_dist *d, void *buf, int64_t bytes, int root, gan_err *err);
    void (*abort)(gan_dist *d, int code);
    void (*close)(gan_dist *d);
} gan_dist_impl;

struct gan_dist {
    const gan_dist_impl *impl;
    int rank, size;
    char name[96];
};

// The implementations (dist.c picks one).
gan_dist *gan_dist_single_open(gan_err *err);
gan_dist *gan_dist_mpi_open(gan_err *err);  // only in a build with MPI
