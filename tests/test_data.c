// Training data: IDX (plain and gzip), CIFAR-10 batches and image folders written into a temp
// directory and read back pixel for pixel; channel conversion, alpha, crop and resize against
// values computed here independently; the batcher's padding, scaling, epoch permutations,
// determinism and resume; every user error naming its file; headers (IDX counts, image sizes)
// that claim more than their file holds; label files; and the real Fashion-MNIST file when the
// dataset package is installed (only that part is skipped without it).
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <stb_image_write.h>

#include "dataset.h"
#include "labels.h"
#include "loader.h"
#include "test.h"

static char tmp_root[64];

static const char *tmp_path(const char *rel) {
    static char buf[8][GAN_PATH_MAX];
    static int slot;
    char *p = buf[slot++ % 8];
    snprintf(p, GAN_PATH_MAX, "%s/%s", tmp_root, rel);
    return p;
}

static void make_dir(const char *rel) {
    if (mkdir(tmp_path(rel), 0755) != 0) {
        perror(rel);
        exit(1);
    }
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[GAN_PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

// An IDX image file: header (magic, n, h, w) then `payload` bytes of px; gzipped when gz.
static void write_idx(const char *path, uint32_t magic, uint32_t n, uint32_t h, uint32_t w,
                      const uint8_t *px, size_t payload, int gz) {
    uint8_t head[16];
    uint32_t v[4] = {magic, n, h, w};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++) head[4 * i + b] = (uint8_t)(v[i] >> (24 - 8 * b));
    size_t total = 16 + payload;
    uint8_t *buf = malloc(total);
    memcpy(buf, head, 16);
    memcpy(buf + 16, px, payload);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f || gzwrite(f, buf, (unsigned)total) != (int)total || gzclose(f) != Z_OK) {
            fprintf(stderr, "cannot write %s\n", path);
            exit(1);
        }
    } else {
        write_bytes(path, buf, total);
    }
    free(buf);
}

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

// The call failed as a runtime user error whose message contains each of the given parts.
static void expect_error(int rc, const gan_err *e, const char *a, const char *b, const char *c) {
    TEST_CHECK(rc == -1, "expected failure (message parts '%s' '%s')", a, b ? b : "");
    if (rc != -1) return;
    TEST_CHECK(e->code == GAN_EXIT_RUNTIME, "error code %d for '%s'", e->code, e->msg);
    TEST_CHECK(has(e->msg, a), "message '%s' lacks '%s'", e->msg, a);
    if (b) TEST_CHECK(has(e->msg, b), "message '%s' lacks '%s'", e->msg, b);
    if (c) TEST_CHECK(has(e->msg, c), "message '%s' lacks '%s'", e->msg, c);
    TEST_CHECK(!strchr(e->msg, '\n'), "message is not one line: '%s'", e->msg);
}

static int load(const char *path, gan_data_format fmt, int channels, int res, int64_t limit,
                gan_dataset *ds, gan_err *e) {
    gan_data_opts o = {.path = path, .format = fmt, .limit = limit, .channels = channels, .resolution = res};
    return gan_dataset_load(&o, ds, e);
}

// ---------------------------------------------------------------------------------------- IDX

static void test_idx(void) {
    enum { N = 3, H = 5, W = 4 };
    uint8_t px[N * H * W];
    for (int i = 0; i < N * H * W; i++) px[i] = (uint8_t)(i * 37 + 11);
    write_idx(tmp_path("plain-idx3-ubyte"), 0x803, N, H, W, px, sizeof px, 0);
    write_idx(tmp_path("gz-idx3-ubyte.gz"), 0x803, N, H, W, px, sizeof px, 1);
    const char *names[2] = {"plain-idx3-ubyte", "gz-idx3-ubyte.gz"};
    for (int g = 0; g < 2; g++) {
        gan_dataset ds;
        gan_err e = {0};
        const char *p = tmp_path(names[g]);
        int rc = load(p, GAN_DATA_AUTO, 0, 0, 0, &ds, &e);
        TEST_CHECK(rc == 0, "%s: %s", names[g], e.msg);
        if (rc) continue;
        TEST_CHECK(ds.format == GAN_DATA_IDX && ds.n == N && ds.c == 1 && ds.h == H && ds.w == W,
                   "%s: format %d shape %lld x %d x %d x %d", names[g], ds.format, (long long)ds.n, ds.c,
                   ds.h, ds.w);
        TEST_CHECK(memcmp(ds.pixels, px, sizeof px) == 0, "%s: pixels differ", names[g]);
        TEST_CHECK(!strcmp(ds.path, p), "path kept: %s", ds.path);
        int h, w;
        gan_dataset_image_size(&ds, &h, &w);
        TEST_CHECK(h == H && w == W, "native size %dx%d", w, h);
        gan_dataset_free(&ds);

        // limit, explicit format, and gray -> RGB by replication
        rc = load(p, GAN_DATA_IDX, 3, 0, 2, &ds, &e);
        TEST_CHECK(rc == 0, "%s limit: %s", names[g], e.msg);
        if (rc) continue;
        TEST_CHECK(ds.n == 2 && ds.c == 3 && ds.src_channels == 1, "limit 2 rgb: n %lld c %d",
                   (long long)ds.n, ds.c);
        int bad = 0;
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 3; k++)
                bad += memcmp(gan_dataset_image(&ds, i) + k * H * W, px + i * H * W, H * W) != 0;
        TEST_CHECK(bad == 0, "replicated planes differ in %d places", bad);
        gan_dataset_free(&ds);
    }
    // A limit above the count takes them all.
    gan_dataset ds;
    gan_err e = {0};
    TEST_CHECK(load(tmp_path(names[1]), GAN_DATA_AUTO, 1, 0, 100, &ds, &e) == 0 && ds.n == N,
               "limit 100: %s n %lld", e.msg, (long long)ds.n);
    gan_dataset_free(&ds);
}

