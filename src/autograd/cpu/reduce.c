// sum_to and expand. Sums accumulate in double in a fixed order that does not depend on the
// number of threads, so reductions are deterministic on any thread count.
#include <string.h>

#include "broadcast.h"
#include "cpu.h"

// Chunk of a single long reduction: partial sums per chunk, then summed in chunk order.
#define CHUNK 16384

// Sizes and strides of x's dims after merging, each dim marked kept or reduced.
typedef struct {
    int nd;
    int64_t n[AG_MAX_DIMS], xs[AG_MAX_DIMS];
    bool red[AG_MAX_DIMS];
} rplan;

static rplan rplan_make(ag_shape x, ag_shape to) {
    rplan p = {.nd = 0};
    int64_t xs[AG_MAX_DIMS];
    ag_shape_strides(x, xs);
    for (int d = 0; d < x.ndim; d++) {
        if (x.d[d] == 1) continue;
        int td = d - (x.ndim - to.ndim);
        bool red = td < 0 || to.d[td] == 1;
        if (p.nd > 0 && p.red[p.nd - 1] == red) {  // neighbours of one kind merge (x is contiguous)
            p.n[p.nd - 1] *= x.d[d];
            p.xs[p.nd - 1] = xs[d];
            continue;
        }
        p.n[p.nd] = x.d[d];
        p.xs[p.nd] = xs[d];
        p.red[p.nd] = red;
        p.nd++;
    }
    return p;
}

// Sum of x over the reduced dims of p at the kept-index `o` (flattened over kept dims).
static double sum_one(const rplan *p, const float *x, int64_t o) {
    int64_t base = 0, rn = 1;
    int64_t rdims[AG_MAX_DIMS], rstr[AG_MAX_DIMS];
    int nr = 0;
    for (int d = p->nd - 1; d >= 0; d--) {
        if (p->red[d]) {
            rdims[nr] = p->n[d];
            rstr[nr] = p->xs[d];
            nr++;
            rn *= p->n[d];
        } else {
            base += (o % p->n[d]) * p->xs[d];
            o /= p->n[d];
        }
    }
    // rdims[0] is the innermost reduced dim.
    double s = 0.0;
    if (nr == 1 && rstr[0] == 1) {
        const float *q = x + base;
        for (int64_t i = 0; i < rn; i++) s += q[i];
        return s;
    }
    int64_t inner = nr ? rdims[0] : 1, istr = nr ? rstr[0] : 0;
    for (int64_t r = 0; r < rn / inner; r++) {
        int64_t off = base, rr = r;
        for (int k = 1; k < nr; k++) {
            off += (rr % rdims[k]) * rstr[k];
            rr /= rdims[k];
        }
        const float *q = x + off;
        for (int64_t i = 0; i < inner; i++) s += q[i * istr];
    }
    return s;
}

void cpu_sum_to(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0];
    float *out = node->out->data;
    int64_t nout = node->out->numel;
    if (nout == 1) {
        // One long sum: fixed chunks summed in parallel, combined in order.
        int64_t n = X->numel, nchunk = (n + CHUNK - 1) / CHUNK;
        double *part = ag_ctx_workspace(c, (size_t)nchunk * sizeof(double));
        const float *x = X->data;
#pragma omp parallel for schedule(static) if (nchunk > 1)
        for (int64_t k = 0; k < nchunk; k++) {
            int64_t e = (k + 1) * CHUNK < n ? (k + 1) * CHUNK : n;
            double s = 0.0;
            for (int64_t i = k * CHUNK; i < e; i++) s += x[i];
            part[k] = s;
        }
        double s = 0.0;
        for (int64_t k = 0; k < nchunk; k++) s += part[k];
        out[0] = (float)s;
        return;
    }
    rplan p = rplan_make(X->shape, node->out->shape);
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < nout; o++) out[o] = (float)sum_one(&p, X->data, o);
}

void cpu_expand(ag_ctx *c, const ag_node *node) {
    (void)c;
    ag_shape in = node->src[0]->shape;
    cpu_bplan p = cpu_bplan_make(node->out->shape, 1, &in);
    const float *x = node->src[0]->data;
    float *out = node->out->data;
    int64_t inner = p.n[p.nd - 1], sx = p.s[0][p.nd - 1];
#pragma omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < p.outer; o++) {
        int64_t ox, unused;
        cpu_bplan_offsets(&p, o, &ox, &unused);
        float *po = out + o * inner;
        if (sx) memcpy(po, x + ox, (size_t)inner * sizeof(float));
        else for (int64_t j = 0; j < inner; j++) po[j] = x[ox];
    }
}
