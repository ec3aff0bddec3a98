// The convolution family: conv2d, conv_transpose2d and conv2d_weight_grad are each other's
// gradients (the conv2d_gradfix idea of StyleGAN2-ADA), so every backward rule below is written
// with these three ops only and gradients of any order work.
//
// With C(x, w) = conv2d and T(y, w) = conv_transpose2d its adjoint in x, and
// WG(x, gy) = d<C(x, w), gy>/dw, the rules follow from <C(x, w), gy> = <x, T(gy, w)> =
// <w, WG(x, gy)>:
//   C(x, w):   dx = T(g, w)           dw = WG(x, g)
//   T(y, w):   dy = C(g, w)           dw = WG(g, y)
//   WG(x, gy): dx = T(gy, g)          dgy = C(x, g)
// T's output size is ambiguous for strides > 1; the output padding that makes it land exactly on
// the original input size is worked out from that size (conv_out_pad).
//
// All three take ag_conv_params (op_params.h): the conv arguments, and for conv2d_weight_grad
// the weight's shape.
#include "internal.h"

static ag_op_params conv_params(ag_conv_args a) { return (ag_op_params){.conv = {.args = a}}; }

static ag_conv_args conv_args_of(const ag_node *n) { return n->p.conv.args; }

// Output size of a convolution along one dim; < 1 when the kernel does not fit.
static int conv_out_size(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }
static int conv_transpose_out_size(int in, int k, int stride, int pad, int out_pad) {
    return (in - 1) * stride - 2 * pad + k + out_pad;
}

// Arguments of the transposed conv that maps a conv2d output of size (ho, wo) back to exactly
// (h, w): the rows the forward stride skipped at the end come back as output padding.
static ag_conv_args conv_out_pad(ag_conv_args a, int h, int w, int kh, int kw, int ho, int wo) {
    a.out_pad_h = h - conv_transpose_out_size(ho, kh, a.stride_h, a.pad_h, 0);
    a.out_pad_w = w - conv_transpose_out_size(wo, kw, a.stride_w, a.pad_w, 0);
    return a;
}

static ag_conv_args conv_no_out_pad(ag_conv_args a) {
    a.out_pad_h = a.out_pad_w = 0;
    return a;
}

// Checks shared by the three ops: 4-D tensors, positive strides and groups, no negative padding.
static void conv_check_args(const char *op, ag_tensor *x, ag_shape ws, ag_conv_args a) {
    AG_CHECK(x->shape.ndim == 4 && ws.ndim == 4, "%s: input %s and weight %s must be 4-D", op,
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(ws));
    AG_CHECK(a.stride_h >= 1 && a.stride_w >= 1 && a.pad_h >= 0 && a.pad_w >= 0 && a.groups >= 1,
             "%s: stride (%d, %d) must be >= 1, padding (%d, %d) >= 0, groups %d >= 1", op, a.stride_h,
             a.stride_w, a.pad_h, a.pad_w, a.groups);
    AG_CHECK(x->shape.d[1] >= 1 && x->shape.d[2] >= 1 && x->shape.d[3] >= 1,
             "%s: input %s has an empty channel or spatial dim", op, AG_SHAPE_STR(x->shape));
    AG_CHECK(x->shape.d[1] % a.groups == 0, "%s: input %s: %d channels not divisible by groups %d", op,
             AG_SHAPE_STR(x->shape), x->shape.d[1], a.groups);
}

// conv2d and conv2d_weight_grad take no output padding: it only means something for the
// transposed conv, and a nonzero one here is a mix-up of argument structs.
static void conv_check_no_out_pad(const char *op, ag_conv_args a) {
    AG_CHECK(a.out_pad_h == 0 && a.out_pad_w == 0,
             "%s: output padding (%d, %d) is for conv_transpose2d only", op, a.out_pad_h, a.out_pad_w);
}

// The output shape of conv2d(x, w) after checking that the two fit together.
static ag_shape conv2d_out_shape(const char *op, ag_tensor *x, ag_shape ws, ag_conv_args a) {
    conv_check_args(op, x, ws, a);
    conv_check_no_out_pad(op, a);
    int cin = x->shape.d[1], cout = ws.d[0];
    AG_CHECK(ws.d[1] * a.groups == cin && cout >= 1 && cout % a.groups == 0,
             "%s: input %s and weight %s do not match for groups %d (weight is (Cout, Cin/groups, kh, kw))",
             op, AG_SHAPE_STR(x->shape), AG_SHAPE_STR(ws), a.groups);
    int ho = conv_out_size(x->shape.d[2], ws.d[2], a.stride_h, a.pad_h);
    int wo = conv_out_size(x->shape.d[3], ws.d[3], a.stride_w, a.pad_w);
    AG_CHECK(ws.d[2] >= 1 && ws.d[3] >= 1 && x->shape.d[2] + 2 * a.pad_h >= ws.d[2] &&
                 x->shape.d[3] + 2 * a.pad_w >= ws.d[3],
             "%s: kernel %s larger than the padded input %s (padding %d, %d)", op, AG_SHAPE_STR(ws),
             AG_SHAPE_STR(x->shape), a.pad_h, a.pad_w);
    return AG_SHAPE(x->shape.d[0], cout, ho, wo);
}

