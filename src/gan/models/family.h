// A model family: everything the trainer, checkpoints and `gan sample` need to know about one
// kind of GAN, behind one table of functions. family_dcgan.c and family_stylegan2.c implement
// it; the trainer, train_state.c and the commands only ever call through it.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "checkpoint.h"
#include "config.h"
#include "ctx.h"
#include "error.h"
#include "optim.h"
#include "params.h"
#include "rng.h"
#include "stats.h"

// How `gan sample` wants images made.
typedef struct gan_sample_opts {
    float psi;       // truncation toward the average latent (StyleGAN2); 1 = none
    int noise_mode;  // StyleGAN2 noise inputs: 0 const (the layer's stored noise), 1 random
    ag_rng *rng;     // random noise inputs, drawn in the order generate makes images
    // Random noise per image instead (gan eval): image k of a generate call takes the noise of
    // image noise_first + k of stream noise_seed (all its layers' noise one after the other), so
    // an image's noise does not depend on the batches it is made in. rng is then unused.
    bool noise_per_image;
    uint64_t noise_seed;
    int64_t noise_first;
    // Conditional models (model.num_classes K > 0): the class of each image generate makes (or
    // of each step interpolate makes), in [0, K); NULL: image i is of class i % K. A mixing grid
    // takes nrows + ncols: the row sources' classes, then the column sources'; NULL: row i of
    // class i % K, column j of class j % K. Unconditional models ignore it.
    const int32_t *labels;
} gan_sample_opts;

typedef struct gan_model gan_model;  // each family's own struct

typedef struct gan_family {
    const char *type;  // model.type
    // Real batches one training step consumes (DCGAN: one per D step).
    int (*batches_per_step)(const gan_config *cfg);
    // The generator's latent size (fixed noise, --z files).
    int (*latent_dim)(const gan_config *cfg);
    // Checks cfg for this family (a usage error naming the key when it cannot be built) and
    // builds the networks and optimizers with fresh weights drawn from init_rng.
    gan_model *(*create)(const gan_config *cfg, const ag_backend *be, ag_rng *init_rng, gan_err *err);
    void (*free)(gan_model *m);
    // One training iteration: `real` holds batches_per_step batches (host memory); every other
    // random input is drawn from rng, so a step is a function of the state and the rng.
    // labels: the real batches' classes (batches_per_step x batch) for a conditional model
    // (model.num_classes > 0), NULL otherwise; a conditional step draws its fake batches'
    // classes uniformly from rng, after every draw an unconditional step makes.
    void (*step)(gan_model *m, ag_ctx *c, int64_t iter, const float *real, const int32_t *labels, ag_rng *rng,
                 gan_stats *st);
    // The whole trained state (networks, buffers, optimizers, the family's scalars).
    int (*save)(const gan_model *m, gan_ckpt_writer *w, gan_err *err);
    int (*load)(gan_model *m, gan_ckpt_reader *r, gan_err *err);
    // The first value of the trained state (networks, buffers, optimizer moments, the family's
    // scalars) that is a NaN or an infinity, described in `what` ("/G main.1.running_var
    // element 3 = inf"); false when every value is finite. The trainer asks before each
    // checkpoint, so no checkpoint holds a diverged state.
    bool (*find_nonfinite)(const gan_model *m, char *what, size_t size);
    // Only what sampling uses (the generator, or G_ema).
    int (*load_generator)(gan_model *m, gan_ckpt_reader *r, gan_err *err);
    // z (n, latent_dim) -> images (n, C, R, R) in host memory, from the sampling generator in
    // its inference mode (DCGAN: batchnorm running statistics; StyleGAN2: G_ema).
    void (*generate)(gan_model *m, ag_ctx *c, const float *z, int n, const gan_sample_opts *o, float *out);
    // `steps` images from latent a to latent b (DCGAN: slerp in z; StyleGAN2: lerp in W).
    void (*interpolate)(gan_model *m, ag_ctx *c, const float *za, const float *zb, int steps,
                        const gan_sample_opts *o, float *out);
    // The generator's style (W) layers, the ones a mixing grid chooses from: `gan sample
    // --mix-layers LO:HI` takes [LO, HI) within them, by default the coarse half. NULL for
    // families without styles, as is mixing_grid: the two come together.
    int (*style_layers)(const gan_config *cfg);
    // A style-mixing grid: (1 + nrows) x (1 + ncols) images, the first row the column sources,
    // the first column the row sources, cell (i, j) row i's styles with layers [lo, hi) from
    // column j. NULL for families without styles.
    void (*mixing_grid)(gan_model *m, ag_ctx *c, const float *row_z, int nrows, const float *col_z, int ncols,
                        int lo, int hi, const gan_sample_opts *o, float *out);
    // Parameter counts and the like, one "name  value" line each, for `gan info`.
    void (*describe)(const gan_model *m, FILE *f);
    // Data parallelism (docs/distributed.md): makes m process `rank` of `size`. step still takes
    // the global batches (train.batch_size each) and draws the global batch's random inputs,
    // then trains on this process's rows of them (gan_shard_rows), so that `size` processes
    // compute what one would, up to the order of the gradients' sums. A usage error naming the
    // key when cfg cannot be split so.
    int (*shard)(gan_model *m, const gan_config *cfg, int rank, int size, gan_err *err);
    // The model's optimizers (at most max), for the trainer's gradient hooks.
    int (*optimizers)(gan_model *m, ag_adam **out, int max);
} gan_family;

// One part of a family's state for gan_state_find_nonfinite: a parameter set's values, or a
// block of its layout (an optimizer's moments) when `block` is set, named `group` in messages.
typedef struct gan_state_part {
    const char *group;  // "/G", "/optim/G exp_avg"
    const ag_params *ps;
    const ag_tensor *block;
} gan_state_part;
// find_nonfinite over the parts, in order.
bool gan_state_find_nonfinite(const gan_state_part *parts, int n, char *what, size_t size);

// n classes drawn uniformly from [0, K) (a conditional step's fake classes): one reservation of
// rng for n uniforms u in [0, 1) (u: room for n floats), class floor(u K).
void gan_draw_classes(int32_t *out, float *u, int64_t n, int K, ag_rng *rng);

// Process rank's rows of `batches` consecutive batches of `batch` rows (`row` elements of `elem`
// bytes each) from src into dst. Each batch is cut into `groups` equal groups of consecutive rows
// and each group into `size` chunks; process r takes chunk r of every group, in group order. With
// groups = 1 that is the r-th contiguous slice. StyleGAN2's minibatch standard deviation groups
// sample i with the samples i mod (batch / G) (as stylegan2-ada's reshape(G, -1)): with groups =
// G a process's local groups are exactly the global ones. batch must divide by groups x size.
void gan_shard_rows(void *dst, const void *src, size_t elem, int64_t row, int batches, int batch, int groups,
                    int rank, int size);
// The same for a per-iteration tensor whose first axis is the batch: a new tensor of c.
ag_tensor *gan_shard_tensor(ag_ctx *c, ag_tensor *t, int groups, int rank, int size);

// x summed over a data-parallel run's processes (the context's hook; x itself in one process),
// for host counts that steer every process alike, such as ADA's signs of D on reals. Integer
// counts up to 2^24 stay exact. Collective.
double gan_sum_over_processes(ag_ctx *c, double x);

// The optimizers of G and D into out (at most max): a family's `optimizers`. Returns how many.
int gan_two_optimizers(ag_adam **out, int max, ag_adam *g, ag_adam *d);

// The family of model.type, or NULL.
const gan_family *gan_family_find(const char *type);
