// gan sample: images from a trained generator.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "dcgan.h"
#include "image_grid.h"
#include "npy.h"
#include "trainer.h"

static const char usage[] =
    "usage: gan sample CKPT.h5|RUN_DIR [options]\n"
    "\n"
    "Writes images from the checkpoint's generator as a PNG grid or a float32 .npy array\n"
    "(N, C, H, W) in [-1, 1]. Batchnorm uses its running statistics (eval mode), so an image\n"
    "depends only on its own latent, never on the rest of the batch.\n"
    "\n"
    "options:\n"
    "  --n N              number of images (default 64)\n"
    "  --seed S           latents from Philox stream S (default 0): image i gets draws\n"
    "                     [i*nz, (i+1)*nz) of N(0, 1), so --n only adds images\n"
    "  --z FILE.npy       latents from a float32 array (N, nz) or (N, nz, 1, 1) instead\n"
    "  --interpolate S1,S2[,...]  spherical interpolation (slerp) between the latents of\n"
    "                     seeds S1, S2, ...: one row per consecutive pair\n"
    "  --steps K          images per interpolation row (default 8)\n"
    "  --nrow R           images per grid row (default: square, or --steps)\n"
    "  --out FILE         .png (grid) or .npy (array); default sample.png\n"
    "  --no-crop          keep the model's full resolution (by default images are cropped to\n"
    "                     the training data's size, e.g. 32x32 back to Fashion-MNIST's 28x28)\n";

typedef struct sample_args {
    const char *ckpt, *out, *z_path, *interp;
    int n, nrow, steps;
    int64_t seed;
    bool crop;
} sample_args;

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, sample_args *a, gan_err *err) {
    *a = (sample_args){.out = "sample.png", .n = 64, .steps = 8, .crop = true};
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(o, "--no-crop")) {
            a->crop = false;
            continue;
        }
        if (o[0] != '-') {
            if (a->ckpt) return gan_errf(err, GAN_EXIT_USAGE, "unexpected argument '%s' (one checkpoint)", o);
            a->ckpt = o;
            continue;
        }
        if (!v) return gan_errf(err, GAN_EXIT_USAGE, "%s needs a value (see gan sample --help)", o);
        i++;
        if (!strcmp(o, "--n") || !strcmp(o, "--nrow") || !strcmp(o, "--steps")) {
            int64_t lo = !strcmp(o, "--nrow") ? 0 : (!strcmp(o, "--steps") ? 2 : 1);
            if (parse_int(v, lo, 65536, &x) != 0)
                return gan_errf(err, GAN_EXIT_USAGE, "%s: expected an integer in [%lld, 65536], got '%s'", o,
                                (long long)lo, v);
            *(!strcmp(o, "--n") ? &a->n : !strcmp(o, "--nrow") ? &a->nrow : &a->steps) = (int)x;
        } else if (!strcmp(o, "--seed")) {
            if (parse_int(v, 0, INT64_MAX, &x) != 0)
                return gan_errf(err, GAN_EXIT_USAGE, "--seed: expected a non-negative integer, got '%s'", v);
            a->seed = x;
        } else if (!strcmp(o, "--z")) {
            a->z_path = v;
        } else if (!strcmp(o, "--out")) {
            a->out = v;
        } else if (!strcmp(o, "--interpolate")) {
            a->interp = v;
        } else {
            return gan_errf(err, GAN_EXIT_USAGE, "unknown option %s (see gan sample --help)", o);
        }
    }
    if (!a->ckpt) return gan_errf(err, GAN_EXIT_USAGE, "no checkpoint given (usage: gan sample CKPT.h5)");
    if (a->z_path && a->interp) return gan_errf(err, GAN_EXIT_USAGE, "--z and --interpolate exclude each other");
    size_t len = strlen(a->out);
    if (len < 5 || (strcmp(a->out + len - 4, ".png") && strcmp(a->out + len - 4, ".npy")))
        return gan_errf(err, GAN_EXIT_USAGE, "--out %s: expected a .png or .npy file name", a->out);
    return 0;
}

// n latents of stream `seed`, image i from draws [i*nz, (i+1)*nz): one fill of n*nz values.
static void draw_latents(int64_t seed, int n, int nz, float *z) {
    ag_philox_fill_normal(z, (int64_t)n * nz, (uint64_t)seed, 0, 0.0f, 1.0f);
}

// Spherical interpolation, as used for Gaussian latents (White, "Sampling Generative Networks").
static void slerp(const float *a, const float *b, int n, float t, float *out) {
    double na = 0, nb = 0, dot = 0;
    for (int i = 0; i < n; i++) na += (double)a[i] * a[i], nb += (double)b[i] * b[i], dot += (double)a[i] * b[i];
    double cosv = dot / (sqrt(na) * sqrt(nb) + 1e-30);
    if (cosv > 1) cosv = 1;
    if (cosv < -1) cosv = -1;
    double omega = acos(cosv), so = sin(omega);
    for (int i = 0; i < n; i++) {
        if (so < 1e-6) out[i] = (float)((1 - t) * a[i] + t * b[i]);  // (nearly) parallel: linear
        else out[i] = (float)((sin((1 - t) * omega) * a[i] + sin(t * omega) * b[i]) / so);
    }
}

