// .npy files (io/npy.c): the input is a .npy file, read as `gan sample --z` reads latents
// (float32 only, from a path) and as an .npz member is read (float32 or float64, from a stream).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[GAN_PATH_MAX];
    fuzz_write("z.npy", data, size, path);
    gan_err err;
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    float *z;
    if (gan_npy_read_f32(path, &ndim, shape, &z, &err) == 0) free(z);

    static uint8_t empty[1];  // fmemopen takes no empty buffer; the reader reads none of it
    FILE *f = fmemopen(size ? (void *)data : empty, size ? size : 1, "rb");
    if (!f) fuzz_fail("fmemopen");
    static const char *const floats[] = {"<f4", "<f8", NULL};
    char descr[NPY_DESCR_MAX];
    void *raw;
    if (gan_npy_read_stream(f, "member.npy", size, floats, "'<f4' or '<f8'", descr, &ndim, shape, &raw, &err) == 0)
        free(raw);
    fclose(f);
    return 0;
}
