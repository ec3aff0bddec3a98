// pgemm.h's choice of kernel and its dispatch to cpu/pgemm_avx512.c or cpu/pgemm_avx2.c, and the
// packing of A, which is plain copies and the same for both (baseline x86-64: SSE).
#include "pgemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgemm_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PGEMM_X86 1
#else
#define PGEMM_X86 0
#endif

// -1 until read; racing first calls compute the same value.
static int pgemm_state = -1;

bool pgemm_isa_supported(pgemm_isa isa) {
#if PGEMM_X86
    __builtin_cpu_init();
    switch (isa) {
    case PGEMM_OFF: return true;
    case PGEMM_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PGEMM_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    }
    return false;
#else
    return isa == PGEMM_OFF;
#endif
}

static pgemm_isa best_supported(void) {
    return pgemm_isa_supported(PGEMM_AVX512) ? PGEMM_AVX512 : pgemm_isa_supported(PGEMM_AVX2) ? PGEMM_AVX2 : PGEMM_OFF;
}

bool pgemm_supported(void) { return best_supported() != PGEMM_OFF; }

const char *pgemm_isa_name(pgemm_isa isa) {
    return isa == PGEMM_AVX512 ? "avx512" : isa == PGEMM_AVX2 ? "avx2" : "blas";
}

// GAN_CONV_KERNEL: a kernel the CPU lacks gives the best below it; an unknown value, the best.
static pgemm_isa from_environment(void) {
    const char *env = getenv("GAN_CONV_KERNEL");
    const pgemm_isa best = best_supported();
    if (!env || !*env || strcmp(env, "auto") == 0) return best;
    for (pgemm_isa isa = PGEMM_OFF; isa <= PGEMM_AVX512; isa++) {
        if (strcmp(env, pgemm_isa_name(isa)) != 0) continue;
        if (isa > best)
            fprintf(stderr, "gan: GAN_CONV_KERNEL=%s: this CPU lacks it; the convolutions use %s\n", env,
                    pgemm_isa_name(best));
        return isa > best ? best : isa;
    }
    fprintf(stderr, "gan: GAN_CONV_KERNEL=%s: expected blas, avx2, avx512 or auto; the convolutions use %s\n", env,
            pgemm_isa_name(best));
    return best;
}

pgemm_isa pgemm_kernel(void) {
    if (pgemm_state < 0) pgemm_state = (int)from_environment();
    return (pgemm_isa)pgemm_state;
}

bool pgemm_enabled(void) { return pgemm_kernel() != PGEMM_OFF; }

void pgemm_set_kernel(pgemm_isa isa) { pgemm_state = (int)(pgemm_isa_supported(isa) ? isa : PGEMM_OFF); }

void pgemm_set_enabled(bool on) { pgemm_set_kernel(on ? best_supported() : PGEMM_OFF); }

// The packing of B and the products, by kernel. Callers check pgemm_enabled() first.
#if PGEMM_X86
#define PGEMM_DISPATCH(fn, ...)                       \
    do {                                              \
        if (pgemm_kernel() == PGEMM_AVX512)           \
            fn##_avx512(__VA_ARGS__);                 \
        else                                          \
            fn##_avx2(__VA_ARGS__);                   \
    } while (0)
#else
#define PGEMM_DISPATCH(fn, ...) abort()
#endif

void pgemm_compute(int M, int N, int kc, const float *apack, const float *bpack, float *c, int64_t ldc,
                   bool accumulate, int64_t seg, int64_t seg_stride) {
    PGEMM_DISPATCH(pgemm_compute, M, N, kc, apack, bpack, c, ldc, accumulate, seg, seg_stride);
}

void pgemm_pack_b(int kc, int N, const float *b, int64_t ldb, float *bpack) {
    PGEMM_DISPATCH(pgemm_pack_b, kc, N, b, ldb, bpack);
}

void pgemm_pack_b_rows(float *bpack, int kc, int k, int64_t n0, int ho, int wo, int lo, int hi, const float *src,
                       int64_t src_ld) {
    PGEMM_DISPATCH(pgemm_pack_b_rows, bpack, kc, k, n0, ho, wo, lo, hi, src, src_ld);
}

void pgemm_pack_b_gather(float *bpack, int kc, int k, const float *base, const int64_t *offs, int runs, int len) {
    PGEMM_DISPATCH(pgemm_pack_b_gather, bpack, kc, k, base, offs, runs, len);
}

void pgemm_pack_b_transpose(float *bpack, int kc, int k, int n0, const float *base, const int64_t *offs, int nt,
                            int step) {
    PGEMM_DISPATCH(pgemm_pack_b_transpose, bpack, kc, k, n0, base, offs, nt, step);
}

void pgemm_pack_a_cols(int M, int kc, int k0, int len, const float *a, int64_t lda, float *apack) {
    for (int m0 = 0; m0 < M; m0 += PGEMM_MR) {
        const int mr = M - m0 < PGEMM_MR ? M - m0 : PGEMM_MR;
        float *dst = apack + (int64_t)m0 * kc + (int64_t)k0 * mr;
        const float *src = a + (int64_t)m0 * lda;
        int k = 0;
#if PGEMM_X86
        if (mr % 4 == 0) {  // 4 x 4 blocks transposed in registers
            for (; k + 4 <= len; k += 4)
                for (int r = 0; r < mr; r += 4) {
                    __m128 r0 = _mm_loadu_ps(src + r * lda + k), r1 = _mm_loadu_ps(src + (r + 1) * lda + k);
                    __m128 r2 = _mm_loadu_ps(src + (r + 2) * lda + k), r3 = _mm_loadu_ps(src + (r + 3) * lda + k);
                    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                    _mm_storeu_ps(dst + k * mr + r, r0);
                    _mm_storeu_ps(dst + (k + 1) * mr + r, r1);
                    _mm_storeu_ps(dst + (k + 2) * mr + r, r2);
                    _mm_storeu_ps(dst + (k + 3) * mr + r, r3);
                }
        }
#endif
        for (int r = 0; r < mr; r++)
            for (int kk = k; kk < len; kk++) dst[kk * mr + r] = src[r * lda + kk];
    }
}

void pgemm_pack_a(int M, int kc, const float *a, int64_t lda, float *apack) {
    pgemm_pack_a_cols(M, kc, 0, kc, a, lda, apack);
}

void pgemm_pack_at(int M, int kc, const float *at, int64_t ldat, float *apack) {
    for (int m0 = 0; m0 < M; m0 += PGEMM_MR) {
        const int mr = M - m0 < PGEMM_MR ? M - m0 : PGEMM_MR;
        float *dst = apack + (int64_t)m0 * kc;
        for (int k = 0; k < kc; k++)
            for (int r = 0; r < mr; r++) dst[k * mr + r] = at[(int64_t)k * ldat + m0 + r];
    }
}
