// log_softmax, cross_entropy and max_pool2d: values against formulas computed here in double
// (stable for large offsets; NaN, infinities, ties and padding as torch's CPU kernels give them),
// finite-difference gradients and gradients of gradients, the targets' missing gradient, and
// pooling's backward on 1 and 2 threads, bit for bit.
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

static float *to_host(const ag_tensor *t) {
    float *h = malloc((size_t)t->numel * sizeof *h);
    ag_tensor_to_host(t, h);
    return h;
}

// A persistent leaf requiring grad with the given values.
static ag_tensor *input_of(ag_shape s, const float *values) {
    ag_tensor *t = ag_tensor_create(test_backend(), s);
    ag_tensor_from_host(t, values);
    return ag_requires_grad(t, true);
}

// Equal as torch compares in assert_close(equal_nan=True): both NaN, or both the same
// infinity, or close.
static bool same_value(double a, double b, double tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= tol + tol * fabs(b);
}

// --- log_softmax ----------------------------------------------------------------------------------

static ag_tensor *f_log_softmax(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_log_softmax(c, in[0]);
}

// Rows with offsets of +-1000 (exp of the raw values would overflow or vanish), and the
// non-finite rows torch.log_softmax gives: -inf stays -inf beside finite values; a row of -inf,
// a +inf or a NaN makes the row NaN.
static void test_log_softmax_values(void) {
    enum { N = 7, K = 5 };
    float x[N][K];
    ag_philox_fill_normal(&x[0][0], N * K, 3, 0, 0.0f, 2.0f);
    for (int k = 0; k < K; k++) x[1][k] += 1000.0f, x[2][k] -= 1000.0f;
    x[3][2] = -INFINITY;
    for (int k = 0; k < K; k++) x[4][k] = -INFINITY;
    x[5][1] = INFINITY;
    x[6][4] = NAN;
    ag_ctx *c = ag_ctx_create(test_backend());
    float *y = to_host(ag_log_softmax(c, ag_from_host(c, AG_SHAPE(N, K), &x[0][0])));
    int bad = 0;
    for (int r = 0; r < N; r++) {
        double m = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++) m = x[r][k] > m ? x[r][k] : m;
        for (int k = 0; k < K; k++) sum += exp((double)x[r][k] - m);
        double row_sum = 0.0;
        for (int k = 0; k < K; k++) {
            double ref = r >= 4 ? NAN : (double)x[r][k] - m - log(sum);
            bad += !same_value(y[r * K + k], ref, 1e-6);
            row_sum += exp((double)y[r * K + k]);
        }
        if (r < 4) TEST_CLOSE(row_sum, 1.0, 1e-6, 0.0, "log_softmax: sum of exp over a row");
    }
    TEST_CHECK(bad == 0, "log_softmax: %d of %d values differ from the formula", bad, N * K);
    free(y);
    ag_ctx_free(c);
    printf("%-36s done\n", "log_softmax values");
}

static void test_log_softmax_gradients(void) {
    ag_tensor *in[1] = {gc_input(AG_SHAPE(4, 6), 11, 1.5f, 0.3f)};
    int fails = gc_check("log_softmax", f_log_softmax, 1, in, NULL, (gc_opts){0});
    printf("%-36s %s\n", "log_softmax: grad, gradgrad", fails ? "FAIL" : "ok");
    gc_free_inputs(1, in);
    // One class: the output is 0 whatever x, and so is the gradient.
    ag_tensor *one[1] = {gc_input(AG_SHAPE(3, 1), 12, 1.0f, 0.0f)};
    fails = gc_check("log_softmax K=1", f_log_softmax, 1, one, NULL, (gc_opts){0});
    printf("%-36s %s\n", "log_softmax K=1: grad, gradgrad", fails ? "FAIL" : "ok");
    gc_free_inputs(1, one);
}

// --- cross_entropy --------------------------------------------------------------------------------

static ag_tensor *f_cross_entropy(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_cross_entropy(c, in[0], in[1]);
}

// Soft targets: each row a softmax of random numbers.
static void soft_targets(float *t, int N, int K, uint64_t seed) {
    ag_philox_fill_normal(t, N * K, seed, 0, 0.0f, 1.0f);
    for (int r = 0; r < N; r++) {
        double s = 0.0;
        for (int k = 0; k < K; k++) s += exp(t[r * K + k]);
        for (int k = 0; k < K; k++) t[r * K + k] = (float)(exp(t[r * K + k]) / s);
    }
}

