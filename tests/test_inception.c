// The FID Inception (src/gan/features/inception.h) against its PyTorch twin
// (tools/fid_inception_twin.py, which wrote tests/fixtures/inception.h5): pytorch-fid's
// architecture and input pipeline with synthetic weights both sides compute from the names,
// compared on the 2048-d pool3 features; the resize on its own; the weights file loader and the
// feature net's errors; and the arena one full batch takes.
//
// Synthetic weights, scheme version 1 (the same text is in the twin): for element j (flat index)
// of tensor `name`,
//     salt = FNV-1a 32-bit hash of the name's bytes
//     h    = fmix32(j * 2654435761 + salt)    uint32, wrapping; MurmurHash3's finaliser
//     u    = (h >> 8) * 2^-24 - 0.5           exact in float, in [-0.5, 0.5)
//     v    = base + u * scale                 float: the product rounded, then the sum
// with (base, scale) by the name's ending: conv.weight (O, I, kh, kw) 0, sqrt(24 / (I kh kw));
// bn.weight 1, 0.5; bn.bias and bn.running_mean 0, 0.2; bn.running_var 1, 0.5;
// num_batches_tracked 0; synthetic images "input.<case>" 0, 2.
//
// GAN_INCEPTION_TEST_WEIGHTS names a weights file to load instead of the one this test writes
// with gan.c's checkpoint writer: tools/fid_inception_twin.py --roundtrip sets it to the output of
// tools/convert_fid_inception.py for the twin's state_dict.
#define _DEFAULT_SOURCE  // mkdtemp
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ctx.h"
#include "fatal.h"
#include "feature_impl.h"
#include "fixture.h"
#include "fsutil.h"
#include "inception.h"
#include "test.h"
#include "test_backend.h"

#define SCHEME_VERSION 1
// pool3 features after ~100 float32 layers, relative to the largest feature: measured 4e-7 on
// the CPU; the twin's own float32 result is within 2e-6 of its float64 one. 1e-5 still catches
// a single batchnorm with eps 1e-5 instead of 0.001 (an error of 1.2e-4 in the twin).
#define TOL_FEATURES 1e-5
#define TOL_RESIZE 1e-6

// --- the synthetic weights ------------------------------------------------------------------

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static void scheme_values(const char *name, int64_t n, float base, float scale, float *out) {
    const uint32_t salt = fnv1a(name);
    for (int64_t j = 0; j < n; j++) {
        const float u = (float)(fmix32((uint32_t)j * 2654435761u + salt) >> 8) * 0x1p-24f - 0.5f;
        const float t = u * scale;
        out[j] = base + t;
    }
}

static bool ends_with(const char *s, const char *end) {
    size_t a = strlen(s), b = strlen(end);
    return a >= b && !strcmp(s + a - b, end);
}

// A parameter's values under the scheme (n of them, n <= its size).
static void scheme_param(const char *name, ag_shape shape, int64_t n, float *out) {
    if (ends_with(name, "num_batches_tracked")) {
        for (int64_t j = 0; j < n; j++) out[j] = 0.0f;
    } else if (ends_with(name, "conv.weight")) {
        scheme_values(name, n, 0.0f, (float)sqrt(24.0 / (shape.d[1] * shape.d[2] * shape.d[3])), out);
    } else if (ends_with(name, "bn.weight") || ends_with(name, "bn.running_var")) {
        scheme_values(name, n, 1.0f, 0.5f, out);
    } else if (ends_with(name, "bn.bias") || ends_with(name, "bn.running_mean")) {
        scheme_values(name, n, 0.0f, 0.2f, out);
    } else {
        TEST_CHECK(false, "%s: no synthetic scheme for it", name);
    }
}

static void fill_set(ag_params *ps) {
    for (int i = 0; i < ps->count; i++) {
        ag_tensor *t = ps->items[i].t;
        float *v = malloc((size_t)t->numel * sizeof *v);
        scheme_param(ps->items[i].name, t->shape, t->numel, v);
        ag_tensor_from_host(t, v);
        free(v);
    }
}

