// Convolutions as im2col/col2im + sgemm, OpenMP over the batch.
//
// Shapes of the GEMMs. One sample's column matrix is (K, Ho*Wo); for the small late layers of a
// discriminator (Ho*Wo = 16 or 64) a GEMM per sample is a thin matrix product that spends its
// time packing the weights. So samples are processed in groups of S: the columns of the S
// samples sit side by side in one (K, S*Ho*Wo) matrix and one GEMM serves the whole group, with
// S*Ho*Wo near GROUP_COLS. Results are gathered into / scattered out of the NCHW tensors around
// the GEMM (one cheap pass, against K multiply-adds per element).
//
// Threads. The batch is cut into at most one contiguous chunk of samples per thread; each chunk
// has its own buffers in the context's workspace (taken once, before the parallel region), and
// every GEMM runs on the calling thread (OpenBLAS is held to one thread, cpu/backend.c).
// Forward kernels write disjoint samples, so their results do not depend on the cut. The
// weight gradient sums over the batch: each chunk accumulates its groups in order into its own
// partial sum and the partials are added in chunk order, so it is deterministic for a fixed
// thread count.
//
// A "dense" geometry, a kernel that covers the whole unpadded image in one window (the last
// layer of a DCGAN discriminator, the first of its generator), is a plain matrix product over
// the batch and skips im2col altogether.
//
// Op parameters (see ops/conv.c): i[0..1] stride, i[2..3] padding, i[6] groups.
#include <omp.h>
#include <string.h>

#include "col2im.h"
#include "cpu.h"
#include "pgemm.h"

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
    const ag_conv_args *a = &node->p.conv.args;
    return (conv_geom){.C = image.d[1], .H = image.d[2], .W = image.d[3], .kh = kernel.d[2],
                       .kw = kernel.d[3], .sh = a->stride_h, .sw = a->stride_w, .ph = a->pad_h, .pw = a->pad_w,
                       .Ho = grid.d[2], .Wo = grid.d[3]};
}

// A 1x1 kernel at stride 1 without padding: a sample's column matrix is the image itself.
static bool geom_is_pointwise(const conv_geom *g) {
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

// One window covering the whole image, no padding: a sample's column matrix is its image as one
// column, so a convolution over the batch is one matrix product.
static bool geom_is_dense(const conv_geom *g) {
    return g->Ho == 1 && g->Wo == 1 && g->ph == 0 && g->pw == 0 && g->kh == g->H && g->kw == g->W;
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

// Width phases. With stride sw, tap column j of window ow reads input column
// ow*sw - pw + j = sw*(ow + d) + q, where j - pw = sw*d + q and 0 <= q < sw. So if the image
// is first split into sw phase planes, plane q holding columns q, q + sw, q + 2sw, ... (with
// zero margins wide enough for every d), each tap row of im2col is a contiguous copy from one
// phase plane, and each of col2im a contiguous add into one: loops that vectorise, where
// reading or adding at stride sw does not. The phase split is one pass over the (small) image.
typedef struct {
    int lm;  // zero columns left of each phase plane row
    int wp;  // floats per phase plane row
} phase_geom;

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

static phase_geom phase_make(const conv_geom *g) {
    int dmin = floor_div(-g->pw, g->sw), dmax = floor_div(g->kw - 1 - g->pw, g->sw);
    int lm = dmin < 0 ? -dmin : 0, wq = (g->W + g->sw - 1) / g->sw;
    int right = g->Wo + dmax > wq ? g->Wo + dmax : wq;
    return (phase_geom){.lm = lm, .wp = lm + right};
}

// Floats of one channel's phase planes (sw planes of H rows).
static int64_t phase_floats(const conv_geom *g) { return (int64_t)g->sw * g->H * phase_make(g).wp; }

// Tap column j of the window reads phase plane q at offset d from the window's position.
static void tap_phase(const conv_geom *g, int j, int *q, int *d) {
    *d = floor_div(j - g->pw, g->sw);
    *q = j - g->pw - g->sw * *d;
}

// Copies and zeros of the phase planes' rows. Rows here are short (a few to 64 floats)
// and the margins one or two: fixed-size vector moves and plain loops, which the empty asm
// statements keep GCC from turning into memset and memcpy calls (each call costs more than
// the copy).
typedef float v16f __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

// n zeros at dst (a margin of a float or two).
static inline __attribute__((always_inline)) void zero_floats(float *dst, int n) {
    for (int i = 0; i < n; i++) {
        dst[i] = 0.0f;
        __asm__ volatile("" ::: "memory");
    }
}

// dst = `left` zeros, n floats of src, `right` zeros.
static inline __attribute__((always_inline)) void row_pad_copy(float *restrict dst, const float *restrict src,
                                                               int left, int n, int right) {
    zero_floats(dst, left);
    dst += left;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, src + i, sizeof v);
        memcpy(dst + i, &v, sizeof v);
        __asm__ volatile("" ::: "memory");
    }
    for (; i < n; i++) {
        dst[i] = src[i];
        __asm__ volatile("" ::: "memory");
    }
    zero_floats(dst + n, right);
}

// Phase plane rows [r0, r1) of one channel plane (H, W): each of the sw planes' rows written
// whole, zero margins included (the rest of `phase` is left as it was).
CPU_DISPATCH static void phase_split_rows(const conv_geom *g, phase_geom pg, const float *restrict plane,
                                          float *restrict phase, int r0, int r1) {
    const int sw = g->sw, W = g->W;
    if (sw == 1) {  // one plane: the rows with their margins
        for (int r = r0; r < r1; r++)
            row_pad_copy(phase + (int64_t)r * pg.wp, plane + (int64_t)r * W, pg.lm, W, pg.wp - pg.lm - W);
        return;
    }
    if (sw == 2) {
        const int ce = (W + 1) / 2, co = W / 2;  // columns of the even and the odd plane
        for (int r = r0; r < r1; r++) {
            const float *src = plane + (int64_t)r * W;
            float *e = phase + (int64_t)r * pg.wp, *o = e + (int64_t)g->H * pg.wp;
            zero_floats(e, pg.lm), zero_floats(e + pg.lm + ce, pg.wp - pg.lm - ce);
            zero_floats(o, pg.lm), zero_floats(o + pg.lm + co, pg.wp - pg.lm - co);
            e += pg.lm, o += pg.lm;
            // 32 image columns -> 16 of each plane, deinterleaved in registers (a permute each);
            // then 16 and 8 columns at a time (DCGAN's 16- and 8-wide images), then single ones.
            int m = 0;
            for (; 2 * m + 32 <= W; m += 16) {
                v16f a, b;
                memcpy(&a, src + 2 * m, sizeof a);
                memcpy(&b, src + 2 * m + 16, sizeof b);
                const v16f ev = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                                        28, 30);
                const v16f od = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                                        29, 31);
                memcpy(e + m, &ev, sizeof ev);
                memcpy(o + m, &od, sizeof od);
            }
            for (; 2 * m + 16 <= W; m += 8) {
                v8f a, b;
                memcpy(&a, src + 2 * m, sizeof a);
                memcpy(&b, src + 2 * m + 8, sizeof b);
                const v8f ev = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
                const v8f od = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
                memcpy(e + m, &ev, sizeof ev);
                memcpy(o + m, &od, sizeof od);
            }
            for (; m < co; m++) {
                e[m] = src[2 * m];
                o[m] = src[2 * m + 1];
                __asm__ volatile("" ::: "memory");
            }
            if (W % 2) e[co] = src[W - 1];
        }
        return;
    }
    for (int r = r0; r < r1; r++) {
        const float *src = plane + (int64_t)r * W;
        // Zero each plane row's margins (its columns past the image, and lm on the left).
        for (int q = 0; q < sw; q++) {
            float *row = phase + ((int64_t)q * g->H + r) * pg.wp;
            const int cnt = q < W ? (W - q + sw - 1) / sw : 0;
            zero_floats(row, pg.lm), zero_floats(row + pg.lm + cnt, pg.wp - pg.lm - cnt);
        }
        for (int q = 0; q < sw; q++) {
            float *dst = phase + ((int64_t)q * g->H + r) * pg.wp + pg.lm;
            for (int m = 0; q + m * sw < W; m++) dst[m] = src[q + m * sw];
        }
    }
}

