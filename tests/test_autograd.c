// The tape's semantics: accumulation, fan-out, detach, no-grad scopes, grad() vs backward(),
// create_graph, several passes over one graph, parameter blocks and optimizers.
#include <math.h>
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

static ag_tensor *leaf(const float *v, int n) {
    ag_tensor *t = ag_tensor_create(be, AG_SHAPE(n));
    ag_tensor_from_host(t, v);
    return ag_requires_grad(t, true);
}

static void fanout_and_accumulation(void) {
    ag_ctx *c = ag_ctx_create(be);
    float xv[3] = {0.5f, -1.0f, 2.0f}, g[3];
    ag_tensor *x = leaf(xv, 3);
    // y = sum(x*x + x): x feeds three places; dy/dx = 2x + 1.
    ag_tensor *y = ag_sum(c, ag_add(c, ag_mul(c, x, x), x));
    ag_backward(c, y);
    ag_tensor_to_host(x->grad, g);
    for (int i = 0; i < 3; i++) TEST_CLOSE(g[i], 2 * xv[i] + 1, 1e-6, 0, "d(x^2+x)/dx");
    // A second backward over the same graph adds up (retain_graph semantics).
    ag_backward(c, y);
    ag_tensor_to_host(x->grad, g);
    for (int i = 0; i < 3; i++) TEST_CLOSE(g[i], 2 * (2 * xv[i] + 1), 1e-6, 0, "accumulated twice");
    ag_zero_grad(x);
    ag_tensor_to_host(x->grad, g);
    TEST_CHECK(g[0] == 0 && g[1] == 0 && g[2] == 0, "zero_grad clears");
    ag_tensor_free(x);
    ag_ctx_free(c);
}

static void detach_and_no_grad(void) {
    ag_ctx *c = ag_ctx_create(be);
    float xv[2] = {1.0f, 3.0f}, g[2];
    ag_tensor *x = leaf(xv, 2);
    ag_tensor *h = ag_square(c, x);
    // y = sum(h * detach(h)): gradient flows only through the first factor: 2x * x^2.
    ag_tensor *y = ag_sum(c, ag_mul(c, h, ag_detach(c, h)));
    ag_backward(c, y);
    ag_tensor_to_host(x->grad, g);
    for (int i = 0; i < 2; i++) TEST_CLOSE(g[i], 2 * xv[i] * xv[i] * xv[i], 1e-5, 1e-6, "detach");

    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *z = ag_square(c, x);
    TEST_CHECK(!z->requires_grad && !z->node, "no-grad scope records nothing");
    ag_set_grad_enabled(c, prev);
    TEST_CHECK(prev && ag_is_grad_enabled(c), "grad mode restored");
    ag_tensor_free(x);
    ag_ctx_free(c);
}

static void grad_function(void) {
    ag_ctx *c = ag_ctx_create(be);
    float xv[2] = {0.3f, -0.7f}, wv[2] = {2.0f, 5.0f}, h[2];
    ag_tensor *x = leaf(xv, 2), *w = leaf(wv, 2), *unused = leaf(wv, 2);
    // f = sum(w * x^3). grad_x f = 3 w x^2, and with create_graph:
    // r = sum(grad_x f ^ 2) = sum(9 w^2 x^4): dr/dw = 18 w x^4, dr/dx = 36 w^2 x^3.
    ag_tensor *f = ag_sum(c, ag_mul(c, w, ag_pow(c, x, 3.0f)));
    ag_tensor *gx, *gu[2];
    ag_grad(c, 1, &f, NULL, 1, &x, true, &gx);
    TEST_CHECK(gx->requires_grad, "create_graph result has history");
    TEST_CHECK(!x->grad && !w->grad, "grad() leaves .grad alone");
    ag_tensor_to_host(gx, h);
    for (int i = 0; i < 2; i++) TEST_CLOSE(h[i], 3 * wv[i] * xv[i] * xv[i], 1e-6, 1e-6, "grad_x f");
    ag_tensor *r = ag_sum(c, ag_square(c, gx));
    ag_backward(c, r);
    ag_tensor_to_host(w->grad, h);
    for (int i = 0; i < 2; i++) TEST_CLOSE(h[i], 18 * wv[i] * powf(xv[i], 4), 1e-5, 1e-5, "d r/dw");
    ag_tensor_to_host(x->grad, h);
    for (int i = 0; i < 2; i++) TEST_CLOSE(h[i], 36 * wv[i] * wv[i] * powf(xv[i], 3), 1e-5, 1e-5, "d r/dx");

    // Without create_graph the result has no history; an unused input gets zeros.
    ag_grad(c, 1, &f, NULL, 2, (ag_tensor *[]){x, unused}, false, gu);
    TEST_CHECK(!gu[0]->requires_grad, "plain grad result has no history");
    ag_tensor_to_host(gu[1], h);
    TEST_CHECK(h[0] == 0 && h[1] == 0, "unused input gets zeros");
    ag_tensor_free(x);
    ag_tensor_free(w);
    ag_tensor_free(unused);
    ag_ctx_free(c);
}

