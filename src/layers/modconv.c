#include "modconv.h"

#include "fatal.h"
#include "upfirdn.h"

// conv2d_resample for up 1 or 2 with "same" padding. Upsampling transposes the weight to the
// (in, out/groups, k, k) layout of conv_transpose2d, group by group, and uses it unflipped: the
// official code does the same, so up-convolutions convolve where the others correlate.
static ag_tensor *conv_resample(ag_ctx *c, ag_tensor *x, ag_tensor *w, int up, int groups) {
    const int out = w->shape.d[0], ing = w->shape.d[1], k = w->shape.d[2];
    if (up == 1) return ag_conv2d(c, x, w, AG_CONV(1, k / 2, groups));
    ag_tensor *wt;
    if (groups == 1) {
        wt = ag_transpose(c, w, 0, 1);
    } else {
        wt = ag_reshape(c, w, AG_SHAPE(groups, out / groups, ing, k, k));
        wt = ag_permute(c, wt, (const int[]){0, 2, 1, 3, 4});
        wt = ag_reshape(c, wt, AG_SHAPE(groups * ing, out / groups, k, k));
    }
    // (H-1)*2 + 3 = 2H + 1 pixels, then the blur with one pixel of padding lands on 2H.
    ag_tensor *y = ag_conv_transpose2d(c, x, wt, AG_CONV(2, 0, groups));
    return nn_upfirdn_filter(c, y, 1, 1, 4.0f);
}

static ag_tensor *modconv_fused(ag_ctx *c, ag_tensor *x, ag_tensor *weight, ag_tensor *styles, nn_modconv_args a) {
    const ag_shape ws = weight->shape;
    const int N = x->shape.d[0], out = ws.d[0], in = ws.d[1], k = ws.d[2];
    ag_tensor *w = ag_mul(c, ag_reshape(c, weight, AG_SHAPE(1, out, in, k, k)),
                          ag_reshape(c, styles, AG_SHAPE(N, 1, in, 1, 1)));  // (N, out, in, k, k)
    if (a.demodulate) {
        ag_tensor *ss = ag_sum_axes(c, ag_square(c, w), 3, (const int[]){2, 3, 4}, true);
        w = ag_mul(c, w, ag_rsqrt(c, ag_add_scalar(c, ss, NN_MODCONV_EPS)));
    }
    w = ag_reshape(c, w, AG_SHAPE(N * out, in, k, k));
    ag_tensor *xg = ag_reshape(c, x, AG_SHAPE(1, N * in, x->shape.d[2], x->shape.d[3]));
    ag_tensor *y = conv_resample(c, xg, w, a.up, N);
    return ag_reshape(c, y, AG_SHAPE(N, out, y->shape.d[2], y->shape.d[3]));
}

static ag_tensor *modconv_unfused(ag_ctx *c, ag_tensor *x, ag_tensor *weight, ag_tensor *styles,
                                  nn_modconv_args a) {
    const int N = x->shape.d[0], out = weight->shape.d[0], in = weight->shape.d[1];
    ag_tensor *y = ag_mul(c, x, ag_reshape(c, styles, AG_SHAPE(N, in, 1, 1)));
    y = conv_resample(c, y, weight, a.up, 1);
    if (!a.demodulate) return y;
    return ag_mul(c, y, ag_reshape(c, nn_modconv_demod(c, weight, styles), AG_SHAPE(N, out, 1, 1)));
}

ag_tensor *nn_modconv_demod(ag_ctx *c, ag_tensor *weight, ag_tensor *styles) {
    AG_CHECK(weight->shape.ndim == 4 && styles->shape.ndim == 2 && styles->shape.d[1] == weight->shape.d[1],
             "modconv_demod: weight %s, styles %s (expected (out, in, k, k) and (N, in))",
             AG_SHAPE_STR(weight->shape), AG_SHAPE_STR(styles->shape));
    // sum_{i,kh,kw} (w[o,i] s[n,i])^2 = sum_i s[n,i]^2 (sum_{kh,kw} w[o,i]^2)
    ag_tensor *wsq = ag_sum_axes(c, ag_square(c, weight), 2, (const int[]){2, 3}, false);  // (out, in)
    ag_tensor *ss = ag_matmul(c, ag_square(c, styles), wsq, false, true);                  // (N, out)
    return ag_rsqrt(c, ag_add_scalar(c, ss, NN_MODCONV_EPS));
}

ag_tensor *nn_modulated_conv2d(ag_ctx *c, ag_tensor *x, ag_tensor *weight, ag_tensor *styles,
                               nn_modconv_args a) {
    const ag_shape xs = x->shape, ws = weight->shape, ss = styles->shape;
    AG_CHECK(xs.ndim == 4 && ws.ndim == 4 && ss.ndim == 2 && ws.d[1] == xs.d[1] && ss.d[0] == xs.d[0] &&
                 ss.d[1] == xs.d[1] && ws.d[2] == ws.d[3] && ws.d[2] % 2 == 1,
             "modulated_conv2d: x %s, weight %s, styles %s (expected (N, in, H, W), (out, in, k, k) with odd k, (N, in))",
             AG_SHAPE_STR(xs), AG_SHAPE_STR(ws), AG_SHAPE_STR(ss));
    AG_CHECK(a.up == 1 || (a.up == 2 && ws.d[2] == 3), "modulated_conv2d: up %d with a %dx%d kernel (up 2 needs 3x3)",
             a.up, ws.d[2], ws.d[3]);
    return a.fused ? modconv_fused(c, x, weight, styles, a) : modconv_unfused(c, x, weight, styles, a);
}
