// The per-format readers behind gan_dataset_load (dataset.c picks one and validates options).
// Each fills *ds (pixels, n, c, h, w, src_channels) or returns -1 with err naming the file.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

// The pixel buffer of n images of c x h x w, sizes that came from the files (a header's claim, a
// sparse file's size): a size that cannot be allocated is the data's fault, so it fails as a user
// error (NULL, err naming `path`, the images and the bytes) where gan_xmalloc would abort.
// Also refuses, before allocating, a buffer larger than the memory left (gan_check_pixel_room).
uint8_t *gan_dataset_alloc_pixels(const char *path, int64_t n, int c, int h, int w, gan_err *err);
// 0 when `bytes` of pixels (`what`: "60000 images of 1x28x28") fit in the memory this process
// has left (core/meminfo.h); else -1 with err naming both figures and the limit. With overcommit
// an allocation past the machine's memory succeeds and the kernel's OOM killer ends the process
// later, so the room is checked instead of trusting malloc.
int gan_check_pixel_room(const char *path, uint64_t bytes, const char *what, gan_err *err);

// IDX image file (plain or gzip), 1 channel. limit 0: all images.
int gan_idx_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err);
// True when the first four bytes (after gunzip) look like any IDX magic: 0, 0, type, ndim.
bool gan_idx_sniff(const char *path);

// CIFAR-10 batch file, or a directory's data_batch_*.bin files. 3 channels, 32 x 32.
int gan_cifar10_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err);
// True when the directory holds at least one data_batch_*.bin.
bool gan_cifar10_dir_sniff(const char *dir);
#define GAN_CIFAR10_RECORD 3073  // 1 label byte + 3 x 32 x 32 pixels

// Image folder; converts to `channels` (0: 1 if all gray, else 3) and resizes to `resolution`
// (0: keep native sizes, which must agree). With skip_bad an image that cannot be opened or
// decoded is left out (ds->skipped counts them, ds->first_skipped says why for the first)
// instead of failing the load; a folder with no good image still fails.
// With num_classes > 0 also ds->labels (gan_folder_classes over the images kept).
int gan_folder_load(const char *dir, int64_t limit, int channels, int resolution, bool skip_bad, int num_classes,
                    gan_dataset *ds, gan_err *err);
// The largest side of an image a folder may hold (stb_image's STBI_MAX_DIMENSIONS there): a
// decoded image is then at most 16384^2 x 4 bytes = 1 GiB, whatever its header claims.
#define GAN_IMAGE_MAX_SIDE 16384
// .png .jpg .jpeg .bmp .ppm .pgm, any case.
bool gan_path_is_image(const char *path);

// Conditioning (dataset_labels.c): fills ds->labels for the loaded ds (n, format and path set)
// from opts (num_classes > 0, labels), or returns -1 with err naming the file and, for a label
// out of range, its index and value.
int gan_dataset_load_labels(const gan_data_opts *opts, gan_dataset *ds, gan_err *err);
// CIFAR-10's label bytes of the first n records of `path` (file or directory) into labels (n).
int gan_cifar10_labels(const char *path, int64_t n, uint8_t *labels, gan_err *err);
// The classes of a folder's images: paths (n, under dir, sorted) -> labels (n), each image's
// top-level subfolder's index among the sorted names of the subfolders holding images. An image
// directly in dir, more than 256 classes, or a class not below num_classes fails naming the file
// (and its index and class).
int gan_folder_classes(const char *dir, char *const *paths, int64_t n, int num_classes, uint8_t *labels,
                       gan_err *err);
