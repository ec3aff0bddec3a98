// Activations. Each has a fused gradient op, itself differentiable, so a backward pass costs
// one memory pass per activation and second derivatives still work.
#include "internal.h"

ag_tensor *ag_leaky_relu(ag_ctx *c, ag_tensor *x, float slope) {
    return ag_unary_op(c, AG_OP_LEAKY_RELU, x, (ag_op_params){.act = {.slope = slope}});
}
ag_tensor *ag_relu(ag_ctx *c, ag_tensor *x) { return ag_leaky_relu(c, x, 0.0f); }
ag_tensor *ag_tanh(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_TANH, x, AG_NO_PARAMS); }
ag_tensor *ag_sigmoid(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SIGMOID, x, AG_NO_PARAMS); }
ag_tensor *ag_softplus(ag_ctx *c, ag_tensor *x) { return ag_unary_op(c, AG_OP_SOFTPLUS, x, AG_NO_PARAMS); }

ag_tensor *ag_leaky_relu_grad(ag_ctx *c, ag_tensor *g, ag_tensor *x, float slope) {
    return ag_same_shape_op(c, AG_OP_LEAKY_RELU_GRAD, g, x, (ag_op_params){.act = {.slope = slope}});
}
ag_tensor *ag_tanh_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y) {
    return ag_same_shape_op(c, AG_OP_TANH_GRAD, g, y, AG_NO_PARAMS);
}
ag_tensor *ag_sigmoid_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y) {
    return ag_same_shape_op(c, AG_OP_SIGMOID_GRAD, g, y, AG_NO_PARAMS);
}

void ag_backward_leaky_relu(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_leaky_relu_grad(c, g, n->src[0], n->p.act.slope);
}

// leaky_relu_grad(g, x) is linear in g and piecewise constant in x.
void ag_backward_leaky_relu_grad(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_leaky_relu_grad(c, gg, n->src[1], n->p.act.slope);
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

// --- bias + activation + gain -----------------------------------------------------------------
// The backward reads the activation's mask from the output: with gain > 0 and slope >= 0,
// y > 0 exactly where x + b > 0.

static void check_bias_act(const char *op, float slope, float gain) {
    AG_CHECK(slope >= 0.0f && gain > 0.0f, "%s: slope %g must be >= 0 and gain %g > 0 (the backward reads the "
             "activation's mask from the output)", op, slope, gain);
}

ag_tensor *ag_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, float slope, float gain) {
    check_bias_act("bias_act", slope, gain);
    AG_CHECK(x->shape.ndim >= 2 && b->shape.ndim == 1 && b->shape.d[0] == x->shape.d[1],
             "bias_act: input %s and bias %s (expected (N, C, ...) and (C))", AG_SHAPE_STR(x->shape),
             AG_SHAPE_STR(b->shape));
    ag_op_params p = {.act = {slope, gain}};
    return ag_op_run(c, AG_OP_BIAS_ACT, ag_new(c, x->shape), (ag_tensor *[]){x, b}, 2, &p, NULL, 0);
}

ag_tensor *ag_bias_act_grad(ag_ctx *c, ag_tensor *g, ag_tensor *y, float slope, float gain) {
    check_bias_act("bias_act_grad", slope, gain);
    AG_CHECK(ag_shape_equal(g->shape, y->shape), "bias_act_grad: gradient %s for output %s",
             AG_SHAPE_STR(g->shape), AG_SHAPE_STR(y->shape));
    ag_op_params p = {.act = {slope, gain}};
    return ag_op_run(c, AG_OP_BIAS_ACT_GRAD, ag_new(c, g->shape), (ag_tensor *[]){g, y}, 2, &p, NULL, 0);
}

