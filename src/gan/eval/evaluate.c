#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gan_check.h"
#include "json.h"
#include "progress.h"

int gan_evaluate(gan_feature_net *net, ag_ctx *c, const gan_refstats *ref, int64_t n, int C, int H, int W,
                 int batch, gan_eval_images_fn images, void *user, uint64_t kid_seed, double started,
                 gan_eval_result *r, gan_err *err) {
    memset(r, 0, sizeof *r);
    const gan_feature_net_info *info = gan_feature_net_info_of(net);
    GAN_CHECK(ref->dim == info->dim, "gan_evaluate: reference of %d-d features for a %d-d net", ref->dim, info->dim);
    const int64_t per = (int64_t)C * H * W;
    float *img = gan_xmalloc((size_t)(batch * per) * sizeof *img, "a batch of generated images");
    float *feat = gan_xmalloc((size_t)(n * info->dim) * sizeof *feat, "the generated images' features");
    int rc = 0;
    for (int64_t i0 = 0; i0 < n && rc == 0; i0 += batch) {
        const int m = (int)(n - i0 < batch ? n - i0 : batch);
        rc = images(user, i0, m, img, err);
        if (rc == 0) rc = gan_feature_net_run(net, c, img, m, C, H, W, feat + i0 * info->dim, err);
    }
    free(img);
    gan_gaussian g = {0};
    if (rc == 0) rc = gan_features_check(feat, n, info->dim, "the generated images' features", err);
    if (rc == 0) rc = gan_gaussian_fit(&g, feat, n, info->dim, err);
    if (rc == 0) rc = gan_fid(&g, &ref->gauss, &r->fid, err);
    if (rc == 0 && ref->features) {
        rc = gan_kid(ref->features, ref->n, feat, n, info->dim, GAN_KID_SUBSETS, GAN_KID_SUBSET_SIZE, kid_seed,
                     &r->kid, err);
        if (rc == 0) rc = gan_prdc(ref->features, ref->n, feat, n, info->dim, GAN_PR_K, GAN_DC_K, &r->prdc, err);
    } else if (rc == 0) {
        r->kid = (gan_kid_result){.mean = NAN, .std = NAN};
        r->prdc = (gan_prdc_result){NAN, NAN, NAN, NAN};
    }
    gan_gaussian_free(&g);
    free(feat);
    if (rc != 0) return -1;
    r->n = n;
    r->ref_n = ref->n;
    r->dim = info->dim;
    snprintf(r->net, sizeof r->net, "%s", info->name);
    snprintf(r->ref, sizeof r->ref, "%s", ref->source);
    r->seconds = gan_now() - started;
    return 0;
}

void gan_eval_summary(const gan_eval_result *r, char *buf, size_t size) {
    if (isnan(r->kid.mean)) {
        snprintf(buf, size, "FID %.2f (KID, precision/recall and density/coverage need the reference's features)",
                 r->fid);
        return;
    }
    snprintf(buf, size, "FID %.2f | KID %.4f +- %.4f | precision %.3f recall %.3f | density %.3f coverage %.3f",
             r->fid, r->kid.mean, r->kid.std, r->prdc.precision, r->prdc.recall, r->prdc.density,
             r->prdc.coverage);
}

// A number, or null for NAN (JSON has no NaN).
static void json_number(FILE *f, const char *key, double v, int digits) {
    if (isnan(v)) fprintf(f, "\"%s\": null, ", key);
    else fprintf(f, "\"%s\": %.*f, ", key, digits, v);
}

void gan_eval_json_fields(FILE *f, const gan_eval_result *r) {
    json_number(f, "fid", r->fid, 6);
    json_number(f, "kid", r->kid.mean, 8);
    json_number(f, "kid_std", r->kid.std, 8);
    json_number(f, "precision", r->prdc.precision, 6);
    json_number(f, "recall", r->prdc.recall, 6);
    json_number(f, "density", r->prdc.density, 6);
    json_number(f, "coverage", r->prdc.coverage, 6);
    fprintf(f, "\"eval_n\": %lld, \"eval_ref_n\": %lld, \"kid_subsets\": %d, \"kid_subset_size\": %d, \"feature_net\": ",
            (long long)r->n, (long long)r->ref_n, r->kid.subsets, r->kid.subset_size);
    gan_json_string(f, r->net);
    fprintf(f, ", \"feature_dim\": %d, \"reference\": ", r->dim);
    gan_json_string(f, r->ref);
    fprintf(f, ", \"eval_seconds\": %.3f", r->seconds);
}

const char *gan_eval_net_for(const char *requested, int channels, int h, int w) {
    if (strcmp(requested, "auto")) return requested;
    // The Fashion-MNIST net takes 28x28 images, and 32x32 ones padded from them (center crop).
    return channels == 1 && h == w && (h == 28 || h == 32) ? "fmnist" : "inception";
}
