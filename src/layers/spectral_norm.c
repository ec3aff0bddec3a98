#include "spectral_norm.h"

#include <math.h>
#include <stdlib.h>

#include "conv.h"
#include "fatal.h"

#define SN_EPS 1e-12f  // torch.nn.utils.spectral_norm's default

ag_tensor *nn_spectral_norm_init(nn_spectral_norm *sn, ag_params *ps, ag_params *buffers, const char *prefix,
                                 ag_shape weight_shape) {
    AG_CHECK(weight_shape.ndim >= 2, "spectral_norm %s: weight %s needs at least 2 dims", prefix,
             AG_SHAPE_STR(weight_shape));
    const int64_t rows = weight_shape.d[0], cols = ag_shape_numel(weight_shape) / rows;
    char name[AG_PARAM_NAME_MAX];
    sn->weight_orig = ag_params_add(ps, nn_name(name, prefix, "weight_orig"), weight_shape);
    sn->u = ag_params_add(buffers, nn_name(name, prefix, "weight_u"), AG_SHAPE(rows));
    sn->v = ag_params_add(buffers, nn_name(name, prefix, "weight_v"), AG_SHAPE(cols));
    sn->eps = SN_EPS;
    return sn->weight_orig;
}

// x / max(|x|, eps) in place, on the host: only at initialisation.
static void normalize_host(ag_tensor *t, float eps) {
    float *x = malloc((size_t)t->numel * sizeof *x);
    AG_CHECK(x, "spectral_norm: out of memory for %lld floats", (long long)t->numel);
    ag_tensor_to_host(t, x);
    double ss = 0;
    for (int64_t i = 0; i < t->numel; i++) ss += (double)x[i] * x[i];
    float n = (float)sqrt(ss);
    if (n < eps) n = eps;
    for (int64_t i = 0; i < t->numel; i++) x[i] /= n;
    ag_tensor_from_host(t, x);
    free(x);
}

void nn_spectral_norm_reset(nn_spectral_norm *sn, ag_rng *rng) {
    ag_tensor_fill_normal(sn->u, rng, 0.0f, 1.0f);
    ag_tensor_fill_normal(sn->v, rng, 0.0f, 1.0f);
    normalize_host(sn->u, sn->eps);
    normalize_host(sn->v, sn->eps);
}

// x / max(|x|_2, eps), as torch.nn.functional.normalize over a vector.
static ag_tensor *normalize(ag_ctx *c, ag_tensor *x, float eps) {
    ag_tensor *n = ag_clamp(c, ag_sqrt(c, ag_sum(c, ag_square(c, x))), eps, INFINITY);
    return ag_div(c, x, n);
}

// A copy in the arena: sigma's graph keeps u and v of this call, whatever later calls write
// into the buffers (PyTorch clones them for the same reason).
static ag_tensor *arena_copy(ag_ctx *c, const ag_tensor *t, ag_shape shape) {
    ag_tensor *out = ag_new(c, shape);
    ag_tensor_copy(out, t);
    return out;
}

ag_tensor *nn_spectral_norm_weight(ag_ctx *c, nn_spectral_norm *sn, bool train, ag_tensor **sigma_out) {
    ag_tensor *w = sn->weight_orig;
    const int64_t rows = sn->u->numel, cols = sn->v->numel;
    ag_shape mat = AG_SHAPE(rows, cols), ucol = AG_SHAPE(rows, 1), vcol = AG_SHAPE(cols, 1);
    ag_tensor *u, *v;
    if (train) {
        bool prev = ag_set_grad_enabled(c, false);
        ag_tensor *wm = ag_reshape(c, w, mat);
        v = normalize(c, ag_matmul(c, wm, ag_reshape(c, sn->u, ucol), true, false), sn->eps);  // (cols, 1)
        u = normalize(c, ag_matmul(c, wm, v, false, false), sn->eps);                          // (rows, 1)
        ag_set_grad_enabled(c, prev);
        ag_tensor_copy(sn->v, v);
        ag_tensor_copy(sn->u, u);
    } else {
        u = arena_copy(c, sn->u, ucol);
        v = arena_copy(c, sn->v, vcol);
    }
    // sigma = u . (W_mat v), with its gradient u v^T into W.
    ag_tensor *sigma = ag_sum(c, ag_mul(c, u, ag_matmul(c, ag_reshape(c, w, mat), v, false, false)));
    if (sigma_out) *sigma_out = sigma;
    return ag_div(c, w, sigma);
}
