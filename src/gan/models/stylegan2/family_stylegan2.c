// The StyleGAN2 family (family.h): stylegan2.h's networks and stylegan2_train.h's iteration.
// Checkpoint groups /G, /G_ema, /D (parameters and buffers), /optim/G, /optim/D, and the
// path-length mean as the root attribute pl_mean. Samples come from G_ema. model.num_classes > 0
// makes G and D class-conditional as stylegan2-ada's (stylegan2.h).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "augment_run.h"
#include "embedding.h"
#include "family.h"
#include "gan_check.h"
#include "losses.h"
#include "ops.h"
#include "stylegan2.h"
#include "stylegan2_sample.h"
#include "stylegan2_train.h"

struct gan_model {
    gan_sg2_model *m;
    gan_sg2_train_opts opts;
    gan_ada_state ada;  // ADA's p (copied into m->aug_p before each step) and its signs
    // Data parallelism (shard): process rank of nproc, its real rows, and its groups' count.
    int rank, nproc, groups;
    float *real_l;
    int32_t *labels_l;  // conditional: the real batches' classes of this process
    float *aug_l;       // with augmentation: this process's rows of an iteration's parameters
};

static gan_sg2_shape shape_of(const gan_config *cfg) {
    const gan_model_config *mc = &cfg->model;
    return (gan_sg2_shape){.resolution = mc->resolution, .img_channels = mc->channels, .z_dim = mc->z_dim,
                           .w_dim = mc->w_dim, .mapping_layers = mc->mapping_layers,
                           .mapping_lr_mul = (float)mc->mapping_lr_mul, .channel_base = mc->channel_base,
                           .channel_max = mc->channel_max, .mbstd_group_size = mc->mbstd_group_size,
                           .mbstd_channels = 1, .num_classes = mc->num_classes,
                           .d_mapping_layers = GAN_SG2_D_MAPPING_LAYERS};
}

static gan_sg2_train_opts opts_of(const gan_config *cfg) {
    const gan_stylegan2_config *s = &cfg->stylegan2;
    gan_sg2_train_opts o = gan_sg2_train_opts_default(cfg->train.batch_size);
    o.lr_g = (float)s->lr_g, o.lr_d = (float)s->lr_d, o.beta1 = (float)s->beta1, o.beta2 = (float)s->beta2;
    o.r1_gamma = (float)s->r1_gamma, o.r1_interval = s->r1_interval;
    o.pl_weight = (float)s->pl_weight, o.pl_interval = s->pl_interval, o.pl_batch_shrink = s->pl_batch_shrink;
    o.pl_decay = (float)s->pl_decay, o.mixing_prob = (float)s->mixing_prob;
    o.ema_kimg = (float)s->ema_kimg, o.ema_rampup = (float)s->ema_rampup;
    int loss = gan_loss_from_name(s->loss);
    GAN_CHECK(loss >= 0, "stylegan2: stylegan2.loss '%s' passed the schema but is no loss", s->loss);
    o.loss = (gan_loss_kind)loss, o.gp_lambda = (float)s->gp_lambda, o.d_steps = s->d_steps;
    gan_aug_opts_from_config(cfg, &o.aug);
    return o;
}

static int batches_per_step(const gan_config *cfg) { return cfg->stylegan2.d_steps; }
static int latent_dim(const gan_config *cfg) { return cfg->model.z_dim; }
static int style_layers(const gan_config *cfg) { return gan_sg2_num_ws(shape_of(cfg)); }

static void sg2_free(gan_model *m) {
    if (!m) return;
    gan_sg2_model_free(m->m);
    free(m->real_l);
    free(m->labels_l);
    free(m->aug_l);
    free(m);
}

static gan_model *sg2_create(const gan_config *cfg, const ag_backend *be, ag_rng *init_rng, gan_err *err) {
    gan_sg2_shape s = shape_of(cfg);
    gan_sg2_train_opts o = opts_of(cfg);
    char why[200];
    if (!gan_sg2_shape_valid(s, why, sizeof why)) {
        gan_errf(err, GAN_EXIT_USAGE, "model: a stylegan2 network with %s", why);
        return NULL;
    }
    if (!gan_sg2_train_opts_valid(&o, s, why, sizeof why)) {
        gan_errf(err, GAN_EXIT_USAGE, "train.batch_size / stylegan2: %s", why);
        return NULL;
    }
    gan_model *m = gan_xcalloc(1, sizeof *m, "a stylegan2 model");
    m->opts = o;
    m->m = gan_sg2_model_create(be, s, &o, init_rng);
    m->ada.p = o.aug.mode == GAN_AUG_ADA ? cfg->augment.ada_p : 0.0;
    return m;
}

