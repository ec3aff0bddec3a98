// Pixel conversions used while loading (dataset.h states the rules: BT.601 luma, replication,
// alpha over black, centered square crop, box filter down / bilinear up). Pure functions on
// uint8 buffers; callers own all memory.
#pragma once
#include <stdint.h>

// Interleaved (h, w, comp) as decoders give it, comp 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA ->
// planar (c_out, h, w), c_out 1 or 3.
void gan_px_interleaved_to_planar(const uint8_t *src, int h, int w, int comp, int c_out,
                                  uint8_t *dst);

// Planar (c_in, hw) -> planar (c_out, hw) for c_in, c_out in {1, 3}; dst must not alias src
// unless c_in == c_out.
void gan_px_convert_planar(const uint8_t *src, int c_in, int c_out, int64_t hw, uint8_t *dst);

// Planar (c, h, w): cut the centered square of side min(h, w) and resample it to (c, res, res).
void gan_px_crop_resize(const uint8_t *src, int c, int h, int w, int res, uint8_t *dst);

// BT.601 luma of one RGB pixel, rounded to nearest.
static inline uint8_t gan_px_luma(uint8_t r, uint8_t g, uint8_t b) {
    return (uint8_t)((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}
// Channel value c under alpha a, composited over black, rounded to nearest.
static inline uint8_t gan_px_over_black(uint8_t c, uint8_t a) {
    return (uint8_t)((c * (unsigned)a + 127u) / 255u);
}
