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

// D and the labels of the batch it judges, for the gradient penalty's critic.
typedef struct critic_args {
    gan_dcgan_d *d;
    ag_tensor *y;  // one-hot labels, NULL when unconditional
} critic_args;

static ag_tensor *critic(ag_ctx *c, void *a, ag_tensor *x) {
    critic_args *ca = a;
    return gan_dcgan_d_forward_cond(c, ca->d, x, ca->y, true, true);
}

// Augmentation of D's input number `which` of the step (augment.h), or x itself without it.
static ag_tensor *augment(ag_ctx *c, const gan_dcgan_step_opts *o, ag_tensor *x, int which) {
    if (!o->aug || o->aug->mode == GAN_AUG_OFF) return x;
    const int64_t per = (int64_t)GAN_AUG_NPARAMS * x->shape.d[0];
    return gan_aug_apply(c, o->aug, x, o->aug_params + which * per);
}

// One-hot labels of batch k, or NULL when unconditional.
static ag_tensor *labels_of(ag_ctx *c, const int32_t *labels, int k, int batch, int classes) {
    return labels ? nn_one_hot(c, labels + (int64_t)k * batch, batch, classes) : NULL;
}

void gan_dcgan_train_step(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                          const gan_dcgan_step_opts *o, int batch, const float *real, const float *z,
                          const float *eps, gan_dcgan_step_stats *stats) {
    gan_dcgan_train_step_cond(c, g, d, opt_g, opt_d, o, batch, real, NULL, z, NULL, eps, stats);
}

// The G step's loss on D's judgement of x (gan_backward_through_frozen_d's loss_fn), with D's
// mean score on it.
typedef struct g_step_args {
    gan_dcgan_d *d;
    ag_tensor *y;  // one-hot classes of the fakes, NULL when unconditional
    gan_loss_kind loss;
    bool logits;
    float *mean_score;
} g_step_args;

static ag_tensor *g_step_loss(ag_ctx *c, void *arg, ag_tensor *x) {
    const g_step_args *a = arg;
    ag_tensor *out = gan_dcgan_d_forward_cond(c, a->d, x, a->y, true, a->logits);
    *a->mean_score = mean_score(c, out, a->loss);
    return gan_loss_g(c, a->loss, out);
}

void gan_dcgan_train_step_cond(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                               const gan_dcgan_step_opts *o, int batch, const float *real, const int32_t *real_labels,
                               const float *z, const int32_t *fake_labels, const float *eps,
                               gan_dcgan_step_stats *stats) {
    const int K = g->shape.num_classes;
    GAN_CHECK((K > 0) == (real_labels != NULL) && (K > 0) == (fake_labels != NULL),
              "dcgan step: %d classes with%s real and with%s fake labels", K, real_labels ? "" : "out",
              fake_labels ? "" : "out");
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
    stats->real_signs = 0.0;
    // Memory: each D pass (forward and backward) is released as soon as its losses and
    // statistics are read; only the fake batch the G step uses, with its history, stays until
    // the end. The arithmetic is the reference's, in its order; WGAN-GP's penalty is a third
    // pass whose gradients add to the other two before the one D step.
    ag_tensor *fake = NULL, *y_fake = NULL;
    for (int k = 0; k < o->d_steps; k++) {
        ag_params_zero_grad(d->params);
        const ag_ctx_mark before_real = ag_ctx_mark_now(c);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(batch, s.nc, R, R), real + k * real_size);
        ag_tensor *y_real = labels_of(c, real_labels, k, batch, K);
        x = augment(c, o, x, 2 * k);  // D sees the augmented reals, the penalty's too
        const ag_ctx_mark after_x = ag_ctx_mark_now(c);  // x stays for WGAN-GP's penalty
        ag_tensor *out_real = gan_dcgan_d_forward_cond(c, d, x, y_real, true, logits);
        ag_tensor *err_real = gan_loss_d_real(c, o->loss, out_real, 1.0f - o->label_smoothing);
        ag_backward(c, err_real);
        const float loss_real = ag_item(err_real);
        stats->d_x = mean_score(c, out_real, o->loss);
        if (o->aug && o->aug->mode != GAN_AUG_OFF) stats->real_signs += gan_ada_sign_sum(c, out_real, logits ? 0.0f : 0.5f);
        ag_ctx_release(c, after_x);

        ag_tensor *noise = ag_from_host(c, AG_SHAPE(batch, s.nz, 1, 1), z + k * z_size);
        y_fake = labels_of(c, fake_labels, k, batch, K);
        fake = gan_dcgan_g_forward_cond(c, g, noise, y_fake, true);
        const ag_ctx_mark before_fake = ag_ctx_mark_now(c);
        ag_tensor *out_fake =
            gan_dcgan_d_forward_cond(c, d, augment(c, o, ag_detach(c, fake), 2 * k + 1), y_fake, true, logits);
        ag_tensor *err_fake = gan_loss_d_fake(c, o->loss, out_fake);
        ag_backward(c, err_fake);
        stats->loss_d = loss_real + ag_item(err_fake);
        stats->d_g_z1 = mean_score(c, out_fake, o->loss);
        ag_ctx_release(c, before_fake);

        if (wgan) {
            ag_tensor *e = ag_from_host(c, AG_SHAPE(batch, 1, 1, 1), eps + (int64_t)k * batch);
            // Conditional: the interpolates are judged with the real batch's labels (StudioGAN's
            // choice; the penalty only needs some fixed labels per sample).
            critic_args ca = {d, y_real};
            // With augmentation: interpolates of the augmented batches D saw (the same draws).
            ag_tensor *pen = gan_loss_gradient_penalty(c, critic, &ca, x, augment(c, o, ag_detach(c, fake), 2 * k + 1),
                                                       e, NULL);
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
    g_step_args ga = {d, y_fake, o->loss, logits, &stats->d_g_z2};
    stats->loss_g = gan_backward_through_frozen_d(c, augment(c, o, fake, 2 * o->d_steps), g_step_loss, &ga);
    ag_params_set_requires_grad(d->params, true);
    ag_adam_step(opt_g);
    ag_ctx_reset(c);
}
