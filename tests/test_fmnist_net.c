// The "fmnist" feature net (src/gan/features/fmnist_net.h) and what it is trained and judged
// with: its forward pass against the PyTorch twin (tests/fixtures/fmnist_net.h5, written by
// tools/fmnist_net_twin.py), 32 x 32 inputs center-cropped, other sizes refused; its weights
// file loaded and refused as gan_ckpt_read_params does; the feature-net interface around it;
// the IDX label reader on good and bad files; and the shipped weights
// (data/fmnist_classifier.h5), which must classify the first 1000 Fashion-MNIST test images with
// the accuracy the file states (that part is skipped, saying so, without the dataset package).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "checkpoint.h"
#include "dataset.h"
#include "feature_net.h"
#include "fixture.h"
#include "fmnist_net.h"
#include "labels.h"
#include "loader.h"
#include "test.h"
#include "test_backend.h"

// Forward values agree to float rounding over six layers of sums of up to 1024 products.
#define TOL 2e-5
// The shipped weights, from the fixtures directory (tests/fixtures) the build names.
#define SHIPPED "../../data/fmnist_classifier.h5"
#define FMNIST "/usr/share/datasets/fashion-mnist/"

static char tmp_root[64];

static const char *tmp_path(const char *rel) {
    static char buf[8][GAN_PATH_MAX];
    static int slot;
    char *p = buf[slot++ % 8];
    snprintf(p, GAN_PATH_MAX, "%s/%s", tmp_root, rel);
    return p;
}

#define HAS(err, text) TEST_CHECK(strstr((err).msg, (text)) != NULL, "message lacks \"%s\": %s", (text), (err).msg)

static void load_params(fx_file *f, ag_params *ps) {
    char path[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", GAN_FMNIST_GROUP, ps->items[i].name);
        fx_load_into(f, path, ps->items[i].t);
    }
}

// The group holds exactly the net's parameters (their shapes are checked by fx_load_into).
static void expect_exact_names(fx_file *f, const ag_params *ps) {
    char names[32][FX_NAME_MAX];
    int n = fx_list(f, GAN_FMNIST_GROUP, names, 32);
    TEST_CHECK(n == ps->count, "%s holds %d datasets, the net has %d parameters", GAN_FMNIST_GROUP, n, ps->count);
    for (int i = 0; i < ps->count && n == ps->count; i++)
        TEST_CHECK(ag_params_find(ps, names[i]) != NULL, "unexpected %s/%s", GAN_FMNIST_GROUP, names[i]);
}

static int write_weights(const char *path, const ag_params *ps) {
    gan_err e = {0};
    gan_ckpt_writer *w;
    int rc = gan_ckpt_create(path, &w, &e);
    if (rc == 0 && gan_ckpt_write_params(w, GAN_FMNIST_GROUP, ps, &e) != 0) {
        gan_ckpt_abort(w);
        rc = -1;
    } else if (rc == 0) {
        rc = gan_ckpt_commit(w, &e);
    }
    TEST_CHECK(rc == 0, "writing %s: %s", path, e.msg);
    return rc;
}

// --------------------------------------------------------------------------------- the twin

static void test_twin(gan_fmnist_net *net, fx_file *f) {
    ag_backend *be = test_backend();
    TEST_CHECK(ag_params_numel(net->params) == 184170, "parameters: %lld", (long long)ag_params_numel(net->params));
    expect_exact_names(f, net->params);
    load_params(f, net->params);
    ag_ctx *c = ag_ctx_create(be);
    ag_set_grad_enabled(c, false);
    gan_err e = {0};

    ag_tensor *x28 = fx_tensor(c, f, "/x28");
    if (x28) {
        ag_tensor *fit = gan_fmnist_net_fit(c, x28, &e);
        TEST_CHECK(fit == x28, "28 x 28 passes unchanged");
        ag_tensor *feat = gan_fmnist_net_features(c, net, x28);
        FX_EXPECT(f, "/features28", feat, TOL, "features of 28 x 28 inputs");
        FX_EXPECT(f, "/logits28", gan_fmnist_net_logits(c, net, feat), TOL, "logits of 28 x 28 inputs");
    }
    ag_tensor *x32 = fx_tensor(c, f, "/x32");
    if (x32) {
        ag_tensor *fit = gan_fmnist_net_fit(c, x32, &e);
        TEST_CHECK(fit != NULL, "32 x 32 is cropped: %s", e.msg);
        if (fit) FX_EXPECT(f, "/features32", gan_fmnist_net_features(c, net, fit), TOL, "features of 32 x 32 inputs");
    }
    ag_tensor *x30 = ag_zeros(c, AG_SHAPE(2, 1, 30, 30));
    TEST_CHECK(gan_fmnist_net_fit(c, x30, &e) == NULL, "30 x 30 refused");
    TEST_CHECK(e.code == GAN_EXIT_USAGE, "code %d", e.code);
    HAS(e, "30 x 30");
    HAS(e, "28 x 28");
    ag_ctx_free(c);
}