// The latents' rows of this process (gan_shard_tensor, in `groups` groups), in c.
static void shard_latents(ag_ctx *c, const gan_model *m, int groups, gan_sg2_latents *lat) {
    if (lat->n == 0) return;
    lat->z = gan_shard_tensor(c, lat->z, groups, m->rank, m->nproc);
    if (lat->z2) lat->z2 = gan_shard_tensor(c, lat->z2, groups, m->rank, m->nproc);
    if (lat->c) lat->c = gan_shard_tensor(c, lat->c, groups, m->rank, m->nproc);  // one-hot classes
    for (int i = 0; i < GAN_SG2_MAX_LAYERS && lat->noise[i]; i++)
        lat->noise[i] = gan_shard_tensor(c, lat->noise[i], groups, m->rank, m->nproc);
    lat->n /= m->nproc;
}

// This process's rows of one D pass's augmentation parameters (each parameter a batch of 1-float
// rows, in D's groups as its images), taken from the room at *next; NULL stays NULL.
static const float *shard_aug(const gan_model *m, const float *all, float **next) {
    if (!all) return NULL;
    gan_shard_rows(*next, all, sizeof(float), 1, GAN_AUG_NPARAMS, m->opts.batch, m->groups, m->rank, m->nproc);
    const float *mine = *next;
    *next += (int64_t)GAN_AUG_NPARAMS * (m->opts.batch / m->nproc);
    return mine;
}

// One iteration as process rank of nproc: the global batch's draws (in the order one process
// makes them), this process's rows of them and of the real batches, and the iteration on those.
static void sharded_step(gan_model *m, ag_ctx *c, int64_t iter, const float *real, const int32_t *labels,
                         ag_rng *rng, gan_sg2_step_stats *s) {
    gan_sg2_model *sm = m->m;
    gan_sg2_draws d;
    gan_sg2_draw(sm->scratch, sm, &m->opts, iter, rng, &d);
    shard_latents(sm->scratch, m, m->groups, &d.gmain);
    // Path length's batch never meets D's minibatch-stddev groups: a contiguous slice.
    shard_latents(sm->scratch, m, 1, &d.greg);
    if (d.pl_noise) d.pl_noise = gan_shard_tensor(sm->scratch, d.pl_noise, 1, m->rank, m->nproc);
    d.classes_greg = NULL;
    for (int k = 0; k < m->opts.d_steps; k++) {
        shard_latents(sm->scratch, m, m->groups, &d.dmain[k]);
        if (d.gp_eps[k]) d.gp_eps[k] = gan_shard_tensor(sm->scratch, d.gp_eps[k], m->groups, m->rank, m->nproc);
    }
    const gan_sg2_shape sh = sm->g->shape;
    gan_shard_rows(m->real_l, real, sizeof(float), (int64_t)sh.img_channels * sh.resolution * sh.resolution,
                   m->opts.d_steps, m->opts.batch, m->groups, m->rank, m->nproc);
    if (labels)
        gan_shard_rows(m->labels_l, labels, sizeof(int32_t), 1, m->opts.d_steps, m->opts.batch, m->groups, m->rank,
                       m->nproc);
    if (m->aug_l) {
        float *next = m->aug_l;
        d.aug_gmain = shard_aug(m, d.aug_gmain, &next);
        for (int k = 0; k < m->opts.d_steps; k++) {
            d.aug_dfake[k] = shard_aug(m, d.aug_dfake[k], &next);
            d.aug_dreal[k] = shard_aug(m, d.aug_dreal[k], &next);
        }
        d.aug_dreg = shard_aug(m, d.aug_dreg, &next);
    }
    // (the draws' class arrays stay global: the step reads the one-hot tensors sharded above)
    d.classes_gmain = NULL;
    for (int k = 0; k < m->opts.d_steps; k++) d.classes_dmain[k] = NULL;
    gan_sg2_train_opts local = m->opts;
    local.batch /= m->nproc;
    local.processes = m->nproc;
    gan_sg2_train_step_with_cond(c, sm, &local, iter, m->real_l, labels ? m->labels_l : NULL, &d, s);
    ag_ctx_reset(sm->scratch);
    // ADA's p moves with the signs of the whole global batch, so that every process keeps one p.
    if (m->opts.aug.mode == GAN_AUG_ADA) {
        s->real_signs = gan_sum_over_processes(c, s->real_signs);
        s->real_count = gan_sum_over_processes(c, s->real_count);
    }
}

