// The CPU backend's kernels, one per op: cpu_<name>(ctx, node) computes node->out (and
// node->saved where the op has extra outputs) from node->src and node->p. Kernel files share
// their basenames with the op wrappers in ops/ and with the CUDA kernels in cuda/.
#pragma once
#include <stdint.h>

#include "../ctx.h"
#include "../op.h"

#define AG_CPU_KERNEL_DECL(E, n, s, g) void cpu_##n(ag_ctx *c, const ag_node *node);
AG_OP_LIST(AG_CPU_KERNEL_DECL)
#undef AG_CPU_KERNEL_DECL

// Below this many elements, elementwise loops run on one thread: forking costs more.
#define CPU_PARALLEL_MIN 32768

// sgemm on row-major matrices: C = alpha * op(A) @ op(B) + beta * C (cblas conventions).
void cpu_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *cmat, int ldc);
