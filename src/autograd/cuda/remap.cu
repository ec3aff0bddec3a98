// Per-sample pixel moves by an integer map, as cpu/remap.c: the gather remap2d one thread per
// output element; the scatter-add remap2d_adjoint without atomics, one thread per image plane
// walking the map in order, so it adds in the CPU's order and both backends give the same bits.
// (A plane per thread is slow for big batches of big images; the maps augmentation draws are
// one-to-one or nearly, so a gather through an inverse map would be the faster design.) A map
// value that is no pixel of the plane reads as zero fill here; the CPU kernel aborts on it.
#include "cuda_backend.h"

namespace {

__device__ __forceinline__ int64_t map_at(float v, int64_t size) {
    return v < 0.0f || v >= (float)size ? -1 : (int64_t)v;
}

// out (N, C, HW) = x at map (N, HW); n = N * C * HW.
__global__ void remap2d_kernel(const float *x, const float *map, float *out, int64_t n, int64_t C, int64_t HW) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t pl = i / HW, p = i % HW;
        const int64_t s = map_at(map[(pl / C) * HW + p], HW);
        out[i] = s < 0 ? 0.0f : x[pl * HW + s];
    }
}

// dx (N, C, HW): g added at map, one thread per plane; planes = N * C.
__global__ void remap2d_adjoint_kernel(const float *g, const float *map, float *dx, int64_t planes, int64_t C,
                                       int64_t HW) {
    for (int64_t pl = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; pl < planes;
         pl += (int64_t)gridDim.x * blockDim.x) {
        const float *mp = map + (pl / C) * HW, *gp = g + pl * HW;
        float *dp = dx + pl * HW;
        for (int64_t p = 0; p < HW; p++) dp[p] = 0.0f;
        for (int64_t p = 0; p < HW; p++) {
            const int64_t s = map_at(mp[p], HW);
            if (s >= 0) dp[s] += gp[p];
        }
    }
}

}  // namespace

extern "C" void cuda_remap2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t n = node->out->numel, HW = (int64_t)X->shape.d[2] * X->shape.d[3];
    if (n <= 0) return;
    remap2d_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(X->data, node->src[1]->data, node->out->data,
                                                                        n, X->shape.d[1], HW);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_remap2d_adjoint(ag_ctx *c, const ag_node *node) {
    const ag_tensor *G = node->src[0];
    const int64_t planes = (int64_t)G->shape.d[0] * G->shape.d[1], HW = (int64_t)G->shape.d[2] * G->shape.d[3];
    if (planes <= 0 || HW <= 0) return;
    remap2d_adjoint_kernel<<<cuda_blocks(planes), CUDA_THREADS, 0, cuda_stream(c)>>>(
        G->data, node->src[1]->data, node->out->data, planes, G->shape.d[1], HW);
    CUDA_CHECK_LAUNCH();
}
