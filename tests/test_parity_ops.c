// Parity of single ops with PyTorch: every case of tests/fixtures/ops.h5 (tools/make_fixtures.py
// describes the layout) is run through our public ops -- inputs x<i> as leaves, y = op(x...),
// then ag_grad with the stored upstream gradient gy -- and y and every stored gradient gx<i> are
// compared with PyTorch's by max |ours - ref| / max(1, max |ref|).
//
// Each case is independent: one whose ops have no CPU kernel or backward rule yet fails with a
// message and the rest still run. Every group of the file must be claimed by a runner below and
// every runner must find a group, so a new case cannot be skipped silently.
//   test_parity_ops                 all cases, one line each with the errors measured
//   test_parity_ops NAME...         only those cases (for debugging one op)
#include <stdio.h>
#include <string.h>

#include "autograd.h"
#include "backend.h"
#include "fixture.h"
#include "ops.h"
#include "test.h"
#include "test_backend.h"

// Both computations are float32 with different summation orders; the longest sums here (a
// conv's 4x4x8 products, a batch norm's 45-64 element statistics) leave errors of at most 3e-7
// (measured, OpenBLAS sgemm on 2 threads). 1e-5 leaves room for other BLAS builds and thread
// counts and is still far below the error of any wrong index or formula. One tolerance fits
// every tensor of every case, so none is looser.
#define TOL 1e-5

#define MAX_IN 8
#define MAX_CASES 128

typedef struct pcase {
    fx_file *f;
    const char *group;
    bool ok;                  // false once a parameter could not be read: the case is skipped
    ag_tensor *owned[4];      // persistent tensors (running statistics) freed after the case
    int nowned;
} pcase;

// "group/leaf" in a buffer that lives until the end of the enclosing full expression.
#define PATH(k, leaf) path_of((char[FX_NAME_MAX + 64]){0}, (k)->group, (leaf))
static const char *path_of(char *buf, const char *group, const char *leaf) {
    snprintf(buf, FX_NAME_MAX + 64, "%s/%s", group, leaf);
    return buf;
}

static int iattr(pcase *k, const char *name) {
    int v = 0;
    if (!fx_attr_int(k->f, k->group, name, &v)) k->ok = false;
    return v;
}

static float fattr(pcase *k, const char *name) {
    double v = 0;
    if (!fx_attr_float(k->f, k->group, name, &v)) k->ok = false;
    return (float)v;
}

// A long-lived CPU tensor from the case's dataset, freed when the case ends.
static ag_tensor *owned_tensor(pcase *k, const char *leaf) {
    ag_tensor *t = fx_tensor_create(test_backend(), k->f, PATH(k, leaf));
    if (!t) {
        k->ok = false;
        return NULL;
    }
    k->owned[k->nowned++] = t;
    return t;
}

static ag_conv_args conv_args(pcase *k, bool transposed) {
    ag_conv_args a = {
        .stride_h = iattr(k, "stride_h"), .stride_w = iattr(k, "stride_w"),
        .pad_h = iattr(k, "pad_h"), .pad_w = iattr(k, "pad_w"), .groups = iattr(k, "groups"),
    };
    if (transposed) {
        a.out_pad_h = iattr(k, "out_pad_h");
        a.out_pad_w = iattr(k, "out_pad_w");
    }
    return a;
}

// --- forward functions: y from the inputs x[0..nx) and the group's attributes ----------------
// They return NULL (the case is skipped) when a parameter is missing; that is already reported.

static ag_tensor *run_conv2d(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    ag_conv_args a = conv_args(k, false);
    if (!k->ok) return NULL;
    ag_tensor *y = ag_conv2d(c, x[0], x[1], a);
    return nx > 2 ? ag_add_channel_bias(c, y, x[2]) : y;
}

static ag_tensor *run_conv_transpose2d(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    ag_conv_args a = conv_args(k, true);
    if (!k->ok) return NULL;
    ag_tensor *y = ag_conv_transpose2d(c, x[0], x[1], a);
    return nx > 2 ? ag_add_channel_bias(c, y, x[2]) : y;
}

// Training mode also updates the running statistics, which are compared right here.
static ag_tensor *run_batchnorm2d_train(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    float momentum = fattr(k, "momentum"), eps = fattr(k, "eps");
    ag_tensor *rm = owned_tensor(k, "running_mean_before");
    ag_tensor *rv = owned_tensor(k, "running_var_before");
    if (!k->ok) return NULL;
    ag_tensor *y = ag_batchnorm2d_train(c, x[0], x[1], x[2], rm, rv, momentum, eps);
    FX_EXPECT(k->f, PATH(k, "running_mean_after"), rm, TOL, k->group);
    FX_EXPECT(k->f, PATH(k, "running_var_after"), rv, TOL, k->group);
    return y;
}

