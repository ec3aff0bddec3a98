// The engine behind config.h: a schema is a flat table of keys, each naming a field of a C struct
// by offset, and the engine fills, validates and writes any struct such a table describes.
// config_schema.c holds the table for gan_config; tests build small ones of their own.
//
//   config_value.c  one value: parse text into a field, describe what is expected, format it back
//   config_key.c    key lookup, did-you-mean suggestions, "when" conditions, required keys, diff
//   config_yaml.c   a YAML document (libyaml) and "key.path=value" overrides into a struct
//   config_emit.c   the canonical YAML and the --help listing
//
// Adding a key is one table entry. A key or a whole section that only makes sense for one model
// says so with .when = "model.type=stylegan2": elsewhere it is rejected if given, skipped in the
// output, and never required.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef enum gan_cfg_type {
    GAN_CFG_SECTION,  // a mapping of keys; no field of its own
    GAN_CFG_STRING,   // char[size]: non-empty UTF-8 without control characters
    GAN_CFG_ENUM,     // char[size]: one of .choices
    GAN_CFG_INT,      // int: in [imin, imax], or one of .choices
    GAN_CFG_INT64,    // int64_t: in [imin, imax]
    GAN_CFG_FLOAT,    // double: finite, within fmin/fmax (open or closed)
    GAN_CFG_BOOL,     // bool: true or false (YAML 1.2's spellings: true, True, TRUE, ...)
} gan_cfg_type;

typedef struct gan_cfg_key {
    const char *path;          // "train.lr_g": section names and the key, joined by '.'
    gan_cfg_type type;
    size_t offset, size;       // the field in the struct
    int required;              // must be given wherever it applies
    const char *def;           // default as YAML text; NULL when required or left to the caller
    int64_t imin, imax;        // INT, INT64: inclusive bounds
    double fmin, fmax;         // FLOAT: bounds (+-HUGE_VAL for none)
    int fmin_open, fmax_open;  // FLOAT: the bound itself is excluded
    const char *choices;       // ENUM, INT: allowed values, space separated ("dcgan", "32 64")
    const char *when;          // "model.type=stylegan2": applies only then (inherited by a
                               // section's keys)
    const char *help;          // one line: comments, --help, "missing required key" messages
} gan_cfg_key;

typedef struct gan_cfg_schema {
    const gan_cfg_key *keys;
    int nkeys;
    size_t struct_size;
} gan_cfg_schema;

extern const gan_cfg_schema gan_config_schema;  // the table for gan_config

// A value as it came in, before it is checked against a key.
typedef enum gan_cfg_kind {
    GAN_CFG_PLAIN,    // unquoted scalar: numbers, enums, strings
    GAN_CFG_QUOTED,   // quoted scalar: a string, never a number
    GAN_CFG_EMPTY,    // nothing, ~ or null
    GAN_CFG_MAPPING,
    GAN_CFG_LIST,
} gan_cfg_kind;

typedef struct gan_cfg_value {
    gan_cfg_kind kind;
    const char *text;  // PLAIN, QUOTED: NUL-terminated
    size_t len;        // bytes of text; a NUL inside (len != strlen) is rejected
} gan_cfg_value;

// Where each key was given: a line:column in the source, or an override.
typedef struct gan_cfg_origin {
    int given;
    int line, col;         // 1-based, when from the source
    const char *override;  // the "key=value" string, when from an override
} gan_cfg_origin;

// One load: the struct being filled, where its text comes from, and which keys were given.
typedef struct gan_cfg_run {
    const gan_cfg_schema *schema;
    void *base;
    const char *source;      // file name, for messages
    gan_cfg_origin *origin;  // [schema->nkeys]
} gan_cfg_run;

// config_value.c
// Zeroes the struct and sets every default. A default the key itself rejects aborts.
void gan_cfg_set_defaults(const gan_cfg_schema *s, void *base);
// Checks v against key k and stores it. `where` prefixes the message ("exp.yaml:4:10").
int gan_cfg_set_value(const gan_cfg_key *k, void *base, const gan_cfg_value *v, const char *where,
                      gan_err *err);
// The field's value as canonical YAML text ("0.0002", "dcgan", "\"a b\"").
void gan_cfg_format_value(const gan_cfg_key *k, const void *base, char *buf, size_t size);
// What k accepts, as the message says it: "an integer >= 1", "one of 32, 64".
void gan_cfg_describe(const gan_cfg_key *k, char *buf, size_t size);
// What was given, as the message says it: "'-5'", "the string \"10\"", "a mapping".
void gan_cfg_describe_given(const gan_cfg_value *v, char *buf, size_t size);
// Text a plain scalar must not be stored as a string under, in YAML: "", "~", "null", "NULL".
int gan_cfg_is_null_word(const char *text);

// config_key.c
int gan_cfg_find(const gan_cfg_schema *s, const char *path);  // index, or -1
// "train" for "train.lr_g", "" for a top-level key.
void gan_cfg_parent(const char *path, char *buf, size_t size);
const char *gan_cfg_leaf(const char *path);  // "lr_g" for "train.lr_g"
// The names of a section's keys ("" = top level), comma separated: "steps, batch_size, ...".
void gan_cfg_list_keys(const gan_cfg_schema *s, const char *section, char *buf, size_t size);
// Optimal-string-alignment distance, ASCII case-insensitive (a swap of neighbours costs 1).
int gan_cfg_edit_distance(const char *a, const char *b);
// The key closest to `name` as a child of `section` ("" = top level), else the closest by last
// component anywhere; the full path of the match, or NULL when nothing is close.
const char *gan_cfg_suggest_key(const gan_cfg_schema *s, const char *section, const char *name);
// The same for a full dotted path, as typed in an override.
const char *gan_cfg_suggest_path(const gan_cfg_schema *s, const char *path);
// The closest of a space-separated choice list ("dcgan"), written into buf; 0 when none is close.
int gan_cfg_suggest_choice(const char *choices, const char *text, char *buf, size_t size);
// Whether key i applies under the struct's current values (its and its sections' .when).
// *why, when it does not, is the .when that failed.
int gan_cfg_applies(const gan_cfg_schema *s, const void *base, int i, const char **why);
// After the source and the overrides: rejects keys given where they do not apply and, when
// check_required, reports missing required keys.
int gan_cfg_finish(const gan_cfg_run *run, int check_required, gan_err *err);
// The first key applying to a or b whose values differ, or NULL.
const char *gan_cfg_diff(const gan_cfg_schema *s, const void *a, const void *b);

// config_yaml.c
// Reads one YAML document (text[len], NUL-terminated) into run->base and records origins.
int gan_cfg_read_yaml(gan_cfg_run *run, const char *text, size_t len, gan_err *err);
// Applies one "key.path=value" override; `override` must outlive the run.
int gan_cfg_apply_override(gan_cfg_run *run, const char *override, gan_err *err);

// config_emit.c
// Canonical YAML: `header` comment lines first, then every applying key in schema order with
// its help as a comment. malloc'd.
char *gan_cfg_to_yaml(const gan_cfg_schema *s, const void *base, const char *header);
// One line per key: path, what it accepts, default or "required", help.
void gan_cfg_print_schema(const gan_cfg_schema *s, FILE *f);
