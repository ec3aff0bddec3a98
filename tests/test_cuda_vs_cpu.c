// The CUDA backend against the CPU backend on the same inputs: every op of op_list.h forward,
// its input gradients, and for the twice-differentiable ones a gradient of a gradient; then a
// whole DCGAN iteration, and StyleGAN2 iterations with R1 and path length. Inputs are drawn by
// the same Philox streams on both backends (the CUDA backend draws fills on the host), so the
// only differences are the order of sums in reductions, convolutions and matrix products and
// the last bit of library functions (expf, logf, tanhf): each comparison states its tolerance,
// as the largest difference over the largest magnitude of the CPU's values. NaN and infinity
// must match exactly. Without a CUDA build, or without a GPU, the test exits 77.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "backend.h"
#include "dcgan.h"
#include "dcgan_train.h"
#include "op_list.h"
#include "ops.h"
#include "rng.h"
#include "stylegan2_tiny.h"
#include "test.h"

// Elementwise maps differ at most by library functions' last bits; sums over a few hundred
// terms in another order by ~1e-6 of their magnitude; second derivatives go through two of
// those.
#define TOL_MAP 2e-6
#define TOL_SUM 2e-5
#define TOL_GRADGRAD 1e-4

static ag_backend *cpu, *gpu;

// Largest |a - b| over the largest |a|, or INFINITY when the non-finite values disagree.
static double rel_diff(const float *a, const float *b, int64_t n) {
    double diff = 0.0, scale = 1e-30;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            bool same = (isnan(a[i]) && isnan(b[i])) || a[i] == b[i];
            if (!same) return INFINITY;
            continue;
        }
        diff = test_nanmax(diff, fabs((double)a[i] - b[i]));
        scale = test_nanmax(scale, fabs((double)a[i]));
    }
    return diff / scale;
}

static float *host_copy(const ag_tensor *t) {
    float *h = malloc((size_t)t->numel * sizeof *h);
    ag_tensor_to_host(t, h);
    return h;
}

static void expect_same(const char *what, const ag_tensor *on_cpu, const ag_tensor *on_gpu, double tol) {
    TEST_CHECK(ag_shape_equal(on_cpu->shape, on_gpu->shape), "%s: shapes %s vs %s", what, AG_SHAPE_STR(on_cpu->shape),
               AG_SHAPE_STR(on_gpu->shape));
    if (!ag_shape_equal(on_cpu->shape, on_gpu->shape)) return;
    float *a = host_copy(on_cpu), *b = host_copy(on_gpu);
    double d = rel_diff(a, b, on_cpu->numel);
    TEST_CHECK(d <= tol, "%s: cuda differs from cpu by %.3g of the largest value (tolerance %.1g)", what, d, tol);
    free(a);
    free(b);
}

// --- one op at a time ---------------------------------------------------------------------------

#define MAX_IN 5

typedef struct input {
    ag_shape shape;
    float std, mean;  // N(mean, std)
    bool no_grad;     // targets, masks
} input;

typedef struct opcase {
    const char *name;
    int nin;
    input in[MAX_IN];
    ag_tensor *(*fn)(ag_ctx *c, ag_tensor **x);
    ag_op covers[6];  // the ops it runs (forward or backward); AG_OP_COUNT ends the list
    double tol;
    bool gradgrad;
} opcase;

// Output, input gradients and (optionally) gradients of <grads, v> of one case on one backend.
typedef struct result {
    ag_tensor *y, *g[MAX_IN], *gg[MAX_IN];
    ag_tensor *x[MAX_IN];
} result;

