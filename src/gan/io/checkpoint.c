#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"
#include "h5io.h"

#define RT GAN_EXIT_RUNTIME

// The memory of HDF5's core driver: allocated through these callbacks, and kept, not freed,
// when the file closes, so that the bytes a close produces can be written out.
typedef struct memory_image {
    void *buf;       // the closed file's bytes (set when HDF5 closes it)
    size_t cap;      // the size of the last block HDF5 asked for
} memory_image;

struct gan_ckpt_writer {
    gan_h5 f;  // an HDF5 file in memory, named (in messages) by the final path
    char path[GAN_PATH_MAX];
    char tmp[GAN_PATH_MAX];  // created empty by gan_ckpt_create; "" once commit moved or removed it
    memory_image image;
    bool failed;  // some write returned an error: commit must not publish the file
};

struct gan_ckpt_reader {
    gan_h5 f;
};

// "<group>/<name>" with a single slash.
static int obj_join(char *dst, size_t size, const char *group, const char *name, const char *file,
                    gan_err *err) {
    size_t n = strlen(group);
    const char *sep = (n > 0 && group[n - 1] == '/') ? "" : "/";
    if (snprintf(dst, size, "%s%s%s", group, sep, name) >= (int)size)
        return gan_errf(err, RT, "%s: object path too long: %s/%s", file, group, name);
    return 0;
}

// PyTorch keeps these buffers as int64 scalars in a state_dict; we keep them as one float.
static bool is_torch_int64(const ag_param *p) {
    static const char suffix[] = "num_batches_tracked";
    size_t n = strlen(p->name), ns = sizeof suffix - 1;
    if (p->t->numel != 1 || n < ns || strcmp(p->name + n - ns, suffix)) return false;
    return n == ns || p->name[n - ns - 1] == '.';
}

static float *block_to_host(const ag_tensor *block) {
    float *host = gan_xmalloc((size_t)block->numel * sizeof *host, "a parameter block's host copy");
    ag_tensor_to_host(block, host);
    return host;
}

// --- writing ------------------------------------------------------------------------------
//
// A checkpoint is built in memory (HDF5's core driver, no backing store) and reaches the disk
// in one gan_fs_write_atomic at commit. So every failure of the disk (full, quota, read-only,
// I/O error) is one write(2) or fsync(2) whose errno names it, and HDF5 never holds a file it
// could not flush (HDF5 1.10.8 crashed at exit, closing such a file a second time). The
// temporary file is created, empty, by gan_ckpt_create, so that a directory that cannot take it
// fails before the work; commit writes the bytes into it and renames it.

// The core driver grows its image by this much at a time.
#define CKPT_MEMORY_INCREMENT ((size_t)1 << 20)

static void kept_note(const char *path, char *note, size_t size);
static void latest_target(const char *link_path, char *target, size_t size);

// A failed save's message, completed: one line (HDF5's reasons may hold newlines) that ends by
// saying what is left on disk. Returns -1.
static int save_failed(const char *path, gan_err *err) {
    if (!err) return -1;
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    char note[2 * GAN_PATH_MAX + 128];
    kept_note(path, note, sizeof note);
    size_t n = strlen(err->msg);
    // A note longer than the room left is cut (the message is bounded; its file names come first).
    if (note[0] && n + 3 < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - n, "; %.*s", (int)(sizeof err->msg - n - 3), note);
    return -1;
}

static int writer_result(gan_ckpt_writer *w, int rc, gan_err *err) {
    if (rc != 0 && !w->failed) {
        w->failed = true;
        save_failed(w->path, err);
    }
    return rc;
}

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    void *p = malloc(size);
    if (p) ((memory_image *)udata)->cap = size;
    return p;
}

static void *image_memcpy(void *dst, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op, (void)udata;
    return memcpy(dst, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    void *p = realloc(ptr, size);
    if (p) ((memory_image *)udata)->cap = size;
    return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    memory_image *m = udata;
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && ptr) {
        free(m->buf);
        m->buf = ptr;
    } else {
        free(ptr);
    }
    return 0;
}

static void *image_udata_copy(void *udata) { return udata; }
static herr_t image_udata_free(void *udata) {
    (void)udata;
    return 0;
}

