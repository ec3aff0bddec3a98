// gan sample: images from a trained generator.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "family.h"
#include "generator.h"
#include "image_grid.h"
#include "npy.h"
#include "trainer.h"

static const char usage[] =
    "usage: gan sample CKPT.h5|RUN_DIR [options]\n"
    "\n"
    "Writes images from the checkpoint's generator as a PNG grid or a float32 .npy array\n"
    "(N, C, H, W) in [-1, 1]. DCGAN runs its batchnorm on the running statistics (eval mode) and\n"
    "StyleGAN2 samples from G_ema, so an image depends only on its own latent, never on the rest\n"
    "of the batch.\n"
    "\n"
    "options:\n"
    "  --n N              number of images (default 64)\n"
    "  --seed S           latents from Philox stream S (default 0): image i gets draws\n"
    "                     [i*nz, (i+1)*nz) of N(0, 1), so --n only adds images\n"
    "  --z FILE.npy       latents from a float32 array (N, nz) or (N, nz, 1, 1) instead, all\n"
    "                     finite (a nan or inf is refused, naming its row)\n"
    "  --interpolate S1,S2[,...]  one row per consecutive pair of seeds, from the first image of\n"
    "                     --seed S1 to that of S2 (DCGAN: slerp in z; StyleGAN2: lerp in W)\n"
    "  --steps K          images per interpolation row (default 8)\n"
    "  --truncation PSI   StyleGAN2: pull W toward its average (1 = none, default)\n"
    "  --noise MODE       StyleGAN2 noise inputs: const (each layer's stored noise, default) or\n"
    "                     random (drawn from --seed's stream after the latents)\n"
    "  --mix ROWS:COLS    StyleGAN2 style-mixing grid: comma-separated seeds for the rows and the\n"
    "                     columns; each cell is a row's image with the column's styles in\n"
    "                     --mix-layers (first row and column: the sources)\n"
    "  --mix-layers LO:HI the W layers taken from the column seed (default: the coarse half)\n"
    "  --class K          conditional models (model.num_classes > 0): every image of class K\n"
    "                     (0-based); without it a conditional model's grid has one class per\n"
    "                     row (row r: class r mod num_classes), as are interpolation rows;\n"
    "                     a mixing grid's row seed i and column seed j are of class i and j\n"
    "                     mod num_classes\n"
    "  --nrow R           images per grid row (default: square, --steps, or the mixing grid's)\n"
    "  --out FILE         .png (grid) or .npy (array); default sample.png\n"
    "  --no-crop          keep the model's full resolution (by default images are cropped to\n"
    "                     the training data's size, e.g. 32x32 back to Fashion-MNIST's 28x28)\n"
    "  --device NAME      the backend to run on (default: the device the run trained on)\n";

typedef struct sample_args {
    const char *ckpt, *out, *z_path, *interp, *mix, *mix_layers, *noise, *device;
    int n, nrow, steps;
    int klass;  // --class; -1 when not given
    int64_t seed;
    double psi;
    bool psi_given, crop;
} sample_args;

// The options that take a value. Anything else starting with '-' is --no-crop or unknown, wherever
// it stands; and a value is never an option ("--out --n 3" lacks the file name).
static bool takes_value(const char *o) {
    static const char *const names[] = {"--n", "--seed", "--z", "--interpolate", "--steps", "--truncation",
                                        "--noise", "--mix", "--mix-layers", "--nrow", "--out", "--class", "--device"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(o, names[i])) return true;
    return false;
}