static void sg2_step(gan_model *m, ag_ctx *c, int64_t iter, const float *real, const int32_t *labels, ag_rng *rng,
                     gan_stats *st) {
    gan_sg2_step_stats s;
    m->m->aug_p = m->ada.p;
    if (m->nproc > 1)
        sharded_step(m, c, iter, real, labels, rng, &s);
    else
        gan_sg2_train_step_cond(c, m->m, &m->opts, iter, real, labels, rng, &s);
    *st = (gan_stats){.n = 7,
                      .names = {"loss_d", "loss_g", "scores_real", "scores_fake", "r1_penalty", "pl_penalty", "pl_mean"},
                      .values = {s.loss_d, s.loss_g, s.scores_real, s.scores_fake, s.ran_r1 ? s.r1_penalty : NAN,
                                 s.ran_pl ? s.pl_penalty : NAN, s.pl_mean}};
    // Only WGAN-GP has the penalty, so only its metrics carry the column.
    if (m->opts.loss == GAN_LOSS_WGAN_GP) st->names[st->n] = "gp", st->values[st->n++] = s.gp_penalty;
    if (m->opts.aug.mode == GAN_AUG_ADA) {  // p as this step used it, then its adjustment
        st->names[st->n] = "aug_p", st->values[st->n++] = (float)m->ada.p;
        gan_ada_after_step(&m->opts.aug, &m->ada, s.real_signs, s.real_count, m->opts.batch);
    }
}

static int sg2_shard(gan_model *m, const gan_config *cfg, int rank, int size, gan_err *err) {
    const int B = m->opts.batch, G = cfg->model.mbstd_group_size < B ? cfg->model.mbstd_group_size : B;
    if (B % (G * size))
        return gan_errf(err, GAN_EXIT_USAGE, "train.batch_size: %d does not split over %d processes in whole "
                        "minibatch-stddev groups of %d (model.mbstd_group_size): give a multiple of %d", B, size, G,
                        G * size);
    const int pl_n = B / m->opts.pl_batch_shrink;
    if (m->opts.pl_weight > 0 && pl_n % size)
        return gan_errf(err, GAN_EXIT_USAGE, "stylegan2.pl_batch_shrink: the path-length batch, %d / %d = %d, does "
                        "not split over %d processes", B, m->opts.pl_batch_shrink, pl_n, size);
    m->rank = rank, m->nproc = size, m->groups = G;
    const gan_sg2_shape sh = m->m->g->shape;
    m->real_l = gan_xmalloc((size_t)m->opts.d_steps * (B / size) * sh.img_channels * sh.resolution * sh.resolution *
                                sizeof(float), "a process's real batches");
    if (cfg->model.num_classes > 0)
        m->labels_l = gan_xmalloc((size_t)m->opts.d_steps * (B / size) * sizeof(int32_t), "a process's real classes");
    if (m->opts.aug.mode != GAN_AUG_OFF)  // room as the draws': 2 d_steps + 2 passes
        m->aug_l = gan_xmalloc((size_t)(2 * m->opts.d_steps + 2) * GAN_AUG_NPARAMS * (B / size) * sizeof(float),
                               "a process's augmentation parameters");
    return 0;
}

static int sg2_optimizers(gan_model *m, ag_adam **out, int max) {
    return gan_two_optimizers(out, max, m->m->opt_g, m->m->opt_d);
}

