// Declarations of every op's backward rule, ag_backward_<name>, generated from op_list.h.
// Each lives in ops/<file>.c beside the op's wrapper. Ops whose gradient is zero or undefined
// define theirs with AG_NO_BACKWARD(name): it is never called.
#pragma once
#include "autograd.h"

#define AG_RULE_DECL(E, n, s, g) \
    void ag_backward_##n(ag_ctx *c, const ag_node *node, ag_tensor *gout, ag_tensor **gin);
AG_OP_LIST(AG_RULE_DECL)
#undef AG_RULE_DECL

#define AG_NO_BACKWARD(n)                                                                \
    void ag_backward_##n(ag_ctx *c, const ag_node *node, ag_tensor *gout, ag_tensor **gin) { \
        (void)c, (void)gout, (void)gin;                                                  \
        AG_FATAL(#n ": has no backward rule (node %llu)", (unsigned long long)node->seq); \
    }
