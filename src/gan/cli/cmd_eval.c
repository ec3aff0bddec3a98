// gan eval: how good a generator is (FID, KID, precision/recall, density/coverage).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "device.h"
#include "evaluate.h"
#include "generator.h"
#include "json.h"
#include "npy.h"
#include "progress.h"
#include "refstats.h"
#include "trainer.h"

static const char usage[] =
    "usage: gan eval RUN_DIR|CKPT.h5 [options]\n"
    "       gan eval --samples FILE.npy|DIR --ref DATA|STATS.h5 [options]\n"
    "\n"
    "Scores a generator: n images from its sampling generator (DCGAN in eval mode, StyleGAN2's\n"
    "G_ema; image i from latent i of --seed's stream, the images `gan sample --seed` makes) are\n"
    "compared with reference images through a feature network. Prints one line and writes\n"
    "JSON: FID, KID (mean and std over 100 subsets of 1000), precision and recall (k = 3),\n"
    "density and coverage (k = 5). docs/evaluation.md explains each.\n"
    "\n"
    "options:\n"
    "  --n N              generated images (default 10000)\n"
    "  --ref REF          what they are compared with: data (default: the run's training data),\n"
    "                     a dataset path (IDX, image folder, CIFAR-10), a statistics file, or\n"
    "                     pytorch-fid's statistics (.npz of mu and sigma: FID only)\n"
    "  --ref-n N          reference images drawn from a dataset (default 10000; 0 = all)\n"
    "  --features NET     auto (default: fmnist for grey 28x28 and 32x32 images, else inception),\n"
    "                     fmnist or inception\n"
    "  --features-weights FILE  the feature net's weights (default: fmnist_classifier.h5 in\n"
    "                     gan.c's data folder; for inception $GAN_INCEPTION_WEIGHTS, else\n"
    "                     fid_inception.h5 there; the folder is $GAN_DATA_DIR or the source's data/)\n"
    "  --samples FILE     score these images instead of a generator: a float32 .npy (N, C, H, W)\n"
    "                     in [-1, 1], or a folder of images\n"
    "  --save-ref FILE    also write the reference statistics to FILE (for --ref FILE later)\n"
    "  --out FILE         the JSON (default: RUN_DIR/eval-step-NNNNNNNN-NET.json, or eval.json)\n"
    "  --seed S           the latents' stream (default 0)\n"
    "  --truncation PSI   StyleGAN2: truncation toward the average W (default 1: none)\n"
    "  --noise MODE       StyleGAN2 noise inputs: const (each layer's stored noise, default) or\n"
    "                     random (image i's own noise from --seed's noise stream, whatever --batch)\n"
    "  --batch B          images per generator and feature-net pass (default 250)\n"
    "  --per-class        class-conditional checkpoints (model.num_classes K > 0): after the\n"
    "                     overall score (image i of class i mod K), score each class k alone:\n"
    "                     n / K images of class k against the --ref images labelled k (--ref-n\n"
    "                     of them at most), one row per class; --ref must be a dataset with\n"
    "                     labels (data, or e.g. Fashion-MNIST's t10k-images-idx3-ubyte.gz, whose\n"
    "                     t10k-labels-idx1-ubyte.gz lies beside it)\n"
    "  --device NAME      the backend (default: the device the run trained on)\n"
    "\n"
    "Reference statistics of a dataset are cached in $GAN_CACHE_DIR (else ~/.cache/gan.c), named\n"
    "by a hash of the images and the net's weights.\n";

typedef struct eval_args {
    const char *run, *ref, *features, *weights, *samples, *save_ref, *out, *device, *noise;
    int64_t n, ref_n, seed;
    int batch;
    double psi;
    bool psi_given;
    bool per_class;  // --per-class, the one option without a value
} eval_args;

// Every option but --per-class takes a value. Anything else starting with '-' is unknown, wherever it stands; and
// a value is never an option ("--ref --n 5" lacks the reference).
static bool is_option(const char *o) {
    static const char *const names[] = {"--n", "--ref", "--ref-n", "--features", "--features-weights", "--samples",
                                        "--save-ref", "--out", "--seed", "--truncation", "--noise", "--batch",
                                        "--device"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(o, names[i])) return true;
    return false;
}

