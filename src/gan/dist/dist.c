#include "dist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int gan_dist_launcher_size(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (!v || !*v) continue;
        char *end;
        long n = strtol(v, &end, 10);
        if (*end == '\0' && n >= 1 && n <= INT32_MAX) return (int)n;
    }
    return 1;
}

const char *gan_dist_build_backend(void) {
#ifdef GAN_HAVE_MPI
    return "mpi";
#else
    return "none";
#endif
}

gan_dist *gan_dist_open(gan_err *err) {
    const int launched = gan_dist_launcher_size();
    if (launched <= 1) return gan_dist_single_open(err);
#ifdef GAN_HAVE_MPI
    return gan_dist_mpi_open(err);
#else
    gan_errf(err, GAN_EXIT_USAGE,
             "started as one of %d processes (mpirun or srun), but this gan was built without MPI, so each "
             "process would train alone; install libopenmpi-dev and rebuild (meson option mpi), or run one process",
             launched);
    return NULL;
#endif
}

void gan_dist_close(gan_dist *d) {
    if (d) d->impl->close(d);
}

void gan_dist_abort(gan_dist *d, int code) { d->impl->abort(d, code); }

int gan_dist_rank(const gan_dist *d) { return d->rank; }
int gan_dist_size(const gan_dist *d) { return d->size; }
const char *gan_dist_name(const gan_dist *d) { return d->name; }

int gan_dist_allreduce_sum(gan_dist *d, float *buf, int64_t n, gan_err *err) {
    return d->size == 1 ? 0 : d->impl->allreduce_f32(d, buf, n, err);
}

int gan_dist_allreduce_sum_f64(gan_dist *d, double *buf, int64_t n, gan_err *err) {
    return d->size == 1 ? 0 : d->impl->allreduce_f64(d, buf, n, err);
}

int gan_dist_broadcast(gan_dist *d, void *buf, int64_t bytes, int root, gan_err *err) {
    return d->size == 1 ? 0 : d->impl->broadcast(d, buf, bytes, root, err);
}

int gan_dist_first_failed(gan_dist *d, bool ok) {
    if (d->size == 1) return ok ? -1 : 0;
    // The minimum over ranks of (ok ? size : rank) is the lowest failing rank, or size.
    int v = ok ? d->size : d->rank;
    gan_err err;
    if (d->impl->allreduce_min_i32(d, &v, 1, &err) != 0) return d->rank;  // the collective itself failed
    return v < d->size ? v : -1;
}

// FNV-1a over the bytes, 64 bits: a drift check, not a cryptographic one.
static uint64_t fnv1a(const void *buf, int64_t bytes) {
    const unsigned char *p = buf;
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; i < bytes; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

int gan_dist_same_everywhere(gan_dist *d, const void *buf, int64_t bytes, int *first_diff, gan_err *err) {
    *first_diff = -1;
    if (d->size == 1) return 0;
    uint64_t mine = fnv1a(buf, bytes), root = mine;
    if (gan_dist_broadcast(d, &root, sizeof root, 0, err) != 0) return -1;
    int v = mine == root ? d->size : d->rank;
    if (d->impl->allreduce_min_i32(d, &v, 1, err) != 0) return -1;
    if (v < d->size) *first_diff = v;
    return 0;
}
