// Activations. Each has a fused gradient op, itself differentiable, so a backward pass costs
// one memory pass per activation and second derivatives still work.
#include "internal.h"

ag_tensor *ag_leaky_relu(ag_ctx *c, ag_tensor *x, float slope) {
    return ag_unary_op(c, AG_OP_LEAKY_RELU, x, slope, 0);
}
ag_tensor *ag_relu(ag_ctx *c, ag_tensor *x) { return ag_leaky_relu(c, x, 0.0f); }
ag_tensor *ag_tanh(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_TANH, x, 0, 0); }
ag_tensor *ag_sigmoid(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SIGMOID, x, 0, 0); }
ag_tensor *ag_softplus(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SOFTPLUS, x, 0, 0); }

ag_tensor *ag_leaky_relu_grad(ag_ctx *c, ag_tensor *g, ag_tensor *x, float slope) {
    return ag_same_shape_op(c, AG_OP_LEAKY_RELU_GRAD, g, x, slope);
}
ag_tensor *ag_tanh_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y) {
    return ag_same_shape_op(c, AG_OP_TANH_GRAD, g, y, 0);
}
ag_tensor *ag_sigmoid_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y) {
    return ag_same_shape_op(c, AG_OP_SIGMOID_GRAD, g, y, 0);
}

void ag_backward_leaky_relu(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_leaky_relu_grad(c, g, n->src[0], n->p.f[0]);
}

// leaky_relu_grad(g, x) is linear in g and piecewise constant in x.
void ag_backward_leaky_relu_grad(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_leaky_relu_grad(c, gg, n->src[1], n->p.f[0]);
}

void ag_backward_tanh(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_tanh_grad(c, g, n->out);
}

// t = g (1 - y^2): dt/dg = 1 - y^2, dt/dy = -2 g y
void ag_backward_tanh_grad(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    ag_tensor *g = n->src[0], *y = n->src[1];
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_tanh_grad(c, gg, y);
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_scale(c, ag_mul(c, ag_mul(c, gg, g), y), -2.0f);
}

void ag_backward_sigmoid(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_sigmoid_grad(c, g, n->out);
}

// t = g y (1 - y): dt/dg = y (1 - y), dt/dy = g (1 - 2y)
void ag_backward_sigmoid_grad(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    ag_tensor *g = n->src[0], *y = n->src[1];
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_sigmoid_grad(c, gg, y);
    if (ag_node_needs_grad(n, 1))
        gin[1] = ag_mul(c, ag_mul(c, gg, g), ag_add_scalar(c, ag_scale(c, y, -2.0f), 1.0f));
}

void ag_backward_softplus(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_mul(c, g, ag_sigmoid(c, n->src[0]));
}
