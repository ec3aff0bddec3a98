// StyleGAN2's building blocks (src/layers/: modulated convolution, FIR resampling, equalized
// layers, minibatch stddev, pixel norm):
//   - parity with tools/stylegan2_reference.py (tests/fixtures/stylegan2_layers.h5): outputs and
//     the gradients of <y, gy> with respect to every input and parameter. The reference does the
//     resampling literally (zero insertion, padding, FIR, decimation) where the layers use
//     transposed and strided convolutions, and builds per-sample weights where the unfused
//     modulated convolution does not, so both forms are checked against a different route;
//   - finite-difference gradients and gradients of gradients of each block (R1 and path-length
//     regularisation differentiate through all of them twice);
//   - the noise layer's three modes.
#include <math.h>
#include <stdio.h>

#include "autograd.h"
#include "equalized.h"
#include "fixture.h"
#include "gradcheck.h"
#include "mbstd.h"
#include "modconv.h"
#include "noise.h"
#include "pixelnorm.h"
#include "test.h"
#include "upfirdn.h"
#include "test_backend.h"

// Float32 against float32 with other summation orders; the largest measured error is below 1e-6
// (values and gradients of order 1-10).
#define TOL 1e-5

#define S AG_SHAPE

static fx_file *F;

static int iattr(const char *group, const char *name) {
    int v = 0;
    fx_attr_int(F, group, name, &v);
    return v;
}

static double fattr(const char *group, const char *name) {
    double v = 0;
    fx_attr_float(F, group, name, &v);
    return v;
}

// One fixture case: the layer as a function of its inputs (fixture tensors x<i>, or parameters
// the function loads itself).
typedef ag_tensor *(*layer_fn)(ag_ctx *c, const char *group, ag_tensor **in, void *user);

static char path_buf[256];
static const char *path(const char *group, const char *leaf) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", group, leaf);
    return path_buf;
}

// y = fn(inputs) against /group/y, then ag_grad of <y, gy> against /group/gx<i>. `in` holds nin
// tensors requiring grad: x0 is loaded here, the others by the caller (parameters).
static void check_case(const char *group, const char *label, layer_fn fn, int nin, ag_tensor **in, void *user) {
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *y = fn(c, group, in, user);
    double err = 0, worst = 0;
    char what[128];
    snprintf(what, sizeof what, "%s %s y", group, label);
    fx_expect_at(__FILE__, __LINE__, F, path(group, "y"), y, TOL, what, &err);
    worst = err;
    ag_tensor *gy = fx_tensor(c, F, path(group, "gy")), *g[8];
    if (gy) {
        ag_grad(c, 1, &y, &gy, nin, in, false, g);
        for (int i = 0; i < nin; i++) {
            char leaf[16];
            snprintf(leaf, sizeof leaf, "gx%d", i);
            snprintf(what, sizeof what, "%s %s gx%d", group, label, i);
            fx_expect_at(__FILE__, __LINE__, F, path(group, leaf), g[i], TOL, what, &err);
            worst = test_nanmax(worst, err);
        }
    }
    printf("%-14s %-8s max err %.2e\n", group, label, worst);
    ag_ctx_free(c);
}

static ag_tensor *leaf(const char *group, const char *name) {
    ag_tensor *t = fx_tensor_create(test_backend(), F, path(group, name));
    return t ? ag_requires_grad(t, true) : NULL;
}

// --- fixture cases ------------------------------------------------------------------------------

static ag_tensor *f_modconv(ag_ctx *c, const char *group, ag_tensor **in, void *user) {
    bool fused = *(bool *)user;
    nn_modconv_args a = {iattr(group, "up"), iattr(group, "demodulate") != 0, fused};
    return nn_modulated_conv2d(c, in[0], in[1], in[2], a);
}

static void test_modconv(void) {
    const char *cases[] = {"modconv_up1", "modconv_up2", "modconv_rgb"};
    for (int k = 0; k < 3; k++)
        for (int fused = 0; fused < 2; fused++) {
            ag_tensor *in[3] = {leaf(cases[k], "x0"), leaf(cases[k], "x1"), leaf(cases[k], "x2")};
            bool fz = fused;
            if (in[0] && in[1] && in[2]) check_case(cases[k], fused ? "fused" : "unfused", f_modconv, 3, in, &fz);
            gc_free_inputs(3, in);
        }
}

static ag_tensor *f_up2(ag_ctx *c, const char *g, ag_tensor **in, void *u) { return (void)g, (void)u, nn_upfirdn_up2(c, in[0]); }
static ag_tensor *f_down2(ag_ctx *c, const char *g, ag_tensor **in, void *u) { return (void)g, (void)u, nn_upfirdn_down2(c, in[0]); }
static ag_tensor *f_pixelnorm(ag_ctx *c, const char *g, ag_tensor **in, void *u) { return (void)g, (void)u, nn_pixel_norm(c, in[0], 1e-8f); }
static ag_tensor *f_mbstd(ag_ctx *c, const char *g, ag_tensor **in, void *u) {
    (void)u;
    return nn_mbstd(c, in[0], iattr(g, "group"), iattr(g, "channels"));
}

