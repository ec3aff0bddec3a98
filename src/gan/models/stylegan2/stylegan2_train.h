// One StyleGAN2 training iteration, in the phases of the official training loop
// (NVlabs/stylegan2-ada-pytorch training/training_loop.py and loss.py):
//   Gmain  G step on mean softplus(-D(G(z)))                      (non-saturating logistic)
//          or another loss's G term (losses.h)
//   Greg   every pl_interval iterations, when pl_weight > 0: G step on the path-length penalty
//          mean((|J_w^T y| - a)^2) * pl_weight * pl_interval, on batch / pl_batch_shrink samples
//   Dmain  D step on mean softplus(D(G(z))) + mean softplus(-D(x)) (or another loss's D terms;
//          WGAN-GP adds lambda * its gradient penalty on interpolates of x and G(z)); d_steps
//          times, each on its own real batch and latents (n_critic)
//   Dreg   every r1_interval iterations, when r1_gamma > 0: D step on the lazy R1 penalty
//          mean |dD(x)/dx|^2 * r1_gamma / 2 * r1_interval (a gradient of a gradient)
//   then   G_ema = lerp(G, G_ema, 0.5 ^ (batch / (ema_kimg * 1000))), buffers copied.
// Every G forward pass mixes styles with probability mixing_prob (ws[:, cutoff:] from a second
// z, cutoff uniform in [1, num_ws)), uses fresh random noise, and moves w_avg (not for the
// second z). The optimizers are Adam with the lazy-regularisation correction of lr and betas
// (gan_sg2_adam_create). All randomness is drawn from one rng (gan_sg2_draw), so an iteration
// is a pure function of the model, the optimizer states, pl_mean, the iteration index, the real
// batch and the rng state.
//
// Class-conditional networks (shape.num_classes K > 0) train as stylegan2-ada's loss.py: D judges
// the reals with their labels (also under R1 and WGAN-GP's penalty), every G pass and D's fake
// pass use the fake batch's classes (its style-mixing z2 too).
//
// Differences from the official code: no multi-GPU; a conditional run's fake classes are uniform
// over the K classes, drawn from the step's rng after every unconditional draw (ADA takes the
// labels of random training images, i.e. the data's class frequencies); augmentation, opts.aug,
// is augment.h's, drawn after every other random input (R1 goes through it as in stylegan2-ada); a parameter
// without a gradient in a phase (b4.out.bias under R1) still takes an Adam step with gradient 0
// (PyTorch skips it; with beta1 = 0 its value is unchanged either way, only its second moment
// decays); gradients are not passed through nan_to_num.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "augment.h"
#include "losses.h"
#include "optim.h"
#include "stylegan2.h"

#define GAN_SG2_MAX_D_STEPS 16  // Dmain phases per iteration at most (the config's bound)

typedef struct gan_sg2_train_opts {
    int batch;             // images per iteration
    float lr_g, lr_d;      // Adam learning rates before the lazy correction (0.0025)
    float beta1, beta2;    // (0, 0.99)
    float eps;             // 1e-8
    float r1_gamma;        // R1 weight; 0: no Dreg phase
    int r1_interval;       // Dreg every r1_interval iterations (16)
    float pl_weight;       // path-length weight (2); 0: no Greg phase
    int pl_interval;       // Greg every pl_interval iterations (4)
    int pl_batch_shrink;   // Greg batch = batch / pl_batch_shrink (2)
    float pl_decay;        // the path-length mean's decay (0.01)
    float mixing_prob;     // style mixing probability (0.9)
    float ema_kimg;        // G_ema half-life in thousands of images (10)
    float ema_rampup;      // 0: off; else the half-life is at most iter * batch * ema_rampup images
    gan_loss_kind loss;    // logistic (the paper's), hinge, lsgan or wgan-gp
    float gp_lambda;       // wgan-gp: the gradient penalty's weight (10)
    int d_steps;           // Dmain phases per iteration (1), each on its own real batch
    gan_aug_opts aug;      // augmentation of every image D sees (zero: off); R1 goes through it
    int processes;         // data parallelism: batch is one of this many processes' shares (0, 1:
                           // one process); G_ema's half-life counts the global batch
} gan_sg2_train_opts;

