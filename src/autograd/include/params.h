// A network's parameters (or buffers) as one contiguous block with named views (the llm.c
// layout). Gradients, optimizer moments and EMA copies are blocks of the same layout, so the
// optimizer and EMA are one loop each, zero_grad is one fill, and a checkpoint walks one table.
//
// Build phase: ag_params_add returns each parameter's tensor header (its data is not there
// yet); ag_params_finalize allocates the zero-filled block(s) and points the views into them.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "tensor.h"

#define AG_PARAM_NAME_MAX 96

typedef struct ag_param {
    char name[AG_PARAM_NAME_MAX];  // PyTorch state_dict name, e.g. "main.0.weight"
    ag_tensor *t;                  // view into `values`
    int64_t offset;                // in floats; aligned to 16 floats
} ag_param;

typedef struct ag_params {
    const ag_backend *be;
    bool trainable;  // trainable sets get a gradient block and requires_grad views
    int count, cap;
    ag_param *items;
    int64_t total;        // floats in each block, padding included
    ag_tensor *values;    // (total) the block itself
    ag_tensor *grads;     // (total) or NULL when not trainable
    bool finalized;
} ag_params;

ag_params *ag_params_create(const ag_backend *be, bool trainable);
void ag_params_free(ag_params *ps);
ag_tensor *ag_params_add(ag_params *ps, const char *name, ag_shape shape);
void ag_params_finalize(ag_params *ps);

void ag_params_zero_grad(ag_params *ps);
// Turns gradient tracking of every parameter off or on (a trainable set only). The G step
// freezes D this way, so the backward pass through D computes no weight gradients for D.
void ag_params_set_requires_grad(ag_params *ps, bool on);
int64_t ag_params_numel(const ag_params *ps);  // real elements, without padding
ag_tensor *ag_params_find(const ag_params *ps, const char *name);  // NULL when absent
// A view of parameter i's slice in another block of the same layout (moments, EMA copies).
ag_tensor *ag_params_view_in(const ag_params *ps, int i, ag_tensor *block);
// True when both sets have the same names and shapes in the same order.
bool ag_params_same_layout(const ag_params *a, const ag_params *b);
// dst.values = src.values (same layout).
void ag_params_copy(ag_params *dst, const ag_params *src);
// The first parameter whose values hold a NaN or an infinity, read from `block` (a block of
// ps's layout: an optimizer's moments) or from ps's own values when block is NULL: its index,
// with the element and its value. -1 when every value is finite. Copies the block to the host.
int ag_params_first_nonfinite(const ag_params *ps, const ag_tensor *block, int64_t *elem, float *value);
// ema = beta * ema + (1 - beta) * src (same layout): the G EMA update.
void ag_params_lerp(ag_params *ema, const ag_params *src, float beta);
