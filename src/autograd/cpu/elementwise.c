// Elementwise kernels: binary ops with broadcasting, scalar ops, unary math. Every loop runs in
// a CPU_DISPATCH block function (cpu.h) over contiguous runs, with restrict pointers (an op's
// output is always a fresh tensor), so it vectorises for the CPU at hand.
#include <math.h>

#include "broadcast.h"
#include "cpu.h"

// Work is split into tasks of at most BLOCK inner elements so that a single large contiguous
// operand still spreads over all threads.
#define BLOCK 8192

// Block loops of a binary op: both operands vectors (vv), a scalar b (vs), a scalar a (sv).
#define BINARY_BLOCKS(NAME, EXPR)                                                           \
    CPU_DISPATCH static void NAME##_vv(const float *restrict pa, const float *restrict pb,  \
                                       float *restrict po, int64_t n) {                     \
        for (int64_t j = 0; j < n; j++) {                                                   \
            float x = pa[j], y = pb[j];                                                     \
            po[j] = (EXPR);                                                                 \
        }                                                                                   \
    }                                                                                       \
    CPU_DISPATCH static void NAME##_vs(const float *restrict pa, float y, float *restrict po, \
                                       int64_t n) {                                         \
        for (int64_t j = 0; j < n; j++) {                                                   \
            float x = pa[j];                                                                \
            po[j] = (EXPR);                                                                 \
        }                                                                                   \
    }                                                                                       \
    CPU_DISPATCH static void NAME##_sv(float x, const float *restrict pb, float *restrict po, \
                                       int64_t n) {                                         \
        for (int64_t j = 0; j < n; j++) {                                                   \
            float y = pb[j];                                                                \
            po[j] = (EXPR);                                                                 \
        }                                                                                   \
    }

#define BINARY_KERNEL(NAME, EXPR)                                                           \
    BINARY_BLOCKS(NAME, EXPR)                                                               \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const ag_tensor *A = node->src[0], *B = node->src[1];                               \
        ag_shape in[2] = {A->shape, B->shape};                                              \
        ag_bplan p = ag_bplan_make(node->out->shape, 2, in);                              \
        const float *a = A->data, *b = B->data;                                             \
        float *out = node->out->data;                                                       \
        int64_t inner = p.n[p.nd - 1], sa = p.s[0][p.nd - 1], sb = p.s[1][p.nd - 1];        \
        int64_t nblk = (inner + BLOCK - 1) / BLOCK, ntask = p.outer * nblk;                 \
        _Pragma("omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)") \
        for (int64_t t = 0; t < ntask; t++) {                                               \
            int64_t o = t / nblk, j0 = (t % nblk) * BLOCK;                                  \
            int64_t j1 = j0 + BLOCK < inner ? j0 + BLOCK : inner, oa, ob;                   \
            ag_bplan_offsets(&p, o, &oa, &ob);                                             \
            const float *pa = a + oa, *pb = b + ob;                                         \
            float *po = out + o * inner;                                                    \
            if (sa && sb) {                                                                 \
                NAME##_vv(pa + j0, pb + j0, po + j0, j1 - j0);                              \
            } else if (sa) {                                                                \
                NAME##_vs(pa + j0, pb[0], po + j0, j1 - j0);                                \
            } else if (sb) {                                                                \
                NAME##_sv(pa[0], pb + j0, po + j0, j1 - j0);                                \
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

// out[i] = EXPR(x) with x = in[i]; f0 = F0 and f1 = F1 are the op's scalar arguments read from
// the node's params P (0 where the op has none).
#define UNARY_KERNEL(NAME, F0, F1, EXPR)                                                            \
    CPU_DISPATCH static void NAME##_block(const float *restrict in, float *restrict out, int64_t n, \
                                          float f0, float f1) {                             \
        (void)f0, (void)f1;                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float x = in[i];                                                                \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }                                                                                       \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *in = node->src[0]->data;                                               \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel, nblk = (n + BLOCK - 1) / BLOCK;                 \
        const ag_op_params *P = &node->p;                                                   \
        (void)P;                                                                            \
        const float f0 = (F0), f1 = (F1);                                                   \
        _Pragma("omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)")              \
        for (int64_t b = 0; b < nblk; b++) {                                                \
            const int64_t i0 = b * BLOCK;                                                   \
            NAME##_block(in + i0, out + i0, n - i0 < BLOCK ? n - i0 : BLOCK, f0, f1);       \
        }                                                                                   \
    }

UNARY_KERNEL(add_scalar, P->scalar.value, 0, x + f0)
UNARY_KERNEL(mul_scalar, P->scalar.value, 0, x * f0)
UNARY_KERNEL(pow_scalar, P->scalar.value, 0, f0 == 2.0f ? x * x : powf(x, f0))
// Comparisons rather than fminf/fmaxf so that NaN propagates, as torch.clamp does (selects, so
// that the loop has no branch: a NaN compares false both times and stays x).
UNARY_KERNEL(clamp, P->range.lo, P->range.hi, cpu_select(x < f0, f0, cpu_select(x > f1, f1, x)))
UNARY_KERNEL(in_range, P->range.lo, P->range.hi, (x >= f0 && x <= f1) ? 1.0f : 0.0f)
UNARY_KERNEL(neg, 0, 0, -x)
UNARY_KERNEL(exp, 0, 0, expf(x))
UNARY_KERNEL(log, 0, 0, logf(x))
UNARY_KERNEL(sqrt, 0, 0, sqrtf(x))
UNARY_KERNEL(rsqrt, 0, 0, 1.0f / sqrtf(x))
UNARY_KERNEL(square, 0, 0, x * x)
UNARY_KERNEL(abs, 0, 0, fabsf(x))
UNARY_KERNEL(sign, 0, 0, (float)((x > 0.0f) - (x < 0.0f)))
