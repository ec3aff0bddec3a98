// Convolutions through cuDNN: conv2d, conv_transpose2d and conv2d_weight_grad (cpu/conv.c) are
// cuDNN's forward, backward-data and backward-filter passes of one forward convolution each,
// NCHW FP32, cross-correlation (no kernel flip, as the CPU's im2col), groups as cuDNN groups:
//   conv2d(x, w) -> y              forward        x -> y, filter w (Cout, Cin/G, kh, kw)
//   conv_transpose2d(x, w) -> y    backward data  of the forward y -> x, filter w
//                                  (Cin, Cout/G, kh, kw): x plays dy and y plays dx, as torch
//   conv2d_weight_grad(x, gy) -> dw  backward filter of the forward x -> gy
// The transposed conv's output padding needs no argument: the output tensor's size carries it.
// cuDNN writes every output element (alpha 1, beta 0), so nothing is cleared first.
//
// Determinism. The algorithm of each problem (pass, shapes, arguments) is chosen once and kept
// in the backend's algorithm cache. It is the first of cuDNN's heuristic ranking (the *_v7
// queries) that is supported, deterministic when the backend is (the default) and does not use
// tensor-op math. The heuristics rank from the problem, the GPU and the library version alone,
// so every process makes the same choice, and a run resumed from a checkpoint reproduces the
// uninterrupted one bit for bit. cudnnFind* is not used: it times the algorithms, and timings
// differ from run to run, so two processes could pick algorithms that round differently. With
// determinism off the same ranking is used without the deterministic filter. When nothing
// qualifies, an algorithm that is always deterministic is taken (forward IMPLICIT_GEMM,
// backward ALGO_1).
//
// GAN_CUDNN_ALGOS=timed (a benchmarking switch) ranks by cudnnFind* instead: each algorithm is
// run and timed once per problem, the same filters apply. The fastest choice can then differ
// between processes, so resume is no longer bit-identical; gan bench says "(timed)".
//
// No TF32. Every convolution descriptor has math type CUDNN_FMA_MATH (FP32 FMA kernels only),
// and results asking for tensor-op math are skipped: CUDNN_DEFAULT_MATH would let Ampere and
// later GPUs round FP32 inputs to TF32. Sums still run in the algorithm's own order (with
// FMAs; FFT and Winograd algorithms transform first), so results match the CPU's up to rounding.
#include "cuda_backend.h"

// One convolution in cuDNN's forward terms: input x -> output y through filter w.
typedef struct {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    ag_shape xs, ws, ys;  // the shapes behind them, for the algorithm cache's key
} conv_desc;

static void tensor_desc(cudnnTensorDescriptor_t *d, ag_shape s) {
    CUDNN_CHECK(cudnnCreateTensorDescriptor(d));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.d[0], s.d[1], s.d[2], s.d[3]));
}

static conv_desc desc_make(const ag_node *node, ag_shape xs, ag_shape ws, ag_shape ys) {
    const ag_conv_args *a = &node->p.conv.args;
    conv_desc d;
    d.xs = xs, d.ws = ws, d.ys = ys;
    tensor_desc(&d.x, xs);
    tensor_desc(&d.y, ys);
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&d.w));
    CUDNN_CHECK(
        cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, ws.d[0], ws.d[1], ws.d[2], ws.d[3]));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d.conv));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d.conv, a->pad_h, a->pad_w, a->stride_h, a->stride_w, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnSetConvolutionGroupCount(d.conv, a->groups));
    CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH));
    return d;
}

static void desc_free(conv_desc *d) {
    CUDNN_CHECK(cudnnDestroyConvolutionDescriptor(d->conv));
    CUDNN_CHECK(cudnnDestroyFilterDescriptor(d->w));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(d->y));
    CUDNN_CHECK(cudnnDestroyTensorDescriptor(d->x));
}

// The first of the heuristics' results (best first) that runs, is deterministic when asked and
// keeps FP32 math; -1 when none does. The three passes' result structs share these fields.
template <typename Perf>
static int first_qualifying(const Perf *perf, int n, bool deterministic) {
    for (int i = 0; i < n; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
        if (perf[i].mathType == CUDNN_TENSOR_OP_MATH || perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
            continue;
        return i;
    }
    return -1;
}

static ag_algo_choice choose_forward(cudnnHandle_t h, const conv_desc *d, bool deterministic, bool timed) {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    if (timed)
        CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, d->x, d->w, d->conv, d->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                         &n, perf));
    else
        CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d->x, d->w, d->conv, d->y,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    int i = first_qualifying(perf, n, deterministic);
    cudnnConvolutionFwdAlgo_t algo = i >= 0 ? perf[i].algo : CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    size_t bytes = 0;
    CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, d->x, d->w, d->conv, d->y, algo, &bytes));
    return (ag_algo_choice){(int)algo, bytes};
}

static ag_algo_choice choose_backward_data(cudnnHandle_t h, const conv_desc *d, bool deterministic, bool timed) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int n = 0;
    if (timed)
        CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, d->w, d->y, d->conv, d->x,
                                                              CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    else
        CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d->w, d->y, d->conv, d->x,
                                                                CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, perf));
    int i = first_qualifying(perf, n, deterministic);
    cudnnConvolutionBwdDataAlgo_t algo = i >= 0 ? perf[i].algo : CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    size_t bytes = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d->w, d->y, d->conv, d->x, algo, &bytes));
    return (ag_algo_choice){(int)algo, bytes};
}

