// One config value: text in, checked against its key, stored in the field; and back out as the
// canonical YAML text. Numbers are strict: an integer key takes only digits (no 1.0, 1e3, 0x10),
// a float key takes integers and decimal/exponent forms (2e-4), never inf or nan, and a quoted
// "10" is a string, as YAML says, so it is no number.
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_schema.h"
#include "gan_check.h"

int gan_cfg_is_null_word(const char *t) {
    return !strcmp(t, "") || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") ||
           !strcmp(t, "NULL");
}

// Words YAML 1.1 readers (PyYAML) take as booleans: a string spelt so must be quoted on output.
static bool is_bool_word(const char *t) {
    static const char *const words[] = {"y", "n", "yes", "no", "true", "false", "on", "off"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(t, words[i])) return true;
    return false;
}

// Optional sign, then digits only. 0: *out is the value; 1: an integer beyond int64 (*out is
// INT64_MIN or INT64_MAX, the side it lies on: strtoll saturates, so ERANGE is what tells);
// -1: not an integer.
static int parse_int(const char *t, int64_t *out) {
    const char *p = t + (*t == '+' || *t == '-');
    if (!*p) return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    errno = 0;
    long long x = strtoll(t, NULL, 10);
    *out = x;
    return errno == ERANGE ? 1 : 0;
}

int gan_config_read_int(const char *what, const char *text, int64_t lo, int64_t hi, int64_t *out,
                        gan_err *err) {
    int64_t x;
    if (parse_int(text, &x) != 0 || x < lo || x > hi)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: expected an integer in [%" PRId64 ", %" PRId64 "], got '%s'",
                        what, lo, hi, gan_config_clip(text).s);
    *out = x;
    return 0;
}

// text in at most max bytes (plus "..." on the side cut), keeping its start or its end.
static gan_clipped clip(const char *text, size_t max, bool keep_end) {
    GAN_CHECK(max <= GAN_CLIP_PATH_MAX, "config: clipping to %zu bytes", max);
    gan_clipped c;
    size_t n = strlen(text), from = 0, len = n, o = 0;
    bool cut = n > max;
    // Cut at a character boundary: never inside a UTF-8 sequence (continuation bytes 10xxxxxx).
    if (cut && keep_end) {
        for (from = n - max; ((unsigned char)text[from] & 0xC0) == 0x80; from++) {}
        len = n - from;
        o = (size_t)snprintf(c.s, sizeof c.s, "...");
    } else if (cut) {
        for (len = max; len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80; len--) {}
    }
    for (size_t i = from; i < from + len; i++) {
        unsigned char ch = (unsigned char)text[i];
        c.s[o++] = ch < 0x20 || ch == 0x7F ? '?' : (char)ch;
    }
    snprintf(c.s + o, sizeof c.s - o, "%s", cut && !keep_end ? "..." : "");
    return c;
}

gan_clipped gan_config_clip(const char *text) { return clip(text, GAN_CLIP_MAX, false); }
gan_clipped gan_config_clip_path(const char *path) { return clip(path, GAN_CLIP_PATH_MAX, true); }

// [sign] (digits [. digits] | . digits) [e [sign] digits], finite and not underflowing.
static int parse_float(const char *t, double *out) {
    const char *p = t + (*t == '+' || *t == '-');
    int digits = 0;
    for (; isdigit((unsigned char)*p); p++) digits++;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++) digits++;
    if (!digits) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p) return -1;
    errno = 0;
    double x = strtod(t, NULL);
    if (errno == ERANGE || !isfinite(x)) return -1;
    *out = x == 0 ? 0.0 : x;  // no -0 in a config
    return 0;
}

// The shortest %g that reads back as exactly x.
static void format_shortest(double x, char *buf, size_t size) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

