// The context's fields, for the engine's own code (ops, autograd, kernels); include/ctx.h is the
// public face.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "backend_impl.h"
#include "ctx.h"

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
    uint64_t flops;  // ag_ctx_flops: the backends add to it
    // Reused buffers of the backward pass (grown on demand, never shrunk).
    struct ag_node **bw_nodes;
    size_t bw_cap;
};

// Backend scratch of at least `bytes`, valid until the next call. Kernels only.
void *ag_ctx_workspace(ag_ctx *c, size_t bytes);
