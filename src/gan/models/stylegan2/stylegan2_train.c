#include "stylegan2_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "autograd.h"
#include "embedding.h"
#include "family.h"
#include "gan_check.h"

gan_sg2_train_opts gan_sg2_train_opts_default(int batch) {
    // The 'stylegan2' configuration of the official train.py (config F of the paper).
    return (gan_sg2_train_opts){.batch = batch, .lr_g = 0.002f, .lr_d = 0.002f, .beta1 = 0.0f, .beta2 = 0.99f,
                                .eps = 1e-8f, .r1_gamma = 10.0f, .r1_interval = 16, .pl_weight = 2.0f,
                                .pl_interval = 4, .pl_batch_shrink = 2, .pl_decay = 0.01f, .mixing_prob = 0.9f,
                                .ema_kimg = 10.0f, .ema_rampup = 0.0f, .loss = GAN_LOSS_LOGISTIC,
                                .gp_lambda = 10.0f, .d_steps = 1};
}

bool gan_sg2_train_opts_valid(const gan_sg2_train_opts *o, gan_sg2_shape s, char *why, int why_size) {
    const size_t n = (size_t)why_size;
    if (o->batch < 1) return snprintf(why, n, "batch %d (expected >= 1)", o->batch), false;
    int group = s.mbstd_group_size < o->batch ? s.mbstd_group_size : o->batch;
    if (s.mbstd_channels > 0 && o->batch % group)
        return snprintf(why, n, "batch %d is not a multiple of the minibatch-stddev group size %d", o->batch, group),
               false;
    if (!(o->lr_g > 0) || !(o->lr_d > 0) || !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) ||
        !(o->eps > 0))
        return snprintf(why, n, "lr %g/%g, betas (%g, %g), eps %g (expected lr > 0, betas in [0, 1), eps > 0)",
                        (double)o->lr_g, (double)o->lr_d, (double)o->beta1, (double)o->beta2, (double)o->eps), false;
    if (!(o->r1_gamma >= 0) || o->r1_interval < 1)
        return snprintf(why, n, "r1_gamma %g, r1_interval %d (expected gamma >= 0, interval >= 1)", (double)o->r1_gamma,
                        o->r1_interval), false;
    if (!(o->pl_weight >= 0) || o->pl_interval < 1 || o->pl_batch_shrink < 1 || !(o->pl_decay >= 0 && o->pl_decay <= 1))
        return snprintf(why, n, "pl_weight %g, pl_interval %d, pl_batch_shrink %d, pl_decay %g (expected weight >= 0, "
                        "interval >= 1, shrink >= 1, decay in [0, 1])", (double)o->pl_weight, o->pl_interval,
                        o->pl_batch_shrink, (double)o->pl_decay), false;
    if (o->pl_weight > 0 && o->batch / o->pl_batch_shrink < 1)
        return snprintf(why, n, "batch %d / pl_batch_shrink %d leaves no sample for path-length regularisation",
                        o->batch, o->pl_batch_shrink), false;
    if (!(o->mixing_prob >= 0 && o->mixing_prob <= 1))
        return snprintf(why, n, "mixing_prob %g (expected 0 to 1)", (double)o->mixing_prob), false;
    if (o->loss != GAN_LOSS_LOGISTIC && o->loss != GAN_LOSS_HINGE && o->loss != GAN_LOSS_LSGAN &&
        o->loss != GAN_LOSS_WGAN_GP)
        return snprintf(why, n, "loss %s (expected logistic, hinge, lsgan or wgan-gp)", gan_loss_name(o->loss)), false;
    if (o->d_steps < 1 || o->d_steps > GAN_SG2_MAX_D_STEPS || !(o->gp_lambda >= 0))
        return snprintf(why, n, "d_steps %d, gp_lambda %g (expected d_steps in [1, %d], gp_lambda >= 0)", o->d_steps,
                        (double)o->gp_lambda, GAN_SG2_MAX_D_STEPS), false;
    if (!(o->ema_kimg >= 0) || !(o->ema_rampup >= 0))
        return snprintf(why, n, "ema_kimg %g, ema_rampup %g (expected >= 0)", (double)o->ema_kimg,
                        (double)o->ema_rampup), false;
    return true;
}

