// Augmentation (src/gan/models/augment/augment.h) and the op under its pixel moves:
//   - ag_remap2d / ag_remap2d_adjoint: values from the definition, gradients and gradients of
//     gradients by finite differences, on a map with zero fill and repeated sources;
//   - every DiffAugment and ADA transform, with the parameters PyTorch drew, against the
//     official code (tools/make_fixtures_augment.py): the output and the input gradient of
//     sum(out * r), grey and RGB;
//   - gradients of gradients through the whole pipelines (R1 through augmentation needs them),
//     and StyleGAN2's R1 through a per-sample pixel permutation against R1 on the moved batch;
//   - ADA's adjustment of p over a sequence of mean signs against the training loop's rule;
//   - the draws: in range, the identity at p = 0, every transform at p = 1, a fixed use of the
//     stream, and gan_aug_apply the same as the transforms in order.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "fixture.h"
#include "gradcheck.h"
#include "rng.h"
#include "stylegan2_tiny.h"
#include "test.h"
#include "test_backend.h"

// --- the op ----------------------------------------------------------------------------------------

enum { MN = 2, MC = 3, MH = 5, MW = 4 };

// A map with zero fill (-1), sources used twice and never, per sample.
static void test_map(float *map) {
    for (int n = 0; n < MN; n++)
        for (int p = 0; p < MH * MW; p++) {
            int v = (p * (3 + 2 * n) + n) % (MH * MW + 3) - 2;  // some -2, -1 (zero fill), repeats
            map[n * MH * MW + p] = v < 0 ? -1.0f : (float)(v % (MH * MW));
        }
}

static ag_tensor *f_remap(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    float map[MN * MH * MW];
    test_map(map);
    return ag_remap2d(c, in[0], ag_from_host(c, AG_SHAPE(MN, MH, MW), map));
}

static ag_tensor *f_remap_adjoint(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    float map[MN * MH * MW];
    test_map(map);
    return ag_remap2d_adjoint(c, in[0], ag_from_host(c, AG_SHAPE(MN, MH, MW), map));
}

static void test_remap(void) {
    float map[MN * MH * MW], x[MN * MC * MH * MW], y[MN * MC * MH * MW], a[MN * MC * MH * MW];
    test_map(map);
    ag_philox_fill_normal(x, MN * MC * MH * MW, 7, 0, 0.0f, 1.0f);
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *m = ag_from_host(c, AG_SHAPE(MN, MH, MW), map), *xt = ag_from_host(c, AG_SHAPE(MN, MC, MH, MW), x);
    ag_tensor_to_host(ag_remap2d(c, xt, m), y);
    ag_tensor_to_host(ag_remap2d_adjoint(c, xt, m), a);
    int bad = 0;
    for (int n = 0; n < MN; n++)
        for (int ch = 0; ch < MC; ch++) {
            const float *xp = x + (n * MC + ch) * MH * MW;
            double acc[MH * MW] = {0};
            for (int p = 0; p < MH * MW; p++) {
                const float v = map[n * MH * MW + p];
                bad += y[(n * MC + ch) * MH * MW + p] != (v < 0 ? 0.0f : xp[(int)v]);
                if (v >= 0) acc[(int)v] += xp[p];
            }
            for (int q = 0; q < MH * MW; q++) bad += fabs(a[(n * MC + ch) * MH * MW + q] - acc[q]) > 1e-6;
        }
    TEST_CHECK(bad == 0, "remap2d / remap2d_adjoint: %d values differ from the definition", bad);
    ag_ctx_free(c);
    ag_tensor *in[1] = {gc_input(AG_SHAPE(MN, MC, MH, MW), 8, 1.0f, 0.0f)};
    int fails = gc_check("remap2d", f_remap, 1, in, NULL, (gc_opts){0});
    fails += gc_check("remap2d_adjoint", f_remap_adjoint, 1, in, NULL, (gc_opts){0});
    gc_free_inputs(1, in);
    printf("%-36s %s\n", "remap2d: values, grad, gradgrad", fails || bad ? "FAIL" : "ok");
}

// --- the transforms against PyTorch ---------------------------------------------------------------

