#include "trainer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "checkpoint.h"
#include "device.h"
#include "evaluate.h"
#include "gan_check.h"
#include "h5_isolated.h"
#include "generator.h"
#include "image_grid.h"
#include "json.h"
#include "memory_check.h"
#include "progress.h"
#include "report.h"
#include "run_events.h"
#include "train_dist.h"
#include "signals.h"

// The run's random streams, all derived from the config's seed so a run is a function of its
// config: weights, the training steps' random inputs, the fixed snapshot latents and the data
// order.
typedef struct streams {
    ag_rng init, train, fixed;
    uint64_t data_seed;
} streams;

static streams derive_streams(int64_t seed) {
    ag_rng root = ag_rng_make((uint64_t)seed);
    streams s;
    s.init = ag_rng_fork(&root);
    s.train = ag_rng_fork(&root);
    s.fixed = ag_rng_fork(&root);
    s.data_seed = ag_rng_fork(&root).seed;
    return s;
}

int gan_trainer_data_opts(const gan_config *cfg, gan_data_opts *o, gan_err *err) {
    gan_data_format fmt;
    if (gan_data_format_from_name(cfg->data.format, &fmt) != 0)
        return gan_errf(err, GAN_EXIT_USAGE, "data.format: unknown format '%s'", cfg->data.format);
    *o = (gan_data_opts){.path = cfg->data.path, .format = fmt, .limit = cfg->data.limit, .skip_bad = cfg->data.skip_bad,
                         .channels = cfg->model.channels, .resolution = cfg->model.resolution,
                         .num_classes = cfg->model.num_classes, .labels = cfg->data.labels};
    return 0;
}

int gan_trainer_open_data(const gan_config *cfg, int batch, uint64_t data_seed, gan_dataset *ds,
                          gan_loader *loader, gan_err *err) {
    gan_data_opts o;
    if (gan_trainer_data_opts(cfg, &o, err) != 0) return -1;
    if (gan_dataset_load(&o, ds, err) != 0) return -1;
    if (ds->skipped > 0)
        fprintf(stderr, "gan: note: %lld of the %lld images of %s cannot be decoded and are skipped (data.skip_bad); "
                "the first: %s\n", (long long)ds->skipped, (long long)(ds->n + ds->skipped), ds->path, ds->first_skipped);
    if (gan_loader_init(loader, ds, batch, cfg->model.resolution, cfg->model.channels, data_seed, err) != 0) {
        gan_dataset_free(ds);
        return -1;
    }
    return 0;
}

// The feature net and reference statistics of eval.*, when the run evaluates itself.
static int eval_setup(gan_trainer *tr, gan_err *err) {
    tr->best_fid = NAN;
    const gan_config *cfg = &tr->cfg;
    if (cfg->eval.every <= 0) return 0;
    int h, w;
    gan_dataset_image_size(&tr->ds, &h, &w);
    const char *net = gan_eval_net_for(cfg->eval.features, cfg->model.channels, h, w);
    if (!(tr->eval_net = gan_feature_net_open(net, NULL, tr->be, err))) return gan_err_prefix(err, "eval.features: ");
    tr->eval_c = ag_ctx_create(tr->be);
    gan_data_opts run_data;
    if (gan_trainer_data_opts(cfg, &run_data, err) != 0) return -1;
    if (gan_refstats_open(cfg->eval.ref, &run_data, cfg->model.channels, cfg->model.resolution, cfg->eval.ref_n,
                          tr->eval_net, tr->eval_c, &tr->eval_ref, err) != 0)
        return gan_err_prefix(err, "eval.ref: ");
    return 0;
}

// Data, model and buffers: what a new run and a resumed one share. The model gets fresh
// weights from the seed; a resumed run then overwrites them from its checkpoint.
static int setup(gan_trainer *tr, gan_err *err) {
    const gan_config *cfg = &tr->cfg;
    tr->family = gan_family_find(cfg->model.type);
    if (!tr->family) return gan_errf(err, GAN_EXIT_USAGE, "model.type: no model family '%s'", cfg->model.type);
    if (!(tr->be = gan_device_open(cfg->device, cfg->train.threads, "device", err))) return -1;
    tr->threads = ag_backend_threads(tr->be);

    // The model first: a config it cannot build fails before any data is read.
    streams s = derive_streams(cfg->seed);
    tr->model = tr->family->create(cfg, tr->be, &s.init, err);
    if (!tr->model) return -1;
    if (gan_train_dist_procs(tr) > 1 && gan_train_dist_shard(tr, err) != 0) return -1;

    if (gan_trainer_open_data(cfg, cfg->train.batch_size, s.data_seed, &tr->ds, &tr->loader, err) != 0) return -1;
    // With the model and data in memory, a step must fit in what is left: a step of this
    // process's share of the batch.
    gan_config share = *cfg;
    share.train.batch_size /= gan_train_dist_procs(tr);
    if (gan_check_step_memory(tr->family, &share, tr->be, err) != 0) return -1;
    tr->rng = s.train;
    tr->c = ag_ctx_create(tr->be);
    if (gan_train_dist_procs(tr) > 1) gan_train_dist_connect(tr, tr->c);

    int64_t B = cfg->train.batch_size, R = cfg->model.resolution, k = tr->family->batches_per_step(cfg);
    int64_t nfixed = (int64_t)cfg->sample.n * tr->family->latent_dim(cfg);
    // Page-locked on a GPU: the batch crosses to the device every step.
    const size_t real_bytes = (size_t)(k * B * cfg->model.channels * R * R) * sizeof(float);
    if (!(tr->real_buf = ag_backend_host_alloc(tr->be, real_bytes)))
        return gan_errf(err, GAN_EXIT_RUNTIME, "out of host memory for a step's real batches (%zu bytes)", real_bytes);
    if (cfg->model.num_classes > 0)
        tr->real_labels = gan_xmalloc((size_t)(k * B) * sizeof *tr->real_labels, "a step's real classes");
    tr->fixed_noise = gan_xmalloc((size_t)nfixed * sizeof(float), "the snapshot latents");
    ag_philox_fill_normal(tr->fixed_noise, nfixed, s.fixed.seed, ag_rng_reserve(&s.fixed, nfixed), 0.0f, 1.0f);
    return eval_setup(tr, err);
}

