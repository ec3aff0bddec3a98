// Class labels for conditional runs (dataset.h num_classes, dataset_labels.c, loader.h
// gan_loader_labels): from an IDX label file (found beside the images or named by data.labels),
// CIFAR-10's label bytes and an image folder's subfolders, with the errors each source has (no
// label file, a count mismatch, a label out of range, a flat folder); and the loader's labels,
// which follow its shuffled images while leaving the image stream as an unconditional run's.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "loader.h"
#include "test.h"

static char root[256];

static const char *path_of(const char *rel) {
    static char buf[8][512];
    static int slot;
    char *p = buf[slot++ % 8];
    snprintf(p, 512, "%s/%s", root, rel);
    return p;
}

static void write_file(const char *rel, const void *data, size_t n) {
    FILE *f = fopen(path_of(rel), "wb");
    if (!f || fwrite(data, 1, n, f) != n) perror(rel), exit(1);
    fclose(f);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

// n images of 2x2, image i filled with the value 10 * i.
static void write_images(const char *rel, int n) {
    uint8_t buf[16 + 64 * 4];
    put_be32(buf, 0x803), put_be32(buf + 4, (uint32_t)n), put_be32(buf + 8, 2), put_be32(buf + 12, 2);
    for (int i = 0; i < n; i++) memset(buf + 16 + 4 * i, 10 * i, 4);
    write_file(rel, buf, 16 + 4 * (size_t)n);
}

static void write_labels(const char *rel, const uint8_t *y, int n) {
    uint8_t buf[8 + 64];
    put_be32(buf, 0x801), put_be32(buf + 4, (uint32_t)n);
    memcpy(buf + 8, y, (size_t)n);
    write_file(rel, buf, 8 + (size_t)n);
}

static void write_pgm(const char *rel, int value) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "P5\n2 2\n255\n");
    memset(buf + n, value, 4);
    write_file(rel, buf, (size_t)n + 4);
}

static int load(const char *rel, int classes, const char *labels, int64_t limit, gan_dataset *ds, gan_err *e) {
    gan_data_opts o = {.path = path_of(rel), .channels = 1, .num_classes = classes, .labels = labels, .limit = limit};
    memset(e, 0, sizeof *e);
    return gan_dataset_load(&o, ds, e);
}

