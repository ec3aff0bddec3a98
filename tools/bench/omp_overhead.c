// What the OpenMP pool costs per parallel region on this machine: an empty `parallel for` over
// T chunks (the shape every gan.c kernel uses: one static chunk per thread), timed over many
// regions after a warm-up, so that every small op that splits over threads pays this on top of
// its work. Also the time of one 8192-float elementwise pass alone and split, to show where
// splitting starts to pay (gan.c's CPU_PARALLEL_MIN and CONV_PARALLEL_MIN_MACS thresholds).
//
//   gcc -O2 -fopenmp tools/bench/omp_overhead.c -o omp_overhead && ./omp_overhead
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static volatile float sink;

// Microseconds per region of y = a * x + y over n floats cut into `threads` chunks.
static double pass_us(float *x, float *y, int n, int threads, int reps) {
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int k = 0; k < reps; k++) {
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
            for (int t = 0; t < threads; t++) {
                int i0 = (int)((long)t * n / threads), i1 = (int)((long)(t + 1) * n / threads);
                for (int i = i0; i < i1; i++) y[i] = 0.999f * x[i] + y[i];
            }
        }
        double us = (now() - t0) / reps * 1e6;
        if (us < best) best = us;
    }
    sink = y[n / 2];
    return best;
}

int main(void) {
    int maxt = omp_get_max_threads();
    float *x = calloc(1 << 22, sizeof *x), *y = calloc(1 << 22, sizeof *y);
    printf("{\"threads\": %d", maxt);
    for (int t = 1; t <= maxt; t++) printf(", \"empty_region_us_%d\": %.2f", t, pass_us(x, y, 0, t, 20000));
    for (int n = 1 << 10; n <= 1 << 22; n <<= 2)
        for (int t = 1; t <= maxt; t *= 2) printf(", \"axpy_%d_us_%d\": %.2f", n, t, pass_us(x, y, n, t, n < (1 << 18) ? 2000 : 50));
    printf("}\n");
    free(x);
    free(y);
    return 0;
}
