// Keys of a schema: lookup, did-you-mean suggestions, "when" conditions, and the checks that
// need the whole config at once (required keys, keys given where they do not apply).
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_schema.h"
#include "gan_check.h"

int gan_cfg_find(const gan_cfg_schema *s, const char *path) {
    for (int i = 0; i < s->nkeys; i++)
        if (!strcmp(s->keys[i].path, path)) return i;
    return -1;
}

void gan_cfg_parent(const char *path, char *buf, size_t size) {
    const char *dot = strrchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : 0;
    snprintf(buf, size, "%.*s", (int)n, path);
}

const char *gan_cfg_leaf(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

static bool is_child(const char *path, const char *section) {
    size_t n = strlen(section);
    if (!n) return !strchr(path, '.');
    return !strncmp(path, section, n) && path[n] == '.' && !strchr(path + n + 1, '.');
}

void gan_cfg_list_keys(const gan_cfg_schema *s, const char *section, char *buf, size_t size) {
    buf[0] = '\0';
    for (int i = 0; i < s->nkeys; i++) {
        if (!is_child(s->keys[i].path, section)) continue;
        size_t n = strlen(buf);
        if (n + 1 < size)
            snprintf(buf + n, size - n, "%s%s", n ? ", " : "", gan_cfg_leaf(s->keys[i].path));
    }
}

#define EDIT_MAX 64  // longer names get no suggestion

int gan_cfg_edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > EDIT_MAX || m > EDIT_MAX) return 1 << 20;
    // d[i][j]: distance between the first i bytes of a and the first j of b.
    int d[EDIT_MAX + 1][EDIT_MAX + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

// A third of the typed length may be wrong (one letter in short names, none in names of one or
// two letters, where any edit is a different word), or the typed name may be the start of the
// real one ("lr" for "lr_g").
static int closeness(const char *typed, const char *candidate) {
    size_t n = strlen(typed);
    int d = gan_cfg_edit_distance(typed, candidate);
    int limit = n <= 2 ? 0 : n + 1 >= 6 ? (int)(n + 1) / 3 : 1;
    if (n >= 2 && !strncasecmp(candidate, typed, n)) return d < 1 ? d : 1;
    return d <= limit ? d : -1;
}

const char *gan_cfg_suggest_key(const gan_cfg_schema *s, const char *section, const char *name) {
    const char *best = NULL;
    int best_d = 0;
    for (int pass = 0; pass < 2 && !best; pass++) {
        // First the keys of the same section, then the same name in any section.
        for (int i = 0; i < s->nkeys; i++) {
            const char *path = s->keys[i].path;
            if (is_child(path, section) != (pass == 0)) continue;
            int d = closeness(name, gan_cfg_leaf(path));
            if (d >= 0 && (!best || d < best_d)) best = path, best_d = d;
        }
    }
    return best;
}

const char *gan_cfg_suggest_path(const gan_cfg_schema *s, const char *path) {
    char section[256];
    gan_cfg_parent(path, section, sizeof section);
    const char *best = gan_cfg_suggest_key(s, section, gan_cfg_leaf(path));
    if (best) return best;
    // A misspelt section ("trian.steps"): the whole path against every path.
    int best_d = 0;
    for (int i = 0; i < s->nkeys; i++) {
        int d = closeness(path, s->keys[i].path);
        if (d >= 0 && (!best || d < best_d)) best = s->keys[i].path, best_d = d;
    }
    return best;
}

int gan_cfg_suggest_choice(const char *choices, const char *text, char *buf, size_t size) {
    int best_d = -1;
    for (const char *p = choices; *p;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)len, p);
        int d = len ? closeness(text, word) : -1;
        if (d >= 0 && (best_d < 0 || d < best_d)) {
            best_d = d;
            snprintf(buf, size, "%s", word);
        }
        p += len;
    }
    return best_d >= 0;
}

// "model.type=stylegan2" against the struct's current model.type.
static bool when_holds(const gan_cfg_schema *s, const void *base, const char *when) {
    const char *eq = strchr(when, '=');
    GAN_CHECK(eq, "config schema: .when '%s' is not key=value", when);
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - when), when);
    int i = gan_cfg_find(s, key);
    GAN_CHECK(i >= 0 && s->keys[i].type != GAN_CFG_SECTION,
              "config schema: .when '%s' names no key", when);
    char value[256];
    gan_cfg_format_value(&s->keys[i], base, value, sizeof value);
    return !strcmp(value, eq + 1);
}

