// Class labels for conditional training (dataset.h, gan_data_opts.num_classes): where each source
// keeps them, and the checks that every loaded image has one below num_classes. Errors name the
// file, and for a bad label its index and value, so that the user can find it.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "labels.h"
#include "sources.h"

// Fashion-MNIST and MNIST name their files train-images-idx3-ubyte(.gz) and
// train-labels-idx1-ubyte(.gz): the label file of an image file is its name with the one part
// swapped. Returns false when the name has no such part.
static bool idx_labels_beside(const char *images, char *out, size_t size) {
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, "images-idx3-ubyte");
    if (!at) return false;
    int n = snprintf(out, size, "%.*slabels-idx1-ubyte%s", (int)(at - images), images, at + strlen("images-idx3-ubyte"));
    return n > 0 && (size_t)n < size;
}

static int idx_labels(const gan_data_opts *o, gan_dataset *ds, gan_err *err) {
    char path[GAN_PATH_MAX];
    if (o->labels && *o->labels) {
        snprintf(path, sizeof path, "%s", o->labels);
    } else if (!idx_labels_beside(ds->path, path, sizeof path)) {
        return gan_errf(err, GAN_EXIT_USAGE,
                        "model.num_classes %d needs class labels, and %s has no label file beside it (its name has "
                        "no 'images-idx3-ubyte' to swap for 'labels-idx1-ubyte'); set data.labels to its IDX "
                        "label file",
                        o->num_classes, ds->path);
    }
    // All of the file's labels: a limited run still checks that the file is whole and that its
    // count matches the images when every image is used.
    int64_t n;
    uint8_t *y = gan_labels_load(path, 0, o->num_classes, &n, err);
    if (!y) {
        if (!(o->labels && *o->labels)) gan_err_prefix(err, "model.num_classes needs labels: data.labels (unset, so the file beside data.path): ");
        else gan_err_prefix(err, "data.labels: ");
        return -1;
    }
    if (n < ds->n || (o->limit == 0 && n != ds->n)) {
        free(y);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %lld labels for the %lld images of %s (data.labels)", path,
                        (long long)n, (long long)ds->n, ds->path);
    }
    ds->labels = y;  // only the first ds->n are used
    snprintf(ds->labels_path, sizeof ds->labels_path, "%s", path);
    return 0;
}

static int cifar_labels(const gan_data_opts *o, gan_dataset *ds, gan_err *err) {
    uint8_t *y = gan_xmalloc((size_t)ds->n, "the images' classes");
    if (gan_cifar10_labels(ds->path, ds->n, y, err) != 0) {
        free(y);
        return -1;
    }
    for (int64_t i = 0; i < ds->n; i++) {
        if (y[i] < o->num_classes) continue;
        const unsigned bad = y[i];
        free(y);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: the label of record %lld is %u, not below model.num_classes %d",
                        ds->path, (long long)i, bad, o->num_classes);
    }
    ds->labels = y;
    snprintf(ds->labels_path, sizeof ds->labels_path, "%s", ds->path);
    return 0;
}

int gan_dataset_load_labels(const gan_data_opts *o, gan_dataset *ds, gan_err *err) {
    if (o->labels && *o->labels && ds->format != GAN_DATA_IDX)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "data.labels: %s is %s data, whose labels are in the data itself; data.labels is for IDX "
                        "images only", ds->path, gan_data_format_name(ds->format));
    switch (ds->format) {
    case GAN_DATA_IDX: return idx_labels(o, ds, err);
    case GAN_DATA_CIFAR10: return cifar_labels(o, ds, err);
    default:  // folders label their images as they load (gan_folder_classes)
        snprintf(ds->labels_path, sizeof ds->labels_path, "%s", ds->path);
        return 0;
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The top-level component of path below dir ("cat" of DIR/cat/x/1.png) into out; false when
// the image lies directly in dir.
static bool class_dir(const char *dir, const char *path, char *out, size_t size) {
    size_t nd = strlen(dir);
    const char *rel = path + nd;
    while (*rel == '/') rel++;
    const char *slash = strchr(rel, '/');
    if (!slash) return false;
    snprintf(out, size, "%.*s", (int)(slash - rel), rel);
    return true;
}

int gan_folder_classes(const char *dir, char *const *paths, int64_t n, int num_classes, uint8_t *labels,
                       gan_err *err) {
    char **names = gan_xmalloc(sizeof(char *) * (size_t)(n ? n : 1), "the class names");
    int64_t k = 0;
    int rc = 0;
    char name[GAN_PATH_MAX];
    for (int64_t i = 0; i < n && rc == 0; i++) {
        if (!class_dir(dir, paths[i], name, sizeof name)) {
            rc = gan_errf(err, GAN_EXIT_USAGE,
                          "%s: model.num_classes %d needs class labels, but this image lies directly in %s; a "
                          "conditional run takes a folder with one subfolder per class", paths[i], num_classes, dir);
            break;
        }
        if (k == 0 || strcmp(names[k - 1], name) != 0) names[k++] = gan_xstrdup(name, "a class name");
    }
    // Paths sort with '/' among the other bytes, so one class's images can interleave with
    // another's ("a.b/" sorts before "a/"): the distinct names need a sort of their own.
    int64_t distinct = 0;
    if (rc == 0) {
        qsort(names, (size_t)k, sizeof *names, cmp_str);
        for (int64_t j = 0; j < k; j++) {
            if (distinct > 0 && strcmp(names[distinct - 1], names[j]) == 0) {
                free(names[j]);
                continue;
            }
            names[distinct++] = names[j];
        }
        k = distinct;
    }
    for (int64_t i = 0; i < n && rc == 0; i++) {
        class_dir(dir, paths[i], name, sizeof name);
        const char *key = name;
        char **hit = bsearch(&key, names, (size_t)k, sizeof *names, cmp_str);
        int64_t c = hit - names;
        if (c >= num_classes)
            rc = gan_errf(err, GAN_EXIT_USAGE,
                          "%s: image %lld is of class %lld (subfolder '%s', of the %lld subfolders of %s in sorted "
                          "order), not below model.num_classes %d",
                          paths[i], (long long)i, (long long)c, name, (long long)k, dir, num_classes);
        else
            labels[i] = (uint8_t)c;
    }
    for (int64_t j = 0; j < k; j++) free(names[j]);
    free(names);
    return rc;
}