static void run_case(const opcase *k, ag_backend *be, ag_ctx *c, result *r) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < k->nin; i++) {
        r->x[i] = ag_tensor_create(be, k->in[i].shape);
        ag_rng rng = ag_rng_make(100 + (uint64_t)i);
        ag_tensor_fill_normal(r->x[i], &rng, k->in[i].mean, k->in[i].std);
        ag_requires_grad(r->x[i], !k->in[i].no_grad);
    }
    r->y = k->fn(c, r->x);
    ag_rng rr = ag_rng_make(7);
    ag_tensor *proj = ag_normal(c, &rr, r->y->shape, 0.0f, 1.0f);
    ag_tensor *L = ag_sum(c, ag_mul(c, r->y, proj));
    ag_tensor *wrt[MAX_IN];
    int n = 0, idx[MAX_IN];
    for (int i = 0; i < k->nin; i++)
        if (!k->in[i].no_grad) idx[n] = i, wrt[n++] = r->x[i];
    ag_tensor *g[MAX_IN];
    ag_grad(c, 1, &L, NULL, n, wrt, k->gradgrad, g);
    for (int j = 0; j < n; j++) r->g[idx[j]] = g[j];
    if (k->gradgrad) {
        ag_tensor *H = NULL;
        for (int j = 0; j < n; j++) {
            ag_rng rv = ag_rng_make(200 + (uint64_t)j);
            ag_tensor *term = ag_sum(c, ag_mul(c, g[j], ag_normal(c, &rv, g[j]->shape, 0.0f, 1.0f)));
            H = H ? ag_add(c, H, term) : term;
        }
        ag_tensor *gg[MAX_IN];
        if (H->requires_grad) ag_grad(c, 1, &H, NULL, n, wrt, false, gg);
        else for (int j = 0; j < n; j++) gg[j] = ag_zeros(c, wrt[j]->shape);
        for (int j = 0; j < n; j++) r->gg[idx[j]] = gg[j];
    }
}

static void compare_case(const opcase *k) {
    ag_ctx *cc = ag_ctx_create(cpu), *gc = ag_ctx_create(gpu);
    result a, b;
    run_case(k, cpu, cc, &a);
    run_case(k, gpu, gc, &b);
    char what[128];
    snprintf(what, sizeof what, "%s: output", k->name);
    expect_same(what, a.y, b.y, k->tol);
    for (int i = 0; i < k->nin; i++) {
        if (a.g[i]) {
            snprintf(what, sizeof what, "%s: gradient of input %d", k->name, i);
            expect_same(what, a.g[i], b.g[i], k->tol > TOL_SUM ? k->tol : TOL_SUM);
        }
        if (a.gg[i]) {
            snprintf(what, sizeof what, "%s: gradient of gradient, input %d", k->name, i);
            expect_same(what, a.gg[i], b.gg[i], TOL_GRADGRAD);
        }
        ag_tensor_free(a.x[i]);
        ag_tensor_free(b.x[i]);
    }
    ag_ctx_free(cc);
    ag_ctx_free(gc);
}