// An HDF5 file in memory with gan_h5_create's properties (creation order, no timestamps, the
// 1.10 format, strong close), named `path` in messages. (HDF5 1.10.8's H5Fget_file_image of a
// file open for writing clears the superblock's status flags without redoing its checksum, so
// the bytes are taken at close instead.)
static int create_in_memory(gan_h5 *f, const char *path, memory_image *image, gan_err *err) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    f->id = H5I_INVALID_HID;
    snprintf(f->path, sizeof f->path, "%s", path);
    // HDF5 first tries to open an existing file of the name it is given (the core driver would
    // read it whole into memory), so it gets one that names no file.
    char name[GAN_PATH_MAX + 64];
    snprintf(name, sizeof name, "%s.in-memory", path);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5FD_file_image_callbacks_t callbacks = {image_malloc, image_memcpy, image_realloc, image_free,
                                             image_udata_copy, image_udata_free, image};
    int rc = 0;
    if (fcpl < 0 || fapl < 0 ||
        H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_obj_track_times(fcpl, false) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0 ||
        H5Pset_fapl_core(fapl, CKPT_MEMORY_INCREMENT, false) < 0 ||
        H5Pset_file_image_callbacks(fapl, &callbacks) < 0 ||
        (f->id = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
        rc = gan_errf(err, RT, "%s: cannot start the checkpoint (an HDF5 file in memory)", path);
    H5Eclear2(H5E_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    return rc;
}

int gan_ckpt_create(const char *path, gan_ckpt_writer **out, gan_err *err) {
    *out = NULL;
    if (strlen(path) + 32 >= GAN_PATH_MAX) return gan_errf(err, RT, "checkpoint path too long: %s", path);
    char dir[GAN_PATH_MAX];
    gan_fs_dirname(path, dir, sizeof dir);
    if (!gan_fs_is_dir(dir))
        return gan_errf(err, RT, "cannot write checkpoint %s: directory %s does not exist", path, dir);

    gan_ckpt_writer *w = gan_xcalloc(1, sizeof *w, "a checkpoint writer");
    snprintf(w->path, sizeof w->path, "%s", path);
    gan_fs_tmp_path(path, w->tmp, sizeof w->tmp);  // the name gan_fs_write_atomic writes through
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        gan_errf(err, RT, "%s: cannot write: %s (creating the temporary file %s)", path, strerror(errno), w->tmp);
        save_failed(path, err);
        free(w);
        return -1;
    }
    close(fd);
    if (create_in_memory(&w->f, path, &w->image, err) != 0) {
        gan_ckpt_abort(w);
        return -1;
    }
    if (gan_h5_set_attr_i64(&w->f, "/", "format_version", GAN_CKPT_FORMAT_VERSION, err) != 0) {
        gan_ckpt_abort(w);
        return -1;
    }
    *out = w;
    return 0;
}

// One dataset per parameter of ps, with values from `host` (a host copy of a block of ps's
// layout).
static int write_block(gan_ckpt_writer *w, const char *group, const ag_params *ps, const float *host,
                       gan_err *err) {
    if (gan_h5_create_group(&w->f, group, err) != 0) return -1;
    char dset[GAN_PATH_MAX];
    for (int i = 0; i < ps->count; i++) {
        const ag_param *p = &ps->items[i];
        if (obj_join(dset, sizeof dset, group, p->name, w->path, err) != 0) return -1;
        const float *v = host + p->offset;
        int rc;
        if (is_torch_int64(p)) {
            int64_t n = (int64_t)v[0];
            GAN_CHECK((float)n == v[0], "checkpoint: %s holds %g, not a whole number", p->name, (double)v[0]);
            rc = gan_h5_write_i64(&w->f, dset, 0, NULL, &n, err);
        } else {
            rc = gan_h5_write_f32(&w->f, dset, p->t->shape, v, err);
        }
        if (rc != 0) return -1;
    }
    return 0;
}

int gan_ckpt_write_params(gan_ckpt_writer *w, const char *group, const ag_params *ps, gan_err *err) {
    GAN_CHECK(ps->finalized, "gan_ckpt_write_params(%s): the set is not finalized", group);
    float *host = block_to_host(ps->values);
    int rc = write_block(w, group, ps, host, err);
    free(host);
    return writer_result(w, rc, err);
}

// The double nearest to the shortest decimal that reads back as x: a float lr of 2e-4 is
// stored as 0.0002, not 0.000199999994947575, which is what a researcher expects to see.
static double float_as_decimal(float x) {
    char buf[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
        if (strtof(buf, NULL) == x) return strtod(buf, NULL);
    }
    return x;
}

static int write_adam(gan_ckpt_writer *w, const char *group, const ag_adam *o, gan_err *err) {
    char sub[GAN_PATH_MAX];
    float *host = block_to_host(o->m);
    int rc = obj_join(sub, sizeof sub, group, "exp_avg", w->path, err);
    if (rc == 0) rc = write_block(w, sub, o->ps, host, err);
    free(host);
    if (rc != 0) return -1;
    host = block_to_host(o->v);
    rc = obj_join(sub, sizeof sub, group, "exp_avg_sq", w->path, err);
    if (rc == 0) rc = write_block(w, sub, o->ps, host, err);
    free(host);
    if (rc != 0) return -1;
    gan_h5 *f = &w->f;
    if (gan_h5_set_attr_i64(f, group, "step", o->step, err) != 0 ||
        gan_h5_set_attr_f64(f, group, "lr", float_as_decimal(o->lr), err) != 0 ||
        gan_h5_set_attr_f64(f, group, "beta1", float_as_decimal(o->beta1), err) != 0 ||
        gan_h5_set_attr_f64(f, group, "beta2", float_as_decimal(o->beta2), err) != 0 ||
        gan_h5_set_attr_f64(f, group, "eps", float_as_decimal(o->eps), err) != 0 ||
        gan_h5_set_attr_f64(f, group, "weight_decay", float_as_decimal(o->weight_decay), err) != 0)
        return -1;
    return 0;
}

int gan_ckpt_write_module(gan_ckpt_writer *w, const char *group, ag_params *const *sets, int nsets, gan_err *err) {
    for (int i = 0; i < nsets; i++)
        if (gan_ckpt_write_params(w, group, sets[i], err) != 0) return -1;
    return 0;
}

int gan_ckpt_write_adam(gan_ckpt_writer *w, const char *group, const ag_adam *o, gan_err *err) {
    return writer_result(w, write_adam(w, group, o, err), err);
}

int gan_ckpt_write_tensor(gan_ckpt_writer *w, const char *dset, const ag_tensor *t, gan_err *err) {
    return writer_result(w, gan_h5_write_tensor(&w->f, dset, t, err), err);
}

int gan_ckpt_write_f32(gan_ckpt_writer *w, const char *dset, ag_shape shape, const float *values, gan_err *err) {
    return writer_result(w, gan_h5_write_f32(&w->f, dset, shape, values, err), err);
}

int gan_ckpt_write_i64(gan_ckpt_writer *w, const char *dset, int64_t value, gan_err *err) {
    return writer_result(w, gan_h5_write_i64(&w->f, dset, 0, NULL, &value, err), err);
}

int gan_ckpt_set_attr_i64(gan_ckpt_writer *w, const char *obj, const char *name, int64_t value, gan_err *err) {
    return writer_result(w, gan_h5_set_attr_i64(&w->f, obj, name, value, err), err);
}

int gan_ckpt_set_attr_f64(gan_ckpt_writer *w, const char *obj, const char *name, double value, gan_err *err) {
    return writer_result(w, gan_h5_set_attr_f64(&w->f, obj, name, value, err), err);
}

int gan_ckpt_set_attr_str(gan_ckpt_writer *w, const char *obj, const char *name, const char *value,
                          gan_err *err) {
    return writer_result(w, gan_h5_set_attr_str(&w->f, obj, name, value, err), err);
}

int gan_ckpt_set_attr_rng(gan_ckpt_writer *w, const char *obj, const char *name, const ag_rng *rng,
                          gan_err *err) {
    uint64_t state[2] = {rng->seed, rng->counter};
    return writer_result(w, gan_h5_set_attr_u64s(&w->f, obj, name, state, 2, err), err);
}

// The length of the HDF5 file in buf (cap bytes): the end-of-file address of its superblock,
// version 2 or 3 with 8-byte addresses as create_in_memory makes it; 0 for anything else.
static size_t image_length(const unsigned char *buf, size_t cap) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (!buf || cap < 48 || memcmp(buf, signature, 8) || buf[8] < 2 || buf[8] > 3 || buf[9] != 8) return 0;
    uint64_t eof = 0;
    for (int i = 7; i >= 0; i--) eof = eof << 8 | buf[28 + i];  // little-endian
    return eof >= 48 && eof <= cap ? (size_t)eof : 0;
}

