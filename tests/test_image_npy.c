// Sample grids and .npy files: PNG pixels decoded back with stb_image and checked against the
// documented layout and value mapping; .npy round trips, byte-for-byte equality with numpy.save
// output (golden bytes below, produced by numpy 1.24), every rejection with its message; and
// atomic writes: a failed write leaves the old file and no temp file behind.
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

#include "check.h"
#include "fsutil.h"
#include "image_grid.h"
#include "npy.h"
#include "npz.h"
#include "test.h"

static char tmpdir[256];

static void tpath(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) AG_FATAL("cannot write test file %s", path);
    fclose(f);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

// What a file holds compared with `data`: an unreadable file is neither the same nor different
// (the reason is printed), so neither `== FILE_SAME` nor `== FILE_DIFFERS` passes on it.
enum { FILE_UNREADABLE = -1, FILE_DIFFERS = 0, FILE_SAME = 1 };

static int file_compare(const char *path, const void *data, size_t n) {
    char *got;
    size_t size;
    gan_err err;
    if (gan_fs_read_all(path, &got, &size, &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        return FILE_UNREADABLE;
    }
    int eq = size == n && memcmp(got, data, n) == 0 ? FILE_SAME : FILE_DIFFERS;
    free(got);
    return eq;
}

#define CHECK_MSG(err, needle) \
    TEST_CHECK(strstr((err).msg, (needle)) != NULL, "message lacks \"%s\": %s", (needle), (err).msg)

// ---------------------------------------------------------------------------------------------
// Grids

static unsigned char *load_png(const char *path, int *w, int *h, int *comp) {
    unsigned char *px = stbi_load(path, w, h, comp, 0);
    TEST_CHECK(px != NULL, "stb_image cannot decode %s: %s", path, stbi_failure_reason());
    return px;
}

static void test_grid_dims(void) {
    int gh, gw;
    gan_grid_dims(4, 28, 28, 0, 2, &gh, &gw);  // perfect square: 2 x 2, not 3 columns
    TEST_CHECK(gh == 2 * 30 + 2 && gw == 2 * 30 + 2, "4 tiles: %dx%d", gw, gh);
    gan_grid_dims(10, 5, 7, 0, 1, &gh, &gw);  // ceil(sqrt(10)) = 4 columns, 3 rows
    TEST_CHECK(gh == 3 * 6 + 1 && gw == 4 * 8 + 1, "10 tiles: %dx%d", gw, gh);
    gan_grid_dims(3, 4, 4, 8, 2, &gh, &gw);  // nrow > n: one row of n (torchvision's min(nrow, n))
    TEST_CHECK(gh == 6 + 2 && gw == 3 * 6 + 2, "nrow > n: %dx%d", gw, gh);
    gan_grid_dims(1, 3, 5, 0, 0, &gh, &gw);
    TEST_CHECK(gh == 3 && gw == 5, "single image, no pad: %dx%d", gw, gh);
    gan_grid_dims(64, 32, 32, 8, 2, &gh, &gw);  // the DCGAN snapshot: 8x8 of 32x32, padding 2
    TEST_CHECK(gh == 274 && gw == 274, "8x8 grid: %dx%d", gw, gh);
}

// Five 2x3 grayscale images, 3 per row, padding 1: a 13x7 grid with an empty sixth cell.
static void test_grid_gray_layout(void) {
    enum { N = 5, H = 2, W = 3, NROW = 3, PAD = 1 };
    float img[N * H * W];
    // Each pixel its own byte b = 10 * (i + 1) + p (image i, pixel p), stored as x = b / 127.5 - 1,
    // which maps back to b +- float rounding, far from a rounding boundary.
    for (int i = 0; i < N; i++)
        for (int p = 0; p < H * W; p++) img[i * H * W + p] = (10.0f * (i + 1) + p) / 127.5f - 1.0f;
    char path[512];
    tpath(path, sizeof path, "gray.png");
    gan_err err = {0};
    TEST_CHECK(gan_grid_write_png(path, img, N, 1, H, W, NROW, PAD, &err) == 0, "%s", err.msg);
    int w, h, comp;
    unsigned char *px = load_png(path, &w, &h, &comp);
    if (!px) return;
    TEST_CHECK(w == 13 && h == 7 && comp == 1, "gray grid is %dx%d with %d channels", w, h, comp);
    if (w == 13 && h == 7 && comp == 1) {
        // Hand-placed corners: image 0 at (1, 1), 1 at (1, 5), 2 at (1, 9), 3 at (4, 1), 4 at (4, 5).
        TEST_CHECK(px[1 * w + 1] == 10, "image 0 top-left %d", px[1 * w + 1]);
        TEST_CHECK(px[2 * w + 3] == 15, "image 0 bottom-right %d", px[2 * w + 3]);
        TEST_CHECK(px[1 * w + 5] == 20, "image 1 top-left %d", px[1 * w + 5]);
        TEST_CHECK(px[1 * w + 9] == 30, "image 2 top-left %d", px[1 * w + 9]);
        TEST_CHECK(px[2 * w + 11] == 35, "image 2 bottom-right %d", px[2 * w + 11]);
        TEST_CHECK(px[4 * w + 1] == 40, "image 3 top-left %d", px[4 * w + 1]);
        TEST_CHECK(px[5 * w + 7] == 55, "image 4 bottom-right %d", px[5 * w + 7]);
        // Every pixel: black unless inside a tile of an existing image.
        int bad = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int expect = 0;
                int ty = y - PAD, tx = x - PAD;
                if (ty >= 0 && tx >= 0 && ty % (H + PAD) < H && tx % (W + PAD) < W) {
                    int i = (ty / (H + PAD)) * NROW + tx / (W + PAD);
                    if (i < N) expect = 10 * (i + 1) + (ty % (H + PAD)) * W + tx % (W + PAD);
                }
                if (px[y * w + x] != expect && bad++ < 5)
                    TEST_CHECK(0, "gray grid pixel (%d, %d) = %d, expected %d", y, x, px[y * w + x], expect);
            }
        TEST_CHECK(bad == 0, "%d gray grid pixels wrong", bad);
        TEST_CHECK(px[4 * w + 9] == 0 && px[5 * w + 11] == 0, "empty sixth cell is not black");
    }
    stbi_image_free(px);
}

