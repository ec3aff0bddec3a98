// A caching allocator over a slow raw allocator (the CUDA backend's cudaMalloc): freed blocks
// are kept and handed out again for requests of about their size, so a training loop allocates
// from the device only while its memory grows, never in the steady state. Blocks are rounded
// up (512 bytes below 1 MiB, 2 MiB above) so that sizes that differ a little share blocks. When
// the raw allocator fails, every cached block is given back to it and the request is tried
// once more. Single-threaded, and the caller orders its uses: the CUDA backend runs everything
// on one stream, so a block freed there may be reused by the next kernel on that stream.
// Plain C with no device in it, so its bookkeeping is tested on the host.
#pragma once
#include <stddef.h>

typedef struct ag_block {
    void *ptr;
    size_t size;  // rounded
} ag_block;

typedef struct ag_block_cache {
    void *(*raw_alloc)(void *user, size_t bytes);  // NULL when out of memory
    void (*raw_free)(void *user, void *p);
    void *user;
    ag_block *live, *free;  // handed out / kept for reuse
    int nlive, nfree, cap_live, cap_free;
    size_t in_use;     // bytes of live blocks
    size_t cached;     // bytes of free blocks
    size_t peak;       // largest in_use
    size_t raw_bytes;  // bytes held from the raw allocator (in_use + cached)
    long raw_calls;    // successful raw allocations, for tests and reports
} ag_block_cache;

void ag_block_cache_init(ag_block_cache *c, void *(*raw_alloc)(void *, size_t), void (*raw_free)(void *, void *),
                         void *user);
// Frees every block, live ones too (the owner is going away).
void ag_block_cache_destroy(ag_block_cache *c);
// The size a request of `bytes` is rounded to.
size_t ag_block_cache_round(size_t bytes);
// A block of at least `bytes`: the smallest cached one that fits and is at most twice the
// rounded size, else a new one. NULL when the raw allocator fails even after the cache was
// emptied into it.
void *ag_block_cache_alloc(ag_block_cache *c, size_t bytes);
// Keeps p's block for reuse. p must come from ag_block_cache_alloc; NULL is fine.
void ag_block_cache_free(ag_block_cache *c, void *p);
// Gives every cached block back to the raw allocator.
void ag_block_cache_release(ag_block_cache *c);
