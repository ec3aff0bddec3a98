#include "h5io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gan_check.h"

#define RT GAN_EXIT_RUNTIME
#define CLOSE(fn, id)                                                                    \
    do {                                                                                 \
        if ((id) >= 0) fn(id);                                                           \
        (id) = H5I_INVALID_HID;                                                          \
    } while (0)

// HDF5 prints its error stack to stderr by default; we report through gan_err instead. The
// setting is per thread in thread-safe builds, so every entry point sets it.
static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct h5_reason {
    char desc[320];  // the innermost (most specific) message on the stack
    bool have;
    bool checksum;   // a Fletcher32 or metadata checksum failed somewhere on the stack
} h5_reason;

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    h5_reason *r = data;
    if (e->desc && e->desc[0]) {
        if (!r->have) snprintf(r->desc, sizeof r->desc, "%s", e->desc);
        r->have = true;
        if (strstr(e->desc, "checksum")) r->checksum = true;
    }
    return 0;
}

static h5_reason h5_take_reason(void) {
    h5_reason r = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    H5Eclear2(H5E_DEFAULT);
    return r;
}

// Turns the failed HDF5 call's error stack into err: "<file>:<obj>: <what>; HDF5: <reason>".
// obj NULL means the file itself. Returns -1. Call it right after the failed call: every HDF5
// API call clears the stack on entry.
static int h5_fail(const char *file, const char *obj, const char *what, gan_err *err) {
    h5_reason r = h5_take_reason();
    const char *colon = obj ? ":" : "";
    if (!obj) obj = "";
    if (r.checksum)
        return gan_errf(err, RT, "checksum mismatch in %s%s%s (the file is corrupted)", file, colon, obj);
    if (r.have) return gan_errf(err, RT, "%s%s%s: %s; HDF5: %s", file, colon, obj, what, r.desc);
    return gan_errf(err, RT, "%s%s%s: %s", file, colon, obj, what);
}

char *gan_h5_dims_str(int rank, const int64_t *dims, char *buf, int size) {
    int n = snprintf(buf, (size_t)size, "(");
    for (int i = 0; i < rank && n < size; i++)
        n += snprintf(buf + n, (size_t)(size - n), "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < size) snprintf(buf + n, (size_t)(size - n), ")");
    return buf;
}

// --- files --------------------------------------------------------------------------------

static hid_t file_access_plist(bool for_writing) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    // Closing the file closes whatever an error path left open in it.
    if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        // Written in the 1.10 format: checksummed metadata and chunk indexes. Files of any
        // format are read (e.g. h5py's default, the earliest).
        (for_writing && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0)) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

static void set_path(gan_h5 *f, const char *path) {
    f->id = H5I_INVALID_HID;
    snprintf(f->path, sizeof f->path, "%s", path);
}

