// The "inception" feature net behind feature_net.h: inception.h's FID InceptionV3, its 2048-d
// pool3 features of images resized to 299x299.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "feature_impl.h"
#include "fsutil.h"
#include "inception.h"
#include "rng.h"

// Where the weights are looked for when no path is given: $GAN_INCEPTION_WEIGHTS, else this
// file in gan.c's data folder (gan_feature_data_file: $GAN_DATA_DIR, else the source tree's data/).
#define WEIGHTS_ENV "GAN_INCEPTION_WEIGHTS"
#define DEFAULT_WEIGHTS "fid_inception.h5"

// Images per forward pass. Every activation of a pass stays in the arena until the batch is
// done, about 100 MB per image at 299x299: 16 images peak at 1.6 GB (tests/test_inception.c
// checks it stays under 2 GB).
#define BATCH 16

typedef struct inception_impl {
    gan_feature_impl base;  // first, so the impl pointer is the struct's
    gan_inception *net;
    char *weights_path;
} inception_impl;

static ag_tensor *inception_forward(gan_feature_impl *self, ag_ctx *c, ag_tensor *x, gan_err *err) {
    (void)err;  // every size is resized to 299x299: no input is refused
    return gan_inception_features(c, ((inception_impl *)self)->net, x);
}

static void inception_free(gan_feature_impl *self) {
    inception_impl *f = (inception_impl *)self;
    gan_inception_free(f->net);
    free(f->weights_path);
    free(f);
}

// The feature net around net, whose weights came from `source`.
static gan_feature_impl *wrap(gan_inception *net, const char *source) {
    inception_impl *f = gan_xcalloc(1, sizeof *f, "the inception feature net");
    f->net = net;
    f->weights_path = gan_xstrdup(source, "a weights path");
    f->base.info = (gan_feature_net_info){.name = "inception",
                                          .dim = GAN_INCEPTION_DIM,
                                          .channels = 3,
                                          .height = GAN_INCEPTION_SIZE,
                                          .width = GAN_INCEPTION_SIZE,
                                          .weights_path = f->weights_path};
    f->base.batch = BATCH;
    f->base.forward = inception_forward;
    f->base.free = inception_free;
    return &f->base;
}

gan_feature_impl *gan_features_inception_open(const char *weights_path, const ag_backend *be, gan_err *err) {
    const char *env = getenv(WEIGHTS_ENV);
    char data_file[GAN_PATH_MAX];
    gan_feature_data_file(DEFAULT_WEIGHTS, data_file, sizeof data_file);
    const char *path = weights_path ? weights_path : env && *env ? env : data_file;
    if (!gan_fs_exists(path)) {
        gan_errf(err, GAN_EXIT_USAGE,
                 "inception weights %s: no such file; convert pytorch-fid's pt_inception-2015-12-05-6726825d.pth "
                 "with tools/convert_fid_inception.py (docs/evaluation.md) to %s, or point %s at the converted file",
                 path, data_file, WEIGHTS_ENV);
        return NULL;
    }
    gan_inception *net = gan_inception_create(be);
    if (gan_inception_load(net, path, err) != 0) {
        gan_err_prefix(err, "inception weights (tools/convert_fid_inception.py's output expected): ");
        gan_inception_free(net);
        return NULL;
    }
    return wrap(net, path);
}

static bool ends_with(const char *s, const char *end) {
    size_t a = strlen(s), b = strlen(end);
    return a >= b && !strcmp(s + a - b, end);
}

// For benchmarks only. Convolutions uniform in +-sqrt(6 / fan-in) from a fixed seed (He's scale,
// so activations stay of order one through the ~100 layers rather than dwindling to denormals,
// which the CPU would time differently); batchnorms the identity (weight and running variance 1,
// bias and running mean 0, as gan_inception_create left them).
gan_feature_impl *gan_features_inception_synthetic(const ag_backend *be) {
    gan_inception *net = gan_inception_create(be);
    ag_rng rng = ag_rng_make(1);
    const ag_params *ps = gan_inception_params(net);
    for (int i = 0; i < ps->count; i++) {
        ag_tensor *t = ps->items[i].t;
        if (ends_with(ps->items[i].name, "conv.weight")) {
            const float bound = (float)sqrt(6.0 / (double)(t->numel / t->shape.d[0]));
            ag_tensor_fill_uniform(t, &rng, -bound, bound);
        } else if (ends_with(ps->items[i].name, "bn.weight")) {
            ag_tensor_fill(t, 1.0f);
        }
    }
    const ag_params *bufs = gan_inception_buffers(net);
    for (int i = 0; i < bufs->count; i++)
        if (ends_with(bufs->items[i].name, "running_var")) ag_tensor_fill(bufs->items[i].t, 1.0f);
    return wrap(net, "(synthetic)");
}