static int path_in(char *dst, const char *dir, const char *name, gan_err *err) {
    return gan_fs_join(dst, GAN_PATH_MAX, dir, name, err);
}

// The fixed latents through the sampling generator, cropped to the data's size. StyleGAN2
// snapshots use each layer's stored noise, so successive grids differ only by training.
static int write_snapshot(gan_trainer *tr, const char *path, gan_err *err) {
    int n = tr->cfg.sample.n, R = tr->cfg.model.resolution, C = tr->cfg.model.channels;
    float *host = gan_xmalloc((size_t)n * C * R * R * sizeof(float), "a snapshot's images");
    gan_sample_opts o = {.psi = 1.0f, .noise_mode = 0};
    int32_t *labels = NULL;  // conditional: one class per grid row
    if (tr->cfg.model.num_classes > 0) {
        labels = gan_xmalloc((size_t)n * sizeof *labels, "a snapshot's classes");
        gan_grid_row_labels(n, tr->cfg.sample.nrow, tr->cfg.model.num_classes, labels);
        o.labels = labels;
    }
    tr->family->generate(tr->model, tr->c, tr->fixed_noise, n, &o, host);
    free(labels);
    ag_ctx_reset(tr->c);
    int h, w;
    gan_dataset_image_size(&tr->ds, &h, &w);
    if (h < R || w < R) gan_images_center_crop(host, n, C, R, R, h, w, host);
    else h = w = R;
    gan_png png;
    int rc = gan_grid_encode_png(path, host, n, C, h, w, tr->cfg.sample.nrow, 2, &png, err);
    free(host);
    if (rc == 0 && (gan_fs_write_atomic(path, png.data, png.size, err) != 0 ||
                    gan_run_events_samples(tr->events, tr->step, &png, err) != 0))
        rc = -1;
    gan_png_free(&png);
    return rc;
}

static int write_real_grid(gan_trainer *tr, gan_err *err) {
    int n = tr->cfg.sample.n < tr->ds.n ? tr->cfg.sample.n : (int)tr->ds.n;
    int R = tr->cfg.model.resolution, C = tr->cfg.model.channels;
    int64_t *idx = gan_xmalloc((size_t)n * sizeof *idx, "the real grid's indices");
    float *img = gan_xmalloc((size_t)n * C * R * R * sizeof(float), "the real grid's images");
    for (int i = 0; i < n; i++) idx[i] = i;
    gan_loader_fill(&tr->loader, idx, n, img);
    int h, w;
    gan_dataset_image_size(&tr->ds, &h, &w);
    if (h < R || w < R) gan_images_center_crop(img, n, C, R, R, h, w, img);
    else h = w = R;
    char path[GAN_PATH_MAX], dir[GAN_PATH_MAX];
    int rc = path_in(dir, tr->run_dir, "samples", err) || path_in(path, dir, "real.png", err) ||
             gan_grid_write_png(path, img, n, C, h, w, tr->cfg.sample.nrow, 2, err);
    free(idx);
    free(img);
    return rc ? -1 : 0;
}

static int write_config(const gan_trainer *tr, gan_err *err) {
    char path[GAN_PATH_MAX];
    if (path_in(path, tr->run_dir, "config.yaml", err) != 0) return -1;
    char *yaml = gan_config_to_yaml(&tr->cfg);
    int rc = gan_fs_write_atomic(path, yaml, strlen(yaml), err);
    free(yaml);
    return rc;
}

// --- the run directory ----------------------------------------------------------------------

// What a writer killed before it wrote config.yaml may leave: the lock file, temporaries.
static bool is_leftover(const char *name) {
    return !strcmp(name, GAN_FS_LOCK_NAME) || gan_fs_tmp_is_stale(name);
}

// Whether a directory can take a new run: empty, or holding only leftovers.
static bool dir_is_reusable(const char *path) {
    DIR *d = opendir(path);
    if (!d) return false;
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d));)
        ok = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_leftover(e->d_name);
    closedir(d);
    return ok;
}

static int already_exists(const char *run_dir, gan_err *err) {
    return gan_errf(err, GAN_EXIT_USAGE,
                    "run directory %s already exists; continue it with `gan train --resume %s`, "
                    "or pass --run-dir to start a new run elsewhere",
                    run_dir, run_dir);
}

static int held_by_another(const char *run_dir, const char *holder, gan_err *err) {
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s is being written by another gan process (%s, holding %s/%s); wait "
                    "for it to finish or stop it", run_dir, holder, run_dir, GAN_FS_LOCK_NAME);
}

