#include "conv.h"

#include <stdio.h>

#include "fatal.h"

const char *nn_name(char *buf, const char *prefix, const char *leaf) {
    int n = snprintf(buf, AG_PARAM_NAME_MAX, "%s.%s", prefix, leaf);
    AG_CHECK(n > 0 && n < AG_PARAM_NAME_MAX, "parameter name too long: %s.%s", prefix, leaf);
    return buf;
}

void nn_conv2d_init(nn_conv2d *l, ag_params *ps, const char *prefix, int cin, int cout, int kernel,
                    int stride, int pad, bool bias) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(cout, cin, kernel, kernel));
    l->bias = bias ? ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(cout)) : NULL;
    l->args = AG_CONV(stride, pad, 1);
}

ag_tensor *nn_conv2d_forward(ag_ctx *c, const nn_conv2d *l, ag_tensor *x) {
    ag_tensor *y = ag_conv2d(c, x, l->weight, l->args);
    return l->bias ? ag_add_channel_bias(c, y, l->bias) : y;
}

void nn_conv_transpose2d_init(nn_conv_transpose2d *l, ag_params *ps, const char *prefix, int cin,
                              int cout, int kernel, int stride, int pad, bool bias) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(cin, cout, kernel, kernel));
    l->bias = bias ? ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(cout)) : NULL;
    l->args = AG_CONV(stride, pad, 1);
}

ag_tensor *nn_conv_transpose2d_forward(ag_ctx *c, const nn_conv_transpose2d *l, ag_tensor *x) {
    ag_tensor *y = ag_conv_transpose2d(c, x, l->weight, l->args);
    return l->bias ? ag_add_channel_bias(c, y, l->bias) : y;
}
