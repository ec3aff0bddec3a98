// The GAN losses (src/gan/models/losses.h) against PyTorch (tests/fixtures/losses.h5, written by
// tools/make_fixtures_losses.py, whose docstring describes the file):
//   - every loss's D and G terms and their gradients on given D scores;
//   - WGAN-GP's gradient penalty through DCGAN's critic (D without batchnorm): the gradient norms,
//     the penalty, and its gradient with respect to every parameter of D (a gradient of a
//     gradient), alone and inside the whole D loss; the same gradient by finite differences, and
//     through StyleGAN2's D;
//   - one DCGAN iteration (dcgan_train.h) with hinge, lsgan and wgan-gp: losses, scores, every
//     gradient and the weights after both Adam steps.
// Values and gradients are compared relative to the largest value of each reference tensor.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcgan.h"
#include "dcgan_train.h"
#include "fixture.h"
#include "gradcheck.h"
#include "losses.h"
#include "stylegan2_tiny.h"
#include "test.h"
#include "test_backend.h"

#define TOL_REL 1e-5
// The iteration's gradients pass through up to 5 batchnorms over batches of 4 (G, and D for
// hinge and lsgan), as in test_parity_dcgan.
#define TOL_STEP_GRAD 1e-4
#define TOL_STEP_FORWARD 2e-5
#define TOL_STEP_AFTER 2e-6

static double worst_rel;  // the largest relative error expect_rel measured, printed at the end

// t against the dataset at path: max |ours - ref| <= tol * max |ref|.
static void expect_rel(fx_file *f, const char *path, const ag_tensor *t, double tol, const char *what) {
    fx_diff d = fx_compare(f, path, t);
    double scale = d.ref_max > 0 ? d.ref_max : 1.0;
    double rel = isfinite(d.err) ? d.err * (d.ref_max > 1 ? d.ref_max : 1.0) / scale : INFINITY;
    worst_rel = test_nanmax(worst_rel, rel);
    TEST_CHECK(rel <= tol, "%s (%s): relative error %.3g > %.3g (ours %.9g, ref %.9g at %lld)", what, path, rel, tol,
               (double)d.ours, (double)d.ref, (long long)d.worst);
}

static const char *const loss_names[] = {"bce", "logits", "logistic", "hinge", "lsgan", "wgan-gp"};

static void check_scores(fx_file *f, const ag_backend *be) {
    ag_ctx *c = ag_ctx_create(be);
    for (int i = 0; i < 6; i++) {
        const char *name = loss_names[i];
        int k = gan_loss_from_name(name);
        TEST_CHECK(k >= 0 && !strcmp(gan_loss_name((gan_loss_kind)k), name), "loss name %s", name);
        if (k < 0) continue;
        double label = 1.0;
        char path[128], what[128];
        snprintf(path, sizeof path, "/%s", name);
        fx_attr_float(f, path, "real_label", &label);
        ag_tensor *real = fx_tensor(c, f, "/scores/real"), *fake = fx_tensor(c, f, "/scores/fake");
        if (!real || !fake) break;
        if (gan_loss_d_sigmoid((gan_loss_kind)k)) real = ag_sigmoid(c, real), fake = ag_sigmoid(c, fake);
        ag_requires_grad(real, true);
        ag_requires_grad(fake, true);
        struct {
            const char *term, *grad;
            ag_tensor *value, *wrt;
        } terms[3] = {
            {"d_real", "grad_real", gan_loss_d_real(c, (gan_loss_kind)k, real, (float)label), real},
            {"d_fake", "grad_fake", gan_loss_d_fake(c, (gan_loss_kind)k, fake), fake},
            {"g", "grad_g", gan_loss_g(c, (gan_loss_kind)k, fake), fake},
        };
        for (int t = 0; t < 3; t++) {
            ag_tensor *g;
            ag_grad(c, 1, &terms[t].value, NULL, 1, &terms[t].wrt, false, &g);
            snprintf(path, sizeof path, "/%s/%s", name, terms[t].term);
            snprintf(what, sizeof what, "%s %s", name, terms[t].term);
            expect_rel(f, path, terms[t].value, TOL_REL, what);
            snprintf(path, sizeof path, "/%s/%s", name, terms[t].grad);
            snprintf(what, sizeof what, "%s %s", name, terms[t].grad);
            expect_rel(f, path, g, TOL_REL, what);
        }
        ag_ctx_reset(c);
    }
    TEST_CHECK(gan_loss_from_name("wgan") == -1, "an unknown name is -1");
    TEST_CHECK(gan_loss_d_sigmoid(GAN_LOSS_BCE) && !gan_loss_d_sigmoid(GAN_LOSS_LOGITS) &&
                   !gan_loss_d_sigmoid(GAN_LOSS_HINGE) && !gan_loss_d_sigmoid(GAN_LOSS_WGAN_GP),
               "only bce reads probabilities");
    ag_ctx_free(c);
}

