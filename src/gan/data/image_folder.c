// Image folders decoded with stb_image. Images are decoded in parallel straight into their slot of
// the dataset; the error reported is the one of the first failing file in path order, so the
// message does not depend on thread timing.
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
#define STBI_ONLY_PNM
#define STBI_NO_GIF
#define STBI_MAX_DIMENSIONS GAN_IMAGE_MAX_SIDE
// stb_image 2.27 does not clear its JPEG decoder's state when it allocates it, so a scan whose
// Huffman table no DHT defined decodes with whatever an earlier allocation left there, indexing
// its tables with garbage (stb_image 2.28 clears it; found by fuzz_image). Every allocation is
// zeroed here instead; image buffers come from calloc's fresh pages, so it costs little.
#define STBI_MALLOC(size) calloc(1, (size))
#define STBI_REALLOC(p, size) realloc((p), (size))
#define STBI_FREE(p) free(p)
#define stbi_set_unpremultiply_on_load_thread stbi__unpremultiply_on_load_thread
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
// stb_image 2.27's PNG reader, given an empty first IDAT chunk (a legal PNG), adds 0 to a null
// pointer and copies 0 bytes to it: undefined in C11 though nothing is read or written, and
// UBSan under clang stops there (found by fuzz_image). Its JPEG bit reader, on a scan whose
// entropy-coded data ends early (a marker where bits were due), lets its bit count go negative
// and then shifts a zero byte by 32 or more: undefined, though the byte is always 0 there (the
// reader reads no more bytes once it met a marker), so the result is 0 on every machine and no
// index depends on it (2.28 returns zero bits instead; found by fuzz_image's long run). Only
// those three checks are lifted, and only inside stb_image.
#if defined(__clang__)
#pragma clang attribute push( \
    __attribute__((no_sanitize("pointer-overflow", "nonnull-attribute", "shift-exponent"))), apply_to = function)
#endif
#include <stb_image.h>
#if defined(__clang__)
#pragma clang attribute pop
#endif
#pragma GCC diagnostic pop

