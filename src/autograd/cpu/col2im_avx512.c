// col2im by whole tap planes (col2im.h) on AVX-512: each 16 floats of a phase plane summed over
// its taps in registers. Compiled for AVX-512 per function, as cpu/pgemm_avx512.c; cpu/col2im.c
// calls it only when pgemm_kernel() is PGEMM_AVX512.
#include "col2im_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define COL2IM_TARGET __attribute__((target("avx512f")))

static __mmask16 low_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

// A tap's columns as masks of a 16-float step: `first` for a step that starts a row, `last`
// for one that ends it (for Wx of 4 or 8 every step does both; for multiples of 16 the steps
// between reach all).
typedef struct {
    __mmask16 first, last;
} tap_masks;

// The 16 plane values at f..f+15 (f a multiple of 16) of a phase plane, summed over its n taps
// in tap order.
COL2IM_TARGET static inline __m512 plane_sum(const plane_tap *taps, const tap_masks *masks, int n, int64_t f,
                                             int Wx) {
    const bool starts = f % Wx == 0, ends = (f + 16) % Wx == 0 || Wx < 16;
    __m512 acc = _mm512_setzero_ps();
    for (int t = 0; t < n; t++) {
        const plane_tap *tp = &taps[t];
        if (f + 16 <= tp->f_lo || f >= tp->f_hi) continue;
        __mmask16 m = (starts ? masks[t].first : 0xFFFF) & (ends ? masks[t].last : 0xFFFF);
        if (Wx < 16) m &= low_lanes(tp->f_hi - f) & (__mmask16)~low_lanes(tp->f_lo - f);
        // 0 + the first tap is the first tap: the sum starts from zero, as in the generic col2im.
        acc = _mm512_mask_add_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, tp->src + f - tp->shift));
    }
    return acc;
}

COL2IM_TARGET void col2im_planes_avx512(const plane_taps *pt, float *im, int Hx, int Wx, int s) {
    const int64_t P = (int64_t)Hx * Wx, Wy = (int64_t)s * Wx;
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane_cols = Wx < 16 ? _mm512_and_si512(lanes, _mm512_set1_epi32(Wx - 1)) : lanes;
    tap_masks masks[4][COL2IM_MAX_TAPS];
    for (int q = 0; q < s * s; q++)
        for (int t = 0; t < pt->n[q]; t++) {
            const plane_tap *tp = &pt->taps[q][t];
            // Columns b_lo.. from a row's first step, ..b_hi from its last (step Wx - 16).
            masks[q][t].first = _mm512_cmpge_epi32_mask(lane_cols, _mm512_set1_epi32(tp->b_lo));
            masks[q][t].last =
                _mm512_cmplt_epi32_mask(lane_cols, _mm512_set1_epi32(Wx < 16 ? tp->b_hi : tp->b_hi - (Wx - 16)));
        }
    if (s == 1) {
        for (int64_t f = 0; f < P; f += 16) {
            const __m512 v = plane_sum(pt->taps[0], masks[0], pt->n[0], f, Wx);
            if (P - f >= 16)
                _mm512_storeu_ps(im + f, v);
            else
                _mm512_mask_storeu_ps(im + f, low_lanes(P - f), v);
        }
        return;
    }
    // s = 2: the two column phases of a row phase, interleaved in registers into the image:
    // im[2a + qy][2b + qx] = plane (qy, qx) at (a, b).
    const __m512i idx_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i idx_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    for (int qy = 0; qy < 2; qy++) {
        for (int64_t f = 0; f < P; f += 16) {
            const __m512 ve = plane_sum(pt->taps[2 * qy], masks[2 * qy], pt->n[2 * qy], f, Wx);
            const __m512 vo = plane_sum(pt->taps[2 * qy + 1], masks[2 * qy + 1], pt->n[2 * qy + 1], f, Wx);
            const __m512 lo = _mm512_permutex2var_ps(ve, idx_lo, vo), hi = _mm512_permutex2var_ps(ve, idx_hi, vo);
            const int64_t a = f / Wx;
            if (Wx >= 16) {  // 16 columns of one row: 32 contiguous image floats
                float *row = im + (2 * a + qy) * Wy + 2 * (f % Wx);
                _mm512_storeu_ps(row, lo);
                _mm512_storeu_ps(row + 16, hi);
                continue;
            }
            // Wx = 4 or 8: the 32 floats are 16/Wx image rows of 2*Wx, in lo then hi.
            const int rows = (int)((P - f < 16 ? P - f : 16) / Wx);
            for (int r = 0; r < rows; r++) {
                const int at = r * 2 * Wx, lane = at % 16;
                const __mmask16 m = (__mmask16)(((1u << (2 * Wx)) - 1) << lane);
                _mm512_mask_storeu_ps(im + (2 * (a + r) + qy) * Wy - lane, m, at < 16 ? lo : hi);
            }
        }
    }
}

#endif  // on other compilers and machines cpu/col2im.c never calls this file