// The cases' functions.
static ag_tensor *f_add(ag_ctx *c, ag_tensor **x) { return ag_add(c, x[0], x[1]); }
static ag_tensor *f_sub(ag_ctx *c, ag_tensor **x) { return ag_sub(c, x[0], x[1]); }
static ag_tensor *f_mul(ag_ctx *c, ag_tensor **x) { return ag_mul(c, x[0], x[1]); }
static ag_tensor *f_div(ag_ctx *c, ag_tensor **x) { return ag_div(c, x[0], x[1]); }
static ag_tensor *f_scalars(ag_ctx *c, ag_tensor **x) {
    return ag_add(c, ag_pow(c, ag_scale(c, ag_add_scalar(c, x[0], 0.5f), 0.7f), 3.0f), ag_pow(c, x[0], 2.0f));
}
static ag_tensor *f_clamp(ag_ctx *c, ag_tensor **x) { return ag_clamp(c, x[0], -0.5f, 0.7f); }
static ag_tensor *f_neg_exp(ag_ctx *c, ag_tensor **x) { return ag_exp(c, ag_neg(c, x[0])); }
static ag_tensor *f_log(ag_ctx *c, ag_tensor **x) { return ag_log(c, x[0]); }
static ag_tensor *f_sqrt(ag_ctx *c, ag_tensor **x) { return ag_add(c, ag_sqrt(c, x[0]), ag_rsqrt(c, x[0])); }
static ag_tensor *f_square_abs(ag_ctx *c, ag_tensor **x) { return ag_add(c, ag_square(c, x[0]), ag_abs(c, x[0])); }
static ag_tensor *f_sign(ag_ctx *c, ag_tensor **x) { return ag_mul(c, ag_sign(c, x[0]), x[1]); }
static ag_tensor *f_leaky(ag_ctx *c, ag_tensor **x) { return ag_leaky_relu(c, x[0], 0.2f); }
static ag_tensor *f_tanh(ag_ctx *c, ag_tensor **x) { return ag_tanh(c, x[0]); }
static ag_tensor *f_sigmoid(ag_ctx *c, ag_tensor **x) { return ag_sigmoid(c, x[0]); }
static ag_tensor *f_softplus(ag_ctx *c, ag_tensor **x) { return ag_softplus(c, x[0]); }
static ag_tensor *f_bce(ag_ctx *c, ag_tensor **x) {
    return ag_bce(c, ag_sigmoid(c, x[0]), ag_clamp(c, x[1], 0.0f, 1.0f));
}
static ag_tensor *f_sum_axes(ag_ctx *c, ag_tensor **x) {
    return ag_mean_axes(c, x[0], 3, (const int[]){0, 2, 3}, true);
}
static ag_tensor *f_sum_all(ag_ctx *c, ag_tensor **x) { return ag_sum(c, x[0]); }
static ag_tensor *f_permute(ag_ctx *c, ag_tensor **x) {
    return ag_permute(c, ag_reshape(c, x[0], AG_SHAPE(3, 4, 5, 2)), (const int[]){2, 0, 3, 1});
}
static ag_tensor *f_concat(ag_ctx *c, ag_tensor **x) { return ag_concat(c, 3, x, 1); }
static ag_tensor *f_narrow(ag_ctx *c, ag_tensor **x) { return ag_narrow(c, x[0], 2, 1, 3); }
static ag_tensor *f_pad(ag_ctx *c, ag_tensor **x) { return ag_pad2d(c, ag_pad2d(c, x[0], 2, 1, 0, 3), -1, 0, -1, -2); }
static ag_tensor *f_matmul(ag_ctx *c, ag_tensor **x) {
    return ag_add(c, ag_matmul(c, x[0], x[1], false, false), ag_matmul(c, x[1], x[0], true, true));
}
static ag_tensor *f_bmm(ag_ctx *c, ag_tensor **x) { return ag_matmul(c, x[0], x[1], true, false); }
static ag_tensor *f_conv(ag_ctx *c, ag_tensor **x) { return ag_conv2d(c, x[0], x[1], AG_CONV(1, 1, 1)); }
static ag_tensor *f_conv_s2(ag_ctx *c, ag_tensor **x) { return ag_conv2d(c, x[0], x[1], AG_CONV(2, 1, 1)); }
static ag_tensor *f_conv_grouped(ag_ctx *c, ag_tensor **x) { return ag_conv2d(c, x[0], x[1], AG_CONV(1, 1, 4)); }
static ag_tensor *f_conv_t(ag_ctx *c, ag_tensor **x) { return ag_conv_transpose2d(c, x[0], x[1], AG_CONV(2, 1, 1)); }
static ag_tensor *f_bn(ag_ctx *c, ag_tensor **x) {
    return ag_batchnorm2d_train(c, x[0], x[1], x[2], NULL, NULL, 0.1f, 1e-5f);
}
static ag_tensor *f_bn_act(ag_ctx *c, ag_tensor **x) {
    return ag_batchnorm2d_act_train(c, x[0], x[1], x[2], NULL, NULL, 0.1f, 1e-5f, 0.2f);
}
static ag_tensor *f_affine_act(ag_ctx *c, ag_tensor **x) { return ag_channel_affine_act(c, x[0], x[1], x[2], 0.2f); }
static ag_tensor *f_resample(ag_ctx *c, ag_tensor **x) { return ag_avg_pool2(c, ag_upsample_nearest2x(c, ag_tanh(c, x[0]))); }
static ag_tensor *f_pool(ag_ctx *c, ag_tensor **x) { return ag_avg_pool2(c, x[0]); }
static ag_tensor *f_bias_act(ag_ctx *c, ag_tensor **x) { return ag_bias_act(c, x[0], x[1], 0.2f, 1.41421356f); }
static ag_tensor *f_demod_bias_act(ag_ctx *c, ag_tensor **x) {
    return ag_demod_bias_act(c, x[0], x[1], x[2], x[3], x[4], 0.2f, 1.41421356f);
}
static ag_tensor *f_demod_bias_act_shared(ag_ctx *c, ag_tensor **x) {
    return ag_demod_bias_act(c, x[0], x[1], x[2], x[3], x[4], 1.0f, 1.0f);
}
static ag_tensor *f_log_softmax(ag_ctx *c, ag_tensor **x) { return ag_log_softmax(c, x[0]); }
static ag_tensor *f_cross_entropy(ag_ctx *c, ag_tensor **x) { return ag_cross_entropy(c, x[0], x[1]); }
static ag_tensor *f_max_pool_k3s2(ag_ctx *c, ag_tensor **x) { return ag_max_pool2d(c, x[0], 3, 2, 0); }
static ag_tensor *f_max_pool_k3s1p1(ag_ctx *c, ag_tensor **x) { return ag_max_pool2d(c, x[0], 3, 1, 1); }
// A map of x's (N, H, W) with zero fill and repeated sources; tanh first, so the gradient of the
// gradient runs the adjoint and the gather again.
static ag_tensor *f_remap(ag_ctx *c, ag_tensor **x) {
    const int N = x[0]->shape.d[0], H = x[0]->shape.d[2], W = x[0]->shape.d[3];
    float *map = malloc((size_t)N * H * W * sizeof *map);
    for (int i = 0; i < N * H * W; i++) {
        int v = (i * 7 + i / (H * W)) % (H * W + 3) - 2;
        map[i] = v < 0 ? -1.0f : (float)(v % (H * W));
    }
    ag_tensor *out = ag_remap2d(c, ag_tanh(c, x[0]), ag_from_host(c, AG_SHAPE(N, H, W), map));
    free(map);
    return out;
}

