// Per-sample pixel moves by an integer map (ops/remap.c): the gather remap2d and the scatter-add
// remap2d_adjoint, one OpenMP iteration per image plane, so the adjoint adds each output's
// contributions in map order on any thread count. cuda/remap.cu does the same per plane.
#include "check.h"
#include "cpu.h"

// The source offset of map entry v in a plane of `size` pixels, or -1 for zero fill.
static inline int64_t map_at(float v, int64_t size, const char *op) {
    if (v < 0) return -1;
    AG_CHECK(v < (float)size && v == (float)(int64_t)v, "%s: map value %g is no pixel of a %lld-pixel plane", op,
             (double)v, (long long)size);
    return (int64_t)v;
}

void cpu_remap2d(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0], *M = node->src[1];
    const int64_t N = X->shape.d[0], C = X->shape.d[1], HW = (int64_t)X->shape.d[2] * X->shape.d[3];
    const float *x = X->data, *map = M->data;
    float *out = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < N * C; pl++) {
        const float *mp = map + (pl / C) * HW, *xp = x + pl * HW;
        float *op = out + pl * HW;
        for (int64_t p = 0; p < HW; p++) {
            const int64_t s = map_at(mp[p], HW, "remap2d");
            op[p] = s < 0 ? 0.0f : xp[s];
        }
    }
}

void cpu_remap2d_adjoint(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *G = node->src[0], *M = node->src[1];
    const int64_t N = G->shape.d[0], C = G->shape.d[1], HW = (int64_t)G->shape.d[2] * G->shape.d[3];
    const float *g = G->data, *map = M->data;
    float *dx = node->out->data;
#pragma omp parallel for schedule(static) if (G->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < N * C; pl++) {
        const float *mp = map + (pl / C) * HW, *gp = g + pl * HW;
        float *dp = dx + pl * HW;
        memset(dp, 0, (size_t)HW * sizeof *dp);
        for (int64_t p = 0; p < HW; p++) {
            const int64_t s = map_at(mp[p], HW, "remap2d_adjoint");
            if (s >= 0) dp[s] += gp[p];
        }
    }
}
