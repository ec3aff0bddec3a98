// Data movement on the GPU, as cpu/shape.c: reshape (a view: nothing to do), permute, concat,
// narrow/unnarrow and pad2d. Each op is one gather kernel with a thread per output element, so
// writes are coalesced and every output element is written once (unnarrow's and pad2d's zeros
// included). Pure copies: the results equal the CPU's bit for bit.
//
// Decomposing an output index into coordinates costs divisions, which are several times
// cheaper in 32 bits than in 64; each kernel is built for both and the 32-bit one runs when the
// output has fewer than 2^31 elements. Input offsets are always computed in int64_t.
#include "cuda_backend.h"

// Grid-stride loop over the output indices [0, n), in index type I.
#define FOR_EACH_INDEX(I, o, n) \
    for (I o = blockIdx.x * (I)blockDim.x + threadIdx.x; o < (n); o += (I)gridDim.x * blockDim.x)

// Launches kernel<uint32_t> when n fits in 31 bits (so o + the grid's stride cannot wrap), else
// kernel<int64_t>, on n elements; the remaining arguments follow n.
#define LAUNCH_INDEXED(kernel, c, n, ...)                                                             \
    do {                                                                                              \
        if ((n) <= INT32_MAX)                                                                         \
            kernel<uint32_t><<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>((uint32_t)(n), __VA_ARGS__); \
        else                                                                                          \
            kernel<int64_t><<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>((int64_t)(n), __VA_ARGS__);   \
        CUDA_CHECK_LAUNCH();                                                                          \
    } while (0)

extern "C" void cuda_reshape(ag_ctx *c, const ag_node *node) {
    (void)c, (void)node;  // the output is a view of the input
}

// --- permute --------------------------------------------------------------------------------

typedef struct permute_args {
    int nd;
    int64_t dims[AG_MAX_DIMS];     // the output's dims
    int64_t strides[AG_MAX_DIMS];  // the input's stride along each output dim
} permute_args;

template <typename I>
__global__ void permute_kernel(I n, const float *x, float *out, permute_args a) {
    FOR_EACH_INDEX(I, o, n) {
        I r = o;
        int64_t off = 0;
        // Unrolled over the fixed AG_MAX_DIMS so a's arrays are indexed by constants (a runtime
        // index would copy them to local memory).
#pragma unroll
        for (int d = AG_MAX_DIMS - 1; d > 0; d--) {
            if (d >= a.nd) continue;
            const I dim = (I)a.dims[d];
            off += (int64_t)(r % dim) * a.strides[d];
            r /= dim;
        }
        out[o] = x[off + (int64_t)r * a.strides[0]];
    }
}

// Output axis i is input axis p.permute.perm[i].
extern "C" void cuda_permute(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t n = node->out->numel;
    if (n == 0) return;
    permute_args a = {};  // dims past nd are never read, but are passed
    int64_t xs[AG_MAX_DIMS];
    ag_shape_strides(X->shape, xs);
    a.nd = node->out->shape.ndim;
    for (int d = 0; d < a.nd; d++) {
        a.dims[d] = node->out->shape.d[d];
        a.strides[d] = xs[node->p.permute.perm[d]];
    }
    LAUNCH_INDEXED(permute_kernel, c, n, X->data, node->out->data, a);
}

// --- concat, narrow, unnarrow ---------------------------------------------------------------

// The output viewed as (outer, rows, inner) around the axis is made of pieces: its rows
// [lo[k], lo[k] + len[k]) are rows skip[k], skip[k] + 1, ... of src[k], viewed as
// (outer, src_rows[k], inner); rows in no piece are zero.
typedef struct slice_args {
    int npieces;
    int64_t rows, inner;
    const float *src[AG_MAX_SRC];
    int64_t lo[AG_MAX_SRC], len[AG_MAX_SRC], skip[AG_MAX_SRC], src_rows[AG_MAX_SRC];
} slice_args;

