// Augmentation of every image D sees, real and fake, inside the differentiable graph, so G's
// gradient flows through the augmentation of its fakes (both model families):
//
//   DiffAugment (Zhao et al. 2020, the official DiffAugment_pytorch.py): a policy of
//     color        brightness + U(-0.5, 0.5); saturation x U(0, 2) around each pixel's channel
//                  mean; contrast x U(0.5, 1.5) around each image's mean
//     translation  integer shifts up to 1/8 of the side, zero fill, per sample
//     cutout       one zeroed square of half the side per sample
//     applied in the policy's order to every image, always.
//   ADA (Karras et al. 2020, stylegan2-ada-pytorch's augment.py), each transform applied to each
//     image with probability p, p tuned during training from the sign of D's outputs on reals:
//     x-flip, 90-degree rotations, integer translation up to 1/8 of the side (the 'bgc' blit
//     subset; the border reflected, as augment.py pads), then brightness, contrast, luma flip,
//     hue rotation and saturation as one 4x4 colour matrix per image. Grey images take
//     brightness, contrast and luma flip (an inversion); hue and saturation leave grey unchanged
//     and are skipped for them, as augment.py does.
//
// All random parameters of one batch are drawn on the host from the step's rng (gan_aug_draw)
// and passed to gan_aug_apply, so a test can give them explicitly; a run without augmentation
// draws nothing.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "rng.h"
#include "tensor.h"

#define GAN_AUG_MAX_POLICY 8

typedef enum gan_aug_mode { GAN_AUG_OFF, GAN_AUG_DIFF, GAN_AUG_ADA } gan_aug_mode;
typedef enum gan_diffaug_op { GAN_DIFFAUG_COLOR, GAN_DIFFAUG_TRANSLATION, GAN_DIFFAUG_CUTOUT } gan_diffaug_op;

typedef struct gan_aug_opts {
    gan_aug_mode mode;                   // zero: off
    int npolicy;                         // DiffAugment: the policy's parts, in its order
    gan_diffaug_op policy[GAN_AUG_MAX_POLICY];
    double ada_target;                   // ADA: the wanted mean sign of D on reals (0.6)
    double ada_kimg;                     // ADA: thousands of images for p to move by 1 (500)
    int ada_interval;                    // ADA: steps between adjustments of p (4)
} gan_aug_opts;

// Parses a DiffAugment policy ("color,translation,cutout"; "" is off) into o (mode and policy).
// Returns false for a part that is none of the three, or one given twice, copying it into bad.
bool gan_diffaug_parse(const char *policy, gan_aug_opts *o, char *bad, size_t bad_size);

// Per-sample parameters: v[k * n + i] is parameter k of image i, as the transforms take them.
enum { DA_BRIGHTNESS, DA_SATURATION, DA_CONTRAST, DA_TX, DA_TY, DA_CUT_X, DA_CUT_Y };
enum { ADA_XFLIP, ADA_ROT90, ADA_TX, ADA_TY, ADA_BRIGHTNESS, ADA_CONTRAST, ADA_LUMAFLIP, ADA_HUE, ADA_SATURATION };
#define GAN_AUG_NPARAMS 9  // floats per image of one batch's parameters

// Draws the parameters of one augmentation of n images (channels, H, W) into v (GAN_AUG_NPARAMS
// * n floats): DiffAugment's for the parts of the policy, in its order; ADA's gated with
// probability p (the identity where a coin says no). Each quantity is one reservation of rng.
void gan_aug_draw(const gan_aug_opts *o, double p, int n, int channels, int H, int W, ag_rng *rng, float *v);
// x (n, C, H, W) augmented with the drawn parameters, differentiably (twice) in x.
ag_tensor *gan_aug_apply(ag_ctx *c, const gan_aug_opts *o, ag_tensor *x, const float *v);

// --- the transforms, with explicit per-sample parameters (n floats each) -----------------------
// DiffAugment's: brightness b in [-0.5, 0.5), saturation s in [0, 2), contrast k in [0.5, 1.5);
// translation by integers tx (rows, dim 2) and ty (columns, dim 3), out[i, j] = x[i + tx, j + ty]
// or 0; cutout zeroing rows ox - S/2 .. ox - S/2 + S - 1 and columns oy - S/2 .. (S = side / 2
// rounded), clipped to the image.
ag_tensor *gan_diffaug_brightness(ag_ctx *c, ag_tensor *x, const float *b);
ag_tensor *gan_diffaug_saturation(ag_ctx *c, ag_tensor *x, const float *s);
ag_tensor *gan_diffaug_contrast(ag_ctx *c, ag_tensor *x, const float *k);
ag_tensor *gan_diffaug_translation(ag_ctx *c, ag_tensor *x, const float *tx, const float *ty);
ag_tensor *gan_diffaug_cutout(ag_ctx *c, ag_tensor *x, const float *ox, const float *oy);
// ADA's geometric blit (square images): flip (0/1), rot (quarter turns 0..3), translation tx
// (columns) and ty (rows) in pixels, composed as augment.py's G_inv = flip @ rotate @ translate
// maps output to input pixels about the centre; the border reflected.
ag_tensor *gan_ada_geometric(ag_ctx *c, ag_tensor *x, const float *flip, const float *rot, const float *tx,
                             const float *ty);
// ADA's colour matrix C = saturation @ hue @ lumaflip @ contrast @ brightness per image from
// brightness b, contrast k (a factor), lumaflip (0/1), hue (radians), saturation (a factor);
// RGB: C[:3, :3] @ rgb + C[:3, 3]; grey: as augment.py, the mean over the three rows.
ag_tensor *gan_ada_color(ag_ctx *c, ag_tensor *x, const float *b, const float *k, const float *lumaflip,
                         const float *hue, const float *sat);

// --- ADA's adaptive p ---------------------------------------------------------------------------
// The state between adjustments; kept in checkpoints so a resumed run continues exactly.
typedef struct gan_ada_state {
    double p;          // the probability now
    double sign_sum;   // sum of sign(D(real)) since the last adjustment
    double sign_count; // outputs summed
    int64_t steps;     // training steps since the last adjustment
} gan_ada_state;

// One adjustment as stylegan2-ada's training loop makes it: p + sign(r_t - target) * batch *
// interval / (kimg * 1000), clamped to [0, 1], for r_t the mean sign since the last one.
double gan_ada_adjust(const gan_aug_opts *o, double p, double r_t, int batch);
// After each training step: adds the step's signs and, every ada_interval steps, adjusts p.
void gan_ada_after_step(const gan_aug_opts *o, gan_ada_state *s, double sign_sum, double sign_count, int batch);
// sum(sign(out - centre)) of D's outputs (centre 0.5 for a sigmoid D, else 0), without a graph.
double gan_ada_sign_sum(ag_ctx *c, ag_tensor *out, float centre);
