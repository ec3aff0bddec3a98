// NumPy .npz archives (a zip of .npy files), read-only: the statistics files pytorch-fid writes
// (numpy.savez_compressed(path, mu=..., sigma=...)). Members stored or deflated are read; zip64
// archives (members over 4 GB) are not.
#pragma once
#include <stdint.h>

#include "error.h"
#include "npy.h"

// Member `name` (without ".npy") of the archive, a float32 or float64 C-order array, as doubles:
// *ndim and shape get its shape, *data a malloc'd copy (the caller frees it). A missing member,
// another dtype or a damaged archive is an error naming the file and the member.
int gan_npz_read_f64(const char *path, const char *name, int *ndim, int64_t shape[GAN_NPY_MAX_DIMS], double **data,
                     gan_err *err);