// Refusals before anything is loaded, so a second writer fails fast: a path that is no
// directory, a run another process is writing, an existing run.
static int check_new_run_dir(const char *run_dir, gan_err *err) {
    struct stat st;
    if (stat(run_dir, &st) != 0) return 0;
    if (S_ISREG(st.st_mode))
        return gan_errf(err, GAN_EXIT_USAGE, "run directory %s is a file, not a directory (name a new or empty "
                        "directory)", run_dir);
    if (!S_ISDIR(st.st_mode))
        return gan_errf(err, GAN_EXIT_USAGE, "run directory %s exists and is not a directory", run_dir);
    char holder[320];
    if (gan_fs_dir_locked(run_dir, holder, sizeof holder)) return held_by_another(run_dir, holder, err);
    return dir_is_reusable(run_dir) ? 0 : already_exists(run_dir, err);
}

int gan_trainer_default_run_dir(const char *name, char *dir, size_t size, gan_err *err) {
    for (int k = 1; k <= 9999; k++) {
        int n = k == 1 ? snprintf(dir, size, "runs/%s", name) : snprintf(dir, size, "runs/%s-%d", name, k);
        if (n < 0 || (size_t)n >= size) return gan_errf(err, GAN_EXIT_USAGE, "run name %s is too long", name);
        struct stat st;
        char holder[320];
        // A path that is not a directory is left to check_new_run_dir's message: it is not a run.
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
            (!gan_fs_dir_locked(dir, holder, sizeof holder) && dir_is_reusable(dir)))
            return k > 1;
    }
    return gan_errf(err, GAN_EXIT_USAGE, "runs/%s to runs/%s-9999 all hold runs; give this one a new name or "
                    "--run-dir", name, name);
}

// Takes the run's lock (a second writer fails here, naming the holder) and, since no other
// writer can be running, removes the temporaries killed writers left.
static int own_run_dir(gan_trainer *tr, gan_err *err) {
    if (gan_fs_lock_dir(tr->run_dir, &tr->lock_fd, err) != 0) return -1;
    tr->locked = true;
    static const char *const subdirs[] = {"", "checkpoints", "samples"};
    char dir[GAN_PATH_MAX];
    for (size_t i = 0; i < sizeof subdirs / sizeof *subdirs; i++)
        if (path_in(dir, tr->run_dir, subdirs[i], err) != 0 || gan_fs_remove_stale_tmp(dir, err) != 0) return -1;
    return 0;
}

static int make_run_subdirs(const char *run_dir, gan_err *err) {
    char dir[GAN_PATH_MAX];
    if (path_in(dir, run_dir, "samples", err) != 0 || gan_fs_mkdir_p(dir, err) != 0) return -1;
    if (path_in(dir, run_dir, "checkpoints", err) != 0 || gan_fs_mkdir_p(dir, err) != 0) return -1;
    return 0;
}

// The processes of the run: several, or this one alone (tr->dist NULL); only rank 0 writes.
static void use_dist(gan_trainer *tr, gan_dist *dist) {
    tr->dist = dist && gan_dist_size(dist) > 1 ? dist : NULL;
    tr->writer = !tr->dist || gan_dist_rank(tr->dist) == 0;
}

int gan_trainer_create(gan_trainer *tr, const gan_config *cfg, const char *run_dir, gan_dist *dist, gan_err *err) {
    memset(tr, 0, sizeof *tr);
    use_dist(tr, dist);
    tr->cfg = *cfg;
    snprintf(tr->run_dir, sizeof tr->run_dir, "%s", run_dir);
    if (tr->writer && check_new_run_dir(run_dir, err) != 0) return -1;
    if (setup(tr, err) != 0) return -1;  // bad data or model: no directory is made
    // Found (the data loaded, the reference when it is a path): stored absolute from here on.
    gan_fs_make_absolute(tr->cfg.data.path, sizeof tr->cfg.data.path);
    if (strcmp(tr->cfg.eval.ref, "data") && gan_fs_exists(tr->cfg.eval.ref))
        gan_fs_make_absolute(tr->cfg.eval.ref, sizeof tr->cfg.eval.ref);
    if (!tr->writer) return 0;

    // The checks again under the lock: another writer may have come in while the data loaded.
    if (gan_fs_mkdir_p(run_dir, err) != 0 || own_run_dir(tr, err) != 0) return -1;
    if (!dir_is_reusable(run_dir)) return already_exists(run_dir, err);
    // config.yaml before anything else: from here on a crash leaves a run that --resume starts
    // from step 0.
    if (write_config(tr, err) != 0) return -1;
    if (make_run_subdirs(run_dir, err) != 0) return -1;
    return write_real_grid(tr, err);
}

// The checkpoint a run directory continues from (gan_ckpt_find_latest in its checkpoints/):
// 1 found, 0 none yet, -1 error.
static int run_checkpoint(const char *run_dir, char *ckpt, size_t size, gan_err *err) {
    char dir[GAN_PATH_MAX];
    if (path_in(dir, run_dir, "checkpoints", err) != 0) return -1;
    return gan_ckpt_find_latest(dir, ckpt, size, err);
}

static bool has_config(const char *run_dir) {
    char path[GAN_PATH_MAX];
    return path_in(path, run_dir, "config.yaml", NULL) == 0 && gan_fs_exists(path);
}

static int not_a_run(const char *path, gan_err *err) {
    return gan_errf(err, GAN_EXIT_USAGE, "%s: a directory without checkpoints/latest.h5 or config.yaml (expected "
                    "a run directory or a checkpoint file)", path);
}

// A checkpoint a command was given is first read whole by a child process (h5_isolated.h): a
// file that crashes libhdf5 is then one line, not a crash of gan. The child has a minute, and
// more for a large file (reading runs at hundreds of MB/s).
static int read_isolated(const char *ckpt, gan_err *err) {
    struct stat st;
    const double seconds = 60.0 + (stat(ckpt, &st) == 0 ? (double)st.st_size / 20e6 : 0.0);
    return gan_h5_read_isolated(ckpt, seconds, err);
}