// One channel plane (H, W) -> its phase planes (sw, H, wp) with zero margins.
static void phase_split(const conv_geom *g, phase_geom pg, const float *restrict plane, float *restrict phase) {
    phase_split_rows(g, pg, plane, phase, 0, g->H);
}

// The inverse of phase_split for the columns inside the image (margins are dropped).
CPU_DISPATCH static void phase_merge(const conv_geom *g, phase_geom pg, const float *restrict phase,
                                     float *restrict plane) {
    const int sw = g->sw, W = g->W;
    for (int r = 0; r < g->H; r++) {
        float *dst = plane + (int64_t)r * W;
        if (sw == 1) {
            memcpy(dst, phase + (int64_t)r * pg.wp + pg.lm, (size_t)W * sizeof(float));
        } else if (sw == 2) {
            const float *e = phase + (int64_t)r * pg.wp + pg.lm, *o = e + (int64_t)g->H * pg.wp;
            for (int m = 0; m < W / 2; m++) {
                dst[2 * m] = e[m];
                dst[2 * m + 1] = o[m];
            }
            if (W % 2) dst[W - 1] = e[W / 2];
        } else {
            for (int q = 0; q < sw; q++) {
                const float *src = phase + ((int64_t)q * g->H + r) * pg.wp + pg.lm;
                for (int m = 0; q + m * sw < W; m++) dst[q + m * sw] = src[m];
            }
        }
    }
}

// rows x n floats: dst rows `dst_ld` apart, src rows `src_ld` apart. Rows here are short (4 to
// 64 floats); the empty asm statement keeps GCC from turning each row into a memcpy call,
// which costs more than the copy.
CPU_DISPATCH static void copy_block(float *restrict dst, int64_t dst_ld, const float *restrict src, int64_t src_ld,
                                    int rows, int n) {
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < n; i++) dst[r * dst_ld + i] = src[r * src_ld + i];
        __asm__ volatile("" ::: "memory");
    }
}

CPU_DISPATCH static void add_block(float *restrict dst, int64_t dst_ld, const float *restrict src, int64_t src_ld,
                                   int rows, int n) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++) dst[r * dst_ld + i] += src[r * src_ld + i];
}

// dst += w * src over rows x n floats (a multiplication then an addition, as everywhere here).
CPU_DISPATCH static void axpy_block(float *restrict dst, int64_t dst_ld, const float *restrict src, int64_t src_ld,
                                    int rows, int n, float w) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++) dst[r * dst_ld + i] += w * src[r * src_ld + i];
}

// The column rows of channels [ch0, ch1) of one sample into a column matrix whose rows are `ld`
// floats apart (ld = S*Ho*Wo when S samples share the matrix; col points at this sample's first
// column, in the row of tap (0, 0) of channel ch0). `phase` is scratch of phase_floats(g) floats.
static void im2col(const conv_geom *g, const float *im, float *col, int64_t ld, float *phase, int ch0, int ch1) {
    const phase_geom pg = phase_make(g);
    col -= (int64_t)ch0 * g->kh * g->kw * ld;
    for (int ch = ch0; ch < ch1; ch++) {
        phase_split(g, pg, im + (int64_t)ch * g->H * g->W, phase);
        for (int i = 0; i < g->kh; i++) {
            int oh0, oh1;
            tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
            for (int j = 0; j < g->kw; j++) {
                int q, d;
                tap_phase(g, j, &q, &d);
                const float *src = phase + (int64_t)q * g->H * pg.wp + pg.lm + d;
                float *dst = col + ((int64_t)(ch * g->kh + i) * g->kw + j) * ld;
                if (oh0 > 0) memset(dst, 0, (size_t)oh0 * g->Wo * sizeof(float));
                if (oh1 > oh0)
                    copy_block(dst + (int64_t)oh0 * g->Wo, g->Wo, src + (int64_t)(oh0 * g->sh - g->ph + i) * pg.wp,
                               (int64_t)g->sh * pg.wp, oh1 - oh0, g->Wo);
                if (oh1 < g->Ho) memset(dst + (int64_t)oh1 * g->Wo, 0, (size_t)(g->Ho - oh1) * g->Wo * sizeof(float));
            }
        }
    }
}

// Channels [ch0, ch1) of im = the sum of the windows of one sample's columns (those channels
// are overwritten). `col` holds the rows of those channels only (row 0 is tap (0, 0) of
// channel ch0), `ld` floats apart.
static void col2im(const conv_geom *g, const float *col, int64_t ld, float *im, float *phase, int ch0, int ch1) {
    const phase_geom pg = phase_make(g);
    col -= (int64_t)ch0 * g->kh * g->kw * ld;
    for (int ch = ch0; ch < ch1; ch++) {
        memset(phase, 0, (size_t)(g->sw * g->H * pg.wp) * sizeof(float));
        for (int i = 0; i < g->kh; i++) {
            int oh0, oh1;
            tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
            for (int j = 0; j < g->kw; j++) {
                int q, d;
                tap_phase(g, j, &q, &d);
                float *acc = phase + (int64_t)q * g->H * pg.wp + pg.lm + d;
                const float *src = col + ((int64_t)(ch * g->kh + i) * g->kw + j) * ld;
                if (oh1 > oh0)
                    add_block(acc + (int64_t)(oh0 * g->sh - g->ph + i) * pg.wp, (int64_t)g->sh * pg.wp,
                              src + (int64_t)oh0 * g->Wo, g->Wo, oh1 - oh0, g->Wo);
            }
        }
        phase_merge(g, pg, phase, im + (int64_t)ch * g->H * g->W);
    }
}

// col2im of channels [ch0, ch1) as above, by whole tap planes where the geometry allows
// (col2im.h: the same sums in the same order, without a pass per row of each tap).
static void col2im_channels(const conv_geom *g, const float *col, int64_t ld, float *im, float *phase, int ch0,
                            int ch1) {
    if (!pgemm_enabled() || !col2im_planes_enabled() ||
        !col2im_planes_fits(g->H, g->W, g->Ho, g->Wo, g->kh, g->kw, g->sh, g->sw)) {
        col2im(g, col, ld, im, phase, ch0, ch1);
        return;
    }
    const int64_t rows = (int64_t)g->kh * g->kw * ld;
    for (int ch = ch0; ch < ch1; ch++)
        col2im_planes(col + (ch - ch0) * rows, ld, im + (int64_t)ch * g->H * g->W, g->Ho, g->Wo, g->kh, g->kw, g->sh,
                      g->ph, g->pw);
}

// S samples' (rows, P) blocks, `stride` floats apart, side by side as one (rows, S*P) matrix.
static void gather_rows(const float *src, int64_t stride, int S, int rows, int P, float *dst) {
    for (int s = 0; s < S; s++) copy_block(dst + (int64_t)s * P, (int64_t)S * P, src + s * stride, P, rows, P);
}

// The inverse of gather_rows.
static void scatter_rows(const float *src, int S, int rows, int P, float *dst, int64_t stride) {
    for (int s = 0; s < S; s++) copy_block(dst + s * stride, P, src + (int64_t)s * P, (int64_t)S * P, rows, P);
}

// Below this many multiply-adds a conv runs on one thread: waking the team costs more.
#define CONV_PARALLEL_MIN_MACS (1 << 19)
// Columns of one grouped GEMM (S*Ho*Wo): enough to amortise packing the weights, few enough
// that a block of column rows stays in the core's L2 cache (tuned on Zen 5, 1 MiB of L2).
#define GROUP_COLS 256
// Column rows (taps) built and consumed at once: the GEMM's reduction runs over blocks of
// this many rows, each block im2col'ed just before, so the columns never leave the cache.
#define COL_BLOCK_ROWS 512
// At most this many floats of per-thread buffers for a group (16 MiB).
#define GROUP_MAX_FLOATS (4 << 20)

