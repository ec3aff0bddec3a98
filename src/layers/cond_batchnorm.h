// Class-conditional batchnorm (de Vries et al. 2017; Miyato & Koyama 2018, "cGANs with
// Projection Discriminator"; StudioGAN's ConditionalBatchNorm2d): BatchNorm2d(affine=False)
// whose per-channel gain and bias are rows of per-class tables, chosen by each sample's label:
//
//   y = leaky_relu(bn(x) * gain[label] + bias[label], slope)
//
// PyTorch names, as a BatchNorm2d(affine=False) subclass holding two nn.Embedding(K, C):
// <prefix>.gain.weight (K, C), <prefix>.bias.weight (K, C) (trainable), and the buffers
// <prefix>.running_mean, <prefix>.running_var, <prefix>.num_batches_tracked (batchnorm.h).
// Labels come as a one-hot (N, K) tensor (nn_one_hot): a row of a table is then a matmul, which
// is differentiable with the ops there are (embedding.h).
#pragma once
#include <stdbool.h>

#include "ops.h"
#include "params.h"

typedef struct nn_cond_batchnorm2d {
    ag_tensor *gain, *bias;                             // (K, C) in the trainable set
    ag_tensor *running_mean, *running_var, *num_batches;  // (C), (C), (1) in the buffer set
    float momentum, eps;
} nn_cond_batchnorm2d;

// gain = 1, bias = 0, running_var = 1 are set by nn_cond_batchnorm2d_reset after finalize.
void nn_cond_batchnorm2d_init(nn_cond_batchnorm2d *l, ag_params *ps, ag_params *buffers, const char *prefix,
                              int classes, int channels);
void nn_cond_batchnorm2d_reset(nn_cond_batchnorm2d *l);
// x (N, C, H, W), y one-hot (N, K). train: batch statistics (running ones updated); otherwise
// the running statistics. slope as nn_batchnorm2d_act_forward (0: ReLU; 1: no activation).
ag_tensor *nn_cond_batchnorm2d_act_forward(ag_ctx *c, nn_cond_batchnorm2d *l, ag_tensor *x, ag_tensor *y, bool train,
                                           float slope);