// The collective through a hook that stands for two processes holding the same tensor (twice
// the input): the same host round trip on both backends, forward and backward.
static void twice(void *user, float *buf, int64_t n) {
    (void)user;
    for (int64_t i = 0; i < n; i++) buf[i] *= 2.0f;
}
static ag_tensor *f_allreduce(ag_ctx *c, ag_tensor **x) {
    ag_ctx_set_allreduce(c, twice, NULL, 2);
    return ag_allreduce_sum(c, ag_tanh(c, x[0]));
}

#define E(op) AG_OP_##op
#define END AG_OP_COUNT
#define IN(...) {__VA_ARGS__}
#define N(...) {.shape = AG_SHAPE(__VA_ARGS__), .std = 1.0f}

static const opcase cases[] = {
    {"add broadcast", 2, IN(N(2, 3, 4, 5), N(3, 1, 5)), f_add, {E(ADD), E(SUM_TO), E(EXPAND), END}, TOL_MAP, true},
    {"sub broadcast", 2, IN(N(4, 5), N(5)), f_sub, {E(SUB), E(NEG), END}, TOL_MAP, true},
    {"mul broadcast", 2, IN(N(2, 3, 4), N(2, 1, 4)), f_mul, {E(MUL), END}, TOL_MAP, true},
    {"div", 2, IN(N(6, 7), {.shape = AG_SHAPE(6, 1), .std = 0.5f, .mean = 3.0f}), f_div, {E(DIV), END}, TOL_MAP, true},
    {"scalars", 1, IN(N(3, 50)), f_scalars, {E(ADD_SCALAR), E(MUL_SCALAR), E(POW_SCALAR), END}, TOL_MAP, true},
    {"clamp", 1, IN(N(3, 50)), f_clamp, {E(CLAMP), E(IN_RANGE), END}, TOL_MAP, true},
    {"neg exp", 1, IN(N(3, 50)), f_neg_exp, {E(NEG), E(EXP), END}, TOL_MAP, true},
    {"log", 1, IN({.shape = AG_SHAPE(3, 50), .std = 0.5f, .mean = 3.0f}), f_log, {E(LOG), END}, TOL_MAP, true},
    {"sqrt rsqrt", 1, IN({.shape = AG_SHAPE(3, 50), .std = 0.5f, .mean = 3.0f}), f_sqrt, {E(SQRT), E(RSQRT), END},
     TOL_MAP, true},
    {"square abs", 1, IN(N(3, 50)), f_square_abs, {E(SQUARE), E(ABS), E(SIGN), END}, TOL_MAP, true},
    {"sign", 2, IN(N(3, 50), N(3, 50)), f_sign, {E(SIGN), END}, TOL_MAP, true},
    {"leaky_relu", 1, IN(N(4, 60)), f_leaky, {E(LEAKY_RELU), E(LEAKY_RELU_GRAD), END}, TOL_MAP, true},
    {"tanh", 1, IN(N(4, 60)), f_tanh, {E(TANH), E(TANH_GRAD), END}, TOL_MAP, true},
    {"sigmoid", 1, IN(N(4, 60)), f_sigmoid, {E(SIGMOID), E(SIGMOID_GRAD), END}, TOL_MAP, true},
    {"softplus", 1, IN({.shape = AG_SHAPE(4, 60), .std = 15.0f}), f_softplus, {E(SOFTPLUS), END}, TOL_MAP, true},
    {"bce", 2, IN(N(4, 60), {.shape = AG_SHAPE(4, 60), .std = 1.0f, .mean = 0.5f, .no_grad = true}), f_bce,
     {E(BCE), E(SIGMOID), END}, TOL_SUM, true},
    {"mean over axes", 1, IN(N(3, 4, 5, 6)), f_sum_axes, {E(SUM_TO), E(EXPAND), END}, TOL_SUM, true},
    {"sum of 300k", 1, IN(N(300000)), f_sum_all, {E(SUM_TO), END}, TOL_SUM, false},
    {"reshape permute", 1, IN(N(6, 20)), f_permute, {E(RESHAPE), E(PERMUTE), END}, TOL_MAP, true},
    {"concat", 3, IN(N(2, 3, 4), N(2, 1, 4), N(2, 5, 4)), f_concat, {E(CONCAT), E(NARROW), END}, TOL_MAP, true},
    {"narrow", 1, IN(N(2, 3, 6, 2)), f_narrow, {E(NARROW), E(UNNARROW), END}, TOL_MAP, true},
    {"pad2d", 1, IN(N(2, 3, 5, 4)), f_pad, {E(PAD2D), END}, TOL_MAP, true},
    {"matmul", 2, IN(N(5, 7), N(7, 5)), f_matmul, {E(MATMUL), END}, TOL_SUM, true},
    {"batched matmul", 2, IN(N(3, 6, 4), N(3, 6, 5)), f_bmm, {E(MATMUL), END}, TOL_SUM, true},
    {"conv2d 3x3", 2, IN(N(2, 3, 9, 8), N(5, 3, 3, 3)), f_conv, {E(CONV2D), E(CONV_TRANSPOSE2D), E(CONV2D_WEIGHT_GRAD), END},
     TOL_SUM, true},
    {"conv2d 4x4 stride 2", 2, IN(N(3, 4, 16, 16), N(8, 4, 4, 4)), f_conv_s2,
     {E(CONV2D), E(CONV_TRANSPOSE2D), E(CONV2D_WEIGHT_GRAD), END}, TOL_SUM, true},
    {"grouped conv2d", 2, IN(N(2, 8, 7, 7), N(8, 2, 3, 3)), f_conv_grouped, {E(CONV2D), E(CONV2D_WEIGHT_GRAD), END},
     TOL_SUM, true},
    {"conv_transpose2d 4x4 stride 2", 2, IN(N(3, 8, 4, 4), N(8, 4, 4, 4)), f_conv_t,
     {E(CONV_TRANSPOSE2D), E(CONV2D), E(CONV2D_WEIGHT_GRAD), END}, TOL_SUM, true},
    {"batchnorm2d", 3, IN(N(4, 3, 5, 5), {.shape = AG_SHAPE(3), .std = 0.1f, .mean = 1.0f}, N(3)), f_bn,
     {E(BATCHNORM2D), E(BATCHNORM2D_BACKWARD), END}, TOL_SUM, false},
    {"batchnorm2d + leaky_relu", 3, IN(N(4, 3, 5, 5), {.shape = AG_SHAPE(3), .std = 0.1f, .mean = 1.0f}, N(3)),
     f_bn_act, {E(BATCHNORM2D_ACT), E(BATCHNORM2D_ACT_BACKWARD), END}, TOL_SUM, false},
    {"channel affine + leaky_relu", 3, IN(N(4, 3, 5, 5), N(3), N(3)), f_affine_act, {E(CHANNEL_AFFINE_ACT), END},
     TOL_SUM, true},
    {"upsample, pool", 1, IN(N(2, 3, 5, 4)), f_resample, {E(UPSAMPLE_NEAREST2X), E(SUM_POOL2), E(TANH), END}, TOL_MAP,
     true},
    {"avg_pool2", 1, IN(N(2, 3, 6, 4)), f_pool, {E(SUM_POOL2), E(UPSAMPLE_NEAREST2X), END}, TOL_MAP, true},
    {"bias_act", 2, IN(N(3, 4, 5, 5), N(4)), f_bias_act, {E(BIAS_ACT), E(BIAS_ACT_GRAD), END}, TOL_SUM, true},
    // A noise image per sample, then one for all samples (a per-pixel sum over the batch).
    {"demod_bias_act", 5, IN(N(3, 4, 5, 5), N(4), {.shape = AG_SHAPE(3, 4), .std = 0.3f, .mean = 1.0f},
                             N(3, 1, 5, 5), N(1)),
     f_demod_bias_act, {E(DEMOD_BIAS_ACT), E(BIAS_ACT_GRAD), E(MUL), E(SUM_TO), END}, TOL_SUM, true},
    {"demod_bias_act shared noise", 5, IN(N(4, 3, 6, 7), N(3), {.shape = AG_SHAPE(4, 3), .std = 0.3f, .mean = 1.0f},
                                          N(1, 1, 6, 7), N(1)),
     f_demod_bias_act_shared, {E(DEMOD_BIAS_ACT), E(BIAS_ACT_GRAD), END}, TOL_SUM, true},
    // Rows shorter than a warp, then rows of many elements per lane over several blocks.
    {"log_softmax", 1, IN({.shape = AG_SHAPE(5, 7), .std = 3.0f}), f_log_softmax,
     {E(LOG_SOFTMAX), E(EXP), E(SUM_TO), END}, TOL_MAP, true},
    {"log_softmax 1000 classes", 1, IN({.shape = AG_SHAPE(37, 1000), .std = 3.0f, .mean = 50.0f}), f_log_softmax,
     {E(LOG_SOFTMAX), END}, TOL_MAP, false},
    {"cross_entropy", 2, IN(N(8, 10), {.shape = AG_SHAPE(8, 10), .std = 1.0f, .no_grad = true}), f_cross_entropy,
     {E(LOG_SOFTMAX), E(MUL), E(SUM_TO), E(MUL_SCALAR), END}, TOL_SUM, true},
    // Pooling copies values and adds overlapping windows' gradients in the CPU's order.
    {"max_pool2d 3x3 stride 2", 1, IN(N(2, 3, 9, 8)), f_max_pool_k3s2, {E(MAX_POOL2D), E(MAX_POOL2D_BACKWARD), END},
     TOL_MAP, true},
    {"max_pool2d 3x3 stride 1 pad 1", 1, IN(N(4, 8, 33, 33)), f_max_pool_k3s1p1,
     {E(MAX_POOL2D), E(MAX_POOL2D_BACKWARD), END}, TOL_MAP, true},
    // Pixel moves: the gather copies; the scatter adds repeated sources in the CPU's order.
    {"remap2d", 1, IN(N(3, 4, 9, 7)), f_remap, {E(REMAP2D), E(REMAP2D_ADJOINT), E(TANH), END}, TOL_MAP, true},
    {"allreduce_sum (2 processes)", 1, IN(N(3, 5)), f_allreduce, {E(ALLREDUCE_SUM), E(TANH), END}, TOL_MAP, true},
};