int gan_ckpt_commit(gan_ckpt_writer *w, gan_err *err) {
    if (w->failed) {
        gan_errf(err, RT, "%s: not saved: an earlier write into it failed", w->path);
        save_failed(w->path, err);
        gan_ckpt_abort(w);
        return -1;
    }
    // Closing the file in memory flushes HDF5's metadata into it; image_free then hands over the
    // bytes, which reach the disk in one atomic write.
    int rc = gan_h5_close(&w->f, err);
    size_t n = rc == 0 ? image_length(w->image.buf, w->image.cap) : 0;
    if (rc == 0 && n == 0)
        rc = gan_errf(err, RT, "%s: not saved: HDF5 gave no file image to write (an HDF5 version whose core "
                      "driver this build does not know?)", w->path);
    if (rc == 0) {
        rc = gan_fs_write_atomic(w->path, w->image.buf, n, err);  // moves or removes w->tmp
        w->tmp[0] = '\0';
    }
    if (rc != 0) save_failed(w->path, err);
    gan_ckpt_abort(w);  // removes w->tmp when still there; frees the image and w
    return rc;
}

void gan_ckpt_abort(gan_ckpt_writer *w) {
    if (!w) return;
    gan_h5_close(&w->f, NULL);  // a file in memory
    if (w->tmp[0]) unlink(w->tmp);
    free(w->image.buf);
    free(w);
}

// --- reading ------------------------------------------------------------------------------

