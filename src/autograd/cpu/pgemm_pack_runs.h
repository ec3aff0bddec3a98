// What cpu/pgemm_avx512.c and cpu/pgemm_avx2.c share: the walks over packed B's panels and
// the prefetch of the next row tile of A. Each includes this after <immintrin.h> and after
// defining PGEMM_PACK_TARGET (its target attribute) and copy_run(dst, src, len): len <=
// PGEMM_NR floats from src, zeros when src is NULL, in its own instructions. The functions
// inline into the includer's, compiled for its instruction set.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "pgemm.h"

// Column j of the panel at *dst moves on by len floats, to the next panel (panel floats on) at
// the end of this one.
static inline void panel_advance(float **dst, int *j, int len, int64_t panel) {
    *j += len;
    if (*j == PGEMM_NR) {
        *j = 0;
        *dst += panel;
    }
}

// pgemm_pack_b.
PGEMM_PACK_TARGET static inline void pack_matrix(int kc, int N, const float *b, int64_t ldb, float *bpack) {
    for (int k = 0; k < kc; k++)
        for (int n = 0; n < N; n += PGEMM_NR)
            copy_run(bpack + (int64_t)n * kc + k * PGEMM_NR, b + k * ldb + n, N - n < PGEMM_NR ? N - n : PGEMM_NR);
}

// pgemm_pack_b_rows from column j of the panel at dst (panel floats a panel), for window rows
// of wo = 4 or 8 floats with j a multiple of wo: runs never straddle a panel, and each is one
// plain 16- or 32-byte move.
PGEMM_PACK_TARGET static inline void pack_rows_small(float *dst, int64_t panel, int j, int ho, int wo, int lo, int hi,
                                                     const float *src, int64_t src_ld) {
    for (int oh = 0; oh < ho; oh++) {
        float *d = dst + j;
        const bool in = oh >= lo && oh < hi;
        const float *sr = src + (in ? (oh - lo) * src_ld : 0);
        if (wo == 4)
            _mm_storeu_ps(d, in ? _mm_loadu_ps(sr) : _mm_setzero_ps());
        else
            _mm256_storeu_ps(d, in ? _mm256_loadu_ps(sr) : _mm256_setzero_ps());
        panel_advance(&dst, &j, wo, panel);
    }
}

// pgemm_pack_b_rows for any row width: each row in runs cut at the panels' ends.
PGEMM_PACK_TARGET static inline void pack_rows_runs(float *dst, int64_t panel, int j, int ho, int wo, int lo, int hi,
                                                    const float *src, int64_t src_ld) {
    for (int oh = 0; oh < ho; oh++) {
        const float *s = oh >= lo && oh < hi ? src + (oh - lo) * src_ld : NULL;
        for (int done = 0; done < wo;) {
            const int len = wo - done < PGEMM_NR - j ? wo - done : PGEMM_NR - j;
            copy_run(dst + j, s ? s + done : NULL, len);
            done += len;
            panel_advance(&dst, &j, len, panel);
        }
    }
}

// pgemm_pack_b_gather for runs of 4 floats (4x4 kernels): one 16-byte move a run.
PGEMM_PACK_TARGET static inline void pack_gather_4(float *dst, int64_t panel, const float *base, const int64_t *offs,
                                                   int runs) {
    int j = 0;
    for (int r = 0; r < runs; r++) {
        _mm_storeu_ps(dst + j, _mm_loadu_ps(base + offs[r]));
        panel_advance(&dst, &j, 4, panel);
    }
}

// pgemm_pack_b_gather for any run length: runs cut at the panels' ends.
PGEMM_PACK_TARGET static inline void pack_gather_runs(float *dst, int64_t panel, const float *base,
                                                      const int64_t *offs, int runs, int len) {
    int j = 0;
    for (int r = 0; r < runs; r++) {
        const float *src = base + offs[r];
        for (int done = 0; done < len;) {
            const int n = len - done < PGEMM_NR - j ? len - done : PGEMM_NR - j;
            copy_run(dst + j, src + done, n);
            done += n;
            panel_advance(&dst, &j, n, panel);
        }
    }
}

// The next row tile's packed A (contiguous after this one's), fetched into the cache a slice per
// column panel while this tile runs: a large weight matrix comes from memory, and its first
// panel would otherwise wait for every line. Nothing after the last tile.
typedef struct {
    const char *next;
    int64_t bytes, slice;
} a_prefetch;

// For the tile of mr rows at row m0 of M, at `a` in apack (kc columns), over `panels` panels.
static inline a_prefetch a_prefetch_plan(const float *a, int M, int m0, int mr, int kc, int panels) {
    const int next_rows = M - m0 - mr < PGEMM_MR ? M - m0 - mr : PGEMM_MR;
    const int64_t bytes = (int64_t)next_rows * kc * (int64_t)sizeof(float);
    return (a_prefetch){(const char *)(a + (int64_t)mr * kc), bytes, (bytes / panels + 63) & ~(int64_t)63};
}

// Panel p's slice.
static inline void a_prefetch_slice(const a_prefetch *pf, int p) {
    for (int64_t off = p * pf->slice; off < (p + 1) * pf->slice && off < pf->bytes; off += 64)
        _mm_prefetch(pf->next + off, _MM_HINT_T0);
}
