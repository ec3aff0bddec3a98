// gan bench: time training steps (or sampling) of the model a config describes, or the forward
// pass of a feature network, and print one JSON line. tools/bench/compare.py runs it beside the
// same work in PyTorch.
//
// A workload is a model from the config plus a mode: training steps, or sampling (the
// generator's forward pass in inference mode, no gradients). The model is built and stepped
// through its family (family.h), exactly as `gan train` and `gan sample` do, so every model
// type the trainer knows can be benchmarked. FLOPs are not estimated here but counted: the
// backend adds up the nominal FLOPs of every convolution and matmul it runs (ag_ctx_flops), so
// the figure covers exactly the passes a step performs (no weight gradients for a frozen D, a
// lazy regulariser only on the steps it runs).
//
// A feature workload (--features NET) times gan_feature_net_run, the call `gan eval` makes, on
// one batch of synthetic images at the net's own size, with synthetic weights unless a weights
// file is given: the speed does not depend on the values, and the Inception weights are not on
// every machine.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "dataset.h"
#include "device.h"
#include "family.h"
#include "feature_net.h"
#include "loader.h"
#include "progress.h"
#include "rng.h"
#include "trainer.h"

static const char usage[] =
    "usage: gan bench CONFIG.yaml [key.path=value ...] [options]\n"
    "       gan bench --features NET [options]\n"
    "\n"
    "Runs training steps of the config's model after a warm-up and prints one JSON line: the\n"
    "median, mean and min ms per step (and the median CPU ms of the process), images/s, GFLOP/s\n"
    "(the FLOPs of every convolution and matmul the steps ran, forward and backward, at nominal\n"
    "size, over the mean step time, so that a step with a lazy regulariser counts), peak resident\n"
    "memory, the backend (its device, libraries and the kernels they picked) and the thread count.\n"
    "\n"
    "options:\n"
    "  --steps N     timed steps (default 20)\n"
    "  --warmup W    untimed steps first (default 3)\n"
    "  --threads T   CPU threads (default: train.threads; 0 = all cores)\n"
    "  --batch B     batch size (default: train.batch_size, or 256 with --sample)\n"
    "  --real        real batches from data.path (default: synthetic uniform [-1, 1] images,\n"
    "                so no dataset is needed)\n"
    "  --sample      time sampling instead: the generator's inference pass as `gan sample` runs\n"
    "                it (DCGAN: batchnorm with running statistics; StyleGAN2: G_ema), no gradients\n"
    "  --name NAME   workload name in the output (default: derived from the model)\n"
    "  --device NAME the backend (default: the config's device key, cpu)\n"
    "  --profile     add each op's ms and calls per timed step to the JSON (\"profile\"), the\n"
    "                costliest first, and their sum (\"profile_ms\"); each op is timed alone,\n"
    "                the device synchronised around it, so profiled steps run slower\n"
    "\n"
    "  --features NET          time feature net NET (fmnist or inception) instead, as `gan eval`\n"
    "                          runs it: one step is one batch of synthetic images in [-1, 1] at\n"
    "                          the net's size (fmnist 28x28 grey, inception 299x299 RGB), in its own\n"
    "                          batch size (fmnist 256, inception 16) unless --batch is given;\n"
    "                          threads default to all cores, as in gan eval; no config\n"
    "  --features-weights FILE the net's weights (default: synthetic ones, deterministic: the\n"
    "                          speed does not depend on them)\n";

typedef struct bench_args {
    const char *config;
    int noverrides;
    const char **overrides;
    int steps, warmup, threads, batch;  // threads, batch: -1 = from the config (--features: all cores, the net's batch)
    bool real, sample, profile;
    const char *name, *device;  // device: NULL = the config's
    const char *features, *features_weights;  // a feature workload: the net, its weights file or NULL
} bench_args;

// --- the command -----------------------------------------------------------------------------