int gan_ckpt_open(const char *path, gan_ckpt_reader **out, gan_err *err) {
    *out = NULL;
    gan_ckpt_reader *r = gan_xcalloc(1, sizeof *r, "a checkpoint reader");
    if (gan_h5_open(&r->f, path, err) != 0) {
        free(r);
        return -1;
    }
    int64_t version = 0;
    if (!gan_h5_has_attr(&r->f, "/", "format_version")) {
        gan_errf(err, RT, "%s: not a gan.c checkpoint (no format_version attribute on /)", path);
        goto fail;
    }
    if (gan_h5_get_attr_i64(&r->f, "/", "format_version", &version, err) != 0) goto fail;
    if (version != GAN_CKPT_FORMAT_VERSION) {
        gan_errf(err, RT, "%s: checkpoint format version %lld, but this build reads version %d", path,
                 (long long)version, GAN_CKPT_FORMAT_VERSION);
        goto fail;
    }
    *out = r;
    return 0;
fail:
    gan_ckpt_close(r);
    return -1;
}

void gan_ckpt_close(gan_ckpt_reader *r) {
    if (!r) return;
    gan_h5_close(&r->f, NULL);
    free(r);
}

// Differences between a group and the sets that should fill it, gathered into one message.
typedef struct diff_list {
    char text[800];
    int shown, more;
} diff_list;

