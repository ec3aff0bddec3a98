// Finite-difference gradient and gradient-of-gradient checks of the elementwise, activation,
// loss, reduction, shape and matmul ops, on small odd shapes with the broadcasts GANs use.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "broadcast.h"
#include "gradcheck.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

typedef struct {
    const char *name;
    ag_tensor *(*fn)(ag_ctx *, ag_tensor **, void *);
    int nin;
    ag_shape shapes[5];
    float scale[5], shift[5];
    bool kinks;
    int skip_input;
    float f[4];
    int i[6];
} op_case;

#define X in[0]
#define Y in[1]
#define Z in[2]
#define CASE ((const op_case *)u)

static ag_tensor *f_add(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_add(c, X, Y); }
static ag_tensor *f_sub(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_sub(c, X, Y); }
static ag_tensor *f_mul(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_mul(c, X, Y); }
static ag_tensor *f_div(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_div(c, X, Y); }
static ag_tensor *f_add_scalar(ag_ctx *c, ag_tensor **in, void *u) { return ag_add_scalar(c, X, CASE->f[0]); }
static ag_tensor *f_scale(ag_ctx *c, ag_tensor **in, void *u) { return ag_scale(c, X, CASE->f[0]); }
static ag_tensor *f_pow(ag_ctx *c, ag_tensor **in, void *u) { return ag_pow(c, X, CASE->f[0]); }
static ag_tensor *f_clamp(ag_ctx *c, ag_tensor **in, void *u) { return ag_clamp(c, X, CASE->f[0], CASE->f[1]); }
static ag_tensor *f_neg(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_neg(c, X); }
static ag_tensor *f_exp(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_exp(c, X); }
static ag_tensor *f_log(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_log(c, X); }
static ag_tensor *f_sqrt(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_sqrt(c, X); }
static ag_tensor *f_rsqrt(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_rsqrt(c, X); }
static ag_tensor *f_square(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_square(c, X); }
static ag_tensor *f_abs(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_abs(c, X); }
static ag_tensor *f_relu(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_relu(c, X); }
static ag_tensor *f_leaky(ag_ctx *c, ag_tensor **in, void *u) { return ag_leaky_relu(c, X, CASE->f[0]); }
// Squared so that the gradient of the gradient with respect to x is not zero.
static ag_tensor *f_bias_act(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_square(c, ag_bias_act(c, X, in[1], CASE->f[0], CASE->f[1]));
}
// x, b, d[, noise, strength]; squared as f_bias_act.
static ag_tensor *f_demod_bias_act(ag_ctx *c, ag_tensor **in, void *u) {
    const bool noise = CASE->nin == 5;
    return ag_square(c, ag_demod_bias_act(c, X, Y, Z, noise ? in[3] : NULL, noise ? in[4] : NULL, CASE->f[0],
                                          CASE->f[1]));
}
static ag_tensor *f_tanh(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_tanh(c, X); }
static ag_tensor *f_sigmoid(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_sigmoid(c, X); }
static ag_tensor *f_softplus(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_softplus(c, X); }
// Probabilities strictly inside (0, 1) and targets in [0, 1] from unconstrained inputs.
static ag_tensor *f_bce(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_bce(c, ag_sigmoid(c, X), ag_sigmoid(c, Y));
}
static ag_tensor *f_bce_direct(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_bce_elementwise(c, X, Y);
}
static ag_tensor *f_bce_logits(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_bce_with_logits(c, X, ag_sigmoid(c, Y));
}
static ag_tensor *f_sum_to(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_sum_to(c, X, Y->shape); }
static ag_tensor *f_expand(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_expand(c, X, Y->shape); }
static ag_tensor *f_sum(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_sum(c, ag_square(c, X)); }
static ag_tensor *f_mean(ag_ctx *c, ag_tensor **in, void *u) { (void)u; return ag_mean(c, ag_square(c, X)); }
static ag_tensor *f_sum_axes(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_sum_axes(c, X, CASE->i[0], &CASE->i[1], CASE->i[3]);
}
static ag_tensor *f_mean_axes(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_mean_axes(c, ag_square(c, X), CASE->i[0], &CASE->i[1], CASE->i[3]);
}
// Reshape then a nonlinear op, so the gradient of the gradient is not trivially zero.
static ag_tensor *f_reshape(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_square(c, ag_reshape(c, X, AG_SHAPE(-1, 3)));
}
static ag_tensor *f_permute(ag_ctx *c, ag_tensor **in, void *u) { return ag_square(c, ag_permute(c, X, CASE->i)); }
static ag_tensor *f_transpose(ag_ctx *c, ag_tensor **in, void *u) { return ag_transpose(c, X, CASE->i[0], CASE->i[1]); }
static ag_tensor *f_concat(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_square(c, ag_concat(c, 3, in, CASE->i[0]));
}
static ag_tensor *f_narrow(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_square(c, ag_narrow(c, X, CASE->i[0], CASE->i[1], CASE->i[2]));
}
static ag_tensor *f_unnarrow(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_square(c, ag_unnarrow(c, X, CASE->i[0], CASE->i[1], CASE->i[2]));
}
static ag_tensor *f_pad2d(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_square(c, ag_pad2d(c, X, CASE->i[0], CASE->i[1], CASE->i[2], CASE->i[3]));
}
static ag_tensor *f_matmul(ag_ctx *c, ag_tensor **in, void *u) {
    return ag_tanh(c, ag_matmul(c, X, Y, CASE->i[0], CASE->i[1]));
}
static ag_tensor *f_linear(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_tanh(c, ag_linear(c, X, Y, Z));
}

