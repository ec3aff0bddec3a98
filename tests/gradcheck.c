#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "rng.h"
#include "test.h"
#include "test_backend.h"

ag_tensor *gc_input(ag_shape shape, uint64_t seed, float scale, float shift) {
    ag_tensor *t = ag_tensor_create(test_backend(), shape);
    ag_rng r = ag_rng_make(seed);
    ag_tensor_fill_normal(t, &r, shift, scale);
    return ag_requires_grad(t, true);
}

void gc_free_inputs(int n, ag_tensor **inputs) {
    for (int i = 0; i < n; i++) ag_tensor_free(inputs[i]);
}

static gc_opts defaults(gc_opts o) {
    if (o.eps == 0) o.eps = 1e-2f;
    if (o.atol == 0) o.atol = 5e-3f;
    if (o.rtol == 0) o.rtol = 2e-2f;
    return o;
}

static float *host_normal(int64_t n, uint64_t seed) {
    float *v = malloc((size_t)n * sizeof *v);
    ag_philox_fill_normal(v, n, seed, 0, 0.0f, 1.0f);
    return v;
}

// The scalar being differentiated, evaluated without recording.
typedef double (*scalar_fn)(void *state);

typedef struct {
    ag_ctx *c;
    gc_fn f;
    ag_tensor **inputs;
    int nin;
    void *user;
    float *r;        // projection of the output
    ag_tensor *r_leaf;  // gradgrad: r as a leaf
    float **v;       // gradgrad: projections of the input gradients
    int mask;        // inputs whose gradients enter H
} gc_state;

static double dot_host(const ag_tensor *t, const float *w) {
    float *h = malloc((size_t)t->numel * sizeof *h);
    ag_tensor_to_host(t, h);
    double s = 0.0;
    for (int64_t i = 0; i < t->numel; i++) s += (double)h[i] * w[i];
    free(h);
    return s;
}

static double eval_L(void *p) {
    gc_state *s = p;
    bool prev = ag_set_grad_enabled(s->c, false);
    ag_tensor *y = s->f(s->c, s->inputs, s->user);
    double L = dot_host(y, s->r);
    ag_set_grad_enabled(s->c, prev);
    ag_ctx_reset(s->c);
    return L;
}

// Input gradients of L = <f(x), r>, for the inputs in s->mask; returns how many.
static int input_grads(gc_state *s, ag_tensor *rt, bool create_graph, ag_tensor **res, int *idx) {
    ag_tensor *y = s->f(s->c, s->inputs, s->user);
    ag_tensor *L = ag_sum(s->c, ag_mul(s->c, y, rt));
    ag_tensor *ins[AG_MAX_SRC + 8];
    int k = 0;
    for (int i = 0; i < s->nin; i++)
        if ((s->mask >> i) & 1) {
            idx[k] = i;
            ins[k++] = s->inputs[i];
        }
    if (L->requires_grad) ag_grad(s->c, 1, &L, NULL, k, ins, create_graph, res);
    else for (int j = 0; j < k; j++) res[j] = ag_zeros(s->c, ins[j]->shape);
    return k;
}

static double eval_H(void *p) {
    gc_state *s = p;
    ag_tensor *g[AG_MAX_SRC + 8];
    int idx[AG_MAX_SRC + 8];
    ag_tensor *rt = ag_new(s->c, s->r_leaf->shape);  // r's values, without r's history
    ag_tensor_copy(rt, s->r_leaf);
    int k = input_grads(s, rt, false, g, idx);
    double H = 0.0;
    for (int j = 0; j < k; j++) H += dot_host(g[j], s->v[idx[j]]);
    ag_ctx_reset(s->c);
    return H;
}

// Compares analytic gradient `an` of tensor t with the stencil of `fn`; returns failures.
static int compare(const char *name, const char *what, ag_tensor *t, const float *an, scalar_fn fn,
                   void *st, gc_opts o, int *skipped) {
    int fails = 0;
    // The values are perturbed on the host and copied back whole: the tensor may live on a
    // device (the tensors checked here are small).
    float *x = malloc((size_t)t->numel * sizeof *x);
    ag_tensor_to_host(t, x);
    double L0 = o.kinks ? fn(st) : 0.0;
    for (int64_t j = 0; j < t->numel; j++) {
        float x0 = x[j];
        double l[4];
        const float steps[4] = {-2, -1, 1, 2};
        for (int k = 0; k < 4; k++) {
            x[j] = x0 + steps[k] * o.eps;
            ag_tensor_from_host(t, x);
            l[k] = fn(st);
        }
        x[j] = x0;
        ag_tensor_from_host(t, x);
        // The steps actually taken in float, not the nominal ones.
        double num = (8.0 * (l[2] - l[1]) - (l[3] - l[0])) / (12.0 * o.eps);
        // A NaN or inf anywhere (the analytic value, the stencil, or L0 of the kink test) is a
        // failure: never a kink to skip, and never within tolerance.
        bool finite = isfinite(an[j]) && isfinite(num) && (!o.kinks || isfinite(L0));
        if (o.kinks && finite) {
            // One-sided slopes over the stencil's full width: a kink anywhere inside it shows
            // as a jump that does not shrink with the step.
            double dp = (l[3] - L0) / (2.0 * o.eps), dm = (L0 - l[0]) / (2.0 * o.eps);
            if (isfinite(dp - dm) && fabs(dp - dm) > 4.0 * (o.atol + o.rtol * fabs(num))) {
                (*skipped)++;
                continue;
            }
        }
        double err = fabs(an[j] - num);
        if (!finite || !(err <= o.atol + o.rtol * fabs(num))) {
            if (fails < 5)
                fprintf(stderr, "  %s: %s element %lld: analytic %.6g, numeric %.6g%s\n", name, what,
                        (long long)j, an[j], num, isfinite(L0) ? "" : " (the unperturbed value is not finite)");
            fails++;
        }
    }
    free(x);
    return fails;
}

