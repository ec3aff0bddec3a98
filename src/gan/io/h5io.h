// Thin checked helpers over the HDF5 C API. Every HDF5 call is checked; HDF5's own printing of
// its error stack is switched off (for the calling thread, on every entry) and a failure comes
// back as a gan_err naming the file and the object path ("runs/a/ckpt.h5:/G/main.0.weight: ...")
// with HDF5's innermost reason appended. A checksum failure on read, in data (Fletcher32) or in
// metadata, reads "checksum mismatch in <file>:<object> (the file is corrupted)".
//
// Files are written in the HDF5 1.10 format (readable by HDF5 >= 1.10, i.e. any h5py of the last
// years): its metadata carries checksums, and every float and int64 array dataset is chunked
// (one chunk per dataset, or chunks of at most GAN_H5_CHUNK_MAX_BYTES) with the Fletcher32
// filter, so damaged data is detected when read. Scalar int64 datasets are stored compact, inside
// their checksummed object header. Groups remember creation order, so h5py lists a group's
// datasets in the order they were written (a state_dict's order), not alphabetically.
//
// Object paths are absolute ("/G/main.0.weight"); dots in names are fine, '/' separates groups.
#pragma once
#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "fsutil.h"
#include "shape.h"
#include "tensor.h"

// Larger datasets are split into chunks of at most this many bytes (each with its own checksum).
#define GAN_H5_CHUNK_MAX_BYTES ((int64_t)4 << 20)

typedef struct gan_h5 {
    hid_t id;                 // the open file; H5I_INVALID_HID once closed
    char path[GAN_PATH_MAX];  // named in every message
} gan_h5;

typedef enum gan_h5_class { GAN_H5_FLOAT, GAN_H5_INT, GAN_H5_STRING, GAN_H5_OTHER } gan_h5_class;

typedef struct gan_h5_info {
    gan_h5_class cls;
    int type_size;     // bytes per element in the file (4 for float32, 8 for int64)
    int rank;          // 0 for a scalar
    int64_t dims[H5S_MAX_RANK];
    int64_t numel;
} gan_h5_info;

// --- files --------------------------------------------------------------------------------
// Creates (truncates) `path` for writing.
int gan_h5_create(gan_h5 *f, const char *path, gan_err *err);
// Opens an existing file read-only. A file that is not HDF5, or truncated, is reported as
// "<path>: not a readable HDF5 file (truncated or corrupted?)".
int gan_h5_open(gan_h5 *f, const char *path, gan_err *err);
// Flushes and closes (everything still open in the file is closed with it). Returns -1 when
// the flush failed: data written since the last close may be lost. A closed f is fine.
int gan_h5_close(gan_h5 *f, gan_err *err);

// --- objects ------------------------------------------------------------------------------
bool gan_h5_exists(const gan_h5 *f, const char *obj);  // "/" always exists
bool gan_h5_is_group(const gan_h5 *f, const char *obj);
bool gan_h5_is_dataset(const gan_h5 *f, const char *obj);
// Creates the group and any missing parents; existing groups are fine.
int gan_h5_create_group(gan_h5 *f, const char *group, gan_err *err);
// The names of a group's members (creation order when the group tracks it, else by name).
// *names is a malloc'd array of malloc'd strings; free with gan_h5_list_free.
int gan_h5_list(const gan_h5 *f, const char *group, char ***names, int *count, gan_err *err);
void gan_h5_list_free(char **names, int count);

// --- datasets -----------------------------------------------------------------------------
int gan_h5_dataset_info(const gan_h5 *f, const char *dset, gan_h5_info *info, gan_err *err);
// Formats "(64, 32, 4, 4)" (or "()" for a scalar) into buf and returns buf.
char *gan_h5_dims_str(int rank, const int64_t *dims, char *buf, int size);

// float32 datasets (missing parent groups are created). A dataset that already exists is an error.
int gan_h5_write_f32(gan_h5 *f, const char *dset, ag_shape shape, const float *data, gan_err *err);
int gan_h5_write_tensor(gan_h5 *f, const char *dset, const ag_tensor *t, gan_err *err);
// Reads a dataset whose shape must equal `shape` into data (numel floats). Any float or integer
// type in the file is converted by HDF5.
int gan_h5_read_f32(const gan_h5 *f, const char *dset, ag_shape shape, float *data, gan_err *err);
// Reads into t (shape-checked against t->shape); t is untouched on any error.
int gan_h5_read_tensor(const gan_h5 *f, const char *dset, ag_tensor *t, gan_err *err);
// float64 datasets (statistics kept in double), with the same rules as the float32 ones.
int gan_h5_write_f64(gan_h5 *f, const char *dset, ag_shape shape, const double *data, gan_err *err);
int gan_h5_read_f64(const gan_h5 *f, const char *dset, ag_shape shape, double *data, gan_err *err);

// int64 datasets of any rank (rank 0: a scalar, dims unused).
int gan_h5_write_i64(gan_h5 *f, const char *dset, int rank, const int64_t *dims, const int64_t *data,
                     gan_err *err);
// Reads a dataset of exactly n elements (a scalar is 1) of an integer type.
int gan_h5_read_i64(const gan_h5 *f, const char *dset, int64_t n, int64_t *data, gan_err *err);

// Reads any float/integer dataset of exactly n elements as floats, whatever its shape (the
// caller has checked the shape against its own rules).
int gan_h5_read_f32_n(const gan_h5 *f, const char *dset, int64_t n, float *data, gan_err *err);

// --- attributes on any object ("/" for the file) --------------------------------------------
// Setting an attribute that exists replaces it.
bool gan_h5_has_attr(const gan_h5 *f, const char *obj, const char *name);
int gan_h5_set_attr_i64(gan_h5 *f, const char *obj, const char *name, int64_t value, gan_err *err);
int gan_h5_set_attr_f64(gan_h5 *f, const char *obj, const char *name, double value, gan_err *err);
int gan_h5_set_attr_str(gan_h5 *f, const char *obj, const char *name, const char *value, gan_err *err);
// n unsigned 64-bit values as a 1-d attribute (RNG states).
int gan_h5_set_attr_u64s(gan_h5 *f, const char *obj, const char *name, const uint64_t *values, int n,
                         gan_err *err);
// Getters fail with a message naming the attribute when it is missing or of another kind.
int gan_h5_get_attr_i64(const gan_h5 *f, const char *obj, const char *name, int64_t *value, gan_err *err);
int gan_h5_get_attr_f64(const gan_h5 *f, const char *obj, const char *name, double *value, gan_err *err);
// *value is malloc'd (free it). Variable- and fixed-length strings are both read.
int gan_h5_get_attr_str(const gan_h5 *f, const char *obj, const char *name, char **value, gan_err *err);
// Exactly n values.
int gan_h5_get_attr_u64s(const gan_h5 *f, const char *obj, const char *name, uint64_t *values, int n,
                         gan_err *err);
