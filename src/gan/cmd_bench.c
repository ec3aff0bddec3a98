// gan bench: time training steps (or sampling) of the model a config describes and print one
// JSON line. tools/bench/compare.sh runs it beside the same step in PyTorch.
//
// A workload is a model type from the config plus a mode (training step or G-forward sampling).
// Each model type is one entry of `models` below: how to build it, run one step, sample, and
// count the step's convolution FLOPs. Adding a model (StyleGAN2) is one more entry.
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "config.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "dcgan.h"
#include "dcgan_train.h"
#include "optim.h"
#include "progress.h"
#include "rng.h"

static const char usage[] =
    "usage: gan bench CONFIG.yaml [key.path=value ...] [options]\n"
    "\n"
    "Runs training steps of the config's model after a warm-up and prints one JSON line:\n"
    "median and min ms per step, images/s, GFLOP/s (convolution FLOPs of the passes the step\n"
    "runs, forward and backward), peak resident memory, the BLAS kernel, threads.\n"
    "\n"
    "options:\n"
    "  --steps N     timed steps (default 20)\n"
    "  --warmup W    untimed steps first (default 3)\n"
    "  --threads T   CPU threads (default: train.threads; 0 = all cores)\n"
    "  --batch B     batch size (default: train.batch_size, or 256 with --sample)\n"
    "  --real        real batches from data.path (default: synthetic uniform [-1, 1] images,\n"
    "                so no dataset is needed)\n"
    "  --sample      time sampling instead: G forward in eval mode, no gradients\n"
    "  --name NAME   workload name in the output (default: derived from the model)\n";

typedef struct bench_args {
    const char *config;
    int noverrides;
    const char **overrides;
    int steps, warmup, threads, batch;  // threads, batch: -1 = from the config
    bool real, sample;
    const char *name;
} bench_args;

// --- models ----------------------------------------------------------------------------------

// One model's networks and optimizers, behind the few calls a benchmark makes.
typedef struct bench_model {
    const char *type;  // model.type in the config
    void *(*create)(const gan_config *cfg, const ag_backend *be);
    void (*free)(void *m);
    // One training step on host batches: real (d_steps, B, C, R, R), z (d_steps, B, nz).
    void (*train_step)(void *m, ag_ctx *c, const gan_config *cfg, int batch, const float *real, const float *z);
    // G forward in eval mode without gradients: z (B, nz) -> images, left in the arena.
    void (*sample)(void *m, ag_ctx *c, int batch, const float *z);
    // Multiply-adds of the convolutions one training step (or one sampling call) runs.
    double (*step_macs)(const gan_config *cfg, int batch, bool sample);
} bench_model;

typedef struct dcgan_model {
    gan_dcgan_g *g;
    gan_dcgan_d *d;
    ag_adam *opt_g, *opt_d;
} dcgan_model;

static gan_dcgan_shape dcgan_shape(const gan_config *cfg) {
    return (gan_dcgan_shape){.resolution = cfg->model.resolution, .nz = cfg->model.nz,
                             .ngf = cfg->model.ngf, .ndf = cfg->model.ndf, .nc = cfg->model.channels};
}

static void *dcgan_create(const gan_config *cfg, const ag_backend *be) {
    dcgan_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    gan_dcgan_shape s = dcgan_shape(cfg);
    m->g = gan_dcgan_g_create(be, s);
    m->d = gan_dcgan_d_create(be, s);
    ag_rng rng = ag_rng_make((uint64_t)cfg->seed);
    gan_dcgan_g_init(m->g, &rng);
    gan_dcgan_d_init(m->d, &rng);
    const gan_train_config *t = &cfg->train;
    m->opt_g = ag_adam_create(m->g->params, (float)t->lr_g, (float)t->beta1, (float)t->beta2, 1e-8f, 0.0f);
    m->opt_d = ag_adam_create(m->d->params, (float)t->lr_d, (float)t->beta1, (float)t->beta2, 1e-8f, 0.0f);
    return m;
}

