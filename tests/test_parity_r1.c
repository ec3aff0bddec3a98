// The R1 gradient penalty against PyTorch (tests/fixtures/r1.h5): through a small conv
// discriminator, g = grad(D(x).sum(), x, create_graph), penalty = mean over the batch of
// |g|^2, and its gradient with respect to every parameter of D. This is the gradient of a
// gradient that StyleGAN2's R1 regularisation needs.
#include "autograd.h"
#include "conv.h"
#include "fixture.h"
#include "linear.h"
#include "test.h"
#include "test_backend.h"

int main(void) {
    fx_file *f = fx_open("r1.h5");
    if (!f) return test_finish();
    ag_backend *be = test_backend();
    ag_params *ps = ag_params_create(be, true);
    nn_conv2d conv1, conv2;
    nn_linear fc;
    nn_conv2d_init(&conv1, ps, "conv1", 3, 8, 3, 1, 1, true);
    nn_conv2d_init(&conv2, ps, "conv2", 8, 16, 4, 2, 1, true);
    nn_linear_init(&fc, ps, "fc", 16 * 4 * 4, 1, true);
    ag_params_finalize(ps);
    char path[128];
    for (int i = 0; i < ps->count; i++) {
        snprintf(path, sizeof path, "/params/%s", ps->items[i].name);
        fx_load_into(f, path, ps->items[i].t);
    }
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *x = fx_tensor(c, f, "/x");
    if (x) {
        ag_requires_grad(x, true);
        ag_tensor *h = ag_leaky_relu(c, nn_conv2d_forward(c, &conv1, x), 0.2f);
        h = ag_leaky_relu(c, nn_conv2d_forward(c, &conv2, h), 0.2f);
        ag_tensor *logits = nn_linear_forward(c, &fc, ag_reshape(c, h, AG_SHAPE(x->shape.d[0], -1)));
        FX_EXPECT(f, "/logits", logits, 1e-5, "D(x)");

        ag_tensor *g;
        ag_tensor *total = ag_sum(c, logits);
        ag_grad(c, 1, &total, NULL, 1, &x, true, &g);
        FX_EXPECT(f, "/grad_x", g, 1e-5, "dD(x)/dx");
        TEST_CHECK(g->requires_grad, "the gradient carries history (create_graph)");
        ag_tensor *penalty = ag_mean(c, ag_sum_axes(c, ag_square(c, g), 3, (int[]){1, 2, 3}, false));
        FX_EXPECT(f, "/penalty", penalty, 1e-5, "R1 penalty");
        ag_params_zero_grad(ps);
        ag_backward(c, penalty);
        for (int i = 0; i < ps->count; i++) {
            snprintf(path, sizeof path, "/grad/%s", ps->items[i].name);
            FX_EXPECT(f, path, ps->items[i].t->grad, 1e-5, ps->items[i].name);
        }
    }
    ag_ctx_free(c);
    ag_params_free(ps);
    fx_close(f);
    return test_finish();
}