// The scheme bit for bit: the fixture holds the first values of a few tensors as numpy made them.
static void check_scheme(fx_file *f, gan_inception *net) {
    char names[8][FX_NAME_MAX], path[1024];
    int n = fx_list(f, "/scheme", names, 8);
    TEST_CHECK(n > 0, "the fixture lists no /scheme values");
    for (int i = 0; i < n && i < 8; i++) {
        ag_tensor *t = ag_params_find(gan_inception_params(net), names[i]);
        if (!t) t = ag_params_find(gan_inception_buffers(net), names[i]);
        TEST_CHECK(t != NULL, "%s: not a parameter of the net", names[i]);
        if (!t) continue;
        snprintf(path, sizeof path, "/scheme/%s", names[i]);
        ag_shape s;
        float *ref = fx_read(f, path, &s);
        if (!ref) continue;
        float *ours = malloc((size_t)s.d[0] * sizeof *ours);
        scheme_param(names[i], t->shape, s.d[0], ours);
        int same = 0;
        for (int j = 0; j < s.d[0]; j++) same += ours[j] == ref[j];
        TEST_CHECK(same == s.d[0], "%s: %d of %d scheme values equal numpy's", names[i], same, s.d[0]);
        free(ours);
        free(ref);
    }
}

// --- the inputs -------------------------------------------------------------------------------

typedef struct input_case {
    const char *name;
    ag_shape generated;  // ndim 0: stored in the fixture under /inputs
} input_case;

static const input_case CASES[] = {
    {"small", {0}},
    {"rect", {0}},
    {"x299", AG_SHAPE(1, 3, 299, 299)},
    {"down", AG_SHAPE(1, 3, 341, 320)},
};

static float *case_input(fx_file *f, const input_case *k, ag_shape *shape) {
    char path[128];
    if (k->generated.ndim == 0) {
        snprintf(path, sizeof path, "/inputs/%s", k->name);
        return fx_read(f, path, shape);
    }
    *shape = k->generated;
    int64_t n = ag_shape_numel(*shape);
    float *x = malloc((size_t)n * sizeof *x);
    snprintf(path, sizeof path, "input.%s", k->name);
    scheme_values(path, n, 0.0f, 2.0f, x);
    return x;
}

// --- the checks -------------------------------------------------------------------------------

static void check_resize(fx_file *f, ag_ctx *c) {
    ag_shape s;
    float *x = fx_read(f, "/inputs/rect", &s);
    if (!x) return;
    ag_tensor *y = gan_inception_resize(c, ag_from_host(c, s, x), 21, 97);
    double err;
    fx_expect_at(__FILE__, __LINE__, f, "/resize/rect_21x97", y, TOL_RESIZE, "resize (48, 64) -> (21, 97)", &err);
    printf("resize vs F.interpolate: %.2e\n", err);
    free(x);
    ag_ctx_reset(c);
}

// Features of every case by `forward` (the net itself, or the feature net's forward) against the
// twin's.
typedef ag_tensor *(*features_fn)(void *self, ag_ctx *c, ag_tensor *x);

static void check_features(fx_file *f, ag_ctx *c, features_fn forward, void *self, int ncases, const char *what) {
    for (int i = 0; i < ncases; i++) {
        ag_shape s;
        float *x = case_input(f, &CASES[i], &s);
        if (!x) continue;
        ag_tensor *y = forward(self, c, ag_from_host(c, s, x));
        char path[128], label[128];
        snprintf(path, sizeof path, "/features/%s", CASES[i].name);
        snprintf(label, sizeof label, "%s: pool3 of %s %s", what, CASES[i].name, AG_SHAPE_STR(s));
        double err;
        fx_expect_at(__FILE__, __LINE__, f, path, y, TOL_FEATURES, label, &err);
        printf("%s vs the twin: %.2e (arena peak %.0f MB)\n", label, err, ag_ctx_arena_peak(c) / 1e6);
        free(x);
        ag_ctx_reset(c);
    }
}

