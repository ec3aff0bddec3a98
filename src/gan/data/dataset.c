// Picks the reader (format "auto" sniffs the path), then brings the channels to what the model
// takes. Readers report their own errors; this file adds the ones about the path and options.
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "meminfo.h"
#include "gan_check.h"
#include "pixels.h"
#include "sources.h"

static const char *const format_names[] = {"auto", "idx", "folder", "cifar10"};

const char *gan_data_format_name(gan_data_format f) {
    GAN_CHECK(f >= GAN_DATA_AUTO && f <= GAN_DATA_CIFAR10, "gan_data_format_name: bad format %d", (int)f);
    return format_names[f];
}

int gan_data_format_from_name(const char *name, gan_data_format *f) {
    for (int i = 0; i <= GAN_DATA_CIFAR10; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *f = (gan_data_format)i;
            return 0;
        }
    return -1;
}

void gan_dataset_image_size(const gan_dataset *ds, int *h, int *w) {
    *h = ds->h;
    *w = ds->w;
}

void gan_dataset_free(gan_dataset *ds) {
    free(ds->pixels);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

int gan_check_pixel_room(const char *path, uint64_t bytes, const char *what, gan_err *err) {
    const gan_mem_rooms rooms = gan_mem_rooms_now();
    // Pixels are written as they load: touched memory, and address space alike.
    const gan_mem_room *tight = rooms.touched.known && bytes > rooms.touched.bytes ? &rooms.touched
                                : rooms.reserved.known && bytes > rooms.reserved.bytes ? &rooms.reserved
                                                                                    : NULL;
    if (!tight) return 0;
    char need[32], left[32];
    gan_format_bytes(need, sizeof need, (double)bytes);
    gan_format_bytes(left, sizeof left, (double)tight->bytes);
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s need %s of memory, but %s is left under %s; use fewer images "
                    "(data.limit)", path, what, need, left, tight->what);
}

uint8_t *gan_dataset_alloc_pixels(const char *path, int64_t n, int c, int h, int w, gan_err *err) {
    // n is a file's size over 3073 (CIFAR) or a count of files (folders), an image at most
    // 4 x 2^14 x 2^14 bytes: the product fits in 64 bits.
    const uint64_t bytes = (uint64_t)n * (uint64_t)c * (uint64_t)h * (uint64_t)w;
    char what[96];
    snprintf(what, sizeof what, "%lld images of %dx%dx%d", (long long)n, c, h, w);
    if (gan_check_pixel_room(path, bytes, what, err) != 0) return NULL;
    uint8_t *px = bytes <= SIZE_MAX ? malloc(bytes ? (size_t)bytes : 1) : NULL;
    if (!px)
        gan_errf(err, GAN_EXIT_RUNTIME,
                 "%s: %lld images of %dx%dx%d need %llu bytes, more memory than can be allocated", path,
                 (long long)n, c, h, w, (unsigned long long)bytes);
    return px;
}

static gan_data_format sniff(const char *path, const struct stat *st, gan_err *err) {
    if (S_ISDIR(st->st_mode)) return gan_cifar10_dir_sniff(path) ? GAN_DATA_CIFAR10 : GAN_DATA_FOLDER;
    if (gan_idx_sniff(path)) return GAN_DATA_IDX;
    size_t len = strlen(path);
    bool bin = len >= 4 && strcmp(path + len - 4, ".bin") == 0;
    if (bin && st->st_size > 0 && st->st_size % GAN_CIFAR10_RECORD == 0) return GAN_DATA_CIFAR10;
    if (gan_path_is_image(path))
        gan_errf(err, GAN_EXIT_RUNTIME,
                 "%s: a single image is not a dataset; point data.path at the folder holding the images",
                 path);
    else if (bin)
        gan_errf(err, GAN_EXIT_RUNTIME,
                 "%s: cannot tell the format: not IDX, and %lld bytes is not a whole number of "
                 "%d-byte CIFAR-10 records (truncated?); set data.format to say which it is",
                 path, (long long)st->st_size, GAN_CIFAR10_RECORD);
    else
        gan_errf(err, GAN_EXIT_RUNTIME,
                 "%s: cannot tell the format: not an IDX file (no IDX magic), not a CIFAR-10 .bin, "
                 "not a directory; set data.format (idx, folder, cifar10)",
                 path);
    return GAN_DATA_AUTO;
}

