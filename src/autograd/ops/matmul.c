// Matrix products. The transpose flags make the op closed under differentiation without any
// transpose copies: every gradient is another matmul of the same tensors.
#include "internal.h"

ag_tensor *ag_matmul(ag_ctx *c, ag_tensor *a, ag_tensor *b, bool ta, bool tb) {
    int nd = a->shape.ndim;
    AG_CHECK((nd == 2 || nd == 3) && b->shape.ndim == nd && (nd == 2 || a->shape.d[0] == b->shape.d[0]),
             "matmul: shapes %s and %s (2-D, or 3-D with equal batch)", AG_SHAPE_STR(a->shape),
             AG_SHAPE_STR(b->shape));
    int am = a->shape.d[nd - 2], ak = a->shape.d[nd - 1];
    int bk = b->shape.d[nd - 2], bn = b->shape.d[nd - 1];
    int m = ta ? ak : am, k = ta ? am : ak, k2 = tb ? bn : bk, n = tb ? bk : bn;
    AG_CHECK(k == k2, "matmul: inner sizes differ: %s%s @ %s%s", AG_SHAPE_STR(a->shape), ta ? "^T" : "",
             AG_SHAPE_STR(b->shape), tb ? "^T" : "");
    ag_shape s = nd == 2 ? AG_SHAPE(m, n) : AG_SHAPE(a->shape.d[0], m, n);
    ag_op_params p = {.matmul = {ta, tb}};
    return ag_op_run(c, AG_OP_MATMUL, ag_new(c, s), (ag_tensor *[]){a, b}, 2, &p, NULL, 0);
}

// C = op(A) op(B). For each flag combination the gradients are products of g with A or B.
void ag_backward_matmul(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    ag_tensor *a = n->src[0], *b = n->src[1];
    bool ta = n->p.matmul.transpose_a, tb = n->p.matmul.transpose_b;
    if (ag_node_needs_grad(n, 0)) {
        if (!ta) gin[0] = ag_matmul(c, g, b, false, !tb);  // g op(B)^T
        else gin[0] = ag_matmul(c, b, g, tb, true);        // (g op(B)^T)^T = op(B) g^T
    }
    if (ag_node_needs_grad(n, 1)) {
        if (!tb) gin[1] = ag_matmul(c, a, g, !ta, false);  // op(A)^T g
        else gin[1] = ag_matmul(c, g, a, true, ta);        // (op(A)^T g)^T = g^T op(A)
    }
}

ag_tensor *ag_linear(ag_ctx *c, ag_tensor *x, ag_tensor *w, ag_tensor *b) {
    AG_CHECK(x->shape.ndim == 2 && w->shape.ndim == 2, "linear: x %s, w %s (expected 2-D)",
             AG_SHAPE_STR(x->shape), AG_SHAPE_STR(w->shape));
    ag_tensor *y = ag_matmul(c, x, w, false, true);
    return b ? ag_add(c, y, b) : y;
}
