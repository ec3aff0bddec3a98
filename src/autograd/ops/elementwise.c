// Elementwise ops: wrappers and backward rules. Binary ops broadcast as numpy does; their
// rules sum the gradient back to each input's shape.
#include <math.h>
#include <string.h>

#include "internal.h"

ag_tensor *ag_unary_op(ag_ctx *c, ag_op op, ag_tensor *x, ag_op_params p) {
    return ag_op_run(c, op, ag_new(c, x->shape), &x, 1, &p, NULL, 0);
}

ag_tensor *ag_same_shape_op(ag_ctx *c, ag_op op, ag_tensor *a, ag_tensor *b, ag_op_params p) {
    AG_CHECK(ag_shape_equal(a->shape, b->shape), "%s: shapes %s and %s differ", ag_op_infos[op].name,
             AG_SHAPE_STR(a->shape), AG_SHAPE_STR(b->shape));
    return ag_op_run(c, op, ag_new(c, a->shape), (ag_tensor *[]){a, b}, 2, &p, NULL, 0);
}

ag_tensor *ag_reduce_grad(ag_ctx *c, ag_tensor *g, ag_shape shape) {
    return ag_shape_equal(g->shape, shape) ? g : ag_sum_to(c, g, shape);
}

static ag_tensor *binary(ag_ctx *c, ag_op op, ag_tensor *a, ag_tensor *b) {
    ag_shape s;
    AG_CHECK(ag_shape_broadcast(a->shape, b->shape, &s), "%s: shapes %s and %s do not broadcast",
             ag_op_infos[op].name, AG_SHAPE_STR(a->shape), AG_SHAPE_STR(b->shape));
    return ag_op_run(c, op, ag_new(c, s), (ag_tensor *[]){a, b}, 2, NULL, NULL, 0);
}

ag_tensor *ag_add(ag_ctx *c, ag_tensor *a, ag_tensor *b) { return binary(c, AG_OP_ADD, a, b); }
ag_tensor *ag_sub(ag_ctx *c, ag_tensor *a, ag_tensor *b) { return binary(c, AG_OP_SUB, a, b); }
ag_tensor *ag_mul(ag_ctx *c, ag_tensor *a, ag_tensor *b) { return binary(c, AG_OP_MUL, a, b); }
ag_tensor *ag_div(ag_ctx *c, ag_tensor *a, ag_tensor *b) { return binary(c, AG_OP_DIV, a, b); }

void ag_backward_add(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_reduce_grad(c, g, n->src[0]->shape);
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_reduce_grad(c, g, n->src[1]->shape);
}

void ag_backward_sub(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_reduce_grad(c, g, n->src[0]->shape);
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_neg(c, ag_reduce_grad(c, g, n->src[1]->shape));
}

void ag_backward_mul(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *a = n->src[0], *b = n->src[1];
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_reduce_grad(c, ag_mul(c, g, b), a->shape);
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_reduce_grad(c, ag_mul(c, g, a), b->shape);
}

void ag_backward_div(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *a = n->src[0], *b = n->src[1];
    ag_tensor *g_over_b = ag_div(c, g, b);
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_reduce_grad(c, g_over_b, a->shape);
    // d(a/b)/db = -a/b^2 = -(a/b)/b. Written with the inputs, not the output, so that the rule
    // stays differentiable however the output was used.
    if (ag_node_needs_grad(n, 1))
        gin[1] = ag_reduce_grad(c, ag_neg(c, ag_mul(c, g_over_b, ag_div(c, a, b))), b->shape);
}

// --- scalar ops -------------------------------------------------------------------------------

static ag_op_params scalar(float value) { return (ag_op_params){.scalar = {value}}; }
static ag_op_params range(float lo, float hi) { return (ag_op_params){.range = {lo, hi}}; }

ag_tensor *ag_add_scalar(ag_ctx *c, ag_tensor *x, float s) { return ag_unary_op(c, AG_OP_ADD_SCALAR, x, scalar(s)); }
ag_tensor *ag_scale(ag_ctx *c, ag_tensor *x, float s) { return ag_unary_op(c, AG_OP_MUL_SCALAR, x, scalar(s)); }
ag_tensor *ag_pow(ag_ctx *c, ag_tensor *x, float p) { return ag_unary_op(c, AG_OP_POW_SCALAR, x, scalar(p)); }
ag_tensor *ag_clamp(ag_ctx *c, ag_tensor *x, float lo, float hi) {
    AG_CHECK(!(lo > hi), "clamp: min %g > max %g", lo, hi);
    return ag_unary_op(c, AG_OP_CLAMP, x, range(lo, hi));
}
ag_tensor *ag_in_range(ag_ctx *c, ag_tensor *x, float lo, float hi) {
    return ag_unary_op(c, AG_OP_IN_RANGE, x, range(lo, hi));
}

void ag_backward_add_scalar(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    (void)c, (void)n;
    gin[0] = g;
}

void ag_backward_mul_scalar(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_scale(c, g, n->p.scalar.value);
}

void ag_backward_pow_scalar(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    float p = n->p.scalar.value;
    if (p == 0.0f) return;  // constant: zero gradient
    ag_tensor *x = n->src[0];
    ag_tensor *d = p == 1.0f ? g : ag_mul(c, g, p == 2.0f ? x : ag_pow(c, x, p - 1.0f));
    gin[0] = ag_scale(c, d, p);
}

// torch.clamp passes the gradient where min <= x <= max.
void ag_backward_clamp(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_mul(c, g, ag_in_range(c, n->src[0], n->p.range.lo, n->p.range.hi));
}

AG_NO_BACKWARD(in_range)

// --- unary --------------------------------------------------------------------------------------

ag_tensor *ag_neg(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_NEG, x, AG_NO_PARAMS); }
ag_tensor *ag_exp(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_EXP, x, AG_NO_PARAMS); }
ag_tensor *ag_log(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_LOG, x, AG_NO_PARAMS); }
ag_tensor *ag_sqrt(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SQRT, x, AG_NO_PARAMS); }
ag_tensor *ag_rsqrt(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_RSQRT, x, AG_NO_PARAMS); }
ag_tensor *ag_square(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SQUARE, x, AG_NO_PARAMS); }
ag_tensor *ag_abs(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_ABS, x, AG_NO_PARAMS); }
ag_tensor *ag_sign(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SIGN, x, AG_NO_PARAMS); }

void ag_backward_neg(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    (void)n;
    gin[0] = ag_neg(c, g);
}

// Rules below reuse the node's output where the derivative is a function of it (exp, sqrt,
// rsqrt); out->node is this node, so with create_graph the chain through it is exact.
void ag_backward_exp(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_mul(c, g, n->out);
}

void ag_backward_log(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_div(c, g, n->src[0]);
}

void ag_backward_sqrt(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_div(c, ag_scale(c, g, 0.5f), n->out);
}

// d x^(-1/2) / dx = -1/2 x^(-3/2) = -1/2 y^3
void ag_backward_rsqrt(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *y = n->out;
    gin[0] = ag_scale(c, ag_mul(c, g, ag_mul(c, y, ag_square(c, y))), -0.5f);
}

void ag_backward_square(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_scale(c, ag_mul(c, g, n->src[0]), 2.0f);
}

void ag_backward_abs(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_mul(c, g, ag_sign(c, n->src[0]));
}

AG_NO_BACKWARD(sign)
