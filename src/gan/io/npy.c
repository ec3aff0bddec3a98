#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"

// The data is copied to and from memory as is, which is '<f4' only on a little-endian host.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
enum {
    NPY_ALIGN = 64,              // numpy pads magic + length + header to a multiple of this
    NPY_GROWTH_DIGITS = 21,      // numpy leaves room for the first dim to grow to this many digits
    NPY_MAX_HEADER = 1 << 20,    // far above any real header; guards the allocation
};

// "(2, 3)", "(5,)" or "()": Python's repr of the shape tuple, which is what the header holds.
static void shape_repr(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (n < size) snprintf(buf + n, size - n, ndim == 1 ? ",)" : ")");
}

// ---------------------------------------------------------------------------------------------
// Writing

int gan_npy_write_f32(const char *path, int ndim, const int64_t *shape, const float *data,
                      gan_err *err) {
    GAN_CHECK(ndim >= 0 && ndim <= GAN_NPY_MAX_DIMS, "gan_npy_write_f32: ndim %d not in 0..%d",
              ndim, GAN_NPY_MAX_DIMS);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        GAN_CHECK(shape[i] >= 0, "gan_npy_write_f32: negative dim %lld", (long long)shape[i]);
        count *= (size_t)shape[i];
    }
    GAN_CHECK(count == 0 || data, "gan_npy_write_f32: NULL data for %zu elements", count);

    char shp[GAN_NPY_MAX_DIMS * 24 + 8];
    shape_repr(shp, sizeof shp, ndim, shape);
    // numpy.save's exact header: the dict with sorted keys, spare spaces after it, then spaces
    // and a newline up to the alignment (a full NPY_ALIGN of them when already aligned).
    char hdr[512];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shp);
    if (ndim > 0) {
        char first[24];
        int growth = NPY_GROWTH_DIGITS - snprintf(first, sizeof first, "%lld", (long long)shape[0]);
        len += snprintf(hdr + len, sizeof hdr - (size_t)len, "%*s", growth, "");
    }
    int hlen = len + 1;  // with the newline
    int padlen = NPY_ALIGN - (10 + hlen) % NPY_ALIGN;
    len += snprintf(hdr + len, sizeof hdr - (size_t)len, "%*s\n", padlen, "");
    unsigned char pre[10];
    memcpy(pre, npy_magic, 6);
    pre[6] = 1;  // version 1.0
    pre[7] = 0;
    pre[8] = (unsigned char)(len & 0xff);
    pre[9] = (unsigned char)(len >> 8);

    char tmp[GAN_PATH_MAX];
    gan_fs_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fwrite(pre, 1, sizeof pre, f) != sizeof pre ||
              fwrite(hdr, 1, (size_t)len, f) != (size_t)len ||
              (count && fwrite(data, sizeof(float), count, f) != count) || fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: write failed: %s", path, strerror(e));
    }
    return gan_fs_commit(tmp, path, err);
}

// ---------------------------------------------------------------------------------------------
// Header parsing: the header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// with the three keys in any order.

typedef struct {
    const char *path;
    const char *s, *end;
    gan_err *err;
} cursor;

static void skip_ws(cursor *c) {
    while (c->s < c->end && isspace((unsigned char)*c->s)) c->s++;
}

static int malformed(cursor *c, const char *expected) {
    char near[24];
    size_t n = 0;
    for (const char *p = c->s; p < c->end && n < 16; p++) near[n++] = isprint((unsigned char)*p) ? *p : '?';
    near[n] = '\0';
    return gan_errf(c->err, GAN_EXIT_RUNTIME,
                    "%s: malformed .npy header: expected %s at \"%s\"; not a file from numpy.save?",
                    c->path, expected, n ? near : "<end of header>");
}

static int expect(cursor *c, char ch, const char *what) {
    skip_ws(c);
    if (c->s >= c->end || *c->s != ch) return malformed(c, what);
    c->s++;
    return 0;
}