ag_adam *gan_sg2_adam_create(ag_params *ps, float lr, float beta1, float beta2, float eps, int interval) {
    if (interval > 0) {
        double r = (double)interval / (interval + 1);
        lr = (float)(lr * r);
        beta1 = (float)pow(beta1, r);
        beta2 = (float)pow(beta2, r);
    }
    return ag_adam_create(ps, lr, beta1, beta2, eps, 0.0f);
}

gan_sg2_model *gan_sg2_model_create(const ag_backend *be, gan_sg2_shape s, const gan_sg2_train_opts *o,
                                    ag_rng *init_rng) {
    char why[200];
    GAN_CHECK(gan_sg2_train_opts_valid(o, s, why, sizeof why), "stylegan2 model: %s", why);
    gan_sg2_model *m = gan_xcalloc(1, sizeof *m, "a stylegan2 model");
    m->g = gan_sg2_g_create(be, s);
    m->g_ema = gan_sg2_g_create(be, s);
    m->d = gan_sg2_d_create(be, s);
    gan_sg2_g_init(m->g, init_rng);
    gan_sg2_d_init(m->d, init_rng);
    ag_params_copy(m->g_ema->params, m->g->params);
    ag_params_copy(m->g_ema->buffers, m->g->buffers);
    m->opt_g = gan_sg2_adam_create(m->g->params, o->lr_g, o->beta1, o->beta2, o->eps,
                                   o->pl_weight > 0 ? o->pl_interval : 0);
    m->opt_d = gan_sg2_adam_create(m->d->params, o->lr_d, o->beta1, o->beta2, o->eps,
                                   o->r1_gamma > 0 ? o->r1_interval : 0);
    m->scratch = ag_ctx_create(be);
    if (o->aug.mode != GAN_AUG_OFF)
        m->aug_buf = gan_xmalloc((size_t)(2 * o->d_steps + 2) * GAN_AUG_NPARAMS * o->batch * sizeof(float),
                                 "an iteration's augmentation parameters");
    if (s.num_classes > 0) {  // Gmain's, Greg's and every Dmain's fakes
        size_t n = (size_t)o->batch * (1 + o->d_steps) + (size_t)(o->batch / o->pl_batch_shrink);
        m->class_u = gan_xmalloc(n * sizeof *m->class_u, "an iteration's class draws");
        m->class_buf = gan_xmalloc(n * sizeof *m->class_buf, "an iteration's fake classes");
    }
    return m;
}

void gan_sg2_model_free(gan_sg2_model *m) {
    if (!m) return;
    ag_adam_free(m->opt_g);
    ag_adam_free(m->opt_d);
    gan_sg2_g_free(m->g);
    gan_sg2_g_free(m->g_ema);
    gan_sg2_d_free(m->d);
    ag_ctx_free(m->scratch);
    free(m->aug_buf);
    free(m->class_u);
    free(m->class_buf);
    free(m);
}

bool gan_sg2_runs_pl(const gan_sg2_train_opts *o, int64_t iter) {
    return o->pl_weight > 0 && iter % o->pl_interval == 0;
}

bool gan_sg2_runs_r1(const gan_sg2_train_opts *o, int64_t iter) {
    return o->r1_gamma > 0 && iter % o->r1_interval == 0;
}

// --- random inputs --------------------------------------------------------------------------------

