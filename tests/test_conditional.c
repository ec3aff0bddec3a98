// Class-conditional DCGAN (dcgan.h, "Conditioning") against PyTorch (tests/fixtures/
// conditional.h5, written by tools/make_fixtures_conditional.py, whose docstring describes it):
//   - G with conditional batchnorm: training-mode output, every parameter's gradient of a
//     weighted sum of it, the running statistics after, and the eval-mode output;
//   - the projection D: output before the sigmoid, every parameter's gradient (the class
//     embedding's included) and the input's;
//   - one conditional DCGAN iteration (bce): losses, scores, gradients, weights after Adam;
//   - the plumbing: one-hot labels, the family's fake-label draws (uniform, from the step's rng,
//     after an unconditional step's draws) and label cycling in generate.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "config.h"
#include "dcgan.h"
#include "dcgan_train.h"
#include "embedding.h"
#include "family.h"
#include "fixture.h"
#include "gradcheck.h"
#include "losses.h"
#include "test.h"
#include "test_backend.h"

#define TOL_FORWARD 2e-5
#define TOL_GRAD 1e-4  // through three batchnorms over batches of 4 or 5, as test_losses
#define TOL_AFTER 2e-6

static const gan_dcgan_shape shape3 = {.resolution = 32, .nz = 8, .ngf = 4, .ndf = 4, .nc = 1, .num_classes = 3};

static void load_set(fx_file *f, const char *group, ag_params *ps) {
    char path[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        fx_load_into(f, path, ps->items[i].t);
    }
}

static void expect_set(fx_file *f, const char *group, ag_params *ps, bool grads, double tol) {
    char path[256], what[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        snprintf(what, sizeof what, "%s %s", group, ps->items[i].name);
        FX_EXPECT(f, path, grads ? ps->items[i].t->grad : ps->items[i].t, tol, what);
    }
}

// The fixture's labels (stored as int64, read as floats) as int32.
static int32_t *read_labels(fx_file *f, const char *path, int *n) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return NULL;
    *n = (int)s.d[0];
    int32_t *y = malloc(sizeof *y * (size_t)*n);
    for (int i = 0; i < *n; i++) y[i] = (int32_t)v[i];
    free(v);
    return y;
}

static void check_forward(fx_file *f, const ag_backend *be) {
    gan_dcgan_g *g = gan_dcgan_g_create(be, shape3);
    gan_dcgan_d *d = gan_dcgan_d_create(be, shape3);
    TEST_CHECK(g->params->count == 10 && d->params->count == 9, "parameter counts G %d D %d", g->params->count,
               d->params->count);
    load_set(f, "/forward/G", g->params);
    load_set(f, "/forward/G", g->buffers);
    load_set(f, "/forward/D", d->params);
    load_set(f, "/forward/D", d->buffers);
    int n = 0;
    int32_t *labels = read_labels(f, "/forward/labels", &n);
    ag_ctx *c = ag_ctx_create(be);
    if (labels) {
        ag_tensor *y = nn_one_hot(c, labels, n, 3);
        ag_tensor *z = fx_tensor(c, f, "/forward/z");
        ag_tensor *out = gan_dcgan_g_forward_cond(c, g, z, y, true);
        FX_EXPECT(f, "/forward/g_out", out, TOL_FORWARD, "conditional G, training mode");
        ag_params_zero_grad(g->params);
        ag_backward(c, ag_sum(c, ag_mul(c, out, fx_tensor(c, f, "/forward/r_g"))));
        expect_set(f, "/forward/grad_G", g->params, true, TOL_GRAD);
        expect_set(f, "/forward/G_after", g->buffers, false, TOL_FORWARD);
        ag_ctx_reset(c);

        y = nn_one_hot(c, labels, n, 3);
        z = fx_tensor(c, f, "/forward/z");
        FX_EXPECT(f, "/forward/g_eval", gan_dcgan_g_forward_cond(c, g, z, y, false), TOL_FORWARD,
                  "conditional G, eval mode");
        ag_ctx_reset(c);

        y = nn_one_hot(c, labels, n, 3);
        ag_tensor *x = fx_tensor(c, f, "/forward/x");
        ag_requires_grad(x, true);
        ag_params_zero_grad(d->params);
        ag_tensor *dout = gan_dcgan_d_forward_cond(c, d, x, y, true, true);
        FX_EXPECT(f, "/forward/d_out", dout, TOL_FORWARD, "projection D");
        ag_backward(c, ag_sum(c, ag_mul(c, dout, fx_tensor(c, f, "/forward/r_d"))));
        expect_set(f, "/forward/grad_D", d->params, true, TOL_GRAD);
        FX_EXPECT(f, "/forward/grad_x", x->grad, TOL_GRAD, "projection D, d/dx");
        ag_ctx_reset(c);
    }
    free(labels);
    ag_ctx_free(c);
    gan_dcgan_g_free(g);
    gan_dcgan_d_free(d);
}

