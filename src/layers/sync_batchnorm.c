#include "sync_batchnorm.h"

#include "fatal.h"
#include "ctx.h"
#include "tensor.h"

ag_tensor *nn_sync_batchnorm2d_train(ag_ctx *c, ag_tensor *x, ag_tensor *gamma, ag_tensor *beta,
                                     ag_tensor *running_mean, ag_tensor *running_var, float momentum, float eps) {
    AG_CHECK(x->shape.ndim == 4 && gamma->shape.d[0] == x->shape.d[1] && beta->shape.d[0] == x->shape.d[1],
             "sync_batchnorm2d: input %s, gamma %s, beta %s", AG_SHAPE_STR(x->shape), AG_SHAPE_STR(gamma->shape),
             AG_SHAPE_STR(beta->shape));
    const int64_t C = x->shape.d[1];
    // Every process holds an equal share, so the global count is the local one times N.
    const double M = (double)x->shape.d[0] * x->shape.d[2] * x->shape.d[3] * ag_ctx_processes(c);
    const int axes[3] = {0, 2, 3};
    const ag_shape per_channel = AG_SHAPE(1, C, 1, 1);
    // Two passes, as the fused kernel: the mean first, then the squares about it.
    ag_tensor *mean = ag_scale(c, ag_allreduce_sum(c, ag_sum_axes(c, x, 3, axes, true)), (float)(1.0 / M));
    ag_tensor *xc = ag_sub(c, x, mean);
    ag_tensor *var = ag_scale(c, ag_allreduce_sum(c, ag_sum_axes(c, ag_square(c, xc), 3, axes, true)),
                              (float)(1.0 / M));
    ag_tensor *xhat = ag_mul(c, xc, ag_rsqrt(c, ag_add_scalar(c, var, eps)));
    ag_tensor *y = ag_add(c, ag_mul(c, xhat, ag_reshape(c, gamma, per_channel)), ag_reshape(c, beta, per_channel));

    bool prev = ag_set_grad_enabled(c, false);
    const float m = momentum;
    ag_tensor *mean_c = ag_reshape(c, ag_detach(c, mean), AG_SHAPE(C));
    ag_tensor *var_c = ag_scale(c, ag_reshape(c, ag_detach(c, var), AG_SHAPE(C)), (float)(M / (M > 1 ? M - 1 : 1)));
    ag_tensor_copy(running_mean, ag_add(c, ag_scale(c, running_mean, 1.0f - m), ag_scale(c, mean_c, m)));
    ag_tensor_copy(running_var, ag_add(c, ag_scale(c, running_var, 1.0f - m), ag_scale(c, var_c, m)));
    ag_set_grad_enabled(c, prev);
    return y;
}