static void load_set(fx_file *f, const char *group, ag_params *ps) {
    char path[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        fx_load_into(f, path, ps->items[i].t);
    }
}

static void expect_set(fx_file *f, const char *group, ag_params *ps, bool grads, double tol, bool relative) {
    char path[256], what[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        snprintf(what, sizeof what, "%s %s", group, ps->items[i].name);
        const ag_tensor *t = grads ? ps->items[i].t->grad : ps->items[i].t;
        if (relative) expect_rel(f, path, t, tol, what);
        else FX_EXPECT(f, path, t, tol, what);
    }
}

static ag_tensor *critic(ag_ctx *c, void *d, ag_tensor *x) { return gan_dcgan_d_forward(c, d, x, true, true); }

// What the finite differences differentiate: 100 * the per-sample penalty (N) of the fixture's
// batch, as a function of D's parameters (gc_check_grad perturbs them in place).
typedef struct penalty_case {
    gan_dcgan_d *d;
    fx_file *f;
} penalty_case;

static ag_tensor *penalty_fn(ag_ctx *c, ag_tensor **inputs, void *user) {
    (void)inputs;  // D's own parameters: the critic reads them
    penalty_case *p = user;
    ag_tensor *real = fx_tensor(c, p->f, "/penalty/real"), *fake = fx_tensor(c, p->f, "/penalty/fake");
    ag_tensor *eps = fx_tensor(c, p->f, "/penalty/eps");
    return ag_scale(c, gan_loss_gradient_penalty(c, critic, p->d, real, fake, eps, NULL), 100.0f);
}

static void check_penalty(fx_file *f, ag_backend *be) {
    gan_dcgan_shape s = {.resolution = 32, .nz = 8, .ngf = 4, .ndf = 4, .nc = 1, .d_no_bn = true};
    gan_dcgan_d *d = gan_dcgan_d_create(be, s);
    TEST_CHECK(d->params->count == 4 && d->buffers->count == 0, "the critic has 4 weights and no buffers, got %d, %d",
               d->params->count, d->buffers->count);
    load_set(f, "/penalty/D", d->params);
    double lambda = 0;
    fx_attr_float(f, "/penalty", "lambda", &lambda);
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *real = fx_tensor(c, f, "/penalty/real"), *fake = fx_tensor(c, f, "/penalty/fake");
    ag_tensor *eps = fx_tensor(c, f, "/penalty/eps");
    if (!real || !fake || !eps) goto done;

    // The penalty alone, and its gradient into D (through the gradient with create_graph).
    ag_params_zero_grad(d->params);
    ag_tensor *norms, *pen = gan_loss_gradient_penalty(c, critic, d, real, fake, eps, &norms);
    expect_rel(f, "/penalty/norms", norms, TOL_REL, "gradient norms");
    expect_rel(f, "/penalty/penalty", pen, TOL_REL, "(|grad| - 1)^2");
    ag_backward(c, ag_mean(c, pen));
    expect_set(f, "/penalty/grad_gp", d->params, true, TOL_REL, true);
    ag_ctx_reset(c);

    // The whole D loss as the DCGAN step builds it: real, fake and penalty passes, one backward each.
    ag_params_zero_grad(d->params);
    real = fx_tensor(c, f, "/penalty/real"), fake = fx_tensor(c, f, "/penalty/fake");
    eps = fx_tensor(c, f, "/penalty/eps");
    ag_tensor *out_real = critic(c, d, real), *out_fake = critic(c, d, fake);
    expect_rel(f, "/penalty/d_real", out_real, TOL_REL, "D(real)");
    expect_rel(f, "/penalty/d_fake", out_fake, TOL_REL, "D(fake)");
    ag_tensor *lr = gan_loss_d_real(c, GAN_LOSS_WGAN_GP, out_real, 1.0f);
    ag_tensor *lf = gan_loss_d_fake(c, GAN_LOSS_WGAN_GP, out_fake);
    ag_tensor *lgp = ag_scale(c, ag_mean(c, gan_loss_gradient_penalty(c, critic, d, real, fake, eps, NULL)),
                              (float)lambda);
    ag_backward(c, lr);
    ag_backward(c, lf);
    ag_backward(c, lgp);
    ag_tensor *total = ag_add(c, ag_add(c, lr, lf), lgp);
    expect_rel(f, "/penalty/loss_d", total, TOL_REL, "D(fake) - D(real) + lambda * penalty");
    expect_set(f, "/penalty/grad_D", d->params, true, TOL_REL, true);
    ag_ctx_reset(c);

    // Finite differences of the penalty's gradient with respect to the last conv's weights: no
    // LeakyReLU follows them, so the penalty is smooth in them (a quadratic in the gradient,
    // which is linear in them). The earlier weights move thousands of LeakyReLU inputs each, so
    // any useful step straddles kinks; PyTorch checks those above.
    penalty_case pc = {d, f};
    ag_tensor *ins[4];
    for (int i = 0; i < 4; i++) ins[i] = d->params->items[i].t;
    gc_opts o = {.eps = 1e-3f, .atol = 2e-3f, .rtol = 2e-2f, .kinks = false, .skip_input = 0x7};
    TEST_CHECK(gc_check_grad("wgan-gp penalty wrt D", penalty_fn, 4, ins, &pc, o) == 0,
               "the penalty's gradient agrees with finite differences");
done:
    ag_ctx_free(c);
    gan_dcgan_d_free(d);
}

