// 2x nearest upsampling and 2x2 sum pooling, one OpenMP task per image plane.
#include "cpu.h"

// (planes, H, W) -> (planes, 2H, 2W)
void cpu_upsample_nearest2x(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int H = X->shape.d[2], W = X->shape.d[3], Wo = 2 * W;
    const int64_t planes = (int64_t)X->shape.d[0] * X->shape.d[1];
    const float *x = X->data;
    float *out = node->out->data;
#pragma omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * H * W;
        float *op = out + pl * 4 * H * W;
        for (int i = 0; i < H; i++) {
            const float *src = xp + (int64_t)i * W;
            float *r0 = op + (int64_t)(2 * i) * Wo, *r1 = r0 + Wo;
            for (int j = 0; j < W; j++) r0[2 * j] = r0[2 * j + 1] = src[j];
            for (int j = 0; j < Wo; j++) r1[j] = r0[j];
        }
    }
}

// (planes, H, W) -> (planes, H/2, W/2), each output the sum of its 2x2 block.
void cpu_sum_pool2(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int H = X->shape.d[2], W = X->shape.d[3], Ho = H / 2, Wo = W / 2;
    const int64_t planes = (int64_t)X->shape.d[0] * X->shape.d[1];
    const float *x = X->data;
    float *out = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * H * W;
        float *op = out + pl * Ho * Wo;
        for (int i = 0; i < Ho; i++) {
            const float *r0 = xp + (int64_t)(2 * i) * W, *r1 = r0 + W;
            float *o = op + (int64_t)i * Wo;
            for (int j = 0; j < Wo; j++) o[j] = (r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]);
        }
    }
}