static int parse_args(int argc, char **argv, eval_args *a, gan_err *err) {
    *a = (eval_args){.ref = "data", .features = "auto", .n = 10000, .ref_n = 10000, .batch = 250, .psi = 1.0};
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--per-class")) {
            a->per_class = true;
            continue;
        }
        if (o[0] != '-') {
            if (a->run)
                return gan_errf(err, GAN_EXIT_USAGE, "unexpected argument '%s' (one run or checkpoint)",
                                gan_config_clip(o).s);
            a->run = o;
            continue;
        }
        if (!is_option(o))
            return gan_errf(err, GAN_EXIT_USAGE, "unknown option %s (see gan eval --help)", gan_config_clip(o).s);
        if (!v || !strncmp(v, "--", 2)) return gan_errf(err, GAN_EXIT_USAGE, "%s needs a value (see gan eval --help)", o);
        i++;
        int64_t x;
        if (!strcmp(o, "--n") || !strcmp(o, "--ref-n") || !strcmp(o, "--seed") || !strcmp(o, "--batch")) {
            // --n as eval.n in a config; --batch as train.batch_size.
            int64_t lo = !strcmp(o, "--n") ? 2 : !strcmp(o, "--batch") ? 1 : 0;
            int64_t hi = !strcmp(o, "--n") ? 10000000 : !strcmp(o, "--batch") ? 65536 : INT64_MAX;
            if (gan_config_read_int(o, v, lo, hi, &x, err) != 0) return -1;
            if (!strcmp(o, "--n")) a->n = x;
            else if (!strcmp(o, "--ref-n")) a->ref_n = x;
            else if (!strcmp(o, "--seed")) a->seed = x;
            else a->batch = (int)x;
        } else if (!strcmp(o, "--truncation")) {
            char *end;
            a->psi = strtod(v, &end);
            if (!*v || *end || !isfinite(a->psi))
                return gan_errf(err, GAN_EXIT_USAGE, "--truncation: expected a number (1 = none), got '%s'",
                                gan_config_clip(v).s);
            a->psi_given = true;
        } else if (!strcmp(o, "--features")) {
            if (strcmp(v, "auto") && strcmp(v, "fmnist") && strcmp(v, "inception"))
                return gan_errf(err, GAN_EXIT_USAGE, "--features: expected auto, fmnist or inception, got '%s'",
                                gan_config_clip(v).s);
            a->features = v;
        } else if (!strcmp(o, "--noise")) {
            if (strcmp(v, "const") && strcmp(v, "random"))
                return gan_errf(err, GAN_EXIT_USAGE, "--noise: expected const or random, got '%s'", gan_config_clip(v).s);
            a->noise = v;
        } else if (!strcmp(o, "--ref")) a->ref = v;
        else if (!strcmp(o, "--features-weights")) a->weights = v;
        else if (!strcmp(o, "--samples")) a->samples = v;
        else if (!strcmp(o, "--save-ref")) a->save_ref = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else a->device = v;  // --device, the last of is_option's names
    }
    if (!a->run && !a->samples)
        return gan_errf(err, GAN_EXIT_USAGE, "no run or checkpoint given (usage: gan eval RUN_DIR|CKPT.h5)");
    if (a->per_class && !a->run)
        return gan_errf(err, GAN_EXIT_USAGE, "--per-class scores a conditional generator's classes: give its run or "
                        "checkpoint (not --samples)");
    if (!a->run && (a->noise || a->psi_given))
        return gan_errf(err, GAN_EXIT_USAGE, "%s applies to a generator: give its run or checkpoint (not --samples)",
                        a->noise ? "--noise" : "--truncation");
    if (!a->run && !strcmp(a->ref, "data"))
        return gan_errf(err, GAN_EXIT_USAGE, "--samples without a run needs --ref (a dataset or a statistics file)");
    return 0;
}

// Images given as files: a float32 .npy (N, C, H, W), or a folder of images at their own size.
typedef struct given_images {
    float *x;
    int64_t n;
    int c, h, w;
} given_images;

static int given_images_source(void *user, int64_t first, int count, float *images, gan_err *err) {
    (void)err;
    const given_images *g = user;
    const int64_t per = (int64_t)g->c * g->h * g->w;
    memcpy(images, g->x + first * per, (size_t)(count * per) * sizeof *images);
    return 0;
}

static int load_samples(const char *path, given_images *g, gan_err *err) {
    memset(g, 0, sizeof *g);
    if (!gan_fs_is_dir(path)) {
        int ndim;
        int64_t shape[GAN_NPY_MAX_DIMS];
        if (gan_npy_read_f32(path, &ndim, shape, &g->x, err) != 0) return -1;
        if (ndim != 4 || (shape[1] != 1 && shape[1] != 3) || shape[0] < 2) {
            free(g->x);
            return gan_errf(err, GAN_EXIT_USAGE, "%s: images (N, C, H, W) with N >= 2 and C 1 or 3 expected", path);
        }
        g->n = shape[0], g->c = (int)shape[1], g->h = (int)shape[2], g->w = (int)shape[3];
        return 0;
    }
    gan_data_opts o = {.path = path, .format = GAN_DATA_FOLDER};
    gan_dataset ds;
    if (gan_dataset_load(&o, &ds, err) != 0) return -1;
    const int64_t per = (int64_t)ds.c * ds.h * ds.w;
    g->x = gan_xmalloc((size_t)(ds.n * per) * sizeof *g->x, "the sample images");
    for (int64_t i = 0; i < ds.n * per; i++) g->x[i] = (float)ds.pixels[i] / 127.5f - 1.0f;
    g->n = ds.n, g->c = ds.c, g->h = ds.h, g->w = ds.w;
    gan_dataset_free(&ds);
    return 0;
}