bool gan_path_is_image(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return false;
    return !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") ||
           !strcasecmp(dot, ".bmp") || !strcasecmp(dot, ".ppm") || !strcasecmp(dot, ".pgm");
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

// stb_image 2.27 (Debian 12's) trusts a JPEG's Huffman table sizes: a DHT segment whose 16
// code counts add up to more than 256 makes it write past its tables, into the rest of its
// decoder state (stb_image 2.28 refuses it as "bad DHT header"; found by fuzz_image). So every
// DHT segment stb_image could reach is checked before it reads the file: its tables are walked
// as stb_image walks them (bytes past the end read as 0, as its reader gives them), and a
// segment stb_image would refuse for another reason ends the walk, since stb_image stops there.
// (getc_unlocked: the walk reads every byte, and each file has one reader.)
static bool jpeg_dht_ok(FILE *f) {
    bool ok = true, more = true;
    int first = getc_unlocked(f);
    if (first == 0xFF)
        while ((first = getc_unlocked(f)) == 0xFF) {}  // stb_image lets fill bytes precede SOI too
    if (first == 0xD8) {
        while (ok && more) {
            int c = getc_unlocked(f);
            if (c != 0xFF) {  // entropy-coded data, or bytes stb_image skips between segments
                more = c != EOF;
                continue;
            }
            while ((c = getc_unlocked(f)) == 0xFF) {}  // fill bytes
            if (c == EOF) break;
            if (c == 0x00 || c == 0x01 || (c >= 0xD0 && c <= 0xD9)) continue;  // no length follows
            const int hi = getc_unlocked(f), lo = getc_unlocked(f);
            long left = ((long)(hi == EOF ? 0 : hi) << 8 | (lo == EOF ? 0 : lo)) - 2;
            if (c != 0xC4) {
                more = lo != EOF && left >= 0 && fseek(f, left, SEEK_CUR) == 0;
                continue;
            }
            while (ok && more && left > 0) {
                const int q = getc_unlocked(f);
                if (q == EOF || q >> 4 > 1 || (q & 15) > 3) more = false;  // "bad DHT header" already
                long n = 0;
                for (int i = 0; more && i < 16; i++) {
                    const int k = getc_unlocked(f);
                    n += k == EOF ? 0 : k;
                }
                ok = n <= 256;
                left -= 17 + n;
                more = more && fseek(f, n, SEEK_CUR) == 0;
            }
            more = more && left == 0;  // otherwise stb_image refuses the segment
        }
    }
    rewind(f);
    return ok;
}

// A PNM number of the header: after whitespace and '#' comments, decimal digits; -1 if none.
static long pnm_number(FILE *f) {
    int c = getc(f);
    for (;;) {
        while (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') c = getc(f);
        if (c != '#') break;
        while (c != '\n' && c != '\r' && c != EOF) c = getc(f);  // as stb_image ends a comment
    }
    if (c < '0' || c > '9') return -1;
    long v = 0;
    for (; c >= '0' && c <= '9' && v < 1000000; c = getc(f)) v = v * 10 + (c - '0');
    return v;  // the single whitespace after it is consumed
}

// What stb_image 2.27 would get wrong in a PNM file, or NULL: it reads only binary P5/P6; its
// header numbers overflow an int past 2^31 (undefined behaviour, found by fuzz_image); it
// decodes a file cut short without a word (the rest of the image is whatever the buffer held);
// and it takes the samples as they are, so a maxval other than 255 (or 65535, which it scales)
// would come out too dark. The header is read as stb_image reads it, and stb_image sees only
// headers whose numbers are in range.
static const char *pnm_problem(FILE *f, char *why, size_t size) {
    const char *problem = NULL;
    int p = getc(f), k = getc(f);
    if (p == 'P' && k >= '1' && k <= '4') {
        problem = "a plain-text or bitmap PNM (P1 to P4); only binary P5 (gray) and P6 (RGB) are read";
    } else if (p == 'P' && (k == '5' || k == '6')) {
        long w = pnm_number(f), h = pnm_number(f), maxv = pnm_number(f);
        long header = ftell(f);
        struct stat st;
        if (w > GAN_IMAGE_MAX_SIDE || h > GAN_IMAGE_MAX_SIDE || maxv > 65535) {
            snprintf(why, size, "a PNM header of width %s%ld, height %s%ld, maxval %s%ld; at most %d pixels a side and a "
                     "maxval of 65535 are read", w >= 1000000 ? ">= " : "", w, h >= 1000000 ? ">= " : "", h,
                     maxv >= 1000000 ? ">= " : "", maxv, GAN_IMAGE_MAX_SIDE);
            problem = why;
        } else if (w > 0 && h > 0 && (maxv == 255 || maxv == 65535) && header > 0 && fstat(fileno(f), &st) == 0) {
            const long long need = (long long)w * h * (k == '6' ? 3 : 1) * (maxv > 255 ? 2 : 1);
            if (st.st_size - header < need) {
                snprintf(why, size, "truncated: a %ldx%ld PNM needs %lld bytes of pixels, the file holds %lld", w, h, need,
                         (long long)(st.st_size - header));
                problem = why;
            }
        } else if (maxv > 0 && maxv != 255 && maxv != 65535) {
            snprintf(why, size, "a PNM with maxval %ld; only 255 (8-bit) and 65535 (16-bit) are read", maxv);
            problem = why;
        }  // other bad headers: stb_image's own reason
    }
    rewind(f);
    return problem;
}

static uint32_t le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

// A BMP cut short, or NULL. stb_image 2.27 reads an uncompressed BMP's rows without checking
// that the file holds them: past the end it reads zeros, so a 69-byte file whose header claims
// 14338 x 15361 pixels became a 660 MB image, decoded slowly out of nothing (found by
// fuzz_image's long run). The pixels of an uncompressed BMP (stb_image reads no other kind) take
// an exact number of bytes, so a file shorter than that is refused before anything is
// allocated: the decoded size stays bounded by the file's size.
static const char *bmp_problem(FILE *f, char *why, size_t size) {
    unsigned char h[34];
    const char *problem = NULL;
    struct stat st;
    if (fread(h, 1, sizeof h, f) == sizeof h && h[0] == 'B' && h[1] == 'M' && fstat(fileno(f), &st) == 0) {
        const uint32_t offset = le32(h + 10), hsz = le32(h + 14);
        int64_t w, ht, bpp, comp = 0;
        if (hsz == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sides
            w = h[18] | h[19] << 8, ht = h[20] | h[21] << 8, bpp = h[24] | h[25] << 8;
        } else {
            w = (int32_t)le32(h + 18), ht = (int32_t)le32(h + 22), bpp = h[28] | h[29] << 8, comp = le32(h + 30);
        }
        if (ht < 0) ht = -ht;  // top-down
        if (w > 0 && ht > 0 && w <= GAN_IMAGE_MAX_SIDE && ht <= GAN_IMAGE_MAX_SIDE && bpp > 0 && bpp <= 32 &&
            (comp == 0 || comp == 3)) {
            const int64_t stride = (w * bpp + 31) / 32 * 4, row = (w * bpp + 7) / 8;
            const int64_t need = stride * (ht - 1) + row;  // the last row's padding may be left out
            const int64_t start = offset > 14 + hsz ? offset : 14 + (int64_t)hsz;
            const int64_t have = st.st_size > start ? st.st_size - start : 0;
            if (have < need) {
                snprintf(why, size, "truncated: a %lldx%lld BMP of %lld bits per pixel needs %lld bytes of pixels, "
                         "the file holds %lld", (long long)w, (long long)ht, (long long)bpp, (long long)need,
                         (long long)have);
                problem = why;
            }
        }
    }
    rewind(f);
    return problem;
}

// A PNG IDAT chunk that claims more bytes than the file holds, or NULL. stb_image 2.27 grows its
// buffer of compressed data to each IDAT chunk's stated length before it reads the chunk: a
// 60-byte file claiming a 1 GiB chunk made it allocate 2 GiB (found by fuzz_image's long run;
// address space only, as nothing is written, but refused under a memory limit and beyond what
// the file can hold). With every chunk inside the file, that buffer is at most twice the file.
static const char *png_problem(FILE *f, char *why, size_t size) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    const char *problem = NULL;
    struct stat st;
    if (fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0 && fstat(fileno(f), &st) == 0) {
        int64_t at = 8;
        while (at + 8 <= st.st_size && fread(b, 1, 8, f) == 8) {  // length, type
            const uint32_t len = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
            bool named = true;  // a chunk type is four letters; anything else is stb_image's to report
            for (int i = 0; i < 4; i++) named &= isalpha(b[4 + i]) != 0;
            if (!named) break;
            const int64_t rest = st.st_size - at - 8;  // the bytes after this chunk's length and type
            if (memcmp(b + 4, "IDAT", 4) == 0 && (int64_t)len + 4 > rest) {
                snprintf(why, size, "truncated: its IDAT chunk at byte %lld claims %u bytes, the file holds %lld after it",
                         (long long)at, len, (long long)(rest > 0 ? rest : 0));
                problem = why;
                break;
            }
            if (memcmp(b + 4, "IEND", 4) == 0 || fseek(f, (long)len + 4, SEEK_CUR) != 0) break;
            at += (int64_t)len + 12;
        }
    }
    rewind(f);
    return problem;
}

// Opens an image for stb_image, or NULL with err: the system's reason, or what stb_image must
// not be given.
static FILE *open_image(const char *path, gan_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char why[160];
    const char *pnm = pnm_problem(f, why, sizeof why);
    if (!pnm) pnm = bmp_problem(f, why, sizeof why);
    if (!pnm) pnm = png_problem(f, why, sizeof why);
    if (pnm) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a decodable image: %s", path, pnm);
    } else if (!jpeg_dht_ok(f)) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a decodable image (stb_image: bad DHT header): a JPEG Huffman "
                 "table with more than 256 codes", path);
    } else {
        return f;
    }
    fclose(f);
    return NULL;
}

