// The StyleGAN2 discriminator, resnet architecture (see stylegan2.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "conv.h"
#include "gan_check.h"
#include "mbstd.h"
#include "pixelnorm.h"
#include "stylegan2.h"

gan_sg2_d *gan_sg2_d_create(const ag_backend *be, gan_sg2_shape s) {
    char why[200], prefix[AG_PARAM_NAME_MAX], name[AG_PARAM_NAME_MAX];
    GAN_CHECK(gan_sg2_shape_valid(s, why, sizeof why), "stylegan2 discriminator: %s", why);
    gan_sg2_d *d = gan_xcalloc(1, sizeof *d, "a stylegan2 discriminator");
    d->shape = s;
    d->params = ag_params_create(be, true);
    d->buffers = ag_params_create(be, false);
    for (int res = s.resolution; res > 4; res /= 2) {
        gan_sg2_dblock *b = &d->blocks[d->nblocks];
        b->res = res;
        b->tmp = gan_sg2_channels(s, res);
        b->out = gan_sg2_channels(s, res / 2);
        b->has_fromrgb = d->nblocks == 0;
        snprintf(prefix, sizeof prefix, "b%d", res);
        if (b->has_fromrgb)
            nn_eq_conv2d_init(&b->fromrgb, d->params, nn_name(name, prefix, "fromrgb"), s.img_channels, b->tmp, 1, 1,
                              true, NN_ACT_LRELU);
        nn_eq_conv2d_init(&b->conv0, d->params, nn_name(name, prefix, "conv0"), b->tmp, b->tmp, 3, 1, true, NN_ACT_LRELU);
        nn_eq_conv2d_init(&b->conv1, d->params, nn_name(name, prefix, "conv1"), b->tmp, b->out, 3, 2, true, NN_ACT_LRELU);
        nn_eq_conv2d_init(&b->skip, d->params, nn_name(name, prefix, "skip"), b->tmp, b->out, 1, 2, false, NN_ACT_LINEAR);
        d->nblocks++;
    }
    const int C = gan_sg2_channels(s, 4);
    if (s.num_classes > 0) {  // ADA's D.mapping, registered between the blocks and b4
        d->cmap_dim = C;
        nn_eq_linear_init(&d->embed, d->params, "mapping.embed", s.num_classes, C, NN_ACT_LINEAR, 1.0f, 0.0f);
        for (int i = 0; i < s.d_mapping_layers; i++) {
            snprintf(prefix, sizeof prefix, "mapping.fc%d", i);
            nn_eq_linear_init(&d->map[i], d->params, prefix, C, C, NN_ACT_LRELU, 0.01f, 0.0f);
        }
    }
    nn_eq_conv2d_init(&d->epi_conv, d->params, "b4.conv", C + s.mbstd_channels, C, 3, 1, true, NN_ACT_LRELU);
    nn_eq_linear_init(&d->epi_fc, d->params, "b4.fc", C * 16, C, NN_ACT_LRELU, 1.0f, 0.0f);
    nn_eq_linear_init(&d->epi_out, d->params, "b4.out", C, d->cmap_dim > 0 ? d->cmap_dim : 1, NN_ACT_LINEAR, 1.0f,
                      0.0f);
    ag_params_finalize(d->params);
    ag_params_finalize(d->buffers);
    return d;
}

void gan_sg2_d_free(gan_sg2_d *d) {
    if (!d) return;
    ag_params_free(d->params);
    ag_params_free(d->buffers);
    free(d);
}