typedef struct {
    fx_file *f;
    const char *group;
    int channels;
} aug_case;

static const float *param(fx_file *f, const char *group, const char *name, float **keep) {
    char path[160];
    snprintf(path, sizeof path, "%s/%s", group, name);
    ag_shape s;
    *keep = fx_read(f, path, &s);
    return *keep;
}

// Output and d sum(out * r) / dx of case `group` against the fixture.
static void expect_case(fx_file *f, const char *group, int channels, const char *kind, const char *name) {
    char path[160];
    static const char *const names[] = {"b", "s", "k", "tx", "ty", "ox", "oy", "flip", "rot", "lumaflip", "hue", "sat"};
    enum { NP = sizeof names / sizeof *names };
    float *p[NP] = {0};
    for (int i = 0; i < NP; i++) {
        snprintf(path, sizeof path, "%s/%s", group, names[i]);
        if (fx_has(f, path)) param(f, group, names[i], &p[i]);
    }
#define P(i) ((const float *)p[i])
    ag_ctx *c = ag_ctx_create(test_backend());
    snprintf(path, sizeof path, "x%d", channels);
    ag_tensor *x = ag_requires_grad(fx_tensor(c, f, path), true);
    snprintf(path, sizeof path, "r%d", channels);
    ag_tensor *r = fx_tensor(c, f, path), *out = NULL;
    if (!x || !r) goto done;
    if (!strcmp(kind, "diff")) {
        if (!strcmp(name, "brightness")) out = gan_diffaug_brightness(c, x, P(0));
        else if (!strcmp(name, "saturation")) out = gan_diffaug_saturation(c, x, P(1));
        else if (!strcmp(name, "contrast")) out = gan_diffaug_contrast(c, x, P(2));
        else if (!strcmp(name, "translation")) out = gan_diffaug_translation(c, x, P(3), P(4));
        else if (!strcmp(name, "cutout")) out = gan_diffaug_cutout(c, x, P(5), P(6));
        else {  // the whole policy through gan_aug_apply, parameters laid out as the draws lay them
            gan_aug_opts o;
            char bad[32];
            TEST_CHECK(gan_diffaug_parse("color,translation,cutout", &o, bad, sizeof bad), "diffaugment policy");
            const int n = x->shape.d[0];
            float *v = calloc((size_t)GAN_AUG_NPARAMS * n, sizeof *v);
            const int slot[7] = {DA_BRIGHTNESS, DA_SATURATION, DA_CONTRAST, DA_TX, DA_TY, DA_CUT_X, DA_CUT_Y};
            for (int k = 0; k < 7; k++) memcpy(v + slot[k] * n, p[k], (size_t)n * sizeof *v);
            out = gan_aug_apply(c, &o, x, v);
            free(v);
        }
    } else {  // ADA: geometric, then colour (every case stores every parameter, identity where unused)
        gan_aug_opts o = {.mode = GAN_AUG_ADA};
        const int n = x->shape.d[0];
        float *v = calloc((size_t)GAN_AUG_NPARAMS * n, sizeof *v);
        const int src[9] = {7, 8, 3, 4, 0, 2, 9, 10, 11};  // flip, rot, tx, ty, b, k, lumaflip, hue, sat
        const int slot[9] = {ADA_XFLIP, ADA_ROT90, ADA_TX, ADA_TY, ADA_BRIGHTNESS, ADA_CONTRAST, ADA_LUMAFLIP, ADA_HUE,
                             ADA_SATURATION};
        for (int k = 0; k < 9; k++) memcpy(v + slot[k] * n, p[src[k]], (size_t)n * sizeof *v);
        out = gan_aug_apply(c, &o, x, v);
        free(v);
    }
    snprintf(path, sizeof path, "%s/out", group);
    char what[160];
    snprintf(what, sizeof what, "%s output", group);
    FX_EXPECT(f, path, out, 2e-6, what);
    ag_tensor *g;
    ag_tensor *loss = ag_sum(c, ag_mul(c, out, r));
    ag_grad(c, 1, &loss, NULL, 1, &x, false, &g);
    snprintf(path, sizeof path, "%s/grad", group);
    snprintf(what, sizeof what, "%s input gradient", group);
    FX_EXPECT(f, path, g, 2e-6, what);
done:
    for (int i = 0; i < NP; i++) free(p[i]);
    ag_ctx_free(c);
#undef P
}

