// Shuffled float batches cut from a dataset held in memory (dataset.h).
//
// Order: epoch e is a permutation of all n images (Fisher-Yates with Philox, keyed by the seed
// and counters reserved for epoch e), so it depends only on (seed, e). Batches are consecutive
// slices of the concatenated epochs: a batch that runs past the end of an epoch continues with
// the next epoch's permutation, so every batch is full and no image is dropped. A batch is never
// larger than the dataset (gan_loader_init refuses it), so a batch holds an image at most twice,
// and only where it straddles two epochs. The loader's
// whole state is (epoch, position): saving it in a checkpoint and restoring it into a loader
// with the same dataset and seed yields exactly the batches an unbroken run would have seen.
//
// Pixels: x -> x / 127.5 - 1, into [-1, 1]. Images smaller than the model's resolution are
// placed at the center of the res x res square (gan_data_placement) and the rest is filled with
// the dataset's background value, per channel the most common value on the border of the
// first 1000 images (0 for MNIST-like data, so the padding is -1.0, exactly what the digits sit
// on). Nothing is resized here: folders are resized when loaded, and IDX or CIFAR images larger
// than the resolution are an error telling the user to raise model.resolution.
#pragma once
#include <stdint.h>

#include "dataset.h"

typedef struct gan_loader_state {
    int64_t epoch;     // permutation in use
    int64_t position;  // next slot of it, in [0, n)
} gan_loader_state;

typedef struct gan_loader {
    const gan_dataset *ds;  // borrowed; must outlive the loader
    int batch, res;         // batches are (batch, ds->c, res, res)
    uint64_t seed;
    gan_loader_state state;
    int y0, x0;             // where a dataset image sits in the res x res square
    uint8_t background[4];  // per channel
    float lut[256];         // uint8 -> [-1, 1]
    uint32_t *perm;         // (n) permutation of epoch perm_epoch
    int64_t perm_epoch;
    int64_t *index;         // (batch) scratch: dataset indices of the batch being built
} gan_loader;

// Prepares batches of `batch` images at the model's resolution `res` with `channels` (must
// equal ds->c: load the dataset with the model's channels). Fails (user error naming the
// dataset) when the images are larger than res, and (GAN_EXIT_USAGE, naming both numbers) when
// batch is larger than the dataset: every batch would hold repeats of the same images.
int gan_loader_init(gan_loader *l, const gan_dataset *ds, int batch, int res, int channels,
                    uint64_t seed, gan_err *err);
void gan_loader_free(gan_loader *l);

// Writes the next batch, (batch, C, res, res) floats in [-1, 1], to out, and advances the state.
void gan_loader_next(gan_loader *l, float *out);
// The labels of the batch gan_loader_next last wrote, in its order, into out (batch); the
// dataset must have labels (a conditional run). Reads no state: the image stream is the same
// whether or not it is called.
void gan_loader_labels(const gan_loader *l, int32_t *out);
// Writes the given dataset images (n of them, indices in [0, ds->n)) in batch layout, with the
// same placement and scaling; the state is untouched (fixed real batches for grids and metrics).
void gan_loader_fill(const gan_loader *l, const int64_t *indices, int n, float *out);

gan_loader_state gan_loader_get_state(const gan_loader *l);
// Restores a saved state; a position outside [0, n) (a checkpoint made with another dataset or
// limit) is a user error.
int gan_loader_set_state(gan_loader *l, gan_loader_state s, gan_err *err);

// The per-channel background value of a dataset (c values): the most common border value of
// the first min(n, 1000) images, ties to the smaller value.
void gan_dataset_background(const gan_dataset *ds, uint8_t *bg);
// Top-left corner of an h x w image centered in a res x res square (res >= h, w); rounding
// puts an odd leftover on the bottom / right. `gan sample` crops with the same numbers.
void gan_data_placement(int h, int w, int res, int *y0, int *x0);