// How many contiguous chunks the batch is cut into: one per thread, at most one per sample, one
// for small problems. `macs` is the whole call's multiply-add count.
static int batch_chunks(int n, int64_t macs) {
    int t = macs < CONV_PARALLEL_MIN_MACS ? 1 : omp_get_max_threads();
    return n < t ? n : t;
}

// The first sample of chunk t; chunk t holds samples [chunk_start(t), chunk_start(t + 1)).
static int chunk_start(int t, int n, int chunks) { return (int)((int64_t)t * n / chunks); }

// Samples per GEMM: about GROUP_COLS columns, within the buffer cap (`per_sample` floats of
// buffers per sample) and the longest chunk.
static int group_size(int n, int chunks, int P, int64_t per_sample) {
    int s = (GROUP_COLS + P - 1) / P, longest = (n + chunks - 1) / chunks;
    int64_t cap = GROUP_MAX_FLOATS / (per_sample > 0 ? per_sample : 1);
    if (s > cap) s = (int)cap;
    if (s > longest) s = longest;
    return s < 1 ? 1 : s;
}

// Channels per block of column rows: COL_BLOCK_ROWS taps' worth, at least one channel.
static int col_block_channels(int taps, int channels) {
    int b = COL_BLOCK_ROWS / taps;
    if (b < 1) b = 1;
    return b < channels ? b : channels;
}

// Per-chunk buffers rounded up to whole cache lines, so that no two threads share one.
static int64_t padded(int64_t floats) { return (floats + 15) & ~(int64_t)15; }

// --- direct loops for convolutions too thin for a GEMM --------------------------------------
// A per-group GEMM with a handful of rows (one or two output channels: a 1x1 projection to an
// image, a one-channel FIR filter) or a reduction of a few taps (a 4-tap FIR pass, a 1x1 conv
// from an image) is all packing and call overhead. These run as plain loops instead: every
// output plane the sum over input channels and taps, in that order, of w * the input plane
// shifted by the tap, row by row through the phase planes and vectorised along the rows.
// Parallel over samples; deterministic.

// A conv2d whose GEMM (M = Cout/G rows, K = Cin/G * kh * kw) is thin.
static bool conv_is_thin(int coutg, int K) { return coutg <= 2 || K <= 8; }

// A one-channel filter (cing = coutg = 1: StyleGAN2's FIR passes, each channel folded into the
// batch) runs a row at a time: each output row is the sum over the taps whose input row lies
// inside the image of w * that row, the sums kept in registers. That is the values of
// axpy_block applied tap by tap onto zeros (each term a multiplication then an addition, taps
// in order), in one pass instead of a memset and one read-modify-write pass per tap. The rows
// are read from the channel's phase planes, or from the image itself when the width needs
// neither a stride nor padding (the vertical passes).
#define ROW_TAPS_MAX 16

typedef float v8f __attribute__((vector_size(32)));

// The taps of a one-channel filter's geometry (its weights differ per channel).
typedef struct {
    int ntaps, row[ROW_TAPS_MAX];  // kernel row of each tap
    int64_t off[ROW_TAPS_MAX];     // offset of the tap's column in its phase plane (or image) row
    bool split;                    // read phase planes (else the image)
} channel_taps;

static channel_taps channel_taps_make(const conv_geom *g, phase_geom pg) {
    channel_taps ct = {.ntaps = g->kh * g->kw, .split = g->sw != 1 || g->pw != 0};
    for (int i = 0, t = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++, t++) {
            int q, d;
            tap_phase(g, j, &q, &d);
            ct.row[t] = i;
            ct.off[t] = ct.split ? (int64_t)q * g->H * pg.wp + pg.lm + d : j;
        }
    return ct;
}

// y[o] = the sum over taps t of w[t] * src[t][o], o < n.
static inline __attribute__((always_inline)) void taps_run(float *restrict y, const float *const *src,
                                                           const float *w, int nt, int64_t n) {
    int64_t o = 0;
    for (; o + 16 <= n; o += 16) {
        v16f acc = {0};
        for (int t = 0; t < nt; t++) {
            v16f v;
            memcpy(&v, src[t] + o, sizeof v);
            acc += w[t] * v;
        }
        memcpy(y + o, &acc, sizeof acc);
    }
    for (; o + 8 <= n; o += 8) {
        v8f acc = {0};
        for (int t = 0; t < nt; t++) {
            v8f v;
            memcpy(&v, src[t] + o, sizeof v);
            acc += w[t] * v;
        }
        memcpy(y + o, &acc, sizeof acc);
    }
    for (; o < n; o++) {
        float acc = 0.0f;
        for (int t = 0; t < nt; t++) acc += w[t] * src[t][o];
        y[o] = acc;
    }
}

// The output plane y (Ho, Wo) from `base`, the image or its phase planes, rows `ld` apart.
// The rows whose taps all lie inside the image share one tap list; at stride 1 over the image
// itself they are one contiguous run.
CPU_DISPATCH static void channel_filter(const conv_geom *g, const channel_taps *ct, const float *w_in,
                                        const float *base, int64_t ld, float *restrict y) {
    const float *src[ROW_TAPS_MAX];
    float w[ROW_TAPS_MAX];
    const int n = g->Wo;
    int ia = 0, ib = g->Ho;  // the interior rows [ia, ib)
    for (int i = 0; i < g->kh; i++) {
        int lo, hi;
        tap_range(i, g->sh, g->ph, g->H, g->Ho, &lo, &hi);
        ia = lo > ia ? lo : ia;
        ib = hi < ib ? hi : ib;
    }
    if (ib < ia) ib = ia;
    for (int oh = 0; oh < g->Ho; oh++) {
        if (oh == ia && ib > ia) {
            for (int t = 0; t < ct->ntaps; t++) {
                src[t] = base + ct->off[t] + (int64_t)(ia * g->sh - g->ph + ct->row[t]) * ld;
                w[t] = w_in[t];
            }
            if (g->sh == 1 && ld == n) {
                taps_run(y + (int64_t)ia * n, src, w, ct->ntaps, (int64_t)(ib - ia) * n);
            } else {
                for (int r = ia; r < ib; r++) {
                    taps_run(y + (int64_t)r * n, src, w, ct->ntaps, n);
                    for (int t = 0; t < ct->ntaps; t++) src[t] += g->sh * ld;
                }
            }
            oh = ib - 1;
            continue;
        }
        int nt = 0;
        for (int t = 0; t < ct->ntaps; t++) {
            const int r = oh * g->sh - g->ph + ct->row[t];
            if (r < 0 || r >= g->H) continue;
            src[nt] = base + ct->off[t] + (int64_t)r * ld;
            w[nt++] = w_in[t];
        }
        taps_run(y + (int64_t)oh * n, src, w, nt, n);
    }
}

// One channel x (H, W) with its weights w (kh, kw) -> y (Ho, Wo).
static void conv2d_direct_channel(const conv_geom *g, phase_geom pg, const channel_taps *ct, const float *x,
                                  const float *w, float *y, float *phase) {
    if (!ct->split) {
        channel_filter(g, ct, w, x, g->W, y);
        return;
    }
    phase_split(g, pg, x, phase);
    channel_filter(g, ct, w, phase, pg.wp, y);
}

