// Programmer-error checks for the engine. A failed check is a bug in the caller (wrong shapes,
// mixed devices, misuse of the tape), never bad user input: it prints file:line, the op and what
// was wrong, and aborts so a debugger or core dump lands on the spot. User errors (configs,
// files, data) never come through here; they travel up as a status to the CLI.
#pragma once
#include <stdio.h>
#include <stdlib.h>

#define AG_FATAL(...)                                                                    \
    do {                                                                                 \
        fprintf(stderr, "gan.c internal error at %s:%d: ", __FILE__, __LINE__);          \
        fprintf(stderr, __VA_ARGS__);                                                    \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

// AG_CHECK(cond, "fmt", ...): abort with the message when cond is false.
#define AG_CHECK(cond, ...)                                                              \
    do {                                                                                 \
        if (!(cond)) AG_FATAL(__VA_ARGS__);                                              \
    } while (0)

// Allocation that cannot fail quietly: out of host memory is fatal for the engine.
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
