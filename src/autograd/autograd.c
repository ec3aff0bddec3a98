#include "autograd.h"

#include <stdlib.h>

#include "check.h"
#include "ctx_internal.h"
#include "ops.h"
#include "rules.h"

// Every op's rule by name (rules.h declares them all): an op without one fails the link.
static const ag_backward_fn rules[] = {
#define AG_RULE_ENTRY(E, n, s, g) [AG_OP_##E] = ag_backward_##n,
    AG_OP_LIST(AG_RULE_ENTRY)
#undef AG_RULE_ENTRY
};
_Static_assert(sizeof rules / sizeof rules[0] == AG_OP_COUNT, "one backward rule per op of op_list.h");

#define NODE_LEADS 0x80000000u  // in `need`: the node leads to a tensor whose gradient we want

static void push_node(ag_ctx *c, size_t *count, ag_node *n) {
    if (*count == c->bw_cap) {
        c->bw_cap = c->bw_cap ? 2 * c->bw_cap : 1024;
        c->bw_nodes = ag_xrealloc(c->bw_nodes, c->bw_cap * sizeof *c->bw_nodes);
    }
    n->epoch = c->epoch;
    c->bw_nodes[(*count)++] = n;
}

static int by_seq_desc(const void *a, const void *b) {
    uint64_t x = (*(ag_node *const *)a)->seq, y = (*(ag_node *const *)b)->seq;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void accumulate(ag_ctx *c, ag_tensor *t, ag_tensor *g) {
    if (t->bw_epoch != c->epoch) {
        t->bw_grad = g;
        t->bw_epoch = c->epoch;
    } else {
        ag_tensor *sum = ag_add(c, t->bw_grad, g);
        ag_recycle_drop(c, t->bw_grad);
        t->bw_grad = sum;
    }
    ag_recycle_hold(c, t->bw_grad);
}

static void accumulate_leaf(ag_ctx *c, ag_tensor *leaf, ag_tensor *g) {
    if (!leaf->grad) {
        // A per-iteration leaf's grad outlives the pass: made outside the recycling count.
        const bool recycling = c->recycle.on;
        c->recycle.on = false;
        leaf->grad = leaf->persistent ? ag_tensor_create(leaf->be, leaf->shape) : ag_zeros(c, leaf->shape);
        c->recycle.on = recycling;
    }
    leaf->be->ops->axpy(leaf->be, leaf->grad->data, g->data, g->numel, 1.0f);
}

// A tensor whose gradient this pass collects: the inputs of ag_grad, or (ag_backward) every leaf
// that requires grad.
static bool is_target(const ag_ctx *c, const ag_tensor *t, bool leaves) {
    return leaves ? (!t->node && t->requires_grad) : t->target_epoch == c->epoch;
}

static size_t run_backward(ag_ctx *c, int nout, ag_tensor *const *outs, ag_tensor *const *gouts,
                         bool leaves, bool create_graph) {
    // 1. Every recorded node the outputs depend on, newest first (creation order is topological).
    size_t count = 0;
    for (int j = 0; j < nout; j++)
        if (outs[j]->node && outs[j]->node->epoch != c->epoch) push_node(c, &count, outs[j]->node);
    for (size_t k = 0; k < count; k++) {
        ag_node *n = c->bw_nodes[k];
        for (int i = 0; i < n->nsrc; i++) {
            ag_node *s = n->src[i]->node;
            if (s && s->epoch != c->epoch) push_node(c, &count, s);
        }
    }
    qsort(c->bw_nodes, count, sizeof *c->bw_nodes, by_seq_desc);

    // 2. Oldest first: which inputs of each node lead to a target. Rules only compute those.
    for (size_t k = count; k-- > 0;) {
        ag_node *n = c->bw_nodes[k];
        n->need = 0;
        for (int i = 0; i < n->nsrc; i++) {
            const ag_tensor *s = n->src[i];
            if (s->requires_grad &&
                (is_target(c, s, leaves) || (s->node && (s->node->need & NODE_LEADS))))
                n->need |= 1u << i;
        }
        if (n->need) n->need |= NODE_LEADS;
    }

    // 3. Seed the outputs and run the rules.
    for (int j = 0; j < nout; j++) {
        ag_tensor *g = gouts && gouts[j] ? gouts[j] : NULL;
        if (!g) {
            AG_CHECK(outs[j]->numel == 1,
                     "backward: output %d has shape %s; give a grad_output for non-scalar outputs",
                     j, AG_SHAPE_STR(outs[j]->shape));
            g = ag_ones(c, outs[j]->shape);
        }
        AG_CHECK(ag_shape_equal(g->shape, outs[j]->shape),
                 "backward: grad_output %s does not match output %s", AG_SHAPE_STR(g->shape),
                 AG_SHAPE_STR(outs[j]->shape));
        if (leaves && is_target(c, outs[j], true)) accumulate_leaf(c, outs[j], g);
        else accumulate(c, outs[j], g);
    }

    bool prev = ag_set_grad_enabled(c, create_graph);
    // Without a graph no gradient is read again once its node's rule has run: reuse its memory.
    if (!create_graph) ag_recycle_begin(c);
    for (size_t k = 0; k < count; k++) {
        ag_node *n = c->bw_nodes[k];
        if (!(n->need & NODE_LEADS) || n->out->bw_epoch != c->epoch) continue;
        const ag_op_info *info = &ag_op_infos[n->op];
        AG_CHECK(!(create_graph && info->grad == AG_GRAD_ONCE),
                 "%s: once-differentiable (its backward is a fused kernel), but create_graph asks "
                 "for a differentiable gradient through it",
                 info->name);
        ag_tensor *gin[AG_MAX_SRC] = {0};
        rules[n->op](c, n, n->out->bw_grad, gin);
        for (int i = 0; i < n->nsrc; i++) {
            if (!ag_node_needs_grad(n, i)) continue;
            ag_tensor *s = n->src[i];
            if (!gin[i]) continue;  // a rule may say "zero" by leaving it NULL
            AG_CHECK(ag_shape_equal(gin[i]->shape, s->shape),
                     "%s: backward rule gave gradient %s for input %d of shape %s", info->name,
                     AG_SHAPE_STR(gin[i]->shape), i, AG_SHAPE_STR(s->shape));
            if (leaves && !s->node) accumulate_leaf(c, s, gin[i]);
            else accumulate(c, s, gin[i]);
        }
        // ag_grad hands back a target's gradient even when the target has a node.
        if (!is_target(c, n->out, leaves)) ag_recycle_drop(c, n->out->bw_grad);
        ag_recycle_node_done(c);
    }
    ag_recycle_end(c);
    ag_set_grad_enabled(c, prev);
    return count;
}

// Clears the per-pass marks on every tensor the pass touched. Tensors outlive contexts
// (parameters do), so marks must not survive into a pass of another context.
static void end_pass(ag_ctx *c, size_t count, int nout, ag_tensor *const *outs) {
    for (int j = 0; j < nout; j++) outs[j]->bw_epoch = outs[j]->target_epoch = 0, outs[j]->bw_grad = NULL;
    for (size_t k = 0; k < count; k++) {
        ag_node *n = c->bw_nodes[k];
        n->out->bw_epoch = 0;
        n->out->bw_grad = NULL;
        for (int i = 0; i < n->nsrc; i++) {
            n->src[i]->bw_epoch = n->src[i]->target_epoch = 0;
            n->src[i]->bw_grad = NULL;
        }
    }
}

void ag_backward_with(ag_ctx *c, ag_tensor *out, ag_tensor *grad_out) {
    AG_CHECK(out->requires_grad, "backward: the output %s does not require grad",
             AG_SHAPE_STR(out->shape));
    c->epoch++;
    size_t count = run_backward(c, 1, &out, grad_out ? &grad_out : NULL, true, false);
    end_pass(c, count, 1, &out);
}

void ag_backward(ag_ctx *c, ag_tensor *loss) { ag_backward_with(c, loss, NULL); }

ag_backward_fn ag_backward_rule(ag_op op) { return rules[op]; }

void ag_grad(ag_ctx *c, int nout, ag_tensor *const *outputs, ag_tensor *const *grad_outputs,
             int nin, ag_tensor *const *inputs, bool create_graph, ag_tensor **result) {
    c->epoch++;
    for (int i = 0; i < nin; i++) {
        AG_CHECK(inputs[i]->requires_grad, "grad: input %d %s does not require grad", i,
                 AG_SHAPE_STR(inputs[i]->shape));
        inputs[i]->target_epoch = c->epoch;
    }
    size_t count = run_backward(c, nout, outputs, grad_outputs, false, create_graph);
    for (int i = 0; i < nin; i++)
        result[i] = inputs[i]->bw_epoch == c->epoch ? inputs[i]->bw_grad : ag_zeros(c, inputs[i]->shape);
    end_pass(c, count, nout, outputs);
    for (int i = 0; i < nin; i++) inputs[i]->bw_epoch = inputs[i]->target_epoch = 0;
}