// [-1, 1] -> round((x + 1) * 127.5), clamped, NaN black; the bytes torchvision's save_image gives.
static void test_grid_value_mapping(void) {
    // 0 -> 127.5 exactly, which rounds up; the others sit well away from a rounding boundary.
    const float x[] = {-1.0f, 1.0f, 0.0f, -0.5f, 0.5f, 3.0f, -7.0f, NAN, -0.996f, 0.99f, -0.01f, INFINITY, -INFINITY};
    const unsigned char want[] = {0, 255, 128, 64, 191, 255, 0, 0, 1, 254, 126, 255, 0};
    enum { W = sizeof x / sizeof x[0] };
    char path[512];
    tpath(path, sizeof path, "values.png");
    gan_err err = {0};
    TEST_CHECK(gan_grid_write_png(path, x, 1, 1, 1, W, 0, 0, &err) == 0, "%s", err.msg);
    int w, h, comp;
    unsigned char *px = load_png(path, &w, &h, &comp);
    if (!px) return;
    TEST_CHECK(w == W && h == 1 && comp == 1, "value strip is %dx%d/%d", w, h, comp);
    for (int i = 0; i < W && w == W; i++)
        TEST_CHECK(px[i] == want[i], "x = %g -> %d, expected %d", x[i], px[i], want[i]);
    stbi_image_free(px);
}

// Two 2x2 RGB images, nrow 0 (= 2 columns), padding 2: channels interleave in the right order.
static void test_grid_rgb(void) {
    enum { N = 2, C = 3, H = 2, W = 2, PAD = 2 };
    float img[N * C * H * W];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++)
            for (int p = 0; p < H * W; p++)  // byte 100 * i + 30 * k + p
                img[((i * C + k) * H * W) + p] = (100.0f * i + 30.0f * k + p) / 127.5f - 1.0f;
    char path[512];
    tpath(path, sizeof path, "rgb.png");
    gan_err err = {0};
    TEST_CHECK(gan_grid_write_png(path, img, N, C, H, W, 0, PAD, &err) == 0, "%s", err.msg);
    int w, h, comp;
    unsigned char *px = load_png(path, &w, &h, &comp);
    if (!px) return;
    TEST_CHECK(w == 10 && h == 6 && comp == 3, "rgb grid is %dx%d with %d channels", w, h, comp);
    if (w == 10 && h == 6 && comp == 3) {
        int bad = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < C; k++) {
                    int expect = 0, ty = y - PAD, tx = x - PAD;
                    if (ty >= 0 && ty < H && tx >= 0 && tx % (W + PAD) < W)
                        expect = 100 * (tx / (W + PAD)) + 30 * k + ty * W + tx % (W + PAD);
                    if (px[(y * w + x) * 3 + k] != expect) bad++;
                }
        TEST_CHECK(bad == 0, "%d rgb grid bytes wrong", bad);
        const unsigned char *p = px + (2 * w + 6) * 3;  // image 1's top-left
        TEST_CHECK(p[0] == 100 && p[1] == 130 && p[2] == 160, "image 1 top-left = (%d, %d, %d)", p[0], p[1], p[2]);
    }
    stbi_image_free(px);
    // The in-memory encoding (what the trainer puts in its TensorBoard events) is the file's bytes.
    gan_png png;
    char *file = NULL;
    size_t size = 0;
    TEST_CHECK(gan_grid_encode_png(path, img, N, C, H, W, 0, PAD, &png, &err) == 0, "%s", err.msg);
    TEST_CHECK(gan_fs_read_all(path, &file, &size, &err) == 0, "%s", err.msg);
    TEST_CHECK(png.size == size && !memcmp(png.data, file, size) && png.width == 10 && png.height == 6 &&
               png.channels == 3, "encoded PNG (%zu bytes, %dx%dx%d) differs from the file (%zu bytes)", png.size,
               png.width, png.height, png.channels, size);
    free(file);
    gan_png_free(&png);
}

