// col2im by whole tap planes (col2im.h): the geometry of the taps, here, and the sums on
// AVX-512 (cpu/col2im_avx512.c) or AVX2 (cpu/col2im_avx2.c), as pgemm_kernel() says.
#include "col2im.h"

#include <stdlib.h>

#include "col2im_isa.h"
#include "pgemm.h"

static bool planes_off;  // set only by col2im_planes_set_enabled (tests, benchmarks)

bool col2im_planes_enabled(void) { return !planes_off; }
void col2im_planes_set_enabled(bool on) { planes_off = !on; }

bool col2im_planes_fits(int Hy, int Wy, int Hx, int Wx, int kh, int kw, int sh, int sw) {
    if (sh != sw || (sh != 1 && sh != 2) || Hx < 1 || Wx < 1 || kh * kw > COL2IM_MAX_TAPS) return false;
    if (Hy != sh * Hx || Wy != sw * Wx) return false;
    return Wx == 4 || Wx == 8 || Wx % 16 == 0;
}

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void col2im_planes(const float *col, int64_t ld, float *im, int Hx, int Wx, int kh, int kw, int s, int ph, int pw) {
#if defined(__x86_64__) && defined(__GNUC__)
    plane_taps pt = {.n = {0, 0, 0, 0}};
    for (int i = 0; i < kh; i++) {
        const int dy = floor_div(i - ph, s), qy = i - ph - s * dy;
        const int a_lo = dy > 0 ? dy : 0, a_hi = Hx + dy < Hx ? Hx + dy : Hx;
        for (int j = 0; j < kw; j++) {
            const int dx = floor_div(j - pw, s), qx = j - pw - s * dx, q = qy * s + qx;
            plane_tap *tp = &pt.taps[q][pt.n[q]++];
            tp->src = col + (int64_t)(i * kw + j) * ld;
            tp->shift = (int64_t)dy * Wx + dx;
            tp->f_lo = (int64_t)a_lo * Wx;
            tp->f_hi = a_hi > a_lo ? (int64_t)a_hi * Wx : tp->f_lo;
            tp->b_lo = dx > 0 ? dx : 0;
            tp->b_hi = Wx + dx < Wx ? Wx + dx : Wx;
        }
    }
    if (pgemm_kernel() == PGEMM_AVX512)
        col2im_planes_avx512(&pt, im, Hx, Wx, s);
    else
        col2im_planes_avx2(&pt, im, Hx, Wx, s);
#else
    (void)col, (void)ld, (void)im, (void)Hx, (void)Wx, (void)kh, (void)kw, (void)s, (void)ph, (void)pw;
    abort();  // callers check pgemm_enabled(), never true here
#endif
}