#define S AG_SHAPE
static const op_case cases[] = {
    {"add same", f_add, 2, {S(3, 5), S(3, 5)}, {1, 1}, {0, 0}, .kinks = false},
    {"add row", f_add, 2, {S(3, 5), S(5)}, {1, 1}, {0, 0}, .kinks = false},
    {"add per-channel", f_add, 2, {S(2, 3, 4, 5), S(1, 3, 1, 1)}, {1, 1}, {0, 0}, .kinks = false},
    {"add per-sample", f_add, 2, {S(4, 1, 1, 1), S(4, 3, 2, 2)}, {1, 1}, {0, 0}, .kinks = false},
    {"add scalar tensor", f_add, 2, {S(2, 3), S(1)}, {1, 1}, {0, 0}, .kinks = false},
    {"sub per-channel", f_sub, 2, {S(2, 3, 2, 3), S(1, 3, 1, 1)}, {1, 1}, {0, 0}, .kinks = false},
    {"mul same", f_mul, 2, {S(3, 7), S(3, 7)}, {1, 1}, {0, 0}, .kinks = false},
    {"mul per-channel", f_mul, 2, {S(2, 3, 4, 5), S(1, 3, 1, 1)}, {1, 1}, {0, 0}, .kinks = false},
    {"mul both broadcast", f_mul, 2, {S(3, 1), S(1, 4)}, {1, 1}, {0, 0}, .kinks = false},
    {"div", f_div, 2, {S(3, 4), S(3, 4)}, {1, 0.3f}, {0, 2}, .kinks = false},
    {"div per-sample", f_div, 2, {S(3, 2, 5), S(3, 1, 1)}, {1, 0.3f}, {0, 2}, .kinks = false},
    {"add_scalar", f_add_scalar, 1, {S(3, 4)}, {1}, {0}, .f = {1.5f}},
    {"scale", f_scale, 1, {S(3, 4)}, {1}, {0}, .f = {-0.7f}},
    {"pow 3", f_pow, 1, {S(3, 4)}, {1}, {0}, .f = {3.0f}},
    {"pow 1.5", f_pow, 1, {S(3, 4)}, {0.2f}, {2}, .f = {1.5f}},
    {"pow -2", f_pow, 1, {S(3, 4)}, {0.2f}, {2}, .f = {-2.0f}},
    {"clamp", f_clamp, 1, {S(4, 5)}, {1}, {0}, .kinks = true, .f = {-0.5f, 0.7f}},
    {"neg", f_neg, 1, {S(3, 4)}, {1}, {0}, .kinks = false},
    {"exp", f_exp, 1, {S(3, 4)}, {1}, {0}, .kinks = false},
    {"log", f_log, 1, {S(3, 4)}, {0.3f}, {2}, .kinks = false},
    {"sqrt", f_sqrt, 1, {S(3, 4)}, {0.3f}, {2}, .kinks = false},
    {"rsqrt", f_rsqrt, 1, {S(3, 4)}, {0.3f}, {2}, .kinks = false},
    {"square", f_square, 1, {S(3, 4)}, {1}, {0}, .kinks = false},
    {"abs", f_abs, 1, {S(4, 5)}, {1}, {0}, .kinks = true},
    {"relu", f_relu, 1, {S(4, 5)}, {1}, {0}, .kinks = true},
    {"leaky_relu", f_leaky, 1, {S(4, 5)}, {1}, {0}, .kinks = true, .f = {0.2f}},
    {"bias_act lrelu 4-D", f_bias_act, 2, {S(2, 3, 2, 3), S(3)}, {1, 1}, {0, 0}, .kinks = true, .f = {0.2f, 1.4142135f}},
    {"bias_act linear 2-D", f_bias_act, 2, {S(4, 5), S(5)}, {1, 1}, {0, 0}, .f = {1.0f, 0.7f}},
    {"bias_act relu 3-D", f_bias_act, 2, {S(2, 4, 3), S(4)}, {1, 1}, {0, 0}, .kinks = true, .f = {0.0f, 2.0f}},
    {"demod_bias_act noise", f_demod_bias_act, 5, {S(2, 3, 3, 4), S(3), S(2, 3), S(2, 1, 3, 4), S(1)},
     {1, 1, 0.5f, 1, 0.5f}, {0, 0, 1, 0, 0.5f}, .kinks = true, .f = {0.2f, 1.4142135f}},
    {"demod_bias_act shared", f_demod_bias_act, 5, {S(2, 3, 2, 3), S(3), S(2, 3), S(1, 1, 2, 3), S(1)},
     {1, 1, 0.5f, 1, 0.5f}, {0, 0, 1, 0, -0.5f}, .kinks = true, .f = {0.0f, 2.0f}},
    {"demod_bias_act no noise", f_demod_bias_act, 3, {S(3, 2, 2, 3), S(2), S(3, 2)}, {1, 1, 0.5f}, {0, 0, 1},
     .f = {1.0f, 0.7f}},
    {"tanh", f_tanh, 1, {S(3, 5)}, {1}, {0}, .kinks = false},
    {"sigmoid", f_sigmoid, 1, {S(3, 5)}, {1}, {0}, .kinks = false},
    {"softplus", f_softplus, 1, {S(3, 5)}, {2}, {0}, .kinks = false},
    {"bce", f_bce, 2, {S(7, 1), S(7, 1)}, {1, 1}, {0, 0}, .kinks = false},
    {"bce direct", f_bce_direct, 2, {S(6), S(6)}, {0.1f, 0.2f}, {0.5f, 0.5f}, .kinks = false},
    {"bce_with_logits", f_bce_logits, 2, {S(7), S(7)}, {2, 1}, {0, 0}, .kinks = false},
    {"sum_to per-channel", f_sum_to, 2, {S(2, 3, 4, 5), S(1, 3, 1, 1)}, {1, 1}, {0, 0}, .skip_input = 2},
    {"sum_to rows", f_sum_to, 2, {S(3, 5), S(5)}, {1, 1}, {0, 0}, .skip_input = 2},
    {"sum_to mixed", f_sum_to, 2, {S(2, 3, 4), S(2, 1, 4)}, {1, 1}, {0, 0}, .skip_input = 2},
    {"expand per-channel", f_expand, 2, {S(1, 3, 1, 1), S(2, 3, 2, 3)}, {1, 1}, {0, 0}, .skip_input = 2},
    {"expand leading", f_expand, 2, {S(4), S(3, 2, 4)}, {1, 1}, {0, 0}, .skip_input = 2},
    {"sum", f_sum, 1, {S(3, 4, 5)}, {1}, {0}, .kinks = false},
    {"mean", f_mean, 1, {S(3, 4, 5)}, {1}, {0}, .kinks = false},
    {"sum_axes (0,2) keepdim", f_sum_axes, 1, {S(3, 4, 5)}, {1}, {0}, .i = {2, 0, 2, 1}},
    {"sum_axes (-1)", f_sum_axes, 1, {S(3, 4, 5)}, {1}, {0}, .i = {1, -1, 0, 0}},
    {"mean_axes (1,2,3)", f_mean_axes, 1, {S(2, 3, 2, 3)}, {1}, {0}, .i = {3, 1, 2, 3, 0}},
    {"reshape", f_reshape, 1, {S(2, 3, 2)}, {1}, {0}, .kinks = false},
    {"permute", f_permute, 1, {S(2, 3, 4)}, {1}, {0}, .i = {2, 0, 1}},
    {"transpose", f_transpose, 1, {S(3, 5)}, {1}, {0}, .i = {0, 1}},
    {"concat axis 1", f_concat, 3, {S(2, 1, 3), S(2, 2, 3), S(2, 3, 3)}, {1, 1, 1}, {0, 0, 0}, .i = {1}},
    {"concat axis 0", f_concat, 3, {S(1, 4), S(2, 4), S(1, 4)}, {1, 1, 1}, {0, 0, 0}, .i = {0}},
    {"narrow", f_narrow, 1, {S(3, 5, 2)}, {1}, {0}, .i = {1, 1, 3}},
    {"unnarrow", f_unnarrow, 1, {S(3, 2, 2)}, {1}, {0}, .i = {1, 2, 5}},
    {"pad2d", f_pad2d, 1, {S(2, 3, 3)}, {1}, {0}, .i = {1, 2, 0, 1}},
    {"pad2d crop", f_pad2d, 1, {S(2, 5, 4)}, {1}, {0}, .i = {-1, -2, 0, -1}},
    {"matmul", f_matmul, 2, {S(3, 4), S(4, 5)}, {0.5f, 0.5f}, {0, 0}, .i = {0, 0}},
    {"matmul a^T", f_matmul, 2, {S(4, 3), S(4, 5)}, {0.5f, 0.5f}, {0, 0}, .i = {1, 0}},
    {"matmul b^T", f_matmul, 2, {S(3, 4), S(5, 4)}, {0.5f, 0.5f}, {0, 0}, .i = {0, 1}},
    {"matmul a^T b^T", f_matmul, 2, {S(4, 3), S(5, 4)}, {0.5f, 0.5f}, {0, 0}, .i = {1, 1}},
    {"matmul batched", f_matmul, 2, {S(2, 3, 4), S(2, 5, 4)}, {0.5f, 0.5f}, {0, 0}, .i = {0, 1}},
    {"linear", f_linear, 3, {S(3, 4), S(5, 4), S(5)}, {0.5f, 0.5f, 0.5f}, {0, 0, 0}, .kinks = false},
};

