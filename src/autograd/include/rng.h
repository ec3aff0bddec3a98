// Philox-4x32-10 counter-based generator. Its whole state is (seed, counter): saving those two
// numbers in a checkpoint and restoring them continues the exact stream. Each 128-bit block
// (one counter value) gives four 32-bit words; a fill of n values consumes ceil(n/4) blocks, and
// value i depends only on (seed, counter + i/4, i%4), so every backend and thread count agrees.
#pragma once
#include <stdint.h>

typedef struct ag_rng {
    uint64_t seed;
    uint64_t counter;  // next unused block
} ag_rng;

ag_rng ag_rng_make(uint64_t seed);
// One Philox block: out[4] = philox(seed, counter), i.e. ag_philox4x32 with counter words
// {lo(counter), hi(counter), 0, 0} and key words {lo(seed), hi(seed)}.
void ag_philox_block(uint64_t seed, uint64_t counter, uint32_t out[4]);
// The full Philox-4x32-10 bijection of Random123 (Salmon et al., SC'11) on a 128-bit counter and
// a 64-bit key: what the known-answer tests check.
void ag_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
// Reserves ceil(n/4) blocks and returns the first one.
uint64_t ag_rng_reserve(ag_rng *r, int64_t n);
// A derived independent stream (for per-purpose generators: data order, noise, init).
ag_rng ag_rng_fork(ag_rng *r);

// Host draws (for shuffles, coin flips and small host-side choices).
uint32_t ag_rng_u32(ag_rng *r);
double ag_rng_uniform01(ag_rng *r);            // [0, 1)
uint32_t ag_rng_below(ag_rng *r, uint32_t n);  // uniform in [0, n), unbiased

// Host reference fills used by the CPU backend (and by tests of other backends).
void ag_philox_fill_uniform(float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo, float hi);
void ag_philox_fill_normal(float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean, float std);
// Values [first, first + n) of seed's stream of N(0, 1) draws (the stream fill_normal writes
// from counter 0, four values per counter): any slice of it, whatever slices came before.
void ag_philox_normal_range(float *dst, int64_t first, int64_t n, uint64_t seed);
