// The augmentation entry points: parsing a DiffAugment policy, drawing one batch's parameters,
// applying them, and ADA's adjustment of p.
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aug_internal.h"
#include "autograd.h"
#include "gan_check.h"

#define AUG_PI 3.14159265358979f

static const char *const diffaug_names[] = {"color", "translation", "cutout"};

bool gan_diffaug_parse(const char *policy, gan_aug_opts *o, char *bad, size_t bad_size) {
    o->npolicy = 0;
    o->mode = GAN_AUG_OFF;
    for (const char *p = policy; *p;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (strlen(diffaug_names[k]) == len && !strncmp(p, diffaug_names[k], len)) found = k;
        for (int i = 0; i < o->npolicy && found >= 0; i++)
            if ((int)o->policy[i] == found) found = -1;  // given twice
        if (found < 0 || o->npolicy >= GAN_AUG_MAX_POLICY) {
            snprintf(bad, bad_size, "%.*s", (int)len, p);
            return false;
        }
        o->policy[o->npolicy++] = (gan_diffaug_op)found;
        p += len;
        if (*p == ',') p++;
    }
    if (o->npolicy > 0) o->mode = GAN_AUG_DIFF;
    return true;
}

// n uniforms in [lo, hi) from one reservation of rng.
static void uniform(ag_rng *rng, int n, float lo, float hi, float *out) {
    ag_philox_fill_uniform(out, n, rng->seed, ag_rng_reserve(rng, n), lo, hi);
}
static void normal(ag_rng *rng, int n, float std, float *out) {
    ag_philox_fill_normal(out, n, rng->seed, ag_rng_reserve(rng, n), 0.0f, std);
}
static float below(float u, int k) {  // floor(u * k), in [0, k)
    int v = (int)floorf(u * (float)k);
    return (float)(v < 0 ? 0 : v >= k ? k - 1 : v);
}

static void draw_diff(const gan_aug_opts *o, int n, int H, int W, ag_rng *rng, float *v) {
    float *P[GAN_AUG_NPARAMS];
    for (int k = 0; k < GAN_AUG_NPARAMS; k++) P[k] = v + (int64_t)k * n;
    for (int i = 0; i < n; i++) P[DA_SATURATION][i] = P[DA_CONTRAST][i] = 1.0f;  // untouched parts: identity
    const int sx = (int)(H * 0.125 + 0.5), sy = (int)(W * 0.125 + 0.5);
    const int ch = (int)(H * 0.5 + 0.5), cw = (int)(W * 0.5 + 0.5);
    for (int q = 0; q < o->npolicy; q++) switch (o->policy[q]) {
        case GAN_DIFFAUG_COLOR:
            uniform(rng, n, -0.5f, 0.5f, P[DA_BRIGHTNESS]);
            uniform(rng, n, 0.0f, 2.0f, P[DA_SATURATION]);
            uniform(rng, n, 0.5f, 1.5f, P[DA_CONTRAST]);
            break;
        case GAN_DIFFAUG_TRANSLATION:  // torch.randint(-shift, shift + 1)
            uniform(rng, n, 0.0f, 1.0f, P[DA_TX]);
            uniform(rng, n, 0.0f, 1.0f, P[DA_TY]);
            for (int i = 0; i < n; i++) {
                P[DA_TX][i] = below(P[DA_TX][i], 2 * sx + 1) - (float)sx;
                P[DA_TY][i] = below(P[DA_TY][i], 2 * sy + 1) - (float)sy;
            }
            break;
        case GAN_DIFFAUG_CUTOUT:  // torch.randint(0, side + (1 - size % 2))
            uniform(rng, n, 0.0f, 1.0f, P[DA_CUT_X]);
            uniform(rng, n, 0.0f, 1.0f, P[DA_CUT_Y]);
            for (int i = 0; i < n; i++) {
                P[DA_CUT_X][i] = below(P[DA_CUT_X][i], H + 1 - ch % 2);
                P[DA_CUT_Y][i] = below(P[DA_CUT_Y][i], W + 1 - cw % 2);
            }
            break;
        }
}