static int parse_args(int argc, char **argv, sample_args *a, gan_err *err) {
    *a = (sample_args){.out = "sample.png", .n = 64, .steps = 8, .psi = 1.0, .crop = true, .klass = -1};
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(o, "--no-crop")) {
            a->crop = false;
            continue;
        }
        if (o[0] != '-') {
            if (a->ckpt)
                return gan_errf(err, GAN_EXIT_USAGE, "unexpected argument '%s' (one checkpoint)", gan_config_clip(o).s);
            a->ckpt = o;
            continue;
        }
        if (!takes_value(o))
            return gan_errf(err, GAN_EXIT_USAGE, "unknown option %s (see gan sample --help)", gan_config_clip(o).s);
        if (!v || !strncmp(v, "--", 2)) return gan_errf(err, GAN_EXIT_USAGE, "%s needs a value (see gan sample --help)", o);
        i++;
        if (!strcmp(o, "--n") || !strcmp(o, "--nrow") || !strcmp(o, "--steps")) {
            int64_t lo = !strcmp(o, "--nrow") ? 0 : (!strcmp(o, "--steps") ? 2 : 1);
            if (gan_config_read_int(o, v, lo, 65536, &x, err) != 0) return -1;
            *(!strcmp(o, "--n") ? &a->n : !strcmp(o, "--nrow") ? &a->nrow : &a->steps) = (int)x;
        } else if (!strcmp(o, "--seed")) {
            if (gan_config_read_int(o, v, 0, INT64_MAX, &a->seed, err) != 0) return -1;
        } else if (!strcmp(o, "--truncation")) {
            char *end;
            a->psi = strtod(v, &end);
            if (!*v || *end || !isfinite(a->psi))
                return gan_errf(err, GAN_EXIT_USAGE, "--truncation: expected a number (1 = none), got '%s'",
                                gan_config_clip(v).s);
            a->psi_given = true;
        } else if (!strcmp(o, "--noise")) {
            if (strcmp(v, "const") && strcmp(v, "random"))
                return gan_errf(err, GAN_EXIT_USAGE, "--noise: expected const or random, got '%s'", gan_config_clip(v).s);
            a->noise = v;
        } else if (!strcmp(o, "--z")) {
            a->z_path = v;
        } else if (!strcmp(o, "--out")) {
            a->out = v;
        } else if (!strcmp(o, "--interpolate")) {
            a->interp = v;
        } else if (!strcmp(o, "--mix")) {
            a->mix = v;
        } else if (!strcmp(o, "--mix-layers")) {
            a->mix_layers = v;
        } else if (!strcmp(o, "--class")) {  // checked against the model's classes once it is open
            if (gan_config_read_int(o, v, 0, 255, &x, err) != 0) return -1;
            a->klass = (int)x;
        } else {
            a->device = v;  // --device, the last of takes_value's names
        }
    }
    if (!a->ckpt) return gan_errf(err, GAN_EXIT_USAGE, "no checkpoint given (usage: gan sample CKPT.h5)");
    if (!!a->z_path + !!a->interp + !!a->mix > 1)
        return gan_errf(err, GAN_EXIT_USAGE, "--z, --interpolate and --mix exclude each other");
    size_t len = strlen(a->out);
    if (len < 5 || (strcmp(a->out + len - 4, ".png") && strcmp(a->out + len - 4, ".npy")))
        return gan_errf(err, GAN_EXIT_USAGE, "--out %s: expected a .png or .npy file name",
                        gan_config_clip_path(a->out).s);
    return 0;
}

// The latent of the first image of `--seed S`: the first nz draws of stream S.
static void first_latent(int64_t seed, int nz, float *z) {
    ag_rng r = ag_rng_make((uint64_t)seed);
    ag_philox_fill_normal(z, nz, r.seed, ag_rng_reserve(&r, nz), 0.0f, 1.0f);
}

// "1,2,3" -> seeds; at least `min` of them.
static int parse_seeds(const char *what, const char *spec, int min, int64_t *seeds, int max, int *count,
                       gan_err *err) {
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: expected %d to %d comma-separated seeds, got %zu bytes", what, min,
                        max, strlen(spec));
    *count = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (*count == max)
            return gan_errf(err, GAN_EXIT_USAGE, "%s %s: expected %d to %d comma-separated seeds", what,
                            gan_config_clip(spec).s, min, max);
        if (gan_config_read_int(what, tok, 0, INT64_MAX, &seeds[*count], err) != 0) return -1;
        (*count)++;
    }
    if (*count < min)
        return gan_errf(err, GAN_EXIT_USAGE, "%s %s: expected at least %d seeds", what, gan_config_clip(spec).s, min);
    return 0;
}

// --mix-layers "LO:HI" with 0 <= LO < HI <= layers.
static int parse_layers(const char *spec, int layers, int *lo, int *hi, gan_err *err) {
    char buf[64];
    const char *colon = strchr(spec, ':');
    int64_t l, h;
    gan_err ignored;
    if (!colon || snprintf(buf, sizeof buf, "%.*s", (int)(colon - spec), spec) >= (int)sizeof buf ||
        gan_config_read_int("LO", buf, 0, layers - 1, &l, &ignored) != 0 ||
        gan_config_read_int("HI", colon + 1, l + 1, layers, &h, &ignored) != 0)
        return gan_errf(err, GAN_EXIT_USAGE, "--mix-layers %s: expected LO:HI with 0 <= LO < HI <= %d",
                        gan_config_clip(spec).s, layers);
    *lo = (int)l, *hi = (int)h;
    return 0;
}

// Latents must be finite: a NaN or inf one gives NaN images that look like a broken generator.
static int check_finite(const char *path, const float *z, int64_t n, int nz, gan_err *err) {
    for (int64_t i = 0; i < n * nz; i++) {
        if (isfinite(z[i])) continue;
        const char *what = isnan(z[i]) ? "nan" : z[i] > 0 ? "inf" : "-inf";
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: latent row %lld (element %lld) is not finite (%s); latents "
                        "must be finite numbers", gan_config_clip_path(path).s, (long long)(i / nz),
                        (long long)(i % nz), what);
    }
    return 0;
}