// The loss against -mean_r sum_k t log_softmax(x) in double, with soft and one-hot targets
// (for one-hot ones, -mean_r log_softmax(x)[r, label r]: torch's class-index form).
static void test_cross_entropy_values(void) {
    enum { N = 5, K = 4 };
    float x[N * K], soft[N * K], onehot[N * K] = {0};
    const int label[N] = {2, 0, 3, 3, 1};
    ag_philox_fill_normal(x, N * K, 21, 0, 0.0f, 3.0f);
    soft_targets(soft, N, K, 22);
    for (int r = 0; r < N; r++) onehot[r * K + label[r]] = 1.0f;
    double ref_soft = 0.0, ref_label = 0.0;
    for (int r = 0; r < N; r++) {
        double m = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++) m = fmax(m, x[r * K + k]);
        for (int k = 0; k < K; k++) sum += exp(x[r * K + k] - m);
        for (int k = 0; k < K; k++) ref_soft -= soft[r * K + k] * (x[r * K + k] - m - log(sum)) / N;
        ref_label -= (x[r * K + label[r]] - m - log(sum)) / N;
    }
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *logits = ag_from_host(c, AG_SHAPE(N, K), x);
    ag_tensor *ls = ag_cross_entropy(c, logits, ag_from_host(c, AG_SHAPE(N, K), soft));
    ag_tensor *ll = ag_cross_entropy(c, logits, ag_from_host(c, AG_SHAPE(N, K), onehot));
    TEST_CHECK(ls->shape.ndim == 1 && ls->shape.d[0] == 1, "cross_entropy: shape %s, expected (1)",
               AG_SHAPE_STR(ls->shape));
    TEST_CLOSE(ag_item(ls), ref_soft, 1e-6, 1e-6, "cross_entropy, soft targets");
    TEST_CLOSE(ag_item(ll), ref_label, 1e-6, 1e-6, "cross_entropy, one-hot targets");
    ag_ctx_free(c);
    printf("%-36s done\n", "cross_entropy values");
}

static void test_cross_entropy_gradients(void) {
    enum { N = 3, K = 5 };
    float t[N * K];
    soft_targets(t, N, K, 31);
    ag_tensor *in[2] = {gc_input(AG_SHAPE(N, K), 32, 2.0f, 0.0f), input_of(AG_SHAPE(N, K), t)};
    int fails = gc_check("cross_entropy", f_cross_entropy, 2, in, NULL, (gc_opts){.skip_input = 2});
    printf("%-36s %s\n", "cross_entropy: grad, gradgrad", fails ? "FAIL" : "ok");

    // The targets require grad here, yet get none: no path leads to them.
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_backward(c, f_cross_entropy(c, in, NULL));
    TEST_CHECK(in[0]->grad != NULL, "cross_entropy: the logits got no gradient");
    TEST_CHECK(in[1]->grad == NULL, "cross_entropy: the targets got a gradient");
    ag_ctx_free(c);
    gc_free_inputs(2, in);
}

// --- max_pool2d -----------------------------------------------------------------------------------

typedef struct {
    int kernel, stride, pad;
} pool_args;

static ag_tensor *f_max_pool(ag_ctx *c, ag_tensor **in, void *u) {
    const pool_args *a = u;
    return ag_max_pool2d(c, in[0], a->kernel, a->stride, a->pad);
}

// The pooled value of one window, written from the definition: the largest of the window's
// inputs (padding excluded), NaN when one of them is NaN.
static double ref_window_max(const float *plane, int H, int W, int oh, int ow, pool_args a) {
    double m = -INFINITY;
    for (int i = 0; i < a.kernel; i++)
        for (int j = 0; j < a.kernel; j++) {
            int h = oh * a.stride - a.pad + i, w = ow * a.stride - a.pad + j;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            double v = plane[h * W + w];
            if (isnan(v)) return NAN;
            m = v > m ? v : m;
        }
    return m;
}

static const pool_args pool_cases[] = {
    {3, 2, 0},  // InceptionV3's stem and reduction blocks
    {3, 1, 1},  // InceptionV3's pooling branches
    {2, 2, 0}, {3, 2, 1}, {2, 1, 1}, {1, 2, 0}, {4, 3, 2},
};
#define NPOOL ((int)(sizeof pool_cases / sizeof pool_cases[0]))

