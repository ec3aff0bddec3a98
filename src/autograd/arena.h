// Bump allocator for everything one training iteration makes: activations, tape nodes,
// gradients of activations. Nothing is freed one by one; ag_arena_reset releases it all at once.
//
// Blocks come from an allocator pair (host malloc for tensor structs and nodes, the backend's
// memory for tensor data). When an iteration needed more than one block, reset replaces them by a
// single block of the high-water size, so from the second iteration on a steady loop allocates
// nothing at all and memory stays flat.
//
// Within an iteration, ag_arena_mark / ag_arena_release rewind the arena to an earlier point:
// everything handed out after the mark is given back at once (blocks added since are freed),
// everything before it stays. The peak still counts the high-water mark, so the block that
// reset keeps is as large as the largest stretch between releases needs.
#pragma once
#include <stddef.h>

typedef struct ag_arena_block {
    struct ag_arena_block *next;
    char *base;
    size_t size, used;
} ag_arena_block;

typedef struct ag_arena {
    void *(*alloc)(void *user, size_t bytes);  // memory aligned to at least AG_ARENA_ALIGN
    void (*free)(void *user, void *p);
    void *user;  // passed to alloc and free (the backend, for tensor data)
    // Optional: the tail of an out-of-memory message ("; cuda:0: 70 GiB in use ..."), or "".
    const char *(*oom_note)(void *user, char *buf, size_t size);
    ag_arena_block *head;  // block being filled; older blocks follow
    size_t used;           // bytes handed out since the last reset (with alignment padding)
    size_t peak;           // largest `used` ever seen
    size_t capacity;       // bytes held in blocks
    size_t min_block;
} ag_arena;

#define AG_ARENA_ALIGN 64

void ag_arena_init(ag_arena *a, void *(*alloc)(void *, size_t), void (*free_fn)(void *, void *), void *user,
                   size_t min_block);
void ag_arena_destroy(ag_arena *a);
// Never returns NULL (out of memory is fatal). Memory is not zeroed.
void *ag_arena_alloc(ag_arena *a, size_t bytes);
void ag_arena_reset(ag_arena *a);

typedef struct ag_arena_mark {
    ag_arena_block *block;  // head when the mark was taken (NULL: none yet)
    size_t block_used;      // its fill level then
    size_t used;            // the arena's `used` then
} ag_arena_mark;

ag_arena_mark ag_arena_mark_now(const ag_arena *a);
// Gives back everything allocated after `m` was taken. `m` must come from this arena since its
// last reset, and no release to an earlier mark may have happened in between.
void ag_arena_release(ag_arena *a, ag_arena_mark m);
