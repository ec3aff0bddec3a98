// What a backend chose once per problem, by the problem's description: the CUDA backend keeps
// the cuDNN algorithm (and its workspace size) picked for each convolution's shapes and
// arguments here, so the choice is made on the first call with those shapes and reused after.
// Plain C with no device in it, so its keys are tested on the host.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops.h"  // ag_conv_args
#include "shape.h"

#define AG_ALGO_KEY_MAX 32

typedef struct ag_algo_key {
    int n;
    int32_t v[AG_ALGO_KEY_MAX];
} ag_algo_key;

typedef struct ag_algo_choice {
    int algo;
    size_t workspace;  // bytes
} ag_algo_choice;

typedef struct ag_algo_cache {
    ag_algo_key *keys;
    ag_algo_choice *choices;
    int count, cap;
} ag_algo_cache;

// The key of a convolution problem: which pass (the op), the input, weight and output shapes,
// strides, padding, output padding, groups, and whether only deterministic algorithms may be
// chosen. Two problems share a key exactly when all of these agree.
ag_algo_key ag_algo_key_conv(int pass, ag_shape x, ag_shape w, ag_shape y, ag_conv_args a, bool deterministic);
bool ag_algo_key_equal(const ag_algo_key *a, const ag_algo_key *b);

bool ag_algo_cache_get(const ag_algo_cache *c, const ag_algo_key *k, ag_algo_choice *out);
void ag_algo_cache_put(ag_algo_cache *c, const ag_algo_key *k, ag_algo_choice choice);
void ag_algo_cache_free(ag_algo_cache *c);
