// Sums and broadcasts. sum_to and expand are each other's gradients; every reduction over
// axes is a sum_to to a shape with ones in the reduced axes.
#include <string.h>

#include "internal.h"

ag_tensor *ag_sum_to(ag_ctx *c, ag_tensor *x, ag_shape shape) {
    AG_CHECK(ag_shape_broadcastable_to(shape, x->shape), "sum_to: %s cannot be summed to %s",
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(shape));
    if (ag_shape_equal(shape, x->shape)) return x;
    ag_op_params p = {.target = {shape}};
    return ag_op_run(c, AG_OP_SUM_TO, ag_new(c, shape), &x, 1, &p, NULL, 0);
}

ag_tensor *ag_expand(ag_ctx *c, ag_tensor *x, ag_shape shape) {
    AG_CHECK(ag_shape_broadcastable_to(x->shape, shape), "expand: %s does not broadcast to %s",
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(shape));
    if (ag_shape_equal(shape, x->shape)) return x;
    ag_op_params p = {.target = {shape}};
    return ag_op_run(c, AG_OP_EXPAND, ag_new(c, shape), &x, 1, &p, NULL, 0);
}

void ag_backward_sum_to(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_expand(c, g, n->src[0]->shape);
}

void ag_backward_expand(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_sum_to(c, g, n->src[0]->shape);
}

ag_tensor *ag_sum(ag_ctx *c, ag_tensor *x) {
    if (x->shape.ndim == 1 && x->shape.d[0] == 1) return x;
    return ag_sum_to(c, x, AG_SHAPE(1));
}

ag_tensor *ag_mean(ag_ctx *c, ag_tensor *x) {
    return ag_scale(c, ag_sum(c, x), 1.0f / (float)x->numel);
}

static ag_shape reduced_shape(ag_tensor *x, int naxes, const int *axes, bool keepdim, int64_t *count) {
    bool reduce[AG_MAX_DIMS] = {0};
    for (int k = 0; k < naxes; k++) {
        int a = ag_shape_axis(x->shape, axes[k], "sum_axes");
        AG_CHECK(!reduce[a], "sum_axes: axis %d given twice for shape %s", axes[k], AG_SHAPE_STR(x->shape));
        reduce[a] = true;
    }
    ag_shape keep = x->shape, drop = {.ndim = 0};
    *count = 1;
    for (int a = 0; a < x->shape.ndim; a++) {
        if (reduce[a]) {
            *count *= x->shape.d[a];
            keep.d[a] = 1;
        } else {
            drop.d[drop.ndim++] = x->shape.d[a];
        }
    }
    if (keepdim) return keep;
    if (drop.ndim == 0) drop = AG_SHAPE(1);
    return drop;
}

ag_tensor *ag_sum_axes(ag_ctx *c, ag_tensor *x, int naxes, const int *axes, bool keepdim) {
    int64_t count;
    ag_shape out = reduced_shape(x, naxes, axes, keepdim, &count);
    ag_shape keep = reduced_shape(x, naxes, axes, true, &count);
    ag_tensor *s = ag_sum_to(c, x, keep);
    return keepdim ? s : ag_reshape(c, s, out);
}

ag_tensor *ag_mean_axes(ag_ctx *c, ag_tensor *x, int naxes, const int *axes, bool keepdim) {
    int64_t count;
    reduced_shape(x, naxes, axes, keepdim, &count);
    return ag_scale(c, ag_sum_axes(c, x, naxes, axes, keepdim), 1.0f / (float)count);
}