int gan_resolve_checkpoint(const char *path, char *ckpt, size_t size, gan_err *err) {
    if (gan_fs_is_dir(path)) {
        int found = run_checkpoint(path, ckpt, size, err);
        if (found != 0) return found < 0 ? -1 : read_isolated(ckpt, err);
        if (!has_config(path)) return not_a_run(path, err);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s has no checkpoint yet (its training stopped before the first "
                        "one); continue it with `gan train --resume %s`", path, path);
    }
    if (!gan_fs_exists(path))
        return gan_errf(err, GAN_EXIT_USAGE, "%s: no such run directory or checkpoint file", path);
    if (snprintf(ckpt, size, "%s", path) >= (int)size) return gan_errf(err, GAN_EXIT_USAGE, "path too long: %s", path);
    return read_isolated(ckpt, err);
}

// What --resume names, as the run directory and the checkpoint to continue from: a run
// directory (ckpt "" when its run stopped before the first checkpoint: it starts from step 0),
// or a checkpoint in a run's checkpoints/ folder. A checkpoint anywhere else has no run to
// continue: refused before anything is written.
static int resume_source(const char *path, char *run_dir, char *ckpt, gan_err *err) {
    ckpt[0] = '\0';
    if (gan_fs_is_dir(path)) {
        snprintf(run_dir, GAN_PATH_MAX, "%s", path);
        int found = run_checkpoint(path, ckpt, GAN_PATH_MAX, err);
        if (found < 0) return -1;
        return found == 0 && !has_config(path) ? not_a_run(path, err) : 0;
    }
    if (gan_resolve_checkpoint(path, ckpt, GAN_PATH_MAX, err) != 0) return -1;
    char dir[GAN_PATH_MAX];
    gan_fs_dirname(ckpt, dir, sizeof dir);
    const char *slash = strrchr(dir, '/');
    if (strcmp(slash ? slash + 1 : dir, "checkpoints"))
        return gan_errf(err, GAN_EXIT_USAGE, "%s is not in a run directory's checkpoints/ folder: --resume takes a run "
                        "directory or a checkpoint in RUN/checkpoints (to continue this file, copy it into "
                        "NEW_RUN/checkpoints/ and resume that copy)", path);
    gan_fs_dirname(dir, run_dir, GAN_PATH_MAX);
    return 0;
}

// A config as stored (config.yaml, a checkpoint's): parsed as it is, with no checks meant for
// what a user types now (a stored thread count may come from a bigger machine).
static int read_run_config(const char *run_dir, gan_config *cfg, gan_err *err) {
    char path[GAN_PATH_MAX], *text;
    if (path_in(path, run_dir, "config.yaml", err) != 0 || gan_fs_read_all(path, &text, NULL, err) != 0) return -1;
    int rc = gan_config_parse(text, path, 0, NULL, cfg, err);
    free(text);
    return rc;
}

// Keys a resumed run may change: how long it trains and how it reports, never what it learns.
static void keep_resumable(gan_config *dst, const gan_config *src) {
    dst->train.steps = src->train.steps;
    dst->train.threads = src->train.threads;
    memcpy(dst->device, src->device, sizeof dst->device);
    dst->checkpoint = src->checkpoint;
    dst->sample.every = src->sample.every;
    dst->log = src->log;
    dst->eval = src->eval;
}

// The checkpoint is one of this run's: the same model and the same values of every key a resume
// may not change as the run's config.yaml (when it has one). Checked before anything is written.
static int check_belongs(const char *run_dir, const char *ckpt, const gan_config *stored, gan_err *err) {
    if (!has_config(run_dir)) return 0;
    gan_config run;
    if (read_run_config(run_dir, &run, err) != 0) return -1;
    char path[GAN_PATH_MAX];
    if (path_in(path, run_dir, "config.yaml", err) != 0) return -1;
    if (strcmp(run.model.type, stored->model.type))
        return gan_errf(err, GAN_EXIT_USAGE, "%s is a %s checkpoint, but %s is of a %s run: not a checkpoint of "
                        "this run (nothing was written)", ckpt, stored->model.type, path, run.model.type);
    gan_config check = *stored;
    keep_resumable(&check, &run);
    memcpy(check.name, run.name, sizeof check.name);  // a label: a renamed run is the same run
    const char *key = gan_config_diff(&check, &run);
    if (key)
        return gan_errf(err, GAN_EXIT_USAGE, "%s is not a checkpoint of this run: its %s differs from %s's (a "
                        "checkpoint of another config; nothing was written)", ckpt, key, path);
    return 0;
}

static int ckpt_step(const char *ckpt, int64_t *step, gan_err *err) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(ckpt, &r, err) != 0) return -1;
    int rc = gan_ckpt_get_attr_i64(r, "/", "step", step, err);
    gan_ckpt_close(r);
    return rc;
}

// The step of a name "<prefix><digits><suffix>", or -1.
static int64_t step_of_name(const char *name, const char *prefix, const char *suffix) {
    size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(name);
    if (n <= np + ns || strncmp(name, prefix, np) || strcmp(name + n - ns, suffix) || n - np - ns > 18) return -1;
    int64_t step = 0;
    for (const char *p = name + np; p < name + n - ns; p++) {
        if (*p < '0' || *p > '9') return -1;
        step = step * 10 + (*p - '0');
    }
    return step;
}

