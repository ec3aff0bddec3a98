#include "pixelnorm.h"

#include "fatal.h"

ag_tensor *nn_pixel_norm(ag_ctx *c, ag_tensor *x, float eps) {
    AG_CHECK(x->shape.ndim >= 2, "pixel_norm: input %s needs a dim 1", AG_SHAPE_STR(x->shape));
    ag_tensor *ms = ag_mean_axes(c, ag_square(c, x), 1, (const int[]){1}, true);
    return ag_mul(c, x, ag_rsqrt(c, ag_add_scalar(c, ms, eps)));
}
