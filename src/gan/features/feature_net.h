// Feature networks: what `gan eval` measures images with. A net maps images to feature vectors
// (one row per image); the metrics (metrics/) compare the feature distributions of generated
// and real images. Two nets:
//   "fmnist"     a small classifier for 28/32-pixel grey images, trained by gan.c on the
//                Fashion-MNIST training set, its weights shipped in data/fmnist_classifier.h5
//                (features_fmnist.c; the recipe in tools/train_classifier.c)
//   "inception"  InceptionV3 as pytorch-fid and clean-fid use it (2048-d pool features), with
//                weights converted from pytorch-fid's file by tools/convert_fid_inception.py
//                (features_inception.c)
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "ctx.h"
#include "error.h"

typedef struct gan_feature_net gan_feature_net;

typedef struct gan_feature_net_info {
    const char *name;          // "fmnist", "inception"
    int dim;                   // feature length
    int channels;              // what the net takes: 1 (grey) or 3 (RGB); other inputs are converted
    int height, width;         // what it takes; other sizes are resized (inception) or padded/cropped
    const char *weights_path;  // the file its weights came from; "(synthetic)" for open_synthetic's
} gan_feature_net_info;

// Opens net `name` with its weights from `weights_path` (NULL: the net's default file) on
// backend be. A missing or wrong weights file is a user error naming the file and what was
// expected; an unknown name lists the known ones.
gan_feature_net *gan_feature_net_open(const char *name, const char *weights_path, const ag_backend *be,
                                      gan_err *err);
// Net `name` with synthetic weights, deterministic and of small magnitude: for benchmarks only
// (`gan bench --features`), since speed does not depend on the values and the Inception weights
// are not on every machine. Its features mean nothing. An unknown name is an error as above.
gan_feature_net *gan_feature_net_open_synthetic(const char *name, const ag_backend *be, gan_err *err);
void gan_feature_net_free(gan_feature_net *f);
const gan_feature_net_info *gan_feature_net_info_of(const gan_feature_net *f);
// Images per forward pass of gan_feature_net_run: the net's own (sized for its activations'
// memory: fmnist 256, inception 16), or the one set here (gan bench --batch; batch >= 1).
int gan_feature_net_batch(const gan_feature_net *f);
void gan_feature_net_set_batch(gan_feature_net *f, int batch);

// Features of n images (n, C, H, W) in [-1, 1], host memory, into out (n, dim), host memory.
// Grey images are repeated to RGB for a 3-channel net and RGB turned grey (ITU-R 601 luma)
// for a 1-channel one; sizes are adapted as the net says above. Runs in batches on c (reset
// after each batch), in the nets' inference mode. Returns 0, or -1 with err set when the images
// cannot be fed to the net (a size it cannot adapt).
int gan_feature_net_run(gan_feature_net *f, ag_ctx *c, const float *images, int64_t n, int C, int H, int W,
                        float *out, gan_err *err);
