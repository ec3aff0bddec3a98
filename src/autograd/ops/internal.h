// Helpers shared by the op wrappers in ops/.
#pragma once
#include "check.h"
#include "ctx_internal.h"
#include "ops.h"
#include "rules.h"

// An op without scalar arguments.
#define AG_NO_PARAMS ((ag_op_params){0})

// out = op(x) with out of x's shape.
ag_tensor *ag_unary_op(ag_ctx *c, ag_op op, ag_tensor *x, ag_op_params p);
// out = op(a, b) with out of a's shape; a and b must have equal shapes.
ag_tensor *ag_same_shape_op(ag_ctx *c, ag_op op, ag_tensor *a, ag_tensor *b, ag_op_params p);
// A header that shares x's data under another shape (reshape's output).
ag_tensor *ag_new_view(ag_ctx *c, ag_tensor *x, ag_shape shape);
// g summed to `shape` when broadcasting made it bigger; g itself otherwise.
ag_tensor *ag_reduce_grad(ag_ctx *c, ag_tensor *g, ag_shape shape);
