// Programmer-error checks for src/gan. A failed check is a bug in the caller (a count, shape or
// mode the code should never produce), never bad user input: configs, files and data travel up
// as a gan_err (error.h) instead. It prints file:line and the message and aborts, so a debugger
// or core dump lands on the spot. The engine's AG_CHECK (its public fatal.h) behaves the same
// way; src/gan keeps its own because core/ and config/ sit below the engine and include none of
// it.
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
