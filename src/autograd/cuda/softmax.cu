// log_softmax over the rows of an (N, K) tensor, as cpu/softmax.c: one warp per row (8 rows per
// block). Lane l walks elements l, l + 32, ... of its row: its maximum (NaN never wins the
// comparison) and its sum of exp(x - max) in double; the warp then combines the lanes by a
// fixed shuffle-down tree (no atomics) and lane 0's results are broadcast, so every lane uses the
// same max and sum and the order depends on K alone. y = x - (max + log(sum)) in double, rounded
// once, as on the CPU; only the order of the double sum differs from the CPU's.
#include "cuda_backend.h"

#define ROWS_PER_BLOCK (CUDA_THREADS / 32)

namespace {

__global__ void log_softmax_kernel(const float *x, float *y, int64_t N, int64_t K) {
    const unsigned full = 0xffffffffu;
    const int lane = threadIdx.x % 32;
    // The row loop's condition is the same for the whole warp, so every shuffle has all lanes.
    for (int64_t r = blockIdx.x * (int64_t)ROWS_PER_BLOCK + threadIdx.x / 32; r < N;
         r += (int64_t)gridDim.x * ROWS_PER_BLOCK) {
        const float *xr = x + r * K;
        float *yr = y + r * K;
        float m = -INFINITY;
        for (int64_t k = lane; k < K; k += 32) m = xr[k] > m ? xr[k] : m;
        for (int off = 16; off > 0; off /= 2) {
            const float o = __shfl_down_sync(full, m, off);
            m = o > m ? o : m;
        }
        m = __shfl_sync(full, m, 0);
        double sum = 0.0;
        for (int64_t k = lane; k < K; k += 32) sum += exp((double)xr[k] - (double)m);
        for (int off = 16; off > 0; off /= 2) sum += __shfl_down_sync(full, sum, off);
        const double lse = (double)m + log(__shfl_sync(full, sum, 0));
        for (int64_t k = lane; k < K; k += 32) yr[k] = (float)((double)xr[k] - lse);
    }
}

}  // namespace

extern "C" void cuda_log_softmax(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    const int64_t N = X->shape.d[0], K = X->shape.d[1];
    if (N <= 0 || K <= 0) return;
    const int64_t blocks = (N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    const unsigned grid = (unsigned)(blocks < 65535 * 8 ? blocks : 65535 * 8);
    log_softmax_kernel<<<grid, CUDA_THREADS, 0, cuda_stream(c)>>>(X->data, node->out->data, N, K);
    CUDA_CHECK_LAUNCH();
}
