#include "mbstd.h"

#include "fatal.h"

ag_tensor *nn_mbstd(ag_ctx *c, ag_tensor *x, int group_size, int num_channels) {
    AG_CHECK(x->shape.ndim == 4 && group_size >= 1 && num_channels >= 1, "mbstd: input %s, group %d, channels %d",
             AG_SHAPE_STR(x->shape), group_size, num_channels);
    const int N = x->shape.d[0], C = x->shape.d[1], H = x->shape.d[2], W = x->shape.d[3];
    const int G = group_size < N ? group_size : N, F = num_channels;
    AG_CHECK(N % G == 0 && C % F == 0, "mbstd: batch %d not divisible by the group size %d, or %d channels by %d",
             N, G, C, F);
    const int M = N / G;
    ag_tensor *y = ag_reshape(c, x, AG_SHAPE(G, M, F, C / F, H, W));
    y = ag_sub(c, y, ag_mean_axes(c, y, 1, (const int[]){0}, true));
    y = ag_mean_axes(c, ag_square(c, y), 1, (const int[]){0}, false);                 // (M, F, c, H, W)
    y = ag_sqrt(c, ag_add_scalar(c, y, 1e-8f));
    y = ag_mean_axes(c, y, 3, (const int[]){2, 3, 4}, false);                         // (M, F)
    y = ag_expand(c, ag_reshape(c, y, AG_SHAPE(1, M, F, 1, 1)), AG_SHAPE(G, M, F, H, W));
    y = ag_reshape(c, y, AG_SHAPE(N, F, H, W));
    return ag_concat(c, 2, (ag_tensor *[]){x, y}, 1);
}
