#include "arena.h"

#include "check.h"

void ag_arena_init(ag_arena *a, void *(*alloc)(void *, size_t), void (*free_fn)(void *, void *), void *user,
                   size_t min_block) {
    *a = (ag_arena){.alloc = alloc, .free = free_fn, .user = user, .min_block = min_block};
}

static void free_blocks(ag_arena *a) {
    for (ag_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        a->free(a->user, b->base);
        free(b);
    }
    a->head = NULL;
    a->capacity = 0;
}

void ag_arena_destroy(ag_arena *a) { free_blocks(a); }

static ag_arena_block *new_block(ag_arena *a, size_t size) {
    ag_arena_block *b = ag_xmalloc(sizeof *b);
    b->base = a->alloc(a->user, size);
    AG_CHECK(b->base, "arena: out of memory allocating a block of %zu bytes for this iteration's tensors%s", size,
             a->oom_note ? a->oom_note(a->user, (char[320]){0}, 320) : "");
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->capacity += size;
    return b;
}

void *ag_arena_alloc(ag_arena *a, size_t bytes) {
    size_t need = (bytes + AG_ARENA_ALIGN - 1) & ~(size_t)(AG_ARENA_ALIGN - 1);
    if (need == 0) need = AG_ARENA_ALIGN;
    ag_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        // Grow geometrically so a first iteration costs few blocks.
        size_t size = a->capacity > a->min_block ? a->capacity : a->min_block;
        if (size < need) size = need;
        b = new_block(a, size);
    }
    void *p = b->base + b->used;
    b->used += need;
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void ag_arena_reset(ag_arena *a) {
    if (a->head && (a->head->next || a->head->size < a->peak)) {
        // More than one block, or one too small for the high-water mark (the blocks that held
        // it were given back by a release): consolidate into one that holds the high-water mark.
        size_t size = a->peak > a->min_block ? a->peak : a->min_block;
        free_blocks(a);
        new_block(a, size);
    } else if (a->head) {
        a->head->used = 0;
    }
    a->used = 0;
}

ag_arena_mark ag_arena_mark_now(const ag_arena *a) {
    return (ag_arena_mark){.block = a->head, .block_used = a->head ? a->head->used : 0, .used = a->used};
}

void ag_arena_release(ag_arena *a, ag_arena_mark m) {
    AG_CHECK(m.used <= a->used, "arena: release to a mark (%zu bytes) past the fill level (%zu bytes)",
             m.used, a->used);
    while (a->head != m.block) {
        AG_CHECK(a->head, "arena: release to a mark that is not in this arena");
        ag_arena_block *b = a->head;
        a->head = b->next;
        a->capacity -= b->size;
        a->free(a->user, b->base);
        free(b);
    }
    if (a->head) a->head->used = m.block_used;
    a->used = m.used;
}
