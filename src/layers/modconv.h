// StyleGAN2's modulated convolution: the weight (out, in, k, k) is scaled per sample by the
// styles (N, in) along its input channels and, with demodulation, renormalised per sample and
// output channel: w'[n,o,i] = w[o,i] s[n,i] / sqrt(sum_{i,kh,kw} (w[o,i] s[n,i])^2 + 1e-8).
// The raw weight is used (no equalized-lr gain: demodulation cancels it; ToRGB scales its styles
// instead). Padding is k/2; with up = 2 the output is twice the size: a stride-2 transposed
// convolution followed by the [1,3,3,1] blur at gain 4, as the official conv2d_resample does.
//
// Two equivalent forms, both differentiable to any order:
//   fused    the per-sample weights as one grouped convolution with the batch folded into the
//            groups (the official fused_modconv, used there for inference);
//   unfused  x * s, one ordinary convolution over the batch, then * the demodulation
//            coefficients (the official training path). Cheaper here: the convolution keeps its
//            batch parallelism and the demodulation coefficients come from a (N,in)x(in,out)
//            product instead of an (N, out, in, k, k) tensor.
#pragma once
#include <stdbool.h>

#include "ops.h"

#define NN_MODCONV_EPS 1e-8f

typedef struct nn_modconv_args {
    int up;           // 1, or 2 (3x3 kernels only)
    bool demodulate;
    bool fused;
} nn_modconv_args;

// x (N, in, H, W), weight (out, in, k, k), styles (N, in) -> (N, out, H*up, W*up).
ag_tensor *nn_modulated_conv2d(ag_ctx *c, ag_tensor *x, ag_tensor *weight, ag_tensor *styles,
                               nn_modconv_args a);
// The demodulation coefficients of the unfused form, (N, out): 1 / sqrt(sum_i s[n,i]^2
// sum_{kh,kw} w[o,i]^2 + eps). The unfused convolution without demodulation times these per
// (sample, output channel) is the demodulated one; ag_demod_bias_act takes them as its d.
ag_tensor *nn_modconv_demod(ag_ctx *c, ag_tensor *weight, ag_tensor *styles);
