// col2im by whole tap planes (col2im.h), on AVX-512. Compiled for AVX-512 per function, as
// cpu/pgemm_avx512.c; callers check pgemm_kernel() == PGEMM_AVX512 first.
#include "col2im.h"

#include <stdlib.h>

#define COL2IM_MAX_TAPS 64

static bool planes_off;  // set only by col2im_planes_set_enabled (tests, benchmarks)

bool col2im_planes_enabled(void) { return !planes_off; }
void col2im_planes_set_enabled(bool on) { planes_off = !on; }

bool col2im_planes_fits(int Hy, int Wy, int Hx, int Wx, int kh, int kw, int sh, int sw) {
    if (sh != sw || (sh != 1 && sh != 2) || Hx < 1 || Wx < 1 || kh * kw > COL2IM_MAX_TAPS) return false;
    if (Hy != sh * Hx || Wy != sw * Wx) return false;
    return Wx == 4 || Wx == 8 || Wx % 16 == 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define COL2IM_TARGET __attribute__((target("avx512f")))

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static __mmask16 low_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

// One tap as seen from its phase plane (Hx, Wx): plane[f] gets src[f - shift] for the flat
// positions f in [f_lo, f_hi) (the rows it reaches) whose column it reaches. The columns as
// masks of a 16-float step: `first` for a step that starts a row, `last` for one that ends it
// (for Wx of 4 or 8 every step does both; for multiples of 16 the steps between reach all).
typedef struct {
    const float *src;
    int64_t shift, f_lo, f_hi;
    __mmask16 first, last;
} plane_tap;

// The 16 plane values at f..f+15 (f a multiple of 16) of a phase plane, summed over its n taps
// in tap order.
COL2IM_TARGET static inline __m512 plane_sum(const plane_tap *taps, int n, int64_t f, int Wx) {
    const bool starts = f % Wx == 0, ends = (f + 16) % Wx == 0 || Wx < 16;
    __m512 acc = _mm512_setzero_ps();
    for (int t = 0; t < n; t++) {
        const plane_tap *tp = &taps[t];
        if (f + 16 <= tp->f_lo || f >= tp->f_hi) continue;
        __mmask16 m = (starts ? tp->first : 0xFFFF) & (ends ? tp->last : 0xFFFF);
        if (Wx < 16) m &= low_lanes(tp->f_hi - f) & (__mmask16)~low_lanes(tp->f_lo - f);
        // 0 + the first tap is the first tap: the sum starts from zero, as in the generic col2im.
        acc = _mm512_mask_add_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, tp->src + f - tp->shift));
    }
    return acc;
}

COL2IM_TARGET void col2im_planes(const float *col, int64_t ld, float *im, int Hx, int Wx, int kh, int kw, int s,
                                 int ph, int pw) {
    const int64_t P = (int64_t)Hx * Wx, Wy = (int64_t)s * Wx;
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane_cols = Wx < 16 ? _mm512_and_si512(lanes, _mm512_set1_epi32(Wx - 1)) : lanes;
    // The taps of each phase plane q, in tap order.
    plane_tap taps[4][COL2IM_MAX_TAPS];
    int n[4] = {0, 0, 0, 0};
    for (int i = 0; i < kh; i++) {
        const int dy = floor_div(i - ph, s), qy = i - ph - s * dy;
        const int a_lo = dy > 0 ? dy : 0, a_hi = Hx + dy < Hx ? Hx + dy : Hx;
        for (int j = 0; j < kw; j++) {
            const int dx = floor_div(j - pw, s), qx = j - pw - s * dx, q = qy * s + qx;
            const int b_lo = dx > 0 ? dx : 0, b_hi = Wx + dx < Wx ? Wx + dx : Wx;
            plane_tap *tp = &taps[q][n[q]++];
            tp->src = col + (int64_t)(i * kw + j) * ld;
            tp->shift = (int64_t)dy * Wx + dx;
            tp->f_lo = (int64_t)a_lo * Wx;
            tp->f_hi = a_hi > a_lo ? (int64_t)a_hi * Wx : tp->f_lo;
            // Columns b_lo.. from a row's first step, ..b_hi from its last (step Wx - 16).
            tp->first = _mm512_cmpge_epi32_mask(lane_cols, _mm512_set1_epi32(b_lo));
            tp->last = _mm512_cmplt_epi32_mask(lane_cols, _mm512_set1_epi32(Wx < 16 ? b_hi : b_hi - (Wx - 16)));
        }
    }
    if (s == 1) {
        for (int64_t f = 0; f < P; f += 16) {
            const __m512 v = plane_sum(taps[0], n[0], f, Wx);
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
            const __m512 ve = plane_sum(taps[2 * qy], n[2 * qy], f, Wx);
            const __m512 vo = plane_sum(taps[2 * qy + 1], n[2 * qy + 1], f, Wx);
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

#else  // no x86 AVX-512: never enabled, never called
void col2im_planes(const float *col, int64_t ld, float *im, int Hx, int Wx, int kh, int kw, int s, int ph,
                   int pw) {
    (void)col, (void)ld, (void)im, (void)Hx, (void)Wx, (void)kh, (void)kw, (void)s, (void)ph, (void)pw;
    abort();
}
#endif