static int check_skips(const char *name, int skipped, int64_t total) {
    TEST_CHECK(skipped * 4 <= total, "%s: %d of %lld elements skipped as kinks", name, skipped, (long long)total);
    return skipped * 4 <= total ? 0 : 1;
}

int gc_check_grad(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o) {
    o = defaults(o);
    ag_ctx *c = ag_ctx_create(test_backend());
    gc_state s = {.c = c, .f = f, .inputs = inputs, .nin = nin, .user = user};
    for (int i = 0; i < nin; i++)
        if (inputs[i]->requires_grad && !((o.skip_input >> i) & 1)) s.mask |= 1 << i;

    ag_tensor *y = f(c, inputs, user);
    ag_shape ys = y->shape;
    s.r = host_normal(y->numel, 1234);
    ag_ctx_reset(c);
    ag_tensor *g[AG_MAX_SRC + 8];
    int idx[AG_MAX_SRC + 8];
    int k = input_grads(&s, ag_from_host(c, ys, s.r), false, g, idx);
    float *an[AG_MAX_SRC + 8];
    for (int j = 0; j < k; j++) {
        an[j] = malloc((size_t)g[j]->numel * sizeof(float));
        ag_tensor_to_host(g[j], an[j]);
    }
    ag_ctx_reset(c);

    int fails = 0, skipped = 0;
    int64_t total = 0;
    for (int j = 0; j < k; j++) {
        char what[32];
        snprintf(what, sizeof what, "d/d input %d", idx[j]);
        int fl = compare(name, what, inputs[idx[j]], an[j], eval_L, &s, o, &skipped);
        TEST_CHECK(fl == 0, "%s: gradient of input %d: %d elements off", name, idx[j], fl);
        fails += fl;
        total += inputs[idx[j]]->numel;
        free(an[j]);
    }
    fails += check_skips(name, skipped, total);
    free(s.r);
    ag_ctx_free(c);
    return fails;
}

int gc_check_gradgrad(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o) {
    o = defaults(o);
    ag_ctx *c = ag_ctx_create(test_backend());
    gc_state s = {.c = c, .f = f, .inputs = inputs, .nin = nin, .user = user};
    for (int i = 0; i < nin; i++)
        if (inputs[i]->requires_grad && !((o.skip_input >> i) & 1)) s.mask |= 1 << i;

    ag_tensor *y = f(c, inputs, user);
    ag_shape ys = y->shape;
    ag_ctx_reset(c);
    s.r_leaf = gc_input(ys, 4321, 1.0f, 0.0f);
    float *v[AG_MAX_SRC + 8] = {0};
    for (int i = 0; i < nin; i++) v[i] = host_normal(inputs[i]->numel, 99 + (uint64_t)i);
    s.v = v;

    // Analytic: H with create_graph, then its gradient w.r.t. every checked input and r.
    ag_tensor *g[AG_MAX_SRC + 8];
    int idx[AG_MAX_SRC + 8];
    int k = input_grads(&s, s.r_leaf, true, g, idx);
    ag_tensor *H = NULL;
    for (int j = 0; j < k; j++) {
        ag_tensor *term = ag_sum(c, ag_mul(c, g[j], ag_from_host(c, g[j]->shape, v[idx[j]])));
        H = H ? ag_add(c, H, term) : term;
    }
    ag_tensor *wrt[AG_MAX_SRC + 9], *dH[AG_MAX_SRC + 9];
    for (int j = 0; j < k; j++) wrt[j] = inputs[idx[j]];
    wrt[k] = s.r_leaf;
    float *an[AG_MAX_SRC + 9];
    if (H && H->requires_grad) {
        ag_grad(c, 1, &H, NULL, k + 1, wrt, false, dH);
    } else {
        for (int j = 0; j <= k; j++) dH[j] = ag_zeros(c, wrt[j]->shape);
    }
    for (int j = 0; j <= k; j++) {
        an[j] = malloc((size_t)wrt[j]->numel * sizeof(float));
        ag_tensor_to_host(dH[j], an[j]);
    }
    ag_ctx_reset(c);

    int fails = 0, skipped = 0;
    int64_t total = 0;
    for (int j = 0; j <= k; j++) {
        char what[48];
        if (j < k) snprintf(what, sizeof what, "d2/d input %d", idx[j]);
        else snprintf(what, sizeof what, "d2/d upstream gradient");
        int fl = compare(name, what, wrt[j], an[j], eval_H, &s, o, &skipped);
        TEST_CHECK(fl == 0, "%s: gradient of gradient (%s): %d elements off", name, what, fl);
        fails += fl;
        total += wrt[j]->numel;
        free(an[j]);
    }
    fails += check_skips(name, skipped, total);
    for (int i = 0; i < nin; i++) free(v[i]);
    ag_tensor_free(s.r_leaf);
    ag_ctx_free(c);
    return fails;
}

int gc_check(const char *name, gc_fn f, int nin, ag_tensor **inputs, void *user, gc_opts o) {
    return gc_check_grad(name, f, nin, inputs, user, o) + gc_check_gradgrad(name, f, nin, inputs, user, o);
}
