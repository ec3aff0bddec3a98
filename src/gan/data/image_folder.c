// Image folders decoded with stb_image. Images are decoded in parallel straight into their slot of
// the dataset; the error reported is the one of the first failing file in path order, so the
// message does not depend on thread timing.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alloc.h"
#include "pixels.h"
#include "sources.h"

// stb_image is compiled here, private to this file (STB_IMAGE_STATIC), instead of taken from
// Debian's libstb: that build accepts 2^24 pixels a side, so a few bytes of header could make a
// decoder allocate gigabytes. This one caps the sides (STBI_MAX_DIMENSIONS) and holds only the
// decoders of the formats a folder may contain. STBI_NO_GIF keeps the GIF declarations out too
// (STBI_ONLY_* drops only the definitions), and stb_image 2.27 defines
// stbi_set_unpremultiply_on_load_thread under the name stbi__unpremultiply_on_load_thread: the
// alias gives its declaration a definition. Either would otherwise be a static function declared
// and never defined; the API functions this file does not call are static and unused.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_GIF
#define STBI_MAX_DIMENSIONS GAN_IMAGE_MAX_SIDE
#define stbi_set_unpremultiply_on_load_thread stbi__unpremultiply_on_load_thread
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image.h>
#pragma GCC diagnostic pop

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

// stb_image's reason, with the cap when it is "too large" (the reason for sides above it).
static int decode_error(const char *path, const char *why, gan_err *err) {
    if (why && strcmp(why, "too large") == 0)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: not a decodable image (stb_image: too large): at most %d pixels a side are read", path,
                        GAN_IMAGE_MAX_SIDE);
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a decodable image (stb_image: %s)", path,
                    why ? why : "unknown reason");
}

static FILE *open_image(const char *path, gan_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
    return f;
}

// The image's size and channels from its header (no pixels decoded), or -1 with err naming the
// file. stbi_info tries every format in turn and keeps only "unknown image type" as its reason;
// a decode attempt gives the format's own reason (the failure path only). Not every format's
// header check applies STBI_MAX_DIMENSIONS (BMP's does not), so the cap is checked here too.
static int probe(const char *path, int *w, int *h, int *comp, gan_err *err) {
    FILE *f = open_image(path, err);
    if (!f) return -1;
    int rc = 0;
    if (!stbi_info_from_file(f, w, h, comp)) {
        const char *why = stbi_failure_reason();
        rewind(f);
        int dw, dh, dc;
        stbi_uc *px = stbi_load_from_file(f, &dw, &dh, &dc, 0);
        if (!px) why = stbi_failure_reason();
        stbi_image_free(px);
        rc = decode_error(path, why, err);
    } else if (*w > GAN_IMAGE_MAX_SIDE || *h > GAN_IMAGE_MAX_SIDE) {
        rc = decode_error(path, "too large", err);
    }
    fclose(f);
    return rc;
}

// The image's pixels, interleaved with the *comp channels it has, or NULL with err.
static uint8_t *decode(const char *path, int *w, int *h, int *comp, gan_err *err) {
    FILE *f = open_image(path, err);
    if (!f) return NULL;
    uint8_t *px = stbi_load_from_file(f, w, h, comp, 0);
    if (!px) decode_error(path, stbi_failure_reason(), err);
    fclose(f);
    return px;
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
            int iw = 0, ih = 0;
            gan_err e;
            if (probe(files.paths[i], &iw, &ih, &comp[i], &e) != 0) {
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
        px = gan_dataset_alloc_pixels(dir, n, channels, h, w, &ff.err);
        if (!px) ff.index = 0;  // the folder's failure, not a file's: it is reported as it is
    }
    if (px) {
#pragma omp parallel for schedule(dynamic, 4)
        for (int64_t i = 0; i < n; i++) {
            int iw, ih;
            gan_err e;
            uint8_t *img = decode(files.paths[i], &iw, &ih, &comp[i], &e);
            if (!img) {
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
