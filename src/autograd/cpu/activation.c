// Activations and their fused gradients. Formulas follow PyTorch's CPU kernels so that results
// match the fixtures to rounding.
#include <math.h>

#include "cpu.h"

#define MAP1(NAME, EXPR)                                                                    \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *in = node->src[0]->data;                                               \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel;                                                 \
        const float f0 = node->p.f[0];                                                      \
        (void)f0;                                                                           \
        _Pragma("omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)")              \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float x = in[i];                                                                \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }

// out[i] = EXPR(g, v) for the fused gradients: g = upstream gradient, v = x or y.
#define MAP2(NAME, EXPR)                                                                    \
    void cpu_##NAME(ag_ctx *c, const ag_node *node) {                                       \
        (void)c;                                                                            \
        const float *gp = node->src[0]->data, *vp = node->src[1]->data;                     \
        float *out = node->out->data;                                                       \
        const int64_t n = node->out->numel;                                                 \
        const float f0 = node->p.f[0];                                                      \
        (void)f0;                                                                           \
        _Pragma("omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)")              \
        for (int64_t i = 0; i < n; i++) {                                                   \
            float g = gp[i], v = vp[i];                                                     \
            out[i] = (EXPR);                                                                \
        }                                                                                   \
    }

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
// torch.nn.functional.softplus with beta 1, threshold 20.
static inline float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

MAP1(leaky_relu, x > 0.0f ? x : x * f0)
MAP2(leaky_relu_grad, v > 0.0f ? g : g * f0)
MAP1(tanh, tanhf(x))
MAP2(tanh_grad, g * (1.0f - v * v))
MAP1(sigmoid, sigmoidf(x))
MAP2(sigmoid_grad, g * v * (1.0f - v))
MAP1(softplus, softplusf(x))
