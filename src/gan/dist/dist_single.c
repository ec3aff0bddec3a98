// One process: rank 0 of 1. The collectives are never called (dist.c answers them for a size
// of 1); they are here so the table is whole.
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dist.h"

static int single_allreduce_f32(gan_dist *d, float *buf, int64_t n, gan_err *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return 0;
}
static int single_allreduce_f64(gan_dist *d, double *buf, int64_t n, gan_err *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return 0;
}
static int single_allreduce_min_i32(gan_dist *d, int *buf, int64_t n, gan_err *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return 0;
}
static int single_broadcast(gan_dist *d, void *buf, int64_t bytes, int root, gan_err *err) {
    (void)d, (void)buf, (void)bytes, (void)root, (void)err;
    return 0;
}
static void single_abort(gan_dist *d, int code) {
    free(d);
    exit(code);
}
static void single_close(gan_dist *d) { free(d); }

static const gan_dist_impl single_impl = {
    .name = "single",
    .allreduce_f32 = single_allreduce_f32,
    .allreduce_f64 = single_allreduce_f64,
    .allreduce_min_i32 = single_allreduce_min_i32,
    .broadcast = single_broadcast,
    .abort = single_abort,
    .close = single_close,
};

gan_dist *gan_dist_single_open(gan_err *err) {
    (void)err;
    gan_dist *d = gan_xcalloc(1, sizeof *d, "the process group");
    *d = (gan_dist){.impl = &single_impl, .rank = 0, .size = 1};
    strcpy(d->name, "single process");
    return d;
}