// ------------------------------------------------------------------------ weights files

static void test_weights_file(gan_fmnist_net *net, fx_file *f) {
    ag_backend *be = test_backend();
    const char *good = tmp_path("good.h5");
    if (write_weights(good, net->params) != 0) return;

    // Round trip: every value back bit for bit.
    gan_fmnist_net *back = gan_fmnist_net_create(be, false);
    gan_err e = {0};
    TEST_CHECK(gan_fmnist_net_load(back, good, &e) == 0, "load: %s", e.msg);
    const int64_t n = net->params->total;
    float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    ag_tensor_to_host(net->params->values, a);
    ag_tensor_to_host(back->params->values, b);
    TEST_CHECK(memcmp(a, b, (size_t)n * sizeof *a) == 0, "weights round trip bit for bit");

    // Refusals leave the net as it was and name the file.
    const char *missing = tmp_path("no-such.h5");
    TEST_CHECK(gan_fmnist_net_load(back, missing, &e) == -1, "missing file refused");
    HAS(e, missing);

    ag_params *other = ag_params_create(be, false);  // head.bias missing, fc.bias of another size
    for (int i = 0; i < net->params->count; i++) {
        const ag_param *p = &net->params->items[i];
        if (!strcmp(p->name, "head.bias")) continue;
        ag_params_add(other, p->name, strcmp(p->name, "fc.bias") ? p->t->shape : AG_SHAPE(64));
    }
    ag_params_finalize(other);
    const char *wrong = tmp_path("wrong.h5");
    if (write_weights(wrong, other) == 0) {
        TEST_CHECK(gan_fmnist_net_load(back, wrong, &e) == -1, "wrong layout refused");
        HAS(e, wrong);
        HAS(e, "missing head.bias");
        HAS(e, "fc.bias");
        ag_tensor_to_host(back->params->values, b);
        TEST_CHECK(memcmp(a, b, (size_t)n * sizeof *a) == 0, "a refused file changes nothing");
    }
    ag_params_free(other);

    // The feature-net interface: the same features, 32 x 32 grey and RGB inputs adapted.
    gan_feature_net *fn = gan_feature_net_open("fmnist", good, be, &e);
    TEST_CHECK(fn != NULL, "feature net open: %s", e.msg);
    ag_shape s32;
    float *x32 = fx_read(f, "/x32", &s32), *want = fx_read(f, "/features32", &(ag_shape){0});
    if (fn && x32 && want) {
        const gan_feature_net_info *info = gan_feature_net_info_of(fn);
        TEST_CHECK(!strcmp(info->name, "fmnist") && info->dim == 128 && info->channels == 1 && info->height == 28 &&
                       info->width == 28 && !strcmp(info->weights_path, good),
                   "info: %s %d %d %dx%d %s", info->name, info->dim, info->channels, info->height, info->width,
                   info->weights_path);
        const int N = (int)s32.d[0];
        float *rgb = malloc((size_t)N * 3 * 32 * 32 * sizeof *rgb), *out = malloc((size_t)N * 128 * sizeof *out);
        for (int i = 0; i < N; i++)
            for (int k = 0; k < 3; k++) memcpy(rgb + (i * 3 + k) * 1024, x32 + i * 1024, 1024 * sizeof *rgb);
        ag_ctx *c = ag_ctx_create(be);
        for (int C = 1; C <= 3; C += 2) {
            int rc = gan_feature_net_run(fn, c, C == 1 ? x32 : rgb, N, C, 32, 32, out, &e);
            TEST_CHECK(rc == 0, "run with %d channels: %s", C, e.msg);
            double err = 0;
            for (int i = 0; rc == 0 && i < N * 128; i++) err = test_nanmax(err, fabs((double)out[i] - want[i]));
            TEST_CHECK(err <= TOL * 4, "features through feature_net.h, %d channels: error %g", C, err);
        }
        TEST_CHECK(gan_feature_net_run(fn, c, x32, 1, 1, 16, 64, out, &e) == -1, "16 x 64 refused");
        HAS(e, "16 x 64");
        ag_ctx_free(c);
        free(rgb);
        free(out);
    }
    free(x32);
    free(want);
    gan_feature_net_free(fn);
    TEST_CHECK(gan_feature_net_open("fmnist", missing, be, &e) == NULL, "feature net without weights refused");
    HAS(e, missing);
    gan_fmnist_net_free(back);
    free(a);
    free(b);
}

// ------------------------------------------------------------------------------ labels

