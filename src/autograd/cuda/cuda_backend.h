// The CUDA backend's shared header, for its C files (backend.c) and its CUDA files (one per op
// family, the same basenames as cpu/): the backend's state, the error checks, and one kernel
// per op, cuda_<name>(ctx, node), which computes node->out (and node->saved where the op has
// extra outputs) from node->src and node->p exactly as cpu_<name> does.
//
// Conventions every kernel file follows:
// - Everything runs on the backend's one stream (cuda_stream(c)), in issue order; nothing waits
//   for the device except copies to the host. So memory freed on the host side (an arena
//   released, a workspace regrown) is safe to hand out again for the next kernel.
// - Deterministic: no atomics in reductions (a fixed tree per output), and cuDNN algorithms
//   chosen among the deterministic ones by its heuristics (the same choice in every process for
//   the same shapes). FP32 math only: TF32 is never enabled.
// - Scratch comes from ag_ctx_workspace(c, bytes) (device memory, valid until the next call).
// - Convolutions and matmuls add their nominal FLOPs to c->flops, as the CPU kernels do.
// - A CUDA, cuBLAS or cuDNN call that fails is a fatal error naming the call (CUDA_CHECK & co).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "algo_cache.h"
#include "block_cache.h"
#include "ctx_internal.h"
#include "fatal.h"
#include "op.h"

typedef struct cuda_state {
    int device;
    cudaStream_t stream;  // every kernel and copy of the backend, in order
    cublasHandle_t cublas;
    cudnnHandle_t cudnn;
    ag_block_cache mem;    // device memory: a caching allocator over cudaMalloc
    ag_algo_cache algos;   // cuDNN algorithms per convolution problem
    bool deterministic;    // only deterministic cuDNN algorithms (the default)
    bool timed_algos;      // GAN_CUDNN_ALGOS=timed: chosen by cudnnFind* timings (conv.cu)
    float *host_stage;     // pinned host memory for fills drawn on the host
    size_t host_stage_size;
    char device_name[256];
    int sm_count, cc_major, cc_minor;
    size_t total_bytes;
} cuda_state;

static inline cuda_state *cuda_of(const ag_backend *be) { return (cuda_state *)be->state; }
static inline cuda_state *cuda_ctx(const ag_ctx *c) { return cuda_of(c->be); }
static inline cudaStream_t cuda_stream(const ag_ctx *c) { return cuda_ctx(c)->stream; }

#define CUDA_CHECK(call)                                                                   \
    do {                                                                                   \
        cudaError_t e_ = (call);                                                           \
        if (e_ != cudaSuccess) AG_FATAL("%s: %s", #call, cudaGetErrorString(e_));          \
    } while (0)
#define CUBLAS_CHECK(call)                                                                 \
    do {                                                                                   \
        cublasStatus_t s_ = (call);                                                        \
        if (s_ != CUBLAS_STATUS_SUCCESS) AG_FATAL("%s: cuBLAS status %d", #call, (int)s_); \
    } while (0)
#define CUDNN_CHECK(call)                                                                  \
    do {                                                                                   \
        cudnnStatus_t s_ = (call);                                                         \
        if (s_ != CUDNN_STATUS_SUCCESS) AG_FATAL("%s: %s", #call, cudnnGetErrorString(s_)); \
    } while (0)
// After a kernel launch: a bad launch configuration shows here, not at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// Threads per block of the elementwise kernels, and the grid for n elements (at most 65535 * 8
// blocks; grid-stride loops cover the rest).
#define CUDA_THREADS 256
static inline unsigned cuda_blocks(int64_t n) {
    int64_t b = (n + CUDA_THREADS - 1) / CUDA_THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65535 * 8 ? 65535 * 8 : b);
}

// The op kernels (one per op of op_list.h), in cuda/<family>.cu.
#define AG_CUDA_KERNEL_DECL(E, n, s, g) void cuda_##n(ag_ctx *c, const ag_node *node);
AG_OP_LIST(AG_CUDA_KERNEL_DECL)
#undef AG_CUDA_KERNEL_DECL

// Whole-block loops behind the backend's entry points (cuda/vector.cu), on `stream`.
void cuda_launch_fill(cudaStream_t stream, float *dst, int64_t n, float value);
void cuda_launch_axpy(cudaStream_t stream, float *y, const float *x, int64_t n, float a);
void cuda_launch_adam(cudaStream_t stream, float *w, const float *g, float *m, float *v, int64_t n, float beta1,
                      float beta2, float step, float eps, float weight_decay, float bc2_sqrt);
void cuda_launch_sgd(cudaStream_t stream, float *w, const float *g, float *buf, int64_t n, float lr, float momentum,
                     float dampening, float weight_decay, int nesterov, int first_step);
void cuda_launch_lerp(cudaStream_t stream, float *ema, const float *w, int64_t n, float beta);

#ifdef __cplusplus
}
#endif