static void test_grid_too_large(void) {
    char path[512];
    tpath(path, sizeof path, "huge.png");
    float one = 0.0f;  // never read: the size check comes first
    gan_err err = {0};
    TEST_CHECK(gan_grid_write_png(path, &one, 1, 1, 46341, 46341, 0, 0, &err) == -1, "huge grid accepted");
    CHECK_MSG(err, "too large for a PNG");
    TEST_CHECK(!gan_fs_exists(path), "huge grid left a file");
}

static void test_center_crop(void) {
    enum { N = 2, C = 2, H = 5, W = 6 };
    float src[N * C * H * W], dst[N * C * 2 * 3];
    for (int i = 0; i < N * C * H * W; i++) src[i] = (float)i;
    // 5x6 -> 2x3: margins 3 and 3, odd, so the window starts at row 1, column 1.
    gan_images_center_crop(src, N, C, H, W, 2, 3, dst);
    int bad = 0;
    for (int p = 0; p < N * C; p++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                if (dst[(p * 2 + y) * 3 + x] != (float)(p * H * W + (y + 1) * W + (x + 1))) bad++;
    TEST_CHECK(bad == 0, "%d cropped values wrong", bad);
    TEST_CHECK(dst[0] == 7.0f && dst[5] == 15.0f && dst[6] == 37.0f, "crop corners %g %g %g", dst[0], dst[5], dst[6]);

    // 32x32 -> 28x28 (Fashion-MNIST's padding undone), in place.
    enum { S = 32, T = 28 };
    float *a = malloc(sizeof(float) * 3 * S * S), *b = malloc(sizeof(float) * 3 * T * T);
    for (int i = 0; i < 3 * S * S; i++) a[i] = (float)i;
    gan_images_center_crop(a, 3, 1, S, S, T, T, b);
    gan_images_center_crop(a, 3, 1, S, S, T, T, a);
    TEST_CHECK(memcmp(a, b, sizeof(float) * 3 * T * T) == 0, "in-place crop differs from out-of-place");
    TEST_CHECK(b[0] == (float)(2 * S + 2) && b[T * T] == (float)(S * S + 2 * S + 2),
               "28x28 crop starts at (2, 2): %g %g", b[0], b[T * T]);
    gan_images_center_crop(b, 3, 1, T, T, T, T, b);  // identity
    TEST_CHECK(b[T * T - 1] == (float)(29 * S + 29), "identity crop changed data: %g", b[T * T - 1]);
    free(a);
    free(b);
}

// ---------------------------------------------------------------------------------------------
// .npy

// numpy.save(f, numpy.array([[0.5, -1.25, 3], [1e-3, -0.0, 65504]], numpy.float32))
static const char npy_v1_2x3[] =
    "\x93NUMPY\x01\x00v\x00"
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    "                                                          \n"
    "\x00\x00\x00\x3f\x00\x00\xa0\xbf\x00\x00@@o\x12\x83:\x00\x00\x00\x80\x00\xe0\x7fG";
// numpy.lib.format.write_array(f, numpy.array([1, -2, 0.25], numpy.float32), version=(2, 0))
static const char npy_v2_3[] =
    "\x93NUMPY\x02\x00t\x00\x00\x00"
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
    "                                                          \n"
    "\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x80>";
// numpy.save(f, numpy.float32(1.5))
static const char npy_v1_scalar[] =
    "\x93NUMPY\x01\x00v\x00"
    "{'descr': '<f4', 'fortran_order': False, 'shape': (), }"
    "                                                              \n"
    "\x00\x00\xc0\x3f";
// numpy.save(f, numpy.asfortranarray(numpy.array([[1, 2], [3, 4]], numpy.float32)))
static const char npy_fortran[] =
    "\x93NUMPY\x01\x00v\x00"
    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"
    "                                                           \n"
    "\x00\x00\x80\x3f\x00\x00@@\x00\x00\x00@\x00\x00\x80@";
// numpy.save(f, numpy.array([1.0, 2.0]))
static const char npy_f64[] =
    "\x93NUMPY\x01\x00v\x00"
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    "                                                            \n"
    "\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00@";

// A file built per the format spec: magic, version, header length, header text (no alignment
// padding, which readers must not require), then `ndata` bytes of data.
static void write_npy_by_hand(const char *path, int major, const char *header, const void *data,
                              size_t ndata) {
    unsigned char buf[1024];
    size_t hl = strlen(header), n = 0;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    n = 8;
    for (int i = 0; i < (major == 1 ? 2 : 4); i++) buf[n++] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + n, header, hl);
    n += hl;
    if (ndata) memcpy(buf + n, data, ndata);
    write_bytes(path, buf, n + ndata);
}