static int read_latents(const char *path, int nz, float **z, int *n, gan_err *err) {
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    if (gan_npy_read_f32(path, &ndim, shape, z, err) != 0) return -1;
    bool ok = (ndim == 2 || (ndim == 4 && shape[2] == 1 && shape[3] == 1)) && shape[1] == nz && shape[0] >= 1;
    if (!ok) {
        free(*z);
        char got[GAN_NPY_MAX_DIMS * 24 + 8] = "(";
        for (int d = 0; d < ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "", (long long)shape[d]);
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s)", ndim == 1 ? "," : "");
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: latents of shape (N, %d) or (N, %d, 1, 1) with N >= 1 expected for this "
                        "generator (nz = %d), got shape %s", gan_config_clip_path(path).s, nz, nz, nz, got);
    }
    if (check_finite(path, *z, shape[0], nz, err) != 0) {
        free(*z);
        return -1;
    }
    *n = (int)shape[0];
    return 0;
}

// The images a request asks for, into *img (n of them, (C, R, R) each), laid out with *nrow
// per grid row. `stream` is --seed's stream, the one so->rng draws random noise from.
static int make_images(const gan_family *fam, gan_model *m, ag_ctx *c, const gan_config *cfg, const sample_args *a,
                       ag_rng *stream, const gan_sample_opts *so, float **img, int *n, int *nrow, gan_err *err) {
    const int nz = fam->latent_dim(cfg), R = cfg->model.resolution;
    const int64_t per = (int64_t)cfg->model.channels * R * R;
    // --seed's stream starts with the latents of --n images (image i: draws [i*nz, (i+1)*nz)), in
    // every mode, so the random noise drawn after them does not depend on where the latents come
    // from (--z, --mix and --interpolate leave them unused).
    const int64_t nlatent = (int64_t)a->n * nz;
    const uint64_t latent_counter = ag_rng_reserve(stream, nlatent);
    float *z = NULL;
    int64_t seeds[2][64];
    int count[2];
    *nrow = a->nrow;
    if (a->mix) {
        if (!fam->mixing_grid)
            return gan_errf(err, GAN_EXIT_USAGE, "--mix: a %s generator has no styles to mix (StyleGAN2 only)",
                            fam->type);
        char rows[2048], *cols;
        if (snprintf(rows, sizeof rows, "%s", a->mix) >= (int)sizeof rows || !(cols = strchr(rows, ':')))
            return gan_errf(err, GAN_EXIT_USAGE, "--mix %s: expected ROW_SEEDS:COLUMN_SEEDS, e.g. 1,2,3:4,5",
                            gan_config_clip(a->mix).s);
        *cols++ = '\0';
        if (parse_seeds("--mix rows", rows, 1, seeds[0], 64, &count[0], err) ||
            parse_seeds("--mix columns", cols, 1, seeds[1], 64, &count[1], err))
            return -1;
        int layers = fam->style_layers(cfg), lo = 0, hi = layers / 2;
        if (a->mix_layers && parse_layers(a->mix_layers, layers, &lo, &hi, err) != 0) return -1;
        float *rz = gan_xmalloc((size_t)count[0] * nz * sizeof(float), "the mixing grid's row latents");
        float *cz = gan_xmalloc((size_t)count[1] * nz * sizeof(float), "the mixing grid's column latents");
        for (int i = 0; i < count[0]; i++) first_latent(seeds[0][i], nz, rz + (int64_t)i * nz);
        for (int j = 0; j < count[1]; j++) first_latent(seeds[1][j], nz, cz + (int64_t)j * nz);
        *n = (count[0] + 1) * (count[1] + 1);
        *img = gan_xmalloc((size_t)*n * per * sizeof(float), "the images");
        gan_sample_opts mo = *so;
        int32_t *classes = NULL;
        if (cfg->model.num_classes > 0) {  // --class for every source, or row i / column j of class i / j mod K
            classes = gan_xmalloc((size_t)(count[0] + count[1]) * sizeof *classes, "the mixing grid's classes");
            for (int i = 0; i < count[0] + count[1]; i++)
                classes[i] = a->klass >= 0 ? a->klass : (i < count[0] ? i : i - count[0]) % cfg->model.num_classes;
            mo.labels = classes;
        }
        fam->mixing_grid(m, c, rz, count[0], cz, count[1], lo, hi, &mo, *img);
        free(classes);
        if (!*nrow) *nrow = count[1] + 1;
        free(rz);
        free(cz);
        return 0;
    }
    if (a->interp) {
        if (parse_seeds("--interpolate", a->interp, 2, seeds[0], 64, &count[0], err) != 0) return -1;
        *n = (count[0] - 1) * a->steps;
        *img = gan_xmalloc((size_t)*n * per * sizeof(float), "the images");
        float *za = gan_xmalloc((size_t)nz * sizeof(float), "an interpolation's latent");
        float *zb = gan_xmalloc((size_t)nz * sizeof(float), "an interpolation's latent");
        int32_t *row = gan_xmalloc((size_t)a->steps * sizeof *row, "a row's classes");
        gan_sample_opts ro = *so;
        for (int p = 0; p + 1 < count[0]; p++) {
            first_latent(seeds[0][p], nz, za);
            first_latent(seeds[0][p + 1], nz, zb);
            if (cfg->model.num_classes > 0) {  // --class, or one class per row
                for (int k = 0; k < a->steps; k++) row[k] = a->klass >= 0 ? a->klass : p % cfg->model.num_classes;
                ro.labels = row;
            }
            fam->interpolate(m, c, za, zb, a->steps, &ro, *img + (int64_t)p * a->steps * per);
        }
        free(row);
        free(za);
        free(zb);
        if (!*nrow) *nrow = a->steps;
        return 0;
    }
    if (a->z_path) {
        if (read_latents(a->z_path, nz, &z, n, err) != 0) return -1;
    } else {
        *n = a->n;
        z = gan_xmalloc((size_t)nlatent * sizeof(float), "the latents");
        ag_philox_fill_normal(z, nlatent, stream->seed, latent_counter, 0.0f, 1.0f);
    }
    *img = gan_xmalloc((size_t)*n * per * sizeof(float), "the images");
    gan_sample_opts go = *so;
    int32_t *labels = NULL;
    if (cfg->model.num_classes > 0) {  // --class, or one class per grid row
        labels = gan_xmalloc((size_t)*n * sizeof *labels, "the images' classes");
        gan_grid_row_labels(*n, *nrow, cfg->model.num_classes, labels);
        for (int i = 0; i < *n && a->klass >= 0; i++) labels[i] = a->klass;
        go.labels = labels;
    }
    fam->generate(m, c, z, *n, &go, *img);
    free(labels);
    free(z);
    return 0;
}

