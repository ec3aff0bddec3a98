// The StyleGAN2 generator: mapping and synthesis networks (see stylegan2.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "conv.h"
#include "gan_check.h"
#include "modconv.h"
#include "pixelnorm.h"
#include "stylegan2.h"
#include "upfirdn.h"

static void layer_init(gan_sg2_layer *l, gan_sg2_g *g, const char *prefix, int in, int out, int res, int up) {
    char name[AG_PARAM_NAME_MAX];
    l->weight = ag_params_add(g->params, nn_name(name, prefix, "weight"), AG_SHAPE(out, in, 3, 3));
    nn_noise_init(&l->noise, g->params, g->buffers, prefix, res);
    l->bias = ag_params_add(g->params, nn_name(name, prefix, "bias"), AG_SHAPE(out));
    nn_eq_linear_init(&l->affine, g->params, nn_name(name, prefix, "affine"), g->shape.w_dim, in, NN_ACT_LINEAR, 1.0f, 1.0f);
    l->up = up;
}

static void torgb_init(gan_sg2_torgb *t, gan_sg2_g *g, const char *prefix, int in) {
    char name[AG_PARAM_NAME_MAX];
    t->weight = ag_params_add(g->params, nn_name(name, prefix, "weight"), AG_SHAPE(g->shape.img_channels, in, 1, 1));
    t->bias = ag_params_add(g->params, nn_name(name, prefix, "bias"), AG_SHAPE(g->shape.img_channels));
    nn_eq_linear_init(&t->affine, g->params, nn_name(name, prefix, "affine"), g->shape.w_dim, in, NN_ACT_LINEAR, 1.0f, 1.0f);
    t->style_gain = (float)(1.0 / sqrt((double)in));
}

gan_sg2_g *gan_sg2_g_create(const ag_backend *be, gan_sg2_shape s) {
    char why[200], prefix[AG_PARAM_NAME_MAX], name[AG_PARAM_NAME_MAX];
    GAN_CHECK(gan_sg2_shape_valid(s, why, sizeof why), "stylegan2 generator: %s", why);
    gan_sg2_g *g = gan_xcalloc(1, sizeof *g, "a stylegan2 generator");
    g->shape = s;
    g->params = ag_params_create(be, true);
    g->buffers = ag_params_create(be, false);
    g->w_avg_beta = 0.995f;
    // The official state_dict order: synthesis (block by block), then mapping.
    for (int res = 4; res <= s.resolution; res *= 2) {
        gan_sg2_gblock *b = &g->blocks[g->nblocks++];
        b->res = res;
        b->in = res > 4 ? gan_sg2_channels(s, res / 2) : 0;
        b->out = gan_sg2_channels(s, res);
        snprintf(prefix, sizeof prefix, "synthesis.b%d", res);
        if (res == 4) {
            b->constant = ag_params_add(g->params, nn_name(name, prefix, "const"), AG_SHAPE(b->out, 4, 4));
        } else {
            layer_init(&b->conv0, g, nn_name(name, prefix, "conv0"), b->in, b->out, res, 2);
            g->num_layers++;
        }
        layer_init(&b->conv1, g, nn_name(name, prefix, "conv1"), b->out, b->out, res, 1);
        g->num_layers++;
        torgb_init(&b->torgb, g, nn_name(name, prefix, "torgb"), b->out);
    }
    g->num_ws = g->num_layers + 1;
    GAN_CHECK(g->num_ws == gan_sg2_num_ws(s), "stylegan2 generator: %d style inputs, gan_sg2_num_ws says %d",
              g->num_ws, gan_sg2_num_ws(s));
    // ADA registers mapping.embed before the layers; its FullyConnectedLayer defaults: lr_mul 1,
    // linear, bias 0. fc0 then takes the normalised z and embedding side by side.
    if (s.num_classes > 0)
        nn_eq_linear_init(&g->embed, g->params, "mapping.embed", s.num_classes, s.w_dim, NN_ACT_LINEAR, 1.0f, 0.0f);
    const int in0 = s.z_dim + (s.num_classes > 0 ? s.w_dim : 0);
    for (int i = 0; i < s.mapping_layers; i++) {
        snprintf(prefix, sizeof prefix, "mapping.fc%d", i);
        nn_eq_linear_init(&g->fc[i], g->params, prefix, i == 0 ? in0 : s.w_dim, s.w_dim, NN_ACT_LRELU,
                          s.mapping_lr_mul, 0.0f);
    }
    g->w_avg = ag_params_add(g->buffers, "mapping.w_avg", AG_SHAPE(s.w_dim));
    ag_params_finalize(g->params);
    ag_params_finalize(g->buffers);
    return g;
}