// Drops metrics lines of steps after `step` (written after the checkpoint being resumed), so
// the file reads as one unbroken run. With `aside` (an abandoned branch's folder) the dropped
// lines are kept there as its metrics.jsonl.
static int truncate_metrics(const char *run_dir, int64_t step, const char *aside, gan_err *err) {
    char path[GAN_PATH_MAX];
    if (path_in(path, run_dir, "metrics.jsonl", err) != 0) return -1;
    if (!gan_fs_exists(path)) return 0;
    char *text;
    size_t n;
    if (gan_fs_read_all(path, &text, &n, err) != 0) return -1;
    char *out = gan_xmalloc(n + 1, "the kept metrics lines");
    char *dropped = gan_xmalloc(n + 1, "the dropped metrics lines");
    size_t m = 0, d = 0;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        long long s = -1;
        // A last line without its newline is what a writer killed mid-line left: it is dropped,
        // or the next line would be glued to it (its step would still parse).
        bool keep = end && sscanf(line, "{\"step\": %lld", &s) == 1 && s <= step;
        memcpy(keep ? out + m : dropped + d, line, len);
        *(keep ? &m : &d) += len;
        line += len;
    }
    char kept[GAN_PATH_MAX];
    int rc = 0;
    if (aside[0] && d > 0)
        rc = path_in(kept, aside, "metrics.jsonl", err) || gan_fs_write_atomic(kept, dropped, d, err) ? -1 : 0;
    if (rc == 0 && m != n) rc = gan_fs_write_atomic(path, out, m, err);
    free(text);
    free(out);
    free(dropped);
    return rc;
}

// Moves the sample grids of steps after `step` into the abandoned branch's folder.
static int move_samples_after(const char *run_dir, int64_t step, const char *aside, gan_err *err) {
    char dir[GAN_PATH_MAX], from[GAN_PATH_MAX], to[GAN_PATH_MAX];
    if (path_in(dir, run_dir, "samples", err) != 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (step_of_name(e->d_name, "step-", ".png") <= step) continue;
        if (path_in(from, dir, e->d_name, err) != 0 || path_in(to, aside, e->d_name, err) != 0) rc = -1;
        else if (rename(from, to) != 0)
            rc = gan_errf(err, GAN_EXIT_RUNTIME, "cannot move %s to %s: %s", from, aside, strerror(errno));
    }
    closedir(d);
    return rc;
}

// The run directory continues from the state just loaded (`ckpt`, or step 0 when ""): a
// checkpoint older than the run's newest starts a new branch (gan_ckpt_branch moves the newer
// checkpoints aside; their metrics lines and sample grids follow them), later metrics lines
// go, and the config is written with the resumed run's changes.
static int continue_run_dir(gan_trainer *tr, const char *ckpt, gan_err *err) {
    char dir[GAN_PATH_MAX], aside[GAN_PATH_MAX] = "";
    if (make_run_subdirs(tr->run_dir, err) != 0 || path_in(dir, tr->run_dir, "checkpoints", err) != 0) return -1;
    if (ckpt[0]) {
        const char *slash = strrchr(ckpt, '/');
        if (gan_ckpt_branch(dir, tr->step, slash ? slash + 1 : ckpt, aside, sizeof aside, err) != 0) return -1;
    }
    if (truncate_metrics(tr->run_dir, tr->step, aside, err) != 0) return -1;
    if (aside[0] && move_samples_after(tr->run_dir, tr->step, aside, err) != 0) return -1;
    if (aside[0])
        fprintf(stderr, "gan train: note: %s continues from step %lld; the later checkpoints, metrics and samples "
                        "of the abandoned branch are in %s\n", tr->run_dir, (long long)tr->step, aside);
    if (write_config(tr, err) != 0) return -1;
    char real[GAN_PATH_MAX];
    if (path_in(real, tr->run_dir, "samples/real.png", err) != 0) return -1;
    return gan_fs_exists(real) ? 0 : write_real_grid(tr, err);
}

int gan_trainer_resume(gan_trainer *tr, const char *path, int noverrides, const char *const *overrides,
                       gan_dist *dist, gan_err *err) {
    memset(tr, 0, sizeof *tr);
    use_dist(tr, dist);
    char ckpt[GAN_PATH_MAX], source[GAN_PATH_MAX];
    if (resume_source(path, tr->run_dir, ckpt, err) != 0) return -1;
    gan_config stored;
    int64_t step = 0;
    if (ckpt[0]) {
        if (read_isolated(ckpt, err) != 0 || gan_ckpt_read_config(ckpt, 0, NULL, &stored, err) != 0 ||
            ckpt_step(ckpt, &step, err) != 0 ||
            check_belongs(tr->run_dir, ckpt, &stored, err) != 0)
            return -1;
        snprintf(source, sizeof source, "%s", ckpt);
    } else {
        if (read_run_config(tr->run_dir, &stored, err) != 0) return -1;
        if (path_in(source, tr->run_dir, "config.yaml", err) != 0) return -1;
    }
    gan_config wanted = stored;
    if (gan_config_apply_overrides(&wanted, noverrides, overrides, err) != 0) return -1;
    gan_config check = stored;
    keep_resumable(&check, &wanted);
    const char *changed = gan_config_diff(&check, &wanted);
    if (changed)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "%s cannot change when resuming %s (it would not continue the same run); "
                        "only train.steps, train.threads, device, checkpoint.*, sample.every, log.every and eval.* can",
                        changed, source);
    tr->cfg = wanted;
    if (step >= wanted.train.steps) {  // gan_trainer_run says so; nothing is loaded or written
        tr->step = step;
        tr->nothing_to_do = true;
        // Only what killed writers left (a report or grid cut off as the run ended) is removed,
        // when no writer holds the run; anything else stays as it is.
        gan_err ignored;
        if (tr->writer && own_run_dir(tr, &ignored) == 0) {
            gan_fs_unlock_dir(tr->lock_fd);
            tr->locked = false;
        }
        return 0;
    }
    if (tr->writer && own_run_dir(tr, err) != 0) return -1;
    if (strcmp(stored.device, wanted.device))
        fprintf(stderr, "gan train: note: the run trained on %s and continues on %s; results stay correct but are "
                        "bit-identical to an unbroken run only on the same backend\n", stored.device, wanted.device);
    if (setup(tr, err) != 0) return -1;
    if (ckpt[0] && gan_train_state_load(tr, ckpt, err) != 0) return -1;
    return tr->writer ? continue_run_dir(tr, ckpt, err) : 0;
}

