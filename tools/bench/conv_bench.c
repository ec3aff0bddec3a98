// Times the convolution kernels on the shapes of the DCGAN 64x64 batch-64 step (set "dcgan") or
// of the StyleGAN2 32x32 batch-32 step with 64 channels (set "sg2"), our implicit GEMM
// (cpu/pgemm.h, the best kernel the CPU has) against the im2col + OpenBLAS path, interleaved, by the
// process's CPU time (so other processes' time slices do not count). Links the engine's
// static library from a build directory:
//   gcc -O2 -std=c11 -fopenmp -Isrc/autograd -Isrc/autograd/include -Isrc/autograd/cpu
//       tools/bench/conv_bench.c build-k/src/autograd/libautograd.a -lopenblas -lm -o /tmp/conv_bench
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/conv_bench [threads] [reps] [only: 0 blas, 1 ours, -1 both]
//       [set: dcgan (default) or sg2]
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autograd.h"
#include "backend.h"
#include "ctx.h"
#include "ops.h"
#include "pgemm.h"
#include "rng.h"
#include "tensor.h"

#define S AG_SHAPE

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct {
    const char *name;
    int op;  // 0 conv2d, 1 conv_transpose2d, 2 conv2d_weight_grad (x, gy = the conv's output shape)
    ag_shape x, w;
    ag_conv_args a;
} bench_case;

#define DC AG_CONV(2, 1, 1)  // DCGAN's 4x4 stride-2 convolutions
#define SAME AG_CONV(1, 1, 1)  // StyleGAN2's 3x3 convolutions (and their input gradients)

static const bench_case dcgan_cases[] = {
    {"conv 3->64 64x64", 0, S(64, 3, 64, 64), S(64, 3, 4, 4), DC},
    {"conv 64->128 32x32", 0, S(64, 64, 32, 32), S(128, 64, 4, 4), DC},
    {"conv 128->256 16x16", 0, S(64, 128, 16, 16), S(256, 128, 4, 4), DC},
    {"conv 256->512 8x8", 0, S(64, 256, 8, 8), S(512, 256, 4, 4), DC},
    {"convT 512->256 4x4", 1, S(64, 512, 4, 4), S(512, 256, 4, 4), DC},
    {"convT 256->128 8x8", 1, S(64, 256, 8, 8), S(256, 128, 4, 4), DC},
    {"convT 128->64 16x16", 1, S(64, 128, 16, 16), S(128, 64, 4, 4), DC},
    {"convT 64->3 32x32", 1, S(64, 64, 32, 32), S(64, 3, 4, 4), DC},
    {"wgrad 3->64 64x64", 2, S(64, 3, 64, 64), S(64, 3, 4, 4), DC},
    {"wgrad 64->128 32x32", 2, S(64, 64, 32, 32), S(128, 64, 4, 4), DC},
    {"wgrad 128->256 16x16", 2, S(64, 128, 16, 16), S(256, 128, 4, 4), DC},
    {"wgrad 256->512 8x8", 2, S(64, 256, 8, 8), S(512, 256, 4, 4), DC},
};

