// Reverse-mode differentiation over the recorded tape.
//
// Backward rules are written with the public ops, so they run eagerly when create_graph is false
// and are themselves recorded when it is true: that is how gradients of gradients (R1,
// path-length regularisation) work. Everything a backward pass makes lives in the context's
// arena, like the forward pass.
#pragma once
#include <stdbool.h>

#include "ctx.h"
#include "tensor.h"

// Accumulates d(loss)/d(leaf) into leaf->grad for every leaf that requires grad and that loss
// depends on. loss must have one element. The graph stays valid (it lives until ag_ctx_reset),
// so several backward passes over one graph are allowed and add up, as with retain_graph=True.
void ag_backward(ag_ctx *c, ag_tensor *loss);
// Like ag_backward with an explicit upstream gradient of loss's shape.
void ag_backward_with(ag_ctx *c, ag_tensor *out, ag_tensor *grad_out);

// torch.autograd.grad: result[i] = sum_j d(outputs[j])/d(inputs[i]) weighted by grad_outputs[j]
// (NULL grad_outputs means ones; then every output must have one element). Leaves' .grad are
// untouched. With create_graph the results carry history and can be differentiated again.
// An input the outputs do not depend on gets zeros.
void ag_grad(ag_ctx *c, int nout, ag_tensor *const *outputs, ag_tensor *const *grad_outputs,
             int nin, ag_tensor *const *inputs, bool create_graph, ag_tensor **result);