__attribute__((format(printf, 2, 3))) static void diff_add(diff_list *d, const char *fmt, ...) {
    char item[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    size_t used = strlen(d->text);
    if (used + strlen(item) + 2 >= sizeof d->text) {
        d->more++;
        return;
    }
    snprintf(d->text + used, sizeof d->text - used, "%s%s", d->shown ? "; " : "", item);
    d->shown++;
}

// A dataset fits a parameter when the shapes are equal, or when a 0-dim scalar (PyTorch's int64
// buffers) fills a one-element parameter.
static bool shape_fits(const gan_h5_info *info, const ag_tensor *t) {
    if (info->rank == 0) return t->numel == 1 && info->numel == 1;
    if (info->rank != t->shape.ndim) return false;
    for (int i = 0; i < info->rank; i++)
        if (info->dims[i] != t->shape.d[i]) return false;
    return true;
}

static int check_layout(gan_ckpt_reader *r, const char *group, const ag_params *const *sets, int nsets,
                        gan_err *err) {
    const char *file = r->f.path;
    if (!gan_h5_is_group(&r->f, group)) return gan_errf(err, RT, "%s: no group %s in the checkpoint", file, group);
    char **names;
    int count;
    if (gan_h5_list(&r->f, group, &names, &count, err) != 0) return -1;
    bool *used = gan_xcalloc((size_t)count + 1, sizeof *used, "a checkpoint group's name flags");
    diff_list d = {0};
    char dset[GAN_PATH_MAX], a[128], b[128];
    int rc = 0;
    for (int s = 0; s < nsets && rc == 0; s++) {
        const ag_params *ps = sets[s];
        GAN_CHECK(ps->finalized, "checkpoint: reading %s into a set that is not finalized", group);
        for (int i = 0; i < ps->count && rc == 0; i++) {
            const ag_param *p = &ps->items[i];
            int k = 0;
            while (k < count && strcmp(names[k], p->name)) k++;
            if (k == count) {
                diff_add(&d, "missing %s", p->name);
                continue;
            }
            GAN_CHECK(!used[k], "checkpoint: parameter %s appears in two of the sets read from %s", p->name, group);
            used[k] = true;
            gan_h5_info info;
            if (obj_join(dset, sizeof dset, group, p->name, file, err) != 0 ||
                gan_h5_dataset_info(&r->f, dset, &info, err) != 0) {
                rc = -1;
                break;
            }
            if (info.cls != GAN_H5_FLOAT && info.cls != GAN_H5_INT)
                diff_add(&d, "%s: not numeric data", p->name);
            else if (!shape_fits(&info, p->t))
                diff_add(&d, "%s: shape %s in file vs %s expected", p->name,
                         gan_h5_dims_str(info.rank, info.dims, a, sizeof a),
                         ag_shape_str(p->t->shape, b, sizeof b));
        }
    }
    for (int k = 0; k < count && rc == 0; k++)
        if (!used[k]) diff_add(&d, "unexpected %s", names[k]);
    if (rc == 0 && d.shown + d.more > 0) {
        char more[64] = "";
        if (d.more) snprintf(more, sizeof more, "; and %d more differences", d.more);
        rc = gan_errf(err, RT, "%s:%s does not match the model: %s%s", file, group, d.text, more);
    }
    free(used);
    gan_h5_list_free(names, count);
    return rc;
}

// Reads every parameter of ps from `group` into stage (a host block of ps's layout).
static int stage_read(gan_ckpt_reader *r, const char *group, const ag_params *ps, float *stage, gan_err *err) {
    char dset[GAN_PATH_MAX];
    for (int i = 0; i < ps->count; i++) {
        const ag_param *p = &ps->items[i];
        if (obj_join(dset, sizeof dset, group, p->name, r->f.path, err) != 0 ||
            gan_h5_read_f32_n(&r->f, dset, p->t->numel, stage + p->offset, err) != 0)
            return -1;
    }
    return 0;
}

int gan_ckpt_read_module(gan_ckpt_reader *r, const char *group, ag_params *const *sets, int nsets,
                         gan_err *err) {
    GAN_CHECK(nsets >= 1, "gan_ckpt_read_module(%s): no sets", group);
    if (check_layout(r, group, (const ag_params *const *)sets, nsets, err) != 0) return -1;
    float **stage = gan_xcalloc((size_t)nsets, sizeof *stage, "the staging of parameter sets");
    int rc = 0;
    // Staging starts from the current block so the padding between parameters is kept as is.
    for (int s = 0; s < nsets && rc == 0; s++) {
        stage[s] = block_to_host(sets[s]->values);
        rc = stage_read(r, group, sets[s], stage[s], err);
    }
    if (rc == 0)
        for (int s = 0; s < nsets; s++) ag_tensor_from_host(sets[s]->values, stage[s]);
    for (int s = 0; s < nsets; s++) free(stage[s]);
    free(stage);
    return rc;
}

int gan_ckpt_read_params(gan_ckpt_reader *r, const char *group, ag_params *ps, gan_err *err) {
    return gan_ckpt_read_module(r, group, &ps, 1, err);
}

int gan_ckpt_read_adam(gan_ckpt_reader *r, const char *group, ag_adam *o, gan_err *err) {
    const char *file = r->f.path;
    char m_group[GAN_PATH_MAX], v_group[GAN_PATH_MAX];
    if (!gan_h5_is_group(&r->f, group)) return gan_errf(err, RT, "%s: no group %s in the checkpoint", file, group);
    if (obj_join(m_group, sizeof m_group, group, "exp_avg", file, err) != 0 ||
        obj_join(v_group, sizeof v_group, group, "exp_avg_sq", file, err) != 0)
        return -1;
    int64_t step;
    if (gan_h5_get_attr_i64(&r->f, group, "step", &step, err) != 0) return -1;
    if (step < 0) return gan_errf(err, RT, "%s:%s: step %lld is negative", file, group, (long long)step);
    const ag_params *ps = o->ps;
    if (check_layout(r, m_group, &ps, 1, err) != 0 || check_layout(r, v_group, &ps, 1, err) != 0) return -1;
    float *m = block_to_host(o->m), *v = block_to_host(o->v);
    int rc = stage_read(r, m_group, ps, m, err);
    if (rc == 0) rc = stage_read(r, v_group, ps, v, err);
    if (rc == 0) {
        ag_tensor_from_host(o->m, m);
        ag_tensor_from_host(o->v, v);
        o->step = step;
    }
    free(m);
    free(v);
    return rc;
}

int gan_ckpt_read_tensor(gan_ckpt_reader *r, const char *dset, ag_tensor *t, gan_err *err) {
    return gan_h5_read_tensor(&r->f, dset, t, err);
}

int gan_ckpt_read_f32(gan_ckpt_reader *r, const char *dset, ag_shape shape, float *values, gan_err *err) {
    return gan_h5_read_f32(&r->f, dset, shape, values, err);
}

int gan_ckpt_read_i64(gan_ckpt_reader *r, const char *dset, int64_t *value, gan_err *err) {
    return gan_h5_read_i64(&r->f, dset, 1, value, err);
}

bool gan_ckpt_has(gan_ckpt_reader *r, const char *obj) { return gan_h5_exists(&r->f, obj); }

bool gan_ckpt_has_attr(gan_ckpt_reader *r, const char *obj, const char *name) {
    return gan_h5_has_attr(&r->f, obj, name);
}

int gan_ckpt_get_attr_i64(gan_ckpt_reader *r, const char *obj, const char *name, int64_t *value, gan_err *err) {
    return gan_h5_get_attr_i64(&r->f, obj, name, value, err);
}

int gan_ckpt_get_attr_f64(gan_ckpt_reader *r, const char *obj, const char *name, double *value, gan_err *err) {
    return gan_h5_get_attr_f64(&r->f, obj, name, value, err);
}

int gan_ckpt_get_attr_str(gan_ckpt_reader *r, const char *obj, const char *name, char **value, gan_err *err) {
    return gan_h5_get_attr_str(&r->f, obj, name, value, err);
}

int gan_ckpt_get_attr_rng(gan_ckpt_reader *r, const char *obj, const char *name, ag_rng *rng, gan_err *err) {
    uint64_t state[2];
    if (gan_h5_get_attr_u64s(&r->f, obj, name, state, 2, err) != 0) return -1;
    rng->seed = state[0];
    rng->counter = state[1];
    return 0;
}

// A root attribute, when present, in [lo, hi]; *value is left alone when it is absent.
static int check_attr_i64(gan_ckpt_reader *r, const char *name, int64_t lo, int64_t hi, int64_t *value,
                          gan_err *err) {
    if (!gan_h5_has_attr(&r->f, "/", name)) return 0;
    if (gan_h5_get_attr_i64(&r->f, "/", name, value, err) != 0) return -1;
    if (*value >= lo && *value <= hi) return 0;
    return gan_errf(err, RT, "%s: attribute %s is %lld; expected an integer in [%lld, %lld] (an edited or "
                    "damaged checkpoint)", r->f.path, name, (long long)*value, (long long)lo, (long long)hi);
}

// The same for a float: finite and >= 0, or NaN where `nan_ok` (no value yet).
static int check_attr_f64(gan_ckpt_reader *r, const char *name, bool nan_ok, gan_err *err) {
    double x;
    if (!gan_h5_has_attr(&r->f, "/", name)) return 0;
    if (gan_h5_get_attr_f64(&r->f, "/", name, &x, err) != 0) return -1;
    if ((isfinite(x) && x >= 0) || (nan_ok && isnan(x))) return 0;
    return gan_errf(err, RT, "%s: attribute %s is %g; expected a finite number >= 0%s (an edited or damaged "
                    "checkpoint)", r->f.path, name, x, nan_ok ? " or nan" : "");
}

int gan_ckpt_check_state_attrs(gan_ckpt_reader *r, gan_err *err) {
    int64_t step = INT64_MAX, count = INT64_MAX, x;
    return check_attr_i64(r, "step", 0, INT64_MAX, &step, err) ||
           check_attr_i64(r, "data_epoch", 0, INT64_MAX, &x, err) ||
           check_attr_i64(r, "data_count", 1, INT64_MAX, &count, err) ||
           check_attr_i64(r, "data_position", 0, count - 1, &x, err) ||
           check_attr_i64(r, "threads", 1, INT_MAX, &x, err) ||
           check_attr_i64(r, "image_height", 1, INT_MAX, &x, err) ||
           check_attr_i64(r, "image_width", 1, INT_MAX, &x, err) ||
           check_attr_i64(r, "best_step", 0, step, &x, err) ||
           check_attr_f64(r, "elapsed_seconds", false, err) ||
           check_attr_f64(r, "best_fid", true, err) ? -1 : 0;
}

// --- a run's checkpoint directory ---------------------------------------------------------

int gan_ckpt_step_path(char *dst, size_t size, const char *dir, int64_t step, gan_err *err) {
    GAN_CHECK(step >= 0, "gan_ckpt_step_path: negative step %lld", (long long)step);
    char name[64];
    snprintf(name, sizeof name, "ckpt-%08lld.h5", (long long)step);
    return gan_fs_join(dst, size, dir, name, err);
}

typedef struct ckpt_entry {
    int64_t step;
    char *name;
} ckpt_entry;

// "ckpt-" + at least 8 digits + ".h5", nothing else. Returns the step or -1.
static int64_t parse_ckpt_name(const char *name) {
    if (strncmp(name, "ckpt-", 5)) return -1;
    const char *p = name + 5;
    int64_t step = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18) return -1;
        step = step * 10 + (*p - '0');
    }
    if (digits < 8 || strcmp(p, ".h5")) return -1;
    return step;
}

