// sum_to and expand, as cpu/reduce.c. expand is one thread per output element reading the
// element the CPU's broadcast plan maps it to. sum_to accumulates in double, like the CPU, in
// an order fixed by the shapes alone (never by the launch or the device), without atomics:
// - x's dims are merged as the CPU's rplan does and split into kept dims (indexing the output)
//   and reduced ones (each output's sum runs over them, flattened: index r);
// - a block sums one group of G consecutive outputs over one chunk of r: thread (lane, slice)
//   takes output lane and every S-th r of the chunk from its slice on, then the slices of each
//   lane are added in a fixed shared-memory tree. G is 32 when the kept dims are innermost (the
//   lanes of a warp read neighbouring elements) or when an output has too few terms to fill a
//   block; else 1 (the whole block walks one output's contiguous runs);
// - when the reduced index spans several chunks (whole-tensor sums of millions of elements),
//   the chunks' partial sums go to the workspace and a second pass adds them up in chunk order.
// The result differs from the CPU's only by the order of the double additions, so in all but
// rare ties it rounds to the same float.
#include "cuda_backend.h"

extern "C" {
#include "broadcast.h"
}

// Terms one block adds up (CHUNK / G for each of its G outputs): at most CHUNK / CUDA_THREADS
// per thread, so that the work spreads over the device even for a single output.
#define CHUNK 16384

namespace {

// Dims of x, outer to inner: sizes and element strides.
struct rdims {
    int nd;
    int64_t n[AG_MAX_DIMS], s[AG_MAX_DIMS];
};

struct rplan {
    rdims kept, red;
    bool kept_inner;  // the innermost merged dim is kept
};

// The CPU's rplan_make: size-1 dims dropped, neighbours of one kind (kept or reduced) merged,
// then each merged dim put on its kind's list.
rplan rplan_make(ag_shape x, ag_shape to) {
    int64_t xs[AG_MAX_DIMS], n[AG_MAX_DIMS], s[AG_MAX_DIMS];
    bool red[AG_MAX_DIMS];
    int nd = 0;
    ag_shape_strides(x, xs);
    for (int d = 0; d < x.ndim; d++) {
        if (x.d[d] == 1) continue;
        const int td = d - (x.ndim - to.ndim);
        const bool r = td < 0 || to.d[td] == 1;
        if (nd > 0 && red[nd - 1] == r) {
            n[nd - 1] *= x.d[d];
            s[nd - 1] = xs[d];
            continue;
        }
        n[nd] = x.d[d];
        s[nd] = xs[d];
        red[nd] = r;
        nd++;
    }
    rplan p = {};
    for (int d = 0; d < nd; d++) {
        rdims *t = red[d] ? &p.red : &p.kept;
        t->n[t->nd] = n[d];
        t->s[t->nd] = s[d];
        t->nd++;
    }
    p.kept_inner = nd > 0 && !red[nd - 1];
    return p;
}

// Offset in x of index i flattened over dims d. The unrolled loop indexes the dims (a kernel
// parameter) with constants only, so they are read in place rather than copied per thread. The
// outermost dim takes what is left of the index, without a division.
__device__ __forceinline__ int64_t dims_offset(const rdims &d, int64_t i) {
    int64_t off = 0;
#pragma unroll
    for (int k = AG_MAX_DIMS - 1; k > 0; k--) {
        if (k < d.nd) {
            off += (i % d.n[k]) * d.s[k];
            i /= d.n[k];
        }
    }
    return d.nd > 0 ? off + i * d.s[0] : 0;
}

// Block b sums the G outputs of group b / nchunk over chunk b % nchunk of the reduced index:
// into out when there is one chunk, else into part[chunk * nout + output]. Launched with
// CUDA_THREADS threads per block.
template <int G>
__global__ void sum_to_kernel(rplan p, const float *x, int64_t nout, int64_t rn, int64_t chunk, int64_t nchunk,
                              float *out, double *part) {
    constexpr int S = CUDA_THREADS / G;  // slices per lane, a power of two
    __shared__ double sm[CUDA_THREADS];
    const int lane = threadIdx.x % G, slice = threadIdx.x / G;
    const int64_t nblk = (nout + G - 1) / G * nchunk;
    for (int64_t b = blockIdx.x; b < nblk; b += gridDim.x) {
        const int64_t o = b / nchunk * G + lane, k = b % nchunk;
        const int64_t r1 = (k + 1) * chunk < rn ? (k + 1) * chunk : rn;
        double acc = 0.0;
        if (o < nout) {
            const float *xo = x + dims_offset(p.kept, o);
            for (int64_t r = k * chunk + slice; r < r1; r += S) acc += (double)xo[dims_offset(p.red, r)];
        }
        sm[threadIdx.x] = acc;
        __syncthreads();
        for (int s = S / 2; s > 0; s /= 2) {
            if (slice < s) sm[threadIdx.x] += sm[threadIdx.x + s * G];
            __syncthreads();
        }
        if (slice == 0 && o < nout) {
            if (nchunk == 1) out[o] = (float)sm[lane];
            else part[k * nout + o] = sm[lane];
        }
        __syncthreads();  // the next block's sums overwrite sm
    }
}

// The second pass: each output's chunk sums added in chunk order.
__global__ void sum_chunks_kernel(const double *part, int64_t nout, int64_t nchunk, float *out) {
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < nout; o += (int64_t)gridDim.x * blockDim.x) {
        double s = 0.0;
        for (int64_t k = 0; k < nchunk; k++) s += part[k * nout + o];
        out[o] = (float)s;
    }
}