static ag_tensor *net_forward(void *self, ag_ctx *c, ag_tensor *x) {
    return gan_inception_features(c, (const gan_inception *)self, x);
}

static ag_tensor *impl_forward(void *self, ag_ctx *c, ag_tensor *x) {
    gan_feature_impl *impl = self;
    gan_err err = {0};
    ag_tensor *y = impl->forward(impl, c, x, &err);
    TEST_CHECK(y != NULL, "the feature net refused %s: %s", AG_SHAPE_STR(x->shape), err.msg);
    return y;
}

// The scheme's weights in a file as gan.c's checkpoint writer lays it out (the converter's
// layout: tools/convert_fid_inception.py).
static bool write_weights(gan_inception *net, const char *path) {
    gan_err err = {0};
    gan_ckpt_writer *w;
    bool ok = gan_ckpt_create(path, &w, &err) == 0 &&
              gan_ckpt_write_module(w, GAN_INCEPTION_GROUP,
                                    (ag_params *[]){gan_inception_params(net), gan_inception_buffers(net)}, 2,
                                    &err) == 0 &&
              gan_ckpt_commit(w, &err) == 0;
    TEST_CHECK(ok, "writing %s: %s", path, err.msg);
    return ok;
}

// The feature net opened from a weights file; its features must be the net's.
static gan_feature_impl *open_loaded(fx_file *f, ag_ctx *c, const ag_backend *be, const char *path) {
    gan_err err = {0};
    gan_feature_impl *impl = gan_features_inception_open(path, be, &err);
    TEST_CHECK(impl != NULL, "opening %s: %s", path, err.msg);
    if (!impl) return NULL;
    TEST_CHECK(!strcmp(impl->info.name, "inception") && impl->info.dim == 2048 && impl->info.channels == 3 &&
                   impl->info.height == 299 && impl->info.width == 299 && !strcmp(impl->info.weights_path, path),
               "feature net info: %s dim %d channels %d %dx%d from %s", impl->info.name, impl->info.dim,
               impl->info.channels, impl->info.height, impl->info.width, impl->info.weights_path);
    check_features(f, c, impl_forward, impl, 2, "loaded");
    return impl;
}

static bool has(const char *msg, const char *part) {
    bool ok = strstr(msg, part) != NULL;
    TEST_CHECK(ok, "error message lacks \"%s\": %s", part, msg);
    return ok;
}

// What the feature net refuses, naming the file: a missing one (saying how to make it), a file
// that is not HDF5, a gan.c checkpoint of another network. dir: a scratch directory.
static void check_errors(const ag_backend *be, const char *dir) {
    gan_err err = {0};
    TEST_CHECK(gan_features_inception_open("/nonexistent/fid.h5", be, &err) == NULL, "a missing file was opened");
    has(err.msg, "/nonexistent/fid.h5");
    has(err.msg, "tools/convert_fid_inception.py");
    TEST_CHECK(err.code == GAN_EXIT_USAGE, "a missing weights file: exit code %d", err.code);

    // No path: $GAN_INCEPTION_WEIGHTS, else data/fid_inception.h5 in the working directory.
    setenv("GAN_INCEPTION_WEIGHTS", "/nonexistent/env.h5", 1);
    TEST_CHECK(gan_features_inception_open(NULL, be, &err) == NULL, "a missing file was opened");
    has(err.msg, "/nonexistent/env.h5");
    unsetenv("GAN_INCEPTION_WEIGHTS");
    if (!gan_fs_exists("data/fid_inception.h5")) {
        TEST_CHECK(gan_features_inception_open(NULL, be, &err) == NULL, "a missing file was opened");
        has(err.msg, "data/fid_inception.h5");
    }

    char path[1100];
    snprintf(path, sizeof path, "%s/not_hdf5.h5", dir);
    TEST_CHECK(gan_fs_write_atomic(path, "weights\n", 8, &err) == 0, "writing %s: %s", path, err.msg);
    TEST_CHECK(gan_features_inception_open(path, be, &err) == NULL, "a text file was opened as weights");
    has(err.msg, path);
    unlink(path);

    snprintf(path, sizeof path, "%s/other_net.h5", dir);
    gan_ckpt_writer *w;
    bool written = gan_ckpt_create(path, &w, &err) == 0 &&
                   gan_ckpt_write_f32(w, "/G/main.0.weight", AG_SHAPE(2, 2), (float[]){1, 2, 3, 4}, &err) == 0 &&
                   gan_ckpt_commit(w, &err) == 0;
    TEST_CHECK(written, "writing %s: %s", path, err.msg);
    TEST_CHECK(gan_features_inception_open(path, be, &err) == NULL, "another net's checkpoint was opened");
    has(err.msg, path);
    has(err.msg, "/inception");
    unlink(path);
}