static ag_tensor *run_batchnorm2d_eval(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    float eps = fattr(k, "eps");
    ag_tensor *rm = owned_tensor(k, "running_mean");
    ag_tensor *rv = owned_tensor(k, "running_var");
    if (!k->ok) return NULL;
    return ag_batchnorm2d_eval(c, x[0], x[1], x[2], rm, rv, eps);
}

static ag_tensor *run_linear(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k;
    return ag_linear(c, x[0], x[1], nx > 2 ? x[2] : NULL);
}

static ag_tensor *run_relu(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_relu(c, x[0]);
}

static ag_tensor *run_leaky_relu(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    float slope = fattr(k, "negative_slope");
    return k->ok ? ag_leaky_relu(c, x[0], slope) : NULL;
}

static ag_tensor *run_tanh(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_tanh(c, x[0]);
}

static ag_tensor *run_sigmoid(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_sigmoid(c, x[0]);
}

static ag_tensor *run_softplus(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_softplus(c, x[0]);
}

static ag_tensor *run_bce(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_bce(c, x[0], x[1]);
}

static ag_tensor *run_bce_with_logits(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_bce_with_logits(c, x[0], x[1]);
}

static ag_tensor *run_upsample(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_upsample_nearest2x(c, x[0]);
}

static ag_tensor *run_avg_pool(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_avg_pool2(c, x[0]);
}

// sum_* and mean_*: over the `axes` attribute, or over everything when it is absent.
static ag_tensor *run_reduce(ag_ctx *c, pcase *k, ag_tensor **x, bool mean) {
    bool keepdim = iattr(k, "keepdim");
    if (!fx_has_attr(k->f, k->group, "axes")) {
        if (keepdim) {
            TEST_CHECK(false, "%s: keepdim over all axes is not a case we can express", k->group);
            return NULL;
        }
        return k->ok ? (mean ? ag_mean(c, x[0]) : ag_sum(c, x[0])) : NULL;
    }
    int axes[AG_MAX_DIMS];
    int n = fx_attr_ints(k->f, k->group, "axes", axes, AG_MAX_DIMS);
    if (!k->ok || n < 1 || n > AG_MAX_DIMS) {
        TEST_CHECK(n <= AG_MAX_DIMS, "%s: %d axes", k->group, n);
        return NULL;
    }
    return mean ? ag_mean_axes(c, x[0], n, axes, keepdim) : ag_sum_axes(c, x[0], n, axes, keepdim);
}

static ag_tensor *run_sum(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    return run_reduce(c, k, x, false);
}

static ag_tensor *run_mean(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    return run_reduce(c, k, x, true);
}

static ag_tensor *run_pad2d(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    int top = iattr(k, "top"), bottom = iattr(k, "bottom"), left = iattr(k, "left"), right = iattr(k, "right");
    return k->ok ? ag_pad2d(c, x[0], top, bottom, left, right) : NULL;
}

static ag_tensor *run_matmul(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    bool ta = iattr(k, "transpose_a"), tb = iattr(k, "transpose_b");
    return k->ok ? ag_matmul(c, x[0], x[1], ta, tb) : NULL;
}

static ag_tensor *run_concat(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    int axis = iattr(k, "axis");
    return k->ok ? ag_concat(c, nx, x, axis) : NULL;
}

static ag_tensor *run_log_softmax(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_log_softmax(c, x[0]);
}

// Probability targets and one-hot ones (the fixture's y comes from class indices for those).
static ag_tensor *run_cross_entropy(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)k, (void)nx;
    return ag_cross_entropy(c, x[0], x[1]);
}

static ag_tensor *run_max_pool2d(ag_ctx *c, pcase *k, ag_tensor **x, int nx) {
    (void)nx;
    int kernel = iattr(k, "kernel"), stride = iattr(k, "stride"), pad = iattr(k, "pad");
    return k->ok ? ag_max_pool2d(c, x[0], kernel, stride, pad) : NULL;
}

// --- the table: which fixture groups each runner claims ------------------------------------------

typedef ag_tensor *(*run_fn)(ag_ctx *c, pcase *k, ag_tensor **x, int nx);

typedef struct runner {
    const char *prefix;  // claims the groups named prefix, or prefix + "_..."
    run_fn fn;
} runner;