void gan_sg2_g_free(gan_sg2_g *g) {
    if (!g) return;
    ag_params_free(g->params);
    ag_params_free(g->buffers);
    free(g);
}

static void layer_reset(gan_sg2_layer *l, ag_rng *rng) {
    ag_tensor_fill_normal(l->weight, rng, 0.0f, 1.0f);
    nn_noise_reset(&l->noise, rng);
    ag_tensor_fill(l->bias, 0.0f);
    nn_eq_linear_reset(&l->affine, rng);
}

void gan_sg2_g_init(gan_sg2_g *g, ag_rng *rng) {
    for (int i = 0; i < g->nblocks; i++) {
        gan_sg2_gblock *b = &g->blocks[i];
        if (b->constant) ag_tensor_fill_normal(b->constant, rng, 0.0f, 1.0f);
        else layer_reset(&b->conv0, rng);
        layer_reset(&b->conv1, rng);
        ag_tensor_fill_normal(b->torgb.weight, rng, 0.0f, 1.0f);
        ag_tensor_fill(b->torgb.bias, 0.0f);
        nn_eq_linear_reset(&b->torgb.affine, rng);
    }
    if (g->shape.num_classes > 0) nn_eq_linear_reset(&g->embed, rng);  // state_dict order
    for (int i = 0; i < g->shape.mapping_layers; i++) nn_eq_linear_reset(&g->fc[i], rng);
    ag_tensor_fill(g->w_avg, 0.0f);
}

int gan_sg2_layer_res(const gan_sg2_g *g, int i) {
    GAN_CHECK(i >= 0 && i < g->num_layers, "stylegan2: layer %d of %d", i, g->num_layers);
    return 4 << ((i + 1) / 2);  // layer 0 is 4x4; then two per resolution
}

ag_tensor *gan_sg2_mapping(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, bool update_w_avg) {
    return gan_sg2_mapping_cond(c, g, z, NULL, update_w_avg);
}

ag_tensor *gan_sg2_mapping_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, bool update_w_avg) {
    const gan_sg2_shape s = g->shape;
    GAN_CHECK(z->shape.ndim == 2 && z->shape.d[1] == s.z_dim, "stylegan2 mapping: z %s, expected (N, %d)",
              AG_SHAPE_STR(z->shape), s.z_dim);
    GAN_CHECK((s.num_classes > 0) == (y != NULL), "stylegan2 mapping: %d classes and %s labels", s.num_classes,
              y ? "one-hot" : "no");
    ag_tensor *x = nn_pixel_norm(c, z, 1e-8f);
    if (y) {
        GAN_CHECK(y->shape.ndim == 2 && y->shape.d[0] == z->shape.d[0] && y->shape.d[1] == s.num_classes,
                  "stylegan2 mapping: labels %s for z %s, expected (N, %d)", AG_SHAPE_STR(y->shape),
                  AG_SHAPE_STR(z->shape), s.num_classes);
        ag_tensor *parts[2] = {x, nn_pixel_norm(c, nn_eq_linear_forward(c, &g->embed, y), 1e-8f)};
        x = ag_concat(c, 2, parts, 1);
    }
    for (int i = 0; i < s.mapping_layers; i++) x = nn_eq_linear_forward(c, &g->fc[i], x);
    if (update_w_avg) {
        // torch.lerp(mean, w_avg, beta) with beta >= 0.5 computes w_avg - (w_avg - mean) (1 - beta).
        bool prev = ag_set_grad_enabled(c, false);
        // Over every process's samples in a data-parallel run (ctx.h), as one process would.
        ag_tensor *mean = ag_allreduce_mean(c, ag_mean_axes(c, ag_detach(c, x), 1, (const int[]){0}, false));
        ag_tensor *next = ag_sub(c, g->w_avg, ag_scale(c, ag_sub(c, g->w_avg, mean), 1.0f - g->w_avg_beta));
        ag_tensor_copy(g->w_avg, next);
        ag_set_grad_enabled(c, prev);
    }
    return x;
}

ag_tensor *gan_sg2_broadcast(ag_ctx *c, gan_sg2_g *g, ag_tensor *w, float psi) {
    const int N = w->shape.d[0], D = g->shape.w_dim;
    GAN_CHECK(w->shape.ndim == 2 && w->shape.d[1] == D, "stylegan2 broadcast: w %s, expected (N, %d)",
              AG_SHAPE_STR(w->shape), D);
    ag_tensor *ws = ag_expand(c, ag_reshape(c, w, AG_SHAPE(N, 1, D)), AG_SHAPE(N, g->num_ws, D));
    if (psi == 1.0f) return ws;
    return ag_add(c, g->w_avg, ag_scale(c, ag_sub(c, ws, g->w_avg), psi));
}

