// Equalized-learning-rate layers (StyleGAN2's FullyConnectedLayer and Conv2dLayer): weights are
// stored N(0, 1) (divided by the lr multiplier for linear layers) and scaled at run time by
// lr_mul / sqrt(fan_in), so Adam's per-parameter step lands on the same scale in every layer.
// A linear layer's bias is scaled by lr_mul too: the mapping network's lr_mul 0.01 slows both.
//
// Names as in the official state_dict: <prefix>.weight, <prefix>.bias.
#pragma once
#include <stdbool.h>

#include "bias_act.h"
#include "params.h"
#include "rng.h"

typedef struct nn_eq_linear {
    ag_tensor *weight, *bias;       // (out, in), (out)
    float weight_gain, bias_gain;   // lr_mul / sqrt(in), lr_mul
    float lr_mul, bias_init;
    nn_act act;
} nn_eq_linear;

void nn_eq_linear_init(nn_eq_linear *l, ag_params *ps, const char *prefix, int in, int out, nn_act act,
                       float lr_mul, float bias_init);
// weight N(0, 1) / lr_mul, bias = bias_init.
void nn_eq_linear_reset(nn_eq_linear *l, ag_rng *rng);
// x (N, in) -> act(x W^T gw + b gb) * act gain: (N, out).
ag_tensor *nn_eq_linear_forward(ag_ctx *c, const nn_eq_linear *l, ag_tensor *x);

typedef struct nn_eq_conv2d {
    ag_tensor *weight, *bias;  // (out, in, k, k), (out) or NULL
    int kernel, down;          // down: 1, or 2 (FIR blur, then a stride-2 convolution)
    float weight_gain;         // 1 / sqrt(in k k)
    nn_act act;
} nn_eq_conv2d;

void nn_eq_conv2d_init(nn_eq_conv2d *l, ag_params *ps, const char *prefix, int in, int out, int kernel,
                       int down, bool bias, nn_act act);
// weight N(0, 1), bias 0.
void nn_eq_conv2d_reset(nn_eq_conv2d *l, ag_rng *rng);
// x (N, in, H, W) -> (N, out, H/down, W/down), "same" padding; the activation's gain is
// multiplied by `gain` (the resnet blocks pass sqrt(0.5)).
ag_tensor *nn_eq_conv2d_forward(ag_ctx *c, const nn_eq_conv2d *l, ag_tensor *x, double gain);
