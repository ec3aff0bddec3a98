#include "tensor.h"

#include <string.h>

#include "backend_impl.h"
#include "check.h"
#include "ctx_internal.h"
#include "rng.h"

ag_tensor *ag_tensor_view_of(const ag_backend *be, ag_shape shape, float *data) {
    ag_tensor *t = ag_xcalloc(1, sizeof *t);
    t->data = data;
    t->shape = ag_shape_make(shape.ndim, shape.d);
    t->numel = ag_shape_numel(shape);
    t->be = be;
    t->persistent = true;
    return t;
}

ag_tensor *ag_tensor_create(const ag_backend *be, ag_shape shape) {
    int64_t n = ag_shape_numel(shape);
    float *data = be->ops->alloc(be, (size_t)n * sizeof(float));
    AG_CHECK(data, "ag_tensor_create: out of %s memory for a tensor of shape %s (%lld bytes)%s", be->name,
             AG_SHAPE_STR(shape), (long long)n * (long long)sizeof(float),
             ag_backend_memory_note(be, (char[320]){0}, 320));
    ag_tensor *t = ag_tensor_view_of(be, shape, data);
    t->owns_data = true;
    be->ops->fill(be, data, n, 0.0f);
    return t;
}

void ag_tensor_free(ag_tensor *t) {
    if (!t) return;
    AG_CHECK(t->persistent, "ag_tensor_free: tensor %s comes from an arena; ag_ctx_reset frees it",
             AG_SHAPE_STR(t->shape));
    if (t->grad && t->grad->persistent) ag_tensor_free(t->grad);
    if (t->owns_data) t->be->ops->free(t->be, t->data);
    free(t);
}

ag_tensor *ag_new(ag_ctx *c, ag_shape shape) {
    ag_tensor *t = ag_arena_alloc(&c->meta, sizeof *t);
    memset(t, 0, sizeof *t);
    t->shape = ag_shape_make(shape.ndim, shape.d);
    t->numel = ag_shape_numel(shape);
    t->be = c->be;
    const size_t bytes = (size_t)t->numel * sizeof(float);
    t->data = c->recycle.on ? ag_recycle_alloc(c, bytes) : ag_arena_alloc(&c->data, bytes);
    return t;
}

ag_tensor *ag_full(ag_ctx *c, ag_shape shape, float value) {
    ag_tensor *t = ag_new(c, shape);
    c->be->ops->fill(c->be, t->data, t->numel, value);
    return t;
}
ag_tensor *ag_zeros(ag_ctx *c, ag_shape shape) { return ag_full(c, shape, 0.0f); }
ag_tensor *ag_ones(ag_ctx *c, ag_shape shape) { return ag_full(c, shape, 1.0f); }

ag_tensor *ag_from_host(ag_ctx *c, ag_shape shape, const float *values) {
    ag_tensor *t = ag_new(c, shape);
    ag_tensor_from_host(t, values);
    return t;
}

ag_tensor *ag_uniform(ag_ctx *c, ag_rng *rng, ag_shape shape, float lo, float hi) {
    ag_tensor *t = ag_new(c, shape);
    ag_tensor_fill_uniform(t, rng, lo, hi);
    return t;
}

ag_tensor *ag_normal(ag_ctx *c, ag_rng *rng, ag_shape shape, float mean, float std) {
    ag_tensor *t = ag_new(c, shape);
    ag_tensor_fill_normal(t, rng, mean, std);
    return t;
}

ag_tensor *ag_detach(ag_ctx *c, ag_tensor *x) {
    ag_tensor *t = ag_arena_alloc(&c->meta, sizeof *t);
    memset(t, 0, sizeof *t);
    t->data = x->data;
    t->shape = x->shape;
    t->numel = x->numel;
    t->be = x->be;
    return t;
}

void ag_tensor_to_host(const ag_tensor *t, float *dst) {
    t->be->ops->to_host(t->be, dst, t->data, (size_t)t->numel * sizeof(float));
}

void ag_tensor_from_host(ag_tensor *t, const float *src) {
    t->be->ops->from_host(t->be, t->data, src, (size_t)t->numel * sizeof(float));
}

void ag_tensor_copy(ag_tensor *dst, const ag_tensor *src) {
    AG_CHECK(dst->numel == src->numel && dst->be == src->be,
             "ag_tensor_copy: %s <- %s (sizes or devices differ)", AG_SHAPE_STR(dst->shape),
             AG_SHAPE_STR(src->shape));
    if (dst->data != src->data) dst->be->ops->copy(dst->be, dst->data, src->data, (size_t)src->numel * sizeof(float));
}

void ag_tensor_fill(ag_tensor *t, float value) { t->be->ops->fill(t->be, t->data, t->numel, value); }

void ag_tensor_fill_uniform(ag_tensor *t, ag_rng *rng, float lo, float hi) {
    uint64_t ctr = ag_rng_reserve(rng, t->numel);
    t->be->ops->fill_uniform(t->be, t->data, t->numel, rng->seed, ctr, lo, hi);
}

void ag_tensor_fill_normal(ag_tensor *t, ag_rng *rng, float mean, float std) {
    uint64_t ctr = ag_rng_reserve(rng, t->numel);
    t->be->ops->fill_normal(t->be, t->data, t->numel, rng->seed, ctr, mean, std);
}

float ag_item(const ag_tensor *t) {
    AG_CHECK(t->numel == 1, "ag_item: tensor of shape %s has %lld elements, expected 1",
             AG_SHAPE_STR(t->shape), (long long)t->numel);
    float v;
    ag_tensor_to_host(t, &v);
    return v;
}

ag_tensor *ag_requires_grad(ag_tensor *t, bool on) {
    AG_CHECK(!t->node, "ag_requires_grad: only leaves can be marked (tensor %s was made by an op)",
             AG_SHAPE_STR(t->shape));
    t->requires_grad = on;
    return t;
}

void ag_zero_grad(ag_tensor *t) {
    if (t->grad) ag_tensor_fill(t->grad, 0.0f);
}