// sum_to at sizes where the CPU kernel takes each of its paths (long contiguous runs summed in
// eight lanes with a tail, strided runs, whole rows into a row of sums over more than one
// column block, with and without an outer kept dim, one long sum over several chunks): values
// against a double sum computed here, and bit-identical results on 1 and 2 threads.
static void test_sum_to_values(void) {
    ag_backend *be = test_backend();
    const struct {
        ag_shape x, to;
    } sc[] = {
        {S(4, 5, 37, 29), S(1, 5, 1, 1)},  // per channel: runs of 1073 floats
        {S(6, 3, 11, 13), S(6, 3, 1, 1)},  // per sample and channel
        {S(300, 2500), S(2500)},           // rows into a row of sums (three column blocks)
        {S(7, 40, 9), S(1, 40, 1)},        // per channel of a 3-D tensor
        {S(9, 6, 5), S(9, 1, 5)},          // reduced between kept dims: rows per outer index
        {S(3, 4, 2100), S(3, 1, 2100)},    // ... over more than one column block
        {S(3, 4, 6, 5), S(1, 4, 1, 5)},    // strided runs
        {S(70000), S(1)},                  // one long sum
    };
    for (size_t k = 0; k < sizeof sc / sizeof sc[0]; k++) {
        ag_shape xs = sc[k].x, ts = sc[k].to;
        int64_t n = ag_shape_numel(xs), m = ag_shape_numel(ts);
        float *xv = malloc((size_t)n * sizeof *xv), *got[2];
        ag_philox_fill_normal(xv, n, 90 + k, 0, 1.0f, 0.5f);
        for (int t = 0; t < 2; t++) {
            ag_backend_set_threads(be, t + 1);
            ag_ctx *c = ag_ctx_create(be);
            ag_tensor *y = ag_sum_to(c, ag_from_host(c, xs, xv), ts);
            got[t] = malloc((size_t)m * sizeof(float));
            ag_tensor_to_host(y, got[t]);
            ag_ctx_free(c);
        }
        // The reference: every element added to the output element it broadcasts from.
        double *want = calloc((size_t)m, sizeof *want);
        int64_t xst[AG_MAX_DIMS];
        ag_shape_strides(xs, xst);
        for (int64_t i = 0; i < n; i++) {
            int64_t o = 0, mul = 1;
            for (int d = xs.ndim - 1; d >= 0; d--) {
                int64_t idx = i / xst[d] % xs.d[d];
                int td = d - (xs.ndim - ts.ndim);
                if (td >= 0 && ts.d[td] != 1) o += idx * mul;
                if (td >= 0) mul *= ts.d[td];
            }
            want[o] += xv[i];
        }
        int bad = 0;
        for (int64_t o = 0; o < m; o++) bad += !(fabs(got[0][o] - want[o]) <= 1e-6 * (1.0 + fabs(want[o])));
        TEST_CHECK(bad == 0, "sum_to %s -> %s: %d of %lld sums differ from the double reference",
                   AG_SHAPE_STR(xs), AG_SHAPE_STR(ts), bad, (long long)m);
        TEST_CHECK(!memcmp(got[0], got[1], (size_t)m * sizeof(float)),
                   "sum_to %s -> %s: 1 and 2 threads differ", AG_SHAPE_STR(xs), AG_SHAPE_STR(ts));
        free(xv), free(got[0]), free(got[1]), free(want);
    }
    printf("%-26s done\n", "sum_to values, threads");
}