static void test_single_input(const char *group, layer_fn fn) {
    ag_tensor *x = leaf(group, "x0");
    if (x) check_case(group, "", fn, 1, &x, NULL);
    ag_tensor_free(x);
}

// Equalized layers through their init functions (names, gains), parameters loaded from x1, x2.
static ag_tensor *f_conv(ag_ctx *c, const char *g, ag_tensor **in, void *u) {
    return nn_eq_conv2d_forward(c, u, in[0], fattr(g, "gain"));
}
static ag_tensor *f_dense(ag_ctx *c, const char *g, ag_tensor **in, void *u) {
    (void)g;
    return nn_eq_linear_forward(c, u, in[0]);
}

static void test_conv(const char *group) {
    ag_tensor *w = fx_tensor_create(test_backend(), F, path(group, "x1"));
    if (!w) return;
    bool bias = fx_has(F, path(group, "x2"));
    ag_params *ps = ag_params_create(test_backend(), true);
    nn_eq_conv2d l;
    nn_eq_conv2d_init(&l, ps, "conv", w->shape.d[1], w->shape.d[0], iattr(group, "kernel"), 2, bias,
                      iattr(group, "lrelu") ? NN_ACT_LRELU : NN_ACT_LINEAR);
    ag_params_finalize(ps);
    fx_load_into(F, path(group, "x1"), l.weight);
    if (bias) fx_load_into(F, path(group, "x2"), l.bias);
    ag_tensor *in[3] = {leaf(group, "x0"), l.weight, l.bias};
    if (in[0]) check_case(group, "", f_conv, bias ? 3 : 2, in, &l);
    ag_tensor_free(in[0]);
    ag_tensor_free(w);
    ag_params_free(ps);
}

static void test_dense(void) {
    const char *group = "dense_lrelu";
    ag_tensor *w = fx_tensor_create(test_backend(), F, path(group, "x1"));
    if (!w) return;
    ag_params *ps = ag_params_create(test_backend(), true);
    nn_eq_linear l;
    nn_eq_linear_init(&l, ps, "fc", w->shape.d[1], w->shape.d[0], NN_ACT_LRELU, (float)fattr(group, "lr_mul"), 1.0f);
    ag_params_finalize(ps);
    fx_load_into(F, path(group, "x1"), l.weight);
    fx_load_into(F, path(group, "x2"), l.bias);
    ag_tensor *in[3] = {leaf(group, "x0"), l.weight, l.bias};
    if (in[0]) check_case(group, "", f_dense, 3, in, &l);
    ag_tensor_free(in[0]);
    ag_tensor_free(w);
    ag_params_free(ps);
}

// --- finite differences -------------------------------------------------------------------------

typedef struct {
    nn_modconv_args a;
} mc_user;

static ag_tensor *g_modconv(ag_ctx *c, ag_tensor **in, void *u) {
    return nn_modulated_conv2d(c, in[0], in[1], in[2], ((mc_user *)u)->a);
}
static ag_tensor *g_up2(ag_ctx *c, ag_tensor **in, void *u) { return (void)u, nn_upfirdn_up2(c, in[0]); }
static ag_tensor *g_down2(ag_ctx *c, ag_tensor **in, void *u) { return (void)u, nn_upfirdn_down2(c, in[0]); }
static ag_tensor *g_mbstd(ag_ctx *c, ag_tensor **in, void *u) { return (void)u, nn_mbstd(c, in[0], 2, 1); }
static ag_tensor *g_pixelnorm(ag_ctx *c, ag_tensor **in, void *u) { return (void)u, nn_pixel_norm(c, in[0], 1e-8f); }
// A downsampling equalized conv with its weight and bias as inputs (leaky ReLU: kinks).
static ag_tensor *g_conv_down(ag_ctx *c, ag_tensor **in, void *u) {
    nn_eq_conv2d l = *(nn_eq_conv2d *)u;
    l.weight = in[1];
    l.bias = in[2];
    return nn_eq_conv2d_forward(c, &l, in[0], sqrt(0.5));
}

static void gradcheck(const char *name, gc_fn fn, int nin, const ag_shape *shapes, void *user, bool kinks,
                      uint64_t seed) {
    ag_tensor *in[4];
    for (int i = 0; i < nin; i++) in[i] = gc_input(shapes[i], seed + (uint64_t)i, 1.0f, i == 2 && user ? 1.0f : 0.0f);
    int fails = gc_check(name, fn, nin, in, user, (gc_opts){.kinks = kinks});
    printf("%-36s %s\n", name, fails ? "FAIL" : "ok");
    gc_free_inputs(nin, in);
}