// Per sample: for each input channel, its phase planes, then every output channel of its group
// takes w * each tap's rows.
static void conv2d_direct(ag_ctx *c, const ag_node *node, const conv_geom *g, int chunks) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = Y->shape.d[1], coutg = Cout / G, cing = g->C / G;
    const int taps = g->kh * g->kw, P = g->Ho * g->Wo;
    const int64_t xsz = (int64_t)g->C * g->H * g->W, ysz = (int64_t)Cout * P, stride = padded(phase_floats(g));
    const phase_geom pg = phase_make(g);
    const bool one_channel = cing == 1 && coutg == 1 && taps <= ROW_TAPS_MAX;
    const channel_taps ct = one_channel ? channel_taps_make(g, pg) : (channel_taps){0};
    void **tws = ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *phase = tws[t];
        for (int n = chunk_start(t, N, chunks); n < chunk_start(t + 1, N, chunks); n++) {
            float *y = Y->data + n * ysz;
            if (one_channel) {
                for (int ch = 0; ch < g->C; ch++)
                    conv2d_direct_channel(g, pg, &ct, X->data + n * xsz + (int64_t)ch * g->H * g->W,
                                          Wt->data + (int64_t)ch * taps, y + (int64_t)ch * P, phase);
                continue;
            }
            memset(y, 0, (size_t)ysz * sizeof(float));
            for (int ch = 0; ch < g->C; ch++) {
                const int gr = ch / cing;
                phase_split(g, pg, X->data + n * xsz + (int64_t)ch * g->H * g->W, phase);
                for (int co = gr * coutg; co < (gr + 1) * coutg; co++) {
                    const float *w = Wt->data + ((int64_t)co * cing + ch - gr * cing) * taps;
                    for (int i = 0; i < g->kh; i++) {
                        int oh0, oh1;
                        tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
                        if (oh1 <= oh0) continue;
                        for (int j = 0; j < g->kw; j++) {
                            int q, d;
                            tap_phase(g, j, &q, &d);
                            const float *src = phase + (int64_t)q * g->H * pg.wp + pg.lm + d +
                                               (int64_t)(oh0 * g->sh - g->ph + i) * pg.wp;
                            axpy_block(y + (int64_t)co * P + (int64_t)oh0 * g->Wo, g->Wo, src,
                                       (int64_t)g->sh * pg.wp, oh1 - oh0, g->Wo, w[i * g->kw + j]);
                        }
                    }
                }
            }
        }
    }
}

// The transposed conv of one channel whose kernel is a column, without stride or padding in
// width (the vertical passes of StyleGAN2's upsampling): output row r is the sum over the
// kernel rows i that land on it, in order, of w[i] * input row (r + ph - i) / sh.
CPU_DISPATCH static void channel_filter_transposed_rows(const conv_geom *g, const float *w, const float *x,
                                                        float *restrict y) {
    const float *src[ROW_TAPS_MAX];
    float wt[ROW_TAPS_MAX];
    for (int r = 0; r < g->H; r++) {
        int nt = 0;
        for (int i = 0; i < g->kh; i++) {
            const int a = r + g->ph - i;
            if (a < 0 || a % g->sh || a / g->sh >= g->Ho) continue;
            src[nt] = x + (int64_t)(a / g->sh) * g->Wo;
            wt[nt++] = w[i];
        }
        taps_run(y + (int64_t)r * g->W, src, wt, nt, g->W);
    }
}

// The transposed conv as direct loops: per sample and output channel, its phase planes take
// w * each input channel's rows at each tap, then are merged into the output plane.
static void conv_transpose2d_direct(ag_ctx *c, const ag_node *node, const conv_geom *g, int chunks) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cin = X->shape.d[1], cing = Cin / G, coutg = g->C / G;
    const int taps = g->kh * g->kw, P = g->Ho * g->Wo;
    const int64_t xsz = (int64_t)Cin * P, ysz = (int64_t)g->C * g->H * g->W, stride = padded(phase_floats(g));
    const phase_geom pg = phase_make(g);
    const bool column = cing == 1 && coutg == 1 && g->kw == 1 && g->sw == 1 && g->pw == 0 && g->kh <= ROW_TAPS_MAX;
    void **tws = ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *phase = tws[t];
        for (int n = chunk_start(t, N, chunks); n < chunk_start(t + 1, N, chunks); n++) {
            if (column) {
                for (int co = 0; co < g->C; co++)
                    channel_filter_transposed_rows(g, Wt->data + (int64_t)co * taps,
                                                   X->data + n * xsz + (int64_t)co * P,
                                                   Y->data + n * ysz + (int64_t)co * g->H * g->W);
                continue;
            }
            for (int co = 0; co < g->C; co++) {
                const int gr = co / coutg;
                memset(phase, 0, (size_t)(g->sw * g->H * pg.wp) * sizeof(float));
                for (int ci = gr * cing; ci < (gr + 1) * cing; ci++) {
                    const float *x = X->data + n * xsz + (int64_t)ci * P;
                    const float *w = Wt->data + ((int64_t)ci * coutg + co - gr * coutg) * taps;
                    for (int i = 0; i < g->kh; i++) {
                        int oh0, oh1;
                        tap_range(i, g->sh, g->ph, g->H, g->Ho, &oh0, &oh1);
                        if (oh1 <= oh0) continue;
                        for (int j = 0; j < g->kw; j++) {
                            int q, d;
                            tap_phase(g, j, &q, &d);
                            float *acc = phase + (int64_t)q * g->H * pg.wp + pg.lm + d +
                                         (int64_t)(oh0 * g->sh - g->ph + i) * pg.wp;
                            axpy_block(acc, (int64_t)g->sh * pg.wp, x + (int64_t)oh0 * g->Wo, g->Wo, oh1 - oh0,
                                       g->Wo, w[i * g->kw + j]);
                        }
                    }
                }
                phase_merge(g, pg, phase, Y->data + n * ysz + (int64_t)co * g->H * g->W);
            }
        }
    }
}

// --- implicit GEMM on our own kernel (cpu/pgemm.h: AVX-512 or AVX2) ---------------------
// The same products as the im2col path, without its column matrix: the GEMM's right-hand side
// is packed straight from each channel's phase planes into the kernel's panel layout (one copy,
// where im2col and OpenBLAS's packing make two), and the weights are packed once per call
// (OpenBLAS packs them again for every group of samples). Used when pgemm_enabled() (AVX-512 or
// AVX2, GAN_CONV_KERNEL not "blas"); the im2col + OpenBLAS path is the fallback.

// Packed B rows of channels [ch0, ch1) of one sample for the window rows [oa, ob): row
// (ch - ch0)*kh*kw + i*kw + j of `bpack` (kc rows) is tap (i, j) of channel ch, at columns
// n0 + (oh - oa)*Wo + ow. `phase` is scratch of phase_floats(g) floats.
static void pack_b_image(const conv_geom *g, const float *im, float *bpack, int kc, int64_t n0, float *phase, int ch0,
                         int ch1, int oa, int ob) {
    const phase_geom pg = phase_make(g);
    const int taps = g->kh * g->kw;
    int r0 = oa * g->sh - g->ph, r1 = (ob - 1) * g->sh - g->ph + g->kh;
    if (r0 < 0) r0 = 0;
    if (r1 > g->H) r1 = g->H;
    for (int ch = ch0; ch < ch1; ch++) {
        if (r1 > r0) phase_split_rows(g, pg, im + (int64_t)ch * g->H * g->W, phase, r0, r1);
        for (int i = 0; i < g->kh; i++) {
            int lo, hi;
            tap_range(i, g->sh, g->ph, g->H, g->Ho, &lo, &hi);
            if (lo < oa) lo = oa;
            if (hi > ob) hi = ob;
            if (hi < lo) hi = lo;
            for (int j = 0; j < g->kw; j++) {
                int q, d;
                tap_phase(g, j, &q, &d);
                const float *src = phase;
                if (hi > lo)
                    src = phase + (int64_t)q * g->H * pg.wp + pg.lm + d + (int64_t)(lo * g->sh - g->ph + i) * pg.wp;
                pgemm_pack_b_rows(bpack, kc, (ch - ch0) * taps + i * g->kw + j, n0, ob - oa, g->Wo, lo - oa, hi - oa,
                                  src, (int64_t)g->sh * pg.wp);
            }
        }
    }
}

