// Max pooling, as cpu/pool.c: the gather max_pool2d(v, x) one thread per output, and the scatter
// max_pool2d_backward(g, x) without atomics in two kernels: each output's argmax into the
// workspace, then one thread per input element adding up the g of the windows whose argmax it
// is, in output row-major order from zero: the CPU's order of additions, so both backends give
// the same bits. window_argmax is cpu/pool.c's, line for line.
#include "cuda_backend.h"

namespace {

struct pool_dims {
    int H, W, Ho, Wo, kernel, stride, pad;
};

pool_dims dims_of(const ag_tensor *x, const ag_shape pooled, ag_pool_params p) {
    return {x->shape.d[2], x->shape.d[3], pooled.d[2], pooled.d[3], p.kernel, p.stride, p.pad};
}

// The plane offset of the maximum of x's window at output (oh, ow), as torch's CPU kernel picks
// it: the window clipped to the plane (padding never wins), scanned in row-major order, a value
// replacing the best so far when it is greater or NaN (ties: the first maximum; NaN: the last
// NaN; a window of -inf keeps its first position).
__device__ __forceinline__ int64_t window_argmax(const float *x, const pool_dims &d, int oh, int ow) {
    int h0 = oh * d.stride - d.pad, w0 = ow * d.stride - d.pad;
    const int h1 = h0 + d.kernel < d.H ? h0 + d.kernel : d.H, w1 = w0 + d.kernel < d.W ? w0 + d.kernel : d.W;
    h0 = h0 > 0 ? h0 : 0;
    w0 = w0 > 0 ? w0 : 0;
    int64_t best = (int64_t)h0 * d.W + w0;
    float m = -INFINITY;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            const float v = x[(int64_t)h * d.W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = (int64_t)h * d.W + w;
            }
        }
    return best;
}

// out[i] (planes, Ho, Wo) = v at x's window maximum; n = planes * Ho * Wo.
__global__ void max_pool2d_kernel(const float *v, const float *x, float *out, int64_t n, pool_dims d) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / d.Wo, pl = row / d.Ho;
        const int oh = (int)(row % d.Ho), ow = (int)(i % d.Wo);
        const int64_t plane = pl * d.H * d.W;
        out[i] = v[plane + window_argmax(x + plane, d, oh, ow)];
    }
}

// arg[i] = the plane offset of output i's window maximum.
__global__ void max_pool2d_argmax_kernel(const float *x, int64_t *arg, int64_t n, pool_dims d) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / d.Wo, pl = row / d.Ho;
        const int oh = (int)(row % d.Ho), ow = (int)(i % d.Wo);
        arg[i] = window_argmax(x + pl * d.H * d.W, d, oh, ow);
    }
}

// dx[i] (planes, H, W): the sum of g over the windows that hold input i and have their maximum
// there, in output row-major order; n = planes * H * W. Window oh holds row ih when
// oh * stride - pad <= ih < oh * stride - pad + kernel.
__global__ void max_pool2d_backward_kernel(const float *g, const int64_t *arg, float *dx, int64_t n, pool_dims d) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / d.W, pl = row / d.H;
        const int ih = (int)(row % d.H), iw = (int)(i % d.W);
        const int64_t at = (int64_t)ih * d.W + iw;
        const int ah = ih + d.pad - d.kernel, aw = iw + d.pad - d.kernel;
        const int oh0 = ah < 0 ? 0 : ah / d.stride + 1, ow0 = aw < 0 ? 0 : aw / d.stride + 1;
        const int oh1 = min((ih + d.pad) / d.stride, d.Ho - 1), ow1 = min((iw + d.pad) / d.stride, d.Wo - 1);
        const int64_t base = pl * d.Ho * d.Wo;
        float acc = 0.0f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                const int64_t o = base + (int64_t)oh * d.Wo + ow;
                if (arg[o] == at) acc += g[o];
            }
        dx[i] = acc;
    }
}

}  // namespace

extern "C" void cuda_max_pool2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[1];
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    max_pool2d_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(
        node->src[0]->data, X->data, node->out->data, n, dims_of(X, node->out->shape, node->p.pool));
    CUDA_CHECK_LAUNCH();
}

extern "C" void cuda_max_pool2d_backward(ag_ctx *c, const ag_node *node) {
    const ag_tensor *G = node->src[0], *X = node->src[1];
    const int64_t n = X->numel, nout = G->numel;
    if (n <= 0) return;
    const pool_dims d = dims_of(X, G->shape, node->p.pool);
    int64_t *arg = (int64_t *)ag_ctx_workspace(c, (size_t)nout * sizeof(int64_t));
    cudaStream_t stream = cuda_stream(c);
    max_pool2d_argmax_kernel<<<cuda_blocks(nout), CUDA_THREADS, 0, stream>>>(X->data, arg, nout, d);
    CUDA_CHECK_LAUNCH();
    max_pool2d_backward_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, stream>>>(G->data, arg, node->out->data, n, d);
    CUDA_CHECK_LAUNCH();
}
