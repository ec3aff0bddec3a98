// Spectral normalisation of DCGAN's D (src/layers/spectral_norm.h, model.spectral_norm) against
// PyTorch's torch.nn.utils.spectral_norm (tests/fixtures/spectral_norm.h5, written by
// tools/make_fixtures_spectral_norm.py, whose docstring describes the file):
//   - the state's names and shapes, and initialisation (u, v unit vectors drawn after every other
//     draw, so the weights are those of a D without spectral normalisation from the same seed);
//   - three training-mode forwards of the 32x32 D with batchnorm: outputs, u and v after each
//     call (one power iteration per call), sigma, and the gradient of a loss over the three
//     calls with respect to every parameter; then an eval-mode forward (no iteration);
//   - whole DCGAN iterations (dcgan_train.h) with bce, hinge (two iterations) and wgan-gp (the
//     penalty's double backward through weight_orig / sigma): losses, scores, every gradient,
//     and the weights, u, v and running statistics after Adam.
// Values are compared relative to the largest value of each reference tensor.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "dcgan.h"
#include "dcgan_train.h"
#include "fixture.h"
#include "losses.h"
#include "test.h"
#include "test_backend.h"

#define TOL_REL 1e-5
// The iteration's gradients pass through batchnorms over batches of 4 (as test_losses).
#define TOL_STEP_GRAD 1e-4
#define TOL_STEP_FORWARD 2e-5
#define TOL_STEP_AFTER 1e-5

static double worst_rel, worst_after;  // the largest relative errors measured, printed at the end

// t against the dataset at path: max |ours - ref| <= tol * max |ref|.
static double expect_rel(fx_file *f, const char *path, const ag_tensor *t, double tol, const char *what) {
    fx_diff d = fx_compare(f, path, t);
    double scale = d.ref_max > 0 ? d.ref_max : 1.0;
    double rel = isfinite(d.err) ? d.err * (d.ref_max > 1 ? d.ref_max : 1.0) / scale : INFINITY;
    worst_rel = test_nanmax(worst_rel, rel);
    TEST_CHECK(rel <= tol, "%s (%s): relative error %.3g > %.3g (ours %.9g, ref %.9g at %lld)", what, path, rel, tol,
               (double)d.ours, (double)d.ref, (long long)d.worst);
    return rel;
}

static void load_set(fx_file *f, const char *group, ag_params *ps) {
    char path[256];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        fx_load_into(f, path, ps->items[i].t);
    }
}

// Every tensor of ps (or its gradient) against group/<name>; returns the largest relative error.
static double expect_set(fx_file *f, const char *group, ag_params *ps, bool grads, double tol) {
    char path[256], what[256];
    double worst = 0;
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "%s/%s", group, ps->items[i].name);
        snprintf(what, sizeof what, "%s %s", group, ps->items[i].name);
        worst = test_nanmax(worst, expect_rel(f, path, grads ? ps->items[i].t->grad : ps->items[i].t, tol, what));
    }
    return worst;
}

static gan_dcgan_shape sn_shape(bool no_bn) {
    return (gan_dcgan_shape){.resolution = 32, .nz = 8, .ngf = 4, .ndf = 4, .nc = 1, .d_no_bn = no_bn,
                             .spectral_norm = true};
}

static double norm_of(const ag_tensor *t) {
    float *x = malloc((size_t)t->numel * sizeof *x);
    ag_tensor_to_host(t, x);
    double s = 0;
    for (int64_t i = 0; i < t->numel; i++) s += (double)x[i] * x[i];
    free(x);
    return sqrt(s);
}

static bool same_values(const ag_tensor *a, const ag_tensor *b) {
    if (a->numel != b->numel) return false;
    float *x = malloc((size_t)a->numel * sizeof *x), *y = malloc((size_t)b->numel * sizeof *y);
    ag_tensor_to_host(a, x);
    ag_tensor_to_host(b, y);
    bool same = !memcmp(x, y, (size_t)a->numel * sizeof *x);
    free(x);
    free(y);
    return same;
}

