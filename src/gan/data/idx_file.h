// The IDX container (LeCun's MNIST format), shared by the image reader (idx.c) and the label
// reader (labels.c): a 4-byte magic (0, 0, element type, number of dims), each dim as a
// big-endian uint32, then the elements. zlib's gzread reads plain files unchanged, so one path
// handles both .gz and uncompressed files.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "error.h"

#define GAN_IDX_IMAGES 0x00000803u  // unsigned byte, 3 dims: N x H x W images
#define GAN_IDX_LABELS 0x00000801u  // unsigned byte, 1 dim: N labels

// Opens `path` and reads its header, whose magic must be `magic` (GAN_IDX_IMAGES or
// GAN_IDX_LABELS); dims gets its (magic & 0xff) dims. Returns the file positioned at the first
// element, or NULL with err (GAN_EXIT_RUNTIME) naming the file: it cannot be opened, its header
// is cut short, or its magic is another one (saying what the file looks like instead, e.g. "this
// looks like a label file").
gzFile gan_idx_open(const char *path, uint32_t magic, int64_t *dims, gan_err *err);
// Reads up to n bytes; returns how many arrived (short only at the end of data or on error).
int64_t gan_idx_read(gzFile f, uint8_t *dst, int64_t n);
// Closes f and leaves in buf ": <zlib reason>" after a short read, or "" at a clean end of data
// (the reason lives in f, so it is copied before closing).
void gan_idx_close_reason(gzFile f, char *buf, size_t size);
// The element type's name for an IDX type byte (0x08 "unsigned byte", ...), NULL for none.
const char *gan_idx_type_name(unsigned type);
