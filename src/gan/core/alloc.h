// Memory in src/gan: one out-of-memory policy for everything. Running out of host memory is not
// a user error that a message can fix at the point where it happens (a gan_err, error.h), and
// nothing half-built is worth saving, so every allocation goes through these: on failure they
// print one line naming what was being allocated,
//   gan: out of memory allocating 1234 bytes for the dataset's pixels
// and abort (a core dump then shows where). They never return NULL; a size of 0 allocates 1
// byte, so a result is always a pointer that free() accepts.
#pragma once
#include <stddef.h>

// `what` completes "allocating N bytes for ...": "the dataset's pixels", "a checkpoint reader".
void *gan_xmalloc(size_t bytes, const char *what);
void *gan_xcalloc(size_t n, size_t size, const char *what);  // zeroed, n * size checked for overflow
void *gan_xrealloc(void *p, size_t bytes, const char *what);
char *gan_xstrdup(const char *s, const char *what);
