// StyleGAN2 training iterations:
//   - three iterations against tools/stylegan2_reference.py (tests/fixtures/stylegan2_train.h5),
//     replaying its random draws (z, mixing cutoffs, noise images, path-length noise): every
//     phase (Gmain, Greg with path length, Dmain, Dreg with lazy R1), Adam with the lazy
//     correction, the w_avg and path-length means, G_ema; the losses of every iteration and
//     every parameter and buffer of G, G_ema and D after the third;
//   - determinism: a tiny StyleGAN2 trained twice from the same seed with R1, path length,
//     mixing and EMA ends bit-identical (weights, buffers, Adam moments, pl_mean, rng), and so
//     does a run stopped after 3 iterations whose state (what a checkpoint holds) is copied into
//     a model initialised from another seed and continued;
//   - the lazy-regularisation Adam correction, the EMA ramp-up and option validation.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "stylegan2_train.h"
#include "stylegan2_tiny.h"
#include "test.h"
#include "test_backend.h"

// Three Adam steps on parameters of order 1 with lr 0.002: the parameters and losses differ from
// PyTorch's by about 1e-7 here (measured; printed below). 1e-5 of max(1, |ref|) leaves room for
// other BLAS builds and thread counts; one wrong phase, gain or Adam constant moves parameters
// by a sizeable fraction of lr (1e-3) and the next iteration's losses by 1e-4 or more.
#define TOL 1e-5

// --- fixture ------------------------------------------------------------------------------------

static gan_sg2_shape shape_of(fx_file *f) {
    gan_sg2_shape s = {0};
    double lr_mul = 0;
    const char *ints[] = {"resolution", "img_channels", "z_dim", "w_dim", "mapping_layers", "channel_base",
                          "channel_max", "mbstd_group_size", "mbstd_channels"};
    int *dst[] = {&s.resolution, &s.img_channels, &s.z_dim, &s.w_dim, &s.mapping_layers, &s.channel_base,
                  &s.channel_max, &s.mbstd_group_size, &s.mbstd_channels};
    for (int i = 0; i < 9; i++) fx_attr_int(f, "/", ints[i], dst[i]);
    fx_attr_float(f, "/", "mapping_lr_mul", &lr_mul);
    s.mapping_lr_mul = (float)lr_mul;
    return s;
}

static float fopt(fx_file *f, const char *name) {
    double v = 0;
    fx_attr_float(f, "/opts", name, &v);
    return (float)v;
}

static int iopt(fx_file *f, const char *name) {
    int v = 0;
    fx_attr_int(f, "/opts", name, &v);
    return v;
}

static void load_sets(fx_file *f, const char *group, ag_params *const *sets, int nsets) {
    char path[160];
    for (int k = 0; k < nsets; k++)
        for (int i = 0; i < sets[k]->count; i++) {
            snprintf(path, sizeof path, "%s/%s", group, sets[k]->items[i].name);
            fx_load_into(f, path, sets[k]->items[i].t);
        }
}

static double expect_sets(fx_file *f, const char *group, ag_params *const *sets, int nsets) {
    char path[160];
    double worst = 0, err;
    for (int k = 0; k < nsets; k++)
        for (int i = 0; i < sets[k]->count; i++) {
            snprintf(path, sizeof path, "%s/%s", group, sets[k]->items[i].name);
            fx_expect_at(__FILE__, __LINE__, f, path, sets[k]->items[i].t, TOL, path, &err);
            worst = test_nanmax(worst, err);  // reported; fx_expect_at does the check
        }
    return worst;
}

// One phase's latents from /it<k>/<phase>: z, z2, cutoff and the flattened noise images.
static void load_latents(ag_ctx *c, fx_file *f, const char *group, const gan_sg2_g *g, gan_sg2_latents *lat) {
    char path[96];
    snprintf(path, sizeof path, "%s/z", group);
    lat->z = fx_tensor(c, f, path);
    lat->n = lat->z ? lat->z->shape.d[0] : 0;
    snprintf(path, sizeof path, "%s/z2", group);
    lat->z2 = fx_tensor(c, f, path);
    fx_attr_int(f, group, "cutoff", &lat->cutoff);
    snprintf(path, sizeof path, "%s/noise", group);
    ag_tensor *flat = fx_tensor(c, f, path);
    int off = 0;
    for (int i = 0; flat && i < g->num_layers; i++) {
        int r = gan_sg2_layer_res(g, i), len = lat->n * r * r;
        TEST_CHECK(off + len <= flat->numel, "%s: %lld noise values for %d layers", path, (long long)flat->numel,
                   g->num_layers);
        if (off + len > flat->numel) return;
        lat->noise[i] = ag_reshape(c, ag_narrow(c, flat, 0, off, len), AG_SHAPE(lat->n, 1, r, r));
        off += len;
    }
    TEST_CHECK(flat && off == flat->numel, "%s: noise left over", path);
}