// Columns of one implicit GEMM (a block of samples, or of window rows of one sample).
#define PGEMM_COLS 256

// How an implicit GEMM cuts its columns: S whole samples when a sample's P output pixels are
// fewer than PGEMM_COLS (S = 1 otherwise), or bands of R output rows of one sample.
static void implicit_column_blocks(const conv_geom *g, int N, int chunks, int *S, int *R) {
    const int P = g->Ho * g->Wo;
    *S = 1, *R = g->Ho;
    if (P >= PGEMM_COLS) {
        *R = PGEMM_COLS / g->Wo;
        if (*R < 1) *R = 1;
        if (*R > g->Ho) *R = g->Ho;
    } else {
        *S = group_size(N, chunks, P, 1);
        if (*S * P > PGEMM_COLS) *S = PGEMM_COLS / P;
    }
}

// conv2d as implicit GEMMs: per block of columns (S samples whole, or R window rows of one
// sample when a sample has more than PGEMM_COLS windows), conv group and block of input channels,
// pack that block's taps from the image and multiply by the packed weights, accumulating into
// y. An output panel of PGEMM_NR columns lies within one sample when P is a multiple of it, and
// the kernel writes y in place; otherwise (P = 16: 4x4 outputs) the group's output goes through
// a buffer and is scattered.
static void conv2d_implicit(ag_ctx *c, const ag_node *node, const conv_geom *g, int chunks) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = Y->shape.d[1], coutg = Cout / G;
    const int taps = g->kh * g->kw, cing = g->C / G, K = cing * taps, P = g->Ho * g->Wo;
    const int64_t xsz = (int64_t)g->C * g->H * g->W, ysz = (int64_t)Cout * P;
    const int block_ch = col_block_channels(taps, cing), kc_max = block_ch * taps;
    int S, R;
    implicit_column_blocks(g, N, chunks, &S, &R);
    const bool in_place = S == 1 || P % PGEMM_NR == 0;
    const int64_t cols_max = (int64_t)S * R * g->Wo;
    const int64_t b_floats = padded(pgemm_bpack_floats(kc_max, (int)cols_max));
    const int64_t o_floats = in_place ? 0 : Cout * cols_max;
    const int64_t stride = padded(b_floats + o_floats + phase_floats(g)), a_floats = padded((int64_t)Cout * K);
    float *apack = ag_ctx_workspace(c, (size_t)a_floats * sizeof(float));
    void **tws = ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));

    // The weights, packed per conv group and block of channels: block [c0, c1) of group gr at
    // apack + gr*coutg*K + coutg*c0*taps.
    const int nblocks = (cing + block_ch - 1) / block_ch;
    // One parallel region for the packing and the products (a region costs a wake-up of the team,
    // and on a busy host a time slice).
#pragma omp parallel if (chunks > 1)
    {
#pragma omp for schedule(static)
        for (int gb = 0; gb < G * nblocks; gb++) {
            const int gr = gb / nblocks, c0 = gb % nblocks * block_ch, c1 = c0 + block_ch < cing ? c0 + block_ch : cing;
            pgemm_pack_a(coutg, (c1 - c0) * taps, Wt->data + (int64_t)gr * coutg * K + c0 * taps, K,
                         apack + (int64_t)gr * coutg * K + (int64_t)coutg * c0 * taps);
        }

#pragma omp for schedule(static)
        for (int t = 0; t < chunks; t++) {
            float *bpack = tws[t], *out_buf = bpack + b_floats, *phase = out_buf + o_floats;
            const int n1 = chunk_start(t + 1, N, chunks);
            for (int n0 = chunk_start(t, N, chunks); n0 < n1; n0 += S) {
                const int s_len = n1 - n0 < S ? n1 - n0 : S;
                for (int oa = 0; oa < g->Ho; oa += R) {
                    const int ob = oa + R < g->Ho ? oa + R : g->Ho, seg = (ob - oa) * g->Wo, cols = s_len * seg;
                    for (int gr = 0; gr < G; gr++) {
                        float *yg = in_place ? Y->data + n0 * ysz + (int64_t)gr * coutg * P + (int64_t)oa * g->Wo
                                             : out_buf + (int64_t)gr * coutg * cols;
                        for (int c0 = 0; c0 < cing; c0 += block_ch) {
                            const int c1 = c0 + block_ch < cing ? c0 + block_ch : cing, kc = (c1 - c0) * taps;
                            for (int s = 0; s < s_len; s++)
                                pack_b_image(g, X->data + (n0 + s) * xsz, bpack, kc, (int64_t)s * seg, phase,
                                             gr * cing + c0, gr * cing + c1, oa, ob);
                            pgemm_compute(coutg, cols, kc, apack + (int64_t)gr * coutg * K + (int64_t)coutg * c0 * taps,
                                          bpack, yg, in_place ? P : cols, c0 > 0, in_place ? seg : cols, ysz);
                        }
                    }
                    if (!in_place) scatter_rows(out_buf, s_len, Cout, P, Y->data + n0 * ysz, ysz);
                }
            }
        }
    }
}

// x (N, Cin, H, W), w (Cout, Cin/G, kh, kw) -> y (N, Cout, Ho, Wo).
// Per group of S samples and conv group: y_g (Cout/G, S*P) = w_g (Cout/G, K) @ col_g (K, S*P),
// K = Cin/G*kh*kw, P = Ho*Wo.
void cpu_conv2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const conv_geom g = geom_make(node, X->shape, Wt->shape, Y->shape);
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = Y->shape.d[1], coutg = Cout / G;
    const int K = g.C / G * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)g.C * g.H * g.W, ysz = (int64_t)Cout * P;
    c->flops += 2 * (uint64_t)N * Cout * P * K;
    if (G == 1 && geom_is_dense(&g)) {  // y (N, Cout) = x (N, K) @ w^T (K, Cout)
        cpu_sgemm_parallel(0, 1, N, Cout, K, X->data, K, Wt->data, K, 0.0f, Y->data, Cout);
        return;
    }
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * Cout * P * K);
    if (conv_is_thin(coutg, K)) {
        conv2d_direct(c, node, &g, chunks);
        return;
    }
    if (pgemm_enabled()) {
        conv2d_implicit(c, node, &g, chunks);
        return;
    }
    // Per sample of a group: a block of its column rows and its slice of the GEMM's output.
    const int taps = g.kh * g.kw, cing = g.C / G, block_ch = col_block_channels(taps, cing);
    const int S = group_size(N, chunks, P, (int64_t)(block_ch * taps + Cout) * P);
    const bool direct = S == 1 && pointwise;
    const int64_t col_floats = (int64_t)block_ch * taps * S * P, out_floats = S > 1 ? ysz * S : 0;
    const int64_t phase_size = direct ? 0 : phase_floats(&g);
    const int64_t stride = padded(col_floats + out_floats + phase_size);
    void **tws = direct ? NULL : ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *col_buf = tws ? tws[t] : NULL, *out_buf = tws ? col_buf + col_floats : NULL;
        float *phase = tws ? out_buf + out_floats : NULL;
        const int n1 = chunk_start(t + 1, N, chunks);
        for (int n0 = chunk_start(t, N, chunks); n0 < n1; n0 += S) {
            const int s_len = n1 - n0 < S ? n1 - n0 : S, cols = s_len * P;
            float *y = s_len == 1 ? Y->data + n0 * ysz : out_buf;
            for (int gr = 0; gr < G; gr++) {
                const float *wg = Wt->data + (int64_t)gr * coutg * K;
                float *yg = y + (int64_t)gr * coutg * cols;
                if (direct) {  // pointwise, one sample: the columns are x itself
                    cpu_sgemm(0, 0, coutg, cols, K, 1.0f, wg, K, X->data + n0 * xsz + (int64_t)gr * K * cols, cols,
                              0.0f, yg, cols);
                    continue;
                }
                // y_g = sum over blocks of channels [c0, c1) of w_g[:, their taps] @ their columns.
                for (int c0 = 0; c0 < cing; c0 += block_ch) {
                    const int c1 = c0 + block_ch < cing ? c0 + block_ch : cing;
                    for (int s = 0; s < s_len; s++)
                        im2col(&g, X->data + (n0 + s) * xsz, col_buf + s * P, cols, phase, gr * cing + c0,
                               gr * cing + c1);
                    cpu_sgemm(0, 0, coutg, cols, (c1 - c0) * taps, 1.0f, wg + (int64_t)c0 * taps, K, col_buf, cols,
                              c0 == 0 ? 0.0f : 1.0f, yg, cols);
                }
            }
            if (s_len > 1) scatter_rows(out_buf, s_len, Cout, P, Y->data + n0 * ysz, ysz);
        }
    }
}

