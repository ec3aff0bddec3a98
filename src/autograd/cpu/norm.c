// Batch normalisation kernels, plain and fused with a leaky ReLU (relu at slope 0; slope 1 is
// no activation at all), and the per-channel affine map + activation of eval mode.
//
// Per-channel statistics are summed in double, one channel per OpenMP iteration, in a fixed
// order that does not depend on the number of threads: 32 running sums per channel (four
// vectors of eight lanes), added in a fixed tree at the end. Of each (n, channel) run, element
// i goes to sum i % 32 while 32 elements remain, then to sum i % 8 (the first vector), and the
// last n % 8 to sums 0, 1, ... Four vectors and not one, because with one each addition waits
// for the one before (the backward's sums took four times its dx pass); the order is still
// fixed, so results are deterministic on any thread count. The formulas and rounding points
// follow PyTorch's CPU batch_norm kernels (statistics in double, mean and invstd rounded to
// float, then y = x * alpha + beta).
#include <math.h>

#include "cpu.h"

#define LANES 8
#define SUMS 32  // running sums per channel: SUMS / LANES vectors

// Eight-lane vectors (GCC vector extensions): one source, compiled for each CPU_DISPATCH
// target (one AVX-512 register of doubles, two AVX2 ones, four SSE2 ones).
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v))
// The four running-sum vectors at acc, loaded into / stored from a0..a3.
#define LOAD4(a0, a1, a2, a3, acc) LOAD8(a0, acc), LOAD8(a1, (acc) + 8), LOAD8(a2, (acc) + 16), LOAD8(a3, (acc) + 24)
#define STORE4(acc, a0, a1, a2, a3) \
    memcpy(acc, &(a0), sizeof(a0)), memcpy((acc) + 8, &(a1), sizeof(a1)), memcpy((acc) + 16, &(a2), sizeof(a2)), \
        memcpy((acc) + 24, &(a3), sizeof(a3))
// Eight floats at p (any alignment), widened to double.
typedef float v8f_u __attribute__((vector_size(32), aligned(4), may_alias));
#define LOADF(p) ((v8f) * (const v8f_u *)(p))
#define WIDEN(p) __builtin_convertvector(LOADF(p), v8d)

static double sums_total(const double *acc) {
    double part[SUMS / LANES];
    for (int v = 0; v < SUMS / LANES; v++) {
        const double *a = acc + v * LANES;
        part[v] = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    }
    return (part[0] + part[1]) + (part[2] + part[3]);
}

// acc[sum of i] += x[i]
CPU_DISPATCH static void sum_run(const float *restrict x, int64_t n, double *restrict acc) {
    v8d a0, a1, a2, a3;
    LOAD4(a0, a1, a2, a3, acc);
    int64_t i = 0;
    for (; i + SUMS <= n; i += SUMS) {
        a0 += WIDEN(x + i);
        a1 += WIDEN(x + i + 8);
        a2 += WIDEN(x + i + 16);
        a3 += WIDEN(x + i + 24);
    }
    for (; i + LANES <= n; i += LANES) a0 += WIDEN(x + i);
    STORE4(acc, a0, a1, a2, a3);
    for (int l = 0; i < n; i++, l++) acc[l] += (double)x[i];
}

// acc[sum of i] += (x[i] - mean)^2
CPU_DISPATCH static void ssd_run(const float *restrict x, int64_t n, double mean, double *restrict acc) {
    const v8d m = (v8d){0} + mean;
    v8d a0, a1, a2, a3, d0, d1, d2, d3;
    LOAD4(a0, a1, a2, a3, acc);
    int64_t i = 0;
    for (; i + SUMS <= n; i += SUMS) {
        d0 = WIDEN(x + i) - m, d1 = WIDEN(x + i + 8) - m, d2 = WIDEN(x + i + 16) - m, d3 = WIDEN(x + i + 24) - m;
        a0 += d0 * d0, a1 += d1 * d1, a2 += d2 * d2, a3 += d3 * d3;
    }
    for (; i + LANES <= n; i += LANES) {
        d0 = WIDEN(x + i) - m;
        a0 += d0 * d0;
    }
    STORE4(acc, a0, a1, a2, a3);
    for (int l = 0; i < n; i++, l++) {
        double d = (double)x[i] - mean;
        acc[l] += d * d;
    }
}

// y = leaky_relu(x * alpha + shift, slope); slope 1 leaves the affine map alone.
CPU_DISPATCH static void affine_act_run(const float *restrict x, int64_t n, float alpha, float shift, float slope,
                                        float *restrict y) {
    if (slope == 1.0f) {
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * alpha + shift;
    } else {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] * alpha + shift;
            y[i] = cpu_select(v > 0.0f, v, v * slope);
        }
    }
}

