// A StyleGAN2 small enough for unit tests (16x16 grey, 4 channels, batch 4) whose lazy R1 and
// path-length regularisers run every other iteration: shared by the tests that train it.
#pragma once
#include "stylegan2_train.h"

static inline gan_sg2_shape sg2_tiny_shape(void) {
    gan_sg2_shape s = gan_sg2_shape_default(16, 1);
    s.z_dim = s.w_dim = 8;
    s.mapping_layers = 2;
    s.channel_base = 64;
    s.channel_max = 4;
    s.mbstd_group_size = 2;
    return s;
}

static inline gan_sg2_train_opts sg2_tiny_opts(void) {
    gan_sg2_train_opts o = gan_sg2_train_opts_default(4);
    o.r1_gamma = 1.0f;
    o.r1_interval = 2;
    o.pl_interval = 2;
    o.ema_kimg = 0.01f;
    o.ema_rampup = 0.05f;
    return o;
}
