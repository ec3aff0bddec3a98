// Philox-4x32-10: known-answer vectors of the Random123 library, the mapping of (seed, counter)
// onto its words, the statistics of the fills, their reproducibility from (seed, counter) alone
// (any split into consecutive fills, any thread count), and unbiased bounded draws.
#include <math.h>
#include <string.h>

#include "backend.h"
#include "rng.h"
#include "tensor.h"
#include "test.h"
#include "test_backend.h"

static void check_words(const char *what, const uint32_t got[4], const uint32_t want[4]) {
    TEST_CHECK(!memcmp(got, want, 4 * sizeof *got), "%s: got %08x %08x %08x %08x, want %08x %08x %08x %08x",
               what, got[0], got[1], got[2], got[3], want[0], want[1], want[2], want[3]);
}

// Random123's kat_vectors for philox4x32 with 10 rounds.
static void test_known_answers(void) {
    static const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
        uint32_t out[4];
        char what[32];
        snprintf(what, sizeof what, "philox4x32 vector %zu", k);
        ag_philox4x32(kat[k].ctr, kat[k].key, out);
        check_words(what, out, kat[k].out);
    }
    // The zero vector through the (seed, counter) interface.
    uint32_t out[4];
    ag_philox_block(0, 0, out);
    check_words("ag_philox_block(0, 0)", out, kat[0].out);
    // The word mapping: counter -> (lo, hi, 0, 0), seed -> (lo, hi).
    const uint64_t seeds[] = {1, 0x0123456789abcdefull, UINT64_MAX}, ctrs[] = {7, 0xfedcba9876543210ull, UINT64_MAX};
    for (int i = 0; i < 3; i++) {
        uint32_t ctr[4] = {(uint32_t)ctrs[i], (uint32_t)(ctrs[i] >> 32), 0, 0};
        uint32_t key[2] = {(uint32_t)seeds[i], (uint32_t)(seeds[i] >> 32)}, want[4];
        ag_philox4x32(ctr, key, want);
        ag_philox_block(seeds[i], ctrs[i], out);
        check_words("ag_philox_block word mapping", out, want);
    }
}

#define NSAMPLES 1000000

static void test_uniform_stats(void) {
    float *v = malloc(NSAMPLES * sizeof *v);
    const float lo = -2.0f, hi = 3.0f;
    ag_philox_fill_uniform(v, NSAMPLES, 2024, 0, lo, hi);
    double sum = 0.0, sq = 0.0;
    int out_of_range = 0;
    for (int i = 0; i < NSAMPLES; i++) {
        out_of_range += !(v[i] >= lo && v[i] < hi);
        sum += v[i];
    }
    double mean = sum / NSAMPLES;
    for (int i = 0; i < NSAMPLES; i++) sq += (v[i] - mean) * (v[i] - mean);
    double var = sq / (NSAMPLES - 1);
    // Standard errors: width * sqrt(1/12 / n) for the mean, width^2 * sqrt(1/180 / n) for the variance.
    double w = hi - lo;
    TEST_CHECK(out_of_range == 0, "uniform: %d values outside [%g, %g)", out_of_range, lo, hi);
    TEST_CLOSE(mean, 0.5 * (lo + hi), 5.0 * w * sqrt(1.0 / 12 / NSAMPLES), 0, "uniform mean");
    TEST_CLOSE(var, w * w / 12.0, 5.0 * w * w * sqrt(1.0 / 180 / NSAMPLES), 0, "uniform variance");
    // Ten equal bins: chi-square with 9 degrees of freedom (p = 0.001 at 27.9).
    int bins[10] = {0};
    for (int i = 0; i < NSAMPLES; i++) {
        int b = (int)((v[i] - lo) / w * 10);
        bins[b > 9 ? 9 : b]++;
    }
    double chi2 = 0.0;
    for (int b = 0; b < 10; b++) chi2 += pow(bins[b] - NSAMPLES / 10.0, 2) / (NSAMPLES / 10.0);
    TEST_CHECK(chi2 < 27.9, "uniform: chi-square over 10 bins %.2f", chi2);
    free(v);
}

