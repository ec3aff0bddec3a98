// StyleGAN2's minibatch standard deviation layer: the batch is split into groups of G samples
// (G = min(group_size, N), which must divide N; sample n is in group position n / (N/G)), the
// channels into F sets; the standard deviation over each group of every feature, averaged over
// a set's channels and all pixels, is appended as F constant channels:
// (N, C, H, W) -> (N, C + F, H, W).
#pragma once

#include "ops.h"

ag_tensor *nn_mbstd(ag_ctx *c, ag_tensor *x, int group_size, int num_channels);
