// The engine's own helpers for programmer errors (fatal.h) and host allocations. The engine
// treats running out of host memory for its bookkeeping (tensor headers, tape nodes, tables) as
// fatal: those are small, and a caller cannot do anything useful with a half-built graph.
#pragma once
#include <stdlib.h>

#include "fatal.h"

static inline void *ag_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) AG_FATAL("out of memory allocating %zu bytes", n);
    return p;
}
static inline void *ag_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) AG_FATAL("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}
static inline void *ag_xrealloc(void *old, size_t n) {
    void *p = realloc(old, n ? n : 1);
    if (!p) AG_FATAL("out of memory reallocating %zu bytes", n);
    return p;
}