// The 3x3 convolutions of G and D at each resolution, their input gradients (a stride-1
// transposed convolution), G's upsampling convolution (stride-2 transposed, before its blur), D's
// downsampling one (stride 2 after its blur) and the weight gradients.
static const bench_case sg2_cases[] = {
    {"conv3x3 64 32x32", 0, S(32, 64, 32, 32), S(64, 64, 3, 3), SAME},
    {"conv3x3 64 16x16", 0, S(32, 64, 16, 16), S(64, 64, 3, 3), SAME},
    {"conv3x3 64 8x8", 0, S(32, 64, 8, 8), S(64, 64, 3, 3), SAME},
    {"conv3x3 s2 64 33->16", 0, S(32, 64, 33, 33), S(64, 64, 3, 3), AG_CONV(2, 0, 1)},
    {"convT3x3 64 32x32", 1, S(32, 64, 32, 32), S(64, 64, 3, 3), SAME},
    {"convT3x3 64 16x16", 1, S(32, 64, 16, 16), S(64, 64, 3, 3), SAME},
    {"convT3x3 64 8x8", 1, S(32, 64, 8, 8), S(64, 64, 3, 3), SAME},
    {"convT3x3 s2 16->33", 1, S(32, 64, 16, 16), S(64, 64, 3, 3), AG_CONV(2, 0, 1)},
    {"convT3x3 s2 8->17", 1, S(32, 64, 8, 8), S(64, 64, 3, 3), AG_CONV(2, 0, 1)},
    {"wgrad3x3 64 32x32", 2, S(32, 64, 32, 32), S(64, 64, 3, 3), SAME},
    {"wgrad3x3 64 16x16", 2, S(32, 64, 16, 16), S(64, 64, 3, 3), SAME},
    {"wgrad3x3 s2 64 33->16", 2, S(32, 64, 33, 33), S(64, 64, 3, 3), AG_CONV(2, 0, 1)},
};

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 5;
    int only = argc > 3 ? atoi(argv[3]) : -1;  // 0: only the OpenBLAS path, 1: only ours
    const bool sg2 = argc > 4 && !strcmp(argv[4], "sg2");
    if (argc > 4 && !sg2 && strcmp(argv[4], "dcgan")) {
        fprintf(stderr, "conv_bench: unknown set %s (dcgan or sg2)\n", argv[4]);
        return 2;
    }
    const bench_case *cases = sg2 ? sg2_cases : dcgan_cases;
    const size_t ncases = sg2 ? sizeof sg2_cases / sizeof *sg2_cases : sizeof dcgan_cases / sizeof *dcgan_cases;
    char why[256];
    ag_backend *be = ag_backend_open("cpu", why, sizeof why);
    ag_backend_set_threads(be, threads);
    ag_ctx *c = ag_ctx_create(be);
    ag_rng rng_state = ag_rng_make(1), *rng = &rng_state;
    printf("threads %d, best of %d (ms, CPU time / threads)\n%-24s %9s %9s %7s %7s\n", threads, reps, "case", "blas",
           "pgemm", "ratio", "GF/s");
    double tot[2] = {0, 0};
    for (size_t k = 0; k < ncases; k++) {
        const bench_case *bc = &cases[k];
        double best[2] = {1e9, 1e9};
        uint64_t f0 = 0, flops = 0;
        ag_tensor *x = ag_tensor_create(be, bc->x), *w = ag_tensor_create(be, bc->w), *gy = NULL;
        ag_tensor_fill_normal(x, rng, 0, 1);
        ag_tensor_fill_normal(w, rng, 0, 1);
        if (bc->op == 2) {
            ag_tensor *y = ag_conv2d(c, x, w, bc->a);
            gy = ag_tensor_create(be, y->shape);
            ag_tensor_fill_normal(gy, rng, 0, 1);
            ag_ctx_reset(c);
        }
        for (int r = 0; r < reps; r++) {
            for (int v = 0; v < 2; v++) {
                if (only >= 0 && v != only) continue;
                pgemm_set_enabled(v == 1);
                f0 = ag_ctx_flops(c);
                double t0 = cpu_now();
                if (bc->op == 0) ag_conv2d(c, x, w, bc->a);
                if (bc->op == 1) ag_conv_transpose2d(c, x, w, bc->a);
                if (bc->op == 2) ag_conv2d_weight_grad(c, x, gy, bc->w, bc->a);
                double t = (cpu_now() - t0) / threads;
                flops = ag_ctx_flops(c) - f0;
                if (t < best[v]) best[v] = t;
                ag_ctx_reset(c);
            }
        }
        ag_tensor_free(x), ag_tensor_free(w), ag_tensor_free(gy);
        tot[0] += best[0], tot[1] += best[1];
        printf("%-24s %9.2f %9.2f %7.3f %7.1f\n", bc->name, best[0] * 1e3, best[1] * 1e3, best[1] / best[0],
               flops / best[1] * 1e-9);
    }
    printf("%-24s %9.2f %9.2f %7.3f\n", "total", tot[0] * 1e3, tot[1] * 1e3, tot[1] / tot[0]);
    ag_ctx_free(c);
    ag_backend_close(be);
    return 0;
}