static void dcgan_free(void *p) {
    dcgan_model *m = p;
    if (!m) return;
    ag_adam_free(m->opt_g);
    ag_adam_free(m->opt_d);
    gan_dcgan_g_free(m->g);
    gan_dcgan_d_free(m->d);
    free(m);
}

static void dcgan_train_step(void *p, ag_ctx *c, const gan_config *cfg, int batch, const float *real,
                             const float *z) {
    dcgan_model *m = p;
    const gan_dcgan_step_opts o = {.logits = !strcmp(cfg->train.loss, "logits"),
                                   .label_smoothing = (float)cfg->train.label_smoothing,
                                   .d_steps = cfg->train.d_steps};
    gan_dcgan_step_stats st;
    gan_dcgan_train_step(c, m->g, m->d, m->opt_g, m->opt_d, &o, batch, real, z, &st);
}

static void dcgan_sample(void *p, ag_ctx *c, int batch, const float *z) {
    dcgan_model *m = p;
    bool prev = ag_set_grad_enabled(c, false);
    ag_tensor *zt = ag_from_host(c, AG_SHAPE(batch, m->g->shape.nz, 1, 1), z);
    gan_dcgan_g_forward(c, m->g, zt, false);
    ag_set_grad_enabled(c, prev);
}

// Multiply-adds per sample of each DCGAN layer in order (G: the transposed convs; D: the convs).
// For this conv family a layer's weight gradient and input gradient cost the same as its
// forward pass.
static int dcgan_layers(const gan_config *cfg, bool gen, double *macs) {
    const int R = cfg->model.resolution, nz = cfg->model.nz, nc = cfg->model.channels;
    const int blocks = R == 64 ? 4 : 3;
    int n = 0;
    if (gen) {
        // ConvT(cin, cout, 4) from side s to 2s (or 1 -> 4): every input pixel meets 16 taps.
        int cin = nz, side = 1;
        for (int i = 0; i < blocks; i++) {
            int cout = cfg->model.ngf << (blocks - 1 - i);
            macs[n++] = (double)cin * side * side * cout * 16;
            side = i == 0 ? 4 : side * 2;
            cin = cout;
        }
        macs[n++] = (double)cin * side * side * nc * 16;
    } else {
        // Conv(cin, cout, 4, 2, 1) from side s to s/2; the last one 4x4 -> 1x1.
        int cin = nc, side = R;
        for (int j = 0; j < blocks; j++) {
            int cout = cfg->model.ndf << j;
            side /= 2;
            macs[n++] = (double)side * side * cout * cin * 16;
            cin = cout;
        }
        macs[n++] = (double)cin * 16;
    }
    return n;
}

// What the DCGAN step runs (dcgan_train.c), per D step: D on the real batch (forward, weight
// gradients, input gradients of every layer but the first), G forward, D on the detached fake
// batch (the same); then once: D forward on the fake batch, input gradients of every D layer
// (D is frozen: no weight gradients), G weight gradients and input gradients of every G layer
// but the first (z needs none).
static double dcgan_step_macs(const gan_config *cfg, int batch, bool sample) {
    double g[GAN_DCGAN_MAX_BLOCKS + 1], d[GAN_DCGAN_MAX_BLOCKS + 1];
    int ng = dcgan_layers(cfg, true, g), nd = dcgan_layers(cfg, false, d);
    double gsum = 0, dsum = 0;
    for (int i = 0; i < ng; i++) gsum += g[i];
    for (int i = 0; i < nd; i++) dsum += d[i];
    if (sample) return batch * gsum;
    double d_pass = dsum + dsum + (dsum - d[0]);  // forward, weight grads, input grads
    double per_d_step = 2 * d_pass + gsum;
    double g_step = dsum + dsum + gsum + (gsum - g[0]);
    return batch * (cfg->train.d_steps * per_d_step + g_step);
}

static const bench_model models[] = {
    {"dcgan", dcgan_create, dcgan_free, dcgan_train_step, dcgan_sample, dcgan_step_macs},
};

// --- the command -----------------------------------------------------------------------------

