// The "fmnist" feature net behind feature_net.h: fmnist_net.h's classifier, its 128-d features.
#include <stdlib.h>

#include "alloc.h"
#include "feature_impl.h"
#include "fmnist_net.h"
#include "fsutil.h"

// In gan.c's data folder (gan_feature_data_file), shipped with the repository.
#define DEFAULT_WEIGHTS "fmnist_classifier.h5"

typedef struct fmnist_impl {
    gan_feature_impl base;  // first, so the impl pointer is the struct's
    gan_fmnist_net *net;
    char *weights_path;
} fmnist_impl;

static ag_tensor *fmnist_forward(gan_feature_impl *self, ag_ctx *c, ag_tensor *x, gan_err *err) {
    fmnist_impl *f = (fmnist_impl *)self;
    ag_tensor *fit = gan_fmnist_net_fit(c, x, err);
    return fit ? gan_fmnist_net_features(c, f->net, fit) : NULL;
}

static void fmnist_free(gan_feature_impl *self) {
    fmnist_impl *f = (fmnist_impl *)self;
    gan_fmnist_net_free(f->net);
    free(f->weights_path);
    free(f);
}

// The feature net around net, whose weights came from `source`.
static gan_feature_impl *wrap(gan_fmnist_net *net, const char *source) {
    fmnist_impl *f = gan_xcalloc(1, sizeof *f, "the fmnist feature net");
    f->net = net;
    f->weights_path = gan_xstrdup(source, "a weights path");
    f->base.info = (gan_feature_net_info){.name = "fmnist",
                                          .dim = GAN_FMNIST_FEATURES,
                                          .channels = 1,
                                          .height = GAN_FMNIST_SIZE,
                                          .width = GAN_FMNIST_SIZE,
                                          .weights_path = f->weights_path};
    // 256 images keep a batch under 100 MB of activations (conv1's output dominates).
    f->base.batch = 256;
    f->base.forward = fmnist_forward;
    f->base.free = fmnist_free;
    return &f->base;
}

gan_feature_impl *gan_features_fmnist_open(const char *weights_path, const ag_backend *be, gan_err *err) {
    char shipped[GAN_PATH_MAX];
    const char *path = weights_path ? weights_path : gan_feature_data_file(DEFAULT_WEIGHTS, shipped, sizeof shipped);
    gan_fmnist_net *net = gan_fmnist_net_create(be, false);
    if (gan_fmnist_net_load(net, path, err) != 0) {
        gan_fmnist_net_free(net);
        return NULL;
    }
    return wrap(net, path);
}

// For benchmarks only: PyTorch's default initialisation from a fixed seed.
gan_feature_impl *gan_features_fmnist_synthetic(const ag_backend *be) {
    gan_fmnist_net *net = gan_fmnist_net_create(be, false);
    ag_rng rng = ag_rng_make(1);
    gan_fmnist_net_init(net, &rng);
    return wrap(net, "(synthetic)");
}