// Every op of op_list.h is run by some case: a new op without a comparison fails here.
static void test_coverage(void) {
    bool covered[AG_OP_COUNT] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int j = 0; j < 6 && cases[i].covers[j] != END; j++) covered[cases[i].covers[j]] = true;
    for (int op = 0; op < AG_OP_COUNT; op++)
        TEST_CHECK(covered[op], "op %d has no CPU-vs-CUDA case", op);
}

// --- whole training iterations -------------------------------------------------------------------

static void expect_params(const char *what, const ag_params *a, const ag_params *b, double tol) {
    for (int i = 0; i < a->count; i++) {
        char name[160];
        snprintf(name, sizeof name, "%s %s", what, a->items[i].name);
        expect_same(name, a->items[i].t, b->items[i].t, tol);
    }
}

// One DCGAN iteration (D step, G step, both Adam updates) from the same weights and data.
static void test_dcgan_iteration(void) {
    const gan_dcgan_shape s = {.resolution = 32, .nz = 16, .ngf = 8, .ndf = 8, .nc = 1};
    enum { B = 8 };
    float real[B * 32 * 32], z[B * 16];
    ag_philox_fill_uniform(real, B * 32 * 32, 3, 0, -1.0f, 1.0f);
    ag_philox_fill_normal(z, B * 16, 4, 0, 0.0f, 1.0f);
    gan_dcgan_g *g[2];
    gan_dcgan_d *d[2];
    gan_dcgan_step_stats st[2];
    ag_backend *be[2] = {cpu, gpu};
    for (int k = 0; k < 2; k++) {
        g[k] = gan_dcgan_g_create(be[k], s);
        d[k] = gan_dcgan_d_create(be[k], s);
        ag_rng rng = ag_rng_make(11);
        gan_dcgan_g_init(g[k], &rng);
        gan_dcgan_d_init(d[k], &rng);
        ag_adam *og = ag_adam_create(g[k]->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0);
        ag_adam *od = ag_adam_create(d[k]->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0);
        ag_ctx *c = ag_ctx_create(be[k]);
        gan_dcgan_step_opts o = {.d_steps = 1};
        gan_dcgan_train_step(c, g[k], d[k], og, od, &o, B, real, z, NULL, &st[k]);
        ag_ctx_free(c);
        ag_adam_free(og);
        ag_adam_free(od);
    }
    TEST_CLOSE(st[1].loss_d, st[0].loss_d, 1e-5, 1e-4, "DCGAN loss_d");
    TEST_CLOSE(st[1].loss_g, st[0].loss_g, 1e-5, 1e-4, "DCGAN loss_g");
    TEST_CLOSE(st[1].d_x, st[0].d_x, 1e-5, 1e-4, "DCGAN D(x)");
    // The gradients of the last steps (G's of the G step, D's of the D step) through four
    // batchnorms. After one Adam step a weight moves by about lr = 2e-4 whatever the gradient's
    // size, so the weights agree to rounding unless a gradient near zero changed sign.
    expect_same("DCGAN G gradients", g[0]->params->grads, g[1]->params->grads, 1e-4);
    expect_same("DCGAN D gradients", d[0]->params->grads, d[1]->params->grads, 1e-4);
    expect_params("DCGAN G after the step", g[0]->params, g[1]->params, 1e-2);
    expect_params("DCGAN D after the step", d[0]->params, d[1]->params, 1e-2);
    expect_params("DCGAN G running statistics", g[0]->buffers, g[1]->buffers, TOL_SUM);
    for (int k = 0; k < 2; k++) {
        gan_dcgan_g_free(g[k]);
        gan_dcgan_d_free(d[k]);
    }
}

