// log_softmax over the rows of an (N, K) tensor, one row per OpenMP iteration. Each row is
// walked in order, so results do not depend on the thread count: the row's maximum (NaN never
// wins the comparison, so it is the maximum of the other values), then the sum of
// exp(x - max) in double, then y = x - (max + log(sum)) in double, rounded once to float. A NaN
// (or +inf, whose x - max is NaN) makes the sum NaN and so the whole row, as torch's does.
#include <math.h>

#include "cpu.h"

static void log_softmax_row(const float *restrict x, float *restrict y, int64_t K) {
    float m = -INFINITY;
    for (int64_t k = 0; k < K; k++) m = x[k] > m ? x[k] : m;
    double sum = 0.0;
    for (int64_t k = 0; k < K; k++) sum += exp((double)x[k] - (double)m);
    const double lse = (double)m + log(sum);
    for (int64_t k = 0; k < K; k++) y[k] = (float)((double)x[k] - lse);
}

void cpu_log_softmax(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int64_t N = X->shape.d[0], K = X->shape.d[1];
    const float *x = X->data;
    float *y = node->out->data;
    // An exp in double costs several elementwise ops: threads pay off from fewer elements.
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN / 8)
    for (int64_t r = 0; r < N; r++) log_softmax_row(x + r * K, y + r * K, K);
}
