#include "bias_act.h"

#include <math.h>

#include "fatal.h"

double nn_act_gain(nn_act act) { return act == NN_ACT_LRELU ? sqrt(2.0) : 1.0; }

ag_tensor *nn_bias_act(ag_ctx *c, ag_tensor *x, ag_tensor *b, nn_act act, double gain) {
    AG_CHECK(x->shape.ndim == 2 || x->shape.ndim == 4, "bias_act: input %s must be (N, C) or (N, C, H, W)",
             AG_SHAPE_STR(x->shape));
    if (b) {
        AG_CHECK(b->shape.ndim == 1 && b->shape.d[0] == x->shape.d[1], "bias_act: bias %s for input %s",
                 AG_SHAPE_STR(b->shape), AG_SHAPE_STR(x->shape));
        // One fused op (bit-identical to bias, activation and gain in turn): one pass and one
        // tensor each way instead of three.
        return ag_bias_act(c, x, b, act == NN_ACT_LRELU ? NN_LRELU_SLOPE : 1.0f, (float)gain);
    }
    if (act == NN_ACT_LRELU) x = ag_leaky_relu(c, x, NN_LRELU_SLOPE);
    return (float)gain == 1.0f ? x : ag_scale(c, x, (float)gain);
}
