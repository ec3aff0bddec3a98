// Reference statistics: what generated images are compared with. The features of real images
// under one feature net, the Gaussian fitted to them (FID) and the features themselves (KID,
// precision/recall, density/coverage). Computing them means running the feature net over many
// images, so they are cached in an HDF5 file per dataset and net, named by a hash of the images
// used and of the net's weights: the same data and net read the file back, and a changed
// dataset or net never matches old statistics (docs/evaluation.md).
//
// A statistics file: /mean (d) and /cov (d, d) float64, /features (n, d) float32, and attributes
// format ("gan.c reference statistics"), version, feature_net, feature_dim, data_hash,
// weights_hash, source (the data it describes), count.
#pragma once
#include <stdint.h>

#include "ctx.h"
#include "dataset.h"
#include "error.h"
#include "feature_net.h"
#include "fsutil.h"
#include "metrics.h"

typedef struct gan_refstats {
    gan_gaussian gauss;
    float *features;  // (n, dim); NULL for statistics without features (pytorch-fid's .npz)
    int64_t n;        // 0 when unknown (pytorch-fid's .npz)
    int dim;
    char net[32];
    char source[GAN_PATH_MAX + 64];  // "PATH, 10000 of 60000 images"
    char file[GAN_PATH_MAX];         // the statistics file read or written ("" when none)
} gan_refstats;

// The statistics of `ref_n` images of a dataset (0 or more than it holds: all), drawn without
// replacement by a fixed seed, at the dataset's native size, under `net`: read from the cache
// in cache_dir when it holds them, else computed on c and written there (a cache that cannot be
// written is said on stderr and the statistics are still returned).
int gan_refstats_from_data(const gan_data_opts *data, int64_t ref_n, gan_feature_net *net, ag_ctx *c,
                           const char *cache_dir, gan_refstats *out, gan_err *err);
// The same over the images of one class only (data->num_classes > 0, so that the dataset loads
// with its labels; klass below it): `gan eval --per-class`. Cached like the others (the cache
// file is named by the images used). Fewer than 2 images of the class is a user error.
int gan_refstats_of_class(const gan_data_opts *data, int klass, int64_t ref_n, gan_feature_net *net, ag_ctx *c,
                          gan_refstats *out, gan_err *err);
// What --ref or eval.ref names: "data" (run_data: the run's training data, as it trains on it),
// a statistics file of gan.c, pytorch-fid's statistics (.npz: FID only), or a dataset path (read with `channels`, and image folders resized to
// `resolution`; 0: their own size). Datasets go through the cache in gan_refstats_cache_dir.
int gan_refstats_open(const char *spec, const gan_data_opts *run_data, int channels, int resolution, int64_t ref_n,
                      gan_feature_net *net, ag_ctx *c, gan_refstats *out, gan_err *err);
// A statistics file (a cache file, or one `gan eval --save-ref` wrote). Its feature net must be
// `net`'s (same name and dimension): another net's statistics are a user error saying so.
int gan_refstats_load(const char *path, const gan_feature_net *net, gan_refstats *out, gan_err *err);
// pytorch-fid's statistics (numpy.savez_compressed(path, mu=..., sigma=...)): a Gaussian without
// the features, enough for FID only. Its dimension must be the net's.
int gan_refstats_load_npz(const char *path, const gan_feature_net *net, gan_refstats *out, gan_err *err);
// Writes r to path (atomically). r must have its features.
int gan_refstats_save(const char *path, const gan_refstats *r, uint64_t data_hash, uint64_t weights_hash,
                      gan_err *err);
void gan_refstats_free(gan_refstats *r);

// The cache directory: $GAN_CACHE_DIR, else $XDG_CACHE_HOME/gan.c, else $HOME/.cache/gan.c.
int gan_refstats_cache_dir(char *dir, size_t size, gan_err *err);
// FNV-1a 64 over bytes, continuing from h (start with GAN_HASH_INIT).
#define GAN_HASH_INIT 0xcbf29ce484222325ull
uint64_t gan_hash_bytes(uint64_t h, const void *data, size_t n);
