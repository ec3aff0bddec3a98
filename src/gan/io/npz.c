#include "npz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "alloc.h"
#include "fsutil.h"

// Little-endian fields of the zip format (APPNOTE.TXT): the end of central directory record,
// central directory entries and local file headers.
#define EOCD_SIG 0x06054b50u
#define CENTRAL_SIG 0x02014b50u
#define LOCAL_SIG 0x04034b50u

static uint32_t le(const unsigned char *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

// The member's bytes, uncompressed, into *out (malloc'd).
static int member(const char *path, const unsigned char *zip, size_t size, const char *want, unsigned char **out,
                  size_t *out_size, gan_err *err) {
    // The end record is the last 22 bytes, unless the archive has a comment (up to 64 KiB).
    size_t eocd = 0;
    bool found = false;
    for (size_t back = 22; back <= size && back <= 22 + 65535 && !found; back++)
        if (le(zip + size - back, 4) == EOCD_SIG) eocd = size - back, found = true;
    if (!found) return gan_errf(err, GAN_EXIT_USAGE, "%s: not an .npz (zip) archive", path);
    const uint32_t entries = le(zip + eocd + 10, 2), cd_size = le(zip + eocd + 12, 4), cd = le(zip + eocd + 16, 4);
    if (cd == 0xffffffffu || (uint64_t)cd + cd_size > size)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: a damaged or zip64 .npz archive", path);
    size_t at = cd;
    for (uint32_t e = 0; e < entries; e++) {
        if (at + 46 > size || le(zip + at, 4) != CENTRAL_SIG)
            return gan_errf(err, GAN_EXIT_USAGE, "%s: damaged .npz archive (central directory)", path);
        const uint32_t method = le(zip + at + 10, 2), csize = le(zip + at + 20, 4), usize = le(zip + at + 24, 4);
        const uint32_t nlen = le(zip + at + 28, 2), xlen = le(zip + at + 30, 2), clen = le(zip + at + 32, 2);
        const uint32_t local = le(zip + at + 42, 4);
        const char *name = (const char *)zip + at + 46;
        at += 46 + (size_t)nlen + xlen + clen;
        if (at > size) return gan_errf(err, GAN_EXIT_USAGE, "%s: damaged .npz archive (central directory)", path);
        if (nlen != strlen(want) || memcmp(name, want, nlen)) continue;
        if ((uint64_t)local + 30 > size || le(zip + local, 4) != LOCAL_SIG)
            return gan_errf(err, GAN_EXIT_USAGE, "%s: damaged .npz archive (member %s)", path, want);
        const size_t data = (size_t)local + 30 + le(zip + local + 26, 2) + le(zip + local + 28, 2);
        if (csize == 0xffffffffu || usize == 0xffffffffu || (uint64_t)data + csize > size)
            return gan_errf(err, GAN_EXIT_USAGE, "%s: member %s is damaged or zip64", path, want);
        if (method != 0 && method != 8)
            return gan_errf(err, GAN_EXIT_USAGE, "%s: member %s: compressed with a method other than deflate", path,
                            want);
        // The uncompressed size is the archive's claim, and sizes the buffer: it must be one the
        // member's bytes can make, its own size when stored, at most deflate's 1032:1 when
        // deflated (an 8-byte member claiming 4 GiB was found by fuzz_npz).
        if ((method == 0 && usize != csize) || (method == 8 && usize > (uint64_t)csize * 1032 + 64))
            return gan_errf(err, GAN_EXIT_USAGE, "%s: member %s: damaged data (it claims %u bytes from %u)", path,
                            want, usize, csize);
        *out = gan_xmalloc(usize ? usize : 1, "an .npz member");
        *out_size = usize;
        if (method == 0) {
            memcpy(*out, zip + data, usize);
            return 0;
        }
        z_stream z = {0};  // raw deflate
        z.next_in = (unsigned char *)zip + data;
        z.avail_in = csize;
        z.next_out = *out;
        z.avail_out = usize;
        int rc = inflateInit2(&z, -MAX_WBITS);
        if (rc == Z_OK) rc = inflate(&z, Z_FINISH);
        inflateEnd(&z);
        if (rc == Z_STREAM_END && z.total_out == usize) return 0;
        free(*out);
        return gan_errf(err, GAN_EXIT_USAGE, "%s: member %s: damaged data", path, want);
    }
    return gan_errf(err, GAN_EXIT_USAGE, "%s: no array '%s' in the archive", path, want);
}

int gan_npz_read_f64(const char *path, const char *name, int *ndim, int64_t shape[GAN_NPY_MAX_DIMS], double **data,
                     gan_err *err) {
    char *zip;
    size_t size;
    if (gan_fs_read_all(path, &zip, &size, err) != 0) return -1;
    char want[256], what[GAN_PATH_MAX + 300];
    snprintf(want, sizeof want, "%s.npy", name);
    snprintf(what, sizeof what, "%s:%s", path, want);
    unsigned char *bytes = NULL;
    size_t nbytes = 0;
    int rc = member(path, (const unsigned char *)zip, size, want, &bytes, &nbytes, err);
    free(zip);
    if (rc != 0) return -1;
    FILE *f = fmemopen(bytes, nbytes ? nbytes : 1, "rb");
    if (!f) {
        free(bytes);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot read the member", what);
    }
    static const char *const floats[] = {"<f4", "<f8", NULL};
    char descr[NPY_DESCR_MAX];
    void *raw = NULL;
    int nd = 0;
    int64_t shp[GAN_NPY_MAX_DIMS];
    rc = gan_npy_read_stream(f, what, nbytes, floats, "'<f4' or '<f8' (float32 or float64)", descr, &nd, shp, &raw,
                             err);
    fclose(f);
    free(bytes);
    if (rc != 0) return -1;
    int64_t count = 1;
    for (int i = 0; i < nd; i++) count *= shp[i];
    double *out = gan_xmalloc((size_t)(count ? count : 1) * sizeof *out, "an .npz array");
    if (!strcmp(descr, "<f8")) {
        memcpy(out, raw, (size_t)count * sizeof *out);
    } else {
        const float *in = raw;
        for (int64_t i = 0; i < count; i++) out[i] = in[i];
    }
    free(raw);
    *ndim = nd;
    memcpy(shape, shp, (size_t)nd * sizeof *shape);
    *data = out;
    return 0;
}