static void test_normal_stats(void) {
    float *v = malloc(NSAMPLES * sizeof *v);
    const float mu = 1.5f, sigma = 2.0f;
    ag_philox_fill_normal(v, NSAMPLES, 77, 1000, mu, sigma);
    double sum = 0.0, sq = 0.0;
    int nonfinite = 0;
    for (int i = 0; i < NSAMPLES; i++) {
        nonfinite += !isfinite(v[i]);
        sum += v[i];
    }
    double mean = sum / NSAMPLES;
    for (int i = 0; i < NSAMPLES; i++) sq += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(sq / (NSAMPLES - 1));
    TEST_CHECK(nonfinite == 0, "normal: %d non-finite values", nonfinite);
    TEST_CLOSE(mean, mu, 5.0 * sigma / sqrt(NSAMPLES), 0, "normal mean");
    TEST_CLOSE(sd, sigma, 5.0 * sigma / sqrt(2.0 * NSAMPLES), 0, "normal std");
    // Tails: P(|z| > 1) = 0.3173, P(|z| > 3) = 0.0027, P(|z| > 4) = 6.33e-5.
    const double t[3] = {1, 3, 4}, p[3] = {0.317311, 0.0026998, 6.3342e-5};
    for (int k = 0; k < 3; k++) {
        int count = 0;
        for (int i = 0; i < NSAMPLES; i++) count += fabs((v[i] - mu) / sigma) > t[k];
        double want = p[k] * NSAMPLES, sd_count = sqrt(want * (1 - p[k]));
        TEST_CHECK(fabs(count - want) < 5 * sd_count + 2, "normal: %d values beyond %g sigma, expected %.1f",
                   count, t[k], want);
    }
    free(v);
}

// Same (seed, counter) -> same values; one fill equals consecutive fills of 4-aligned sizes;
// value i depends only on block counter + i/4; thread count does not matter.
static void test_reproducibility(void) {
    ag_backend *be = test_backend();
    enum { N = 200000 };  // above the fills' parallel threshold
    ag_tensor *whole = ag_tensor_create(be, AG_SHAPE(N)), *again = ag_tensor_create(be, AG_SHAPE(N));
    ag_tensor *part1 = ag_tensor_create(be, AG_SHAPE(N / 4)), *part2 = ag_tensor_create(be, AG_SHAPE(N - N / 4));
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    for (int normal = 0; normal < 2; normal++) {
        const char *kind = normal ? "normal" : "uniform";
        ag_rng r1 = ag_rng_make(99), r2 = ag_rng_make(99), r3 = ag_rng_make(99);
        ag_rng_u32(&r1), ag_rng_u32(&r2), ag_rng_u32(&r3);  // start away from counter 0
        void (*fill)(ag_tensor *, ag_rng *, float, float) = normal ? ag_tensor_fill_normal : ag_tensor_fill_uniform;
        fill(whole, &r1, 0.0f, 1.0f);
        fill(again, &r2, 0.0f, 1.0f);
        fill(part1, &r3, 0.0f, 1.0f);
        fill(part2, &r3, 0.0f, 1.0f);
        TEST_CHECK(r1.counter == r3.counter && r1.counter == 1 + N / 4,
                   "%s: counters after the fills %llu (whole) and %llu (parts)", kind,
                   (unsigned long long)r1.counter, (unsigned long long)r3.counter);
        ag_tensor_to_host(whole, a);
        ag_tensor_to_host(again, b);
        TEST_CHECK(!memcmp(a, b, N * sizeof *a), "%s: same (seed, counter) gave different values", kind);
        ag_tensor_to_host(part1, b);
        ag_tensor_to_host(part2, b + N / 4);
        TEST_CHECK(!memcmp(a, b, N * sizeof *a), "%s: one fill differs from two consecutive fills", kind);

        // Elements 4..N of a fill at counter k are a fill of N - 4 at counter k + 1.
        void (*raw)(float *, int64_t, uint64_t, uint64_t, float, float) =
            normal ? ag_philox_fill_normal : ag_philox_fill_uniform;
        raw(b, N - 4, 99, 2, 0.0f, 1.0f);
        TEST_CHECK(!memcmp(a + 4, b, (N - 4) * sizeof *a), "%s: values are not a function of counter + i/4", kind);

        // Thread counts: 1 thread against the default count (2 under meson test).
        ag_backend_set_threads(be, 1);
        raw(b, N, 99, 1, 0.0f, 1.0f);
        ag_backend_set_threads(be, 2);
        TEST_CHECK(!memcmp(a, b, N * sizeof *a), "%s: 1 thread differs from 2 threads", kind);

        // Another seed or counter gives other values.
        raw(b, N, 100, 1, 0.0f, 1.0f);
        TEST_CHECK(memcmp(a, b, N * sizeof *a) != 0, "%s: seeds 99 and 100 gave equal fills", kind);
    }
    free(a), free(b);
    ag_tensor_free(whole), ag_tensor_free(again), ag_tensor_free(part1), ag_tensor_free(part2);
}