template <typename I>
__global__ void slice_kernel(I n, float *out, slice_args a) {
    FOR_EACH_INDEX(I, o, n) {
        const I q = o / (I)a.inner, k = o % (I)a.inner;
        const I outer = q / (I)a.rows, r = q % (I)a.rows;
        float v = 0.0f;
        for (int p = 0; p < a.npieces; p++) {
            const int64_t pr = (int64_t)r - a.lo[p];
            if (pr >= 0 && pr < a.len[p]) {
                v = a.src[p][((int64_t)outer * a.src_rows[p] + a.skip[p] + pr) * a.inner + (int64_t)k];
                break;
            }
        }
        out[o] = v;
    }
}

// The view of node->out around `axis`, with no pieces yet.
static slice_args slice_view(const ag_node *node, int axis) {
    slice_args a = {};
    const ag_shape s = node->out->shape;
    a.npieces = 0;
    a.rows = s.d[axis];
    a.inner = 1;
    for (int d = axis + 1; d < s.ndim; d++) a.inner *= s.d[d];
    return a;
}

static void add_piece(slice_args *a, const float *src, int64_t lo, int64_t len, int64_t skip, int64_t src_rows) {
    const int k = a->npieces++;
    a->src[k] = src;
    a->lo[k] = lo;
    a->len[k] = len;
    a->skip[k] = skip;
    a->src_rows[k] = src_rows;
}

static void run_slice(ag_ctx *c, const ag_node *node, const slice_args *a) {
    const int64_t n = node->out->numel;
    if (n == 0) return;
    LAUNCH_INDEXED(slice_kernel, c, n, node->out->data, *a);
}

// The inputs one after another along p.slice.axis.
extern "C" void cuda_concat(ag_ctx *c, const ag_node *node) {
    const int axis = node->p.slice.axis;
    slice_args a = slice_view(node, axis);
    int64_t start = 0;
    for (int k = 0; k < node->nsrc; k++) {
        const int64_t rows = node->src[k]->shape.d[axis];
        add_piece(&a, node->src[k]->data, start, rows, 0, rows);
        start += rows;
    }
    run_slice(c, node, &a);
}

// Elements [start, start + size) of the axis.
extern "C" void cuda_narrow(ag_ctx *c, const ag_node *node) {
    const ag_slice_params *p = &node->p.slice;
    slice_args a = slice_view(node, p->axis);
    add_piece(&a, node->src[0]->data, 0, p->size, p->start, node->src[0]->shape.d[p->axis]);
    run_slice(c, node, &a);
}

// The input placed at start along the axis in zeros of length size.
extern "C" void cuda_unnarrow(ag_ctx *c, const ag_node *node) {
    const ag_slice_params *p = &node->p.slice;
    slice_args a = slice_view(node, p->axis);
    const int64_t rows = node->src[0]->shape.d[p->axis];
    add_piece(&a, node->src[0]->data, p->start, rows, 0, rows);
    run_slice(c, node, &a);
}

// --- pad2d ----------------------------------------------------------------------------------

// Output element (plane, i, j) is input (plane, i - top, j - left) when inside it, else zero.
template <typename I>
__global__ void pad2d_kernel(I n, const float *x, float *out, int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                             int64_t top, int64_t left) {
    FOR_EACH_INDEX(I, o, n) {
        const I q = o / (I)Wo, j = o % (I)Wo;
        const I plane = q / (I)Ho, i = q % (I)Ho;
        const int64_t si = (int64_t)i - top, sj = (int64_t)j - left;
        out[o] = si >= 0 && si < H && sj >= 0 && sj < W ? x[((int64_t)plane * H + si) * W + sj] : 0.0f;
    }
}

// p.pad top/bottom/left/right rows and columns added to the last two dims (negative ones crop).
extern "C" void cuda_pad2d(ag_ctx *c, const ag_node *node) {
    const ag_shape is = node->src[0]->shape, os = node->out->shape;
    const int nd = is.ndim;
    const int64_t n = node->out->numel;
    if (n == 0) return;
    LAUNCH_INDEXED(pad2d_kernel, c, n, node->src[0]->data, node->out->data, (int64_t)is.d[nd - 2],
                   (int64_t)is.d[nd - 1], (int64_t)os.d[nd - 2], (int64_t)os.d[nd - 1], (int64_t)node->p.pad.top,
                   (int64_t)node->p.pad.left);
}
