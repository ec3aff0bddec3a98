// Reuse of gradient memory within one backward pass that builds no graph (the engine's own).
//
// Such a pass never reads a gradient again once the rule of the node that consumed it has run,
// yet the bump arena would keep every one of them until the iteration ends: StyleGAN2's R1 phase
// at 256x256 held 1.1 GB of dead gradients this way. While recycling is on, every tensor made
// (ag_new) is counted by its data buffer: +1 for each backward slot (bw_grad) that holds it.
// When a node is done, the buffers made during its rule that no slot holds, and its own
// gradient once no slot holds it, go on a free list that later allocations of the pass take
// from (the smallest free buffer that fits, up to twice the request). Views share their base's
// buffer (reshape, detach), so they are counted together; buffers made before the pass (seeds,
// forward tensors) are never counted and never reused. What the pass must hand back (ag_grad's
// results, a non-persistent leaf's grad) is held or made outside the count.
//
// Free buffers are arena memory: they stay allocated until the arena is reset or released, and
// the free list ends with the pass, so nothing outside the pass ever sees a reused buffer.
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct ag_ctx;
struct ag_tensor;

typedef struct ag_recycle_buf {
    void *p;
    size_t cap;  // bytes the arena gave it
    int refs;    // backward slots holding it
    bool free;
} ag_recycle_buf;

typedef struct ag_recycler {
    bool on;                 // counting the allocations of the current pass
    bool disabled;           // ag_ctx_set_grad_recycling(c, false)
    ag_recycle_buf *bufs;    // every buffer made since the pass began
    size_t nbufs, cap_bufs;
    size_t *index;           // open-addressed hash of bufs by p (SIZE_MAX: empty); power of 2
    size_t index_cap;
    size_t *free_list, nfree, cap_free;  // indices into bufs
    size_t *made, nmade, cap_made;       // made (or reused) during the current node's rule
    size_t reused_bytes;                 // taken from free lists since the context began
} ag_recycler;

// The pass begins / ends (clears the free list and the count; keeps the room).
void ag_recycle_begin(struct ag_ctx *c);
void ag_recycle_end(struct ag_ctx *c);
void ag_recycle_destroy(ag_recycler *r);
// ag_new's data while recycling is on: a free buffer of at least `bytes`, else the arena's.
void *ag_recycle_alloc(struct ag_ctx *c, size_t bytes);
// A backward slot takes / lets go of t's buffer (nothing for uncounted buffers).
void ag_recycle_hold(struct ag_ctx *c, const struct ag_tensor *t);
void ag_recycle_drop(struct ag_ctx *c, const struct ag_tensor *t);
// A node's rule and its accumulations are done: what it made that no slot holds is free.
void ag_recycle_node_done(struct ag_ctx *c);