static int interpolation_latents(const char *spec, int steps, int nz, float **z, int *n, int *nrow, gan_err *err) {
    int64_t seeds[64];
    int count = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (count == 64 || parse_int(tok, 0, INT64_MAX, &seeds[count]) != 0)
            return gan_errf(err, GAN_EXIT_USAGE, "--interpolate %s: expected 2 to 64 comma-separated seeds", spec);
        count++;
    }
    if (count < 2) return gan_errf(err, GAN_EXIT_USAGE, "--interpolate %s: expected at least two seeds", spec);
    *n = (count - 1) * steps;
    *nrow = steps;
    *z = malloc((size_t)*n * nz * sizeof(float));
    float *za = malloc((size_t)nz * sizeof(float)), *zb = malloc((size_t)nz * sizeof(float));
    for (int p = 0; p + 1 < count; p++) {
        draw_latents(seeds[p], 1, nz, za);  // the first image of `--seed S`
        draw_latents(seeds[p + 1], 1, nz, zb);
        for (int k = 0; k < steps; k++)
            slerp(za, zb, nz, (float)k / (float)(steps - 1), *z + ((int64_t)p * steps + k) * nz);
    }
    free(za);
    free(zb);
    return 0;
}

static int read_latents(const char *path, int nz, float **z, int *n, gan_err *err) {
    int ndim;
    int64_t shape[GAN_NPY_MAX_DIMS];
    if (gan_npy_read_f32(path, &ndim, shape, z, err) != 0) return -1;
    bool ok = (ndim == 2 || (ndim == 4 && shape[2] == 1 && shape[3] == 1)) && shape[1] == nz && shape[0] >= 1;
    if (!ok) {
        free(*z);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: latents of shape (N, %d) or (N, %d, 1, 1) expected for this "
                        "generator (nz = %d)", path, nz, nz, nz);
    }
    *n = (int)shape[0];
    return 0;
}

int gan_cmd_sample(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(usage, stdout), 0;
    gan_err err = {0};
    sample_args a;
    if (parse_args(argc, argv, &a, &err) != 0) return gan_cli_fail("sample", &err);

    char ckpt[GAN_PATH_MAX];
    if (gan_resolve_checkpoint(a.ckpt, ckpt, sizeof ckpt, &err) != 0) return gan_cli_fail("sample", &err);
    a.ckpt = ckpt;
    gan_config cfg;
    if (gan_ckpt_read_config(a.ckpt, 0, NULL, &cfg, &err) != 0) return gan_cli_fail("sample", &err);
    gan_dcgan_shape s = {.resolution = cfg.model.resolution, .nz = cfg.model.nz, .ngf = cfg.model.ngf,
                         .ndf = cfg.model.ndf, .nc = cfg.model.channels};
    const ag_backend *be = ag_backend_cpu();
    be->set_threads(cfg.train.threads > 0 ? cfg.train.threads : 0);
    gan_dcgan_g *g = gan_dcgan_g_create(be, s);
    gan_ckpt_reader *r = NULL;
    int64_t h = s.resolution, w = s.resolution;
    int rc = gan_ckpt_open(a.ckpt, &r, &err);
    if (rc == 0) rc = gan_ckpt_read_module(r, "/G", (ag_params *[]){g->params, g->buffers}, 2, &err);
    if (rc == 0 && a.crop && gan_ckpt_has_attr(r, "/", "image_height")) {
        rc = gan_ckpt_get_attr_i64(r, "/", "image_height", &h, &err);
        if (rc == 0) rc = gan_ckpt_get_attr_i64(r, "/", "image_width", &w, &err);
    }
    gan_ckpt_close(r);

    float *z = NULL, *img = NULL;
    int n = a.n, nrow = a.nrow;
    if (rc == 0) {
        if (a.z_path) rc = read_latents(a.z_path, s.nz, &z, &n, &err);
        else if (a.interp) rc = interpolation_latents(a.interp, a.steps, s.nz, &z, &n, &nrow, &err);
        else {
            z = malloc((size_t)n * s.nz * sizeof(float));
            draw_latents(a.seed, n, s.nz, z);
        }
        if (a.interp && a.nrow) nrow = a.nrow;
    }
    if (rc == 0) {
        // In chunks: eval-mode batchnorm makes every image independent of its batch.
        const int R = s.resolution, chunk = 64;
        const int64_t per = (int64_t)s.nc * R * R;
        img = malloc((size_t)n * per * sizeof(float));
        ag_ctx *c = ag_ctx_create(be);
        ag_set_grad_enabled(c, false);
        for (int i = 0; i < n; i += chunk) {
            int m = n - i < chunk ? n - i : chunk;
            ag_tensor *zt = ag_from_host(c, AG_SHAPE(m, s.nz, 1, 1), z + (int64_t)i * s.nz);
            ag_tensor_to_host(gan_dcgan_g_forward(c, g, zt, false), img + i * per);
            ag_ctx_reset(c);
        }
        ag_ctx_free(c);
        if (h > R || w > R || h < 1 || w < 1) h = w = R;
        if (h < R || w < R) gan_images_center_crop(img, n, s.nc, R, R, (int)h, (int)w, img);
        const char *ext = a.out + strlen(a.out) - 4;
        if (!strcmp(ext, ".png")) {
            rc = gan_grid_write_png(a.out, img, n, s.nc, (int)h, (int)w, nrow, 2, &err);
        } else {
            int64_t shape[4] = {n, s.nc, h, w};
            rc = gan_npy_write_f32(a.out, 4, shape, img, &err);
        }
        if (rc == 0) printf("wrote %d image%s (%lldx%lld) to %s\n", n, n == 1 ? "" : "s", (long long)h, (long long)w, a.out);
    }
    free(z);
    free(img);
    gan_dcgan_g_free(g);
    return rc == 0 ? 0 : gan_cli_fail("sample", &err);
}