static int newest_first(const void *a, const void *b) {
    int64_t x = ((const ckpt_entry *)a)->step, y = ((const ckpt_entry *)b)->step;
    return x < y ? 1 : x > y ? -1 : 0;
}

// The ckpt-*.h5 files of dir, newest first. A missing directory holds none.
static int list_ckpts(const char *dir, ckpt_entry **out, int *nout, gan_err *err) {
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : gan_errf(err, RT, "cannot list checkpoint directory %s: %s", dir, strerror(errno));
    ckpt_entry *list = NULL;
    int count = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        int64_t step = parse_ckpt_name(e->d_name);
        if (step < 0) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            list = gan_xrealloc(list, (size_t)cap * sizeof *list, "the list of checkpoints");
        }
        list[count].step = step;
        list[count].name = gan_xstrdup(e->d_name, "a checkpoint's file name");
        count++;
    }
    closedir(d);
    if (count) qsort(list, (size_t)count, sizeof *list, newest_first);
    *out = list;
    *nout = count;
    return 0;
}

static void free_ckpts(ckpt_entry *list, int count) {
    for (int i = 0; i < count; i++) free(list[i].name);
    free(list);
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);  // best effort: makes renames durable where the filesystem allows
        close(fd);
    }
}

// Points dir/latest.h5 at `target` (a name in dir): a new link under a temporary name, renamed
// over the old one, so readers see either the old link or the new one.
static int update_latest(const char *dir, const char *target, gan_err *err) {
    char link_path[GAN_PATH_MAX], tmp[GAN_PATH_MAX];
    if (gan_fs_join(link_path, sizeof link_path, dir, "latest.h5", err) != 0) return -1;
    gan_fs_tmp_path(link_path, tmp, sizeof tmp);
    unlink(tmp);  // a leftover of a crashed earlier attempt by a process with our pid
    int rc = symlink(target, tmp), e = errno;
    if (rc == 0 && rename(tmp, link_path) != 0) {
        rc = -1;
        e = errno;
        unlink(tmp);
    }
    if (rc != 0) {
        char current[GAN_PATH_MAX];
        latest_target(link_path, current, sizeof current);
        return gan_errf(err, RT, "%s: cannot point it at %s: %s; it still names %s", link_path, target, strerror(e),
                        current[0] ? current : "nothing (it does not exist)");
    }
    fsync_dir(dir);
    return 0;
}

