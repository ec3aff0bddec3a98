// The StyleGAN2 generator and discriminator against tools/stylegan2_reference.py, with the
// weights loaded by their official state_dict names (every name in the file must exist here and
// every parameter and buffer here must be in the file):
//   stylegan2_g32.h5  mapping, broadcast, synthesis (const noise), the gradient of <img, gy>
//                     with respect to every parameter and z; truncation; style mixing (also
//                     through the sampling API); the w_avg update; path-length regularisation
//                     and its gradient (a gradient of a gradient through the synthesis network)
//   stylegan2_d32.h5  logits and the gradient of <logits, gy>; the R1 penalty and its gradient
//                     with respect to every parameter of D
//   stylegan2_64.h5   G and D at 64x64 with three image channels
// Each check prints its measured error.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "autograd.h"
#include "fixture.h"
#include "stylegan2.h"
#include "stylegan2_sample.h"
#include "stylegan2_train.h"
#include "test.h"
#include "test_backend.h"

// Float32 against float32 in another summation order, through up to 7 layers (and, for the
// regularisers, their backward passes twice). The error is max |ours - ref| relative to
// max(1, max |ref|), except where the reference is small: the R1 penalty's parameter gradients
// are of order 1e-3, so a tensor is compared relative to its own max |ref| and a set of
// gradients relative to the largest gradient of the set (a bias gradient that is a small
// difference of large terms is as accurate as those terms, not as its own size). The errors
// measured on this machine are printed next to each group of checks (at most 3e-6). 5e-5
// leaves room for other BLAS builds and thread counts; a wrong gain, index or padding is off by
// far more.
#define TOL 5e-5

static double worst_err;

// scale: the size the error is measured against (min(1, max |ref|) of the tensor or its set).
static void expect_scaled(fx_file *f, const char *path, const ag_tensor *t, const char *what, double scale) {
    double err = INFINITY;
    fx_expect_at(__FILE__, __LINE__, f, path, t, TOL * scale, what, &err);
    err /= scale;
    worst_err = test_nanmax(worst_err, err);  // reported; fx_expect_at does the check
}

static void expect(fx_file *f, const char *path, const ag_tensor *t, const char *what) {
    expect_scaled(f, path, t, what, fmin(1.0, fx_compare(f, path, t).ref_max));
}

static void report(const char *what) {
    printf("%-40s max err %.2e\n", what, worst_err);
    worst_err = 0;
}

static const char *ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix) ? s + n - k : NULL;
}

// Loads every entry of `sets` from /group/<name>; the file's group must hold exactly those names
// (minus noise_const buffers when skip_noise_const).
static void load_state(fx_file *f, const char *group, ag_params *const *sets, int nsets, bool skip_noise_const) {
    char path[160];
    int expected = 0;
    for (int k = 0; k < nsets; k++)
        for (int i = 0; i < sets[k]->count; i++) {
            const char *name = sets[k]->items[i].name;
            if (skip_noise_const && ends_with(name, "noise_const")) continue;
            snprintf(path, sizeof path, "/%s/%s", group, name);
            fx_load_into(f, path, sets[k]->items[i].t);
            expected++;
        }
    int n = fx_list(f, group, NULL, 0);
    TEST_CHECK(n == expected, "%s: the file has %d entries, the network %d", group, n, expected);
}

static void expect_grads(fx_file *f, const char *group, const ag_params *ps, const char *what) {
    char path[160];
    double scale = 0;
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        scale = fmax(scale, fmin(1.0, fx_compare(f, path, ps->items[i].t->grad).ref_max));
    }
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        expect_scaled(f, path, ps->items[i].t->grad, what, scale);
    }
    report(what);
}

static gan_sg2_shape shape_of(fx_file *f) {
    gan_sg2_shape s = {0};
    double lr_mul = 0;
    fx_attr_int(f, "/", "resolution", &s.resolution);
    fx_attr_int(f, "/", "img_channels", &s.img_channels);
    fx_attr_int(f, "/", "z_dim", &s.z_dim);
    fx_attr_int(f, "/", "w_dim", &s.w_dim);
    fx_attr_int(f, "/", "mapping_layers", &s.mapping_layers);
    fx_attr_float(f, "/", "mapping_lr_mul", &lr_mul);
    fx_attr_int(f, "/", "channel_base", &s.channel_base);
    fx_attr_int(f, "/", "channel_max", &s.channel_max);
    fx_attr_int(f, "/", "mbstd_group_size", &s.mbstd_group_size);
    fx_attr_int(f, "/", "mbstd_channels", &s.mbstd_channels);
    s.mapping_lr_mul = (float)lr_mul;
    return s;
}

