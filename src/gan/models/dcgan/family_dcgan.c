// The DCGAN family (family.h): the networks of dcgan.h, one Adam per network, the reference
// training iteration of dcgan_train.h. Checkpoint groups /G, /D, /optim/G, /optim/D.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "augment_run.h"
#include "dcgan.h"
#include "dcgan_train.h"
#include "family.h"
#include "gan_check.h"
#include "losses.h"
#include "ops.h"

struct gan_model {
    gan_dcgan_g *g;
    gan_dcgan_d *d;
    ag_adam *opt_g, *opt_d;
    gan_dcgan_step_opts opts;
    int batch;
    float *z;    // (d_steps, batch, nz) noise of one step
    float *eps;  // (d_steps, batch) WGAN-GP's interpolation weights of one step; NULL for other losses
    float *u;             // conditional: (d_steps, batch) uniform draws behind fake_labels; else NULL
    int32_t *fake_labels; // conditional: (d_steps, batch) classes of one step's fake batches
    gan_aug_opts aug;     // augmentation of D's inputs; mode off: none
    gan_ada_state ada;    // ADA's p and the signs since its last adjustment
    float *aug_params;    // with augmentation: (2 d_steps + 1) batches' parameters of one step
    // Data parallelism (shard): this process's rows of the step's global batches and draws.
    int rank, nproc, local;  // nproc 1: the whole batch (local = batch)
    float *z_l, *eps_l, *real_l, *aug_l;
    int32_t *fake_l, *labels_l;
};

static gan_loss_kind loss_of(const gan_config *cfg) {
    int k = gan_loss_from_name(cfg->train.loss);
    GAN_CHECK(k >= 0, "dcgan: train.loss '%s' passed the schema but is no loss", cfg->train.loss);
    return (gan_loss_kind)k;
}

static gan_dcgan_shape shape_of(const gan_config *cfg) {
    return (gan_dcgan_shape){.resolution = cfg->model.resolution, .nz = cfg->model.nz, .ngf = cfg->model.ngf,
                             .ndf = cfg->model.ndf, .nc = cfg->model.channels,
                             .d_no_bn = loss_of(cfg) == GAN_LOSS_WGAN_GP,
                             .spectral_norm = cfg->model.spectral_norm,
                             .num_classes = cfg->model.num_classes};
}

static int batches_per_step(const gan_config *cfg) { return cfg->train.d_steps; }
static int latent_dim(const gan_config *cfg) { return cfg->model.nz; }

static void dcgan_free(gan_model *m) {
    if (!m) return;
    gan_dcgan_g_free(m->g);
    gan_dcgan_d_free(m->d);
    ag_adam_free(m->opt_g);
    ag_adam_free(m->opt_d);
    free(m->z);
    free(m->eps);
    free(m->u);
    free(m->fake_labels);
    free(m->aug_params);
    free(m->z_l), free(m->eps_l), free(m->real_l), free(m->aug_l), free(m->fake_l), free(m->labels_l);
    free(m);
}

static gan_model *dcgan_create(const gan_config *cfg, const ag_backend *be, ag_rng *init_rng, gan_err *err) {
    if (cfg->model.resolution != 32 && cfg->model.resolution != 64) {
        gan_errf(err, GAN_EXIT_USAGE, "model.resolution: dcgan builds 32x32 or 64x64 networks, got %d",
                 cfg->model.resolution);
        return NULL;
    }
    gan_dcgan_shape s = shape_of(cfg);
    gan_model *m = gan_xcalloc(1, sizeof *m, "a dcgan model");
    m->g = gan_dcgan_g_create(be, s);
    m->d = gan_dcgan_d_create(be, s);
    gan_dcgan_g_init(m->g, init_rng);
    gan_dcgan_d_init(m->d, init_rng);
    const gan_train_config *t = &cfg->train;
    m->opt_g = ag_adam_create(m->g->params, (float)t->lr_g, (float)t->beta1, (float)t->beta2, 1e-8f, 0.0f);
    m->opt_d = ag_adam_create(m->d->params, (float)t->lr_d, (float)t->beta1, (float)t->beta2, 1e-8f, 0.0f);
    m->opts = (gan_dcgan_step_opts){.loss = loss_of(cfg), .label_smoothing = (float)t->label_smoothing,
                                    .d_steps = t->d_steps, .gp_lambda = (float)t->gp_lambda};
    m->batch = t->batch_size;
    m->nproc = 1, m->local = m->batch;
    m->z = gan_xmalloc((size_t)t->d_steps * t->batch_size * s.nz * sizeof(float), "a step's latents");
    if (m->opts.loss == GAN_LOSS_WGAN_GP)
        m->eps = gan_xmalloc((size_t)t->d_steps * t->batch_size * sizeof(float), "a step's interpolation weights");
    if (s.num_classes > 0) {
        m->u = gan_xmalloc((size_t)t->d_steps * t->batch_size * sizeof(float), "a step's class draws");
        m->fake_labels = gan_xmalloc((size_t)t->d_steps * t->batch_size * sizeof(int32_t), "a step's fake classes");
    }
    gan_aug_opts_from_config(cfg, &m->aug);
    if (m->aug.mode != GAN_AUG_OFF) {
        m->ada.p = cfg->augment.ada_p;
        m->aug_params = gan_xmalloc((size_t)(2 * t->d_steps + 1) * GAN_AUG_NPARAMS * t->batch_size * sizeof(float),
                                    "a step's augmentation parameters");
        m->opts.aug = &m->aug;
        m->opts.aug_params = m->aug_params;
    }
    return m;
}

