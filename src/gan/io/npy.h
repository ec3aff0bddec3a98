// NumPy .npy files of float32, the exchange format for latents, samples and fixtures:
// numpy.save(path, x.astype(numpy.float32)) on one side, gan_npy_read_f32 on the other.
//
// Only little-endian float32 ('<f4') in C order is read or written. Reading accepts format
// versions 1.0 and 2.0 (2.0 differs only in a 4-byte header length). Writing produces version 1.0
// byte for byte as numpy.save does (same header text, padding and 64-byte alignment): with at
// most GAN_NPY_MAX_DIMS dimensions the header is a few hundred bytes, so 1.0 always fits.
//
// Reading is strict: a file with bytes after the data is rejected, because it most often means
// the header's shape is not the array's (numpy.load would silently ignore them). Every rejection
// returns -1 with err naming the file, what was found and what was expected.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "error.h"

#define GAN_NPY_MAX_DIMS 8

// Writes data, C order with the given shape (ndim 0..GAN_NPY_MAX_DIMS; 0 = a scalar of one
// element; dims >= 0; data may be NULL when a dim is 0), atomically: temp file + rename, so a
// failed write leaves any previous file at path as it was.
int gan_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data,
                      gan_err *err);

// Reads a '<f4' C-order array: *ndim and shape[0..*ndim) get its shape, *data a malloc'd copy of
// its elements (never NULL on success, even for zero elements; the caller frees it). On failure
// the outputs are left untouched.
int gan_npy_read_f32(const char *path, int *ndim, int64_t shape[GAN_NPY_MAX_DIMS], float **data,
                     gan_err *err);

// The reader itself, over any stream of `size` bytes (a .npy member of an .npz archive, through
// fmemopen): the dtype must be one of `accept` (a NULL-terminated list of descrs such as "<f8";
// `accept_text` says them in messages), and descr gets the one found; *data gets the raw
// elements. `path` names the bytes in messages.
#define NPY_DESCR_MAX 64
int gan_npy_read_stream(FILE *f, const char *path, size_t size, const char *const *accept, const char *accept_text,
                        char descr[NPY_DESCR_MAX], int *ndim, int64_t *shape, void **data, gan_err *err);
