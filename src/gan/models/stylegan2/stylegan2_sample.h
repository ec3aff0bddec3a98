// Sampling from a StyleGAN2 generator (G_ema for `gan sample`): truncation, noise modes, style
// mixing and interpolation in W. Everything runs without gradients and leaves w_avg alone.
#pragma once

#include "stylegan2.h"

// z (N, z_dim) -> ws (N, num_ws, w_dim), pulled toward w_avg by psi (1: no truncation).
ag_tensor *gan_sg2_sample_ws(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, float psi);
// The same for a conditional generator: y (N, num_classes) one-hot classes, NULL exactly when it
// is unconditional. Truncation pulls toward the one w_avg (ADA's), whatever the class.
ag_tensor *gan_sg2_sample_ws_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, float psi);
// ws (N, num_ws, w_dim) with the layers [lo, hi) taken from src (same shape): a style-mixing
// grid's cell, e.g. a row's ws with the coarse layers [0, 4) of a column's.
ag_tensor *gan_sg2_mix_ws(ag_ctx *c, ag_tensor *ws, ag_tensor *src, int lo, int hi);
// (1 - t) a + t b: interpolation in W.
ag_tensor *gan_sg2_lerp_ws(ag_ctx *c, ag_tensor *a, ag_tensor *b, float t);
// ws -> images (N, img_channels, R, R), roughly in [-1, 1]. mode NN_NOISE_RANDOM draws the
// noise from rng (layer by layer), NN_NOISE_CONST uses each layer's noise_const.
ag_tensor *gan_sg2_sample_images(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, nn_noise_mode mode, ag_rng *rng);
// z -> images: gan_sg2_sample_ws, then gan_sg2_sample_images.
ag_tensor *gan_sg2_sample(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, float psi, nn_noise_mode mode, ag_rng *rng);
// The same with classes y (gan_sg2_sample_ws_cond).
ag_tensor *gan_sg2_sample_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, float psi, nn_noise_mode mode,
                               ag_rng *rng);
