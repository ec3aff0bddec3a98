// col2im of one channel on AVX-512 or AVX2 (cpu/col2im.c; the sums in cpu/col2im_avx512.c and
// cpu/col2im_avx2.c, as pgemm_kernel() says) for the transposed convolutions whose image is
// exactly `s` times the window grid in each dimension (s = 1 or 2): DCGAN's 4x4 stride-2
// padding-1 layers, the stride-1 "same" convolutions' input gradients.
//
// The generic col2im of cpu/conv.c adds each tap's (Hx, Wx) plane of columns into zeroed phase
// planes one row of Wx floats at a time (rows of 4-32 floats: mostly loop overhead, and every
// tap a load and a store of the plane), then interleaves the planes into the image. Here the
// image is split by row and column phase into s*s planes of exactly (Hx, Wx), the shape of a
// tap plane, so a tap is a flat shifted read of its plane with the rows and columns it does not
// reach masked off. Each vector of a plane (16 floats, AVX2 8) is summed over its taps in
// registers, and for s = 2 the two column phases are interleaved in registers and stored into
// the image once.
//
// Rounding: every image element is zero plus its taps' values in the order of the taps
// (row-major over kh x kw): the generic col2im's sums, bit for bit.
#pragma once
#include <stdbool.h>
#include <stdint.h>

// Whether col2im_planes is on (the default); off, cpu/conv.c takes its generic col2im
// everywhere: for tests and benchmarks that compare the two. Not while convolutions run.
bool col2im_planes_enabled(void);
void col2im_planes_set_enabled(bool on);

// Whether col2im_planes handles this geometry: image (Hy, Wy) = (s*Hx, s*Wx) for stride s in
// {1, 2} in both dimensions, Wx 4, 8 or a multiple of 16, at most 64 taps. Callers check
// pgemm_enabled() too.
bool col2im_planes_fits(int Hy, int Wy, int Hx, int Wx, int kh, int kw, int sh, int sw);

// One channel: im (s*Hx, s*Wx) = the sum of the kh*kw tap planes of (Hx, Wx) floats, tap (i, j)'s
// at col + (i*kw + j)*ld, window (a, b)'s value landing on image element (s*a - ph + i, s*b -
// pw + j) where that exists. Overwrites im.
void col2im_planes(const float *col, int64_t ld, float *im, int Hx, int Wx, int kh, int kw, int s, int ph, int pw);
