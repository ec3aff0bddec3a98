// Batch normalisation kernels. Per-channel statistics are summed in double, one channel per
// iteration in a fixed order, so results do not depend on the number of threads. The formulas
// and their rounding points follow PyTorch's CPU batch_norm kernels (statistics in double,
// mean and invstd rounded to float, then y = x * alpha + beta).
#include <math.h>

#include "cpu.h"

// x (N, C, H, W) -> out; saved: mean (C), invstd (C) [, running_mean (C), running_var (C)].
void cpu_batchnorm2d(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[0];
    const int N = X->shape.d[0], C = X->shape.d[1];
    const int64_t HW = (int64_t)X->shape.d[2] * X->shape.d[3], count = (int64_t)N * HW;
    const float *x = X->data, *gamma = node->src[1]->data, *beta = node->src[2]->data;
    float *out = node->out->data, *mean_out = node->saved[0]->data, *invstd_out = node->saved[1]->data;
    const float momentum = node->p.f[0], eps = node->p.f[1];
    const int update = node->p.i[0];
    float *running_mean = update ? node->saved[2]->data : NULL;
    float *running_var = update ? node->saved[3]->data : NULL;

#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int ch = 0; ch < C; ch++) {
        double sum = 0.0;
        for (int n = 0; n < N; n++) {
            const float *p = x + ((int64_t)n * C + ch) * HW;
            for (int64_t i = 0; i < HW; i++) sum += p[i];
        }
        const double mean = sum / (double)count;
        // Two passes: the variance is a sum of squares about the mean, not E[x^2] - E[x]^2,
        // which cancels badly for large activations.
        double ssd = 0.0;
        for (int n = 0; n < N; n++) {
            const float *p = x + ((int64_t)n * C + ch) * HW;
            for (int64_t i = 0; i < HW; i++) {
                double d = (double)p[i] - mean;
                ssd += d * d;
            }
        }
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
            for (int64_t i = 0; i < HW; i++) out[off + i] = x[off + i] * alpha + shift;
        }
    }
}

// src: gout, x (N, C, H, W), gamma, mean, invstd (C). out = dx; saved: dgamma, dbeta (C).
//   dbeta = sum(gout), dgamma = sum(gout * xhat) with xhat = (x - mean) * invstd,
//   dx = gamma * invstd * (gout - dbeta / count - xhat * dgamma / count).
void cpu_batchnorm2d_backward(ag_ctx *c, const ag_node *node) {
    (void)c;
    const ag_tensor *X = node->src[1];
    const int N = X->shape.d[0], C = X->shape.d[1];
    const int64_t HW = (int64_t)X->shape.d[2] * X->shape.d[3], count = (int64_t)N * HW;
    const float *gy = node->src[0]->data, *x = X->data, *gamma = node->src[2]->data;
    const float *mean = node->src[3]->data, *invstd = node->src[4]->data;
    float *dx = node->out->data, *dgamma = node->saved[0]->data, *dbeta = node->saved[1]->data;

#pragma omp parallel for schedule(static) if (X->numel > CPU_PARALLEL_MIN)
    for (int ch = 0; ch < C; ch++) {
        const float m = mean[ch], is = invstd[ch];
        double sum = 0.0, dot = 0.0;  // sum(gout), sum(gout * (x - mean))
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            for (int64_t i = 0; i < HW; i++) {
                sum += gy[off + i];
                dot += (double)gy[off + i] * ((double)x[off + i] - m);
            }
        }
        dbeta[ch] = (float)sum;
        dgamma[ch] = (float)(dot * is);
        const float k = (float)(dot * is * is / (double)count);
        const float grad_mean = (float)(sum / (double)count);
        const float w = is * gamma[ch];
        for (int n = 0; n < N; n++) {
            const int64_t off = ((int64_t)n * C + ch) * HW;
            for (int64_t i = 0; i < HW; i++)
                dx[off + i] = (gy[off + i] - grad_mean - (x[off + i] - m) * k) * w;
        }
    }
}
