// Elementwise kernels: binary ops with broadcasting, scalar ops, unary math.
#include <math.h>

#include "broadcast.h"
#include "cpu.h"

// Work is split into tasks of at most BLOCK inner elements so that a single large contiguous
// operand still spreads over all threads.
#define BLOCK 8192

#define BINARY_KERNEL(NAME, EXPR)                                                           \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const ag_tensor *A = node->src[0], *B = node->src[1];                               \
        ag_shape in[2] = {A->shape, B->shape};                                              \
        cpu_bplan p = cpu_bplan_make(node->out->shape, 2, in);                              \
        const float *a = A->data, *b = B->data;                                             \
        float *out = node->out->data;                                                       \
        int64_t inner = p.n[p.nd - 1], sa = p.s[0][p.nd - 1], sb = p.s[1][p.nd - 1];        \
        int64_t nblk = (inner + BLOCK - 1) / BLOCK, ntask = p.outer * nblk;                 \
        _Pragma("omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)") \
        for (int64_t t = 0; t < ntask; t++) {                                               \
            int64_t o = t / nblk, j0 = (t % nblk) * BLOCK;                                  \
            int64_t j1 = j0 + BLOCK < inner ? j0 + BLOCK : inner, oa, ob;                   \
            cpu_bplan_offsets(&p, o, &oa, &ob);                                             \
            const float *pa = a + oa, *pb = b + ob;                                         \
            float *po = out + o * inner;                                                    \
            if (sa && sb) {                                                                 \
                for (int64_t j = j0; j < j1; j++) { float x = pa[j], y = pb[j]; po[j] = (EXPR); } \
            } else if (sa) {                                                                \
                float y = pb[0];                                                            \
                for (int64_t j = j0; j < j1; j++) { float x = pa[j]; po[j] = (EXPR); }      \
            } else if (sb) {                                                                \
                float x = pa[0];                                                            \
                for (int64_t j = j0; j < j1; j++) { float y = pb[j]; po[j] = (EXPR); }      \
            } else {                                                                        \
                float x = pa[0], y = pb[0];                                                 \
                for (int64_t j = j0; j < j1; j++) po[j] = (EXPR);                           \
            }                                                                               \
        }                                                                                   \
    }

BINARY_KERNEL(add, x + y)
BINARY_KERNEL(sub, x - y)
BINARY_KERNEL(mul, x * y)
BINARY_KERNEL(div, x / y)

// out[i] = EXPR(x) with x = in[i]; f0, f1 are the op's scalar parameters.
#define UNARY_KERNEL(NAME, EXPR)                                                            \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *in = node->src[0]->data;                                               \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel;                                                 \
        const float f0 = node->p.f[0], f1 = node->p.f[1];                                   \
        (void)f0, (void)f1;                                                                 \
        _Pragma("omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)")              \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float x = in[i];                                                                \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }

UNARY_KERNEL(add_scalar, x + f0)
UNARY_KERNEL(mul_scalar, x * f0)
UNARY_KERNEL(pow_scalar, f0 == 2.0f ? x * x : powf(x, f0))
// Comparisons rather than fminf/fmaxf so that NaN propagates, as torch.clamp does.
UNARY_KERNEL(clamp, x < f0 ? f0 : (x > f1 ? f1 : x))
UNARY_KERNEL(in_range, (x >= f0 && x <= f1) ? 1.0f : 0.0f)
UNARY_KERNEL(neg, -x)
UNARY_KERNEL(exp, expf(x))
UNARY_KERNEL(log, logf(x))
UNARY_KERNEL(sqrt, sqrtf(x))
UNARY_KERNEL(rsqrt, 1.0f / sqrtf(x))
UNARY_KERNEL(square, x * x)
UNARY_KERNEL(abs, fabsf(x))
UNARY_KERNEL(sign, (float)((x > 0.0f) - (x < 0.0f)))
