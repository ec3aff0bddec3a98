// Measured FMA peak of one core (and of T threads together): independent chains of fused multiply-adds
// in registers, no memory traffic, AVX-512 and AVX2. The number docs/performance.md divides by.
//
//   gcc -O2 -fopenmp tools/bench/fma_peak.c -o fma_peak && ./fma_peak [threads]
//
// The chains must live in registers (the unroll pragmas make sure of it). Each chain is a dependent sequence of FMAs; with 12 (AVX2) / 24 (AVX-512) chains the latency
// (4 cycles) times the throughput (2 per cycle) is covered. One FMA on a vector of w floats
// is 2w FLOP.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

// CPU time of the calling thread: on a shared machine, time slices given to other processes do
// not count against the loop (wall time is reported beside it).
static double thread_cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double wall(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#define CHAINS 24
__attribute__((target("avx512f"))) static float fma512(long iters) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 32
        for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}

#define CHAINS2 12
__attribute__((target("avx2,fma"))) static float fma256(long iters) {
    __m256 acc[CHAINS2];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS2; i++) acc[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 32
        for (int i = 0; i < CHAINS2; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    float out[8], s = 0;
    __m256 t = acc[0];
    for (int i = 1; i < CHAINS2; i++) t = _mm256_add_ps(t, acc[i]);
    _mm256_storeu_ps(out, t);
    for (int i = 0; i < 8; i++) s += out[i];
    return s;
}

// Best of `reps` runs of `iters` iterations on every thread at once: GFLOP/s of all threads
// together by wall time, and per thread by its own CPU time (the per-core peak).
static void measure(int threads, int avx512, long iters, int reps, double *best_wall, double *best_cpu) {
    volatile float sink = 0;
    const double flop = (double)iters * (avx512 ? CHAINS * 32.0 : CHAINS2 * 16.0);  // per thread
    *best_wall = *best_cpu = 0;
    for (int r = 0; r < reps; r++) {
        double cpu_sum = 0, t0 = wall();
#pragma omp parallel num_threads(threads) reduction(+ : sink, cpu_sum)
        {
            double c0 = thread_cpu();
            sink += avx512 ? fma512(iters) : fma256(iters);
            cpu_sum += thread_cpu() - c0;
        }
        double w = threads * flop / (wall() - t0) / 1e9, c = flop / (cpu_sum / threads) / 1e9;
        if (w > *best_wall) *best_wall = w;
        if (c > *best_cpu) *best_cpu = c;
    }
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) threads = 1;
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f"), has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const long iters = 20000000;
    double w, c;
    printf("{\"threads\": %d", threads);
    if (has2) {
        measure(threads, 0, iters, 5, &w, &c);
        printf(", \"avx2_gflops_wall\": %.1f, \"avx2_gflops_per_core_cpu\": %.1f", w, c);
    }
    if (has512) {
        measure(threads, 1, iters / 2, 5, &w, &c);
        printf(", \"avx512_gflops_wall\": %.1f, \"avx512_gflops_per_core_cpu\": %.1f", w, c);
    }
    printf("}\n");
    return 0;
}
