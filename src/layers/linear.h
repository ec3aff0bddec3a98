// Linear layer: <prefix>.weight (out, in), <prefix>.bias (out), as torch.nn.Linear.
#pragma once
#include <stdbool.h>

#include "ops.h"
#include "params.h"

typedef struct nn_linear {
    ag_tensor *weight, *bias;  // bias NULL when disabled
} nn_linear;

void nn_linear_init(nn_linear *l, ag_params *ps, const char *prefix, int in, int out, bool bias);
ag_tensor *nn_linear_forward(ag_ctx *c, const nn_linear *l, ag_tensor *x);  // x (N, in)
