// ag_ctx: what every op needs besides its inputs: the backend, the per-iteration arenas, grad
// mode and a kernel workspace. One context per training loop; nothing here is global. Its fields
// are the engine's own (ctx_internal.h); everything above the engine goes through these calls.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

typedef struct ag_ctx ag_ctx;

ag_ctx *ag_ctx_create(const ag_backend *be);
void ag_ctx_free(ag_ctx *c);
const ag_backend *ag_ctx_backend(const ag_ctx *c);
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
// The fields are the two arenas' positions; only ag_ctx_release reads them.
typedef struct ag_ctx_mark {
    struct ag_ctx_arena_pos {
        void *block;
        size_t block_used, used;
    } meta, data;
} ag_ctx_mark;
ag_ctx_mark ag_ctx_mark_now(const ag_ctx *c);
void ag_ctx_release(ag_ctx *c, ag_ctx_mark m);

// Bytes of per-iteration memory in use now / at most since creation.
size_t ag_ctx_arena_bytes(const ag_ctx *c);
size_t ag_ctx_arena_peak(const ag_ctx *c);
// Bytes of the kernels' scratch buffer (im2col and the like), which grows to the largest request
// and stays: with the arena's peak, what one iteration needs on the backend.
size_t ag_ctx_workspace_bytes(const ag_ctx *c);
// A backward pass that builds no graph reuses the memory of gradients it has consumed for the
// ones it makes next (on by default; grad_recycle.h). Off, every gradient of the pass stays in
// the arena until the iteration ends, as before it existed. Recycled bytes: how much memory
// passes have taken from such gradients since the context was created.
void ag_ctx_set_grad_recycling(ag_ctx *c, bool on);
size_t ag_ctx_recycled_bytes(const ag_ctx *c);
// Floating-point operations (2 per multiply-add) of the matrix-product kernels run on this
// context since it was created: convolutions and matmuls at their nominal size, forward and
// backward. `gan bench` divides it by time.
uint64_t ag_ctx_flops(const ag_ctx *c);

// A data-parallel run's processes (the trainer's gan_dist, which the engine does not know): fn
// sums n host floats over every process, in place, and does not return on failure (it ends the
// run). Model code asks for a buffer's mean over the processes through ag_allreduce_mean, e.g.
// StyleGAN2's moving average of W, so that every process keeps the same buffer a single process
// would. Without a hook there is one process.
typedef void (*ag_allreduce_fn)(void *user, float *buf, int64_t n);
void ag_ctx_set_allreduce(ag_ctx *c, ag_allreduce_fn fn, void *user, int processes);
int ag_ctx_processes(const ag_ctx *c);
// buf's n host floats summed over the processes, in place (the hook); nothing with one process.
// Collective, as ag_allreduce_mean. For counts that steer every process alike (ADA's signs).
void ag_ctx_allreduce_host(ag_ctx *c, float *buf, int64_t n);
// Whether layers that normalise with batch statistics (batchnorm) take them over every process's
// share of the batch (layers/sync_batchnorm.h) rather than this process's alone: set by the
// trainer for train.sync_bn; true only with more than one process.
void ag_ctx_set_sync_batch_stats(ag_ctx *c, bool on);
bool ag_ctx_sync_batch_stats(const ag_ctx *c);
// t's mean over the processes, as a new per-iteration tensor without history; t itself with one
// process. Collective: every process calls it in the same order.
struct ag_tensor *ag_allreduce_mean(ag_ctx *c, struct ag_tensor *t);

// Time per op, for `gan bench --profile`. While a profile is set on a context, every op's kernel
// is timed by the host's clock with the backend synchronised before and after, so a GPU's ops
// run one at a time: the figures say where a step's time goes, and a profiled step runs slower
// than an unprofiled one. Work outside the ops (optimizer updates, copies, the host's own) is
// not in it.
typedef struct ag_op_profile ag_op_profile;
ag_op_profile *ag_op_profile_create(void);
void ag_op_profile_free(ag_op_profile *p);
void ag_ctx_set_profile(ag_ctx *c, ag_op_profile *p);  // NULL: off; the caller keeps p
// Entries 0 .. ag_op_profile_size() - 1, one per op of the engine: the op's name, and its
// seconds and calls since the profile was created.
int ag_op_profile_size(void);
const char *ag_op_profile_entry(const ag_op_profile *p, int i, double *seconds, int64_t *calls);

// Grad mode. Returns the previous value so scopes nest:
//   bool prev = ag_set_grad_enabled(c, false); ...; ag_set_grad_enabled(c, prev);
bool ag_set_grad_enabled(ag_ctx *c, bool on);
bool ag_is_grad_enabled(const ag_ctx *c);