static void test_npy_numpy_goldens(void) {
    char path[512];
    tpath(path, sizeof path, "golden.npy");
    gan_err err = {0};
    int ndim = -1;
    int64_t shape[GAN_NPY_MAX_DIMS];
    float *d = NULL;

    write_bytes(path, npy_v1_2x3, sizeof npy_v1_2x3 - 1);
    TEST_CHECK(gan_npy_read_f32(path, &ndim, shape, &d, &err) == 0, "numpy v1.0: %s", err.msg);
    const float want[6] = {0.5f, -1.25f, 3.0f, 1e-3f, -0.0f, 65504.0f};
    if (d) {
        TEST_CHECK(ndim == 2 && shape[0] == 2 && shape[1] == 3, "v1.0 shape %d (%lld, %lld)", ndim,
                   (long long)shape[0], (long long)shape[1]);
        TEST_CHECK(memcmp(d, want, sizeof want) == 0 && signbit(d[4]), "v1.0 values differ");
        free(d);
        d = NULL;
    }
    write_bytes(path, npy_v2_3, sizeof npy_v2_3 - 1);
    TEST_CHECK(gan_npy_read_f32(path, &ndim, shape, &d, &err) == 0, "numpy v2.0: %s", err.msg);
    if (d) {
        TEST_CHECK(ndim == 1 && shape[0] == 3, "v2.0 shape %d (%lld)", ndim, (long long)shape[0]);
        TEST_CHECK(d[0] == 1.0f && d[1] == -2.0f && d[2] == 0.25f, "v2.0 values %g %g %g", d[0], d[1], d[2]);
        free(d);
        d = NULL;
    }
    write_bytes(path, npy_v1_scalar, sizeof npy_v1_scalar - 1);
    TEST_CHECK(gan_npy_read_f32(path, &ndim, shape, &d, &err) == 0, "numpy 0-d: %s", err.msg);
    if (d) {
        TEST_CHECK(ndim == 0 && d[0] == 1.5f, "0-d: ndim %d value %g", ndim, d[0]);
        free(d);
        d = NULL;
    }

    // Our writer produces numpy.save's exact bytes.
    int64_t s23[2] = {2, 3};
    TEST_CHECK(gan_npy_write_f32(path, 2, s23, want, &err) == 0, "%s", err.msg);
    TEST_CHECK(file_compare(path, npy_v1_2x3, sizeof npy_v1_2x3 - 1) == FILE_SAME, "2x3 file differs from numpy.save");
    float x = 1.5f;
    TEST_CHECK(gan_npy_write_f32(path, 0, NULL, &x, &err) == 0, "%s", err.msg);
    TEST_CHECK(file_compare(path, npy_v1_scalar, sizeof npy_v1_scalar - 1) == FILE_SAME,
               "0-d file differs from numpy.save");

    // Headers numpy does not write but the format allows: keys in another order, double quotes,
    // Python 2 longs, no trailing comma, no alignment padding, version 2.0.
    const float three[3] = {4.0f, 5.0f, 6.0f};
    const char *ok_headers[] = {
        "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f4\"}\n",
        "{'descr':'<f4','fortran_order':False,'shape':(1L, 3L)}",
        "  {'fortran_order': False, 'shape': ( 3 , ), 'descr': '<f4', }   \n",
    };
    for (int i = 0; i < 3; i++) {
        write_npy_by_hand(path, 1 + (i == 2), ok_headers[i], three, sizeof three);
        int rc = gan_npy_read_f32(path, &ndim, shape, &d, &err);
        TEST_CHECK(rc == 0, "header %s: %s", ok_headers[i], err.msg);
        if (rc == 0) {
            TEST_CHECK(shape[ndim - 1] == 3 && d[2] == 6.0f, "header %s read wrong", ok_headers[i]);
            free(d);
            d = NULL;
        }
    }
}

