// Images of a folder dataset (data/image_folder.c): the input is one image file, decoded by the
// stb_image that file compiles (PNG, JPEG and BMP only, STBI_MAX_DIMENSIONS 16384), through both
// of its paths: the header pass that decides channels and size (channels and resolution 0), and
// the straight decode into a resized square with channel conversion.
//
// An image of more than MAX_PIXELS pixels is skipped: the reader accepts sides up to 16384 and
// decodes such an image in full, which is correct and only slow (seconds per input, up to a GiB);
// what the fuzzer looks for is how the decoders treat bytes, which small images show. Sides
// above 16384 are not skipped: their refusal is part of what is tested. The size is read here
// from the headers, not by stb_image, so that only the reader's copy of it sees the bytes.
#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "fuzz_common.h"
#include "sources.h"

#define MAX_PIXELS (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static uint32_t le(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// The size a PNG, BMP or JPEG header states (the first frame header of a JPEG); false when it
// states none.
static bool stated_size(const uint8_t *d, size_t n, int64_t *w, int64_t *h) {
    if (n >= 24 && be(d, 4) == 0x89504E47u) {
        *w = be(d + 16, 4), *h = be(d + 20, 4);
        return true;
    }
    if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
        const bool core = le(d + 14, 4) == 12;  // OS/2 1.x: 16-bit sides
        *w = core ? le(d + 18, 2) : (int32_t)le(d + 18, 4);
        *h = core ? le(d + 20, 2) : (int32_t)le(d + 22, 4);
        *h = *h < 0 ? -*h : *h;
        return true;
    }
    size_t i = 0;
    while (i < n && d[i] == 0xFF) i++;  // fill bytes may precede SOI
    if (i == 0 || i >= n || d[i] != 0xD8) return false;
    for (i++; i + 9 <= n;) {
        if (d[i] != 0xFF) {
            i++;
            continue;
        }
        const uint8_t m = d[i + 1];
        if (m == 0xFF || m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD9)) {
            i += m == 0xFF ? 1 : 2;
            continue;
        }
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            *h = be(d + i + 5, 2), *w = be(d + i + 7, 2);
            return true;
        }
        i += 2 + be(d + i + 2, 2);
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t w, h;
    if (stated_size(data, size, &w, &h) && w <= GAN_IMAGE_MAX_SIDE && h <= GAN_IMAGE_MAX_SIDE && w * h > MAX_PIXELS)
        return 0;
    char dir[GAN_PATH_MAX], path[GAN_PATH_MAX];
    fuzz_mkdir("images", dir);
    fuzz_write("images/a.png", data, size, path);  // stb_image goes by the content, not the name
    gan_err err;
    gan_dataset ds;
    gan_data_opts o = {.path = dir, .format = GAN_DATA_FOLDER};
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    o.channels = size % 2 ? 1 : 3;
    o.resolution = 16;
    if (gan_dataset_load(&o, &ds, &err) == 0) gan_dataset_free(&ds);
    return 0;
}
