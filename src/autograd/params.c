#include "params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "check.h"

#define ALIGN_FLOATS 16

ag_params *ag_params_create(const ag_backend *be, bool trainable) {
    ag_params *ps = ag_xcalloc(1, sizeof *ps);
    ps->be = be;
    ps->trainable = trainable;
    return ps;
}

void ag_params_free(ag_params *ps) {
    if (!ps) return;
    for (int i = 0; i < ps->count; i++) ag_tensor_free(ps->items[i].t);  // views: headers only
    free(ps->items);
    ag_tensor_free(ps->values);
    ag_tensor_free(ps->grads);
    free(ps);
}

ag_tensor *ag_params_add(ag_params *ps, const char *name, ag_shape shape) {
    AG_CHECK(!ps->finalized, "ag_params_add(%s): the set is already finalized", name);
    AG_CHECK(strlen(name) < AG_PARAM_NAME_MAX, "ag_params_add: name too long: %s", name);
    AG_CHECK(!ag_params_find(ps, name), "ag_params_add: duplicate name %s", name);
    if (ps->count == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 32;
        ps->items = ag_xrealloc(ps->items, (size_t)ps->cap * sizeof *ps->items);
    }
    ag_param *p = &ps->items[ps->count++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->t = ag_tensor_view_of(ps->be, shape, NULL);
    p->t->name = p->name;
    p->offset = ps->total;
    ps->total += (p->t->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    return p->t;
}

void ag_params_finalize(ag_params *ps) {
    AG_CHECK(!ps->finalized, "ag_params_finalize: called twice");
    int64_t total = ps->total ? ps->total : ALIGN_FLOATS;
    ps->values = ag_tensor_create(ps->be, AG_SHAPE((int)total));
    if (ps->trainable) ps->grads = ag_tensor_create(ps->be, AG_SHAPE((int)total));
    for (int i = 0; i < ps->count; i++) {
        ag_tensor *t = ps->items[i].t;
        t->data = ps->values->data + ps->items[i].offset;
        if (ps->trainable) {
            t->requires_grad = true;
            t->grad = ag_params_view_in(ps, i, ps->grads);
        }
    }
    ps->finalized = true;
}

void ag_params_zero_grad(ag_params *ps) {
    if (ps->grads) ag_tensor_fill(ps->grads, 0.0f);
}

void ag_params_set_requires_grad(ag_params *ps, bool on) {
    AG_CHECK(ps->trainable, "ag_params_set_requires_grad: not a trainable set");
    for (int i = 0; i < ps->count; i++) ps->items[i].t->requires_grad = on;
}

int64_t ag_params_numel(const ag_params *ps) {
    int64_t n = 0;
    for (int i = 0; i < ps->count; i++) n += ps->items[i].t->numel;
    return n;
}

ag_tensor *ag_params_find(const ag_params *ps, const char *name) {
    for (int i = 0; i < ps->count; i++)
        if (!strcmp(ps->items[i].name, name)) return ps->items[i].t;
    return NULL;
}

ag_tensor *ag_params_view_in(const ag_params *ps, int i, ag_tensor *block) {
    AG_CHECK(i >= 0 && i < ps->count && block->numel >= ps->total,
             "ag_params_view_in: parameter %d of %d, block of %lld floats for %lld", i, ps->count,
             (long long)block->numel, (long long)ps->total);
    // Views are owned by the block's owner through `grad` (for gradients) or by the caller.
    ag_tensor *v = ag_tensor_view_of(ps->be, ps->items[i].t->shape, block->data + ps->items[i].offset);
    v->name = ps->items[i].name;
    return v;
}

bool ag_params_same_layout(const ag_params *a, const ag_params *b) {
    if (a->count != b->count || a->total != b->total) return false;
    for (int i = 0; i < a->count; i++)
        if (strcmp(a->items[i].name, b->items[i].name) ||
            !ag_shape_equal(a->items[i].t->shape, b->items[i].t->shape))
            return false;
    return true;
}

void ag_params_copy(ag_params *dst, const ag_params *src) {
    AG_CHECK(ag_params_same_layout(dst, src), "ag_params_copy: layouts differ");
    ag_tensor_copy(dst->values, src->values);
}

int ag_params_first_nonfinite(const ag_params *ps, const ag_tensor *block, int64_t *elem, float *value) {
    if (ps->total == 0) return -1;
    if (!block) block = ps->values;
    AG_CHECK(block && block->numel >= ps->total, "ag_params_first_nonfinite: a block of %lld floats for %lld",
             block ? (long long)block->numel : 0LL, (long long)ps->total);
    float *host = ag_xmalloc((size_t)ps->total * sizeof *host);
    ps->be->ops->to_host(ps->be, host, block->data, (size_t)ps->total * sizeof *host);
    int found = -1;
    for (int i = 0; i < ps->count && found < 0; i++) {
        const float *v = host + ps->items[i].offset;
        for (int64_t j = 0; j < ps->items[i].t->numel; j++)
            if (!isfinite(v[j])) {
                found = i, *elem = j, *value = v[j];
                break;
            }
    }
    free(host);
    return found;
}

void ag_params_lerp(ag_params *ema, const ag_params *src, float beta) {
    AG_CHECK(ag_params_same_layout(ema, src), "ag_params_lerp: layouts differ");
    ema->be->ops->lerp(ema->be, ema->values->data, src->values->data, src->total, beta);
}