void gan_sg2_d_init(gan_sg2_d *d, ag_rng *rng) {
    for (int i = 0; i < d->nblocks; i++) {
        gan_sg2_dblock *b = &d->blocks[i];
        if (b->has_fromrgb) nn_eq_conv2d_reset(&b->fromrgb, rng);
        nn_eq_conv2d_reset(&b->conv0, rng);
        nn_eq_conv2d_reset(&b->conv1, rng);
        nn_eq_conv2d_reset(&b->skip, rng);
    }
    if (d->shape.num_classes > 0) {  // state_dict order
        nn_eq_linear_reset(&d->embed, rng);
        for (int i = 0; i < d->shape.d_mapping_layers; i++) nn_eq_linear_reset(&d->map[i], rng);
    }
    nn_eq_conv2d_reset(&d->epi_conv, rng);
    nn_eq_linear_reset(&d->epi_fc, rng);
    nn_eq_linear_reset(&d->epi_out, rng);
}

ag_tensor *gan_sg2_d_forward(ag_ctx *c, gan_sg2_d *d, ag_tensor *img) {
    return gan_sg2_d_forward_cond(c, d, img, NULL);
}

// ADA's MappingNetwork with z_dim 0: no z to normalise, the normalised embedding alone through
// the layers, no w_avg.
static ag_tensor *d_cmap(ag_ctx *c, const gan_sg2_d *d, ag_tensor *y) {
    ag_tensor *x = nn_pixel_norm(c, nn_eq_linear_forward(c, &d->embed, y), 1e-8f);
    for (int i = 0; i < d->shape.d_mapping_layers; i++) x = nn_eq_linear_forward(c, &d->map[i], x);
    return x;
}

ag_tensor *gan_sg2_d_forward_cond(ag_ctx *c, gan_sg2_d *d, ag_tensor *img, ag_tensor *y) {
    const gan_sg2_shape s = d->shape;
    GAN_CHECK((s.num_classes > 0) == (y != NULL), "stylegan2 discriminator: %d classes and %s labels", s.num_classes,
              y ? "one-hot" : "no");
    const int R = s.resolution;
    GAN_CHECK(img->shape.ndim == 4 && img->shape.d[1] == s.img_channels && img->shape.d[2] == R && img->shape.d[3] == R,
              "stylegan2 discriminator: images %s, expected (N, %d, %d, %d)", AG_SHAPE_STR(img->shape),
              s.img_channels, R, R);
    const int N = img->shape.d[0];
    GAN_CHECK(!y || (y->shape.ndim == 2 && y->shape.d[0] == N && y->shape.d[1] == s.num_classes),
              "stylegan2 discriminator: labels %s for %d images, expected (%d, %d)", y ? AG_SHAPE_STR(y->shape) : "-",
              N, N, s.num_classes);
    const double half = sqrt(0.5);  // keeps the residual sum's variance
    ag_tensor *x = img;
    for (int i = 0; i < d->nblocks; i++) {
        const gan_sg2_dblock *b = &d->blocks[i];
        if (b->has_fromrgb) x = nn_eq_conv2d_forward(c, &b->fromrgb, x, 1.0);
        ag_tensor *y = nn_eq_conv2d_forward(c, &b->skip, x, half);
        x = nn_eq_conv2d_forward(c, &b->conv0, x, 1.0);
        x = nn_eq_conv2d_forward(c, &b->conv1, x, half);
        x = ag_add(c, y, x);
    }
    if (s.mbstd_channels > 0) x = nn_mbstd(c, x, s.mbstd_group_size, s.mbstd_channels);
    x = nn_eq_conv2d_forward(c, &d->epi_conv, x, 1.0);
    x = nn_eq_linear_forward(c, &d->epi_fc, ag_reshape(c, x, AG_SHAPE(N, -1)));
    x = nn_eq_linear_forward(c, &d->epi_out, x);
    if (!y) return ag_reshape(c, x, AG_SHAPE(N));
    // The projection: (x * cmap).sum(dim=1) / sqrt(cmap_dim).
    ag_tensor *proj = ag_sum_axes(c, ag_mul(c, x, d_cmap(c, d, y)), 1, (const int[]){1}, false);
    return ag_scale(c, proj, (float)(1.0 / sqrt((double)d->cmap_dim)));
}
