// gan info: what a checkpoint holds.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "device.h"
#include "family.h"
#include "trainer.h"

static const char usage[] =
    "usage: gan info CKPT.h5|RUN_DIR [--device NAME]\n"
    "\n"
    "Prints the model, training step, parameter counts, data position and the stored config.\n"
    "\n"
    "options:\n"
    "  --device NAME   the backend that builds the model to count its parameters (default cpu,\n"
    "                  whatever the run trained on: info computes nothing)\n";

int gan_cmd_info(int argc, char **argv) {
    gan_err err = {0};
    const char *ckpt = NULL, *device = "cpu";
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) return fputs(usage, stdout), 0;
        if (!strcmp(o, "--device")) {
            // A value is never an option: "--device --help" lacks the device.
            if (!v || !strncmp(v, "--", 2)) {
                gan_errf(&err, GAN_EXIT_USAGE, "--device needs a value (usage: gan info CKPT.h5 [--device NAME])");
                return gan_cli_fail("info", &err);
            }
            device = argv[++i];
        } else if (o[0] == '-') {
            gan_errf(&err, GAN_EXIT_USAGE, "unknown option %s (usage: gan info CKPT.h5 [--device NAME])",
                     gan_config_clip(o).s);
            return gan_cli_fail("info", &err);
        } else if (ckpt) {
            gan_errf(&err, GAN_EXIT_USAGE, "unexpected argument '%s' (usage: gan info CKPT.h5 [--device NAME])",
                     gan_config_clip(o).s);
            return gan_cli_fail("info", &err);
        } else {
            ckpt = o;
        }
    }
    if (!ckpt) {
        gan_errf(&err, GAN_EXIT_USAGE, "expected one checkpoint file (usage: gan info CKPT.h5)");
        return gan_cli_fail("info", &err);
    }
    char path[GAN_PATH_MAX];
    if (gan_resolve_checkpoint(ckpt, path, sizeof path, &err) != 0) return gan_cli_fail("info", &err);
    gan_config cfg;
    if (gan_ckpt_read_config(path, 0, NULL, &cfg, &err) != 0) return gan_cli_fail("info", &err);
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, &err) != 0) return gan_cli_fail("info", &err);
    int64_t step = 0, epoch = 0, pos = 0, threads = 0;
    double elapsed = 0;
    int rc = gan_ckpt_check_state_attrs(r, &err) || gan_ckpt_get_attr_i64(r, "/", "step", &step, &err) ||
             gan_ckpt_get_attr_f64(r, "/", "elapsed_seconds", &elapsed, &err) ||
             gan_ckpt_get_attr_i64(r, "/", "data_epoch", &epoch, &err) ||
             gan_ckpt_get_attr_i64(r, "/", "data_position", &pos, &err) ||
             gan_ckpt_get_attr_i64(r, "/", "threads", &threads, &err);
    gan_ckpt_close(r);
    if (rc) return gan_cli_fail("info", &err);

    // Parameter counts from the architecture the config describes (the file matched it when
    // it was written; `gan sample` and --resume verify every shape when they load).
    const gan_family *fam = gan_family_find(cfg.model.type);
    if (!fam) {
        gan_errf(&err, GAN_EXIT_RUNTIME, "%s: model type '%s' is not one this gan builds", path, cfg.model.type);
        return gan_cli_fail("info", &err);
    }
    ag_backend *be = gan_device_open(device, 1, "--device", &err);
    if (!be) return gan_cli_fail("info", &err);
    ag_rng init = ag_rng_make(0);
    gan_model *m = fam->create(&cfg, be, &init, &err);
    if (!m) {
        ag_backend_close(be);
        return gan_cli_fail("info", &err);
    }
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    printf("checkpoint  %s (%.1f MB)\n", path, bytes / 1e6);
    fam->describe(m, stdout);
    printf("step        %lld of %lld (%.1f s of training, %lld thread%s)\n", (long long)step,
           (long long)cfg.train.steps, elapsed, (long long)threads, threads == 1 ? "" : "s");
    printf("data        %s (epoch %lld, position %lld)\n", cfg.data.path, (long long)epoch, (long long)pos);
    printf("device      %s\n", cfg.device);
    printf("\nconfig:\n");
    char *yaml = gan_config_to_yaml(&cfg);
    fputs(yaml, stdout);
    free(yaml);
    fam->free(m);
    ag_backend_close(be);
    return 0;
}