static int sg2_save(const gan_model *gm, gan_ckpt_writer *w, gan_err *err) {
    const gan_sg2_model *m = gm->m;
    return gan_ckpt_write_module(w, "/G", (ag_params *[]){m->g->params, m->g->buffers}, 2, err) ||
                   gan_ckpt_write_module(w, "/G_ema", (ag_params *[]){m->g_ema->params, m->g_ema->buffers}, 2, err) ||
                   gan_ckpt_write_module(w, "/D", (ag_params *[]){m->d->params, m->d->buffers}, 2, err) ||
                   gan_ckpt_write_adam(w, "/optim/G", m->opt_g, err) ||
                   gan_ckpt_write_adam(w, "/optim/D", m->opt_d, err) ||
                   gan_ckpt_set_attr_f64(w, "/", "pl_mean", m->pl_mean, err) ||
                   gan_ada_save(&gm->opts.aug, &gm->ada, w, err)
               ? -1
               : 0;
}

static bool sg2_find_nonfinite(const gan_model *gm, char *what, size_t size) {
    const gan_sg2_model *m = gm->m;
    const gan_state_part parts[] = {
        {"/G", m->g->params, NULL}, {"/G", m->g->buffers, NULL}, {"/G_ema", m->g_ema->params, NULL},
        {"/G_ema", m->g_ema->buffers, NULL}, {"/D", m->d->params, NULL}, {"/D", m->d->buffers, NULL},
        {"/optim/G exp_avg", m->g->params, m->opt_g->m}, {"/optim/G exp_avg_sq", m->g->params, m->opt_g->v},
        {"/optim/D exp_avg", m->d->params, m->opt_d->m}, {"/optim/D exp_avg_sq", m->d->params, m->opt_d->v}};
    if (gan_state_find_nonfinite(parts, sizeof parts / sizeof *parts, what, size)) return true;
    if (isfinite(m->pl_mean)) return false;
    snprintf(what, size, "/ pl_mean = %g", (double)m->pl_mean);
    return true;
}

static int read_net(gan_ckpt_reader *r, const char *group, ag_params *params, ag_params *buffers, gan_err *err) {
    return gan_ckpt_read_module(r, group, (ag_params *[]){params, buffers}, 2, err);
}

static int sg2_load_generator(gan_model *gm, gan_ckpt_reader *r, gan_err *err) {
    return read_net(r, "/G_ema", gm->m->g_ema->params, gm->m->g_ema->buffers, err);
}

static int sg2_load(gan_model *gm, gan_ckpt_reader *r, gan_err *err) {
    gan_sg2_model *m = gm->m;
    double pl_mean = 0;
    int bad = read_net(r, "/G", m->g->params, m->g->buffers, err) || sg2_load_generator(gm, r, err) ||
              read_net(r, "/D", m->d->params, m->d->buffers, err) ||
              gan_ckpt_read_adam(r, "/optim/G", m->opt_g, err) || gan_ckpt_read_adam(r, "/optim/D", m->opt_d, err) ||
              gan_ckpt_get_attr_f64(r, "/", "pl_mean", &pl_mean, err) ||
              gan_ada_load(&gm->opts.aug, &gm->ada, r, err);
    if (bad) return -1;
    m->pl_mean = (float)pl_mean;
    return 0;
}

static nn_noise_mode noise_mode(const gan_sample_opts *o) { return o->noise_mode ? NN_NOISE_RANDOM : NN_NOISE_CONST; }

// Without batchnorm every image depends only on its own inputs; chunks bound the memory.
#define CHUNK 32

// Conditional: one-hot classes of images [first, first + n): labels[first + i], or (first + i)
// mod K without labels (family.h). NULL for an unconditional generator.
static ag_tensor *classes_of(ag_ctx *c, const gan_sg2_g *g, const int32_t *labels, int first, int n) {
    const int K = g->shape.num_classes;
    if (K == 0) return NULL;
    int32_t cls[CHUNK];
    GAN_CHECK(n >= 1 && n <= CHUNK, "stylegan2 classes: %d at once", n);
    for (int i = 0; i < n; i++) cls[i] = labels ? labels[first + i] : (first + i) % K;
    return nn_one_hot(c, cls, n, K);
}