// The gradient through the activation, read from its output y: g where y > 0, g * slope
// elsewhere (for slope >= 0, y > 0 exactly when the activation's input was).
static inline float act_grad(float g, float y, float slope) { return cpu_select(y > 0.0f, g, g * slope); }
// The same on eight lanes (a macro: a vector-valued helper would change the ABI between targets).
#define act_grad8(g, y, zero, sl) ((v8f)(((v8i)(g) & ((y) > (zero))) | ((v8i)((g) * (sl)) & ~((y) > (zero)))))

// With ga the gradient through the activation (y: its output, NULL without one):
// sum[sum of i] += ga, dot[sum of i] += ga * (x - mean).
CPU_DISPATCH static void grad_sums_run(const float *restrict g, const float *restrict x, const float *restrict y,
                                       int64_t n, float mean, float slope, double *restrict sum,
                                       double *restrict dot) {
    const v8d md = (v8d){0} + (double)mean;
    const v8f zero = {0}, sl = zero + slope;
    v8d s0, s1, s2, s3, d0, d1, d2, d3;
    LOAD4(s0, s1, s2, s3, sum);
    LOAD4(d0, d1, d2, d3, dot);
    // ga of the 8 elements at k, widened
#define GA(k) __builtin_convertvector(y ? act_grad8(LOADF(g + (k)), LOADF(y + (k)), zero, sl) : LOADF(g + (k)), v8d)
    int64_t i = 0;
    for (; i + SUMS <= n; i += SUMS) {
        const v8d g0 = GA(i), g1 = GA(i + 8), g2 = GA(i + 16), g3 = GA(i + 24);
        s0 += g0, s1 += g1, s2 += g2, s3 += g3;
        d0 += g0 * (WIDEN(x + i) - md), d1 += g1 * (WIDEN(x + i + 8) - md);
        d2 += g2 * (WIDEN(x + i + 16) - md), d3 += g3 * (WIDEN(x + i + 24) - md);
    }
    for (; i + LANES <= n; i += LANES) {
        const v8d g0 = GA(i);
        s0 += g0;
        d0 += g0 * (WIDEN(x + i) - md);
    }
#undef GA
    STORE4(sum, s0, s1, s2, s3);
    STORE4(dot, d0, d1, d2, d3);
    for (int l = 0; i < n; i++, l++) {
        float ga = y ? act_grad(g[i], y[i], slope) : g[i];
        sum[l] += (double)ga;
        dot[l] += (double)ga * ((double)x[i] - mean);
    }
}

// dx = (ga - grad_mean - (x - mean) * k) * w
CPU_DISPATCH static void grad_input_run(const float *restrict g, const float *restrict x, const float *restrict y,
                                        int64_t n, float mean, float slope, float grad_mean, float k, float w,
                                        float *restrict dx) {
    for (int64_t i = 0; i < n; i++) {
        float ga = y ? act_grad(g[i], y[i], slope) : g[i];
        dx[i] = (ga - grad_mean - (x[i] - mean) * k) * w;
    }
}

// Training-mode forward. x (N, C, H, W) -> out = act(batchnorm(x)); saved: mean (C),
// invstd (C) [, running_mean (C), running_var (C) updated in place when
// p.batchnorm.update_running].
static void batchnorm_forward(const ag_node *node, float slope) {
    const ag_tensor *X = node->src[0];
    const int N = X->shape.d[0], C = X->shape.d[1];
    const int64_t HW = (int64_t)X->shape.d[2] * X->shape.d[3], count = (int64_t)N * HW;
    const float *x = X->data, *gamma = node->src[1]->data, *beta = node->src[2]->data;
    float *out = node->out->data, *mean_out = node->saved[0]->data, *invstd_out = node->saved[1]->data;
    const float momentum = node->p.batchnorm.momentum, eps = node->p.batchnorm.eps;
    const bool update = node->p.batchnorm.update_running;
    float *running_mean = update ? node->saved[2]->data : NULL;
    float *running_var = update ? node->saved[3]->data : NULL;

#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int ch = 0; ch < C; ch++) {
        double acc[SUMS] = {0};
        for (int n = 0; n < N; n++) sum_run(x + ((int64_t)n * C + ch) * HW, HW, acc);
        const double mean = sums_total(acc) / (double)count;
        // Two passes: the variance is a sum of squares about the mean, not E[x^2] - E[x]^2,
        // which cancels badly for large activations.
        double ssd_acc[SUMS] = {0};
        for (int n = 0; n < N; n++) ssd_run(x + ((int64_t)n * C + ch) * HW, HW, mean, ssd_acc);
        const double ssd = sums_total(ssd_acc);
        const float mean_f = (float)mean;
        const float invstd_f = (float)(1.0 / sqrt(ssd / (double)count + (double)eps));
        mean_out[ch] = mean_f;
        invstd_out[ch] = invstd_f;
        if (update) {
            const double unbiased = ssd / (double)(count - 1);
            running_mean[ch] = (float)((double)momentum * mean + (1.0 - (double)momentum) * running_mean[ch]);
            running_var[ch] = (float)((double)momentum * unbiased + (1.0 - (double)momentum) * running_var[ch]);
        }
        const float alpha = invstd_f * gamma[ch];
        const float shift = beta[ch] - mean_f * alpha;
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            affine_act_run(x + off, HW, alpha, shift, slope, out + off);
        }
    }
}

