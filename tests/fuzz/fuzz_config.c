// The YAML config reader (config/): the input is a config file, read as `gan train` reads one
// (gan_config_load). A config it accepts must survive the round trip the run directory and
// checkpoints rely on: written out (gan_config_to_yaml), read back, it is the same config.
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[GAN_PATH_MAX];
    fuzz_write("exp.yaml", data, size, path);
    gan_config cfg, back;
    gan_err err;
    if (gan_config_load(path, 0, NULL, &cfg, &err) != 0) return 0;
    char *yaml = gan_config_to_yaml(&cfg);
    if (gan_config_parse(yaml, "resolved.yaml", 0, NULL, &back, &err) != 0)
        fuzz_fail("an accepted config does not read back: %s\n%s", err.msg, yaml);
    const char *diff = gan_config_diff(&cfg, &back);
    if (diff) fuzz_fail("an accepted config reads back with another %s:\n%s", diff, yaml);
    free(yaml);
    return 0;
}