// A quoted Python string without escapes (none of the header's strings need them).
static int parse_str(cursor *c, char *out, size_t size) {
    skip_ws(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return malformed(c, "a quoted string");
    char q = *c->s++;
    size_t n = 0;
    while (c->s < c->end && *c->s != q) {
        if (n + 1 >= size || *c->s == '\\') return malformed(c, "a short string without escapes");
        out[n++] = *c->s++;
    }
    if (c->s >= c->end) return malformed(c, "a closing quote");
    c->s++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(cursor *c, int *out) {
    skip_ws(c);
    size_t left = (size_t)(c->end - c->s);
    if (left >= 4 && memcmp(c->s, "True", 4) == 0) { *out = 1; c->s += 4; return 0; }
    if (left >= 5 && memcmp(c->s, "False", 5) == 0) { *out = 0; c->s += 5; return 0; }
    return malformed(c, "True or False");
}

// "(2, 3)", "(5,)", "()"; a trailing L (Python 2 longs, in old files) is allowed.
static int parse_shape(cursor *c, int *ndim, int64_t *shape) {
    if (expect(c, '(', "'(' opening the shape tuple") != 0) return -1;
    int n = 0;
    for (;;) {
        skip_ws(c);
        if (c->s < c->end && *c->s == ')') break;
        if (c->s >= c->end || !isdigit((unsigned char)*c->s))
            return malformed(c, "a non-negative integer dimension");
        int64_t v = 0;
        while (c->s < c->end && isdigit((unsigned char)*c->s)) {
            int d = *c->s++ - '0';
            if (v > (INT64_MAX - d) / 10) return malformed(c, "a dimension that fits in 64 bits");
            v = v * 10 + d;
        }
        if (c->s < c->end && *c->s == 'L') c->s++;
        if (n == GAN_NPY_MAX_DIMS)
            return gan_errf(c->err, GAN_EXIT_RUNTIME,
                            "%s: array has more than %d dimensions; at most %d are supported",
                            c->path, GAN_NPY_MAX_DIMS, GAN_NPY_MAX_DIMS);
        shape[n++] = v;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') c->s++;
        else if (c->s < c->end && *c->s == ')') break;
        else return malformed(c, "',' or ')' in the shape tuple");
    }
    c->s++;
    *ndim = n;
    return 0;
}

// "float64" for "<f8": what a user would call the dtype they saved.
static const char *dtype_name(const char *descr, char *buf, size_t size) {
    const char *kinds = "f:float i:int u:uint c:complex b:bool U:str S:bytes O:object M:datetime m:timedelta V:void";
    if (strlen(descr) < 2) return "unknown dtype";
    char order = descr[0], kind = descr[1];
    const char *name = NULL;
    for (const char *k = kinds; *k; k++)
        if (k[0] == kind && k[1] == ':' && (k == kinds || k[-1] == ' ')) {
            name = k + 2;
            break;
        }
    if (!name) return "unknown dtype";
    size_t nlen = strcspn(name, " ");
    // The header is outside text: strtol saturates at LONG_MAX, and no numeric dtype is wider
    // than 32 bytes (complex256), so a larger size is shown by kind alone, never multiplied.
    long bytes = strtol(descr + 2, NULL, 10);
    const char *endian = order == '>' ? "big-endian " : "";
    if (strchr("fiuc", kind) && bytes > 0 && bytes <= 32)
        snprintf(buf, size, "%s%.*s%ld", endian, (int)nlen, name, bytes * 8);
    else
        snprintf(buf, size, "%.*s", (int)nlen, name);
    return buf;
}

// Parses the header dict; descr gets the dtype (one of `accept`, else an error naming what
// was expected: `accept_text`).
static int parse_header(const char *path, const char *hdr, size_t len, int *ndim, int64_t *shape,
                        const char *const *accept, const char *accept_text, char *descr, gan_err *err) {
    cursor c = {path, hdr, hdr + len, err};
    char key[32];
    descr[0] = '\0';
    int fortran = 0, have_descr = 0, have_fortran = 0, have_shape = 0;
    if (expect(&c, '{', "'{' opening the header dict") != 0) return -1;
    for (;;) {
        skip_ws(&c);
        if (c.s < c.end && *c.s == '}') break;
        if (parse_str(&c, key, sizeof key) != 0) return -1;
        if (expect(&c, ':', "':' after a key") != 0) return -1;
        int *seen = !strcmp(key, "descr") ? &have_descr
                  : !strcmp(key, "fortran_order") ? &have_fortran
                  : !strcmp(key, "shape") ? &have_shape : NULL;
        if (!seen)
            return gan_errf(err, GAN_EXIT_RUNTIME,
                            "%s: malformed .npy header: unexpected key '%s' (expected 'descr', "
                            "'fortran_order' and 'shape')", path, key);
        if (*seen)
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s: malformed .npy header: key '%s' appears twice",
                            path, key);
        *seen = 1;
        int rc;
        if (seen == &have_descr) {
            skip_ws(&c);
            if (c.s < c.end && *c.s == '[')
                return gan_errf(err, GAN_EXIT_RUNTIME,
                                "%s: unsupported dtype: got a structured dtype; expected %s; save a "
                                "plain array", path, accept_text);
            rc = parse_str(&c, descr, NPY_DESCR_MAX);
        } else if (seen == &have_fortran) {
            rc = parse_bool(&c, &fortran);
        } else {
            rc = parse_shape(&c, ndim, shape);
        }
        if (rc != 0) return -1;
        skip_ws(&c);
        if (c.s < c.end && *c.s == ',') c.s++;
        else if (!(c.s < c.end && *c.s == '}')) return malformed(&c, "',' or '}' after a value");
    }
    c.s++;
    skip_ws(&c);
    if (c.s != c.end) return malformed(&c, "only spaces after the header dict");
    if (!have_descr || !have_fortran || !have_shape)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: malformed .npy header: missing key '%s'", path,
                        !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    bool known = false;
    for (int i = 0; accept[i]; i++) known |= !strcmp(descr, accept[i]);
    if (!known) {
        char name[48];
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: unsupported dtype: got '%s' (%s); expected %s", path, descr,
                        dtype_name(descr, name, sizeof name), accept_text);
    }
    if (fortran)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: array is in Fortran order (fortran_order: True); expected C order; "
                        "save numpy.ascontiguousarray(x)", path);
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Reading

