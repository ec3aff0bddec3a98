#include "fmnist_net.h"

#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "checkpoint.h"
#include "gan_check.h"

#define SLOPE 0.2f

// kernel, stride, pad, out channels of conv1..conv4 (conv1 takes 1 channel).
static const int conv_spec[4][4] = {{3, 1, 1, 32}, {4, 2, 1, 64}, {4, 2, 1, 64}, {3, 2, 1, 32}};
#define FLAT (32 * 4 * 4)

gan_fmnist_net *gan_fmnist_net_create(const ag_backend *be, bool trainable) {
    gan_fmnist_net *n = gan_xcalloc(1, sizeof *n, "the fmnist feature net");
    n->params = ag_params_create(be, trainable);
    static const char *const names[4] = {"conv1", "conv2", "conv3", "conv4"};
    int cin = 1;
    for (int i = 0; i < 4; i++) {
        const int *s = conv_spec[i];
        nn_conv2d_init(&n->conv[i], n->params, names[i], cin, s[3], s[0], s[1], s[2], true);
        cin = s[3];
    }
    nn_linear_init(&n->fc, n->params, "fc", FLAT, GAN_FMNIST_FEATURES, true);
    nn_linear_init(&n->head, n->params, "head", GAN_FMNIST_FEATURES, GAN_FMNIST_CLASSES, true);
    ag_params_finalize(n->params);
    return n;
}

void gan_fmnist_net_free(gan_fmnist_net *n) {
    if (!n) return;
    ag_params_free(n->params);
    free(n);
}

static void init_uniform(ag_tensor *w, ag_tensor *b, int64_t fan_in, ag_rng *rng) {
    const float bound = (float)(1.0 / sqrt((double)fan_in));
    ag_tensor_fill_uniform(w, rng, -bound, bound);
    ag_tensor_fill_uniform(b, rng, -bound, bound);
}

void gan_fmnist_net_init(gan_fmnist_net *n, ag_rng *rng) {
    for (int i = 0; i < 4; i++) {
        const ag_shape s = n->conv[i].weight->shape;
        init_uniform(n->conv[i].weight, n->conv[i].bias, s.d[1] * s.d[2] * s.d[3], rng);
    }
    init_uniform(n->fc.weight, n->fc.bias, FLAT, rng);
    init_uniform(n->head.weight, n->head.bias, GAN_FMNIST_FEATURES, rng);
}

int gan_fmnist_net_load(gan_fmnist_net *n, const char *path, gan_err *err) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, err) != 0) return -1;
    int rc = gan_ckpt_read_params(r, GAN_FMNIST_GROUP, n->params, err);
    gan_ckpt_close(r);
    if (rc != 0) gan_err_prefix(err, "fmnist feature net weights: ");
    return rc;
}

ag_tensor *gan_fmnist_net_fit(ag_ctx *c, ag_tensor *x, gan_err *err) {
    GAN_CHECK(x->shape.ndim == 4 && x->shape.d[1] == 1, "fmnist net: x %s, expected (N, 1, H, W)",
              AG_SHAPE_STR(x->shape));
    const int64_t h = x->shape.d[2], w = x->shape.d[3];
    if (h == GAN_FMNIST_SIZE && w == GAN_FMNIST_SIZE) return x;
    if (h == 32 && w == 32) return ag_pad2d(c, x, -2, -2, -2, -2);
    gan_errf(err, GAN_EXIT_USAGE,
             "feature net fmnist: images of %lld x %lld; it takes 28 x 28 grey images (32 x 32 ones are "
             "center-cropped to 28 x 28)",
             (long long)h, (long long)w);
    return NULL;
}

ag_tensor *gan_fmnist_net_features(ag_ctx *c, const gan_fmnist_net *n, ag_tensor *x) {
    GAN_CHECK(x->shape.ndim == 4 && x->shape.d[1] == 1 && x->shape.d[2] == GAN_FMNIST_SIZE &&
                  x->shape.d[3] == GAN_FMNIST_SIZE,
              "fmnist net: x %s, expected (N, 1, 28, 28)", AG_SHAPE_STR(x->shape));
    ag_tensor *h = x;
    for (int i = 0; i < 4; i++)
        h = ag_bias_act(c, ag_conv2d(c, h, n->conv[i].weight, n->conv[i].args), n->conv[i].bias, SLOPE, 1.0f);
    h = ag_reshape(c, h, AG_SHAPE(x->shape.d[0], FLAT));
    return ag_bias_act(c, ag_linear(c, h, n->fc.weight, NULL), n->fc.bias, SLOPE, 1.0f);
}

ag_tensor *gan_fmnist_net_logits(ag_ctx *c, const gan_fmnist_net *n, ag_tensor *features) {
    return nn_linear_forward(c, &n->head, features);
}
