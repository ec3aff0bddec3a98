// The public, differentiable ops. Everything above src/autograd/ (layers, GAN code, tests)
// computes through these; none of it calls a kernel. Outputs come from the context's arena.
// Shape and argument errors are programmer errors: they abort naming the op and the shapes.
#pragma once
#include <stdbool.h>

#include "ctx.h"
#include "tensor.h"

// --- elementwise, binary, numpy broadcasting (ops/elementwise.c) ----------------------------
ag_tensor *ag_add(ag_ctx *c, ag_tensor *a, ag_tensor *b);
ag_tensor *ag_sub(ag_ctx *c, ag_tensor *a, ag_tensor *b);
ag_tensor *ag_mul(ag_ctx *c, ag_tensor *a, ag_tensor *b);
ag_tensor *ag_div(ag_ctx *c, ag_tensor *a, ag_tensor *b);

// --- elementwise with a scalar ---------------------------------------------------------------
ag_tensor *ag_add_scalar(ag_ctx *c, ag_tensor *x, float s);  // x + s
ag_tensor *ag_scale(ag_ctx *c, ag_tensor *x, float s);       // x * s
ag_tensor *ag_pow(ag_ctx *c, ag_tensor *x, float p);         // x ^ p
ag_tensor *ag_clamp(ag_ctx *c, ag_tensor *x, float lo, float hi);  // use +-INFINITY for one side
ag_tensor *ag_in_range(ag_ctx *c, ag_tensor *x, float lo, float hi);  // 1 where lo<=x<=hi, else 0

