// metrics.jsonl as columns: one row per line, one column per numeric key seen in any line.
// The lines gan writes are flat JSON objects of numbers, null and strings; this reader knows
// only that much, which is all a report needs, and is forgiving where a live run is concerned:
// a last line without its newline (being written, or torn by a kill) is skipped, as is any
// line that does not parse, so a report of a running or damaged run still opens.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GAN_METRICS_MAX_COLS 64
#define GAN_METRICS_KEY_MAX 48

typedef struct gan_metrics_col {
    char name[GAN_METRICS_KEY_MAX];
    double *v;  // (rows): NAN where the row has no number for this key (absent, null, a string)
} gan_metrics_col;

typedef struct gan_metrics_table {
    int64_t rows;
    int ncols;
    gan_metrics_col cols[GAN_METRICS_MAX_COLS];  // in order of first appearance; keys past the cap are ignored
    int64_t skipped;  // lines that did not parse (the torn last line included)
    int64_t cap;      // allocated rows per column
} gan_metrics_table;

// Reads path into t. A missing file is an empty table (a run before its first log line);
// a file that cannot be read is an error naming it.
int gan_metrics_read(const char *path, gan_metrics_table *t, gan_err *err);
// Parses the text (size bytes) as metrics.jsonl.
void gan_metrics_parse(const char *text, size_t size, gan_metrics_table *t);
// The column named `name`, or NULL.
const gan_metrics_col *gan_metrics_find(const gan_metrics_table *t, const char *name);
void gan_metrics_free(gan_metrics_table *t);