// Text a YAML reader takes back: UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates,
// nothing above U+10FFFF) of characters YAML calls printable (no C1 controls, no U+FFFE or
// U+FFFF). A value written to config.yaml must read back; an override that passed a looser check
// here (F4 9E 96 91, above U+10FFFF) made a config.yaml libyaml refused (found by fuzz_override).
static bool valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        const unsigned c = s[i];
        size_t extra;
        unsigned cp;
        if (c < 0x80) extra = 0, cp = c;
        else if (c >= 0xC2 && c <= 0xDF) extra = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) extra = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) extra = 3, cp = c & 0x07;
        else return false;
        if (i + extra >= n) return false;
        for (size_t j = 1; j <= extra; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const unsigned least[4] = {0, 0x80, 0x800, 0x10000};  // shorter forms are overlong
        if (cp < least[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9F) ||
            cp == 0xFFFE || cp == 0xFFFF)
            return false;
        i += extra + 1;
    }
    return true;
}

static bool has_control(const char *t) {
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7F) return true;
    return false;
}

// Space-separated list membership.
static bool in_choices(const char *choices, const char *t) {
    size_t n = strlen(t);
    for (const char *p = choices; *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len == n && n && !strncmp(p, t, n)) return true;
        p += len;
    }
    return false;
}

static void append(char *buf, size_t size, const char *fmt, const char *s) {
    size_t n = strlen(buf);
    if (n < size) snprintf(buf + n, size - n, fmt, s);
}

void gan_cfg_describe(const gan_cfg_key *k, char *buf, size_t size) {
    buf[0] = '\0';
    if (k->choices) {
        // "32 64" -> "one of 32, 64"
        snprintf(buf, size, "one of ");
        for (const char *p = k->choices; *p;) {
            size_t len = strcspn(p, " ");
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)len, p);
            append(buf, size, p == k->choices ? "%s" : ", %s", word);
            p += len;
            while (*p == ' ') p++;
        }
        return;
    }
    switch (k->type) {
    case GAN_CFG_SECTION: snprintf(buf, size, "a section (a mapping of keys)"); return;
    case GAN_CFG_STRING: snprintf(buf, size, "a string"); return;
    case GAN_CFG_BOOL: snprintf(buf, size, "true or false"); return;
    case GAN_CFG_ENUM: GAN_FATAL("config schema: %s is an enum without choices", k->path);
    case GAN_CFG_INT:
    case GAN_CFG_INT64: {
        int64_t top = k->type == GAN_CFG_INT ? INT_MAX : INT64_MAX;
        int64_t bottom = k->type == GAN_CFG_INT ? INT_MIN : INT64_MIN;
        if (k->imax == top && k->imin == bottom) snprintf(buf, size, "an integer");
        else if (k->imax == top) snprintf(buf, size, "an integer >= %" PRId64, k->imin);
        else snprintf(buf, size, "an integer in [%" PRId64 ", %" PRId64 "]", k->imin, k->imax);
        return;
    }
    case GAN_CFG_FLOAT: {
        char lo[32], hi[32];
        format_shortest(k->fmin, lo, sizeof lo);
        format_shortest(k->fmax, hi, sizeof hi);
        bool has_lo = isfinite(k->fmin), has_hi = isfinite(k->fmax);
        if (has_lo && has_hi)
            snprintf(buf, size, "a number in %c%s, %s%c", k->fmin_open ? '(' : '[', lo, hi,
                     k->fmax_open ? ')' : ']');
        else if (has_lo) snprintf(buf, size, "a number %s %s", k->fmin_open ? ">" : ">=", lo);
        else if (has_hi) snprintf(buf, size, "a number %s %s", k->fmax_open ? "<" : "<=", hi);
        else snprintf(buf, size, "a number");
        return;
    }
    }
}