// Columns of the transposed conv's GEMM held at once: the GEMM writes a block of them and
// col2im adds it up while it is still in the core's L2 cache (a full group's columns, K*S*P
// floats, would go out to memory and come back). 96 Ki floats = 384 KiB.
#define CONVT_BLOCK_FLOATS (96 << 10)
// ...but at least this many GEMM rows per block, so that packing the GEMM's right-hand side
// (the input, once per block) stays small next to the product.
#define CONVT_BLOCK_MIN_ROWS 256

// Rows of the GEMM's reduction (input channels) packed and multiplied at once by the
// transposed conv's implicit GEMM.
#define PGEMM_KC 512
// The most floats of a transposed conv's packed input (one group of samples): 1 MiB, the L2.
#define PGEMM_CONVT_MAX_B (256 << 10)

// conv_transpose2d on our kernel: as the im2col path below (per group of samples, conv group and
// block of output channels, the GEMM writes a block of columns and col2im adds it onto y), but
// the weights are packed once per call and the input once per group of samples, straight from
// x (OpenBLAS packs the weights per group of samples and the gathered input again for every
// block of output channels).
static void conv_transpose2d_implicit(ag_ctx *c, const ag_node *node, const conv_geom *g, int chunks, int S,
                                      int block_ch) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cin = X->shape.d[1], cing = Cin / G, coutg = g->C / G;
    const int taps = g->kh * g->kw, Kt = coutg * taps, P = g->Ho * g->Wo;
    const int64_t xsz = (int64_t)Cin * P, ysz = (int64_t)g->C * g->H * g->W;
    const int64_t b_floats = padded(pgemm_bpack_floats(cing, S * P)), col_floats = (int64_t)block_ch * taps * S * P;
    const int64_t stride = padded(b_floats + col_floats + phase_floats(g)), a_floats = padded((int64_t)G * cing * Kt);
    float *apack = ag_ctx_workspace(c, (size_t)a_floats * sizeof(float));
    void **tws = ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));

    // The weights: w_g^T's rows of output channels [c0, c1) (rows = (c1 - c0)*taps), the
    // reduction in blocks of PGEMM_KC, at apack + gr*cing*Kt + c0*taps*cing + rows*k0.
    const int nblocks = (coutg + block_ch - 1) / block_ch;
    // One parallel region for the packing and the products (a region costs a wake-up of the team,
    // and on a busy host a time slice).
#pragma omp parallel if (chunks > 1)
    {
#pragma omp for schedule(static)
        for (int gb = 0; gb < G * nblocks; gb++) {
            const int gr = gb / nblocks, c0 = gb % nblocks * block_ch;
            const int c1 = c0 + block_ch < coutg ? c0 + block_ch : coutg;
            const int rows = (c1 - c0) * taps;
            float *dst = apack + (int64_t)gr * cing * Kt + (int64_t)c0 * taps * cing;
            for (int k0 = 0; k0 < cing; k0 += PGEMM_KC) {
                const int kc = cing - k0 < PGEMM_KC ? cing - k0 : PGEMM_KC;
                pgemm_pack_at(rows, kc, Wt->data + (int64_t)gr * cing * Kt + (int64_t)k0 * Kt + c0 * taps, Kt,
                              dst + (int64_t)rows * k0);
            }
        }

#pragma omp for schedule(static)
        for (int t = 0; t < chunks; t++) {
            float *bpack = tws[t], *col_buf = bpack + b_floats, *phase = col_buf + col_floats;
            const int n1 = chunk_start(t + 1, N, chunks);
            for (int n0 = chunk_start(t, N, chunks); n0 < n1; n0 += S) {
                const int s_len = n1 - n0 < S ? n1 - n0 : S, cols = s_len * P;
                const int64_t panel_rows = pgemm_bpack_floats(1, cols);  // floats of bpack per reduction row
                float *y = Y->data + n0 * ysz;
                for (int gr = 0; gr < G; gr++) {
                    // x_g (cing, cols), packed block by block of PGEMM_KC rows, straight from x.
                    for (int k0 = 0; k0 < cing; k0 += PGEMM_KC) {
                        const int kc = cing - k0 < PGEMM_KC ? cing - k0 : PGEMM_KC;
                        float *bk = bpack + panel_rows * k0;
                        for (int s = 0; s < s_len; s++) {
                            const float *xs = X->data + (n0 + s) * xsz + (int64_t)(gr * cing + k0) * P;
                            for (int k = 0; k < kc; k++)
                                pgemm_pack_b_rows(bk, kc, k, (int64_t)s * P, g->Ho, g->Wo, 0, g->Ho,
                                                  xs + (int64_t)k * P, g->Wo);
                        }
                    }
                    for (int c0 = 0; c0 < coutg; c0 += block_ch) {
                        const int c1 = c0 + block_ch < coutg ? c0 + block_ch : coutg, rows = (c1 - c0) * taps;
                        const float *ab = apack + (int64_t)gr * cing * Kt + (int64_t)c0 * taps * cing;
                        for (int k0 = 0; k0 < cing; k0 += PGEMM_KC) {
                            const int kc = cing - k0 < PGEMM_KC ? cing - k0 : PGEMM_KC;
                            pgemm_compute(rows, cols, kc, ab + (int64_t)rows * k0, bpack + panel_rows * k0, col_buf,
                                          cols, k0 > 0, cols, 0);
                        }
                        for (int s = 0; s < s_len; s++)
                            col2im_channels(g, col_buf + s * P, cols, y + s * ysz, phase, gr * coutg + c0, gr * coutg + c1);
                    }
                }
            }
        }
    }
}