static void expect_stat(fx_file *f, const char *group, const char *name, float ours, bool ran) {
    bool has = fx_has_attr(f, group, name);
    TEST_CHECK(has == ran, "%s: %s %s in PyTorch's iteration but %s here", group, name, has ? "present" : "absent",
               ran ? "computed" : "not");
    if (!has || !ran) return;
    double ref = 0;
    fx_attr_float(f, group, name, &ref);
    TEST_CHECK(fabs(ours - ref) <= TOL * fmax(1.0, fabs(ref)), "%s %s: ours %.8g, PyTorch %.8g", group, name,
               (double)ours, ref);
    printf("  %-12s %-12s ours %12.8f  PyTorch %12.8f\n", group, name, (double)ours, ref);
}

static void test_fixture(void) {
    fx_file *f = fx_open("stylegan2_train.h5");
    if (!f) return;
    gan_sg2_shape s = shape_of(f);
    char why[200];
    if (!gan_sg2_shape_valid(s, why, sizeof why)) {
        TEST_CHECK(false, "fixture shape: %s", why);
        return fx_close(f);
    }
    gan_sg2_train_opts o = gan_sg2_train_opts_default(4);
    o.lr_g = o.lr_d = fopt(f, "lr");
    o.beta1 = fopt(f, "beta1");
    o.beta2 = fopt(f, "beta2");
    o.eps = fopt(f, "eps");
    o.r1_gamma = fopt(f, "r1_gamma");
    o.r1_interval = iopt(f, "r1_interval");
    o.pl_weight = fopt(f, "pl_weight");
    o.pl_interval = iopt(f, "pl_interval");
    o.pl_batch_shrink = iopt(f, "pl_batch_shrink");
    o.pl_decay = fopt(f, "pl_decay");
    o.ema_kimg = fopt(f, "ema_kimg");
    o.ema_rampup = fopt(f, "ema_rampup");
    if (!gan_sg2_train_opts_valid(&o, s, why, sizeof why)) {
        TEST_CHECK(false, "fixture options: %s", why);
        return fx_close(f);
    }
    ag_backend *be = test_backend();
    ag_rng init = ag_rng_make(1);
    gan_sg2_model *m = gan_sg2_model_create(be, s, &o, &init);
    load_sets(f, "/G", (ag_params *[]){m->g->params, m->g->buffers}, 2);
    load_sets(f, "/G", (ag_params *[]){m->g_ema->params, m->g_ema->buffers}, 2);
    load_sets(f, "/D", (ag_params *[]){m->d->params}, 1);
    ag_ctx *c = ag_ctx_create(be), *cd = ag_ctx_create(be);  // cd: the draws, which outlive c's resets
    for (int it = 0; it < 3; it++) {
        char group[32], path[64];
        snprintf(group, sizeof group, "/it%d", it);
        snprintf(path, sizeof path, "%s/real", group);
        ag_shape rs;
        float *real = fx_read(f, path, &rs);
        if (!real) break;
        TEST_CHECK(rs.ndim == 4 && rs.d[0] == o.batch, "%s: real batch %s", path, AG_SHAPE_STR(rs));
        gan_sg2_draws draws = {0};
        const char *phases[3] = {"gmain", "greg", "dmain"};
        gan_sg2_latents *lats[3] = {&draws.gmain, &draws.greg, &draws.dmain[0]};
        for (int p = 0; p < 3; p++) {
            if (p == 1 && !gan_sg2_runs_pl(&o, it)) continue;
            snprintf(path, sizeof path, "%s/%s", group, phases[p]);
            load_latents(cd, f, path, m->g, lats[p]);
        }
        snprintf(path, sizeof path, "%s/pl_noise", group);
        draws.pl_noise = fx_tensor(cd, f, path);
        gan_sg2_step_stats st;
        gan_sg2_train_step_with(c, m, &o, it, real, &draws, &st);
        ag_ctx_reset(cd);
        free(real);
        TEST_CHECK(st.ran_pl == gan_sg2_runs_pl(&o, it) && st.ran_r1 == gan_sg2_runs_r1(&o, it),
                   "iteration %d: ran pl %d, r1 %d", it, st.ran_pl, st.ran_r1);
        printf("iteration %d%s%s\n", it, st.ran_pl ? " +Greg" : "", st.ran_r1 ? " +Dreg" : "");
        expect_stat(f, group, "loss_g", st.loss_g, true);
        expect_stat(f, group, "loss_d", st.loss_d, true);
        expect_stat(f, group, "scores_real", st.scores_real, true);
        expect_stat(f, group, "scores_fake", st.scores_fake, true);
        expect_stat(f, group, "ema_beta", st.ema_beta, true);
        expect_stat(f, group, "pl_penalty", st.pl_penalty, st.ran_pl);
        expect_stat(f, group, "pl_mean", st.pl_mean, st.ran_pl);
        expect_stat(f, group, "r1_penalty", st.r1_penalty, st.ran_r1);
    }
    double eg = expect_sets(f, "/after/G", (ag_params *[]){m->g->params, m->g->buffers}, 2);
    double ee = expect_sets(f, "/after/G_ema", (ag_params *[]){m->g_ema->params, m->g_ema->buffers}, 2);
    double ed = expect_sets(f, "/after/D", (ag_params *[]){m->d->params}, 1);
    printf("after 3 iterations: G max err %.2e, G_ema %.2e, D %.2e\n", eg, ee, ed);
    ag_ctx_free(c);
    ag_ctx_free(cd);
    gan_sg2_model_free(m);
    fx_close(f);
}

