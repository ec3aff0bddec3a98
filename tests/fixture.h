// PyTorch reference fixtures (tests/fixtures/*.h5, written by tools/make_fixtures.py, whose
// docstring describes each file's layout) and the comparison of our tensors with them.
//
// Every problem -- a missing file, dataset or attribute, a wrong shape, a value off by more than
// the tolerance -- is a failed test check (tests/test.h) with a message naming the file and the
// path, never a crash: functions return NULL, false or -1 and the caller skips what depended on
// it. Every function accepts a NULL file (the failed fx_open has already been reported) and then
// quietly returns the failure value.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "tensor.h"

typedef struct fx_file fx_file;

// Opens `name` (e.g. "ops.h5") in the fixtures directory the build passes in (GAN_FIXTURES_DIR).
fx_file *fx_open(const char *name);
void fx_close(fx_file *f);

// True when a dataset or group exists at path ("conv2d_s1/x0", "/G/main.0.weight"). Reports
// nothing either way: it is how tests ask about optional datasets.
bool fx_has(fx_file *f, const char *path);

// A numeric dataset converted to float into a malloc'd buffer (free it); *shape gets its shape.
// A scalar dataset reads as shape (1).
float *fx_read(fx_file *f, const char *path, ag_shape *shape);
// The dataset as a new per-iteration tensor of c (no history, no grad).
ag_tensor *fx_tensor(ag_ctx *c, fx_file *f, const char *path);
// The dataset as a long-lived tensor on `be` (free with ag_tensor_free).
ag_tensor *fx_tensor_create(const struct ag_backend *be, fx_file *f, const char *path);
// Copies the dataset into an existing tensor (a parameter, a running statistic); the shapes
// must be equal.
bool fx_load_into(fx_file *f, const char *path, ag_tensor *t);

// Attributes of the group or dataset at path ("/" for the file itself).
bool fx_has_attr(fx_file *f, const char *path, const char *name);
bool fx_attr_int(fx_file *f, const char *path, const char *name, int *out);
bool fx_attr_float(fx_file *f, const char *path, const char *name, double *out);
// An integer array attribute into out[0..max); returns its length, or -1.
int fx_attr_ints(fx_file *f, const char *path, const char *name, int *out, int max);

// The names of a group's members, in the file's order (alphabetical); returns how many there
// are (possibly more than max: only the first max are written), or -1.
#define FX_NAME_MAX 96
int fx_list(fx_file *f, const char *group, char (*names)[FX_NAME_MAX], int max);

// --- comparison -------------------------------------------------------------------------------
// err = max |ours - ref| / max(1, max |ref|): an absolute error for values of order one and a
// relative one for large values. A non-finite value of ours counts as an infinite error.
// For a tensor whose values are all much smaller than 1 (gradients of a mean loss, an R1
// penalty's parameter gradients) the error is absolute, so its tolerance must be scaled down
// with it: fx_diff.ref_max says how large the reference is.
typedef struct fx_diff {
    double err;      // INFINITY when the tensors cannot be compared (reported as a failure)
    double ref_max;  // max |ref|
    int64_t worst;   // flat index of the largest |ours - ref|
    float ours, ref; // the values there
} fx_diff;

fx_diff fx_compare(fx_file *f, const char *path, const ag_tensor *t);

// One test check: t against dataset `path` with err <= tol. On failure prints file:line, what,
// the error and the worst element with its multi-index. Returns whether it passed; when err is
// not NULL the measured error goes there (INFINITY when not comparable), for tests that also
// print how close they came.
#define FX_EXPECT(f, path, t, tol, what) \
    fx_expect_at(__FILE__, __LINE__, (f), (path), (t), (tol), (what), NULL)
bool fx_expect_at(const char *file, int line, fx_file *f, const char *path, const ag_tensor *t,
                  double tol, const char *what, double *err);
