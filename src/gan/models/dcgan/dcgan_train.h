// One DCGAN training iteration, exactly the loop of pytorch/examples/dcgan:
//   D on the real batch (label 1, or 1 - label_smoothing), D on detach(G(z)) (label 0), D step;
//   then the G step with label 1 on the same fake batch, through D, with its history.
// With d_steps > 1 the D part repeats on fresh real and fake batches, and the G step uses the
// last fake batch. Losses: the reference's sigmoid + BCE, or BCE on logits (softplus form).
#pragma once
#include <stdbool.h>

#include "dcgan.h"
#include "optim.h"

typedef struct gan_dcgan_step_opts {
    bool logits;            // BCE on logits instead of sigmoid + BCE
    float label_smoothing;  // one-sided: the real label is 1 - label_smoothing
    int d_steps;            // D steps per G step (>= 1)
} gan_dcgan_step_opts;

typedef struct gan_dcgan_step_stats {
    float loss_d, loss_g;  // loss_d = errD_real + errD_fake of the last D step
    float d_x;             // mean D(x) on the real batch (a probability)
    float d_g_z1, d_g_z2;  // mean D(G(z)) before and after the D step
} gan_dcgan_step_stats;

// real: d_steps real batches, each (B, nc, R, R), host memory. z: d_steps noise batches
// (B, nz, 1, 1), host memory (the caller draws both, so data order and noise are part of the
// run's saved state). Resets the context's arena at the end.
void gan_dcgan_train_step(ag_ctx *c, gan_dcgan_g *g, gan_dcgan_d *d, ag_adam *opt_g, ag_adam *opt_d,
                          const gan_dcgan_step_opts *o, int batch, const float *real, const float *z,
                          gan_dcgan_step_stats *stats);
