// sum_to and expand. Sums accumulate in double in a fixed order that does not depend on the
// number of threads, so reductions are deterministic on any thread count: contiguous runs in
// eight lanes (sum_run8), strided ones element by element, whole rows into a row of sums.
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

// Eight running sums in double: element i of a contiguous run goes to lane i % 8 (GCC vector
// extensions, one source for every CPU_DISPATCH target), added up in a fixed order at the end.
// The order does not depend on the thread count, and it vectorises where one running sum is a
// chain of dependent additions.
typedef float v8f __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

CPU_DISPATCH static void sum_run8(const float *restrict x, int64_t n, double *restrict acc) {
    v8d a;
    memcpy(&a, acc, sizeof a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v;
        memcpy(&v, x + i, sizeof v);
        a += __builtin_convertvector(v, v8d);
    }
    for (int l = 0; i < n; i++, l++) a[l] += (double)x[i];
    memcpy(acc, &a, sizeof a);
}

static double lanes_total(const double *a) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// acc[j] += x[j]: rows added in order, each element's own sum sequential.
CPU_DISPATCH static void add_row_d(double *restrict acc, const float *restrict x, int64_t n) {
    for (int64_t j = 0; j < n; j++) acc[j] += (double)x[j];
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
    int64_t inner = nr ? rdims[0] : 1, istr = nr ? rstr[0] : 0;
    double lanes[8] = {0}, s = 0.0;
    for (int64_t r = 0; r < rn / inner; r++) {
        int64_t off = base, rr = r;
        for (int k = 1; k < nr; k++) {
            off += (rr % rdims[k]) * rstr[k];
            rr /= rdims[k];
        }
        const float *q = x + off;
        if (istr == 1) sum_run8(q, inner, lanes);  // contiguous runs: the eight-lane sums
        else
            for (int64_t i = 0; i < inner; i++) s += q[i * istr];
    }
    return istr == 1 ? lanes_total(lanes) : s;
}

// x (O, R, C) -> out (O, C), the reduced dim between two kept ones (or outermost, O = 1), the
// kept inner one contiguous: for each o, rows added into a row of double sums in row order
// (the order sum_one would take, element by element), so that the loop runs along contiguous
// memory instead of striding across rows (a (N, C, H, W) -> (N, 1, H, W) sum, the gradient of
// a per-pixel noise added to every channel). Outer index and blocks of columns are split over
// threads.
static void sum_rows(const float *x, int64_t outer, int64_t rows, int64_t cols, float *out) {
    const int64_t nblk = (cols + 1023) / 1024, ntask = outer * nblk;
#pragma omp parallel for schedule(static) if (outer * rows * cols > CPU_PARALLEL_MIN && ntask > 1)
    for (int64_t t = 0; t < ntask; t++) {
        const int64_t o = t / nblk, j0 = t % nblk * 1024, n = cols - j0 < 1024 ? cols - j0 : 1024;
        const float *xo = x + o * rows * cols + j0;
        double acc[1024];
        memset(acc, 0, (size_t)n * sizeof(double));
        for (int64_t r = 0; r < rows; r++) add_row_d(acc, xo + r * cols, n);
        for (int64_t j = 0; j < n; j++) out[o * cols + j0 + j] = (float)acc[j];
    }
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
            double lanes[8] = {0};
            sum_run8(x + k * CHUNK, e - k * CHUNK, lanes);
            part[k] = lanes_total(lanes);
        }
        double s = 0.0;
        for (int64_t k = 0; k < nchunk; k++) s += part[k];
        out[0] = (float)s;
        return;
    }
    rplan p = rplan_make(X->shape, node->out->shape);
    if (p.nd == 2 && p.red[0] && !p.red[1]) {
        sum_rows(X->data, 1, p.n[0], p.n[1], out);
        return;
    }
    if (p.nd == 3 && !p.red[0] && p.red[1] && !p.red[2]) {
        sum_rows(X->data, p.n[0], p.n[1], p.n[2], out);
        return;
    }
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < nout; o++) out[o] = (float)sum_one(&p, X->data, o);
}

void cpu_expand(ag_ctx *c, const ag_node *node) {
    (void)c;
    ag_shape in = node->src[0]->shape;
    ag_bplan p = ag_bplan_make(node->out->shape, 1, &in);
    const float *x = node->src[0]->data;
    float *out = node->out->data;
    int64_t inner = p.n[p.nd - 1], sx = p.s[0][p.nd - 1];
#pragma omp parallel for schedule(static) if (node->out->numel > CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < p.outer; o++) {
        int64_t ox, unused;
        ag_bplan_offsets(&p, o, &ox, &unused);
        float *po = out + o * inner;
        if (sx) memcpy(po, x + ox, (size_t)inner * sizeof(float));
        else for (int64_t j = 0; j < inner; j++) po[j] = x[ox];
    }
}