// The official defaults (paper configuration values) for the given batch.
gan_sg2_train_opts gan_sg2_train_opts_default(int batch);
// Returns false (and says why) for options this code cannot train with for shape s (including
// a batch the minibatch-stddev group does not divide).
bool gan_sg2_train_opts_valid(const gan_sg2_train_opts *o, gan_sg2_shape s, char *why, int why_size);

// Adam with the lazy-regularisation correction for a network regularised every `interval`
// iterations: lr * r and betas ^ r with r = interval / (interval + 1). interval 0: plain Adam.
ag_adam *gan_sg2_adam_create(ag_params *ps, float lr, float beta1, float beta2, float eps, int interval);

// Everything one StyleGAN2 run trains and saves (besides the iteration index and the rng).
typedef struct gan_sg2_model {
    gan_sg2_g *g, *g_ema;
    gan_sg2_d *d;
    ag_adam *opt_g, *opt_d;
    float pl_mean;    // the path-length running mean
    ag_ctx *scratch;  // holds gan_sg2_train_step's random inputs while the phases reset theirs
    double aug_p;     // ADA: the probability the draws use (the family adjusts it)
    float *aug_buf;   // with augmentation: host room for one iteration's augmentation parameters
    float *class_u;       // conditional: host room for one iteration's class draws (uniform) ...
    int32_t *class_buf;   // ... and the classes they give; NULL when unconditional
} gan_sg2_model;

// G and D initialised from init_rng (G first), G_ema a copy of G, both optimizers with the
// corrections the options imply, pl_mean 0. The options must be valid.
gan_sg2_model *gan_sg2_model_create(const ag_backend *be, gan_sg2_shape s, const gan_sg2_train_opts *o,
                                    ag_rng *init_rng);
void gan_sg2_model_free(gan_sg2_model *m);

// The random inputs of one G forward pass.
typedef struct gan_sg2_latents {
    int n;
    ag_tensor *z, *z2;  // (n, z_dim); z2 only when cutoff < num_ws
    ag_tensor *c;       // conditional: (n, num_classes) one-hot classes of z and z2; else NULL
    int cutoff;         // ws[:, cutoff:] come from z2; num_ws: no mixing
    ag_tensor *noise[GAN_SG2_MAX_LAYERS];  // (n, 1, r, r) per synthesis layer
} gan_sg2_latents;

// The random inputs of one iteration; phases that do not run have n = 0.
typedef struct gan_sg2_draws {
    gan_sg2_latents gmain, greg, dmain[GAN_SG2_MAX_D_STEPS];  // dmain: one per D step
    ag_tensor *gp_eps[GAN_SG2_MAX_D_STEPS];  // wgan-gp: (batch, 1, 1, 1) U[0, 1) per D step, else NULL
    ag_tensor *pl_noise;  // (batch / pl_batch_shrink, img_channels, R, R), N(0, 1), or NULL
    // Conditional: the latents' classes (their c), uniform over [0, K), drawn after pl_noise:
    // Gmain's, Greg's when it runs, then each Dmain's (these arrays hold them; NULL otherwise).
    const int32_t *classes_gmain, *classes_greg, *classes_dmain[GAN_SG2_MAX_D_STEPS];
    // With augmentation: each D pass's parameters (augment.h, GAN_AUG_NPARAMS * batch floats),
    // drawn after everything above: Gmain's fakes, each Dmain's fakes and reals, then Dreg's
    // reals when it runs; NULL without.
    const float *aug_gmain, *aug_dfake[GAN_SG2_MAX_D_STEPS], *aug_dreal[GAN_SG2_MAX_D_STEPS], *aug_dreg;
} gan_sg2_draws;

typedef struct gan_sg2_step_stats {
    float loss_g;                    // Gmain loss
    float loss_d;                    // the last Dmain's loss (fake + real (+ penalty) terms)
    float scores_real, scores_fake;  // mean D logits in the last Dmain
    float gp_penalty;                // wgan-gp: mean (|grad| - 1)^2 of the last Dmain, else NAN
    bool ran_pl, ran_r1;
    float pl_penalty;                // mean (|J^T y| - a)^2 (Greg), NAN when it did not run
    float r1_penalty;                // mean |dD(x)/dx|^2 (Dreg), NAN when it did not run
    float pl_mean;                   // after the iteration
    float ema_beta;
    double real_signs, real_count;   // with augmentation: sum of sign(D(augmented real)) over the
                                     // Dmain and Dreg passes, and how many outputs (ADA's measure)
} gan_sg2_step_stats;