void gan_trainer_free(gan_trainer *tr) {
    if (tr->family) tr->family->free(tr->model);
    ag_ctx_free(tr->c);
    gan_loader_free(&tr->loader);
    gan_dataset_free(&tr->ds);
    if (tr->be) ag_backend_host_free(tr->be, tr->real_buf);
    free(tr->real_labels);
    gan_refstats_free(&tr->eval_ref);
    gan_feature_net_free(tr->eval_net);
    ag_ctx_free(tr->eval_c);
    free(tr->fixed_noise);
    free(tr->grad_buf);
    ag_backend_close(tr->be);  // the model, context and tensors above live on it
    if (tr->locked) gan_fs_unlock_dir(tr->lock_fd);  // last: the run is written until here
    memset(tr, 0, sizeof *tr);
}

// Where a diverged run can go back to: "the last good checkpoint is RUN/checkpoints/ckpt-N.h5
// (step N)", from what is on disk now (not what this process wrote: a run diverging right after
// a resume has written none), or that there is none.
static void last_good(const gan_trainer *tr, char *dst, size_t size) {
    char ckpt[GAN_PATH_MAX];
    int64_t step = 0;
    gan_err ignored;
    if (run_checkpoint(tr->run_dir, ckpt, sizeof ckpt, &ignored) == 1 && ckpt_step(ckpt, &step, &ignored) == 0) {
        char dir[GAN_PATH_MAX], file[GAN_PATH_MAX];
        gan_fs_dirname(ckpt, dir, sizeof dir);
        if (gan_ckpt_step_path(file, sizeof file, dir, step, &ignored) == 0 &&
            gan_fs_exists(file))
            snprintf(ckpt, sizeof ckpt, "%s", file);  // the file latest.h5 names
        snprintf(dst, size, "the last good checkpoint is %s (step %lld)", ckpt, (long long)step);
    } else {
        snprintf(dst, size, "it has no checkpoint yet (the first is due at step %lld)",
                 (long long)tr->cfg.checkpoint.every);
    }
}

static int diverged(const gan_trainer *tr, const char *what, gan_err *err) {
    char good[GAN_PATH_MAX + 96];
    last_good(tr, good, sizeof good);
    return gan_errf(err, GAN_EXIT_RUNTIME, "step %lld: %s: training diverged; %s; train again with a lower "
                    "learning rate",
                    (long long)tr->step, what, good);
}

// A diverged state is never saved: every value of the model and its optimizers is checked
// first (the losses can stay finite while a weight or a running variance does not).
static int save_state(gan_trainer *tr, const char *path, gan_err *err) {
    char bad[GAN_PATH_MAX], what[GAN_PATH_MAX + 64];
    if (tr->family->find_nonfinite(tr->model, bad, sizeof bad)) {
        const char *slash = strrchr(path, '/');
        snprintf(what, sizeof what, "%s is not finite, so %s was not written", bad, slash ? slash + 1 : path);
        return diverged(tr, what, err);
    }
    return gan_train_state_save(tr, path, err);
}

static int checkpoint_now(gan_trainer *tr, gan_err *err) {
    char dir[GAN_PATH_MAX], path[GAN_PATH_MAX];
    if (path_in(dir, tr->run_dir, "checkpoints", err) != 0 ||
        gan_ckpt_step_path(path, sizeof path, dir, tr->step, err) != 0)
        return -1;
    if (save_state(tr, path, err) != 0) return -1;
    return gan_ckpt_rotate(dir, tr->cfg.checkpoint.keep, err);
}

// metrics.jsonl, appended a whole line at a time (gan_fs_append): a line that cannot be written
// (a full disk) stops the run and leaves the file as it was, never a torn line that the next
// append would be glued to.
typedef struct metrics_log {
    int fd;
    char path[GAN_PATH_MAX];
    char *line;  // the line being formatted (open_memstream)
    size_t len;
    FILE *f;
} metrics_log;

static FILE *metrics_begin(metrics_log *m) {
    m->f = open_memstream(&m->line, &m->len);
    GAN_CHECK(m->f, "out of memory formatting a metrics line");
    return m->f;
}

static int metrics_end(metrics_log *m, gan_err *err) {
    fclose(m->f);
    int rc = gan_fs_append(m->fd, m->path, m->line, m->len, err);
    free(m->line);
    m->line = NULL;
    return rc;
}

