#include "fixture.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#ifndef GAN_FIXTURES_DIR
#error "GAN_FIXTURES_DIR must be defined by the build (tests/meson.build)"
#endif

struct fx_file {
    hid_t id;
    char name[64];
};

// A failed check that is about the fixture itself (missing, malformed), not about our numbers.
static void fx_fail(const fx_file *f, const char *path, const char *fmt, ...) {
    test_checks_++;
    test_failures_++;
    fprintf(stderr, "FAIL fixture %s%s%s: ", f ? f->name : "", path ? ":" : "", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

fx_file *fx_open(const char *name) {
    // Our own messages say what is missing; HDF5's error stack dump would only add noise.
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", GAN_FIXTURES_DIR, name);
    hid_t id = H5Fopen(full, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) {
        test_checks_++;
        test_failures_++;
        fprintf(stderr, "FAIL fixture %s: cannot open it as HDF5 (missing or damaged); regenerate "
                        "the fixtures with: python3 tools/make_fixtures.py\n", full);
        return NULL;
    }
    fx_file *f = calloc(1, sizeof *f);
    if (!f) {
        H5Fclose(id);
        fx_fail(NULL, NULL, "out of memory opening %s", name);
        return NULL;
    }
    f->id = id;
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

void fx_close(fx_file *f) {
    if (!f) return;
    H5Fclose(f->id);
    free(f);
}

bool fx_has(fx_file *f, const char *path) {
    if (!f || !path) return false;
    // H5Lexists needs every intermediate group to exist, so walk the path one link at a time.
    char buf[512];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        bool ok = strcmp(buf, "/") == 0 || H5Lexists(f->id, buf, H5P_DEFAULT) > 0;
        buf[i] = saved;
        if (!ok) return false;
    }
    return true;
}

float *fx_read(fx_file *f, const char *path, ag_shape *shape) {
    if (!f) return NULL;
    if (!fx_has(f, path)) {
        fx_fail(f, path, "no such dataset");
        return NULL;
    }
    hid_t ds = H5Dopen2(f->id, path, H5P_DEFAULT);
    if (ds < 0) {
        fx_fail(f, path, "not a dataset");
        return NULL;
    }
    float *out = NULL;
    hid_t space = H5Dget_space(ds), type = H5Dget_type(ds);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    int ndim = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        fx_fail(f, path, "not a numeric dataset");
    } else if (ndim < 0 || ndim > AG_MAX_DIMS) {
        fx_fail(f, path, "has %d dimensions, at most %d are supported", ndim, AG_MAX_DIMS);
    } else {
        hsize_t dims[AG_MAX_DIMS];
        H5Sget_simple_extent_dims(space, dims, NULL);
        ag_shape s = {.ndim = ndim ? ndim : 1, .d = {1}};
        for (int i = 0; i < ndim; i++) s.d[i] = (int)dims[i];
        int64_t numel = ag_shape_numel(s);
        out = malloc((size_t)(numel ? numel : 1) * sizeof *out);
        if (!out) {
            fx_fail(f, path, "out of memory for %lld floats", (long long)numel);
        } else if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
            fx_fail(f, path, "reading the data failed (damaged file?)");
            free(out);
            out = NULL;
        } else {
            *shape = s;
        }
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(ds);
    return out;
}

ag_tensor *fx_tensor(ag_ctx *c, fx_file *f, const char *path) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return NULL;
    ag_tensor *t = ag_from_host(c, s, v);
    free(v);
    return t;
}

ag_tensor *fx_tensor_create(const struct ag_backend *be, fx_file *f, const char *path) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return NULL;
    ag_tensor *t = ag_tensor_create(be, s);
    ag_tensor_from_host(t, v);
    free(v);
    return t;
}

bool fx_load_into(fx_file *f, const char *path, ag_tensor *t) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return false;
    bool ok = ag_shape_equal(s, t->shape);
    if (ok)
        ag_tensor_from_host(t, v);
    else
        fx_fail(f, path, "has shape %s, the tensor %s", AG_SHAPE_STR(s), AG_SHAPE_STR(t->shape));
    free(v);
    return ok;
}

bool fx_has_attr(fx_file *f, const char *path, const char *name) {
    return fx_has(f, path) && H5Aexists_by_name(f->id, path, name, H5P_DEFAULT) > 0;
}