static void draw_latents(ag_ctx *c, const gan_sg2_g *g, const gan_sg2_train_opts *o, int n, ag_rng *rng,
                         gan_sg2_latents *lat) {
    *lat = (gan_sg2_latents){.n = n, .cutoff = g->num_ws};
    lat->z = ag_normal(c, rng, AG_SHAPE(n, g->shape.z_dim), 0.0f, 1.0f);
    if (ag_rng_uniform01(rng) < o->mixing_prob) {
        lat->cutoff = 1 + (int)ag_rng_below(rng, (uint32_t)(g->num_ws - 1));
        lat->z2 = ag_normal(c, rng, AG_SHAPE(n, g->shape.z_dim), 0.0f, 1.0f);
    }
    for (int i = 0; i < g->num_layers; i++) {
        int r = gan_sg2_layer_res(g, i);
        lat->noise[i] = ag_normal(c, rng, AG_SHAPE(n, 1, r, r), 0.0f, 1.0f);
    }
}

void gan_sg2_draw(ag_ctx *c, const gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter, ag_rng *rng,
                  gan_sg2_draws *out) {
    *out = (gan_sg2_draws){0};
    const gan_sg2_shape s = m->g->shape;
    const int pl_n = o->batch / o->pl_batch_shrink;
    draw_latents(c, m->g, o, o->batch, rng, &out->gmain);
    if (gan_sg2_runs_pl(o, iter)) draw_latents(c, m->g, o, pl_n, rng, &out->greg);
    for (int k = 0; k < o->d_steps; k++) {
        draw_latents(c, m->g, o, o->batch, rng, &out->dmain[k]);
        if (o->loss == GAN_LOSS_WGAN_GP) out->gp_eps[k] = ag_uniform(c, rng, AG_SHAPE(o->batch, 1, 1, 1), 0.0f, 1.0f);
    }
    if (gan_sg2_runs_pl(o, iter))
        out->pl_noise = ag_normal(c, rng, AG_SHAPE(pl_n, s.img_channels, s.resolution, s.resolution), 0.0f, 1.0f);
    // Conditional: the fake classes, uniform over the K classes, after every unconditional draw
    // (as DCGAN's), in one block of uniforms: Gmain's, Greg's, then each Dmain's.
    const int K = s.num_classes;
    if (K > 0) {
        gan_sg2_latents *lats[2 + GAN_SG2_MAX_D_STEPS];
        const int32_t **dst[2 + GAN_SG2_MAX_D_STEPS];
        int nl = 0;
        lats[nl] = &out->gmain, dst[nl++] = &out->classes_gmain;
        if (gan_sg2_runs_pl(o, iter)) lats[nl] = &out->greg, dst[nl++] = &out->classes_greg;
        for (int k = 0; k < o->d_steps; k++) lats[nl] = &out->dmain[k], dst[nl++] = &out->classes_dmain[k];
        int64_t total = 0;
        for (int i = 0; i < nl; i++) total += lats[i]->n;
        gan_draw_classes(m->class_buf, m->class_u, total, K, rng);
        int32_t *next = m->class_buf;
        for (int i = 0; i < nl; i++) {
            lats[i]->c = nn_one_hot(c, next, lats[i]->n, K);
            *dst[i] = next;
            next += lats[i]->n;
        }
    }
    // Augmentation last, and only with it, so that runs without keep their stream.
    if (o->aug.mode != GAN_AUG_OFF) {
        const int64_t per = (int64_t)GAN_AUG_NPARAMS * o->batch;
        float *next = m->aug_buf;
#define AUG_DRAW(dst)                                                                                      \
    do {                                                                                                   \
        gan_aug_draw(&o->aug, m->aug_p, o->batch, s.img_channels, s.resolution, s.resolution, rng, next); \
        (dst) = next;                                                                                      \
        next += per;                                                                                       \
    } while (0)
        AUG_DRAW(out->aug_gmain);
        for (int k = 0; k < o->d_steps; k++) {
            AUG_DRAW(out->aug_dfake[k]);
            AUG_DRAW(out->aug_dreal[k]);
        }
        if (gan_sg2_runs_r1(o, iter)) AUG_DRAW(out->aug_dreg);
#undef AUG_DRAW
    }
}