// bias_act against the three ops it replaces (add the bias, leaky_relu, scale), bit for bit:
// output, x.grad and b.grad, at a size where the kernels go parallel, on 1 and 2 threads.
static void test_bias_act_matches_unfused(void) {
    ag_backend *be = test_backend();
    const float slopes[2] = {0.2f, 1.0f}, gains[2] = {1.4142135f, 0.70710677f};
    const ag_shape shapes[2] = {S(5, 7, 30, 31), S(600, 70)};
    for (int threads = 1; threads <= 2; threads++)
        for (int k = 0; k < 2; k++) {
            ag_backend_set_threads(be, threads);
            ag_shape xs = shapes[k];
            int C = xs.d[1];
            int64_t n = ag_shape_numel(xs);
            float *res[2][3];
            for (int fused = 0; fused < 2; fused++) {
                ag_ctx *c = ag_ctx_create(be);
                ag_tensor *x = gc_input(xs, 300 + k, 1.0f, 0.1f), *b = gc_input(S(C), 310 + k, 0.5f, 0.0f);
                ag_tensor *w = gc_input(xs, 320 + k, 1.0f, 0.0f);
                ag_tensor *y;
                if (fused) {
                    y = ag_bias_act(c, x, b, slopes[k], gains[k]);
                } else {
                    ag_shape bs = xs;
                    for (int d = 0; d < bs.ndim; d++) bs.d[d] = d == 1 ? C : 1;
                    y = ag_add(c, x, ag_reshape(c, b, bs));
                    if (slopes[k] != 1.0f) y = ag_leaky_relu(c, y, slopes[k]);
                    y = ag_scale(c, y, gains[k]);
                }
                ag_backward(c, ag_sum(c, ag_mul(c, y, w)));
                const ag_tensor *outs[3] = {y, x->grad, b->grad};
                for (int i = 0; i < 3; i++) {
                    res[fused][i] = malloc((size_t)outs[i]->numel * sizeof(float));
                    ag_tensor_to_host(outs[i], res[fused][i]);
                }
                ag_ctx_free(c);
                ag_tensor_free(x), ag_tensor_free(b), ag_tensor_free(w);
            }
            const char *what[3] = {"output", "x.grad", "b.grad"};
            const int64_t sizes[3] = {n, n, C};
            for (int i = 0; i < 3; i++) {
                TEST_CHECK(!memcmp(res[0][i], res[1][i], (size_t)sizes[i] * sizeof(float)),
                           "bias_act %s on %d threads: %s differs from add + leaky_relu + scale",
                           AG_SHAPE_STR(xs), threads, what[i]);
                free(res[0][i]), free(res[1][i]);
            }
        }
    printf("%-26s done\n", "bias_act = add+lrelu+scale");
}

