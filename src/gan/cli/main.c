// gan: train GANs from config files, resume them, sample from them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backend.h"
#include "cli.h"
#include "dist.h"
#include "error.h"
#include "version.h"

static const char usage[] =
    "usage: gan <command> [options]\n"
    "\n"
    "commands:\n"
    "  train CONFIG.yaml [key.path=value ...] [--run-dir DIR]   start a training run\n"
    "  train --resume RUN_DIR|CKPT.h5 [key.path=value ...]      continue one\n"
    "  sample RUN_DIR|CKPT.h5 [options]                         images from a trained generator\n"
    "  eval RUN_DIR|CKPT.h5 [options]                           FID, KID, precision/recall, density/coverage\n"
    "  eval --samples FILE.npy|DIR --ref DATASET|STATS          the same for images made elsewhere\n"
    "  info RUN_DIR|CKPT.h5                                     what a checkpoint holds\n"
    "  bench CONFIG.yaml [key.path=value ...] [options]         time training steps (JSON line)\n"
    "  report RUN_DIR [--out FILE]                              write RUN_DIR/report.html (curves, grids, ...)\n"
    "  runs [DIR] [--json]                                      one line per run in DIR (default runs/)\n"
    "  --version                                                version, commit, backends and their BLAS\n"
    "\n"
    "train, sample, eval, info and bench take --device NAME (cpu; cuda, cuda:N where built).\n"
    "`gan COMMAND --help` describes a command's options. Exit status: 0 success, 2 usage or\n"
    "config error, 1 runtime failure.\n";

int gan_cli_fail(const char *cmd, const gan_err *err) {
    fprintf(stderr, "gan %s: error: %s\n", cmd, err->msg);
    return err->code ? err->code : GAN_EXIT_RUNTIME;
}

// The arguments as the commands take them: "--opt=value" as "--opt value", so that every command
// takes both spellings. Only arguments that start with "--" are split, at their first '=':
// overrides (key.path=value) and values are left whole. `owned` lists the copies made.
typedef struct args {
    int argc;
    char **argv;
    char **owned;
    int nowned;
} args;

static args split_long_options(int argc, char **argv) {
    args a = {.argv = gan_xcalloc((size_t)(2 * argc + 1), sizeof(char *), "the arguments"),
              .owned = gan_xcalloc((size_t)argc + 1, sizeof(char *), "the arguments")};
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (i < 2 || strncmp(argv[i], "--", 2) || !eq || eq == argv[i] + 2) {
            a.argv[n++] = argv[i];
            continue;
        }
        char *name = gan_xmalloc((size_t)(eq - argv[i]) + 1, "an option's name");
        memcpy(name, argv[i], (size_t)(eq - argv[i]));
        name[eq - argv[i]] = '\0';
        a.owned[a.nowned++] = name;
        a.argv[n++] = name;
        a.argv[n++] = (char *)eq + 1;
    }
    a.argc = n;
    return a;
}

static int run(int argc, char **argv) {
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
        // A first line a script can read (the backends are its last field, comma-separated),
        // then the math libraries of each backend this machine can open.
        printf("gan.c %s (commit %s), backends: %s\n", GAN_VERSION, GAN_COMMIT, ag_backend_names());
        char names[256], why[256];
        snprintf(names, sizeof names, "%s", ag_backend_names());
        for (char *name = strtok(names, ", "); name; name = strtok(NULL, ", ")) {
            ag_backend *be = ag_backend_open(name, why, sizeof why);
            if (!be) {
                printf("%s: not usable here (%s)\n", name, why);
                continue;
            }
            ag_backend_desc d;
            ag_backend_describe(be, &d);
            printf("%s: %s; kernels %s; %s\n", name, d.library, d.kernels, d.device);
            ag_backend_close(be);
        }
        // Whether `mpirun -np N gan train` can train over N processes (docs/distributed.md).
        printf("dist: %s\n", strcmp(gan_dist_build_backend(), "mpi") ? "none (one process; build with MPI for more)"
                                                                      : "mpi (data-parallel training under mpirun or srun)");
        return 0;
    }
    if (!strcmp(cmd, "train")) return gan_cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "sample")) return gan_cmd_sample(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return gan_cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench")) return gan_cmd_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return gan_cmd_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return gan_cmd_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "runs")) return gan_cmd_runs(argc - 2, argv + 2);
    fprintf(stderr, "gan: unknown command '%s'\n\n%s", cmd, usage);
    return GAN_EXIT_USAGE;
}

int main(int argc, char **argv) {
    args a = split_long_options(argc, argv);
    int rc = run(a.argc, a.argv);
    for (int i = 0; i < a.nowned; i++) free(a.owned[i]);
    free(a.owned);
    free(a.argv);
    return rc;
}
