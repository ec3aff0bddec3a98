// Convolutions as im2col/col2im + sgemm, OpenMP over the batch.
//
// The batch is cut into at most one contiguous chunk of samples per thread; each chunk has its
// own column buffer in the context's workspace (taken once, before the parallel region). Forward
// kernels write disjoint samples, so their results do not depend on the cut. The weight gradient
// sums over the batch: each chunk accumulates its samples in order into its own partial sum and
// the partials are added in chunk order, so it is deterministic for a fixed thread count.
//
// Op parameters (see ops/conv.c): i[0..1] stride, i[2..3] padding, i[6] groups.
#include <omp.h>
#include <string.h>

#include "cpu.h"

// One sample's image (C, H, W) seen through kh x kw windows at the given stride and padding:
// a grid of (Ho, Wo) window positions. im2col lays the windows out as the columns of a
// (C*kh*kw, Ho*Wo) matrix, row (c*kh + i)*kw + j holding tap (i, j) of channel c; col2im adds
// such a matrix back onto the image.
typedef struct {
    int C, H, W;
    int kh, kw, sh, sw, ph, pw;
    int Ho, Wo;
} conv_geom;

static conv_geom geom_make(const ag_node *node, ag_shape image, ag_shape kernel, ag_shape grid) {
    const int *p = node->p.i;
    return (conv_geom){.C = image.d[1], .H = image.d[2], .W = image.d[3], .kh = kernel.d[2],
                       .kw = kernel.d[3], .sh = p[0], .sw = p[1], .ph = p[2], .pw = p[3],
                       .Ho = grid.d[2], .Wo = grid.d[3]};
}

