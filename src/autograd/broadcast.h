// Iteration plans for broadcasting kernels, shared by the backends (host code: a CUDA kernel
// takes the plan by value): an output shape and up to two inputs whose shapes broadcast to it,
// reduced to as few dims as possible (size-1 dims dropped, neighbours that stay contiguous for
// every operand merged). The innermost dim then has input strides 0 or 1.
#pragma once
#include <stdint.h>

#include "shape.h"

typedef struct ag_bplan {
    int nd;                       // >= 1
    int64_t n[AG_MAX_DIMS];       // sizes of the merged dims
    int64_t s[2][AG_MAX_DIMS];    // element strides of operand 0 and 1 (0 where broadcast)
    int64_t outer;                // product of n[0..nd-1)
} ag_bplan;

// nin = 1 or 2 inputs with shapes in[] that broadcast to out.
ag_bplan ag_bplan_make(ag_shape out, int nin, const ag_shape *in);
// Offsets of operands for the outer index o (the flattened index over dims 0..nd-2).
static inline void ag_bplan_offsets(const ag_bplan *p, int64_t o, int64_t *off0, int64_t *off1) {
    int64_t a = 0, b = 0;
    for (int d = p->nd - 2; d >= 0; d--) {
        int64_t i = o % p->n[d];
        o /= p->n[d];
        a += i * p->s[0][d];
        b += i * p->s[1][d];
    }
    *off0 = a;
    *off1 = b;
}