// Chi-square of `draws` draws of ag_rng_below(n) over the n values against the uniform law.
static double chi_square_below(ag_rng *r, uint32_t n, int draws) {
    int *count = calloc(n, sizeof *count);
    int out_of_range = 0;
    for (int i = 0; i < draws; i++) {
        uint32_t x = ag_rng_below(r, n);
        if (x < n) count[x]++;
        else out_of_range++;
    }
    TEST_CHECK(out_of_range == 0, "ag_rng_below(%u): %d draws out of range", n, out_of_range);
    double e = (double)draws / n, chi2 = 0.0;
    for (uint32_t k = 0; k < n; k++) chi2 += (count[k] - e) * (count[k] - e) / e;
    free(count);
    return chi2;
}

static void test_below(void) {
    ag_rng r = ag_rng_make(5);
    // Critical values of chi-square at p = 0.001 for n - 1 degrees of freedom.
    const struct { uint32_t n; double crit; } cases[] = {{2, 10.83}, {3, 13.82}, {7, 22.46}, {10, 27.88}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double chi2 = chi_square_below(&r, cases[k].n, 60000);
        TEST_CHECK(chi2 < cases[k].crit, "ag_rng_below(%u): chi-square %.2f >= %.2f", cases[k].n, chi2, cases[k].crit);
    }
    TEST_CHECK(ag_rng_below(&r, 1) == 0 && ag_rng_below(&r, 0) == 0, "ag_rng_below of 0 or 1 is not 0");
    // A bound of 3 * 2^30: plain modulo would put half the draws below 2^30 instead of a third.
    const uint32_t big = 3u << 30;
    int low = 0, draws = 30000;
    for (int i = 0; i < draws; i++) low += ag_rng_below(&r, big) < (1u << 30);
    double p = 1.0 / 3.0;
    TEST_CHECK(fabs(low - p * draws) < 5 * sqrt(draws * p * (1 - p)),
               "ag_rng_below(3 * 2^30): %d of %d draws below 2^30, expected about %.0f", low, draws, p * draws);

    // uniform01 lies in [0, 1) with mean 1/2; forks are reproducible and differ from the parent.
    double sum = 0.0;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        double u = ag_rng_uniform01(&r);
        bad += !(u >= 0.0 && u < 1.0);
        sum += u;
    }
    TEST_CHECK(bad == 0, "ag_rng_uniform01: %d values outside [0, 1)", bad);
    TEST_CLOSE(sum / 100000, 0.5, 5 * sqrt(1.0 / 12 / 100000), 0, "ag_rng_uniform01 mean");
    ag_rng p1 = ag_rng_make(8), p2 = ag_rng_make(8);
    ag_rng f1 = ag_rng_fork(&p1), f2 = ag_rng_fork(&p2);
    TEST_CHECK(f1.seed == f2.seed && f1.counter == 0 && p1.counter == p2.counter && p1.counter > 0,
               "ag_rng_fork is not reproducible or does not advance the parent");
    TEST_CHECK(ag_rng_u32(&f1) != ag_rng_u32(&p1), "a forked stream repeats its parent");
}

// Any slice [first, first + n) of a seed's normal stream is what one fill from counter 0 wrote
// there, for starts and ends inside a block of four.
static void test_normal_range(void) {
    float all[64], part[64];
    ag_philox_fill_normal(all, 64, 77, 0, 0.0f, 1.0f);
    const int cases[][2] = {{0, 64}, {1, 3}, {3, 10}, {6, 1}, {13, 50}, {63, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int first = cases[k][0], n = cases[k][1];
        ag_philox_normal_range(part, first, n, 77);
        TEST_CHECK(!memcmp(part, all + first, (size_t)n * sizeof *part), "normal_range(%d, %d) is not the fill's slice",
                   first, n);
    }
}

int main(void) {
    test_known_answers();
    test_normal_range();
    test_uniform_stats();
    test_normal_stats();
    test_reproducibility();
    test_below();
    return test_finish();
}