static void dcgan_step(gan_model *m, ag_ctx *c, int64_t iter, const float *real, const int32_t *labels, ag_rng *rng,
                       gan_stats *st) {
    (void)iter;
    int64_t n = (int64_t)m->opts.d_steps * m->batch * m->g->shape.nz;
    ag_philox_fill_normal(m->z, n, rng->seed, ag_rng_reserve(rng, n), 0.0f, 1.0f);
    // Drawn after z and only for WGAN-GP, so every other loss keeps the stream it always had.
    if (m->eps) {
        int64_t ne = (int64_t)m->opts.d_steps * m->batch;
        ag_philox_fill_uniform(m->eps, ne, rng->seed, ag_rng_reserve(rng, ne), 0.0f, 1.0f);
    }
    // Conditional: the fake batches' classes, uniform over the K classes, drawn last of all.
    const int K = m->g->shape.num_classes;
    if (K > 0) gan_draw_classes(m->fake_labels, m->u, (int64_t)m->opts.d_steps * m->batch, K, rng);
    // Augmentation's parameters after every other draw, and only with augmentation, so that
    // runs without it keep their stream: per D step the real then the fake batch's, then the G
    // step's fakes.
    if (m->aug_params) {
        const gan_dcgan_shape sh = m->g->shape;
        for (int b = 0; b < 2 * m->opts.d_steps + 1; b++)
            gan_aug_draw(&m->aug, m->ada.p, m->batch, sh.nc, sh.resolution, sh.resolution, rng,
                         m->aug_params + (int64_t)b * GAN_AUG_NPARAMS * m->batch);
    }
    GAN_CHECK((K > 0) == (labels != NULL), "dcgan step: %d classes and %s real labels", K, labels ? "" : "no");
    const float *z = m->z, *eps = m->eps;
    const int32_t *fake_labels = m->fake_labels;
    if (m->nproc > 1) {  // this process's rows of everything drawn above, and of the real batches
        const gan_dcgan_shape sh = m->g->shape;
        const int ds = m->opts.d_steps, B = m->batch, r = m->rank, n = m->nproc;
        gan_shard_rows(m->z_l, m->z, sizeof(float), sh.nz, ds, B, 1, r, n);
        gan_shard_rows(m->real_l, real, sizeof(float), (int64_t)sh.nc * sh.resolution * sh.resolution, ds, B, 1, r, n);
        if (m->eps) gan_shard_rows(m->eps_l, m->eps, sizeof(float), 1, ds, B, 1, r, n);
        if (K > 0) {
            gan_shard_rows(m->fake_l, m->fake_labels, sizeof(int32_t), 1, ds, B, 1, r, n);
            gan_shard_rows(m->labels_l, labels, sizeof(int32_t), 1, ds, B, 1, r, n);
            labels = m->labels_l;
        }
        z = m->z_l, eps = m->eps ? m->eps_l : NULL, fake_labels = m->fake_l, real = m->real_l;
        // (each parameter of each augmented batch is a batch of 1-float rows)
        if (m->aug_l) gan_shard_rows(m->aug_l, m->aug_params, sizeof(float), 1, (2 * ds + 1) * GAN_AUG_NPARAMS, B, 1, r, n);
    }
    gan_dcgan_step_stats s;
    gan_dcgan_train_step_cond(c, m->g, m->d, m->opt_g, m->opt_d, &m->opts, m->local, real, labels, z,
                              K > 0 ? fake_labels : NULL, eps, &s);
    // ADA's p moves with the signs of the whole global batch, so that every process keeps one p.
    if (m->aug.mode == GAN_AUG_ADA) s.real_signs = gan_sum_over_processes(c, s.real_signs);
    *st = (gan_stats){.n = 5,
                      .names = {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"},
                      .values = {s.loss_d, s.loss_g, s.d_x, s.d_g_z1, s.d_g_z2}};
    if (m->eps) st->names[st->n] = "gp", st->values[st->n++] = s.gp;
    if (m->aug.mode == GAN_AUG_ADA) {  // p as this step used it, then its adjustment
        st->names[st->n] = "aug_p", st->values[st->n++] = (float)m->ada.p;
        gan_ada_after_step(&m->aug, &m->ada, s.real_signs, (double)m->opts.d_steps * m->batch, m->batch);
    }
}

static int dcgan_shard(gan_model *m, const gan_config *cfg, int rank, int size, gan_err *err) {
    const int B = m->batch, ds = m->opts.d_steps;
    if (B % size)
        return gan_errf(err, GAN_EXIT_USAGE, "train.batch_size: %d does not split over %d processes (it is the "
                        "global batch: give a multiple of %d)", B, size, size);
    const gan_dcgan_shape s = m->g->shape;
    m->rank = rank, m->nproc = size, m->local = B / size;
    const size_t rows = (size_t)ds * m->local;
    m->z_l = gan_xmalloc(rows * s.nz * sizeof(float), "a process's latents");
    m->real_l = gan_xmalloc(rows * s.nc * s.resolution * s.resolution * sizeof(float), "a process's real batches");
    if (m->eps) m->eps_l = gan_xmalloc(rows * sizeof(float), "a process's interpolation weights");
    if (s.num_classes > 0) {
        m->fake_l = gan_xmalloc(rows * sizeof(int32_t), "a process's fake classes");
        m->labels_l = gan_xmalloc(rows * sizeof(int32_t), "a process's real classes");
    }
    if (m->aug_params)
        m->aug_l = gan_xmalloc((size_t)(2 * ds + 1) * GAN_AUG_NPARAMS * m->local * sizeof(float),
                               "a process's augmentation parameters");
    if (m->aug_l) m->opts.aug_params = m->aug_l;
    (void)cfg;
    return 0;
}

static int dcgan_optimizers(gan_model *m, ag_adam **out, int max) {
    return gan_two_optimizers(out, max, m->opt_g, m->opt_d);
}

static int dcgan_save(const gan_model *m, gan_ckpt_writer *w, gan_err *err) {
    return gan_ckpt_write_module(w, "/G", (ag_params *[]){m->g->params, m->g->buffers}, 2, err) ||
                   gan_ckpt_write_module(w, "/D", (ag_params *[]){m->d->params, m->d->buffers}, 2, err) ||
                   gan_ckpt_write_adam(w, "/optim/G", m->opt_g, err) || gan_ckpt_write_adam(w, "/optim/D", m->opt_d, err) ||
                   gan_ada_save(&m->aug, &m->ada, w, err)
               ? -1
               : 0;
}

static bool dcgan_find_nonfinite(const gan_model *m, char *what, size_t size) {
    const gan_state_part parts[] = {
        {"/G", m->g->params, NULL}, {"/G", m->g->buffers, NULL}, {"/D", m->d->params, NULL},
        {"/D", m->d->buffers, NULL}, {"/optim/G exp_avg", m->g->params, m->opt_g->m},
        {"/optim/G exp_avg_sq", m->g->params, m->opt_g->v}, {"/optim/D exp_avg", m->d->params, m->opt_d->m},
        {"/optim/D exp_avg_sq", m->d->params, m->opt_d->v}};
    return gan_state_find_nonfinite(parts, sizeof parts / sizeof *parts, what, size);
}

static int dcgan_load_generator(gan_model *m, gan_ckpt_reader *r, gan_err *err) {
    return gan_ckpt_read_module(r, "/G", (ag_params *[]){m->g->params, m->g->buffers}, 2, err);
}

static int dcgan_load(gan_model *m, gan_ckpt_reader *r, gan_err *err) {
    return dcgan_load_generator(m, r, err) ||
                   gan_ckpt_read_module(r, "/D", (ag_params *[]){m->d->params, m->d->buffers}, 2, err) ||
                   gan_ckpt_read_adam(r, "/optim/G", m->opt_g, err) || gan_ckpt_read_adam(r, "/optim/D", m->opt_d, err) ||
                   gan_ada_load(&m->aug, &m->ada, r, err)
               ? -1
               : 0;
}

// Eval-mode batchnorm makes every image depend only on its own z, so any chunking gives the
// same images; chunks bound the memory of large requests.
static void dcgan_generate(gan_model *m, ag_ctx *c, const float *z, int n, const gan_sample_opts *o, float *out) {
    const gan_dcgan_shape s = m->g->shape;
    const int64_t per = (int64_t)s.nc * s.resolution * s.resolution;
    bool prev = ag_set_grad_enabled(c, false);
    int32_t cls[64];
    for (int i = 0; i < n; i += 64) {
        int k = n - i < 64 ? n - i : 64;
        ag_tensor *zt = ag_from_host(c, AG_SHAPE(k, s.nz, 1, 1), z + (int64_t)i * s.nz);
        ag_tensor *y = NULL;
        if (s.num_classes > 0) {  // the caller's classes, or cycling through them
            for (int j = 0; j < k; j++) cls[j] = o && o->labels ? o->labels[i + j] : (i + j) % s.num_classes;
            y = nn_one_hot(c, cls, k, s.num_classes);
        }
        ag_tensor_to_host(gan_dcgan_g_forward_cond(c, m->g, zt, y, false), out + i * per);
        ag_ctx_reset(c);
    }
    ag_set_grad_enabled(c, prev);
}

// Spherical interpolation, as for Gaussian latents (White, "Sampling Generative Networks").
static void slerp(const float *a, const float *b, int n, double t, float *out) {
    double na = 0, nb = 0, dot = 0;
    for (int i = 0; i < n; i++) na += (double)a[i] * a[i], nb += (double)b[i] * b[i], dot += (double)a[i] * b[i];
    double cosv = dot / (sqrt(na) * sqrt(nb) + 1e-30);
    double omega = acos(cosv > 1 ? 1 : cosv < -1 ? -1 : cosv), so = sin(omega);
    for (int i = 0; i < n; i++)
        out[i] = so < 1e-6 ? (float)((1 - t) * a[i] + t * b[i])  // (nearly) parallel: linear
                           : (float)((sin((1 - t) * omega) * a[i] + sin(t * omega) * b[i]) / so);
}

static void dcgan_interpolate(gan_model *m, ag_ctx *c, const float *za, const float *zb, int steps,
                              const gan_sample_opts *o, float *out) {
    int nz = m->g->shape.nz;
    float *z = gan_xmalloc((size_t)steps * nz * sizeof(float), "the interpolated latents");
    for (int k = 0; k < steps; k++) slerp(za, zb, nz, steps > 1 ? (double)k / (steps - 1) : 0.0, z + (int64_t)k * nz);
    dcgan_generate(m, c, z, steps, o, out);
    free(z);
}

static void dcgan_describe(const gan_model *m, FILE *f) {
    const gan_dcgan_shape s = m->g->shape;
    fprintf(f, "model       dcgan %dx%dx%d, nz %d, ngf %d, ndf %d\n", s.nc, s.resolution, s.resolution, s.nz,
            s.ngf, s.ndf);
    if (s.spectral_norm) fprintf(f, "variant     spectral normalisation of D's convolutions\n");
    if (s.num_classes > 0)
        fprintf(f, "variant     class-conditional over %d classes (conditional batchnorm in G, projection D)\n",
                s.num_classes);
    fprintf(f, "parameters  G %lld, D %lld\n", (long long)ag_params_numel(m->g->params),
            (long long)ag_params_numel(m->d->params));
}

const gan_family gan_family_dcgan = {
    .type = "dcgan",
    .batches_per_step = batches_per_step,
    .latent_dim = latent_dim,
    .create = dcgan_create,
    .free = dcgan_free,
    .step = dcgan_step,
    .shard = dcgan_shard,
    .optimizers = dcgan_optimizers,
    .save = dcgan_save,
    .find_nonfinite = dcgan_find_nonfinite,
    .load = dcgan_load,
    .load_generator = dcgan_load_generator,
    .generate = dcgan_generate,
    .interpolate = dcgan_interpolate,
    .style_layers = NULL,
    .mixing_grid = NULL,
    .describe = dcgan_describe,
};
