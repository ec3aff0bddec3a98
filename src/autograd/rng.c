#include "rng.h"

#include <math.h>

// Constants of Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11).
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void ag_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void ag_philox_block(uint64_t seed, uint64_t counter, uint32_t out[4]) {
    const uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    ag_philox4x32(ctr, key, out);
}

ag_rng ag_rng_make(uint64_t seed) { return (ag_rng){.seed = seed, .counter = 0}; }

uint64_t ag_rng_reserve(ag_rng *r, int64_t n) {
    uint64_t first = r->counter;
    r->counter += (uint64_t)((n + 3) / 4);
    return first;
}

ag_rng ag_rng_fork(ag_rng *r) {
    uint32_t w[4];
    ag_philox_block(r->seed, ag_rng_reserve(r, 4), w);
    return ag_rng_make(((uint64_t)w[0] << 32) | w[1]);
}

uint32_t ag_rng_u32(ag_rng *r) {
    uint32_t w[4];
    ag_philox_block(r->seed, ag_rng_reserve(r, 1), w);
    return w[0];
}

double ag_rng_uniform01(ag_rng *r) {
    uint32_t w[4];
    ag_philox_block(r->seed, ag_rng_reserve(r, 4), w);
    uint64_t bits = ((uint64_t)w[0] << 21) ^ w[1];  // 53 random bits
    return (double)(bits & ((1ull << 53) - 1)) * 0x1p-53;
}

uint32_t ag_rng_below(ag_rng *r, uint32_t n) {
    if (n <= 1) return 0;
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;  // reject the biased tail
    for (;;) {
        uint32_t x = ag_rng_u32(r);
        if (x < limit) return x % n;
    }
}

// 24 random bits -> [0, 1) and (0, 1].
static inline float u01(uint32_t x) { return (float)(x >> 8) * 0x1p-24f; }
static inline float u01_open0(uint32_t x) { return ((float)(x >> 8) + 1.0f) * 0x1p-24f; }

void ag_philox_fill_uniform(float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo, float hi) {
    float scale = hi - lo;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < (n + 3) / 4; b++) {
        uint32_t w[4];
        ag_philox_block(seed, counter + (uint64_t)b, w);
        for (int j = 0; j < 4 && b * 4 + j < n; j++) dst[b * 4 + j] = lo + scale * u01(w[j]);
    }
}

// The four normals of one Philox block: Box-Muller on word pairs (0,1) and (2,3).
static void block_normals(uint64_t seed, uint64_t counter, float z[4]) {
    uint32_t w[4];
    ag_philox_block(seed, counter, w);
    for (int p = 0; p < 2; p++) {
        double r = sqrt(-2.0 * log((double)u01_open0(w[2 * p])));
        double theta = 6.283185307179586 * (double)u01(w[2 * p + 1]);
        z[2 * p] = (float)(r * cos(theta));
        z[2 * p + 1] = (float)(r * sin(theta));
    }
}

void ag_philox_fill_normal(float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean, float std) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < (n + 3) / 4; b++) {
        float z[4];
        block_normals(seed, counter + (uint64_t)b, z);
        for (int j = 0; j < 4 && b * 4 + j < n; j++) dst[b * 4 + j] = mean + std * z[j];
    }
}

void ag_philox_normal_range(float *dst, int64_t first, int64_t n, uint64_t seed) {
    for (int64_t i = first; i < first + n;) {
        float z[4];
        block_normals(seed, (uint64_t)(i / 4), z);
        for (int j = (int)(i % 4); j < 4 && i < first + n; j++, i++) dst[i - first] = z[j];
    }
}
