// Class labels from IDX label files (idx1-ubyte, as MNIST and Fashion-MNIST ship them: magic
// 0x00000801, a big-endian count N, then N label bytes), plain or gzipped:
//
//   int64_t n;
//   uint8_t *y = gan_labels_load(".../train-labels-idx1-ubyte.gz", 0, 10, &n, err);
//   if (!y) return -1;   // err names the file
//   ...
//   free(y);
//
// The labels of an image file (dataset.h) are matched to its images by index; the caller checks
// that the two counts agree.
#pragma once
#include <stdint.h>

#include "error.h"

// Reads the first `limit` labels of `path` (0: all of them) and returns them (malloc'd, *n of
// them), or NULL with err (GAN_EXIT_RUNTIME) naming the file when: it cannot be opened; it is not
// an IDX label file (an image file is named as such); its count is 0; it holds fewer labels than
// its header says (memory is bounded by the file, not the count), or (when all are read) more
// bytes than that; its gzip data is corrupt; a label is not below `classes` (the first such
// label's index and value are named).
uint8_t *gan_labels_load(const char *path, int64_t limit, int classes, int64_t *n, gan_err *err);
