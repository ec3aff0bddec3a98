// A YAML document and "key.path=value" overrides into a struct described by a schema. libyaml
// builds the node tree (with line and column of every node); this file walks it along the
// schema, so every mapping it descends into is a section the schema knows, and every message
// names the place in the file.
//
// Plain YAML only: anchors and aliases work, but explicit tags (!!str 3000, !!int 3) and merge
// keys (<<: *base) are refused. A tag could only contradict or repeat what the schema already
// says a key is, and libyaml resolves neither tags nor merges, so accepting them would mean
// values silently read differently from what the file says.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alloc.h"
#include "config.h"
#include "config_schema.h"

#define PATH_MAX_ 256  // longest key path we look up; longer ones are unknown keys anyway

// An explicitly tagged node: where it starts (the node's start_mark.index), its kind (a block
// mapping starts where its first key does) and its tag.
typedef struct tagged {
    size_t at;
    yaml_node_type_t type;
    char *tag;
} tagged;

typedef struct walker {
    gan_cfg_run *run;
    yaml_document_t *doc;
    tagged *tags;
    int ntags;
} walker;

static void mark_where(const gan_cfg_run *run, yaml_mark_t m, char *buf, size_t size) {
    snprintf(buf, size, "%s:%zu:%zu", run->source, m.line + 1, m.column + 1);
}

// libyaml's document gives an untagged scalar the tag !!str too, so only the parser's events
// tell "!!str 3000" from "3000": a first pass over them notes where each tagged node starts (a
// node's start mark is its event's). A syntax error ends the pass; the load reports it.
static void find_tags(const char *text, size_t len, walker *w) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int cap = 0;
    for (bool more = true; more;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) break;
        const yaml_char_t *tag = NULL;
        yaml_node_type_t type = YAML_NO_NODE;
        switch (e.type) {
        case YAML_SCALAR_EVENT: tag = e.data.scalar.tag, type = YAML_SCALAR_NODE; break;
        case YAML_SEQUENCE_START_EVENT: tag = e.data.sequence_start.tag, type = YAML_SEQUENCE_NODE; break;
        case YAML_MAPPING_START_EVENT: tag = e.data.mapping_start.tag, type = YAML_MAPPING_NODE; break;
        default: break;
        }
        if (tag) {
            if (w->ntags == cap) {
                cap = cap ? 2 * cap : 8;
                w->tags = gan_xrealloc(w->tags, (size_t)cap * sizeof *w->tags, "the YAML tags' places");
            }
            char *copy = gan_xmalloc(strlen((const char *)tag) + 1, "a YAML tag");
            strcpy(copy, (const char *)tag);
            w->tags[w->ntags++] = (tagged){e.start_mark.index, type, copy};
        }
        more = e.type != YAML_STREAM_END_EVENT;
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
}

static void free_tags(walker *w) {
    for (int i = 0; i < w->ntags; i++) free(w->tags[i].tag);
    free(w->tags);
}

// Whether node n carries an explicit tag; buf gets it as written ("!!str" for the standard ones).
static bool tag_of(const walker *w, const yaml_node_t *n, char *buf, size_t size) {
    static const char standard[] = "tag:yaml.org,2002:";
    for (int i = 0; i < w->ntags; i++) {
        if (w->tags[i].at != n->start_mark.index || w->tags[i].type != n->type) continue;
        const char *t = w->tags[i].tag;
        bool std = !strncmp(t, standard, sizeof standard - 1);
        snprintf(buf, size, "%s%s", std ? "!!" : "", gan_config_clip(std ? t + sizeof standard - 1 : t).s);
        return true;
    }
    return false;
}

static gan_cfg_value node_value(const yaml_node_t *n) {
    gan_cfg_value v = {GAN_CFG_EMPTY, NULL, 0};
    if (!n) return v;
    switch (n->type) {
    case YAML_MAPPING_NODE: v.kind = GAN_CFG_MAPPING; break;
    case YAML_SEQUENCE_NODE: v.kind = GAN_CFG_LIST; break;
    case YAML_SCALAR_NODE:
        v.text = (const char *)n->data.scalar.value;
        v.len = n->data.scalar.length;
        // Quoted and block scalars are strings; only a plain scalar can be a number or null.
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) v.kind = GAN_CFG_QUOTED;
        else v.kind = gan_cfg_is_null_word(v.text) ? GAN_CFG_EMPTY : GAN_CFG_PLAIN;
        break;
    case YAML_NO_NODE: break;
    }
    return v;
}

static void section_words(const char *section, char *buf, size_t size) {
    if (*section) snprintf(buf, size, " in section '%s'", section);
    else snprintf(buf, size, "%s", "");
}

