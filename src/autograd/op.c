#include "op.h"

#include <string.h>

#include "check.h"
#include "ctx_internal.h"

const ag_op_info ag_op_infos[AG_OP_COUNT] = {
#define AG_OP_INFO(E, n, s, g) [AG_OP_##E] = {#n, s, g},
    AG_OP_LIST(AG_OP_INFO)
#undef AG_OP_INFO
};

ag_tensor *ag_op_run(ag_ctx *c, ag_op op, ag_tensor *out, ag_tensor *const *src, int nsrc,
                     const ag_op_params *p, ag_tensor *const *saved, int nsaved) {
    const ag_op_info *info = &ag_op_infos[op];
    AG_CHECK(info->nsrc < 0 ? nsrc >= 1 && nsrc <= AG_MAX_SRC : nsrc == info->nsrc,
             "%s: called with %d inputs", info->name, nsrc);
    AG_CHECK(nsaved <= AG_MAX_SAVED, "%s: %d saved tensors", info->name, nsaved);
    bool any_grad = false;
    for (int i = 0; i < nsrc; i++) {
        AG_CHECK(src[i], "%s: input %d is NULL", info->name, i);
        AG_CHECK(src[i]->be == c->be, "%s: input %d %s is on backend %s, the context on %s",
                 info->name, i, AG_SHAPE_STR(src[i]->shape), src[i]->be->name, c->be->name);
        any_grad |= src[i]->requires_grad;
    }
    ag_kernel_fn kernel = c->be->ops->kernels[op];

    ag_node node = {.op = op, .nsrc = nsrc, .nsaved = nsaved, .out = out};
    memcpy(node.src, src, (size_t)nsrc * sizeof *src);
    if (nsaved) memcpy(node.saved, saved, (size_t)nsaved * sizeof *saved);
    if (p) node.p = *p;
    if (c->profile)
        ag_profile_run(c, kernel, &node);
    else
        kernel(c, &node);

    bool record = c->grad_enabled && any_grad && info->grad != AG_GRAD_ZERO;
    if (record) {
        AG_CHECK(info->grad != AG_GRAD_NONE,
                 "%s: not differentiable, but an input requires grad (is this a second "
                 "derivative through a once-differentiable op?)",
                 info->name);
        ag_node *n = ag_arena_alloc(&c->meta, sizeof *n);
        *n = node;
        n->seq = c->seq++;
        out->node = n;
        out->requires_grad = true;
    }
    return out;
}
