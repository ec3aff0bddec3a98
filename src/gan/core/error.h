// User errors (configs, data, checkpoints, command lines): a message that travels up to the CLI,
// which prints it as one line and exits with the error's code. Library code never exits.
//
//   if (load(path, &x, err) != 0) return -1;                 // pass it up unchanged
//   return gan_errf(err, GAN_EXIT_USAGE, "%s:%d: unknown key 'lr'", file, line);
#pragma once

enum { GAN_EXIT_OK = 0, GAN_EXIT_RUNTIME = 1, GAN_EXIT_USAGE = 2 };

typedef struct gan_err {
    int code;        // GAN_EXIT_USAGE for usage and config errors, GAN_EXIT_RUNTIME otherwise
    char msg[1024];  // "what, where; hint"
} gan_err;

// Sets the error and returns -1, so `return gan_errf(...)` reads as the failure path.
int gan_errf(gan_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Prefixes context to an error already set ("loading runs/x/ckpt.h5: " + msg). Returns -1.
int gan_err_prefix(gan_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