// Reads a numeric attribute into out[0..max) as `mem_type`; returns its length or -1 (reported).
static int read_attr(fx_file *f, const char *path, const char *name, hid_t mem_type, void *out,
                     size_t elem_size, int max) {
    if (!f) return -1;
    if (!fx_has_attr(f, path, name)) {
        fx_fail(f, path, "no attribute '%s'", name);
        return -1;
    }
    hid_t a = H5Aopen_by_name(f->id, path, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t space = H5Aget_space(a), type = H5Aget_type(a);
    H5T_class_t cls = H5Tget_class(type);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    int result = -1;
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        fx_fail(f, path, "attribute '%s' is not numeric", name);
    } else if (n < 1) {
        fx_fail(f, path, "attribute '%s' is empty", name);
    } else {
        char *buf = malloc((size_t)n * elem_size);
        if (buf && H5Aread(a, mem_type, buf) >= 0) {
            memcpy(out, buf, (size_t)(n < max ? n : max) * elem_size);
            result = (int)n;
        } else {
            fx_fail(f, path, "reading attribute '%s' failed", name);
        }
        free(buf);
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Aclose(a);
    return result;
}

bool fx_attr_int(fx_file *f, const char *path, const char *name, int *out) {
    int n = read_attr(f, path, name, H5T_NATIVE_INT, out, sizeof *out, 1);
    if (n > 1) fx_fail(f, path, "attribute '%s' has %d values, expected one", name, n);
    return n == 1;
}

bool fx_attr_float(fx_file *f, const char *path, const char *name, double *out) {
    int n = read_attr(f, path, name, H5T_NATIVE_DOUBLE, out, sizeof *out, 1);
    if (n > 1) fx_fail(f, path, "attribute '%s' has %d values, expected one", name, n);
    return n == 1;
}

int fx_attr_ints(fx_file *f, const char *path, const char *name, int *out, int max) {
    return read_attr(f, path, name, H5T_NATIVE_INT, out, sizeof *out, max);
}

int fx_list(fx_file *f, const char *group, char (*names)[FX_NAME_MAX], int max) {
    if (!f) return -1;
    H5G_info_t info;
    if (!fx_has(f, group) || H5Gget_info_by_name(f->id, group, &info, H5P_DEFAULT) < 0) {
        fx_fail(f, group, "no such group");
        return -1;
    }
    for (hsize_t i = 0; i < info.nlinks && (int)i < max; i++) {
        ssize_t len = H5Lget_name_by_idx(f->id, group, H5_INDEX_NAME, H5_ITER_INC, i, names[i],
                                         FX_NAME_MAX, H5P_DEFAULT);
        if (len < 0 || len >= FX_NAME_MAX) {
            fx_fail(f, group, "member %d: name unreadable or longer than %d", (int)i, FX_NAME_MAX - 1);
            return -1;
        }
    }
    return (int)info.nlinks;
}

// --- comparison -------------------------------------------------------------------------------

// Compares without reporting; *why says what made the tensors incomparable.
static fx_diff compare(fx_file *f, const char *path, const ag_tensor *t, char *why, size_t why_size) {
    fx_diff d = {.err = INFINITY, .worst = -1};
    why[0] = '\0';
    if (!f) {
        snprintf(why, why_size, "no fixture file");
        return d;
    }
    if (!t) {
        snprintf(why, why_size, "no tensor to compare");
        return d;
    }
    if (!fx_has(f, path)) {
        snprintf(why, why_size, "no such dataset");
        return d;
    }
    ag_shape s;
    float *ref = fx_read(f, path, &s);
    if (!ref) {
        snprintf(why, why_size, "dataset unreadable");
        return d;
    }
    if (!ag_shape_equal(s, t->shape)) {
        snprintf(why, why_size, "shape %s, the reference %s", AG_SHAPE_STR(t->shape), AG_SHAPE_STR(s));
        free(ref);
        return d;
    }
    float *ours = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *ours);
    if (!ours) {
        snprintf(why, why_size, "out of memory");
        free(ref);
        return d;
    }
    ag_tensor_to_host(t, ours);
    double max_diff = -1.0, ref_max = 0.0;
    for (int64_t i = 0; i < t->numel; i++) {
        double diff = fabs((double)ours[i] - (double)ref[i]);
        if (!isfinite(ours[i]) || isnan(diff)) diff = INFINITY;
        if (diff > max_diff) {
            max_diff = diff;
            d.worst = i;
        }
        if (fabs(ref[i]) > ref_max) ref_max = fabs(ref[i]);
    }
    d.ref_max = ref_max;
    d.err = t->numel ? max_diff / (ref_max > 1.0 ? ref_max : 1.0) : 0.0;
    if (d.worst >= 0) {
        d.ours = ours[d.worst];
        d.ref = ref[d.worst];
    }
    free(ours);
    free(ref);
    return d;
}

fx_diff fx_compare(fx_file *f, const char *path, const ag_tensor *t) {
    char why[200];
    fx_diff d = compare(f, path, t, why, sizeof why);
    if (why[0] && f) fx_fail(f, path, "cannot compare: %s", why);
    return d;
}

static void index_str(ag_shape s, int64_t flat, char *buf, size_t size) {
    int idx[AG_MAX_DIMS];
    for (int i = s.ndim - 1; i >= 0; i--) {
        idx[i] = (int)(flat % s.d[i]);
        flat /= s.d[i];
    }
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s.ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %d" : "%d", idx[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
}

bool fx_expect_at(const char *file, int line, fx_file *f, const char *path, const ag_tensor *t,
                  double tol, const char *what, double *err) {
    char why[200];
    fx_diff d = compare(f, path, t, why, sizeof why);
    if (err) *err = d.err;
    bool ok = !why[0] && d.err <= tol;
    test_checks_++;
    if (ok) return true;
    test_failures_++;
    const char *fname = f ? f->name : "(no file)";
    if (why[0]) {
        fprintf(stderr, "FAIL %s:%d: %s: %s:%s: cannot compare: %s\n", file, line, what, fname, path, why);
    } else {
        char idx[96];
        index_str(t->shape, d.worst, idx, sizeof idx);
        fprintf(stderr,
                "FAIL %s:%d: %s: %s:%s %s: error %.3g > tolerance %.3g (max |diff| / max(1, max |ref|), "
                "max |ref| = %.4g); worst at %s: ours %.9g, PyTorch %.9g\n",
                file, line, what, fname, path, AG_SHAPE_STR(t->shape), d.err, tol, d.ref_max, idx,
                (double)d.ours, (double)d.ref);
    }
    return false;
}