// --- determinism ------------------------------------------------------------------------------------

#define TINY_ITERS 6

typedef struct run {
    gan_sg2_model *m;
    ag_rng rng;
    int mixed;  // iterations whose Gmain mixed styles
    float ema_beta[TINY_ITERS];
    bool ran_r1[TINY_ITERS], ran_pl[TINY_ITERS];
    float loss_g[TINY_ITERS];
    bool ema_was_g;  // G_ema == G bit for bit after iteration 0 (ramp-up: beta 0)
} run;

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

// Iterations [from, to) of run r (its model and rng) on the tiny data stream of `seed`.
static void train_iters(run *r, uint64_t seed, int from, int to) {
    const gan_sg2_train_opts o = sg2_tiny_opts();
    ag_ctx *c = ag_ctx_create(test_backend());
    float real[4 * 16 * 16];
    for (int it = from; it < to; it++) {
        // The data of iteration it depends only on (seed, it), like a resumable loader's.
        ag_philox_fill_uniform(real, 4 * 16 * 16, seed ^ 0xda7aULL, (uint64_t)it * 256, -1.0f, 1.0f);
        ag_rng peek = r->rng;
        gan_sg2_draws d;
        gan_sg2_draw(c, r->m, &o, it, &peek, &d);
        r->mixed += d.gmain.cutoff < r->m->g->num_ws;
        ag_ctx_reset(c);
        gan_sg2_step_stats st;
        gan_sg2_train_step(c, r->m, &o, it, real, &r->rng, &st);
        TEST_CHECK(peek.counter == r->rng.counter, "iteration %d: the step drew what gan_sg2_draw drew", it);
        r->ema_beta[it] = st.ema_beta;
        r->ran_r1[it] = st.ran_r1;
        r->ran_pl[it] = st.ran_pl;
        r->loss_g[it] = st.loss_g;
        TEST_CHECK(isfinite(st.loss_g) && isfinite(st.loss_d) && isfinite(st.pl_mean) &&
                       (!st.ran_r1 || isfinite(st.r1_penalty)) && (!st.ran_pl || isfinite(st.pl_penalty)),
                   "iteration %d: non-finite statistics", it);
        if (it == 0) r->ema_was_g = same_values(r->m->g_ema->params->values, r->m->g->params->values);
    }
    ag_ctx_free(c);
}