// PyTorch's state_dict names and shapes; the init keeps the stream of a D without SN.
static void check_layout_and_init(ag_backend *be) {
    gan_dcgan_shape s = sn_shape(false), plain = s;
    plain.spectral_norm = false;
    gan_dcgan_d *d = gan_dcgan_d_create(be, s), *p = gan_dcgan_d_create(be, plain);
    static const char *const convs[] = {"main.0", "main.2", "main.5", "main.8"};
    static const int64_t outs[] = {4, 8, 16, 1}, ins[] = {16, 64, 128, 256};
    char name[96];
    for (int j = 0; j < 4; j++) {
        snprintf(name, sizeof name, "%s.weight_orig", convs[j]);
        ag_tensor *w = ag_params_find(d->params, name);
        TEST_CHECK(w && w->shape.ndim == 4 && w->shape.d[0] == outs[j] && w->numel == outs[j] * ins[j],
                   "%s is a trainable (%lld, %lld/16, 4, 4)", name, (long long)outs[j], (long long)ins[j]);
        snprintf(name, sizeof name, "%s.weight", convs[j]);
        TEST_CHECK(!ag_params_find(d->params, name) && ag_params_find(p->params, name),
                   "%s only without spectral normalisation", name);
        snprintf(name, sizeof name, "%s.weight_u", convs[j]);
        ag_tensor *u = ag_params_find(d->buffers, name);
        TEST_CHECK(u && u->shape.ndim == 1 && u->shape.d[0] == outs[j], "%s is a (%lld) buffer", name,
                   (long long)outs[j]);
        snprintf(name, sizeof name, "%s.weight_v", convs[j]);
        ag_tensor *v = ag_params_find(d->buffers, name);
        TEST_CHECK(v && v->shape.ndim == 1 && v->shape.d[0] == ins[j], "%s is a (%lld) buffer", name,
                   (long long)ins[j]);
    }
    TEST_CHECK(d->params->count == p->params->count && d->buffers->count == p->buffers->count + 8,
               "the same parameters, and u and v for each of the 4 convs: %d/%d params, %d/%d buffers",
               d->params->count, p->params->count, d->buffers->count, p->buffers->count);

    ag_rng r1 = ag_rng_make(7), r2 = ag_rng_make(7);
    gan_dcgan_d_init(d, &r1);
    gan_dcgan_d_init(p, &r2);
    bool same = true;
    for (int i = 0; i < d->params->count; i++) same = same && same_values(d->params->items[i].t, p->params->items[i].t);
    TEST_CHECK(same, "weight_orig and batchnorm are drawn as without spectral normalisation");
    TEST_CHECK(r1.counter > r2.counter, "u and v are drawn after the other draws");
    for (int j = 0; j <= d->nblocks; j++) {
        TEST_CLOSE(norm_of(d->sn[j].u), 1.0, 1e-6, 1e-6, "|u| after init");
        TEST_CLOSE(norm_of(d->sn[j].v), 1.0, 1e-6, 1e-6, "|v| after init");
    }
    gan_dcgan_d_free(d);
    gan_dcgan_d_free(p);
}

static void check_forward(fx_file *f, ag_backend *be) {
    gan_dcgan_d *d = gan_dcgan_d_create(be, sn_shape(false));
    load_set(f, "/forward/D", d->params);
    load_set(f, "/forward/D", d->buffers);
    ag_ctx *c = ag_ctx_create(be);
    ag_params_zero_grad(d->params);
    ag_tensor *loss = NULL;
    char path[128], what[128];
    static const char *const convs[] = {"main.0", "main.2", "main.5", "main.8"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "/forward/x%d", k);
        ag_tensor *x = fx_tensor(c, f, path);
        snprintf(path, sizeof path, "/forward/r%d", k);
        ag_tensor *r = fx_tensor(c, f, path);
        if (!x || !r) goto done;
        ag_tensor *out = gan_dcgan_d_forward(c, d, x, true, true);
        snprintf(path, sizeof path, "/forward/out%d", k);
        snprintf(what, sizeof what, "D(x%d), training mode", k);
        expect_rel(f, path, out, TOL_REL, what);
        snprintf(path, sizeof path, "/forward/state%d", k);
        expect_set(f, path, d->buffers, false, TOL_REL);  // u, v after one iteration; BN statistics
        for (int j = 0; j < 4; j++) {
            ag_tensor *sigma;
            nn_spectral_norm_weight(c, &d->sn[j], false, &sigma);  // from the u, v just stored
            snprintf(path, sizeof path, "/forward/sigma%d/%s", k, convs[j]);
            snprintf(what, sizeof what, "sigma of %s, call %d", convs[j], k);
            expect_rel(f, path, sigma, TOL_REL, what);
        }
        ag_tensor *term = ag_sum(c, ag_mul(c, r, out));
        loss = loss ? ag_add(c, loss, term) : term;
    }
    // One backward through the three calls: each keeps the u, v and sigma of its own iteration.
    ag_backward(c, loss);
    expect_set(f, "/forward/grad", d->params, true, TOL_REL);

    // Eval mode: sigma from the stored u and v, which stay as they are; BN's running statistics.
    ag_tensor *x0 = fx_tensor(c, f, "/forward/x0");
    if (x0) {
        ag_tensor *before = ag_new(c, d->buffers->values->shape);
        ag_tensor_copy(before, d->buffers->values);
        bool prev = ag_set_grad_enabled(c, false);
        expect_rel(f, "/forward/out_eval", gan_dcgan_d_forward(c, d, x0, false, true), TOL_REL, "D(x0), eval mode");
        ag_set_grad_enabled(c, prev);
        TEST_CHECK(same_values(before, d->buffers->values), "eval mode leaves u, v (and BN's statistics) alone");
    }
