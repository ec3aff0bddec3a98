// Class-conditional StyleGAN2 (stylegan2.h, model.num_classes > 0) against
// tools/make_fixtures_sg2_conditional.py (tests/fixtures/sg2_conditional.h5), whose networks
// load strictly into NVlabs/stylegan2-ada-pytorch's own Generator and Discriminator with c_dim 3
// and give the same outputs (docs/variants.md "Conditioning"):
//   - the networks: every parameter and buffer by its ADA name, both ways (mapping.embed in G;
//     mapping.embed, mapping.fc0..7 and a cmap_dim-wide b4.out in D); G's mapping with the label
//     embedding, synthesis, the gradient of <img, gy> with respect to every parameter and z;
//     truncation toward w_avg and style mixing with the same classes (also through the sampling
//     API); the w_avg update; D's projection logits, their gradient with respect to every
//     parameter and x; R1 with the reals' classes and its gradient;
//   - two training iterations replayed from the fixture's draws and classes (Gmain, Greg, Dmain,
//     Dreg, G_ema): the losses and every parameter and buffer of G, G_ema and D after them;
//   - the draws: a conditional model draws exactly an unconditional one's inputs, then one
//     uniform per fake sample (Gmain's, Greg's, each Dmain's), then nothing else; the classes
//     are the one-hots the latents carry;
//   - the family: create, a step with labels, generate cycling the classes or following
//     labels, interpolation rows and the mixing grid's sources of the given classes.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "config.h"
#include "embedding.h"
#include "family.h"
#include "fixture.h"
#include "stylegan2.h"
#include "stylegan2_sample.h"
#include "stylegan2_train.h"
#include "test.h"
#include "test_backend.h"

// As test_stylegan2_nets (errors relative to min(1, max |ref|) of the tensor, gradients relative
// to the largest of their set) and test_stylegan2_train (two Adam steps: 1e-5 of max(1, |ref|)).
// The errors measured here are printed (at most 2e-6 for the networks, 4e-7 after training; R1's
// reference is float64, see the fixture script); a wrong gain, a missing normalisation or a
// class routed to the wrong pass is off by far more. The networks' tolerance is
// test_stylegan2_nets' 5e-5: R1's bias gradients (about 1e-4, small differences of large terms)
// came out 2.7e-5 off on the GPU machine's CPU under its own OpenBLAS kernel and 1.8e-5 off on
// its GPU, against 1.5e-6 here; 1e-5 held on this machine's summation order alone.
#define TOL 5e-5
#define TOL_TRAIN 1e-5

static double worst_err;

static void expect_scaled(fx_file *f, const char *path, const ag_tensor *t, const char *what, double scale) {
    double err = INFINITY;
    fx_expect_at(__FILE__, __LINE__, f, path, t, TOL * scale, what, &err);
    worst_err = test_nanmax(worst_err, err / scale);
}

static void expect(fx_file *f, const char *path, const ag_tensor *t, const char *what) {
    expect_scaled(f, path, t, what, fmin(1.0, fx_compare(f, path, t).ref_max));
}

static void report(const char *what) {
    printf("%-44s max err %.2e\n", what, worst_err);
    worst_err = 0;
}

