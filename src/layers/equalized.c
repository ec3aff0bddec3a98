#include "equalized.h"

#include <math.h>

#include "fatal.h"
#include "conv.h"
#include "upfirdn.h"

void nn_eq_linear_init(nn_eq_linear *l, ag_params *ps, const char *prefix, int in, int out, nn_act act,
                       float lr_mul, float bias_init) {
    AG_CHECK(in >= 1 && out >= 1 && lr_mul > 0.0f, "eq_linear %s: in %d, out %d, lr_mul %g", prefix, in, out,
             (double)lr_mul);
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(out, in));
    l->bias = ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(out));
    l->weight_gain = (float)(lr_mul / sqrt((double)in));
    l->bias_gain = lr_mul;
    l->lr_mul = lr_mul;
    l->bias_init = bias_init;
    l->act = act;
}

void nn_eq_linear_reset(nn_eq_linear *l, ag_rng *rng) {
    ag_tensor_fill_normal(l->weight, rng, 0.0f, 1.0f / l->lr_mul);
    ag_tensor_fill(l->bias, l->bias_init);
}

ag_tensor *nn_eq_linear_forward(ag_ctx *c, const nn_eq_linear *l, ag_tensor *x) {
    ag_tensor *b = l->bias_gain == 1.0f ? l->bias : ag_scale(c, l->bias, l->bias_gain);
    ag_tensor *y = ag_linear(c, x, ag_scale(c, l->weight, l->weight_gain), NULL);
    return nn_bias_act(c, y, b, l->act, nn_act_gain(l->act));
}

void nn_eq_conv2d_init(nn_eq_conv2d *l, ag_params *ps, const char *prefix, int in, int out, int kernel,
                       int down, bool bias, nn_act act) {
    AG_CHECK(in >= 1 && out >= 1 && kernel >= 1 && kernel % 2 == 1 && (down == 1 || down == 2),
             "eq_conv2d %s: in %d, out %d, kernel %d (odd), down %d (1 or 2)", prefix, in, out, kernel, down);
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(out, in, kernel, kernel));
    l->bias = bias ? ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(out)) : NULL;
    l->kernel = kernel;
    l->down = down;
    l->weight_gain = (float)(1.0 / sqrt((double)in * kernel * kernel));
    l->act = act;
}

void nn_eq_conv2d_reset(nn_eq_conv2d *l, ag_rng *rng) {
    ag_tensor_fill_normal(l->weight, rng, 0.0f, 1.0f);
    if (l->bias) ag_tensor_fill(l->bias, 0.0f);
}

ag_tensor *nn_eq_conv2d_forward(ag_ctx *c, const nn_eq_conv2d *l, ag_tensor *x, double gain) {
    ag_tensor *w = ag_scale(c, l->weight, l->weight_gain);
    const int k = l->kernel;
    ag_tensor *y;
    if (l->down == 1) {
        y = ag_conv2d(c, x, w, AG_CONV(1, k / 2, 1));
    } else if (k == 1) {
        // Downsample first, then the pointwise convolution: the cheaper order for 1x1 kernels.
        y = ag_conv2d(c, nn_upfirdn_down2(c, x), w, AG_CONV(1, 0, 1));
    } else {
        // Blur with the padding of the official conv2d_resample (k/2 for the kernel plus 1 for
        // the filter on each side), then the stride-2 convolution lands on H/2.
        y = ag_conv2d(c, nn_upfirdn_filter(c, x, k / 2 + 1, 1, 1.0f), w, AG_CONV(2, 0, 1));
    }
    return nn_bias_act(c, y, l->bias, l->act, nn_act_gain(l->act) * gain);
}
