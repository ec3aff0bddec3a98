// log_softmax over the rows of an (N, K) tensor, and the cross-entropy loss built on it. The
// op's rule is written with public ops and reads the op's own output (softmax = exp(y)), so
// gradients of gradients work.
#include "internal.h"

ag_tensor *ag_log_softmax(ag_ctx *c, ag_tensor *x) {
    AG_CHECK(x->shape.ndim == 2, "log_softmax: input %s, expected (N, K)", AG_SHAPE_STR(x->shape));
    return ag_unary_op(c, AG_OP_LOG_SOFTMAX, x, AG_NO_PARAMS);
}

// y = x - logsumexp(x) per row: dx = g - softmax(x) * sum_k g, with softmax(x) = exp(y).
void ag_backward_log_softmax(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *row_sums = ag_sum_axes(c, g, 1, (const int[]){1}, true);
    gin[0] = ag_sub(c, g, ag_mul(c, ag_exp(c, n->out), row_sums));
}

// -sum(targets * log_softmax(logits)) / N. The targets are detached: no gradient reaches them
// (torch would give them one; the classifier trained here never wants it).
ag_tensor *ag_cross_entropy(ag_ctx *c, ag_tensor *logits, ag_tensor *targets) {
    AG_CHECK(logits->shape.ndim == 2 && ag_shape_equal(logits->shape, targets->shape) && logits->shape.d[0] > 0,
             "cross_entropy: logits %s and targets %s, expected both (N, K) with N > 0",
             AG_SHAPE_STR(logits->shape), AG_SHAPE_STR(targets->shape));
    ag_tensor *terms = ag_mul(c, ag_detach(c, targets), ag_log_softmax(c, logits));
    return ag_scale(c, ag_sum(c, terms), -1.0f / (float)logits->shape.d[0]);
}