// D's input augmented with one pass's parameters, or x itself without augmentation.
static ag_tensor *augment(ag_ctx *c, const gan_aug_opts *aug, ag_tensor *x, const float *params) {
    return aug && aug->mode != GAN_AUG_OFF ? gan_aug_apply(c, aug, x, params) : x;
}

// --- losses -----------------------------------------------------------------------------------------

ag_tensor *gan_sg2_mixed_ws(ag_ctx *c, gan_sg2_g *g, const gan_sg2_latents *lat, bool update_w_avg) {
    ag_tensor *ws = gan_sg2_broadcast(c, g, gan_sg2_mapping_cond(c, g, lat->z, lat->c, update_w_avg), 1.0f);
    if (lat->cutoff >= g->num_ws) return ws;
    GAN_CHECK(lat->cutoff >= 1 && lat->z2, "stylegan2 mixing: cutoff %d of %d needs z2", lat->cutoff, g->num_ws);
    ag_tensor *ws2 = gan_sg2_broadcast(c, g, gan_sg2_mapping_cond(c, g, lat->z2, lat->c, false), 1.0f);
    ag_tensor *parts[2] = {ag_narrow(c, ws, 1, 0, lat->cutoff),
                           ag_narrow(c, ws2, 1, lat->cutoff, g->num_ws - lat->cutoff)};
    return ag_concat(c, 2, parts, 1);
}

static ag_tensor *sum_per_sample(ag_ctx *c, ag_tensor *x) {  // (N, ...) -> (N)
    ag_tensor *flat = ag_reshape(c, x, AG_SHAPE(x->shape.d[0], -1));
    return ag_sum_axes(c, flat, 1, (const int[]){1}, false);
}

ag_tensor *gan_sg2_r1_penalty(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, ag_tensor **logits) {
    return gan_sg2_r1_penalty_aug(c, d, real, NULL, NULL, logits);
}

ag_tensor *gan_sg2_r1_penalty_aug(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, const gan_aug_opts *aug,
                                  const float *aug_params, ag_tensor **logits) {
    return gan_sg2_r1_penalty_cond(c, d, real, NULL, aug, aug_params, logits);
}

ag_tensor *gan_sg2_r1_penalty_cond(ag_ctx *c, gan_sg2_d *d, ag_tensor *real, ag_tensor *y, const gan_aug_opts *aug,
                                   const float *aug_params, ag_tensor **logits) {
    GAN_CHECK(!real->node, "stylegan2 r1: the real batch must carry no history");
    ag_tensor *x = ag_requires_grad(ag_detach(c, real), true);
    ag_tensor *out = gan_sg2_d_forward_cond(c, d, augment(c, aug, x, aug_params), y);
    ag_tensor *total = ag_sum(c, out), *g;
    ag_grad(c, 1, &total, NULL, 1, &x, true, &g);
    if (logits) *logits = out;
    return sum_per_sample(c, ag_square(c, g));
}

