// ag_ctx: what every op needs besides its inputs: the backend, the per-iteration arenas, grad
// mode and a kernel workspace. One context per training loop; nothing here is global.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend.h"

typedef struct ag_ctx {
    const ag_backend *be;
    ag_arena meta;  // host memory: tensor headers, tape nodes
    ag_arena data;  // backend memory: tensor values
    bool grad_enabled;
    uint64_t seq;    // next node's sequence number
    unsigned epoch;  // current backward pass, for marks
    // Scratch for kernels (im2col columns, partial sums), reused across calls, grown on demand.
    void *workspace;
    size_t workspace_size;
    // Floating-point operations (2 per multiply-add) of the matrix-product kernels run on this
    // context since it was created: convolutions and matmuls at their nominal size. Backends
    // add to it; `gan bench` divides it by time.
    uint64_t flops;
    // Reused buffers of the backward pass (grown on demand, never shrunk).
    struct ag_node **bw_nodes;
    size_t bw_cap;
} ag_ctx;

ag_ctx *ag_ctx_create(const ag_backend *be);
void ag_ctx_free(ag_ctx *c);
// Ends an iteration: every per-iteration tensor and node is gone after this.
void ag_ctx_reset(ag_ctx *c);
// A point in the iteration's allocations, to give back what came after it:
//   ag_ctx_mark m = ag_ctx_mark_now(c);
//   ... a forward and backward pass whose tensors are not needed afterwards ...
//   ag_ctx_release(c, m);   // its activations, tape nodes and gradients are reused from here
// Everything made before the mark stays valid (and so does everything persistent: parameters,
// their gradients, optimizer state). A tensor made after the mark must not be used once it is
// released (its memory is handed out again), so read losses and statistics first. Marks nest:
// release the inner one first; a release to an outer mark frees the inner stretch too.
typedef struct ag_ctx_mark {
    ag_arena_mark meta, data;
} ag_ctx_mark;
ag_ctx_mark ag_ctx_mark_now(const ag_ctx *c);
void ag_ctx_release(ag_ctx *c, ag_ctx_mark m);
// Backend scratch of at least `bytes`, valid until the next call. Kernels only.
void *ag_ctx_workspace(ag_ctx *c, size_t bytes);
// Bytes of per-iteration memory in use now / at most since creation.
size_t ag_ctx_arena_bytes(const ag_ctx *c);
size_t ag_ctx_arena_peak(const ag_ctx *c);

// Grad mode. Returns the previous value so scopes nest:
//   bool prev = ag_set_grad_enabled(c, false); ...; ag_set_grad_enabled(c, prev);
bool ag_set_grad_enabled(ag_ctx *c, bool on);
static inline bool ag_is_grad_enabled(const ag_ctx *c) { return c->grad_enabled; }
