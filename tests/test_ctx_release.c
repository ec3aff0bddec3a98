// ag_ctx_mark_now / ag_ctx_release: giving back one pass's memory inside an iteration.
//   - what comes after the mark is given back (bytes in use return to the mark, the next tensor
//     lands on the same memory), what came before keeps its values;
//   - blocks the arena grew after the mark are freed, and reset then keeps one block big enough
//     for the peak, so a steady loop with releases allocates nothing after its first iteration;
//   - a training iteration that releases each finished pass computes bit-identical gradients
//     and parameters to the same iteration without releases, with a smaller arena peak.
#include <string.h>

#include "autograd.h"
#include "ops.h"
#include "optim.h"
#include "params.h"
#include "rng.h"
#include "ctx_internal.h"
#include "test.h"
#include "test_backend.h"

static ag_backend *be;

static size_t capacity(const ag_ctx *c) { return c->meta.capacity + c->data.capacity; }

static void test_release_and_reuse(void) {
    ag_ctx *c = ag_ctx_create(be);
    float keep_vals[4] = {1, 2, 3, 4};
    ag_tensor *keep = ag_from_host(c, AG_SHAPE(4), keep_vals);
    size_t bytes = ag_ctx_arena_bytes(c);
    ag_ctx_mark m = ag_ctx_mark_now(c);
    ag_tensor *a = ag_full(c, AG_SHAPE(1000), 7.0f);
    ag_tensor *b = ag_exp(c, ag_requires_grad(ag_full(c, AG_SHAPE(1000), 0.5f), true));
    ag_backward(c, ag_sum(c, b));
    TEST_CHECK(ag_ctx_arena_bytes(c) > bytes, "nothing was allocated after the mark");
    float *first = a->data;
    ag_ctx_release(c, m);
    TEST_CHECK(ag_ctx_arena_bytes(c) == bytes, "after release %zu bytes in use, %zu at the mark",
               ag_ctx_arena_bytes(c), bytes);
    ag_tensor *again = ag_full(c, AG_SHAPE(1000), -1.0f);
    TEST_CHECK(again->data == first, "the released memory was not handed out again");
    float got[4];
    ag_tensor_to_host(keep, got);
    TEST_CHECK(!memcmp(got, keep_vals, sizeof got), "a tensor made before the mark changed");
    ag_ctx_free(c);
}

// A first block of 4 MiB (ctx.c); 3 M floats after the mark need another one.
static void test_blocks_freed_and_steady(void) {
    ag_ctx *c = ag_ctx_create(be);
    size_t cap0 = 0;
    for (int it = 0; it < 5; it++) {
        ag_tensor *small = ag_full(c, AG_SHAPE(16), 1.0f);
        size_t cap_before = capacity(c);
        ag_ctx_mark m = ag_ctx_mark_now(c);
        for (int k = 0; k < 3; k++) ag_full(c, AG_SHAPE(1 << 20), (float)k);
        if (it == 0) TEST_CHECK(capacity(c) > cap_before, "the big pass did not grow the arena");
        ag_ctx_release(c, m);
        if (it == 0) TEST_CHECK(capacity(c) == cap_before, "release kept %zu bytes of blocks, %zu before the pass",
                                capacity(c), cap_before);
        TEST_CHECK(ag_item(ag_sum(c, small)) == 16.0f, "iteration %d: the tensor before the mark changed", it);
        ag_ctx_reset(c);
        TEST_CHECK(c->data.head && !c->data.head->next && c->data.head->size >= c->data.peak,
                   "iteration %d: reset kept no single block holding the peak (%zu bytes)", it, c->data.peak);
        if (it == 0) cap0 = capacity(c);
        else TEST_CHECK(capacity(c) == cap0, "iteration %d: capacity %zu, %zu after the first", it, capacity(c), cap0);
    }
    ag_ctx_free(c);
}

// A small GAN-like iteration: two passes of D (real, fake) with their backward, one optimizer
// step, then a G pass through D. `release` gives back each D pass once its loss is read.
typedef struct {
    ag_params *gp, *dp;
    ag_tensor *gw, *dw1, *dw2;
    ag_adam *opt_d;
} tiny_gan;