// A 1x1 kernel at stride 1 without padding: the column matrix is the image itself.
static bool geom_is_pointwise(const conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

static int64_t geom_col_size(const conv_geom *g) {
    return (int64_t)g->C * g->kh * g->kw * g->Ho * g->Wo;
}

// The grid positions [lo, hi) whose tap at offset k lands inside the image: 0 <= o*s - p + k < n.
static void tap_range(int k, int stride, int pad, int n, int out, int *lo, int *hi) {
    int a = pad - k;          // o * stride >= a
    int b = n - 1 + pad - k;  // o * stride <= b
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    int h = b < 0 ? 0 : b / stride + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static void im2col(const conv_geom *g, const float *im, float *col) {
    const int64_t P = (int64_t)g->Ho * g->Wo;
    for (int ch = 0; ch < g->C; ch++) {
        const float *plane = im + (int64_t)ch * g->H * g->W;
        for (int i = 0; i < g->kh; i++) {
            int oh0, oh1;
            tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
            for (int j = 0; j < g->kw; j++) {
                int ow0, ow1;
                tap_range(j, g->sw, g->pw, g->W, g->Wo, &ow0, &ow1);
                float *dst = col + ((int64_t)(ch * g->kh + i) * g->kw + j) * P;
                for (int oh = 0; oh < g->Ho; oh++) {
                    float *d = dst + (int64_t)oh * g->Wo;
                    if (oh < oh0 || oh >= oh1) {
                        memset(d, 0, (size_t)g->Wo * sizeof(float));
                        continue;
                    }
                    const float *row = plane + (int64_t)(oh * g->sh - g->ph + i) * g->W;
                    for (int ow = 0; ow < ow0; ow++) d[ow] = 0.0f;
                    for (int ow = ow0; ow < ow1; ow++) d[ow] = row[ow * g->sw - g->pw + j];
                    for (int ow = ow1; ow < g->Wo; ow++) d[ow] = 0.0f;
                }
            }
        }
    }
}

// im = the sum of the columns' windows (im is overwritten).
static void col2im(const conv_geom *g, const float *col, float *im) {
    const int64_t P = (int64_t)g->Ho * g->Wo;
    memset(im, 0, (size_t)g->C * g->H * g->W * sizeof(float));
    for (int ch = 0; ch < g->C; ch++) {
        float *plane = im + (int64_t)ch * g->H * g->W;
        for (int i = 0; i < g->kh; i++) {
            int oh0, oh1;
            tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
            for (int j = 0; j < g->kw; j++) {
                int ow0, ow1;
                tap_range(j, g->sw, g->pw, g->W, g->Wo, &ow0, &ow1);
                const float *src = col + ((int64_t)(ch * g->kh + i) * g->kw + j) * P;
                for (int oh = oh0; oh < oh1; oh++) {
                    const float *s = src + (int64_t)oh * g->Wo;
                    float *row = plane + (int64_t)(oh * g->sh - g->ph + i) * g->W;
                    for (int ow = ow0; ow < ow1; ow++) row[ow * g->sw - g->pw + j] += s[ow];
                }
            }
        }
    }
}

// Below this many multiply-adds a conv runs on one thread: waking the team costs more.
#define CONV_PARALLEL_MIN_MACS (1 << 19)

// How many contiguous chunks the batch is cut into: one per thread, at most one per sample, one
// for small problems. `macs` is the whole call's multiply-add count.
static int batch_chunks(int n, int64_t macs) {
    int t = macs < CONV_PARALLEL_MIN_MACS ? 1 : omp_get_max_threads();
    return n < t ? n : t;
}

// The first sample of chunk t; chunk t holds samples [chunk_start(t), chunk_start(t + 1)).
static int chunk_start(int t, int n, int chunks) { return (int)((int64_t)t * n / chunks); }

// Per-chunk buffers rounded up to whole cache lines, so that no two threads share one.
static int64_t padded(int64_t floats) { return (floats + 15) & ~(int64_t)15; }

// x (N, Cin, H, W), w (Cout, Cin/G, kh, kw) -> y (N, Cout, Ho, Wo).
// Per sample and group: y_g (Cout/G, Ho*Wo) = w_g (Cout/G, K) @ col_g (K, Ho*Wo), K = Cin/G*kh*kw.
void cpu_conv2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const conv_geom g = geom_make(node, X->shape, Wt->shape, Y->shape);
    const int N = X->shape.d[0], G = node->p.i[6], coutg = Y->shape.d[1] / G;
    const int K = g.C / G * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)g.C * g.H * g.W, ysz = (int64_t)Y->shape.d[1] * P;
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * Y->shape.d[1] * P * K);
    const int64_t col_stride = pointwise ? 0 : padded(geom_col_size(&g));
    float *ws = col_stride ? ag_ctx_workspace(c, (size_t)(chunks * col_stride) * sizeof(float)) : NULL;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *col_buf = ws ? ws + t * col_stride : NULL;
        for (int n = chunk_start(t, N, chunks); n < chunk_start(t + 1, N, chunks); n++) {
            const float *x = X->data + n * xsz;
            float *y = Y->data + n * ysz;
            const float *col = x;
            if (!pointwise) {
                im2col(&g, x, col_buf);
                col = col_buf;
            }
            for (int gr = 0; gr < G; gr++)
                cpu_sgemm(0, 0, coutg, P, K, 1.0f, Wt->data + (int64_t)gr * coutg * K, K,
                          col + (int64_t)gr * K * P, P, 0.0f, y + (int64_t)gr * coutg * P, P);
        }
    }
}

