// Batch normalisation: forward values and running statistics against formulas computed here in
// double, finite-difference gradients of training mode, gradients of gradients of eval mode,
// thread-count independence, and the fatal error for a second derivative through training mode.
// The fused batchnorm + activation ops: bit-identical to the two ops they replace (values,
// running statistics, every gradient), finite differences, gradients of gradients of the eval
// form.
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gradcheck.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

#define EPS 1e-5f
#define MOMENTUM 0.1f

typedef struct {
    ag_tensor *running_mean, *running_var;  // for eval mode
} bn_user;

static ag_tensor *f_train(ag_ctx *c, ag_tensor **in, void *u) {
    (void)u;
    return ag_batchnorm2d_train(c, in[0], in[1], in[2], NULL, NULL, MOMENTUM, EPS);
}

// A nonlinearity after the normalisation, so the gradient of the gradient of eval mode is not
// trivially zero in x.
static ag_tensor *f_eval(ag_ctx *c, ag_tensor **in, void *u) {
    const bn_user *b = u;
    return ag_tanh(c, ag_batchnorm2d_eval(c, in[0], in[1], in[2], b->running_mean, b->running_var, EPS));
}

static float *to_host(const ag_tensor *t) {
    float *h = malloc((size_t)t->numel * sizeof *h);
    ag_tensor_to_host(t, h);
    return h;
}

// Per-channel mean and biased / unbiased variance of x (N, C, H, W), in double.
static void channel_stats(const float *x, ag_shape s, int ch, double *mean, double *var_b, double *var_u) {
    int N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
    double sum = 0.0, ssd = 0.0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < HW; i++) sum += x[((size_t)n * C + ch) * HW + i];
    double m = sum / (N * HW);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < HW; i++) {
            double d = x[((size_t)n * C + ch) * HW + i] - m;
            ssd += d * d;
        }
    *mean = m;
    *var_b = ssd / (N * HW);
    *var_u = ssd / (N * HW - 1);
}

