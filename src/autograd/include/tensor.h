// ag_tensor: float32, contiguous, row-major, up to 6 dims, living on one backend (device).
//
// Two storage classes:
//   - per-iteration tensors come from the context's arena (ag_new, ag_zeros, every op output);
//     they die together at ag_ctx_reset and are never freed one by one;
//   - long-lived tensors (parameters, optimizer state, running statistics, fixed noise) are
//     created with ag_tensor_create and freed with ag_tensor_free, or are views into a
//     parameter block owned by ag_params.
// Code above src/autograd/ never dereferences `data`: values cross to the host through
// ag_tensor_to_host / ag_tensor_from_host, because `data` may be device memory.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "shape.h"

struct ag_backend;
struct ag_node;
struct ag_ctx;
struct ag_rng;

typedef struct ag_tensor {
    float *data;  // backend memory, numel floats
    ag_shape shape;
    int64_t numel;
    const struct ag_backend *be;
    struct ag_node *node;       // the recorded op that made it; NULL for leaves and detached
    struct ag_tensor *grad;     // accumulated gradient of a leaf that requires grad
    struct ag_tensor *bw_grad;  // scratch for the gradient flowing during one backward pass
    unsigned bw_epoch;          // which backward pass bw_grad belongs to
    unsigned target_epoch;      // the backward pass that asked for this tensor's gradient
    bool requires_grad;
    bool persistent;  // created with ag_tensor_create (or a parameter view); not from an arena
    bool owns_data;   // persistent and allocated its own data (not a view)
    const char *name; // optional, for messages
} ag_tensor;

// --- long-lived tensors -------------------------------------------------------------------
// Zero-filled. The grad of a requires-grad persistent leaf is created persistent on first use.
ag_tensor *ag_tensor_create(const struct ag_backend *be, ag_shape shape);
// A persistent tensor header over memory someone else owns (parameter blocks).
ag_tensor *ag_tensor_view_of(const struct ag_backend *be, ag_shape shape, float *data);
void ag_tensor_free(ag_tensor *t);  // frees its grad too; NULL is fine

// --- per-iteration tensors (context arena) ------------------------------------------------
ag_tensor *ag_new(struct ag_ctx *c, ag_shape shape);  // uninitialised
ag_tensor *ag_zeros(struct ag_ctx *c, ag_shape shape);
ag_tensor *ag_ones(struct ag_ctx *c, ag_shape shape);
ag_tensor *ag_full(struct ag_ctx *c, ag_shape shape, float value);
ag_tensor *ag_from_host(struct ag_ctx *c, ag_shape shape, const float *values);
ag_tensor *ag_uniform(struct ag_ctx *c, struct ag_rng *rng, ag_shape shape, float lo, float hi);
ag_tensor *ag_normal(struct ag_ctx *c, struct ag_rng *rng, ag_shape shape, float mean, float std);
// A copy of the values with no history (like torch.Tensor.detach().clone() made cheap: the data
// is shared, only the header is new). The D step trains on ag_detach(G(z)).
ag_tensor *ag_detach(struct ag_ctx *c, ag_tensor *x);

// --- values in and out --------------------------------------------------------------------
void ag_tensor_to_host(const ag_tensor *t, float *dst);          // numel floats
void ag_tensor_from_host(ag_tensor *t, const float *src);        // numel floats
void ag_tensor_copy(ag_tensor *dst, const ag_tensor *src);       // same numel
void ag_tensor_fill(ag_tensor *t, float value);
void ag_tensor_fill_uniform(ag_tensor *t, struct ag_rng *rng, float lo, float hi);
void ag_tensor_fill_normal(ag_tensor *t, struct ag_rng *rng, float mean, float std);
float ag_item(const ag_tensor *t);  // the value of a one-element tensor

// --- autograd flags -----------------------------------------------------------------------
// Marks a leaf as requiring grad (aborts on a non-leaf).
ag_tensor *ag_requires_grad(ag_tensor *t, bool on);
// Sets the accumulated gradient of a leaf to zero (no-op when it has none yet).
void ag_zero_grad(ag_tensor *t);
