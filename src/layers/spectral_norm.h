// Spectral normalisation of a weight (Miyato et al. 2018), exactly as
// torch.nn.utils.spectral_norm(module) with its defaults (name "weight", dim 0,
// n_power_iterations 1, eps 1e-12) does it, with its state_dict names and shapes:
//   <prefix>.weight_orig  the weight W as stored and trained (in the trainable set)
//   <prefix>.weight_u     (out)        left singular vector estimate  (buffers)
//   <prefix>.weight_v     (numel/out)  right singular vector estimate (buffers)
// The layer using the weight gets W / sigma, sigma = u . (W_mat v), W_mat = W as (out, numel/out).
// In training mode each call first runs one power iteration with no gradient,
//   v = normalize(W_mat^T u), u = normalize(W_mat v),   normalize(x) = x / max(|x|_2, eps),
// and writes u and v back to the buffers: PyTorch's forward pre-hook does this on every call of
// the module in training mode, so a network called three times per iteration iterates three
// times. sigma carries a gradient into W (u and v are constants of that call, as PyTorch's
// clones are); eval mode takes sigma from the stored u and v without iterating.
// Only ops of the public table are used, so it runs on every backend, and the gradient through
// W / sigma is twice differentiable (WGAN-GP's penalty).
#pragma once
#include <stdbool.h>

#include "ops.h"
#include "params.h"
#include "rng.h"

typedef struct nn_spectral_norm {
    ag_tensor *weight_orig;  // (out, ...) trainable
    ag_tensor *u, *v;        // (out), (numel / out) buffers
    float eps;
} nn_spectral_norm;

// Registers the three tensors under `prefix`; returns weight_orig, the tensor to initialise.
ag_tensor *nn_spectral_norm_init(nn_spectral_norm *sn, ag_params *ps, ag_params *buffers, const char *prefix,
                                 ag_shape weight_shape);
// After finalize: u and v drawn N(0, 1) from rng (u first, then v, as PyTorch draws them) and
// normalised. Leaves weight_orig alone.
void nn_spectral_norm_reset(nn_spectral_norm *sn, ag_rng *rng);
// The normalised weight W / sigma, W's shape; sigma (1) in *sigma when not NULL. train: one
// power iteration first, u and v updated in place.
ag_tensor *nn_spectral_norm_weight(ag_ctx *c, nn_spectral_norm *sn, bool train, ag_tensor **sigma);
