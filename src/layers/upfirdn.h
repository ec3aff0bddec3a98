// StyleGAN2's FIR resampling with the [1,3,3,1] filter, composed of the engine's convolutions so
// that it differentiates to any order. The 2-D kernel is outer([1,3,3,1], [1,3,3,1]) / 64 (unit
// DC gain); every channel is filtered on its own (the channels are folded into the batch, so
// single-channel convolutions do all of them), as a vertical and a horizontal 4-tap pass (the
// kernel is separable). The filter is symmetric, so convolution and correlation agree.
//
// In terms of the official upfirdn2d (insert up-1 zeros after each pixel, pad, convolve with the
// filter times gain, keep every down-th pixel):
//   nn_upfirdn_filter(x, p, 1, g)  upfirdn2d(x, f, padding=p, gain=g)
//   nn_upfirdn_filter(x, p, 2, 1)  upfirdn2d(x, f, down=2, padding=p)
//   nn_upfirdn_up2(x)              upsample2d(x, f): up=2, padding (2, 1), gain 4 -- the zero
//                                  insertion and the filter are a transposed convolution
//                                  (stride 2, padding 1) per axis
//   nn_upfirdn_down2(x)            downsample2d(x, f): down=2, padding (1, 1)
#pragma once

#include "ops.h"

#define NN_FIR_TAPS 4

// x (N, C, H, W) filtered with zero padding `pad` on every side, kept at every stride-th pixel:
// (N, C, (H + 2 pad - 4) / stride + 1, ...).
ag_tensor *nn_upfirdn_filter(ag_ctx *c, ag_tensor *x, int pad, int stride, float gain);
// (N, C, H, W) -> (N, C, 2H, 2W).
ag_tensor *nn_upfirdn_up2(ag_ctx *c, ag_tensor *x);
// (N, C, H, W) -> (N, C, H/2, W/2), H and W even.
ag_tensor *nn_upfirdn_down2(ag_ctx *c, ag_tensor *x);