// dx = bias_act_grad(g, y); db = its sum over every dim but 1.
void ag_backward_bias_act(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *ga = ag_bias_act_grad(c, g, n->out, n->p.act.slope, n->p.act.gain);
    if (ag_node_needs_grad(n, 0)) gin[0] = ga;
    if (ag_node_needs_grad(n, 1)) {
        ag_shape per_channel = n->out->shape;
        for (int d = 0; d < per_channel.ndim; d++)
            if (d != 1) per_channel.d[d] = 1;
        gin[1] = ag_reshape(c, ag_sum_to(c, ga, per_channel), n->src[1]->shape);
    }
}

// Linear in g with y's mask; piecewise constant in y.
void ag_backward_bias_act_grad(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_bias_act_grad(c, gg, n->src[1], n->p.act.slope, n->p.act.gain);
}

// --- demodulation + noise + bias_act ------------------------------------------------------------

ag_tensor *ag_demod_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, ag_tensor *d, ag_tensor *noise,
                             ag_tensor *strength, float slope, float gain) {
    check_bias_act("demod_bias_act", slope, gain);
    const ag_shape xs = x->shape;
    AG_CHECK(xs.ndim == 4 && b->shape.ndim == 1 && b->shape.d[0] == xs.d[1] &&
                 ag_shape_equal(d->shape, AG_SHAPE(xs.d[0], xs.d[1])),
             "demod_bias_act: input %s, bias %s, demodulation %s (expected (N, C, H, W), (C), (N, C))",
             AG_SHAPE_STR(xs), AG_SHAPE_STR(b->shape), AG_SHAPE_STR(d->shape));
    AG_CHECK(!noise == !strength, "demod_bias_act: noise and strength go together (noise %s, strength %s)",
             noise ? "given" : "NULL", strength ? "given" : "NULL");
    if (noise) {
        const ag_shape ns = noise->shape;
        AG_CHECK(ns.ndim == 4 && (ns.d[0] == xs.d[0] || ns.d[0] == 1) && ns.d[1] == 1 && ns.d[2] == xs.d[2] &&
                     ns.d[3] == xs.d[3] && ag_shape_equal(strength->shape, AG_SHAPE(1)),
                 "demod_bias_act: noise %s and strength %s for input %s (expected (N or 1, 1, H, W) and (1))",
                 AG_SHAPE_STR(ns), AG_SHAPE_STR(strength->shape), AG_SHAPE_STR(xs));
    }
    ag_op_params p = {.act = {slope, gain}};
    return ag_op_run(c, AG_OP_DEMOD_BIAS_ACT, ag_new(c, xs), (ag_tensor *[]){x, b, d, noise, strength},
                     noise ? 5 : 3, &p, NULL, 0);
}

// With ga = bias_act_grad(g, y) (the mask read from the output, as bias_act does), the gradient
// of the sum before the activation: dx = ga d, dd = sum over (H, W) of ga x, db = sum of ga
// over (N, H, W), and through noise * strength as ag_mul's broadcast would give it.
void ag_backward_demod_bias_act(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0], *d = n->src[2];
    const int N = x->shape.d[0], C = x->shape.d[1];
    const ag_shape per_plane = AG_SHAPE(N, C, 1, 1);
    ag_tensor *ga = ag_bias_act_grad(c, g, n->out, n->p.act.slope, n->p.act.gain);
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_mul(c, ga, ag_reshape(c, d, per_plane));
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_reshape(c, ag_sum_to(c, ga, AG_SHAPE(1, C, 1, 1)), AG_SHAPE(C));
    if (ag_node_needs_grad(n, 2)) gin[2] = ag_reshape(c, ag_sum_to(c, ag_mul(c, ga, x), per_plane), d->shape);
    if (n->nsrc == 5 && (ag_node_needs_grad(n, 3) || ag_node_needs_grad(n, 4))) {
        ag_tensor *noise = n->src[3], *strength = n->src[4];
        ag_tensor *gz = ag_sum_to(c, ga, noise->shape);
        if (ag_node_needs_grad(n, 3)) gin[3] = ag_mul(c, gz, strength);
        if (ag_node_needs_grad(n, 4)) gin[4] = ag_sum_to(c, ag_mul(c, gz, noise), strength->shape);
    }
}