static void test_gradients(void) {
    ag_shape xs = AG_SHAPE(3, 2, 3, 2);
    ag_tensor *in[3] = {gc_input(xs, 11, 1.5f, 0.5f), gc_input(AG_SHAPE(2), 12, 0.3f, 1.0f),
                        gc_input(AG_SHAPE(2), 13, 1.0f, 0.0f)};
    int fails = gc_check_grad("batchnorm2d train", f_train, 3, in, NULL, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d train: x, gamma, beta", fails ? "FAIL" : "ok");

    // Only some inputs need a gradient: the rule must hand back exactly those.
    ag_requires_grad(in[1], false);
    ag_requires_grad(in[2], false);
    fails = gc_check_grad("batchnorm2d train (x only)", f_train, 3, in, NULL, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d train: x only", fails ? "FAIL" : "ok");
    ag_requires_grad(in[0], false);
    ag_requires_grad(in[1], true);
    ag_requires_grad(in[2], true);
    fails = gc_check_grad("batchnorm2d train (gamma, beta)", f_train, 3, in, NULL, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d train: gamma, beta", fails ? "FAIL" : "ok");
    gc_free_inputs(3, in);

    // Spatial size 1: the statistics come from the batch alone.
    ag_tensor *in1[3] = {gc_input(AG_SHAPE(5, 3, 1, 1), 21, 1.0f, -0.3f), gc_input(AG_SHAPE(3), 22, 0.3f, 1.0f),
                         gc_input(AG_SHAPE(3), 23, 1.0f, 0.0f)};
    fails = gc_check_grad("batchnorm2d train 1x1", f_train, 3, in1, NULL, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d train: 1x1 spatial", fails ? "FAIL" : "ok");
    gc_free_inputs(3, in1);

    // Runs of 77 = 2 x 32 + 8 + 5: every part of the kernels' sums (four vectors, one, the tail).
    ag_tensor *in2[3] = {gc_input(AG_SHAPE(2, 2, 7, 11), 24, 1.0f, 0.4f), gc_input(AG_SHAPE(2), 25, 0.3f, 1.0f),
                         gc_input(AG_SHAPE(2), 26, 1.0f, 0.0f)};
    fails = gc_check_grad("batchnorm2d train 7x11", f_train, 3, in2, NULL, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d train: 7x11 spatial", fails ? "FAIL" : "ok");
    gc_free_inputs(3, in2);
}

static void test_eval_gradgrad(void) {
    ag_backend *be = test_backend();
    bn_user b = {ag_tensor_create(be, AG_SHAPE(3)), ag_tensor_create(be, AG_SHAPE(3))};
    ag_tensor_from_host(b.running_mean, (float[]){0.3f, -0.5f, 0.1f});
    ag_tensor_from_host(b.running_var, (float[]){0.8f, 1.7f, 0.4f});
    ag_tensor *in[3] = {gc_input(AG_SHAPE(2, 3, 2, 3), 31, 1.0f, 0.0f), gc_input(AG_SHAPE(3), 32, 0.3f, 1.0f),
                        gc_input(AG_SHAPE(3), 33, 0.5f, 0.0f)};
    int fails = gc_check("batchnorm2d eval", f_eval, 3, in, &b, (gc_opts){0});
    printf("%-34s %s\n", "batchnorm2d eval: grad, gradgrad", fails ? "FAIL" : "ok");

    // Values: (x - rm) / sqrt(rv + eps) * gamma + beta.
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *y = ag_batchnorm2d_eval(c, in[0], in[1], in[2], b.running_mean, b.running_var, EPS);
    float *yh = to_host(y), *x = to_host(in[0]), *g = to_host(in[1]), *bt = to_host(in[2]);
    float *rm = to_host(b.running_mean), *rv = to_host(b.running_var);
    int bad = 0;
    for (int64_t i = 0; i < y->numel; i++) {
        int ch = (int)(i / 6 % 3);
        double ref = (x[i] - rm[ch]) / sqrt((double)rv[ch] + EPS) * g[ch] + bt[ch];
        bad += !(fabs(yh[i] - ref) <= 1e-5 + 1e-5 * fabs(ref));  // NaN counts as wrong
    }
    TEST_CHECK(bad == 0, "batchnorm2d eval: %d of %lld values differ from the formula", bad, (long long)y->numel);
    free(yh), free(x), free(g), free(bt), free(rm), free(rv);
    ag_ctx_free(c);
    gc_free_inputs(3, in);
    ag_tensor_free(b.running_mean);
    ag_tensor_free(b.running_var);
}

// Forward values and two running-statistics updates with momentum 0.1, from torch's defaults
// (mean 0, var 1), against the formulas of torch.nn.BatchNorm2d.
static void test_forward_and_running_stats(void) {
    ag_backend *be = test_backend();
    enum { N = 4, C = 3, H = 7, W = 11 };  // runs of 77: the sums' four vectors, one, and a tail
    ag_shape xs = AG_SHAPE(N, C, H, W);
    ag_tensor *rm = ag_tensor_create(be, AG_SHAPE(C)), *rv = ag_tensor_create(be, AG_SHAPE(C));
    ag_tensor_fill(rv, 1.0f);
    ag_tensor *gamma = gc_input(AG_SHAPE(C), 41, 0.3f, 1.0f), *beta = gc_input(AG_SHAPE(C), 42, 1.0f, 0.0f);
    float *gh = to_host(gamma), *bh = to_host(beta);
    double ref_m[C] = {0, 0, 0}, ref_v[C] = {1, 1, 1};
    ag_ctx *c = ag_ctx_create(be);
    for (int call = 0; call < 2; call++) {
        // Large offsets and different scales per call: the statistics must not cancel.
        ag_tensor *x = gc_input(xs, 43 + (uint64_t)call, 2.0f + call, call ? -30.0f : 100.0f);
        float *xh = to_host(x);
        ag_tensor *y = ag_batchnorm2d_train(c, x, gamma, beta, rm, rv, MOMENTUM, EPS);
        float *yh = to_host(y), *rmh = to_host(rm), *rvh = to_host(rv);
        int bad = 0;
        for (int ch = 0; ch < C; ch++) {
            double mean, var_b, var_u;
            channel_stats(xh, xs, ch, &mean, &var_b, &var_u);
            ref_m[ch] = (1.0 - MOMENTUM) * ref_m[ch] + MOMENTUM * mean;
            ref_v[ch] = (1.0 - MOMENTUM) * ref_v[ch] + MOMENTUM * var_u;
            TEST_CLOSE(rmh[ch], ref_m[ch], 1e-6, 1e-6, "running_mean");
            TEST_CLOSE(rvh[ch], ref_v[ch], 1e-6, 1e-6, "running_var");
            for (int n = 0; n < N; n++)
                for (int i = 0; i < H * W; i++) {
                    size_t k = ((size_t)n * C + ch) * H * W + i;
                    double ref = (xh[k] - mean) / sqrt(var_b + EPS) * gh[ch] + bh[ch];
                    bad += !(fabs(yh[k] - ref) <= 2e-5 + 1e-5 * fabs(ref));
                }
        }
        TEST_CHECK(bad == 0, "batchnorm2d train call %d: %d values differ from the formula", call, bad);
        free(xh), free(yh), free(rmh), free(rvh);
        ag_tensor_free(x);
        ag_ctx_reset(c);
    }
    // No running statistics: nothing else changes.
    float before[2 * C];
    ag_tensor_to_host(rm, before);
    ag_tensor_to_host(rv, before + C);
    ag_tensor *x = gc_input(xs, 49, 1.0f, 0.0f);
    ag_batchnorm2d_train(c, x, gamma, beta, NULL, NULL, MOMENTUM, EPS);
    float after[2 * C];
    ag_tensor_to_host(rm, after);
    ag_tensor_to_host(rv, after + C);
    TEST_CHECK(!memcmp(before, after, sizeof before), "batchnorm2d without running stats changed them");
    printf("%-34s done\n", "batchnorm2d values, running stats");
    free(gh), free(bh);
    ag_tensor_free(x);
    ag_tensor_free(gamma), ag_tensor_free(beta), ag_tensor_free(rm), ag_tensor_free(rv);
    ag_ctx_free(c);
}

// Outputs, statistics and all three gradients, bit for bit, on 1 and 2 threads, on a tensor big
// enough for the kernels to go parallel.
static void run_once(int threads, float *out) {
    ag_backend *be = test_backend();
    ag_backend_set_threads(be, threads);
    ag_shape xs = AG_SHAPE(8, 6, 32, 32);
    ag_tensor *x = gc_input(xs, 51, 3.0f, 1.0f), *gamma = gc_input(AG_SHAPE(6), 52, 0.3f, 1.0f),
              *beta = gc_input(AG_SHAPE(6), 53, 1.0f, 0.0f);
    ag_tensor *rm = ag_tensor_create(be, AG_SHAPE(6)), *rv = ag_tensor_create(be, AG_SHAPE(6));
    ag_ctx *c = ag_ctx_create(be);
    ag_tensor *y = ag_batchnorm2d_train(c, x, gamma, beta, rm, rv, MOMENTUM, EPS);
    ag_tensor *w = gc_input(xs, 54, 1.0f, 0.0f);
    ag_backward(c, ag_sum(c, ag_mul(c, ag_square(c, y), w)));
    int64_t n = x->numel;
    ag_tensor_to_host(y, out);
    ag_tensor_to_host(x->grad, out + n);
    ag_tensor_to_host(gamma->grad, out + 2 * n);
    ag_tensor_to_host(beta->grad, out + 2 * n + 6);
    ag_tensor_to_host(rm, out + 2 * n + 12);
    ag_tensor_to_host(rv, out + 2 * n + 18);
    ag_ctx_free(c);
    ag_tensor_free(x), ag_tensor_free(gamma), ag_tensor_free(beta), ag_tensor_free(w);
    ag_tensor_free(rm), ag_tensor_free(rv);
}

static void test_thread_independence(void) {
    size_t n = 2 * (size_t)8 * 6 * 32 * 32 + 24;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    run_once(1, a);
    run_once(2, b);
    TEST_CHECK(!memcmp(a, b, n * sizeof *a), "batchnorm2d: results differ between 1 and 2 threads");
    free(a), free(b);
    printf("%-34s done\n", "batchnorm2d 1 vs 2 threads");
}

// create_graph through training-mode batchnorm must abort, naming the op. Run in a child; the
// parent checks the signal and reads the child's stderr through a pipe.
static void test_second_derivative_dies(void) {
    int fd[2];
    TEST_CHECK(pipe(fd) == 0, "pipe failed");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    TEST_CHECK(pid >= 0, "fork failed");
    if (pid < 0) return;
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        // The refusal is the engine's, not a backend's, and a forked child cannot use a GPU
        // context its parent opened (CUDA answers "initialization error"): the child runs on a
        // CPU backend of its own whatever the backend under test.
        char why[128];
        ag_backend *cpu = ag_backend_open("cpu", why, sizeof why);
        if (!cpu) _exit(3);
        ag_tensor *in[3];
        const ag_shape shapes[3] = {AG_SHAPE(2, 2, 2, 2), AG_SHAPE(2), AG_SHAPE(2)};
        const float scale[3] = {1.0f, 0.3f, 1.0f}, shift[3] = {0.0f, 1.0f, 0.0f};
        for (int i = 0; i < 3; i++) {
            in[i] = ag_tensor_create(cpu, shapes[i]);
            ag_rng r = ag_rng_make(61 + (uint64_t)i);
            ag_tensor_fill_normal(in[i], &r, shift[i], scale[i]);
            ag_requires_grad(in[i], true);
        }
        ag_ctx *c = ag_ctx_create(cpu);
        ag_tensor *loss = ag_sum(c, ag_square(c, f_train(c, in, NULL)));
        ag_tensor *g;
        ag_grad(c, 1, &loss, NULL, 1, in, true, &g);
        _exit(0);  // reached only when the engine wrongly allowed it
    }
    close(fd[1]);
    char msg[4096];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof msg - 1 && (r = read(fd[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)r;
    msg[len] = 0;
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    TEST_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
               "create_graph through batchnorm2d: child was not aborted (status %d)", status);
    TEST_CHECK(strstr(msg, "batchnorm2d") != NULL,
               "create_graph through batchnorm2d: the message does not name the op: \"%s\"", msg);
    printf("%-34s done\n", "batchnorm2d create_graph aborts");
}

// --- batchnorm fused with its activation ---------------------------------------------------

typedef struct {
    float slope;
    ag_tensor *running_mean, *running_var;
} act_user;

static ag_tensor *f_train_act(ag_ctx *c, ag_tensor **in, void *u) {
    const act_user *a = u;
    return ag_batchnorm2d_act_train(c, in[0], in[1], in[2], NULL, NULL, MOMENTUM, EPS, a->slope);
}

static ag_tensor *f_eval_act(ag_ctx *c, ag_tensor **in, void *u) {
    const act_user *a = u;
    return ag_square(c, ag_batchnorm2d_eval_act(c, in[0], in[1], in[2], a->running_mean, a->running_var, EPS,
                                                a->slope));
}

static void test_fused_gradients(void) {
    ag_backend *be = test_backend();
    const float slopes[] = {0.2f, 0.0f};
    for (int k = 0; k < 2; k++) {
        act_user a = {.slope = slopes[k]};
        ag_tensor *in[3] = {gc_input(AG_SHAPE(3, 2, 3, 2), 71 + k, 1.5f, 0.2f), gc_input(AG_SHAPE(2), 73, 0.3f, 1.0f),
                            gc_input(AG_SHAPE(2), 74, 1.0f, 0.0f)};
        char name[64];
        snprintf(name, sizeof name, "batchnorm2d_act train slope %.1f", a.slope);
        int fails = gc_check_grad(name, f_train_act, 3, in, &a, (gc_opts){.kinks = true});
        printf("%-34s %s\n", name, fails ? "FAIL" : "ok");
        gc_free_inputs(3, in);

        a.running_mean = ag_tensor_create(be, AG_SHAPE(3));
        a.running_var = ag_tensor_create(be, AG_SHAPE(3));
        ag_tensor_from_host(a.running_mean, (float[]){0.3f, -0.5f, 0.1f});
        ag_tensor_from_host(a.running_var, (float[]){0.8f, 1.7f, 0.4f});
        ag_tensor *ev[3] = {gc_input(AG_SHAPE(2, 3, 2, 3), 75 + k, 1.0f, 0.0f), gc_input(AG_SHAPE(3), 77, 0.3f, 1.0f),
                            gc_input(AG_SHAPE(3), 78, 0.5f, 0.0f)};
        snprintf(name, sizeof name, "batchnorm2d_eval_act slope %.1f", a.slope);
        fails = gc_check(name, f_eval_act, 3, ev, &a, (gc_opts){.kinks = true});
        printf("%-34s %s\n", name, fails ? "FAIL" : "ok");
        gc_free_inputs(3, ev);
        ag_tensor_free(a.running_mean), ag_tensor_free(a.running_var);
    }
    // Runs of 77 = 2 x 32 + 8 + 5: every part of the backward's sums (four vectors, one, the tail).
    act_user a = {.slope = 0.2f};
    ag_tensor *in[3] = {gc_input(AG_SHAPE(2, 2, 7, 11), 79, 1.0f, 0.2f), gc_input(AG_SHAPE(2), 73, 0.3f, 1.0f),
                        gc_input(AG_SHAPE(2), 74, 1.0f, 0.0f)};
    int fails = gc_check_grad("batchnorm2d_act train 7x11", f_train_act, 3, in, &a, (gc_opts){.kinks = true});
    printf("%-34s %s\n", "batchnorm2d_act train: 7x11", fails ? "FAIL" : "ok");
    gc_free_inputs(3, in);
}

// The fused op and the two ops it replaces, side by side: outputs, running statistics and the
// gradients of x, gamma and beta, bit for bit (the same arithmetic in the same order), at a
// size where the kernels go parallel. Eval form: against leaky_relu(batchnorm2d_eval).
static void fused_vs_unfused(float slope, int threads) {
    ag_backend *be = test_backend();
    ag_backend_set_threads(be, threads);
    ag_shape xs = AG_SHAPE(6, 5, 24, 20);
    const int C = 5;
    ag_ctx *c = ag_ctx_create(be);
    float *res[2][6];
    for (int fused = 0; fused < 2; fused++) {
        ag_tensor *x = gc_input(xs, 81, 2.0f, 0.5f), *gamma = gc_input(AG_SHAPE(C), 82, 0.3f, 1.0f),
                  *beta = gc_input(AG_SHAPE(C), 83, 1.0f, 0.0f), *w = gc_input(xs, 84, 1.0f, 0.0f);
        ag_tensor *rm = ag_tensor_create(be, AG_SHAPE(C)), *rv = ag_tensor_create(be, AG_SHAPE(C));
        ag_tensor_fill(rv, 1.0f);
        ag_tensor *y = fused ? ag_batchnorm2d_act_train(c, x, gamma, beta, rm, rv, MOMENTUM, EPS, slope)
                             : ag_leaky_relu(c, ag_batchnorm2d_train(c, x, gamma, beta, rm, rv, MOMENTUM, EPS), slope);
        ag_backward(c, ag_sum(c, ag_mul(c, y, w)));
        ag_tensor *e;
        {
            bool prev = ag_set_grad_enabled(c, false);
            e = fused ? ag_batchnorm2d_eval_act(c, x, gamma, beta, rm, rv, EPS, slope)
                      : ag_leaky_relu(c, ag_batchnorm2d_eval(c, x, gamma, beta, rm, rv, EPS), slope);
            ag_set_grad_enabled(c, prev);
        }
        const ag_tensor *outs[6] = {y, x->grad, gamma->grad, beta->grad, rv, e};
        for (int i = 0; i < 6; i++) res[fused][i] = to_host(outs[i]);
        ag_ctx_reset(c);
        ag_tensor_free(x), ag_tensor_free(gamma), ag_tensor_free(beta), ag_tensor_free(w);
        ag_tensor_free(rm), ag_tensor_free(rv);
    }
    const char *what[6] = {"output", "x.grad", "gamma.grad", "beta.grad", "running_var", "eval output"};
    const int64_t sizes[6] = {ag_shape_numel(xs), ag_shape_numel(xs), C, C, C, ag_shape_numel(xs)};
    for (int i = 0; i < 6; i++) {
        TEST_CHECK(!memcmp(res[0][i], res[1][i], (size_t)sizes[i] * sizeof(float)),
                   "batchnorm2d_act slope %g on %d threads: %s differs from batchnorm2d + leaky_relu", slope,
                   threads, what[i]);
        free(res[0][i]), free(res[1][i]);
    }
    ag_ctx_free(c);
}

static void test_fused_matches_unfused(void) {
    for (int threads = 1; threads <= 2; threads++) {
        fused_vs_unfused(0.0f, threads);
        fused_vs_unfused(0.2f, threads);
    }
    printf("%-34s done\n", "batchnorm2d_act = bn + leaky_relu");
}

int main(void) {
    test_fused_gradients();
    test_fused_matches_unfused();
    test_gradients();
    test_eval_gradgrad();
    test_forward_and_running_stats();
    test_thread_independence();
    test_second_derivative_dies();
    return test_finish();
}
