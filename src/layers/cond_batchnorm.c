#include "cond_batchnorm.h"

#include "conv.h"
#include "ctx.h"
#include "embedding.h"
#include "sync_batchnorm.h"

void nn_cond_batchnorm2d_init(nn_cond_batchnorm2d *l, ag_params *ps, ag_params *buffers, const char *prefix,
                              int classes, int channels) {
    char name[AG_PARAM_NAME_MAX];
    l->gain = ag_params_add(ps, nn_name(name, prefix, "gain.weight"), AG_SHAPE(classes, channels));
    l->bias = ag_params_add(ps, nn_name(name, prefix, "bias.weight"), AG_SHAPE(classes, channels));
    l->running_mean = ag_params_add(buffers, nn_name(name, prefix, "running_mean"), AG_SHAPE(channels));
    l->running_var = ag_params_add(buffers, nn_name(name, prefix, "running_var"), AG_SHAPE(channels));
    l->num_batches = ag_params_add(buffers, nn_name(name, prefix, "num_batches_tracked"), AG_SHAPE(1));
    l->momentum = 0.1f;
    l->eps = 1e-5f;
}

void nn_cond_batchnorm2d_reset(nn_cond_batchnorm2d *l) {
    ag_tensor_fill(l->gain, 1.0f);
    ag_tensor_fill(l->bias, 0.0f);
    ag_tensor_fill(l->running_mean, 0.0f);
    ag_tensor_fill(l->running_var, 1.0f);
    ag_tensor_fill(l->num_batches, 0.0f);
}

ag_tensor *nn_cond_batchnorm2d_act_forward(ag_ctx *c, nn_cond_batchnorm2d *l, ag_tensor *x, ag_tensor *y, bool train,
                                           float slope) {
    const int64_t n = x->shape.d[0], ch = x->shape.d[1];
    // affine=False: the batchnorm ops take gamma and beta, so they get ones and zeros.
    ag_tensor *one = ag_ones(c, AG_SHAPE(ch)), *zero = ag_zeros(c, AG_SHAPE(ch)), *h;
    if (train) {
        float count = ag_item(l->num_batches) + 1.0f;  // as batchnorm.c counts batches
        ag_tensor_from_host(l->num_batches, &count);
        h = ag_ctx_sync_batch_stats(c)
                ? nn_sync_batchnorm2d_train(c, x, one, zero, l->running_mean, l->running_var, l->momentum, l->eps)
                : ag_batchnorm2d_train(c, x, one, zero, l->running_mean, l->running_var, l->momentum, l->eps);
    } else {
        h = ag_batchnorm2d_eval(c, x, one, zero, l->running_mean, l->running_var, l->eps);
    }
    nn_embedding gain = {l->gain}, bias = {l->bias};
    ag_tensor *g = ag_reshape(c, nn_embedding_forward(c, &gain, y), AG_SHAPE(n, ch, 1, 1));
    ag_tensor *b = ag_reshape(c, nn_embedding_forward(c, &bias, y), AG_SHAPE(n, ch, 1, 1));
    h = ag_add(c, ag_mul(c, h, g), b);
    return slope == 1.0f ? h : slope == 0.0f ? ag_relu(c, h) : ag_leaky_relu(c, h, slope);
}
