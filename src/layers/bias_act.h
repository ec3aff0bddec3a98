// The bias + activation + gain step that follows every StyleGAN2 layer (the official bias_act):
// y = act(x + b) * gain. Each activation has a default gain that keeps the signal's magnitude
// (sqrt(2) for leaky ReLU, the He factor); layers multiply it by their own extra gain (the
// resnet blocks' sqrt(0.5)).
#pragma once

#include "ops.h"

typedef enum nn_act { NN_ACT_LINEAR, NN_ACT_LRELU } nn_act;

#define NN_LRELU_SLOPE 0.2f

// 1 for linear, sqrt(2) for leaky ReLU (slope 0.2). Gains are doubles until they scale a tensor
// (as the official Python floats are): sqrt(2) * sqrt(0.5) is then exactly 1 in float.
double nn_act_gain(nn_act act);
// x (N, C) or (N, C, H, W); b (C) or NULL, added along dim 1.
ag_tensor *nn_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, nn_act act, double gain);
