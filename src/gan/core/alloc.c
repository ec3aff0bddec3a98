#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n, size_t size, const char *what) {
    if (size == 1) fprintf(stderr, "gan: out of memory allocating %zu bytes for %s\n", n, what);
    else fprintf(stderr, "gan: out of memory allocating %zu x %zu bytes for %s\n", n, size, what);
    abort();
}

void *gan_xmalloc(size_t bytes, const char *what) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) out_of_memory(bytes, 1, what);
    return p;
}

void *gan_xcalloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);  // calloc itself refuses an n * size overflow
    if (!p) out_of_memory(n, size, what);
    return p;
}

void *gan_xrealloc(void *old, size_t bytes, const char *what) {
    void *p = realloc(old, bytes ? bytes : 1);
    if (!p) out_of_memory(bytes, 1, what);
    return p;
}

char *gan_xstrdup(const char *s, const char *what) {
    size_t n = strlen(s) + 1;
    return memcpy(gan_xmalloc(n, what), s, n);
}