// Scores the sampling generator as `gan eval --seed eval.seed --n eval.n` would, appends the
// result to metrics.jsonl, and keeps checkpoints/best.h5 when the FID is the best so far. The
// latents come from eval.seed and the work from a context of its own: the training run is not
// touched, so a resumed run stays byte-identical.
static int eval_now(gan_trainer *tr, metrics_log *m, gan_progress *prog, gan_err *err) {
    const gan_config *cfg = &tr->cfg;
    int h, w;
    gan_dataset_image_size(&tr->ds, &h, &w);
    const int R = cfg->model.resolution;
    if (h > R || w > R) h = w = R;
    gan_sample_source src = {.family = tr->family, .model = tr->model, .c = tr->eval_c, .cfg = cfg,
                             .seed = (uint64_t)cfg->eval.seed,
                             .opts = gan_eval_sample_opts(1.0f, !strcmp(cfg->eval.noise, "random"),
                                                          (uint64_t)cfg->eval.seed),
                             .out_h = h, .out_w = w};
    gan_eval_result r;
    if (gan_evaluate(tr->eval_net, tr->eval_c, &tr->eval_ref, cfg->eval.n, cfg->model.channels, h, w, 250,
                     gan_sample_source_images, &src, (uint64_t)cfg->eval.seed, gan_now(), &r, err) != 0)
        return gan_err_prefix(err, "evaluating at step %lld: ", (long long)tr->step);
    FILE *f = metrics_begin(m);
    fprintf(f, "{\"step\": %lld, \"time\": %.3f, ", (long long)tr->step, tr->elapsed);
    gan_eval_json_fields(f, &r);
    fputs("}\n", f);
    if (metrics_end(m, err) != 0 || gan_run_events_eval(tr->events, tr->step, &r, err) != 0) return -1;
    char line[256];
    gan_eval_summary(&r, line, sizeof line);
    gan_progress_note(prog, "eval at step %lld (%.1f s): %s", (long long)tr->step, r.seconds, line);
    gan_progress_set_extra(prog, "FID %.2f", r.fid);
    if (!isnan(tr->best_fid) && !(r.fid < tr->best_fid)) return 0;
    tr->best_fid = r.fid;
    tr->best_step = tr->step;
    char dir[GAN_PATH_MAX], path[GAN_PATH_MAX];
    if (path_in(dir, tr->run_dir, "checkpoints", err) != 0 || path_in(path, dir, "best.h5", err) != 0) return -1;
    return save_state(tr, path, err);
}

static int snapshot_now(gan_trainer *tr, gan_err *err) {
    char dir[GAN_PATH_MAX], name[64], path[GAN_PATH_MAX];
    snprintf(name, sizeof name, "step-%08lld.png", (long long)tr->step);
    if (path_in(dir, tr->run_dir, "samples", err) != 0 || path_in(path, dir, name, err) != 0) return -1;
    if (write_snapshot(tr, path, err) != 0) return -1;
    gan_report_refresh(tr->run_dir, &tr->report_warned);  // derived data: a failure is only a warning
    return 0;
}

// Means of the step statistics over one log interval (a statistic that was not measured in a
// step, NAN, does not count in its mean; one never measured in the interval is written null).
typedef struct interval {
    gan_stats last;  // names, and the latest values for the progress line
    double sum[GAN_STATS_MAX];
    int64_t count[GAN_STATS_MAX];
    double seconds;
    int64_t steps;
} interval;

static void interval_add(interval *iv, const gan_stats *st, double seconds) {
    iv->last = *st;
    for (int i = 0; i < st->n; i++)
        if (!isnan(st->values[i])) iv->sum[i] += st->values[i], iv->count[i]++;
    iv->seconds += seconds;
    iv->steps++;
}

// The interval's means so far, as metrics.jsonl stores them (NAN: not measured in it yet).
static gan_stats interval_means(const interval *iv) {
    gan_stats m = iv->last;
    for (int i = 0; i < m.n; i++) m.values[i] = iv->count[i] ? (float)(iv->sum[i] / (double)iv->count[i]) : NAN;
    return m;
}

static int write_metrics(metrics_log *m, const gan_trainer *tr, const interval *iv, gan_err *err) {
    FILE *f = metrics_begin(m);
    double ips = iv->seconds > 0 ? (double)iv->steps * tr->cfg.train.batch_size / iv->seconds : 0.0;
    fprintf(f, "{\"step\": %lld, \"time\": %.3f", (long long)tr->step, tr->elapsed);
    for (int i = 0; i < iv->last.n; i++) {
        if (iv->count[i]) fprintf(f, ", \"%s\": %.6g", iv->last.names[i], iv->sum[i] / (double)iv->count[i]);
        else fprintf(f, ", \"%s\": null", iv->last.names[i]);
    }
    fprintf(f, ", \"images_per_sec\": %.2f}\n", ips);
    if (metrics_end(m, err) != 0) return -1;
    return gan_run_events_interval(tr->events, tr->step, iv->last.n, iv->last.names, iv->sum, iv->count, ips, err);
}

static bool stats_finite(const gan_stats *st, const char **bad, float *value) {
    for (int i = 0; i < st->n; i++)
        if (isinf(st->values[i]) || (isnan(st->values[i]) && i < 2)) {
            *bad = st->names[i], *value = st->values[i];
            return false;
        }
    return true;
}

