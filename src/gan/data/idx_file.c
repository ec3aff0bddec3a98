#include "idx_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

const char *gan_idx_type_name(unsigned t) {
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

int64_t gan_idx_read(gzFile f, uint8_t *dst, int64_t n) {
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

void gan_idx_close_reason(gzFile f, char *buf, size_t size) {
    int code;
    const char *msg = gzerror(f, &code);
    if (code == Z_OK || code == Z_STREAM_END || !msg || !*msg) buf[0] = '\0';
    else snprintf(buf, size, ": %s", msg);
    gzclose(f);
}

// What a file with this magic holds, for messages.
static const char *magic_content(uint32_t magic) {
    return magic == GAN_IDX_IMAGES ? "3 dims: N x H x W images" : "1 dim: N labels";
}

static const char *magic_hint(uint32_t found) {
    if (found == GAN_IDX_LABELS) return "; this looks like a label file";
    if (found == GAN_IDX_IMAGES) return "; this looks like an image file";
    return "";
}

gzFile gan_idx_open(const char *path, uint32_t magic, int64_t *dims, gan_err *err) {
    const int ndim = (int)(magic & 0xff);
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        return NULL;
    }
    unsigned char head[4 + 4 * 4];
    int64_t got = gan_idx_read(f, head, 4);
    if (got < 4) {
        char why[300];
        gan_idx_close_reason(f, why, sizeof why);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated IDX header: expected 4 magic bytes, got %lld%s", path,
                 (long long)got, why);
        return NULL;
    }
    uint32_t found = be32(head);
    if (found != magic) {
        const char *type = head[0] == 0 && head[1] == 0 ? gan_idx_type_name(head[2]) : NULL;
        gzclose(f);
        if (type)
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: wrong IDX magic 0x%08x (%s, %u dims), expected 0x%08x (unsigned byte, %s)%s",
                     path, found, type, head[3], magic, magic_content(magic), magic_hint(found));
        else
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: wrong magic 0x%08x, expected IDX 0x%08x (unsigned byte, %s)", path,
                     found, magic, magic_content(magic));
        return NULL;
    }
    got = gan_idx_read(f, head + 4, 4 * ndim);
    if (got < 4 * ndim) {
        char why[300];
        gan_idx_close_reason(f, why, sizeof why);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated IDX header: expected %d bytes, got %lld%s", path, 4 + 4 * ndim,
                 (long long)(4 + got), why);
        return NULL;
    }
    for (int i = 0; i < ndim; i++) dims[i] = be32(head + 4 + 4 * i);
    return f;
}
