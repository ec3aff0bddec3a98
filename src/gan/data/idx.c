// IDX image files (LeCun's MNIST format): 4-byte magic 0x00000803 (unsigned bytes, 3 dims), the
// dims as big-endian uint32 (N, H, W), then N*H*W pixels. zlib's gzread reads plain files
// unchanged, so one path handles both .gz and uncompressed files.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "alloc.h"
#include "sources.h"

#define IDX_MAGIC_U8_3D 0x00000803u

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const char *idx_type_name(unsigned t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
    }
}

// Reads up to n bytes; returns how many arrived (short only at end of data or on error).
static int64_t gz_read_full(gzFile f, uint8_t *dst, int64_t n) {
    int64_t got = 0;
    while (got < n) {
        int64_t want = n - got;
        if (want > (1 << 30)) want = 1 << 30;
        int r = gzread(f, dst + got, (unsigned)want);
        if (r <= 0) break;
        got += r;
    }
    return got;
}

// Closes f and leaves in buf ": <zlib reason>" for a short read, or "" at a clean end of data
// (the reason lives in f, so it is copied before closing).
static void gz_close_reason(gzFile f, char *buf, size_t size) {
    int code;
    const char *msg = gzerror(f, &code);
    if (code == Z_OK || code == Z_STREAM_END || !msg || !*msg) buf[0] = '\0';
    else snprintf(buf, size, ": %s", msg);
    gzclose(f);
}

bool gan_idx_sniff(const char *path) {
    gzFile f = gzopen(path, "rb");
    if (!f) return false;
    unsigned char b[4];
    int64_t got = gz_read_full(f, b, 4);
    gzclose(f);
    return got == 4 && b[0] == 0 && b[1] == 0 && idx_type_name(b[2]) && b[3] >= 1 && b[3] <= 4;
}

int gan_idx_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err) {
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path,
                            errno ? strerror(errno) : "out of memory");
    unsigned char head[16];
    int64_t got = gz_read_full(f, head, 4);
    if (got < 4) {
        char why[300];
        gz_close_reason(f, why, sizeof why);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated IDX header: expected 4 magic bytes, got %lld%s",
                        path, (long long)got, why);
    }
    uint32_t magic = be32(head);
    if (magic != IDX_MAGIC_U8_3D) {
        const char *type = head[0] == 0 && head[1] == 0 ? idx_type_name(head[2]) : NULL;
        gzclose(f);
        if (type)
            return gan_errf(err, GAN_EXIT_RUNTIME,
                            "%s: wrong IDX magic 0x%08x (%s, %u dims), expected 0x%08x (unsigned byte, "
                            "3 dims: N x H x W images)%s",
                            path, magic, type, head[3], IDX_MAGIC_U8_3D,
                            magic == 0x00000801u ? "; this looks like a label file" : "");
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: wrong magic 0x%08x, expected IDX images 0x%08x (unsigned byte, 3 dims)",
                        path, magic, IDX_MAGIC_U8_3D);
    }
    got = gz_read_full(f, head + 4, 12);
    if (got < 12) {
        char why[300];
        gz_close_reason(f, why, sizeof why);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated IDX header: expected 16 bytes, got %lld%s",
                        path, (long long)(4 + got), why);
    }
    int64_t n = be32(head + 4), h = be32(head + 8), w = be32(head + 12);
    if (n == 0 || h == 0 || w == 0 || h > 65536 || w > 65536) {
        gzclose(f);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: implausible IDX dims %lld x %lld x %lld", path,
                        (long long)n, (long long)h, (long long)w);
    }
    if (limit > 0 && limit < n) n = limit;
    int64_t bytes = n * h * w;
    uint8_t *px = gan_xmalloc((size_t)bytes, "the dataset's pixels");
    got = gz_read_full(f, px, bytes);
    if (got < bytes) {
        char reason[300];
        gz_close_reason(f, reason, sizeof reason);
        free(px);
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: truncated: expected %lld bytes of images (%lld x %lld x %lld), got %lld%s",
                        path, (long long)bytes, (long long)n, (long long)h, (long long)w, (long long)got,
                        reason);
    }
    gzclose(f);
    ds->pixels = px;
    ds->n = n;
    ds->c = ds->src_channels = 1;
    ds->h = (int)h;
    ds->w = (int)w;
    return 0;
}
