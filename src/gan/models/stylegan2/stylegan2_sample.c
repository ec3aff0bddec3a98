#include "stylegan2_sample.h"

#include "gan_check.h"

ag_tensor *gan_sg2_sample_ws(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, float psi) {
    return gan_sg2_sample_ws_cond(c, g, z, NULL, psi);
}

ag_tensor *gan_sg2_sample_ws_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, float psi) {
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *ws = gan_sg2_broadcast(c, g, gan_sg2_mapping_cond(c, g, z, y, false), psi);
    ag_set_grad_enabled(c, prev);
    return ws;
}

ag_tensor *gan_sg2_mix_ws(ag_ctx *c, ag_tensor *ws, ag_tensor *src, int lo, int hi) {
    const int L = ws->shape.d[1];
    GAN_CHECK(ws->shape.ndim == 3 && ag_shape_equal(ws->shape, src->shape) && 0 <= lo && lo <= hi && hi <= L,
              "stylegan2 mix: ws %s, src %s, layers [%d, %d)", AG_SHAPE_STR(ws->shape), AG_SHAPE_STR(src->shape), lo,
              hi);
    if (lo == hi) return ws;
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *parts[3];
    int n = 0;
    if (lo > 0) parts[n++] = ag_narrow(c, ws, 1, 0, lo);
    parts[n++] = ag_narrow(c, src, 1, lo, hi - lo);
    if (hi < L) parts[n++] = ag_narrow(c, ws, 1, hi, L - hi);
    ag_tensor *out = n == 1 ? parts[0] : ag_concat(c, n, parts, 1);
    ag_set_grad_enabled(c, prev);
    return out;
}

ag_tensor *gan_sg2_lerp_ws(ag_ctx *c, ag_tensor *a, ag_tensor *b, float t) {
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *out = ag_add(c, a, ag_scale(c, ag_sub(c, b, a), t));
    ag_set_grad_enabled(c, prev);
    return out;
}

ag_tensor *gan_sg2_sample_images(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, nn_noise_mode mode, ag_rng *rng) {
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *img = gan_sg2_synthesis(c, g, ws, (gan_sg2_noise){.mode = mode, .rng = rng});
    ag_set_grad_enabled(c, prev);
    return img;
}

ag_tensor *gan_sg2_sample(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, float psi, nn_noise_mode mode, ag_rng *rng) {
    return gan_sg2_sample_cond(c, g, z, NULL, psi, mode, rng);
}

ag_tensor *gan_sg2_sample_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, float psi, nn_noise_mode mode,
                               ag_rng *rng) {
    return gan_sg2_sample_images(c, g, gan_sg2_sample_ws_cond(c, g, z, y, psi), mode, rng);
}
