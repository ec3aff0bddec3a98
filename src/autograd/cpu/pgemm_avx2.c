// The packed GEMM of pgemm.h on AVX2 + FMA (the x86 CPUs without AVX-512: AMD before Zen 4,
// Intel's Haswell to Comet Lake and its client cores since). Sixteen 8-float registers hold a
// tile of 6 rows x 16 columns (12 accumulators, two vectors of B, one broadcast of A), so the
// packed layout's 12 x 32 tile runs as four: rows 0-5 and 6-11 of each 16-column half of a
// panel, the two row blocks back to back on the same half panel while it is in the cache (a
// shorter tail tile in two blocks as equal as they come). The packing of B shares its walks
// with cpu/pgemm_avx512.c (cpu/pgemm_pack_runs.h), with 8-float moves where that file masks.
// Compiled for AVX2 per function; cpu/pgemm.c calls this file only on a CPU with AVX2 and FMA.
//
// Rounding: as on AVX-512, each element of C is zero plus a[m][k] * b[k][n] by fused
// multiply-adds in k order, added to C when accumulating: the same bits as that kernel.
#include "pgemm_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define SUB_ROWS 6
#define SUB_COLS 16

// len <= PGEMM_NR floats from src (zeros when src is NULL) to dst.
AVX2_TARGET static inline void copy_run(float *dst, const float *src, int len) {
    int i = 0;
    if (src) {
        for (; i + 8 <= len; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
        for (; i < len; i++) dst[i] = src[i];
    } else {
        for (; i + 8 <= len; i += 8) _mm256_storeu_ps(dst + i, _mm256_setzero_ps());
        for (; i < len; i++) dst[i] = 0.0f;
    }
}

#define PGEMM_PACK_TARGET AVX2_TARGET
#include "pgemm_pack_runs.h"

// Rows [0, rows) (a compile-time constant once inlined) x the first nc <= 16 columns of a
// half panel. A's values of column k are at a + k*as (as: the packed tile's row count).
AVX2_TARGET __attribute__((always_inline)) static inline void
kernel_sub(const int rows, int kc, const float *restrict a, int as, const float *restrict b, float *restrict c,
           int64_t ldc, bool accumulate, int nc) {
    __m256 c0[SUB_ROWS], c1[SUB_ROWS];
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++) {
        c0[r] = _mm256_setzero_ps();
        c1[r] = _mm256_setzero_ps();
        if (accumulate) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
    }
#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
        for (int r = 0; r < rows; r++) {
            const __m256 av = _mm256_broadcast_ss(a + r);
            c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
        }
        a += as;
        b += PGEMM_NR;
    }
    if (nc == SUB_COLS) {
#pragma GCC unroll 6
        for (int r = 0; r < rows; r++) {
            float *cr = c + r * ldc;
            if (accumulate) {
                c0[r] = _mm256_add_ps(_mm256_loadu_ps(cr), c0[r]);
                c1[r] = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c1[r]);
            }
            _mm256_storeu_ps(cr, c0[r]);
            _mm256_storeu_ps(cr + 8, c1[r]);
        }
        return;
    }
    // The last panel's tail columns, through a buffer. Unrolled like the loops above, so that
    // each register is named by a constant: a loop over them by a variable row would keep the
    // accumulators in memory for the whole kernel.
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++) {
        float t[SUB_COLS], *cr = c + r * ldc;
        _mm256_storeu_ps(t, c0[r]);
        _mm256_storeu_ps(t + 8, c1[r]);
        for (int j = 0; j < nc; j++) cr[j] = accumulate ? cr[j] + t[j] : t[j];
    }
}

#define AVX2_KERNEL(R)                                                                                           \
    AVX2_TARGET static void kernel_##R(int kc, const float *a, int as, const float *b, float *c, int64_t ldc,    \
                                       bool accumulate, int nc) {                                               \
        kernel_sub(R, kc, a, as, b, c, ldc, accumulate, nc);                                                     \
    }
AVX2_KERNEL(1)
AVX2_KERNEL(2)
AVX2_KERNEL(3)
AVX2_KERNEL(4)
AVX2_KERNEL(5)
AVX2_KERNEL(6)
#undef AVX2_KERNEL

typedef void (*kernel_fn)(int, const float *, int, const float *, float *, int64_t, bool, int);
static const kernel_fn kernels[SUB_ROWS + 1] = {NULL, kernel_1, kernel_2, kernel_3, kernel_4, kernel_5, kernel_6};

