// Batch normalisation. Training mode is one fused op (statistics, normalisation and the
// running-statistics update in a single kernel) whose backward is one fused kernel too, so it is
// once-differentiable; eval mode is a per-channel affine map built from differentiable ops, so
// R1 and other second derivatives work through a network in eval mode.
#include "internal.h"

static void check_channel_vector(const char *what, const ag_tensor *t, const ag_tensor *x, int C) {
    AG_CHECK(t->shape.ndim == 1 && t->shape.d[0] == C,
             "batchnorm2d: %s has shape %s, expected (%d) for input %s", what,
             AG_SHAPE_STR(t->shape), C, AG_SHAPE_STR(x->shape));
    AG_CHECK(t->be == x->be, "batchnorm2d: %s is on backend %s, the input on %s", what,
             t->be->name, x->be->name);
}

static void check_running(const ag_tensor *running_mean, const ag_tensor *running_var,
                          const ag_tensor *x, int C) {
    check_channel_vector("running_mean", running_mean, x, C);
    check_channel_vector("running_var", running_var, x, C);
    // They outlive the iteration and are updated in place: an arena tensor would silently lose
    // the update at ag_ctx_reset, and a gradient through them is meaningless.
    AG_CHECK(running_mean->persistent && running_var->persistent,
             "batchnorm2d: running statistics must be persistent tensors (ag_tensor_create)");
    AG_CHECK(!running_mean->requires_grad && !running_var->requires_grad,
             "batchnorm2d: running statistics must not require grad");
}

// Training mode. The node keeps saved[0] = mean and saved[1] = 1/sqrt(var + eps) (C) for the
// backward, and saved[2..3] = the running statistics, which the kernel updates in place; they
// are not inputs of the graph (p.batchnorm.update_running says whether they are there).
// Training mode, plain or fused with its activation: the same checks, saved tensors and params
// (p.batchnorm.slope, the activation's slope, is unused by the plain op).
static ag_tensor *batchnorm2d_train_node(ag_ctx *c, ag_op op, const char *name, ag_tensor *x, ag_tensor *gamma,
                                         ag_tensor *beta, ag_tensor *running_mean, ag_tensor *running_var,
                                         float momentum, float eps, float slope) {
    AG_CHECK(x->shape.ndim == 4, "%s: input %s, expected (N, C, H, W)", name, AG_SHAPE_STR(x->shape));
    AG_CHECK(gamma && beta, "%s: gamma and beta are required (use ones and zeros for no affine)", name);
    int C = x->shape.d[1];
    check_channel_vector("gamma", gamma, x, C);
    check_channel_vector("beta", beta, x, C);
    AG_CHECK(!running_mean == !running_var, "%s: give both running_mean and running_var, or neither", name);
    if (running_mean) check_running(running_mean, running_var, x, C);
    // As torch: a single value per channel has no variance to normalise by.
    AG_CHECK(x->numel / (C ? C : 1) > 1, "%s: expected more than 1 value per channel when training, got input %s",
             name, AG_SHAPE_STR(x->shape));
    AG_CHECK(eps > 0.0f && momentum >= 0.0f && momentum <= 1.0f, "%s: eps %g must be > 0 and momentum %g in [0, 1]",
             name, eps, momentum);

    ag_tensor *saved[4] = {ag_new(c, AG_SHAPE(C)), ag_new(c, AG_SHAPE(C)), running_mean, running_var};
    ag_op_params p = {.batchnorm = {momentum, eps, slope, running_mean != NULL}};
    return ag_op_run(c, op, ag_new(c, x->shape), (ag_tensor *[]){x, gamma, beta}, 3, &p, saved,
                     running_mean ? 4 : 2);
}

ag_tensor *ag_batchnorm2d_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                ag_tensor *running_mean, ag_tensor *running_var, float momentum,
                                float eps) {
    return batchnorm2d_train_node(c, AG_OP_BATCHNORM2D, "batchnorm2d", x, gamma, beta, running_mean, running_var,
                                  momentum, eps, 0.0f);
}

