#include "linear.h"

#include "conv.h"

void nn_linear_init(nn_linear *l, ag_params *ps, const char *prefix, int in, int out, bool bias) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(out, in));
    l->bias = bias ? ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(out)) : NULL;
}

ag_tensor *nn_linear_forward(ag_ctx *c, const nn_linear *l, ag_tensor *x) {
    return ag_linear(c, x, l->weight, l->bias);
}
