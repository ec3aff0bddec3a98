// Max pooling as a pair of ops, each the other's gradient (as upsample and sum-pool are):
//   max_pool2d(v, x)           each window's value of v at the position of x's maximum;
//                              ag_max_pool2d(x) is max_pool2d(x, x)
//   max_pool2d_backward(g, x)  g scattered to those positions (zero elsewhere, summed where
//                              windows overlap)
// Both are linear in their first input and piecewise constant in x (x only picks positions), so
// their rules are each other and nothing for x: derivatives of any order work, and the kernels
// recompute the positions from x instead of keeping indices.
#include "internal.h"

static int pooled_size(int n, ag_pool_params p) { return (n + 2 * p.pad - p.kernel) / p.stride + 1; }

// v at x's maxima: v and x (N, C, H, W) -> (N, C, Ho, Wo).
static ag_tensor *max_pool2d_at(ag_ctx *c, ag_tensor *v, ag_tensor *x, ag_pool_params p) {
    AG_CHECK(ag_shape_equal(v->shape, x->shape), "max_pool2d: values %s for input %s", AG_SHAPE_STR(v->shape),
             AG_SHAPE_STR(x->shape));
    ag_shape s = x->shape;
    s.d[2] = pooled_size(s.d[2], p);
    s.d[3] = pooled_size(s.d[3], p);
    ag_op_params params = {.pool = p};
    return ag_op_run(c, AG_OP_MAX_POOL2D, ag_new(c, s), (ag_tensor *[]){v, x}, 2, &params, NULL, 0);
}

// g (N, C, Ho, Wo) scattered to x's maxima: (N, C, H, W).
static ag_tensor *max_pool2d_backward(ag_ctx *c, ag_tensor *g, ag_tensor *x, ag_pool_params p) {
    ag_shape s = x->shape;
    s.d[2] = pooled_size(s.d[2], p);
    s.d[3] = pooled_size(s.d[3], p);
    AG_CHECK(ag_shape_equal(g->shape, s), "max_pool2d_backward: gradient %s, expected %s for input %s",
             AG_SHAPE_STR(g->shape), AG_SHAPE_STR(s), AG_SHAPE_STR(x->shape));
    ag_op_params params = {.pool = p};
    return ag_op_run(c, AG_OP_MAX_POOL2D_BACKWARD, ag_new(c, x->shape), (ag_tensor *[]){g, x}, 2, &params, NULL, 0);
}

ag_tensor *ag_max_pool2d(ag_ctx *c, ag_tensor *x, int kernel, int stride, int pad) {
    AG_CHECK(x->shape.ndim == 4, "max_pool2d: input %s, expected (N, C, H, W)", AG_SHAPE_STR(x->shape));
    // pad <= kernel / 2 (torch's rule) keeps an input in every window, so no output is -inf
    // for want of one and every window has a position for the gradient.
    AG_CHECK(kernel >= 1 && stride >= 1 && pad >= 0 && pad <= kernel / 2,
             "max_pool2d: kernel %d, stride %d, pad %d: expected kernel, stride >= 1 and 0 <= pad <= kernel / 2",
             kernel, stride, pad);
    AG_CHECK(x->shape.d[2] + 2 * pad >= kernel && x->shape.d[3] + 2 * pad >= kernel,
             "max_pool2d: input %s padded by %d is smaller than the %dx%d window", AG_SHAPE_STR(x->shape), pad,
             kernel, kernel);
    return max_pool2d_at(c, x, x, (ag_pool_params){kernel, stride, pad});
}

void ag_backward_max_pool2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = max_pool2d_backward(c, g, n->src[1], n->p.pool);
}

void ag_backward_max_pool2d_backward(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = max_pool2d_at(c, gg, n->src[1], n->p.pool);
}
