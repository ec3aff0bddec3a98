// Data movement: permute, concat, narrow/unnarrow, pad2d. Reshape shares its input's data.
#include <string.h>

#include "cpu.h"

void cpu_reshape(ag_ctx *c, const ag_node *node) {
    (void)c, (void)node;  // the output is a view of the input
}

void cpu_permute(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    ag_shape os = node->out->shape;
    int nd = os.ndim;
    int64_t xs[AG_MAX_DIMS], is[AG_MAX_DIMS];  // x strides; x stride of each output dim
    ag_shape_strides(X->shape, xs);
    for (int d = 0; d < nd; d++) is[d] = xs[node->p.permute.perm[d]];
    const float *x = X->data;
    float *out = node->out->data;
    int64_t inner = os.d[nd - 1], istr = is[nd - 1], outer = node->out->numel / (inner ? inner : 1);
#pragma omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++) {
        int64_t off = 0, r = o;
        for (int d = nd - 2; d >= 0; d--) {
            off += (r % os.d[d]) * is[d];
            r /= os.d[d];
        }
        float *po = out + o * inner;
        for (int64_t j = 0; j < inner; j++) po[j] = x[off + j * istr];
    }
}

// Copies rows of `len` floats between tensors viewed as (outer, rows, inner) along an axis.
static void copy_block(float *dst, int64_t dst_rows, int64_t dst_start, const float *src,
                       int64_t src_rows, int64_t src_start, int64_t rows, int64_t outer, int64_t inner) {
#pragma omp parallel for schedule(static) if (outer * rows * inner > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++)
        memcpy(dst + (o * dst_rows + dst_start) * inner, src + (o * src_rows + src_start) * inner,
               (size_t)(rows * inner) * sizeof(float));
}

static void outer_inner(ag_shape s, int axis, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= s.d[d];
    for (int d = axis + 1; d < s.ndim; d++) *inner *= s.d[d];
}

void cpu_concat(ag_ctx *c, const ag_node *node) {
    (void)c;
    int a = node->p.slice.axis;
    int64_t outer, inner, start = 0, total = node->out->shape.d[a];
    outer_inner(node->out->shape, a, &outer, &inner);
    for (int k = 0; k < node->nsrc; k++) {
        int64_t rows = node->src[k]->shape.d[a];
        copy_block(node->out->data, total, start, node->src[k]->data, rows, 0, rows, outer, inner);
        start += rows;
    }
}

void cpu_narrow(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_slice_params *p = &node->p.slice;
    int64_t outer, inner;
    outer_inner(node->out->shape, p->axis, &outer, &inner);
    copy_block(node->out->data, p->size, 0, node->src[0]->data, node->src[0]->shape.d[p->axis], p->start, p->size,
               outer, inner);
}

void cpu_unnarrow(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_slice_params *p = &node->p.slice;
    int64_t outer, inner, rows = node->src[0]->shape.d[p->axis];
    outer_inner(node->out->shape, p->axis, &outer, &inner);
    memset(node->out->data, 0, (size_t)node->out->numel * sizeof(float));
    copy_block(node->out->data, p->size, p->start, node->src[0]->data, rows, 0, rows, outer, inner);
}

void cpu_pad2d(ag_ctx *c, const ag_node *node) {
    (void)c;
    ag_shape is = node->src[0]->shape, os = node->out->shape;
    int nd = is.ndim, top = node->p.pad.top, left = node->p.pad.left;
    int H = is.d[nd - 2], W = is.d[nd - 1], Ho = os.d[nd - 2], Wo = os.d[nd - 1];
    int64_t planes = node->out->numel / ((int64_t)Ho * Wo);
    const float *x = node->src[0]->data;
    float *out = node->out->data;
#pragma omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * H * W;
        float *op = out + pl * Ho * Wo;
        for (int i = 0; i < Ho; i++) {
            int si = i - top;
            float *row = op + (int64_t)i * Wo;
            if (si < 0 || si >= H) {
                memset(row, 0, (size_t)Wo * sizeof(float));
                continue;
            }
            for (int j = 0; j < Wo; j++) {
                int sj = j - left;
                row[j] = (sj >= 0 && sj < W) ? xp[(int64_t)si * W + sj] : 0.0f;
            }
        }
    }
}
