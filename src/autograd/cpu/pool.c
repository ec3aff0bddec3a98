// Max pooling (ops/pool.c): the gather max_pool2d(v, x) and the scatter max_pool2d_backward(g, x)
// at each window's maximum of x, one OpenMP iteration per image plane. Both find the maximum
// with window_argmax, which cuda/pool.cu mirrors line for line.
#include <math.h>

#include "cpu.h"

// The plane offset of the maximum of x's window at output (oh, ow), as torch's CPU kernel picks
// it: the window is clipped to the plane (padding never wins), scanned in row-major order, and
// a value replaces the best so far when it is greater or NaN. So ties go to the first maximum,
// a NaN beats everything (the last NaN wins), and a window of -inf keeps its first position.
static inline int64_t window_argmax(const float *x, int H, int W, int oh, int ow, ag_pool_params p) {
    int h0 = oh * p.stride - p.pad, w0 = ow * p.stride - p.pad;
    const int h1 = h0 + p.kernel < H ? h0 + p.kernel : H, w1 = w0 + p.kernel < W ? w0 + p.kernel : W;
    h0 = h0 > 0 ? h0 : 0;
    w0 = w0 > 0 ? w0 : 0;
    int64_t best = (int64_t)h0 * W + w0;
    float m = -INFINITY;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            const float v = x[(int64_t)h * W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = (int64_t)h * W + w;
            }
        }
    return best;
}

// out (N, C, Ho, Wo) = v (N, C, H, W) at x's window maxima.
void cpu_max_pool2d(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *V = node->src[0], *X = node->src[1];
    const ag_pool_params p = node->p.pool;
    const int H = X->shape.d[2], W = X->shape.d[3], Ho = node->out->shape.d[2], Wo = node->out->shape.d[3];
    const int64_t planes = (int64_t)X->shape.d[0] * X->shape.d[1];
    const float *v = V->data, *x = X->data;
    float *out = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * H * W, *vp = v + pl * H * W;
        float *op = out + pl * Ho * Wo;
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) op[(int64_t)oh * Wo + ow] = vp[window_argmax(xp, H, W, oh, ow, p)];
    }
}

// dx (N, C, H, W): g (N, C, Ho, Wo) added at x's window maxima in output order, zero elsewhere.
void cpu_max_pool2d_backward(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *G = node->src[0], *X = node->src[1];
    const ag_pool_params p = node->p.pool;
    const int H = X->shape.d[2], W = X->shape.d[3], Ho = G->shape.d[2], Wo = G->shape.d[3];
    const int64_t planes = (int64_t)X->shape.d[0] * X->shape.d[1];
    const float *g = G->data, *x = X->data;
    float *dx = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * H * W, *gp = g + pl * Ho * Wo;
        float *dp = dx + pl * H * W;
        memset(dp, 0, (size_t)H * W * sizeof *dp);
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++) dp[window_argmax(xp, H, W, oh, ow, p)] += gp[(int64_t)oh * Wo + ow];
    }
}
