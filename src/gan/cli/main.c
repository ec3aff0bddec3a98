// gan: train GANs from config files, resume them, sample from them.
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "error.h"

static const char usage[] =
    "usage: gan <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG.yaml [key.path=value ...] [--run-dir DIR]   start a training run\n"
    "  train --resume RUN_DIR|CKPT.h5 [key.path=value ...]      continue one\n"
    "  sample CKPT.h5 [--n N] [--seed S] [--out FILE.png|.npy]  images from a trained generator\n"
    "  info CKPT.h5                                             what a checkpoint holds\n"
    "  eval CKPT.h5|RUN_DIR [--n N] [--ref REF]                  FID, KID, precision/recall, density/coverage\n"
    "  bench CONFIG.yaml [--steps N] [--threads T]              time training steps (JSON line)\n"
    "  --version                                                the version and the built backends\n"
    "\n"
    "train, sample, eval, info and bench take --device NAME (cpu; cuda, cuda:N where built).\n"
    "`gan COMMAND --help` describes a command's options. Exit status: 0 success, 2 usage or\n"
    "config error, 1 runtime failure.\n";

int gan_cli_fail(const char *cmd, const gan_err *err) {
    fprintf(stderr, "gan %s: error: %s\n", cmd, err->msg);
    return err->code ? err->code : GAN_EXIT_RUNTIME;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return GAN_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        // One line a script can read: the backends are the last field, comma-separated.
        printf("gan.c %s, backends: %s\n", GAN_VERSION, ag_backend_names());
        return 0;
    }
    if (!strcmp(cmd, "train")) return gan_cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "sample")) return gan_cmd_sample(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return gan_cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return gan_cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return gan_cmd_eval(argc - 2, argv + 2);
    fprintf(stderr, "gan: unknown command '%s'\n\n%s", cmd, usage);
    return GAN_EXIT_USAGE;
}