// An IDX label file: magic, count, then `len` bytes of y; gzipped when gz.
static void write_labels(const char *path, uint32_t magic, uint32_t count, const uint8_t *y, size_t len, bool gz) {
    uint8_t buf[64];
    uint32_t v[2] = {magic, count};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) buf[4 * i + k] = (uint8_t)(v[i] >> (24 - 8 * k));
    memcpy(buf + 8, y, len);
    gzFile f = gzopen(path, gz ? "wb" : "wbT");  // "T": plain, uncompressed
    if (!f || gzwrite(f, buf, (unsigned)(8 + len)) != (int)(8 + len) || gzclose(f) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void expect_label_error(const char *path, int64_t limit, const char *part1, const char *part2) {
    gan_err e = {0};
    int64_t n = -1;
    uint8_t *y = gan_labels_load(path, limit, 10, &n, &e);
    TEST_CHECK(y == NULL, "%s: expected an error mentioning %s", path, part1);
    free(y);
    if (y) return;
    TEST_CHECK(e.code == GAN_EXIT_RUNTIME, "code %d", e.code);
    HAS(e, path);
    HAS(e, part1);
    if (part2) HAS(e, part2);
}

static void test_labels(void) {
    const uint8_t y[6] = {9, 0, 3, 3, 7, 1};
    for (int gz = 0; gz < 2; gz++) {
        const char *p = tmp_path(gz ? "labels.gz" : "labels");
        write_labels(p, 0x801, 6, y, 6, gz);
        gan_err e = {0};
        int64_t n = 0;
        uint8_t *got = gan_labels_load(p, 0, 10, &n, &e);
        TEST_CHECK(got && n == 6 && !memcmp(got, y, 6), "%s: read back (n %lld): %s", p, (long long)n, e.msg);
        free(got);
        got = gan_labels_load(p, 4, 10, &n, &e);
        TEST_CHECK(got && n == 4 && !memcmp(got, y, 4), "%s: the first 4 (n %lld): %s", p, (long long)n, e.msg);
        free(got);
        got = gan_labels_load(p, 100, 10, &n, &e);
        TEST_CHECK(got && n == 6, "%s: a limit past the count reads all", p);
        free(got);
    }
    expect_label_error(tmp_path("none"), 0, "cannot open", NULL);

    const char *images = tmp_path("images");
    write_labels(images, 0x803, 6, y, 6, false);
    expect_label_error(images, 0, "0x00000801", "image file");
    const char *junk = tmp_path("junk");
    write_labels(junk, 0x47494638, 6, y, 6, false);
    expect_label_error(junk, 0, "wrong magic", "0x00000801");
    const char *empty = tmp_path("empty");
    write_labels(empty, 0x801, 0, y, 0, false);
    expect_label_error(empty, 0, "0 labels", NULL);
    const char *shorthead = tmp_path("shorthead");
    write_labels(shorthead, 0x801, 6, y, 0, false);
    truncate(shorthead, 6);
    expect_label_error(shorthead, 0, "truncated IDX header", NULL);
    const char *cut = tmp_path("cut.gz");
    write_labels(cut, 0x801, 8, y, 6, true);
    expect_label_error(cut, 0, "expected 8 labels", "got 6");
    const char *longer = tmp_path("longer");
    write_labels(longer, 0x801, 5, y, 6, false);
    expect_label_error(longer, 0, "more data than the 5 labels", NULL);
    const char *bad = tmp_path("bad");
    const uint8_t yb[4] = {1, 2, 10, 3};
    write_labels(bad, 0x801, 4, yb, 4, false);
    expect_label_error(bad, 0, "label 2 is 10", "[0, 10)");
    gan_err e = {0};
    int64_t n;
    uint8_t *got = gan_labels_load(bad, 2, 10, &n, &e);
    TEST_CHECK(got && n == 2, "the labels before a bad one read with a limit: %s", e.msg);
    free(got);
}

// --------------------------------------------------------------------- the shipped weights

// Returns 0 when the dataset was there and the check ran, 1 when it was skipped.
static int test_shipped(void) {
    ag_backend *be = test_backend();
    gan_fmnist_net *net = gan_fmnist_net_create(be, false);
    fx_file *f = fx_open(SHIPPED);
    const bool have_weights = f != NULL;
    double acc = 0, acc_first = 0;
    int version = 0;
    if (f) {
        expect_exact_names(f, net->params);
        load_params(f, net->params);
        TEST_CHECK(fx_attr_int(f, "/", "format_version", &version) && version == GAN_CKPT_FORMAT_VERSION,
                   "format_version %d", version);
        TEST_CHECK(fx_attr_float(f, "/", "test_accuracy", &acc) && acc >= 0.90, "stated test accuracy %g", acc);
        TEST_CHECK(fx_attr_float(f, "/", "test_accuracy_first_1000", &acc_first), "accuracy on the first 1000");
        TEST_CHECK(fx_has_attr(f, "/", "recipe") && fx_has_attr(f, "/", "seed") && fx_has_attr(f, "/", "epochs"),
                   "recipe, seed, epochs stated");
        fx_close(f);
    }
    const char *images = FMNIST "t10k-images-idx3-ubyte.gz", *labels = FMNIST "t10k-labels-idx1-ubyte.gz";
    int skipped = 0;
    if (access(images, R_OK) != 0 || access(labels, R_OK) != 0) {
        printf("skipping the check of the shipped weights on Fashion-MNIST: %s not installed "
               "(dataset-fashion-mnist)\n", images);
        skipped = 1;
    } else if (have_weights) {
        enum { N = 1000 };
        gan_err e = {0};
        gan_dataset ds = {0};
        gan_data_opts o = {.path = images, .format = GAN_DATA_IDX, .limit = N, .channels = 1};
        int64_t n = 0;
        uint8_t *y = NULL;
        int rc = gan_dataset_load(&o, &ds, &e);
        if (rc == 0) y = gan_labels_load(labels, N, 10, &n, &e);
        TEST_CHECK(rc == 0 && y && n == N && ds.n == N, "t10k: %s", e.msg);
        gan_loader l28, l32;
        if (y && gan_loader_init(&l28, &ds, 1, 28, 1, 0, &e) == 0 && gan_loader_init(&l32, &ds, 1, 32, 1, 0, &e) == 0) {
            float *x28 = malloc((size_t)N * 28 * 28 * sizeof *x28), *x32 = malloc((size_t)N * 32 * 32 * sizeof *x32);
            int64_t idx[N];
            for (int i = 0; i < N; i++) idx[i] = i;
            gan_loader_fill(&l28, idx, N, x28);
            gan_loader_fill(&l32, idx, N, x32);  // as gan.c trains on them: padded with -1
            ag_ctx *c = ag_ctx_create(be);
            ag_set_grad_enabled(c, false);
            ag_tensor *feat = gan_fmnist_net_features(c, net, ag_from_host(c, AG_SHAPE(N, 1, 28, 28), x28));
            float *logits = malloc((size_t)N * 10 * sizeof *logits), *f28 = malloc((size_t)N * 128 * sizeof *f28);
            ag_tensor_to_host(gan_fmnist_net_logits(c, net, feat), logits);
            ag_tensor_to_host(feat, f28);
            int correct = 0;
            for (int i = 0; i < N; i++) {
                int best = 0;
                for (int k = 1; k < 10; k++)
                    if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
                correct += best == y[i];
            }
            const double got = (double)correct / N;
            printf("shipped weights: %.1f%% of the first 1000 test images (file: %.2f%% there, %.2f%% on all "
                   "10000)\n", 100 * got, 100 * acc_first, 100 * acc);
            // The trainer measured the same 1000 images on 2 threads; another summation order
            // may flip an argmax or two.
            TEST_CHECK(fabs(got - acc_first) <= 0.003, "accuracy %.3f vs %.3f stated for the first 1000", got,
                       acc_first);
            TEST_CHECK(fabs(got - acc) <= 0.03, "accuracy %.3f vs %.3f stated for the test set", got, acc);

            // gan.c's padded 32 x 32 images through the feature-net path give the same features.
            const char *w = tmp_path("shipped.h5");
            gan_feature_net *fn = write_weights(w, net->params) == 0 ? gan_feature_net_open("fmnist", w, be, &e) : NULL;
            TEST_CHECK(fn != NULL, "feature net: %s", e.msg);
            float *f32 = malloc((size_t)N * 128 * sizeof *f32);
            if (fn && gan_feature_net_run(fn, c, x32, N, 1, 32, 32, f32, &e) == 0) {
                double err = 0;
                for (int i = 0; i < N * 128; i++) err = test_nanmax(err, fabs((double)f32[i] - f28[i]));
                TEST_CHECK(err <= 1e-4, "padded 32 x 32 vs 28 x 28 features: error %g", err);
            } else {
                TEST_CHECK(false, "features of padded images: %s", e.msg);
            }
            gan_feature_net_free(fn);
            free(f32);
            free(logits);
            free(f28);
            ag_ctx_free(c);
            free(x28);
            free(x32);
            gan_loader_free(&l28);
            gan_loader_free(&l32);
        } else {
            TEST_CHECK(false, "loader: %s", e.msg);
        }
        free(y);
        gan_dataset_free(&ds);
    }
    gan_fmnist_net_free(net);
    return skipped;
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/gan_test_fmnist_XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    fx_file *f = fx_open("fmnist_net.h5");
    if (f) {
        gan_fmnist_net *net = gan_fmnist_net_create(test_backend(), false);
        test_twin(net, f);
        test_weights_file(net, f);
        gan_fmnist_net_free(net);
        fx_close(f);
    }
    test_labels();
    test_shipped();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    return test_finish();
}
