#include "dcgan.h"

#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "gan_check.h"

static int blocks_for(int resolution) { return resolution == 64 ? 4 : 3; }

bool gan_dcgan_shape_valid(gan_dcgan_shape s, char *why, int why_size) {
    if (s.resolution != 32 && s.resolution != 64)
        return snprintf(why, (size_t)why_size, "resolution %d (expected 32 or 64)", s.resolution), false;
    if (s.nz < 1 || s.ngf < 1 || s.ndf < 1 || (s.nc != 1 && s.nc != 3))
        return snprintf(why, (size_t)why_size, "nz %d, ngf %d, ndf %d, nc %d (expected positive sizes, nc 1 or 3)",
                        s.nz, s.ngf, s.ndf, s.nc), false;
    return true;
}

static char *main_name(char *buf, int index) {
    snprintf(buf, 32, "main.%d", index);
    return buf;
}

gan_dcgan_g *gan_dcgan_g_create(const ag_backend *be, gan_dcgan_shape s) {
    char why[160], name[32];
    GAN_CHECK(gan_dcgan_shape_valid(s, why, sizeof why), "dcgan generator: %s", why);
    gan_dcgan_g *g = gan_xcalloc(1, sizeof *g, "a dcgan generator");
    g->shape = s;
    g->nblocks = blocks_for(s.resolution);
    g->params = ag_params_create(be, true);
    g->buffers = ag_params_create(be, false);
    int cin = s.nz;
    for (int i = 0; i < g->nblocks; i++) {
        int cout = s.ngf << (g->nblocks - 1 - i);
        // The first block lifts the 1x1 latent to 4x4; the others double the resolution.
        nn_conv_transpose2d_init(&g->conv[i], g->params, main_name(name, 3 * i), cin, cout, 4,
                                 i == 0 ? 1 : 2, i == 0 ? 0 : 1, false);
        if (s.num_classes > 0)
            nn_cond_batchnorm2d_init(&g->cbn[i], g->params, g->buffers, main_name(name, 3 * i + 1), s.num_classes, cout);
        else
            nn_batchnorm2d_init(&g->bn[i], g->params, g->buffers, main_name(name, 3 * i + 1), cout);
        cin = cout;
    }
    nn_conv_transpose2d_init(&g->conv[g->nblocks], g->params, main_name(name, 3 * g->nblocks), cin, s.nc, 4, 2, 1, false);
    ag_params_finalize(g->params);
    ag_params_finalize(g->buffers);
    for (int i = 0; i < g->nblocks; i++) {
        if (s.num_classes > 0) nn_cond_batchnorm2d_reset(&g->cbn[i]);
        else nn_batchnorm2d_reset(&g->bn[i]);
    }
    return g;
}

void gan_dcgan_g_free(gan_dcgan_g *g) {
    if (!g) return;
    ag_params_free(g->params);
    ag_params_free(g->buffers);
    free(g);
}

static void init_bn(nn_batchnorm2d *bn, ag_rng *rng) {
    ag_tensor_fill_normal(bn->weight, rng, 1.0f, 0.02f);
    ag_tensor_fill(bn->bias, 0.0f);
}

void gan_dcgan_g_init(gan_dcgan_g *g, ag_rng *rng) {
    for (int i = 0; i <= g->nblocks; i++) {
        ag_tensor_fill_normal(g->conv[i].weight, rng, 0.0f, 0.02f);
        if (i < g->nblocks && g->shape.num_classes > 0) {  // every class's row, as BN's weight and bias
            ag_tensor_fill_normal(g->cbn[i].gain, rng, 1.0f, 0.02f);
            ag_tensor_fill(g->cbn[i].bias, 0.0f);
        } else if (i < g->nblocks) {
            init_bn(&g->bn[i], rng);
        }
    }
}

ag_tensor *gan_dcgan_g_forward(ag_ctx *c, gan_dcgan_g *g, ag_tensor *z, bool train) {
    return gan_dcgan_g_forward_cond(c, g, z, NULL, train);
}

// y (N, K) one-hot for a conditional network, NULL otherwise.
static void check_labels(const char *what, ag_tensor *y, int classes, ag_tensor *x) {
    GAN_CHECK(classes > 0 ? y && y->shape.ndim == 2 && y->shape.d[0] == x->shape.d[0] && y->shape.d[1] == classes : !y,
              "dcgan %s: labels %s for %d classes and a batch %s", what, y ? AG_SHAPE_STR(y->shape) : "none", classes,
              AG_SHAPE_STR(x->shape));
}

ag_tensor *gan_dcgan_g_forward_cond(ag_ctx *c, gan_dcgan_g *g, ag_tensor *z, ag_tensor *y, bool train) {
    check_labels("generator", y, g->shape.num_classes, z);
    GAN_CHECK(z->shape.ndim == 4 && z->shape.d[1] == g->shape.nz && z->shape.d[2] == 1 && z->shape.d[3] == 1,
              "dcgan generator: z %s, expected (N, %d, 1, 1)", AG_SHAPE_STR(z->shape), g->shape.nz);
    ag_tensor *h = z;
    for (int i = 0; i < g->nblocks; i++) {
        h = nn_conv_transpose2d_forward(c, &g->conv[i], h);
        h = y ? nn_cond_batchnorm2d_act_forward(c, &g->cbn[i], h, y, train, 0.0f)
              : nn_batchnorm2d_act_forward(c, &g->bn[i], h, train, 0.0f);
    }
    return ag_tanh(c, nn_conv_transpose2d_forward(c, &g->conv[g->nblocks], h));
}

