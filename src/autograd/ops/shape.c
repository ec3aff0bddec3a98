// Reshape (a view), permute, concat, narrow/unnarrow and 2-D padding.
#include <string.h>

#include "internal.h"

ag_tensor *ag_new_view(ag_ctx *c, ag_tensor *x, ag_shape shape) {
    ag_tensor *t = ag_arena_alloc(&c->meta, sizeof *t);
    memset(t, 0, sizeof *t);
    t->shape = shape;
    t->numel = ag_shape_numel(shape);
    t->be = x->be;
    t->data = x->data;
    return t;
}

ag_tensor *ag_reshape(ag_ctx *c, ag_tensor *x, ag_shape shape) {
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < shape.ndim; i++) {
        if (shape.d[i] == -1) {
            AG_CHECK(infer < 0, "reshape: more than one -1 in the target shape");
            infer = i;
        } else {
            known *= shape.d[i];
        }
    }
    ag_shape s = shape;
    if (infer >= 0) {
        AG_CHECK(known > 0 && x->numel % known == 0, "reshape: cannot infer a dim of %s for %s",
                 AG_SHAPE_STR(shape), AG_SHAPE_STR(x->shape));
        s.d[infer] = (int)(x->numel / known);
    }
    s = ag_shape_make(s.ndim, s.d);
    AG_CHECK(ag_shape_numel(s) == x->numel, "reshape: %s to %s changes the element count",
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(s));
    ag_op_params p = {.target = {s}};
    return ag_op_run(c, AG_OP_RESHAPE, ag_new_view(c, x, s), &x, 1, &p, NULL, 0);
}

void ag_backward_reshape(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_reshape(c, g, n->src[0]->shape);
}

ag_tensor *ag_permute(ag_ctx *c, ag_tensor *x, const int *perm) {
    ag_shape s = {.ndim = x->shape.ndim};
    bool seen[AG_MAX_DIMS] = {0};
    ag_op_params p = {.permute = {{0}}};
    for (int i = 0; i < s.ndim; i++) {
        int a = ag_shape_axis(x->shape, perm[i], "permute");
        AG_CHECK(!seen[a], "permute: axis %d repeated for shape %s", a, AG_SHAPE_STR(x->shape));
        seen[a] = true;
        p.permute.perm[i] = a;
        s.d[i] = x->shape.d[a];
    }
    return ag_op_run(c, AG_OP_PERMUTE, ag_new(c, s), &x, 1, &p, NULL, 0);
}

ag_tensor *ag_transpose(ag_ctx *c, ag_tensor *x, int axis0, int axis1) {
    int perm[AG_MAX_DIMS];
    for (int i = 0; i < x->shape.ndim; i++) perm[i] = i;
    int a = ag_shape_axis(x->shape, axis0, "transpose"), b = ag_shape_axis(x->shape, axis1, "transpose");
    perm[a] = b;
    perm[b] = a;
    return ag_permute(c, x, perm);
}

void ag_backward_permute(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    int inv[AG_MAX_DIMS];
    for (int i = 0; i < g->shape.ndim; i++) inv[n->p.permute.perm[i]] = i;
    gin[0] = ag_permute(c, g, inv);
}

ag_tensor *ag_concat(ag_ctx *c, int count, ag_tensor *const *xs, int axis) {
    AG_CHECK(count >= 1 && count <= AG_MAX_SRC, "concat: %d inputs (1..%d)", count, AG_MAX_SRC);
    int a = ag_shape_axis(xs[0]->shape, axis, "concat");
    ag_shape s = xs[0]->shape;
    for (int k = 1; k < count; k++) {
        ag_shape t = xs[k]->shape;
        bool ok = t.ndim == s.ndim;
        for (int d = 0; ok && d < s.ndim; d++) ok = d == a || t.d[d] == s.d[d];
        AG_CHECK(ok, "concat: input %d %s does not match %s outside axis %d", k, AG_SHAPE_STR(t),
                 AG_SHAPE_STR(xs[0]->shape), a);
        s.d[a] += t.d[a];
    }
    ag_op_params p = {.slice = {.axis = a}};
    return ag_op_run(c, AG_OP_CONCAT, ag_new(c, s), xs, count, &p, NULL, 0);
}

void ag_backward_concat(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    int a = n->p.slice.axis, start = 0;
    for (int k = 0; k < n->nsrc; k++) {
        int len = n->src[k]->shape.d[a];
        if (ag_node_needs_grad(n, k)) gin[k] = ag_narrow(c, g, a, start, len);
        start += len;
    }
}

ag_tensor *ag_narrow(ag_ctx *c, ag_tensor *x, int axis, int start, int length) {
    int a = ag_shape_axis(x->shape, axis, "narrow");
    AG_CHECK(start >= 0 && length >= 0 && start + length <= x->shape.d[a],
             "narrow: [%d, %d) out of range of axis %d of %s", start, start + length, a, AG_SHAPE_STR(x->shape));
    ag_shape s = x->shape;
    s.d[a] = length;
    ag_op_params p = {.slice = {a, start, length}};
    return ag_op_run(c, AG_OP_NARROW, ag_new(c, s), &x, 1, &p, NULL, 0);
}

ag_tensor *ag_unnarrow(ag_ctx *c, ag_tensor *x, int axis, int start, int full) {
    int a = ag_shape_axis(x->shape, axis, "unnarrow");
    AG_CHECK(start >= 0 && start + x->shape.d[a] <= full, "unnarrow: [%d, %d) out of range of %d",
             start, start + x->shape.d[a], full);
    ag_shape s = x->shape;
    s.d[a] = full;
    ag_op_params p = {.slice = {a, start, full}};
    return ag_op_run(c, AG_OP_UNNARROW, ag_new(c, s), &x, 1, &p, NULL, 0);
}

void ag_backward_narrow(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_unnarrow(c, g, n->p.slice.axis, n->p.slice.start, n->src[0]->shape.d[n->p.slice.axis]);
}

void ag_backward_unnarrow(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    gin[0] = ag_narrow(c, g, n->p.slice.axis, n->p.slice.start, n->src[0]->shape.d[n->p.slice.axis]);
}

ag_tensor *ag_pad2d(ag_ctx *c, ag_tensor *x, int top, int bottom, int left, int right) {
    AG_CHECK(x->shape.ndim >= 2, "pad2d: input %s needs at least 2 dims", AG_SHAPE_STR(x->shape));
    ag_shape s = x->shape;
    s.d[s.ndim - 2] += top + bottom;
    s.d[s.ndim - 1] += left + right;
    AG_CHECK(s.d[s.ndim - 2] > 0 && s.d[s.ndim - 1] > 0, "pad2d: padding (%d, %d, %d, %d) empties %s",
             top, bottom, left, right, AG_SHAPE_STR(x->shape));
    ag_op_params p = {.pad = {top, bottom, left, right}};
    return ag_op_run(c, AG_OP_PAD2D, ag_new(c, s), &x, 1, &p, NULL, 0);
}

void ag_backward_pad2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    const ag_pad_params *p = &n->p.pad;
    gin[0] = ag_pad2d(c, g, -p->top, -p->bottom, -p->left, -p->right);
}