int gan_dataset_load(const gan_data_opts *o, gan_dataset *ds, gan_err *err) {
    memset(ds, 0, sizeof *ds);
    const char *path = o->path;
    if (!path || !*path) return gan_errf(err, GAN_EXIT_RUNTIME, "data.path is empty; set it to a dataset file or folder");
    if (o->channels != 0 && o->channels != 1 && o->channels != 3)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: the model takes %d channels; data can be given as 1 (gray) or 3 (RGB)",
                        path, o->channels);
    if (o->resolution < 0 || o->limit < 0)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: bad data options: resolution %d, limit %lld", path,
                        o->resolution, (long long)o->limit);
    struct stat st;
    if (stat(path, &st) != 0)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s", path,
                        errno == ENOENT ? "no such file or directory (data.path)" : strerror(errno));
    gan_data_format fmt = o->format;
    if (fmt == GAN_DATA_AUTO && (fmt = sniff(path, &st, err)) == GAN_DATA_AUTO) return -1;
    if (fmt != GAN_DATA_FOLDER && fmt != GAN_DATA_CIFAR10 && S_ISDIR(st.st_mode))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: is a directory, but data.format %s reads a file", path,
                        gan_data_format_name(fmt));
    if (fmt == GAN_DATA_FOLDER && !S_ISDIR(st.st_mode))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a directory, but data.format is folder", path);

    int rc;
    switch (fmt) {
    case GAN_DATA_IDX: rc = gan_idx_load(path, o->limit, ds, err); break;
    case GAN_DATA_CIFAR10: rc = gan_cifar10_load(path, o->limit, ds, err); break;
    default: rc = gan_folder_load(path, o->limit, o->channels, o->resolution, o->skip_bad, o->num_classes, ds, err); break;
    }
    if (rc != 0) {
        gan_dataset_free(ds);
        return -1;
    }
    ds->format = fmt;
    snprintf(ds->path, sizeof ds->path, "%s", path);
    if (o->num_classes > 0 && gan_dataset_load_labels(o, ds, err) != 0) {
        gan_dataset_free(ds);
        return -1;
    }
    // CIFAR-10's 32x32 images at another model.resolution are resized as image folders are:
    // padding them into a larger square (what the loader does for IDX's 28x28 digits, whose
    // black border matches) would give the model a frame no CIFAR image has.
    if (fmt == GAN_DATA_CIFAR10 && o->resolution > 0 && (ds->h != o->resolution || ds->w != o->resolution)) {
        const int64_t res = o->resolution, in = (int64_t)ds->c * ds->h * ds->w, out = (int64_t)ds->c * res * res;
        uint8_t *resized = gan_xmalloc((size_t)(ds->n * out), "the dataset's resized pixels");
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < ds->n; i++)
            gan_px_crop_resize(ds->pixels + i * in, ds->c, ds->h, ds->w, (int)res, resized + i * out);
        free(ds->pixels);
        ds->pixels = resized;
        ds->h = ds->w = (int)res;
    }
    if (o->channels != 0 && o->channels != ds->c) {
        int64_t hw = (int64_t)ds->h * ds->w;
        uint8_t *conv = gan_xmalloc((size_t)(ds->n * o->channels * hw), "the dataset's converted pixels");
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < ds->n; i++)
            gan_px_convert_planar(ds->pixels + i * ds->c * hw, ds->c, o->channels, hw,
                                  conv + i * o->channels * hw);
        free(ds->pixels);
        ds->pixels = conv;
        ds->c = o->channels;
    }
    return 0;
}