// Loads every entry of `sets` from group; the group must hold exactly those names.
static void load_state(fx_file *f, const char *group, ag_params *const *sets, int nsets) {
    char path[160];
    int expected = 0;
    for (int k = 0; k < nsets; k++)
        for (int i = 0; i < sets[k]->count; i++, expected++) {
            snprintf(path, sizeof path, "%s/%s", group, sets[k]->items[i].name);
            fx_load_into(f, path, sets[k]->items[i].t);
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
    const char *ints[] = {"resolution", "img_channels", "z_dim", "w_dim", "mapping_layers", "channel_base",
                          "channel_max", "mbstd_group_size", "mbstd_channels", "num_classes", "d_mapping_layers"};
    int *dst[] = {&s.resolution, &s.img_channels, &s.z_dim, &s.w_dim, &s.mapping_layers, &s.channel_base,
                  &s.channel_max, &s.mbstd_group_size, &s.mbstd_channels, &s.num_classes, &s.d_mapping_layers};
    for (int i = 0; i < 11; i++) fx_attr_int(f, "/", ints[i], dst[i]);
    fx_attr_float(f, "/", "mapping_lr_mul", &lr_mul);
    s.mapping_lr_mul = (float)lr_mul;
    return s;
}

static bool valid(gan_sg2_shape s) {
    char why[200];
    bool ok = gan_sg2_shape_valid(s, why, sizeof why);
    TEST_CHECK(ok, "fixture shape: %s", why);
    return ok;
}

// The fixture's int64 labels (read as floats) as one-hot classes, or NULL.
static ag_tensor *one_hot_at(ag_ctx *c, fx_file *f, const char *path, int classes) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return NULL;
    int32_t y[64];
    int n = (int)s.d[0];
    TEST_CHECK(n >= 1 && n <= 64, "%s: %d labels", path, n);
    for (int i = 0; i < n && i < 64; i++) y[i] = (int32_t)v[i];
    free(v);
    return n >= 1 && n <= 64 ? nn_one_hot(c, y, n, classes) : NULL;
}

static const gan_sg2_noise CONST_NOISE = {.mode = NN_NOISE_CONST};

// --- the networks --------------------------------------------------------------------------------