// One full batch at 299x299 (no resize) keeps the arena under 2 GB: the batch size's purpose.
// (Its speed is measured by tools/bench, not here.)
static void check_batch_memory(ag_ctx *c, gan_feature_impl *impl) {
    const int B = impl->batch;
    const int64_t n = (int64_t)B * 3 * 299 * 299;
    float *x = malloc((size_t)n * sizeof *x), *features = malloc((size_t)B * 2048 * sizeof *features);
    scheme_values("input.speed", n, 0.0f, 2.0f, x);
    ag_tensor *y = impl_forward(impl, c, ag_from_host(c, AG_SHAPE(B, 3, 299, 299), x));
    TEST_CHECK(y && y->shape.d[0] == B && y->shape.d[1] == 2048, "a batch of %d gives (%d, 2048) features", B, B);
    if (y) ag_tensor_to_host(y, features);
    const double peak = (double)ag_ctx_arena_peak(c);
    printf("a batch of %d at 299x299: arena peak %.0f MB\n", B, peak / 1e6);
    TEST_CHECK(peak < 2e9, "a batch of %d takes %.0f MB of arena", B, peak / 1e6);
    ag_ctx_reset(c);
    free(x);
    free(features);
}

int main(void) {
    fx_file *f = fx_open("inception.h5");
    if (!f) return test_finish();
    int version = 0;
    TEST_CHECK(fx_attr_int(f, "/", "weights_scheme", &version) && version == SCHEME_VERSION,
               "fixture weights scheme %d, this test computes version %d", version, SCHEME_VERSION);
    ag_backend *be = test_backend();
    ag_ctx *c = ag_ctx_create(be);
    ag_set_grad_enabled(c, false);
    gan_inception *net = gan_inception_create(be);
    fill_set(gan_inception_params(net));
    fill_set(gan_inception_buffers(net));

    check_scheme(f, net);
    check_resize(f, c);
    check_features(f, c, net_forward, net, (int)(sizeof CASES / sizeof CASES[0]), "net");

    char dir[1024], path[1100];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gan_inception_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) AG_FATAL("mkdtemp %s failed", dir);
    const char *given = getenv("GAN_INCEPTION_TEST_WEIGHTS");
    gan_feature_impl *impl;
    if (given && *given) {
        impl = open_loaded(f, c, be, given);
    } else {
        snprintf(path, sizeof path, "%s/fid_inception.h5", dir);
        impl = write_weights(net, path) ? open_loaded(f, c, be, path) : NULL;
        unlink(path);
    }
    check_errors(be, dir);
    rmdir(dir);
    if (impl) {
        check_batch_memory(c, impl);
        impl->free(impl);
    }

    gan_inception_free(net);
    ag_ctx_free(c);
    fx_close(f);
    return test_finish();
}
