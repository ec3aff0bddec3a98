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
// is cut short or not valid gzip data, or its magic is another one (saying what the file looks
// like instead, e.g. "this looks like a label file").
gzFile gan_idx_open(const char *path, uint32_t magic, int64_t *dims, gan_err *err);
// Reads up to n bytes; returns how many arrived (short only at the end of data or on error).
int64_t gan_idx_read(gzFile f, uint8_t *dst, int64_t n);
// Reads the `want` bytes a header claims into a malloc'd buffer (`what` names it if memory runs
// out) that is never larger than what the file holds: a plain file's rest is known from its size,
// and a gzip stream's buffer grows as data arrives (to at most twice what arrived). *got says how
// many bytes arrived: fewer than want when the data ends early or is corrupt.
uint8_t *gan_idx_read_claimed(gzFile f, const char *path, int64_t want, int64_t *got, const char *what);
// After a short read: closes f and fails (returns -1) with err naming the file, what its header
// claims (`claim`, e.g. "3 images of 5x4 (60 bytes)") and what arrived (`held`, e.g. "2 images
// (50 bytes)"): "truncated" when the data ended; when zlib found it corrupt, "not valid gzip data
// (zlib: <reason>)" and the claim only (zlib does not say how much arrived before the damage).
int gan_idx_fail_short(gzFile f, const char *path, const char *claim, const char *held, gan_err *err);
// True when zlib stopped on data it could not decompress (a corrupt gzip stream, not a cut one).
bool gan_idx_corrupt(gzFile f);
// The element type's name for an IDX type byte (0x08 "unsigned byte", ...), NULL for none.
const char *gan_idx_type_name(unsigned type);