// Conv j of D, 4x4 without bias. With spectral normalisation its parameter is the wrapped
// module's weight_orig (and its u, v buffers), which conv[j].weight then points to.
static void d_conv_init(gan_dcgan_d *d, int j, const char *prefix, int cin, int cout, int stride, int pad) {
    if (!d->shape.spectral_norm) {
        nn_conv2d_init(&d->conv[j], d->params, prefix, cin, cout, 4, stride, pad, false);
        return;
    }
    ag_tensor *w = nn_spectral_norm_init(&d->sn[j], d->params, d->buffers, prefix, AG_SHAPE(cout, cin, 4, 4));
    d->conv[j] = (nn_conv2d){.weight = w, .bias = NULL, .args = AG_CONV(stride, pad, 1)};
}

// Conv j of D applied to x: with spectral normalisation, on weight_orig / sigma (one power
// iteration first in training mode, as PyTorch's pre-hook on every call of the module).
static ag_tensor *d_conv(ag_ctx *c, gan_dcgan_d *d, int j, ag_tensor *x, bool train) {
    if (!d->shape.spectral_norm) return nn_conv2d_forward(c, &d->conv[j], x);
    nn_conv2d l = d->conv[j];
    l.weight = nn_spectral_norm_weight(c, &d->sn[j], train, NULL);
    return nn_conv2d_forward(c, &l, x);
}

gan_dcgan_d *gan_dcgan_d_create(const ag_backend *be, gan_dcgan_shape s) {
    char why[160], name[32];
    GAN_CHECK(gan_dcgan_shape_valid(s, why, sizeof why), "dcgan discriminator: %s", why);
    gan_dcgan_d *d = gan_xcalloc(1, sizeof *d, "a dcgan discriminator");
    d->shape = s;
    d->nblocks = blocks_for(s.resolution);
    d->params = ag_params_create(be, true);
    d->buffers = ag_params_create(be, false);
    d_conv_init(d, 0, "main.0", s.nc, s.ndf, 2, 1);
    int cin = s.ndf;
    for (int j = 1; j < d->nblocks; j++) {
        int cout = s.ndf << j;
        d_conv_init(d, j, main_name(name, 3 * j - 1), cin, cout, 2, 1);
        if (!s.d_no_bn) nn_batchnorm2d_init(&d->bn[j], d->params, d->buffers, main_name(name, 3 * j), cout);
        cin = cout;
    }
    d_conv_init(d, d->nblocks, main_name(name, 3 * d->nblocks - 1), cin, 1, 1, 0);
    if (s.num_classes > 0) nn_embedding_init(&d->embed, d->params, "embed", s.num_classes, cin * 4 * 4);
    ag_params_finalize(d->params);
    ag_params_finalize(d->buffers);
    for (int j = 1; j < d->nblocks && !s.d_no_bn; j++) nn_batchnorm2d_reset(&d->bn[j]);
    return d;
}

void gan_dcgan_d_free(gan_dcgan_d *d) {
    if (!d) return;
    ag_params_free(d->params);
    ag_params_free(d->buffers);
    free(d);
}

void gan_dcgan_d_init(gan_dcgan_d *d, ag_rng *rng) {
    for (int j = 0; j <= d->nblocks; j++) {
        ag_tensor_fill_normal(d->conv[j].weight, rng, 0.0f, 0.02f);
        if (j > 0 && j < d->nblocks && !d->shape.d_no_bn) init_bn(&d->bn[j], rng);
    }
    // After every other draw, so that runs without spectral normalisation keep their stream.
    for (int j = 0; j <= d->nblocks && d->shape.spectral_norm; j++) nn_spectral_norm_reset(&d->sn[j], rng);
    // Conditioning's projection table last, so that every other draw is where it always was.
    if (d->shape.num_classes > 0) ag_tensor_fill_normal(d->embed.weight, rng, 0.0f, 0.02f);
}

ag_tensor *gan_dcgan_d_forward(ag_ctx *c, gan_dcgan_d *d, ag_tensor *x, bool train, bool logits) {
    return gan_dcgan_d_forward_cond(c, d, x, NULL, train, logits);
}

ag_tensor *gan_dcgan_d_forward_cond(ag_ctx *c, gan_dcgan_d *d, ag_tensor *x, ag_tensor *y, bool train, bool logits) {
    check_labels("discriminator", y, d->shape.num_classes, x);
    int R = d->shape.resolution;
    GAN_CHECK(x->shape.ndim == 4 && x->shape.d[1] == d->shape.nc && x->shape.d[2] == R && x->shape.d[3] == R,
              "dcgan discriminator: x %s, expected (N, %d, %d, %d)", AG_SHAPE_STR(x->shape), d->shape.nc, R, R);
    ag_tensor *h = ag_leaky_relu(c, d_conv(c, d, 0, x, train), 0.2f);
    for (int j = 1; j < d->nblocks; j++) {
        h = d_conv(c, d, j, h, train);
        h = d->shape.d_no_bn ? ag_leaky_relu(c, h, 0.2f) : nn_batchnorm2d_act_forward(c, &d->bn[j], h, train, 0.2f);
    }
    ag_tensor *phi = h;  // (N, C, 4, 4): what the projection reads
    h = d_conv(c, d, d->nblocks, h, train);  // (N, 1, 1, 1)
    h = ag_reshape(c, h, AG_SHAPE(x->shape.d[0]));
    if (y) {  // the projection: + sum(embed(y) * phi(x)) per sample
        ag_tensor *flat = ag_reshape(c, phi, AG_SHAPE(x->shape.d[0], -1));
        h = ag_add(c, h, ag_sum_axes(c, ag_mul(c, nn_embedding_forward(c, &d->embed, y), flat), 1, (int[]){1}, false));
    }
    return logits ? h : ag_sigmoid(c, h);
}