static run new_run(uint64_t seed) {
    run r = {.rng = ag_rng_make(seed)};
    ag_rng init = ag_rng_fork(&r.rng);
    const gan_sg2_train_opts o = sg2_tiny_opts();
    r.m = gan_sg2_model_create(test_backend(), sg2_tiny_shape(), &o, &init);
    return r;
}

static run train_tiny(uint64_t seed) {
    run r = new_run(seed);
    train_iters(&r, seed, 0, TINY_ITERS);
    return r;
}

static void copy_adam(ag_adam *dst, const ag_adam *src) {
    ag_tensor_copy(dst->m, src->m);
    ag_tensor_copy(dst->v, src->v);
    dst->step = src->step;
}

// What a checkpoint must hold: G, G_ema, D (parameters and buffers), both Adam states, pl_mean,
// the rng and the iteration index. Copied into a model initialised from another seed, they
// continue exactly as the unbroken run.
static void copy_state(gan_sg2_model *dst, const gan_sg2_model *src) {
    ag_params_copy(dst->g->params, src->g->params);
    ag_params_copy(dst->g->buffers, src->g->buffers);
    ag_params_copy(dst->g_ema->params, src->g_ema->params);
    ag_params_copy(dst->g_ema->buffers, src->g_ema->buffers);
    ag_params_copy(dst->d->params, src->d->params);
    copy_adam(dst->opt_g, src->opt_g);
    copy_adam(dst->opt_d, src->opt_d);
    dst->pl_mean = src->pl_mean;
}

static bool same_model(const gan_sg2_model *x, const gan_sg2_model *y) {
    return same_values(x->g->params->values, y->g->params->values) &&
           same_values(x->g->buffers->values, y->g->buffers->values) &&
           same_values(x->g_ema->params->values, y->g_ema->params->values) &&
           same_values(x->g_ema->buffers->values, y->g_ema->buffers->values) &&
           same_values(x->d->params->values, y->d->params->values) && same_values(x->opt_g->m, y->opt_g->m) &&
           same_values(x->opt_g->v, y->opt_g->v) && same_values(x->opt_d->m, y->opt_d->m) &&
           same_values(x->opt_d->v, y->opt_d->v) && x->opt_g->step == y->opt_g->step &&
           x->opt_d->step == y->opt_d->step && x->pl_mean == y->pl_mean;
}

static void test_determinism(void) {
    run a = train_tiny(42), b = train_tiny(42), other = train_tiny(43);
    gan_sg2_model *x = a.m, *y = b.m;
    TEST_CHECK(same_values(x->g->params->values, y->g->params->values), "G weights differ between runs");
    TEST_CHECK(same_values(x->g->buffers->values, y->g->buffers->values), "G buffers (w_avg) differ between runs");
    TEST_CHECK(same_values(x->g_ema->params->values, y->g_ema->params->values), "G_ema weights differ between runs");
    TEST_CHECK(same_values(x->d->params->values, y->d->params->values), "D weights differ between runs");
    TEST_CHECK(same_model(x, y) && a.rng.counter == b.rng.counter, "Adam states, pl_mean or rng differ between runs");
    TEST_CHECK(!same_values(x->g->params->values, other.m->g->params->values), "another seed gives other weights");
    TEST_CHECK(!same_values(x->g->params->values, x->g_ema->params->values), "G_ema lags G");
    TEST_CHECK(a.mixed > 0, "no iteration mixed styles (p = 0.9)");
    TEST_CHECK(a.ema_was_g, "ramp-up: G_ema equals G after iteration 0");
    TEST_CHECK(x->pl_mean > 0, "the path-length mean moved: %g", (double)x->pl_mean);
    const gan_sg2_train_opts o = sg2_tiny_opts();
    for (int it = 0; it < TINY_ITERS; it++) {
        TEST_CHECK(a.ran_r1[it] == (it % 2 == 0) && a.ran_pl[it] == (it % 2 == 0), "iteration %d: reg phases", it);
        double nimg = fmin(o.ema_kimg * 1000.0, (double)it * o.batch * o.ema_rampup);
        float beta = (float)pow(0.5, o.batch / fmax(nimg, 1e-8));
        TEST_CHECK(a.ema_beta[it] == beta, "iteration %d: ema beta %g, expected %g", it, (double)a.ema_beta[it],
                   (double)beta);
    }

    // Stop after 3 iterations, move the state into a model initialised from another seed, go on.
    run first = new_run(42), second = new_run(7);
    train_iters(&first, 42, 0, 3);
    copy_state(second.m, first.m);
    second.rng = first.rng;
    train_iters(&second, 42, 3, TINY_ITERS);
    TEST_CHECK(same_model(second.m, a.m) && second.rng.counter == a.rng.counter,
               "3 + 3 iterations through a copied state differ from 6 unbroken ones");
    printf("determinism: %d iterations twice and 3 + 3 through a copied state, bit-identical; Gmain mixed styles "
           "in %d; loss_g %.4f .. %.4f\n", TINY_ITERS, a.mixed, (double)a.loss_g[0], (double)a.loss_g[TINY_ITERS - 1]);
    gan_sg2_model_free(a.m);
    gan_sg2_model_free(b.m);
    gan_sg2_model_free(other.m);
    gan_sg2_model_free(first.m);
    gan_sg2_model_free(second.m);
}