// Parameter blocks: views, one zero_grad, Adam against a hand-computed step of torch.optim.Adam.
static void params_and_adam(void) {
    ag_ctx *c = ag_ctx_create(be);
    ag_params *ps = ag_params_create(be, true);
    ag_tensor *a = ag_params_add(ps, "a.weight", AG_SHAPE(2, 3));
    ag_tensor *b = ag_params_add(ps, "a.bias", AG_SHAPE(3));
    ag_params_finalize(ps);
    TEST_CHECK(ag_params_numel(ps) == 9, "numel %lld", (long long)ag_params_numel(ps));
    TEST_CHECK(ag_params_find(ps, "a.bias") == b && !ag_params_find(ps, "nope"), "find by name");
    float av[6] = {1, 2, 3, 4, 5, 6}, bv[3] = {-1, 0, 1};
    ag_tensor_from_host(a, av);
    ag_tensor_from_host(b, bv);
    // loss = sum(a) * 2 + sum(b^2): grads 2 and 2b.
    ag_tensor *loss = ag_add(c, ag_scale(c, ag_sum(c, a), 2.0f), ag_sum(c, ag_square(c, b)));
    ag_backward(c, loss);
    ag_adam *opt = ag_adam_create(ps, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f);
    ag_adam_step(opt);
    float out[6];
    // First Adam step moves every parameter with a nonzero gradient by lr * sign(g) (up to eps).
    ag_tensor_to_host(a, out);
    for (int i = 0; i < 6; i++) TEST_CLOSE(out[i], av[i] - 0.1f, 1e-6, 1e-6, "adam step on a");
    ag_tensor_to_host(b, out);
    TEST_CLOSE(out[0], -1 + 0.1f, 1e-6, 1e-6, "adam step on b[0]");
    TEST_CLOSE(out[1], 0.0f, 1e-6, 0, "zero gradient, no move");
    TEST_CLOSE(out[2], 1 - 0.1f, 1e-6, 1e-6, "adam step on b[2]");
    ag_params_zero_grad(ps);
    ag_tensor_to_host(b->grad, out);
    TEST_CHECK(out[0] == 0 && out[2] == 0, "one zero_grad for the block");
    ag_adam_free(opt);
    ag_params_free(ps);
    ag_ctx_free(c);
}

// A few hundred iterations of a small model: the arena's footprint must stop growing after the
// first iteration (one consolidated block), and the loss must go down.
static void memory_stays_flat(void) {
    ag_ctx *c = ag_ctx_create(be);
    ag_params *ps = ag_params_create(be, true);
    ag_tensor *w1 = ag_params_add(ps, "fc1.weight", AG_SHAPE(32, 8));
    ag_tensor *b1 = ag_params_add(ps, "fc1.bias", AG_SHAPE(32));
    ag_tensor *w2 = ag_params_add(ps, "fc2.weight", AG_SHAPE(1, 32));
    ag_tensor *b2 = ag_params_add(ps, "fc2.bias", AG_SHAPE(1));
    ag_params_finalize(ps);
    ag_rng rng = ag_rng_make(7);
    ag_tensor_fill_normal(w1, &rng, 0, 0.3f);
    ag_tensor_fill_normal(w2, &rng, 0, 0.3f);
    ag_adam *opt = ag_adam_create(ps, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f);
    size_t cap_after_first = 0, peak_after_first = 0;
    float first_loss = 0, last_loss = 0;
    for (int it = 0; it < 300; it++) {
        ag_tensor *x = ag_normal(c, &rng, AG_SHAPE(64, 8), 0, 1);
        // Target: whether the first feature is positive.
        ag_tensor *y = ag_in_range(c, ag_narrow(c, x, 1, 0, 1), 0.0f, INFINITY);
        ag_tensor *h = ag_leaky_relu(c, ag_linear(c, x, w1, b1), 0.2f);
        ag_tensor *loss = ag_bce_with_logits(c, ag_linear(c, h, w2, b2), y);
        ag_params_zero_grad(ps);
        ag_backward(c, loss);
        ag_adam_step(opt);
        float l = ag_item(loss);
        if (it == 0) first_loss = l;
        last_loss = l;
        ag_ctx_reset(c);
        if (it == 1) {
            cap_after_first = c->meta.capacity + c->data.capacity;
            peak_after_first = ag_ctx_arena_peak(c);
        }
        if (it > 1) {
            TEST_CHECK(c->meta.capacity + c->data.capacity == cap_after_first,
                       "iteration %d: arena capacity %zu, was %zu", it,
                       c->meta.capacity + c->data.capacity, cap_after_first);
            TEST_CHECK(c->meta.head->next == NULL && c->data.head->next == NULL,
                       "iteration %d: more than one block", it);
        }
    }
    TEST_CHECK(ag_ctx_arena_peak(c) == peak_after_first, "peak grew: %zu vs %zu", ag_ctx_arena_peak(c), peak_after_first);
    TEST_CHECK(last_loss < 0.5f * first_loss, "loss went from %g to %g", first_loss, last_loss);
    ag_adam_free(opt);
    ag_params_free(ps);
    ag_ctx_free(c);
}

int main(void) {
    be = test_backend();
    fanout_and_accumulation();
    detach_and_no_grad();
    grad_function();
    params_and_adam();
    memory_stays_flat();
    return test_finish();
}