// ws[:, k] as (N, w_dim).
static ag_tensor *w_at(ag_ctx *c, ag_tensor *ws, int k) {
    return ag_reshape(c, ag_narrow(c, ws, 1, k, 1), AG_SHAPE(ws->shape.d[0], ws->shape.d[2]));
}

static ag_tensor *layer_forward(ag_ctx *c, const gan_sg2_g *g, const gan_sg2_layer *l, ag_tensor *x,
                                ag_tensor *w, nn_noise_mode mode, ag_tensor *noise) {
    ag_tensor *styles = nn_eq_linear_forward(c, &l->affine, w);
    if (g->fused_modconv) {
        x = nn_modulated_conv2d(c, x, l->weight, styles, (nn_modconv_args){l->up, true, true});
        x = nn_noise_forward(c, &l->noise, x, mode, noise);
        return nn_bias_act(c, x, l->bias, NN_ACT_LRELU, nn_act_gain(NN_ACT_LRELU));
    }
    // Unfused: demodulation, noise, bias and activation after the convolution in one pass
    // (the same values as the four in turn, above).
    x = nn_modulated_conv2d(c, x, l->weight, styles, (nn_modconv_args){l->up, false, false});
    ag_tensor *image = nn_noise_image(c, &l->noise, x, mode, noise);
    return ag_demod_bias_act(c, x, l->bias, nn_modconv_demod(c, l->weight, styles), image,
                             image ? l->noise.strength : NULL, NN_LRELU_SLOPE, (float)nn_act_gain(NN_ACT_LRELU));
}

static ag_tensor *torgb_forward(ag_ctx *c, const gan_sg2_g *g, const gan_sg2_torgb *t, ag_tensor *x, ag_tensor *w) {
    ag_tensor *styles = ag_scale(c, nn_eq_linear_forward(c, &t->affine, w), t->style_gain);
    x = nn_modulated_conv2d(c, x, t->weight, styles, (nn_modconv_args){1, false, g->fused_modconv});
    return nn_bias_act(c, x, t->bias, NN_ACT_LINEAR, 1.0);
}

// The noise image of layer i in random mode: given, or drawn now (layers draw in order).
static ag_tensor *noise_image(ag_ctx *c, const gan_sg2_g *g, gan_sg2_noise nz, int i, int n) {
    if (nz.mode != NN_NOISE_RANDOM) return NULL;
    if (nz.images) return nz.images[i];
    GAN_CHECK(nz.rng, "stylegan2 synthesis: random noise needs images or an rng");
    int r = gan_sg2_layer_res(g, i);
    return ag_normal(c, nz.rng, AG_SHAPE(n, 1, r, r), 0.0f, 1.0f);
}

ag_tensor *gan_sg2_synthesis(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, gan_sg2_noise noise) {
    GAN_CHECK(ws->shape.ndim == 3 && ws->shape.d[1] == g->num_ws && ws->shape.d[2] == g->shape.w_dim,
              "stylegan2 synthesis: ws %s, expected (N, %d, %d)", AG_SHAPE_STR(ws->shape), g->num_ws, g->shape.w_dim);
    const int N = ws->shape.d[0];
    ag_tensor *x = NULL, *img = NULL;
    int layer = 0;  // synthesis layer index: its noise input and its w (ws[:, layer])
    for (int i = 0; i < g->nblocks; i++) {
        const gan_sg2_gblock *b = &g->blocks[i];
        if (b->constant) {
            x = ag_expand(c, ag_reshape(c, b->constant, AG_SHAPE(1, b->out, 4, 4)), AG_SHAPE(N, b->out, 4, 4));
        } else {
            x = layer_forward(c, g, &b->conv0, x, w_at(c, ws, layer), noise.mode, noise_image(c, g, noise, layer, N));
            layer++;
        }
        x = layer_forward(c, g, &b->conv1, x, w_at(c, ws, layer), noise.mode, noise_image(c, g, noise, layer, N));
        layer++;
        // ToRGB shares its w with the next block's first layer (the official ws split).
        ag_tensor *y = torgb_forward(c, g, &b->torgb, x, w_at(c, ws, layer));
        img = img ? ag_add(c, nn_upfirdn_up2(c, img), y) : y;
    }
    return img;
}