int gan_ckpt_rotate(const char *dir, int keep, gan_err *err) {
    GAN_CHECK(keep >= 1, "gan_ckpt_rotate: keep %d, at least 1 expected", keep);
    if (!gan_fs_is_dir(dir)) return gan_errf(err, RT, "cannot list checkpoint directory %s: not a directory", dir);
    ckpt_entry *list;
    int count;
    if (list_ckpts(dir, &list, &count, err) != 0) return -1;
    int rc = 0;
    if (count > 0 && update_latest(dir, list[0].name, err) != 0) {
        // The checkpoint itself is saved: commands that take the run find it as the newest.
        char saved[GAN_PATH_MAX];
        if (gan_fs_join(saved, sizeof saved, dir, list[0].name, NULL) == 0) {
            size_t n = strlen(err ? err->msg : "");
            if (err && n + 2 < sizeof err->msg)
                snprintf(err->msg + n, sizeof err->msg - n, "; %.900s itself is saved and is taken as the run's "
                         "newest checkpoint", saved);
        }
        rc = -1;
    }
    char path[GAN_PATH_MAX];
    for (int i = keep; i < count && rc == 0; i++) {
        if (gan_fs_join(path, sizeof path, dir, list[i].name, err) != 0) rc = -1;
        else if (unlink(path) != 0 && errno != ENOENT)
            rc = gan_errf(err, RT, "cannot delete old checkpoint %s: %s", path, strerror(errno));
    }
    free_ckpts(list, count);
    return rc;
}

// The target latest.h5 names (a name in dir), or "" when it is no link.
static void latest_target(const char *link_path, char *target, size_t size) {
    ssize_t n = readlink(link_path, target, size - 1);
    target[n > 0 ? n : 0] = '\0';
}

// The newest ckpt-*.h5 of the list that opens as a checkpoint, as a path in dir; "" when none.
static void newest_intact(const char *dir, const ckpt_entry *list, int count, char *path, size_t size) {
    for (int i = 0; i < count; i++) {
        gan_ckpt_reader *r;
        if (gan_fs_join(path, size, dir, list[i].name, NULL) == 0 && gan_ckpt_open(path, &r, NULL) == 0) {
            gan_ckpt_close(r);
            return;
        }
    }
    path[0] = '\0';
}

// What a failed save left on disk, for the end of its message: the file already at `path`
// (rename never happened), or for "ckpt-N.h5" the newest intact checkpoint before step N and
// whether latest.h5 still names it.
static void kept_note(const char *path, char *note, size_t size) {
    note[0] = '\0';
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int64_t step = parse_ckpt_name(base);
    struct stat st;
    if (lstat(path, &st) == 0) {
        snprintf(note, size, "the existing %s is unchanged", path);
        return;
    }
    if (step < 0) return;
    char dir[GAN_PATH_MAX], link_path[GAN_PATH_MAX], target[GAN_PATH_MAX], prev[GAN_PATH_MAX];
    gan_fs_dirname(path, dir, sizeof dir);
    ckpt_entry *list;
    int count;
    if (list_ckpts(dir, &list, &count, NULL) != 0) return;
    int first = 0;  // the older ones
    while (first < count && list[first].step >= step) first++;
    newest_intact(dir, list + first, count - first, prev, sizeof prev);
    free_ckpts(list, count);
    if (!prev[0]) {
        snprintf(note, size, "no earlier checkpoint is in %s", dir);
        return;
    }
    if (gan_fs_join(link_path, sizeof link_path, dir, "latest.h5", NULL) != 0) link_path[0] = '\0';
    latest_target(link_path, target, sizeof target);
    const char *prev_base = strrchr(prev, '/') ? strrchr(prev, '/') + 1 : prev;
    if (!strcmp(target, prev_base))
        snprintf(note, size, "the previous checkpoint %s is intact and %s still names it", prev, link_path);
    else
        snprintf(note, size, "the previous checkpoint %s is intact", prev);
}