static int unknown_key(walker *w, const yaml_node_t *kn, const char *section, const char *name,
                       gan_err *err) {
    const gan_cfg_schema *s = w->run->schema;
    char where[1024], in[300], hint[600];
    mark_where(w->run, kn->start_mark, where, sizeof where);
    section_words(section, in, sizeof in);
    if (!strcmp(name, "<<"))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: merge keys (<<) are not supported%s; write the keys "
                        "out (anchors and aliases of single values work)", where, in);
    const char *near = gan_cfg_suggest_key(s, section, name);
    if (near) {
        char parent[PATH_MAX_];
        gan_cfg_parent(near, parent, sizeof parent);
        // Same section: the bare name; elsewhere: the full path, so the user sees where it goes.
        snprintf(hint, sizeof hint, "; did you mean '%s'?",
                 strcmp(parent, section) ? near : gan_cfg_leaf(near));
    } else {
        char keys[512];
        gan_cfg_list_keys(s, section, keys, sizeof keys);
        snprintf(hint, sizeof hint, "; valid keys: %s", keys);
    }
    return gan_errf(err, GAN_EXIT_USAGE, "%s: unknown %skey '%s'%s%s", where,
                    *section ? "" : "top-level ", gan_config_clip(name).s, in, hint);
}

static int walk_mapping(walker *w, const yaml_node_t *map, const char *section, gan_err *err);

static int walk_pair(walker *w, const yaml_node_pair_t *pair, const yaml_node_pair_t *first,
                     const char *section, gan_err *err) {
    gan_cfg_run *run = w->run;
    const yaml_node_t *kn = yaml_document_get_node(w->doc, pair->key);
    const yaml_node_t *vn = yaml_document_get_node(w->doc, pair->value);
    char where[1024], in[300];
    mark_where(run, kn->start_mark, where, sizeof where);
    section_words(section, in, sizeof in);
    gan_cfg_value kv = node_value(kn);
    if ((kv.kind != GAN_CFG_PLAIN && kv.kind != GAN_CFG_QUOTED) || strlen(kv.text) != kv.len) {
        char given[128];
        gan_cfg_describe_given(&kv, given, sizeof given);
        return gan_errf(err, GAN_EXIT_USAGE, "%s: expected a key name%s, got %s", where, in, given);
    }
    const char *name = kv.text;
    char tag[sizeof(gan_clipped) + 8];
    if (tag_of(w, kn, tag, sizeof tag))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: key '%s'%s: YAML tags are not supported (got %s); "
                        "write it without the tag", where, gan_config_clip(name).s, in, tag);
    for (const yaml_node_pair_t *q = first; q < pair; q++) {
        const yaml_node_t *qk = yaml_document_get_node(w->doc, q->key);
        if (qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, name))
            return gan_errf(err, GAN_EXIT_USAGE,
                            "%s: duplicate %skey '%s'%s (first given at line %zu)", where,
                            *section ? "" : "top-level ", gan_config_clip(name).s, in,
                            qk->start_mark.line + 1);
    }

    char path[PATH_MAX_];
    int n = snprintf(path, sizeof path, "%s%s%s", section, *section ? "." : "", name);
    int i = n < (int)sizeof path ? gan_cfg_find(run->schema, path) : -1;
    if (i < 0) return unknown_key(w, kn, section, name, err);
    const gan_cfg_key *k = &run->schema->keys[i];
    run->origin[i] = (gan_cfg_origin){.given = 1, .line = (int)kn->start_mark.line + 1,
                                      .col = (int)kn->start_mark.column + 1};

    gan_cfg_value v = node_value(vn);
    char vwhere[1024];
    mark_where(run, vn->start_mark, vwhere, sizeof vwhere);
    if (tag_of(w, vn, tag, sizeof tag))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: %s: YAML tags are not supported (got %s); write the "
                        "value without a tag", vwhere, path, tag);
    if (k->type != GAN_CFG_SECTION) return gan_cfg_set_value(k, run->base, &v, vwhere, err);
    if (v.kind == GAN_CFG_MAPPING) return walk_mapping(w, vn, path, err);
    if (v.kind == GAN_CFG_EMPTY) return 0;  // "log:" with nothing under it: all defaults
    char keys[512], given[128];
    gan_cfg_list_keys(run->schema, path, keys, sizeof keys);
    gan_cfg_describe_given(&v, given, sizeof given);
    return gan_errf(err, GAN_EXIT_USAGE,
                    "%s: %s: expected a section (a mapping with keys %s), got %s", vwhere, path,
                    keys, given);
}

static int walk_mapping(walker *w, const yaml_node_t *map, const char *section, gan_err *err) {
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++)
        if (walk_pair(w, p, first, section, err) != 0) return -1;
    return 0;
}

static int syntax_error(const gan_cfg_run *run, const yaml_parser_t *p, const char *text,
                        size_t len, gan_err *err) {
    if (p->error == YAML_MEMORY_ERROR)
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: out of memory parsing YAML", run->source);
    if (p->error == YAML_READER_ERROR)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: not readable as YAML text: %s at byte %zu",
                        run->source, p->problem ? p->problem : "bad input", p->problem_offset);
    char context[128] = "";
    if (p->context)
        snprintf(context, sizeof context, " (%s at line %zu)", p->context,
                 p->context_mark.line + 1);
    size_t at = p->problem_mark.index;
    const char *hint = at < len && text[at] == '\t' ? "; YAML indents with spaces, not tabs" : "";
    return gan_errf(err, GAN_EXIT_USAGE, "%s:%zu:%zu: YAML syntax error: %s%s%s", run->source,
                    p->problem_mark.line + 1, p->problem_mark.column + 1,
                    p->problem ? p->problem : "unknown problem", context, hint);
}

