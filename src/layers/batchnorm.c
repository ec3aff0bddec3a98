#include "batchnorm.h"

#include "conv.h"
#include "ctx.h"
#include "sync_batchnorm.h"

void nn_batchnorm2d_init(nn_batchnorm2d *l, ag_params *ps, ag_params *buffers, const char *prefix, int channels) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(ps, nn_name(name, prefix, "weight"), AG_SHAPE(channels));
    l->bias = ag_params_add(ps, nn_name(name, prefix, "bias"), AG_SHAPE(channels));
    l->running_mean = ag_params_add(buffers, nn_name(name, prefix, "running_mean"), AG_SHAPE(channels));
    l->running_var = ag_params_add(buffers, nn_name(name, prefix, "running_var"), AG_SHAPE(channels));
    l->num_batches = ag_params_add(buffers, nn_name(name, prefix, "num_batches_tracked"), AG_SHAPE(1));
    l->momentum = 0.1f;
    l->eps = 1e-5f;
}

void nn_batchnorm2d_reset(nn_batchnorm2d *l) {
    ag_tensor_fill(l->weight, 1.0f);
    ag_tensor_fill(l->bias, 0.0f);
    ag_tensor_fill(l->running_mean, 0.0f);
    ag_tensor_fill(l->running_var, 1.0f);
    ag_tensor_fill(l->num_batches, 0.0f);
}

// The counter lives on the backend like the other buffers; it is tiny, so a host round trip per
// forward is cheap next to the normalisation itself.
static void count_batch(nn_batchnorm2d *l) {
    float n = ag_item(l->num_batches) + 1.0f;
    ag_tensor_from_host(l->num_batches, &n);
}

ag_tensor *nn_batchnorm2d_forward(ag_ctx *c, nn_batchnorm2d *l, ag_tensor *x, bool train) {
    if (!train)
        return ag_batchnorm2d_eval(c, x, l->weight, l->bias, l->running_mean, l->running_var, l->eps);
    count_batch(l);
    if (ag_ctx_sync_batch_stats(c))
        return nn_sync_batchnorm2d_train(c, x, l->weight, l->bias, l->running_mean, l->running_var, l->momentum,
                                         l->eps);
    return ag_batchnorm2d_train(c, x, l->weight, l->bias, l->running_mean, l->running_var, l->momentum, l->eps);
}

ag_tensor *nn_batchnorm2d_act_forward(ag_ctx *c, nn_batchnorm2d *l, ag_tensor *x, bool train, float slope) {
    if (!train)
        return ag_batchnorm2d_eval_act(c, x, l->weight, l->bias, l->running_mean, l->running_var, l->eps, slope);
    count_batch(l);
    if (ag_ctx_sync_batch_stats(c)) {
        ag_tensor *h = nn_sync_batchnorm2d_train(c, x, l->weight, l->bias, l->running_mean, l->running_var,
                                                 l->momentum, l->eps);
        return slope == 1.0f ? h : slope == 0.0f ? ag_relu(c, h) : ag_leaky_relu(c, h, slope);
    }
    return ag_batchnorm2d_act_train(c, x, l->weight, l->bias, l->running_mean, l->running_var, l->momentum, l->eps,
                                    slope);
}