ag_tensor *ag_conv2d(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_conv_args a) {
    ag_shape s = conv2d_out_shape("conv2d", x, w->shape, a);
    ag_op_params p = conv_params(a);
    return ag_op_run(c, AG_OP_CONV2D, ag_new(c, s), (ag_tensor *[]){x, w}, 2, &p, NULL, 0);
}

ag_tensor *ag_conv_transpose2d(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_conv_args a) {
    const char *op = "conv_transpose2d";
    conv_check_args(op, x, w->shape, a);
    ag_shape ws = w->shape;
    AG_CHECK(ws.d[0] == x->shape.d[1] && ws.d[1] >= 1,
             "%s: input %s and weight %s do not match (weight is (Cin, Cout/groups, kh, kw))", op,
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(ws));
    AG_CHECK(a.out_pad_h >= 0 && a.out_pad_w >= 0 && a.out_pad_h < a.stride_h && a.out_pad_w < a.stride_w,
             "%s: output padding (%d, %d) must be >= 0 and smaller than the stride (%d, %d)", op,
             a.out_pad_h, a.out_pad_w, a.stride_h, a.stride_w);
    int ho = conv_transpose_out_size(x->shape.d[2], ws.d[2], a.stride_h, a.pad_h, a.out_pad_h);
    int wo = conv_transpose_out_size(x->shape.d[3], ws.d[3], a.stride_w, a.pad_w, a.out_pad_w);
    AG_CHECK(ws.d[2] >= 1 && ws.d[3] >= 1 && ho >= 1 && wo >= 1,
             "%s: input %s, weight %s, padding (%d, %d) give an empty output (%d, %d)", op,
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(ws), a.pad_h, a.pad_w, ho, wo);
    ag_shape s = AG_SHAPE(x->shape.d[0], ws.d[1] * a.groups, ho, wo);
    ag_op_params p = conv_params(a);
    return ag_op_run(c, AG_OP_CONV_TRANSPOSE2D, ag_new(c, s), (ag_tensor *[]){x, w}, 2, &p, NULL, 0);
}

ag_tensor *ag_conv2d_weight_grad(ag_ctx *c, ag_tensor *x, ag_tensor *gy, ag_shape w_shape, ag_conv_args a) {
    const char *op = "conv2d_weight_grad";
    ag_shape ys = conv2d_out_shape(op, x, w_shape, a);
    AG_CHECK(ag_shape_equal(gy->shape, ys), "%s: output gradient %s, but conv2d of %s with weight %s gives %s",
             op, AG_SHAPE_STR(gy->shape), AG_SHAPE_STR(x->shape), AG_SHAPE_STR(w_shape), AG_SHAPE_STR(ys));
    ag_op_params p = conv_params(a);
    p.conv.w_shape = w_shape;
    return ag_op_run(c, AG_OP_CONV2D_WEIGHT_GRAD, ag_new(c, w_shape), (ag_tensor *[]){x, gy}, 2, &p, NULL, 0);
}

void ag_backward_conv2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0], *w = n->src[1];
    ag_conv_args a = conv_args_of(n);
    if (ag_node_needs_grad(n, 0)) {
        ag_conv_args t = conv_out_pad(a, x->shape.d[2], x->shape.d[3], w->shape.d[2], w->shape.d[3],
                                      g->shape.d[2], g->shape.d[3]);
        gin[0] = ag_conv_transpose2d(c, g, w, t);
    }
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_conv2d_weight_grad(c, x, g, w->shape, a);
}

// y = T(x, w) is the adjoint of conv2d from y's size to x's: dx = C(g, w), dw = WG(g, x).
void ag_backward_conv_transpose2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0], *w = n->src[1];
    ag_conv_args a = conv_no_out_pad(conv_args_of(n));
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_conv2d(c, g, w, a);
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_conv2d_weight_grad(c, g, x, w->shape, a);
}

// WG(x, gy) is bilinear: <WG(x, gy), g> = <C(x, g), gy> = <x, T(gy, g)>.
void ag_backward_conv2d_weight_grad(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0], *gy = n->src[1];
    ag_conv_args a = conv_args_of(n);
    if (ag_node_needs_grad(n, 0)) {
        ag_conv_args t = conv_out_pad(a, x->shape.d[2], x->shape.d[3], g->shape.d[2], g->shape.d[3],
                                      gy->shape.d[2], gy->shape.d[3]);
        gin[0] = ag_conv_transpose2d(c, gy, g, t);
    }
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_conv2d(c, x, g, a);
}

ag_tensor *ag_add_channel_bias(ag_ctx *c, ag_tensor *x, ag_tensor *b) {
    AG_CHECK(x->shape.ndim == 4 && b->shape.ndim == 1 && b->shape.d[0] == x->shape.d[1],
             "add_channel_bias: input %s and bias %s (expected (N, C, H, W) and (C))", AG_SHAPE_STR(x->shape),
             AG_SHAPE_STR(b->shape));
    return ag_add(c, x, ag_reshape(c, b, AG_SHAPE(1, b->shape.d[0], 1, 1)));
}
