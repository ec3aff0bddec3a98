// A reader for the flat JSON lines gan writes (metrics_table.h); not a general JSON parser.
#include "metrics_table.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

// A JSON string at p (the opening quote): its contents, unescaped only as far as keys need
// (gan's keys are plain), into out; returns the position after the closing quote, or NULL.
static const char *read_string(const char *p, const char *end, char *out, size_t size) {
    size_t n = 0;
    for (p++; p < end && *p != '"'; p++) {
        if (*p == '\\') {
            if (++p >= end) return NULL;
            if (*p == 'u') p += 4 <= end - p - 1 ? 4 : 0;  // an escaped code point: not in a key of ours
        }
        if (out && n + 1 < size) out[n++] = *p;
    }
    if (out && size) out[n] = '\0';
    return p < end ? p + 1 : NULL;
}

static int column(gan_metrics_table *t, const char *name) {
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name)) return i;
    if (t->ncols == GAN_METRICS_MAX_COLS) return -1;
    gan_metrics_col *c = &t->cols[t->ncols];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->v = gan_xmalloc((size_t)(t->cap ? t->cap : 1) * sizeof *c->v, "a metrics column");
    for (int64_t r = 0; r < t->rows; r++) c->v[r] = NAN;  // rows before the key first appeared
    return t->ncols++;
}

static void grow(gan_metrics_table *t) {
    if (t->rows < t->cap) return;
    int64_t cap = t->cap ? t->cap * 2 : 1024;
    for (int i = 0; i < t->ncols; i++) {
        double *v = realloc(t->cols[i].v, (size_t)cap * sizeof *v);
        GAN_CHECK(v, "out of memory reading metrics (%lld rows)", (long long)cap);
        t->cols[i].v = v;
    }
    t->cap = cap;
}

// One line (without its newline) as row t->rows; false (nothing added) when it does not parse.
static bool parse_line(gan_metrics_table *t, const char *p, const char *end) {
    enum { MAXF = GAN_METRICS_MAX_COLS };
    int idx[MAXF];
    double val[MAXF];
    int nf = 0;
    p = skip_ws(p, end);
    if (p == end || *p != '{') return false;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') return skip_ws(p + 1, end) == end && (grow(t), t->rows++, true);
    for (;;) {
        char key[GAN_METRICS_KEY_MAX];
        if (p == end || *p != '"' || !(p = read_string(p, end, key, sizeof key))) return false;
        p = skip_ws(p, end);
        if (p == end || *p != ':') return false;
        p = skip_ws(p + 1, end);
        double v = NAN;
        if (p < end && *p == '"') {
            if (!(p = read_string(p, end, NULL, 0))) return false;
        } else if (end - p >= 4 && !memcmp(p, "null", 4)) {
            p += 4;
        } else if (end - p >= 4 && !memcmp(p, "true", 4)) {
            p += 4, v = 1;
        } else if (end - p >= 5 && !memcmp(p, "false", 5)) {
            p += 5, v = 0;
        } else {
            // strtod stops at the ',' or '}' after the number (the line is not NUL-terminated
            // there, but a number never runs into the next line: a '\n' ends it).
            if (p == end || *p == '\n' || *p == '\f' || *p == '\v') return false;  // strtod would skip them
            char *q;
            v = strtod(p, &q);
            if (q == p || q > end) return false;
            p = q;
        }
        if (nf < MAXF) {
            int c = column(t, key);
            if (c >= 0) idx[nf] = c, val[nf++] = v;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}' && skip_ws(p + 1, end) == end) break;
        return false;
    }
    grow(t);
    for (int i = 0; i < t->ncols; i++) t->cols[i].v[t->rows] = NAN;
    for (int i = 0; i < nf; i++) t->cols[idx[i]].v[t->rows] = val[i];
    t->rows++;
    return true;
}

void gan_metrics_parse(const char *text, size_t size, gan_metrics_table *t) {
    memset(t, 0, sizeof *t);
    const char *p = text, *end = text + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {  // the last line has no newline yet: being written, or torn
            t->skipped++;
            break;
        }
        if (nl > p && !parse_line(t, p, nl)) t->skipped++;
        p = nl + 1;
    }
}

int gan_metrics_read(const char *path, gan_metrics_table *t, gan_err *err) {
    memset(t, 0, sizeof *t);
    if (!gan_fs_exists(path)) return 0;
    char *text;
    size_t size;
    if (gan_fs_read_all(path, &text, &size, err) != 0) return -1;
    gan_metrics_parse(text, size, t);
    free(text);
    return 0;
}

const gan_metrics_col *gan_metrics_find(const gan_metrics_table *t, const char *name) {
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name)) return &t->cols[i];
    return NULL;
}

void gan_metrics_free(gan_metrics_table *t) {
    for (int i = 0; i < t->ncols; i++) free(t->cols[i].v);
    memset(t, 0, sizeof *t);
}
