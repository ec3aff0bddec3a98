// A trained generator, opened from a run directory or a checkpoint file for sampling: the run's
// config, its model family with the sampling generator loaded (DCGAN's G in eval mode,
// StyleGAN2's G_ema), on a backend, and the training data's native image size (the size to crop
// generated images back to). What `gan sample` and `gan eval` share.
#pragma once
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "ctx.h"
#include "error.h"
#include "family.h"
#include "fsutil.h"

typedef struct gan_generator {
    char ckpt[GAN_PATH_MAX];  // the checkpoint file
    gan_config cfg;           // the run's config (as stored in the checkpoint)
    const gan_family *family;
    gan_model *model;
    ag_backend *be;
    ag_ctx *c;
    int64_t step;             // training steps behind it
    int image_h, image_w;     // the data's native size (<= the model's resolution)
} gan_generator;

// Opens `path` (a run directory or a checkpoint file) on `device` (NULL: the device the run
// trained on). Nothing is left allocated on failure.
int gan_generator_open(const char *path, const char *device, gan_generator *g, gan_err *err);
void gan_generator_free(gan_generator *g);
// `n` images (C, R, R) in [-1, 1] from latents z (n, latent_dim) into out, through the family's
// generate with options o.
void gan_generator_images(gan_generator *g, const float *z, int n, const gan_sample_opts *o, float *out);