// Every case on a 9x8 and a 6x7 input (odd and even sizes, remainders dropped by the floor).
static void test_max_pool_values(void) {
    const int sizes[2][2] = {{9, 8}, {6, 7}};
    ag_ctx *c = ag_ctx_create(test_backend());
    for (int k = 0; k < NPOOL; k++)
        for (int s = 0; s < 2; s++) {
            const pool_args a = pool_cases[k];
            const int N = 2, C = 3, H = sizes[s][0], W = sizes[s][1];
            const int Ho = (H + 2 * a.pad - a.kernel) / a.stride + 1, Wo = (W + 2 * a.pad - a.kernel) / a.stride + 1;
            float *x = malloc((size_t)N * C * H * W * sizeof *x);
            ag_philox_fill_normal(x, N * C * H * W, 40 + (uint64_t)k, 0, 0.0f, 1.0f);
            ag_tensor *y = ag_max_pool2d(c, ag_from_host(c, AG_SHAPE(N, C, H, W), x), a.kernel, a.stride, a.pad);
            TEST_CHECK(ag_shape_equal(y->shape, AG_SHAPE(N, C, Ho, Wo)), "max_pool2d k%d s%d p%d: shape %s",
                       a.kernel, a.stride, a.pad, AG_SHAPE_STR(y->shape));
            float *yh = to_host(y);
            int bad = 0;
            for (int pl = 0; pl < N * C; pl++)
                for (int oh = 0; oh < Ho; oh++)
                    for (int ow = 0; ow < Wo; ow++)
                        bad += yh[(pl * Ho + oh) * Wo + ow] != ref_window_max(x + pl * H * W, H, W, oh, ow, a);
            TEST_CHECK(bad == 0, "max_pool2d k%d s%d p%d on %dx%d: %d values differ", a.kernel, a.stride, a.pad, H, W,
                       bad);
            free(x), free(yh);
            ag_ctx_reset(c);
        }
    ag_ctx_free(c);
    printf("%-36s done\n", "max_pool2d values");
}

// The input gradient for an upstream gradient of ones, or of `g` when given.
static float *pool_grad(const float *x, ag_shape s, pool_args a, const float *g, float *y_out) {
    ag_tensor *in = input_of(s, x);
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *y = ag_max_pool2d(c, in, a.kernel, a.stride, a.pad);
    if (y_out) ag_tensor_to_host(y, y_out);
    ag_tensor *gy = g ? ag_from_host(c, y->shape, g) : ag_ones(c, y->shape), *gx;
    ag_grad(c, 1, &y, &gy, 1, &in, false, &gx);
    float *h = to_host(gx);
    ag_ctx_free(c);
    ag_tensor_free(in);
    return h;
}

static bool equal_floats(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (!(a[i] == b[i])) return false;
    return true;
}

