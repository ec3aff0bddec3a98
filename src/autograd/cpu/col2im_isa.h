// The per-instruction-set halves of col2im.h's col2im_planes, for cpu/col2im.c to dispatch to,
// and the taps as both see them. Exist only where the compiler has x86 intrinsics.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define COL2IM_MAX_TAPS 64

// One tap as seen from its phase plane (Hx, Wx): plane[f] gets src[f - shift] for the flat
// positions f in [f_lo, f_hi) (the rows it reaches) whose column b is in [b_lo, b_hi).
typedef struct {
    const float *src;
    int64_t shift, f_lo, f_hi;
    int b_lo, b_hi;
} plane_tap;

// The taps of each phase plane q = qy*s + qx (one plane for s = 1, four for s = 2), n[q] of
// them, in tap order.
typedef struct {
    plane_tap taps[4][COL2IM_MAX_TAPS];
    int n[4];
} plane_taps;

// im (s*Hx, s*Wx) from the phase planes' taps: col2im_planes's contract.
void col2im_planes_avx512(const plane_taps *pt, float *im, int Hx, int Wx, int s);
void col2im_planes_avx2(const plane_taps *pt, float *im, int Hx, int Wx, int s);