static void test_idx_errors(void) {
    uint8_t px[3 * 5 * 4] = {0};
    gan_dataset ds;
    gan_err e;

    const char *missing = tmp_path("no-such-file.gz");
    expect_error(load(missing, GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, missing, "no such file", NULL);
    expect_error(load(missing, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, missing, "no such file", NULL);

    const char *labels = tmp_path("labels-idx1-ubyte");
    write_idx(labels, 0x801, 3, 0, 0, px, 0, 0);  // a label file: 0x801 then counts
    expect_error(load(labels, GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, labels, "0x00000801", "0x00000803");
    expect_error(load(labels, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, labels, "label file", NULL);

    const char *garbage = tmp_path("garbage.idx");
    write_bytes(garbage, "GIF89a, not idx at all", 22);
    expect_error(load(garbage, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, garbage, "wrong magic", "0x00000803");
    expect_error(load(garbage, GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, garbage, "cannot tell the format",
                 "data.format");

    // Header says 3 images of 5x4 = 60 bytes; 50 are there.
    const char *trunc = tmp_path("trunc-idx3-ubyte");
    write_idx(trunc, 0x803, 3, 5, 4, px, 50, 0);
    expect_error(load(trunc, GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, trunc,
                 "truncated: expected 3 images of 5x4 (60 bytes), as its IDX header claims",
                 "got 2 images (50 bytes), all the file holds");
    // ... but the first two images are whole, so a limit of 2 reads fine.
    TEST_CHECK(load(trunc, GAN_DATA_AUTO, 1, 0, 2, &ds, &e) == 0 && ds.n == 2, "limit within truncation");
    gan_dataset_free(&ds);

    const char *trunc_gz = tmp_path("trunc-idx3-ubyte.gz");
    write_idx(trunc_gz, 0x803, 3, 5, 4, px, 50, 1);
    expect_error(load(trunc_gz, GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, trunc_gz, "expected 3 images of 5x4 (60 bytes)",
                 "got 2 images (50 bytes)");

    // A gzip stream cut short is truncated (zlib's "unexpected end of file" is not repeated).
    const char *cut = tmp_path("cut-idx3-ubyte.gz");
    uint8_t big[4000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7919 >> 3);
    write_idx(cut, 0x803, 10, 20, 20, big, sizeof big, 1);
    FILE *f = fopen(cut, "rb");
    uint8_t whole[8192];
    size_t nz = fread(whole, 1, sizeof whole, f);
    fclose(f);
    write_bytes(cut, whole, nz / 2);
    expect_error(load(cut, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, cut, "truncated", "10 images of 20x20 (4000 bytes)");
    TEST_CHECK(!has(e.msg, "unexpected end of file"), "zlib's words repeated: %s", e.msg);

    // A damaged gzip trailer (CRC) is corrupt data, not a cut file, even though every byte arrived.
    // The pixels do not compress, so the trailer lies beyond what zlib decodes with the header.
    enum { CN = 100, CS = 32 };
    uint8_t *noise = malloc(CN * CS * CS);
    uint32_t state = 12345;
    for (int i = 0; i < CN * CS * CS; i++) noise[i] = (uint8_t)((state = state * 1664525u + 1013904223u) >> 24);
    const char *crc = tmp_path("crc-idx3-ubyte.gz");
    write_idx(crc, 0x803, CN, CS, CS, noise, CN * CS * CS, 1);
    free(noise);
    FILE *fc = fopen(crc, "r+b");
    fseek(fc, -8, SEEK_END);
    int first = fgetc(fc);
    fseek(fc, -8, SEEK_END);
    fputc(first ^ 0xff, fc);
    fclose(fc);
    expect_error(load(crc, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, crc, "not valid gzip data (zlib: incorrect data check)",
                 "which claims 100 images of 32x32");
    // ... which a read of the first images does not reach.
    TEST_CHECK(load(crc, GAN_DATA_IDX, 1, 0, 2, &ds, &e) == 0 && ds.n == 2, "limit before the trailer: %s", e.msg);
    gan_dataset_free(&ds);

    // A header claiming 2^32 - 1 images over 60 bytes: refused from the data, not the claim (no
    // allocation of its 4 GiB x 20, plain or gzipped).
    for (int g = 0; g < 2; g++) {
        const char *huge = tmp_path(g ? "huge-idx3-ubyte.gz" : "huge-idx3-ubyte");
        write_idx(huge, 0x803, 0xffffffffu, 5, 4, px, sizeof px, g);
        expect_error(load(huge, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, huge,
                     "expected 4294967295 images of 5x4 (85899345900 bytes)", "got 3 images (60 bytes)");
        TEST_CHECK(load(huge, GAN_DATA_IDX, 1, 0, 3, &ds, &e) == 0 && ds.n == 3, "huge header, limit 3: %s", e.msg);
        gan_dataset_free(&ds);
    }

    const char *hdr = tmp_path("short-header");
    write_bytes(hdr, "\0\0\x08\x03\0\0", 6);
    expect_error(load(hdr, GAN_DATA_IDX, 1, 0, 0, &ds, &e), &e, hdr, "truncated IDX header", NULL);

    expect_error(load(trunc, GAN_DATA_IDX, 2, 0, 0, &ds, &e), &e, trunc, "2 channels", NULL);
    TEST_CHECK(ds.pixels == NULL && ds.n == 0, "failed load leaves the dataset empty");
}

// -------------------------------------------------------------------------------------- CIFAR

static uint8_t cifar_px(int rec, int k, int p) { return (uint8_t)(rec * 31 + k * 101 + p * 7); }

static void write_cifar(const char *path, int first_rec, int nrec, size_t cut) {
    size_t size = (size_t)nrec * 3073;
    uint8_t *buf = malloc(size);
    for (int r = 0; r < nrec; r++) {
        buf[r * 3073] = (uint8_t)(r % 10);  // label
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 1024; p++) buf[r * 3073 + 1 + k * 1024 + p] = cifar_px(first_rec + r, k, p);
    }
    write_bytes(path, buf, size - cut);
    free(buf);
}

static int cifar_matches(const gan_dataset *ds, int64_t i, int rec) {
    const uint8_t *img = gan_dataset_image(ds, i);
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 1024; p++)
            if (img[k * 1024 + p] != cifar_px(rec, k, p)) return 0;
    return 1;
}

static void test_cifar(void) {
    gan_dataset ds;
    gan_err e = {0};
    const char *one = tmp_path("batch.bin");
    write_cifar(one, 0, 3, 0);
    int rc = load(one, GAN_DATA_AUTO, 0, 0, 0, &ds, &e);
    TEST_CHECK(rc == 0, "cifar file: %s", e.msg);
    if (rc == 0) {
        TEST_CHECK(ds.format == GAN_DATA_CIFAR10 && ds.n == 3 && ds.c == 3 && ds.h == 32 && ds.w == 32,
                   "cifar shape %lld %d %d %d", (long long)ds.n, ds.c, ds.h, ds.w);
        for (int i = 0; i < 3; i++) TEST_CHECK(cifar_matches(&ds, i, i), "cifar record %d", i);
        gan_dataset_free(&ds);
    }

    // RGB -> gray: BT.601 luma, rounded to nearest (checked against the real-valued formula).
    rc = load(one, GAN_DATA_CIFAR10, 1, 0, 0, &ds, &e);
    TEST_CHECK(rc == 0, "cifar gray: %s", e.msg);
    if (rc == 0) {
        TEST_CHECK(ds.c == 1 && ds.src_channels == 3, "gray c %d src %d", ds.c, ds.src_channels);
        double worst = 0;
        for (int i = 0; i < 3; i++)
            for (int p = 0; p < 1024; p++) {
                double y = 0.299 * cifar_px(i, 0, p) + 0.587 * cifar_px(i, 1, p) + 0.114 * cifar_px(i, 2, p);
                double d = fabs(gan_dataset_image(&ds, i)[p] - y);
                worst = d > worst ? d : worst;
            }
        TEST_CHECK(worst <= 0.5 + 1e-9, "luma off by %g", worst);
        gan_dataset_free(&ds);
    }

    // At another resolution the images are resized (never padded into a frame): the shape is
    // the model's, and each channel keeps its mean (resampling filters sum to one).
    for (int res = 16; res <= 64; res *= 4) {
        rc = load(one, GAN_DATA_CIFAR10, 3, res, 0, &ds, &e);
        TEST_CHECK(rc == 0 && ds.h == res && ds.w == res && ds.n == 3, "cifar at %d: %s (%dx%d)", res, e.msg,
                   ds.h, ds.w);
        for (int i = 0; rc == 0 && i < 3; i++)
            for (int k = 0; k < 3; k++) {
                double src = 0, dst = 0;
                for (int p = 0; p < 1024; p++) src += cifar_px(i, k, p) / 1024.0;
                for (int p = 0; p < res * res; p++) dst += gan_dataset_image(&ds, i)[k * res * res + p] / (double)(res * res);
                TEST_CHECK(fabs(src - dst) < 2.0, "cifar at %d: record %d channel %d mean %g, was %g", res, i, k, dst, src);
            }
        gan_dataset_free(&ds);
    }

    // A directory: data_batch_* in name order; test_batch.bin is held out.
    make_dir("cifar");
    write_cifar(tmp_path("cifar/data_batch_2.bin"), 2, 1, 0);
    write_cifar(tmp_path("cifar/data_batch_1.bin"), 0, 2, 0);
    write_cifar(tmp_path("cifar/test_batch.bin"), 50, 1, 0);
    write_bytes(tmp_path("cifar/readme.html"), "<html>", 6);
    const char *dir = tmp_path("cifar");
    rc = load(dir, GAN_DATA_AUTO, 3, 32, 0, &ds, &e);
    TEST_CHECK(rc == 0, "cifar dir: %s", e.msg);
    if (rc == 0) {
        TEST_CHECK(ds.format == GAN_DATA_CIFAR10 && ds.n == 3, "cifar dir: format %d n %lld", ds.format,
                   (long long)ds.n);
        for (int i = 0; i < 3 && i < ds.n; i++) TEST_CHECK(cifar_matches(&ds, i, i), "cifar dir record %d", i);
        gan_dataset_free(&ds);
    }
    rc = load(dir, GAN_DATA_CIFAR10, 3, 0, 2, &ds, &e);
    TEST_CHECK(rc == 0 && ds.n == 2 && cifar_matches(&ds, 1, 1), "cifar dir limit 2: %s", e.msg);
    gan_dataset_free(&ds);

    // Truncated: 2 records and 100 bytes of a third.
    const char *trunc = tmp_path("cut_batch.bin");
    write_cifar(trunc, 0, 3, 3073 - 100);
    expect_error(load(trunc, GAN_DATA_CIFAR10, 3, 0, 0, &ds, &e), &e, trunc, "truncated", "expected 9219 bytes");
    expect_error(load(trunc, GAN_DATA_AUTO, 3, 0, 0, &ds, &e), &e, trunc, "not a whole number", "data.format");
    make_dir("cifar_bad");
    write_cifar(tmp_path("cifar_bad/data_batch_1.bin"), 0, 1, 0);
    write_cifar(tmp_path("cifar_bad/data_batch_2.bin"), 0, 2, 5);
    const char *bad2 = tmp_path("cifar_bad/data_batch_2.bin");
    expect_error(load(tmp_path("cifar_bad"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e), &e, bad2, "truncated", NULL);
    make_dir("cifar_empty");
    const char *empty = tmp_path("cifar_empty");
    expect_error(load(empty, GAN_DATA_CIFAR10, 3, 0, 0, &ds, &e), &e, empty, "data_batch_", NULL);
}

// ------------------------------------------------------------------------------------ folders

static uint8_t fold_px(int img, int p, int k) { return (uint8_t)(img * 50 + p * 3 + k * 80 + 1); }

// An 8x8 image with `comp` interleaved channels (alpha, when present, varies over the pixels).
static void make_image(uint8_t *buf, int img, int comp) {
    for (int p = 0; p < 64; p++)
        for (int k = 0; k < comp; k++)
            buf[p * comp + k] = (comp == 2 || comp == 4) && k == comp - 1 ? (uint8_t)(p * 4 + 3) : fold_px(img, p, k);
}

static void test_folder(void) {
    make_dir("imgs");
    make_dir("imgs/a");
    make_dir("imgs/b");
    make_dir("imgs/b/c");
    uint8_t buf[5][64 * 4];
    const int comps[5] = {1, 3, 3, 4, 2};
    for (int i = 0; i < 5; i++) make_image(buf[i], i, comps[i]);
    // Sorted by path: a/img0.png, a/img1.PNG, b/c/img2.bmp, img3.png, img4.png
    TEST_CHECK(stbi_write_png(tmp_path("imgs/img3.png"), 8, 8, 4, buf[3], 8 * 4), "write png rgba");
    TEST_CHECK(stbi_write_png(tmp_path("imgs/a/img0.png"), 8, 8, 1, buf[0], 8), "write png gray");
    TEST_CHECK(stbi_write_bmp(tmp_path("imgs/b/c/img2.bmp"), 8, 8, 3, buf[2]), "write bmp");
    TEST_CHECK(stbi_write_png(tmp_path("imgs/a/img1.PNG"), 8, 8, 3, buf[1], 8 * 3), "write png rgb");
    TEST_CHECK(stbi_write_png(tmp_path("imgs/img4.png"), 8, 8, 2, buf[4], 8 * 2), "write png gray+alpha");
    write_bytes(tmp_path("imgs/notes.txt"), "not an image", 12);
    write_bytes(tmp_path("imgs/.hidden.png"), "junk", 4);
    write_bytes(tmp_path("imgs/a/._img0.png"), "junk", 4);

    gan_dataset ds;
    gan_err e = {0};
    const char *dir = tmp_path("imgs");
    int rc = load(dir, GAN_DATA_AUTO, 0, 0, 0, &ds, &e);
    TEST_CHECK(rc == 0, "folder: %s", e.msg);
    if (rc == 0) {
        TEST_CHECK(ds.format == GAN_DATA_FOLDER && ds.n == 5 && ds.c == 3 && ds.h == 8 && ds.w == 8 &&
                       ds.src_channels == 4,
                   "folder shape %lld %d %d %d src %d", (long long)ds.n, ds.c, ds.h, ds.w, ds.src_channels);
        int bad = 0;
        for (int i = 0; i < 5 && i < ds.n; i++) {
            const uint8_t *img = gan_dataset_image(&ds, i);
            for (int p = 0; p < 64; p++)
                for (int k = 0; k < 3; k++) {
                    int comp = comps[i];
                    const uint8_t *s = buf[i] + p * comp;
                    double v = comp <= 2 ? s[0] : s[k];
                    if (comp == 2 || comp == 4) v = v * s[comp - 1] / 255.0;  // over black
                    if (fabs(img[k * 64 + p] - v) > 0.5 + 1e-9) {
                        if (bad++ < 5)
                            fprintf(stderr, "image %d pixel %d ch %d: %d, expected %.2f\n", i, p, k,
                                    img[k * 64 + p], v);
                    }
                }
        }
        TEST_CHECK(bad == 0, "folder pixels: %d wrong", bad);
        gan_dataset_free(&ds);
    }
    // Gray target; limit 2 takes the first two paths.
    rc = load(dir, GAN_DATA_FOLDER, 1, 0, 2, &ds, &e);
    TEST_CHECK(rc == 0 && ds.n == 2 && ds.c == 1, "folder gray limit: %s", e.msg);
    if (rc == 0) {
        TEST_CHECK(memcmp(gan_dataset_image(&ds, 0), buf[0], 64) == 0, "gray png stays exact");
        double worst = 0;
        for (int p = 0; p < 64; p++) {
            const uint8_t *s = buf[1] + 3 * p;
            double y = 0.299 * s[0] + 0.587 * s[1] + 0.114 * s[2];
            worst = fmax(worst, fabs(gan_dataset_image(&ds, 1)[p] - y));
        }
        TEST_CHECK(worst <= 0.5 + 1e-9, "folder luma off by %g", worst);
        gan_dataset_free(&ds);
    }

    // A folder of gray images keeps 1 channel when the model's is not given.
    make_dir("gray");
    stbi_write_png(tmp_path("gray/x.png"), 8, 8, 1, buf[0], 8);
    stbi_write_png(tmp_path("gray/y.png"), 8, 8, 2, buf[4], 16);
    rc = load(tmp_path("gray"), GAN_DATA_AUTO, 0, 0, 0, &ds, &e);
    TEST_CHECK(rc == 0 && ds.c == 1 && ds.n == 2, "gray folder: %s c %d", e.msg, ds.c);
    gan_dataset_free(&ds);

    // JPEG is lossy: a flat colour comes back within a few levels.
    make_dir("jpg");
    uint8_t flat[16 * 16 * 3];
    for (int p = 0; p < 256; p++) flat[3 * p] = 200, flat[3 * p + 1] = 100, flat[3 * p + 2] = 50;
    TEST_CHECK(stbi_write_jpg(tmp_path("jpg/flat.JPEG"), 16, 16, 3, flat, 100), "write jpg");
    rc = load(tmp_path("jpg"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e);
    TEST_CHECK(rc == 0 && ds.n == 1 && ds.h == 16, "jpeg folder: %s", e.msg);
    if (rc == 0) {
        int worst = 0;
        const int want[3] = {200, 100, 50};
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 256; p++) {
                int d = abs(gan_dataset_image(&ds, 0)[k * 256 + p] - want[k]);
                worst = d > worst ? d : worst;
            }
        TEST_CHECK(worst <= 3, "jpeg off by %d", worst);
        gan_dataset_free(&ds);
    }
}

// Expected value of output pixel (oy, ox) when an s x s gray square resizes to r x r, computed
// here without the library's tap tables: shrinking integrates the source over the output's
// area on a grid of `sub` subsamples per pixel; enlarging interpolates bilinearly.
static double resize_ref(const double *src, int s, int r, int oy, int ox) {
    if (s > r) {
        int sub = 2 * r;  // cell boundaries i * s / r fall on this grid
        double sum = 0;
        int cnt = 0;
        for (int y = oy * s * sub / r; y < (oy + 1) * s * sub / r; y++)
            for (int x = ox * s * sub / r; x < (ox + 1) * s * sub / r; x++, cnt++) sum += src[(y / sub) * s + x / sub];
        return sum / cnt;
    }
    double cy = fmin(fmax((oy + 0.5) * s / r - 0.5, 0), s - 1), cx = fmin(fmax((ox + 0.5) * s / r - 0.5, 0), s - 1);
    int y0 = (int)cy, x0 = (int)cx, y1 = y0 + 1 < s ? y0 + 1 : y0, x1 = x0 + 1 < s ? x0 + 1 : x0;
    double fy = cy - y0, fx = cx - x0;
    return (1 - fy) * ((1 - fx) * src[y0 * s + x0] + fx * src[y0 * s + x1]) +
           fy * ((1 - fx) * src[y1 * s + x0] + fx * src[y1 * s + x1]);
}

static void check_resize(const char *name, int iw, int ih, int res) {
    char rel[64];
    snprintf(rel, sizeof rel, "rs_%s", name);
    make_dir(rel);
    uint8_t *img = malloc((size_t)iw * ih);
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < iw; x++) img[y * iw + x] = (uint8_t)((x * 53 + y * 97 + x * y * 13) % 256);
    char file[96];
    snprintf(file, sizeof file, "%s/img.png", rel);
    stbi_write_png(tmp_path(file), iw, ih, 1, img, iw);
    int s = iw < ih ? iw : ih, cy = (ih - s) / 2, cx = (iw - s) / 2;
    double *sq = malloc(sizeof(double) * s * s);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) sq[y * s + x] = img[(y + cy) * iw + x + cx];
    gan_dataset ds;
    gan_err e = {0};
    int rc = load(tmp_path(rel), GAN_DATA_AUTO, 1, res, 0, &ds, &e);
    TEST_CHECK(rc == 0 && ds.h == res && ds.w == res, "%s: %s", name, e.msg);
    if (rc == 0) {
        double worst = 0;
        for (int y = 0; y < res; y++)
            for (int x = 0; x < res; x++)
                worst = fmax(worst, fabs(ds.pixels[y * res + x] - resize_ref(sq, s, res, y, x)));
        TEST_CHECK(worst <= (s == res ? 0 : 0.5 + 1e-4), "%s: off by %g", name, worst);
        gan_dataset_free(&ds);
    }
    free(sq);
    free(img);
}

static void test_resize(void) {
    check_resize("down2", 8, 4, 2);      // wide: crop the middle 4x4, halve by block averages
    check_resize("down1.5", 6, 9, 4);    // tall: crop 6x6, shrink by 1.5 (partial coverage)
    check_resize("down_odd", 13, 13, 5);
    check_resize("up2", 2, 2, 4);        // bilinear with clamped edges
    check_resize("up_odd", 5, 3, 7);
    check_resize("same", 10, 8, 8);      // crop only: copied exactly

    // A folder at the model's resolution: sizes may differ, all come out res x res.
    make_dir("mixed");
    uint8_t a[12 * 12 * 3], b[6 * 9 * 3];
    memset(a, 90, sizeof a);
    memset(b, 30, sizeof b);
    stbi_write_png(tmp_path("mixed/a.png"), 12, 12, 3, a, 36);
    stbi_write_bmp(tmp_path("mixed/b.bmp"), 9, 6, 3, b);
    gan_dataset ds;
    gan_err e = {0};
    int rc = load(tmp_path("mixed"), GAN_DATA_AUTO, 3, 4, 0, &ds, &e);
    TEST_CHECK(rc == 0 && ds.n == 2 && ds.h == 4, "mixed at res 4: %s", e.msg);
    if (rc == 0) {
        int bad = 0;
        for (int i = 0; i < 48; i++) bad += ds.pixels[i] != 90 || ds.pixels[48 + i] != 30;
        TEST_CHECK(bad == 0, "flat images stay flat through resize: %d", bad);
        gan_dataset_free(&ds);
    }
    // Without a resolution they cannot be stacked.
    expect_error(load(tmp_path("mixed"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e), &e, tmp_path("mixed/b.bmp"),
                 "mixed sizes", "model.resolution");
}

// A PNG of a gray w x h image whose IHDR chunk says it is `ihdr_len` bytes long (13 is right),
// with one tiny IDAT: a header that claims what its data cannot hold. Returns its size.
static size_t make_png(uint8_t *buf, uint32_t w, uint32_t h, uint32_t ihdr_len) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t n = 0;
    memcpy(buf, sig, 8);
    n += 8;
    const uint8_t ihdr[13] = {w >> 24, w >> 16 & 255, w >> 8 & 255, w & 255, h >> 24, h >> 16 & 255, h >> 8 & 255,
                              h & 255, 8, 0, 0, 0, 0};
    const uint8_t idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};  // zlib of one 0 byte
    const struct { const char *type; const uint8_t *data; uint32_t len, says; } chunks[] = {
        {"IHDR", ihdr, 13, ihdr_len}, {"IDAT", idat, sizeof idat, sizeof idat}, {"IEND", NULL, 0, 0}};
    for (int c = 0; c < 3; c++) {
        for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)(chunks[c].says >> (24 - 8 * b));
        memcpy(buf + n, chunks[c].type, 4);
        if (chunks[c].len) memcpy(buf + n + 4, chunks[c].data, chunks[c].len);
        uint32_t crc = (uint32_t)crc32(0, buf + n, 4 + chunks[c].len);
        n += 4 + chunks[c].len;
        for (int b = 0; b < 4; b++) buf[n++] = (uint8_t)(crc >> (24 - 8 * b));
    }
    return n;
}

// PNM images (.pgm, .ppm): binary P5 and P6 with maxval 255 load with their pixels; what stb_image
// 2.27 would decode wrongly is refused with the reason: a file cut short (it would keep going on
// a zeroed buffer), another maxval (it would not scale), the plain-text and bitmap kinds.
static void test_folder_pnm(void) {
    gan_dataset ds;
    gan_err e;
    make_dir("pnm");
    const char pgm[] = "P5\n# a comment\n3 2\n255\n\x00\x10\x20\x30\x40\xff";
    write_bytes(tmp_path("pnm/a.pgm"), pgm, sizeof pgm - 1);
    const char ppm[] = "P6 3 2 255\n\x00\x10\x20\x30\x40\xff\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
    write_bytes(tmp_path("pnm/b.PPM"), ppm, sizeof ppm - 1);
    TEST_CHECK(load(tmp_path("pnm"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e) == 0, "pnm folder: %s", e.msg);
    if (ds.n == 2) {
        TEST_CHECK(ds.h == 2 && ds.w == 3 && ds.c == 3, "pnm shape %dx%dx%d", ds.c, ds.h, ds.w);
        const uint8_t *a = gan_dataset_image(&ds, 0), *b = gan_dataset_image(&ds, 1);
        TEST_CHECK(a[0] == 0x00 && a[5] == 0xff && a[6] == 0x00 && a[6 + 5] == 0xff, "pgm pixels");
        // planar: the R plane of b is 00 30 01 04 07 0a, then G begins 10 40
        TEST_CHECK(b[0] == 0x00 && b[1] == 0x30 && b[2] == 0x01 && b[5] == 0x0a && b[6] == 0x10 && b[7] == 0x40,
                   "ppm pixels");
    }
    gan_dataset_free(&ds);
    make_dir("pnm_cut");
    write_bytes(tmp_path("pnm_cut/a.ppm"), ppm, sizeof ppm - 4);
    expect_error(load(tmp_path("pnm_cut"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e), &e, tmp_path("pnm_cut/a.ppm"),
                 "not a decodable image: truncated: a 3x2 PNM needs 18 bytes of pixels, the file holds 15", NULL);
    make_dir("pnm_max");
    write_bytes(tmp_path("pnm_max/a.pgm"), "P5 1 1 15\n\x0f", 11);
    expect_error(load(tmp_path("pnm_max"), GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, tmp_path("pnm_max/a.pgm"),
                 "a PNM with maxval 15; only 255 (8-bit) and 65535 (16-bit) are read", NULL);
    // Header numbers past an int made stb_image overflow (found by fuzz_image): refused first.
    make_dir("pnm_huge");
    write_bytes(tmp_path("pnm_huge/a.ppm"), "P6 0000800000000000 2 255\n", 26);
    expect_error(load(tmp_path("pnm_huge"), GAN_DATA_AUTO, 3, 0, 0, &ds, &e), &e, tmp_path("pnm_huge/a.ppm"),
                 "a PNM header of width >= ", "at most 16384 pixels a side and a maxval of 65535 are read");
    make_dir("pnm_text");
    write_bytes(tmp_path("pnm_text/a.pgm"), "P2 1 1 255\n7\n", 13);
    expect_error(load(tmp_path("pnm_text"), GAN_DATA_AUTO, 1, 0, 0, &ds, &e), &e, tmp_path("pnm_text/a.pgm"),
                 "only binary P5 (gray) and P6 (RGB) are read", NULL);
}

static void test_folder_errors(void) {
    gan_dataset ds;
    gan_err e;
    make_dir("broken");
    uint8_t g[16] = {0};
    stbi_write_png(tmp_path("broken/a.png"), 4, 4, 1, g, 4);
    write_bytes(tmp_path("broken/b.png"), "this is text, not a png", 23);
    stbi_write_png(tmp_path("broken/c.png"), 4, 4, 1, g, 4);
    write_bytes(tmp_path("broken/d.jpg"), "\xff\xd8\xff garbage", 12);
    const char *bad = tmp_path("broken/b.png");
    expect_error(load(tmp_path("broken"), GAN_DATA_AUTO, 1, 8, 0, &ds, &e), &e, bad, "not a decodable image",
                 "stb_image");
    expect_error(load(tmp_path("broken"), GAN_DATA_AUTO, 0, 0, 0, &ds, &e), &e, bad, "stb_image", NULL);
    // The limit stops before the broken file.
    TEST_CHECK(load(tmp_path("broken"), GAN_DATA_AUTO, 1, 8, 1, &ds, &e) == 0 && ds.n == 1, "limit before damage");
    gan_dataset_free(&ds);
    // data.skip_bad: the two good images, in order, both in the header pass (native size) and
    // when decoding straight to a resolution; the count and the first bad one's reason kept.
    for (int res = 0; res <= 8; res += 8) {
        gan_data_opts o = {.path = tmp_path("broken"), .channels = 1, .resolution = res, .skip_bad = true};
        TEST_CHECK(gan_dataset_load(&o, &ds, &e) == 0, "skip_bad at %d: %s", res, e.msg);
        TEST_CHECK(ds.n == 2 && ds.skipped == 2 && ds.h == (res ? 8 : 4), "skip_bad at %d: n %lld skipped %lld h %d", res,
                   (long long)ds.n, (long long)ds.skipped, ds.h);
        TEST_CHECK(strstr(ds.first_skipped, bad) && strstr(ds.first_skipped, "not a decodable image"),
                   "skip_bad first: %s", ds.first_skipped);
        gan_dataset_free(&ds);
    }
    make_dir("allbad");
    write_bytes(tmp_path("allbad/a.png"), "text", 4);
    write_bytes(tmp_path("allbad/b.jpg"), "text", 4);
    gan_data_opts all = {.path = tmp_path("allbad"), .channels = 1, .resolution = 8, .skip_bad = true};
    expect_error(gan_dataset_load(&all, &ds, &e), &e, tmp_path("allbad"),
                 "none of its 2 images can be decoded (data.skip_bad); the first: ", "allbad/a.png");

    make_dir("noimg");
    make_dir("noimg/sub");
    write_bytes(tmp_path("noimg/readme.txt"), "hi", 2);
    write_bytes(tmp_path("noimg/sub/data.csv"), "1,2", 3);
    const char *noimg = tmp_path("noimg");
    expect_error(load(noimg, GAN_DATA_AUTO, 1, 32, 0, &ds, &e), &e, noimg, "no images", NULL);
    expect_error(load(noimg, GAN_DATA_IDX, 1, 32, 0, &ds, &e), &e, noimg, "is a directory", NULL);

    // Headers claiming more than GAN_IMAGE_MAX_SIDE pixels a side are refused with stb_image's
    // reason, whether read in the header pass (native sizes) or decoded at once (a resolution):
    // a PNG (stb's own check) and a BMP (whose header check in stb has none: gan.c's).
    make_dir("huge");
    uint8_t png[128];  // make_png writes 66 bytes
    size_t np = make_png(png, 100000, 20000, 13);
    write_bytes(tmp_path("huge/a.png"), png, np);
    const char *hugepng = tmp_path("huge/a.png");
    expect_error(load(tmp_path("huge"), GAN_DATA_AUTO, 0, 0, 0, &ds, &e), &e, hugepng, "stb_image: too large",
                 "at most 16384 pixels a side");
    expect_error(load(tmp_path("huge"), GAN_DATA_AUTO, 1, 32, 0, &ds, &e), &e, hugepng, "stb_image: too large",
                 "at most 16384 pixels a side");
    unlink(hugepng);
    uint8_t bmp[54] = {'B', 'M'};
    const uint32_t bmp_fields[][2] = {{2, 54 + 3}, {10, 54}, {14, 40}, {18, 16385}, {22, 1}, {26, 1 | 24 << 16}};
    for (size_t i = 0; i < sizeof bmp_fields / sizeof bmp_fields[0]; i++)
        for (int b = 0; b < 4; b++) bmp[bmp_fields[i][0] + b] = (uint8_t)(bmp_fields[i][1] >> (8 * b));
    write_bytes(tmp_path("huge/b.bmp"), bmp, sizeof bmp);
    const char *hugebmp = tmp_path("huge/b.bmp");
    expect_error(load(tmp_path("huge"), GAN_DATA_AUTO, 0, 0, 0, &ds, &e), &e, hugebmp, "stb_image: too large",
                 "at most 16384 pixels a side");
    expect_error(load(tmp_path("huge"), GAN_DATA_AUTO, 3, 32, 0, &ds, &e), &e, hugebmp, "stb_image: too large", NULL);

    // The header pass keeps the format's reason (stbi_info alone says "unknown image type").
    make_dir("badihdr");
    np = make_png(png, 4, 4, 12);
    write_bytes(tmp_path("badihdr/a.png"), png, np);
    expect_error(load(tmp_path("badihdr"), GAN_DATA_AUTO, 0, 0, 0, &ds, &e), &e, tmp_path("badihdr/a.png"),
                 "stb_image: bad IHDR len", NULL);

    const char *single = tmp_path("broken/a.png");
    expect_error(load(single, GAN_DATA_AUTO, 1, 32, 0, &ds, &e), &e, single, "single image", NULL);
    expect_error(load(single, GAN_DATA_FOLDER, 1, 32, 0, &ds, &e), &e, single, "not a directory", NULL);
}

// A 3x2 24-bit BMP whose rows are stored top-down (a negative height in its header), with its
// first stored row the image's top, and the same picture stored bottom-up. stb_image's header
// check gives such a file its height as stored (-2); the folder's header pass took that as the
// size, and asked for a pixel buffer of n x c x -2 x w bytes (found by fuzz_image).
static void write_bmp_3x2(const char *path, int32_t height, const uint8_t rgb[2][3][3]) {
    uint8_t f[54 + 2 * 12] = {'B', 'M'};
    const uint32_t fields[][2] = {{2, sizeof f}, {10, 54}, {14, 40}, {18, 3}, {22, (uint32_t)height},
                                  {26, 1 | 24 << 16}, {34, 24}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        for (int b = 0; b < 4; b++) f[fields[i][0] + b] = (uint8_t)(fields[i][1] >> (8 * b));
    for (int r = 0; r < 2; r++) {
        const int y = height < 0 ? r : 1 - r;  // the image row stored r-th
        for (int x = 0; x < 3; x++)
            for (int k = 0; k < 3; k++) f[54 + 12 * r + 3 * x + k] = rgb[y][x][2 - k];  // BGR
    }
    write_bytes(path, f, sizeof f);
}

static void test_top_down_bmp(void) {
    const uint8_t rgb[2][3][3] = {{{10, 20, 30}, {40, 50, 60}, {70, 80, 90}},
                                  {{110, 120, 130}, {140, 150, 160}, {170, 180, 190}}};
    make_dir("bmp_down");
    make_dir("bmp_up");
    write_bmp_3x2(tmp_path("bmp_down/a.bmp"), -2, rgb);
    write_bmp_3x2(tmp_path("bmp_up/a.bmp"), 2, rgb);
    const char *dirs[] = {"bmp_down", "bmp_up"};
    for (int d = 0; d < 2; d++) {
        for (int channels = 0; channels <= 3; channels += 3) {
            gan_dataset ds;
            gan_err e;
            int rc = load(tmp_path(dirs[d]), GAN_DATA_FOLDER, channels, 0, 0, &ds, &e);
            TEST_CHECK(rc == 0, "%s, channels %d: %s", dirs[d], channels, rc ? e.msg : "");
            if (rc) continue;
            TEST_CHECK(ds.n == 1 && ds.c == 3 && ds.h == 2 && ds.w == 3, "%s: %lld x %d x %d x %d", dirs[d],
                       (long long)ds.n, ds.c, ds.h, ds.w);
            bool same = ds.n == 1 && ds.c == 3 && ds.h == 2 && ds.w == 3;
            for (int k = 0; same && k < 3; k++)
                for (int y = 0; y < 2; y++)
                    for (int x = 0; x < 3; x++) same &= ds.pixels[(k * 2 + y) * 3 + x] == rgb[y][x][k];
            TEST_CHECK(same, "%s: pixels differ from the picture", dirs[d]);
            gan_dataset_free(&ds);
        }
    }
    // A BMP cut short: stb_image 2.27 would read zeros past the end (a 69-byte file claiming
    // 14338 x 15361 pixels took 35 s and 660 MB in fuzz_image); the header pass refuses it.
    make_dir("bmp_cut");
    write_bmp_3x2(tmp_path("bmp_cut/a.bmp"), 2, rgb);
    TEST_CHECK(truncate(tmp_path("bmp_cut/a.bmp"), 54 + 12 + 8) == 0, "truncate");
    {
        gan_dataset ds;
        gan_err e;
        expect_error(load(tmp_path("bmp_cut"), GAN_DATA_FOLDER, 0, 0, 0, &ds, &e), &e, tmp_path("bmp_cut/a.bmp"),
                     "not a decodable image: truncated: a 3x2 BMP of 24 bits per pixel needs 21 bytes of pixels, "
                     "the file holds 20", NULL);
    }
    // A PNG chunk claiming more than the file holds: stb_image 2.27 sized its buffer from the claim
    // (2 GiB for a 60-byte file in fuzz_image); refused before it runs.
    make_dir("png_claim");
    {
        static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                            0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x12, 0x16, 0xf1, 0x4d,
                                            0x40, 0, 0, 0, 'I', 'D', 'A', 'T', 0x78, 0xda};
        write_bytes(tmp_path("png_claim/a.png"), png, sizeof png);
        gan_dataset ds;
        gan_err e;
        expect_error(load(tmp_path("png_claim"), GAN_DATA_FOLDER, 0, 0, 0, &ds, &e), &e, tmp_path("png_claim/a.png"),
                     "not a decodable image: truncated: its IDAT chunk at byte 33 claims 1073741824 bytes, the file "
                     "holds 2 after it", NULL);
    }
    // A stored height of -2^31 has no magnitude in an int: too large, like any side over the cap.
    make_dir("bmp_min");
    write_bmp_3x2(tmp_path("bmp_min/a.bmp"), INT32_MIN, rgb);
    gan_dataset ds;
    gan_err e;
    expect_error(load(tmp_path("bmp_min"), GAN_DATA_FOLDER, 0, 0, 0, &ds, &e), &e, tmp_path("bmp_min/a.bmp"),
                 "stb_image: too large", NULL);
}

// What stb_image 2.27 mishandles is refused before or after it runs (found by fuzz_image): a
// JPEG Huffman table of more than 256 codes (stb_image writes past its tables), and a BMP of
// height 0 (decoded as an image of no pixels, which the resize then met as a programming error).
static void test_stb_guards(void) {
    make_dir("dht");
    // SOI, then a DHT segment with one DC table whose 16 counts add up to 16 x 20 = 320 codes.
    uint8_t jpg[2 + 4 + 17 + 320 + 2] = {0xFF, 0xD8, 0xFF, 0xC4, (17 + 320 + 2) >> 8, (17 + 320 + 2) & 0xFF, 0x00};
    for (int i = 0; i < 16; i++) jpg[7 + i] = 20;
    jpg[sizeof jpg - 2] = 0xFF, jpg[sizeof jpg - 1] = 0xD9;
    write_bytes(tmp_path("dht/a.jpg"), jpg, sizeof jpg);
    gan_dataset ds;
    gan_err e;
    for (int res = 0; res <= 16; res += 16)
        expect_error(load(tmp_path("dht"), GAN_DATA_FOLDER, res ? 3 : 0, res, 0, &ds, &e), &e, tmp_path("dht/a.jpg"),
                     "stb_image: bad DHT header", "more than 256 codes");

    make_dir("flat");
    const uint8_t rgb[2][3][3] = {{{0}}};
    write_bmp_3x2(tmp_path("flat/a.bmp"), 0, rgb);
    for (int res = 0; res <= 16; res += 16)
        expect_error(load(tmp_path("flat"), GAN_DATA_FOLDER, res ? 3 : 0, res, 0, &ds, &e), &e,
                     tmp_path("flat/a.bmp"), "stb_image: zero-sized image", NULL);
}

// ------------------------------------------------------------------------------------- loader

// A hand-made dataset: image i is h x w with every border pixel `border` except pixel (0,0),
// which is 200 + i; the inside counts up from i * 16.
static gan_dataset toy(int64_t n, int c, int h, int w, uint8_t border) {
    gan_dataset ds = {.n = n, .c = c, .h = h, .w = w, .src_channels = c, .format = GAN_DATA_IDX};
    snprintf(ds.path, sizeof ds.path, "toy-%lldx%dx%dx%d", (long long)n, c, h, w);
    ds.pixels = malloc((size_t)(n * c * h * w));
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int edge = y == 0 || x == 0 || y == h - 1 || x == w - 1;
                    uint8_t v = edge ? (uint8_t)(border + k) : (uint8_t)(i * 16 + y * w + x);
                    if (y == 0 && x == 0) v = (uint8_t)(200 + i);
                    ds.pixels[((i * c + k) * h + y) * w + x] = v;
                }
    return ds;
}

// Which toy image a batch slot holds, read back from its (0,0) pixel.
static int64_t slot_image(const float *out, int slot, int c, int res, int y0, int x0) {
    float v = out[(int64_t)slot * c * res * res + (int64_t)y0 * res + x0];
    return lround((v + 1.0) * 127.5) - 200;
}

static void test_padding_and_scale(void) {
    int y0, x0;
    gan_data_placement(28, 28, 32, &y0, &x0);
    TEST_CHECK(y0 == 2 && x0 == 2, "28 in 32 at %d,%d", y0, x0);
    gan_data_placement(3, 4, 6, &y0, &x0);
    TEST_CHECK(y0 == 1 && x0 == 1, "3x4 in 6 at %d,%d", y0, x0);

    gan_dataset ds = toy(4, 2, 3, 4, 17);
    uint8_t bg[2];
    gan_dataset_background(&ds, bg);
    TEST_CHECK(bg[0] == 17 && bg[1] == 18, "background %d %d", bg[0], bg[1]);
    gan_loader l;
    gan_err e = {0};
    TEST_CHECK(gan_loader_init(&l, &ds, 4, 6, 2, 1, &e) == 0, "init: %s", e.msg);
    int64_t idx[4] = {3, 0, 3, 1};
    float out[4 * 2 * 36];
    gan_loader_fill(&l, idx, 4, out);
    int bad = 0;
    double worst = 0;
    for (int b = 0; b < 4; b++)
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++) {
                    int iy = y - 1, ix = x - 1;  // placement (1, 1), the odd row goes below
                    int inside = iy >= 0 && iy < 3 && ix >= 0 && ix < 4;
                    int v = inside ? ds.pixels[((idx[b] * 2 + k) * 3 + iy) * 4 + ix] : bg[k];
                    double want = v / 127.5 - 1.0;
                    worst = test_nanmax(worst, fabs(out[((b * 2 + k) * 6 + y) * 6 + x] - want));
                    bad += !(out[((b * 2 + k) * 6 + y) * 6 + x] >= -1.0f && out[((b * 2 + k) * 6 + y) * 6 + x] <= 1.0f);
                }
    TEST_CHECK(worst <= 1e-6 && bad == 0, "padded batch off by %g, %d out of range", worst, bad);
    gan_loader_free(&l);

    // The ends of the range map exactly to -1 and 1; ties in the border mode go to the smaller value.
    gan_dataset two = toy(1, 1, 2, 2, 0);
    two.pixels[0] = 0, two.pixels[1] = 255, two.pixels[2] = 255, two.pixels[3] = 0;
    gan_dataset_background(&two, bg);
    TEST_CHECK(bg[0] == 0, "tie to smaller: %d", bg[0]);
    TEST_CHECK(gan_loader_init(&l, &two, 1, 2, 1, 5, &e) == 0, "init 2x2: %s", e.msg);
    int64_t zero = 0;
    gan_loader_fill(&l, &zero, 1, out);
    TEST_CHECK(out[0] == -1.0f && out[1] == 1.0f && out[2] == 1.0f && out[3] == -1.0f, "ends %g %g", out[0], out[1]);
    gan_loader_free(&l);
    gan_dataset_free(&two);

    // Images larger than the model's square (4-wide in a 3 square) are refused, naming the data
    // and the setting.
    expect_error(gan_loader_init(&l, &ds, 4, 3, 2, 1, &e), &e, ds.path, "model.resolution", "at least 4");
    gan_dataset_free(&ds);
}

// Runs `nb` batches and records which image each slot held.
static void draw(gan_loader *l, int nb, int64_t *seq, float *out) {
    int c = l->ds->c, res = l->res;
    for (int i = 0; i < nb; i++) {
        gan_loader_next(l, out);
        for (int s = 0; s < l->batch; s++) seq[i * l->batch + s] = slot_image(out, s, c, res, l->y0, l->x0);
    }
}

static void check_epochs(const int64_t *seq, int64_t len, int64_t n, const char *what) {
    int bad = 0;
    for (int64_t start = 0; start + n <= len; start += n) {
        int seen[64] = {0};
        for (int64_t j = start; j < start + n; j++)
            if (seq[j] < 0 || seq[j] >= n || seen[seq[j]]++) bad++;
    }
    TEST_CHECK(bad == 0, "%s: epochs are not permutations (%d bad)", what, bad);
}

static void test_order(void) {
    enum { N = 7, B = 3, NB = 12 };
    gan_dataset ds = toy(N, 1, 4, 4, 0);
    gan_loader a, b;
    gan_err e = {0};
    TEST_CHECK(gan_loader_init(&a, &ds, B, 8, 1, 42, &e) == 0, "init: %s", e.msg);
    int64_t seq[NB * B], seq2[NB * B];
    float out[B * 64], out2[B * 64];
    draw(&a, NB, seq, out);
    check_epochs(seq, NB * B, N, "seed 42");
    gan_loader_state st = gan_loader_get_state(&a);
    TEST_CHECK(st.epoch == NB * B / N && st.position == NB * B % N, "state after %d draws: %lld %lld", NB * B,
               (long long)st.epoch, (long long)st.position);
    int same_epochs = 1, identity = 1;
    for (int j = 0; j < N; j++) {
        same_epochs &= seq[j] == seq[N + j];
        identity &= seq[j] == j;
    }
    TEST_CHECK(!same_epochs && !identity, "epochs are shuffled and differ");

    // Same seed, same batches; another seed, another order.
    TEST_CHECK(gan_loader_init(&b, &ds, B, 8, 1, 42, &e) == 0, "init b");
    draw(&b, NB, seq2, out2);
    TEST_CHECK(memcmp(seq, seq2, sizeof seq) == 0 && memcmp(out, out2, sizeof out) == 0, "same seed same batches");
    gan_loader_free(&b);
    TEST_CHECK(gan_loader_init(&b, &ds, B, 8, 1, 43, &e) == 0, "init c");
    draw(&b, NB, seq2, out2);
    TEST_CHECK(memcmp(seq, seq2, sizeof seq) != 0, "seed 43 gives another order");
    check_epochs(seq2, NB * B, N, "seed 43");
    gan_loader_free(&b);

    // Epoch e depends on (seed, e) only: starting at (2, 0) replays epoch 2.
    TEST_CHECK(gan_loader_init(&b, &ds, 1, 8, 1, 42, &e) == 0, "init d");
    TEST_CHECK(gan_loader_set_state(&b, (gan_loader_state){2, 0}, &e) == 0, "set state: %s", e.msg);
    int64_t ep2[N];
    draw(&b, N, ep2, out2);
    TEST_CHECK(memcmp(ep2, seq + 2 * N, sizeof ep2) == 0, "epoch 2 replayed");
    gan_loader_free(&b);

    // Resume: a state saved mid-epoch (batch 5 ends at draw 15 = epoch 2, position 1) continues
    // exactly, including across the next epoch boundary.
    gan_loader_free(&a);
    TEST_CHECK(gan_loader_init(&a, &ds, B, 8, 1, 42, &e) == 0, "init a again");
    float skip[B * 64];
    for (int i = 0; i < 5; i++) gan_loader_next(&a, skip);
    gan_loader_state saved = gan_loader_get_state(&a);
    TEST_CHECK(saved.epoch == 2 && saved.position == 1, "saved %lld %lld", (long long)saved.epoch,
               (long long)saved.position);
    float cont[4][B * 64], resumed[4][B * 64];
    for (int i = 0; i < 4; i++) gan_loader_next(&a, cont[i]);
    TEST_CHECK(gan_loader_init(&b, &ds, B, 8, 1, 42, &e) == 0, "init resumed");
    TEST_CHECK(gan_loader_set_state(&b, saved, &e) == 0, "restore: %s", e.msg);
    for (int i = 0; i < 4; i++) gan_loader_next(&b, resumed[i]);
    TEST_CHECK(memcmp(cont, resumed, sizeof cont) == 0, "resumed batches identical");
    TEST_CHECK(slot_image(cont[0], 0, 1, 8, 2, 2) == seq[15], "resumed batch starts at draw 15");
    gan_loader_free(&b);

    // A state that does not fit the dataset (position n) is a user error.
    expect_error(gan_loader_set_state(&a, (gan_loader_state){0, N}, &e), &e, ds.path, "7 images", "data.limit");
    TEST_CHECK(gan_loader_set_state(&a, (gan_loader_state){-1, 0}, &e) == -1, "negative epoch refused");
    gan_loader_free(&a);
    gan_dataset_free(&ds);

    // A batch of the whole dataset is one epoch each time; a larger one, every image repeated in
    // each batch, is refused as a config error naming both numbers.
    gan_dataset tiny = toy(3, 1, 2, 2, 0);
    TEST_CHECK(gan_loader_init(&a, &tiny, 3, 2, 1, 7, &e) == 0, "init tiny: %s", e.msg);
    int64_t tseq[4 * 3];
    float tout[3 * 4];
    draw(&a, 4, tseq, tout);
    check_epochs(tseq, 12, 3, "batch 3 of 3 images");
    TEST_CHECK(a.state.epoch == 4 && a.state.position == 0, "tiny state %lld %lld", (long long)a.state.epoch,
               (long long)a.state.position);
    gan_loader_free(&a);
    int rc = gan_loader_init(&a, &tiny, 8, 2, 1, 7, &e);
    TEST_CHECK(rc == -1 && e.code == GAN_EXIT_USAGE, "batch 8 of 3 images: rc %d code %d", rc, e.code);
    TEST_CHECK(has(e.msg, "train.batch_size 8 is larger than the dataset") && has(e.msg, "has 3 images") &&
                   has(e.msg, tiny.path),
               "batch 8 of 3 images: %s", e.msg);
    gan_dataset_free(&tiny);
}

// ------------------------------------------------------------------------------------- labels

// An IDX label file: magic 0x801, the count `claim`, then `len` bytes of y; gzipped when gz.
static void write_labels(const char *path, uint32_t claim, const uint8_t *y, size_t len, int gz) {
    uint8_t buf[64] = {0, 0, 8, 1, claim >> 24, claim >> 16 & 255, claim >> 8 & 255, claim & 255};
    memcpy(buf + 8, y, len);
    gzFile f = gzopen(path, gz ? "wb" : "wbT");
    if (!f || gzwrite(f, buf, (unsigned)(8 + len)) != (int)(8 + len) || gzclose(f) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

// Label counts are claims too: 2^31 - 1 labels over 6 bytes is read as far as the data goes.
static void test_labels(void) {
    const uint8_t y[6] = {1, 2, 3, 4, 5, 6};
    for (int g = 0; g < 2; g++) {
        const char *path = tmp_path(g ? "huge-labels.gz" : "huge-labels");
        write_labels(path, 0x7fffffff, y, sizeof y, g);
        gan_err e = {0};
        int64_t n = 0;
        uint8_t *got = gan_labels_load(path, 0, 10, &n, &e);
        TEST_CHECK(!got && e.code == GAN_EXIT_RUNTIME, "%s: read %lld labels", path, (long long)n);
        TEST_CHECK(has(e.msg, path) && has(e.msg, "expected 2147483647 labels, as its IDX header claims") &&
                       has(e.msg, "got 6 labels, all the file holds"),
                   "message: %s", e.msg);
        free(got);
        got = gan_labels_load(path, 4, 10, &n, &e);
        TEST_CHECK(got && n == 4 && memcmp(got, y, 4) == 0, "%s: the first 4 with a limit: %s", path, e.msg);
        free(got);
    }
}

// ---------------------------------------------------------------------------- real dataset

#define FMNIST "/usr/share/datasets/fashion-mnist/"

static int test_fashion_mnist(void) {
    const char *path = FMNIST "train-images-idx3-ubyte.gz";
    if (access(path, R_OK) != 0) {
        printf("skipping the real-data part: %s not installed (dataset-fashion-mnist)\n", path);
        return 0;
    }
    gan_dataset ds;
    gan_err e = {0};
    int rc = load(path, GAN_DATA_AUTO, 1, 32, 0, &ds, &e);
    TEST_CHECK(rc == 0, "fashion-mnist: %s", e.msg);
    if (rc) return 1;
    TEST_CHECK(ds.format == GAN_DATA_IDX && ds.n == 60000 && ds.c == 1 && ds.h == 28 && ds.w == 28,
               "fashion-mnist shape %lld %d %d %d", (long long)ds.n, ds.c, ds.h, ds.w);

    // A second, independent read of the gzip stream.
    gzFile f = gzopen(path, "rb");
    uint8_t head[16];
    size_t bytes = (size_t)60000 * 28 * 28;
    uint8_t *ref = malloc(bytes);
    int ok = f && gzread(f, head, 16) == 16 && gzread(f, ref, (unsigned)bytes) == (int)bytes;
    if (f) gzclose(f);
    TEST_CHECK(ok && head[2] == 8 && head[3] == 3, "reference read");
    if (ok) TEST_CHECK(memcmp(ref, ds.pixels, bytes) == 0, "pixels agree with a direct gzread");
    double sum = 0;
    for (size_t i = 0; i < bytes; i++) sum += ds.pixels[i];
    double mean = sum / bytes;
    TEST_CHECK(mean > 60 && mean < 85, "mean pixel %.2f (Fashion-MNIST's is about 72.9)", mean);
    free(ref);

    uint8_t bg;
    gan_dataset_background(&ds, &bg);
    TEST_CHECK(bg == 0, "background %d", bg);
    gan_loader l;
    TEST_CHECK(gan_loader_init(&l, &ds, 16, 32, 1, 0, &e) == 0, "loader: %s", e.msg);
    float out[16 * 32 * 32];
    gan_loader_next(&l, out);
    int pad_bad = 0, range_bad = 0;
    for (int b = 0; b < 16; b++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                float v = out[(b * 32 + y) * 32 + x];
                int pad = y < 2 || y >= 30 || x < 2 || x >= 30;
                pad_bad += pad && v != -1.0f;
                range_bad += !(v >= -1.0f && v <= 1.0f);
            }
    TEST_CHECK(pad_bad == 0 && range_bad == 0, "padding %d wrong, %d out of range", pad_bad, range_bad);
    gan_loader_free(&l);
    gan_dataset_free(&ds);

    rc = load(FMNIST "t10k-images-idx3-ubyte.gz", GAN_DATA_IDX, 3, 0, 100, &ds, &e);
    TEST_CHECK(rc == 0 && ds.n == 100 && ds.c == 3, "t10k limit 100 as RGB: %s", e.msg);
    gan_dataset_free(&ds);
    expect_error(load(FMNIST "train-labels-idx1-ubyte.gz", GAN_DATA_AUTO, 1, 32, 0, &ds, &e), &e,
                 "train-labels-idx1-ubyte.gz", "label file", NULL);
    return 1;
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/gan_test_data_XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    gan_data_format f;
    TEST_CHECK(gan_data_format_from_name("cifar10", &f) == 0 && f == GAN_DATA_CIFAR10, "format name");
    TEST_CHECK(gan_data_format_from_name("png", &f) == -1, "unknown format name");
    TEST_CHECK(!strcmp(gan_data_format_name(GAN_DATA_FOLDER), "folder"), "folder name");

    test_idx();
    test_idx_errors();
    test_cifar();
    test_folder();
    test_resize();
    test_folder_pnm();
    test_folder_errors();
    test_top_down_bmp();
    test_stb_guards();
    test_padding_and_scale();
    test_order();
    test_labels();
    int real = test_fashion_mnist();
    remove_tree(tmp_root);
    int rc = test_finish();
    return rc == 0 && !real ? TEST_SKIP : rc;
}