// StyleGAN2 iterations 0..3 of a tiny model: R1 and path length each run twice (interval 2),
// through grad(create_graph) on the GPU.
static void test_stylegan2_iterations(void) {
    const gan_sg2_shape s = sg2_tiny_shape();
    const gan_sg2_train_opts o = sg2_tiny_opts();
    ag_backend *be[2] = {cpu, gpu};
    gan_sg2_model *m[2];
    float loss[2][4][2];
    bool ran_r1 = false, ran_pl = false;
    for (int k = 0; k < 2; k++) {
        ag_rng rng = ag_rng_make(5), init = ag_rng_fork(&rng);
        m[k] = gan_sg2_model_create(be[k], s, &o, &init);
        ag_ctx *c = ag_ctx_create(be[k]);
        float real[4 * 16 * 16];
        for (int it = 0; it < 4; it++) {
            ag_philox_fill_uniform(real, 4 * 16 * 16, 9, (uint64_t)it * 256, -1.0f, 1.0f);
            gan_sg2_step_stats st;
            gan_sg2_train_step(c, m[k], &o, it, real, &rng, &st);
            loss[k][it][0] = st.loss_d;
            loss[k][it][1] = st.loss_g;
            ran_r1 |= st.ran_r1;
            ran_pl |= st.ran_pl;
        }
        ag_ctx_free(c);
    }
    TEST_CHECK(ran_r1 && ran_pl, "R1 and path length ran");
    for (int it = 0; it < 4; it++) {
        char what[64];
        snprintf(what, sizeof what, "StyleGAN2 iteration %d loss_d", it);
        TEST_CLOSE(loss[1][it][0], loss[0][it][0], 1e-4, 1e-3, what);
        snprintf(what, sizeof what, "StyleGAN2 iteration %d loss_g", it);
        TEST_CLOSE(loss[1][it][1], loss[0][it][1], 1e-4, 1e-3, what);
    }
    // The last phase's gradients, then the weights after four Adam steps of lr 0.0025 (a sign
    // flip of a near-zero gradient moves a weight by up to 2 * lr).
    expect_same("StyleGAN2 G gradients", m[0]->g->params->grads, m[1]->g->params->grads, 1e-3);
    expect_same("StyleGAN2 D gradients", m[0]->d->params->grads, m[1]->d->params->grads, 1e-3);
    expect_params("StyleGAN2 G", m[0]->g->params, m[1]->g->params, 1e-2);
    expect_params("StyleGAN2 D", m[0]->d->params, m[1]->d->params, 1e-2);
    gan_sg2_model_free(m[0]);
    gan_sg2_model_free(m[1]);
}

int main(void) {
    char why[256];
    if (!ag_backend_is_built("cuda")) {
        printf("skipped: this build has no CUDA backend (built: %s)\n", ag_backend_names());
        return TEST_SKIP;
    }
    if (!(gpu = ag_backend_open("cuda", why, sizeof why))) {
        printf("skipped: %s\n", why);
        return TEST_SKIP;
    }
    cpu = ag_backend_open("cpu", why, sizeof why);
    test_coverage();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) compare_case(&cases[i]);
    test_dcgan_iteration();
    test_stylegan2_iterations();
    ag_backend_close(cpu);
    ag_backend_close(gpu);
    return test_finish();
}
