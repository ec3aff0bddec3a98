// Declarations of every op's backward rule, ag_backward_<name>, generated from op_list.h.
// Each lives in ops/<file>.c beside the op's wrapper. Ops whose gradient is zero or undefined
// define theirs with AG_NO_BACKWARD(name): it is never called. autograd.c's rule table refers to
// every one by name, so a missing rule fails the link.
#pragma once
#include "autograd.h"
#include "op.h"

// A backward rule: given the node and the gradient of its output, set gin[i] for every input i
// with ag_node_needs_grad(n, i); NULL means a zero gradient. gin[i] must have src[i]'s shape.
typedef void (*ag_backward_fn)(ag_ctx *c, const ag_node *n, ag_tensor *gout, ag_tensor **gin);

// The rule of an op.
ag_backward_fn ag_backward_rule(ag_op op);

#define AG_RULE_DECL(E, n, s, g) \
    void ag_backward_##n(ag_ctx *c, const ag_node *node, ag_tensor *gout, ag_tensor **gin);
AG_OP_LIST(AG_RULE_DECL)
#undef AG_RULE_DECL

#define AG_NO_BACKWARD(n)                                                                \
    void ag_backward_##n(ag_ctx *c, const ag_node *node, ag_tensor *gout, ag_tensor **gin) { \
        (void)c, (void)gout, (void)gin;                                                  \
        AG_FATAL(#n ": has no backward rule (node %llu)", (unsigned long long)node->seq); \
    }
