// Programmer errors. A failed check is a bug in the caller (wrong shapes, mixed devices, misuse
// of the tape), never bad user input: it prints file:line and what was wrong, naming the op or
// layer and the shapes, and aborts so a debugger or core dump lands on the spot. The engine and
// the layers check their arguments with these. User errors (configs, files, data) never come
// through here; they travel up as a status to the command line.
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
