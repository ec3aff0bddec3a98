// The packed GEMM of pgemm.h on AVX-512: a micro-kernel of up to 12 rows x 32 columns (24
// accumulators, each k step two vector loads of B, 12 broadcasts of A from memory folded into
// their FMAs) and the packing of B. Only this file's functions are compiled for AVX-512
// (per-function target attributes), so the binary stays x86-64 baseline; cpu/pgemm.c calls them
// only on a CPU with AVX-512, and not at all where the compiler has no x86 intrinsics.
//
// Rounding: each element of C is the sum over k, in order, of a[m][k] * b[k][n] by fused
// multiply-adds from zero, added to C when accumulating: the same products as OpenBLAS's
// kernel, in a summation order of the same kind.
#include "pgemm_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define PGEMM_TARGET __attribute__((target("avx512f,fma")))

// len <= PGEMM_NR floats from src (zeros when src is NULL) to dst.
PGEMM_TARGET static inline void copy_run(float *dst, const float *src, int len) {
    const __mmask16 k0 = len >= 16 ? 0xFFFF : (__mmask16)((1u << len) - 1);
    const __mmask16 k1 = len >= 32 ? 0xFFFF : len <= 16 ? 0 : (__mmask16)((1u << (len - 16)) - 1);
    __m512 v0 = src ? _mm512_maskz_loadu_ps(k0, src) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(dst, k0, v0);
    if (k1) {
        __m512 v1 = src ? _mm512_maskz_loadu_ps(k1, src + 16) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(dst + 16, k1, v1);
    }
}

#define PGEMM_PACK_TARGET PGEMM_TARGET
#include "pgemm_pack_runs.h"

// The tile of mr rows (a compile-time constant once inlined) x 32 columns; m0, m1 mask the
// columns of the two 16-float halves that exist in C.
PGEMM_TARGET __attribute__((always_inline)) static inline void
kernel_tile(const int mr, int kc, const float *restrict a, const float *restrict b, float *restrict c, int64_t ldc,
            bool accumulate, __mmask16 m0, __mmask16 m1) {
    __m512 c0[PGEMM_MR], c1[PGEMM_MR];
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        c0[r] = _mm512_setzero_ps();
        c1[r] = _mm512_setzero_ps();
        if (accumulate) {  // C's tile is read at the end: fetch it while the products run
            _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
        }
    }
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
        for (int r = 0; r < mr; r++) {
            const __m512 av = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
        }
        a += mr;
        b += PGEMM_NR;
    }
#pragma GCC unroll 12
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        if (accumulate) {
            c0[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), c0[r]);
            c1[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), c1[r]);
        }
        _mm512_mask_storeu_ps(cr, m0, c0[r]);
        _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
    }
}

#define PGEMM_KERNEL(MR)                                                                                   \
    PGEMM_TARGET static void kernel_##MR(int kc, const float *a, const float *b, float *c, int64_t ldc,    \
                                         bool accumulate, __mmask16 m0, __mmask16 m1) {                    \
        kernel_tile(MR, kc, a, b, c, ldc, accumulate, m0, m1);                                             \
    }
PGEMM_KERNEL(1)
PGEMM_KERNEL(2)
PGEMM_KERNEL(3)
PGEMM_KERNEL(4)
PGEMM_KERNEL(5)
PGEMM_KERNEL(6)
PGEMM_KERNEL(7)
PGEMM_KERNEL(8)
PGEMM_KERNEL(9)
PGEMM_KERNEL(10)
PGEMM_KERNEL(11)
PGEMM_KERNEL(12)
#undef PGEMM_KERNEL

typedef void (*kernel_fn)(int, const float *, const float *, float *, int64_t, bool, __mmask16, __mmask16);
static const kernel_fn kernels[PGEMM_MR + 1] = {NULL,      kernel_1, kernel_2, kernel_3,  kernel_4,  kernel_5, kernel_6,
                                               kernel_7,  kernel_8, kernel_9, kernel_10, kernel_11, kernel_12};

PGEMM_TARGET void pgemm_compute_avx512(int M, int N, int kc, const float *apack, const float *bpack, float *c,
                                       int64_t ldc, bool accumulate, int64_t seg, int64_t seg_stride) {
    const int panels = (N + PGEMM_NR - 1) / PGEMM_NR;
    for (int m0 = 0; m0 < M; m0 += PGEMM_MR) {
        const int mr = M - m0 < PGEMM_MR ? M - m0 : PGEMM_MR;
        const kernel_fn kern = kernels[mr];
        const float *a = apack + (int64_t)m0 * kc;
        float *cm = c + m0 * ldc;
        const a_prefetch pf = a_prefetch_plan(a, M, m0, mr, kc, panels);
        for (int p = 0; p < panels; p++) {
            const int n = p * PGEMM_NR, nr = N - n < PGEMM_NR ? N - n : PGEMM_NR;
            a_prefetch_slice(&pf, p);
            const __mmask16 k0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
            const __mmask16 k1 = nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
            kern(kc, a, bpack + (int64_t)p * kc * PGEMM_NR, cm + n / seg * seg_stride + n % seg, ldc, accumulate, k0,
                 k1);
        }
    }
}

