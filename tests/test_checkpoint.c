// Checkpoint files: bit-exact round trips of parameter sets, Adam state, tensors, int64 scalars
// and attributes; files written with h5py's defaults; every kind of layout mismatch message;
// truncated, non-HDF5 and bit-flipped files reported as such with the target parameters
// untouched; failed writes leaving the previous file and no temp file; rotation of the last K;
// format version checks; external links and external-storage datasets refused.
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fsutil.h"
#include "h5io.h"
#include "test.h"
#include "test_backend.h"

static char g_dir[512];

static const char *in_dir(char *buf, const char *name) {
    if (snprintf(buf, GAN_PATH_MAX, "%s/%s", g_dir, name) >= GAN_PATH_MAX) abort();
    return buf;
}

#define HAS(err, text) TEST_CHECK(strstr((err).msg, (text)) != NULL, "message lacks \"%s\": %s", (text), (err).msg)

typedef struct pspec {
    const char *name;
    ag_shape shape;
} pspec;

static ag_params *make_set(bool trainable, const pspec *spec, int n, uint64_t seed) {
    ag_params *ps = ag_params_create(test_backend(), trainable);
    for (int i = 0; i < n; i++) ag_params_add(ps, spec[i].name, spec[i].shape);
    ag_params_finalize(ps);
    ag_rng rng = ag_rng_make(seed);
    ag_tensor_fill_normal(ps->values, &rng, 0.0f, 1.0f);
    return ps;
}

static float *host_copy(const ag_tensor *t) {
    float *h = malloc((size_t)t->numel * sizeof *h);
    ag_tensor_to_host(t, h);
    return h;
}

// Every parameter's slice of block a (layout of pa) equals that of block b, bit for bit.
static bool same_values(const ag_params *pa, const ag_tensor *a, const ag_params *pb, const ag_tensor *b) {
    float *ha = host_copy(a), *hb = host_copy(b);
    bool same = pa->count == pb->count;
    for (int i = 0; same && i < pa->count; i++)
        same = !memcmp(ha + pa->items[i].offset, hb + pb->items[i].offset,
                       (size_t)pa->items[i].t->numel * sizeof(float));
    free(ha);
    free(hb);
    return same;
}

static bool block_equals(const ag_tensor *t, const float *snapshot) {
    float *h = host_copy(t);
    bool same = !memcmp(h, snapshot, (size_t)t->numel * sizeof *h);
    free(h);
    return same;
}

static char *read_file(const char *path, size_t *n) {
    char *data = NULL;
    gan_err err = {0};
    if (gan_fs_read_all(path, &data, n, &err) != 0) return NULL;
    return data;
}

