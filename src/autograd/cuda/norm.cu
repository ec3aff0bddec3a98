// Batch normalisation on the GPU, as cpu/norm.c: the training-mode forward (plain, or fused with
// a leaky ReLU), its fused backward, and eval mode's per-channel affine map + activation.
//
// The arithmetic is the CPU's rounding point for rounding point (per-channel sums in double,
// mean and invstd rounded to float, then y = x * alpha + shift in float; nvcc's --fmad=false
// keeps every multiply and add apart). Only the order of the double sums differs: the CPU adds
// eight lanes per channel, these kernels a fixed tree, so a channel's sums can differ from the
// CPU's in a double's last bits, which seldom reaches the float results.
//
// Work layout, shared by every kernel here: a channel's count = N * H * W elements (flat index
// e = n * HW + i within the channel) are cut into `splits` chunks of `chunk` elements, one
// block each (block b works on channel b / splits, chunk b % splits), and thread t of a block
// takes elements t, t + NORM_THREADS, ... of its chunk. A sum is then each thread's running
// sum, a shared-memory tree over the block into one partial per chunk, and the same tree over
// a channel's partials. The layout depends on the shape alone, so every sum is deterministic
// on any GPU; the kernel after a partial-sum kernel recomputes the channel's totals in every
// block (a few hundred doubles) rather than spending a launch on them.
#include "cuda_backend.h"

#define NORM_THREADS 256
// Elements per chunk worth a block of their own: 32 per thread keeps the per-block tree and
// the partials cheap next to the reads.
#define NORM_MIN_CHUNK ((int64_t)NORM_THREADS * 32)

typedef struct bn_layout {
    int64_t C, hw, count, chunk;
    int splits;  // at most NORM_THREADS, so a channel's partials reduce one per thread
} bn_layout;

// The layout for x (N, C, H, W), with N * H * W > 0.
static bn_layout layout_of(const ag_tensor *x) {
    bn_layout L;
    L.C = x->shape.d[1];
    L.hw = (int64_t)x->shape.d[2] * x->shape.d[3];
    L.count = (int64_t)x->shape.d[0] * L.hw;
    int64_t splits = (L.count + NORM_MIN_CHUNK - 1) / NORM_MIN_CHUNK;
    if (splits > NORM_THREADS) splits = NORM_THREADS;
    L.chunk = (L.count + splits - 1) / splits;
    L.splits = (int)((L.count + L.chunk - 1) / L.chunk);  // no empty chunk
    return L;
}

// Calls f(offset into the (N, C, H, W) tensor) for each of this thread's elements of chunk s of
// channel ch, in order. Walks the offsets by a fixed step rather than dividing per element:
// NORM_THREADS elements on is step_n planes of the channel and step_i positions further, plus
// one more plane when the position wraps.
template <typename F>
__device__ void for_my_elements(const bn_layout &L, int64_t ch, int64_t s, F f) {
    const int64_t e1 = min((s + 1) * L.chunk, L.count);
    int64_t e = s * L.chunk + threadIdx.x;
    if (e >= e1) return;
    const int64_t n = e / L.hw, step_n = NORM_THREADS / L.hw, step_i = NORM_THREADS % L.hw;
    const int64_t step_off = step_n * L.C * L.hw + step_i, wrap = (L.C - 1) * L.hw;
    int64_t i = e - n * L.hw, off = (n * L.C + ch) * L.hw + i;
    for (; e < e1; e += NORM_THREADS) {
        f(off);
        off += step_off;
        i += step_i;
        if (i >= L.hw) {
            i -= L.hw;
            off += wrap;
        }
    }
}

// The block's total of every thread's v, by a fixed shared-memory tree; every thread gets it.
__device__ double block_sum(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = NORM_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    const double total = sh[0];
    __syncthreads();  // sh is free for the next call
    return total;
}

// Channel ch's total from its chunks' partials (part[ch * splits + s]).
__device__ double channel_total(const double *part, int64_t ch, int splits, double *sh) {
    return block_sum(threadIdx.x < (unsigned)splits ? part[ch * splits + threadIdx.x] : 0.0, sh);
}

// leaky_relu(x * alpha + shift, slope); slope 1 leaves the affine map alone (affine_act_run).
__device__ __forceinline__ float affine_act(float x, float alpha, float shift, float slope) {
    const float v = x * alpha + shift;
    if (slope == 1.0f) return v;
    return v > 0.0f ? v : v * slope;
}

// The gradient through the activation, its mask read from its output y (act_grad).
__device__ __forceinline__ float act_grad(float g, float y, float slope) { return y > 0.0f ? g : g * slope; }

// --- training-mode forward ------------------------------------------------------------------

// part_sum[b] = sum of x over block b's chunk.
__global__ void bn_sum_kernel(const float *x, bn_layout L, double *part_sum) {
    __shared__ double sh[NORM_THREADS];
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    double acc = 0.0;
    for_my_elements(L, ch, s, [&](int64_t off) { acc += (double)x[off]; });
    const double total = block_sum(acc, sh);
    if (threadIdx.x == 0) part_sum[blockIdx.x] = total;
}