PGEMM_TARGET void pgemm_pack_b_avx512(int kc, int N, const float *b, int64_t ldb, float *bpack) {
    pack_matrix(kc, N, b, ldb, bpack);
}

PGEMM_TARGET void pgemm_pack_b_rows_avx512(float *bpack, int kc, int k, int64_t n0, int ho, int wo, int lo, int hi,
                                           const float *src, int64_t src_ld) {
    const int64_t panel = (int64_t)kc * PGEMM_NR;
    float *dst = bpack + n0 / PGEMM_NR * panel + (int64_t)k * PGEMM_NR;
    int j = (int)(n0 % PGEMM_NR);
    if ((wo == 4 || wo == 8) && j % wo == 0) {
        pack_rows_small(dst, panel, j, ho, wo, lo, hi, src, src_ld);
        return;
    }
    if (wo <= PGEMM_NR && PGEMM_NR % wo == 0 && j % wo == 0) {
        // Runs never straddle a panel: one masked copy per window row, the masks fixed.
        const __mmask16 k0 = wo >= 16 ? 0xFFFF : (__mmask16)((1u << wo) - 1);
        const __mmask16 k1 = wo >= 32 ? 0xFFFF : wo <= 16 ? 0 : (__mmask16)((1u << (wo - 16)) - 1);
        const __m512 zero = _mm512_setzero_ps();
        for (int oh = 0; oh < ho; oh++) {
            float *d = dst + j;
            if (oh >= lo && oh < hi) {
                const float *sr = src + (oh - lo) * src_ld;
                _mm512_mask_storeu_ps(d, k0, _mm512_maskz_loadu_ps(k0, sr));
                if (k1) _mm512_mask_storeu_ps(d + 16, k1, _mm512_maskz_loadu_ps(k1, sr + 16));
            } else {
                _mm512_mask_storeu_ps(d, k0, zero);
                if (k1) _mm512_mask_storeu_ps(d + 16, k1, zero);
            }
            panel_advance(&dst, &j, wo, panel);
        }
        return;
    }
    pack_rows_runs(dst, panel, j, ho, wo, lo, hi, src, src_ld);
}

// 16 rows of 16 floats transposed in registers: r[i] lane j -> r[j] lane i. Three rounds of
// shuffles (pairs, quads, 128-bit lanes), 64 in all.
PGEMM_TARGET static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {  // r[4g + e], 128-bit lane L: element 4L + e of rows 4g..4g+3
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int e = 0; e < 4; e++) {
        const __m512 ab_lo = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x44);
        const __m512 ab_hi = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xEE);
        const __m512 cd_lo = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x44);
        const __m512 cd_hi = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xEE);
        t[e] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);
        t[4 + e] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);
        t[8 + e] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);
        t[12 + e] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

PGEMM_TARGET void pgemm_pack_b_transpose_avx512(float *bpack, int kc, int k, int n0, const float *base,
                                                const int64_t *offs, int nt, int step) {
    __m512 r[16];
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    for (int t = 0; t < 16; t++) {
        if (t >= nt) {
            r[t] = _mm512_setzero_ps();
        } else if (step == 1) {
            r[t] = _mm512_loadu_ps(base + offs[t]);
        } else {  // every other float of 31: the second load stops at the last one read
            const float *src = base + offs[t];
            r[t] = _mm512_permutex2var_ps(_mm512_loadu_ps(src), even, _mm512_maskz_loadu_ps(0x7FFF, src + 16));
        }
    }
    transpose16(r);
    float *dst = bpack + (int64_t)(n0 / PGEMM_NR) * kc * PGEMM_NR + (int64_t)k * PGEMM_NR + n0 % PGEMM_NR;
    for (int p = 0; p < 16; p++) _mm512_storeu_ps(dst + p * PGEMM_NR, r[p]);
}

PGEMM_TARGET void pgemm_pack_b_gather_avx512(float *bpack, int kc, int k, const float *base, const int64_t *offs,
                                             int runs, int len) {
    const int64_t panel = (int64_t)kc * PGEMM_NR;
    float *dst = bpack + (int64_t)k * PGEMM_NR;
    if (len == 4) {
        pack_gather_4(dst, panel, base, offs, runs);
        return;
    }
    if (len <= 16 && PGEMM_NR % len == 0) {  // runs never straddle a panel
        const __mmask16 m = (__mmask16)((1u << len) - 1);
        int j = 0;
        for (int r = 0; r < runs; r++) {
            _mm512_mask_storeu_ps(dst + j, m, _mm512_maskz_loadu_ps(m, base + offs[r]));
            panel_advance(&dst, &j, len, panel);
        }
        return;
    }
    pack_gather_runs(dst, panel, base, offs, runs, len);
}

#endif  // on other compilers and machines cpu/pgemm.c never calls this file