// An option's value: present, and not itself an option ("--name --real" lacks the name).
static int option_value(const char *o, const char *v, gan_err *err) {
    if (!v || !strncmp(v, "--", 2)) return gan_errf(err, GAN_EXIT_USAGE, "%s needs a value (see gan bench --help)", o);
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a, gan_err *err) {
    *a = (bench_args){.steps = 20, .warmup = 3, .threads = -1, .batch = -1};
    a->overrides = gan_xcalloc((size_t)argc + 1, sizeof *a->overrides, "the config overrides");
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--real")) a->real = true;
        else if (!strcmp(o, "--sample")) a->sample = true;
        else if (!strcmp(o, "--profile")) a->profile = true;
        else if (!strcmp(o, "--steps") || !strcmp(o, "--warmup") || !strcmp(o, "--threads") ||
                 !strcmp(o, "--batch")) {
            int *dst = !strcmp(o, "--steps") ? &a->steps : !strcmp(o, "--warmup") ? &a->warmup
                     : !strcmp(o, "--threads") ? &a->threads : &a->batch;
            int64_t lo = !strcmp(o, "--steps") || !strcmp(o, "--batch") ? 1 : 0, x;
            if (option_value(o, v, err) != 0 || gan_config_read_int(o, v, lo, 1 << 20, &x, err) != 0 ||
                (dst == &a->threads && gan_config_check_threads(o, x, err) != 0))
                return -1;
            *dst = (int)x;
            i++;
        } else if (!strcmp(o, "--name") || !strcmp(o, "--device") || !strcmp(o, "--features") ||
                   !strcmp(o, "--features-weights")) {
            if (option_value(o, v, err) != 0) return -1;
            *(!strcmp(o, "--name") ? &a->name : !strcmp(o, "--device") ? &a->device
              : !strcmp(o, "--features") ? &a->features : &a->features_weights) = v;
            i++;
        } else if (o[0] == '-') {
            return gan_errf(err, GAN_EXIT_USAGE, "unknown option '%s' (see gan bench --help)", gan_config_clip(o).s);
        } else if (!a->config) {
            a->config = o;
        } else if (strchr(o, '=')) {
            a->overrides[a->noverrides++] = o;
        } else {
            return gan_errf(err, GAN_EXIT_USAGE, "unexpected argument '%s' (overrides are key.path=value)",
                            gan_config_clip(o).s);
        }
    }
    if (a->features_weights && !a->features)
        return gan_errf(err, GAN_EXIT_USAGE, "--features-weights needs --features NET");
    if (a->features) {
        if (a->config || a->noverrides)
            return gan_errf(err, GAN_EXIT_USAGE, "--features takes no config or overrides (got '%s')",
                            gan_config_clip(a->config ? a->config : a->overrides[0]).s);
        if (a->real || a->sample)
            return gan_errf(err, GAN_EXIT_USAGE, "--features times a feature net: %s does not apply",
                            a->real ? "--real" : "--sample");
        return 0;
    }
    if (!a->config) return gan_errf(err, GAN_EXIT_USAGE, "expected a config file (usage: gan bench CONFIG.yaml)");
    return 0;
}