static ag_algo_choice choose_backward_filter(cudnnHandle_t h, const conv_desc *d, bool deterministic, bool timed) {
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    int n = 0;
    if (timed)
        CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, d->x, d->y, d->conv, d->w,
                                                                CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    else
        CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d->x, d->y, d->conv, d->w,
                                                                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, perf));
    int i = first_qualifying(perf, n, deterministic);
    cudnnConvolutionBwdFilterAlgo_t algo = i >= 0 ? perf[i].algo : CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
    size_t bytes = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d->x, d->y, d->conv, d->w, algo, &bytes));
    return (ag_algo_choice){(int)algo, bytes};
}

// The cached choice for this node's pass (its op) and problem, made on the first call.
static ag_algo_choice choose(ag_ctx *c, const ag_node *node, const conv_desc *d) {
    cuda_state *s = cuda_ctx(c);
    ag_algo_key key = ag_algo_key_conv((int)node->op, d->xs, d->ws, d->ys, node->p.conv.args, s->deterministic);
    ag_algo_choice choice;
    if (ag_algo_cache_get(&s->algos, &key, &choice)) return choice;
    switch (node->op) {
    case AG_OP_CONV2D: choice = choose_forward(s->cudnn, d, s->deterministic, s->timed_algos); break;
    case AG_OP_CONV_TRANSPOSE2D: choice = choose_backward_data(s->cudnn, d, s->deterministic, s->timed_algos); break;
    default: choice = choose_backward_filter(s->cudnn, d, s->deterministic, s->timed_algos); break;  // weight grad
    }
    ag_algo_cache_put(&s->algos, &key, choice);
    return choice;
}

// x (N, Cin, H, W), w (Cout, Cin/G, kh, kw) -> y (N, Cout, Ho, Wo).
extern "C" void cuda_conv2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = Y->shape.d[1];
    const int K = X->shape.d[1] / G * Wt->shape.d[2] * Wt->shape.d[3], P = Y->shape.d[2] * Y->shape.d[3];
    c->flops += 2 * (uint64_t)N * Cout * P * K;
    if (N == 0) return;  // an empty batch: nothing to write (cuDNN rejects a zero dim)
    conv_desc d = desc_make(node, X->shape, Wt->shape, Y->shape);
    ag_algo_choice ch = choose(c, node, &d);
    void *ws = ag_ctx_workspace(c, ch.workspace);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnConvolutionForward(cuda_ctx(c)->cudnn, &one, d.x, X->data, d.w, Wt->data, d.conv,
                                        (cudnnConvolutionFwdAlgo_t)ch.algo, ws, ch.workspace, &zero, d.y, Y->data));
    desc_free(&d);
}

// x (N, Cin, H, W), w (Cin, Cout/G, kh, kw) -> y (N, Cout, Ho, Wo): the data gradient of the
// forward conv y -> x with filter w, x in the role of that conv's output gradient.
extern "C" void cuda_conv_transpose2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cin = X->shape.d[1], cing = Cin / G;
    const int coutg = Y->shape.d[1] / G, Kt = coutg * Wt->shape.d[2] * Wt->shape.d[3];
    const int P = X->shape.d[2] * X->shape.d[3];
    c->flops += 2 * (uint64_t)N * cing * P * Kt * G;
    if (N == 0) return;
    conv_desc d = desc_make(node, Y->shape, Wt->shape, X->shape);
    ag_algo_choice ch = choose(c, node, &d);
    void *ws = ag_ctx_workspace(c, ch.workspace);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnConvolutionBackwardData(cuda_ctx(c)->cudnn, &one, d.w, Wt->data, d.y, X->data, d.conv,
                                             (cudnnConvolutionBwdDataAlgo_t)ch.algo, ws, ch.workspace, &zero, d.x,
                                             Y->data));
    desc_free(&d);
}

// x (N, Cin, H, W), gy (N, Cout, Ho, Wo) -> dw (Cout, Cin/G, kh, kw) = w_shape.
extern "C" void cuda_conv2d_weight_grad(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *GY = node->src[1];
    ag_tensor *DW = node->out;
    const ag_shape ws = node->p.conv.w_shape;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = GY->shape.d[1];
    const int K = X->shape.d[1] / G * ws.d[2] * ws.d[3], P = GY->shape.d[2] * GY->shape.d[3];
    c->flops += 2 * (uint64_t)N * Cout * P * K;
    if (N == 0) {  // an empty sum over the batch
        CUDA_CHECK(cudaMemsetAsync(DW->data, 0, (size_t)DW->numel * sizeof(float), cuda_stream(c)));
        return;
    }
    conv_desc d = desc_make(node, X->shape, ws, GY->shape);
    ag_algo_choice ch = choose(c, node, &d);
    void *wsp = ag_ctx_workspace(c, ch.workspace);
    const float one = 1.0f, zero = 0.0f;
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(cuda_ctx(c)->cudnn, &one, d.x, X->data, d.y, GY->data, d.conv,
                                               (cudnnConvolutionBwdFilterAlgo_t)ch.algo, wsp, ch.workspace, &zero, d.w,
                                               DW->data));
    desc_free(&d);
}