static const runner runners[] = {
    {"conv2d", run_conv2d},
    {"conv_transpose2d", run_conv_transpose2d},
    {"batchnorm2d_train", run_batchnorm2d_train},
    {"batchnorm2d_eval", run_batchnorm2d_eval},
    {"linear", run_linear},
    {"relu", run_relu},
    {"leaky_relu", run_leaky_relu},
    {"tanh", run_tanh},
    {"sigmoid", run_sigmoid},
    {"softplus", run_softplus},
    {"bce", run_bce},
    {"bce_with_logits", run_bce_with_logits},
    {"upsample_nearest2x", run_upsample},
    {"avg_pool2d", run_avg_pool},
    {"sum", run_sum},
    {"mean", run_mean},
    {"pad2d", run_pad2d},
    {"matmul", run_matmul},
    {"concat", run_concat},
    {"log_softmax", run_log_softmax},
    {"cross_entropy", run_cross_entropy},
    {"max_pool2d", run_max_pool2d},
};
#define NRUNNERS ((int)(sizeof runners / sizeof runners[0]))

// The longest prefix wins, so "bce_with_logits_labels" goes to bce_with_logits, not bce.
static const runner *runner_for(const char *group) {
    const runner *best = NULL;
    for (int i = 0; i < NRUNNERS; i++) {
        size_t n = strlen(runners[i].prefix);
        if (strncmp(group, runners[i].prefix, n) == 0 && (group[n] == '\0' || group[n] == '_') &&
            (!best || n > strlen(best->prefix)))
            best = &runners[i];
    }
    return best;
}

static void run_case(const runner *r, fx_file *f, const char *group) {
    pcase k = {.f = f, .group = group, .ok = true};
    int failures_before = test_failures_;
    ag_ctx *c = ag_ctx_create(test_backend());
    char name[16];
    ag_tensor *x[MAX_IN], *wrt[MAX_IN], *grads[MAX_IN];
    int nx = 0, nwrt = 0, wrt_index[MAX_IN];
    for (; nx < MAX_IN; nx++) {
        snprintf(name, sizeof name, "x%d", nx);
        if (!fx_has(f, PATH(&k, name))) break;
        x[nx] = fx_tensor(c, f, PATH(&k, name));
        if (!x[nx]) {
            k.ok = false;
            continue;
        }
        snprintf(name, sizeof name, "gx%d", nx);
        if (fx_has(f, PATH(&k, name))) {
            wrt_index[nwrt] = nx;
            wrt[nwrt++] = ag_requires_grad(x[nx], true);
        }
    }
    TEST_CHECK(nx > 0, "%s: no inputs x0...", group);
    ag_tensor *y = k.ok && nx > 0 ? r->fn(c, &k, x, nx) : NULL;
    ag_tensor *gy = y ? fx_tensor(c, f, PATH(&k, "gy")) : NULL;
    if (!y || !gy) {
        TEST_CHECK(false, "%s: skipped, the fixture is incomplete (see above)", group);
        printf("%-32s SKIPPED: fixture incomplete\n", group);
    } else {
        char line[256];
        double err;
        fx_expect_at(__FILE__, __LINE__, f, PATH(&k, "y"), y, TOL, group, &err);
        int len = snprintf(line, sizeof line, "y %.1e", err);
        if (nwrt > 0) ag_grad(c, 1, &y, &gy, nwrt, wrt, false, grads);
        for (int j = 0; j < nwrt; j++) {
            snprintf(name, sizeof name, "gx%d", wrt_index[j]);
            fx_expect_at(__FILE__, __LINE__, f, PATH(&k, name), grads[j], TOL, group, &err);
            len += snprintf(line + len, sizeof line - (size_t)len, "  %s %.1e", name, err);
        }
        printf("%-32s %s  %s\n", group, test_failures_ == failures_before ? "ok  " : "FAIL", line);
    }
    for (int i = 0; i < k.nowned; i++) ag_tensor_free(k.owned[i]);
    ag_ctx_free(c);
}

int main(int argc, char **argv) {
    fx_file *f = fx_open("ops.h5");
    if (!f) return test_finish();
    static char names[MAX_CASES][FX_NAME_MAX];
    int n = fx_list(f, "/", names, MAX_CASES);
    TEST_CHECK(n <= MAX_CASES, "ops.h5 has %d cases, raise MAX_CASES (%d)", n, MAX_CASES);
    if (n > MAX_CASES) n = MAX_CASES;
    bool claimed[NRUNNERS] = {0};
    for (int i = 0; i < n; i++) {
        const runner *r = runner_for(names[i]);
        TEST_CHECK(r, "ops.h5 case %s has no runner in %s", names[i], __FILE__);
        if (!r) continue;
        claimed[r - runners] = true;
        bool wanted = argc == 1;
        for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], names[i]) == 0;
        if (wanted) run_case(r, f, names[i]);
    }
    for (int i = 0; i < NRUNNERS && argc == 1; i++)
        TEST_CHECK(claimed[i], "runner %s found no case in ops.h5", runners[i].prefix);
    fx_close(f);
    return test_finish();
}