int gan_cmd_sample(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(usage, stdout), 0;
    gan_err err = {0};
    sample_args a;
    if (parse_args(argc, argv, &a, &err) != 0) return gan_cli_fail("sample", &err);
    gan_generator g;
    if (gan_generator_open(a.ckpt, a.device, &g, &err) != 0) return gan_cli_fail("sample", &err);
    const gan_family *fam = g.family;
    int rc = 0;
    if ((a.psi_given || a.noise) && !fam->style_layers)
        rc = gan_errf(&err, GAN_EXIT_USAGE, "--truncation and --noise apply to StyleGAN2 generators, not %s", fam->type);
    const int classes = g.cfg.model.num_classes;
    if (rc == 0 && a.klass >= 0 && classes == 0)
        rc = gan_errf(&err, GAN_EXIT_USAGE, "--class %d: %s is unconditional (model.num_classes 0); --class needs a "
                      "class-conditional checkpoint", a.klass, gan_config_clip_path(g.ckpt).s);
    else if (rc == 0 && a.klass >= classes)
        rc = gan_errf(&err, GAN_EXIT_USAGE, "--class %d: %s has %d classes (model.num_classes), so --class is 0 to %d",
                      a.klass, gan_config_clip_path(g.ckpt).s, classes, classes - 1);

    float *img = NULL;
    int n = 0, nrow = 0;
    const int R = g.cfg.model.resolution, C = g.cfg.model.channels;
    const int h = a.crop ? g.image_h : R, w = a.crop ? g.image_w : R;
    ag_rng stream = ag_rng_make((uint64_t)a.seed);
    if (rc == 0) {
        gan_sample_opts so = {.psi = (float)a.psi, .noise_mode = a.noise && !strcmp(a.noise, "random"), .rng = &stream};
        rc = make_images(fam, g.model, g.c, &g.cfg, &a, &stream, &so, &img, &n, &nrow, &err);
    }
    if (rc == 0) {
        if (h < R || w < R) gan_images_center_crop(img, n, C, R, R, h, w, img);
        if (!strcmp(a.out + strlen(a.out) - 4, ".png")) {
            rc = gan_grid_write_png(a.out, img, n, C, h, w, nrow, 2, &err);
        } else {
            int64_t shape[4] = {n, C, h, w};
            rc = gan_npy_write_f32(a.out, 4, shape, img, &err);
        }
        if (rc == 0) printf("wrote %d image%s (%dx%d) to %s\n", n, n == 1 ? "" : "s", h, w, a.out);
    }
    free(img);
    gan_generator_free(&g);
    return rc == 0 ? 0 : gan_cli_fail("sample", &err);
}
