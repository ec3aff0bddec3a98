// BatchNorm2d with PyTorch's names: <prefix>.weight, <prefix>.bias (trainable), and the
// buffers <prefix>.running_mean, <prefix>.running_var, <prefix>.num_batches_tracked (kept as a
// float in the buffer block: exact up to 2^24 batches; PyTorch's load_state_dict converts it).
// Training mode normalises with batch statistics and updates the buffers; eval mode uses them.
#pragma once
#include <stdbool.h>

#include "ops.h"
#include "params.h"

typedef struct nn_batchnorm2d {
    ag_tensor *weight, *bias;                                 // (C) in the trainable set
    ag_tensor *running_mean, *running_var, *num_batches;      // (C), (C), (1) in the buffer set
    float momentum, eps;
} nn_batchnorm2d;

// weight = 1, bias = 0, running_var = 1 are set by nn_batchnorm2d_reset after finalize.
void nn_batchnorm2d_init(nn_batchnorm2d *l, ag_params *ps, ag_params *buffers, const char *prefix, int channels);
void nn_batchnorm2d_reset(nn_batchnorm2d *l);
ag_tensor *nn_batchnorm2d_forward(ag_ctx *c, nn_batchnorm2d *l, ag_tensor *x, bool train);
// The same followed by leaky ReLU with `slope` (0: ReLU), fused into one pass each way.
ag_tensor *nn_batchnorm2d_act_forward(ag_ctx *c, nn_batchnorm2d *l, ag_tensor *x, bool train, float slope);
