// The caching allocator under the CUDA backend (src/autograd/block_cache.h), on host memory:
// rounding, reuse of freed blocks of about the right size, the byte counts, and the retry that
// empties the cache into the raw allocator when it runs out. No device needed.
#include <stdlib.h>
#include <string.h>

#include "block_cache.h"
#include "test.h"

// A raw allocator over malloc with a budget, counting its calls.
typedef struct raw {
    size_t budget, held;
    int allocs, frees;
} raw;

static void *raw_alloc(void *user, size_t bytes) {
    raw *r = user;
    if (r->held + bytes > r->budget) return NULL;
    void *p = malloc(bytes + sizeof(size_t));
    if (!p) return NULL;
    memcpy(p, &bytes, sizeof bytes);
    r->held += bytes;
    r->allocs++;
    return (char *)p + sizeof(size_t);
}

static void raw_free(void *user, void *p) {
    raw *r = user;
    size_t bytes;
    memcpy(&bytes, (char *)p - sizeof(size_t), sizeof bytes);
    r->held -= bytes;
    r->frees++;
    free((char *)p - sizeof(size_t));
}

static void test_rounding(void) {
    TEST_CHECK(ag_block_cache_round(0) == 512 && ag_block_cache_round(1) == 512 && ag_block_cache_round(512) == 512 &&
                   ag_block_cache_round(513) == 1024,
               "small sizes round to 512 bytes");
    TEST_CHECK(ag_block_cache_round((1u << 20) - 1) == 1u << 20, "just under 1 MiB rounds to 1 MiB");
    TEST_CHECK(ag_block_cache_round((1u << 20) + 1) == 2u << 20 && ag_block_cache_round(3u << 20) == 4u << 20,
               "large sizes round to 2 MiB");
}

static void test_reuse(void) {
    raw r = {.budget = 64u << 20};
    ag_block_cache c;
    ag_block_cache_init(&c, raw_alloc, raw_free, &r);
    void *a = ag_block_cache_alloc(&c, 1000), *b = ag_block_cache_alloc(&c, 5u << 20);
    TEST_CHECK(a && b && a != b, "two blocks");
    TEST_CHECK(c.in_use == 1024 + (6u << 20) && c.cached == 0 && r.allocs == 2, "in use %zu, cached %zu, %d raw",
               c.in_use, c.cached, r.allocs);
    ag_block_cache_free(&c, b);
    TEST_CHECK(c.in_use == 1024 && c.cached == 6u << 20, "freed block is cached: in use %zu, cached %zu", c.in_use,
               c.cached);
    void *b2 = ag_block_cache_alloc(&c, (5u << 20) + 100);  // rounds to 6 MiB too: the same block
    TEST_CHECK(b2 == b && r.allocs == 2, "a request of the same rounded size reuses the block (%d raw calls)", r.allocs);
    ag_block_cache_free(&c, b2);
    void *small = ag_block_cache_alloc(&c, 1u << 20);  // 1 MiB: the 6 MiB block is over twice as big
    TEST_CHECK(small != b && r.allocs == 3, "a much smaller request does not take a big block");
    void *half = ag_block_cache_alloc(&c, 3u << 20);  // 4 MiB rounded: the 6 MiB block is within 2x
    TEST_CHECK(half == b && r.allocs == 3, "a request within twice the size reuses the cached block");
    TEST_CHECK(c.peak >= c.in_use && c.raw_bytes == c.in_use + c.cached, "peak %zu, raw %zu = %zu + %zu", c.peak,
               c.raw_bytes, c.in_use, c.cached);
    ag_block_cache_free(&c, a);
    ag_block_cache_free(&c, small);
    ag_block_cache_free(&c, half);
    ag_block_cache_free(&c, NULL);
    TEST_CHECK(c.in_use == 0 && r.frees == 0, "all cached, nothing given back yet");
    ag_block_cache_release(&c);
    TEST_CHECK(c.cached == 0 && c.raw_bytes == 0 && r.held == 0 && r.frees == 3, "release gives every block back");
    ag_block_cache_destroy(&c);
}

// When the raw allocator runs out, the cached blocks go back to it and the request is retried.
static void test_out_of_memory(void) {
    raw r = {.budget = 8u << 20};
    ag_block_cache c;
    ag_block_cache_init(&c, raw_alloc, raw_free, &r);
    void *a = ag_block_cache_alloc(&c, 6u << 20);
    ag_block_cache_free(&c, a);  // cached: 6 MiB held of the 8
    void *b = ag_block_cache_alloc(&c, 512u << 10);  // too small to reuse the 6 MiB block
    TEST_CHECK(b && r.allocs == 2 && r.held == (6u << 20) + (512u << 10), "the small block fits beside the cached one");
    void *d = ag_block_cache_alloc(&c, 2u << 20);  // over budget until the cache is emptied
    TEST_CHECK(d && c.cached == 0 && r.held == (2u << 20) + (512u << 10), "the cache was emptied to make room (held %zu)",
               r.held);
    void *e = ag_block_cache_alloc(&c, 16u << 20);
    TEST_CHECK(!e && c.in_use == (2u << 20) + (512u << 10) && c.nlive == 2,
               "a request past the budget fails and changes nothing");
    ag_block_cache_destroy(&c);  // frees the live blocks too
    TEST_CHECK(r.held == 0 && r.allocs == r.frees, "destroy gives back live blocks (%d allocs, %d frees)", r.allocs,
               r.frees);
}

int main(void) {
    test_rounding();
    test_reuse();
    test_out_of_memory();
    return test_finish();
}