// StyleGAN2's D under the penalty (its minibatch-stddev layer ties the samples of a group
// together, and the gradient of the sum includes those terms): the penalty's gradient with
// respect to the last layer (b4.out, after every nonlinearity, so the penalty is smooth in it)
// by finite differences. The math is PyTorch-checked above; this checks the path through
// StyleGAN2's D, which only R1 had used.
typedef struct sg2_penalty_case {
    gan_sg2_d *d;
    const float *real, *fake, *eps;  // (4, 1, 16, 16) twice, (4)
} sg2_penalty_case;

static ag_tensor *sg2_critic(ag_ctx *c, void *d, ag_tensor *x) { return gan_sg2_d_forward(c, d, x); }

static ag_tensor *sg2_penalty_fn(ag_ctx *c, ag_tensor **inputs, void *user) {
    (void)inputs;
    sg2_penalty_case *p = user;
    ag_tensor *real = ag_from_host(c, AG_SHAPE(4, 1, 16, 16), p->real);
    ag_tensor *fake = ag_from_host(c, AG_SHAPE(4, 1, 16, 16), p->fake);
    ag_tensor *eps = ag_from_host(c, AG_SHAPE(4, 1, 1, 1), p->eps);
    return ag_scale(c, gan_loss_gradient_penalty(c, sg2_critic, p->d, real, fake, eps, NULL), 100.0f);
}

static void check_penalty_sg2(ag_backend *be) {
    gan_sg2_shape s = sg2_tiny_shape();
    gan_sg2_d *d = gan_sg2_d_create(be, s);
    ag_rng rng = ag_rng_make(14);
    gan_sg2_d_init(d, &rng);
    float real[4 * 256], fake[4 * 256], eps[4];
    ag_philox_fill_uniform(real, 4 * 256, 14, 1000, -1.0f, 1.0f);
    ag_philox_fill_uniform(fake, 4 * 256, 14, 2000, -1.0f, 1.0f);
    ag_philox_fill_uniform(eps, 4, 14, 3000, 0.0f, 1.0f);
    sg2_penalty_case pc = {d, real, fake, eps};
    ag_tensor *ins[1] = {d->epi_out.weight};
    gc_opts o = {.eps = 1e-3f, .atol = 2e-3f, .rtol = 2e-2f};
    TEST_CHECK(gc_check_grad("wgan-gp penalty through stylegan2's D", sg2_penalty_fn, 1, ins, &pc, o) == 0,
               "the penalty's gradient through StyleGAN2's D agrees with finite differences");
    gan_sg2_d_free(d);
}

