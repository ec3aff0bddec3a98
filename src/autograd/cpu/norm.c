// Batch normalisation kernels, plain and fused with a leaky ReLU (relu at slope 0; slope 1 is
// no activation at all), and the per-channel affine map + activation of eval mode.
//
// Per-channel statistics are summed in double, one channel per OpenMP iteration, in a fixed
// order that does not depend on the number of threads: eight running sums per channel (element
// i of each (n, channel) run goes to sum i % 8), added together at the end. Eight lanes make
// the sums vectorise; the order is still fixed, so results are deterministic on any thread
// count. The formulas and rounding points follow PyTorch's CPU batch_norm kernels (statistics
// in double, mean and invstd rounded to float, then y = x * alpha + beta).
#include <math.h>

#include "cpu.h"

#define LANES 8

// Eight-lane vectors (GCC vector extensions): one source, compiled for each CPU_DISPATCH
// target (one AVX-512 register of doubles, two AVX2 ones, four SSE2 ones). Lane l of a running
// sum takes elements l, l + 8, l + 16, ... of a run, whatever the target.
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v))

static double lanes_total(const double *acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// acc[i % 8] += x[i]
CPU_DISPATCH static void sum_run(const float *restrict x, int64_t n, double *restrict acc) {
    v8d a;
    LOAD8(a, acc);
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        v8f xv;
        LOAD8(xv, x + i);
        a += __builtin_convertvector(xv, v8d);
    }
    for (int l = 0; i < n; i++, l++) a[l] += (double)x[i];
    memcpy(acc, &a, sizeof a);
}

// acc[i % 8] += (x[i] - mean)^2
CPU_DISPATCH static void ssd_run(const float *restrict x, int64_t n, double mean, double *restrict acc) {
    v8d a, m = (v8d){0} + mean;
    LOAD8(a, acc);
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        v8f xv;
        LOAD8(xv, x + i);
        v8d d = __builtin_convertvector(xv, v8d) - m;
        a += d * d;
    }
    for (int l = 0; i < n; i++, l++) {
        double d = (double)x[i] - mean;
        a[l] += d * d;
    }
    memcpy(acc, &a, sizeof a);
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

// With ga the gradient through the activation (y: its output, NULL without one):
// sum[i % 8] += ga, dot[i % 8] += ga * (x - mean).
CPU_DISPATCH static void grad_sums_run(const float *restrict g, const float *restrict x, const float *restrict y,
                                       int64_t n, float mean, float slope, double *restrict sum,
                                       double *restrict dot) {
    v8d s, d, md = (v8d){0} + (double)mean;
    LOAD8(s, sum);
    LOAD8(d, dot);
    const v8f zero = {0}, sl = zero + slope;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        v8f gv, xv;
        LOAD8(gv, g + i);
        LOAD8(xv, x + i);
        if (y) {
            v8f yv;
            LOAD8(yv, y + i);
            v8i pos = yv > zero;
            gv = (v8f)(((v8i)gv & pos) | ((v8i)(gv * sl) & ~pos));
        }
        v8d gd = __builtin_convertvector(gv, v8d);
        s += gd;
        d += gd * (__builtin_convertvector(xv, v8d) - md);
    }
    for (int l = 0; i < n; i++, l++) {
        float ga = y ? act_grad(g[i], y[i], slope) : g[i];
        s[l] += (double)ga;
        d[l] += (double)ga * ((double)x[i] - mean);
    }
    memcpy(sum, &s, sizeof s);
    memcpy(dot, &d, sizeof d);
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
        double acc[LANES] = {0};
        for (int n = 0; n < N; n++) sum_run(x + ((int64_t)n * C + ch) * HW, HW, acc);
        const double mean = lanes_total(acc) / (double)count;
        // Two passes: the variance is a sum of squares about the mean, not E[x^2] - E[x]^2,
        // which cancels badly for large activations.
        double ssd_acc[LANES] = {0};
        for (int n = 0; n < N; n++) ssd_run(x + ((int64_t)n * C + ch) * HW, HW, mean, ssd_acc);
        const double ssd = lanes_total(ssd_acc);
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
        double sum_acc[LANES] = {0}, dot_acc[LANES] = {0};  // sum(ga), sum(ga * (x - mean))
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            grad_sums_run(gy + off, x + off, y ? y + off : NULL, HW, m, slope, sum_acc, dot_acc);
        }
        const double sum = lanes_total(sum_acc), dot = lanes_total(dot_acc);
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