// Whether iteration `iter` runs Greg / Dreg.
bool gan_sg2_runs_pl(const gan_sg2_train_opts *o, int64_t iter);
bool gan_sg2_runs_r1(const gan_sg2_train_opts *o, int64_t iter);

// Draws iteration iter's random inputs from rng into per-iteration tensors of c, in a fixed
// order: per running phase (Gmain, Greg, then each Dmain) z, the mixing coin, the cutoff and z2
// when it mixes, the noise images (after each Dmain's, with wgan-gp, its interpolation
// weights); then the path-length noise; then, conditional only, the fake classes (one uniform
// per sample, class floor(u K)); then augmentation's parameters.
void gan_sg2_draw(ag_ctx *c, const gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter, ag_rng *rng,
                  gan_sg2_draws *out);
// One iteration with the given random inputs. real: d_steps batches (batch, img_channels, R, R)
// in host memory, one per Dmain; Dreg uses the last.
// Resets c's arena after every phase, so a phase's graph is gone before the next one builds its
// own (the peak is one phase, not four): the draws must live elsewhere (another context).
void gan_sg2_train_step_with(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                             const float *real, const gan_sg2_draws *draws, gan_sg2_step_stats *stats);
// The same for any model: real_labels, the classes of the d_steps real batches (d_steps x batch,
// each in [0, K)), exactly when the model is conditional; NULL otherwise.
void gan_sg2_train_step_with_cond(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                                  const float *real, const int32_t *real_labels, const gan_sg2_draws *draws,
                                  gan_sg2_step_stats *stats);
// gan_sg2_draw into m->scratch, then gan_sg2_train_step_with.
void gan_sg2_train_step(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter, const float *real,
                        ag_rng *rng, gan_sg2_step_stats *stats);
// gan_sg2_draw into m->scratch, then gan_sg2_train_step_with_cond.
void gan_sg2_train_step_cond(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                             const float *real, const int32_t *real_labels, ag_rng *rng, gan_sg2_step_stats *stats);

// --- the losses, for tests and tools ---------------------------------------------------------------
// ws of one G forward pass with style mixing (the first z moves w_avg when update_w_avg); both
// z and z2 with lat->c's classes when conditional.
ag_tensor *gan_sg2_mixed_ws(ag_ctx *c, gan_sg2_g *g, const gan_sg2_latents *lat, bool update_w_avg);
// R1: per-sample |d sum D(x) / dx|^2 (N), differentiable (create_graph); *logits gets D(x) when
// logits is not NULL. real must carry no history.
ag_tensor *gan_sg2_r1_penalty(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, ag_tensor **logits);
// The same through augmentation, as stylegan2-ada's loss.py: |d sum D(aug(x)) / dx|^2, the
// gradient with respect to the reals before augmentation (aug NULL or off: D(x)).
ag_tensor *gan_sg2_r1_penalty_aug(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, const gan_aug_opts *aug,
                                  const float *aug_params, ag_tensor **logits);
// The same with D judging the reals with their one-hot classes y (NULL exactly when D is
// unconditional).
ag_tensor *gan_sg2_r1_penalty_cond(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, ag_tensor *y, const gan_aug_opts *aug,
                                   const float *aug_params, ag_tensor **logits);
// Path length on ws (with history, requiring grad): img = synthesis(ws), lengths =
// sqrt(mean over ws of sum over w of (d<img, pl_noise / sqrt(R R)>/d ws)^2) (N); the running mean
// a' = a + decay (mean(lengths) - a) keeps its graph, *pl_mean becomes a'; returns
// (lengths - a')^2 (N). *lengths gets the lengths when not NULL.
ag_tensor *gan_sg2_pl_penalty(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, ag_tensor *pl_noise, gan_sg2_noise noise,
                              float *pl_mean, float decay, ag_tensor **lengths);
