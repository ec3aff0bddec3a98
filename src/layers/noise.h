// StyleGAN2's noise injection: x + noise * strength, one noise image (H, W) per sample shared by
// all channels, with a learned scalar strength (<prefix>.noise_strength, shape (1), starts at 0)
// and a fixed noise image per layer (<prefix>.noise_const, a buffer drawn N(0, 1) at
// initialisation) for reproducible sampling.
#pragma once

#include "ops.h"
#include "params.h"
#include "rng.h"

typedef enum nn_noise_mode {
    NN_NOISE_RANDOM,  // fresh N(0, 1) noise (N, 1, H, W) on every call (training), drawn by the caller
    NN_NOISE_CONST,   // the layer's noise_const for every sample
    NN_NOISE_NONE,    // no noise
} nn_noise_mode;

typedef struct nn_noise {
    ag_tensor *strength;     // (1) trainable
    ag_tensor *noise_const;  // (R, R) buffer
    int resolution;
} nn_noise;

void nn_noise_init(nn_noise *l, ag_params *ps, ag_params *buffers, const char *prefix, int resolution);
// strength 0, noise_const N(0, 1).
void nn_noise_reset(nn_noise *l, ag_rng *rng);
// x (N, C, R, R). `image` is the noise of NN_NOISE_RANDOM mode, (N, 1, R, R); the other modes
// ignore it (pass NULL).
ag_tensor *nn_noise_forward(ag_ctx *c, const nn_noise *l, ag_tensor *x, nn_noise_mode mode, ag_tensor *image);
// What nn_noise_forward adds before scaling it by strength, as a (N, 1, R, R) or (1, 1, R, R)
// tensor, or NULL in NN_NOISE_NONE: for an op that adds the noise itself (ag_demod_bias_act,
// with l->strength).
ag_tensor *nn_noise_image(ag_ctx *c, const nn_noise *l, ag_tensor *x, nn_noise_mode mode, ag_tensor *image);
