// Activations and their fused gradients. Formulas follow PyTorch's CPU kernels so that results
// match the fixtures to rounding. Each map runs over blocks of MAP_BLOCK elements, one OpenMP
// task per block, and each block through a CPU_DISPATCH loop (cpu.h) written without branches
// so that it vectorises.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"

#define MAP_BLOCK 16384

#define MAP_BLOCKS(N, CALL)                                                                 \
    do {                                                                                    \
        const int64_t n_ = (N), nblk_ = (n_ + MAP_BLOCK - 1) / MAP_BLOCK;                   \
        _Pragma("omp parallel for schedule(static) if (n_ > CPU_PARALLEL_MIN)")             \
        for (int64_t b_ = 0; b_ < nblk_; b_++) {                                            \
            const int64_t i0 = b_ * MAP_BLOCK, len = n_ - i0 < MAP_BLOCK ? n_ - i0 : MAP_BLOCK; \
            CALL;                                                                           \
        }                                                                                   \
    } while (0)

// out[i] = EXPR(x) with x = in[i]; f0 = F0, the op's scalar argument read from the node's
// params P (0 where the op has none).
#define MAP1(NAME, F0, EXPR)                                                                    \
    CPU_DISPATCH static void NAME##_block(const float *restrict in, float *restrict out,    \
                                          int64_t n, float f0) {                            \
        (void)f0;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float x = in[i];                                                                \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }                                                                                       \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *in = node->src[0]->data;                                               \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel;                                                 \
        const ag_op_params *P = &node->p;                                                   \
        (void)P;                                                                            \
        const float f0 = (F0);                                                              \
        MAP_BLOCKS(n, NAME##_block(in + i0, out + i0, len, f0));                            \
    }

// out[i] = EXPR(g, v) for the fused gradients: g = upstream gradient, v = x or y; f0 as MAP1.
#define MAP2(NAME, F0, EXPR)                                                                    \
    CPU_DISPATCH static void NAME##_block(const float *restrict gp, const float *restrict vp, \
                                          float *restrict out, int64_t n, float f0) {       \
        (void)f0;                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float g = gp[i], v = vp[i];                                                     \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }                                                                                       \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *gp = node->src[0]->data, *vp = node->src[1]->data;                     \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel;                                                 \
        const ag_op_params *P = &node->p;                                                   \
        (void)P;                                                                            \
        const float f0 = (F0);                                                              \
        MAP_BLOCKS(n, NAME##_block(gp + i0, vp + i0, out + i0, len, f0));                   \
    }

static inline float bits_to_float(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}
static inline uint32_t float_to_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

// tanh in float without a library call, so that the loop over it vectorises (glibc's tanhf is
// scalar and took 9 ns an element: 10% of sampling a DCGAN batch). At most 1.31 ulp from double
// tanh over every 7th float below 10 (glibc's tanhf: 2.16; test_ops_elementwise checks every
// 61st against 1.5). On |x| < 0.625 the odd polynomial x + x^3 P(x^2), P fitted to the relative
// error by least squares; above, 1 - 2 / (exp(2|x|) + 1) with |x| capped at 10 (tanh rounds to 1
// from 9.02 on), exp being the rounded power of two times a degree-7 polynomial. The sign is
// copied back, so tanh(-0) = -0, and a NaN stays NaN (no conversion to an integer sees it).
static inline float tanh_float(float x) {
    const uint32_t sign = float_to_bits(x) & 0x80000000u;
    const float a = bits_to_float(float_to_bits(x) & 0x7fffffffu), t = a * a;
    float p = 2.178070025e-03f;
    p = p * t + -8.215019783e-03f;
    p = p * t + 2.171557056e-02f;
    p = p * t + -5.394939968e-02f;
    p = p * t + 1.333322609e-01f;
    p = p * t + -3.333333129e-01f;
    const float small = a + a * t * p;
    const float y = 2.0f * cpu_select(a > 10.0f, 10.0f, a);
    const float kr = y * 1.44269504f + 12582912.0f;  // 1.5 * 2^23: round(y / ln 2) in the low bits
    const float k = kr - 12582912.0f;
    const float r = (y - k * 0.693145752f) - k * 1.42860677e-6f;  // ln 2 in two parts
    float e = 1.0f / 5040.0f;
    e = e * r + 1.0f / 720.0f;
    e = e * r + 1.0f / 120.0f;
    e = e * r + 1.0f / 24.0f;
    e = e * r + 1.0f / 6.0f;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    e = e * bits_to_float((float_to_bits(kr) - 0x4b400000u + 127u) << 23);  // * 2^k
    const float large = 1.0f - 2.0f / (e + 1.0f);
    return bits_to_float(float_to_bits(cpu_select(a < 0.625f, small, large)) | sign);
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// torch.nn.functional.softplus with beta 1, threshold 20.
static inline float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// x > 0 ? x : x * slope, as torch (a NaN input stays NaN: it takes the second arm).
MAP1(leaky_relu, P->act.slope, cpu_select(x > 0.0f, x, x * f0))
MAP2(leaky_relu_grad, P->act.slope, cpu_select(v > 0.0f, g, g * f0))
MAP1(tanh, 0, tanh_float(x))
MAP2(tanh_grad, 0, g * (1.0f - v * v))
MAP1(sigmoid, 0, sigmoidf(x))
MAP2(sigmoid_grad, 0, g * v * (1.0f - v))
MAP1(softplus, 0, softplusf(x))

// y = leaky_relu(x + b, slope) * gain along a run of one channel: the roundings of the add, the
// select and the scale done one after another, as the three separate ops do.
CPU_DISPATCH static void bias_act_run(const float *restrict x, float b, int64_t n, float slope, float gain,
                                      float *restrict y) {
    for (int64_t i = 0; i < n; i++) {
        float t = x[i] + b;
        y[i] = cpu_select(t > 0.0f, t, t * slope) * gain;
    }
}

// x (N, C, ...), b (C) -> y; one task per (sample, channel) run, or per block of a long one.
void cpu_bias_act(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int64_t C = X->shape.d[1], planes = X->shape.d[0] * C, inner = X->numel / (planes ? planes : 1);
    const int64_t nblk = (inner + MAP_BLOCK - 1) / MAP_BLOCK, ntask = planes * nblk;
    const float *x = X->data, *b = node->src[1]->data, slope = node->p.act.slope, gain = node->p.act.gain;
    float *y = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t t = 0; t < ntask; t++) {
        const int64_t pl = t / nblk, i0 = (t % nblk) * MAP_BLOCK;
        const int64_t len = inner - i0 < MAP_BLOCK ? inner - i0 : MAP_BLOCK, off = pl * inner + i0;
        bias_act_run(x + off, b[pl % C], len, slope, gain, y + off);
    }
}

