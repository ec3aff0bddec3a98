// The convolution family and 2x resampling:
//   - forward values of conv2d and conv_transpose2d against direct loops written from
//     torch's definitions (groups, strides, padding, output padding, non-square kernels);
//   - the adjoint identities that tie the three conv ops together:
//     <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> = <w, conv2d_weight_grad(x, y)>;
//   - finite-difference gradients and gradients of gradients of every op, alone and chained;
//   - the batch split over threads: forward values on 1, 2 and 3 threads, and the weight
//     gradient's batch reduction bit-identical on reruns and equal (to rounding) across counts.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

#define S AG_SHAPE

// torch's output sizes, written out here independently of the library.
static ag_shape conv_shape(ag_shape x, ag_shape w, ag_conv_args a) {
    return S(x.d[0], w.d[0], (x.d[2] + 2 * a.pad_h - w.d[2]) / a.stride_h + 1,
             (x.d[3] + 2 * a.pad_w - w.d[3]) / a.stride_w + 1);
}
static ag_shape conv_transpose_shape(ag_shape x, ag_shape w, ag_conv_args a) {
    return S(x.d[0], w.d[1] * a.groups, (x.d[2] - 1) * a.stride_h - 2 * a.pad_h + w.d[2] + a.out_pad_h,
             (x.d[3] - 1) * a.stride_w - 2 * a.pad_w + w.d[3] + a.out_pad_w);
}

static float *host_values(ag_shape s, uint64_t seed) {
    int64_t n = ag_shape_numel(s);
    float *v = malloc((size_t)n * sizeof *v);
    ag_philox_fill_normal(v, n, seed, 0, 0.0f, 1.0f);
    return v;
}

static float *to_host(const ag_tensor *t) {
    float *v = malloc((size_t)t->numel * sizeof *v);
    ag_tensor_to_host(t, v);
    return v;
}

static double dot(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static double max_abs(const float *a, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) m = test_nanmax(m, fabs(a[i]));
    return m;
}

#define AT4(p, sh, i0, i1, i2, i3) (p)[(((int64_t)(i0) * (sh).d[1] + (i1)) * (sh).d[2] + (i2)) * (sh).d[3] + (i3)]

// torch.nn.functional.conv2d by its definition, in double.
static void naive_conv2d(const float *x, ag_shape xs, const float *w, ag_shape ws, ag_conv_args a,
                         double *y, ag_shape ys) {
    int cing = xs.d[1] / a.groups, coutg = ws.d[0] / a.groups;
    for (int n = 0; n < ys.d[0]; n++)
        for (int co = 0; co < ys.d[1]; co++)
            for (int oh = 0; oh < ys.d[2]; oh++)
                for (int ow = 0; ow < ys.d[3]; ow++) {
                    double s = 0.0;
                    int g = co / coutg;
                    for (int ci = 0; ci < cing; ci++)
                        for (int i = 0; i < ws.d[2]; i++)
                            for (int j = 0; j < ws.d[3]; j++) {
                                int ih = oh * a.stride_h - a.pad_h + i, iw = ow * a.stride_w - a.pad_w + j;
                                if (ih < 0 || ih >= xs.d[2] || iw < 0 || iw >= xs.d[3]) continue;
                                s += (double)AT4(x, xs, n, g * cing + ci, ih, iw) * AT4(w, ws, co, ci, i, j);
                            }
                    AT4(y, ys, n, co, oh, ow) = s;
                }
}