static void test_against_torch(void) {
    fx_file *f = fx_open("augment.h5");
    static const char *const diff[] = {"brightness", "saturation", "contrast", "translation", "cutout", "all"};
    static const char *const ada[] = {"xflip", "rot90", "xint", "geom", "brightness", "contrast", "lumaflip",
                                      "hue", "saturation", "color"};
    int cases = 0;
    for (int ch = 1; ch <= 3; ch += 2) {
        for (size_t i = 0; i < sizeof diff / sizeof *diff; i++, cases++) {
            char g[64];
            snprintf(g, sizeof g, "diff/%s_c%d", diff[i], ch);
            expect_case(f, g, ch, "diff", diff[i]);
        }
        for (size_t i = 0; i < sizeof ada / sizeof *ada; i++) {
            char g[64];
            snprintf(g, sizeof g, "ada/%s_c%d", ada[i], ch);
            if (ch == 1 && (!strcmp(ada[i], "hue") || !strcmp(ada[i], "saturation"))) continue;  // RGB only
            expect_case(f, g, ch, "ada", ada[i]);
            cases++;
        }
    }
    fx_close(f);
    printf("%-36s %d cases\n", "transforms against torch", cases);
}

// --- gradients of gradients through the pipelines -------------------------------------------------

typedef struct {
    gan_aug_opts o;
    float v[GAN_AUG_NPARAMS * 2];
} pipe_args;

static ag_tensor *f_pipeline(ag_ctx *c, ag_tensor **in, void *u) {
    pipe_args *a = u;
    return gan_aug_apply(c, &a->o, in[0], a->v);
}

static void test_gradgrad(void) {
    ag_rng rng = ag_rng_make(99);
    int fails = 0;
    for (int ch = 1; ch <= 3; ch += 2) {
        pipe_args diff = {0}, ada = {.o = {.mode = GAN_AUG_ADA}};
        char bad[32];
        TEST_CHECK(gan_diffaug_parse("color,translation,cutout", &diff.o, bad, sizeof bad), "diffaugment policy");
        gan_aug_draw(&diff.o, 0.0, 2, ch, 8, 8, &rng, diff.v);
        gan_aug_draw(&ada.o, 1.0, 2, ch, 8, 8, &rng, ada.v);
        ag_tensor *in[1] = {gc_input(AG_SHAPE(2, ch, 8, 8), 100 + (uint64_t)ch, 1.0f, 0.0f)};
        fails += gc_check(ch == 1 ? "diffaugment pipeline, grey" : "diffaugment pipeline, rgb", f_pipeline, 1, in, &diff,
                          (gc_opts){0});
        fails += gc_check(ch == 1 ? "ada pipeline, grey" : "ada pipeline, rgb", f_pipeline, 1, in, &ada, (gc_opts){0});
        gc_free_inputs(1, in);
    }
    printf("%-36s %s\n", "pipelines: grad, gradgrad", fails ? "FAIL" : "ok");
}

// --- R1 through augmentation ----------------------------------------------------------------------

