// Embedding tables looked up by one-hot labels: <prefix>.weight (K, C) as torch.nn.Embedding.
// The lookup onehot (N, K) @ weight (K, C) is one matmul, differentiable (twice) in the table,
// and on any backend; K is a class count (at most a few hundred), so it is cheap.
#pragma once
#include <stdint.h>

#include "ops.h"
#include "params.h"

typedef struct nn_embedding {
    ag_tensor *weight;  // (K, C)
} nn_embedding;

void nn_embedding_init(nn_embedding *l, ag_params *ps, const char *prefix, int classes, int dim);
// Rows of the table: y (N, K) one-hot -> (N, C).
ag_tensor *nn_embedding_forward(ag_ctx *c, const nn_embedding *l, ag_tensor *y);
// labels (n, each in [0, classes)) -> a one-hot (n, classes) tensor in c's arena. A label out of
// range is a programmer error (the data and sampling code check them first).
ag_tensor *nn_one_hot(ag_ctx *c, const int32_t *labels, int n, int classes);
