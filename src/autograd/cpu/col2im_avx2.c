// col2im by whole tap planes (col2im.h) on AVX2: cpu/col2im_avx512.c's sums in steps of 8 floats,
// the masks as vectors. A masked-off lane of a load reads as +0.0 and is added like the others:
// the sum of a lane starts at +0.0 and can never be -0.0 (in round-to-nearest x + y is -0.0
// only when both are), and adding +0.0 leaves every other value as it was, so the result is
// the generic col2im's bit for bit, as on AVX-512. Compiled for AVX2 per function; cpu/col2im.c
// calls it only when pgemm_kernel() is PGEMM_AVX2.
#include "col2im_isa.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define COL2IM_TARGET __attribute__((target("avx2")))

// A tap's columns as masks of an 8-float step: `first` for a step that starts a row, `last` for
// one that ends it (for Wx of 4 or 8 every step does both); `full` when it reaches every column.
typedef struct {
    __m256i first, last;
    bool full;
} tap_masks;

// The 8 plane values at f..f+7 (f a multiple of 8) of a phase plane, summed over its n taps in
// tap order.
COL2IM_TARGET static inline __m256 plane_sum(const plane_tap *taps, const tap_masks *masks, int n, int64_t f,
                                             int Wx) {
    const bool starts = f % Wx == 0, ends = (f + 8) % Wx == 0 || Wx < 8;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), all = _mm256_set1_epi32(-1);
    __m256 acc = _mm256_setzero_ps();
    for (int t = 0; t < n; t++) {
        const plane_tap *tp = &taps[t];
        if (f + 8 <= tp->f_lo || f >= tp->f_hi) continue;
        // A plain load where every lane is wanted: a masked one costs more (Zen 1: 3% more
        // time in a 4x4 transposed convolution than the generic col2im, against 1-2% less).
        if ((masks[t].full || (!starts && !ends)) && (Wx >= 8 || (f >= tp->f_lo && f + 8 <= tp->f_hi))) {
            acc = _mm256_add_ps(acc, _mm256_loadu_ps(tp->src + f - tp->shift));
            continue;
        }
        __m256i m = _mm256_and_si256(starts ? masks[t].first : all, ends ? masks[t].last : all);
        if (Wx < 8) {  // two rows a step: the lanes of the rows the tap reaches
            const __m256i below_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(tp->f_hi - f)), lanes);
            const __m256i from_lo = _mm256_cmpgt_epi32(lanes, _mm256_set1_epi32((int)(tp->f_lo - f) - 1));
            m = _mm256_and_si256(m, _mm256_and_si256(below_hi, from_lo));
        }
        acc = _mm256_add_ps(acc, _mm256_maskload_ps(tp->src + f - tp->shift, m));
    }
    return acc;
}

COL2IM_TARGET void col2im_planes_avx2(const plane_taps *pt, float *im, int Hx, int Wx, int s) {
    const int64_t P = (int64_t)Hx * Wx, Wy = (int64_t)s * Wx;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lane_cols = Wx < 8 ? _mm256_and_si256(lanes, _mm256_set1_epi32(Wx - 1)) : lanes;
    tap_masks masks[4][COL2IM_MAX_TAPS];
    for (int q = 0; q < s * s; q++)
        for (int t = 0; t < pt->n[q]; t++) {
            const plane_tap *tp = &pt->taps[q][t];
            // Columns b_lo.. from a row's first step, ..b_hi from its last (step Wx - 8).
            masks[q][t].first = _mm256_cmpgt_epi32(lane_cols, _mm256_set1_epi32(tp->b_lo - 1));
            const int last_lim = Wx < 8 ? tp->b_hi : tp->b_hi - (Wx - 8);
            masks[q][t].last = _mm256_cmpgt_epi32(_mm256_set1_epi32(last_lim), lane_cols);
            masks[q][t].full = tp->b_lo == 0 && tp->b_hi == Wx;
        }
    if (s == 1) {
        for (int64_t f = 0; f < P; f += 8) {
            const __m256 v = plane_sum(pt->taps[0], masks[0], pt->n[0], f, Wx);
            if (P - f >= 8)
                _mm256_storeu_ps(im + f, v);
            else
                _mm256_maskstore_ps(im + f, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(P - f)), lanes), v);
        }
        return;
    }
    // s = 2: the two column phases of a row phase, interleaved in registers into the image:
    // im[2a + qy][2b + qx] = plane (qy, qx) at (a, b).
    for (int qy = 0; qy < 2; qy++) {
        for (int64_t f = 0; f < P; f += 8) {
            const __m256 ve = plane_sum(pt->taps[2 * qy], masks[2 * qy], pt->n[2 * qy], f, Wx);
            const __m256 vo = plane_sum(pt->taps[2 * qy + 1], masks[2 * qy + 1], pt->n[2 * qy + 1], f, Wx);
            const __m256 ul = _mm256_unpacklo_ps(ve, vo), uh = _mm256_unpackhi_ps(ve, vo);  // e0 o0 e1 o1 | e4 o4 e5 o5
            const __m256 lo = _mm256_permute2f128_ps(ul, uh, 0x20), hi = _mm256_permute2f128_ps(ul, uh, 0x31);
            const int64_t a = f / Wx;
            if (Wx >= 8) {  // 8 columns of one row: 16 contiguous image floats
                float *row = im + (2 * a + qy) * Wy + 2 * (f % Wx);
                _mm256_storeu_ps(row, lo);
                _mm256_storeu_ps(row + 8, hi);
                continue;
            }
            // Wx = 4: rows a and a + 1 of the plane, 8 image floats each, in lo and hi.
            _mm256_storeu_ps(im + (2 * a + qy) * Wy, lo);
            if (P - f >= 8) _mm256_storeu_ps(im + (2 * (a + 1) + qy) * Wy, hi);
        }
    }
}

#endif  // on other compilers and machines cpu/col2im.c never calls this file