// StyleGAN2's R1 through a pixel permutation T (x-flip and a quarter turn): d D(T x) / dx is T's
// transpose applied to D's gradient at T x, so |d D(T x) / dx|^2 = |grad D at T x|^2: the penalty
// through the augmentation equals the plain penalty on the moved batch (up to the order of sums).
// With the identity's parameters the augmentation is skipped and the penalties are equal.
static void test_r1_through_augmentation(void) {
    const gan_sg2_shape s = sg2_tiny_shape();
    enum { B = 4 };
    gan_sg2_d *d = gan_sg2_d_create(test_backend(), s);
    ag_rng rng = ag_rng_make(41);
    gan_sg2_d_init(d, &rng);
    const int R = s.resolution;
    float x[B * 16 * 16], v[GAN_AUG_NPARAMS * B] = {0}, pa[B], pb[B], pc[B];
    ag_philox_fill_uniform(x, B * R * R, 42, 0, -1.0f, 1.0f);
    for (int i = 0; i < B; i++) {
        v[ADA_XFLIP * B + i] = (float)(i % 2), v[ADA_ROT90 * B + i] = (float)i;
        v[ADA_CONTRAST * B + i] = v[ADA_SATURATION * B + i] = 1.0f;
    }
    gan_aug_opts o = {.mode = GAN_AUG_ADA};
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *xt = ag_from_host(c, AG_SHAPE(B, 1, R, R), x);
    ag_tensor_to_host(gan_sg2_r1_penalty_aug(c, d, xt, &o, v, NULL), pa);
    ag_tensor *moved = gan_aug_apply(c, &o, xt, v);
    ag_tensor_to_host(gan_sg2_r1_penalty(c, d, moved, NULL), pb);
    float id[GAN_AUG_NPARAMS * B] = {0};
    for (int i = 0; i < B; i++) id[ADA_CONTRAST * B + i] = id[ADA_SATURATION * B + i] = 1.0f;
    ag_tensor_to_host(gan_sg2_r1_penalty_aug(c, d, xt, &o, id, NULL), pc);
    float plain[B];
    ag_tensor_to_host(gan_sg2_r1_penalty(c, d, xt, NULL), plain);
    for (int i = 0; i < B; i++) {
        TEST_CLOSE(pa[i], pb[i], 0, 1e-5, "r1 through a pixel permutation");
        TEST_CHECK(pc[i] == plain[i], "r1 through the identity: %g vs %g", (double)pc[i], (double)plain[i]);
        TEST_CHECK(fabsf(pa[i] - plain[i]) > 1e-4f * plain[i] || i == 0, "sample %d: the permutation changed nothing", i);
    }
    ag_ctx_free(c);
    gan_sg2_d_free(d);
    printf("%-36s done\n", "r1 through augmentation");
}

// --- ADA's p ---------------------------------------------------------------------------------------

static void test_ada_p(void) {
    fx_file *f = fx_open("augment.h5");
    double target = 0, kimg = 0, p0 = 0;
    int interval = 0, batch = 0;
    bool ok = fx_attr_float(f, "ada_p", "target", &target) && fx_attr_float(f, "ada_p", "kimg", &kimg) &&
              fx_attr_float(f, "ada_p", "p0", &p0) && fx_attr_int(f, "ada_p", "interval", &interval) &&
              fx_attr_int(f, "ada_p", "batch", &batch);
    ag_shape s;
    float *r = fx_read(f, "ada_p/r", &s), *want = fx_read(f, "ada_p/p", &s);
    if (ok && r && want) {
        gan_aug_opts o = {.mode = GAN_AUG_ADA, .ada_target = target, .ada_kimg = kimg, .ada_interval = interval};
        // The rule itself, then through the per-step accumulation: `interval` steps of batch
        // outputs whose signs sum to r * batch each (r * batch is whole for these r).
        gan_ada_state st = {.p = p0};
        double p = p0;
        for (int t = 0; t < s.d[0]; t++) {
            p = gan_ada_adjust(&o, p, (double)r[t], batch);
            TEST_CLOSE(p, want[t], 1e-6, 0, "ada p after adjustment");
            for (int k = 0; k < interval; k++) {
                TEST_CHECK(k == 0 || st.steps == k, "ada: %d steps since the adjustment, expected %d", (int)st.steps, k);
                gan_ada_after_step(&o, &st, (double)r[t] * batch, batch, batch);
            }
            TEST_CLOSE(st.p, want[t], 1e-6, 0, "ada p through the per-step accumulation");
        }
        printf("%-36s %d adjustments\n", "ada p against the training loop", (int)s.d[0]);
    }
    free(r), free(want);
    fx_close(f);
}

// --- the draws ---------------------------------------------------------------------------------------

