#include <math.h>

#include "cpu.h"

// -(y log p + (1 - y) log(1 - p)), logs clamped at -100 as torch.nn.BCELoss does.
void cpu_bce(ag_ctx *c, const ag_node *node) {
    (void)c;
    const float *p = node->src[0]->data, *y = node->src[1]->data;
    float *out = node->out->data;
    const int64_t n = node->out->numel;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        // The clamp is written as a comparison so that a NaN probability gives a NaN loss, as
        // in PyTorch (fmaxf would turn it into the clamp value and hide a diverged network).
        float lp = logf(p[i]), l1p = logf(1.0f - p[i]);
        if (lp < -100.0f) lp = -100.0f;
        if (l1p < -100.0f) l1p = -100.0f;
        out[i] = -(y[i] * lp + (1.0f - y[i]) * l1p);
    }
}
