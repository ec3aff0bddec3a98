#include "losses.h"

#include <string.h>

#include "autograd.h"
#include "gan_check.h"
#include "ops.h"

static const char *const names[] = {
    [GAN_LOSS_BCE] = "bce",     [GAN_LOSS_LOGITS] = "logits", [GAN_LOSS_LOGISTIC] = "logistic",
    [GAN_LOSS_HINGE] = "hinge", [GAN_LOSS_LSGAN] = "lsgan",   [GAN_LOSS_WGAN_GP] = "wgan-gp",
};
#define NLOSSES ((int)(sizeof names / sizeof names[0]))

int gan_loss_from_name(const char *name) {
    for (int i = 0; i < NLOSSES; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

const char *gan_loss_name(gan_loss_kind k) {
    GAN_CHECK((int)k >= 0 && (int)k < NLOSSES, "gan loss: kind %d", (int)k);
    return names[k];
}

bool gan_loss_d_sigmoid(gan_loss_kind k) { return k == GAN_LOSS_BCE; }

// BCE against a constant target, exactly as DCGAN computed it before losses were selectable
// (the same ops in the same order), so bce and logits runs stay bit-identical.
static ag_tensor *bce_vs(ag_ctx *c, gan_loss_kind k, ag_tensor *out, float label) {
    ag_tensor *y = ag_full(c, out->shape, label);
    return k == GAN_LOSS_LOGITS ? ag_bce_with_logits(c, out, y) : ag_bce(c, out, y);
}

// mean((out - target)^2) / 2
static ag_tensor *half_mse(ag_ctx *c, ag_tensor *out, float target) {
    return ag_scale(c, ag_mean(c, ag_square(c, ag_add_scalar(c, out, -target))), 0.5f);
}

static void check_scores(const char *what, const ag_tensor *out) {
    GAN_CHECK(out->shape.ndim == 1, "%s: D outputs %s, expected (N)", what, AG_SHAPE_STR(out->shape));
}

ag_tensor *gan_loss_d_real(ag_ctx *c, gan_loss_kind k, ag_tensor *out, float real_label) {
    check_scores("gan_loss_d_real", out);
    switch (k) {
    case GAN_LOSS_BCE:
    case GAN_LOSS_LOGITS: return bce_vs(c, k, out, real_label);
    case GAN_LOSS_LOGISTIC: return ag_mean(c, ag_softplus(c, ag_neg(c, out)));
    case GAN_LOSS_HINGE: return ag_mean(c, ag_relu(c, ag_add_scalar(c, ag_neg(c, out), 1.0f)));
    case GAN_LOSS_LSGAN: return half_mse(c, out, 1.0f);
    case GAN_LOSS_WGAN_GP: return ag_neg(c, ag_mean(c, out));
    }
    GAN_CHECK(0, "gan_loss_d_real: kind %d", (int)k);
    return NULL;
}

ag_tensor *gan_loss_d_fake(ag_ctx *c, gan_loss_kind k, ag_tensor *out) {
    check_scores("gan_loss_d_fake", out);
    switch (k) {
    case GAN_LOSS_BCE:
    case GAN_LOSS_LOGITS: return bce_vs(c, k, out, 0.0f);
    case GAN_LOSS_LOGISTIC: return ag_mean(c, ag_softplus(c, out));
    case GAN_LOSS_HINGE: return ag_mean(c, ag_relu(c, ag_add_scalar(c, out, 1.0f)));
    case GAN_LOSS_LSGAN: return half_mse(c, out, 0.0f);
    case GAN_LOSS_WGAN_GP: return ag_mean(c, out);
    }
    GAN_CHECK(0, "gan_loss_d_fake: kind %d", (int)k);
    return NULL;
}

ag_tensor *gan_loss_g(ag_ctx *c, gan_loss_kind k, ag_tensor *out) {
    check_scores("gan_loss_g", out);
    switch (k) {
    case GAN_LOSS_BCE:
    case GAN_LOSS_LOGITS: return bce_vs(c, k, out, 1.0f);
    case GAN_LOSS_LOGISTIC: return ag_mean(c, ag_softplus(c, ag_neg(c, out)));
    case GAN_LOSS_HINGE:
    case GAN_LOSS_WGAN_GP: return ag_neg(c, ag_mean(c, out));
    case GAN_LOSS_LSGAN: return half_mse(c, out, 1.0f);
    }
    GAN_CHECK(0, "gan_loss_g: kind %d", (int)k);
    return NULL;
}

ag_tensor *gan_loss_gradient_penalty(ag_ctx *c, gan_loss_critic_fn critic_fn, void *critic, ag_tensor *real,
                                     ag_tensor *fake, ag_tensor *eps, ag_tensor **norms) {
    GAN_CHECK(ag_shape_equal(real->shape, fake->shape) && real->shape.ndim >= 2 && eps->shape.ndim == real->shape.ndim &&
                  eps->shape.d[0] == real->shape.d[0] && ag_shape_numel(eps->shape) == eps->shape.d[0],
              "gradient penalty: real %s, fake %s, eps %s (expected equal shapes (N, ...) and eps (N, 1, ...))",
              AG_SHAPE_STR(real->shape), AG_SHAPE_STR(fake->shape), AG_SHAPE_STR(eps->shape));
    GAN_CHECK(!real->node && !fake->node, "gradient penalty: real and fake must carry no history");
    const int64_t n = real->shape.d[0];
    ag_tensor *one_minus = ag_add_scalar(c, ag_neg(c, eps), 1.0f);
    ag_tensor *x_hat = ag_add(c, ag_mul(c, eps, real), ag_mul(c, one_minus, fake));
    // A leaf of its own: the penalty differentiates D's output with respect to x_hat only.
    x_hat = ag_requires_grad(ag_detach(c, x_hat), true);
    // The penalty is a gradient, so D's pass is recorded even under no_grad (a caller that only
    // reads the value); the gradient keeps its history only when the caller records.
    const bool recording = ag_set_grad_enabled(c, true);
    ag_tensor *scores = critic_fn(c, critic, x_hat);
    GAN_CHECK(scores->shape.ndim == 1 && scores->shape.d[0] == n, "gradient penalty: D gives %s for %lld samples",
              AG_SHAPE_STR(scores->shape), (long long)n);
    ag_tensor *total = ag_sum(c, scores), *g;
    ag_grad(c, 1, &total, NULL, 1, &x_hat, recording, &g);
    ag_set_grad_enabled(c, recording);
    ag_tensor *flat = ag_reshape(c, g, AG_SHAPE(n, -1));
    ag_tensor *norm = ag_sqrt(c, ag_sum_axes(c, ag_square(c, flat), 1, (const int[]){1}, false));  // (N)
    if (norms) *norms = norm;
    return ag_square(c, ag_add_scalar(c, norm, -1.0f));
}

float gan_backward_through_frozen_d(ag_ctx *c, ag_tensor *fake, gan_loss_g_fn loss_fn, void *arg) {
    ag_tensor *grad = ag_new(c, fake->shape);
    const ag_ctx_mark before_d = ag_ctx_mark_now(c);
    ag_tensor *x = ag_requires_grad(ag_detach(c, fake), true), *gx;
    ag_tensor *loss = loss_fn(c, arg, x);
    ag_grad(c, 1, &loss, NULL, 1, &x, false, &gx);
    ag_tensor_copy(grad, gx);
    const float value = ag_item(loss);
    ag_ctx_release(c, before_d);
    ag_backward_with(c, fake, grad);
    return value;
}