// The fused backward: dx is the output, dgamma and dbeta come back through `dgamma_out` and
// `dbeta_out` (saved[0..1] of the node). Not differentiable itself.
static ag_tensor *batchnorm2d_backward(ag_ctx *c, ag_tensor *gout, ag_tensor *x, ag_tensor *gamma,
                                       ag_tensor *mean, ag_tensor *invstd, ag_tensor **dgamma_out,
                                       ag_tensor **dbeta_out) {
    AG_CHECK(ag_shape_equal(gout->shape, x->shape), "batchnorm2d_backward: gradient %s for input %s",
             AG_SHAPE_STR(gout->shape), AG_SHAPE_STR(x->shape));
    int C = x->shape.d[1];
    ag_tensor *saved[2] = {ag_new(c, AG_SHAPE(C)), ag_new(c, AG_SHAPE(C))};
    ag_tensor *dx = ag_op_run(c, AG_OP_BATCHNORM2D_BACKWARD, ag_new(c, x->shape),
                              (ag_tensor *[]){gout, x, gamma, mean, invstd}, 5, NULL, saved, 2);
    *dgamma_out = saved[0];
    *dbeta_out = saved[1];
    return dx;
}

// The engine refuses create_graph through this node before calling the rule (AG_GRAD_ONCE), so
// the kernel call below always runs with grad mode off and records nothing.
void ag_backward_batchnorm2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *dgamma, *dbeta;
    ag_tensor *dx = batchnorm2d_backward(c, g, n->src[0], n->src[1], n->saved[0], n->saved[1],
                                         &dgamma, &dbeta);
    if (ag_node_needs_grad(n, 0)) gin[0] = dx;
    if (ag_node_needs_grad(n, 1)) gin[1] = dgamma;
    if (ag_node_needs_grad(n, 2)) gin[2] = dbeta;
}

AG_NO_BACKWARD(batchnorm2d_backward)

// Eval mode: y = x * scale + shift with scale = gamma / sqrt(running_var + eps) and
// shift = beta - running_mean * scale, per channel (the order of torch's CPU kernel).
// Checks the eval-mode arguments and returns the per-channel scale and shift; the plain and the
// fused eval paths share it so they compute bit-identical affine coefficients.
static void eval_scale_shift(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta, ag_tensor *running_mean,
                             ag_tensor *running_var, float eps, ag_tensor **scale, ag_tensor **shift) {
    AG_CHECK(x->shape.ndim == 4, "batchnorm2d (eval): input %s, expected (N, C, H, W)", AG_SHAPE_STR(x->shape));
    AG_CHECK(gamma && beta && running_mean && running_var,
             "batchnorm2d (eval): gamma, beta and the running statistics are required");
    int C = x->shape.d[1];
    check_channel_vector("gamma", gamma, x, C);
    check_channel_vector("beta", beta, x, C);
    check_channel_vector("running_mean", running_mean, x, C);
    check_channel_vector("running_var", running_var, x, C);
    AG_CHECK(eps > 0.0f, "batchnorm2d (eval): eps %g must be > 0", eps);
    *scale = ag_mul(c, gamma, ag_rsqrt(c, ag_add_scalar(c, running_var, eps)));
    *shift = ag_sub(c, beta, ag_mul(c, running_mean, *scale));
}

ag_tensor *ag_batchnorm2d_eval(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                               ag_tensor *running_mean, ag_tensor *running_var, float eps) {
    ag_tensor *scale, *shift;
    eval_scale_shift(c, x, gamma, beta, running_mean, running_var, eps, &scale, &shift);
    ag_shape per_channel = AG_SHAPE(1, x->shape.d[1], 1, 1);
    return ag_add(c, ag_mul(c, x, ag_reshape(c, scale, per_channel)), ag_reshape(c, shift, per_channel));
}

// --- batchnorm fused with its activation -----------------------------------------------------
// The fused forward keeps only its output y = act(bn(x)); the backward reads the activation's
// mask from y (y > 0 exactly where bn(x) > 0, for slope >= 0) and x for the normalised values.

