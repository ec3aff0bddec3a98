// Our packed GEMM (src/autograd/cpu/pgemm.h: the AVX-512 or AVX2 kernel, as the CPU and
// GAN_CONV_KERNEL pick) against OpenBLAS's cblas_sgemm on
// the GEMM shapes of the DCGAN 64x64 step's forward convolutions, one thread, best of several
// repetitions by the thread's CPU time.
//   gcc -O3 -std=c11 -Wall -Wextra -Isrc/autograd/cpu tools/bench/gemm_kernel.c
//       src/autograd/cpu/pgemm.c src/autograd/cpu/pgemm_avx2.c src/autograd/cpu/pgemm_avx512.c
//       -lopenblas -o /tmp/gemm_kernel
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/gemm_kernel [kc]
// Columns: blas = cblas_sgemm of the whole (M, N, K) product (its own packing included, as the
// im2col path calls it, in K blocks of 512 accumulating with beta 1); pack+gemm = ours with B
// packed from a row-major matrix per kc block (A packed once, outside the timing, as a
// convolution does per call); gemm = ours on B already packed (the kernel alone).
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pgemm.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    const char *name;
    int M, N, K;
} shape;

int main(int argc, char **argv) {
    int KC = argc > 1 ? atoi(argv[1]) : 256;
    if (!pgemm_enabled()) {
        printf("no AVX2 or AVX-512 (or GAN_CONV_KERNEL=blas)\n");
        return 77;
    }
    openblas_set_num_threads(1);
    const shape shapes[] = {
        {"D1 3->64 @32x32", 64, 1024, 48},      {"D2 64->128 @16x16", 128, 256, 1024},
        {"D3 128->256 @8x8 x4", 256, 256, 2048}, {"D4 256->512 @4x4 x16", 512, 256, 4096},
        {"G-dx 512->256 8x8 x4", 256, 256, 8192}, {"square 512", 512, 512, 512},
    };
    printf("kernel %s, kc %d\n%-24s %6s %6s %6s  %9s %9s %9s  %s\n", pgemm_isa_name(pgemm_kernel()), KC, "shape", "M", "N", "K", "blas", "pack+gemm", "gemm",
           "max|diff|/max|c|");
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const shape s = shapes[si];
        float *a = malloc(sizeof(float) * s.M * s.K), *b = malloc(sizeof(float) * s.K * s.N);
        float *c1 = malloc(sizeof(float) * s.M * s.N), *c2 = malloc(sizeof(float) * s.M * s.N);
        float *ap = malloc(sizeof(float) * s.M * s.K);
        float *bp = malloc(sizeof(float) * pgemm_bpack_floats(s.K, s.N));
        for (int i = 0; i < s.M * s.K; i++) a[i] = (float)rand() / RAND_MAX - 0.5f;
        for (int i = 0; i < s.K * s.N; i++) b[i] = (float)rand() / RAND_MAX - 0.5f;
        const double flop = 2.0 * s.M * s.N * s.K;
        double best[3] = {1e9, 1e9, 1e9};
        int reps = (int)(2e9 / flop) + 3;
        for (int rep = 0; rep < reps; rep++) {
            double t0 = now();
            for (int k0 = 0; k0 < s.K; k0 += 512) {
                int kb = s.K - k0 < 512 ? s.K - k0 : 512;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, kb, 1.0f, a + k0, s.K,
                            b + (size_t)k0 * s.N, s.N, k0 ? 1.0f : 0.0f, c1, s.N);
            }
            double t1 = now();
            for (int k0 = 0; k0 < s.K; k0 += KC) {
                int kb = s.K - k0 < KC ? s.K - k0 : KC;
                if (rep == 0) pgemm_pack_a(s.M, kb, a + k0, s.K, ap + (size_t)s.M * k0);
            }
            double t2 = now();
            for (int k0 = 0; k0 < s.K; k0 += KC) {
                int kb = s.K - k0 < KC ? s.K - k0 : KC;
                pgemm_pack_b(kb, s.N, b + (size_t)k0 * s.N, s.N, bp);
                pgemm_compute(s.M, s.N, kb, ap + (size_t)s.M * k0, bp, c2, s.N, k0 > 0, s.N, 0);
            }
            double t3 = now();
            for (int k0 = 0; k0 < s.K; k0 += KC) {
                int kb = s.K - k0 < KC ? s.K - k0 : KC;
                pgemm_compute(s.M, s.N, kb, ap + (size_t)s.M * k0, bp, c2, s.N, k0 > 0, s.N, 0);
            }
            double t4 = now();
            if (t1 - t0 < best[0]) best[0] = t1 - t0;
            if (t3 - t2 < best[1]) best[1] = t3 - t2;
            if (t4 - t3 < best[2]) best[2] = t4 - t3;
        }
        // check against blas (c2 was last overwritten by the gemm-only run on the last block's
        // B: recompute properly)
        for (int k0 = 0; k0 < s.K; k0 += KC) {
            int kb = s.K - k0 < KC ? s.K - k0 : KC;
            pgemm_pack_b(kb, s.N, b + (size_t)k0 * s.N, s.N, bp);
            pgemm_compute(s.M, s.N, kb, ap + (size_t)s.M * k0, bp, c2, s.N, k0 > 0, s.N, 0);
        }
        double md = 0, mc = 0;
        for (int i = 0; i < s.M * s.N; i++) {
            md = fmax(md, fabs(c1[i] - c2[i]));
            mc = fmax(mc, fabs(c1[i]));
        }
        printf("%-24s %6d %6d %6d  %9.1f %9.1f %9.1f  %.2e\n", s.name, s.M, s.N, s.K, flop / best[0] * 1e-9,
               flop / best[1] * 1e-9, flop / best[2] * 1e-9, md / mc);
        free(a), free(b), free(c1), free(c2), free(ap), free(bp);
    }
    printf("(GFLOP/s)\n");
    return 0;
}
