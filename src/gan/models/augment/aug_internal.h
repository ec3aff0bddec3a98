// What the augmentation files share: building per-sample constants on the host.
#pragma once
#include "alloc.h"
#include "ops.h"

// A host buffer of n floats for a per-iteration constant (freed by the caller after
// ag_from_host has copied it).
static inline float *aug_host(int64_t n) { return gan_xmalloc((size_t)n * sizeof(float), "an augmentation constant"); }

// v (n) as a tensor (n, 1, 1, 1) that broadcasts over an image batch.
static inline ag_tensor *aug_per_sample(ag_ctx *c, const float *v, int n) {
    return ag_from_host(c, AG_SHAPE(n, 1, 1, 1), v);
}
