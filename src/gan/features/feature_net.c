#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "feature_impl.h"
#include "gan_check.h"
#include "ops.h"

struct gan_feature_net {
    gan_feature_impl *impl;
};

const char *gan_feature_data_file(const char *name, char *buf, size_t size) {
    const char *dir = getenv("GAN_DATA_DIR");
    snprintf(buf, size, "%s/%s", dir && *dir ? dir : GAN_DATA_DIR_DEFAULT, name);
    return buf;
}

typedef struct known_net {
    const char *name;
    gan_feature_impl *(*open)(const char *weights_path, const ag_backend *be, gan_err *err);
    gan_feature_impl *(*synthetic)(const ag_backend *be);
} known_net;

static const known_net known[] = {
    {"fmnist", gan_features_fmnist_open, gan_features_fmnist_synthetic},
    {"inception", gan_features_inception_open, gan_features_inception_synthetic},
};

static const known_net *find_net(const char *name, gan_err *err) {
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(known[i].name, name)) return &known[i];
    gan_errf(err, GAN_EXIT_USAGE, "feature net '%s': unknown (known: fmnist, inception)", name);
    return NULL;
}

static gan_feature_net *wrap(gan_feature_impl *impl) {
    if (!impl) return NULL;
    gan_feature_net *f = gan_xcalloc(1, sizeof *f, "a feature net");
    f->impl = impl;
    return f;
}

gan_feature_net *gan_feature_net_open(const char *name, const char *weights_path, const ag_backend *be,
                                      gan_err *err) {
    const known_net *k = find_net(name, err);
    return k ? wrap(k->open(weights_path, be, err)) : NULL;
}

gan_feature_net *gan_feature_net_open_synthetic(const char *name, const ag_backend *be, gan_err *err) {
    const known_net *k = find_net(name, err);
    return k ? wrap(k->synthetic(be)) : NULL;
}

void gan_feature_net_free(gan_feature_net *f) {
    if (!f) return;
    f->impl->free(f->impl);
    free(f);
}

const gan_feature_net_info *gan_feature_net_info_of(const gan_feature_net *f) { return &f->impl->info; }

int gan_feature_net_batch(const gan_feature_net *f) { return f->impl->batch; }

void gan_feature_net_set_batch(gan_feature_net *f, int batch) {
    GAN_CHECK(batch >= 1, "feature net %s: batch %d (>= 1 expected)", f->impl->info.name, batch);
    f->impl->batch = batch;
}

// One image (C, H, W) into `to` channels: grey repeated, or RGB to luma (ITU-R 601).
static void convert_channels(const float *src, int C, int64_t hw, int to, float *dst) {
    if (C == to) {
        memcpy(dst, src, (size_t)(C * hw) * sizeof *dst);
    } else if (C == 1) {
        for (int c = 0; c < to; c++) memcpy(dst + c * hw, src, (size_t)hw * sizeof *dst);
    } else {
        for (int64_t i = 0; i < hw; i++) dst[i] = 0.299f * src[i] + 0.587f * src[hw + i] + 0.114f * src[2 * hw + i];
    }
}

int gan_feature_net_run(gan_feature_net *f, ag_ctx *c, const float *images, int64_t n, int C, int H, int W,
                        float *out, gan_err *err) {
    gan_feature_impl *impl = f->impl;
    if (C != 1 && C != 3)
        return gan_errf(err, GAN_EXIT_USAGE, "feature net %s: images with %d channels (1 or 3 expected)", impl->info.name,
                        C);
    const int to = impl->info.channels, B = impl->batch;
    const int64_t hw = (int64_t)H * W, per_in = C * hw, per_net = to * hw;
    float *batch = gan_xmalloc((size_t)(B * per_net) * sizeof *batch, "a batch of images for the feature net");
    int rc = 0;
    const bool grad = ag_set_grad_enabled(c, false);
    for (int64_t i0 = 0; i0 < n && rc == 0; i0 += B) {
        const int b = (int)(n - i0 < B ? n - i0 : B);
        for (int j = 0; j < b; j++) convert_channels(images + (i0 + j) * per_in, C, hw, to, batch + j * per_net);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(b, to, H, W), batch);
        ag_tensor *y = impl->forward(impl, c, x, err);
        if (!y) rc = -1;
        else ag_tensor_to_host(y, out + i0 * impl->info.dim);
        ag_ctx_reset(c);
    }
    ag_set_grad_enabled(c, grad);
    free(batch);
    return rc;
}
