#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"
#include "h5io.h"

#define RT GAN_EXIT_RUNTIME

struct gan_ckpt_writer {
    gan_h5 f;  // open on tmp; its path (used in messages) is the final path
    char path[GAN_PATH_MAX];
    char tmp[GAN_PATH_MAX];
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

static int writer_result(gan_ckpt_writer *w, int rc) {
    if (rc != 0) w->failed = true;
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
    gan_fs_tmp_path(path, w->tmp, sizeof w->tmp);
    if (gan_h5_create(&w->f, w->tmp, err) != 0) {
        unlink(w->tmp);
        free(w);
        return -1;
    }
    // Messages name the file the user asked for, not its temporary name.
    snprintf(w->f.path, sizeof w->f.path, "%s", path);
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
    return writer_result(w, rc);
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
    return writer_result(w, write_adam(w, group, o, err));
}

int gan_ckpt_write_tensor(gan_ckpt_writer *w, const char *dset, const ag_tensor *t, gan_err *err) {
    return writer_result(w, gan_h5_write_tensor(&w->f, dset, t, err));
}

int gan_ckpt_write_f32(gan_ckpt_writer *w, const char *dset, ag_shape shape, const float *values, gan_err *err) {
    return writer_result(w, gan_h5_write_f32(&w->f, dset, shape, values, err));
}

int gan_ckpt_write_i64(gan_ckpt_writer *w, const char *dset, int64_t value, gan_err *err) {
    return writer_result(w, gan_h5_write_i64(&w->f, dset, 0, NULL, &value, err));
}

int gan_ckpt_set_attr_i64(gan_ckpt_writer *w, const char *obj, const char *name, int64_t value, gan_err *err) {
    return writer_result(w, gan_h5_set_attr_i64(&w->f, obj, name, value, err));
}

int gan_ckpt_set_attr_f64(gan_ckpt_writer *w, const char *obj, const char *name, double value, gan_err *err) {
    return writer_result(w, gan_h5_set_attr_f64(&w->f, obj, name, value, err));
}

int gan_ckpt_set_attr_str(gan_ckpt_writer *w, const char *obj, const char *name, const char *value,
                          gan_err *err) {
    return writer_result(w, gan_h5_set_attr_str(&w->f, obj, name, value, err));
}

int gan_ckpt_set_attr_rng(gan_ckpt_writer *w, const char *obj, const char *name, const ag_rng *rng,
                          gan_err *err) {
    uint64_t state[2] = {rng->seed, rng->counter};
    return writer_result(w, gan_h5_set_attr_u64s(&w->f, obj, name, state, 2, err));
}

int gan_ckpt_commit(gan_ckpt_writer *w, gan_err *err) {
    if (w->failed) {
        gan_errf(err, RT, "%s: not saved: an earlier write into it failed", w->path);
        gan_ckpt_abort(w);
        return -1;
    }
    if (gan_h5_close(&w->f, err) != 0) {
        gan_ckpt_abort(w);
        return -1;
    }
    int rc = gan_fs_commit(w->tmp, w->path, err);  // removes tmp itself on failure
    free(w);
    return rc;
}

void gan_ckpt_abort(gan_ckpt_writer *w) {
    if (!w) return;
    gan_h5_close(&w->f, NULL);
    unlink(w->tmp);
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

// Points dir/latest.h5 at `target` (a name in dir): a new link under a temporary name, renamed
// over the old one, so readers see either the old link or the new one.
static int update_latest(const char *dir, const char *target, gan_err *err) {
    char link_path[GAN_PATH_MAX], tmp[GAN_PATH_MAX];
    if (gan_fs_join(link_path, sizeof link_path, dir, "latest.h5", err) != 0) return -1;
    gan_fs_tmp_path(link_path, tmp, sizeof tmp);
    unlink(tmp);  // a leftover of a crashed earlier attempt by a process with our pid
    if (symlink(target, tmp) != 0)
        return gan_errf(err, RT, "cannot create the link %s: %s", tmp, strerror(errno));
    if (rename(tmp, link_path) != 0) {
        int e = errno;
        unlink(tmp);
        return gan_errf(err, RT, "cannot move the link %s into place: %s", link_path, strerror(e));
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);  // best effort: makes the rename durable where the filesystem allows
        close(fd);
    }
    return 0;
}

int gan_ckpt_rotate(const char *dir, int keep, gan_err *err) {
    GAN_CHECK(keep >= 1, "gan_ckpt_rotate: keep %d, at least 1 expected", keep);
    DIR *d = opendir(dir);
    if (!d) return gan_errf(err, RT, "cannot list checkpoint directory %s: %s", dir, strerror(errno));
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
    qsort(list, (size_t)count, sizeof *list, newest_first);
    int rc = 0;
    if (count > 0) rc = update_latest(dir, list[0].name, err);
    char path[GAN_PATH_MAX];
    for (int i = keep; i < count && rc == 0; i++) {
        if (gan_fs_join(path, sizeof path, dir, list[i].name, err) != 0) rc = -1;
        else if (unlink(path) != 0 && errno != ENOENT)
            rc = gan_errf(err, RT, "cannot delete old checkpoint %s: %s", path, strerror(errno));
    }
    for (int i = 0; i < count; i++) free(list[i].name);
    free(list);
    return rc;
}