// A failed load whose message holds every one of the strings.
static void expect_fail(const char *what, int rc, const gan_err *e, int code, const char *a, const char *b,
                        const char *c) {
    TEST_CHECK(rc != 0, "%s: loaded", what);
    TEST_CHECK(e->code == code, "%s: exit code %d, expected %d (%s)", what, e->code, code, e->msg);
    const char *parts[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        TEST_CHECK(!parts[i] || strstr(e->msg, parts[i]), "%s: message lacks '%s': %s", what, parts[i], e->msg);
}

static void check_idx(void) {
    gan_dataset ds;
    gan_err e;
    const uint8_t y[6] = {0, 1, 2, 1, 0, 2};
    write_images("train-images-idx3-ubyte", 6);
    write_labels("train-labels-idx1-ubyte", y, 6);
    TEST_CHECK(load("train-images-idx3-ubyte", 3, NULL, 0, &ds, &e) == 0, "idx labels beside: %s", e.msg);
    TEST_CHECK(ds.labels && !memcmp(ds.labels, y, 6), "idx labels as in the file");
    gan_dataset_free(&ds);
    // Unconditional: no labels are read at all.
    TEST_CHECK(load("train-images-idx3-ubyte", 0, NULL, 0, &ds, &e) == 0 && !ds.labels, "no labels when K = 0");
    gan_dataset_free(&ds);
    // data.limit takes the first labels.
    TEST_CHECK(load("train-images-idx3-ubyte", 3, NULL, 4, &ds, &e) == 0 && ds.n == 4 && !memcmp(ds.labels, y, 4),
               "idx labels with data.limit: %s", e.msg);
    gan_dataset_free(&ds);
    // Out of range: the file, the index and the value.
    expect_fail("label out of range", load("train-images-idx3-ubyte", 2, NULL, 0, &ds, &e), &e, GAN_EXIT_RUNTIME,
                "train-labels-idx1-ubyte", "label 2 is 2", "[0, 2)");
    // A count mismatch names both files and counts.
    write_labels("short-labels-idx1-ubyte", y, 5);
    expect_fail("fewer labels than images", load("train-images-idx3-ubyte", 3, path_of("short-labels-idx1-ubyte"), 0,
                                                  &ds, &e),
                &e, GAN_EXIT_RUNTIME, "5 labels for the 6 images", "short-labels-idx1-ubyte", "train-images-idx3-ubyte");
    // data.labels names another file, which then is the one used.
    const uint8_t y2[6] = {2, 2, 2, 0, 0, 0};
    write_labels("other-labels", y2, 6);
    TEST_CHECK(load("train-images-idx3-ubyte", 3, path_of("other-labels"), 0, &ds, &e) == 0 &&
                   !memcmp(ds.labels, y2, 6), "data.labels: %s", e.msg);
    gan_dataset_free(&ds);
    // No label file beside the images, and none named.
    write_images("t10k-images-idx3-ubyte", 6);
    expect_fail("missing label file", load("t10k-images-idx3-ubyte", 3, NULL, 0, &ds, &e), &e, GAN_EXIT_RUNTIME,
                "t10k-labels-idx1-ubyte", "data.labels", NULL);
    write_images("digits.idx", 6);
    expect_fail("no label file name to guess", load("digits.idx", 3, NULL, 0, &ds, &e), &e, GAN_EXIT_USAGE,
                "data.labels", "digits.idx", "model.num_classes");
    // The images file given as the labels.
    expect_fail("an image file as labels", load("train-images-idx3-ubyte", 3, path_of("train-images-idx3-ubyte"), 0,
                                                 &ds, &e),
                &e, GAN_EXIT_RUNTIME, "data.labels", "train-images-idx3-ubyte", NULL);
}

static void check_cifar(void) {
    gan_dataset ds;
    gan_err e;
    const uint8_t y[3] = {3, 1, 9};
    uint8_t *rec = calloc(3, 3073);
    for (int i = 0; i < 3; i++) rec[i * 3073] = y[i], memset(rec + i * 3073 + 1, 7 * i, 3072);
    write_file("batch.bin", rec, 3 * 3073);
    free(rec);
    gan_data_opts o = {.path = path_of("batch.bin"), .channels = 3, .num_classes = 10};
    TEST_CHECK(gan_dataset_load(&o, &ds, &e) == 0 && ds.labels && !memcmp(ds.labels, y, 3), "cifar labels: %s",
               e.msg);
    TEST_CHECK(ds.n == 3 && ds.pixels[2 * 3072] == 14, "cifar pixels unchanged by the label pass");
    gan_dataset_free(&ds);
    o.num_classes = 5;
    memset(&e, 0, sizeof e);
    expect_fail("cifar label out of range", gan_dataset_load(&o, &ds, &e), &e, GAN_EXIT_RUNTIME, "batch.bin",
                "record 2 is 9", "model.num_classes 5");
    o.num_classes = 10, o.labels = "x-labels-idx1-ubyte";
    memset(&e, 0, sizeof e);
    expect_fail("data.labels on cifar", gan_dataset_load(&o, &ds, &e), &e, GAN_EXIT_USAGE, "data.labels", "cifar10",
                NULL);
}

static void check_folder(void) {
    gan_dataset ds;
    gan_err e;
    mkdir(path_of("classes"), 0755);
    mkdir(path_of("classes/b"), 0755);
    mkdir(path_of("classes/a"), 0755);
    mkdir(path_of("classes/a/deep"), 0755);
    write_pgm("classes/b/1.pgm", 10);
    write_pgm("classes/a/2.pgm", 20);
    write_pgm("classes/b/0.pgm", 30);
    write_pgm("classes/a/deep/3.pgm", 40);
    // Sorted paths: a/2, a/deep/3, b/0, b/1 -> classes a = 0, b = 1.
    TEST_CHECK(load("classes", 2, NULL, 0, &ds, &e) == 0, "folder classes: %s", e.msg);
    const uint8_t want[4] = {0, 0, 1, 1};
    TEST_CHECK(ds.labels && ds.n == 4 && !memcmp(ds.labels, want, 4), "one class per subfolder, sorted");
    TEST_CHECK(ds.n == 4 && ds.pixels[0] == 20 && ds.pixels[4] == 40 && ds.pixels[8] == 30, "images in path order");
    gan_dataset_free(&ds);
    expect_fail("more subfolders than classes", load("classes", 1, NULL, 0, &ds, &e), &e, GAN_EXIT_USAGE,
                "classes/b/0.pgm", "subfolder 'b'", "model.num_classes 1");
    write_pgm("classes/flat.pgm", 50);
    expect_fail("a flat image", load("classes", 2, NULL, 0, &ds, &e), &e, GAN_EXIT_USAGE, "classes/flat.pgm",
                "one subfolder per class", "model.num_classes");
    TEST_CHECK(load("classes", 0, NULL, 0, &ds, &e) == 0 && ds.n == 5 && !ds.labels, "unconditional folder: %s",
               e.msg);
    gan_dataset_free(&ds);
}

// Labels follow the shuffled images, across epochs, and the images are the same batches an
// unconditional loader gives.
static void check_loader(void) {
    uint8_t y[30];
    for (int i = 0; i < 30; i++) y[i] = (uint8_t)(i % 7);
    write_images("many-images-idx3-ubyte", 20);
    write_labels("many-labels-idx1-ubyte", y, 20);
    gan_dataset with, without;
    gan_err e;
    TEST_CHECK(load("many-images-idx3-ubyte", 7, NULL, 0, &with, &e) == 0, "labelled: %s", e.msg);
    TEST_CHECK(load("many-images-idx3-ubyte", 0, NULL, 0, &without, &e) == 0, "unlabelled: %s", e.msg);
    gan_loader a, b;
    TEST_CHECK(gan_loader_init(&a, &with, 6, 2, 1, 99, &e) == 0 && gan_loader_init(&b, &without, 6, 2, 1, 99, &e) == 0,
               "loaders: %s", e.msg);
    float xa[24], xb[24];
    int32_t ya[6];
    int bad = 0, differ = 0;
    for (int step = 0; step < 9; step++) {  // 54 images: across two epoch boundaries
        gan_loader_next(&a, xa);
        gan_loader_labels(&a, ya);
        gan_loader_next(&b, xb);
        differ += memcmp(xa, xb, sizeof xa) != 0;
        for (int k = 0; k < 6; k++) {
            int image = (int)((xa[4 * k] + 1.0f) * 127.5f / 10.0f + 0.5f);  // value 10 * i
            bad += ya[k] != image % 7;
        }
    }
    TEST_CHECK(bad == 0, "%d labels do not match their images", bad);
    TEST_CHECK(differ == 0, "%d batches differ from the unconditional loader's", differ);
    gan_loader_free(&a);
    gan_loader_free(&b);
    gan_dataset_free(&with);
    gan_dataset_free(&without);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/test_cond_data.XXXXXX");
    if (!mkdtemp(root)) return perror("mkdtemp"), 1;
    check_idx();
    check_cifar();
    check_folder();
    check_loader();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return test_finish();
}
