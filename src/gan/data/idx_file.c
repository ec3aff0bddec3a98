#include "idx_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"

// A gzip stream's buffer in gan_idx_read_claimed starts at this many bytes and doubles.
#define CLAIMED_CHUNK (INT64_C(1) << 24)

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

bool gan_idx_corrupt(gzFile f) {
    int code;
    gzerror(f, &code);
    return code == Z_DATA_ERROR;
}

// Why the data ended early. False for a cut file (zlib's "unexpected end of file", or a plain
// file's end); true, with the reason in buf, when zlib found data it cannot decompress ("not valid
// gzip data (zlib: ...)") or reading failed ("read error (...)"). zlib's message starts with
// "<path>: ", which the caller's message already has.
static bool damaged(gzFile f, const char *path, char *buf, size_t size) {
    int code;
    const char *msg = gzerror(f, &code);
    size_t n = strlen(path);
    if (msg && strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0) msg += n + 2;
    if (!msg || !*msg) msg = "no reason given";
    if (code == Z_DATA_ERROR) snprintf(buf, size, "not valid gzip data (zlib: %s)", msg);
    else if (code == Z_ERRNO) snprintf(buf, size, "read error (%s)", msg);
    return code == Z_DATA_ERROR || code == Z_ERRNO;
}

int gan_idx_fail_short(gzFile f, const char *path, const char *claim, const char *held, gan_err *err) {
    char kind[300];
    const bool bad = damaged(f, path, kind, sizeof kind);
    gzclose(f);
    if (!bad)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: truncated: expected %s, as its IDX header claims; got %s, all the file holds", path,
                        claim, held);
    // zlib drops the count of a read that ends in an error, so what arrived before it is unknown.
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s in the data after the IDX header (which claims %s)", path, kind,
                    claim);
}

uint8_t *gan_idx_read_claimed(gzFile f, const char *path, int64_t want, int64_t *got, const char *what) {
    int64_t cap = want < CLAIMED_CHUNK ? want : CLAIMED_CHUNK;
    bool grow = true;
    struct stat st;
    if (gzdirect(f) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        const int64_t left = (int64_t)st.st_size - (int64_t)gztell(f);
        cap = want < left ? want : left > 0 ? left : 0;
        grow = false;
    }
    uint8_t *buf = gan_xmalloc((size_t)cap, what);
    int64_t have = gan_idx_read(f, buf, cap);
    while (grow && have == cap && cap < want) {
        cap = cap > want / 2 ? want : 2 * cap;
        buf = gan_xrealloc(buf, (size_t)cap, what);
        have += gan_idx_read(f, buf + have, cap - have);
    }
    *got = have;
    return buf;
}

// The header ended early: cut, or not valid gzip data.
static gzFile header_short(gzFile f, const char *path, const char *expected, int64_t got, gan_err *err) {
    char kind[300];
    const bool bad = damaged(f, path, kind, sizeof kind);
    gzclose(f);
    if (!bad)
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated IDX header: expected %s, got %lld", path, expected,
                 (long long)got);
    else
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s in the IDX header", path, kind);
    return NULL;
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
    if (got < 4) return header_short(f, path, "4 magic bytes", got, err);
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
        char expected[32];
        snprintf(expected, sizeof expected, "%d bytes", 4 + 4 * ndim);
        return header_short(f, path, expected, 4 + got, err);
    }
    for (int i = 0; i < ndim; i++) dims[i] = be32(head + 4 + 4 * i);
    return f;
}