static void check_step(fx_file *f, const ag_backend *be) {
    gan_dcgan_g *g = gan_dcgan_g_create(be, shape3);
    gan_dcgan_d *d = gan_dcgan_d_create(be, shape3);
    load_set(f, "/step/G", g->params);
    load_set(f, "/step/G", g->buffers);
    load_set(f, "/step/D", d->params);
    load_set(f, "/step/D", d->buffers);
    ag_shape rs, zs;
    float *real = fx_read(f, "/step/real", &rs), *z = fx_read(f, "/step/noise", &zs);
    int nr = 0, nf = 0;
    int32_t *yr = read_labels(f, "/step/real_labels", &nr), *yf = read_labels(f, "/step/fake_labels", &nf);
    ag_ctx *c = ag_ctx_create(be);
    ag_adam *opt_g = ag_adam_create(g->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    ag_adam *opt_d = ag_adam_create(d->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    if (real && z && yr && yf) {
        gan_dcgan_step_opts o = {.loss = GAN_LOSS_BCE, .d_steps = 1};
        gan_dcgan_step_stats st;
        gan_dcgan_train_step_cond(c, g, d, opt_g, opt_d, &o, (int)rs.d[0], real, yr, z, yf, NULL, &st);
        const char *names[] = {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2"};
        const float ours[] = {st.loss_d, st.loss_g, st.d_x, st.d_g_z1, st.d_g_z2};
        for (int i = 0; i < 5; i++) {
            char path[64];
            ag_shape one;
            snprintf(path, sizeof path, "/step/%s", names[i]);
            float *ref = fx_read(f, path, &one);
            if (ref) TEST_CLOSE(ours[i], ref[0], TOL_FORWARD, TOL_FORWARD, names[i]);
            free(ref);
        }
        expect_set(f, "/step/grad_D", d->params, true, TOL_GRAD);
        expect_set(f, "/step/grad_G", g->params, true, TOL_GRAD);
        expect_set(f, "/step/D_after", d->params, false, TOL_AFTER);
        expect_set(f, "/step/D_after", d->buffers, false, TOL_FORWARD);
        expect_set(f, "/step/G_after", g->params, false, TOL_AFTER);
        expect_set(f, "/step/G_after", g->buffers, false, TOL_FORWARD);
    }
    ag_adam_free(opt_g);
    ag_adam_free(opt_d);
    free(real), free(z), free(yr), free(yf);
    ag_ctx_free(c);
    gan_dcgan_g_free(g);
    gan_dcgan_d_free(d);
}

static void check_one_hot(const ag_backend *be) {
    ag_ctx *c = ag_ctx_create(be);
    const int32_t y[3] = {2, 0, 1};
    float h[9];
    ag_tensor_to_host(nn_one_hot(c, y, 3, 3), h);
    const float want[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
    TEST_CHECK(!memcmp(h, want, sizeof h), "one-hot of [2, 0, 1]");
    ag_ctx_free(c);
}

// The family: a conditional step draws the fake classes after the unconditional draws, so the
// rng has advanced by exactly those extra draws; generate without labels cycles the classes
// (image i of class i % K), and with labels follows them.
static void check_family(const ag_backend *be) {
    const gan_family *fam = gan_family_find("dcgan");
    gan_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.model.type, sizeof cfg.model.type, "dcgan");
    snprintf(cfg.train.loss, sizeof cfg.train.loss, "bce");
    cfg.model.resolution = 32, cfg.model.channels = 1, cfg.model.nz = 8, cfg.model.ngf = 4, cfg.model.ndf = 4;
    cfg.train.batch_size = 6, cfg.train.d_steps = 1, cfg.train.lr_g = cfg.train.lr_d = 2e-4;
    cfg.train.beta1 = 0.5, cfg.train.beta2 = 0.999;
    uint64_t used[2];
    for (int cond = 0; cond < 2; cond++) {
        cfg.model.num_classes = cond ? 4 : 0;
        ag_rng init = ag_rng_make(11), rng = ag_rng_make(12);
        gan_err err;
        gan_model *m = fam->create(&cfg, be, &init, &err);
        TEST_CHECK(m, "create (num_classes %d): %s", cfg.model.num_classes, err.msg);
        if (!m) return;
        float *real = calloc(6 * 32 * 32, sizeof *real);
        int32_t labels[6] = {0, 1, 2, 3, 0, 1};
        ag_ctx *c = ag_ctx_create(be);
        gan_stats st;
        fam->step(m, c, 0, real, cond ? labels : NULL, &rng, &st);
        used[cond] = rng.counter;
        for (int i = 0; i < st.n; i++) TEST_CHECK(isfinite(st.values[i]), "%s finite", st.names[i]);
        if (cond) {
            // Image i from the same z: without labels it is of class i % 4; with labels of
            // the given class, so image 5 (class 1) equals image 1 given class 1.
            float z[8 * 8], a[8 * 1024], b[8 * 1024];
            for (int i = 0; i < 64; i++) z[i] = (float)((i * 37) % 11) / 5.0f - 1.0f;
            for (int i = 8; i < 16; i++) z[40 + i - 8] = z[i];  // image 5 has image 1's latent
            gan_sample_opts o = {.psi = 1.0f};
            fam->generate(m, c, z, 8, &o, a);
            const int32_t given[8] = {1, 1, 1, 1, 1, 1, 1, 1};
            o.labels = given;
            fam->generate(m, c, z, 8, &o, b);
            TEST_CHECK(!memcmp(a + 1024, b + 1024, 1024 * sizeof(float)), "class cycling: image 1 is of class 1");
            TEST_CHECK(!memcmp(a + 5 * 1024, b + 1024, 1024 * sizeof(float)), "class cycling: image 5 is of class 1");
            TEST_CHECK(memcmp(a, b, 1024 * sizeof(float)) != 0, "image 0 of class 0 differs from class 1");
        }
        ag_ctx_free(c);
        free(real);
        fam->free(m);
    }
    // Philox counters come in blocks of four values: 6 uniform draws take two more blocks.
    TEST_CHECK(used[1] == used[0] + 2, "fake classes take 2 counter blocks after the rest (%llu vs %llu)",
               (unsigned long long)used[1], (unsigned long long)used[0]);
}

// WGAN-GP through the projection D (no batchnorm, K = 3): the penalty's gradient with respect
// to the last conv and to embed.weight, by finite differences. Both act after every LeakyReLU,
// so the penalty is smooth in them; the projection's double backward (matmul, mul, sum) is
// what this exercises beyond test_losses.
typedef struct penalty_case {
    gan_dcgan_d *d;
    float real[4 * 1024], fake[4 * 1024], eps[4];
    int32_t labels[4];
} penalty_case;

typedef struct critic_args {
    gan_dcgan_d *d;
    ag_tensor *y;
} critic_args;

static ag_tensor *critic(ag_ctx *c, void *a, ag_tensor *x) {
    critic_args *ca = a;
    return gan_dcgan_d_forward_cond(c, ca->d, x, ca->y, true, true);
}

static ag_tensor *penalty_fn(ag_ctx *c, ag_tensor **inputs, void *user) {
    (void)inputs;  // D's own parameters
    penalty_case *p = user;
    ag_tensor *real = ag_from_host(c, AG_SHAPE(4, 1, 32, 32), p->real);
    ag_tensor *fake = ag_from_host(c, AG_SHAPE(4, 1, 32, 32), p->fake);
    ag_tensor *eps = ag_from_host(c, AG_SHAPE(4, 1, 1, 1), p->eps);
    critic_args ca = {p->d, nn_one_hot(c, p->labels, 4, 3)};
    return ag_scale(c, gan_loss_gradient_penalty(c, critic, &ca, real, fake, eps, NULL), 100.0f);
}

static void check_penalty(const ag_backend *be) {
    gan_dcgan_shape s = shape3;
    s.d_no_bn = true;
    penalty_case *p = calloc(1, sizeof *p);
    p->d = gan_dcgan_d_create(be, s);
    TEST_CHECK(p->d->params->count == 5 && !strcmp(p->d->params->items[4].name, "embed.weight"),
               "the conditional critic: 4 convs and the embedding");
    ag_philox_fill_uniform(p->real, 4096, 6, 0, -1.0f, 1.0f);
    ag_philox_fill_uniform(p->fake, 4096, 7, 0, -1.0f, 1.0f);
    ag_philox_fill_uniform(p->eps, 4, 8, 0, 0.0f, 1.0f);
    const int32_t y[4] = {2, 0, 1, 2};
    memcpy(p->labels, y, sizeof y);
    ag_rng r = ag_rng_make(5);
    // About PyTorch's default scale times 2.35, as test_losses: gradient norms near 1, where the
    // penalty is not nearly constant (DCGAN's N(0, 0.02) gives norms of 0.03, and a stencil
    // then measures float32 rounding).
    const float std[5] = {0.34f, 0.17f, 0.12f, 0.085f, 0.085f};
    for (int i = 0; i < 5; i++) ag_tensor_fill_normal(p->d->params->items[i].t, &r, 0.0f, std[i]);
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *norms;
    critic_args ca = {p->d, NULL};
    ag_tensor *real = ag_from_host(c, AG_SHAPE(4, 1, 32, 32), p->real);
    ag_tensor *fake = ag_from_host(c, AG_SHAPE(4, 1, 32, 32), p->fake);
    ag_tensor *eps = ag_from_host(c, AG_SHAPE(4, 1, 1, 1), p->eps);
    ca.y = nn_one_hot(c, y, 4, 3);
    gan_loss_gradient_penalty(c, critic, &ca, real, fake, eps, &norms);
    float nm[4];
    ag_tensor_to_host(norms, nm);
    printf("gradient norms through the projection: %.3f %.3f %.3f %.3f\n", nm[0], nm[1], nm[2], nm[3]);
    ag_ctx_free(c);
    ag_tensor *ins[5];
    for (int i = 0; i < 5; i++) ins[i] = p->d->params->items[i].t;
    // A wide step: the penalty is smooth in these weights (nearly quadratic), and with 1e-3 the
    // stencil measures float32 rounding of the convolutions (errors of 0.01 both ways, also for
    // the unconditional critic), not the gradient.
    gc_opts o = {.eps = 1e-2f, .atol = 2e-3f, .rtol = 2e-2f, .kinks = false, .skip_input = 0x7};
    TEST_CHECK(gc_check_grad("wgan-gp penalty through the projection", penalty_fn, 5, ins, p, o) == 0,
               "the penalty's gradient agrees with finite differences");
    gan_dcgan_d_free(p->d);
    free(p);
}

int main(void) {
    ag_backend *be = test_backend();
    check_one_hot(be);
    fx_file *f = fx_open("conditional.h5");
    if (f) {
        check_forward(f, be);
        check_step(f, be);
        fx_close(f);
    }
    check_family(be);
    check_penalty(be);
    return test_finish();  // test_backend closes the backend at exit
}
