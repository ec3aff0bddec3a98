// The CPU backend's kernels, one per op: cpu_<name>(ctx, node) computes node->out (and
// node->saved where the op has extra outputs) from node->src and node->p. Kernel files share
// their basenames with the op wrappers in ops/ and with the CUDA kernels in cuda/.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ctx_internal.h"
#include "op.h"

#define AG_CPU_KERNEL_DECL(E, n, s, g) void cpu_##n(ag_ctx *c, const ag_node *node);
AG_OP_LIST(AG_CPU_KERNEL_DECL)
#undef AG_CPU_KERNEL_DECL

// Runtime CPU dispatch for hot loops: a function marked CPU_DISPATCH is compiled for AVX-512
// (x86-64-v4), AVX2 + FMA (x86-64-v3) and the x86-64 baseline, and the dynamic loader picks the
// best one the running CPU supports (GCC target_clones, an ifunc). The build itself targets the
// baseline, so it runs on any x86-64 machine. The clones compute the same values: C11 mode
// keeps -ffp-contract=off (no fused multiply-adds the source did not ask for) and floating
// point sums are never reordered, so only the instructions differ. OpenMP regions must stay
// outside such functions (their outlined bodies would not be cloned): a parallel loop calls a
// CPU_DISPATCH function on each block.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CPU_DISPATCH __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CPU_DISPATCH
#endif

// cond ? a : b without a branch, so that loops over it vectorise (the compiler will not
// if-convert a select whose arms might trap, e.g. a multiplication, and falls back to a
// mispredicted branch per element on random signs).
static inline float cpu_select(bool cond, float a, float b) {
    uint32_t ua, ub, m = -(uint32_t)cond, r;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    r = (ua & m) | (ub & ~m);
    float out;
    memcpy(&out, &r, sizeof out);
    return out;
}

// Below this many elements, elementwise loops run on one thread: forking costs more.
#define CPU_PARALLEL_MIN 32768

// sgemm on row-major matrices: C = alpha * op(A) @ op(B) + beta * C (cblas conventions), on
// the calling thread.
void cpu_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *cmat, int ldc);
// C = op(A) @ op(B) + beta * C over all OpenMP threads: C's rows or columns (whichever are more)
// cut into one block per thread, each a cpu_sgemm. Each element is computed by one thread in
// its own block, so results are deterministic for a fixed thread count. For products called
// outside a parallel region.
void cpu_sgemm_parallel(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb, float beta, float *cmat, int ldc);