// --- elementwise, unary -----------------------------------------------------------------------
ag_tensor *ag_neg(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_exp(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_log(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_sqrt(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_rsqrt(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_square(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_abs(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_sign(ag_ctx *c, ag_tensor *x);

// --- activations (ops/activation.c) -----------------------------------------------------------
ag_tensor *ag_relu(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_leaky_relu(ag_ctx *c, ag_tensor *x, float negative_slope);
ag_tensor *ag_tanh(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_sigmoid(ag_ctx *c, ag_tensor *x);
ag_tensor *ag_softplus(ag_ctx *c, ag_tensor *x);
// Fused gradients, used by the rules above (and differentiable themselves).
ag_tensor *ag_leaky_relu_grad(ag_ctx *c, ag_tensor *g, ag_tensor *x, float negative_slope);
ag_tensor *ag_tanh_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y);     // g * (1 - y^2)
ag_tensor *ag_sigmoid_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y);  // g * y * (1 - y)

// --- losses (ops/loss.c) -------------------------------------------------------------------------
// Mean binary cross-entropy on probabilities p in [0, 1] against targets y of p's shape, as
// torch.nn.BCELoss (log clamped at -100). y gets no gradient.
ag_tensor *ag_bce(ag_ctx *c, ag_tensor *p, ag_tensor *y);
// Mean binary cross-entropy on logits: mean(softplus(x) - x*y), stable for any x.
ag_tensor *ag_bce_with_logits(ag_ctx *c, ag_tensor *x, ag_tensor *y);
// The elementwise BCE op itself (unreduced).
ag_tensor *ag_bce_elementwise(ag_ctx *c, ag_tensor *p, ag_tensor *y);

// --- softmax and classification loss (ops/softmax.c) ---------------------------------------------
// log_softmax over the last dim of x (N, K), as torch.log_softmax(x, dim=1): x - max - log(sum
// exp(x - max)) per row, the row's sum in double. A NaN anywhere in a row makes the row NaN.
// Twice-differentiable.
ag_tensor *ag_log_softmax(ag_ctx *c, ag_tensor *x);
// Mean over rows of -sum_k targets * log_softmax(logits), for logits and targets (N, K): targets
// one-hot or probabilities, as torch.nn.functional.cross_entropy with probability targets (and
// with class indices, for one-hot targets). The targets get no gradient. Shape (1).
ag_tensor *ag_cross_entropy(ag_ctx *c, ag_tensor *logits, ag_tensor *targets);

// --- reductions (ops/reduce.c) -------------------------------------------------------------------
// Sums x down to `shape`, which must broadcast to x's shape: the gradient of a broadcast.
ag_tensor *ag_sum_to(ag_ctx *c, ag_tensor *x, ag_shape shape);
// Broadcasts x up to `shape`.
ag_tensor *ag_expand(ag_ctx *c, ag_tensor *x, ag_shape shape);
ag_tensor *ag_sum(ag_ctx *c, ag_tensor *x);   // all elements -> shape (1)
ag_tensor *ag_mean(ag_ctx *c, ag_tensor *x);  // all elements -> shape (1)
// Over chosen axes (negative counts from the end). keepdim keeps them as size 1.
ag_tensor *ag_sum_axes(ag_ctx *c, ag_tensor *x, int naxes, const int *axes, bool keepdim);
ag_tensor *ag_mean_axes(ag_ctx *c, ag_tensor *x, int naxes, const int *axes, bool keepdim);

// --- shapes (ops/shape.c) ----------------------------------------------------------------------
ag_tensor *ag_reshape(ag_ctx *c, ag_tensor *x, ag_shape shape);  // a view, no copy; one dim may be -1
ag_tensor *ag_permute(ag_ctx *c, ag_tensor *x, const int *perm);
ag_tensor *ag_transpose(ag_ctx *c, ag_tensor *x, int axis0, int axis1);
ag_tensor *ag_concat(ag_ctx *c, int n, ag_tensor *const *xs, int axis);  // n <= 8
// The sum of x over a data-parallel run's processes (ctx.h's allreduce hook), differentiable:
// its gradient is the sum of the processes' gradients. x itself with one process. Collective.
ag_tensor *ag_allreduce_sum(ag_ctx *c, ag_tensor *x);
// Elements [start, start+length) along axis.
ag_tensor *ag_narrow(ag_ctx *c, ag_tensor *x, int axis, int start, int length);
// The adjoint of narrow: x placed at [start, start+x.len) along axis in zeros of size `full`.
ag_tensor *ag_unnarrow(ag_ctx *c, ag_tensor *x, int axis, int start, int full);
// Zero padding of the last two dims; negative amounts crop.
ag_tensor *ag_pad2d(ag_ctx *c, ag_tensor *x, int top, int bottom, int left, int right);

// --- matrix products (ops/matmul.c) ------------------------------------------------------------
// op(a) @ op(b) where op transposes the last two dims when asked. 2-D, or 3-D batched with the
// same batch size.
ag_tensor *ag_matmul(ag_ctx *c, ag_tensor *a, ag_tensor *b, bool transpose_a, bool transpose_b);
// x (N, in) @ w (out, in)^T + b (out); b may be NULL. As torch.nn.functional.linear.
ag_tensor *ag_linear(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_tensor *b);

// --- convolutions (ops/conv.c) ---------------------------------------------------------------
typedef struct ag_conv_args {
    int stride_h, stride_w, pad_h, pad_w;
    int out_pad_h, out_pad_w;  // conv_transpose2d only
    int groups;
} ag_conv_args;
// AG_CONV(stride, pad, groups): square strides and padding, no output padding.
#define AG_CONV(s, p, g) ((ag_conv_args){.stride_h = (s), .stride_w = (s), .pad_h = (p), .pad_w = (p), .groups = (g)})

// x (N, Cin, H, W), w (Cout, Cin/groups, kh, kw) -> (N, Cout, Ho, Wo). As torch conv2d.
ag_tensor *ag_conv2d(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_conv_args a);
// x (N, Cin, H, W), w (Cin, Cout/groups, kh, kw) -> (N, Cout, Ho, Wo). As torch conv_transpose2d.
ag_tensor *ag_conv_transpose2d(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_conv_args a);
// The gradient of conv2d with respect to its weight, given x and the output gradient gy:
// shape (Cout, Cin/groups, kh, kw) = w_shape.
ag_tensor *ag_conv2d_weight_grad(ag_ctx *c, ag_tensor *x, ag_tensor *gy, ag_shape w_shape,
                                 ag_conv_args a);
// Adds a per-channel bias b (C) to x (N, C, H, W).
ag_tensor *ag_add_channel_bias(ag_ctx *c, ag_tensor *x, ag_tensor *b);

// --- batch normalisation (ops/norm.c) --------------------------------------------------------
// Training mode: normalises with the batch statistics over (N, H, W) and, when running_mean and
// running_var are given (persistent, shape (C)), updates them in place with `momentum` as
// torch.nn.BatchNorm2d does (unbiased variance in the running estimate). gamma, beta: (C).
// Once-differentiable.
ag_tensor *ag_batchnorm2d_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                ag_tensor *running_mean, ag_tensor *running_var, float momentum,
                                float eps);
// Eval mode: the running statistics as a fixed per-channel affine map. Twice-differentiable.
ag_tensor *ag_batchnorm2d_eval(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                               ag_tensor *running_mean, ag_tensor *running_var, float eps);

// --- resampling (ops/resample.c) --------------------------------------------------------------
ag_tensor *ag_upsample_nearest2x(ag_ctx *c, ag_tensor *x);  // (N,C,H,W) -> (N,C,2H,2W)
ag_tensor *ag_sum_pool2(ag_ctx *c, ag_tensor *x);           // 2x2 sums, H and W even
ag_tensor *ag_avg_pool2(ag_ctx *c, ag_tensor *x);           // 2x2 means

// --- max pooling (ops/pool.c) ------------------------------------------------------------------
// x (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H + 2 pad - kernel) / stride + 1 (and Wo alike): the
// maximum of each kernel x kernel window, as torch.nn.functional.max_pool2d (dilation 1,
// ceil_mode False). Padded positions never win; pad <= kernel / 2, as torch requires, so every
// window holds an input. Ties go to the first maximum in row-major window order; a NaN in a
// window makes its output NaN (the gradient goes to the window's last NaN), as torch's CPU
// kernel. The gradient goes to each window's maximum (summed where windows overlap).
// Twice-differentiable (the second derivative is zero in x, but gradients of gradients with
// respect to an upstream gradient work).
ag_tensor *ag_max_pool2d(ag_ctx *c, ag_tensor *x, int kernel, int stride, int pad);

// --- per-sample pixel moves (ops/remap.c) -------------------------------------------------------
// x (N, C, H, W) and an integer map (N, H, W) of plane offsets h * W + w stored as exact floats,
// -1 for zero fill: out[n, c, p] = x[n, c, map[n, p]] (0 where map[n, p] < 0), every channel
// moved alike. Flips, 90-degree rotations and integer translations (zero or reflected border)
// are such maps. The map is a constant (no gradient); a value that is no pixel of the plane is
// a programmer error. The gradient is remap2d_adjoint. Twice-differentiable.
ag_tensor *ag_remap2d(ag_ctx *c, ag_tensor *x, ag_tensor *map);
// The adjoint (the scatter-add): g[n, c, p] added at map[n, p], zero elsewhere, contributions to
// one pixel summed in map order. The gradient is remap2d. Twice-differentiable.
ag_tensor *ag_remap2d_adjoint(ag_ctx *c, ag_tensor *g, ag_tensor *map);

// --- batchnorm fused with its activation (ops/norm.c) ----------------------------------------
// leaky_relu(batchnorm2d_train(x, ...), slope) as one op with one output (slope >= 0; 0 is
// relu): one pass less and one tensor less than the two ops, forward and backward. Arguments
// and running-statistics update as ag_batchnorm2d_train; the same values as the two ops.
// Once-differentiable (its backward is one fused kernel reading the mask from the output).
ag_tensor *ag_batchnorm2d_act_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                    ag_tensor *running_mean, ag_tensor *running_var, float momentum,
                                    float eps, float slope);
// leaky_relu(batchnorm2d_eval(x, ...), slope) as one op: ag_channel_affine_act with the
// running statistics' scale and shift. Twice-differentiable.
ag_tensor *ag_batchnorm2d_eval_act(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                   ag_tensor *running_mean, ag_tensor *running_var, float eps, float slope);
// leaky_relu(x * scale + shift, slope) with per-channel scale and shift (C) for x (N, C, H, W);
// slope >= 0, and slope 1 is the affine map alone. Twice-differentiable.
ag_tensor *ag_channel_affine_act(ag_ctx *c, ag_tensor *x, ag_tensor *scale, ag_tensor *shift, float slope);

// --- bias + activation + gain (ops/activation.c) ----------------------------------------------
// y = leaky_relu(x + b, slope) * gain for x (N, C, ...) and b (C) added along dim 1: StyleGAN2's
// bias_act as one op with one output (slope 1 is linear; gain > 0, slope >= 0). The same values
// as ag_add_channel_bias, ag_leaky_relu and ag_scale in a row, one pass and one tensor where
// those take three. Twice-differentiable.
ag_tensor *ag_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, float slope, float gain);
// Its gradient: g * gain where y > 0, g * gain * slope elsewhere (y: bias_act's output).
ag_tensor *ag_bias_act_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y, float slope, float gain);
// StyleGAN2's layer after its modulated convolution, as one pass: for x (N, C, H, W),
//   y = leaky_relu(x * d[n, c] + noise[n, 0, h, w] * strength + b[c], slope) * gain
// with the demodulation coefficients d (N, C), an optional noise image (N, 1, H, W) or
// (1, 1, H, W) (one for every sample) scaled by strength (1), and bias_act's b, slope and gain.
// noise and strength are both given or both NULL. The same values, bit for bit, as ag_mul,
// ag_mul + ag_add for the noise, and ag_bias_act in a row: one pass and one saved tensor where
// those take three. Twice-differentiable (its backward is made of twice-differentiable ops).
ag_tensor *ag_demod_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, ag_tensor *d, ag_tensor *noise,
                             ag_tensor *strength, float slope, float gain);