static bool is_empty(const yaml_node_t *root) {
    return !root || (root->type == YAML_SCALAR_NODE &&
                     node_value(root).kind == GAN_CFG_EMPTY);
}

int gan_cfg_read_yaml(gan_cfg_run *run, const char *text, size_t len, gan_err *err) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: out of memory parsing YAML", run->source);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_document_t doc, extra;
    int rc = -1;
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(run, &parser, text, len, err);
        yaml_parser_delete(&parser);
        return -1;
    }
    // A config is one document; a second one ("---") would be silently ignored otherwise.
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(run, &parser, text, len, err);
        goto done;
    }
    const yaml_node_t *second = yaml_document_get_root_node(&extra);
    if (second) {
        gan_errf(err, GAN_EXIT_USAGE,
                 "%s:%zu:%zu: a second YAML document; a config is one document", run->source,
                 extra.start_mark.line + 1, extra.start_mark.column + 1);
        yaml_document_delete(&extra);
        goto done;
    }
    yaml_document_delete(&extra);

    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    char keys[512];
    gan_cfg_list_keys(run->schema, "", keys, sizeof keys);
    if (is_empty(root)) {
        gan_errf(err, GAN_EXIT_USAGE, "%s: the config is empty; expected a mapping with keys %s",
                 run->source, keys);
    } else if (root->type != YAML_MAPPING_NODE) {
        char where[1024], given[128];
        gan_cfg_value v = node_value(root);
        mark_where(run, root->start_mark, where, sizeof where);
        gan_cfg_describe_given(&v, given, sizeof given);
        gan_errf(err, GAN_EXIT_USAGE, "%s: expected a mapping with keys %s at the top, got %s",
                 where, keys, given);
    } else {
        walker w = {run, &doc, NULL, 0};
        find_tags(text, len, &w);
        char tag[sizeof(gan_clipped) + 8], where[1024];
        if (tag_of(&w, root, tag, sizeof tag)) {
            mark_where(run, root->start_mark, where, sizeof where);
            gan_errf(err, GAN_EXIT_USAGE, "%s: YAML tags are not supported (got %s on the top-level "
                     "mapping); write it without the tag", where, tag);
        } else {
            rc = walk_mapping(&w, root, "", err);
        }
        free_tags(&w);
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static void trim(const char *s, size_t n, const char **out, size_t *out_n) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    *out = s;
    *out_n = n;
}

int gan_cfg_apply_override(gan_cfg_run *run, const char *override, gan_err *err) {
    const gan_cfg_schema *s = run->schema;
    const char *eq = strchr(override, '=');
    const gan_clipped shown = gan_config_clip(override);
    if (!eq)
        return gan_errf(err, GAN_EXIT_USAGE, "override '%s': expected key.path=value (no '=')",
                        shown.s);
    const char *kp, *vp;
    size_t kn, vn;
    trim(override, (size_t)(eq - override), &kp, &kn);
    trim(eq + 1, strlen(eq + 1), &vp, &vn);
    if (!kn)
        return gan_errf(err, GAN_EXIT_USAGE, "override '%s': empty key before '='; expected "
                        "key.path=value", shown.s);
    // A key longer than the buffer is unknown anyway, and its message shows it cut, with "...".
    char key[PATH_MAX_];
    snprintf(key, sizeof key, "%.*s", (int)(kn < sizeof key ? kn : sizeof key - 1), kp);
    int i = kn < sizeof key ? gan_cfg_find(s, key) : -1;
    if (i < 0) {
        const char *near = gan_cfg_suggest_path(s, key);
        char hint[300];
        if (near) snprintf(hint, sizeof hint, "; did you mean '%s'?", near);
        else snprintf(hint, sizeof hint, "; keys are section.key paths as in docs/config.md");
        return gan_errf(err, GAN_EXIT_USAGE, "override '%s': unknown key '%s'%s", shown.s,
                        gan_config_clip(key).s, hint);
    }
    const gan_cfg_key *k = &s->keys[i];
    if (k->type == GAN_CFG_SECTION) {
        char keys[512];
        gan_cfg_list_keys(s, key, keys, sizeof keys);
        return gan_errf(err, GAN_EXIT_USAGE, "override '%s': '%s' is a section; set one of its "
                        "keys (%s) as %s.KEY=value", shown.s, key, keys, key);
    }
    char *text = gan_xmalloc(vn + 1, "an override's value");
    memcpy(text, vp, vn);
    text[vn] = '\0';
    gan_cfg_value v = {gan_cfg_is_null_word(text) ? GAN_CFG_EMPTY : GAN_CFG_PLAIN, text, vn};
    char where[1024];
    snprintf(where, sizeof where, "override '%s'", shown.s);
    int rc = gan_cfg_set_value(k, run->base, &v, where, err);
    free(text);
    if (rc == 0) run->origin[i] = (gan_cfg_origin){.given = 1, .override = override};
    return rc;
}
