// The public face of the config system for gan_config: file or string, then overrides, then the
// whole-config checks, then the name default. The schema itself is in config_schema.c.
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "config_schema.h"
#include "gan_check.h"

// "runs/exp.v2.yaml" -> "exp.v2"; "ckpt.h5:/config" -> "config".
static void default_name(const char *source, char *buf, size_t size) {
    const char *base = strrchr(source, '/');
    base = base ? base + 1 : source;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (!n) base = "run", n = 3;
    snprintf(buf, size, "%.*s", (int)n, base);
}

static int check_overrides(int n, const char *const *overrides) {
    GAN_CHECK(n >= 0 && (n == 0 || overrides), "config: %d overrides but no array", n);
    for (int i = 0; i < n; i++) GAN_CHECK(overrides[i], "config: override %d is NULL", i);
    return 0;
}

int gan_config_check_threads(const char *what, int64_t threads, gan_err *err) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || threads <= (int64_t)GAN_THREADS_PER_CORE * cores) return 0;
    return gan_errf(err, GAN_EXIT_USAGE, "%s: %" PRId64 " is more than %d times this machine's %ld "
                    "cores (at most %ld; 0 uses all cores)", what, threads, GAN_THREADS_PER_CORE,
                    cores, GAN_THREADS_PER_CORE * cores);
}

// train.threads as the user gave it now: in their own file (`file`) or an override. A config
// stored in a checkpoint may come from a bigger machine; it keeps its thread count.
static int check_user_threads(const gan_cfg_run *run, bool file, gan_err *err) {
    int i = gan_cfg_find(run->schema, "train.threads");
    const gan_cfg_origin *o = &run->origin[i];
    if (!o->given || (!file && !o->override)) return 0;
    char where[GAN_CLIP_PATH_MAX + 128];
    if (o->override) snprintf(where, sizeof where, "override '%s': train.threads", gan_config_clip(o->override).s);
    else snprintf(where, sizeof where, "%s:%d:%d: train.threads", run->source, o->line, o->col);
    return gan_config_check_threads(where, ((const gan_config *)run->base)->train.threads, err);
}

// Keys that apply on their own but not together. The schema's .when handles a key that needs one
// value of another (train.gp_lambda needs train.loss wgan-gp); these need a check of two values.
// The message names both keys and where the first was given.
static void given_at(const gan_cfg_run *run, const char *key, char *buf, size_t size) {
    const gan_cfg_origin *o = &run->origin[gan_cfg_find(run->schema, key)];
    buf[0] = '\0';
    if (o->override) snprintf(buf, size, "override '%s': ", gan_config_clip(o->override).s);
    else if (o->given) snprintf(buf, size, "%s:%d:%d: ", run->source, o->line, o->col);
}

// Augmentation: augment.diffaugment is a comma-separated policy of color, translation and
// cutout, each at most once (src/gan/models/augment parses it again); DiffAugment and ADA are
// two answers to the same problem and are not stacked.
static int check_augment(const gan_cfg_run *run, gan_err *err) {
    const gan_config *cfg = run->base;
    char where[GAN_CLIP_PATH_MAX + 128];
    const char *policy = cfg->augment.diffaugment;
    bool seen[3] = {false, false, false};
    static const char *const parts[3] = {"color", "translation", "cutout"};
    for (const char *p = policy; *p;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int k = 0; k < 3; k++)
            if (strlen(parts[k]) == len && !strncmp(p, parts[k], len)) found = k;
        if (found < 0 || seen[found]) {
            given_at(run, "augment.diffaugment", where, sizeof where);
            return gan_errf(err, GAN_EXIT_USAGE, "%saugment.diffaugment '%s': '%.*s' is %s (expected a comma-separated "
                            "list of color, translation, cutout, each at most once)", where, policy, (int)len, p,
                            found < 0 ? "no DiffAugment policy" : "given twice");
        }
        seen[found] = true;
        p += len;
        if (*p == ',') p++;
    }
    if (policy[0] && cfg->augment.ada) {
        given_at(run, "augment.ada", where, sizeof where);
        return gan_errf(err, GAN_EXIT_USAGE, "%saugment.ada and augment.diffaugment '%s' are both set: choose one "
                        "(remove augment.diffaugment or set augment.ada=false)", where, policy);
    }
    return 0;
}

static int check_combinations(const gan_cfg_run *run, gan_err *err) {
    const gan_config *cfg = run->base;
    char where[GAN_CLIP_PATH_MAX + 128];
    if (check_augment(run, err)) return -1;
    if (!strcmp(cfg->model.type, "stylegan2")) {
        // Two gradient penalties with opposite aims: R1 pushes D's gradient at the reals to 0,
        // WGAN-GP pushes its norm at interpolates to 1.
        if (!strcmp(cfg->stylegan2.loss, "wgan-gp") && cfg->stylegan2.r1_gamma > 0) {
            given_at(run, "stylegan2.loss", where, sizeof where);
            return gan_errf(err, GAN_EXIT_USAGE, "%sstylegan2.loss wgan-gp has its own gradient penalty, but "
                            "stylegan2.r1_gamma is %g (set stylegan2.r1_gamma=0 with wgan-gp)", where,
                            cfg->stylegan2.r1_gamma);
        }
        return 0;
    }
    // Label smoothing moves BCE's target; the other losses have no target label to move (a hinge
    // margin or a Wasserstein score is not a probability).
    bool bce = !strcmp(cfg->train.loss, "bce") || !strcmp(cfg->train.loss, "logits");
    if (cfg->train.label_smoothing > 0 && !bce) {
        given_at(run, "train.label_smoothing", where, sizeof where);
        return gan_errf(err, GAN_EXIT_USAGE, "%strain.label_smoothing %g applies only when train.loss is bce or "
                        "logits, but train.loss is %s (set train.label_smoothing=0)", where,
                        cfg->train.label_smoothing, cfg->train.loss);
    }
    return 0;
}