// demod_bias_act against the ops it replaces (multiply by d, add noise * strength, bias_act),
// bit for bit: the output and every input's gradient, with a noise image per sample, one for all
// samples and none, at a size where the kernels go parallel, on 1 and 2 threads.
static void test_demod_bias_act_matches_unfused(void) {
    ag_backend *be = test_backend();
    const ag_shape xs = S(5, 7, 30, 31);
    const int N = 5, C = 7;
    const ag_shape noise_shapes[3] = {S(5, 1, 30, 31), S(1, 1, 30, 31), S(0)};
    const char *what[6] = {"output", "x.grad", "b.grad", "d.grad", "noise.grad", "strength.grad"};
    for (int threads = 1; threads <= 2; threads++)
        for (int k = 0; k < 3; k++) {
            ag_backend_set_threads(be, threads);
            const bool has_noise = k < 2;
            float *res[2][6] = {{0}};
            int64_t sizes[6];
            for (int fused = 0; fused < 2; fused++) {
                ag_ctx *c = ag_ctx_create(be);
                ag_tensor *x = gc_input(xs, 400 + k, 1.0f, 0.1f), *b = gc_input(S(C), 410 + k, 0.5f, 0.0f);
                ag_tensor *d = gc_input(S(N, C), 420 + k, 0.3f, 1.0f), *w = gc_input(xs, 430 + k, 1.0f, 0.0f);
                ag_tensor *noise = has_noise ? gc_input(noise_shapes[k], 440 + k, 1.0f, 0.0f) : NULL;
                ag_tensor *strength = has_noise ? gc_input(S(1), 450 + k, 0.5f, 0.2f) : NULL;
                ag_tensor *y;
                if (fused) {
                    y = ag_demod_bias_act(c, x, b, d, noise, strength, 0.2f, 1.4142135f);
                } else {
                    y = ag_mul(c, x, ag_reshape(c, d, S(N, C, 1, 1)));
                    if (has_noise) y = ag_add(c, y, ag_mul(c, noise, strength));
                    y = ag_bias_act(c, y, b, 0.2f, 1.4142135f);
                }
                ag_backward(c, ag_sum(c, ag_mul(c, y, w)));
                const ag_tensor *outs[6] = {y, x->grad, b->grad, d->grad, has_noise ? noise->grad : NULL,
                                            has_noise ? strength->grad : NULL};
                for (int i = 0; i < 6; i++) {
                    if (!outs[i]) continue;
                    sizes[i] = outs[i]->numel;
                    res[fused][i] = malloc((size_t)sizes[i] * sizeof(float));
                    ag_tensor_to_host(outs[i], res[fused][i]);
                }
                ag_ctx_free(c);
                ag_tensor_free(x), ag_tensor_free(b), ag_tensor_free(d), ag_tensor_free(w);
                if (has_noise) ag_tensor_free(noise), ag_tensor_free(strength);
            }
            for (int i = 0; i < 6; i++) {
                if (!res[0][i]) continue;
                TEST_CHECK(!memcmp(res[0][i], res[1][i], (size_t)sizes[i] * sizeof(float)),
                           "demod_bias_act %s, noise %s, on %d threads: %s differs from mul + noise + bias_act",
                           AG_SHAPE_STR(xs), has_noise ? AG_SHAPE_STR(noise_shapes[k]) : "none", threads, what[i]);
                free(res[0][i]), free(res[1][i]);
            }
        }
    printf("%-26s done\n", "demod_bias_act = unfused");
}

