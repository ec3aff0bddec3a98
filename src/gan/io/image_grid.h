// Sample grids as PNG files: what `gan sample` and the trainer's snapshots write.
//
// The layout is torchvision.utils.make_grid's, so a grid from gan.c and one from the PyTorch
// reference line up pixel for pixel:
//   cols = min(nrow, n), rows = ceil(n / cols)
//   width  = cols * (w + pad) + pad,  height = rows * (h + pad) + pad
//   image i sits at row i / cols, column i % cols, its top-left pixel at
//   (pad + row * (h + pad), pad + col * (w + pad)).
// Padding, and the cells after the last image of a partial last row, are black (byte 0): the
// colour torchvision's save_image(normalize=True) gives its default pad_value 0.
//
// Pixel values: x in [-1, 1] is clamped (NaN counts as -1) and mapped to
// byte = floor((x + 1) * 127.5 + 0.5), i.e. round((x + 1) * 127.5) -- the same bytes as
// save_image(x, normalize=True, value_range=(-1, 1)).
//
// An interpolation strip is a grid with nrow = steps; nothing else is needed for it.
#pragma once
#include <stddef.h>

#include "error.h"

// The grid's size in pixels for n images of h x w. nrow is images per row; 0 = ceil(sqrt(n)).
void gan_grid_dims(int n, int h, int w, int nrow, int pad, int *grid_h, int *grid_w);

// Writes the (n, c, h, w) images as one PNG at path, atomically (temp file + rename): a failed
// write leaves any previous file at path as it was. c = 1 gives a grayscale PNG, c = 3 an RGB
// one. nrow as in gan_grid_dims; pad >= 0 pixels between and around the tiles.
// Bad arguments (n < 1, c not 1 or 3, ...) are programmer errors and abort; a grid too large for
// a PNG and file-system failures return -1 with err set.
int gan_grid_write_png(const char *path, const float *images, int n, int c, int h, int w,
                       int nrow, int pad, gan_err *err);

// A grid encoded in memory: the bytes gan_grid_write_png writes to its file.
typedef struct gan_png {
    unsigned char *data;  // malloc'd (gan_png_free)
    size_t size;
    int height, width, channels;
} gan_png;

// Encodes the grid gan_grid_write_png would write, into png. `what` names the grid in errors
// (the file it is meant for). Arguments and errors as for gan_grid_write_png.
int gan_grid_encode_png(const char *what, const float *images, int n, int c, int h, int w, int nrow, int pad,
                        gan_png *png, gan_err *err);
void gan_png_free(gan_png *png);

// dst (n, c, ch, cw) = the centred ch x cw window of each src (n, c, h, w) image, e.g. 32x32
// generator output back to Fashion-MNIST's native 28x28. The window starts at row (h - ch) / 2
// and column (w - cw) / 2 (rounded down when the margin is odd). dst may be src (in place).
void gan_images_center_crop(const float *src, int n, int c, int h, int w, int ch, int cw,
                            float *dst);
