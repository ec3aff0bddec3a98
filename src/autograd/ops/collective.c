// ag_allreduce_sum: a data-parallel run's sum over its processes, as an op of the graph. With
// y = sum_r x_r on every process and a global loss sum_r L_r(y), dL/dx_r = sum_r' dL_r'/dy: the
// backward pass is the same collective on the gradient. Synchronised batchnorm is built from it
// (layers/sync_batchnorm.c).
#include <stdlib.h>

#include "ctx_internal.h"
#include "internal.h"
#include "rules.h"
#include "tensor.h"

ag_tensor *ag_allreduce_sum(ag_ctx *c, ag_tensor *x) {
    if (!c->allreduce) return x;
    return ag_unary_op(c, AG_OP_ALLREDUCE_SUM, x, AG_NO_PARAMS);
}

void ag_backward_allreduce_sum(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    (void)n;
    gin[0] = ag_allreduce_sum(c, g);
}

void ag_kernel_allreduce_sum(ag_ctx *c, const ag_node *node) {
    const ag_tensor *x = node->src[0];
    AG_CHECK(c->allreduce, "allreduce_sum: no collective on this context (ag_ctx_set_allreduce)");
    float *buf = ag_xmalloc((size_t)x->numel * sizeof *buf);
    ag_tensor_to_host(x, buf);
    c->allreduce(c->allreduce_user, buf, x->numel);
    ag_tensor_from_host(node->out, buf);
    free(buf);
}
