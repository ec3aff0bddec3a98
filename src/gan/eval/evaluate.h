// One evaluation: the features of n generated images under a feature net, against reference
// statistics (refstats.h): FID, KID, precision/recall and density/coverage (metrics.h), and the
// ways it is reported (one human line, one JSON object). `gan eval` and the trainer's periodic
// evaluation both come through here, so they measure the same way.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctx.h"
#include "error.h"
#include "feature_net.h"
#include "metrics.h"
#include "refstats.h"

// KID and the precision/recall/density/coverage need the reference's features: against
// statistics without them (pytorch-fid's .npz) they are NAN, and JSON gets null.
typedef struct gan_eval_result {
    int64_t n;         // generated images
    int64_t ref_n;     // reference images
    int dim;
    char net[32];
    char ref[GAN_PATH_MAX + 64];
    double fid;
    gan_kid_result kid;
    gan_prdc_result prdc;
    double seconds;    // the whole evaluation, reference statistics included when computed
} gan_eval_result;

// Fills `count` images (C, H, W) in [-1, 1], numbers [first, first + count) of the n, into images.
typedef int (*gan_eval_images_fn)(void *user, int64_t first, int count, float *images, gan_err *err);

// Scores n images of size (C, H, W) that images() makes, `batch` at a time, against ref. KID's
// subsets are drawn from kid_seed. r->seconds counts from `started` (gan_now()).
int gan_evaluate(gan_feature_net *net, ag_ctx *c, const gan_refstats *ref, int64_t n, int C, int H, int W,
                 int batch, gan_eval_images_fn images, void *user, uint64_t kid_seed, double started,
                 gan_eval_result *r, gan_err *err);

// "FID 43.41 | KID 0.0312 +- 0.0011 | precision 0.69 recall 0.59 | density 0.85 coverage 0.56"
void gan_eval_summary(const gan_eval_result *r, char *buf, size_t size);
// The result's fields as JSON members without braces ("\"fid\": 43.41, ..."), for a caller to
// put into its own object (gan eval's file, a metrics.jsonl line).
void gan_eval_json_fields(FILE *f, const gan_eval_result *r);

// The feature net `requested` names ("auto": fmnist for grey 28x28 or 32x32 images, else
// inception).
const char *gan_eval_net_for(const char *requested, int channels, int h, int w);
