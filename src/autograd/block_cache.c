#include "block_cache.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SMALL_LIMIT ((size_t)1 << 20)
#define SMALL_ROUND ((size_t)512)
#define LARGE_ROUND ((size_t)2 << 20)

void ag_block_cache_init(ag_block_cache *c, void *(*raw_alloc)(void *, size_t), void (*raw_free)(void *, void *),
                         void *user) {
    *c = (ag_block_cache){.raw_alloc = raw_alloc, .raw_free = raw_free, .user = user};
}

void ag_block_cache_destroy(ag_block_cache *c) {
    for (int i = 0; i < c->nlive; i++) c->raw_free(c->user, c->live[i].ptr);
    ag_block_cache_release(c);
    free(c->live);
    free(c->free);
    *c = (ag_block_cache){0};
}

size_t ag_block_cache_round(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t r = bytes < SMALL_LIMIT ? SMALL_ROUND : LARGE_ROUND;
    return (bytes + r - 1) / r * r;
}

static void push(ag_block **list, int *n, int *cap, ag_block b) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *list = ag_xrealloc(*list, (size_t)*cap * sizeof **list);
    }
    (*list)[(*n)++] = b;
}

void *ag_block_cache_alloc(ag_block_cache *c, size_t bytes) {
    const size_t size = ag_block_cache_round(bytes);
    int best = -1;
    for (int i = 0; i < c->nfree; i++)
        if (c->free[i].size >= size && c->free[i].size <= 2 * size && (best < 0 || c->free[i].size < c->free[best].size))
            best = i;
    ag_block b;
    if (best >= 0) {
        b = c->free[best];
        c->free[best] = c->free[--c->nfree];
        c->cached -= b.size;
    } else {
        b = (ag_block){.ptr = c->raw_alloc(c->user, size), .size = size};
        if (!b.ptr && c->nfree) {  // out of memory: give the cache back and try once more
            ag_block_cache_release(c);
            b.ptr = c->raw_alloc(c->user, size);
        }
        if (!b.ptr) return NULL;
        c->raw_bytes += size;
        c->raw_calls++;
    }
    push(&c->live, &c->nlive, &c->cap_live, b);
    c->in_use += b.size;
    if (c->in_use > c->peak) c->peak = c->in_use;
    return b.ptr;
}

void ag_block_cache_free(ag_block_cache *c, void *p) {
    if (!p) return;
    for (int i = c->nlive - 1; i >= 0; i--) {  // recent blocks are freed first
        if (c->live[i].ptr != p) continue;
        ag_block b = c->live[i];
        c->live[i] = c->live[--c->nlive];
        c->in_use -= b.size;
        push(&c->free, &c->nfree, &c->cap_free, b);
        c->cached += b.size;
        return;
    }
    AG_FATAL("block cache: free of %p, which it did not hand out", p);
}

void ag_block_cache_release(ag_block_cache *c) {
    for (int i = 0; i < c->nfree; i++) c->raw_free(c->user, c->free[i].ptr);
    c->raw_bytes -= c->cached;
    c->cached = 0;
    c->nfree = 0;
}