AVX2_TARGET void pgemm_compute_avx2(int M, int N, int kc, const float *apack, const float *bpack, float *c,
                                    int64_t ldc, bool accumulate, int64_t seg, int64_t seg_stride) {
    const int panels = (N + PGEMM_NR - 1) / PGEMM_NR;
    for (int m0 = 0; m0 < M; m0 += PGEMM_MR) {
        const int mr = M - m0 < PGEMM_MR ? M - m0 : PGEMM_MR;
        const float *a = apack + (int64_t)m0 * kc;
        float *cm = c + m0 * ldc;
        const a_prefetch pf = a_prefetch_plan(a, M, m0, mr, kc, panels);
        for (int p = 0; p < panels; p++) {
            const int n = p * PGEMM_NR, nr = N - n < PGEMM_NR ? N - n : PGEMM_NR;
            a_prefetch_slice(&pf, p);
            const float *bp = bpack + (int64_t)p * kc * PGEMM_NR;
            float *cp = cm + n / seg * seg_stride + n % seg;
            for (int h = 0; h * SUB_COLS < nr; h++) {
                const int nc = nr - h * SUB_COLS < SUB_COLS ? nr - h * SUB_COLS : SUB_COLS;
                // Tiles of 7-11 rows in two near-equal blocks (8 as 4 + 4, not 6 + 2): a block of
                // one or two rows has too few accumulators to hide the FMA latency.
                const int first = mr > SUB_ROWS ? (mr + 1) / 2 : mr;
                kernels[first](kc, a, mr, bp + h * SUB_COLS, cp + h * SUB_COLS, ldc, accumulate, nc);
                if (mr > first)
                    kernels[mr - first](kc, a + first, mr, bp + h * SUB_COLS, cp + first * ldc + h * SUB_COLS, ldc,
                                        accumulate, nc);
            }
        }
    }
}

AVX2_TARGET void pgemm_pack_b_avx2(int kc, int N, const float *b, int64_t ldb, float *bpack) {
    pack_matrix(kc, N, b, ldb, bpack);
}

AVX2_TARGET void pgemm_pack_b_rows_avx2(float *bpack, int kc, int k, int64_t n0, int ho, int wo, int lo, int hi,
                                        const float *src, int64_t src_ld) {
    const int64_t panel = (int64_t)kc * PGEMM_NR;
    float *dst = bpack + n0 / PGEMM_NR * panel + (int64_t)k * PGEMM_NR;
    const int j = (int)(n0 % PGEMM_NR);
    if ((wo == 4 || wo == 8) && j % wo == 0)
        pack_rows_small(dst, panel, j, ho, wo, lo, hi, src, src_ld);
    else
        pack_rows_runs(dst, panel, j, ho, wo, lo, hi, src, src_ld);
}

AVX2_TARGET void pgemm_pack_b_gather_avx2(float *bpack, int kc, int k, const float *base, const int64_t *offs,
                                          int runs, int len) {
    const int64_t panel = (int64_t)kc * PGEMM_NR;
    float *dst = bpack + (int64_t)k * PGEMM_NR;
    if (len == 4)
        pack_gather_4(dst, panel, base, offs, runs);
    else
        pack_gather_runs(dst, panel, base, offs, runs, len);
}

// 8 rows of 8 floats transposed in registers: r[i] lane j -> r[j] lane i.
AVX2_TARGET static inline void transpose8(__m256 r[8]) {
    __m256 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x20);
        r[4 + i] = _mm256_permute2f128_ps(s[i], s[4 + i], 0x31);
    }
}

// Floats [8h, 8h + 8) of the run src[p * step], p in [0, 16): for step 2 every other float,
// the last load stopping at the last one read (src[30]).
AVX2_TARGET static inline __m256 run_half(const float *src, int h, int step) {
    if (step == 1) return _mm256_loadu_ps(src + 8 * h);
    const float *s = src + 16 * h;
    const __m256 lo = _mm256_loadu_ps(s);
    const __m256 hi = h ? _mm256_maskload_ps(s + 8, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0))
                        : _mm256_loadu_ps(s + 8);
    // evens of lo and hi, 128-bit lane by lane: lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6, then the
    // 64-bit pairs put in order
    const __m256 ev = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
}

AVX2_TARGET void pgemm_pack_b_transpose_avx2(float *bpack, int kc, int k, int n0, const float *base,
                                             const int64_t *offs, int nt, int step) {
    float *dst = bpack + (int64_t)(n0 / PGEMM_NR) * kc * PGEMM_NR + (int64_t)k * PGEMM_NR + n0 % PGEMM_NR;
    // Four 8 x 8 blocks: windows [8tb, 8tb + 8) x taps' rows [8h, 8h + 8).
    for (int h = 0; h < 2; h++)
        for (int tb = 0; tb < 2; tb++) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) {
                const int t = 8 * tb + i;
                r[i] = t < nt ? run_half(base + offs[t], h, step) : _mm256_setzero_ps();
            }
            transpose8(r);
            for (int p = 0; p < 8; p++) _mm256_storeu_ps(dst + (8 * h + p) * PGEMM_NR + 8 * tb, r[p]);
        }
}

#endif  // on other compilers and machines cpu/pgemm.c never calls this file