// How the message shows what was given: 'text', the string "text", a mapping, ...
void gan_cfg_describe_given(const gan_cfg_value *v, char *buf, size_t size) {
    switch (v->kind) {
    case GAN_CFG_MAPPING: snprintf(buf, size, "a mapping"); return;
    case GAN_CFG_LIST: snprintf(buf, size, "a list"); return;
    case GAN_CFG_EMPTY: snprintf(buf, size, "an empty value"); return;
    case GAN_CFG_PLAIN:
    case GAN_CFG_QUOTED: break;
    }
    // One line whatever the input: control characters become '?', long text is cut.
    char shown[72];
    size_t n = 0;
    for (size_t i = 0; i < v->len && n < 60; i++) {
        unsigned char c = (unsigned char)v->text[i];
        shown[n++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
    }
    shown[n] = '\0';
    const char *more = v->len > n ? "..." : "";
    if (v->kind == GAN_CFG_QUOTED) snprintf(buf, size, "the string \"%s%s\"", shown, more);
    else snprintf(buf, size, "'%s%s'", shown, more);
}

static int reject(const gan_cfg_key *k, const gan_cfg_value *v, const char *where,
                  const char *hint, gan_err *err) {
    char expected[256], given[128];
    gan_cfg_describe(k, expected, sizeof expected);
    gan_cfg_describe_given(v, given, sizeof given);
    return gan_errf(err, GAN_EXIT_USAGE, "%s: %s: expected %s, got %s%s", where, k->path, expected,
                    given, hint ? hint : "");
}

// An integer above the key's maximum, or beyond int64 either way: the message gives both bounds,
// since "an integer >= 0" does not say why 9223372036854775808 is refused.
static int reject_range(const gan_cfg_key *k, const gan_cfg_value *v, const char *where,
                        gan_err *err) {
    char given[128];
    gan_cfg_describe_given(v, given, sizeof given);
    return gan_errf(err, GAN_EXIT_USAGE, "%s: %s: expected an integer in [%" PRId64 ", %" PRId64 "], got %s",
                    where, k->path, k->imin, k->imax, given);
}

static int set_text(const gan_cfg_key *k, char *field, const gan_cfg_value *v, const char *where,
                    gan_err *err) {
    if (k->type == GAN_CFG_ENUM) {
        if (in_choices(k->choices, v->text)) {
            memset(field, 0, k->size);
            memcpy(field, v->text, v->len);
            return 0;
        }
        char near[64], hint[96] = "";
        if (gan_cfg_suggest_choice(k->choices, v->text, near, sizeof near))
            snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
        return reject(k, v, where, hint, err);
    }
    if (v->len >= k->size)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "%s: %s: expected a string of at most %zu bytes, got %zu", where, k->path,
                        k->size - 1, v->len);
    if (has_control(v->text) || !valid_utf8((const unsigned char *)v->text, v->len)) {
        char given[128];
        gan_cfg_describe_given(v, given, sizeof given);
        return gan_errf(err, GAN_EXIT_USAGE, "%s: %s: expected UTF-8 text without control "
                        "characters, got %s", where, k->path, given);
    }
    memset(field, 0, k->size);
    memcpy(field, v->text, v->len);
    return 0;
}

