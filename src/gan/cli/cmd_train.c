// gan train: start a run from a config, or resume one.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "trainer.h"

// Every process's setup result (rc) met: 0 when all succeeded; else -1 with err holding the
// lowest failing rank's error (broadcast from it).
static int agree_on_setup(gan_dist *dist, int rc, gan_err *err) {
    const int failed = gan_dist_first_failed(dist, rc == 0);
    if (failed < 0) return 0;
    gan_err theirs = *err, ignored;
    if (gan_dist_broadcast(dist, &theirs, sizeof theirs, failed, &ignored) != 0) theirs = *err;
    *err = theirs;
    if (failed != 0) gan_errf(err, theirs.code, "rank %d: %s", failed, theirs.msg);
    return -1;
}

static const char usage[] =
    "usage: gan train CONFIG.yaml [key.path=value ...] [--run-dir DIR] [--device NAME]\n"
    "       gan train --resume RUN_DIR|CKPT.h5 [key.path=value ...] [--device NAME]\n"
    "\n"
    "Starts a training run from a YAML config, or continues one from its latest checkpoint (or\n"
    "a given one). key.path=value overrides a config key (train.steps=5000). A resumed run may\n"
    "change only train.steps, train.threads, device, checkpoint.*, sample.every, log.every and eval.*.\n"
    "\n"
    "options:\n"
    "  --run-dir DIR    where the run writes (default runs/NAME, NAME = the config's name key, or\n"
    "                   runs/NAME-2, -3, ... when runs/NAME holds a run already)\n"
    "  --resume PATH    a run directory, or a checkpoint in its checkpoints/ folder, to continue\n"
    "  --device NAME    the backend to train on (the config's device key; default cpu): cpu,\n"
    "                   or cuda / cuda:N in a build with CUDA\n"
    "  --help-config    every config key with its type, default and meaning\n"
    "\n"
    "Ctrl-C (or SIGTERM) finishes the current step, writes a checkpoint and exits 0. One process\n"
    "writes a run at a time (RUN/.lock); a second one exits 1 naming the first.\n"
    "\n"
    "Data-parallel over several processes, in a build with MPI: mpirun -np N gan train CONFIG.yaml\n"
    "(or srun). train.batch_size stays the global batch and must divide by N; rank 0 writes the\n"
    "run. docs/distributed.md says what runs so and how to launch on a cluster.\n";

// The config's name names the run directory runs/NAME: one path component, so a run never
// lands outside runs/ (checked with --run-dir too: a config is valid or not whatever the flags).
static int check_run_name(const char *config_path, const char *name, gan_err *err) {
    if (!name[0])
        return gan_errf(err, GAN_EXIT_USAGE, "%s: name: empty; give the run a name (it names its directory, "
                        "runs/NAME)", config_path);
    if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: name: '%s' is not a plain name: it names the run directory "
                        "runs/NAME, so it may not contain '/' or be '.' or '..'", config_path, name);
    return 0;
}

