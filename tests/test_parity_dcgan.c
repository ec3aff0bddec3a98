// The DCGAN of pytorch/examples against PyTorch (tests/fixtures/dcgan{32,64}.h5, written by
// tools/make_fixtures.py): the same initial weights, one full iteration of the reference loop,
// then losses, D outputs, every gradient and the whole state after both Adam steps (running
// statistics included) must match.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dcgan.h"
#include "dcgan_train.h"
#include "fixture.h"
#include "test.h"
#include "test_backend.h"

// Forward values and losses agree to float rounding; gradients pass through up to 5
// batchnorms over batches of 4 and a few near-cancelling sums, so they get a looser bound.
#define TOL_FORWARD 2e-5
#define TOL_GRAD 1e-4
// The first Adam step moves each weight by about lr * sign(g) = 2e-4, so weights after it
// differ from PyTorch's only by rounding unless a gradient's sign differs.
#define TOL_AFTER 2e-6

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

static void check_file(const char *name, int resolution, int nc) {
    fx_file *f = fx_open(name);
    if (!f) return;
    ag_backend *be = test_backend();
    gan_dcgan_shape s = {.resolution = resolution, .nz = 16, .ngf = 8, .ndf = 8, .nc = nc};
    gan_dcgan_g *g = gan_dcgan_g_create(be, s);
    gan_dcgan_d *d = gan_dcgan_d_create(be, s);
    load_set(f, "/G", g->params);
    load_set(f, "/G", g->buffers);
    load_set(f, "/D", d->params);
    load_set(f, "/D", d->buffers);
    ag_shape rs, zs;
    float *real = fx_read(f, "/real", &rs), *z = fx_read(f, "/noise", &zs);
    ag_ctx *c = ag_ctx_create(be);
    if (!real || !z) goto done;
    int B = rs.d[0];

    // G's output, with its running statistics put back afterwards so the iteration below
    // starts from the fixture's state.
    {
        float *saved = malloc((size_t)g->buffers->values->numel * sizeof(float));
        ag_tensor_to_host(g->buffers->values, saved);
        ag_tensor *fake = gan_dcgan_g_forward(c, g, ag_from_host(c, zs, z), true);
        FX_EXPECT(f, "/fake", fake, TOL_FORWARD, "G(noise)");
        ag_tensor *out = gan_dcgan_d_forward(c, d, ag_from_host(c, rs, real), true, false);
        FX_EXPECT(f, "/d_real", out, TOL_FORWARD, "D(real)");
        ag_tensor_from_host(g->buffers->values, saved);
        free(saved);
        ag_ctx_reset(c);
        load_set(f, "/D", d->buffers);  // undo the D forward's running-stat update too
    }

    ag_adam *opt_g = ag_adam_create(g->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    ag_adam *opt_d = ag_adam_create(d->params, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f);
    gan_dcgan_step_opts o = {.loss = GAN_LOSS_BCE, .label_smoothing = 0.0f, .d_steps = 1};
    gan_dcgan_step_stats st;
    gan_dcgan_train_step(c, g, d, opt_g, opt_d, &o, B, real, z, NULL, &st);

    ag_shape one;
    float *err_real = fx_read(f, "/errD_real", &one), *err_fake = fx_read(f, "/errD_fake", &one);
    float *err_g = fx_read(f, "/errG", &one);
    float *d_real = fx_read(f, "/d_real", &one), *d_fake1 = fx_read(f, "/d_fake1", &one);
    float *d_fake2 = fx_read(f, "/d_fake2", &one);
    if (err_real && err_fake && err_g && d_real && d_fake1 && d_fake2) {
        double mx = 0, m1 = 0, m2 = 0;
        for (int i = 0; i < B; i++) mx += d_real[i] / B, m1 += d_fake1[i] / B, m2 += d_fake2[i] / B;
        TEST_CLOSE(st.loss_d, err_real[0] + err_fake[0], TOL_FORWARD, TOL_FORWARD, "errD_real + errD_fake");
        TEST_CLOSE(st.loss_g, err_g[0], TOL_FORWARD, TOL_FORWARD, "errG");
        TEST_CLOSE(st.d_x, mx, TOL_FORWARD, 0, "D(x)");
        TEST_CLOSE(st.d_g_z1, m1, TOL_FORWARD, 0, "D(G(z)) before the D step");
        TEST_CLOSE(st.d_g_z2, m2, TOL_FORWARD, 0, "D(G(z)) after the D step");
    }
    free(err_real), free(err_fake), free(err_g), free(d_real), free(d_fake1), free(d_fake2);

    expect_set(f, "/grad_D", d->params, true, TOL_GRAD);
    expect_set(f, "/grad_G", g->params, true, TOL_GRAD);
    expect_set(f, "/D_after", d->params, false, TOL_AFTER);
    expect_set(f, "/D_after", d->buffers, false, TOL_FORWARD);
    expect_set(f, "/G_after", g->params, false, TOL_AFTER);
    expect_set(f, "/G_after", g->buffers, false, TOL_FORWARD);
    ag_adam_free(opt_g);
    ag_adam_free(opt_d);
done:
    free(real);
    free(z);
    ag_ctx_free(c);
    gan_dcgan_g_free(g);
    gan_dcgan_d_free(d);
    fx_close(f);
}

int main(void) {
    check_file("dcgan32.h5", 32, 1);
    check_file("dcgan64.h5", 64, 3);
    return test_finish();
}
