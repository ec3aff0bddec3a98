// Per-sample pixel moves by an integer map, as a pair of ops, each the other's gradient (as
// upsample and sum-pool are):
//   remap2d(x, map)          out[n, c, p] = x[n, c, map[n, p]], or 0 where map[n, p] < 0
//   remap2d_adjoint(g, map)  g[n, c, p] added at map[n, p] (the scatter-add), zero elsewhere
// map (N, H, W) holds plane offsets h * W + w as exact floats, or -1 for "zero here". Flips,
// 90-degree rotations, integer translations with zero fill or reflection at the border are all
// such maps, drawn per sample. Both ops are linear in their first input and the map is a
// constant (it gets no gradient), so their rules are each other: derivatives of any order work.
#include "internal.h"

static void check_map(const char *op, ag_tensor *x, ag_tensor *map) {
    AG_CHECK(x->shape.ndim == 4 && map->shape.ndim == 3 && map->shape.d[0] == x->shape.d[0] &&
                 map->shape.d[1] == x->shape.d[2] && map->shape.d[2] == x->shape.d[3],
             "%s: input %s and map %s: expected (N, C, H, W) and (N, H, W)", op, AG_SHAPE_STR(x->shape),
             AG_SHAPE_STR(map->shape));
    AG_CHECK(!map->requires_grad, "%s: the map %s is a constant and cannot require grad", op,
             AG_SHAPE_STR(map->shape));
}

ag_tensor *ag_remap2d(ag_ctx *c, ag_tensor *x, ag_tensor *map) {
    check_map("remap2d", x, map);
    return ag_op_run(c, AG_OP_REMAP2D, ag_new(c, x->shape), (ag_tensor *[]){x, map}, 2, NULL, NULL, 0);
}

ag_tensor *ag_remap2d_adjoint(ag_ctx *c, ag_tensor *g, ag_tensor *map) {
    check_map("remap2d_adjoint", g, map);
    return ag_op_run(c, AG_OP_REMAP2D_ADJOINT, ag_new(c, g->shape), (ag_tensor *[]){g, map}, 2, NULL, NULL, 0);
}

void ag_backward_remap2d(ag_ctx *c, const ag_node *n, ag_tensor *g, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_remap2d_adjoint(c, g, n->src[1]);
}

void ag_backward_remap2d_adjoint(ag_ctx *c, const ag_node *n, ag_tensor *gg, ag_tensor **gin) {
    if (ag_node_needs_grad(n, 0)) gin[0] = ag_remap2d(c, gg, n->src[1]);
}
