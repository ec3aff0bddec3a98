#include "dcgan_train.h"

#include "autograd.h"
#include "gan_check.h"

static ag_tensor *loss_vs(ag_ctx *c, ag_tensor *out, float label, bool logits) {
    ag_tensor *y = ag_full(c, out->shape, label);
    return logits ? ag_bce_with_logits(c, out, y) : ag_bce(c, out, y);
}

static float mean_prob(ag_ctx *c, ag_tensor *out, bool logits) {
    bool prev = ag_set_grad_enabled(c, false);
    float m = ag_item(ag_mean(c, logits ? ag_sigmoid(c, out) : out));
    ag_set_grad_enabled(c, prev);
    return m;
}

void gan_dcgan_train_step(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                          const gan_dcgan_step_opts *o, int batch, const float *real, const float *z,
                          gan_dcgan_step_stats *stats) {
    GAN_CHECK(o->d_steps >= 1, "dcgan step: d_steps %d", o->d_steps);
    const gan_dcgan_shape s = g->shape;
    const int R = s.resolution;
    const int64_t real_size = (int64_t)batch * s.nc * R * R, z_size = (int64_t)batch * s.nz;
    // Memory: each D pass (forward and backward) is released as soon as its losses and
    // statistics are read; only the fake batch the G step uses, with its history, stays until
    // the end. The arithmetic is the reference's, in its order.
    ag_tensor *fake = NULL;
    for (int k = 0; k < o->d_steps; k++) {
        ag_params_zero_grad(d->params);
        const ag_ctx_mark before_real = ag_ctx_mark_now(c);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(batch, s.nc, R, R), real + k * real_size);
        ag_tensor *out_real = gan_dcgan_d_forward(c, d, x, true, o->logits);
        ag_tensor *err_real = loss_vs(c, out_real, 1.0f - o->label_smoothing, o->logits);
        ag_backward(c, err_real);
        const float loss_real = ag_item(err_real);
        stats->d_x = mean_prob(c, out_real, o->logits);
        ag_ctx_release(c, before_real);

        ag_tensor *noise = ag_from_host(c, AG_SHAPE(batch, s.nz, 1, 1), z + k * z_size);
        fake = gan_dcgan_g_forward(c, g, noise, true);
        const ag_ctx_mark before_fake = ag_ctx_mark_now(c);
        ag_tensor *out_fake = gan_dcgan_d_forward(c, d, ag_detach(c, fake), true, o->logits);
        ag_tensor *err_fake = loss_vs(c, out_fake, 0.0f, o->logits);
        ag_backward(c, err_fake);
        stats->loss_d = loss_real + ag_item(err_fake);
        stats->d_g_z1 = mean_prob(c, out_fake, o->logits);
        ag_ctx_release(c, before_fake);
        ag_adam_step(opt_d);
        // Only the last D step's fake batch goes on to the G step.
        if (k + 1 < o->d_steps) ag_ctx_release(c, before_real);
    }

    // G step: D is frozen so the backward pass computes no D weight gradients (the reference
    // computes and then discards them; the G gradients are identical).
    ag_params_zero_grad(g->params);
    ag_params_set_requires_grad(d->params, false);
    ag_tensor *out = gan_dcgan_d_forward(c, d, fake, true, o->logits);
    ag_tensor *err_g = loss_vs(c, out, 1.0f, o->logits);
    ag_backward(c, err_g);
    ag_params_set_requires_grad(d->params, true);
    ag_adam_step(opt_g);
    stats->loss_g = ag_item(err_g);
    stats->d_g_z2 = mean_prob(c, out, o->logits);
    ag_ctx_reset(c);
}
