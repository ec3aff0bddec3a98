// Training images, loaded once into host memory as uint8 (N, C, H, W). Batches are cut from it
// by the loader (loader.h); nothing here is done per training step.
//
//   gan_data_opts o = {.path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
//                      .format = GAN_DATA_AUTO, .channels = 1, .resolution = 32};
//   gan_dataset ds;
//   if (gan_dataset_load(&o, &ds, err) != 0) return -1;   // err names the file
//   ...
//   gan_dataset_free(&ds);
//
// Sources:
//  - IDX (MNIST / Fashion-MNIST image files, magic 0x00000803, big-endian N, H, W), plain or
//    gzipped, read through zlib either way.
//  - CIFAR-10 binary batches: records of 1 label byte + 3072 bytes (R, G, B planes of 32x32).
//    A single .bin file, or a directory: then every data_batch_*.bin in it, sorted by name
//    (test_batch.bin is the held-out split and is not used for training).
//  - Image folders: every .png/.jpg/.jpeg/.bmp/.ppm/.pgm (any case) under the directory, recursively,
//    sorted by path (bytewise) so the order never depends on the file system. Names starting
//    with '.' are skipped (editor and macOS "._x.png" droppings), and symlinked directories are
//    not followed (no cycles). Each image is converted to the target channels, its centered
//    square (side = shorter side) cut out, and that square resized to resolution x resolution:
//    the same picture as "shorter side to resolution, then center crop". Shrinking averages the
//    covered source area (box filter with fractional coverage), enlarging is bilinear
//    (half-pixel centers, edges clamped), an image already of that size is copied exactly.
//    Images are at most 16384 pixels a side (GAN_IMAGE_MAX_SIDE, stb_image's limit here).
//
// Headers are claims the data must back: an IDX count or a .npy shape never sizes an allocation
// beyond what the file holds; a header claiming more fails naming the claim and the content.
//
// Channels: the dataset is stored with the channels the model takes. RGB -> gray uses the
// ITU-R BT.601 luma weights, Y = round(0.299 R + 0.587 G + 0.114 B); gray -> RGB replicates the
// plane. Alpha (gray+alpha, RGBA images) is composited over BLACK, i.e. c * a / 255 rounded:
// fully transparent pixels become 0 whatever colour they hide, which matches the zero background
// of MNIST-like data and the padding value such data gets (loader.h).
#pragma once
#include <stdint.h>

#include "error.h"
#include "fsutil.h"

typedef enum gan_data_format {
    GAN_DATA_AUTO = 0,  // directory -> CIFAR-10 if it holds data_batch_*.bin, else folder;
                        // file -> IDX if it starts with an IDX magic (after gunzip),
                        // CIFAR-10 if it is a .bin whose size is a multiple of 3073
    GAN_DATA_IDX,
    GAN_DATA_FOLDER,
    GAN_DATA_CIFAR10,
} gan_data_format;

typedef struct gan_data_opts {
    const char *path;
    gan_data_format format;
    int64_t limit;   // use only the first `limit` images (in file / sorted-path order); 0: all
    int channels;    // 1 or 3: convert to this; 0: keep the source's (folders: 1 if every image
                     // is gray or gray+alpha, else 3)
    bool skip_bad;   // folders: leave out images that cannot be decoded (see gan_dataset.skipped)
    int resolution;  // folders: resize and crop to this square; 0: keep native sizes, which must
                     // then agree. CIFAR-10 is resized to it too; IDX is never resized (the
                     // loader pads 28x28 digits into the square: their border is black already).
    // Class labels (conditioning; dataset_labels.c), loaded only when num_classes > 0: IDX from
    // the label file `labels` (NULL or "": the one beside `path`, "labels-idx1-ubyte" for
    // "images-idx3-ubyte" in its name), CIFAR-10 from each record's label byte, folders from the
    // top-level subfolder an image sits in (classes = the subfolder names, sorted bytewise).
    // Every label must be below num_classes; no label (a flat folder, no label file) is an error.
    int num_classes;
    const char *labels;
} gan_data_opts;

typedef struct gan_dataset {
    uint8_t *pixels;        // (n, c, h, w), malloc'd
    int64_t n;
    int c, h, w;
    int src_channels;       // channels in the files, before conversion (folders: the most any had)
    gan_data_format format; // the format actually read (never AUTO)
    int64_t skipped;        // folders with skip_bad: images left out as undecodable
    char first_skipped[1024]; // the first of them: "PATH: not a decodable image (...)"
    char path[GAN_PATH_MAX];
    uint8_t *labels;        // (n) class of each image when opts.num_classes > 0, else NULL
    char labels_path[GAN_PATH_MAX]; // where they came from (the label file, or data.path)
} gan_dataset;

// Loads the whole dataset. On failure returns -1 with err (GAN_EXIT_RUNTIME) naming the file and
// leaves *ds empty (safe to free): the file cannot be opened ("Permission denied", ...), holds
// less than its header claims ("truncated"), is not valid gzip data, is not a decodable image,
// or needs more memory than can be allocated.
int gan_dataset_load(const gan_data_opts *opts, gan_dataset *ds, gan_err *err);
void gan_dataset_free(gan_dataset *ds);

// Image i, (c, h, w).
static inline const uint8_t *gan_dataset_image(const gan_dataset *ds, int64_t i) {
    return ds->pixels + i * (int64_t)ds->c * ds->h * ds->w;
}
// The size images have in the dataset, before the loader pads them into the model's square
// (28 x 28 for Fashion-MNIST): `gan sample` crops generated images back to it.
void gan_dataset_image_size(const gan_dataset *ds, int *h, int *w);

// "auto", "idx", "folder", "cifar10". from_name returns -1 for an unknown name.
const char *gan_data_format_name(gan_data_format f);
int gan_data_format_from_name(const char *name, gan_data_format *f);
