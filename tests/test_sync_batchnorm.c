// Synchronised batchnorm (layers/sync_batchnorm.h) and the collective it is built on
// (ag_allreduce_sum), in one process: a hook that returns twice its input stands for two
// processes holding the same batch. Then
// - the forward pass and the running statistics equal the fused batchnorm's on that batch
//   stacked twice (what one process with the global batch computes);
// - the gradients, and gradients of gradients, match finite differences of the same function
//   (moving x moves both "processes", which is what the collective's gradient accounts for);
// - without a hook ag_allreduce_sum is the identity and records nothing.
// tests/cli/test_dist_train.sh checks the real thing under mpirun.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "gradcheck.h"
#include "sync_batchnorm.h"
#include "test.h"
#include "test_backend.h"

static void twice(void *user, float *buf, int64_t n) {
    (void)user;
    for (int64_t i = 0; i < n; i++) buf[i] *= 2.0f;
}

static ag_tensor *running_mean, *running_var;

static ag_tensor *f_sync(ag_ctx *c, ag_tensor **in, void *user) {
    (void)user;
    ag_ctx_set_allreduce(c, twice, NULL, 2);
    ag_tensor *y = nn_sync_batchnorm2d_train(c, in[0], in[1], in[2], running_mean, running_var, 0.1f, 1e-5f);
    return ag_leaky_relu(c, y, 0.2f);
}

static double max_diff(const ag_tensor *a, const ag_tensor *b, int64_t n) {
    float *x = malloc((size_t)a->numel * sizeof *x), *y = malloc((size_t)b->numel * sizeof *y);
    ag_tensor_to_host(a, x);
    ag_tensor_to_host(b, y);
    double d = 0;
    for (int64_t i = 0; i < n; i++) d = fmax(d, fabs((double)x[i] - y[i]));
    free(x), free(y);
    return d;
}

static void test_forward_matches_global_batch(void) {
    ag_backend *be = test_backend();
    const int N = 3, C = 4, H = 5, W = 2;
    ag_tensor *x = gc_input(AG_SHAPE(N, C, H, W), 11, 2.0f, 0.5f), *g = gc_input(AG_SHAPE(C), 12, 0.3f, 1.0f),
              *b = gc_input(AG_SHAPE(C), 13, 1.0f, 0.0f);
    ag_tensor *rm_s = ag_tensor_create(be, AG_SHAPE(C)), *rv_s = ag_tensor_create(be, AG_SHAPE(C));
    ag_tensor *rm_f = ag_tensor_create(be, AG_SHAPE(C)), *rv_f = ag_tensor_create(be, AG_SHAPE(C));
    ag_tensor_fill(rm_s, 0.25f), ag_tensor_fill(rm_f, 0.25f), ag_tensor_fill(rv_s, 2.0f), ag_tensor_fill(rv_f, 2.0f);
    ag_ctx *c = ag_ctx_create(be);
    ag_ctx_set_allreduce(c, twice, NULL, 2);
    ag_ctx_set_sync_batch_stats(c, true);
    TEST_CHECK(ag_ctx_sync_batch_stats(c) && ag_ctx_processes(c) == 2, "the context does not say 2 synchronised processes");
    ag_tensor *ys = nn_sync_batchnorm2d_train(c, x, g, b, rm_s, rv_s, 0.1f, 1e-5f);
    ag_tensor *both = ag_concat(c, 2, (ag_tensor *[]){x, x}, 0);
    ag_tensor *yf = ag_batchnorm2d_train(c, both, g, b, rm_f, rv_f, 0.1f, 1e-5f);
    const int64_t n = (int64_t)N * C * H * W;
    double dy = max_diff(ys, yf, n), dm = max_diff(rm_s, rm_f, C), dv = max_diff(rv_s, rv_f, C);
    printf("forward vs the fused batchnorm of the global batch: y %.2e, running mean %.2e, running var %.2e\n", dy,
           dm, dv);
    TEST_CHECK(dy < 2e-5 && dm < 1e-6 && dv < 1e-5, "sync batchnorm differs from the global batch's: y %.3g, "
               "running mean %.3g, running var %.3g", dy, dm, dv);
    ag_ctx_free(c);
    ag_tensor *t[] = {x, g, b, rm_s, rv_s, rm_f, rv_f};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) ag_tensor_free(t[i]);
}

static void test_gradients(void) {
    ag_backend *be = test_backend();
    const int C = 3;
    running_mean = ag_tensor_create(be, AG_SHAPE(C));
    running_var = ag_tensor_create(be, AG_SHAPE(C));
    ag_tensor_fill(running_mean, 0.0f), ag_tensor_fill(running_var, 1.0f);
    ag_tensor *in[3] = {gc_input(AG_SHAPE(2, C, 3, 2), 21, 1.5f, 0.2f), gc_input(AG_SHAPE(C), 22, 0.3f, 1.0f),
                        gc_input(AG_SHAPE(C), 23, 1.0f, 0.0f)};
    TEST_CHECK(gc_check("sync batchnorm2d + leaky_relu, 2 processes", f_sync, 3, in, NULL,
                        (gc_opts){.kinks = true, .atol = 1e-2f, .rtol = 3e-2f}) == 0,
               "sync batchnorm2d: gradients differ from finite differences");
    gc_free_inputs(3, in);
    ag_tensor_free(running_mean), ag_tensor_free(running_var);
}

static void test_one_process_is_identity(void) {
    ag_ctx *c = ag_ctx_create(test_backend());
    ag_tensor *x = gc_input(AG_SHAPE(4), 31, 1.0f, 0.0f);
    TEST_CHECK(ag_allreduce_sum(c, x) == x, "without a hook ag_allreduce_sum is not the identity");
    TEST_CHECK(!ag_ctx_sync_batch_stats(c), "one process claims synchronised batch statistics");
    ag_ctx_set_sync_batch_stats(c, true);
    TEST_CHECK(!ag_ctx_sync_batch_stats(c) && ag_ctx_processes(c) == 1, "sync with one process");
    ag_tensor_free(x);
    ag_ctx_free(c);
}

int main(void) {
    test_forward_matches_global_batch();
    test_gradients();
    test_one_process_is_identity();
    return test_finish();
}