int gan_cfg_applies(const gan_cfg_schema *s, const void *base, int i, const char **why) {
    char path[256];
    snprintf(path, sizeof path, "%s", s->keys[i].path);
    // The key itself, then each enclosing section.
    for (;;) {
        int k = gan_cfg_find(s, path);
        GAN_CHECK(k >= 0, "config schema: section '%s' has no entry", path);
        const char *when = s->keys[k].when;
        if (when) {
            // A condition on a key that does not apply itself (train.loss under StyleGAN2) fails
            // for that key's reason: the message then names what really rules the key out.
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)strcspn(when, "="), when);
            int j = gan_cfg_find(s, key);
            if (j >= 0 && j != i && !gan_cfg_applies(s, base, j, why)) return 0;
            if (!when_holds(s, base, when)) {
                if (why) *why = when;
                return 0;
            }
        }
        char *dot = strrchr(path, '.');
        if (!dot) return 1;
        *dot = '\0';
    }
}

static void origin_where(const gan_cfg_run *run, const gan_cfg_origin *o, char *buf, size_t size) {
    if (o->override) snprintf(buf, size, "override '%s'", gan_config_clip(o->override).s);
    else snprintf(buf, size, "%s:%d:%d", run->source, o->line, o->col);
}

static int report_missing(const gan_cfg_run *run, gan_err *err) {
    const gan_cfg_schema *s = run->schema;
    int first = -1;
    char others[512] = "";
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        if (!k->required || run->origin[i].given || !gan_cfg_applies(s, run->base, i, NULL))
            continue;
        if (first < 0) {
            first = i;
            continue;
        }
        size_t n = strlen(others);
        snprintf(others + n, sizeof others - n, "%s%s", n ? ", " : "; also missing ", k->path);
    }
    if (first < 0) return 0;
    return gan_errf(err, GAN_EXIT_USAGE, "%s: missing required key %s (%s)%s", run->source,
                    s->keys[first].path, s->keys[first].help, others);
}

int gan_cfg_finish(const gan_cfg_run *run, int check_required, gan_err *err) {
    const gan_cfg_schema *s = run->schema;
    if (check_required && report_missing(run, err) != 0) return -1;
    for (int i = 0; i < s->nkeys; i++) {
        const char *why;
        if (!run->origin[i].given || gan_cfg_applies(s, run->base, i, &why)) continue;
        // why = "model.type=stylegan2": say what it needs and what it found.
        const char *eq = strchr(why, '=');
        char key[256], now[256], where[1024];
        snprintf(key, sizeof key, "%.*s", (int)(eq - why), why);
        int g = gan_cfg_find(s, key);
        gan_cfg_format_value(&s->keys[g], run->base, now, sizeof now);
        origin_where(run, &run->origin[i], where, sizeof where);
        const gan_cfg_key *k = &s->keys[i];
        return gan_errf(err, GAN_EXIT_USAGE, "%s: %s%s%s applies only when %s is %s, but %s is %s",
                        where, k->type == GAN_CFG_SECTION ? "section '" : "", k->path,
                        k->type == GAN_CFG_SECTION ? "'" : "", key, eq + 1, key, now);
    }
    return 0;
}

const char *gan_cfg_diff(const gan_cfg_schema *s, const void *a, const void *b) {
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        if (k->type == GAN_CFG_SECTION) continue;
        if (!gan_cfg_applies(s, a, i, NULL) && !gan_cfg_applies(s, b, i, NULL)) continue;
        const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
        bool same = false;
        switch (k->type) {
        case GAN_CFG_SECTION: break;
        case GAN_CFG_STRING:
        case GAN_CFG_ENUM: same = !strncmp(fa, fb, k->size); break;
        case GAN_CFG_INT: same = *(const int *)fa == *(const int *)fb; break;
        case GAN_CFG_INT64: same = *(const int64_t *)fa == *(const int64_t *)fb; break;
        case GAN_CFG_FLOAT: same = *(const double *)fa == *(const double *)fb; break;
        case GAN_CFG_BOOL: same = *(const bool *)fa == *(const bool *)fb; break;
        }
        if (!same) return k->path;
    }
    return NULL;
}