// The run directory of a checkpoint: the parent of its checkpoints/ folder, else its folder.
static void run_dir_of(const char *ckpt, char *dir, size_t size) {
    gan_fs_dirname(ckpt, dir, size);
    const char *base = strrchr(dir, '/');
    if (!strcmp(base ? base + 1 : dir, "checkpoints")) {
        char parent[GAN_PATH_MAX];
        gan_fs_dirname(dir, parent, sizeof parent);
        snprintf(dir, size, "%s", parent);
    }
}

static int write_json(const char *path, const eval_args *a, const gan_generator *g, const gan_eval_result *r,
                      const gan_eval_result *per_class, int classes, gan_err *err) {
    char tmp[GAN_PATH_MAX + 32];
    gan_fs_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write the results", path);
    fputc('{', f);
    if (g) {
        fputs("\"checkpoint\": ", f);
        gan_json_string(f, g->ckpt);
        fprintf(f, ", \"step\": %lld, \"seed\": %lld, \"truncation\": %g, ", (long long)g->step, (long long)a->seed,
                a->psi);
        if (g->family->style_layers) fprintf(f, "\"noise\": \"%s\", ", a->noise ? a->noise : "const");
    } else {
        fputs("\"samples\": ", f);
        gan_json_string(f, a->samples);
        fputs(", ", f);
    }
    gan_eval_json_fields(f, r);
    if (classes > 0) {
        fputs(", \"per_class\": [", f);
        for (int k = 0; k < classes; k++) {
            fprintf(f, "%s{\"class\": %d, ", k ? ", " : "", k);
            gan_eval_json_fields(f, &per_class[k]);
            fputc('}', f);
        }
        fputc(']', f);
    }
    fputs("}\n", f);
    if (fclose(f) != 0) {
        remove(tmp);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write the results", path);
    }
    return gan_fs_commit(tmp, path, err);
}

// How the generator makes the images: --truncation and --noise.
static gan_sample_opts sample_opts(const eval_args *a) {
    return gan_eval_sample_opts((float)a->psi, a->noise && !strcmp(a->noise, "random"), (uint64_t)a->seed);
}

// --per-class: for each class k, n / K generated images of class k against --ref's images of
// class k (the dataset loaded with its labels), into per[k].
static int eval_per_class(const eval_args *a, gan_generator *g, gan_feature_net *net, ag_ctx *c,
                          const gan_data_opts *run_data, int C, int H, int W, gan_eval_result *per, gan_err *err) {
    const int K = g->cfg.model.num_classes;
    gan_data_opts o = *run_data;  // "data": the run's data, which has labels (it trained on them)
    if (strcmp(a->ref, "data") != 0)
        o = (gan_data_opts){.path = a->ref, .format = GAN_DATA_AUTO, .channels = C,
                            .resolution = g->cfg.model.resolution, .num_classes = K};
    const int64_t n = a->n / K >= 2 ? a->n / K : 2;
    for (int k = 0; k < K; k++) {
        const double started = gan_now();
        gan_refstats ref;
        if (gan_refstats_of_class(&o, k, a->ref_n, net, c, &ref, err) != 0)
            return gan_err_prefix(err, "--per-class: ");
        gan_sample_source src = {.family = g->family, .model = g->model, .c = g->c, .cfg = &g->cfg,
                                 .seed = (uint64_t)a->seed, .opts = sample_opts(a),
                                 .out_h = H, .out_w = W, .one_class = true, .klass = k};
        int rc = gan_evaluate(net, c, &ref, n, C, H, W, a->batch, gan_sample_source_images, &src, (uint64_t)a->seed,
                              started, &per[k], err);
        gan_refstats_free(&ref);
        if (rc != 0) return -1;
    }
    return 0;
}

