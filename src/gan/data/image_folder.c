// Image folders decoded with stb_image (Debian's libstb carries the implementation). Images are
// decoded in parallel straight into their slot of the dataset; the error reported is the one of
// the first failing file in path order, so the message does not depend on thread timing.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "alloc.h"
#include "pixels.h"
#include "sources.h"

bool gan_path_is_image(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return false;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
           !strcasecmp(dot, ".bmp");
}

typedef struct {
    char **paths;
    int64_t n, cap;
} path_list;

static void list_push(path_list *l, const char *path) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->paths = gan_xrealloc(l->paths, sizeof(char *) * (size_t)l->cap, "the list of image files");
    }
    l->paths[l->n++] = gan_xstrdup(path, "an image file name");
}

static void list_free(path_list *l) {
    for (int64_t i = 0; i < l->n; i++) free(l->paths[i]);
    free(l->paths);
    *l = (path_list){0};
}

static int list_images(const char *dir, path_list *out, gan_err *err) {
    DIR *d = opendir(dir);
    if (!d) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;  // ".", "..", hidden files and "._x.png" droppings
        char full[GAN_PATH_MAX];
        if ((rc = gan_fs_join(full, sizeof full, dir, e->d_name, err)) != 0) break;
        struct stat st;
        if (lstat(full, &st) != 0) continue;  // vanished while listing
        if (S_ISDIR(st.st_mode)) {
            rc = list_images(full, out, err);
        } else if (gan_path_is_image(full)) {
            // A symlink counts when it points at a regular file; symlinked directories are not
            // followed, so a link cycle cannot make the listing endless.
            if (S_ISLNK(st.st_mode) && (stat(full, &st) != 0 || !S_ISREG(st.st_mode))) continue;
            if (S_ISREG(st.st_mode)) list_push(out, full);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int decode_error(const char *path, gan_err *err) {
    const char *why = stbi_failure_reason();
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a decodable image (stb_image: %s)", path,
                    why ? why : "unknown reason");
}

// The first file (in path order) that failed, with its message.
typedef struct {
    int64_t index;
    gan_err err;
} first_failure;

static void note_failure(first_failure *ff, int64_t i, const gan_err *e) {
#pragma omp critical(gan_folder_failure)
    if (i < ff->index) {
        ff->index = i;
        ff->err = *e;
    }
}

int gan_folder_load(const char *dir, int64_t limit, int channels, int resolution, gan_dataset *ds,
                    gan_err *err) {
    path_list files = {0};
    if (list_images(dir, &files, err) != 0) {
        list_free(&files);
        return -1;
    }
    if (files.n == 0)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: no images (.png .jpg .jpeg .bmp) in this folder", dir);
    qsort(files.paths, (size_t)files.n, sizeof(char *), cmp_path);
    int64_t n = limit > 0 && limit < files.n ? limit : files.n;

    int *comp = gan_xcalloc((size_t)n, sizeof(int), "the images' channel counts");
    int h = resolution, w = resolution;
    first_failure ff = {.index = n};
    if (channels == 0 || resolution == 0) {
        // Header pass: decides the channels and checks that native sizes agree before any
        // pixel memory is committed.
        int64_t *dims = gan_xmalloc(sizeof(int64_t) * 2 * (size_t)n, "the images' sizes");
#pragma omp parallel for schedule(dynamic, 16)
        for (int64_t i = 0; i < n; i++) {
            int iw, ih;
            if (!stbi_info(files.paths[i], &iw, &ih, &comp[i])) {
                gan_err e;
                decode_error(files.paths[i], &e);
                note_failure(&ff, i, &e);
                continue;
            }
            dims[2 * i] = ih;
            dims[2 * i + 1] = iw;
        }
        if (ff.index == n && resolution == 0) {
            h = (int)dims[0];
            w = (int)dims[1];
            for (int64_t i = 1; i < n; i++) {
                if (dims[2 * i] == h && dims[2 * i + 1] == w) continue;
                gan_errf(&ff.err, GAN_EXIT_RUNTIME,
                         "%s: image is %lldx%lld but %s is %dx%d; images of mixed sizes need "
                         "model.resolution set so that they are resized",
                         files.paths[i], (long long)dims[2 * i + 1], (long long)dims[2 * i],
                         files.paths[0], w, h);
                ff.index = i;
                break;
            }
        }
        if (ff.index == n && channels == 0) {
            channels = 1;
            for (int64_t i = 0; i < n; i++)
                if (comp[i] > 2) channels = 3;
        }
        free(dims);
    }

    uint8_t *px = NULL;
    int64_t image_bytes = (int64_t)channels * h * w;
    if (ff.index == n) {
        px = gan_xmalloc((size_t)(n * image_bytes), "the dataset's pixels");
#pragma omp parallel for schedule(dynamic, 4)
        for (int64_t i = 0; i < n; i++) {
            int iw, ih;
            uint8_t *img = stbi_load(files.paths[i], &iw, &ih, &comp[i], 0);
            gan_err e;
            if (!img) {
                decode_error(files.paths[i], &e);
                note_failure(&ff, i, &e);
                continue;
            }
            if (resolution == 0 && (ih != h || iw != w)) {
                gan_errf(&e, GAN_EXIT_RUNTIME, "%s: decoded as %dx%d, expected %dx%d", files.paths[i], iw,
                         ih, w, h);
                note_failure(&ff, i, &e);
                stbi_image_free(img);
                continue;
            }
            uint8_t *dst = px + i * image_bytes;
            if (resolution == 0) {
                gan_px_interleaved_to_planar(img, ih, iw, comp[i], channels, dst);
            } else {
                uint8_t *planar = gan_xmalloc((size_t)channels * (size_t)ih * (size_t)iw, "an image before resizing");
                gan_px_interleaved_to_planar(img, ih, iw, comp[i], channels, planar);
                gan_px_crop_resize(planar, channels, ih, iw, resolution, dst);
                free(planar);
            }
            stbi_image_free(img);
        }
    }
    int rc = 0;
    if (ff.index < n) {
        if (err) *err = ff.err;
        free(px);
        rc = -1;
    } else {
        int src = 0;
        for (int64_t i = 0; i < n; i++) src = comp[i] > src ? comp[i] : src;
        ds->pixels = px;
        ds->n = n;
        ds->c = channels;
        ds->h = h;
        ds->w = w;
        ds->src_channels = src;
    }
    free(comp);
    list_free(&files);
    return rc;
}
