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

// Conditional grids: the class of each of n images laid out nrow to a row (0: square, as
// image_grid.h lays them out), one class per row: row r is class r % classes.
void gan_grid_row_labels(int n, int nrow, int classes, int32_t *labels);

// The latents of images [first, first + n) of seed's stream: image i takes draws
// [i*nz, (i+1)*nz) of N(0, 1), so these are the images `gan sample --seed` makes.
void gan_latents_of_seed(uint64_t seed, int64_t first, int n, int nz, float *z);

// Generated images for an evaluation (evaluate.h's gan_eval_images_fn): image i from latent i of
// `seed`'s stream through the sampling generator, cropped to (out_h, out_w) as `gan sample`
// crops them. Used by `gan eval` and by the trainer's periodic evaluation.
typedef struct gan_sample_source {
    const gan_family *family;
    gan_model *model;
    ag_ctx *c;
    const gan_config *cfg;
    uint64_t seed;
    gan_sample_opts opts;
    int out_h, out_w;
    // Conditional models: every image of class `klass` when one_class, else image i of class
    // i mod model.num_classes (balanced classes).
    bool one_class;
    int32_t klass;
} gan_sample_source;
int gan_sample_source_images(void *source, int64_t first, int count, float *images, gan_err *err);
// The sampling options of an evaluation (gan eval, eval.every): truncation psi, and with
// random_noise each image's own noise from a stream of its own beside the latents' (`seed`
// XOR "noise"), so a score does not depend on how its images are batched.
gan_sample_opts gan_eval_sample_opts(float psi, bool random_noise, uint64_t seed);
