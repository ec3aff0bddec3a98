// Activations and their fused gradients. Formulas follow PyTorch's CPU kernels so that results
// match the fixtures to rounding. Each map runs over blocks of MAP_BLOCK elements, one OpenMP
// task per block, and each block through a CPU_DISPATCH loop (cpu.h) written without branches
// so that it vectorises.
#include <math.h>

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

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// torch.nn.functional.softplus with beta 1, threshold 20.
static inline float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

// x > 0 ? x : x * slope, as torch (a NaN input stays NaN: it takes the second arm).
MAP1(leaky_relu, P->act.slope, cpu_select(x > 0.0f, x, x * f0))
MAP2(leaky_relu_grad, P->act.slope, cpu_select(v > 0.0f, g, g * f0))
MAP1(tanh, 0, tanhf(x))
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