static bool valid(gan_sg2_shape s) {
    char why[200];
    bool ok = gan_sg2_shape_valid(s, why, sizeof why);
    TEST_CHECK(ok, "fixture shape: %s", why);
    return ok;
}

static const gan_sg2_noise CONST_NOISE = {.mode = NN_NOISE_CONST};

static void test_g32(void) {
    fx_file *f = fx_open("stylegan2_g32.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    if (!valid(s)) return fx_close(f);
    ag_backend *be = test_backend();
    gan_sg2_g *g = gan_sg2_g_create(be, s);
    TEST_CHECK(g->num_ws == 8 && g->num_layers == 7, "32x32: num_ws %d, layers %d", g->num_ws, g->num_layers);
    load_state(f, "G", (ag_params *[]){g->params, g->buffers}, 2, false);
    ag_ctx *c = ag_ctx_create(be);

    ag_tensor *z = ag_requires_grad(fx_tensor(c, f, "/z"), true), *gy = fx_tensor(c, f, "/gy");
    ag_tensor *ws = gan_sg2_broadcast(c, g, gan_sg2_mapping(c, g, z, false), 1.0f);
    ag_tensor *img = gan_sg2_synthesis(c, g, ws, CONST_NOISE);
    expect(f, "/ws", ws, "ws");
    expect(f, "/img", img, "img");
    report("G32 forward");
    ag_params_zero_grad(g->params);
    ag_backward_with(c, img, gy);
    expect(f, "/grad_z", z->grad, "dz");
    expect_grads(f, "/grad_G", g->params, "G32 d<img, gy>/d params");

    g->fused_modconv = true;
    expect(f, "/img", gan_sg2_synthesis(c, g, ws, CONST_NOISE), "img, fused modconv");
    g->fused_modconv = false;
    report("G32 forward, fused modconv");

    double psi = 0;
    fx_attr_float(f, "/img_trunc", "psi", &psi);
    ag_tensor *zd = fx_tensor(c, f, "/z"), *z2 = fx_tensor(c, f, "/z2");
    expect(f, "/ws_trunc", gan_sg2_sample_ws(c, g, zd, (float)psi), "ws truncated");
    expect(f, "/img_trunc", gan_sg2_sample(c, g, zd, (float)psi, NN_NOISE_CONST, NULL), "img truncated");
    int cutoff = 0;
    fx_attr_int(f, "/img_mix", "cutoff", &cutoff);
    gan_sg2_latents lat = {.n = 2, .z = zd, .z2 = z2, .cutoff = cutoff};
    expect(f, "/img_mix", gan_sg2_synthesis(c, g, gan_sg2_mixed_ws(c, g, &lat, false), CONST_NOISE), "img mixed");
    ag_tensor *mixed = gan_sg2_mix_ws(c, gan_sg2_sample_ws(c, g, zd, 1.0f), gan_sg2_sample_ws(c, g, z2, 1.0f), cutoff,
                                      g->num_ws);
    expect(f, "/img_mix", gan_sg2_sample_images(c, g, mixed, NN_NOISE_CONST, NULL), "img mixed (sampling API)");
    report("G32 truncation and mixing");

    // Path length: the gradient of <img, y> with respect to ws, kept differentiable, then the
    // penalty's gradient with respect to every parameter.
    double pl_mean_before = 0, decay = 0;
    fx_attr_float(f, "/pl", "pl_mean_before", &pl_mean_before);
    fx_attr_float(f, "/pl", "decay", &decay);
    float pl_mean = (float)pl_mean_before;
    ag_tensor *lengths;
    ag_tensor *ws_pl = gan_sg2_broadcast(c, g, gan_sg2_mapping(c, g, zd, false), 1.0f);
    ag_tensor *pen = gan_sg2_pl_penalty(c, g, ws_pl, fx_tensor(c, f, "/pl/noise"), CONST_NOISE, &pl_mean,
                                        (float)decay, &lengths);
    expect(f, "/pl/lengths", lengths, "pl lengths");
    expect(f, "/pl/penalty", pen, "pl penalty");
    ag_tensor *mean_after = ag_full(c, AG_SHAPE(1), pl_mean);
    expect(f, "/pl/mean_after", mean_after, "pl mean");
    report("G32 path length");
    ag_params_zero_grad(g->params);
    ag_backward(c, ag_mean(c, pen));
    expect_grads(f, "/pl/grad_G", g->params, "G32 d mean(pl penalty)/d params");

    gan_sg2_mapping(c, g, zd, true);
    expect(f, "/w_avg_after", g->w_avg, "w_avg");
    report("G32 w_avg update");

    ag_ctx_free(c);
    gan_sg2_g_free(g);
    fx_close(f);
}

static void test_d32(void) {
    fx_file *f = fx_open("stylegan2_d32.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    if (!valid(s)) return fx_close(f);
    ag_backend *be = test_backend();
    gan_sg2_d *d = gan_sg2_d_create(be, s);
    load_state(f, "D", (ag_params *[]){d->params, d->buffers}, 2, false);
    ag_ctx *c = ag_ctx_create(be);

    ag_tensor *x = ag_requires_grad(fx_tensor(c, f, "/x"), true);
    ag_tensor *logits = gan_sg2_d_forward(c, d, x);
    expect(f, "/logits", logits, "logits");
    report("D32 forward");
    ag_params_zero_grad(d->params);
    ag_backward_with(c, logits, fx_tensor(c, f, "/gy"));
    expect(f, "/grad_x", x->grad, "dx");
    expect_grads(f, "/grad_D", d->params, "D32 d<logits, gy>/d params");

    ag_tensor *xr = fx_tensor(c, f, "/x"), *gx, *xl = ag_requires_grad(fx_tensor(c, f, "/x"), true);
    ag_tensor *total = ag_sum(c, gan_sg2_d_forward(c, d, xl));
    ag_grad(c, 1, &total, NULL, 1, &xl, false, &gx);
    expect(f, "/r1/grad_x", gx, "R1 dD(x)/dx");
    ag_tensor *r1_logits;
    ag_tensor *pen = gan_sg2_r1_penalty(c, d, xr, &r1_logits);
    expect(f, "/logits", r1_logits, "R1 logits");
    expect(f, "/r1/penalty", pen, "R1 penalty");
    report("D32 R1 penalty");
    ag_params_zero_grad(d->params);
    ag_backward(c, ag_mean(c, pen));
    expect_grads(f, "/r1/grad_D", d->params, "D32 d mean(R1 penalty)/d params");

    ag_ctx_free(c);
    gan_sg2_d_free(d);
    fx_close(f);
}

static void test_64(void) {
    fx_file *f = fx_open("stylegan2_64.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    if (!valid(s)) return fx_close(f);
    ag_backend *be = test_backend();
    gan_sg2_g *g = gan_sg2_g_create(be, s);
    gan_sg2_d *d = gan_sg2_d_create(be, s);
    load_state(f, "G", (ag_params *[]){g->params, g->buffers}, 2, true);
    load_state(f, "D", (ag_params *[]){d->params, d->buffers}, 2, false);
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *img = gan_sg2_synthesis(c, g, gan_sg2_broadcast(c, g, gan_sg2_mapping(c, g, fx_tensor(c, f, "/z"), false), 1.0f),
                                       (gan_sg2_noise){.mode = NN_NOISE_NONE});
    expect(f, "/img", img, "img");
    ag_tensor *fake = ag_detach(c, img);
    ag_tensor *logits = gan_sg2_d_forward(c, d, fake);
    expect(f, "/logits", logits, "logits");
    report("64x64 G and D forward");
    ag_params_zero_grad(g->params);
    ag_backward_with(c, img, ag_detach(c, img));
    expect_grads(f, "/grad_G", g->params, "G64 d(|img|^2/2)/d params");
    ag_params_zero_grad(d->params);
    ag_backward_with(c, logits, ag_detach(c, logits));
    expect_grads(f, "/grad_D", d->params, "D64 d(|logits|^2/2)/d params");
    ag_ctx_free(c);
    gan_sg2_g_free(g);
    gan_sg2_d_free(d);
    fx_close(f);
}

int main(void) {
    test_g32();
    test_d32();
    test_64();
    return test_finish();
}