static uint32_t le_u32(const unsigned char *p, int nbytes) {
    uint32_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

int gan_npy_read_stream(FILE *f, const char *path, size_t fsize, const char *const *accept, const char *accept_text,
                        char descr[NPY_DESCR_MAX], int *ndim, int64_t *shape, void **data, gan_err *err) {
    unsigned char pre[12];
    if (fsize < 10 || fread(pre, 1, 10, f) != 10)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a .npy file: only %zu bytes, shorter than "
                        "the 10-byte preamble", path, fsize);
    if (memcmp(pre, npy_magic, 6) != 0) {
        if (memcmp(pre, "PK\x03\x04", 4) == 0)
            return gan_errf(err, GAN_EXIT_RUNTIME,
                            "%s: not a .npy file: this is a zip archive (.npz?); save one array "
                            "with numpy.save instead", path);
        char got[32];
        size_t n = 0;
        for (int i = 0; i < 6; i++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%02x", i ? " " : "", pre[i]);
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: not a .npy file: bad magic: got bytes %s, expected 93 4e 55 4d 50 59 "
                        "(\"\\x93NUMPY\")", path, got);
    }
    int major = pre[6], minor = pre[7];
    if (!((major == 1 || major == 2) && minor == 0))
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: unsupported .npy format version %d.%d; expected 1.0 or 2.0", path,
                        major, minor);
    size_t pre_len = major == 1 ? 10 : 12;
    if (major == 2 && (fsize < 12 || fread(pre + 10, 1, 2, f) != 2))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated .npy file: %zu bytes, shorter than "
                        "the 12-byte version 2.0 preamble", path, fsize);
    size_t hlen = le_u32(pre + 8, major == 1 ? 2 : 4);
    if (hlen > NPY_MAX_HEADER)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: .npy header claims %zu bytes, more than the "
                        "%d this reader accepts; the file is damaged", path, hlen, NPY_MAX_HEADER);
    if (fsize - pre_len < hlen)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated .npy header: expected %zu bytes, "
                        "got %zu", path, hlen, fsize - pre_len);
    char *hdr = gan_xmalloc(hlen + 1, "a .npy header");
    int rc = -1;
    if (fread(hdr, 1, hlen, f) != hlen) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: read error in the .npy header", path);
        goto done;
    }
    if (parse_header(path, hdr, hlen, ndim, shape, accept, accept_text, descr, err) != 0) goto done;

    const size_t elem = (size_t)strtol(descr + 2, NULL, 10);  // '<f4' -> 4
    // The shape's byte count is checked against the file's size before anything is allocated:
    // a header cannot make the reader allocate more than the file holds.
    const size_t have = fsize - pre_len - hlen;
    char shp[GAN_NPY_MAX_DIMS * 24 + 8];
    shape_repr(shp, sizeof shp, *ndim, shape);
    bool zero = false;
    for (int i = 0; i < *ndim; i++) zero |= shape[i] == 0;
    size_t count = 1;
    for (int i = 0; i < *ndim && !zero; i++) {
        if (count > SIZE_MAX / elem / (uint64_t)shape[i]) {
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: shape %s of %s is too large to address; the file holds %zu bytes",
                     path, shp, descr, have);
            goto done;
        }
        count *= (size_t)shape[i];
    }
    size_t need = zero ? 0 : count * elem;
    if (have != need) {
        if (have < need)
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated data: shape %s of %s needs %zu "
                     "bytes, got %zu", path, shp, descr, need, have);
        else
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: %zu unexpected bytes after the data: shape %s of "
                     "%s needs %zu bytes, the file holds %zu; is the header's shape right?",
                     path, have - need, shp, descr, need, have);
        goto done;
    }
    *data = gan_xmalloc(need, "a .npy file's data");
    if (need && fread(*data, 1, need, f) != need) {
        free(*data);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: read error in the .npy data", path);
        goto done;
    }
    rc = 0;
done:
    free(hdr);
    return rc;
}

int gan_npy_read_f32(const char *path, int *ndim, int64_t shape[GAN_NPY_MAX_DIMS], float **data,
                     gan_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: not a regular file", path);
    }
    int nd = 0;
    int64_t shp[GAN_NPY_MAX_DIMS];
    void *buf = NULL;
    static const char *const f4[] = {"<f4", NULL};
    char descr[NPY_DESCR_MAX];
    int rc = gan_npy_read_stream(f, path, (size_t)st.st_size, f4,
                                 "'<f4' (float32, little-endian); save with .astype(numpy.float32)", descr, &nd, shp,
                                 &buf, err);
    fclose(f);
    if (rc != 0) return -1;
    *ndim = nd;
    memcpy(shape, shp, sizeof(int64_t) * (size_t)nd);
    *data = buf;
    return 0;
}
