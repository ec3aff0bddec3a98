// The process group of a data-parallel run (src/gan/dist/dist.h). Run alone it checks the
// single-process group and the launcher's environment; under `mpirun -np N` (tests/meson.build
// runs it with 2) every collective against what each rank can compute by itself.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "test.h"

static void check_launcher_env(void) {
    // Only when no launcher started us: the variables are the launcher's to set.
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_SIZE") || getenv("SLURM_NTASKS")) return;
    TEST_CHECK(gan_dist_launcher_size() == 1, "no launcher: %d", gan_dist_launcher_size());
    setenv("SLURM_NTASKS", "4", 1);
    TEST_CHECK(gan_dist_launcher_size() == 4, "SLURM_NTASKS=4: %d", gan_dist_launcher_size());
    setenv("SLURM_NTASKS", "4x", 1);
    TEST_CHECK(gan_dist_launcher_size() == 1, "SLURM_NTASKS=4x: %d", gan_dist_launcher_size());
    setenv("SLURM_NTASKS", "0", 1);
    TEST_CHECK(gan_dist_launcher_size() == 1, "SLURM_NTASKS=0: %d", gan_dist_launcher_size());
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    TEST_CHECK(gan_dist_launcher_size() == 3, "OMPI_COMM_WORLD_SIZE=3: %d", gan_dist_launcher_size());
#ifndef GAN_HAVE_MPI
    // A build without MPI refuses to be one of several processes, naming what to do.
    gan_err err = {0};
    gan_dist *d = gan_dist_open(&err);
    TEST_CHECK(!d && err.code == GAN_EXIT_USAGE && strstr(err.msg, "one of 3 processes") &&
                   strstr(err.msg, "without MPI"), "non-MPI build under a launcher: %s", err.msg);
    gan_dist_close(d);
#endif
    unsetenv("OMPI_COMM_WORLD_SIZE");
    unsetenv("SLURM_NTASKS");
}

int main(void) {
    check_launcher_env();
    gan_err err = {0};
    gan_dist *d = gan_dist_open(&err);
    TEST_CHECK(d != NULL, "open: %s", err.msg);
    if (!d) return test_finish();
    const int rank = gan_dist_rank(d), size = gan_dist_size(d);
    TEST_CHECK(size == gan_dist_launcher_size() && rank >= 0 && rank < size, "rank %d of %d (launcher: %d)", rank,
               size, gan_dist_launcher_size());
    printf("rank %d of %d: %s\n", rank, size, gan_dist_name(d));

    // Sums: element i of rank r holds r * 1000 + i (exact in float at these sizes).
    enum { N = 1000 };
    float f[N];
    double g[N];
    for (int i = 0; i < N; i++) f[i] = (float)(rank * 1000 + i), g[i] = rank + i * 0.25;
    TEST_CHECK(gan_dist_allreduce_sum(d, f, N, &err) == 0, "allreduce f32: %s", err.msg);
    TEST_CHECK(gan_dist_allreduce_sum_f64(d, g, N, &err) == 0, "allreduce f64: %s", err.msg);
    const double rank_sum = size * (size - 1) / 2.0;
    for (int i = 0; i < N; i++) {
        TEST_CHECK(f[i] == (float)(1000 * rank_sum + (double)size * i), "f32 sum[%d] = %g", i, f[i]);
        TEST_CHECK(g[i] == rank_sum + size * i * 0.25, "f64 sum[%d] = %g", i, g[i]);
    }

    // Broadcast from the last rank.
    char msg[64];
    snprintf(msg, sizeof msg, "from rank %d", rank);
    TEST_CHECK(gan_dist_broadcast(d, msg, sizeof msg, size - 1, &err) == 0, "broadcast: %s", err.msg);
    char want[64];
    snprintf(want, sizeof want, "from rank %d", size - 1);
    TEST_CHECK(strcmp(msg, want) == 0, "broadcast gave '%s', expected '%s'", msg, want);

    // Failure agreement: everyone fine; then the last rank (alone) fails; then every rank.
    TEST_CHECK(gan_dist_first_failed(d, true) == -1, "all ok");
    TEST_CHECK(gan_dist_first_failed(d, rank != size - 1) == size - 1, "last rank failed: %d",
               gan_dist_first_failed(d, rank != size - 1));
    TEST_CHECK(gan_dist_first_failed(d, false) == 0, "all failed");

    // Drift check: identical weights agree; a change on the last rank is found (when there is
    // more than one rank).
    float w[257];
    for (int i = 0; i < 257; i++) w[i] = 0.5f * i;
    int diff = 7;
    TEST_CHECK(gan_dist_same_everywhere(d, w, sizeof w, &diff, &err) == 0 && diff == -1, "same weights: diff %d (%s)",
               diff, err.msg);
    if (rank == size - 1 && size > 1) w[200] = 1e-30f;
    TEST_CHECK(gan_dist_same_everywhere(d, w, sizeof w, &diff, &err) == 0 && diff == (size > 1 ? size - 1 : -1),
               "changed weights: diff %d", diff);

    int failed = test_finish();
    // Every rank's verdict, so one rank's failure fails the mpirun.
    int any = gan_dist_first_failed(d, failed == 0);
    gan_dist_close(d);
    return any >= 0;
}