done:
    ag_ctx_free(c);
    gan_dcgan_d_free(d);
}

static void check_step(fx_file *f, ag_backend *be, gan_loss_kind loss) {
    char group[64], path[160], sub[160];
    snprintf(group, sizeof group, "/step_%s", gan_loss_name(loss));
    const bool wgan = loss == GAN_LOSS_WGAN_GP;
    gan_dcgan_shape s = sn_shape(wgan);
    gan_dcgan_g *g = gan_dcgan_g_create(be, s);
    gan_dcgan_d *d = gan_dcgan_d_create(be, s);
    snprintf(path, sizeof path, "%s/G", group);
    load_set(f, path, g->params);
    load_set(f, path, g->buffers);
    snprintf(path, sizeof path, "%s/D", group);
    load_set(f, path, d->params);
    load_set(f, path, d->buffers);
    int iters = 0;
    fx_attr_int(f, group, "iters", &iters);
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
    TEST_CHECK(iters >= 1 && (!real || rs.d[0] == iters), "%s: %d iterations", group, iters);
    if (real && z && (eps || !wgan) && iters >= 1) {
        const int batch = rs.d[1];
        const int64_t real_size = ag_shape_numel(rs) / iters, z_size = ag_shape_numel(zs) / iters;
        gan_dcgan_step_opts o = {.loss = loss, .d_steps = 1, .gp_lambda = 10.0f};
        gan_dcgan_step_stats st;
        for (int it = 0; it < iters; it++)
            gan_dcgan_train_step(c, g, d, opt_g, opt_d, &o, batch, real + it * real_size, z + it * z_size,
                                 wgan ? eps + (int64_t)it * batch : NULL, &st);
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
        snprintf(sub, sizeof sub, "%s/grad_D", group);
        expect_set(f, sub, d->params, true, TOL_STEP_GRAD);
        snprintf(sub, sizeof sub, "%s/grad_G", group);
        expect_set(f, sub, g->params, true, TOL_STEP_GRAD);
        snprintf(sub, sizeof sub, "%s/D_after", group);
        worst_after = test_nanmax(worst_after, expect_set(f, sub, d->params, false, TOL_STEP_AFTER));
        expect_set(f, sub, d->buffers, false, TOL_STEP_FORWARD);  // u, v, running statistics
        snprintf(sub, sizeof sub, "%s/G_after", group);
        worst_after = test_nanmax(worst_after, expect_set(f, sub, g->params, false, TOL_STEP_AFTER));
        expect_set(f, sub, g->buffers, false, TOL_STEP_FORWARD);
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
    fx_file *f = fx_open("spectral_norm.h5");
    if (!f) return test_finish();
    ag_backend *be = test_backend();
    check_layout_and_init(be);
    check_forward(f, be);
    check_step(f, be, GAN_LOSS_BCE);
    check_step(f, be, GAN_LOSS_HINGE);
    check_step(f, be, GAN_LOSS_WGAN_GP);
    fx_close(f);
    printf("largest relative error against PyTorch (spectral norm): %.3g; weights after Adam: %.3g\n", worst_rel,
           worst_after);
    return test_finish();
}