// Where the gradient goes, as torch's CPU kernel sends it (checked with torch 1.13).
static void test_max_pool_ties_nan_padding(void) {
    // Ties: the first maximum in row-major window order (the 3 at (0, 1)).
    const float tie[9] = {1, 3, 3, 3, 0, 3, 1, 2, 3};
    const float tie_grad[9] = {0, 1, 0, 0, 0, 0, 0, 0, 0};
    float *g = pool_grad(tie, AG_SHAPE(1, 1, 3, 3), (pool_args){3, 1, 0}, NULL, NULL);
    TEST_CHECK(equal_floats(g, tie_grad, 9), "max_pool2d: a tie's gradient does not go to the first maximum");
    free(g);

    // A constant plane, overlapping windows: each window's first position.
    float flat[16];
    for (int i = 0; i < 16; i++) flat[i] = 0.5f;
    const float flat_grad[16] = {1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0};
    g = pool_grad(flat, AG_SHAPE(1, 1, 4, 4), (pool_args){2, 1, 0}, NULL, NULL);
    TEST_CHECK(equal_floats(g, flat_grad, 16), "max_pool2d: ties in a constant plane go elsewhere");
    free(g);

    // NaN wins and propagates; with two NaNs the last one takes the gradient (torch's
    // `val > max || isnan(val)` scan).
    const float two_nan[4] = {3, NAN, NAN, 4};
    const float two_nan_grad[4] = {0, 0, 1, 0};
    float y[9];
    g = pool_grad(two_nan, AG_SHAPE(1, 1, 2, 2), (pool_args){2, 2, 0}, NULL, y);
    TEST_CHECK(isnan(y[0]), "max_pool2d: a window with NaN gives %g", y[0]);
    TEST_CHECK(equal_floats(g, two_nan_grad, 4), "max_pool2d: NaN's gradient does not go to the last NaN");
    free(g);
    // A NaN before a larger value still wins: the window's output stays NaN.
    const float nan_then_big[4] = {NAN, 1, 5, 0};
    g = pool_grad(nan_then_big, AG_SHAPE(1, 1, 2, 2), (pool_args){2, 1, 0}, NULL, y);
    TEST_CHECK(isnan(y[0]) && g[0] == 1.0f && g[2] == 0.0f, "max_pool2d: NaN followed by 5 gives %g", y[0]);
    free(g);

    // Padding never wins, even against -inf: a window of -inf outputs -inf and sends the
    // gradient to its first input. 2x2 input, 2x2 windows, stride 1, pad 1: window (0, 0) holds
    // only input (0, 0); window (1, 1) the whole input.
    const float ninf[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const float ninf_grad[4] = {4, 2, 2, 1};
    g = pool_grad(ninf, AG_SHAPE(1, 1, 2, 2), (pool_args){2, 1, 1}, NULL, y);
    bool all_ninf = true;
    for (int i = 0; i < 9; i++) all_ninf &= y[i] == -INFINITY;
    TEST_CHECK(all_ninf, "max_pool2d: windows of -inf beside padding do not give -inf");
    TEST_CHECK(equal_floats(g, ninf_grad, 4), "max_pool2d: -inf windows' gradients go elsewhere");
    free(g);
    // Negative values beside padding: padding is not a zero.
    const float neg[4] = {-3, -2, -1, -4};
    g = pool_grad(neg, AG_SHAPE(1, 1, 2, 2), (pool_args){3, 2, 1}, NULL, y);
    TEST_CHECK(y[0] == -1.0f && g[2] == 1.0f, "max_pool2d: padding beat negative values (%g)", y[0]);
    free(g);
    printf("%-36s done\n", "max_pool2d ties, NaN, padding");
}

// Distinct values at least 0.05 apart in a random order, so a stencil of step 1e-2 (at most
// 2e-2 each way) never changes a window's maximum.
static ag_tensor *no_tie_input(ag_shape s, uint64_t seed) {
    const int64_t n = ag_shape_numel(s);
    float *v = malloc((size_t)n * sizeof *v), *key = malloc((size_t)n * sizeof *key);
    ag_philox_fill_uniform(key, n, seed, 0, 0.0f, 1.0f);
    for (int64_t i = 0; i < n; i++) v[i] = 0.05f * (float)(i - n / 2);
    for (int64_t i = n - 1; i > 0; i--) {  // Fisher-Yates with the drawn keys
        int64_t j = (int64_t)(key[i] * (float)(i + 1));
        j = j > i ? i : j;
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    ag_tensor *t = input_of(s, v);
    free(v), free(key);
    return t;
}

static void test_max_pool_gradients(void) {
    for (int k = 0; k < NPOOL; k++) {
        pool_args a = pool_cases[k];
        ag_tensor *in[1] = {no_tie_input(AG_SHAPE(2, 2, 7, 6), 50 + (uint64_t)k)};
        char name[64];
        snprintf(name, sizeof name, "max_pool2d k%d s%d p%d", a.kernel, a.stride, a.pad);
        int fails = gc_check(name, f_max_pool, 1, in, &a, (gc_opts){.kinks = true});
        printf("%-36s %s\n", name, fails ? "FAIL" : "ok");
        gc_free_inputs(1, in);
    }
}

// The backward adds overlapping windows' gradients in a fixed order: the same bits on 1 and 2
// threads, on a tensor big enough for the kernels to go parallel.
static void test_max_pool_threads(void) {
    ag_backend *be = test_backend();
    const ag_shape s = AG_SHAPE(4, 8, 33, 33);
    const pool_args a = {3, 1, 1};
    const int64_t n = ag_shape_numel(s);
    float *x = malloc((size_t)n * sizeof *x), *g = malloc((size_t)n * sizeof *g), *dx[2];
    ag_philox_fill_normal(x, n, 61, 0, 0.0f, 1.0f);
    ag_philox_fill_normal(g, n, 62, 0, 0.0f, 1.0f);  // (33 + 2 - 3) + 1 = 33: y has x's shape
    for (int t = 0; t < 2; t++) {
        ag_backend_set_threads(be, t + 1);
        dx[t] = pool_grad(x, s, a, g, NULL);
    }
    TEST_CHECK(!memcmp(dx[0], dx[1], (size_t)n * sizeof *x), "max_pool2d backward differs between 1 and 2 threads");
    free(x), free(g), free(dx[0]), free(dx[1]);
    printf("%-36s done\n", "max_pool2d 1 vs 2 threads");
}

int main(void) {
    test_log_softmax_values();
    test_log_softmax_gradients();
    test_cross_entropy_values();
    test_cross_entropy_gradients();
    test_max_pool_values();
    test_max_pool_ties_nan_padding();
    test_max_pool_gradients();
    test_max_pool_threads();
    return test_finish();
}
