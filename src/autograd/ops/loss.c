// Binary cross-entropy, on probabilities (torch.nn.BCELoss) and on logits.
#include <math.h>

#include "internal.h"

ag_tensor *ag_bce_elementwise(ag_ctx *c, ag_tensor *p, ag_tensor *y) {
    return ag_same_shape_op(c, AG_OP_BCE, p, y, AG_NO_PARAMS);
}

ag_tensor *ag_bce(ag_ctx *c, ag_tensor *p, ag_tensor *y) { return ag_mean(c, ag_bce_elementwise(c, p, y)); }

ag_tensor *ag_bce_with_logits(ag_ctx *c, ag_tensor *x, ag_tensor *y) {
    AG_CHECK(ag_shape_equal(x->shape, y->shape), "bce_with_logits: logits %s, targets %s",
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(y->shape));
    return ag_mean(c, ag_sub(c, ag_softplus(c, x), ag_mul(c, x, y)));
}

// As torch's binary_cross_entropy_backward: dL/dp = (p - y) / max(p (1 - p), 1e-12).
// dL/dy = log(1 - p) - log(p) with both logs clamped at -100 as in the forward.
void ag_backward_bce(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *p = n->src[0], *y = n->src[1];
    if (ag_node_needs_grad(n, 0)) {
        ag_tensor *one_minus_p = ag_add_scalar(c, ag_neg(c, p), 1.0f);
        ag_tensor *denom = ag_clamp(c, ag_mul(c, p, one_minus_p), 1e-12f, INFINITY);
        gin[0] = ag_div(c, ag_mul(c, g, ag_sub(c, p, y)), denom);
    }
    if (ag_node_needs_grad(n, 1)) {
        ag_tensor *log_p = ag_clamp(c, ag_log(c, p), -100.0f, INFINITY);
        ag_tensor *log_1mp = ag_clamp(c, ag_log(c, ag_add_scalar(c, ag_neg(c, p), 1.0f)), -100.0f, INFINITY);
        gin[1] = ag_mul(c, g, ag_sub(c, log_1mp, log_p));
    }
}
