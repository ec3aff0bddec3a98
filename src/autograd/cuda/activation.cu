// Activations and their fused gradients, as cpu/activation.c: one thread per element in
// grid-stride loops, each computing the CPU's expression with its operations in the same order
// (no contraction: --fmad=false). tanhf, expf and log1pf are CUDA's, within their documented
// ulps of glibc's.
#include "cuda_backend.h"

namespace {

template <class F>
__global__ void map1_kernel(const float *in, float *out, int64_t n, F f) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = f(in[i]);
}

// out[i] = f(g[i], v[i]): g the upstream gradient, v the op's input or output.
template <class F>
__global__ void map2_kernel(const float *g, const float *v, float *out, int64_t n, F f) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = f(g[i], v[i]);
}

template <class F>
void launch_map1(ag_ctx *c, const ag_node *node, F f) {
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    map1_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(node->src[0]->data, node->out->data, n, f);
    CUDA_CHECK_LAUNCH();
}

template <class F>
void launch_map2(ag_ctx *c, const ag_node *node, F f) {
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    map2_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(node->src[0]->data, node->src[1]->data,
                                                                     node->out->data, n, f);
    CUDA_CHECK_LAUNCH();
}

// x > 0 ? x : x * slope: a NaN takes the second arm and stays NaN, as torch.
struct leaky_relu_op {
    float slope;
    __device__ float operator()(float x) const { return x > 0.0f ? x : x * slope; }
};
struct leaky_relu_grad_op {
    float slope;
    __device__ float operator()(float g, float x) const { return x > 0.0f ? g : g * slope; }
};
struct tanh_op { __device__ float operator()(float x) const { return tanhf(x); } };
struct tanh_grad_op { __device__ float operator()(float g, float y) const { return g * (1.0f - y * y); } };
struct sigmoid_op { __device__ float operator()(float x) const { return 1.0f / (1.0f + expf(-x)); } };
struct sigmoid_grad_op { __device__ float operator()(float g, float y) const { return g * y * (1.0f - y); } };
// torch.nn.functional.softplus with beta 1, threshold 20.
struct softplus_op { __device__ float operator()(float x) const { return x > 20.0f ? x : log1pf(expf(x)); } };

// g * gain where y > 0, (g * gain) * slope elsewhere: the scale's gradient, then the leaky
// ReLU's, in that order.
struct bias_act_grad_op {
    float slope, gain;
    __device__ float operator()(float g, float y) const {
        const float s = g * gain;
        return y > 0.0f ? s : s * slope;
    }
};

// y = leaky_relu(x + b[channel], slope) * gain for x (N, C, inner): the add, the select and the
// scale rounded one after another, as the three separate ops do.
__global__ void bias_act_kernel(const float *x, const float *b, float *y, int64_t n, int64_t C, int64_t inner,
                                float slope, float gain) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const float t = x[i] + b[(i / inner) % C];
        y[i] = (t > 0.0f ? t : t * slope) * gain;
    }
}

// demod_bias_act for x (N, C, inner): x d[plane], plus noise * strength (nz NULL: none; one
// image per sample where noise_step is inner, one for all where it is 0), plus b[channel], then
// bias_act's select and gain. The _rn intrinsics keep nvcc from contracting into FMAs, so each
// step rounds as the CPU's separate ops do.
__global__ void demod_bias_act_kernel(const float *x, const float *b, const float *d, const float *nz,
                                      const float *strength, float *y, int64_t n, int64_t C, int64_t inner,
                                      int64_t noise_step, float slope, float gain) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t plane = i / inner;
        float t = __fmul_rn(x[i], d[plane]);
        if (nz) t = __fadd_rn(t, __fmul_rn(nz[(plane / C) * noise_step + i % inner], *strength));
        t = __fadd_rn(t, b[plane % C]);
        y[i] = __fmul_rn(t > 0.0f ? t : __fmul_rn(t, slope), gain);
    }
}

}  // namespace

extern "C" void cuda_leaky_relu(ag_ctx *c, const ag_node *node) {
    launch_map1(c, node, leaky_relu_op{node->p.act.slope});
}
extern "C" void cuda_leaky_relu_grad(ag_ctx *c, const ag_node *node) {
    launch_map2(c, node, leaky_relu_grad_op{node->p.act.slope});
}
extern "C" void cuda_tanh(ag_ctx *c, const ag_node *node) { launch_map1(c, node, tanh_op{}); }
extern "C" void cuda_tanh_grad(ag_ctx *c, const ag_node *node) { launch_map2(c, node, tanh_grad_op{}); }
extern "C" void cuda_sigmoid(ag_ctx *c, const ag_node *node) { launch_map1(c, node, sigmoid_op{}); }
extern "C" void cuda_sigmoid_grad(ag_ctx *c, const ag_node *node) { launch_map2(c, node, sigmoid_grad_op{}); }
extern "C" void cuda_softplus(ag_ctx *c, const ag_node *node) { launch_map1(c, node, softplus_op{}); }

extern "C" void cuda_bias_act(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t n = X->numel, C = X->shape.d[1], planes = X->shape.d[0] * C;
    if (n <= 0) return;
    bias_act_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(
        X->data, node->src[1]->data, node->out->data, n, C, n / planes, node->p.act.slope, node->p.act.gain);
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_bias_act_grad(ag_ctx *c, const ag_node *node) {
    launch_map2(c, node, bias_act_grad_op{node->p.act.slope, node->p.act.gain});
}

extern "C" void cuda_demod_bias_act(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *noise = node->nsrc == 5 ? node->src[3] : NULL;
    const int64_t n = X->numel, C = X->shape.d[1], planes = X->shape.d[0] * C;
    if (n <= 0) return;
    const int64_t inner = n / planes, noise_step = noise && noise->shape.d[0] > 1 ? inner : 0;
    demod_bias_act_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(
        X->data, node->src[1]->data, node->src[2]->data, noise ? noise->data : nullptr,
        noise ? node->src[4]->data : nullptr, node->out->data, n,
        C, inner, noise_step, node->p.act.slope, node->p.act.gain);
    CUDA_CHECK_LAUNCH();
}