// Noise images of images [first, first + k) of o->noise_seed's stream (noise_per_image): each
// image's draws are its layers' noise in layer order, so image j starts at draw j * total.
static void noise_per_image(ag_ctx *c, const gan_sg2_g *g, const gan_sample_opts *o, int64_t first, int k,
                            ag_tensor **images) {
    int64_t total = 0, largest = 0;
    for (int l = 0; l < g->num_layers; l++) {
        const int64_t rr = (int64_t)gan_sg2_layer_res(g, l) * gan_sg2_layer_res(g, l);
        total += rr;
        if (rr > largest) largest = rr;
    }
    float *draws = gan_xmalloc((size_t)(k * total) * sizeof *draws, "noise images");
    float *layer = gan_xmalloc((size_t)(k * largest) * sizeof *layer, "a layer's noise images");
    ag_philox_normal_range(draws, first * total, k * total, o->noise_seed);
    int64_t at = 0;
    for (int l = 0; l < g->num_layers; l++) {
        const int r = gan_sg2_layer_res(g, l);
        for (int j = 0; j < k; j++) memcpy(layer + (int64_t)j * r * r, draws + j * total + at, (size_t)r * r * sizeof *layer);
        images[l] = ag_from_host(c, AG_SHAPE(k, 1, r, r), layer);
        at += (int64_t)r * r;
    }
    images[g->num_layers] = NULL;
    free(draws), free(layer);
}

static void sg2_generate(gan_model *gm, ag_ctx *c, const float *z, int n, const gan_sample_opts *o, float *out) {
    gan_sg2_g *g = gm->m->g_ema;
    const gan_sg2_shape s = g->shape;
    const int64_t per = (int64_t)s.img_channels * s.resolution * s.resolution;
    for (int i = 0; i < n; i += CHUNK) {
        int k = n - i < CHUNK ? n - i : CHUNK;
        ag_tensor *zt = ag_from_host(c, AG_SHAPE(k, s.z_dim), z + (int64_t)i * s.z_dim);
        ag_tensor *y = classes_of(c, g, o->labels, i, k);
        if (o->noise_mode && o->noise_per_image) {
            ag_tensor *noise[GAN_SG2_MAX_LAYERS + 1];
            noise_per_image(c, g, o, o->noise_first + i, k, noise);
            const bool prev = ag_set_grad_enabled(c, false);
            ag_tensor *ws = gan_sg2_sample_ws_cond(c, g, zt, y, o->psi);
            ag_tensor_to_host(gan_sg2_synthesis(c, g, ws, (gan_sg2_noise){.mode = NN_NOISE_RANDOM, .images = noise}),
                              out + i * per);
            ag_set_grad_enabled(c, prev);
        } else {
            ag_tensor_to_host(gan_sg2_sample_cond(c, g, zt, y, o->psi, noise_mode(o), o->rng), out + i * per);
        }
        ag_ctx_reset(c);
    }
}

// Interpolation in W (after truncation), where StyleGAN2's latent space is most linear. A
// conditional step k interpolates between the ends mapped with step k's class (labels[k], or
// k mod K), so a row of one class is a path within that class.
static void sg2_interpolate(gan_model *gm, ag_ctx *c, const float *za, const float *zb, int steps,
                            const gan_sample_opts *o, float *out) {
    gan_sg2_g *g = gm->m->g_ema;
    const gan_sg2_shape s = g->shape;
    const int64_t per = (int64_t)s.img_channels * s.resolution * s.resolution;
    ag_tensor *wa = NULL, *wb = NULL;
    for (int k = 0; k < steps; k++) {
        if (k == 0 || s.num_classes > 0) {  // the ends' ws, once, or under each step's class
            ag_tensor *y = classes_of(c, g, o->labels, k, 1);
            wa = gan_sg2_sample_ws_cond(c, g, ag_from_host(c, AG_SHAPE(1, s.z_dim), za), y, o->psi);
            wb = gan_sg2_sample_ws_cond(c, g, ag_from_host(c, AG_SHAPE(1, s.z_dim), zb), y, o->psi);
        }
        ag_tensor *ws = gan_sg2_lerp_ws(c, wa, wb, steps > 1 ? (float)k / (float)(steps - 1) : 0.0f);
        ag_tensor_to_host(gan_sg2_sample_images(c, g, ws, noise_mode(o), o->rng), out + k * per);
    }
    ag_ctx_reset(c);
}

