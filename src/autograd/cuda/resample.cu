// 2x nearest upsampling and 2x2 sum pooling of (N, C, H, W) images, as cpu/resample.c: one
// thread per output element in grid-stride loops. Pooling adds each block as the CPU does,
// (top-left + top-right) + (bottom-left + bottom-right), so both backends round alike.
#include "cuda_backend.h"

namespace {

// x (planes, H, W) -> out (planes, 2H, 2W): each output reads the input pixel it copies.
__global__ void upsample_nearest2x_kernel(const float *x, float *out, int64_t n, int H, int W) {
    const int Ho = 2 * H, Wo = 2 * W;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / Wo, pl = row / Ho;
        const int oi = (int)(row % Ho), oj = (int)(i % Wo);
        out[i] = x[(pl * H + oi / 2) * W + oj / 2];
    }
}

// x (planes, H, W) -> out (planes, H/2, W/2), H and W even.
__global__ void sum_pool2_kernel(const float *x, float *out, int64_t n, int H, int W) {
    const int Ho = H / 2, Wo = W / 2;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / Wo, pl = row / Ho;
        const int oi = (int)(row % Ho), oj = (int)(i % Wo);
        const float *r0 = x + (pl * H + 2 * oi) * W + 2 * oj, *r1 = r0 + W;
        out[i] = (r0[0] + r0[1]) + (r1[0] + r1[1]);
    }
}

}  // namespace

extern "C" void cuda_upsample_nearest2x(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    upsample_nearest2x_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(X->data, node->out->data, n,
                                                                                   X->shape.d[2], X->shape.d[3]);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_sum_pool2(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    sum_pool2_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(X->data, node->out->data, n, X->shape.d[2],
                                                                          X->shape.d[3]);
    CUDA_CHECK_LAUNCH();
}
