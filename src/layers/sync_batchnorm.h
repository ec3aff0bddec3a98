// Batchnorm's training-mode normalisation with statistics over every process of a data-parallel
// run (train.sync_bn, docs/distributed.md), composed of differentiable ops around
// ag_allreduce_sum: the per-channel sums go across the processes in the forward pass and, through
// the collective's gradient, their gradients in the backward pass. N processes then normalise as
// one process with the global batch does, up to rounding. The batchnorm layers take this path
// when ag_ctx_sync_batch_stats(c) holds, the fused kernel otherwise.
#pragma once
#include "ops.h"

// (x - mean) / sqrt(var + eps) * gamma + beta over (N, H, W) of every process's x, gamma and
// beta (C); updates running_mean / running_var (C) as torch's BatchNorm2d does (momentum,
// unbiased variance), from the global statistics.
ag_tensor *nn_sync_batchnorm2d_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                     ag_tensor *running_mean, ag_tensor *running_var, float momentum, float eps);