ag_tensor *gan_sg2_pl_penalty(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, ag_tensor *pl_noise, gan_sg2_noise noise,
                              float *pl_mean, float decay, ag_tensor **lengths) {
    ag_tensor *img = gan_sg2_synthesis(c, g, ws, noise);
    GAN_CHECK(ag_shape_equal(pl_noise->shape, img->shape), "stylegan2 path length: noise %s for images %s",
              AG_SHAPE_STR(pl_noise->shape), AG_SHAPE_STR(img->shape));
    float scale = (float)(1.0 / sqrt((double)img->shape.d[2] * img->shape.d[3]));
    ag_tensor *y = ag_scale(c, pl_noise, scale);
    ag_tensor *out = ag_sum(c, ag_mul(c, img, y)), *gw;
    ag_grad(c, 1, &out, NULL, 1, &ws, true, &gw);
    ag_tensor *len = ag_sum_axes(c, ag_square(c, gw), 1, (const int[]){2}, false);  // (N, num_ws)
    len = ag_sqrt(c, ag_mean_axes(c, len, 1, (const int[]){1}, false));           // (N)
    // The lengths' mean over the whole batch: in a data-parallel run over every process's share
    // (ag_allreduce_sum carries the penalty's gradient through the mean to every process).
    ag_tensor *mean = ag_ctx_processes(c) > 1
                          ? ag_scale(c, ag_allreduce_sum(c, ag_sum(c, len)),
                                     (float)(1.0 / ((double)len->numel * ag_ctx_processes(c))))
                          : ag_mean(c, len);
    // torch.lerp(a, mean, decay) with decay < 0.5: a + decay (mean - a), keeping mean's graph.
    ag_tensor *a = ag_add_scalar(c, ag_scale(c, ag_add_scalar(c, mean, -*pl_mean), decay), *pl_mean);
    *pl_mean = ag_item(a);
    if (lengths) *lengths = len;
    return ag_square(c, ag_sub(c, len, a));
}

// --- the iteration ----------------------------------------------------------------------------------

static void train_g(gan_sg2_model *m) {
    ag_params_set_requires_grad(m->g->params, true);
    ag_params_set_requires_grad(m->d->params, false);
    ag_params_zero_grad(m->g->params);
}

static void train_d(gan_sg2_model *m) {
    ag_params_set_requires_grad(m->g->params, false);
    ag_params_set_requires_grad(m->d->params, true);
    ag_params_zero_grad(m->d->params);
}

static gan_sg2_noise noise_of(const gan_sg2_latents *lat) {
    return (gan_sg2_noise){.mode = NN_NOISE_RANDOM, .images = lat->noise};
}

// D and the labels of the batch it judges, for the gradient penalty's critic.
typedef struct critic_args {
    gan_sg2_d *d;
    ag_tensor *y;  // one-hot classes, NULL when unconditional
} critic_args;

static ag_tensor *critic(ag_ctx *c, void *a, ag_tensor *x) {
    const critic_args *ca = a;
    return gan_sg2_d_forward_cond(c, ca->d, x, ca->y);
}

// One-hot classes of real batch k, or NULL when unconditional.
static ag_tensor *real_classes(ag_ctx *c, const int32_t *labels, int k, int batch, int classes) {
    return labels ? nn_one_hot(c, labels + (int64_t)k * batch, batch, classes) : NULL;
}

// Gmain's loss on D's judgement of x (gan_backward_through_frozen_d's loss_fn).
typedef struct gmain_args {
    gan_sg2_d *d;
    ag_tensor *y;  // one-hot classes of the fakes, NULL when unconditional
    gan_loss_kind loss;
} gmain_args;

static ag_tensor *gmain_loss(ag_ctx *c, void *arg, ag_tensor *x) {
    const gmain_args *a = arg;
    return gan_loss_g(c, a->loss, gan_sg2_d_forward_cond(c, a->d, x, a->y));
}

static float mean_value(ag_ctx *c, ag_tensor *x) {
    bool prev = ag_set_grad_enabled(c, false);
    float v = ag_item(ag_mean(c, x));
    ag_set_grad_enabled(c, prev);
    return v;
}

void gan_sg2_train_step_with(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                             const float *real, const gan_sg2_draws *draws, gan_sg2_step_stats *st) {
    gan_sg2_train_step_with_cond(c, m, o, iter, real, NULL, draws, st);
}

