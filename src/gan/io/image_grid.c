#include "image_grid.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"

// Smallest k with k * k >= n, in integers so that perfect squares never round up.
static int ceil_sqrt(int n) {
    int k = (int)sqrt((double)n);
    while ((int64_t)k * k < n) k++;
    while (k > 1 && (int64_t)(k - 1) * (k - 1) >= n) k--;
    return k;
}

static void grid_shape(int n, int nrow, int *rows, int *cols) {
    int c = nrow > 0 ? nrow : ceil_sqrt(n);
    if (c > n) c = n;
    *cols = c;
    *rows = (n + c - 1) / c;
}

static void check_args(const char *fn, int n, int h, int w, int nrow, int pad) {
    GAN_CHECK(n >= 1 && h >= 1 && w >= 1 && nrow >= 0 && pad >= 0,
              "%s: need n >= 1, h, w >= 1, nrow >= 0, pad >= 0 (got n=%d h=%d w=%d nrow=%d pad=%d)",
              fn, n, h, w, nrow, pad);
}

// In 64 bits: callers ask for the size before knowing whether it fits an int.
static void grid_dims64(int n, int h, int w, int nrow, int pad, int64_t *gh, int64_t *gw) {
    int rows, cols;
    grid_shape(n, nrow, &rows, &cols);
    *gh = (int64_t)rows * (h + (int64_t)pad) + pad;
    *gw = (int64_t)cols * (w + (int64_t)pad) + pad;
}

void gan_grid_dims(int n, int h, int w, int nrow, int pad, int *grid_h, int *grid_w) {
    check_args("gan_grid_dims", n, h, w, nrow, pad);
    int64_t gh, gw;
    grid_dims64(n, h, w, nrow, pad, &gh, &gw);
    GAN_CHECK(gh <= INT_MAX && gw <= INT_MAX, "gan_grid_dims: grid %lld x %lld overflows int",
              (long long)gh, (long long)gw);
    *grid_h = (int)gh;
    *grid_w = (int)gw;
}

static uint8_t to_byte(float x) {
    // fmaxf returns the other operand for NaN, so NaN lands on -1 (black).
    x = fminf(fmaxf(x, -1.0f), 1.0f);
    return (uint8_t)floorf((x + 1.0f) * 127.5f + 0.5f);
}

typedef struct {
    unsigned char *data;
    size_t size;
} png_buf;

// stb calls this once with the whole encoded file.
static void png_append(void *ctx, void *data, int size) {
    png_buf *b = ctx;
    b->data = gan_xrealloc(b->data, b->size + (size_t)size, "an encoded PNG");
    memcpy(b->data + b->size, data, (size_t)size);
    b->size += (size_t)size;
}

int gan_grid_encode_png(const char *what, const float *images, int n, int c, int h, int w, int nrow, int pad,
                        gan_png *png, gan_err *err) {
    *png = (gan_png){0};
    check_args("gan_grid_encode_png", n, h, w, nrow, pad);
    GAN_CHECK(c == 1 || c == 3, "gan_grid_encode_png: c must be 1 (grayscale) or 3 (RGB), got %d", c);
    int64_t gh, gw;
    grid_dims64(n, h, w, nrow, pad, &gh, &gw);
    // stb's PNG encoder sizes its scanline buffer, (gw * c + 1) * gh, in an int.
    if (gw > INT_MAX || gh > INT_MAX || (gw * c + 1) * gh > INT_MAX)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "%s: a grid of %d images of %dx%d is %lldx%lld pixels, too large for a "
                        "PNG; write fewer images", what, n, h, w, (long long)gw, (long long)gh);

    int rows, cols;
    grid_shape(n, nrow, &rows, &cols);
    size_t stride = (size_t)gw * c;
    uint8_t *pix = gan_xcalloc((size_t)gh, stride, "a PNG grid's pixels");  // zero = black padding
    size_t plane = (size_t)h * w;
    for (int i = 0; i < n; i++) {
        const float *img = images + (size_t)i * c * plane;  // (c, h, w)
        size_t y0 = (size_t)pad + (size_t)(i / cols) * (h + pad);
        size_t x0 = (size_t)pad + (size_t)(i % cols) * (w + pad);
        for (int y = 0; y < h; y++) {
            uint8_t *row = pix + (y0 + y) * stride + x0 * c;
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    row[(size_t)x * c + k] = to_byte(img[k * plane + (size_t)y * w + x]);
        }
    }

    png_buf buf = {0};
    int ok = stbi_write_png_to_func(png_append, &buf, (int)gw, (int)gh, c, pix, (int)stride);
    free(pix);
    if (!ok) {
        free(buf.data);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: PNG encoding failed (out of memory?)", what);
    }
    *png = (gan_png){.data = buf.data, .size = buf.size, .height = (int)gh, .width = (int)gw, .channels = c};
    return 0;
}

void gan_png_free(gan_png *png) {
    free(png->data);
    *png = (gan_png){0};
}

int gan_grid_write_png(const char *path, const float *images, int n, int c, int h, int w,
                       int nrow, int pad, gan_err *err) {
    gan_png png;
    if (gan_grid_encode_png(path, images, n, c, h, w, nrow, pad, &png, err) != 0) return -1;
    int rc = gan_fs_write_atomic(path, png.data, png.size, err);
    gan_png_free(&png);
    return rc;
}

void gan_images_center_crop(const float *src, int n, int c, int h, int w, int ch, int cw,
                            float *dst) {
    GAN_CHECK(n >= 0 && c >= 1 && ch >= 1 && cw >= 1 && ch <= h && cw <= w,
              "gan_images_center_crop: cannot crop (%d, %d, %d, %d) images to %dx%d", n, c, h, w,
              ch, cw);
    int top = (h - ch) / 2, left = (w - cw) / 2;
    // Every destination row starts at or before its source row, so a forward pass of memmove
    // never overwrites a row it still has to read: in place works.
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *s = src + p * h * w + (size_t)top * w + left;
        float *d = dst + p * ch * cw;
        for (int y = 0; y < ch; y++) memmove(d + (size_t)y * cw, s + (size_t)y * w, sizeof(float) * cw);
    }
}
