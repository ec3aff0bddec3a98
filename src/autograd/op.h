// Nodes of the tape and the one entry point every op goes through (ag_op_run).
#pragma once
#include <stdint.h>

#include "op_list.h"
#include "op_params.h"
#include "tensor.h"

#define AG_MAX_SRC 8
#define AG_MAX_SAVED 4

typedef struct ag_node {
    ag_op op;
    int nsrc, nsaved;
    ag_tensor *out;
    ag_tensor *src[AG_MAX_SRC];
    // Extra tensors a kernel writes for its backward rule (batchnorm's mean and inverse std) or
    // extra outputs of a multi-output kernel (batchnorm backward's dgamma, dbeta).
    ag_tensor *saved[AG_MAX_SAVED];
    ag_op_params p;  // its scalar arguments: the member op_list.h names for the op
    uint64_t seq;    // creation order: a topological order of the tape
    unsigned epoch;  // backward-pass bookkeeping
    unsigned need;   // during a backward pass: bit i set when input i needs a gradient
} ag_node;

typedef struct ag_op_info {
    const char *name;
    int nsrc;
    ag_grad_kind grad;
} ag_op_info;

extern const ag_op_info ag_op_infos[AG_OP_COUNT];

// Runs `op` on the context's backend: out = op(src...). `out` (and `saved`) were allocated by
// the caller with the right shapes. When grad mode is on and an input requires grad, the node is
// recorded and out->node set. Returns out.
ag_tensor *ag_op_run(struct ag_ctx *c, ag_op op, ag_tensor *out, ag_tensor *const *src, int nsrc,
                     const ag_op_params *p, ag_tensor *const *saved, int nsaved);

// True when input i of a node needs a gradient (used by backward rules to skip work).
static inline bool ag_node_needs_grad(const ag_node *n, int i) { return (n->need >> i) & 1u; }
