#include "upfirdn.h"

#include "fatal.h"

// The 2-D kernel is separable, outer(f, f) with f = [1,3,3,1] / 8 (times sqrt(gain) each), so
// every filter is a vertical then a horizontal 4-tap pass: 8 taps per pixel instead of 16, and
// the convolutions' column buffers hold 4 copies of the image instead of 16.
static ag_tensor *fir_1d(ag_ctx *c, float gain, bool vertical) {
    float k[NN_FIR_TAPS] = {1.0f / 8 * gain, 3.0f / 8 * gain, 3.0f / 8 * gain, 1.0f / 8 * gain};
    return ag_from_host(c, vertical ? AG_SHAPE(1, 1, NN_FIR_TAPS, 1) : AG_SHAPE(1, 1, 1, NN_FIR_TAPS), k);
}

// Stride and padding along one axis only.
static ag_conv_args axis_args(bool vertical, int stride, int pad) {
    return vertical ? (ag_conv_args){.stride_h = stride, .stride_w = 1, .pad_h = pad, .groups = 1}
                    : (ag_conv_args){.stride_h = 1, .stride_w = stride, .pad_w = pad, .groups = 1};
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
    ag_tensor *y = ag_conv2d(c, fold(c, x), fir_1d(c, gain, true), axis_args(true, stride, pad));
    y = ag_conv2d(c, y, fir_1d(c, 1.0f, false), axis_args(false, stride, pad));
    return unfold(c, y, x->shape);
}

// Zero insertion and the filter at gain 4 (2 per axis) are one transposed convolution per axis.
ag_tensor *nn_upfirdn_up2(ag_ctx *c, ag_tensor *x) {
    check_image("upfirdn_up2", x);
    ag_tensor *y = ag_conv_transpose2d(c, fold(c, x), fir_1d(c, 2.0f, true), axis_args(true, 2, 1));
    y = ag_conv_transpose2d(c, y, fir_1d(c, 2.0f, false), axis_args(false, 2, 1));
    return unfold(c, y, x->shape);
}

ag_tensor *nn_upfirdn_down2(ag_ctx *c, ag_tensor *x) {
    check_image("upfirdn_down2", x);
    AG_CHECK(x->shape.d[2] % 2 == 0 && x->shape.d[3] % 2 == 0, "upfirdn_down2: input %s needs an even size",
             AG_SHAPE_STR(x->shape));
    return nn_upfirdn_filter(c, x, 1, 2, 1.0f);
}