// torch.nn.functional.conv_transpose2d by its definition: every input pixel scatters the kernel,
// scaled, onto the output at stride; output padding only extends the output at the far end.
static void naive_conv_transpose2d(const float *x, ag_shape xs, const float *w, ag_shape ws,
                                   ag_conv_args a, double *y, ag_shape ys) {
    int cing = xs.d[1] / a.groups, coutg = ws.d[1];
    memset(y, 0, (size_t)ag_shape_numel(ys) * sizeof *y);
    for (int n = 0; n < xs.d[0]; n++)
        for (int ci = 0; ci < xs.d[1]; ci++)
            for (int ih = 0; ih < xs.d[2]; ih++)
                for (int iw = 0; iw < xs.d[3]; iw++) {
                    int g = ci / cing;
                    for (int co = 0; co < coutg; co++)
                        for (int i = 0; i < ws.d[2]; i++)
                            for (int j = 0; j < ws.d[3]; j++) {
                                int oh = ih * a.stride_h - a.pad_h + i, ow = iw * a.stride_w - a.pad_w + j;
                                if (oh < 0 || oh >= ys.d[2] || ow < 0 || ow >= ys.d[3]) continue;
                                AT4(y, ys, n, g * coutg + co, oh, ow) +=
                                    (double)AT4(x, xs, n, ci, ih, iw) * AT4(w, ws, ci, co, i, j);
                            }
                }
}

// Compares a float result with a double reference, relative to the reference's size.
static void check_values(const char *what, const float *got, const double *want, int64_t n) {
    double scale = 0.0, err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        scale = test_nanmax(scale, fabs(want[i]));
        err = test_nanmax(err, fabs(got[i] - want[i]));
    }
    TEST_CHECK(scale > 0.1 && err <= 1e-5 * (1.0 + scale), "%s: max error %.3g (values up to %.3g)", what,
               err, scale);
}

typedef struct {
    const char *name;
    ag_shape x, w;
    ag_conv_args a;
} conv_case;