// x (N, Cin, H, W), w (Cin, Cout/G, kh, kw) -> y (N, Cout, Ho, Wo), the adjoint of conv2d from
// y's size to x's. Per group of S samples, conv group and block of output channels [c0, c1):
// col (rows, S*P) = w_g^T[rows] (rows, Cin/G) @ x_g (Cin/G, S*P) with rows = (c1 - c0)*kh*kw,
// P = H*W of x, then col2im of each sample's columns onto those channels of y: the image is y,
// the window grid is x.
void cpu_conv_transpose2d(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *Wt = node->src[1];
    ag_tensor *Y = node->out;
    const conv_geom g = geom_make(node, Y->shape, Wt->shape, X->shape);
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cin = X->shape.d[1], cing = Cin / G, coutg = g.C / G;
    const int taps = g.kh * g.kw, Kt = coutg * taps, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)Cin * P, ysz = (int64_t)g.C * g.H * g.W;
    c->flops += 2 * (uint64_t)N * cing * P * Kt * G;
    if (G == 1 && geom_is_dense(&g)) {  // y (N, Kt) = x (N, Cin) @ w (Cin, Kt)
        cpu_sgemm_parallel(0, 0, N, Kt, Cin, X->data, Cin, Wt->data, Kt, 0.0f, Y->data, Kt);
        return;
    }
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * Cin * P * Kt);
    if (conv_is_thin(cing, coutg * taps)) {  // the adjoint of a thin conv2d
        conv_transpose2d_direct(c, node, &g, chunks);
        return;
    }
    // Per sample of a group: its gathered input (Cin rows); the columns are a block at a time.
    const int S = group_size(N, chunks, P, (int64_t)Cin * P);
    int block_ch = (int)(CONVT_BLOCK_FLOATS / ((int64_t)S * P * taps));
    if (block_ch * taps < CONVT_BLOCK_MIN_ROWS) block_ch = (CONVT_BLOCK_MIN_ROWS + taps - 1) / taps;
    if (block_ch > coutg) block_ch = coutg;
    // Our kernel packs a group's whole input at once; beyond PGEMM_CONVT_MAX_B floats (a large
    // image of many channels) that would not stay in the cache, and the im2col path, which
    // OpenBLAS blocks, is kept.
    if (pgemm_enabled() && !pointwise && pgemm_bpack_floats(cing, S * P) <= PGEMM_CONVT_MAX_B) {
        conv_transpose2d_implicit(c, node, &g, chunks, S, block_ch);
        return;
    }
    const int64_t in_floats = S > 1 ? (int64_t)Cin * S * P : 0;
    const int64_t col_floats = pointwise && S == 1 ? 0 : (int64_t)block_ch * taps * S * P;
    const int64_t phase_size = col_floats ? phase_floats(&g) : 0;
    const int64_t stride = padded(in_floats + col_floats + phase_size);
    void **tws = stride ? ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float)) : NULL;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *in_buf = tws ? tws[t] : NULL, *col_buf = tws ? in_buf + in_floats : NULL;
        float *phase = tws ? col_buf + col_floats : NULL;
        const int n1 = chunk_start(t + 1, N, chunks);
        for (int n0 = chunk_start(t, N, chunks); n0 < n1; n0 += S) {
            const int s_len = n1 - n0 < S ? n1 - n0 : S, cols = s_len * P;
            const float *x = X->data + n0 * xsz;
            if (s_len > 1) {
                gather_rows(x, xsz, s_len, Cin, P, in_buf);
                x = in_buf;
            }
            float *y = Y->data + n0 * ysz;
            for (int gr = 0; gr < G; gr++) {
                const float *wg = Wt->data + (int64_t)gr * cing * Kt, *xg = x + (int64_t)gr * cing * cols;
                if (!col_floats) {  // pointwise, one sample: the columns are y itself
                    cpu_sgemm(1, 0, Kt, cols, cing, 1.0f, wg, Kt, xg, cols, 0.0f, y + (int64_t)gr * Kt * cols, cols);
                    continue;
                }
                for (int c0 = 0; c0 < coutg; c0 += block_ch) {
                    const int c1 = c0 + block_ch < coutg ? c0 + block_ch : coutg;
                    cpu_sgemm(1, 0, (c1 - c0) * taps, cols, cing, 1.0f, wg + (int64_t)c0 * taps, Kt, xg, cols, 0.0f,
                              col_buf, cols);
                    for (int s = 0; s < s_len; s++)
                        col2im_channels(&g, col_buf + s * P, cols, y + s * ysz, phase, gr * coutg + c0,
                                        gr * coutg + c1);
                }
            }
        }
    }
}

// dw = partial 0 + partial 1 + ... in chunk order, element by element; partial 0 is dw itself.
static void sum_partials(float *dw, const float *parts, int64_t part_stride, int chunks, int64_t n) {
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        float s = dw[i];
        for (int t = 1; t < chunks; t++) s += parts[(t - 1) * part_stride + i];
        dw[i] = s;
    }
}

// Rows [pr0, pr1) of one channel plane (H, W) zero-padded to (H + 2ph, W + 2pw): row pr of
// `padded` is image row pr - ph, with pw zeros either side (zeros outside the image).
CPU_DISPATCH static void pad_rows(const conv_geom *g, const float *restrict plane, float *restrict padded, int pr0,
                                  int pr1) {
    const int wp = g->W + 2 * g->pw;
    for (int pr = pr0; pr < pr1; pr++) {
        float *dst = padded + (int64_t)pr * wp;
        const int r = pr - g->ph;
        if (r < 0 || r >= g->H) {
            memset(dst, 0, (size_t)wp * sizeof(float));
            continue;
        }
        row_pad_copy(dst, plane + (int64_t)r * g->W, g->pw, g->W, g->pw);
    }
}

// Most runs (channels x kernel rows) of one block of the weight gradient's patches.
#define PGEMM_MAX_RUNS 512

static bool conv2d_weight_grad_implicit_fits(const conv_geom *g, int cing) {
    const int taps = g->kh * g->kw;
    // Below 256 taps x channels (8 panels) packing the patches costs more than OpenBLAS's
    // products gain: 3 x 4 x 4 (a DCGAN discriminator's first layer) is 1.5x slower.
    return cing * taps >= 256 && (int64_t)col_block_channels(taps, cing) * g->kh <= PGEMM_MAX_RUNS;
}