// ws (1, num_ws, w_dim) of one latent of the mixing grid: source `index` (rows first, then
// columns) of class labels[index], or its row / column number mod K (family.h).
static ag_tensor *grid_ws(ag_ctx *c, gan_sg2_g *g, const float *z, const gan_sample_opts *o, int index, int nrows) {
    const gan_sg2_shape s = g->shape;
    ag_tensor *y = NULL;
    if (s.num_classes > 0) {
        int32_t k = o->labels ? o->labels[index] : (index < nrows ? index : index - nrows) % s.num_classes;
        y = nn_one_hot(c, &k, 1, s.num_classes);
    }
    return gan_sg2_sample_ws_cond(c, g, ag_from_host(c, AG_SHAPE(1, s.z_dim), z), y, o->psi);
}

static void sg2_mixing_grid(gan_model *gm, ag_ctx *c, const float *row_z, int nrows, const float *col_z, int ncols,
                            int lo, int hi, const gan_sample_opts *o, float *out) {
    gan_sg2_g *g = gm->m->g_ema;
    const gan_sg2_shape s = g->shape;
    const int64_t per = (int64_t)s.img_channels * s.resolution * s.resolution;
    const int cols = ncols + 1;
    for (int64_t i = 0; i < per; i++) out[i] = -1.0f;  // the empty corner: black
    for (int j = 0; j < ncols; j++) {
        ag_tensor *ws = grid_ws(c, g, col_z + (int64_t)j * s.z_dim, o, nrows + j, nrows);
        ag_tensor_to_host(gan_sg2_sample_images(c, g, ws, noise_mode(o), o->rng), out + (1 + j) * per);
        ag_ctx_reset(c);
    }
    for (int i = 0; i < nrows; i++) {
        ag_tensor *rw = grid_ws(c, g, row_z + (int64_t)i * s.z_dim, o, i, nrows);
        float *row = out + (int64_t)(1 + i) * cols * per;
        ag_tensor_to_host(gan_sg2_sample_images(c, g, rw, noise_mode(o), o->rng), row);
        for (int j = 0; j < ncols; j++) {
            ag_tensor *cw = grid_ws(c, g, col_z + (int64_t)j * s.z_dim, o, nrows + j, nrows);
            ag_tensor *mixed = gan_sg2_mix_ws(c, rw, cw, lo, hi);
            ag_tensor_to_host(gan_sg2_sample_images(c, g, mixed, noise_mode(o), o->rng), row + (1 + j) * per);
        }
        ag_ctx_reset(c);
    }
}

static void sg2_describe(const gan_model *gm, FILE *f) {
    const gan_sg2_model *m = gm->m;
    const gan_sg2_shape s = m->g->shape;
    fprintf(f, "model       stylegan2 %dx%dx%d, z_dim %d, w_dim %d, %d mapping layers, channels %d..%d\n",
            s.img_channels, s.resolution, s.resolution, s.z_dim, s.w_dim, s.mapping_layers,
            gan_sg2_channels(s, s.resolution), gan_sg2_channels(s, 4));
    if (s.num_classes > 0)
        fprintf(f, "variant     class-conditional over %d classes (label embedding in G's mapping; projection D, "
                "its label mapping %d layers)\n", s.num_classes, s.d_mapping_layers);
    fprintf(f, "parameters  G %lld (G_ema the same), D %lld\n", (long long)ag_params_numel(m->g->params),
            (long long)ag_params_numel(m->d->params));
}

const gan_family gan_family_stylegan2 = {
    .type = "stylegan2",
    .batches_per_step = batches_per_step,
    .latent_dim = latent_dim,
    .create = sg2_create,
    .free = sg2_free,
    .step = sg2_step,
    .shard = sg2_shard,
    .optimizers = sg2_optimizers,
    .save = sg2_save,
    .find_nonfinite = sg2_find_nonfinite,
    .load = sg2_load,
    .load_generator = sg2_load_generator,
    .generate = sg2_generate,
    .interpolate = sg2_interpolate,
    .style_layers = style_layers,
    .mixing_grid = sg2_mixing_grid,
    .describe = sg2_describe,
};
