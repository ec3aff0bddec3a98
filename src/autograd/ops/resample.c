// 2x resampling of images (N, C, H, W). Nearest upsampling copies each pixel to a 2x2 block and
// 2x2 sum pooling adds each block up: the two are each other's adjoints, so each is the other's
// gradient and derivatives of any order work.
#include "internal.h"

ag_tensor *ag_upsample_nearest2x(ag_ctx *c, ag_tensor *x) {
    AG_CHECK(x->shape.ndim == 4, "upsample_nearest2x: input %s must be (N, C, H, W)", AG_SHAPE_STR(x->shape));
    ag_shape s = x->shape;
    s.d[2] *= 2;
    s.d[3] *= 2;
    return ag_op_run(c, AG_OP_UPSAMPLE_NEAREST2X, ag_new(c, s), &x, 1, NULL, NULL, 0);
}

ag_tensor *ag_sum_pool2(ag_ctx *c, ag_tensor *x) {
    AG_CHECK(x->shape.ndim == 4 && x->shape.d[2] % 2 == 0 && x->shape.d[3] % 2 == 0,
             "sum_pool2: input %s must be (N, C, H, W) with H and W even", AG_SHAPE_STR(x->shape));
    ag_shape s = x->shape;
    s.d[2] /= 2;
    s.d[3] /= 2;
    return ag_op_run(c, AG_OP_SUM_POOL2, ag_new(c, s), &x, 1, NULL, NULL, 0);
}

ag_tensor *ag_avg_pool2(ag_ctx *c, ag_tensor *x) { return ag_scale(c, ag_sum_pool2(c, x), 0.25f); }

void ag_backward_upsample_nearest2x(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    (void)n;
    gin[0] = ag_sum_pool2(c, g);
}

void ag_backward_sum_pool2(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    (void)n;
    gin[0] = ag_upsample_nearest2x(c, g);
}
