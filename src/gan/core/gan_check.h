// Programmer-error checks for src/gan. A failed check is a bug in the caller (a count, shape or
// mode the code should never produce), never bad user input: configs, files and data travel up
// as a gan_err (error.h) instead. It prints file:line and the message and aborts, so a debugger
// or core dump lands on the spot: the engine's checks behave the same way, but src/gan keeps
// its own so that it depends on nothing but the engine's public headers.
#pragma once
#include <stdio.h>
#include <stdlib.h>

#define GAN_FATAL(...)                                                                   \
    do {                                                                                 \
        fprintf(stderr, "gan.c internal error at %s:%d: ", __FILE__, __LINE__);          \
        fprintf(stderr, __VA_ARGS__);                                                    \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

// GAN_CHECK(cond, "fmt", ...): abort with the message when cond is false.
#define GAN_CHECK(cond, ...)                                                             \
    do {                                                                                 \
        if (!(cond)) GAN_FATAL(__VA_ARGS__);                                             \
    } while (0)