// x (N, Cin, H, W), w (Cin, Cout/G, kh, kw) -> y (N, Cout, Ho, Wo), the adjoint of conv2d from
// y's size to x's. Per sample and group: col_g (Kt, H*W) = w_g^T (Kt, Cin/G) @ x_g (Cin/G, H*W),
// Kt = Cout/G*kh*kw, then col2im onto y: the image is y, the window grid is x.
void cpu_conv_transpose2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const conv_geom g = geom_make(node, Y->shape, Wt->shape, X->shape);
    const int N = X->shape.d[0], G = node->p.i[6], cing = X->shape.d[1] / G, coutg = g.C / G;
    const int Kt = coutg * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)X->shape.d[1] * P, ysz = (int64_t)g.C * g.H * g.W;
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * X->shape.d[1] * P * Kt);
    const int64_t col_stride = pointwise ? 0 : padded(geom_col_size(&g));
    float *ws = col_stride ? ag_ctx_workspace(c, (size_t)(chunks * col_stride) * sizeof(float)) : NULL;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *col_buf = ws ? ws + t * col_stride : NULL;
        for (int n = chunk_start(t, N, chunks); n < chunk_start(t + 1, N, chunks); n++) {
            const float *x = X->data + n * xsz;
            float *y = Y->data + n * ysz;
            float *col = pointwise ? y : col_buf;
            for (int gr = 0; gr < G; gr++)
                cpu_sgemm(1, 0, Kt, P, cing, 1.0f, Wt->data + (int64_t)gr * cing * Kt, Kt,
                          x + (int64_t)gr * cing * P, P, 0.0f, col + (int64_t)gr * Kt * P, P);
            if (!pointwise) col2im(&g, col, y);
        }
    }
}

// x (N, Cin, H, W), gy (N, Cout, Ho, Wo) -> dw (Cout, Cin/G, kh, kw) = sum over samples and
// groups of dw_g (Cout/G, K) += gy_g (Cout/G, Ho*Wo) @ col_g^T (Ho*Wo, K).
void cpu_conv2d_weight_grad(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *GY = node->src[1];
    ag_tensor *DW = node->out;
    const conv_geom g = geom_make(node, X->shape, DW->shape, GY->shape);
    const int N = X->shape.d[0], G = node->p.i[6], coutg = GY->shape.d[1] / G;
    const int K = g.C / G * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)g.C * g.H * g.W, ysz = (int64_t)GY->shape.d[1] * P, wsz = DW->numel;
    if (N == 0) {
        memset(DW->data, 0, (size_t)wsz * sizeof(float));
        return;
    }
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * GY->shape.d[1] * P * K);
    // Per chunk: a column buffer (unless pointwise) and, for every chunk but the first, which
    // accumulates straight into dw, a partial sum.
    const int64_t col_stride = pointwise ? 0 : padded(geom_col_size(&g));
    const int64_t part_stride = padded(wsz);
    const int64_t total = chunks * col_stride + (chunks - 1) * part_stride;
    float *ws = total ? ag_ctx_workspace(c, (size_t)total * sizeof(float)) : NULL;
    float *parts = ws ? ws + chunks * col_stride : NULL;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *col_buf = col_stride ? ws + t * col_stride : NULL;
        float *dw = t == 0 ? DW->data : parts + (t - 1) * part_stride;
        int n0 = chunk_start(t, N, chunks), n1 = chunk_start(t + 1, N, chunks);
        for (int n = n0; n < n1; n++) {
            const float *x = X->data + n * xsz, *gy = GY->data + n * ysz;
            const float *col = x;
            if (!pointwise) {
                im2col(&g, x, col_buf);
                col = col_buf;
            }
            for (int gr = 0; gr < G; gr++)
                cpu_sgemm(0, 1, coutg, K, P, 1.0f, gy + (int64_t)gr * coutg * P, P,
                          col + (int64_t)gr * K * P, P, n == n0 ? 0.0f : 1.0f,
                          dw + (int64_t)gr * coutg * K, K);
        }
    }

    // dw = partial 0 + partial 1 + ... in chunk order, element by element.
    if (chunks > 1) {
        float *dw = DW->data;
#pragma omp parallel for schedule(static) if (wsz > CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < wsz; i++) {
            float s = dw[i];
            for (int t = 1; t < chunks; t++) s += parts[(t - 1) * part_stride + i];
            dw[i] = s;
        }
    }
}
