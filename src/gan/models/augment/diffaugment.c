// DiffAugment's transforms (Zhao et al. 2020), as the official DiffAugment_pytorch.py writes
// them, with the random parameters passed in: every op is a differentiable one of ops.h, so the
// gradient of D's loss reaches G through them (and a second derivative, for R1, too).
#include <math.h>
#include <stdlib.h>

#include "aug_internal.h"
#include "augment.h"
#include "gan_check.h"

static void check_images(const char *what, ag_tensor *x) {
    GAN_CHECK(x->shape.ndim == 4, "%s: images %s, expected (N, C, H, W)", what, AG_SHAPE_STR(x->shape));
}

// x + (rand - 0.5)
ag_tensor *gan_diffaug_brightness(ag_ctx *c, ag_tensor *x, const float *b) {
    check_images("diffaugment brightness", x);
    return ag_add(c, x, aug_per_sample(c, b, x->shape.d[0]));
}

// (x - mean over channels) * (rand * 2) + mean over channels
ag_tensor *gan_diffaug_saturation(ag_ctx *c, ag_tensor *x, const float *s) {
    check_images("diffaugment saturation", x);
    ag_tensor *m = ag_mean_axes(c, x, 1, (const int[]){1}, true);
    return ag_add(c, ag_mul(c, ag_sub(c, x, m), aug_per_sample(c, s, x->shape.d[0])), m);
}

// (x - mean over the image) * (rand + 0.5) + mean over the image
ag_tensor *gan_diffaug_contrast(ag_ctx *c, ag_tensor *x, const float *k) {
    check_images("diffaugment contrast", x);
    ag_tensor *m = ag_mean_axes(c, x, 3, (const int[]){1, 2, 3}, true);
    return ag_add(c, ag_mul(c, ag_sub(c, x, m), aug_per_sample(c, k, x->shape.d[0])), m);
}

// The official code gathers x_pad[i + tx + 1, j + ty + 1] from x padded by one zero row and
// column on each side, the index clamped into the padding: x[i + tx, j + ty] inside, 0 outside.
ag_tensor *gan_diffaug_translation(ag_ctx *c, ag_tensor *x, const float *tx, const float *ty) {
    check_images("diffaugment translation", x);
    const int N = x->shape.d[0], H = x->shape.d[2], W = x->shape.d[3];
    float *map = aug_host((int64_t)N * H * W);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const int si = i + (int)tx[n], sj = j + (int)ty[n];
                map[((int64_t)n * H + i) * W + j] = si < 0 || si >= H || sj < 0 || sj >= W ? -1.0f : (float)(si * W + sj);
            }
    ag_tensor *out = ag_remap2d(c, x, ag_from_host(c, AG_SHAPE(N, H, W), map));
    free(map);
    return out;
}

// The official mask: ones, with mask[clamp(ox - S/2 + a), clamp(oy - S/2 + b)] = 0 for a, b in
// [0, S); the clamped indices land inside the square's clipped part, so the square clipped to
// the image is zeroed.
ag_tensor *gan_diffaug_cutout(ag_ctx *c, ag_tensor *x, const float *ox, const float *oy) {
    check_images("diffaugment cutout", x);
    const int N = x->shape.d[0], H = x->shape.d[2], W = x->shape.d[3];
    const int sh = (int)(H * 0.5 + 0.5), sw = (int)(W * 0.5 + 0.5);
    float *mask = aug_host((int64_t)N * H * W);
    for (int n = 0; n < N; n++) {
        const int i0 = (int)ox[n] - sh / 2, j0 = (int)oy[n] - sw / 2;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                mask[((int64_t)n * H + i) * W + j] = i >= i0 && i < i0 + sh && j >= j0 && j < j0 + sw ? 0.0f : 1.0f;
    }
    ag_tensor *out = ag_mul(c, x, ag_from_host(c, AG_SHAPE(N, 1, H, W), mask));
    free(mask);
    return out;
}
