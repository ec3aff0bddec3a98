#include "grad_recycle.h"

#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "ctx_internal.h"
#include "tensor.h"

static size_t rounded(size_t bytes) {
    size_t need = (bytes + AG_ARENA_ALIGN - 1) & ~(size_t)(AG_ARENA_ALIGN - 1);
    return need ? need : AG_ARENA_ALIGN;
}

static size_t slot_of(const ag_recycler *r, const void *p) {
    uintptr_t h = (uintptr_t)p / AG_ARENA_ALIGN;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (r->index_cap - 1);
}

static void index_put(ag_recycler *r, size_t i) {
    size_t s = slot_of(r, r->bufs[i].p);
    while (r->index[s] != SIZE_MAX) s = (s + 1) & (r->index_cap - 1);
    r->index[s] = i;
}

static void index_grow(ag_recycler *r) {
    size_t cap = r->index_cap ? 2 * r->index_cap : 1024;
    free(r->index);
    r->index = ag_xmalloc(cap * sizeof *r->index);
    r->index_cap = cap;
    for (size_t s = 0; s < cap; s++) r->index[s] = SIZE_MAX;
    for (size_t i = 0; i < r->nbufs; i++) index_put(r, i);
}

// The counted buffer at p, or SIZE_MAX for one made before the pass.
static size_t find(const ag_recycler *r, const void *p) {
    if (!r->index_cap) return SIZE_MAX;
    for (size_t s = slot_of(r, p);; s = (s + 1) & (r->index_cap - 1)) {
        size_t i = r->index[s];
        if (i == SIZE_MAX || r->bufs[i].p == p) return i;
    }
}

#define PUSH(arr, n, cap, v)                                          \
    do {                                                              \
        if ((n) == (cap)) {                                           \
            (cap) = (cap) ? 2 * (cap) : 256;                          \
            (arr) = ag_xrealloc((arr), (cap) * sizeof *(arr));        \
        }                                                             \
        (arr)[(n)++] = (v);                                           \
    } while (0)

void ag_recycle_begin(ag_ctx *c) {
    ag_recycler *r = &c->recycle;
    r->on = !r->disabled;
    r->nbufs = r->nfree = r->nmade = 0;
    for (size_t s = 0; s < r->index_cap; s++) r->index[s] = SIZE_MAX;
}

void ag_recycle_end(ag_ctx *c) {
    ag_recycler *r = &c->recycle;
    r->on = false;
    r->nbufs = r->nfree = r->nmade = 0;
}

void ag_recycle_destroy(ag_recycler *r) {
    free(r->bufs), free(r->index), free(r->free_list), free(r->made);
    *r = (ag_recycler){0};
}

void *ag_recycle_alloc(ag_ctx *c, size_t bytes) {
    ag_recycler *r = &c->recycle;
    const size_t need = rounded(bytes);
    size_t best = SIZE_MAX;  // position in free_list
    for (size_t k = 0; k < r->nfree; k++) {
        const ag_recycle_buf *b = &r->bufs[r->free_list[k]];
        if (b->cap >= need && b->cap / 2 <= need && (best == SIZE_MAX || b->cap < r->bufs[r->free_list[best]].cap))
            best = k;
    }
    size_t i;
    if (best != SIZE_MAX) {
        i = r->free_list[best];
        r->free_list[best] = r->free_list[--r->nfree];
        r->bufs[i].free = false;
        r->reused_bytes += need;
    } else {
        void *p = ag_arena_alloc(&c->data, bytes);
        if (2 * (r->nbufs + 1) > r->index_cap) index_grow(r);
        i = r->nbufs;
        PUSH(r->bufs, r->nbufs, r->cap_bufs, ((ag_recycle_buf){.p = p, .cap = need}));
        index_put(r, i);
    }
    r->bufs[i].refs = 0;
    PUSH(r->made, r->nmade, r->cap_made, i);
    return r->bufs[i].p;
}

void ag_recycle_hold(ag_ctx *c, const ag_tensor *t) {
    ag_recycler *r = &c->recycle;
    if (!r->on) return;
    size_t i = find(r, t->data);
    if (i == SIZE_MAX) return;
    AG_CHECK(!r->bufs[i].free, "grad recycling: a backward slot takes a buffer on the free list (%s)",
             AG_SHAPE_STR(t->shape));
    r->bufs[i].refs++;
}

void ag_recycle_drop(ag_ctx *c, const ag_tensor *t) {
    ag_recycler *r = &c->recycle;
    if (!r->on) return;
    size_t i = find(r, t->data);
    if (i == SIZE_MAX) return;
    AG_CHECK(r->bufs[i].refs > 0, "grad recycling: a slot lets go of a buffer no slot holds (%s)",
             AG_SHAPE_STR(t->shape));
    // Freed when the node is done: until then the rule's own tensors may still point at it.
    if (--r->bufs[i].refs == 0) PUSH(r->made, r->nmade, r->cap_made, i);
}

void ag_recycle_node_done(ag_ctx *c) {
    ag_recycler *r = &c->recycle;
    if (!r->on) return;
    for (size_t k = 0; k < r->nmade; k++) {
        ag_recycle_buf *b = &r->bufs[r->made[k]];
        if (b->refs == 0 && !b->free) {
            b->free = true;
            PUSH(r->free_list, r->nfree, r->cap_free, r->made[k]);
        }
    }
    r->nmade = 0;
}