static int run(const eval_args *a, gan_err *err) {
    const double started = gan_now();
    gan_generator gen, *g = NULL;
    given_images given = {0};
    ag_backend *be = NULL;
    gan_feature_net *net = NULL;
    gan_refstats ref = {0};
    int rc = 0, C = 1, H = 0, W = 0;
    if (a->run) {
        if (gan_generator_open(a->run, a->device, &gen, err) != 0) return -1;
        g = &gen;
        C = g->cfg.model.channels, H = g->image_h, W = g->image_w;
        if ((a->psi_given || a->noise) && !g->family->style_layers)
            rc = gan_errf(err, GAN_EXIT_USAGE, "%s applies to StyleGAN2 generators, not %s",
                          a->psi_given ? "--truncation" : "--noise", g->family->type);
        const char *ref = a->ref;
        const size_t rl = strlen(ref);
        if (rc == 0 && a->per_class && g->cfg.model.num_classes == 0)
            rc = gan_errf(err, GAN_EXIT_USAGE, "--per-class: %s is unconditional (model.num_classes 0); it has no "
                          "classes to score", gan_config_clip_path(g->ckpt).s);
        else if (rc == 0 && a->per_class &&
                 ((rl > 3 && !strcmp(ref + rl - 3, ".h5")) || (rl > 4 && !strcmp(ref + rl - 4, ".npz"))))
            rc = gan_errf(err, GAN_EXIT_USAGE, "--per-class needs --ref to be a dataset with labels (data, or a "
                          "dataset path), not statistics (%s): statistics have no classes", gan_config_clip_path(ref).s);
    }
    if (rc == 0 && a->samples) {
        rc = load_samples(a->samples, &given, err);
        if (rc == 0) C = given.c, H = given.h, W = given.w;
    }
    if (rc == 0 && !g) rc = (be = gan_device_open(a->device ? a->device : "cpu", 0, "--device", err)) ? 0 : -1;
    const ag_backend *on = g ? g->be : be;
    ag_ctx *c = rc == 0 ? (g ? g->c : ag_ctx_create(be)) : NULL;
    const char *net_name = rc == 0 ? gan_eval_net_for(a->features, C, H, W) : NULL;
    if (rc == 0) rc = (net = gan_feature_net_open(net_name, a->weights, on, err)) ? 0 : -1;
    gan_data_opts run_data;
    if (rc == 0 && g) rc = gan_trainer_data_opts(&g->cfg, &run_data, err);
    if (rc == 0)
        rc = gan_refstats_open(a->ref, g ? &run_data : NULL, C, g ? g->cfg.model.resolution : 0, a->ref_n, net, c,
                               &ref, err);
    if (rc == 0 && a->save_ref) rc = gan_refstats_save(a->save_ref, &ref, 0, 0, err);

    gan_eval_result r;
    if (rc == 0) {
        if (g) {
            gan_sample_source src = {.family = g->family, .model = g->model, .c = g->c, .cfg = &g->cfg,
                                     .seed = (uint64_t)a->seed, .opts = sample_opts(a),
                                     .out_h = H, .out_w = W};
            rc = gan_evaluate(net, c, &ref, a->n, C, H, W, a->batch, gan_sample_source_images, &src,
                              (uint64_t)a->seed, started, &r, err);
        } else {
            rc = gan_evaluate(net, c, &ref, given.n, C, H, W, a->batch, given_images_source, &given,
                              (uint64_t)a->seed, started, &r, err);
        }
    }
    char out[GAN_PATH_MAX];
    if (rc == 0) {
        if (a->out) snprintf(out, sizeof out, "%s", a->out);
        else if (g) {
            char dir[GAN_PATH_MAX], name[96];
            run_dir_of(g->ckpt, dir, sizeof dir);
            snprintf(name, sizeof name, "eval-step-%08lld-%s.json", (long long)g->step, r.net);
            rc = gan_fs_join(out, sizeof out, dir, name, err);
        } else snprintf(out, sizeof out, "eval.json");
    }
    // --per-class: each class's images against that class's reference images.
    const int K = g && a->per_class ? g->cfg.model.num_classes : 0;
    gan_eval_result *per = K > 0 ? gan_xcalloc((size_t)K, sizeof *per, "the per-class results") : NULL;
    if (rc == 0 && K > 0) rc = eval_per_class(a, g, net, c, &run_data, C, H, W, per, err);
    if (rc == 0) rc = write_json(out, a, g, &r, per, K, err);
    if (rc == 0) {
        char line[256];
        gan_eval_summary(&r, line, sizeof line);
        printf("%s\n", line);
        printf("(%lld %s images vs %s; %s features; %.1f s; written to %s)\n", (long long)r.n,
               g ? "generated" : "given", r.ref, r.net, r.seconds, out);
        for (int k = 0; k < K; k++) {
            gan_eval_summary(&per[k], line, sizeof line);
            printf("class %d: %s (%lld vs %lld)\n", k, line, (long long)per[k].n, (long long)per[k].ref_n);
        }
    }
    free(per);
    gan_refstats_free(&ref);
    gan_feature_net_free(net);
    free(given.x);
    if (g) gan_generator_free(g);
    else {
        ag_ctx_free(c);
        ag_backend_close(be);
    }
    return rc;
}

int gan_cmd_eval(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(usage, stdout), 0;
    gan_err err = {0};
    eval_args a;
    if (parse_args(argc, argv, &a, &err) != 0 || run(&a, &err) != 0) return gan_cli_fail("eval", &err);
    return 0;
}
