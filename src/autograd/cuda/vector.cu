// Whole-block loops of the CUDA backend's entry points: fill, axpy, the optimizer updates and
// the EMA lerp, one thread per element in grid-stride loops. The arithmetic is the CPU's
// (cpu/backend.c), operation for operation, so a step on either backend rounds the same way;
// fused multiply-adds are off in this file (--fmad=false) for the same reason.
#include "cuda_backend.h"

__global__ void fill_kernel(float *dst, int64_t n, float value) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = value;
}

__global__ void axpy_kernel(float *y, const float *x, int64_t n, float a) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        y[i] += a * x[i];
}

// torch.optim.Adam (non-fused, amsgrad off): denom = sqrt(v) / sqrt(bc2) + eps;
// w -= lr / bc1 * m / denom.
__global__ void adam_kernel(float *w, const float *g, float *m, float *v, int64_t n, float b1, float b2, float step,
                            float eps, float wd, float bc2_sqrt) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float gi = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        float mi = m[i] * b1 + (1.0f - b1) * gi;
        float vi = v[i] * b2 + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        w[i] -= step * (mi / denom);
    }
}

__global__ void sgd_kernel(float *w, const float *g, float *buf, int64_t n, float lr, float momentum, float dampening,
                           float wd, int nesterov, int first_step) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float d = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        if (momentum != 0.0f) {
            buf[i] = first_step ? d : momentum * buf[i] + (1.0f - dampening) * d;
            d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        w[i] -= lr * d;
    }
}

__global__ void lerp_kernel(float *ema, const float *w, int64_t n, float beta) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        ema[i] = w[i] + beta * (ema[i] - w[i]);
}

extern "C" void cuda_launch_fill(cudaStream_t stream, float *dst, int64_t n, float value) {
    if (n <= 0) return;
    fill_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(dst, n, value);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_launch_axpy(cudaStream_t stream, float *y, const float *x, int64_t n, float a) {
    if (n <= 0) return;
    axpy_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(y, x, n, a);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_launch_adam(cudaStream_t stream, float *w, const float *g, float *m, float *v, int64_t n,
                                 float beta1, float beta2, float step, float eps, float weight_decay,
                                 float bc2_sqrt) {
    if (n <= 0) return;
    adam_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(w, g, m, v, n, beta1, beta2, step, eps, weight_decay,
                                                             bc2_sqrt);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_launch_sgd(cudaStream_t stream, float *w, const float *g, float *buf, int64_t n, float lr,
                                float momentum, float dampening, float weight_decay, int nesterov, int first_step) {
    if (n <= 0) return;
    sgd_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(w, g, buf, n, lr, momentum, dampening, weight_decay,
                                                            nesterov, first_step);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_launch_lerp(cudaStream_t stream, float *ema, const float *w, int64_t n, float beta) {
    if (n <= 0) return;
    lerp_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(ema, w, n, beta);
    CUDA_CHECK_LAUNCH();
}