static tiny_gan tiny_make(void) {
    tiny_gan t;
    t.gp = ag_params_create(be, true);
    t.gw = ag_params_add(t.gp, "g.weight", AG_SHAPE(4, 3, 4, 4));  // ConvT 4 -> 3 channels
    ag_params_finalize(t.gp);
    t.dp = ag_params_create(be, true);
    t.dw1 = ag_params_add(t.dp, "d1.weight", AG_SHAPE(5, 3, 4, 4));
    t.dw2 = ag_params_add(t.dp, "d2.weight", AG_SHAPE(1, 5, 4, 4));
    ag_params_finalize(t.dp);
    ag_rng rng = ag_rng_make(3);
    ag_tensor_fill_normal(t.gw, &rng, 0, 0.2f);
    ag_tensor_fill_normal(t.dw1, &rng, 0, 0.2f);
    ag_tensor_fill_normal(t.dw2, &rng, 0, 0.2f);
    t.opt_d = ag_adam_create(t.dp, 1e-2f, 0.5f, 0.999f, 1e-8f, 0.0f);
    return t;
}

static void tiny_free(tiny_gan *t) {
    ag_adam_free(t->opt_d);
    ag_params_free(t->gp);
    ag_params_free(t->dp);
}

static ag_tensor *tiny_d(ag_ctx *c, tiny_gan *t, ag_tensor *x) {
    ag_tensor *h = ag_leaky_relu(c, ag_conv2d(c, x, t->dw1, AG_CONV(2, 1, 1)), 0.2f);  // 8x8 -> 4x4
    return ag_mean(c, ag_conv2d(c, h, t->dw2, AG_CONV(1, 0, 1)));                       // -> 1x1
}

static void tiny_step(ag_ctx *c, tiny_gan *t, bool release, float *out) {
    ag_rng rng = ag_rng_make(11);
    ag_params_zero_grad(t->dp);
    ag_params_zero_grad(t->gp);
    ag_ctx_mark m = ag_ctx_mark_now(c);
    ag_tensor *real = ag_normal(c, &rng, AG_SHAPE(6, 3, 8, 8), 0, 1);
    ag_tensor *err_real = ag_square(c, tiny_d(c, t, real));
    ag_backward(c, err_real);
    out[0] = ag_item(err_real);
    if (release) ag_ctx_release(c, m);
    ag_tensor *z = ag_normal(c, &rng, AG_SHAPE(6, 4, 4, 4), 0, 1);
    ag_tensor *fake = ag_tanh(c, ag_conv_transpose2d(c, z, t->gw, AG_CONV(2, 1, 1)));  // 4x4 -> 8x8
    m = ag_ctx_mark_now(c);
    ag_tensor *err_fake = ag_neg(c, tiny_d(c, t, ag_detach(c, fake)));
    ag_backward(c, err_fake);
    out[1] = ag_item(err_fake);
    if (release) ag_ctx_release(c, m);
    ag_adam_step(t->opt_d);
    ag_params_set_requires_grad(t->dp, false);
    ag_backward(c, tiny_d(c, t, fake));
    ag_params_set_requires_grad(t->dp, true);
    ag_tensor_to_host(t->gp->grads, out + 2);
    ag_tensor_to_host(t->dp->values, out + 2 + t->gp->total);
    ag_ctx_reset(c);
}

static void test_training_step_equivalence(void) {
    float *res[2] = {NULL, NULL};
    size_t peak[2], n = 0;
    for (int release = 0; release < 2; release++) {
        tiny_gan t = tiny_make();
        n = 2 + (size_t)t.gp->total + (size_t)t.dp->total;
        res[release] = malloc(n * sizeof(float));
        ag_ctx *c = ag_ctx_create(be);
        for (int it = 0; it < 3; it++) tiny_step(c, &t, release, res[release]);
        peak[release] = c->data.peak;
        ag_ctx_free(c);
        tiny_free(&t);
    }
    TEST_CHECK(!memcmp(res[0], res[1], n * sizeof(float)),
               "three iterations with releases differ from the same without");
    TEST_CHECK(peak[1] < peak[0], "releasing each D pass did not lower the peak (%zu vs %zu bytes)", peak[1], peak[0]);
    free(res[0]), free(res[1]);
}

int main(void) {
    be = test_backend();
    test_release_and_reuse();
    test_blocks_freed_and_steady();
    test_training_step_equivalence();
    return test_finish();
}