int gan_cmd_train(int argc, char **argv) {
    const char *config_path = NULL, *run_dir = NULL, *resume = NULL;
    const char **overrides = gan_xcalloc((size_t)argc + 1, sizeof *overrides, "the config overrides");
    int noverrides = 0;
    char device[GAN_CONFIG_DEVICE_MAX + 16] = "";  // --device NAME as the override device=NAME
    gan_err err = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            free(overrides);
            return 0;
        } else if (!strcmp(a, "--help-config")) {
            gan_config_print_schema(stdout);
            free(overrides);
            return 0;
        } else if (!strcmp(a, "--run-dir") || !strcmp(a, "--resume") || !strcmp(a, "--device")) {
            if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {  // `--run-dir --bogus`: a value forgotten
                gan_errf(&err, GAN_EXIT_USAGE, "%s needs a value", a);
                break;
            }
            if (!strcmp(a, "--device")) snprintf(device, sizeof device, "device=%s", argv[++i]);
            else *(!strcmp(a, "--run-dir") ? &run_dir : &resume) = argv[++i];
        } else if (a[0] == '-') {
            gan_errf(&err, GAN_EXIT_USAGE, "unknown option %s (see gan train --help)", a);
            break;
        } else if (strchr(a, '=')) {
            overrides[noverrides++] = a;
        } else if (!config_path) {
            config_path = a;
        } else {
            gan_errf(&err, GAN_EXIT_USAGE, "unexpected argument '%s' (one config file; overrides look like key.path=value)", a);
            break;
        }
    }
    if (!err.msg[0] && !config_path && !resume)
        gan_errf(&err, GAN_EXIT_USAGE, "no config file given (usage: gan train CONFIG.yaml, see --help)");
    if (!err.msg[0] && config_path && resume)
        gan_errf(&err, GAN_EXIT_USAGE, "give a config file or --resume, not both (a resumed run uses its stored config)");
    if (!err.msg[0] && resume && run_dir)
        gan_errf(&err, GAN_EXIT_USAGE, "--run-dir does not apply to --resume (the run continues in its own directory)");
    if (err.msg[0]) {
        free(overrides);
        return gan_cli_fail("train", &err);
    }
    if (device[0]) overrides[noverrides++] = device;  // last, so it wins over a device=... override

    // The run's processes: this one alone, or every process a launcher (mpirun, srun) started.
    gan_dist *dist = gan_dist_open(&err);
    if (!dist) {
        free(overrides);
        return gan_cli_fail("train", &err);
    }
    const int nproc = gan_dist_size(dist), rank = gan_dist_rank(dist);
    // Rank 0 speaks for the run: the others' progress would only repeat it.
    if (rank > 0 && !freopen("/dev/null", "w", stdout)) fprintf(stderr, "gan train: rank %d: stdout stays open\n", rank);

    gan_trainer tr;
    memset(&tr, 0, sizeof tr);
    int rc;
    if (resume) {
        rc = gan_trainer_resume(&tr, resume, noverrides, overrides, dist, &err);
    } else {
        gan_config cfg;
        rc = gan_config_load(config_path, noverrides, overrides, &cfg, &err);
        if (rc == 0) rc = check_run_name(config_path, cfg.name, &err);
        char dir[GAN_PATH_MAX];
        if (rc == 0 && !run_dir) {
            // Training one config again starts a new run beside the old one; a directory given
            // with --run-dir is the user's choice and is never renamed.
            int renamed = gan_trainer_default_run_dir(cfg.name, dir, sizeof dir, &err);
            rc = renamed < 0 ? -1 : 0;
            if (renamed > 0)
                fprintf(stderr, "gan train: note: runs/%s holds a run already (continue it with `gan train --resume "
                        "runs/%s`); this run goes to %s\n", cfg.name, cfg.name, dir);
            run_dir = dir;
        }
        if (rc == 0) rc = gan_trainer_create(&tr, &cfg, run_dir, dist, &err);
    }
    // Before the first step every process meets: a setup that failed anywhere (a config this
    // split cannot run, rank 0 finding the run directory taken) stops all of them, with the
    // lowest failing rank's message, and none is left waiting in a collective.
    const bool agreed = nproc > 1 && agree_on_setup(dist, rc, &err) != 0;
    if (agreed) rc = -1;
    if (rc == 0) rc = gan_trainer_run(&tr, &err);
    gan_trainer_free(&tr);
    free(overrides);
    if (rc == 0 || nproc == 1 || agreed) {
        // Rank 0 says why before the processes part: the first to exit non-zero makes mpirun
        // end the others, and rank 0's message must be out by then (closing meets every rank).
        int code = 0;
        if (rc != 0) code = rank == 0 ? gan_cli_fail("train", &err) : (err.code ? err.code : GAN_EXIT_RUNTIME);
        fflush(stderr);
        gan_dist_close(dist);
        return code;
    }
    // One process failing inside the loop (an I/O error of rank 0's, a diverged step) must not
    // leave the others waiting in a collective: it ends the whole run (gan_dist_abort).
    char who[32];
    snprintf(who, sizeof who, "train (rank %d of %d)", rank, nproc);
    gan_cli_fail(who, &err);
    fflush(stdout);
    fflush(stderr);
    const int code = err.code ? err.code : GAN_EXIT_RUNTIME;
    gan_dist_abort(dist, code);
    return code;
}
