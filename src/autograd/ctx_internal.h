// The context's fields, for the engine's own code (ops, autograd, kernels); include/ctx.h is the
// public face.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend_impl.h"
#include "ctx.h"
#include "grad_recycle.h"

struct ag_ctx {
    const ag_backend *be;
    ag_arena meta;  // host memory: tensor headers, tape nodes
    ag_arena data;  // backend memory: tensor values
    bool grad_enabled;
    uint64_t seq;    // next node's sequence number
    unsigned epoch;  // current backward pass, for marks
    // Scratch for kernels (im2col columns, partial sums), reused across calls, grown on demand.
    void *workspace;
    size_t workspace_size;
    // Per-thread scratch of the CPU kernels (ag_ctx_thread_workspaces), one allocation each.
    void **thread_ws;
    size_t thread_ws_size;  // bytes of each
    int thread_ws_count;
    uint64_t flops;  // ag_ctx_flops: the backends add to it
    struct ag_op_profile *profile;  // NULL, or where ag_op_run times each kernel
    ag_allreduce_fn allreduce;      // NULL: one process
    void *allreduce_user;
    int processes;
    bool sync_batch_stats;
    // Reused buffers of the backward pass (grown on demand, never shrunk).
    struct ag_node **bw_nodes;
    size_t bw_cap;
    ag_recycler recycle;  // gradient memory reused within a backward pass without a graph
};

// allreduce_sum's kernel on every backend (ops/collective.c): through the host and c->allreduce.
void ag_kernel_allreduce_sum(ag_ctx *c, const struct ag_node *node);

// Runs kernel on node with c->profile set: timed, the backend synchronised around it.
void ag_profile_run(ag_ctx *c, void (*kernel)(ag_ctx *, const struct ag_node *), const struct ag_node *node);

// Backend scratch of at least `bytes`, valid until the next call. Kernels only.
void *ag_ctx_workspace(ag_ctx *c, size_t bytes);
// n scratch buffers of at least `bytes` each, one per thread of a parallel loop, valid until the
// next call; taken before the loop. Kernels only. One allocation apiece, not regions of one
// buffer: two threads' regions 676 KiB apart in one buffer made the CPU's implicit-GEMM conv on
// 32x32 images gain 1.4x from a second thread, separate allocations 2.0x (docs/performance.md).
void **ag_ctx_thread_workspaces(ag_ctx *c, int n, size_t bytes);
