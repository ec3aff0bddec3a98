// The canonical YAML of a config and the --help listing of a schema. The YAML is what a run
// directory and a checkpoint keep: every key that applies, in schema order, each with its help
// as a comment, so the file explains itself and diffs between runs line up.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config_schema.h"
#include "gan_check.h"

#define COMMENT_COL 34  // comments start here when the key and value leave room

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        GAN_CHECK(n >= 0, "config: formatting failed");
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = 2 * b->cap + (size_t)n;
        b->s = gan_xrealloc(b->s, b->cap, "the YAML text");
    }
}

static int depth_of(const char *path) {
    int d = 0;
    for (; *path; path++) d += *path == '.';
    return d;
}

char *gan_cfg_to_yaml(const gan_cfg_schema *s, const void *base, const char *header) {
    strbuf b = {gan_xmalloc(1024, "the YAML text"), 0, 1024};
    b.s[0] = '\0';
    for (const char *p = header; p && *p;) {
        size_t n = strcspn(p, "\n");
        sb_printf(&b, "#%s%.*s\n", n ? " " : "", (int)n, p);
        p += n + (p[n] == '\n');
    }
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        if (!gan_cfg_applies(s, base, i, NULL)) continue;
        int depth = depth_of(k->path);
        if (k->type == GAN_CFG_SECTION && depth == 0 && b.len) sb_printf(&b, "\n");
        size_t start = b.len;
        sb_printf(&b, "%*s%s:", 2 * depth, "", gan_cfg_leaf(k->path));
        if (k->type != GAN_CFG_SECTION) {
            size_t size = 2 * k->size + 16;  // room for a string quoted and escaped
            char *value = gan_xmalloc(size, "a config value's text");
            gan_cfg_format_value(k, base, value, size);
            sb_printf(&b, " %s", value);
            free(value);
        }
        int width = (int)(b.len - start);
        sb_printf(&b, "%*s# %s\n", width < COMMENT_COL ? COMMENT_COL - width : 1, "", k->help);
    }
    return b.s;
}

void gan_cfg_print_schema(const gan_cfg_schema *s, FILE *f) {
    fprintf(f, "Config keys (YAML; override any on the command line as key.path=value):\n");
    for (int i = 0; i < s->nkeys; i++) {
        const gan_cfg_key *k = &s->keys[i];
        char when[160] = "";
        if (k->when) snprintf(when, sizeof when, " (only when %s)", k->when);
        if (k->type == GAN_CFG_SECTION) {
            fprintf(f, "\n  %s: %s%s\n", k->path, k->help, when);
            continue;
        }
        char accepts[256];
        gan_cfg_describe(k, accepts, sizeof accepts);
        const char *pre = k->required ? ", required" : k->def ? ", default " : "";
        fprintf(f, "  %-26s %s%s%s%s\n  %-26s %s\n", k->path, accepts, pre,
                k->def && !k->required ? k->def : "", when, "", k->help);
    }
}
