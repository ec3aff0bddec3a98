// Losses, as cpu/loss.c: binary cross-entropy elementwise, one thread per element in a
// grid-stride loop with the CPU's operations in the same order. logf is CUDA's, within its
// documented ulp of glibc's.
#include "cuda_backend.h"

namespace {

// -(y log p + (1 - y) log(1 - p)), logs clamped at -100 as torch.nn.BCELoss does. The clamp is
// a comparison so that a NaN probability gives a NaN loss (fmaxf would hide a diverged network).
__global__ void bce_kernel(const float *p, const float *y, float *out, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float lp = logf(p[i]), l1p = logf(1.0f - p[i]);
        if (lp < -100.0f) lp = -100.0f;
        if (l1p < -100.0f) l1p = -100.0f;
        out[i] = -(y[i] * lp + (1.0f - y[i]) * l1p);
    }
}

}  // namespace

extern "C" void cuda_bce(ag_ctx *c, const ag_node *node) {
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    bce_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(node->src[0]->data, node->src[1]->data,
                                                                    node->out->data, n);
    CUDA_CHECK_LAUNCH();
}
