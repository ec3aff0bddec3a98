#include "pixels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gan_check.h"

void gan_px_interleaved_to_planar(const uint8_t *src, int h, int w, int comp, int c_out,
                                  uint8_t *dst) {
    GAN_CHECK(comp >= 1 && comp <= 4 && (c_out == 1 || c_out == 3),
              "gan_px_interleaved_to_planar: comp %d -> c_out %d", comp, c_out);
    int64_t hw = (int64_t)h * w;
    for (int64_t p = 0; p < hw; p++) {
        const uint8_t *s = src + p * comp;
        uint8_t r, g, b;
        switch (comp) {
        case 1: r = g = b = s[0]; break;
        case 2: r = g = b = gan_px_over_black(s[0], s[1]); break;
        case 3: r = s[0]; g = s[1]; b = s[2]; break;
        default:
            r = gan_px_over_black(s[0], s[3]);
            g = gan_px_over_black(s[1], s[3]);
            b = gan_px_over_black(s[2], s[3]);
            break;
        }
        if (c_out == 1) {
            // A gray source stays exact instead of going through the luma weights.
            dst[p] = comp <= 2 ? r : gan_px_luma(r, g, b);
        } else {
            dst[p] = r;
            dst[hw + p] = g;
            dst[2 * hw + p] = b;
        }
    }
}

void gan_px_convert_planar(const uint8_t *src, int c_in, int c_out, int64_t hw, uint8_t *dst) {
    GAN_CHECK((c_in == 1 || c_in == 3) && (c_out == 1 || c_out == 3),
              "gan_px_convert_planar: %d -> %d channels", c_in, c_out);
    if (c_in == c_out) {
        if (dst != src) memcpy(dst, src, (size_t)(c_in * hw));
    } else if (c_in == 1) {
        for (int k = 0; k < 3; k++) memcpy(dst + k * hw, src, (size_t)hw);
    } else {
        for (int64_t p = 0; p < hw; p++) dst[p] = gan_px_luma(src[p], src[hw + p], src[2 * hw + p]);
    }
}

// One output sample of a 1-D resampling: a weighted sum over src[first .. first + count).
typedef struct {
    int first, count;
    float w[];
} tap;

// Taps for n_in -> n_out samples, packed one after another (each `stride` bytes apart).
// Shrinking: output i averages the source interval [i*s, (i+1)*s), s = n_in/n_out, with partial
// weights for partly covered samples. Enlarging: bilinear between the two source samples around
// the output center (i + 0.5) * s - 0.5, clamped at the edges.
static void make_taps(int n_in, int n_out, unsigned char *buf, size_t stride) {
    double s = (double)n_in / n_out;
    for (int i = 0; i < n_out; i++) {
        tap *t = (tap *)(buf + (size_t)i * stride);
        if (n_in > n_out) {
            double lo = i * s, hi = (i + 1) * s;
            int a = (int)floor(lo), b = (int)ceil(hi);
            if (b > n_in) b = n_in;
            t->first = a;
            t->count = b - a;
            for (int j = a; j < b; j++) {
                double cover = fmin(hi, j + 1.0) - fmax(lo, (double)j);
                t->w[j - a] = (float)(cover / s);
            }
        } else {
            double x = (i + 0.5) * s - 0.5;
            if (x < 0) x = 0;
            if (x > n_in - 1) x = n_in - 1;
            int a = (int)floor(x);
            double f = x - a;
            t->first = a;
            if (a + 1 < n_in && f > 0) {
                t->count = 2;
                t->w[0] = (float)(1.0 - f);
                t->w[1] = (float)f;
            } else {
                t->count = 1;
                t->w[0] = 1.0f;
            }
        }
    }
}

static uint8_t to_u8(float v) {
    float r = floorf(v + 0.5f);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

void gan_px_crop_resize(const uint8_t *src, int c, int h, int w, int res, uint8_t *dst) {
    GAN_CHECK(c >= 1 && h >= 1 && w >= 1 && res >= 1, "gan_px_crop_resize: c %d h %d w %d res %d",
              c, h, w, res);
    int side = h < w ? h : w;
    int y0 = (h - side) / 2, x0 = (w - side) / 2;
    if (side == res) {
        for (int k = 0; k < c; k++)
            for (int y = 0; y < res; y++)
                memcpy(dst + ((int64_t)k * res + y) * res, src + ((int64_t)k * h + y0 + y) * w + x0,
                       (size_t)res);
        return;
    }
    // Shrinking covers at most ceil(s) + 1 samples per output, enlarging 2.
    int max_taps = side > res ? (side + res - 1) / res + 1 : 2;
    size_t stride = sizeof(tap) + sizeof(float) * (size_t)max_taps;
    stride = (stride + 7) & ~(size_t)7;
    unsigned char *taps = gan_xmalloc(stride * (size_t)res, "the resampling taps");
    make_taps(side, res, taps, stride);
    float *rows = gan_xmalloc(sizeof(float) * (size_t)side * res, "an image resized");  // (side, res): columns done
    for (int k = 0; k < c; k++) {
        const uint8_t *plane = src + (int64_t)k * h * w;
        for (int y = 0; y < side; y++) {
            const uint8_t *row = plane + (int64_t)(y0 + y) * w + x0;
            for (int x = 0; x < res; x++) {
                const tap *t = (const tap *)(taps + (size_t)x * stride);
                float acc = 0;
                for (int j = 0; j < t->count; j++) acc += t->w[j] * row[t->first + j];
                rows[(int64_t)y * res + x] = acc;
            }
        }
        uint8_t *out = dst + (int64_t)k * res * res;
        for (int y = 0; y < res; y++) {
            const tap *t = (const tap *)(taps + (size_t)y * stride);
            for (int x = 0; x < res; x++) {
                float acc = 0;
                for (int j = 0; j < t->count; j++) acc += t->w[j] * rows[(int64_t)(t->first + j) * res + x];
                out[(int64_t)y * res + x] = to_u8(acc);
            }
        }
    }
    free(rows);
    free(taps);
}