int gan_h5_create(gan_h5 *f, const char *path, gan_err *err) {
    h5_quiet();
    set_path(f, path);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = file_access_plist(true);
    int rc = 0;
    // No object timestamps (here, on groups and on datasets): the same content gives the same
    // bytes, so a rerun's files compare equal with cmp.
    if (fcpl < 0 || fapl < 0 ||
        H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_obj_track_times(fcpl, false) < 0)
        rc = h5_fail(path, NULL, "cannot set up file properties", err);
    else if ((f->id = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
        rc = h5_fail(path, NULL, "cannot create the file", err);
    CLOSE(H5Pclose, fcpl);
    CLOSE(H5Pclose, fapl);
    return rc;
}

// Names from the file as messages show them: one line, at most 200 bytes.
static const char *shown(const char *text, char *buf, size_t size) {
    size_t n = 0;
    for (; text[n] && n + 1 < size && n < 200; n++)
        buf[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7f ? '?' : text[n];
    buf[n] = '\0';
    return buf;
}

typedef struct foreign_link {
    bool found;
    H5L_type_t type;
    char name[256], target[520];  // " to FILE:OBJECT", each shown in at most 256 bytes
} foreign_link;

// Stops at the first link that is neither hard nor soft: an external link names an object of
// another file, which HDF5 would open and read when the link is followed; user-defined link
// types may do anything. Soft links stay inside the file.
static herr_t foreign_link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    if (info->type == H5L_TYPE_HARD || info->type == H5L_TYPE_SOFT) return 0;
    foreign_link *fl = data;
    fl->found = true;
    fl->type = info->type;
    shown(name, fl->name, sizeof fl->name);
    size_t n = info->u.val_size;
    char *val = info->type == H5L_TYPE_EXTERNAL && n > 0 && n <= 4096 ? malloc(n) : NULL;
    const char *file, *obj;
    unsigned flags;
    char a[256], b[256];
    if (val && H5Lget_val(g, name, val, n, H5P_DEFAULT) >= 0 &&
        H5Lunpack_elink_val(val, n, &flags, &file, &obj) >= 0 && file && obj)
        snprintf(fl->target, sizeof fl->target, " to %s:%s", shown(file, a, sizeof a), shown(obj, b, sizeof b));
    free(val);
    H5Eclear2(H5E_DEFAULT);
    return 1;
}

// A file that is read must be self-contained: refuses external (and user-defined) links anywhere
// in it before any object is opened. Data kept in other files is refused where it is read
// (read_dataset), since finding it needs every dataset opened.
static int refuse_foreign_links(const gan_h5 *f, gan_err *err) {
    foreign_link fl = {0};
    herr_t rc = H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_NATIVE, foreign_link_cb, &fl);
    if (fl.found)
        return gan_errf(err, RT, "%s: /%s is an HDF5 %s link%s; refused: a checkpoint must hold its own objects, "
                        "and following the link would read another file", f->path, fl.name,
                        fl.type == H5L_TYPE_EXTERNAL ? "external" : "user-defined", fl.target);
    if (rc < 0) return h5_fail(f->path, NULL, "cannot list the file's objects (truncated or corrupted?)", err);
    return 0;
}

int gan_h5_open(gan_h5 *f, const char *path, gan_err *err) {
    h5_quiet();
    set_path(f, path);
    FILE *probe = fopen(path, "rb");  // for the OS's reason when the file is not there at all
    if (!probe) return gan_errf(err, RT, "cannot open %s: %s", path, strerror(errno));
    fclose(probe);
    hid_t fapl = file_access_plist(false);
    if (fapl < 0) return h5_fail(path, NULL, "cannot set up file properties", err);
    f->id = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    h5_reason r = h5_take_reason();  // before the next API call, which clears the stack
    H5Pclose(fapl);
    if (f->id < 0)
        return gan_errf(err, RT, "%s: not a readable HDF5 file (truncated or corrupted?)%s%s", path,
                        r.have ? "; HDF5: " : "", r.have ? r.desc : "");
    if (refuse_foreign_links(f, err) != 0) {
        H5Fclose(f->id);
        f->id = H5I_INVALID_HID;
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    return 0;
}

int gan_h5_close(gan_h5 *f, gan_err *err) {
    if (f->id < 0) return 0;
    h5_quiet();
    herr_t rc = H5Fclose(f->id);
    f->id = H5I_INVALID_HID;
    if (rc < 0) return h5_fail(f->path, NULL, "cannot close the file (its data may be incomplete)", err);
    return 0;
}

// --- objects ------------------------------------------------------------------------------

static bool is_root(const char *obj) { return obj[0] == '\0' || !strcmp(obj, "/"); }

bool gan_h5_exists(const gan_h5 *f, const char *obj) {
    h5_quiet();
    if (is_root(obj)) return true;
    char buf[GAN_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", obj) >= (int)sizeof buf) return false;
    // H5Lexists needs every parent to exist, so walk the path one component at a time.
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (H5Lexists(f->id, buf, H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
        *p = saved;
        if (saved == '\0' || p[1] == '\0') return true;
    }
}

static H5I_type_t object_type(const gan_h5 *f, const char *obj) {
    if (!gan_h5_exists(f, obj)) return H5I_BADID;
    hid_t o = H5Oopen(f->id, obj, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5I_BADID;
    }
    H5I_type_t t = H5Iget_type(o);
    H5Oclose(o);
    return t;
}

bool gan_h5_is_group(const gan_h5 *f, const char *obj) { return object_type(f, obj) == H5I_GROUP; }
bool gan_h5_is_dataset(const gan_h5 *f, const char *obj) { return object_type(f, obj) == H5I_DATASET; }

static int create_one_group(gan_h5 *f, const char *group, gan_err *err) {
    if (gan_h5_exists(f, group)) {
        if (gan_h5_is_group(f, group)) return 0;
        return gan_errf(err, RT, "%s:%s: exists and is not a group", f->path, group);
    }
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = H5I_INVALID_HID;
    int rc = 0;
    if (gcpl < 0 || H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_obj_track_times(gcpl, false) < 0)
        rc = h5_fail(f->path, group, "cannot set up group properties", err);
    else if ((g = H5Gcreate2(f->id, group, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
        rc = h5_fail(f->path, group, "cannot create the group", err);
    CLOSE(H5Gclose, g);
    CLOSE(H5Pclose, gcpl);
    return rc;
}

int gan_h5_create_group(gan_h5 *f, const char *group, gan_err *err) {
    h5_quiet();
    if (is_root(group)) return 0;
    char buf[GAN_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", group) >= (int)sizeof buf)
        return gan_errf(err, RT, "%s: object path too long: %s", f->path, group);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (create_one_group(f, buf, err) != 0) return -1;
        *p = saved;
        if (saved == '\0' || p[1] == '\0') return 0;
    }
}

// Creates the groups above a dataset about to be written.
static int ensure_parent(gan_h5 *f, const char *dset, gan_err *err) {
    const char *slash = strrchr(dset, '/');
    if (!slash || slash == dset) return 0;
    char parent[GAN_PATH_MAX];
    int n = (int)(slash - dset);
    if (n >= (int)sizeof parent) return gan_errf(err, RT, "%s: object path too long: %s", f->path, dset);
    memcpy(parent, dset, (size_t)n);
    parent[n] = '\0';
    return gan_h5_create_group(f, parent, err);
}

typedef struct name_list {
    char **names;
    int count, cap;
} name_list;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g, (void)info;
    name_list *l = data;
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->names = gan_xrealloc(l->names, (size_t)l->cap * sizeof *l->names, "an HDF5 group's list of names");
    }
    size_t n = strlen(name) + 1;
    l->names[l->count] = gan_xmalloc(n, "an HDF5 name");
    memcpy(l->names[l->count++], name, n);
    return 0;
}

int gan_h5_list(const gan_h5 *f, const char *group, char ***names, int *count, gan_err *err) {
    h5_quiet();
    *names = NULL;
    *count = 0;
    if (!gan_h5_is_group(f, group)) return gan_errf(err, RT, "%s:%s: no such group", f->path, group);
    hid_t g = H5Gopen2(f->id, group, H5P_DEFAULT), gcpl = H5I_INVALID_HID;
    if (g < 0) return h5_fail(f->path, group, "cannot open the group", err);
    unsigned order = 0;
    gcpl = H5Gget_create_plist(g);
    if (gcpl < 0 || H5Pget_link_creation_order(gcpl, &order) < 0) {
        h5_fail(f->path, group, "cannot read the group's properties", err);
        CLOSE(H5Pclose, gcpl);
        H5Gclose(g);
        return -1;
    }
    H5Pclose(gcpl);
    H5_index_t index = (order & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    name_list l = {0};
    hsize_t pos = 0;
    herr_t rc = H5Literate(g, index, H5_ITER_INC, &pos, list_cb, &l);
    if (rc < 0) h5_fail(f->path, group, "cannot list the group", err);
    H5Gclose(g);
    if (rc < 0) {
        gan_h5_list_free(l.names, l.count);
        return -1;
    }
    *names = l.names;
    *count = l.count;
    return 0;
}

void gan_h5_list_free(char **names, int count) {
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
}

// --- datasets -----------------------------------------------------------------------------

int gan_h5_dataset_info(const gan_h5 *f, const char *dset, gan_h5_info *info, gan_err *err) {
    h5_quiet();
    memset(info, 0, sizeof *info);
    if (!gan_h5_is_dataset(f, dset)) return gan_errf(err, RT, "%s:%s: no such dataset", f->path, dset);
    hid_t d = H5Dopen2(f->id, dset, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    int rc = 0;
    if (d < 0) {
        rc = h5_fail(f->path, dset, "cannot open the dataset", err);
        goto done;
    }
    if ((t = H5Dget_type(d)) < 0 || (s = H5Dget_space(d)) < 0) {
        rc = h5_fail(f->path, dset, "cannot read the dataset's type and shape", err);
        goto done;
    }
    switch (H5Tget_class(t)) {
    case H5T_FLOAT: info->cls = GAN_H5_FLOAT; break;
    case H5T_INTEGER: info->cls = GAN_H5_INT; break;
    case H5T_STRING: info->cls = GAN_H5_STRING; break;
    default: info->cls = GAN_H5_OTHER; break;
    }
    info->type_size = (int)H5Tget_size(t);
    int rank = H5Sget_simple_extent_ndims(s);
    hsize_t dims[H5S_MAX_RANK];
    if (rank < 0 || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
        rc = h5_fail(f->path, dset, "cannot read the dataset's shape", err);
        goto done;
    }
    info->rank = rank;
    info->numel = H5Sget_simple_extent_npoints(s);
    for (int i = 0; i < rank; i++) info->dims[i] = (int64_t)dims[i];
done:
    CLOSE(H5Sclose, s);
    CLOSE(H5Tclose, t);
    CLOSE(H5Dclose, d);
    return rc;
}

// Chunk shape: the whole dataset, or leading dimensions cut down until a chunk fits the cap.
static void chunk_dims(int rank, const hsize_t *dims, size_t elem, hsize_t *chunk) {
    int64_t bytes = (int64_t)elem;
    for (int i = 0; i < rank; i++) {
        chunk[i] = dims[i];
        bytes *= (int64_t)dims[i];
    }
    for (int i = 0; i < rank && bytes > GAN_H5_CHUNK_MAX_BYTES; i++) {
        int64_t per_index = bytes / (int64_t)chunk[i];
        int64_t n = GAN_H5_CHUNK_MAX_BYTES / per_index;
        chunk[i] = (hsize_t)(n > 0 ? n : 1);
        bytes = (int64_t)chunk[i] * per_index;
    }
}

// Scalars are stored compact (inside the checksummed object header, no filter possible);
// arrays chunked with Fletcher32; empty arrays contiguous (nothing to checksum).
static int write_dataset(gan_h5 *f, const char *dset, int rank, const hsize_t *dims, hid_t file_type,
                         hid_t mem_type, size_t elem, const void *data, gan_err *err) {
    h5_quiet();
    if (gan_h5_exists(f, dset)) return gan_errf(err, RT, "%s:%s: already exists", f->path, dset);
    if (ensure_parent(f, dset, err) != 0) return -1;
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) numel *= (int64_t)dims[i];
    hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, d = H5I_INVALID_HID;
    int rc = -1;
    space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, false) < 0) {
        h5_fail(f->path, dset, "cannot set up the dataset", err);
        goto done;
    }
    if (rank == 0) {
        if (H5Pset_layout(dcpl, H5D_COMPACT) < 0) {
            h5_fail(f->path, dset, "cannot set a compact layout", err);
            goto done;
        }
    } else if (numel > 0) {
        hsize_t chunk[H5S_MAX_RANK];
        chunk_dims(rank, dims, elem, chunk);
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_fletcher32(dcpl) < 0) {
            h5_fail(f->path, dset, "cannot set up chunking with the Fletcher32 checksum", err);
            goto done;
        }
    }
    if ((d = H5Dcreate2(f->id, dset, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
        h5_fail(f->path, dset, "cannot create the dataset", err);
        goto done;
    }
    if (numel > 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        h5_fail(f->path, dset, "cannot write the dataset", err);
        goto done;
    }
    herr_t closed = H5Dclose(d);  // flushes the chunk cache: a write error can surface here
    d = H5I_INVALID_HID;
    if (closed < 0) {
        h5_fail(f->path, dset, "cannot write the dataset (flush failed)", err);
        goto done;
    }
    rc = 0;
done:
    CLOSE(H5Dclose, d);
    CLOSE(H5Pclose, dcpl);
    CLOSE(H5Sclose, space);
    return rc;
}

// Data kept outside the file is refused before it is read: an external-storage dataset reads
// its bytes from other files named in the file (any file this user may read), a virtual one
// maps datasets of other files.
static int refuse_foreign_data(const gan_h5 *f, const char *dset, hid_t d, gan_err *err) {
    hid_t dcpl = H5Dget_create_plist(d);
    if (dcpl < 0) return h5_fail(f->path, dset, "cannot read the dataset's properties", err);
    const H5D_layout_t layout = H5Pget_layout(dcpl);
    const int external = H5Pget_external_count(dcpl);
    char name[256] = "?", buf[256];
    off_t offset;
    hsize_t size;
    if (external > 0) H5Pget_external(dcpl, 0, sizeof name, name, &offset, &size);
    name[sizeof name - 1] = '\0';
    H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    if (layout == H5D_VIRTUAL)
        return gan_errf(err, RT, "%s:%s: an HDF5 virtual dataset, whose data is mapped from other files; refused: "
                        "a checkpoint must hold its own data", f->path, dset);
    if (external > 0)
        return gan_errf(err, RT, "%s:%s: its data is stored outside the file (HDF5 external storage in %s); "
                        "refused: a checkpoint must hold its own data", f->path, dset, shown(name, buf, sizeof buf));
    if (layout < 0 || external < 0) return gan_errf(err, RT, "%s:%s: cannot read the dataset's layout", f->path, dset);
    return 0;
}

// Reads the whole dataset converted to mem_type, with checksum verification on.
static int read_dataset(const gan_h5 *f, const char *dset, hid_t mem_type, void *data, gan_err *err) {
    hid_t d = H5Dopen2(f->id, dset, H5P_DEFAULT), dxpl = H5I_INVALID_HID;
    int rc = 0;
    if (d < 0) {
        rc = h5_fail(f->path, dset, "cannot open the dataset", err);
    } else if (refuse_foreign_data(f, dset, d, err) != 0) {
        rc = -1;
    } else if ((dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 || H5Pset_edc_check(dxpl, H5Z_ENABLE_EDC) < 0) {
        rc = h5_fail(f->path, dset, "cannot set up the read", err);
    } else if (H5Dread(d, mem_type, H5S_ALL, H5S_ALL, dxpl, data) < 0) {
        rc = h5_fail(f->path, dset, "cannot read the dataset (truncated or corrupted?)", err);
    }
    CLOSE(H5Pclose, dxpl);
    CLOSE(H5Dclose, d);
    return rc;
}

static const char *class_name(gan_h5_class c) {
    switch (c) {
    case GAN_H5_FLOAT: return "float";
    case GAN_H5_INT: return "integer";
    case GAN_H5_STRING: return "string";
    default: return "non-numeric";
    }
}

static int write_floats(gan_h5 *f, const char *dset, ag_shape shape, hid_t file_type, hid_t mem_type, size_t elem,
                        const void *data, gan_err *err) {
    GAN_CHECK(shape.ndim >= 1 && shape.ndim <= AG_MAX_DIMS, "gan_h5_write(%s): rank %d", dset, shape.ndim);
    hsize_t dims[AG_MAX_DIMS];
    for (int i = 0; i < shape.ndim; i++) dims[i] = (hsize_t)shape.d[i];
    return write_dataset(f, dset, shape.ndim, dims, file_type, mem_type, elem, data, err);
}

int gan_h5_write_f32(gan_h5 *f, const char *dset, ag_shape shape, const float *data, gan_err *err) {
    return write_floats(f, dset, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sizeof(float), data, err);
}

int gan_h5_write_f64(gan_h5 *f, const char *dset, ag_shape shape, const double *data, gan_err *err) {
    return write_floats(f, dset, shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sizeof(double), data, err);
}

int gan_h5_write_tensor(gan_h5 *f, const char *dset, const ag_tensor *t, gan_err *err) {
    float *host = gan_xmalloc((size_t)t->numel * sizeof *host, "a tensor's host copy");
    ag_tensor_to_host(t, host);
    int rc = gan_h5_write_f32(f, dset, t->shape, host, err);
    free(host);
    return rc;
}

static int check_numeric(const gan_h5 *f, const char *dset, const gan_h5_info *info, bool allow_float,
                         gan_err *err) {
    if (info->cls == GAN_H5_INT || (allow_float && info->cls == GAN_H5_FLOAT)) return 0;
    return gan_errf(err, RT, "%s:%s: %s data in file, %s expected", f->path, dset, class_name(info->cls),
                    allow_float ? "float" : "integer");
}

static int read_floats(const gan_h5 *f, const char *dset, ag_shape shape, hid_t mem_type, void *data, gan_err *err) {
    gan_h5_info info;
    if (gan_h5_dataset_info(f, dset, &info, err) != 0) return -1;
    if (check_numeric(f, dset, &info, true, err) != 0) return -1;
    bool same = info.rank == shape.ndim;
    for (int i = 0; same && i < shape.ndim; i++) same = info.dims[i] == shape.d[i];
    if (!same) {
        char a[128];
        return gan_errf(err, RT, "%s:%s: shape %s in file vs %s expected", f->path, dset,
                        gan_h5_dims_str(info.rank, info.dims, a, sizeof a), AG_SHAPE_STR(shape));
    }
    if (info.numel == 0) return 0;
    return read_dataset(f, dset, mem_type, data, err);
}

int gan_h5_read_f32(const gan_h5 *f, const char *dset, ag_shape shape, float *data, gan_err *err) {
    return read_floats(f, dset, shape, H5T_NATIVE_FLOAT, data, err);
}

int gan_h5_read_f64(const gan_h5 *f, const char *dset, ag_shape shape, double *data, gan_err *err) {
    return read_floats(f, dset, shape, H5T_NATIVE_DOUBLE, data, err);
}

int gan_h5_read_f32_n(const gan_h5 *f, const char *dset, int64_t n, float *data, gan_err *err) {
    gan_h5_info info;
    if (gan_h5_dataset_info(f, dset, &info, err) != 0) return -1;
    if (check_numeric(f, dset, &info, true, err) != 0) return -1;
    if (info.numel != n)
        return gan_errf(err, RT, "%s:%s: %lld elements in file vs %lld expected", f->path, dset,
                        (long long)info.numel, (long long)n);
    if (n == 0) return 0;
    return read_dataset(f, dset, H5T_NATIVE_FLOAT, data, err);
}

int gan_h5_read_tensor(const gan_h5 *f, const char *dset, ag_tensor *t, gan_err *err) {
    float *host = gan_xmalloc((size_t)t->numel * sizeof *host, "a tensor's host copy");
    int rc = gan_h5_read_f32(f, dset, t->shape, host, err);
    if (rc == 0) ag_tensor_from_host(t, host);
    free(host);
    return rc;
}

int gan_h5_write_i64(gan_h5 *f, const char *dset, int rank, const int64_t *dims, const int64_t *data,
                     gan_err *err) {
    GAN_CHECK(rank >= 0 && rank <= H5S_MAX_RANK, "gan_h5_write_i64(%s): rank %d", dset, rank);
    hsize_t hd[H5S_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        GAN_CHECK(dims[i] >= 0, "gan_h5_write_i64(%s): negative dimension", dset);
        hd[i] = (hsize_t)dims[i];
    }
    return write_dataset(f, dset, rank, hd, H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof(int64_t), data, err);
}

int gan_h5_read_i64(const gan_h5 *f, const char *dset, int64_t n, int64_t *data, gan_err *err) {
    gan_h5_info info;
    if (gan_h5_dataset_info(f, dset, &info, err) != 0) return -1;
    if (check_numeric(f, dset, &info, false, err) != 0) return -1;
    if (info.numel != n)
        return gan_errf(err, RT, "%s:%s: %lld elements in file vs %lld expected", f->path, dset,
                        (long long)info.numel, (long long)n);
    if (n == 0) return 0;
    return read_dataset(f, dset, H5T_NATIVE_INT64, data, err);
}

// --- attributes ---------------------------------------------------------------------------

static hid_t open_object(const gan_h5 *f, const char *obj, gan_err *err) {
    if (!gan_h5_exists(f, obj)) {
        gan_errf(err, RT, "%s:%s: no such object", f->path, obj);
        return H5I_INVALID_HID;
    }
    hid_t o = H5Oopen(f->id, is_root(obj) ? "/" : obj, H5P_DEFAULT);
    if (o < 0) h5_fail(f->path, obj, "cannot open the object", err);
    return o;
}

bool gan_h5_has_attr(const gan_h5 *f, const char *obj, const char *name) {
    h5_quiet();
    hid_t o = open_object(f, obj, NULL);
    if (o < 0) return false;
    htri_t ex = H5Aexists(o, name);
    H5Oclose(o);
    H5Eclear2(H5E_DEFAULT);
    return ex > 0;
}

// n == 0: a scalar attribute; otherwise a 1-d attribute of n values.
static int write_attr(gan_h5 *f, const char *obj, const char *name, hid_t file_type, hid_t mem_type, int n,
                      const void *value, gan_err *err) {
    h5_quiet();
    char what[160];
    hid_t o = open_object(f, obj, err), space = H5I_INVALID_HID, a = H5I_INVALID_HID;
    if (o < 0) return -1;
    int rc = -1;
    htri_t ex = H5Aexists(o, name);
    if (ex < 0 || (ex > 0 && H5Adelete(o, name) < 0)) {
        snprintf(what, sizeof what, "cannot replace attribute '%s'", name);
        h5_fail(f->path, obj, what, err);
        goto done;
    }
    hsize_t dim = (hsize_t)n;
    space = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    if (space < 0 || (a = H5Acreate2(o, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, mem_type, value) < 0) {
        snprintf(what, sizeof what, "cannot write attribute '%s'", name);
        h5_fail(f->path, obj, what, err);
        goto done;
    }
    herr_t closed = H5Aclose(a);
    a = H5I_INVALID_HID;
    if (closed < 0) {
        snprintf(what, sizeof what, "cannot write attribute '%s'", name);
        h5_fail(f->path, obj, what, err);
        goto done;
    }
    rc = 0;
done:
    CLOSE(H5Aclose, a);
    CLOSE(H5Sclose, space);
    CLOSE(H5Oclose, o);
    return rc;
}

int gan_h5_set_attr_i64(gan_h5 *f, const char *obj, const char *name, int64_t value, gan_err *err) {
    return write_attr(f, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, &value, err);
}

int gan_h5_set_attr_f64(gan_h5 *f, const char *obj, const char *name, double value, gan_err *err) {
    return write_attr(f, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &value, err);
}

int gan_h5_set_attr_u64s(gan_h5 *f, const char *obj, const char *name, const uint64_t *values, int n,
                         gan_err *err) {
    GAN_CHECK(n >= 1, "gan_h5_set_attr_u64s(%s): %d values", name, n);
    return write_attr(f, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, n, values, err);
}

// A variable-length UTF-8 string: what h5py writes for a Python str and reads back as one.
static hid_t vlen_str_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

int gan_h5_set_attr_str(gan_h5 *f, const char *obj, const char *name, const char *value, gan_err *err) {
    h5_quiet();
    hid_t t = vlen_str_type();
    if (t < 0) return h5_fail(f->path, obj, "cannot make a string type", err);
    int rc = write_attr(f, obj, name, t, t, 0, &value, err);
    H5Tclose(t);
    return rc;
}

// Opens attribute `name` of obj and checks it holds n values (n == 0: a scalar or one value).
static hid_t open_attr(const gan_h5 *f, const char *obj, const char *name, int n, hid_t *type,
                       gan_err *err) {
    *type = H5I_INVALID_HID;
    hid_t o = open_object(f, obj, err);
    if (o < 0) return H5I_INVALID_HID;
    hid_t a = H5I_INVALID_HID, s = H5I_INVALID_HID;
    htri_t ex = H5Aexists(o, name);
    if (ex == 0) {
        gan_errf(err, RT, "%s:%s: attribute '%s' is missing", f->path, obj, name);
        goto fail;
    }
    if (ex < 0 || (a = H5Aopen(o, name, H5P_DEFAULT)) < 0 || (*type = H5Aget_type(a)) < 0 ||
        (s = H5Aget_space(a)) < 0) {
        char what[160];
        snprintf(what, sizeof what, "cannot open attribute '%s'", name);
        h5_fail(f->path, obj, what, err);
        goto fail;
    }
    hssize_t count = H5Sget_simple_extent_npoints(s);
    if (count != (n ? n : 1)) {
        gan_errf(err, RT, "%s:%s: attribute '%s' has %lld values, %d expected", f->path, obj, name,
                 (long long)count, n ? n : 1);
        goto fail;
    }
    H5Sclose(s);
    H5Oclose(o);
    return a;
fail:
    CLOSE(H5Sclose, s);
    CLOSE(H5Tclose, *type);
    CLOSE(H5Aclose, a);
    H5Oclose(o);
    return H5I_INVALID_HID;
}

static int read_attr(const gan_h5 *f, const char *obj, const char *name, bool allow_float, hid_t mem_type,
                     int n, void *value, gan_err *err) {
    h5_quiet();
    hid_t t;
    hid_t a = open_attr(f, obj, name, n, &t, err);
    if (a < 0) return -1;
    H5T_class_t cls = H5Tget_class(t);
    int rc = 0;
    if (cls != H5T_INTEGER && !(allow_float && cls == H5T_FLOAT)) {
        rc = gan_errf(err, RT, "%s:%s: attribute '%s' is not %s", f->path, obj, name,
                      allow_float ? "a number" : "an integer");
    } else if (H5Aread(a, mem_type, value) < 0) {
        char what[160];
        snprintf(what, sizeof what, "cannot read attribute '%s'", name);
        rc = h5_fail(f->path, obj, what, err);
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int gan_h5_get_attr_i64(const gan_h5 *f, const char *obj, const char *name, int64_t *value, gan_err *err) {
    return read_attr(f, obj, name, false, H5T_NATIVE_INT64, 0, value, err);
}

int gan_h5_get_attr_f64(const gan_h5 *f, const char *obj, const char *name, double *value, gan_err *err) {
    return read_attr(f, obj, name, true, H5T_NATIVE_DOUBLE, 0, value, err);
}

int gan_h5_get_attr_u64s(const gan_h5 *f, const char *obj, const char *name, uint64_t *values, int n,
                         gan_err *err) {
    GAN_CHECK(n >= 1, "gan_h5_get_attr_u64s(%s): %d values", name, n);
    return read_attr(f, obj, name, false, H5T_NATIVE_UINT64, n, values, err);
}

int gan_h5_get_attr_str(const gan_h5 *f, const char *obj, const char *name, char **value, gan_err *err) {
    h5_quiet();
    *value = NULL;
    hid_t t;
    hid_t a = open_attr(f, obj, name, 0, &t, err);
    if (a < 0) return -1;
    hid_t mt = H5I_INVALID_HID;
    int rc = 0;
    char what[160];
    snprintf(what, sizeof what, "cannot read attribute '%s'", name);
    if (H5Tget_class(t) != H5T_STRING) {
        rc = gan_errf(err, RT, "%s:%s: attribute '%s' is not a string", f->path, obj, name);
    } else if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        if ((mt = vlen_str_type()) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Aread(a, mt, &s) < 0) {
            rc = h5_fail(f->path, obj, what, err);
        } else {
            size_t n = s ? strlen(s) + 1 : 1;
            *value = gan_xmalloc(n, "an HDF5 string attribute");
            memcpy(*value, s ? s : "", n);
            H5free_memory(s);
        }
    } else {
        // Fixed-length (numpy bytes): read the stored bytes and terminate them ourselves.
        size_t n = H5Tget_size(t);
        char *buf = gan_xcalloc(n + 1, 1, "an HDF5 string attribute");
        if ((mt = H5Tcopy(t)) < 0 || H5Aread(a, mt, buf) < 0) {
            free(buf);
            rc = h5_fail(f->path, obj, what, err);
        } else {
            *value = buf;
        }
    }
    CLOSE(H5Tclose, mt);
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}
