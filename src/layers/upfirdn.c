#include "upfirdn.h"

#include "check.h"

// The (1, 1, 4, 4) kernel times gain, a constant of this iteration.
static ag_tensor *fir_kernel(ag_ctx *c, float gain) {
    static const float taps[NN_FIR_TAPS] = {1.0f, 3.0f, 3.0f, 1.0f};
    float k[NN_FIR_TAPS * NN_FIR_TAPS];
    for (int i = 0; i < NN_FIR_TAPS; i++)
        for (int j = 0; j < NN_FIR_TAPS; j++) k[i * NN_FIR_TAPS + j] = taps[i] * taps[j] / 64.0f * gain;
    return ag_from_host(c, AG_SHAPE(1, 1, NN_FIR_TAPS, NN_FIR_TAPS), k);
}

static void check_image(const char *op, ag_tensor *x) {
    AG_CHECK(x->shape.ndim == 4, "%s: input %s must be (N, C, H, W)", op, AG_SHAPE_STR(x->shape));
}

// Every channel as a one-channel image of the batch: a free view.
static ag_tensor *fold(ag_ctx *c, ag_tensor *x) {
    return ag_reshape(c, x, AG_SHAPE(x->shape.d[0] * x->shape.d[1], 1, x->shape.d[2], x->shape.d[3]));
}

static ag_tensor *unfold(ag_ctx *c, ag_tensor *y, ag_shape xs) {
    return ag_reshape(c, y, AG_SHAPE(xs.d[0], xs.d[1], y->shape.d[2], y->shape.d[3]));
}

ag_tensor *nn_upfirdn_filter(ag_ctx *c, ag_tensor *x, int pad, int stride, float gain) {
    check_image("upfirdn_filter", x);
    AG_CHECK(pad >= 0 && stride >= 1 && x->shape.d[2] + 2 * pad >= NN_FIR_TAPS && x->shape.d[3] + 2 * pad >= NN_FIR_TAPS,
             "upfirdn_filter: input %s, padding %d, stride %d", AG_SHAPE_STR(x->shape), pad, stride);
    ag_tensor *y = ag_conv2d(c, fold(c, x), fir_kernel(c, gain), AG_CONV(stride, pad, 1));
    return unfold(c, y, x->shape);
}

ag_tensor *nn_upfirdn_up2(ag_ctx *c, ag_tensor *x) {
    check_image("upfirdn_up2", x);
    ag_tensor *y = ag_conv_transpose2d(c, fold(c, x), fir_kernel(c, 4.0f), AG_CONV(2, 1, 1));
    return unfold(c, y, x->shape);
}

ag_tensor *nn_upfirdn_down2(ag_ctx *c, ag_tensor *x) {
    check_image("upfirdn_down2", x);
    AG_CHECK(x->shape.d[2] % 2 == 0 && x->shape.d[3] % 2 == 0, "upfirdn_down2: input %s needs an even size",
             AG_SHAPE_STR(x->shape));
    return nn_upfirdn_filter(c, x, 1, 2, 1.0f);
}