static void test_draws(void) {
    enum { N = 64, R = 16 };
    float v[GAN_AUG_NPARAMS * N];
    gan_aug_opts diff, ada = {.mode = GAN_AUG_ADA};
    char bad[32];
    TEST_CHECK(gan_diffaug_parse("cutout,color,translation", &diff, bad, sizeof bad) && diff.npolicy == 3 &&
                   diff.policy[0] == GAN_DIFFAUG_CUTOUT,
               "diffaugment: a policy in another order keeps it");
    TEST_CHECK(!gan_diffaug_parse("color,colour", &diff, bad, sizeof bad) && !strcmp(bad, "colour"),
               "diffaugment: an unknown part is refused (got '%s')", bad);
    TEST_CHECK(gan_diffaug_parse("", &diff, bad, sizeof bad) && diff.mode == GAN_AUG_OFF, "diffaugment: empty is off");
    TEST_CHECK(gan_diffaug_parse("color,translation,cutout", &diff, bad, sizeof bad), "diffaugment: the whole policy");

    ag_rng rng = ag_rng_make(5);
    gan_aug_draw(&diff, 0.0, N, 3, R, R, &rng, v);
    const uint64_t used = rng.counter;
    int out_of_range = 0;
    for (int i = 0; i < N; i++) {
        out_of_range += !(v[DA_BRIGHTNESS * N + i] >= -0.5f && v[DA_BRIGHTNESS * N + i] < 0.5f);
        out_of_range += !(v[DA_SATURATION * N + i] >= 0 && v[DA_SATURATION * N + i] < 2);
        out_of_range += !(v[DA_CONTRAST * N + i] >= 0.5f && v[DA_CONTRAST * N + i] < 1.5f);
        for (int k = DA_TX; k <= DA_TY; k++)  // shift int(16 / 8 + 0.5) = 2
            out_of_range += !(fabsf(v[k * N + i]) <= 2 && v[k * N + i] == floorf(v[k * N + i]));
        for (int k = DA_CUT_X; k <= DA_CUT_Y; k++)  // randint(0, 16 + 1 - 8 % 2)
            out_of_range += !(v[k * N + i] >= 0 && v[k * N + i] <= 16 && v[k * N + i] == floorf(v[k * N + i]));
    }
    TEST_CHECK(out_of_range == 0, "diffaugment draws: %d out of range", out_of_range);
    TEST_CHECK(used == 7 * ((N + 3) / 4), "diffaugment: %llu blocks drawn, expected one reservation per quantity",
               (unsigned long long)used);

    // p = 0: every coin says no (the identity); p = 1: every transform is drawn.
    gan_aug_draw(&ada, 0.0, N, 3, R, R, &rng, v);
    int moved = 0;
    for (int k = 0; k < GAN_AUG_NPARAMS; k++)
        for (int i = 0; i < N; i++)
            moved += v[k * N + i] != ((k == ADA_CONTRAST || k == ADA_SATURATION) ? 1.0f : 0.0f);
    TEST_CHECK(moved == 0, "ada at p = 0: %d parameters differ from the identity", moved);
    gan_aug_draw(&ada, 1.0, N, 3, R, R, &rng, v);
    int flips = 0, turns = 0, shifted = 0, hue = 0;
    for (int i = 0; i < N; i++) {
        flips += v[ADA_XFLIP * N + i] == 1, turns += v[ADA_ROT90 * N + i] != 0, hue += v[ADA_HUE * N + i] != 0;
        shifted += v[ADA_TX * N + i] != 0 && fabsf(v[ADA_TX * N + i]) <= 2;
    }
    TEST_CHECK(flips > N / 4 && flips < 3 * N / 4 && turns > N / 2 && shifted > N / 4 && hue == N,
               "ada at p = 1: %d flips, %d turns, %d shifts, %d hue rotations of %d", flips, turns, shifted, hue, N);
    // Grey images draw no hue or saturation.
    ag_rng a = ag_rng_make(6), b = ag_rng_make(6);
    gan_aug_draw(&ada, 0.5, N, 1, R, R, &a, v);
    gan_aug_draw(&ada, 0.5, N, 3, R, R, &b, v);
    TEST_CHECK(a.counter < b.counter, "ada: grey images draw less (%llu vs %llu blocks)", (unsigned long long)a.counter,
               (unsigned long long)b.counter);
    printf("%-36s done\n", "draws");
}

int main(void) {
    test_remap();
    test_against_torch();
    test_gradgrad();
    test_r1_through_augmentation();
    test_ada_p();
    test_draws();
    return test_finish();
}