int gan_cfg_set_value(const gan_cfg_key *k, void *base, const gan_cfg_value *v, const char *where,
                      gan_err *err) {
    GAN_CHECK(k->type != GAN_CFG_SECTION, "config: %s is a section, not a value", k->path);
    char *field = (char *)base + k->offset;
    bool text = v->kind == GAN_CFG_PLAIN || v->kind == GAN_CFG_QUOTED;
    if (!text) return reject(k, v, where, NULL, err);
    if (strlen(v->text) != v->len) return reject(k, v, where, " (contains a NUL character)", err);
    bool number = k->type == GAN_CFG_INT || k->type == GAN_CFG_INT64 || k->type == GAN_CFG_FLOAT;
    if (number && v->kind == GAN_CFG_QUOTED)
        return reject(k, v, where, " (numbers are written without quotes)", err);
    if (k->type == GAN_CFG_BOOL && v->kind == GAN_CFG_QUOTED)
        return reject(k, v, where, " (true and false are written without quotes)", err);

    switch (k->type) {
    case GAN_CFG_SECTION: break;
    case GAN_CFG_STRING:
    case GAN_CFG_ENUM: return set_text(k, field, v, where, err);
    case GAN_CFG_INT:
    case GAN_CFG_INT64: {
        int64_t x;
        int beyond = parse_int(v->text, &x);
        if (beyond < 0) return reject(k, v, where, NULL, err);
        char canon[24];
        snprintf(canon, sizeof canon, "%" PRId64, x);
        if (k->choices) {
            if (beyond || !in_choices(k->choices, canon)) return reject(k, v, where, NULL, err);
        } else if (beyond || x > k->imax) {
            return reject_range(k, v, where, err);
        } else if (x < k->imin) {
            return reject(k, v, where, NULL, err);
        }
        if (k->type == GAN_CFG_INT) {
            GAN_CHECK(k->size == sizeof(int), "config schema: %s is not an int field", k->path);
            *(int *)field = (int)x;
        } else {
            GAN_CHECK(k->size == sizeof(int64_t), "config schema: %s is not int64_t", k->path);
            *(int64_t *)field = x;
        }
        return 0;
    }
    case GAN_CFG_BOOL: {
        // YAML 1.2's core schema: yes/no/on/off are strings there (1.1 read them as booleans),
        // so they are refused rather than guessed.
        static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False", "FALSE"};
        GAN_CHECK(k->size == sizeof(bool), "config schema: %s is not a bool field", k->path);
        for (int i = 0; i < 3; i++) {
            if (!strcmp(v->text, yes[i])) return *(bool *)field = true, 0;
            if (!strcmp(v->text, no[i])) return *(bool *)field = false, 0;
        }
        return reject(k, v, where, NULL, err);
    }
    case GAN_CFG_FLOAT: {
        double x;
        if (parse_float(v->text, &x) != 0) return reject(k, v, where, NULL, err);
        bool lo = k->fmin_open ? x > k->fmin : x >= k->fmin;
        bool hi = k->fmax_open ? x < k->fmax : x <= k->fmax;
        if (!lo || !hi) return reject(k, v, where, NULL, err);
        GAN_CHECK(k->size == sizeof(double), "config schema: %s is not a double field", k->path);
        *(double *)field = x;
        return 0;
    }
    }
    GAN_FATAL("config schema: %s has an unknown type %d", k->path, (int)k->type);
}

void gan_cfg_set_defaults(const gan_cfg_schema *s, void *base) {
    memset(base, 0, s->struct_size);
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        if (!k->def) continue;
        gan_cfg_value v = {GAN_CFG_PLAIN, k->def, strlen(k->def)};
        gan_err err;
        if (gan_cfg_set_value(k, base, &v, "config schema default", &err) != 0)
            GAN_FATAL("%s", err.msg);
    }
}

// Text that a YAML reader takes back as this same string when left unquoted.
static bool plain_safe(const char *t) {
    if (!isalpha((unsigned char)t[0]) && t[0] != '_' && t[0] != '/') return false;
    for (const char *p = t; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_./-", *p)) return false;
    return !is_bool_word(t) && !gan_cfg_is_null_word(t);
}

void gan_cfg_format_value(const gan_cfg_key *k, const void *base, char *buf, size_t size) {
    const char *field = (const char *)base + k->offset;
    switch (k->type) {
    case GAN_CFG_SECTION: snprintf(buf, size, "%s", ""); return;
    case GAN_CFG_INT: snprintf(buf, size, "%d", *(const int *)field); return;
    case GAN_CFG_INT64: snprintf(buf, size, "%" PRId64, *(const int64_t *)field); return;
    case GAN_CFG_ENUM: snprintf(buf, size, "%s", field); return;
    case GAN_CFG_BOOL: snprintf(buf, size, "%s", *(const bool *)field ? "true" : "false"); return;
    case GAN_CFG_FLOAT: {
        // Always with a '.', so that every YAML reader (PyYAML included) sees a float.
        char num[40];
        format_shortest(*(const double *)field, num, sizeof num);
        char *e = strchr(num, 'e');
        if (strchr(num, '.')) snprintf(buf, size, "%s", num);
        else if (e) snprintf(buf, size, "%.*s.0%s", (int)(e - num), num, e);
        else snprintf(buf, size, "%s.0", num);
        return;
    }
    case GAN_CFG_STRING: {
        if (plain_safe(field)) {
            snprintf(buf, size, "%s", field);
            return;
        }
        size_t n = 0;
        GAN_CHECK(size >= 3, "config: format buffer too small for %s", k->path);
        buf[n++] = '"';
        for (const char *p = field; *p && n + 3 < size; p++) {
            if (*p == '"' || *p == '\\') buf[n++] = '\\';
            buf[n++] = *p;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return;
    }
    }
}