// Each transform as augment.py draws it: its value, then a coin per image that keeps it with
// probability p (else the identity).
static void draw_ada(double p, int n, int channels, int H, int W, ag_rng *rng, float *v) {
    float *P[GAN_AUG_NPARAMS];
    for (int k = 0; k < GAN_AUG_NPARAMS; k++) P[k] = v + (int64_t)k * n;
    float *coin = aug_host(n), *t2 = aug_host(2 * (int64_t)n);
    const float pf = (float)p;
#define GATE(k, off)                                             \
    do {                                                         \
        uniform(rng, n, 0.0f, 1.0f, coin);                       \
        for (int i = 0; i < n; i++)                              \
            if (!(coin[i] < pf)) P[k][i] = (off);                \
    } while (0)
    uniform(rng, n, 0.0f, 1.0f, P[ADA_XFLIP]);
    for (int i = 0; i < n; i++) P[ADA_XFLIP][i] = below(P[ADA_XFLIP][i], 2);
    GATE(ADA_XFLIP, 0.0f);
    uniform(rng, n, 0.0f, 1.0f, P[ADA_ROT90]);
    for (int i = 0; i < n; i++) P[ADA_ROT90][i] = below(P[ADA_ROT90][i], 4);
    GATE(ADA_ROT90, 0.0f);
    uniform(rng, 2 * n, -0.125f, 0.125f, t2);  // (rand * 2 - 1) * xint_max, [batch, 2]
    for (int i = 0; i < n; i++) {
        P[ADA_TX][i] = (float)nearbyint(t2[2 * i] * W);
        P[ADA_TY][i] = (float)nearbyint(t2[2 * i + 1] * H);
    }
    uniform(rng, n, 0.0f, 1.0f, coin);
    for (int i = 0; i < n; i++)
        if (!(coin[i] < pf)) P[ADA_TX][i] = P[ADA_TY][i] = 0.0f;
    normal(rng, n, 0.2f, P[ADA_BRIGHTNESS]);  // brightness_std
    GATE(ADA_BRIGHTNESS, 0.0f);
    normal(rng, n, 0.5f, P[ADA_CONTRAST]);  // exp2(N(0, contrast_std))
    for (int i = 0; i < n; i++) P[ADA_CONTRAST][i] = exp2f(P[ADA_CONTRAST][i]);
    GATE(ADA_CONTRAST, 1.0f);
    uniform(rng, n, 0.0f, 1.0f, P[ADA_LUMAFLIP]);
    for (int i = 0; i < n; i++) P[ADA_LUMAFLIP][i] = below(P[ADA_LUMAFLIP][i], 2);
    GATE(ADA_LUMAFLIP, 0.0f);
    for (int i = 0; i < n; i++) P[ADA_HUE][i] = 0.0f, P[ADA_SATURATION][i] = 1.0f;
    if (channels > 1) {  // hue and saturation leave grey unchanged: augment.py skips them
        uniform(rng, n, -AUG_PI, AUG_PI, P[ADA_HUE]);  // hue_max 1
        GATE(ADA_HUE, 0.0f);
        normal(rng, n, 1.0f, P[ADA_SATURATION]);  // exp2(N(0, saturation_std))
        for (int i = 0; i < n; i++) P[ADA_SATURATION][i] = exp2f(P[ADA_SATURATION][i]);
        GATE(ADA_SATURATION, 1.0f);
    }
#undef GATE
    free(coin), free(t2);
}

void gan_aug_draw(const gan_aug_opts *o, double p, int n, int channels, int H, int W, ag_rng *rng, float *v) {
    GAN_CHECK(o->mode != GAN_AUG_OFF, "augment: drawing parameters with augmentation off");
    if (o->mode == GAN_AUG_DIFF) draw_diff(o, n, H, W, rng, v);
    else draw_ada(p, n, channels, H, W, rng, v);
}

static bool all_equal(const float *v, int n, float value) {
    for (int i = 0; i < n; i++)
        if (v[i] != value) return false;
    return true;
}

ag_tensor *gan_aug_apply(ag_ctx *c, const gan_aug_opts *o, ag_tensor *x, const float *v) {
    const int n = x->shape.d[0];
    const float *P[GAN_AUG_NPARAMS];
    for (int k = 0; k < GAN_AUG_NPARAMS; k++) P[k] = v + (int64_t)k * n;
    if (o->mode == GAN_AUG_DIFF) {
        for (int q = 0; q < o->npolicy; q++) switch (o->policy[q]) {
            case GAN_DIFFAUG_COLOR:
                x = gan_diffaug_brightness(c, x, P[DA_BRIGHTNESS]);
                x = gan_diffaug_saturation(c, x, P[DA_SATURATION]);
                x = gan_diffaug_contrast(c, x, P[DA_CONTRAST]);
                break;
            case GAN_DIFFAUG_TRANSLATION: x = gan_diffaug_translation(c, x, P[DA_TX], P[DA_TY]); break;
            case GAN_DIFFAUG_CUTOUT: x = gan_diffaug_cutout(c, x, P[DA_CUT_X], P[DA_CUT_Y]); break;
            }
        return x;
    }
    GAN_CHECK(o->mode == GAN_AUG_ADA, "augment: applying with augmentation off");
    // A batch whose coins all said no is left as it is (the identity maps and matrices would
    // give the same values, at the cost of the passes).
    if (!all_equal(P[ADA_XFLIP], n, 0) || !all_equal(P[ADA_ROT90], n, 0) || !all_equal(P[ADA_TX], n, 0) ||
        !all_equal(P[ADA_TY], n, 0))
        x = gan_ada_geometric(c, x, P[ADA_XFLIP], P[ADA_ROT90], P[ADA_TX], P[ADA_TY]);
    if (!all_equal(P[ADA_BRIGHTNESS], n, 0) || !all_equal(P[ADA_CONTRAST], n, 1) ||
        !all_equal(P[ADA_LUMAFLIP], n, 0) || !all_equal(P[ADA_HUE], n, 0) || !all_equal(P[ADA_SATURATION], n, 1))
        x = gan_ada_color(c, x, P[ADA_BRIGHTNESS], P[ADA_CONTRAST], P[ADA_LUMAFLIP], P[ADA_HUE], P[ADA_SATURATION]);
    return x;
}

double gan_ada_adjust(const gan_aug_opts *o, double p, double r_t, int batch) {
    const double d = r_t - o->ada_target, sign = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
    p += sign * (double)batch * o->ada_interval / (o->ada_kimg * 1000.0);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

void gan_ada_after_step(const gan_aug_opts *o, gan_ada_state *s, double sign_sum, double sign_count, int batch) {
    s->sign_sum += sign_sum;
    s->sign_count += sign_count;
    if (++s->steps < o->ada_interval) return;
    if (s->sign_count > 0) s->p = gan_ada_adjust(o, s->p, s->sign_sum / s->sign_count, batch);
    s->sign_sum = s->sign_count = 0;
    s->steps = 0;
}

double gan_ada_sign_sum(ag_ctx *c, ag_tensor *out, float centre) {
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *x = ag_detach(c, out);
    if (centre != 0.0f) x = ag_add_scalar(c, x, -centre);
    double s = ag_item(ag_sum(c, ag_sign(c, x)));
    ag_set_grad_enabled(c, prev);
    return s;
}
