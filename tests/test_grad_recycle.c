// Gradient memory reused within a backward pass that builds no graph (grad_recycle.h):
//   - a network with branches that pass a gradient on as it is (add), views of it (reshape)
//     and a tensor used twice: the same gradients, bit for bit, with recycling on and off, a
//     smaller arena peak with it on, and bytes actually taken from consumed gradients;
//   - ag_grad of an intermediate tensor (a target with a node) and of a per-iteration leaf:
//     the results handed back survive the rest of the pass;
//   - R1's pattern: a gradient made with create_graph, a penalty on it, then a backward without
//     a graph through both: the same parameter gradients on and off.
#include <stdlib.h>
#include <string.h>

#include "autograd.h"
#include "ops.h"
#include "params.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

static ag_backend *be;

typedef struct {
    ag_params *ps;
    ag_tensor *w1, *w2, *w3;
} net;

static net net_make(void) {
    net n;
    n.ps = ag_params_create(be, true);
    n.w1 = ag_params_add(n.ps, "w1", AG_SHAPE(6, 3, 3, 3));
    n.w2 = ag_params_add(n.ps, "w2", AG_SHAPE(6, 6, 3, 3));
    n.w3 = ag_params_add(n.ps, "w3", AG_SHAPE(1, 6, 4, 4));
    ag_params_finalize(n.ps);
    ag_rng rng = ag_rng_make(7);
    ag_tensor_fill_normal(n.ps->values, &rng, 0, 0.3f);
    return n;
}

// Three convolutions with a residual add (its rule passes the gradient on to both inputs), the
// first activation used twice, and a reshape (a view of the gradient) before the mean.
static ag_tensor *net_forward(ag_ctx *c, const net *n, ag_tensor *x, ag_tensor **mid) {
    ag_tensor *h = ag_leaky_relu(c, ag_conv2d(c, x, n->w1, AG_CONV(1, 1, 1)), 0.2f);
    ag_tensor *r = ag_add(c, h, ag_tanh(c, ag_conv2d(c, h, n->w2, AG_CONV(1, 1, 1))));
    if (mid) *mid = r;
    ag_tensor *o = ag_conv2d(c, ag_mul(c, r, h), n->w3, AG_CONV(2, 1, 1));
    return ag_mean(c, ag_square(c, ag_reshape(c, o, AG_SHAPE(-1))));
}

static ag_tensor *input(ag_ctx *c) {
    ag_rng rng = ag_rng_make(9);
    return ag_normal(c, &rng, AG_SHAPE(4, 3, 16, 16), 0, 1);
}

static float *host(const ag_tensor *t) {
    float *v = malloc((size_t)t->numel * sizeof *v);
    ag_tensor_to_host(t, v);
    return v;
}

static bool same(const ag_tensor *a, const ag_tensor *b) {
    if (a->numel != b->numel) return false;
    float *x = host(a), *y = host(b);
    bool eq = !memcmp(x, y, (size_t)a->numel * sizeof *x);
    free(x), free(y);
    return eq;
}

static void test_backward_same_and_smaller(void) {
    net n = net_make();
    float *grads[2];
    size_t peak[2], reused[2];
    for (int on = 0; on < 2; on++) {
        ag_ctx *c = ag_ctx_create(be);
        ag_ctx_set_grad_recycling(c, on);
        ag_params_zero_grad(n.ps);
        ag_backward(c, net_forward(c, &n, input(c), NULL));
        grads[on] = host(n.ps->grads);
        peak[on] = ag_ctx_arena_peak(c);
        reused[on] = ag_ctx_recycled_bytes(c);
        ag_ctx_free(c);
    }
    TEST_CHECK(!memcmp(grads[0], grads[1], (size_t)n.ps->total * sizeof(float)),
               "parameter gradients differ with recycling on");
    TEST_CHECK(reused[0] == 0, "recycling off still reused %zu bytes", reused[0]);
    TEST_CHECK(reused[1] > 0, "recycling on reused nothing");
    TEST_CHECK(peak[1] < peak[0], "recycling did not lower the peak (%zu vs %zu bytes)", peak[1], peak[0]);
    free(grads[0]), free(grads[1]);
    ag_params_free(n.ps);
}