// `file`: the text is a file the user gave now (gan_config_load), not a stored config.
static int parse(const char *yaml_text, const char *source_name, bool file, int noverrides,
                 const char *const *overrides, gan_config *cfg, gan_err *err) {
    const gan_cfg_schema *s = &gan_config_schema;
    check_overrides(noverrides, overrides);
    gan_cfg_origin *origin = gan_xcalloc((size_t)s->nkeys, sizeof *origin, "the config keys' origins");
    const gan_clipped source = gan_config_clip_path(source_name);
    gan_cfg_run run = {s, cfg, source.s, origin};
    gan_cfg_set_defaults(s, cfg);
    int rc = gan_cfg_read_yaml(&run, yaml_text, strlen(yaml_text), err);
    for (int i = 0; rc == 0 && i < noverrides; i++)
        rc = gan_cfg_apply_override(&run, overrides[i], err);
    if (rc == 0) rc = gan_cfg_finish(&run, 1, err);
    if (rc == 0) rc = check_combinations(&run, err);
    if (rc == 0) rc = check_user_threads(&run, file, err);
    int name = gan_cfg_find(s, "name");
    if (rc == 0 && !origin[name].given) {
        char text[GAN_PATH_MAX], where[GAN_PATH_MAX + 64];
        default_name(source_name, text, sizeof text);
        gan_cfg_value v = {GAN_CFG_QUOTED, text, strlen(text)};
        snprintf(where, sizeof where, "%s (no name given, so taken from the file name)", source.s);
        rc = gan_cfg_set_value(&s->keys[name], cfg, &v, where, err);
    }
    free(origin);
    return rc;
}

int gan_config_parse(const char *yaml_text, const char *source_name, int noverrides,
                     const char *const *overrides, gan_config *cfg, gan_err *err) {
    return parse(yaml_text, source_name, false, noverrides, overrides, cfg, err);
}

// A NUL byte would end the text for every reader (the rest silently dropped): refused, by line.
static int check_no_nul(const char *path, const char *text, size_t size, gan_err *err) {
    const char *nul = memchr(text, '\0', size);
    if (!nul) return 0;
    int line = 1;
    for (const char *p = text; p < nul; p++) line += *p == '\n';
    return gan_errf(err, GAN_EXIT_USAGE, "%s:%d: a NUL byte; a config is text (is this a binary file?)",
                    gan_config_clip_path(path).s, line);
}

int gan_config_load(const char *path, int noverrides, const char *const *overrides,
                    gan_config *cfg, gan_err *err) {
    if (gan_fs_is_dir(path))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: is a directory, expected a YAML config file",
                        gan_config_clip_path(path).s);
    char *text;
    size_t size;
    if (gan_fs_read_all(path, &text, &size, err) != 0) {
        err->code = GAN_EXIT_USAGE;  // a config the user named and we cannot read: their fix
        return -1;
    }
    int rc = check_no_nul(path, text, size, err);
    if (rc == 0) rc = parse(text, path, true, noverrides, overrides, cfg, err);
    free(text);
    return rc;
}

int gan_config_apply_overrides(gan_config *cfg, int noverrides, const char *const *overrides,
                               gan_err *err) {
    const gan_cfg_schema *s = &gan_config_schema;
    check_overrides(noverrides, overrides);
    gan_config next = *cfg;
    gan_cfg_origin *origin = gan_xcalloc((size_t)s->nkeys, sizeof *origin, "the config keys' origins");
    gan_cfg_run run = {s, &next, "overrides", origin};
    int rc = 0;
    for (int i = 0; rc == 0 && i < noverrides; i++)
        rc = gan_cfg_apply_override(&run, overrides[i], err);
    if (rc == 0) rc = gan_cfg_finish(&run, 0, err);
    if (rc == 0) rc = check_combinations(&run, err);
    if (rc == 0) rc = check_user_threads(&run, false, err);
    if (rc == 0) *cfg = next;
    free(origin);
    return rc;
}

char *gan_config_to_yaml(const gan_config *cfg) {
    return gan_cfg_to_yaml(&gan_config_schema, cfg,
                           "gan experiment config, resolved: every key, defaults filled in.\n"
                           "Keys and their meaning: docs/config.md.");
}

void gan_config_print_schema(FILE *f) { gan_cfg_print_schema(&gan_config_schema, f); }

const char *gan_config_diff(const gan_config *a, const gan_config *b) {
    return gan_cfg_diff(&gan_config_schema, a, b);
}