static void test_nets(void) {
    fx_file *f = fx_open("sg2_conditional.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    if (!valid(s)) return fx_close(f);
    ag_backend *be = test_backend();
    gan_sg2_g *g = gan_sg2_g_create(be, s);
    gan_sg2_d *d = gan_sg2_d_create(be, s);
    TEST_CHECK(d->cmap_dim == gan_sg2_channels(s, 4), "cmap_dim %d, channels at 4x4 %d", d->cmap_dim,
               gan_sg2_channels(s, 4));
    load_state(f, "/G", (ag_params *[]){g->params, g->buffers}, 2);
    load_state(f, "/D", (ag_params *[]){d->params, d->buffers}, 2);
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *y = one_hot_at(c, f, "/labels", s.num_classes);
    if (!y) goto done;

    // G: mapping with the label embedding, synthesis, gradients.
    ag_tensor *z = ag_requires_grad(fx_tensor(c, f, "/z"), true), *gy = fx_tensor(c, f, "/gy");
    ag_tensor *ws = gan_sg2_broadcast(c, g, gan_sg2_mapping_cond(c, g, z, y, false), 1.0f);
    ag_tensor *img = gan_sg2_synthesis(c, g, ws, CONST_NOISE);
    expect(f, "/ws", ws, "ws");
    expect(f, "/img", img, "img");
    report("conditional G forward");
    ag_params_zero_grad(g->params);
    ag_backward_with(c, img, gy);
    expect(f, "/grad_z", z->grad, "dz");
    expect_grads(f, "/grad_G", g->params, "conditional G d<img, gy>/d params");

    double psi = 0;
    int cutoff = 0;
    fx_attr_float(f, "/img_trunc", "psi", &psi);
    fx_attr_int(f, "/img_mix", "cutoff", &cutoff);
    ag_tensor *zd = fx_tensor(c, f, "/z"), *z2 = fx_tensor(c, f, "/z2");
    expect(f, "/ws_trunc", gan_sg2_sample_ws_cond(c, g, zd, y, (float)psi), "ws truncated");
    expect(f, "/img_trunc", gan_sg2_sample_cond(c, g, zd, y, (float)psi, NN_NOISE_CONST, NULL), "img truncated");
    gan_sg2_latents lat = {.n = 4, .z = zd, .z2 = z2, .cutoff = cutoff, .c = y};
    expect(f, "/img_mix", gan_sg2_synthesis(c, g, gan_sg2_mixed_ws(c, g, &lat, false), CONST_NOISE), "img mixed");
    ag_tensor *mixed = gan_sg2_mix_ws(c, gan_sg2_sample_ws_cond(c, g, zd, y, 1.0f),
                                      gan_sg2_sample_ws_cond(c, g, z2, y, 1.0f), cutoff, g->num_ws);
    expect(f, "/img_mix", gan_sg2_sample_images(c, g, mixed, NN_NOISE_CONST, NULL), "img mixed (sampling API)");
    gan_sg2_mapping_cond(c, g, zd, y, true);
    expect(f, "/w_avg_after", g->w_avg, "w_avg");
    report("conditional truncation, mixing, w_avg");

    // D: the projection on the label mapping's cmap.
    ag_tensor *x = ag_requires_grad(fx_tensor(c, f, "/x"), true);
    ag_tensor *logits = gan_sg2_d_forward_cond(c, d, x, y);
    expect(f, "/logits", logits, "logits");
    report("conditional D forward");
    ag_params_zero_grad(d->params);
    ag_backward_with(c, logits, fx_tensor(c, f, "/gy_d"));
    expect(f, "/grad_x", x->grad, "dx");
    expect_grads(f, "/grad_D", d->params, "conditional D d<logits, gy>/d params");

    ag_tensor *r1_logits;
    ag_tensor *pen = gan_sg2_r1_penalty_cond(c, d, fx_tensor(c, f, "/x"), y, NULL, NULL, &r1_logits);
    expect(f, "/logits", r1_logits, "R1 logits");
    expect(f, "/r1/penalty", pen, "R1 penalty");
    report("conditional R1 penalty");
    ag_params_zero_grad(d->params);
    ag_backward(c, ag_mean(c, pen));
    expect_grads(f, "/r1/grad_D", d->params, "conditional D d mean(R1)/d params");

    // The classes matter: D of the same images under other labels differs.
    const int32_t other[4] = {1, 1, 1, 1};
    ag_tensor *l2 = gan_sg2_d_forward_cond(c, d, fx_tensor(c, f, "/x"), nn_one_hot(c, other, 4, s.num_classes));
    fx_diff diff = fx_compare(f, "/logits", l2);
    TEST_CHECK(diff.err > 1e-4, "D's logits do not depend on the labels (diff %.2e)", diff.err);
done:
    ag_ctx_free(c);
    gan_sg2_g_free(g);
    gan_sg2_d_free(d);
    fx_close(f);
}

// --- two training iterations ----------------------------------------------------------------------

static float fopt(fx_file *f, const char *name) {
    double v = 0;
    fx_attr_float(f, "/train/opts", name, &v);
    return (float)v;
}

static int iopt(fx_file *f, const char *name) {
    int v = 0;
    fx_attr_int(f, "/train/opts", name, &v);
    return v;
}

static void load_latents(ag_ctx *c, fx_file *f, const char *group, const gan_sg2_g *g, gan_sg2_latents *lat) {
    char path[96];
    snprintf(path, sizeof path, "%s/z", group);
    lat->z = fx_tensor(c, f, path);
    lat->n = lat->z ? lat->z->shape.d[0] : 0;
    snprintf(path, sizeof path, "%s/z2", group);
    lat->z2 = fx_tensor(c, f, path);
    snprintf(path, sizeof path, "%s/labels", group);
    lat->c = one_hot_at(c, f, path, g->shape.num_classes);
    fx_attr_int(f, group, "cutoff", &lat->cutoff);
    snprintf(path, sizeof path, "%s/noise", group);
    ag_tensor *flat = fx_tensor(c, f, path);
    int off = 0;
    for (int i = 0; flat && i < g->num_layers; i++) {
        int r = gan_sg2_layer_res(g, i), len = lat->n * r * r;
        if (off + len > flat->numel) break;
        lat->noise[i] = ag_reshape(c, ag_narrow(c, flat, 0, off, len), AG_SHAPE(lat->n, 1, r, r));
        off += len;
    }
    TEST_CHECK(flat && off == flat->numel, "%s: %d noise values used of %lld", path, off,
               flat ? (long long)flat->numel : -1LL);
}

static void expect_stat(fx_file *f, const char *group, const char *name, float ours, bool ran) {
    bool has = fx_has_attr(f, group, name);
    TEST_CHECK(has == ran, "%s: %s %s in PyTorch's iteration but %s here", group, name, has ? "present" : "absent",
               ran ? "computed" : "not");
    if (!has || !ran) return;
    double ref = 0;
    fx_attr_float(f, group, name, &ref);
    TEST_CHECK(fabs(ours - ref) <= TOL_TRAIN * fmax(1.0, fabs(ref)), "%s %s: ours %.8g, PyTorch %.8g", group, name,
               (double)ours, ref);
    printf("  %-16s %-12s ours %12.8f  PyTorch %12.8f\n", group, name, (double)ours, ref);
}

static double expect_sets(fx_file *f, const char *group, ag_params *const *sets, int nsets) {
    char path[160];
    double worst = 0, err;
    for (int k = 0; k < nsets; k++)
        for (int i = 0; i < sets[k]->count; i++) {
            snprintf(path, sizeof path, "%s/%s", group, sets[k]->items[i].name);
            fx_expect_at(__FILE__, __LINE__, f, path, sets[k]->items[i].t, TOL_TRAIN, path, &err);
            worst = test_nanmax(worst, err);
        }
    return worst;
}

static void test_train(void) {
    fx_file *f = fx_open("sg2_conditional.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    if (!valid(s)) return fx_close(f);
    gan_sg2_train_opts o = gan_sg2_train_opts_default(4);
    o.lr_g = o.lr_d = fopt(f, "lr");
    o.beta1 = fopt(f, "beta1"), o.beta2 = fopt(f, "beta2"), o.eps = fopt(f, "eps");
    o.r1_gamma = fopt(f, "r1_gamma"), o.r1_interval = iopt(f, "r1_interval");
    o.pl_weight = fopt(f, "pl_weight"), o.pl_interval = iopt(f, "pl_interval");
    o.pl_batch_shrink = iopt(f, "pl_batch_shrink"), o.pl_decay = fopt(f, "pl_decay");
    o.ema_kimg = fopt(f, "ema_kimg"), o.ema_rampup = fopt(f, "ema_rampup");
    char why[200];
    if (!gan_sg2_train_opts_valid(&o, s, why, sizeof why)) {
        TEST_CHECK(false, "fixture options: %s", why);
        return fx_close(f);
    }
    ag_backend *be = test_backend();
    ag_rng init = ag_rng_make(1);
    gan_sg2_model *m = gan_sg2_model_create(be, s, &o, &init);
    load_state(f, "/train/G", (ag_params *[]){m->g->params, m->g->buffers}, 2);
    load_state(f, "/train/G", (ag_params *[]){m->g_ema->params, m->g_ema->buffers}, 2);
    load_state(f, "/train/D", (ag_params *[]){m->d->params, m->d->buffers}, 2);
    ag_ctx *c = ag_ctx_create(be), *cd = ag_ctx_create(be);
    for (int it = 0; it < 2; it++) {
        char group[32], path[64];
        snprintf(group, sizeof group, "/train/it%d", it);
        snprintf(path, sizeof path, "%s/real", group);
        ag_shape rs, ls;
        float *real = fx_read(f, path, &rs);
        snprintf(path, sizeof path, "%s/real_labels", group);
        float *lf = fx_read(f, path, &ls);
        if (!real || !lf) {
            free(real), free(lf);
            break;
        }
        int32_t real_labels[4];
        for (int i = 0; i < 4; i++) real_labels[i] = (int32_t)lf[i];
        gan_sg2_draws draws = {0};
        const char *phases[3] = {"gmain", "greg", "dmain"};
        gan_sg2_latents *lats[3] = {&draws.gmain, &draws.greg, &draws.dmain[0]};
        for (int p = 0; p < 3; p++) {
            if (p == 1 && !gan_sg2_runs_pl(&o, it)) continue;
            snprintf(path, sizeof path, "%s/%s", group, phases[p]);
            load_latents(cd, f, path, m->g, lats[p]);
        }
        snprintf(path, sizeof path, "%s/pl_noise", group);
        draws.pl_noise = gan_sg2_runs_pl(&o, it) ? fx_tensor(cd, f, path) : NULL;
        gan_sg2_step_stats st;
        gan_sg2_train_step_with_cond(c, m, &o, it, real, real_labels, &draws, &st);
        ag_ctx_reset(cd);
        free(real), free(lf);
        printf("conditional iteration %d%s%s\n", it, st.ran_pl ? " +Greg" : "", st.ran_r1 ? " +Dreg" : "");
        expect_stat(f, group, "loss_g", st.loss_g, true);
        expect_stat(f, group, "loss_d", st.loss_d, true);
        expect_stat(f, group, "scores_real", st.scores_real, true);
        expect_stat(f, group, "scores_fake", st.scores_fake, true);
        expect_stat(f, group, "ema_beta", st.ema_beta, true);
        expect_stat(f, group, "pl_penalty", st.pl_penalty, st.ran_pl);
        expect_stat(f, group, "pl_mean", st.pl_mean, st.ran_pl);
        expect_stat(f, group, "r1_penalty", st.r1_penalty, st.ran_r1);
    }
    double eg = expect_sets(f, "/train/after/G", (ag_params *[]){m->g->params, m->g->buffers}, 2);
    double ee = expect_sets(f, "/train/after/G_ema", (ag_params *[]){m->g_ema->params, m->g_ema->buffers}, 2);
    double ed = expect_sets(f, "/train/after/D", (ag_params *[]){m->d->params}, 1);
    printf("after 2 conditional iterations: G max err %.2e, G_ema %.2e, D %.2e\n", eg, ee, ed);
    ag_ctx_free(c);
    ag_ctx_free(cd);
    gan_sg2_model_free(m);
    fx_close(f);
}

// --- the draws ---------------------------------------------------------------------------------

static gan_sg2_shape tiny_shape(int classes) {
    gan_sg2_shape s = gan_sg2_shape_default(16, 1);
    s.z_dim = s.w_dim = 8;
    s.mapping_layers = 2;
    s.channel_base = 64;
    s.channel_max = 4;
    s.mbstd_group_size = 2;
    s.num_classes = classes;
    return s;
}

static bool same_tensor(const ag_tensor *a, const ag_tensor *b) {
    if (!a || !b) return a == b;
    if (!ag_shape_equal(a->shape, b->shape)) return false;
    float *ha = malloc(sizeof *ha * (size_t)a->numel), *hb = malloc(sizeof *hb * (size_t)b->numel);
    ag_tensor_to_host(a, ha);
    ag_tensor_to_host(b, hb);
    bool same = !memcmp(ha, hb, sizeof *ha * (size_t)a->numel);
    free(ha), free(hb);
    return same;
}

static bool same_latents(const gan_sg2_latents *a, const gan_sg2_latents *b, int layers) {
    bool same = a->n == b->n && a->cutoff == b->cutoff && same_tensor(a->z, b->z) && same_tensor(a->z2, b->z2);
    for (int i = 0; same && i < layers; i++) same = same_tensor(a->noise[i], b->noise[i]);
    return same;
}

// lat->c is the one-hot of `classes`, each in [0, K).
static bool one_hot_of(const gan_sg2_latents *lat, const int32_t *classes, int K) {
    if (!lat->c || !classes || lat->c->shape.d[0] != lat->n || lat->c->shape.d[1] != K) return false;
    float h[64 * 8];
    if (lat->n * K > 64 * 8) return false;
    ag_tensor_to_host(lat->c, h);
    for (int i = 0; i < lat->n; i++)
        for (int k = 0; k < K; k++)
            if (classes[i] < 0 || classes[i] >= K || h[i * K + k] != (k == classes[i] ? 1.0f : 0.0f)) return false;
    return true;
}

static void test_draws(void) {
    ag_backend *be = test_backend();
    const int K = 5;
    gan_sg2_train_opts o = gan_sg2_train_opts_default(8);
    o.pl_interval = 2, o.r1_interval = 2, o.d_steps = 2;
    ag_rng init = ag_rng_make(3);
    gan_sg2_model *mu = gan_sg2_model_create(be, tiny_shape(0), &o, &init);
    init = ag_rng_make(3);
    gan_sg2_model *mc = gan_sg2_model_create(be, tiny_shape(K), &o, &init);
    ag_ctx *c = ag_ctx_create(be);
    int counts[5] = {0};
    for (int it = 0; it < 2; it++) {  // it 0 with Greg, it 1 without
        ag_rng ru = ag_rng_make(9 + (uint64_t)it), rc = ag_rng_make(9 + (uint64_t)it);
        gan_sg2_draws du, dc;
        gan_sg2_draw(c, mu, &o, it, &ru, &du);
        gan_sg2_draw(c, mc, &o, it, &rc, &dc);
        const int layers = mu->g->num_layers;
        bool same = same_latents(&du.gmain, &dc.gmain, layers) && same_latents(&du.greg, &dc.greg, layers) &&
                    same_tensor(du.pl_noise, dc.pl_noise);
        for (int k = 0; k < o.d_steps; k++) same = same && same_latents(&du.dmain[k], &dc.dmain[k], layers);
        TEST_CHECK(same, "iteration %d: the conditional draws begin with the unconditional ones", it);
        TEST_CHECK(!du.gmain.c && !du.dmain[0].c && !du.classes_gmain, "unconditional: no classes");
        const int pl_n = gan_sg2_runs_pl(&o, it) ? o.batch / o.pl_batch_shrink : 0;
        const int total = o.batch * (1 + o.d_steps) + pl_n;
        // Philox gives four values per counter: `total` uniforms take ceil(total / 4) more.
        TEST_CHECK(rc.counter == ru.counter + (uint64_t)(total + 3) / 4,
                   "iteration %d: %d classes drawn after the rest (counters %llu vs %llu)", it, total,
                   (unsigned long long)rc.counter, (unsigned long long)ru.counter);
        bool hot = one_hot_of(&dc.gmain, dc.classes_gmain, K) &&
                   (pl_n ? one_hot_of(&dc.greg, dc.classes_greg, K) : !dc.greg.c && !dc.classes_greg);
        for (int k = 0; k < o.d_steps; k++) hot = hot && one_hot_of(&dc.dmain[k], dc.classes_dmain[k], K);
        TEST_CHECK(hot, "iteration %d: every latent carries its classes, in [0, %d)", it, K);
        for (int i = 0; hot && i < o.batch; i++) counts[dc.classes_gmain[i]]++, counts[dc.classes_dmain[0][i]]++;
        ag_ctx_reset(c);
    }
    int seen = 0;
    for (int k = 0; k < K; k++) seen += counts[k] > 0;
    TEST_CHECK(seen >= 3, "32 fake classes cover %d of %d classes", seen, K);
    ag_ctx_free(c);
    gan_sg2_model_free(mu);
    gan_sg2_model_free(mc);
}

// --- the family ----------------------------------------------------------------------------------

static const char *const FAMILY_YAML =
    "seed: 1\n"
    "model: {type: stylegan2, resolution: 16, channels: 1, z_dim: 8, w_dim: 8, mapping_layers: 2,\n"
    "        channel_base: 64, channel_max: 4, num_classes: 3}\n"
    "data: {path: /none.gz}\n"
    "train: {steps: 1, batch_size: 4}\n"
    "stylegan2: {r1_interval: 2, pl_interval: 2}\n"
    "checkpoint: {every: 1}\n"
    "sample: {every: 1}\n";

#define PIX 256  // 16x16x1

// Images made in batches of different sizes, at other places of a batch (BLAS kernels treat the
// rows of a block and the remainder differently) or as a + (b - a) may differ in the last bits.
static bool close_images(const float *a, const float *b) {
    double worst = 0;
    for (int i = 0; i < PIX; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    return worst <= 1e-5;
}

static void test_family(void) {
    ag_backend *be = test_backend();
    gan_config cfg;
    gan_err err = {0};
    if (gan_config_parse(FAMILY_YAML, "sg2c.yaml", 0, NULL, &cfg, &err) != 0) {
        TEST_CHECK(false, "config: %s", err.msg);
        return;
    }
    const gan_family *fam = gan_family_find("stylegan2");
    ag_rng init = ag_rng_make(4), rng = ag_rng_make(5);
    gan_model *m = fam->create(&cfg, be, &init, &err);
    TEST_CHECK(m, "create a conditional stylegan2: %s", err.msg);
    if (!m) return;
    ag_ctx *c = ag_ctx_create(be);
    float *real = calloc(4 * PIX, sizeof *real);
    for (int i = 0; i < 4 * PIX; i++) real[i] = (float)((i * 7) % 13) / 6.5f - 1.0f;
    const int32_t labels[4] = {0, 2, 1, 2};
    gan_stats st;
    fam->step(m, c, 0, real, labels, &rng, &st);
    for (int i = 0; i < st.n; i++)
        if (strcmp(st.names[i], "pl_penalty") && strcmp(st.names[i], "r1_penalty"))
            TEST_CHECK(isfinite(st.values[i]), "step: %s = %g", st.names[i], (double)st.values[i]);
    ag_ctx_reset(c);

    // generate: image i of class i % 3 without labels; with labels, as given.
    float z[6 * 8], a[6 * PIX], b[6 * PIX];
    for (int i = 0; i < 6 * 8; i++) z[i] = (float)((i * 37) % 11) / 5.0f - 1.0f;
    for (int i = 0; i < 8; i++) z[32 + i] = z[8 + i];  // image 4 (class 1) has image 1's latent
    gan_sample_opts o = {.psi = 1.0f};
    fam->generate(m, c, z, 6, &o, a);
    const int32_t ones[6] = {1, 1, 1, 1, 1, 1};
    o.labels = ones;
    fam->generate(m, c, z, 6, &o, b);
    TEST_CHECK(!memcmp(a + PIX, b + PIX, PIX * sizeof(float)), "class cycling: image 1 is of class 1");
    TEST_CHECK(close_images(a + 4 * PIX, b + PIX), "class cycling: image 4 is of class 1");
    TEST_CHECK(!close_images(a, b), "image 0 of class 0 differs from class 1");

    // interpolate: step 0 is za itself under its class; a row of class 1 starts at b's image 0.
    float row[3 * PIX];
    fam->interpolate(m, c, z, z + 8, 3, &o, row);
    TEST_CHECK(close_images(row, b), "interpolation of class 1 starts at za of class 1");
    TEST_CHECK(close_images(row + 2 * PIX, b + PIX), "and ends at zb of class 1");
    TEST_CHECK(!close_images(row + PIX, b) && !close_images(row + PIX, b + PIX), "and passes between them");

    // mixing grid: row source i of labels[i], column source j of labels[nrows + j].
    float grid[(2 + 1) * (1 + 1) * PIX];
    const int32_t mix_labels[3] = {1, 1, 2};  // rows z0, z1 of class 1; column z2 of class 2
    o.labels = mix_labels;
    fam->mixing_grid(m, c, z, 2, z + 16, 1, 0, 2, &o, grid);
    TEST_CHECK(close_images(grid + 2 * PIX, b), "mixing grid: row 0's source is z0 of class 1");
    TEST_CHECK(close_images(grid + 4 * PIX, b + PIX), "mixing grid: row 1's source is z1 of class 1");
    TEST_CHECK(close_images(grid + PIX, a + 2 * PIX), "mixing grid: the column source is z2 of class 2");
    TEST_CHECK(!close_images(grid + 3 * PIX, b) && !close_images(grid + 3 * PIX, a + 2 * PIX),
               "mixing grid: a cell mixes its sources");
    ag_ctx_free(c);
    free(real);
    fam->free(m);
}

int main(void) {
    test_nets();
    test_train();
    test_draws();
    test_family();
    return test_finish();
}