int gan_trainer_run(gan_trainer *tr, gan_err *err) {
    const gan_config *cfg = &tr->cfg;
    if (tr->nothing_to_do) {
        printf("nothing to do: the run is at step %lld of %lld; raise train.steps to continue\n",
               (long long)tr->step, (long long)cfg->train.steps);
        return 0;
    }
    metrics_log metrics = {.fd = -1};
    if (tr->writer) {
        if (path_in(metrics.path, tr->run_dir, "metrics.jsonl", err) != 0) return -1;
        metrics.fd = open(metrics.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
        if (metrics.fd < 0)
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open for appending: %s", metrics.path, strerror(errno));
        char *yaml = gan_config_to_yaml(cfg);
        tr->events = gan_run_events_open(tr->run_dir, tr->step, yaml, err);
        free(yaml);
        if (!tr->events) {
            close(metrics.fd);
            return -1;
        }
    }

    gan_signals_install();
    gan_progress prog;
    gan_progress_init(&prog, stdout, cfg->train.steps, cfg->log.every);
    if (tr->dist) gan_progress_never_block(&prog);
    char procs[64] = "";
    if (tr->dist)
        snprintf(procs, sizeof procs, " in each of %d processes (%s)", gan_train_dist_procs(tr), gan_dist_name(tr->dist));
    gan_progress_note(&prog, "training %s: %s %dx%d, %lld images from %s, %d thread%s%s, run directory %s",
                      cfg->name, cfg->model.type, cfg->model.resolution, cfg->model.resolution,
                      (long long)tr->ds.n, cfg->data.path, tr->threads, tr->threads == 1 ? "" : "s", procs,
                      tr->run_dir);
    if (tr->step > 0) gan_progress_note(&prog, "resuming at step %lld", (long long)tr->step);

    const int B = cfg->train.batch_size;
    const int nbatches = tr->family->batches_per_step(cfg);
    const int64_t batch_floats = (int64_t)B * cfg->model.channels * cfg->model.resolution * cfg->model.resolution;
    interval iv = {0};
    double rate_t0 = gan_now();
    int64_t rate_steps = 0, last_ckpt = tr->step;
    int rc = 0;
    // Several processes agree on stopping after each step (agree_on_step): a signal reaches each
    // at its own moment, and a process that left the loop alone would leave the others waiting.
    int stop_signal = tr->dist ? 0 : gan_signals_which();

    while (tr->step < cfg->train.steps && !stop_signal) {
        double t0 = gan_now();
        for (int k = 0; k < nbatches; k++) {
            gan_loader_next(&tr->loader, tr->real_buf + k * batch_floats);
            if (tr->real_labels) gan_loader_labels(&tr->loader, tr->real_labels + (int64_t)k * B);
        }
        gan_stats st;
        tr->family->step(tr->model, tr->c, tr->step, tr->real_buf, tr->real_labels, &tr->rng, &st);
        stop_signal = gan_signals_which();
        if (tr->dist) gan_train_dist_agree(tr, &st, &stop_signal);
        const char *bad;
        float value;
        if (!stats_finite(&st, &bad, &value)) {
            gan_progress_finish(&prog);
            char what[128];
            tr->step++;  // the step that diverged, as the progress line counts it
            snprintf(what, sizeof what, "%s = %g (not finite)", bad, value);
            rc = diverged(tr, what, err);
            break;
        }
        tr->step++;
        if (tr->dist && cfg->train.check_ranks_every > 0 && tr->step % cfg->train.check_ranks_every == 0 &&
            (rc = gan_train_dist_check_ranks(tr, err)) != 0)
            break;
        double dt = gan_now() - t0;
        tr->elapsed += dt;
        interval_add(&iv, &st, dt);
        rate_steps++;

        bool last = tr->step == cfg->train.steps;
        const gan_stats means = interval_means(&iv);  // the progress line shows what the log stores
        if (!tr->writer) continue;  // the other processes of a run only step
        if (tr->step % cfg->log.every == 0 || last) {
            if ((rc = write_metrics(&metrics, tr, &iv, err)) != 0) break;
            iv = (interval){0};
        }
        double span = gan_now() - rate_t0;
        double sps = span > 0 ? rate_steps / span : 0;
        gan_progress_update(&prog, tr->step, sps, sps * B, &means);
        if (span > 5.0) rate_t0 = gan_now(), rate_steps = 0;  // a recent window, not the whole run

        const bool sample = tr->step % cfg->sample.every == 0 || last;
        if (sample && (rc = snapshot_now(tr, err)) != 0) break;
        if (cfg->eval.every > 0 && (tr->step % cfg->eval.every == 0 || last) &&
            (rc = eval_now(tr, &metrics, &prog, err)) != 0)
            break;
        const bool ckpt = tr->step % cfg->checkpoint.every == 0 || last;
        if (ckpt) {
            if ((rc = checkpoint_now(tr, err)) != 0) break;
            last_ckpt = tr->step;
        }
        if (sample || ckpt)
            gan_progress_note(&prog, "step %lld: wrote %s%s%s", (long long)tr->step,
                              sample ? "a sample grid (samples/)" : "", sample && ckpt ? " and " : "",
                              ckpt ? "a checkpoint (checkpoints/)" : "");
    }
    gan_progress_finish(&prog);
    if (!tr->writer) return rc;
    if (rc == 0 && stop_signal) {
        if (last_ckpt != tr->step) rc = checkpoint_now(tr, err);
        if (rc == 0)
            gan_progress_note(&prog, "stopped by signal %d at step %lld; checkpoint written; continue with "
                              "`gan train --resume %s`", stop_signal, (long long)tr->step, tr->run_dir);
    } else if (rc == 0) {
        gan_progress_note(&prog, "done: %lld steps in %.1f s; samples in %s/samples, checkpoints in %s/checkpoints",
                          (long long)tr->step, tr->elapsed, tr->run_dir, tr->run_dir);
    }
    // status.json (how this session ended, which `gan runs` reads) and the final report.html
    gan_report_session_end(tr->run_dir, tr->step, rc, rc ? err->msg : "", stop_signal != 0,
                           &tr->report_warned);
    close(metrics.fd);
    gan_tfevents_close(tr->events);
    tr->events = NULL;
    return rc;
}
