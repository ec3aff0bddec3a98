// The scalar arguments of every op, one named struct per op family, shared by the op wrappers
// (ops/) that fill them and every backend's kernels (cpu/, cuda/) that read them. A node holds
// them as one union (ag_node.p); each op reads only the member op_list.h names for it, so a
// kernel says `node->p.conv.args.groups`, never an index.
#pragma once
#include <stdbool.h>

#include "ops.h"  // ag_conv_args
#include "shape.h"

// add_scalar, mul_scalar, pow_scalar: x + value, x * value, x ^ value.
typedef struct ag_scalar_params {
    float value;
} ag_scalar_params;

// clamp: min(max(x, lo), hi); in_range: lo <= x <= hi.
typedef struct ag_range_params {
    float lo, hi;
} ag_range_params;

// leaky_relu, leaky_relu_grad, channel_affine_act, batchnorm2d_act_backward: the negative
// slope (0 is relu, 1 the identity). bias_act, bias_act_grad: the slope and the gain applied
// after the activation.
typedef struct ag_act_params {
    float slope, gain;
} ag_act_params;

// sum_to, expand, reshape: the output shape.
typedef struct ag_target_params {
    ag_shape shape;
} ag_target_params;

// permute: output axis i is input axis perm[i].
typedef struct ag_permute_params {
    int perm[AG_MAX_DIMS];
} ag_permute_params;

// concat: along axis. narrow: elements [start, start + size) of axis. unnarrow: the input
// placed at start along axis in zeros of length size.
typedef struct ag_slice_params {
    int axis, start, size;
} ag_slice_params;

// pad2d: rows and columns added to the last two dims (negative amounts crop).
typedef struct ag_pad_params {
    int top, bottom, left, right;
} ag_pad_params;

// matmul: op(a) @ op(b), op transposing the last two dims when set.
typedef struct ag_matmul_params {
    bool transpose_a, transpose_b;
} ag_matmul_params;

// conv2d, conv_transpose2d, conv2d_weight_grad: strides, padding, output padding (transposed
// conv only), groups; w_shape is the weight gradient's shape (conv2d_weight_grad only).
typedef struct ag_conv_params {
    ag_conv_args args;
    ag_shape w_shape;
} ag_conv_params;

// batchnorm2d, batchnorm2d_act (training mode): the running statistics' momentum (updated in
// place when update_running), eps, and the activation's slope (batchnorm2d_act only).
// batchnorm2d_backward reads nothing.
typedef struct ag_batchnorm_params {
    float momentum, eps, slope;
    bool update_running;
} ag_batchnorm_params;

// max_pool2d, max_pool2d_backward: square windows of kernel x kernel, moved by stride, over the
// input padded by pad on every side (padded positions never win: they count as -inf).
typedef struct ag_pool_params {
    int kernel, stride, pad;
} ag_pool_params;

typedef union ag_op_params {
    ag_scalar_params scalar;
    ag_range_params range;
    ag_act_params act;
    ag_target_params target;
    ag_permute_params permute;
    ag_slice_params slice;
    ag_pad_params pad;
    ag_matmul_params matmul;
    ag_conv_params conv;
    ag_batchnorm_params batchnorm;
    ag_pool_params pool;
} ag_op_params;
