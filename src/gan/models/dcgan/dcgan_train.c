#include "dcgan_train.h"

#include "autograd.h"
#include "gan_check.h"

// d_x and d_g_z*: the reference prints probabilities; the scores of the raw-output losses have
// no probability reading (a hinge or Wasserstein score is not a logit), so they stay raw.
static float mean_score(ag_ctx *c, ag_tensor *out, gan_loss_kind loss) {
    bool prev = ag_set_grad_enabled(c, false);
    float m = ag_item(ag_mean(c, loss == GAN_LOSS_LOGITS ? ag_sigmoid(c, out) : out));
    ag_set_grad_enabled(c, prev);
    return m;
}

static ag_tensor *critic(ag_ctx *c, void *d, ag_tensor *x) { return gan_dcgan_d_forward(c, d, x, true, true); }

void gan_dcgan_train_step(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                          const gan_dcgan_step_opts *o, int batch, const float *real, const float *z,
                          const float *eps, gan_dcgan_step_stats *stats) {
    const bool wgan = o->loss == GAN_LOSS_WGAN_GP, logits = !gan_loss_d_sigmoid(o->loss);
    GAN_CHECK(o->d_steps >= 1, "dcgan step: d_steps %d", o->d_steps);
    GAN_CHECK(wgan == d->shape.d_no_bn && wgan == (eps != NULL),
              "dcgan step: loss %s with a D %s batchnorm and %s interpolation weights (WGAN-GP needs "
              "both, the others neither)", gan_loss_name(o->loss), d->shape.d_no_bn ? "without" : "with",
              eps ? "with" : "without");
    const gan_dcgan_shape s = g->shape;
    const int R = s.resolution;
    const int64_t real_size = (int64_t)batch * s.nc * R * R, z_size = (int64_t)batch * s.nz;
    stats->gp = 0.0f;
    // Memory: each D pass (forward and backward) is released as soon as its losses and
    // statistics are read; only the fake batch the G step uses, with its history, stays until
    // the end. The arithmetic is the reference's, in its order; WGAN-GP's penalty is a third
    // pass whose gradients add to the other two before the one D step.
    ag_tensor *fake = NULL;
    for (int k = 0; k < o->d_steps; k++) {
        ag_params_zero_grad(d->params);
        const ag_ctx_mark before_real = ag_ctx_mark_now(c);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(batch, s.nc, R, R), real + k * real_size);
        const ag_ctx_mark after_x = ag_ctx_mark_now(c);  // x stays for WGAN-GP's penalty
        ag_tensor *out_real = gan_dcgan_d_forward(c, d, x, true, logits);
        ag_tensor *err_real = gan_loss_d_real(c, o->loss, out_real, 1.0f - o->label_smoothing);
        ag_backward(c, err_real);
        const float loss_real = ag_item(err_real);
        stats->d_x = mean_score(c, out_real, o->loss);
        ag_ctx_release(c, after_x);

        ag_tensor *noise = ag_from_host(c, AG_SHAPE(batch, s.nz, 1, 1), z + k * z_size);
        fake = gan_dcgan_g_forward(c, g, noise, true);
        const ag_ctx_mark before_fake = ag_ctx_mark_now(c);
        ag_tensor *out_fake = gan_dcgan_d_forward(c, d, ag_detach(c, fake), true, logits);
        ag_tensor *err_fake = gan_loss_d_fake(c, o->loss, out_fake);
        ag_backward(c, err_fake);
        stats->loss_d = loss_real + ag_item(err_fake);
        stats->d_g_z1 = mean_score(c, out_fake, o->loss);
        ag_ctx_release(c, before_fake);

        if (wgan) {
            ag_tensor *e = ag_from_host(c, AG_SHAPE(batch, 1, 1, 1), eps + (int64_t)k * batch);
            ag_tensor *pen = gan_loss_gradient_penalty(c, critic, d, x, ag_detach(c, fake), e, NULL);
            ag_tensor *err_gp = ag_scale(c, ag_mean(c, pen), o->gp_lambda);
            ag_backward(c, err_gp);
            stats->loss_d += ag_item(err_gp);
            stats->gp = ag_item(ag_mean(c, ag_detach(c, pen)));
            ag_ctx_release(c, before_fake);
        }
        ag_adam_step(opt_d);
        // Only the last D step's fake batch goes on to the G step.
        if (k + 1 < o->d_steps) ag_ctx_release(c, before_real);
    }

    // G step: D is frozen so the backward pass computes no D weight gradients (the reference
    // computes and then discards them; the G gradients are identical).
    ag_params_zero_grad(g->params);
    ag_params_set_requires_grad(d->params, false);
    ag_tensor *out = gan_dcgan_d_forward(c, d, fake, true, logits);
    ag_tensor *err_g = gan_loss_g(c, o->loss, out);
    ag_backward(c, err_g);
    ag_params_set_requires_grad(d->params, true);
    ag_adam_step(opt_g);
    stats->loss_g = ag_item(err_g);
    stats->d_g_z2 = mean_score(c, out, o->loss);
    ag_ctx_reset(c);
}