static void npy_round_trip(int ndim, const int64_t *shape) {
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= (size_t)shape[i];
    float *x = malloc(sizeof(float) * (count ? count : 1));
    for (size_t i = 0; i < count; i++) x[i] = (float)sin((double)i * 0.37) * 1e3f + (float)i;
    char path[512];
    tpath(path, sizeof path, "rt.npy");
    gan_err err = {0};
    TEST_CHECK(gan_npy_write_f32(path, ndim, shape, count ? x : NULL, &err) == 0, "write %dd: %s", ndim, err.msg);
    int nd = -1;
    int64_t got[GAN_NPY_MAX_DIMS];
    float *y = NULL;
    TEST_CHECK(gan_npy_read_f32(path, &nd, got, &y, &err) == 0, "read %dd: %s", ndim, err.msg);
    TEST_CHECK(y != NULL, "%dd: no data pointer", ndim);
    TEST_CHECK(nd == ndim && (ndim == 0 || memcmp(got, shape, sizeof(int64_t) * (size_t)ndim) == 0), "%dd: shape differs", ndim);
    if (y && count) TEST_CHECK(memcmp(x, y, sizeof(float) * count) == 0, "%dd: data differs", ndim);
    struct stat st;
    TEST_CHECK(stat(path, &st) == 0 && (st.st_size - (off_t)(4 * count)) % 64 == 0,
               "%dd: header not 64-byte aligned", ndim);
    free(x);
    free(y);
}

static void test_npy_round_trips(void) {
    npy_round_trip(0, NULL);
    npy_round_trip(1, (int64_t[]){7});
    npy_round_trip(2, (int64_t[]){0, 3});  // zero elements
    npy_round_trip(4, (int64_t[]){64, 1, 32, 32});
    npy_round_trip(4, (int64_t[]){3, 3, 5, 2});
    npy_round_trip(8, (int64_t[]){1, 2, 1, 3, 1, 2, 2, 1});
    npy_round_trip(1, (int64_t[]){1234567});  // a first dim of 7 digits changes the header padding
}

typedef struct {
    const char *what;
    int major;
    const char *header;  // NULL: `raw` is the whole file
    const char *raw;
    size_t raw_len;
    size_t ndata;
    const char *needle[3];
} bad_case;