int gan_ckpt_find_latest(const char *dir, char *path, size_t size, gan_err *err) {
    char link_path[GAN_PATH_MAX], target[GAN_PATH_MAX];
    if (gan_fs_join(link_path, sizeof link_path, dir, "latest.h5", err) != 0) return -1;
    ckpt_entry *list;
    int count;
    if (list_ckpts(dir, &list, &count, err) != 0) return -1;
    struct stat st;
    const bool has_link = lstat(link_path, &st) == 0;
    int rc = 1;
    if (has_link && stat(link_path, &st) != 0) {
        latest_target(link_path, target, sizeof target);
        char offer[GAN_PATH_MAX];
        newest_intact(dir, list, count, offer, sizeof offer);
        if (offer[0])
            rc = gan_errf(err, RT, "%s is dangling: its target %s is missing; the newest intact checkpoint is %s, "
                          "name it instead", link_path, target, offer);
        else
            rc = gan_errf(err, RT, "%s is dangling: its target %s is missing, and no intact checkpoint is left in %s",
                          link_path, target, dir);
    } else if (has_link) {
        // A ckpt-*.h5 newer than the link's target: the writer was killed between saving it and
        // moving the link.
        latest_target(link_path, target, sizeof target);
        int64_t linked = parse_ckpt_name(target);
        if (count > 0 && linked >= 0 && list[0].step > linked) {
            if (gan_fs_join(path, size, dir, list[0].name, err) != 0) rc = -1;
        } else if (snprintf(path, size, "%s", link_path) >= (int)size) {
            rc = gan_errf(err, RT, "path too long: %s", link_path);
        }
    } else if (count > 0) {
        if (gan_fs_join(path, size, dir, list[0].name, err) != 0) rc = -1;
    } else {
        rc = 0;
    }
    free_ckpts(list, count);
    return rc;
}

// The step stored in a checkpoint file, or -1 when it cannot be read.
static int64_t stored_step(const char *path) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, NULL) != 0) return -1;
    int64_t step = -1;
    if (gan_ckpt_get_attr_i64(r, "/", "step", &step, NULL) != 0) step = -1;
    gan_ckpt_close(r);
    return step;
}

// "<dir>/abandoned-<UTC date-time>", with "-2", "-3"... when one of that second exists.
static int make_aside(const char *dir, char *aside, size_t size, gan_err *err) {
    char stamp[32], name[48];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int i = 1; i < 1000; i++) {
        if (i == 1) snprintf(name, sizeof name, "abandoned-%s", stamp);
        else snprintf(name, sizeof name, "abandoned-%s-%d", stamp, i);
        if (gan_fs_join(aside, size, dir, name, err) != 0) return -1;
        if (mkdir(aside, 0777) == 0) return 0;
        if (errno != EEXIST) return gan_errf(err, RT, "cannot create directory %s: %s", aside, strerror(errno));
    }
    return gan_errf(err, RT, "cannot create a directory %s/abandoned-%s-N: too many exist", dir, stamp);
}

static int move_into(const char *dir, const char *name, const char *aside, gan_err *err) {
    char from[GAN_PATH_MAX], to[GAN_PATH_MAX];
    if (gan_fs_join(from, sizeof from, dir, name, err) != 0 || gan_fs_join(to, sizeof to, aside, name, err) != 0)
        return -1;
    if (rename(from, to) != 0) return gan_errf(err, RT, "cannot move %s to %s: %s", from, aside, strerror(errno));
    return 0;
}

int gan_ckpt_branch(const char *dir, int64_t step, const char *from, char *aside, size_t size, gan_err *err) {
    aside[0] = '\0';
    char link_path[GAN_PATH_MAX], best[GAN_PATH_MAX], target[GAN_PATH_MAX];
    if (gan_fs_join(link_path, sizeof link_path, dir, "latest.h5", err) != 0 ||
        gan_fs_join(best, sizeof best, dir, "best.h5", err) != 0)
        return -1;
    // Resuming latest.h5 itself starts the branch at its target ("" for a plain file named
    // latest.h5: then the link is not touched, or the file would be lost).
    if (!strcmp(from, "latest.h5")) {
        latest_target(link_path, target, sizeof target);
        from = target;
    }
    ckpt_entry *list;
    int count;
    if (list_ckpts(dir, &list, &count, err) != 0) return -1;
    int newer = 0;
    while (newer < count && list[newer].step > step) newer++;
    const bool best_newer = strcmp(from, "best.h5") && gan_fs_exists(best) && stored_step(best) > step;
    int rc = 0;
    if (newer > 0 || best_newer) rc = make_aside(dir, aside, size, err);
    if (rc == 0 && best_newer) rc = move_into(dir, "best.h5", aside, err);
    // Oldest first, the newest last: a crash in between leaves latest.h5 on a checkpoint still
    // there (the old branch goes on) or dangling (and the message offers the newest one left).
    for (int i = newer - 1; i >= 0 && rc == 0; i--) rc = move_into(dir, list[i].name, aside, err);
    if (rc == 0 && aside[0]) fsync_dir(aside);
    char current[GAN_PATH_MAX];
    latest_target(link_path, current, sizeof current);
    if (rc == 0 && from[0] && strcmp(current, from)) rc = update_latest(dir, from, err);
    else if (rc == 0 && aside[0]) fsync_dir(dir);
    free_ckpts(list, count);
    return rc;
}