// conv2d configurations: odd sizes, strides, padding 0/1/2 (also >= the kernel), non-square
// kernels, groups 1/2/3 and depthwise, 1x1 kernels (the path that skips im2col).
static const conv_case conv_cases[] = {
    {"3x3 s1 p1", S(2, 2, 5, 7), S(3, 2, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x2 s2 p0", S(2, 3, 5, 7), S(4, 3, 3, 2), {2, 2, 0, 0, 0, 0, 1}},
    {"2x3 s(2,1) p(2,1) g2", S(3, 4, 5, 7), S(4, 2, 2, 3), {2, 1, 2, 1, 0, 0, 2}},
    {"depthwise 3x3 s2 p1", S(2, 3, 5, 6), S(3, 1, 3, 3), {2, 2, 1, 1, 0, 0, 3}},
    {"1x3 p(0,1) g3", S(2, 6, 4, 5), S(3, 2, 1, 3), {1, 1, 0, 1, 0, 0, 3}},
    {"1x1 g2", S(3, 4, 3, 5), S(6, 2, 1, 1), {1, 1, 0, 0, 0, 0, 2}},
    {"1x1 s2", S(2, 3, 5, 5), S(2, 3, 1, 1), {2, 2, 0, 0, 0, 0, 1}},
    {"4x4 s2 p1 (DCGAN)", S(2, 3, 8, 8), S(4, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    // Stride-2 rows of 32 columns or more are split into phase planes 32 at a time, then a tail.
    {"4x4 s2 p1, rows of 64", S(2, 3, 3, 64), S(4, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s2 p1, rows of 95 (32, 32, 16, a tail)", S(2, 2, 4, 95), S(3, 2, 3, 3), {2, 2, 1, 1, 0, 0, 1}},
    // More channels than one block of column rows (the CPU kernels im2col 512 taps at a time):
    // the reduction over channel blocks, and per conv group.
    {"4x4 s2 p1, 40 channels", S(3, 40, 6, 6), S(5, 40, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s1 p2 g2, 2 x 40 channels", S(2, 80, 4, 5), S(6, 40, 4, 4), {1, 1, 2, 2, 0, 0, 2}},
    // Many samples of a small output: several samples per GEMM, the last group short.
    {"3x3 s2 p1, batch 37", S(37, 3, 6, 6), S(4, 3, 3, 3), {2, 2, 1, 1, 0, 0, 1}},
    // The dense shape (one window over the whole unpadded image): one matmul over the batch.
    {"dense 4x4 -> 1x1", S(5, 6, 4, 4), S(3, 6, 4, 4), {1, 1, 0, 0, 0, 0, 1}},
    // One-channel filters (StyleGAN2's FIR passes), summed a row of 16 at a time with a tail.
    {"depthwise 1x4 s(1,2) p(0,1), rows of 17", S(2, 2, 3, 34), S(2, 1, 1, 4), {1, 2, 0, 1, 0, 0, 2}},
    {"depthwise 4x1 s(2,1) p(1,0), rows of 16", S(2, 2, 8, 16), S(2, 1, 4, 1), {2, 1, 1, 0, 0, 0, 2}},
};

// conv_transpose2d configurations (weight (Cin, Cout/groups, kh, kw)), with output padding.
static const conv_case convt_cases[] = {
    {"3x3 s2 p1 op1", S(2, 3, 4, 5), S(3, 2, 3, 3), {2, 2, 1, 1, 1, 1, 1}},
    {"4x3 s(2,3) p(1,0) op(0,2) g2", S(2, 4, 3, 5), S(4, 3, 4, 3), {2, 3, 1, 0, 0, 2, 2}},
    {"depthwise 3x3 s1 p1", S(3, 3, 5, 4), S(3, 1, 3, 3), {1, 1, 1, 1, 0, 0, 3}},
    {"1x1", S(2, 4, 3, 3), S(4, 3, 1, 1), {1, 1, 0, 0, 0, 0, 1}},
    {"2x3 s2 op(1,0) g3", S(2, 3, 4, 3), S(3, 2, 2, 3), {2, 2, 0, 0, 1, 0, 3}},
    {"4x4 s2 p1 (DCGAN)", S(2, 4, 4, 4), S(4, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"5x5 s1 p2", S(2, 2, 3, 5), S(2, 2, 5, 5), {1, 1, 2, 2, 0, 0, 1}},
    // Output channels in several blocks (the CPU kernel runs its GEMM and col2im per block of
    // channels): 50 x 16 taps = 800 rows.
    {"4x4 s2 p1, 50 output channels", S(2, 6, 12, 12), S(6, 50, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s2 p1 op1, batch 29", S(29, 3, 3, 3), S(3, 2, 3, 3), {2, 2, 1, 1, 1, 1, 1}},
    // The dense shape: a 1x1 input lifted to the kernel's size (a DCGAN generator's first layer).
    {"dense 1x1 -> 4x4", S(6, 5, 1, 1), S(5, 3, 4, 4), {1, 1, 0, 0, 0, 0, 1}},
    // A one-channel column filter (StyleGAN2's vertical upsampling pass), gathered row by row.
    {"depthwise 4x1 s(2,1) p(1,0), rows of 17", S(2, 2, 5, 17), S(2, 1, 4, 1), {2, 1, 1, 0, 0, 0, 2}},
};

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static void test_conv2d_forward(void) {
    ag_ctx *c = ag_ctx_create(test_backend());
    for (size_t k = 0; k < NCASES(conv_cases); k++) {
        const conv_case *cc = &conv_cases[k];
        ag_shape ys = conv_shape(cc->x, cc->w, cc->a);
        float *xv = host_values(cc->x, 10 + k), *wv = host_values(cc->w, 20 + k);
        ag_tensor *y = ag_conv2d(c, ag_from_host(c, cc->x, xv), ag_from_host(c, cc->w, wv), cc->a);
        TEST_CHECK(ag_shape_equal(y->shape, ys), "conv2d %s: shape %s, expected %s", cc->name,
                   AG_SHAPE_STR(y->shape), AG_SHAPE_STR(ys));
        double *want = malloc((size_t)ag_shape_numel(ys) * sizeof *want);
        naive_conv2d(xv, cc->x, wv, cc->w, cc->a, want, ys);
        float *got = to_host(y);
        check_values(cc->name, got, want, y->numel);
        free(xv), free(wv), free(want), free(got);
        ag_ctx_reset(c);
    }
    ag_ctx_free(c);
}

static void test_conv_transpose2d_forward(void) {
    ag_ctx *c = ag_ctx_create(test_backend());
    for (size_t k = 0; k < NCASES(convt_cases); k++) {
        const conv_case *cc = &convt_cases[k];
        ag_shape ys = conv_transpose_shape(cc->x, cc->w, cc->a);
        float *xv = host_values(cc->x, 30 + k), *wv = host_values(cc->w, 40 + k);
        ag_tensor *y = ag_conv_transpose2d(c, ag_from_host(c, cc->x, xv), ag_from_host(c, cc->w, wv), cc->a);
        TEST_CHECK(ag_shape_equal(y->shape, ys), "conv_transpose2d %s: shape %s, expected %s", cc->name,
                   AG_SHAPE_STR(y->shape), AG_SHAPE_STR(ys));
        double *want = malloc((size_t)ag_shape_numel(ys) * sizeof *want);
        naive_conv_transpose2d(xv, cc->x, wv, cc->w, cc->a, want, ys);
        float *got = to_host(y);
        check_values(cc->name, got, want, y->numel);
        free(xv), free(wv), free(want), free(got);
        ag_ctx_reset(c);
    }
    ag_ctx_free(c);
}

// <conv2d(x, w), y> = <x, conv_transpose2d(y, w)> = <w, conv2d_weight_grad(x, y)>, with the
// transposed conv's output padding chosen to land on x's size.
static void test_adjoints(void) {
    ag_ctx *c = ag_ctx_create(test_backend());
    for (size_t k = 0; k < NCASES(conv_cases); k++) {
        const conv_case *cc = &conv_cases[k];
        ag_shape ys = conv_shape(cc->x, cc->w, cc->a);
        ag_conv_args t = cc->a;
        t.out_pad_h = (cc->x.d[2] + 2 * t.pad_h - cc->w.d[2]) % t.stride_h;
        t.out_pad_w = (cc->x.d[3] + 2 * t.pad_w - cc->w.d[3]) % t.stride_w;
        float *xv = host_values(cc->x, 50 + k), *wv = host_values(cc->w, 60 + k), *yv = host_values(ys, 70 + k);
        ag_tensor *x = ag_from_host(c, cc->x, xv), *w = ag_from_host(c, cc->w, wv), *y = ag_from_host(c, ys, yv);
        float *cx = to_host(ag_conv2d(c, x, w, cc->a));
        ag_tensor *ty = ag_conv_transpose2d(c, y, w, t);
        ag_tensor *wg = ag_conv2d_weight_grad(c, x, y, cc->w, cc->a);
        TEST_CHECK(ag_shape_equal(ty->shape, cc->x), "adjoint %s: conv_transpose2d gives %s, expected %s",
                   cc->name, AG_SHAPE_STR(ty->shape), AG_SHAPE_STR(cc->x));
        TEST_CHECK(ag_shape_equal(wg->shape, cc->w), "adjoint %s: weight grad %s", cc->name,
                   AG_SHAPE_STR(wg->shape));
        float *tyv = to_host(ty), *wgv = to_host(wg);
        double lhs = dot(cx, yv, ag_shape_numel(ys));
        double tol = 1e-5 * (1.0 + sqrt((double)ag_shape_numel(ys)) * max_abs(cx, ag_shape_numel(ys)) *
                                       max_abs(yv, ag_shape_numel(ys)));
        char what[96];
        snprintf(what, sizeof what, "%s: <x, conv_transpose2d(y, w)>", cc->name);
        TEST_CLOSE(dot(xv, tyv, ag_shape_numel(cc->x)), lhs, tol, 1e-5, what);
        snprintf(what, sizeof what, "%s: <w, conv2d_weight_grad(x, y)>", cc->name);
        TEST_CLOSE(dot(wv, wgv, ag_shape_numel(cc->w)), lhs, tol, 1e-5, what);
        free(xv), free(wv), free(yv), free(cx), free(tyv), free(wgv);
        ag_ctx_reset(c);
    }
    ag_ctx_free(c);
}

// --- gradient checks -----------------------------------------------------------------------

typedef struct {
    const char *name;
    ag_tensor *(*fn)(ag_ctx *, ag_tensor **, void *);
    int nin;
    ag_shape shapes[4];
    ag_conv_args a;
    ag_shape w_shape;  // conv2d_weight_grad
} grad_case;

#define CASE ((const grad_case *)u)

static ag_tensor *f_conv2d(ag_ctx *c, ag_tensor **in, void *u) { return ag_conv2d(c, in[0], in[1], CASE->a); }
static ag_tensor *f_convt(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_conv_transpose2d(c, in[0], in[1], CASE->a);
}
static ag_tensor *f_weight_grad(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_conv2d_weight_grad(c, in[0], in[1], CASE->w_shape, CASE->a);
}
// A small discriminator-like chain, the shape of an R1 penalty's graph:
// conv2d(tanh(conv2d(x, w1) + b), w2) with the second conv at stride 2.
static ag_tensor *f_chain(ag_ctx *c, ag_tensor **in, void *u) {
    ag_tensor *h = ag_tanh(c, ag_add_channel_bias(c, ag_conv2d(c, in[0], in[1], AG_CONV(1, 1, 1)), in[3]));
    return ag_conv2d(c, h, in[2], CASE->a);
}
// A generator-like chain: conv_transpose2d, tanh, then a 1x1 conv.
static ag_tensor *f_chain_t(ag_ctx *c, ag_tensor **in, void *u) {
    ag_tensor *h = ag_tanh(c, ag_conv_transpose2d(c, in[0], in[1], CASE->a));
    return ag_conv2d(c, h, in[2], AG_CONV(1, 0, 1));
}
static ag_tensor *f_bias(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_square(c, ag_add_channel_bias(c, in[0], in[1]));
}
// Squared so that the gradient of the gradient with respect to x is not zero.
static ag_tensor *f_upsample(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_square(c, ag_upsample_nearest2x(c, in[0]));
}
static ag_tensor *f_sum_pool(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_square(c, ag_sum_pool2(c, in[0]));
}
static ag_tensor *f_avg_pool(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_square(c, ag_avg_pool2(c, in[0]));
}

#define ARGS(sh, sw, ph, pw, oh, ow, g) .a = {sh, sw, ph, pw, oh, ow, g}
static const grad_case grad_cases[] = {
    {"conv2d 3x3 s1 p1", f_conv2d, 2, {S(2, 2, 5, 7), S(3, 2, 3, 3)}, ARGS(1, 1, 1, 1, 0, 0, 1)},
    {"conv2d 3x2 s2 p0", f_conv2d, 2, {S(2, 3, 5, 7), S(2, 3, 3, 2)}, ARGS(2, 2, 0, 0, 0, 0, 1)},
    {"conv2d 2x3 s(2,1) p(2,1) g2", f_conv2d, 2, {S(3, 4, 5, 7), S(4, 2, 2, 3)}, ARGS(2, 1, 2, 1, 0, 0, 2)},
    {"conv2d depthwise s2 p1", f_conv2d, 2, {S(2, 3, 5, 6), S(3, 1, 3, 3)}, ARGS(2, 2, 1, 1, 0, 0, 3)},
    {"conv2d 1x3 g3", f_conv2d, 2, {S(2, 6, 4, 5), S(3, 2, 1, 3)}, ARGS(1, 1, 0, 1, 0, 0, 3)},
    {"conv2d 1x1 g2", f_conv2d, 2, {S(3, 4, 3, 5), S(4, 2, 1, 1)}, ARGS(1, 1, 0, 0, 0, 0, 2)},
    {"convT 3x3 s2 p1 op1", f_convt, 2, {S(2, 3, 4, 5), S(3, 2, 3, 3)}, ARGS(2, 2, 1, 1, 1, 1, 1)},
    {"convT 4x3 s(2,3) op(0,2) g2", f_convt, 2, {S(2, 4, 3, 3), S(4, 1, 4, 3)}, ARGS(2, 3, 1, 0, 0, 2, 2)},
    {"convT depthwise p2", f_convt, 2, {S(3, 3, 5, 4), S(3, 1, 3, 3)}, ARGS(1, 1, 2, 1, 0, 0, 3)},
    {"convT 2x3 s2 op(1,0) g3", f_convt, 2, {S(2, 3, 4, 3), S(3, 2, 2, 3)}, ARGS(2, 2, 0, 0, 1, 0, 3)},
    {"convT 1x1", f_convt, 2, {S(2, 4, 3, 3), S(4, 3, 1, 1)}, ARGS(1, 1, 0, 0, 0, 0, 1)},
    {"weight_grad 3x3 p(1,0)", f_weight_grad, 2, {S(2, 2, 5, 7), S(2, 3, 5, 5)}, ARGS(1, 1, 1, 0, 0, 0, 1),
     .w_shape = S(3, 2, 3, 3)},
    {"weight_grad 3x2 s2 (rows skipped)", f_weight_grad, 2, {S(2, 3, 6, 7), S(2, 2, 2, 3)},
     ARGS(2, 2, 0, 0, 0, 0, 1), .w_shape = S(2, 3, 3, 2)},
    {"weight_grad 2x3 s(1,2) p(2,1) g2", f_weight_grad, 2, {S(3, 4, 5, 5), S(3, 2, 8, 3)},
     ARGS(1, 2, 2, 1, 0, 0, 2), .w_shape = S(2, 2, 2, 3)},
    {"weight_grad depthwise s2 p1", f_weight_grad, 2, {S(2, 3, 5, 7), S(2, 3, 3, 4)},
     ARGS(2, 2, 1, 1, 0, 0, 3), .w_shape = S(3, 1, 3, 3)},
    {"weight_grad 1x1 g2", f_weight_grad, 2, {S(3, 4, 3, 5), S(3, 6, 3, 5)}, ARGS(1, 1, 0, 0, 0, 0, 2),
     .w_shape = S(6, 2, 1, 1)},
    {"chain conv-tanh-conv s2", f_chain, 4, {S(2, 2, 5, 5), S(3, 2, 3, 3), S(2, 3, 3, 3), S(3)},
     ARGS(2, 2, 1, 1, 0, 0, 1)},
    {"chain convT-tanh-1x1", f_chain_t, 3, {S(2, 3, 3, 3), S(3, 2, 3, 3), S(2, 2, 1, 1)},
     ARGS(2, 2, 1, 1, 1, 1, 1)},
    {"add_channel_bias", f_bias, 2, .shapes = {S(2, 3, 2, 3), S(3)}},
    {"upsample_nearest2x", f_upsample, 1, .shapes = {S(2, 3, 3, 5)}},
    {"sum_pool2", f_sum_pool, 1, .shapes = {S(2, 3, 4, 6)}},
    {"avg_pool2", f_avg_pool, 1, .shapes = {S(3, 2, 2, 4)}},
};

static void test_gradients(void) {
    for (size_t k = 0; k < NCASES(grad_cases); k++) {
        const grad_case *gc = &grad_cases[k];
        ag_tensor *in[4];
        for (int i = 0; i < gc->nin; i++)
            in[i] = gc_input(gc->shapes[i], 500 + 13 * k + (uint64_t)i, 0.5f, 0);
        int fails = gc_check(gc->name, gc->fn, gc->nin, in, (void *)gc, (gc_opts){0});
        printf("%-36s %s\n", gc->name, fails ? "FAIL" : "ok");
        gc_free_inputs(gc->nin, in);
    }
}

// Exact values of the resampling ops on a small ramp.
static void test_resample_values(void) {
    ag_ctx *c = ag_ctx_create(test_backend());
    float xv[2 * 4 * 6];
    for (int i = 0; i < 48; i++) xv[i] = (float)(i * i % 17) - 8.0f;
    ag_tensor *x = ag_from_host(c, S(1, 2, 4, 6), xv);
    float up[2 * 8 * 12], pool[2 * 2 * 3], avg[2 * 2 * 3];
    ag_tensor_to_host(ag_upsample_nearest2x(c, x), up);
    ag_tensor_to_host(ag_sum_pool2(c, x), pool);
    ag_tensor_to_host(ag_avg_pool2(c, x), avg);
    int bad_up = 0, bad_pool = 0, bad_avg = 0;
    for (int ch = 0; ch < 2; ch++) {
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 12; j++) bad_up += up[(ch * 8 + i) * 12 + j] != xv[(ch * 4 + i / 2) * 6 + j / 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                float s = 0.0f;
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++) s += xv[(ch * 4 + 2 * i + a) * 6 + 2 * j + b];
                bad_pool += pool[(ch * 2 + i) * 3 + j] != s;
                bad_avg += avg[(ch * 2 + i) * 3 + j] != 0.25f * s;
            }
    }
    TEST_CHECK(bad_up == 0, "upsample_nearest2x: %d wrong values", bad_up);
    TEST_CHECK(bad_pool == 0, "sum_pool2: %d wrong values", bad_pool);
    TEST_CHECK(bad_avg == 0, "avg_pool2: %d wrong values", bad_avg);
    ag_ctx_free(c);
}

// Big enough for the kernels to cut the batch into one chunk per thread. Forward values match
// the direct loops on every thread count; the weight gradient, summed over the batch in
// per-chunk partial sums added in a fixed order, is bit-identical on reruns and equal to
// rounding across thread counts.
static void test_thread_counts(void) {
    ag_backend *be = test_backend();
    ag_ctx *c = ag_ctx_create(be);
    ag_shape xs = S(7, 8, 16, 12), ws = S(8, 8, 3, 3);
    ag_conv_args a = AG_CONV(1, 1, 1);
    ag_shape ys = conv_shape(xs, ws, a);
    float *xv = host_values(xs, 7), *wv = host_values(ws, 8), *yv = host_values(ys, 9);
    double *want_y = malloc((size_t)ag_shape_numel(ys) * sizeof *want_y);
    double *want_t = malloc((size_t)ag_shape_numel(xs) * sizeof *want_t);
    naive_conv2d(xv, xs, wv, ws, a, want_y, ys);
    naive_conv_transpose2d(yv, ys, wv, ws, a, want_t, xs);
    int64_t n = ag_shape_numel(ws);
    float *runs[4];
    const int threads[4] = {3, 3, 1, 2};
    for (int r = 0; r < 4; r++) {
        ag_backend_set_threads(be, threads[r]);
        ag_tensor *x = ag_from_host(c, xs, xv), *w = ag_from_host(c, ws, wv), *y = ag_from_host(c, ys, yv);
        char what[64];
        float *got = to_host(ag_conv2d(c, x, w, a));
        snprintf(what, sizeof what, "conv2d on %d threads", threads[r]);
        check_values(what, got, want_y, ag_shape_numel(ys));
        free(got);
        got = to_host(ag_conv_transpose2d(c, y, w, a));
        snprintf(what, sizeof what, "conv_transpose2d on %d threads", threads[r]);
        check_values(what, got, want_t, ag_shape_numel(xs));
        free(got);
        runs[r] = to_host(ag_conv2d_weight_grad(c, x, y, ws, a));
        ag_ctx_reset(c);
    }
    TEST_CHECK(memcmp(runs[0], runs[1], (size_t)n * sizeof(float)) == 0,
               "conv2d_weight_grad: two runs on 3 threads differ");
    double scale = max_abs(runs[2], n), err = 0.0;
    for (int64_t i = 0; i < n; i++)
        err = test_nanmax(err, fabs(runs[0][i] - runs[2][i]) + fabs(runs[3][i] - runs[2][i]));
    TEST_CHECK(scale > 1.0 && err <= 1e-5 * scale,
               "conv2d_weight_grad: 1, 2 and 3 threads differ by %.3g (scale %.3g)", err, scale);
    for (int r = 0; r < 4; r++) free(runs[r]);
    free(xv), free(wv), free(yv), free(want_y), free(want_t);
    ag_ctx_free(c);
}

int main(void) {
    test_conv2d_forward();
    test_conv_transpose2d_forward();
    test_adjoints();
    test_resample_values();
    test_thread_counts();
    test_gradients();
    return test_finish();
}