// demod_bias_act along a run of one (sample, channel) plane: x d, plus noise * strength where
// there is noise (nz NULL: none), plus b, then bias_act's select and gain, each rounded in turn as
// the separate ops round them (C11 does not contract a * b + c into an FMA).
CPU_DISPATCH static void demod_bias_act_run(const float *restrict x, float d, const float *restrict nz,
                                            float strength, float b, int64_t n, float slope, float gain,
                                            float *restrict y) {
    if (nz) {
        for (int64_t i = 0; i < n; i++) {
            float t = x[i] * d, s = nz[i] * strength;
            t = (t + s) + b;
            y[i] = cpu_select(t > 0.0f, t, t * slope) * gain;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float t = x[i] * d + b;
            y[i] = cpu_select(t > 0.0f, t, t * slope) * gain;
        }
    }
}

// x (N, C, H, W), b (C), d (N, C)[, noise (N or 1, 1, H, W), strength (1)] -> y; tasks as
// cpu_bias_act's.
void cpu_demod_bias_act(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0], *noise = node->nsrc == 5 ? node->src[3] : NULL;
    const int64_t C = X->shape.d[1], planes = X->shape.d[0] * C, inner = X->numel / (planes ? planes : 1);
    const int64_t nblk = (inner + MAP_BLOCK - 1) / MAP_BLOCK, ntask = planes * nblk;
    const int64_t noise_step = noise && noise->shape.d[0] > 1 ? inner : 0;  // per sample, or one for all
    const float *x = X->data, *b = node->src[1]->data, *d = node->src[2]->data;
    const float strength = noise ? node->src[4]->data[0] : 0.0f;
    const float slope = node->p.act.slope, gain = node->p.act.gain;
    float *y = node->out->data;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t t = 0; t < ntask; t++) {
        const int64_t pl = t / nblk, i0 = (t % nblk) * MAP_BLOCK;
        const int64_t len = inner - i0 < MAP_BLOCK ? inner - i0 : MAP_BLOCK, off = pl * inner + i0;
        const float *nz = noise ? noise->data + (pl / C) * noise_step + i0 : NULL;
        demod_bias_act_run(x + off, d[pl], nz, strength, b[pl % C], len, slope, gain, y + off);
    }
}

// g * gain where y > 0, (g * gain) * slope elsewhere: the scale op's gradient, then the leaky
// ReLU's, in that order.
CPU_DISPATCH static void bias_act_grad_block(const float *restrict gp, const float *restrict yp, float *restrict out,
                                             int64_t n, float slope, float gain) {
    for (int64_t i = 0; i < n; i++) {
        float g = gp[i] * gain;
        out[i] = cpu_select(yp[i] > 0.0f, g, g * slope);
    }
}

void cpu_bias_act_grad(ag_ctx *c, const ag_node *node) {
    (void)c;
    const float *gp = node->src[0]->data, *yp = node->src[1]->data;
    float *out = node->out->data;
    const float slope = node->p.act.slope, gain = node->p.act.gain;
    MAP_BLOCKS(node->out->numel, bias_act_grad_block(gp + i0, yp + i0, out + i0, len, slope, gain));
}