static void test_npy_rejections(void) {
    static const char data[64];
    const size_t v1_len = sizeof npy_v1_2x3 - 1;
    char plus[256];
    memcpy(plus, npy_v1_2x3, v1_len);
    memcpy(plus + v1_len, "junk", 4);
    const bad_case cases[] = {
        {"bad magic", 0, NULL, "\x93NUMPX\x01\x00\x10\x00{}", 12, 0, {"bad magic", "93 4e 55 4d 50 58", "expected 93 4e 55 4d 50 59"}},
        {"zip archive", 0, NULL, "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00", 12, 0, {"zip archive", ".npz", NULL}},
        {"short file", 0, NULL, "\x93NUM", 4, 0, {"only 4 bytes", "10-byte preamble", NULL}},
        {"version 3.0", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", NULL, 0, 12, {"version 3.0", "expected 1.0 or 2.0", NULL}},
        {"float64", 0, NULL, npy_f64, sizeof npy_f64 - 1, 0, {"got '<f8' (float64)", "save with .astype(numpy.float32)", NULL}},
        {"big-endian", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", NULL, 0, 12, {"'>f4' (big-endian float32)", "expected '<f4'", NULL}},
        {"uint8", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", NULL, 0, 3, {"'|u1' (uint8)", NULL, NULL}},
        {"int64", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", NULL, 0, 24, {"'<i8' (int64)", NULL, NULL}},
        {"structured", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", NULL, 0, 12, {"structured dtype", NULL, NULL}},
        {"fortran", 0, NULL, npy_fortran, sizeof npy_fortran - 1, 0, {"Fortran order", "numpy.ascontiguousarray", NULL}},
        {"missing key", 1, "{'descr': '<f4', 'shape': (3,), }", NULL, 0, 12, {"missing key 'fortran_order'", NULL, NULL}},
        {"unknown key", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", NULL, 0, 12, {"unexpected key 'x'", NULL, NULL}},
        {"duplicate key", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", NULL, 0, 12, {"'descr' appears twice", NULL, NULL}},
        {"bad dim", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }", NULL, 0, 12, {"malformed .npy header", "non-negative integer", "\"x), }\""}},
        {"negative dim", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", NULL, 0, 12, {"non-negative integer", NULL, NULL}},
        {"bad bool", 1, "{'descr': '<f4', 'fortran_order': false, 'shape': (3,), }", NULL, 0, 12, {"True or False", NULL, NULL}},
        {"not a dict", 1, "['descr', '<f4']", NULL, 0, 12, {"'{' opening the header dict", NULL, NULL}},
        {"open string", 1, "{'descr': '<f4, 'fortran_order': False, 'shape': (3,), }", NULL, 0, 12, {"malformed .npy header", NULL, NULL}},
        {"unclosed dict", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,) ", NULL, 0, 12, {"',' or '}' after a value", "<end of header>", NULL}},
        {"junk after dict", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x", NULL, 0, 12, {"only spaces after the header dict", NULL, NULL}},
        {"nine dims", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }", NULL, 0, 4, {"more than 8 dimensions", NULL, NULL}},
        {"huge dim", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", NULL, 0, 4, {"fits in 64 bits", NULL, NULL}},
        {"too large", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", NULL, 0, 4, {"too large", NULL, NULL}},
        {"truncated header", 0, NULL, npy_v1_2x3, 40, 0, {"truncated .npy header", "expected 118 bytes, got 30", NULL}},
        {"truncated data", 0, NULL, npy_v1_2x3, v1_len - 5, 0, {"truncated data", "(2, 3)", "needs 24 bytes, got 19"}},
        {"trailing bytes", 0, NULL, plus, v1_len + 4, 0, {"4 unexpected bytes after the data", "needs 24 bytes", NULL}},
    };
    char path[512];
    tpath(path, sizeof path, "bad.npy");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        if (c->header) write_npy_by_hand(path, c->major, c->header, data, c->ndata);
        else write_bytes(path, c->raw, c->raw_len);
        gan_err err = {0};
        int ndim = -7;
        int64_t shape[GAN_NPY_MAX_DIMS] = {-7};
        float *d = (float *)&ndim;  // sentinel: a failed read must leave the outputs alone
        int rc = gan_npy_read_f32(path, &ndim, shape, &d, &err);
        TEST_CHECK(rc == -1, "%s: accepted", c->what);
        TEST_CHECK(ndim == -7 && shape[0] == -7 && d == (float *)&ndim, "%s: outputs touched", c->what);
        TEST_CHECK(err.code == GAN_EXIT_RUNTIME, "%s: code %d", c->what, err.code);
        TEST_CHECK(strncmp(err.msg, path, strlen(path)) == 0, "%s: message does not start with the path: %s", c->what, err.msg);
        for (int k = 0; k < 3 && c->needle[k]; k++)
            TEST_CHECK(strstr(err.msg, c->needle[k]) != NULL, "%s: message lacks \"%s\": %s", c->what, c->needle[k], err.msg);
    }
    gan_err err = {0};
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    float *d;
    tpath(path, sizeof path, "absent.npy");
    TEST_CHECK(gan_npy_read_f32(path, &ndim, shape, &d, &err) == -1, "absent file read");
    CHECK_MSG(err, "cannot open");
    TEST_CHECK(gan_npy_read_f32(tmpdir, &ndim, shape, &d, &err) == -1, "directory read");
    CHECK_MSG(err, "not a regular file");
}

// A dtype's size is outside text too: '<f99999999999999999999' made the message's "float<bits>"
// multiply strtol's saturated LONG_MAX by 8, a signed overflow (found by fuzz_npy). Sizes no
// dtype has are named by their kind alone.
static void test_npy_absurd_dtype_size(void) {
    static const char data[16];
    static const struct {
        const char *header, *name;
    } cases[] = {
        {"{'descr': '<f99999999999999999999', 'fortran_order': False, 'shape': (2,), }", "(float)"},
        {"{'descr': '<i1152921504606846976', 'fortran_order': False, 'shape': (2,), }", "(int)"},
        {"{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", "(float128)"},
        {"{'descr': '<c33', 'fortran_order': False, 'shape': (1,), }", "(complex)"},
    };
    char path[512];
    tpath(path, sizeof path, "absurd.npy");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_npy_by_hand(path, 1, cases[i].header, data, sizeof data);
        gan_err err = {0};
        int ndim;
        int64_t shape[GAN_NPY_MAX_DIMS];
        float *d;
        TEST_CHECK(gan_npy_read_f32(path, &ndim, shape, &d, &err) == -1, "%s: accepted", cases[i].header);
        CHECK_MSG(err, "unsupported dtype");
        CHECK_MSG(err, cases[i].name);
    }
    unlink(path);
}

// Little-endian fields of a zip archive.
static void put_le(unsigned char *buf, size_t *n, uint32_t v, int bytes) {
    for (int b = 0; b < bytes; b++) buf[(*n)++] = (unsigned char)(v >> (8 * b));
}

// An .npz of one member "mu.npy" (stored, method 0, or deflated, method 8: `member` is then
// its compressed bytes), whose headers claim `usize` bytes uncompressed.
static void write_npz_by_hand(const char *path, int method, const void *member, uint32_t csize, uint32_t usize) {
    static const char name[] = "mu.npy";
    const uint32_t nlen = sizeof name - 1;
    unsigned char buf[2048] = {0};
    size_t n = 0;
    // local header: signature, version, flags, method, time+date, crc, sizes, name and extra lengths
    const uint32_t local[][2] = {{0x04034b50u, 4}, {20, 2}, {0, 2}, {(uint32_t)method, 2}, {0, 4}, {0, 4},
                                 {csize, 4}, {usize, 4}, {nlen, 2}, {0, 2}};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) put_le(buf, &n, local[i][0], (int)local[i][1]);
    memcpy(buf + n, name, nlen);
    n += nlen;
    memcpy(buf + n, member, csize);
    n += csize;
    const size_t cd = n;
    // central directory entry: as above, then comment length, disk, attributes, local offset 0
    const uint32_t central[][2] = {{0x02014b50u, 4}, {20, 2}, {20, 2}, {0, 2}, {(uint32_t)method, 2}, {0, 4},
                                   {0, 4}, {csize, 4}, {usize, 4}, {nlen, 2}, {0, 2}, {0, 2}, {0, 2}, {0, 2},
                                   {0, 4}, {0, 4}};
    for (size_t i = 0; i < sizeof central / sizeof central[0]; i++) put_le(buf, &n, central[i][0], (int)central[i][1]);
    memcpy(buf + n, name, nlen);
    n += nlen;
    const uint32_t end[][2] = {{0x06054b50u, 4}, {0, 2}, {0, 2}, {1, 2}, {1, 2}, {(uint32_t)(n - cd), 4},
                               {(uint32_t)cd, 4}, {0, 2}};
    for (size_t i = 0; i < sizeof end / sizeof end[0]; i++) put_le(buf, &n, end[i][0], (int)end[i][1]);
    write_bytes(path, buf, n);
}

// An archive's sizes are claims too: the member's buffer was sized by its uncompressed size as
// the headers state it, so 8 deflated bytes claiming 4 GiB allocated 4 GiB (found by fuzz_npz).
// A claim the member's bytes cannot make (more than deflate's 1032:1, or a stored member of
// another size than its own) is damage, refused before anything is allocated.
static void test_npz_size_claims(void) {
    char npy[512], path[512];
    tpath(npy, sizeof npy, "mu.npy");
    gan_err err = {0};
    TEST_CHECK(gan_npy_write_f32(npy, 1, (int64_t[]){3}, (float[]){1.5f, -2, 4}, &err) == 0, "write: %s", err.msg);
    unsigned char member[256];
    FILE *f = fopen(npy, "rb");
    const uint32_t msize = f ? (uint32_t)fread(member, 1, sizeof member, f) : 0;
    if (f) fclose(f);
    unlink(npy);
    tpath(path, sizeof path, "stats.npz");
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    double *x = NULL;
    write_npz_by_hand(path, 0, member, msize, msize);
    TEST_CHECK(gan_npz_read_f64(path, "mu", &ndim, shape, &x, &err) == 0, "a stored member: %s", err.msg);
    TEST_CHECK(x && ndim == 1 && shape[0] == 3 && x[0] == 1.5 && x[2] == 4, "a stored member reads wrong");
    free(x);

    write_npz_by_hand(path, 0, member, msize, msize + 1);
    TEST_CHECK(gan_npz_read_f64(path, "mu", &ndim, shape, &x, &err) != 0, "a stored member of another size read");
    CHECK_MSG(err, "member mu.npy: damaged data (it claims");
    unsigned char deflated[8] = {0x03, 0x00};  // an empty deflate stream, padded
    write_npz_by_hand(path, 8, deflated, sizeof deflated, 0xFFFFFF00u);
    TEST_CHECK(gan_npz_read_f64(path, "mu", &ndim, shape, &x, &err) != 0, "8 bytes claiming 4 GiB read");
    CHECK_MSG(err, "member mu.npy: damaged data (it claims 4294967040 bytes from 8)");
    write_npz_by_hand(path, 12, member, msize, msize);  // bzip2
    TEST_CHECK(gan_npz_read_f64(path, "mu", &ndim, shape, &x, &err) != 0, "a bzip2 member read");
    CHECK_MSG(err, "compressed with a method other than deflate");
    unlink(path);
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

// Writes fail with EFBIG past `bytes` -- a full disk that even root cannot bypass -- until undone.
static struct rlimit saved_fsize;
static void limit_file_size(rlim_t bytes) {
    signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    getrlimit(RLIMIT_FSIZE, &saved_fsize);
    struct rlimit r = saved_fsize;
    r.rlim_cur = bytes;
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) AG_FATAL("setrlimit(RLIMIT_FSIZE) failed");
}
static void unlimit_file_size(void) { setrlimit(RLIMIT_FSIZE, &saved_fsize); }

static void test_atomic_writes(void) {
    float img[3 * 8 * 8];
    for (int i = 0; i < 3 * 8 * 8; i++) img[i] = (float)((i * 37) % 255) / 127.5f - 1.0f;
    int64_t shape[1] = {3 * 8 * 8};
    gan_err err = {0};
    char dir[512], path[512];

    // Inside a directory that does not exist: an error naming the path, nothing created.
    tpath(dir, sizeof dir, "no/such/dir");
    tpath(path, sizeof path, "no/such/dir/x.png");
    int before = count_entries(tmpdir);
    TEST_CHECK(gan_grid_write_png(path, img, 1, 3, 8, 8, 0, 0, &err) == -1, "png into missing dir");
    CHECK_MSG(err, dir);
    tpath(path, sizeof path, "no/such/dir/x.npy");
    TEST_CHECK(gan_npy_write_f32(path, 1, shape, img, &err) == -1, "npy into missing dir");
    CHECK_MSG(err, dir);
    TEST_CHECK(count_entries(tmpdir) == before, "failed writes left files in %s", tmpdir);

    // A write that fails part-way over an existing file: the old file stays whole, no temp file.
    tpath(dir, sizeof dir, "atomic");
    TEST_CHECK(gan_fs_mkdir_p(dir, &err) == 0, "%s", err.msg);
    char png[512], npy[512];
    tpath(png, sizeof png, "atomic/grid.png");
    tpath(npy, sizeof npy, "atomic/x.npy");
    const char old[] = "the previous, good file";
    write_bytes(png, old, sizeof old);
    write_bytes(npy, old, sizeof old);
    limit_file_size(16);
    int rc_png = gan_grid_write_png(png, img, 1, 3, 8, 8, 0, 0, &err);
    gan_err err_npy = {0};
    int rc_npy = gan_npy_write_f32(npy, 1, shape, img, &err_npy);
    unlimit_file_size();
    TEST_CHECK(rc_png == -1, "png write past the size limit succeeded");
    CHECK_MSG(err, "cannot write: File too large");
    CHECK_MSG(err, "the file already there is unchanged");
    TEST_CHECK(rc_npy == -1, "npy write past the size limit succeeded");
    CHECK_MSG(err_npy, "write failed");
    TEST_CHECK(file_compare(png, old, sizeof old) == FILE_SAME, "failed png write damaged the old file");
    TEST_CHECK(file_compare(npy, old, sizeof old) == FILE_SAME, "failed npy write damaged the old file");
    TEST_CHECK(count_entries(dir) == 2, "temp files left in %s: %d entries", dir, count_entries(dir));

    // The rename fails (the target is a non-empty directory): target intact, temp file removed.
    char target[512], inner[512];
    tpath(target, sizeof target, "atomic/taken");
    tpath(inner, sizeof inner, "atomic/taken/keep");
    TEST_CHECK(gan_fs_mkdir_p(target, &err) == 0, "%s", err.msg);
    write_bytes(inner, old, sizeof old);
    TEST_CHECK(gan_npy_write_f32(target, 1, shape, img, &err) == -1, "npy over a directory");
    CHECK_MSG(err, "cannot move the new file into place");
    TEST_CHECK(gan_grid_write_png(target, img, 1, 3, 8, 8, 0, 0, &err) == -1, "png over a directory");
    TEST_CHECK(gan_fs_is_dir(target) && file_compare(inner, old, sizeof old) == FILE_SAME, "directory damaged");
    TEST_CHECK(count_entries(dir) == 3, "temp files left in %s: %d entries", dir, count_entries(dir));

    // And the same writes succeed once nothing is in the way.
    TEST_CHECK(gan_grid_write_png(png, img, 1, 3, 8, 8, 0, 0, &err) == 0, "%s", err.msg);
    TEST_CHECK(gan_npy_write_f32(npy, 1, shape, img, &err) == 0, "%s", err.msg);
    TEST_CHECK(file_compare(png, old, sizeof old) == FILE_DIFFERS && file_compare(npy, old, sizeof old) == FILE_DIFFERS,
               "files not replaced");
    TEST_CHECK(count_entries(dir) == 3, "temp files left after success: %d entries", count_entries(dir));
    unlink(inner);
    rmdir(target);
    unlink(png);
    unlink(npy);
    rmdir(dir);
}

int main(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_image_npy.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) AG_FATAL("mkdtemp %s failed", tmpdir);

    test_grid_dims();
    test_grid_gray_layout();
    test_grid_value_mapping();
    test_grid_rgb();
    test_grid_too_large();
    test_center_crop();
    test_npy_numpy_goldens();
    test_npy_round_trips();
    test_npy_rejections();
    test_npy_absurd_dtype_size();
    test_npz_size_claims();
    test_atomic_writes();

    const char *files[] = {"gray.png", "values.png", "rgb.png", "golden.npy", "rt.npy", "bad.npy"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[512];
        tpath(p, sizeof p, files[i]);
        unlink(p);
    }
    if (rmdir(tmpdir) != 0) TEST_CHECK(0, "%s not empty after the test", tmpdir);
    return test_finish();
}