static void test_gradients(void) {
    const ag_shape mc[3] = {S(2, 3, 4, 4), S(2, 3, 3, 3), S(2, 3)};
    const ag_shape rgb[3] = {S(2, 3, 3, 3), S(2, 3, 1, 1), S(2, 3)};
    for (int fused = 0; fused < 2; fused++) {
        mc_user up1 = {{1, true, fused}}, up2 = {{2, true, fused}}, torgb = {{1, false, fused}};
        gradcheck(fused ? "modconv up1 demod fused" : "modconv up1 demod", g_modconv, 3, mc, &up1, false, 100);
        gradcheck(fused ? "modconv up2 demod fused" : "modconv up2 demod", g_modconv, 3, mc, &up2, false, 110);
        gradcheck(fused ? "modconv 1x1 fused" : "modconv 1x1", g_modconv, 3, rgb, &torgb, false, 120);
    }
    gradcheck("upfirdn up2", g_up2, 1, (ag_shape[]){S(2, 2, 3, 3)}, NULL, false, 130);
    gradcheck("upfirdn down2", g_down2, 1, (ag_shape[]){S(2, 2, 4, 6)}, NULL, false, 140);
    gradcheck("mbstd group 2", g_mbstd, 1, (ag_shape[]){S(4, 3, 2, 2)}, NULL, false, 150);
    gradcheck("pixel norm", g_pixelnorm, 1, (ag_shape[]){S(3, 5)}, NULL, false, 160);
    ag_params *ps = ag_params_create(test_backend(), true);
    nn_eq_conv2d l;
    nn_eq_conv2d_init(&l, ps, "conv", 2, 3, 3, 2, true, NN_ACT_LRELU);
    ag_params_finalize(ps);
    gradcheck("eq conv 3x3 down2 lrelu", g_conv_down, 3, (ag_shape[]){S(2, 2, 4, 4), S(3, 2, 3, 3), S(3)}, &l,
              true, 170);
    ag_params_free(ps);
}

// --- noise ----------------------------------------------------------------------------------------

// const adds noise_const * strength to every sample and channel, random adds the given image
// (one per sample, shared by the channels) times strength, none adds nothing.
static void test_noise(void) {
    ag_backend *be = test_backend();
    ag_params *ps = ag_params_create(be, true), *bufs = ag_params_create(be, false);
    nn_noise l;
    nn_noise_init(&l, ps, bufs, "synthesis.b4.conv1", 4);
    ag_params_finalize(ps);
    ag_params_finalize(bufs);
    TEST_CHECK(ag_params_find(ps, "synthesis.b4.conv1.noise_strength") == l.strength &&
                   ag_params_find(bufs, "synthesis.b4.conv1.noise_const") == l.noise_const,
               "noise parameter names");
    ag_rng rng = ag_rng_make(5);
    nn_noise_reset(&l, &rng);
    TEST_CHECK(ag_item(l.strength) == 0.0f, "noise strength starts at 0");
    float s = 0.75f;
    ag_tensor_from_host(l.strength, &s);
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *x = ag_normal(c, &rng, S(2, 3, 4, 4), 0, 1), *img = ag_normal(c, &rng, S(2, 1, 4, 4), 0, 1);
    float xv[96], yc[96], yr[96], yn[96], nc[16], iv[32];
    ag_tensor_to_host(x, xv);
    ag_tensor_to_host(nn_noise_forward(c, &l, x, NN_NOISE_CONST, NULL), yc);
    ag_tensor_to_host(nn_noise_forward(c, &l, x, NN_NOISE_RANDOM, img), yr);
    ag_tensor_to_host(nn_noise_forward(c, &l, x, NN_NOISE_NONE, NULL), yn);
    ag_tensor_to_host(l.noise_const, nc);
    ag_tensor_to_host(img, iv);
    int bad = 0;
    for (int n = 0; n < 2; n++)
        for (int ch = 0; ch < 3; ch++)
            for (int p = 0; p < 16; p++) {
                int i = (n * 3 + ch) * 16 + p;
                bad += !(fabsf(yc[i] - (xv[i] + nc[p] * s)) <= 1e-6f);  // NaN counts as wrong
                bad += !(fabsf(yr[i] - (xv[i] + iv[n * 16 + p] * s)) <= 1e-6f);
                bad += yn[i] != xv[i];
            }
    TEST_CHECK(bad == 0, "noise modes: %d wrong values", bad);
    ag_ctx_free(c);
    ag_params_free(ps);
    ag_params_free(bufs);
}

int main(void) {
    F = fx_open("stylegan2_layers.h5");
    if (F) {
        test_modconv();
        test_single_input("upsample2x", f_up2);
        test_single_input("downsample2x", f_down2);
        test_single_input("mbstd_g2c2", f_mbstd);
        test_single_input("mbstd_g4c1", f_mbstd);
        test_single_input("pixelnorm", f_pixelnorm);
        test_conv("conv_down3");
        test_conv("conv_skip");
        test_dense();
        fx_close(F);
    }
    test_gradients();
    test_noise();
    return test_finish();
}