// part_ssd[b] = sum of (x - mean)^2 over block b's chunk: two passes, as the CPU, since
// E[x^2] - E[x]^2 cancels badly for large activations.
__global__ void bn_ssd_kernel(const float *x, bn_layout L, const double *part_sum, double *part_ssd) {
    __shared__ double sh[NORM_THREADS];
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    const double mean = channel_total(part_sum, ch, L.splits, sh) / (double)L.count;
    double acc = 0.0;
    for_my_elements(L, ch, s, [&](int64_t off) {
        const double d = (double)x[off] - mean;
        acc += d * d;
    });
    const double total = block_sum(acc, sh);
    if (threadIdx.x == 0) part_ssd[blockIdx.x] = total;
}

typedef struct bn_forward_args {
    const float *x, *gamma, *beta;
    float *out, *mean, *invstd;
    float *running_mean, *running_var;  // NULL unless the running statistics are updated
    float momentum, eps, slope;
} bn_forward_args;

// The channel's statistics from the partials, then out = act(x * alpha + shift) over the chunk;
// the chunk-0 block also stores the saved statistics and updates the running ones.
__global__ void bn_apply_kernel(bn_forward_args a, bn_layout L, const double *part_sum, const double *part_ssd) {
    __shared__ double sh[NORM_THREADS];
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    const double mean = channel_total(part_sum, ch, L.splits, sh) / (double)L.count;
    const double ssd = channel_total(part_ssd, ch, L.splits, sh);
    const float mean_f = (float)mean;
    const float invstd_f = (float)(1.0 / sqrt(ssd / (double)L.count + (double)a.eps));
    if (s == 0 && threadIdx.x == 0) {
        a.mean[ch] = mean_f;
        a.invstd[ch] = invstd_f;
        if (a.running_mean) {
            const double unbiased = ssd / (double)(L.count - 1);
            const double m = (double)a.momentum;
            a.running_mean[ch] = (float)(m * mean + (1.0 - m) * a.running_mean[ch]);
            a.running_var[ch] = (float)(m * unbiased + (1.0 - m) * a.running_var[ch]);
        }
    }
    const float alpha = invstd_f * a.gamma[ch];
    const float shift = a.beta[ch] - mean_f * alpha;
    const float *x = a.x;
    float *out = a.out;
    const float slope = a.slope;
    for_my_elements(L, ch, s, [&](int64_t off) { out[off] = affine_act(x[off], alpha, shift, slope); });
}

// x (N, C, H, W), gamma, beta (C) -> out = act(batchnorm(x)); saved: mean, invstd (C) [, the
// running mean and variance (C), updated in place when p.batchnorm.update_running].
static void batchnorm_forward(ag_ctx *c, const ag_node *node, float slope) {
    const ag_tensor *X = node->src[0];
    const bn_layout L = layout_of(X);  // the op checked N * H * W > 1
    const bool update = node->p.batchnorm.update_running;
    const bn_forward_args a = {
        X->data, node->src[1]->data, node->src[2]->data, node->out->data, node->saved[0]->data, node->saved[1]->data,
        update ? node->saved[2]->data : NULL, update ? node->saved[3]->data : NULL, node->p.batchnorm.momentum,
        node->p.batchnorm.eps, slope};
    const int64_t blocks = L.C * L.splits;
    double *part_sum = (double *)ag_ctx_workspace(c, (size_t)(2 * blocks) * sizeof(double));
    double *part_ssd = part_sum + blocks;
    cudaStream_t stream = cuda_stream(c);
    bn_sum_kernel<<<(unsigned)blocks, NORM_THREADS, 0, stream>>>(a.x, L, part_sum);
    CUDA_CHECK_LAUNCH();
    bn_ssd_kernel<<<(unsigned)blocks, NORM_THREADS, 0, stream>>>(a.x, L, part_sum, part_ssd);
    CUDA_CHECK_LAUNCH();
    bn_apply_kernel<<<(unsigned)blocks, NORM_THREADS, 0, stream>>>(a, L, part_sum, part_ssd);
    CUDA_CHECK_LAUNCH();
}

// --- backward -------------------------------------------------------------------------------

typedef struct bn_backward_args {
    const float *g, *x, *y;  // y: the activation's output, NULL without one
    const float *gamma, *mean, *invstd;
    float *dx, *dgamma, *dbeta;
    float slope;
} bn_backward_args;

// With ga the gradient through the activation: part_sum[b] = sum(ga) and
// part_dot[b] = sum(ga * (x - mean)) over block b's chunk.
__global__ void bn_grad_sums_kernel(bn_backward_args a, bn_layout L, double *part_sum, double *part_dot) {
    __shared__ double sh[NORM_THREADS];
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    const double m = (double)a.mean[ch];
    const float *g = a.g, *x = a.x, *y = a.y;
    const float slope = a.slope;
    double sum = 0.0, dot = 0.0;
    for_my_elements(L, ch, s, [&](int64_t off) {
        const float ga = y ? act_grad(g[off], y[off], slope) : g[off];
        sum += (double)ga;
        dot += (double)ga * ((double)x[off] - m);
    });
    const double sum_total = block_sum(sum, sh);
    const double dot_total = block_sum(dot, sh);
    if (threadIdx.x == 0) {
        part_sum[blockIdx.x] = sum_total;
        part_dot[blockIdx.x] = dot_total;
    }
}

