// Elementwise kernels of cpu/elementwise.c: the binary ops with numpy broadcasting, the ops with
// a scalar argument, unary math. One thread per output element in grid-stride loops, each
// computing the CPU's expression for its element. Binary ops walk the CPU's broadcast plan
// (ag_bplan_make, built on the host and passed by value), so both backends read the same
// operand elements. Arithmetic rounds as the CPU's (IEEE division and sqrt, no contraction:
// --fmad=false); expf, logf and powf are CUDA's, within their documented ulps of glibc's.
#include "cuda_backend.h"

extern "C" {
#include "broadcast.h"
}

namespace {

// Offsets of both operands of output element i. The unrolled loop indexes the plan (a kernel
// parameter) with constants only, so it is read in place rather than copied per thread. Dim 0
// takes what is left of the index, without a division.
__device__ __forceinline__ void bplan_offsets(const ag_bplan &p, int64_t i, int64_t *off0, int64_t *off1) {
    int64_t a = 0, b = 0;
#pragma unroll
    for (int d = AG_MAX_DIMS - 1; d > 0; d--) {
        if (d < p.nd) {
            const int64_t k = i % p.n[d];
            i /= p.n[d];
            a += k * p.s[0][d];
            b += k * p.s[1][d];
        }
    }
    *off0 = a + i * p.s[0][0];
    *off1 = b + i * p.s[1][0];
}

template <class F>
__global__ void binary_kernel(ag_bplan p, const float *a, const float *b, float *out, int64_t n, F f) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t oa, ob;
        bplan_offsets(p, i, &oa, &ob);
        out[i] = f(a[oa], b[ob]);
    }
}

template <class F>
__global__ void unary_kernel(const float *in, float *out, int64_t n, F f) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = f(in[i]);
}

template <class F>
void launch_binary(ag_ctx *c, const ag_node *node, F f) {
    const ag_tensor *A = node->src[0], *B = node->src[1];
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    ag_shape in[2] = {A->shape, B->shape};
    ag_bplan p = ag_bplan_make(node->out->shape, 2, in);
    binary_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(p, A->data, B->data, node->out->data, n, f);
    CUDA_CHECK_LAUNCH();
}

template <class F>
void launch_unary(ag_ctx *c, const ag_node *node, F f) {
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    unary_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(node->src[0]->data, node->out->data, n, f);
    CUDA_CHECK_LAUNCH();
}

struct add_op { __device__ float operator()(float x, float y) const { return x + y; } };
struct sub_op { __device__ float operator()(float x, float y) const { return x - y; } };
struct mul_op { __device__ float operator()(float x, float y) const { return x * y; } };
struct div_op { __device__ float operator()(float x, float y) const { return x / y; } };

struct add_scalar_op {
    float v;
    __device__ float operator()(float x) const { return x + v; }
};
struct mul_scalar_op {
    float v;
    __device__ float operator()(float x) const { return x * v; }
};
// Exponent 2 is a plain product, as on the CPU (powf would round differently).
struct pow_scalar_op {
    float v;
    __device__ float operator()(float x) const { return v == 2.0f ? x * x : powf(x, v); }
};
// Comparisons, not fminf/fmaxf: a NaN compares false both times and stays NaN, as torch.clamp.
struct clamp_op {
    float lo, hi;
    __device__ float operator()(float x) const { return x < lo ? lo : (x > hi ? hi : x); }
};
struct in_range_op {
    float lo, hi;
    __device__ float operator()(float x) const { return (x >= lo && x <= hi) ? 1.0f : 0.0f; }
};
struct neg_op { __device__ float operator()(float x) const { return -x; } };
struct exp_op { __device__ float operator()(float x) const { return expf(x); } };
struct log_op { __device__ float operator()(float x) const { return logf(x); } };
struct sqrt_op { __device__ float operator()(float x) const { return sqrtf(x); } };
// A correctly rounded sqrt and division, as the CPU: rsqrtf is an approximation.
struct rsqrt_op { __device__ float operator()(float x) const { return 1.0f / sqrtf(x); } };
struct square_op { __device__ float operator()(float x) const { return x * x; } };
struct abs_op { __device__ float operator()(float x) const { return fabsf(x); } };
struct sign_op { __device__ float operator()(float x) const { return (float)((x > 0.0f) - (x < 0.0f)); } };

}  // namespace

extern "C" void cuda_add(ag_ctx *c, const ag_node *node) { launch_binary(c, node, add_op{}); }
extern "C" void cuda_sub(ag_ctx *c, const ag_node *node) { launch_binary(c, node, sub_op{}); }
extern "C" void cuda_mul(ag_ctx *c, const ag_node *node) { launch_binary(c, node, mul_op{}); }
extern "C" void cuda_div(ag_ctx *c, const ag_node *node) { launch_binary(c, node, div_op{}); }

extern "C" void cuda_add_scalar(ag_ctx *c, const ag_node *node) {
    launch_unary(c, node, add_scalar_op{node->p.scalar.value});
}
extern "C" void cuda_mul_scalar(ag_ctx *c, const ag_node *node) {
    launch_unary(c, node, mul_scalar_op{node->p.scalar.value});
}
extern "C" void cuda_pow_scalar(ag_ctx *c, const ag_node *node) {
    launch_unary(c, node, pow_scalar_op{node->p.scalar.value});
}
extern "C" void cuda_clamp(ag_ctx *c, const ag_node *node) {
    launch_unary(c, node, clamp_op{node->p.range.lo, node->p.range.hi});
}
extern "C" void cuda_in_range(ag_ctx *c, const ag_node *node) {
    launch_unary(c, node, in_range_op{node->p.range.lo, node->p.range.hi});
}
extern "C" void cuda_neg(ag_ctx *c, const ag_node *node) { launch_unary(c, node, neg_op{}); }
extern "C" void cuda_exp(ag_ctx *c, const ag_node *node) { launch_unary(c, node, exp_op{}); }
extern "C" void cuda_log(ag_ctx *c, const ag_node *node) { launch_unary(c, node, log_op{}); }
extern "C" void cuda_sqrt(ag_ctx *c, const ag_node *node) { launch_unary(c, node, sqrt_op{}); }
extern "C" void cuda_rsqrt(ag_ctx *c, const ag_node *node) { launch_unary(c, node, rsqrt_op{}); }
extern "C" void cuda_square(ag_ctx *c, const ag_node *node) { launch_unary(c, node, square_op{}); }
extern "C" void cuda_abs(ag_ctx *c, const ag_node *node) { launch_unary(c, node, abs_op{}); }
extern "C" void cuda_sign(ag_ctx *c, const ag_node *node) { launch_unary(c, node, sign_op{}); }