// The fused backward. gout, x (N, C, H, W), gamma, mean, invstd (C) and, with an activation,
// its output y -> dx; dgamma, dbeta (C) into the given tensors.
//   ga = the gradient through the activation (gout without one),
//   dbeta = sum(ga), dgamma = sum(ga * xhat) with xhat = (x - mean) * invstd,
//   dx = gamma * invstd * (ga - dbeta / count - xhat * dgamma / count).
static void batchnorm_backward(const ag_node *node, const float *y, float slope) {
    const ag_tensor *X = node->src[1];
    const int N = X->shape.d[0], C = X->shape.d[1];
    const int64_t HW = (int64_t)X->shape.d[2] * X->shape.d[3], count = (int64_t)N * HW;
    const float *gy = node->src[0]->data, *x = X->data, *gamma = node->src[2]->data;
    const float *mean = node->src[3]->data, *invstd = node->src[4]->data;
    float *dx = node->out->data, *dgamma = node->saved[0]->data, *dbeta = node->saved[1]->data;

#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int ch = 0; ch < C; ch++) {
        const float m = mean[ch], is = invstd[ch];
        double sum_acc[SUMS] = {0}, dot_acc[SUMS] = {0};  // sum(ga), sum(ga * (x - mean))
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            grad_sums_run(gy + off, x + off, y ? y + off : NULL, HW, m, slope, sum_acc, dot_acc);
        }
        const double sum = sums_total(sum_acc), dot = sums_total(dot_acc);
        dbeta[ch] = (float)sum;
        dgamma[ch] = (float)(dot * is);
        const float k = (float)(dot * is * is / (double)count);
        const float grad_mean = (float)(sum / (double)count);
        const float w = is * gamma[ch];
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            grad_input_run(gy + off, x + off, y ? y + off : NULL, HW, m, slope, grad_mean, k, w, dx + off);
        }
    }
}

// x (N, C, H, W) -> out; saved: mean (C), invstd (C) [, running_mean (C), running_var (C)].
void cpu_batchnorm2d(ag_ctx *c, const ag_node *node) {
    (void)c;
    batchnorm_forward(node, 1.0f);
}

// src: gout, x (N, C, H, W), gamma, mean, invstd (C). out = dx; saved: dgamma, dbeta (C).
void cpu_batchnorm2d_backward(ag_ctx *c, const ag_node *node) {
    (void)c;
    batchnorm_backward(node, NULL, 1.0f);
}

// As cpu_batchnorm2d, then leaky_relu with slope p.batchnorm.slope.
void cpu_batchnorm2d_act(ag_ctx *c, const ag_node *node) {
    (void)c;
    batchnorm_forward(node, node->p.batchnorm.slope);
}

// src: gout, x, gamma, mean, invstd, y (the forward's output). out = dx; saved: dgamma, dbeta.
void cpu_batchnorm2d_act_backward(ag_ctx *c, const ag_node *node) {
    (void)c;
    batchnorm_backward(node, node->src[5]->data, node->p.act.slope);
}

// x (N, C, H, W), scale (C), shift (C) -> leaky_relu(x * scale + shift, p.act.slope).
void cpu_channel_affine_act(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int64_t planes = (int64_t)X->shape.d[0] * X->shape.d[1], C = X->shape.d[1];
    const int64_t HW = (int64_t)X->shape.d[2] * X->shape.d[3];
    const float *x = X->data, *scale = node->src[1]->data, *shift = node->src[2]->data;
    float *out = node->out->data;
    const float slope = node->p.act.slope;
#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int64_t pl = 0; pl < planes; pl++)
        affine_act_run(x + pl * HW, HW, scale[pl % C], shift[pl % C], slope, out + pl * HW);
}