// dx = (ga - grad_mean - (x - mean) * k) * w over the chunk, with grad_mean = sum / count,
// k = dot * invstd^2 / count and w = invstd * gamma; the chunk-0 block stores dbeta = sum and
// dgamma = dot * invstd.
__global__ void bn_grad_input_kernel(bn_backward_args a, bn_layout L, const double *part_sum,
                                     const double *part_dot) {
    __shared__ double sh[NORM_THREADS];
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    const double sum = channel_total(part_sum, ch, L.splits, sh);
    const double dot = channel_total(part_dot, ch, L.splits, sh);
    const float m = a.mean[ch], is = a.invstd[ch];
    if (s == 0 && threadIdx.x == 0) {
        a.dbeta[ch] = (float)sum;
        a.dgamma[ch] = (float)(dot * is);
    }
    const float k = (float)(dot * is * is / (double)L.count);
    const float grad_mean = (float)(sum / (double)L.count);
    const float w = is * a.gamma[ch];
    const float *g = a.g, *x = a.x, *y = a.y;
    float *dx = a.dx;
    const float slope = a.slope;
    for_my_elements(L, ch, s, [&](int64_t off) {
        const float ga = y ? act_grad(g[off], y[off], slope) : g[off];
        dx[off] = (ga - grad_mean - (x[off] - m) * k) * w;
    });
}

// src: gout, x (N, C, H, W), gamma, mean, invstd (C). out = dx; saved: dgamma, dbeta (C).
static void batchnorm_backward(ag_ctx *c, const ag_node *node, const float *y, float slope) {
    const ag_tensor *X = node->src[1];
    const bn_layout L = layout_of(X);
    const bn_backward_args a = {node->src[0]->data, X->data, y, node->src[2]->data, node->src[3]->data,
                                node->src[4]->data, node->out->data, node->saved[0]->data, node->saved[1]->data,
                                slope};
    const int64_t blocks = L.C * L.splits;
    double *part_sum = (double *)ag_ctx_workspace(c, (size_t)(2 * blocks) * sizeof(double));
    double *part_dot = part_sum + blocks;
    cudaStream_t stream = cuda_stream(c);
    bn_grad_sums_kernel<<<(unsigned)blocks, NORM_THREADS, 0, stream>>>(a, L, part_sum, part_dot);
    CUDA_CHECK_LAUNCH();
    bn_grad_input_kernel<<<(unsigned)blocks, NORM_THREADS, 0, stream>>>(a, L, part_sum, part_dot);
    CUDA_CHECK_LAUNCH();
}

// --- eval mode ------------------------------------------------------------------------------

__global__ void channel_affine_act_kernel(const float *x, const float *scale, const float *shift, float slope,
                                          bn_layout L, float *out) {
    const int64_t ch = blockIdx.x / L.splits, s = blockIdx.x % L.splits;
    const float sc = scale[ch], sh = shift[ch];
    for_my_elements(L, ch, s, [&](int64_t off) { out[off] = affine_act(x[off], sc, sh, slope); });
}

// --- entry points ---------------------------------------------------------------------------

// x (N, C, H, W) -> out; saved: mean (C), invstd (C) [, running_mean (C), running_var (C)].
// Slope 1: no activation (p.batchnorm.slope is unused by the plain op).
extern "C" void cuda_batchnorm2d(ag_ctx *c, const ag_node *node) { batchnorm_forward(c, node, 1.0f); }

// src: gout, x (N, C, H, W), gamma, mean, invstd (C). out = dx; saved: dgamma, dbeta (C).
extern "C" void cuda_batchnorm2d_backward(ag_ctx *c, const ag_node *node) {
    batchnorm_backward(c, node, NULL, 1.0f);
}

// As cuda_batchnorm2d, then leaky_relu with slope p.batchnorm.slope.
extern "C" void cuda_batchnorm2d_act(ag_ctx *c, const ag_node *node) {
    batchnorm_forward(c, node, node->p.batchnorm.slope);
}

// src: gout, x, gamma, mean, invstd, y (the forward's output). out = dx; saved: dgamma, dbeta.
extern "C" void cuda_batchnorm2d_act_backward(ag_ctx *c, const ag_node *node) {
    batchnorm_backward(c, node, node->src[5]->data, node->p.act.slope);
}

// x (N, C, H, W), scale (C), shift (C) -> leaky_relu(x * scale + shift, p.act.slope).
extern "C" void cuda_channel_affine_act(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    if (X->numel == 0) return;
    const bn_layout L = layout_of(X);
    channel_affine_act_kernel<<<(unsigned)(L.C * L.splits), NORM_THREADS, 0, cuda_stream(c)>>>(
        X->data, node->src[1]->data, node->src[2]->data, node->p.act.slope, L, node->out->data);
    CUDA_CHECK_LAUNCH();
}
