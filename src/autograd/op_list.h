#pragma once
// The one list of ops. Everything per-op is generated from it: the ag_op enum, names and
// arities (op.c), the table of backward rules (autograd.c) and each backend's kernel table
// (cpu/backend.c). Adding an op means one line here, a wrapper and a rule in ops/<file>.c and a
// kernel named cpu_<name> in cpu/<file>.c (and cuda_<name> in cuda/ when that backend is built):
// the tables refer to every one of them by name, so the build fails to link until all exist.
//
// OP(ENUM, name, nsrc, grad):
//   nsrc  number of inputs, or -1 for a variable count (concat)
//   grad  AG_GRAD_TWICE  the backward rule is written with differentiable ops, so gradients of
//                        gradients work (create_graph records the rule's ops)
//         AG_GRAD_ONCE   the rule calls a fused kernel: first derivatives only; asking for a
//                        second one (create_graph through it) is a fatal, named error
//         AG_GRAD_ZERO   piecewise constant (masks, sign): no gradient flows, output never
//                        requires grad
//         AG_GRAD_NONE   not differentiable at all (backward-only kernels): recording it with
//                        an input that requires grad is a fatal, named error
//
// Ops, the file that holds them (ops/ and each backend's kernels) and, after the arguments, the
// member of ag_op_params (op_params.h) the op's scalar arguments travel in ("-": none).
#define AG_OP_LIST(OP)                                                                   \
    /* elementwise.c: binary with numpy broadcasting */                                 \
    OP(ADD, add, 2, AG_GRAD_TWICE)                                                       \
    OP(SUB, sub, 2, AG_GRAD_TWICE)                                                       \
    OP(MUL, mul, 2, AG_GRAD_TWICE)                                                       \
    OP(DIV, div, 2, AG_GRAD_TWICE)                                                       \
    /* elementwise.c: with a scalar argument */                                          \
    OP(ADD_SCALAR, add_scalar, 1, AG_GRAD_TWICE)    /* scalar: x + value */              \
    OP(MUL_SCALAR, mul_scalar, 1, AG_GRAD_TWICE)    /* scalar: x * value */              \
    OP(POW_SCALAR, pow_scalar, 1, AG_GRAD_TWICE)    /* scalar: x ^ value */              \
    OP(CLAMP, clamp, 1, AG_GRAD_TWICE)              /* range: min(max(x, lo), hi) */     \
    OP(IN_RANGE, in_range, 1, AG_GRAD_ZERO)         /* range: lo <= x <= hi ? 1 : 0 */   \
    /* elementwise.c: unary */                                                           \
    OP(NEG, neg, 1, AG_GRAD_TWICE)                                                       \
    OP(EXP, exp, 1, AG_GRAD_TWICE)                                                       \
    OP(LOG, log, 1, AG_GRAD_TWICE)                                                       \
    OP(SQRT, sqrt, 1, AG_GRAD_TWICE)                                                     \
    OP(RSQRT, rsqrt, 1, AG_GRAD_TWICE)                                                   \
    OP(SQUARE, square, 1, AG_GRAD_TWICE)                                                 \
    OP(ABS, abs, 1, AG_GRAD_TWICE)                                                       \
    OP(SIGN, sign, 1, AG_GRAD_ZERO)                                                      \
    /* activation.c: activations and their fused gradients (grad first, then x or y) */  \
    OP(LEAKY_RELU, leaky_relu, 1, AG_GRAD_TWICE)    /* act: slope; relu is 0 */          \
    OP(LEAKY_RELU_GRAD, leaky_relu_grad, 2, AG_GRAD_TWICE) /* act: g * (x > 0 ? 1 : slope) */ \
    OP(TANH, tanh, 1, AG_GRAD_TWICE)                                                     \
    OP(TANH_GRAD, tanh_grad, 2, AG_GRAD_TWICE)      /* g * (1 - y^2) */                  \
    OP(SIGMOID, sigmoid, 1, AG_GRAD_TWICE)                                               \
    OP(SIGMOID_GRAD, sigmoid_grad, 2, AG_GRAD_TWICE) /* g * y * (1 - y) */               \
    OP(SOFTPLUS, softplus, 1, AG_GRAD_TWICE)        /* log(1 + exp(x)), stable */        \
    /* loss.c */                                                                         \
    OP(BCE, bce, 2, AG_GRAD_TWICE)                  /* elementwise, on probabilities */  \
    /* reduce.c: sum_to and expand are each other's gradients */                         \
    OP(SUM_TO, sum_to, 1, AG_GRAD_TWICE)            /* target: broadcast-compatible */   \
    OP(EXPAND, expand, 1, AG_GRAD_TWICE)            /* target */                         \
    /* shape.c */                                                                        \
    OP(RESHAPE, reshape, 1, AG_GRAD_TWICE)          /* target; a view: shares data */    \
    OP(PERMUTE, permute, 1, AG_GRAD_TWICE)          /* permute */                        \
    OP(CONCAT, concat, -1, AG_GRAD_TWICE)           /* slice: axis */                    \
    OP(NARROW, narrow, 1, AG_GRAD_TWICE)            /* slice: axis, start, size */       \
    OP(UNNARROW, unnarrow, 1, AG_GRAD_TWICE)        /* slice: zero-embed into size */    \
    OP(PAD2D, pad2d, 1, AG_GRAD_TWICE)              /* pad; < 0 crops */                 \
    /* matmul.c */                                                                       \
    OP(MATMUL, matmul, 2, AG_GRAD_TWICE)            /* matmul: transpose flags */        \
    /* conv.c: the three are each other's gradients */                                  \
    OP(CONV2D, conv2d, 2, AG_GRAD_TWICE)            /* conv */                           \
    OP(CONV_TRANSPOSE2D, conv_transpose2d, 2, AG_GRAD_TWICE) /* conv */                  \
    OP(CONV2D_WEIGHT_GRAD, conv2d_weight_grad, 2, AG_GRAD_TWICE) /* conv, w_shape */     \
    /* norm.c */                                                                         \
    OP(BATCHNORM2D, batchnorm2d, 3, AG_GRAD_ONCE)   /* batchnorm; batch statistics */    \
    OP(BATCHNORM2D_BACKWARD, batchnorm2d_backward, 5, AG_GRAD_NONE)                      \
    /* resample.c: upsample and sum-pool are each other's gradients */                   \
    OP(UPSAMPLE_NEAREST2X, upsample_nearest2x, 1, AG_GRAD_TWICE)                         \
    OP(SUM_POOL2, sum_pool2, 1, AG_GRAD_TWICE)                                           \
    /* norm.c: batchnorm fused with its activation (leaky_relu; slope 0 is relu) */     \
    OP(BATCHNORM2D_ACT, batchnorm2d_act, 3, AG_GRAD_ONCE) /* batchnorm, with slope */    \
    OP(BATCHNORM2D_ACT_BACKWARD, batchnorm2d_act_backward, 6, AG_GRAD_NONE) /* act: slope */ \
    OP(CHANNEL_AFFINE_ACT, channel_affine_act, 3, AG_GRAD_TWICE) /* act: slope */        \
    /* activation.c: bias + leaky_relu + gain as one op (StyleGAN2's bias_act) */        \
    OP(BIAS_ACT, bias_act, 2, AG_GRAD_TWICE)        /* act: slope (1: linear), gain */   \
    OP(BIAS_ACT_GRAD, bias_act_grad, 2, AG_GRAD_TWICE) /* act; inputs g, y */          \
    /* activation.c: a modulated convolution's epilogue: demodulation, noise, bias_act */ \
    OP(DEMOD_BIAS_ACT, demod_bias_act, -1, AG_GRAD_TWICE) /* act; x, b, d[, noise, str] */ \
    /* softmax.c: over the last dim of (N, K), row sums in double */                     \
    OP(LOG_SOFTMAX, log_softmax, 1, AG_GRAD_TWICE)                                       \
    /* pool.c: gather and scatter at each window's maximum of x, each other's gradients */ \
    OP(MAX_POOL2D, max_pool2d, 2, AG_GRAD_TWICE)    /* pool; inputs v, x: v at x's maxima */ \
    OP(MAX_POOL2D_BACKWARD, max_pool2d_backward, 2, AG_GRAD_TWICE) /* pool; inputs g, x */ \
    /* remap.c: per-sample pixel gather by an integer map and its scatter-add, each other's */ \
    /* gradients (the map, input 1, gets none) */                                        \
    OP(REMAP2D, remap2d, 2, AG_GRAD_TWICE)          /* inputs x, map */                  \
    OP(REMAP2D_ADJOINT, remap2d_adjoint, 2, AG_GRAD_TWICE) /* inputs g, map */         \
    /* collective.c: the sum over a data-parallel run's processes (ctx.h); its gradient */ \
    /* is the same sum of the gradients */                                              \
    OP(ALLREDUCE_SUM, allreduce_sum, 1, AG_GRAD_TWICE)

typedef enum ag_grad_kind { AG_GRAD_TWICE, AG_GRAD_ONCE, AG_GRAD_ZERO, AG_GRAD_NONE } ag_grad_kind;

typedef enum ag_op {
#define AG_OP_ENUM(E, n, s, g) AG_OP_##E,
    AG_OP_LIST(AG_OP_ENUM)
#undef AG_OP_ENUM
        AG_OP_COUNT
} ag_op;