// CPU time of the whole process (all threads): on a shared machine it does not count the time
// other processes took, so it is the steadier figure to tune with (wall time is what is
// reported and compared).
static double process_cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// --profile: ms and calls per step of each op that ran, the most expensive first, and their sum.
static void print_profile(const ag_op_profile *prof, int steps) {
    const int n = ag_op_profile_size();
    int *order = gan_xcalloc((size_t)n, sizeof *order, "the profile's order");
    double total = 0, s, si;
    int64_t calls, ci;
    for (int i = 0; i < n; i++) order[i] = i, ag_op_profile_entry(prof, i, &s, &calls), total += s;
    for (int i = 1; i < n; i++)  // insertion sort by time, descending: a few dozen ops
        for (int j = i; j > 0; j--) {
            ag_op_profile_entry(prof, order[j], &s, &calls);
            ag_op_profile_entry(prof, order[j - 1], &si, &ci);
            if (s <= si) break;
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    printf(", \"profile_ms\": %.3f, \"profile\": [", total * 1e3 / steps);
    for (int i = 0, first = 1; i < n; i++) {
        const char *op = ag_op_profile_entry(prof, order[i], &s, &calls);
        if (!calls) continue;
        printf("%s{\"op\": \"%s\", \"ms\": %.3f, \"calls\": %.1f}", first ? "" : ", ", op, s * 1e3 / steps,
               (double)calls / steps);
        first = 0;
    }
    printf("]");
    free(order);
}

// The JSON line: times of the timed steps (sorted here), `images` per step, the FLOPs the steps
// ran in all, and what the context and backend say about memory and kernels.
static void report(const char *name, int threads, double *ms, double *cpu_ms, int steps, int images, double flops_total,
                   const ag_ctx *c, const ag_backend *be, const ag_op_profile *prof) {
    double min_ms = ms[0], sum_ms = 0;
    for (int i = 0; i < steps; i++) min_ms = ms[i] < min_ms ? ms[i] : min_ms, sum_ms += ms[i];
    const double mean_ms = sum_ms / steps;
    const double med = median_of(ms, steps), med_cpu = median_of(cpu_ms, steps), flops = flops_total / steps;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    ag_backend_desc d;
    ag_backend_describe(be, &d);
    printf("{\"engine\": \"gan.c\", \"workload\": \"%s\", \"threads\": %d, \"steps\": %d, "
           "\"median_ms\": %.3f, \"mean_ms\": %.3f, \"min_ms\": %.3f, \"cpu_ms\": %.3f, \"images_per_sec\": %.2f, "
           "\"flops_per_step\": %.0f, \"gflop_per_step\": %.3f, \"gflops\": %.2f, \"peak_rss_mb\": %.1f, \"arena_peak_mb\": %.1f, \"blas_core\": \"%s\", "
           "\"backend\": \"%s\", \"device\": \"%s\", \"library\": \"%s\"",
           name, threads, steps, med, mean_ms, min_ms, med_cpu, images * 1e3 / mean_ms, flops, flops / 1e9,
           flops / (mean_ms * 1e6),
           ru.ru_maxrss / 1024.0, ag_ctx_arena_peak(c) / 1048576.0, d.kernels, d.name, d.device, d.library);
    if (prof) print_profile(prof, steps);
    printf("}\n");
    fflush(stdout);
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
    return gan_trainer_open_data(cfg, batch, (uint64_t)cfg->seed, &s->ds, &s->loader, err);
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
    const gan_family *fam = gan_family_find(cfg.model.type);
    if (!fam) return gan_errf(err, GAN_EXIT_USAGE, "model.type '%s': no such model family", cfg.model.type);
    if (a->batch > 0 && !a->sample) cfg.train.batch_size = a->batch;
    const int batch = a->sample ? (a->batch > 0 ? a->batch : 256) : cfg.train.batch_size;
    const int R = cfg.model.resolution, C = cfg.model.channels, nz = fam->latent_dim(&cfg);
    const int k = a->sample ? 0 : fam->batches_per_step(&cfg);
    const int64_t image_floats = (int64_t)C * R * R, batch_floats = (int64_t)cfg.train.batch_size * image_floats;

    ag_backend *be = gan_device_open(a->device ? a->device : cfg.device, a->threads >= 0 ? a->threads : cfg.train.threads,
                                     a->device ? "--device" : "device", err);
    if (!be) return -1;
    const int threads = ag_backend_threads(be);
    ag_rng init = ag_rng_make((uint64_t)cfg.seed), rng = ag_rng_make((uint64_t)cfg.seed + 1);
    gan_model *m = fam->create(&cfg, be, &init, err);
    if (!m) {
        ag_backend_close(be);
        return -1;
    }
    // Training: k real batches per step. Sampling: the latents in and the images out.
    float *real = gan_xmalloc((size_t)(a->sample ? batch * image_floats : k * batch_floats) * sizeof(float),
                              a->sample ? "the images" : "the batches");
    float *z = gan_xmalloc((size_t)batch * nz * sizeof(float), "the latents");
    double *ms = gan_xmalloc((size_t)a->steps * 2 * sizeof *ms, "the step times"), *cpu_ms = ms + a->steps;
    // A conditional model's real classes: the data's, or class 0 with synthetic images.
    int32_t *labels = cfg.model.num_classes > 0 && !a->sample
                          ? gan_xcalloc((size_t)k * cfg.train.batch_size, sizeof *labels, "the batches' classes")
                          : NULL;
    batch_source src = {0};
    int rc = source_init(&src, &cfg, cfg.train.batch_size, a->real && !a->sample, real,
                         a->sample ? 0 : k * batch_floats, err);
    if (rc != 0) {
        free(real), free(z), free(ms), free(labels);
        fam->free(m);
        ag_backend_close(be);
        return -1;
    }

    ag_ctx *c = ag_ctx_create(be);
    ag_op_profile *prof = a->profile ? ag_op_profile_create() : NULL;
    uint64_t flops0 = 0;
    gan_stats st;
    const gan_sample_opts so = {.psi = 1.0f, .noise_mode = 0, .rng = &rng};
    for (int it = 0; it < a->warmup + a->steps; it++) {
        if (it == a->warmup) flops0 = ag_ctx_flops(c), ag_ctx_set_profile(c, prof);
        double t0 = gan_now(), c0 = process_cpu_seconds();
        if (a->sample) {
            ag_philox_fill_normal(z, (int64_t)batch * nz, rng.seed, ag_rng_reserve(&rng, (int64_t)batch * nz), 0.0f, 1.0f);
            fam->generate(m, c, z, batch, &so, real);
        } else {
            if (src.real)
                for (int j = 0; j < k; j++) {
                    gan_loader_next(&src.loader, real + j * batch_floats);
                    if (labels) gan_loader_labels(&src.loader, labels + (int64_t)j * cfg.train.batch_size);
                }
            fam->step(m, c, it, real, labels, &rng, &st);
        }
        double dt = (gan_now() - t0) * 1e3, dc = (process_cpu_seconds() - c0) * 1e3;
        if (it >= a->warmup) ms[it - a->warmup] = dt, cpu_ms[it - a->warmup] = dc;
    }

    char name[160];
    workload_name(name, sizeof name, a, &cfg, batch);
    report(name, threads, ms, cpu_ms, a->steps, batch, (double)(ag_ctx_flops(c) - flops0), c, be, prof);

    ag_ctx_free(c);
    ag_op_profile_free(prof);
    fam->free(m);
    ag_backend_close(be);
    source_free(&src);
    free(real), free(z), free(ms), free(labels);
    return 0;
}

// --features NET: gan_feature_net_run on one batch of images per step.
static int run_features(const bench_args *a, gan_err *err) {
    ag_backend *be = gan_device_open(a->device ? a->device : "cpu", a->threads >= 0 ? a->threads : 0, "--device", err);
    if (!be) return -1;
    gan_feature_net *f = a->features_weights ? gan_feature_net_open(a->features, a->features_weights, be, err)
                                             : gan_feature_net_open_synthetic(a->features, be, err);
    if (!f) {
        if (a->features_weights) gan_err_prefix(err, "--features-weights: ");
        ag_backend_close(be);
        return -1;
    }
    if (a->batch > 0) gan_feature_net_set_batch(f, a->batch);
    const gan_feature_net_info *info = gan_feature_net_info_of(f);
    const int B = gan_feature_net_batch(f), C = info->channels, H = info->height, W = info->width;
    const int64_t floats = (int64_t)B * C * H * W;
    float *images = gan_xmalloc((size_t)floats * sizeof *images, "the benchmark's images");
    float *out = gan_xmalloc((size_t)B * info->dim * sizeof *out, "the features");
    double *ms = gan_xmalloc((size_t)a->steps * 2 * sizeof *ms, "the step times"), *cpu_ms = ms + a->steps;
    ag_philox_fill_uniform(images, floats, 1, 0, -1.0f, 1.0f);

    ag_ctx *c = ag_ctx_create(be);
    ag_op_profile *prof = a->profile ? ag_op_profile_create() : NULL;
    uint64_t flops0 = 0;
    int rc = 0;
    for (int it = 0; it < a->warmup + a->steps && rc == 0; it++) {
        if (it == a->warmup) flops0 = ag_ctx_flops(c), ag_ctx_set_profile(c, prof);
        double t0 = gan_now(), c0 = process_cpu_seconds();
        rc = gan_feature_net_run(f, c, images, B, C, H, W, out, err);
        double dt = (gan_now() - t0) * 1e3, dc = (process_cpu_seconds() - c0) * 1e3;
        if (it >= a->warmup) ms[it - a->warmup] = dt, cpu_ms[it - a->warmup] = dc;
    }
    if (rc == 0) {
        char name[160];
        if (a->name) snprintf(name, sizeof name, "%s", a->name);
        else snprintf(name, sizeof name, "features_%s_b%d", info->name, B);
        report(name, ag_backend_threads(be), ms, cpu_ms, a->steps, B, (double)(ag_ctx_flops(c) - flops0), c, be, prof);
    }
    ag_ctx_free(c);
    ag_op_profile_free(prof);
    gan_feature_net_free(f);
    ag_backend_close(be);
    free(images), free(out), free(ms);
    return rc;
}

int gan_cmd_bench(int argc, char **argv) {
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) return fputs(usage, stdout), 0;
    gan_err err = {0};
    bench_args a;
    int rc = parse_args(argc, argv, &a, &err);
    if (rc == 0) rc = a.features ? run_features(&a, &err) : run(&a, &err);
    free(a.overrides);
    return rc == 0 ? 0 : gan_cli_fail("bench", &err);
}