void gan_sg2_train_step_with_cond(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                                  const float *real, const int32_t *real_labels, const gan_sg2_draws *draws,
                                  gan_sg2_step_stats *st) {
    gan_sg2_g *g = m->g;
    gan_sg2_d *d = m->d;
    const gan_sg2_shape s = g->shape;
    const int B = o->batch, R = s.resolution, K = s.num_classes;
    GAN_CHECK((K > 0) == (real_labels != NULL) && (K > 0) == (draws->gmain.c != NULL),
              "stylegan2 step: %d classes with%s real labels and with%s fake classes", K, real_labels ? "" : "out",
              draws->gmain.c ? "" : "out");
    *st = (gan_sg2_step_stats){.pl_penalty = NAN, .r1_penalty = NAN, .gp_penalty = NAN};

    // Gmain
    train_g(m);
    {
        ag_tensor *img = gan_sg2_synthesis(c, g, gan_sg2_mixed_ws(c, g, &draws->gmain, true), noise_of(&draws->gmain));
        img = augment(c, &o->aug, img, draws->aug_gmain);
        gmain_args ga = {d, draws->gmain.c, o->loss};
        st->loss_g = gan_backward_through_frozen_d(c, img, gmain_loss, &ga);
        ag_adam_step(m->opt_g);
        ag_ctx_reset(c);
    }

    // Greg
    if (gan_sg2_runs_pl(o, iter)) {
        ag_params_zero_grad(g->params);
        ag_tensor *ws = gan_sg2_mixed_ws(c, g, &draws->greg, true);
        ag_tensor *pen = gan_sg2_pl_penalty(c, g, ws, draws->pl_noise, noise_of(&draws->greg), &m->pl_mean,
                                            o->pl_decay, NULL);
        ag_tensor *loss = ag_scale(c, ag_mean(c, ag_scale(c, pen, o->pl_weight)), (float)o->pl_interval);
        ag_backward(c, loss);
        ag_adam_step(m->opt_g);
        st->ran_pl = true;
        st->pl_penalty = mean_value(c, pen);
        ag_ctx_reset(c);
    }

    // Dmain, d_steps times: G runs without a graph (its parameters are frozen and z needs no
    // gradient), so its images carry no history, as the penalty's interpolates need.
    train_d(m);
    const int64_t real_size = (int64_t)B * s.img_channels * R * R;
    for (int k = 0; k < o->d_steps; k++) {
        if (k > 0) ag_params_zero_grad(d->params);
        const gan_sg2_latents *lat = &draws->dmain[k];
        // Only G's images outlive its pass: they are copied below a mark and the pass's
        // activations given back, so the arena's peak is one network's pass, not two (at 256x256
        // G's activations are most of the phase).
        ag_tensor *img = ag_new(c, AG_SHAPE(B, s.img_channels, R, R));
        const ag_ctx_mark before_g = ag_ctx_mark_now(c);
        bool prev = ag_set_grad_enabled(c, false);
        ag_tensor_copy(img, gan_sg2_synthesis(c, g, gan_sg2_mixed_ws(c, g, lat, true), noise_of(lat)));
        ag_set_grad_enabled(c, prev);
        ag_ctx_release(c, before_g);
        img = augment(c, &o->aug, img, draws->aug_dfake[k]);  // the penalty's interpolates too
        // D's pass on the fakes is given back once its gradient is in D's parameters and its
        // numbers are read, before the pass on the reals (as the DCGAN step does).
        const ag_ctx_mark before_fake = ag_ctx_mark_now(c);
        ag_tensor *fake = gan_sg2_d_forward_cond(c, d, img, lat->c);
        ag_tensor *loss_fake = gan_loss_d_fake(c, o->loss, fake);
        ag_backward(c, loss_fake);
        st->loss_d = ag_item(loss_fake);
        st->scores_fake = mean_value(c, fake);
        ag_ctx_release(c, before_fake);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(B, s.img_channels, R, R), real + k * real_size);
        x = augment(c, &o->aug, x, draws->aug_dreal[k]);
        ag_tensor *y_real = real_classes(c, real_labels, k, B, K);
        ag_tensor *logits = gan_sg2_d_forward_cond(c, d, x, y_real);
        if (o->aug.mode != GAN_AUG_OFF) st->real_signs += gan_ada_sign_sum(c, logits, 0.0f), st->real_count += B;
        ag_tensor *loss_real = gan_loss_d_real(c, o->loss, logits, 1.0f);
        ag_backward(c, loss_real);
        st->loss_d += ag_item(loss_real);
        if (o->loss == GAN_LOSS_WGAN_GP) {
            GAN_CHECK(draws->gp_eps[k], "stylegan2 Dmain %d: wgan-gp without interpolation weights", k);
            // Conditional: the interpolates are judged with the real batch's labels (as DCGAN's).
            critic_args ca = {d, y_real};
            ag_tensor *pen = gan_loss_gradient_penalty(c, critic, &ca, x, img, draws->gp_eps[k], NULL);
            ag_tensor *loss_gp = ag_scale(c, ag_mean(c, pen), o->gp_lambda);
            ag_backward(c, loss_gp);
            st->loss_d += ag_item(loss_gp);
            st->gp_penalty = mean_value(c, pen);
        }
        ag_adam_step(m->opt_d);
        st->scores_real = mean_value(c, logits);
        ag_ctx_reset(c);
    }

    // Dreg, on the last Dmain's real batch
    if (gan_sg2_runs_r1(o, iter)) {
        ag_params_zero_grad(d->params);
        ag_tensor *x = ag_from_host(c, AG_SHAPE(B, s.img_channels, R, R), real + (o->d_steps - 1) * real_size);
        ag_tensor *r1_logits;
        ag_tensor *pen = gan_sg2_r1_penalty_cond(c, d, x, real_classes(c, real_labels, o->d_steps - 1, B, K), &o->aug,
                                                 draws->aug_dreg, &r1_logits);
        // stylegan2-ada's loss.py reports the Dreg pass's signs on reals too.
        if (o->aug.mode != GAN_AUG_OFF) st->real_signs += gan_ada_sign_sum(c, r1_logits, 0.0f), st->real_count += B;
        ag_tensor *loss = ag_scale(c, ag_mean(c, ag_scale(c, pen, o->r1_gamma / 2)), (float)o->r1_interval);
        ag_backward(c, loss);
        ag_adam_step(m->opt_d);
        st->ran_r1 = true;
        st->r1_penalty = mean_value(c, pen);
        ag_ctx_reset(c);
    }
    ag_params_set_requires_grad(g->params, true);

    // G_ema
    const double global_batch = (double)B * (o->processes > 1 ? o->processes : 1);
    double ema_nimg = o->ema_kimg * 1000.0;
    if (o->ema_rampup > 0) ema_nimg = fmin(ema_nimg, (double)iter * global_batch * o->ema_rampup);
    double beta = pow(0.5, global_batch / fmax(ema_nimg, 1e-8));
    ag_params_lerp(m->g_ema->params, g->params, (float)beta);
    ag_params_copy(m->g_ema->buffers, g->buffers);
    st->ema_beta = (float)beta;
    st->pl_mean = m->pl_mean;
}

void gan_sg2_train_step(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter, const float *real,
                        ag_rng *rng, gan_sg2_step_stats *stats) {
    gan_sg2_draws draws;
    gan_sg2_draw(m->scratch, m, o, iter, rng, &draws);
    gan_sg2_train_step_with(c, m, o, iter, real, &draws, stats);
    ag_ctx_reset(m->scratch);
}

void gan_sg2_train_step_cond(ag_ctx *c, gan_sg2_model *m, const gan_sg2_train_opts *o, int64_t iter,
                             const float *real, const int32_t *real_labels, ag_rng *rng, gan_sg2_step_stats *stats) {
    gan_sg2_draws draws;
    gan_sg2_draw(m->scratch, m, o, iter, rng, &draws);
    gan_sg2_train_step_with_cond(c, m, o, iter, real, real_labels, &draws, stats);
    ag_ctx_reset(m->scratch);
}