static void write_file(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static int count_tmp_files(void) {
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char path[GAN_PATH_MAX];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(path);
        else unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

// The generator of a tiny DCGAN-like model: parameters and BatchNorm buffers.
static const pspec g_spec[] = {
    {"main.0.weight", AG_SHAPE(5, 3, 4, 4)},
    {"main.1.weight", AG_SHAPE(5)},
    {"main.1.bias", AG_SHAPE(5)},
    {"main.3.weight", AG_SHAPE(7, 5, 3, 1)},
    {"main.3.bias", AG_SHAPE(7)},
};
static const pspec gb_spec[] = {
    {"main.1.running_mean", AG_SHAPE(5)},
    {"main.1.running_var", AG_SHAPE(5)},
    {"main.1.num_batches_tracked", AG_SHAPE(1)},
};
static const pspec d_spec[] = {
    {"net.weight", AG_SHAPE(2, 3, 1, 5, 2, 3)},
    {"net.bias", AG_SHAPE(2)},
    {"head.weight", AG_SHAPE(1, 13)},
};
#define NG (int)(sizeof g_spec / sizeof *g_spec)
#define NGB (int)(sizeof gb_spec / sizeof *gb_spec)
#define ND (int)(sizeof d_spec / sizeof *d_spec)

static const char config_text[] = "model:\n  name: dcgan\n  nz: 100\nnote: \"Gr\xc3\xbc\xc3\x9f\xe2\x82\xac\"\n";

// A checkpoint of G (+ buffers), D, G's Adam state, a tensor, int64 scalars and attributes.
static void write_full(const char *path, ag_params *g, ag_params *gb, ag_params *d, ag_adam *opt) {
    gan_err err = {0};
    gan_ckpt_writer *w;
    ag_tensor *noise = ag_tensor_create(test_backend(), AG_SHAPE(3, 7));
    ag_rng rng = ag_rng_make(99);
    ag_tensor_fill_normal(noise, &rng, 0.0f, 1.0f);
    ag_rng state = {.seed = UINT64_MAX - 5, .counter = 123456789ull << 20};
    int rc = gan_ckpt_create(path, &w, &err);
    TEST_CHECK(rc == 0, "create: %s", err.msg);
    if (rc) return;
    rc |= gan_ckpt_write_params(w, "/G", g, &err);
    rc |= gan_ckpt_write_params(w, "/G", gb, &err);
    rc |= gan_ckpt_write_params(w, "/D", d, &err);
    rc |= gan_ckpt_write_adam(w, "/optim/G", opt, &err);
    rc |= gan_ckpt_write_tensor(w, "/fixed_noise", noise, &err);
    rc |= gan_ckpt_write_i64(w, "/counters/images_seen", 123456789012345ll, &err);
    rc |= gan_ckpt_write_i64(w, "/counters/negative", -7, &err);
    rc |= gan_ckpt_set_attr_i64(w, "/", "step", 1000, &err);
    rc |= gan_ckpt_set_attr_f64(w, "/", "lr_g", 0.1, &err);
    rc |= gan_ckpt_set_attr_str(w, "/", "config", config_text, &err);
    rc |= gan_ckpt_set_attr_rng(w, "/", "rng_noise", &state, &err);
    rc |= gan_ckpt_set_attr_str(w, "/G", "arch", "dcgan", &err);
    rc |= gan_ckpt_set_attr_i64(w, "/G/main.0.weight", "fan_in", 48, &err);
    TEST_CHECK(rc == 0, "writes: %s", err.msg);
    rc = gan_ckpt_commit(w, &err);
    TEST_CHECK(rc == 0, "commit: %s", err.msg);
    ag_tensor_free(noise);
}

static void test_round_trip(void) {
    char path[GAN_PATH_MAX];
    in_dir(path, "full.h5");
    ag_params *g = make_set(true, g_spec, NG, 1), *gb = make_set(false, gb_spec, NGB, 2);
    ag_params *d = make_set(true, d_spec, ND, 3);
    float nbt = 37.0f;
    ag_tensor_from_host(ag_params_find(gb, "main.1.num_batches_tracked"), &nbt);
    ag_adam *opt = ag_adam_create(g, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    ag_rng rng = ag_rng_make(4);
    ag_tensor_fill_normal(opt->m, &rng, 0.0f, 1.0f);
    ag_tensor_fill_uniform(opt->v, &rng, 0.0f, 1.0f);
    opt->step = 123;
    write_full(path, g, gb, d, opt);
    TEST_CHECK(count_tmp_files() == 0, "a temp file was left behind");

    // Fresh sets with other values: everything must come back bit for bit.
    ag_params *g2 = make_set(true, g_spec, NG, 11), *gb2 = make_set(false, gb_spec, NGB, 12);
    ag_params *d2 = make_set(true, d_spec, ND, 13);
    ag_adam *opt2 = ag_adam_create(g2, 1e-3f, 0.0f, 0.99f, 1e-6f, 0.0f);
    gan_err err = {0};
    gan_ckpt_reader *r;
    int rc = gan_ckpt_open(path, &r, &err);
    TEST_CHECK(rc == 0, "open: %s", err.msg);
    if (rc) return;
    ag_params *g_sets[2] = {g2, gb2};
    TEST_CHECK(gan_ckpt_read_module(r, "/G", g_sets, 2, &err) == 0, "read /G: %s", err.msg);
    TEST_CHECK(gan_ckpt_read_params(r, "/D", d2, &err) == 0, "read /D: %s", err.msg);
    TEST_CHECK(gan_ckpt_read_adam(r, "/optim/G", opt2, &err) == 0, "read adam: %s", err.msg);
    TEST_CHECK(same_values(g, g->values, g2, g2->values), "G differs after the round trip");
    TEST_CHECK(same_values(gb, gb->values, gb2, gb2->values), "G buffers differ after the round trip");
    TEST_CHECK(same_values(d, d->values, d2, d2->values), "D differs after the round trip");
    TEST_CHECK(same_values(g, opt->m, g2, opt2->m), "exp_avg differs after the round trip");
    TEST_CHECK(same_values(g, opt->v, g2, opt2->v), "exp_avg_sq differs after the round trip");
    TEST_CHECK(opt2->step == 123, "adam step %lld", (long long)opt2->step);
    TEST_CHECK(opt2->lr == 1e-3f && opt2->beta1 == 0.0f, "hyper-parameters were overwritten");
    TEST_CHECK(ag_item(ag_params_find(gb2, "main.1.num_batches_tracked")) == 37.0f, "num_batches_tracked");

    ag_tensor *noise = ag_tensor_create(test_backend(), AG_SHAPE(3, 7));
    TEST_CHECK(gan_ckpt_read_tensor(r, "/fixed_noise", noise, &err) == 0, "read tensor: %s", err.msg);
    float *hn = host_copy(noise);
    float want[21];
    ag_philox_fill_normal(want, 21, 99, 0, 0.0f, 1.0f);
    TEST_CHECK(!memcmp(hn, want, sizeof want), "fixed_noise differs");
    free(hn);
    ag_tensor_free(noise);

    int64_t v = 0;
    TEST_CHECK(gan_ckpt_read_i64(r, "/counters/images_seen", &v, &err) == 0 && v == 123456789012345ll,
               "images_seen %lld: %s", (long long)v, err.msg);
    TEST_CHECK(gan_ckpt_read_i64(r, "/counters/negative", &v, &err) == 0 && v == -7, "negative %lld", (long long)v);
    TEST_CHECK(gan_ckpt_get_attr_i64(r, "/", "step", &v, &err) == 0 && v == 1000, "step %lld", (long long)v);
    double x = 0;
    TEST_CHECK(gan_ckpt_get_attr_f64(r, "/", "lr_g", &x, &err) == 0 && x == 0.1, "lr_g %.17g", x);
    char *s = NULL;
    TEST_CHECK(gan_ckpt_get_attr_str(r, "/", "config", &s, &err) == 0 && s && !strcmp(s, config_text),
               "config: %s", s ? s : err.msg);
    free(s);
    TEST_CHECK(gan_ckpt_get_attr_str(r, "/G", "arch", &s, &err) == 0 && s && !strcmp(s, "dcgan"), "arch");
    free(s);
    TEST_CHECK(gan_ckpt_get_attr_i64(r, "/G/main.0.weight", "fan_in", &v, &err) == 0 && v == 48, "fan_in");
    ag_rng st = {0};
    TEST_CHECK(gan_ckpt_get_attr_rng(r, "/", "rng_noise", &st, &err) == 0 && st.seed == UINT64_MAX - 5 &&
                   st.counter == 123456789ull << 20, "rng state %llu %llu", (unsigned long long)st.seed,
               (unsigned long long)st.counter);
    TEST_CHECK(gan_ckpt_get_attr_i64(r, "/optim/G", "step", &v, &err) == 0 && v == 123, "optim step");
    TEST_CHECK(gan_ckpt_get_attr_f64(r, "/optim/G", "beta1", &x, &err) == 0 && x == 0.5, "beta1 %g", x);
    TEST_CHECK(gan_ckpt_get_attr_f64(r, "/optim/G", "lr", &x, &err) == 0 && x == 2e-4, "lr %.17g", x);
    // Stored as the decimals the float was written as, not the float's binary expansion.
    TEST_CHECK(gan_ckpt_get_attr_f64(r, "/optim/G", "beta2", &x, &err) == 0 && x == 0.999, "beta2 %.17g", x);
    TEST_CHECK(gan_ckpt_get_attr_f64(r, "/optim/G", "eps", &x, &err) == 0 && x == 1e-8, "eps %.17g", x);
    TEST_CHECK(gan_ckpt_has(r, "/optim/G/exp_avg_sq/main.3.bias"), "torch's moment names");
    TEST_CHECK(!gan_ckpt_has(r, "/optim/D"), "has /optim/D");
    TEST_CHECK(gan_ckpt_has_attr(r, "/", "config") && !gan_ckpt_has_attr(r, "/", "nope"), "has_attr");

    // Attribute getters name what is wrong.
    TEST_CHECK(gan_ckpt_get_attr_i64(r, "/", "nope", &v, &err) != 0, "missing attribute read");
    HAS(err, "attribute 'nope' is missing");
    TEST_CHECK(gan_ckpt_get_attr_i64(r, "/", "lr_g", &v, &err) != 0, "float read as int");
    HAS(err, "attribute 'lr_g' is not an integer");
    TEST_CHECK(gan_ckpt_get_attr_str(r, "/", "step", &s, &err) != 0, "int read as string");
    HAS(err, "is not a string");
    TEST_CHECK(gan_ckpt_read_i64(r, "/G/main.1.bias", &v, &err) != 0, "float dataset read as int64");
    HAS(err, "float data in file, integer expected");
    TEST_CHECK(err.code == GAN_EXIT_RUNTIME, "error code %d", err.code);
    gan_ckpt_close(r);

    // What h5py will see: int64 scalar for num_batches_tracked, Fletcher32 on float data,
    // members in the order written (a state_dict's order).
    gan_h5 f;
    TEST_CHECK(gan_h5_open(&f, path, &err) == 0, "h5 open: %s", err.msg);
    gan_h5_info info;
    TEST_CHECK(gan_h5_dataset_info(&f, "/G/main.1.num_batches_tracked", &info, &err) == 0 &&
                   info.cls == GAN_H5_INT && info.rank == 0 && info.type_size == 8,
               "num_batches_tracked stored as class %d rank %d", info.cls, info.rank);
    TEST_CHECK(gan_h5_dataset_info(&f, "/D/net.weight", &info, &err) == 0 && info.cls == GAN_H5_FLOAT &&
                   info.type_size == 4 && info.rank == 6 && info.dims[5] == 3,
               "net.weight stored as rank %d", info.rank);
    hid_t ds = H5Dopen2(f.id, "/G/main.0.weight", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(ds);
    unsigned flags, cd[4];
    size_t ncd = 4;
    H5Z_filter_t filter = H5Pget_nfilters(dcpl) == 1 ? H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL) : -1;
    TEST_CHECK(filter == H5Z_FILTER_FLETCHER32, "filter %d", (int)filter);
    H5Pclose(dcpl);
    H5Dclose(ds);
    char **names;
    int count;
    TEST_CHECK(gan_h5_list(&f, "/G", &names, &count, &err) == 0 && count == NG + NGB, "list /G: %d", count);
    for (int i = 0; i < count && count == NG + NGB; i++) {
        const char *want_name = i < NG ? g_spec[i].name : gb_spec[i - NG].name;
        TEST_CHECK(!strcmp(names[i], want_name), "member %d is %s, %s expected", i, names[i], want_name);
    }
    gan_h5_list_free(names, count);
    gan_h5_close(&f, &err);

    ag_adam_free(opt);
    ag_adam_free(opt2);
    ag_params_free(g), ag_params_free(gb), ag_params_free(d);
    ag_params_free(g2), ag_params_free(gb2), ag_params_free(d2);
}

// A file as h5py writes it from a state_dict: default (earliest) format, contiguous datasets
// without checksums, float64 arrays from numpy, an int64 scalar for num_batches_tracked.
static void raw_dataset(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(file, name, type == H5T_NATIVE_DOUBLE ? H5T_IEEE_F64LE : H5T_STD_I64LE, space, lcpl,
                         H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(space);
}

static void test_foreign_writer(void) {
    char path[GAN_PATH_MAX];
    hid_t file = H5Fcreate(in_dir(path, "h5py_like.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int64_t version = 1, nbt = 41;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, "format_version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &version);
    H5Aclose(a);
    H5Sclose(space);
    double w[5 * 3 * 4 * 4], mean[5];
    for (int i = 0; i < 240; i++) w[i] = i * 0.25 - 7.0;
    for (int i = 0; i < 5; i++) mean[i] = -i;
    raw_dataset(file, "/G/main.0.weight", H5T_NATIVE_DOUBLE, 4, (hsize_t[]){5, 3, 4, 4}, w);
    raw_dataset(file, "/G/main.1.running_mean", H5T_NATIVE_DOUBLE, 1, (hsize_t[]){5}, mean);
    raw_dataset(file, "/G/main.1.num_batches_tracked", H5T_NATIVE_INT64, 0, NULL, &nbt);
    H5Fclose(file);

    const pspec ps_spec[] = {{"main.0.weight", AG_SHAPE(5, 3, 4, 4)}};
    const pspec bs_spec[] = {{"main.1.running_mean", AG_SHAPE(5)}, {"main.1.num_batches_tracked", AG_SHAPE(1)}};
    ag_params *ps = make_set(true, ps_spec, 1, 51), *bs = make_set(false, bs_spec, 2, 52);
    gan_err err = {0};
    gan_ckpt_reader *r;
    int rc = gan_ckpt_open(path, &r, &err);
    if (rc == 0) rc = gan_ckpt_read_module(r, "/G", (ag_params *[]){ps, bs}, 2, &err);
    TEST_CHECK(rc == 0, "reading an h5py-style file: %s", err.msg);
    gan_ckpt_close(r);
    float *hw = host_copy(ps->values), *hb = host_copy(bs->values);
    bool same = true;
    for (int i = 0; i < 240; i++) same &= hw[i] == (float)w[i];
    TEST_CHECK(same, "main.0.weight differs");
    TEST_CHECK(hb[bs->items[0].offset + 4] == -4.0f && hb[bs->items[1].offset] == 41.0f,
               "running_mean %g, num_batches_tracked %g", hb[bs->items[0].offset + 4], hb[bs->items[1].offset]);
    free(hw), free(hb);
    ag_params_free(ps), ag_params_free(bs);
}

static void test_layout_mismatch(void) {
    char path[GAN_PATH_MAX];
    in_dir(path, "full.h5");  // written by test_round_trip
    gan_err err = {0};
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, &err) != 0) {
        TEST_CHECK(0, "open: %s", err.msg);
        return;
    }
    // main.0.weight has another shape, main.2.weight is not in the file, main.3.* are extra.
    const pspec other[] = {
        {"main.0.weight", AG_SHAPE(8, 3, 4, 4)},
        {"main.1.weight", AG_SHAPE(5)},
        {"main.1.bias", AG_SHAPE(5)},
        {"main.2.weight", AG_SHAPE(5)},
    };
    ag_params *g = make_set(true, other, 4, 21), *gb = make_set(false, gb_spec, NGB, 22);
    float *before = host_copy(g->values), *before_b = host_copy(gb->values);
    ag_params *sets[2] = {g, gb};
    TEST_CHECK(gan_ckpt_read_module(r, "/G", sets, 2, &err) != 0, "a different layout was accepted");
    HAS(err, "full.h5:/G does not match the model");
    HAS(err, "main.0.weight: shape (5, 3, 4, 4) in file vs (8, 3, 4, 4) expected");
    HAS(err, "missing main.2.weight");
    HAS(err, "unexpected main.3.weight");
    HAS(err, "unexpected main.3.bias");
    TEST_CHECK(!strstr(err.msg, "main.1.bias"), "a matching parameter was reported: %s", err.msg);
    TEST_CHECK(block_equals(g->values, before) && block_equals(gb->values, before_b), "a set was written");

    // The buffers share /G: reading only the parameters reports them as unexpected.
    ag_params *g_only = make_set(true, g_spec, NG, 23);
    float *before_g = host_copy(g_only->values);
    TEST_CHECK(gan_ckpt_read_params(r, "/G", g_only, &err) != 0, "extra datasets were accepted");
    HAS(err, "unexpected main.1.running_mean; unexpected main.1.running_var; unexpected main.1.num_batches_tracked");
    TEST_CHECK(block_equals(g_only->values, before_g), "the set was written");
    TEST_CHECK(gan_ckpt_read_params(r, "/G_ema", g_only, &err) != 0, "missing group accepted");
    HAS(err, "no group /G_ema");

    // Adam state against another layout.
    ag_adam *opt = ag_adam_create(g, 1e-3f, 0.5f, 0.99f, 1e-8f, 0.0f);
    ag_tensor_fill(opt->m, 3.0f);
    TEST_CHECK(gan_ckpt_read_adam(r, "/optim/G", opt, &err) != 0, "adam with another layout accepted");
    HAS(err, "/optim/G/exp_avg does not match the model");
    TEST_CHECK(opt->step == 0 && block_equals(g->values, before), "adam or its set changed");
    float *hm = host_copy(opt->m);
    TEST_CHECK(hm[0] == 3.0f && hm[g->items[3].offset] == 3.0f, "exp_avg block was written");
    free(hm);
    ag_adam_free(opt);

    ag_tensor *t = ag_tensor_create(test_backend(), AG_SHAPE(7, 3));
    ag_tensor_fill(t, 2.0f);
    TEST_CHECK(gan_ckpt_read_tensor(r, "/fixed_noise", t, &err) != 0, "tensor shape not checked");
    HAS(err, "full.h5:/fixed_noise: shape (3, 7) in file vs (7, 3) expected");
    float *ht = host_copy(t);
    TEST_CHECK(ht[0] == 2.0f && ht[20] == 2.0f, "tensor was written");
    free(ht);
    ag_tensor_free(t);
    gan_ckpt_close(r);
    free(before), free(before_b), free(before_g);
    ag_params_free(g), ag_params_free(gb), ag_params_free(g_only);
}

static void test_truncated_and_foreign(void) {
    char src[GAN_PATH_MAX], cut[GAN_PATH_MAX], text[GAN_PATH_MAX];
    in_dir(src, "full.h5");
    size_t n = 0;
    char *data = read_file(src, &n);
    TEST_CHECK(data && n > 1000, "read %s", src);
    if (!data) return;
    gan_err err = {0};
    gan_ckpt_reader *r = NULL;
    // Cut in half, cut just before the end, cut to nothing.
    size_t sizes[3] = {n / 2, n - 1, 0};
    for (int i = 0; i < 3; i++) {
        write_file(in_dir(cut, "cut.h5"), data, sizes[i]);
        err = (gan_err){0};  // each cut's own message, not the previous one's
        TEST_CHECK(gan_ckpt_open(cut, &r, &err) != 0, "a file cut to %zu of %zu bytes was opened", sizes[i], n);
        HAS(err, "cut.h5: not a readable HDF5 file (truncated or corrupted?)");
    }
    free(data);
    const char yaml[] = "model: dcgan\n";
    write_file(in_dir(text, "config.yaml"), yaml, sizeof yaml - 1);
    err = (gan_err){0};
    TEST_CHECK(gan_ckpt_open(text, &r, &err) != 0, "a text file was opened");
    HAS(err, "config.yaml: not a readable HDF5 file");
    err = (gan_err){0};
    TEST_CHECK(gan_ckpt_open(in_dir(text, "absent.h5"), &r, &err) != 0, "a missing file was opened");
    HAS(err, "cannot open");
    HAS(err, "absent.h5: No such file or directory");
}

// The file address of chunk `index` of a dataset, and its size in bytes.
static haddr_t chunk_address(const char *path, const char *dset, int index, hsize_t *size) {
    gan_h5 f;
    gan_err err;
    haddr_t addr = HADDR_UNDEF;
    if (gan_h5_open(&f, path, &err) != 0) return addr;
    hid_t d = H5Dopen2(f.id, dset, H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t offset[H5S_MAX_RANK];
    unsigned mask;
    if (H5Dget_chunk_info(d, s, (hsize_t)index, offset, &mask, &addr, size) < 0) addr = HADDR_UNDEF;
    H5Sclose(s);
    H5Dclose(d);
    gan_h5_close(&f, &err);
    return addr;
}

static int64_t num_chunks(const char *path, const char *dset) {
    gan_h5 f;
    gan_err err;
    hsize_t n = 0;
    if (gan_h5_open(&f, path, &err) != 0) return -1;
    hid_t d = H5Dopen2(f.id, dset, H5P_DEFAULT), s = H5Dget_space(d);
    H5Dget_num_chunks(d, s, &n);
    H5Sclose(s);
    H5Dclose(d);
    gan_h5_close(&f, &err);
    return (int64_t)n;
}

static void flip_byte(const char *path, haddr_t at) {
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)at, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
}

static void test_flipped_byte(void) {
    char path[GAN_PATH_MAX];
    in_dir(path, "flip.h5");
    gan_err err = {0};
    ag_params *g = make_set(true, g_spec, NG, 31);
    // Bigger than one chunk: (3, 700, 701) floats are 5.9 MB, split into chunks of (2, 700, 701).
    ag_tensor *big = ag_tensor_create(test_backend(), AG_SHAPE(3, 700, 701));
    ag_rng rng = ag_rng_make(32);
    ag_tensor_fill_uniform(big, &rng, -1.0f, 1.0f);
    gan_ckpt_writer *w;
    int rc = gan_ckpt_create(path, &w, &err);
    if (rc == 0) rc = gan_ckpt_write_params(w, "/G", g, &err);
    if (rc == 0) rc = gan_ckpt_write_tensor(w, "/big", big, &err);
    if (rc == 0) rc = gan_ckpt_commit(w, &err);
    TEST_CHECK(rc == 0, "write: %s", err.msg);
    TEST_CHECK(num_chunks(path, "/big") == 2, "/big has %lld chunks", (long long)num_chunks(path, "/big"));

    // The file reads back whole before it is damaged.
    gan_ckpt_reader *r;
    ag_params *g2 = make_set(true, g_spec, NG, 33);
    ag_tensor *big2 = ag_tensor_create(test_backend(), AG_SHAPE(3, 700, 701));
    TEST_CHECK(gan_ckpt_open(path, &r, &err) == 0 && gan_ckpt_read_tensor(r, "/big", big2, &err) == 0,
               "clean read: %s", err.msg);
    gan_ckpt_close(r);
    float *hb = host_copy(big);
    TEST_CHECK(block_equals(big2, hb), "/big differs after the round trip");
    free(hb);

    // Damage the last parameter's data, so the earlier ones were already read when it fails.
    hsize_t size = 0;
    haddr_t at = chunk_address(path, "/G/main.3.bias", 0, &size);
    TEST_CHECK(at != HADDR_UNDEF && size == 7 * 4 + 4, "chunk of main.3.bias at %llu, %llu bytes",
               (unsigned long long)at, (unsigned long long)size);
    flip_byte(path, at + 9);
    at = chunk_address(path, "/big", 1, &size);
    // The edge chunk is stored whole: (2, 700, 701) floats and the checksum; its first row is data.
    TEST_CHECK(at != HADDR_UNDEF && size == 2 * 700 * 701 * 4 + 4, "second chunk of /big: %llu bytes",
               (unsigned long long)size);
    flip_byte(path, at + size / 4);

    float *before = host_copy(g2->values);
    ag_tensor_fill(big2, 5.0f);
    TEST_CHECK(gan_ckpt_open(path, &r, &err) == 0, "open after a data flip: %s", err.msg);
    TEST_CHECK(gan_ckpt_read_params(r, "/G", g2, &err) != 0, "corrupted parameters were loaded");
    HAS(err, "checksum mismatch in ");
    HAS(err, "flip.h5:/G/main.3.bias (the file is corrupted)");
    TEST_CHECK(block_equals(g2->values, before), "a corrupted read changed the parameters");
    TEST_CHECK(gan_ckpt_read_tensor(r, "/big", big2, &err) != 0, "a corrupted tensor was loaded");
    HAS(err, "flip.h5:/big (the file is corrupted)");
    float *h2 = host_copy(big2);
    TEST_CHECK(h2[0] == 5.0f && h2[3 * 700 * 701 - 1] == 5.0f, "a corrupted read changed the tensor");
    free(h2);
    gan_ckpt_close(r);
    free(before);
    ag_tensor_free(big);
    ag_tensor_free(big2);
    ag_params_free(g);
    ag_params_free(g2);
}

static void test_failed_writes(void) {
    char path[GAN_PATH_MAX], other[GAN_PATH_MAX];
    in_dir(path, "model.h5");
    gan_err err = {0};
    ag_params *g = make_set(true, g_spec, NG, 41);
    gan_ckpt_writer *w;
    int rc = gan_ckpt_create(path, &w, &err);
    if (rc == 0) rc = gan_ckpt_write_params(w, "/G", g, &err);
    if (rc == 0) rc = gan_ckpt_commit(w, &err);
    TEST_CHECK(rc == 0, "first write: %s", err.msg);
    size_t n0 = 0, n1 = 0;
    char *original = read_file(path, &n0);

    // A write that fails half-way (a dataset written twice) is never published.
    ag_params *g2 = make_set(true, g_spec, NG, 42);
    TEST_CHECK(gan_ckpt_create(path, &w, &err) == 0, "create: %s", err.msg);
    TEST_CHECK(count_tmp_files() == 1, "the temp file is not there while writing");
    TEST_CHECK(gan_ckpt_write_params(w, "/G", g2, &err) == 0, "write: %s", err.msg);
    TEST_CHECK(gan_ckpt_write_params(w, "/G", g2, &err) != 0, "a dataset was written twice");
    HAS(err, "model.h5:/G/main.0.weight: already exists");
    TEST_CHECK(gan_ckpt_commit(w, &err) != 0, "a failed checkpoint was committed");
    HAS(err, "model.h5: not saved: an earlier write into it failed");
    char *after = read_file(path, &n1);
    TEST_CHECK(after && n1 == n0 && !memcmp(original, after, n0), "the previous file changed");
    free(after);
    TEST_CHECK(count_tmp_files() == 0, "a temp file was left behind after a failed commit");

    // Abort leaves the previous file too.
    TEST_CHECK(gan_ckpt_create(path, &w, &err) == 0, "create: %s", err.msg);
    gan_ckpt_write_params(w, "/G", g2, &err);
    gan_ckpt_abort(w);
    after = read_file(path, &n1);
    TEST_CHECK(after && n1 == n0 && !memcmp(original, after, n0), "abort changed the previous file");
    free(after);
    TEST_CHECK(count_tmp_files() == 0, "a temp file was left behind after abort");

    // A directory that does not exist.
    in_dir(other, "no/such/dir/ckpt.h5");
    TEST_CHECK(gan_ckpt_create(other, &w, &err) != 0, "created a file in a missing directory");
    HAS(err, "no/such/dir/ckpt.h5: directory ");
    HAS(err, "no/such/dir does not exist");

    // The final rename fails (a non-empty directory has the name): the temp file goes away.
    in_dir(other, "taken.h5");
    mkdir(other, 0777);
    char inside[GAN_PATH_MAX];
    if (snprintf(inside, sizeof inside, "%s/keep", other) >= (int)sizeof inside) abort();
    write_file(inside, "x", 1);
    TEST_CHECK(gan_ckpt_create(other, &w, &err) == 0, "create: %s", err.msg);
    gan_ckpt_write_params(w, "/G", g2, &err);
    TEST_CHECK(gan_ckpt_commit(w, &err) != 0, "a rename over a directory succeeded");
    HAS(err, "taken.h5: cannot move the new file into place");
    TEST_CHECK(count_tmp_files() == 0, "a temp file was left behind after a failed rename");
    TEST_CHECK(gan_fs_exists(inside), "the directory in the way was damaged");

    // The previous file still loads and holds the first parameters.
    gan_ckpt_reader *r;
    TEST_CHECK(gan_ckpt_open(path, &r, &err) == 0 && gan_ckpt_read_params(r, "/G", g2, &err) == 0,
               "reading the previous file: %s", err.msg);
    gan_ckpt_close(r);
    TEST_CHECK(same_values(g, g->values, g2, g2->values), "the previous file holds other values");
    free(original);
    ag_params_free(g);
    ag_params_free(g2);
}

static void touch(const char *name) {
    char path[GAN_PATH_MAX];
    write_file(in_dir(path, name), "", 0);
}

static void test_rotate(void) {
    char dir[GAN_PATH_MAX], path[GAN_PATH_MAX], link[GAN_PATH_MAX];
    in_dir(dir, "run");
    mkdir(dir, 0777);
    gan_err err = {0};
    const char *names[] = {"run/ckpt-00000001.h5", "run/ckpt-00000002.h5", "run/ckpt-00000003.h5",
                           "run/ckpt-00000010.h5", "run/ckpt-99999999.h5", "run/ckpt-1.h5",
                           "run/ckpt-00000004.h5.tmp.42", "run/notes.txt"};
    for (int i = 0; i < 8; i++) touch(names[i]);
    // The newest one has nine digits and is a real checkpoint.
    TEST_CHECK(gan_ckpt_step_path(path, sizeof path, dir, 100000000, &err) == 0, "step path");
    TEST_CHECK(strstr(path, "/run/ckpt-100000000.h5") != NULL, "step path %s", path);
    gan_ckpt_writer *w;
    int rc = gan_ckpt_create(path, &w, &err);
    if (rc == 0) rc = gan_ckpt_set_attr_i64(w, "/", "step", 100000000, &err);
    if (rc == 0) rc = gan_ckpt_commit(w, &err);
    TEST_CHECK(rc == 0, "write: %s", err.msg);

    TEST_CHECK(gan_ckpt_rotate(dir, 3, &err) == 0, "rotate: %s", err.msg);
    const bool kept[] = {false, false, false, true, true, true, true, true};
    for (int i = 0; i < 8; i++)
        TEST_CHECK(gan_fs_exists(in_dir(path, names[i])) == kept[i], "%s %s", names[i],
                   kept[i] ? "was deleted" : "was kept");
    TEST_CHECK(gan_fs_exists(in_dir(path, "run/ckpt-100000000.h5")), "the newest was deleted");
    char target[256] = {0};
    ssize_t nt = readlink(in_dir(link, "run/latest.h5"), target, sizeof target - 1);
    TEST_CHECK(nt > 0 && !strcmp(target, "ckpt-100000000.h5"), "latest.h5 -> %s", target);
    gan_ckpt_reader *r;
    int64_t step = 0;
    TEST_CHECK(gan_ckpt_open(link, &r, &err) == 0 && gan_ckpt_get_attr_i64(r, "/", "step", &step, &err) == 0 &&
                   step == 100000000, "latest.h5 does not read as the newest: %s", err.msg);
    gan_ckpt_close(r);

    // A newer step moves the link; keep 1 leaves only it.
    TEST_CHECK(gan_ckpt_step_path(path, sizeof path, dir, 100000500, &err) == 0, "step path");
    write_file(path, "", 0);
    TEST_CHECK(gan_ckpt_rotate(dir, 1, &err) == 0, "rotate: %s", err.msg);
    memset(target, 0, sizeof target);
    nt = readlink(link, target, sizeof target - 1);
    TEST_CHECK(nt > 0 && !strcmp(target, "ckpt-100000500.h5"), "latest.h5 -> %s", target);
    TEST_CHECK(!gan_fs_exists(in_dir(path, "run/ckpt-100000000.h5")) &&
                   !gan_fs_exists(in_dir(path, "run/ckpt-99999999.h5")) &&
                   gan_fs_exists(in_dir(path, "run/ckpt-1.h5")),
               "keep 1 kept the wrong files");
    TEST_CHECK(gan_ckpt_rotate(in_dir(path, "missing"), 2, &err) != 0, "rotate in a missing directory");
    HAS(err, "cannot list checkpoint directory");
}

static void test_format_version(void) {
    char path[GAN_PATH_MAX];
    gan_err err = {0};
    gan_h5 f;
    TEST_CHECK(gan_h5_create(&f, in_dir(path, "v2.h5"), &err) == 0, "create: %s", err.msg);
    gan_h5_set_attr_i64(&f, "/", "format_version", 2, &err);
    TEST_CHECK(gan_h5_close(&f, &err) == 0, "close: %s", err.msg);
    gan_ckpt_reader *r;
    TEST_CHECK(gan_ckpt_open(path, &r, &err) != 0, "a version 2 file was opened");
    HAS(err, "v2.h5: checkpoint format version 2, but this build reads version 1");

    TEST_CHECK(gan_h5_create(&f, in_dir(path, "plain.h5"), &err) == 0, "create: %s", err.msg);
    gan_h5_write_f32(&f, "/x", AG_SHAPE(2), (float[]){1, 2}, &err);
    gan_h5_close(&f, &err);
    TEST_CHECK(gan_ckpt_open(path, &r, &err) != 0, "a file without format_version was opened");
    HAS(err, "plain.h5: not a gan.c checkpoint (no format_version attribute on /)");
}

// HDF5 can keep a file's objects and data in other files: an external link names an object of
// another file, an external-storage dataset reads its bytes from files it names (any file the
// user may read). Loading refuses both, before anything of the other file is read.
static void test_foreign_storage(void) {
    char path[GAN_PATH_MAX], other[GAN_PATH_MAX], secret[GAN_PATH_MAX];
    gan_err err = {0};
    gan_h5 f;
    TEST_CHECK(gan_h5_create(&f, in_dir(other, "other.h5"), &err) == 0, "create: %s", err.msg);
    gan_h5_write_f32(&f, "/G/w", AG_SHAPE(2), (float[]){1, 2}, &err);
    gan_h5_close(&f, &err);

    TEST_CHECK(gan_h5_create(&f, in_dir(path, "elink.h5"), &err) == 0, "create: %s", err.msg);
    gan_h5_set_attr_i64(&f, "/", "format_version", GAN_CKPT_FORMAT_VERSION, &err);
    gan_h5_create_group(&f, "/D", &err);
    gan_h5_close(&f, &err);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Lcreate_external(other, "/G", file, "/D/G", H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(file);
    gan_ckpt_reader *r = NULL;
    TEST_CHECK(gan_ckpt_open(path, &r, &err) != 0, "a file with an external link was opened");
    HAS(err, "elink.h5: /D/G is an HDF5 external link to ");
    HAS(err, "other.h5:/G; refused: a checkpoint must hold its own objects");

    FILE *sf = fopen(in_dir(secret, "secret.bin"), "wb");
    fwrite((float[]){7, 8}, sizeof(float), 2, sf);
    fclose(sf);
    TEST_CHECK(gan_h5_create(&f, in_dir(path, "efl.h5"), &err) == 0, "create: %s", err.msg);
    gan_h5_set_attr_i64(&f, "/", "format_version", GAN_CKPT_FORMAT_VERSION, &err);
    gan_h5_close(&f, &err);
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t space = H5Screate_simple(1, (hsize_t[]){2}, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, secret, 0, 2 * sizeof(float));
    H5Dclose(H5Dcreate2(file, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    float x[2] = {0, 0};
    TEST_CHECK(gan_ckpt_open(path, &r, &err) == 0, "open: %s", err.msg);
    TEST_CHECK(r && gan_ckpt_read_f32(r, "/x", AG_SHAPE(2), x, &err) != 0, "external storage was read");
    HAS(err, "efl.h5:/x: its data is stored outside the file (HDF5 external storage in ");
    HAS(err, "secret.bin); refused: a checkpoint must hold its own data");
    TEST_CHECK(x[0] == 0 && x[1] == 0, "the other file's bytes arrived: %g %g", x[0], x[1]);
    gan_ckpt_close(r);
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/gan_ckpt_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_layout_mismatch();
    test_foreign_writer();
    test_truncated_and_foreign();
    test_flipped_byte();
    test_failed_writes();
    test_rotate();
    test_format_version();
    test_foreign_storage();
    remove_tree(g_dir);
    return test_finish();
}
