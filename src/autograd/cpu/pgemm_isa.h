// The per-instruction-set halves of pgemm.h, for cpu/pgemm.c to dispatch to: each function
// has pgemm.h's contract. cpu/pgemm.c calls them only when the CPU has the set, and they exist
// only where the compiler has x86 intrinsics.
#pragma once
#include <stdint.h>

#include "pgemm.h"

#define PGEMM_ISA_DECLARE(sfx)                                                                                    \
    void pgemm_compute_##sfx(int M, int N, int kc, const float *apack, const float *bpack, float *c, int64_t ldc, \
                             bool accumulate, int64_t seg, int64_t seg_stride);                                   \
    void pgemm_pack_b_##sfx(int kc, int N, const float *b, int64_t ldb, float *bpack);                            \
    void pgemm_pack_b_rows_##sfx(float *bpack, int kc, int k, int64_t n0, int ho, int wo, int lo, int hi,         \
                                 const float *src, int64_t src_ld);                                               \
    void pgemm_pack_b_gather_##sfx(float *bpack, int kc, int k, const float *base, const int64_t *offs, int runs, \
                                   int len);                                                                      \
    void pgemm_pack_b_transpose_##sfx(float *bpack, int kc, int k, int n0, const float *base, const int64_t *offs, \
                                      int nt, int step);

PGEMM_ISA_DECLARE(avx512)
PGEMM_ISA_DECLARE(avx2)
#undef PGEMM_ISA_DECLARE