static int parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a, gan_err *err) {
    *a = (bench_args){.steps = 20, .warmup = 3, .threads = -1, .batch = -1};
    a->overrides = calloc((size_t)argc + 1, sizeof *a->overrides);
    if (!a->overrides) return gan_errf(err, GAN_EXIT_RUNTIME, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--real")) a->real = true;
        else if (!strcmp(o, "--sample")) a->sample = true;
        else if (!strcmp(o, "--steps") || !strcmp(o, "--warmup") || !strcmp(o, "--threads") ||
                 !strcmp(o, "--batch")) {
            int *dst = !strcmp(o, "--steps") ? &a->steps : !strcmp(o, "--warmup") ? &a->warmup
                     : !strcmp(o, "--threads") ? &a->threads : &a->batch;
            long lo = !strcmp(o, "--steps") || !strcmp(o, "--batch") ? 1 : 0;
            if (!v || parse_int(v, lo, 1 << 20, dst) != 0)
                return gan_errf(err, GAN_EXIT_USAGE, "%s expects an integer >= %ld, got '%s'", o, lo, v ? v : "");
            i++;
        } else if (!strcmp(o, "--name")) {
            if (!v) return gan_errf(err, GAN_EXIT_USAGE, "--name expects a value");
            a->name = v;
            i++;
        } else if (o[0] == '-') {
            return gan_errf(err, GAN_EXIT_USAGE, "unknown option '%s' (see gan bench --help)", o);
        } else if (!a->config) {
            a->config = o;
        } else if (strchr(o, '=')) {
            a->overrides[a->noverrides++] = o;
        } else {
            return gan_errf(err, GAN_EXIT_USAGE, "unexpected argument '%s' (overrides are key.path=value)", o);
        }
    }
    if (!a->config) return gan_errf(err, GAN_EXIT_USAGE, "expected a config file (usage: gan bench CONFIG.yaml)");
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The source of one step's real batches: a loader over the config's data, or fixed synthetic
// images (the benchmark times the networks; the loader costs microseconds either way).
typedef struct batch_source {
    gan_dataset ds;
    gan_loader loader;
    bool real;
} batch_source;

static int source_init(batch_source *s, const gan_config *cfg, int batch, bool real, float *buf,
                       int64_t floats, gan_err *err) {
    memset(s, 0, sizeof *s);
    s->real = real;
    if (!real) {
        ag_philox_fill_uniform(buf, floats, (uint64_t)cfg->seed, 0, -1.0f, 1.0f);
        return 0;
    }
    gan_data_format fmt;
    if (gan_data_format_from_name(cfg->data.format, &fmt) != 0)
        return gan_errf(err, GAN_EXIT_USAGE, "data.format: unknown format '%s'", cfg->data.format);
    gan_data_opts o = {.path = cfg->data.path, .format = fmt, .limit = cfg->data.limit,
                       .channels = cfg->model.channels, .resolution = cfg->model.resolution};
    if (gan_dataset_load(&o, &s->ds, err) != 0) return -1;
    if (gan_loader_init(&s->loader, &s->ds, batch, cfg->model.resolution, cfg->model.channels,
                        (uint64_t)cfg->seed, err) != 0) {
        gan_dataset_free(&s->ds);
        return -1;
    }
    return 0;
}

static void source_free(batch_source *s) {
    if (!s->real) return;
    gan_loader_free(&s->loader);
    gan_dataset_free(&s->ds);
}

static void workload_name(char *buf, size_t n, const bench_args *a, const gan_config *cfg, int batch) {
    if (a->name) {
        snprintf(buf, n, "%s", a->name);
        return;
    }
    snprintf(buf, n, "%s%d_%s_b%d%s", cfg->model.type, cfg->model.resolution,
             cfg->model.channels == 3 ? "rgb" : "gray", batch, a->sample ? "_sample" : "");
}

static int run(const bench_args *a, gan_err *err) {
    gan_config cfg;
    if (gan_config_load(a->config, a->noverrides, a->overrides, &cfg, err) != 0) return -1;
    const bench_model *model = NULL;
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        if (!strcmp(models[i].type, cfg.model.type)) model = &models[i];
    if (!model) return gan_errf(err, GAN_EXIT_USAGE, "model.type '%s': gan bench knows no such model", cfg.model.type);
    gan_dcgan_shape shape = dcgan_shape(&cfg);
    char why[160];
    if (!gan_dcgan_shape_valid(shape, why, sizeof why)) return gan_errf(err, GAN_EXIT_USAGE, "model: %s", why);

    const int threads_req = a->threads >= 0 ? a->threads : cfg.train.threads;
    const int threads = threads_req > 0 ? threads_req : omp_get_num_procs();
    const int batch = a->batch > 0 ? a->batch : a->sample ? 256 : cfg.train.batch_size;
    const int R = cfg.model.resolution, C = cfg.model.channels, k = a->sample ? 1 : cfg.train.d_steps;
    const int64_t real_floats = (int64_t)k * batch * C * R * R, z_floats = (int64_t)k * batch * cfg.model.nz;

    const ag_backend *be = ag_backend_cpu();
    be->set_threads(threads);
    float *real = malloc((size_t)real_floats * sizeof(float));
    float *z = malloc((size_t)z_floats * sizeof(float));
    if (!real || !z) {
        free(real);
        free(z);
        return gan_errf(err, GAN_EXIT_RUNTIME, "out of memory for batches of %d images", batch);
    }
    batch_source src;
    if (source_init(&src, &cfg, batch, a->real && !a->sample, real, real_floats, err) != 0) {
        free(real);
        free(z);
        return -1;
    }
    void *m = model->create(&cfg, be);
    ag_ctx *c = ag_ctx_create(be);
    ag_rng noise = ag_rng_make((uint64_t)cfg.seed + 1);
    double *ms = malloc((size_t)a->steps * sizeof *ms);

    for (int it = 0; it < a->warmup + a->steps; it++) {
        double t0 = gan_now();
        if (src.real)
            for (int j = 0; j < k; j++) gan_loader_next(&src.loader, real + (int64_t)j * batch * C * R * R);
        ag_philox_fill_normal(z, z_floats, noise.seed, ag_rng_reserve(&noise, z_floats), 0.0f, 1.0f);
        if (a->sample) {
            model->sample(m, c, batch, z);
            ag_ctx_reset(c);
        } else {
            model->train_step(m, c, &cfg, batch, real, z);
        }
        double dt = (gan_now() - t0) * 1e3;
        if (it >= a->warmup) ms[it - a->warmup] = dt;
    }

    double min_ms = ms[0];
    for (int i = 1; i < a->steps; i++) min_ms = ms[i] < min_ms ? ms[i] : min_ms;
    double med = median_of(ms, a->steps);
    double flops = 2.0 * model->step_macs(&cfg, batch, a->sample);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char name[160];
    workload_name(name, sizeof name, a, &cfg, batch);
    printf("{\"engine\": \"gan.c\", \"workload\": \"%s\", \"threads\": %d, \"steps\": %d, "
           "\"median_ms\": %.3f, \"min_ms\": %.3f, \"images_per_sec\": %.2f, \"gflop_per_step\": %.3f, "
           "\"gflops\": %.2f, \"peak_rss_mb\": %.1f, \"arena_peak_mb\": %.1f, \"blas_core\": \"%s\", "
           "\"backend\": \"%s\"}\n",
           name, threads, a->steps, med, min_ms, batch * 1e3 / med, flops / 1e9, flops / (med * 1e6),
           ru.ru_maxrss / 1024.0, ag_ctx_arena_peak(c) / 1048576.0, openblas_get_corename(), be->describe());
    fflush(stdout);

    free(ms);
    ag_ctx_free(c);
    model->free(m);
    source_free(&src);
    free(real);
    free(z);
    return 0;
}

int gan_cmd_bench(int argc, char **argv) {
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) return fputs(usage, stdout), 0;
    gan_err err = {0};
    bench_args a;
    int rc = parse_args(argc, argv, &a, &err);
    if (rc == 0) rc = run(&a, &err);
    free(a.overrides);
    return rc == 0 ? 0 : gan_cli_fail("bench", &err);
}
