// Command-line overrides ("train.steps=100") and the integer reader options share with config
// keys. The input is a list of overrides, one per line, applied to a complete config in both
// ways gan applies them: on top of a file (gan_config_parse, as `gan train CONFIG k=v`) and to a
// loaded config (gan_config_apply_overrides, as `gan train --resume RUN k=v`); the two must agree.
// Each line also goes through gan_config_read_int (every integer option) and the message
// clippers, which cut user text on UTF-8 boundaries.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

#define MAX_OVERRIDES 16

static const char base_yaml[] =
    "seed: 3\n"
    "model: {type: dcgan, resolution: 32, nz: 8, ngf: 4, ndf: 4, channels: 1}\n"
    "data: {path: /nonexistent/train-images-idx3-ubyte.gz, limit: 200}\n"
    "train: {steps: 6, batch_size: 8, threads: 1}\n"
    "checkpoint: {every: 3, keep: 2}\n"
    "sample: {every: 3, n: 4}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // Lines (a NUL ends a line too: an argument cannot hold one).
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *ov[MAX_OVERRIDES];
    int n = 0;
    for (char *p = text; p <= text + size && n < MAX_OVERRIDES;) {
        size_t len = strcspn(p, "\n");
        ov[n++] = p;
        if (p + len >= text + size) break;
        p[len] = '\0';
        p += len + 1;
    }
    gan_err err;
    for (int i = 0; i < n; i++) {
        int64_t x;
        gan_config_read_int("--n", ov[i], INT64_MIN, INT64_MAX, &x, &err);
        gan_config_read_int("--seed", ov[i], 0, INT64_MAX, &x, &err);
        gan_clipped c = gan_config_clip(ov[i]), cp = gan_config_clip_path(ov[i]);
        if (strlen(c.s) > GAN_CLIP_MAX + 3 || strlen(cp.s) > GAN_CLIP_PATH_MAX + 3)
            fuzz_fail("a clipped text is longer than the clip");
    }

    gan_config base, a, b;
    if (gan_config_parse(base_yaml, "base.yaml", 0, NULL, &base, &err) != 0)
        fuzz_fail("the base config does not read: %s", err.msg);
    b = base;
    int ra = gan_config_parse(base_yaml, "base.yaml", n, ov, &a, &err);
    int rb = gan_config_apply_overrides(&b, n, ov, &err);
    // All or nothing: a refused list leaves the config as it was.
    if (rb != 0 && gan_config_diff(&b, &base)) fuzz_fail("refused overrides changed the config");
    if (ra == 0 && rb == 0) {
        const char *diff = gan_config_diff(&a, &b);
        if (diff) fuzz_fail("the overrides give another %s on a file than on a loaded config", diff);
        char *yaml = gan_config_to_yaml(&a);
        gan_config back;
        if (gan_config_parse(yaml, "resolved.yaml", 0, NULL, &back, &err) != 0)
            fuzz_fail("an overridden config does not read back: %s\n%s", err.msg, yaml);
        if ((diff = gan_config_diff(&a, &back))) fuzz_fail("an overridden config reads back with another %s", diff);
        free(yaml);
    }
    free(text);
    return 0;
}