// The image's size and channels from its header (no pixels decoded), or -1 with err naming the
// file. stbi_info tries every format in turn and keeps only "unknown image type" as its reason;
// a decode attempt gives the format's own reason (the failure path only). Not every format's
// header check applies STBI_MAX_DIMENSIONS (BMP's does not), so the cap is checked here too.
// BMP's also gives a top-down image (stored with a negative height) its height as stored,
// while the decoder takes its magnitude: so does this.
// The rest of f in memory (malloc'd), or NULL.
static unsigned char *slurp(FILE *f, size_t *n) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > SIZE_MAX / 2) return NULL;
    unsigned char *buf = malloc((size_t)st.st_size);
    *n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    if (buf && *n == 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

// The header pass reads from memory: stb_image 2.27's header checks rewind a FILE only to the
// start of its current 128-byte buffer, so after one format's check read past it the next saw
// the middle of the file (a JPEG holding the bytes "P5 333333333..." sent the PNM reader's int
// past its range: found by fuzz_image). From memory, every check starts at the first byte.
static int probe(const char *path, int *w, int *h, int *comp, gan_err *err) {
    FILE *f = open_image(path, err);
    if (!f) return -1;
    size_t n = 0;
    unsigned char *bytes = slurp(f, &n);
    fclose(f);
    if (!bytes) return decode_error(path, n == 0 ? "empty or unreadable file" : "out of memory", err);
    int rc = 0;
    if (n > INT_MAX || !stbi_info_from_memory(bytes, (int)n, w, h, comp)) {
        const char *why = n > INT_MAX ? "file larger than 2 GiB" : stbi_failure_reason();
        int dw, dh, dc;
        stbi_uc *px = n > INT_MAX ? NULL : stbi_load_from_memory(bytes, (int)n, &dw, &dh, &dc, 0);
        if (!px && n <= INT_MAX) why = stbi_failure_reason();
        stbi_image_free(px);
        rc = decode_error(path, why, err);
    } else {
        const int64_t side_h = *h < 0 ? -(int64_t)*h : *h;
        if ((unsigned)*w > GAN_IMAGE_MAX_SIDE || side_h > GAN_IMAGE_MAX_SIDE) rc = decode_error(path, "too large", err);
        else if (*w == 0 || side_h == 0) rc = decode_error(path, "zero-sized image", err);
        else *h = (int)side_h;
    }
    free(bytes);
    return rc;
}

// The image's pixels, interleaved with the *comp channels it has, or NULL with err.
static uint8_t *decode(const char *path, int *w, int *h, int *comp, gan_err *err) {
    FILE *f = open_image(path, err);
    if (!f) return NULL;
    size_t n = 0;
    unsigned char *bytes = slurp(f, &n);  // from memory, as probe reads: every format check starts at byte 0
    fclose(f);
    uint8_t *px = bytes && n <= INT_MAX ? stbi_load_from_memory(bytes, (int)n, w, h, comp, 0) : NULL;
    free(bytes);
    if (!px) {
        decode_error(path, !bytes ? (n == 0 ? "empty or unreadable file" : "out of memory")
                           : n > INT_MAX ? "file larger than 2 GiB" : stbi_failure_reason(), err);
    } else if (*w < 1 || *h < 1) {
        // stb_image 2.27 decodes a BMP of height 0 as an image of no pixels (found by fuzz_image).
        decode_error(path, "zero-sized image", err);
        stbi_image_free(px);
        px = NULL;
    }
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

int gan_folder_load(const char *dir, int64_t limit, int channels, int resolution, bool skip_bad, int num_classes,
                    gan_dataset *ds, gan_err *err) {
    path_list files = {0};
    if (list_images(dir, &files, err) != 0) {
        list_free(&files);
        return -1;
    }
    if (files.n == 0)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: no images (.png .jpg .jpeg .bmp .ppm .pgm) in this folder", dir);
    qsort(files.paths, (size_t)files.n, sizeof(char *), cmp_path);
    int64_t n = limit > 0 && limit < files.n ? limit : files.n;

    int *comp = gan_xcalloc((size_t)n, sizeof(int), "the images' channel counts");
    int h = resolution, w = resolution;
    first_failure ff = {.index = n};
    // With skip_bad: the images left out, and the first of them with its reason.
    bool *bad = gan_xcalloc((size_t)n, sizeof(bool), "the undecodable images");
    first_failure fs = {.index = n};
    if (channels == 0 || resolution == 0) {
        // Header pass: decides the channels and checks that native sizes agree before any
        // pixel memory is committed.
        int64_t *dims = gan_xmalloc(sizeof(int64_t) * 2 * (size_t)n, "the images' sizes");
#pragma omp parallel for schedule(dynamic, 16)
        for (int64_t i = 0; i < n; i++) {
            int iw = 0, ih = 0;
            gan_err e;
            if (probe(files.paths[i], &iw, &ih, &comp[i], &e) != 0) {
                note_failure(skip_bad ? &fs : &ff, i, &e);
                bad[i] = true;
                continue;
            }
            dims[2 * i] = ih;
            dims[2 * i + 1] = iw;
        }
        int64_t first_good = 0;
        while (first_good < n && bad[first_good]) first_good++;
        if (ff.index == n && resolution == 0 && first_good < n) {
            h = (int)dims[2 * first_good];
            w = (int)dims[2 * first_good + 1];
            for (int64_t i = first_good + 1; i < n; i++) {
                if (bad[i] || (dims[2 * i] == h && dims[2 * i + 1] == w)) continue;
                gan_errf(&ff.err, GAN_EXIT_RUNTIME,
                         "%s: image is %lldx%lld but %s is %dx%d; images of mixed sizes need "
                         "model.resolution set so that they are resized",
                         files.paths[i], (long long)dims[2 * i + 1], (long long)dims[2 * i],
                         files.paths[first_good], w, h);
                ff.index = i;
                break;
            }
        }
        if (ff.index == n && channels == 0) {
            channels = 1;
            for (int64_t i = 0; i < n; i++)
                if (!bad[i] && comp[i] > 2) channels = 3;
        }
        free(dims);
    }

    uint8_t *px = NULL;
    int64_t image_bytes = (int64_t)channels * h * w, good = 0;
    for (int64_t i = 0; i < n; i++) good += !bad[i];
    if (ff.index == n && good == 0)
        gan_errf(&ff.err, GAN_EXIT_RUNTIME, "%s: none of its %lld images can be decoded (data.skip_bad); the first: %s",
                 dir, (long long)n, fs.err.msg), ff.index = 0;
    if (ff.index == n) {
        px = gan_dataset_alloc_pixels(dir, n, channels, h, w, &ff.err);
        if (!px) ff.index = 0;  // the folder's failure, not a file's: it is reported as it is
    }
    if (px) {
#pragma omp parallel for schedule(dynamic, 4)
        for (int64_t i = 0; i < n; i++) {
            if (bad[i]) continue;
            int iw, ih;
            gan_err e;
            uint8_t *img = decode(files.paths[i], &iw, &ih, &comp[i], &e);
            if (!img) {
                note_failure(skip_bad ? &fs : &ff, i, &e);
                bad[i] = true;
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
    // The good images close ranks, in their order.
    int64_t kept = 0;
    for (int64_t i = 0; px && ff.index == n && i < n; i++) {
        if (bad[i]) continue;
        if (kept != i) memmove(px + kept * image_bytes, px + i * image_bytes, (size_t)image_bytes);
        // The kept paths close ranks too (swapped, so that list_free still frees them all).
        char *p = files.paths[kept];
        files.paths[kept] = files.paths[i];
        files.paths[i] = p;
        comp[kept++] = comp[i];
    }
    if (ff.index == n && kept == 0)
        gan_errf(&ff.err, GAN_EXIT_RUNTIME, "%s: none of its %lld images can be decoded (data.skip_bad); the first: %s",
                 dir, (long long)n, fs.err.msg), ff.index = 0;
    uint8_t *labels = NULL;
    if (ff.index == n && num_classes > 0) {
        labels = gan_xmalloc((size_t)kept, "the images' classes");
        if (gan_folder_classes(dir, files.paths, kept, num_classes, labels, &ff.err) != 0) ff.index = 0;
    }
    int rc = 0;
    if (ff.index < n) {
        free(labels);
        if (err) *err = ff.err;
        free(px);
        rc = -1;
    } else {
        int src = 0;
        for (int64_t i = 0; i < kept; i++) src = comp[i] > src ? comp[i] : src;
        ds->skipped = n - kept;
        if (fs.index < n) snprintf(ds->first_skipped, sizeof ds->first_skipped, "%s", fs.err.msg);
        ds->pixels = px;
        ds->n = kept;
        ds->c = channels;
        ds->h = h;
        ds->w = w;
        ds->src_channels = src;
        ds->labels = labels;
    }
    free(comp);
    free(bad);
    list_free(&files);
    return rc;
}