// --- small pieces -------------------------------------------------------------------------------

static void test_lazy_adam(void) {
    ag_params *ps = ag_params_create(test_backend(), true);
    ag_params_add(ps, "w", AG_SHAPE(1));
    ag_params_finalize(ps);
    ag_adam *lazy = gan_sg2_adam_create(ps, 0.0025f, 0.0f, 0.99f, 1e-8f, 4);
    ag_adam *plain = gan_sg2_adam_create(ps, 0.0025f, 0.0f, 0.99f, 1e-8f, 0);
    TEST_CLOSE(lazy->lr, 0.0025 * 0.8, 1e-9, 0, "lazy lr = lr * 4/5");
    TEST_CLOSE(lazy->beta2, pow(0.99, 0.8), 1e-7, 0, "lazy beta2 = 0.99^(4/5)");
    TEST_CHECK(lazy->beta1 == 0.0f, "beta1 0 stays 0");
    TEST_CHECK(plain->lr == 0.0025f && plain->beta2 == 0.99f, "interval 0: no correction");
    ag_adam_free(lazy);
    ag_adam_free(plain);
    ag_params_free(ps);
}

static void test_validation(void) {
    char why[200];
    gan_sg2_shape s = sg2_tiny_shape();
    gan_sg2_train_opts o = sg2_tiny_opts();
    TEST_CHECK(gan_sg2_train_opts_valid(&o, s, why, sizeof why), "tiny options are valid");
    o.batch = 3;  // mbstd group 2 does not divide 3
    TEST_CHECK(!gan_sg2_train_opts_valid(&o, s, why, sizeof why) && strstr(why, "group"), "batch 3, group 2: %s", why);
    o = sg2_tiny_opts();
    o.mixing_prob = 1.5f;
    TEST_CHECK(!gan_sg2_train_opts_valid(&o, s, why, sizeof why) && strstr(why, "mixing_prob"), "mixing 1.5: %s", why);
    o = sg2_tiny_opts();
    o.r1_interval = 0;
    TEST_CHECK(!gan_sg2_train_opts_valid(&o, s, why, sizeof why) && strstr(why, "r1_interval"), "interval 0: %s", why);
    s.resolution = 48;
    TEST_CHECK(!gan_sg2_shape_valid(s, why, sizeof why) && strstr(why, "resolution 48"), "resolution 48: %s", why);
    s = sg2_tiny_shape();
    s.channel_base = 8;
    TEST_CHECK(!gan_sg2_shape_valid(s, why, sizeof why) && strstr(why, "channel_base"), "channel_base 8: %s", why);
    s = sg2_tiny_shape();
    TEST_CHECK(gan_sg2_channels(s, 4) == 4 && gan_sg2_channels(s, 16) == 4 && gan_sg2_channels(s, 32) == 2,
               "channels min(base / res, max)");
}

int main(void) {
    test_fixture();
    test_determinism();
    test_lazy_adam();
    test_validation();
    return test_finish();
}