// The broadcasting plan merges every run of dims that all operands walk as one: same shapes
// are one flat run, a per-channel operand leaves (N*C, H*W), a per-pixel one (N, C, H*W). The
// kernels' speed depends on long inner runs (each outer index costs a division per dim).
static void test_bplan_merges(void) {
    const struct {
        ag_shape out, a, b;
        int nd;
        int64_t inner, sa, sb;
    } pc[] = {
        {S(32, 64, 8, 8), S(32, 64, 8, 8), S(32, 64, 8, 8), 1, 131072, 1, 1},
        {S(32, 64, 8, 8), S(32, 64, 8, 8), S(32, 64, 1, 1), 2, 64, 1, 0},
        {S(32, 64, 8, 8), S(32, 64, 8, 8), S(32, 1, 8, 8), 3, 64, 1, 1},
        {S(4, 2, 3, 5), S(4, 2, 3, 5), S(1), 1, 120, 1, 0},
        {S(6, 7), S(6, 1), S(1, 7), 2, 7, 0, 1},
    };
    for (size_t k = 0; k < sizeof pc / sizeof pc[0]; k++) {
        ag_shape in[2] = {pc[k].a, pc[k].b};
        ag_bplan p = ag_bplan_make(pc[k].out, 2, in);
        TEST_CHECK(p.nd == pc[k].nd && p.n[p.nd - 1] == pc[k].inner && p.s[0][p.nd - 1] == pc[k].sa &&
                       p.s[1][p.nd - 1] == pc[k].sb,
                   "bplan %s * %s: %d dims, inner %lld (strides %lld, %lld); want %d, %lld (%lld, %lld)",
                   AG_SHAPE_STR(pc[k].a), AG_SHAPE_STR(pc[k].b), p.nd, (long long)p.n[p.nd - 1],
                   (long long)p.s[0][p.nd - 1], (long long)p.s[1][p.nd - 1], pc[k].nd, (long long)pc[k].inner,
                   (long long)pc[k].sa, (long long)pc[k].sb);
    }
    printf("%-26s done\n", "broadcast plans merge");
}