// conv2d_weight_grad as implicit GEMMs: dw_g (Cout/G, K) += gy_g (Cout/G, cols) @ patches
// (cols, K), the reduction over the columns (window positions) of a block of samples or of
// window rows. The left operand is the output gradient, packed per block of columns; the right
// one is packed per block of input channels straight from zero-padded image rows, each
// window's patch (channel, kernel row) a run of kw floats. Per thread partial sums as the
// im2col path.
static void conv2d_weight_grad_implicit(ag_ctx *c, const ag_node *node, const conv_geom *g, int chunks) {
    const ag_tensor *X = node->src[0], *GY = node->src[1];
    ag_tensor *DW = node->out;
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = GY->shape.d[1], coutg = Cout / G;
    const int taps = g->kh * g->kw, cing = g->C / G, K = cing * taps, P = g->Ho * g->Wo;
    const int64_t xsz = (int64_t)g->C * g->H * g->W, ysz = (int64_t)Cout * P, wsz = DW->numel;
    const int hp = g->H + 2 * g->ph, wp = g->W + 2 * g->pw, block_ch = col_block_channels(taps, cing);
    int S, R;
    implicit_column_blocks(g, N, chunks, &S, &R);
    const int cols_max = S * R * g->Wo;
    const int64_t a_floats = padded((int64_t)coutg * cols_max);
    const int64_t b_floats = padded(pgemm_bpack_floats(cols_max, block_ch * taps));
    const int64_t pad_floats = padded((int64_t)block_ch * hp * wp);
    const int64_t stride = a_floats + b_floats + pad_floats, part_stride = padded(wsz);
    float *parts = chunks > 1 ? ag_ctx_workspace(c, (size_t)((chunks - 1) * part_stride) * sizeof(float)) : NULL;
    void **tws = ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float));
    // Whole rows of 16 window positions at stride 1 or 2: the patches are packed 16 positions x
    // 16 taps at a time by transposes in registers, not tap row by tap row (runs of kw floats,
    // 3 for StyleGAN2's kernels, which made this packing 16% of its step).
    const bool transpose = g->Wo % 16 == 0 && g->sw <= 2 && block_ch * taps <= COL_BLOCK_ROWS;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *apack = tws[t], *bpack = apack + a_floats, *pad = bpack + b_floats;
        float *dw = t == 0 ? DW->data : parts + (t - 1) * part_stride;
        int64_t offs[PGEMM_MAX_RUNS], toffs[COL_BLOCK_ROWS];
        const int n_first = chunk_start(t, N, chunks), n1 = chunk_start(t + 1, N, chunks);
        for (int n0 = n_first; n0 < n1; n0 += S) {
            const int s_len = n1 - n0 < S ? n1 - n0 : S;
            for (int oa = 0; oa < g->Ho; oa += R) {
                const int ob = oa + R < g->Ho ? oa + R : g->Ho, seg = (ob - oa) * g->Wo, cols = s_len * seg;
                const bool accumulate = n0 != n_first || oa != 0;
                // Padded rows the windows of rows [oa, ob) read.
                const int pr0 = oa * g->sh, pr1 = (ob - 1) * g->sh + g->kh < hp ? (ob - 1) * g->sh + g->kh : hp;
                for (int gr = 0; gr < G; gr++) {
                    for (int s = 0; s < s_len; s++)
                        pgemm_pack_a_cols(coutg, cols, s * seg, seg,
                                          GY->data + (n0 + s) * ysz + (int64_t)gr * coutg * P + (int64_t)oa * g->Wo, P,
                                          apack);
                    for (int c0 = 0; c0 < cing; c0 += block_ch) {
                        const int c1 = c0 + block_ch < cing ? c0 + block_ch : cing, runs = (c1 - c0) * g->kh;
                        const int n = (c1 - c0) * taps;
                        for (int r = 0; r < runs; r++)
                            offs[r] = (int64_t)(r / g->kh) * hp * wp + (int64_t)(r % g->kh) * wp;
                        if (transpose)
                            for (int tp = 0; tp < n; tp++)
                                toffs[tp] = (int64_t)(tp / taps) * hp * wp + (int64_t)(tp % taps / g->kw) * wp +
                                            tp % g->kw;
                        for (int s = 0; s < s_len; s++) {
                            const float *im = X->data + (n0 + s) * xsz + (int64_t)(gr * cing + c0) * g->H * g->W;
                            for (int ch = 0; ch < c1 - c0; ch++)
                                pad_rows(g, im + (int64_t)ch * g->H * g->W, pad + (int64_t)ch * hp * wp, pr0, pr1);
                            if (transpose) {
                                for (int oh = oa; oh < ob; oh++)
                                    for (int ow = 0; ow < g->Wo; ow += 16) {
                                        const float *at = pad + (int64_t)oh * g->sh * wp + (int64_t)ow * g->sw;
                                        const int k = s * seg + (oh - oa) * g->Wo + ow;
                                        for (int t0 = 0; t0 < n; t0 += 16)
                                            pgemm_pack_b_transpose(bpack, cols, k, t0, at, toffs + t0,
                                                                   n - t0 < 16 ? n - t0 : 16, g->sw);
                                    }
                                continue;
                            }
                            for (int oh = oa; oh < ob; oh++)
                                for (int ow = 0; ow < g->Wo; ow++) {
                                    const float *patch = pad + (int64_t)oh * g->sh * wp + (int64_t)ow * g->sw;
                                    pgemm_pack_b_gather(bpack, cols, s * seg + (oh - oa) * g->Wo + ow, patch, offs,
                                                        runs, g->kw);
                                }
                        }
                        float *dwb = dw + (int64_t)gr * coutg * K + (int64_t)c0 * taps;
                        pgemm_compute(coutg, n, cols, apack, bpack, dwb, K, accumulate, n, 0);
                    }
                }
            }
        }
    }
    if (chunks > 1) sum_partials(DW->data, parts, part_stride, chunks, wsz);
}

// x (N, Cin, H, W), gy (N, Cout, Ho, Wo) -> dw (Cout, Cin/G, kh, kw) = the sum over groups of S
// samples and conv groups of dw_g (Cout/G, K) += gy_g (Cout/G, S*P) @ col_g^T (S*P, K).
void cpu_conv2d_weight_grad(ag_ctx *c, const ag_node *node) {
    const ag_tensor *X = node->src[0], *GY = node->src[1];
    ag_tensor *DW = node->out;
    const conv_geom g = geom_make(node, X->shape, DW->shape, GY->shape);
    const int N = X->shape.d[0], G = node->p.conv.args.groups, Cout = GY->shape.d[1], coutg = Cout / G;
    const int K = g.C / G * g.kh * g.kw, P = g.Ho * g.Wo;
    const int64_t xsz = (int64_t)g.C * g.H * g.W, ysz = (int64_t)Cout * P, wsz = DW->numel;
    c->flops += 2 * (uint64_t)N * Cout * P * K;
    if (N == 0) {
        memset(DW->data, 0, (size_t)wsz * sizeof(float));
        return;
    }
    if (G == 1 && geom_is_dense(&g)) {  // dw (Cout, K) = gy^T (Cout, N) @ x (N, K)
        cpu_sgemm_parallel(1, 0, Cout, K, N, GY->data, Cout, X->data, K, 0.0f, DW->data, K);
        return;
    }
    const bool pointwise = geom_is_pointwise(&g);
    const int chunks = batch_chunks(N, (int64_t)N * Cout * P * K);
    if (pgemm_enabled() && !pointwise && conv2d_weight_grad_implicit_fits(&g, g.C / G)) {
        conv2d_weight_grad_implicit(c, node, &g, chunks);
        return;
    }
    // Per sample of a group: a block of its column rows and its gathered output gradient.
    const int taps = g.kh * g.kw, cing = g.C / G, block_ch = col_block_channels(taps, cing);
    const int S = group_size(N, chunks, P, (int64_t)(block_ch * taps + Cout) * P);
    const bool direct = S == 1 && pointwise;
    const int64_t col_floats = direct ? 0 : (int64_t)block_ch * taps * S * P, gy_floats = S > 1 ? ysz * S : 0;
    const int64_t phase_size = direct ? 0 : phase_floats(&g);
    const int64_t stride = padded(col_floats + gy_floats + phase_size), part_stride = padded(wsz);
    // Per chunk: the buffers and, for every chunk but the first, which accumulates straight into
    // dw, a partial sum.
    float *parts = chunks > 1 ? ag_ctx_workspace(c, (size_t)((chunks - 1) * part_stride) * sizeof(float)) : NULL;
    void **tws = stride ? ag_ctx_thread_workspaces(c, chunks, (size_t)stride * sizeof(float)) : NULL;

#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int t = 0; t < chunks; t++) {
        float *col_buf = tws ? tws[t] : NULL, *gy_buf = tws ? col_buf + col_floats : NULL;
        float *phase = tws ? gy_buf + gy_floats : NULL;
        float *dw = t == 0 ? DW->data : parts + (t - 1) * part_stride;
        const int n_first = chunk_start(t, N, chunks), n1 = chunk_start(t + 1, N, chunks);
        for (int n0 = n_first; n0 < n1; n0 += S) {
            const int s_len = n1 - n0 < S ? n1 - n0 : S, cols = s_len * P;
            const float beta = n0 == n_first ? 0.0f : 1.0f;
            const float *gy = GY->data + n0 * ysz;
            if (s_len > 1) {
                gather_rows(gy, ysz, s_len, Cout, P, gy_buf);
                gy = gy_buf;
            }
            for (int gr = 0; gr < G; gr++) {
                const float *gyg = gy + (int64_t)gr * coutg * cols;
                float *dwg = dw + (int64_t)gr * coutg * K;
                if (direct) {  // pointwise, one sample: the columns are x itself
                    cpu_sgemm(0, 1, coutg, K, cols, 1.0f, gyg, cols, X->data + n0 * xsz + (int64_t)gr * K * cols, cols,
                              beta, dwg, K);
                    continue;
                }
                // The block of channels [c0, c1) gives dw_g's columns of their taps.
                for (int c0 = 0; c0 < cing; c0 += block_ch) {
                    const int c1 = c0 + block_ch < cing ? c0 + block_ch : cing;
                    for (int s = 0; s < s_len; s++)
                        im2col(&g, X->data + (n0 + s) * xsz, col_buf + s * P, cols, phase, gr * cing + c0,
                               gr * cing + c1);
                    cpu_sgemm(0, 1, coutg, (c1 - c0) * taps, cols, 1.0f, gyg, cols, col_buf, cols, beta,
                              dwg + (int64_t)c0 * taps, K);
                }
            }
        }
    }
    if (chunks > 1) sum_partials(DW->data, parts, part_stride, chunks, wsz);
}
