#include "noise.h"

#include "fatal.h"
#include "conv.h"
#include "ops.h"

void nn_noise_init(nn_noise *l, ag_params *ps, ag_params *buffers, const char *prefix, int resolution) {
    char name[AG_PARAM_NAME_MAX];
    l->strength = ag_params_add(ps, nn_name(name, prefix, "noise_strength"), AG_SHAPE(1));
    l->noise_const = ag_params_add(buffers, nn_name(name, prefix, "noise_const"), AG_SHAPE(resolution, resolution));
    l->resolution = resolution;
}

void nn_noise_reset(nn_noise *l, ag_rng *rng) {
    ag_tensor_fill(l->strength, 0.0f);
    ag_tensor_fill_normal(l->noise_const, rng, 0.0f, 1.0f);
}

ag_tensor *nn_noise_image(ag_ctx *c, const nn_noise *l, ag_tensor *x, nn_noise_mode mode, ag_tensor *image) {
    const int R = l->resolution;
    AG_CHECK(x->shape.ndim == 4 && x->shape.d[2] == R && x->shape.d[3] == R,
             "noise: input %s, expected (N, C, %d, %d)", AG_SHAPE_STR(x->shape), R, R);
    switch (mode) {
    case NN_NOISE_RANDOM:
        AG_CHECK(image && ag_shape_equal(image->shape, AG_SHAPE(x->shape.d[0], 1, R, R)),
                 "noise: random mode needs a noise image (%d, 1, %d, %d)", x->shape.d[0], R, R);
        return image;
    case NN_NOISE_CONST:
        return ag_reshape(c, l->noise_const, AG_SHAPE(1, 1, R, R));
    default:
        return NULL;
    }
}

ag_tensor *nn_noise_forward(ag_ctx *c, const nn_noise *l, ag_tensor *x, nn_noise_mode mode, ag_tensor *image) {
    ag_tensor *noise = nn_noise_image(c, l, x, mode, image);
    return noise ? ag_add(c, x, ag_mul(c, noise, l->strength)) : x;
}
