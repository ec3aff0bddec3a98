// Our implicit-GEMM convolutions (cpu/pgemm.h, used by cpu/conv.c when the CPU has AVX-512 or
// AVX2), on each kernel the CPU has, against the im2col + OpenBLAS path they replace, on shapes
// that reach every edge of the kernel and its packing: output rows and columns not multiples of the 12 x 32 tile,
// one channel, a reduction over several blocks of channels, stride 1 and 2, padding 0/1/2,
// window rows that do not divide a panel, outputs of more than one block of columns per
// sample, several samples per GEMM with and without panels lined up on samples, groups, batch
// 1 and 3 and the thread split. The weight gradient on the conv2d shapes (those with at least
// 256 taps x channels take our kernel; output rows of 16 or 32 pack by transposes). Also the
// packed GEMM alone against a double-precision product. Where the CPU has both, AVX2 against
// AVX-512 bit for bit (the same fused multiply-adds in the same order).
// Skips (77) on a CPU without AVX2.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "cpu/col2im.h"
#include "cpu/pgemm.h"
#include "ops.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

#define S AG_SHAPE

typedef struct {
    const char *name;
    ag_shape x, w;
    ag_conv_args a;
} conv_case;

// conv2d: x (N, Cin, H, W), w (Cout, Cin/G, kh, kw).
static const conv_case conv_cases[] = {
    {"1 channel 4x4 s2 p1, batch 1", S(1, 1, 9, 11), S(13, 1, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, Wo 7, batch 3", S(3, 5, 6, 7), S(25, 5, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s1 p0", S(3, 4, 10, 12), S(12, 4, 3, 3), {1, 1, 0, 0, 0, 0, 1}},
    {"3x3 s1 p1, 37 channels (runs across panels)", S(3, 37, 9, 7), S(13, 37, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"5x5 s2 p2, 11 channels, batch 1", S(1, 11, 13, 9), S(7, 11, 5, 5), {2, 2, 2, 2, 0, 0, 1}},
    {"4x4 s2 p0, 20 channels, 21x23 in", S(3, 20, 21, 23), S(5, 20, 4, 4), {2, 2, 0, 0, 0, 0, 1}},
    {"5x5 s2 p2", S(3, 6, 13, 9), S(7, 6, 5, 5), {2, 2, 2, 2, 0, 0, 1}},
    {"4x4 s2 p1, 40 channels (two reduction blocks)", S(3, 40, 10, 10), S(27, 40, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 8x8 out (panels on samples)", S(3, 8, 16, 16), S(16, 8, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 4x4 out (panels across samples)", S(3, 16, 8, 8), S(20, 16, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, 21x19 out (row blocks)", S(2, 3, 21, 19), S(14, 3, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 64x64 in (row blocks of 32)", S(3, 3, 64, 64), S(9, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x2 s(2,1) p(2,0) g2", S(3, 6, 9, 8), S(10, 3, 3, 2), {2, 1, 2, 0, 0, 0, 2}},
    {"4x4 s2 p1, DCGAN-like, threads", S(3, 64, 16, 16), S(128, 64, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    // Output rows of 16 and 32: the weight gradient packs its patches by 16 x 16 transposes.
    {"3x3 s1 p1, 32 channels, 16x16 (StyleGAN2's)", S(3, 32, 16, 16), S(32, 32, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, 61 channels, 32 wide (two blocks, partial tap groups)", S(2, 61, 5, 32), S(7, 61, 3, 3),
     {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s2 p1, 30 channels, 32 out wide", S(2, 30, 6, 64), S(5, 30, 3, 3), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 20 channels, 16 out wide", S(2, 20, 8, 32), S(6, 20, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1 g2, 16 wide (modulated conv)", S(2, 64, 4, 16), S(8, 32, 3, 3), {1, 1, 1, 1, 0, 0, 2}},
};

// conv_transpose2d: x (N, Cin, H, W), w (Cin, Cout/G, kh, kw).
static const conv_case convt_cases[] = {
    {"1 input channel 4x4 s2 p1, batch 1", S(1, 1, 5, 6), S(1, 7, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, W 7, batch 3", S(3, 5, 6, 7), S(5, 9, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s2 p0 op1", S(3, 4, 5, 5), S(4, 6, 3, 3), {2, 2, 0, 0, 1, 1, 1}},
    {"5x5 s2 p2", S(3, 6, 7, 5), S(6, 5, 5, 5), {2, 2, 2, 2, 0, 0, 1}},
    {"4x4 s2 p1, 600 input channels (two reduction blocks)", S(3, 600, 2, 3), S(600, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 50 output channels (channel blocks)", S(3, 6, 12, 12), S(6, 50, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 32x32 in", S(2, 8, 32, 32), S(8, 3, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"3x2 s(2,1) p(1,0) g2", S(3, 6, 5, 4), S(6, 4, 3, 2), {2, 1, 1, 0, 0, 0, 2}},
    {"4x4 s2 p1, DCGAN-like, threads", S(3, 128, 8, 8), S(128, 64, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
};

// conv_transpose2d whose image is exactly 1 or 2 times its input (col2im by whole tap planes,
// cpu/col2im.h): planes 4, 8, 16 and 32 wide, planes whose size is no multiple of 16, one tap
// per phase, phases no tap reaches, taps that reach only part of a plane, groups.
static const conv_case convt_plane_cases[] = {
    {"4x4 s2 p1, 4 wide, 3 rows", S(3, 20, 3, 4), S(20, 16, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 8 wide, 5 rows", S(2, 24, 5, 8), S(24, 13, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 16 wide", S(2, 16, 6, 16), S(16, 14, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"4x4 s2 p1, 32 wide, 2 rows", S(2, 12, 2, 32), S(12, 5, 4, 4), {2, 2, 1, 1, 0, 0, 1}},
    {"2x2 s2 p0 (one tap per phase)", S(2, 16, 4, 8), S(16, 12, 2, 2), {2, 2, 0, 0, 0, 0, 1}},
    {"1x1 s2 op1 (phases no tap reaches)", S(2, 16, 4, 4), S(16, 20, 1, 1), {2, 2, 0, 0, 1, 1, 1}},
    {"5x5 s2 p2 op1", S(2, 10, 4, 8), S(10, 9, 5, 5), {2, 2, 2, 2, 1, 1, 1}},
    {"3x3 s1 p1, 4x4 (StyleGAN2's input gradient)", S(3, 32, 4, 4), S(32, 32, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, 8 wide, 3 rows", S(2, 20, 3, 8), S(20, 11, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, 4 wide, 3 rows (a plane of 12: a partial vector)", S(2, 12, 3, 4), S(12, 6, 3, 3),
     {1, 1, 1, 1, 0, 0, 1}},
    {"3x3 s1 p1, 32x32", S(2, 16, 32, 32), S(16, 8, 3, 3), {1, 1, 1, 1, 0, 0, 1}},
    {"5x5 s1 p2, 16 wide", S(2, 12, 5, 16), S(12, 7, 5, 5), {1, 1, 2, 2, 0, 0, 1}},
    {"3x3 s1 p1 g2, 8 wide (modulated conv)", S(2, 32, 8, 8), S(32, 8, 3, 3), {1, 1, 1, 1, 0, 0, 2}},
};

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

static float *host_values(int64_t n, uint64_t seed) {
    float *v = malloc((size_t)n * sizeof *v);
    ag_philox_fill_normal(v, n, seed, 0, 0.0f, 1.0f);
    return v;
}

// The op on kernel `isa` (PGEMM_OFF: the OpenBLAS path), its output on the host.
static float *run(ag_ctx *c, bool transposed, bool wgrad, const conv_case *cc, const float *xv, const float *wv,
                  pgemm_isa isa, int64_t *numel) {
    pgemm_set_kernel(isa);
    ag_tensor *x = ag_from_host(c, cc->x, xv), *w = ag_from_host(c, cc->w, wv);
    ag_tensor *y = transposed ? ag_conv_transpose2d(c, x, w, cc->a) : ag_conv2d(c, x, w, cc->a);
    if (wgrad) {  // the weight gradient for a random output gradient of y's shape
        float *gyv = host_values(y->numel, 300);
        y = ag_conv2d_weight_grad(c, x, ag_from_host(c, y->shape, gyv), cc->w, cc->a);
        free(gyv);
    }
    float *out = malloc((size_t)y->numel * sizeof *out);
    ag_tensor_to_host(y, out);
    *numel = y->numel;
    ag_ctx_reset(c);
    return out;
}

static int64_t bits_differ(const float *want, const float *got, int64_t n) {
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++) differ += memcmp(&want[i], &got[i], sizeof(float)) != 0;
    return differ;
}

// Each case on kernel `got_isa` against `want_isa`: within 1e-5 of the values' scale against the
// OpenBLAS path (PGEMM_OFF), bit for bit against another of our kernels.
static void compare_ops(bool transposed, bool wgrad, const conv_case *cases, size_t n, pgemm_isa want_isa,
                        pgemm_isa got_isa) {
    const char *op = transposed ? "conv_transpose2d" : wgrad ? "conv2d_weight_grad" : "conv2d";
    ag_ctx *c = ag_ctx_create(test_backend());
    for (size_t k = 0; k < n; k++) {
        const conv_case *cc = &cases[k];
        float *xv = host_values(ag_shape_numel(cc->x), 100 + k), *wv = host_values(ag_shape_numel(cc->w), 200 + k);
        int64_t na, nb;
        float *want = run(c, transposed, wgrad, cc, xv, wv, want_isa, &na);
        float *got = run(c, transposed, wgrad, cc, xv, wv, got_isa, &nb);
        if (want_isa == PGEMM_OFF) {
            double scale = 0.0, err = 0.0;
            for (int64_t i = 0; i < na && na == nb; i++) {
                scale = test_nanmax(scale, fabs(want[i]));
                err = test_nanmax(err, fabs((double)got[i] - want[i]));
            }
            TEST_CHECK(na == nb && scale > 0.1 && err <= 1e-5 * (1.0 + scale),
                       "%s %s %s: max difference %.3g (values up to %.3g)", pgemm_isa_name(got_isa), op, cc->name,
                       err, scale);
        } else {
            const int64_t differ = na == nb ? bits_differ(want, got, na) : na;
            TEST_CHECK(na == nb && differ == 0, "%s against %s, %s %s: %lld of %lld values differ",
                       pgemm_isa_name(got_isa), pgemm_isa_name(want_isa), op, cc->name, (long long)differ,
                       (long long)na);
        }
        free(xv), free(wv), free(want), free(got);
    }
    ag_ctx_free(c);
}

// col2im by whole tap planes against the generic col2im, both on our kernel: the same sums in the
// same order, so bit for bit.
static void test_col2im_planes(pgemm_isa isa) {
    ag_ctx *c = ag_ctx_create(test_backend());
    for (size_t k = 0; k < NCASES(convt_plane_cases); k++) {
        const conv_case *cc = &convt_plane_cases[k];
        float *xv = host_values(ag_shape_numel(cc->x), 400 + k), *wv = host_values(ag_shape_numel(cc->w), 500 + k);
        int64_t na, nb;
        col2im_planes_set_enabled(false);
        float *want = run(c, true, false, cc, xv, wv, isa, &na);
        col2im_planes_set_enabled(true);
        float *got = run(c, true, false, cc, xv, wv, isa, &nb);
        const int64_t differ = na == nb ? bits_differ(want, got, na) : na;
        TEST_CHECK(na == nb && differ == 0,
                   "%s col2im by planes, %s: %lld of %lld values differ from the generic col2im",
                   pgemm_isa_name(isa), cc->name, (long long)differ, (long long)na);
        free(xv), free(wv), free(want), free(got);
    }
    ag_ctx_free(c);
}

// The packed GEMM alone: row counts whose last tile is each kind of tail (1, 5, 7-13 rows, 24,
// 30) and column counts around a panel, accumulating onto a C that already holds values, in two
// segments.
static void test_pgemm(pgemm_isa isa) {
    const int ms[] = {1, 5, 7, 8, 9, 10, 11, 12, 13, 24, 30}, ns[] = {1, 17, 31, 32, 33, 64, 100}, kc = 37;
    for (size_t a = 0; a < NCASES(ms); a++)
        for (size_t b = 0; b < NCASES(ns); b++) {
            const int M = ms[a], N = ns[b];
            float *A = host_values((int64_t)M * kc, 1 + a), *B = host_values((int64_t)kc * N, 50 + b);
            float *C = host_values((int64_t)M * N, 99), *C0 = malloc(sizeof(float) * M * N);
            memcpy(C0, C, sizeof(float) * M * N);
            float *ap = malloc(sizeof(float) * M * kc), *bp = malloc(sizeof(float) * pgemm_bpack_floats(kc, N));
            pgemm_set_kernel(isa);
            pgemm_pack_a(M, kc, A, kc, ap);
            pgemm_pack_b(kc, N, B, N, bp);
            pgemm_compute(M, N, kc, ap, bp, C, N, true, N, 0);
            double err = 0.0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double s = C0[m * N + n];
                    for (int k = 0; k < kc; k++) s += (double)A[m * kc + k] * B[k * N + n];
                    err = test_nanmax(err, fabs(C[m * N + n] - s));
                }
            TEST_CHECK(err <= 1e-4, "pgemm %s %d x %d x %d: max error %.3g", pgemm_isa_name(isa), M, N, kc,
                       err);
            free(A), free(B), free(C), free(C0), free(ap), free(bp);
        }
}

// Every op on every case table: forward conv2d, conv_transpose2d (with and without planes that
// fit col2im by planes), the weight gradient.
static void compare_all(pgemm_isa want_isa, pgemm_isa got_isa) {
    compare_ops(false, false, conv_cases, NCASES(conv_cases), want_isa, got_isa);
    compare_ops(true, false, convt_cases, NCASES(convt_cases), want_isa, got_isa);
    compare_ops(true, false, convt_plane_cases, NCASES(convt_plane_cases), want_isa, got_isa);
    compare_ops(false, true, conv_cases, NCASES(conv_cases), want_isa, got_isa);
}

int main(void) {
    if (!pgemm_supported() || strcmp(ag_backend_name(test_backend()), "cpu") != 0) {
        printf("no AVX2 or AVX-512 kernel here: skipped\n");
        return TEST_SKIP;
    }
    const pgemm_isa isas[] = {PGEMM_AVX2, PGEMM_AVX512};
    for (size_t i = 0; i < NCASES(isas); i++) {
        if (!pgemm_isa_supported(isas[i])) {
            printf("%s: not on this CPU\n", pgemm_isa_name(isas[i]));
            continue;
        }
        test_pgemm(isas[i]);
        compare_all(PGEMM_OFF, isas[i]);
        test_col2im_planes(isas[i]);
    }
    // AVX2 against AVX-512 where the CPU has both: the same FMA chains, so the same bits.
    if (pgemm_isa_supported(PGEMM_AVX512)) compare_all(PGEMM_AVX512, PGEMM_AVX2);
    return test_finish();
}