template <int G>
void launch_sum_to(ag_ctx *c, const rplan &p, const float *x, int64_t nout, int64_t rn, float *out) {
    const int64_t chunk = CHUNK / G, nchunk = rn > chunk ? (rn + chunk - 1) / chunk : 1;
    const int64_t nblk = (nout + G - 1) / G * nchunk;
    double *part = nchunk > 1 ? (double *)ag_ctx_workspace(c, (size_t)(nchunk * nout) * sizeof(double)) : NULL;
    const unsigned grid = (unsigned)(nblk < 65535 * 8 ? nblk : 65535 * 8);
    sum_to_kernel<G><<<grid, CUDA_THREADS, 0, cuda_stream(c)>>>(p, x, nout, rn, chunk, nchunk, out, part);
    CUDA_CHECK_LAUNCH();
    if (nchunk > 1) {
        sum_chunks_kernel<<<cuda_blocks(nout), CUDA_THREADS, 0, cuda_stream(c)>>>(part, nout, nchunk, out);
        CUDA_CHECK_LAUNCH();
    }
}

// out[i] = x[the offset the plan gives output i].
__global__ void expand_kernel(ag_bplan p, const float *x, float *out, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i, off = 0;
#pragma unroll
        for (int d = AG_MAX_DIMS - 1; d > 0; d--) {
            if (d < p.nd) {
                off += (o % p.n[d]) * p.s[0][d];
                o /= p.n[d];
            }
        }
        out[i] = x[off + o * p.s[0][0]];
    }
}

}  // namespace

extern "C" void cuda_sum_to(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t nout = node->out->numel;
    if (nout <= 0) return;
    const rplan p = rplan_make(X->shape, node->out->shape);
    const int64_t rn = X->numel / nout;  // terms per output
    if (p.kept_inner || rn < CUDA_THREADS) launch_sum_to<32>(c, p, X->data, nout, rn, node->out->data);
    else launch_sum_to<1>(c, p, X->data, nout, rn, node->out->data);
}

extern "C" void cuda_expand(ag_ctx *c, const ag_node *node) {
    const int64_t n = node->out->numel;
    if (n <= 0) return;
    ag_shape in = node->src[0]->shape;
    ag_bplan p = ag_bplan_make(node->out->shape, 1, &in);
    expand_kernel<<<cuda_blocks(n), CUDA_THREADS, 0, cuda_stream(c)>>>(p, node->src[0]->data, node->out->data, n);
    CUDA_CHECK_LAUNCH();
}