// tanh against double-precision tanh over every 61st positive float up to 10 (from 9.02 on it
// is 1), both signs, and the special values: within 1.5 ulp, the sign of zero kept, NaN kept,
// exactly 1 at infinity.
static void test_tanh_accuracy(void) {
    const uint32_t top = 0x41200000u, step = 61;  // 10.0f
    const int64_t n = 2 * (int64_t)((top + step - 1) / step) + 6;
    float *xv = malloc((size_t)n * sizeof *xv), *yv = malloc((size_t)n * sizeof *yv);
    int64_t k = 0;
    for (uint32_t b = 0; b < top; b += step) {
        memcpy(&xv[k], &b, sizeof(float));
        xv[k + 1] = -xv[k];
        k += 2;
    }
    const float special[6] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f};
    memcpy(xv + k, special, sizeof special);
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor_to_host(ag_tanh(c, ag_from_host(c, AG_SHAPE(n), xv)), yv);
    ag_ctx_free(c);
    double worst = 0.0, worst_x = 0.0;
    for (int64_t i = 0; i < k; i++) {
        const float want = (float)tanh((double)xv[i]);
        const double ulp = fabs((double)nextafterf(want, INFINITY) - (double)want);
        const double err = fabs((double)yv[i] - tanh((double)xv[i])) / ulp;
        if (!(err <= worst)) worst = err, worst_x = xv[i];
    }
    TEST_CHECK(worst <= 1.5, "tanh: %.2f ulp from double tanh at x = %.9g", worst, worst_x);
    TEST_CHECK(yv[k] == 0.0f && !signbit(yv[k]) && yv[k + 1] == 0.0f && signbit(yv[k + 1]) && yv[k + 2] == 1.0f &&
                   yv[k + 3] == -1.0f && isnan(yv[k + 4]) && yv[k + 5] == 1e-45f,
               "tanh of 0, -0, inf, -inf, nan, 1e-45: %a %a %a %a %a %a", yv[k], yv[k + 1], yv[k + 2], yv[k + 3],
               yv[k + 4], yv[k + 5]);
    free(xv), free(yv);
    printf("%-26s done (%.2f ulp)\n", "tanh accuracy", worst);
}

int main(void) {
    test_bplan_merges();
    test_tanh_accuracy();
    test_sum_to_values();
    test_bias_act_matches_unfused();
    test_demod_bias_act_matches_unfused();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const op_case *oc = &cases[k];
        ag_tensor *in[5];
        for (int i = 0; i < oc->nin; i++)
            in[i] = gc_input(oc->shapes[i], 1000 + 17 * k + (uint64_t)i, oc->scale[i], oc->shift[i]);
        gc_opts o = {.kinks = oc->kinks, .skip_input = oc->skip_input};
        int fails = gc_check(oc->name, oc->fn, oc->nin, in, (void *)oc, o);
        printf("%-26s %s\n", oc->name, fails ? "FAIL" : "ok");
        gc_free_inputs(oc->nin, in);
    }
    return test_finish();
}