static void check_slope(const char *op, float slope) {
    AG_CHECK(slope >= 0.0f, "%s: negative slope %g must be >= 0 (the backward reads the "
             "activation's mask from its output)", op, slope);
}

ag_tensor *ag_batchnorm2d_act_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                    ag_tensor *running_mean, ag_tensor *running_var, float momentum,
                                    float eps, float slope) {
    check_slope("batchnorm2d_act", slope);
    return batchnorm2d_train_node(c, AG_OP_BATCHNORM2D_ACT, "batchnorm2d_act", x, gamma, beta, running_mean,
                                  running_var, momentum, eps, slope);
}

void ag_backward_batchnorm2d_act(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0];
    AG_CHECK(ag_shape_equal(g->shape, x->shape), "batchnorm2d_act_backward: gradient %s for input %s",
             AG_SHAPE_STR(g->shape), AG_SHAPE_STR(x->shape));
    int C = x->shape.d[1];
    ag_tensor *saved[2] = {ag_new(c, AG_SHAPE(C)), ag_new(c, AG_SHAPE(C))};
    ag_op_params p = {.act = {.slope = n->p.batchnorm.slope}};
    ag_tensor *dx = ag_op_run(c, AG_OP_BATCHNORM2D_ACT_BACKWARD, ag_new(c, x->shape),
                              (ag_tensor *[]){g, x, n->src[1], n->saved[0], n->saved[1], n->out}, 6, &p,
                              saved, 2);
    if (ag_node_needs_grad(n, 0)) gin[0] = dx;
    if (ag_node_needs_grad(n, 1)) gin[1] = saved[0];
    if (ag_node_needs_grad(n, 2)) gin[2] = saved[1];
}

AG_NO_BACKWARD(batchnorm2d_act_backward)

ag_tensor *ag_channel_affine_act(ag_ctx *c, ag_tensor *x, ag_tensor *scale, ag_tensor *shift, float slope) {
    check_slope("channel_affine_act", slope);
    AG_CHECK(x->shape.ndim == 4, "channel_affine_act: input %s, expected (N, C, H, W)", AG_SHAPE_STR(x->shape));
    int C = x->shape.d[1];
    AG_CHECK(scale->shape.ndim == 1 && scale->shape.d[0] == C && shift->shape.ndim == 1 && shift->shape.d[0] == C,
             "channel_affine_act: scale %s and shift %s, expected (%d) for input %s", AG_SHAPE_STR(scale->shape),
             AG_SHAPE_STR(shift->shape), C, AG_SHAPE_STR(x->shape));
    ag_op_params p = {.act = {.slope = slope}};
    return ag_op_run(c, AG_OP_CHANNEL_AFFINE_ACT, ag_new(c, x->shape), (ag_tensor *[]){x, scale, shift}, 3, &p,
                     NULL, 0);
}

// y = act(x * s + b): with ga = leaky_relu_grad(g, y) (the mask read from the output, whose
// derivative is zero), dx = ga * s, ds = sum(ga * x), db = sum(ga) over (N, H, W).
void ag_backward_channel_affine_act(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *x = n->src[0];
    const float slope = n->p.act.slope;
    const int C = x->shape.d[1];
    ag_shape per_channel = AG_SHAPE(1, C, 1, 1);
    ag_tensor *ga = slope == 1.0f ? g : ag_leaky_relu_grad(c, g, n->out, slope);
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_mul(c, ga, ag_reshape(c, n->src[1], per_channel));
    if (ag_node_needs_grad(n, 1)) gin[1] = ag_reshape(c, ag_sum_to(c, ag_mul(c, ga, x), per_channel), AG_SHAPE(C));
    if (ag_node_needs_grad(n, 2)) gin[2] = ag_reshape(c, ag_sum_to(c, ga, per_channel), AG_SHAPE(C));
}

ag_tensor *ag_batchnorm2d_eval_act(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                   ag_tensor *running_mean, ag_tensor *running_var, float eps, float slope) {
    ag_tensor *scale, *shift;
    eval_scale_shift(c, x, gamma, beta, running_mean, running_var, eps, &scale, &shift);
    return ag_channel_affine_act(c, x, scale, shift, slope);
}
