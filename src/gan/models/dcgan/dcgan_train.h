// One DCGAN training iteration, exactly the loop of pytorch/examples/dcgan:
//   D on the real batch (label 1, or 1 - label_smoothing), D on detach(G(z)) (label 0), D step;
//   then the G step with label 1 on the same fake batch, through D, with its history.
// With d_steps > 1 the D part repeats on fresh real and fake batches, and the G step uses the
// last fake batch. Losses (losses.h): the reference's sigmoid + BCE, BCE on logits (softplus
// form), hinge, least squares, or WGAN-GP, whose D step adds a third pass, the gradient penalty
// on interpolates of that D step's real and fake batches (d_steps is WGAN-GP's n_critic).
#pragma once
#include <stdbool.h>

#include "dcgan.h"
#include "augment.h"
#include "losses.h"
#include "optim.h"

typedef struct gan_dcgan_step_opts {
    gan_loss_kind loss;     // bce (zero, the reference), logits, hinge, lsgan or wgan-gp
    float label_smoothing;  // one-sided: the real label is 1 - label_smoothing (bce, logits)
    int d_steps;            // D steps per G step (>= 1)
    float gp_lambda;        // wgan-gp: the penalty's weight
    // Augmentation (augment.h) of every image D sees; NULL or mode off: none. aug_params holds
    // 2 d_steps + 1 batches' parameters (GAN_AUG_NPARAMS * batch floats each): the real and the
    // fake batch of each D step, then the G step's fakes.
    const gan_aug_opts *aug;
    const float *aug_params;
} gan_dcgan_step_opts;

typedef struct gan_dcgan_step_stats {
    float loss_d, loss_g;  // loss_d = the real + fake (+ penalty) terms of the last D step
    float d_x;             // mean D(x) on the real batch: a probability for bce and logits,
                           // the raw score for the other losses
    float d_g_z1, d_g_z2;  // mean D(G(z)) before and after the D step, as d_x
    float gp;              // wgan-gp: mean (|grad| - 1)^2 of the last D step (unweighted); else 0
    double real_signs;     // with augmentation: sum of sign(D(augmented real)) over the D steps
                           // (about 0.5 for bce's probabilities): ADA's overfitting measure
} gan_dcgan_step_stats;

// real: d_steps real batches, each (B, nc, R, R), host memory. z: d_steps noise batches
// (B, nz, 1, 1), host memory. eps: for wgan-gp, d_steps batches of B interpolation weights in
// [0, 1), else NULL (the caller draws all three, so data order and noise are part of the run's
// saved state). D must have been built with d_no_bn exactly when the loss is wgan-gp. Resets the
// context's arena at the end.
void gan_dcgan_train_step(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                          const gan_dcgan_step_opts *o, int batch, const float *real, const float *z,
                          const float *eps, gan_dcgan_step_stats *stats);
// The same for a conditional G and D (shape.num_classes = K > 0): real_labels (d_steps, B) are
// the real batches' classes, fake_labels (d_steps, B) those G draws each fake batch for (the G
// step uses the last D step's, with its fake batch). Both NULL: gan_dcgan_train_step.
void gan_dcgan_train_step_cond(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                               const gan_dcgan_step_opts *o, int batch, const float *real, const int32_t *real_labels,
                               const float *z, const int32_t *fake_labels, const float *eps,
                               gan_dcgan_step_stats *stats);