static void check_step(fx_file *f, ag_backend *be, gan_loss_kind loss) {
    char group[64], path[128];
    snprintf(group, sizeof group, "/step_%s", gan_loss_name(loss));
    const bool wgan = loss == GAN_LOSS_WGAN_GP;
    gan_dcgan_shape s = {.resolution = 32, .nz = 8, .ngf = 4, .ndf = 4, .nc = 1, .d_no_bn = wgan};
    gan_dcgan_g *g = gan_dcgan_g_create(be, s);
    gan_dcgan_d *d = gan_dcgan_d_create(be, s);
    snprintf(path, sizeof path, "%s/G", group);
    load_set(f, path, g->params);
    load_set(f, path, g->buffers);
    snprintf(path, sizeof path, "%s/D", group);
    load_set(f, path, d->params);
    load_set(f, path, d->buffers);
    ag_shape rs, zs, es;
    snprintf(path, sizeof path, "%s/real", group);
    float *real = fx_read(f, path, &rs);
    snprintf(path, sizeof path, "%s/noise", group);
    float *z = fx_read(f, path, &zs);
    snprintf(path, sizeof path, "%s/eps", group);
    float *eps = wgan ? fx_read(f, path, &es) : NULL;
    ag_ctx *c = ag_ctx_create(be);
    ag_adam *opt_g = ag_adam_create(g->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    ag_adam *opt_d = ag_adam_create(d->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    if (real && z && (eps || !wgan)) {
        gan_dcgan_step_opts o = {.loss = loss, .d_steps = 1, .gp_lambda = 10.0f};
        gan_dcgan_step_stats st;
        gan_dcgan_train_step(c, g, d, opt_g, opt_d, &o, rs.d[0], real, z, eps, &st);
        const char *names[] = {"loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2", "gp"};
        const float ours[] = {st.loss_d, st.loss_g, st.d_x, st.d_g_z1, st.d_g_z2, st.gp};
        for (int i = 0; i < (wgan ? 6 : 5); i++) {
            ag_shape one;
            snprintf(path, sizeof path, "%s/%s", group, names[i]);
            float *ref = fx_read(f, path, &one);
            if (ref) {
                char what[96];
                snprintf(what, sizeof what, "%s %s", gan_loss_name(loss), names[i]);
                TEST_CLOSE(ours[i], ref[0], TOL_STEP_FORWARD, TOL_STEP_FORWARD, what);
            }
            free(ref);
        }
        char sub[160];
        snprintf(sub, sizeof sub, "%s/grad_D", group);
        expect_set(f, sub, d->params, true, TOL_STEP_GRAD, false);
        snprintf(sub, sizeof sub, "%s/grad_G", group);
        expect_set(f, sub, g->params, true, TOL_STEP_GRAD, false);
        snprintf(sub, sizeof sub, "%s/D_after", group);
        expect_set(f, sub, d->params, false, TOL_STEP_AFTER, false);
        expect_set(f, sub, d->buffers, false, TOL_STEP_FORWARD, false);
        snprintf(sub, sizeof sub, "%s/G_after", group);
        expect_set(f, sub, g->params, false, TOL_STEP_AFTER, false);
        expect_set(f, sub, g->buffers, false, TOL_STEP_FORWARD, false);
    }
    ag_adam_free(opt_g);
    ag_adam_free(opt_d);
    free(real);
    free(z);
    free(eps);
    ag_ctx_free(c);
    gan_dcgan_g_free(g);
    gan_dcgan_d_free(d);
}

int main(void) {
    fx_file *f = fx_open("losses.h5");
    if (!f) return test_finish();
    ag_backend *be = test_backend();
    check_scores(f, be);
    check_penalty(f, be);
    check_penalty_sg2(be);
    check_step(f, be, GAN_LOSS_HINGE);
    check_step(f, be, GAN_LOSS_LSGAN);
    check_step(f, be, GAN_LOSS_WGAN_GP);
    fx_close(f);
    printf("largest relative error against PyTorch (losses, penalty): %.3g\n", worst_rel);
    return test_finish();
}