// ag_grad's results: an intermediate tensor's gradient (its node runs its rule, yet its gradient
// is handed back) and a per-iteration input's, compared with recycling off. The rest of the pass
// runs after the intermediate's node, so a result given back to the free list would be
// overwritten by then.
static void test_grad_results_survive(void) {
    net n = net_make();
    ag_tensor *res[2][3];
    ag_ctx *cs[2];
    for (int on = 0; on < 2; on++) {
        ag_ctx *c = cs[on] = ag_ctx_create(be);
        ag_ctx_set_grad_recycling(c, on);
        ag_tensor *x = ag_requires_grad(input(c), true), *mid;
        ag_tensor *loss = net_forward(c, &n, x, &mid);
        ag_grad(c, 1, &loss, NULL, 3, (ag_tensor *[]){mid, x, n.w1}, false, res[on]);
    }
    TEST_CHECK(ag_ctx_recycled_bytes(cs[1]) > 0, "the pass reused nothing");
    TEST_CHECK(same(res[0][0], res[1][0]), "the intermediate's gradient changed with recycling");
    TEST_CHECK(same(res[0][1], res[1][1]), "the input's gradient changed with recycling");
    TEST_CHECK(same(res[0][2], res[1][2]), "w1's gradient changed with recycling");
    ag_ctx_free(cs[0]), ag_ctx_free(cs[1]);
    ag_params_free(n.ps);
}

// A per-iteration leaf's .grad, made during the pass, is not handed out again in it.
static void test_leaf_grad_survives(void) {
    net n = net_make();
    ag_tensor *x[2];
    ag_ctx *cs[2];
    for (int on = 0; on < 2; on++) {
        ag_ctx *c = cs[on] = ag_ctx_create(be);
        ag_ctx_set_grad_recycling(c, on);
        x[on] = ag_requires_grad(input(c), true);
        // The last term runs its rule first: x's grad is made early and the whole net follows.
        ag_backward(c, ag_add(c, net_forward(c, &n, x[on], NULL), ag_mean(c, ag_square(c, x[on]))));
        ag_full(c, x[on]->shape, 123.0f);  // whatever comes next must not land on it
    }
    TEST_CHECK(x[1]->grad && same(x[0]->grad, x[1]->grad), "a per-iteration leaf's grad changed with recycling");
    ag_ctx_free(cs[0]), ag_ctx_free(cs[1]);
    ag_params_free(n.ps);
}

// R1: d(loss)/dx with a graph, its squared norm, then the parameters' gradients of that through
// the double graph without one: the pass this was made for.
static void test_double_backward(void) {
    net n = net_make();
    float *grads[2];
    size_t reused = 0;
    for (int on = 0; on < 2; on++) {
        ag_ctx *c = ag_ctx_create(be);
        ag_ctx_set_grad_recycling(c, on);
        ag_params_zero_grad(n.ps);
        ag_tensor *x = ag_requires_grad(input(c), true), *gx;
        ag_tensor *loss = net_forward(c, &n, x, NULL);
        ag_grad(c, 1, &loss, NULL, 1, &x, true, &gx);
        ag_backward(c, ag_sum(c, ag_square(c, gx)));
        grads[on] = host(n.ps->grads);
        if (on) reused = ag_ctx_recycled_bytes(c);
        ag_ctx_free(c);
    }
    TEST_CHECK(reused > 0, "the second backward reused nothing");
    TEST_CHECK(!memcmp(grads[0], grads[1], (size_t)n.ps->total * sizeof(float)),
               "R1-style parameter gradients differ with recycling on");
    free(grads[0]), free(grads[1]);
    ag_params_free(n.ps);
}

int main(void) {
    be = test_backend();
    test_backward_same_and_smaller();
    test_grad_results_survive();
    test_leaf_grad_survives();
    test_double_backward();
    return test_finish();
}
