// .npz archives (io/npz.c): the input is a zip archive such as numpy.savez_compressed writes
// (pytorch-fid's statistics files, `gan eval --ref STATS.npz`); both of its arrays are read.
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[GAN_PATH_MAX];
    fuzz_write("stats.npz", data, size, path);
    gan_err err;
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    double *x;
    if (gan_npz_read_f64(path, "mu", &ndim, shape, &x, &err) == 0) free(x);
    if (gan_npz_read_f64(path, "sigma", &ndim, shape, &x, &err) == 0) free(x);
    return 0;
}
