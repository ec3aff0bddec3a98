// Conv2d and ConvTranspose2d layers with PyTorch's parameter names and layouts:
// <prefix>.weight (Cout, Cin/groups, k, k) for conv, (Cin, Cout/groups, k, k) for the
// transposed conv, and <prefix>.bias (Cout) when enabled. Parameters start at zero; models
// initialise them (DCGAN: N(0, 0.02)).
#pragma once
#include <stdbool.h>

#include "ops.h"
#include "params.h"

typedef struct nn_conv2d {
    ag_tensor *weight, *bias;  // bias NULL when disabled
    ag_conv_args args;
} nn_conv2d;

void nn_conv2d_init(nn_conv2d *l, ag_params *ps, const char *prefix, int cin, int cout, int kernel,
                    int stride, int pad, bool bias);
ag_tensor *nn_conv2d_forward(ag_ctx *c, const nn_conv2d *l, ag_tensor *x);

typedef struct nn_conv_transpose2d {
    ag_tensor *weight, *bias;
    ag_conv_args args;
} nn_conv_transpose2d;

void nn_conv_transpose2d_init(nn_conv_transpose2d *l, ag_params *ps, const char *prefix, int cin,
                              int cout, int kernel, int stride, int pad, bool bias);
ag_tensor *nn_conv_transpose2d_forward(ag_ctx *c, const nn_conv_transpose2d *l, ag_tensor *x);

// "<prefix>.<leaf>" into buf (size >= AG_PARAM_NAME_MAX); aborts if it does not fit.
const char *nn_name(char *buf, const char *prefix, const char *leaf);
