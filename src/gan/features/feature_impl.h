// What each feature net implements (features_fmnist.c, features_inception.c); feature_net.c
// turns it into the public gan_feature_net.
#pragma once
#include <stddef.h>

#include "feature_net.h"
#include "tensor.h"

typedef struct gan_feature_impl gan_feature_impl;
struct gan_feature_impl {
    gan_feature_net_info info;
    int batch;  // images per forward pass
    // x (B, info.channels, H, W) in [-1, 1] -> features (B, info.dim), in inference mode, on c.
    // Sizes other than info.height x info.width are the net's to adapt (resize, crop or pad);
    // one it cannot adapt is a user error (NULL with err set).
    ag_tensor *(*forward)(gan_feature_impl *self, ag_ctx *c, ag_tensor *x, gan_err *err);
    void (*free)(gan_feature_impl *self);
};

// A file of gan.c's data folder (the shipped Fashion-MNIST classifier, converted Inception
// weights): $GAN_DATA_DIR/name, else the data/ folder of the source tree gan.c was built from.
// Returns buf.
const char *gan_feature_data_file(const char *name, char *buf, size_t size);

// Each net's constructor: weights from `weights_path` (NULL: its default file) on backend be.
gan_feature_impl *gan_features_fmnist_open(const char *weights_path, const ag_backend *be, gan_err *err);
gan_feature_impl *gan_features_inception_open(const char *weights_path, const ag_backend *be, gan_err *err);
// ... and with synthetic weights (gan_feature_net_open_synthetic: benchmarks only).
gan_feature_impl *gan_features_fmnist_synthetic(const ag_backend *be);
gan_feature_impl *gan_features_inception_synthetic(const ag_backend *be);
