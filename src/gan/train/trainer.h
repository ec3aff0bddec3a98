// A training run of any model family (family.h): the run directory, the data, the model, the
// random streams, and the loop that steps, logs, samples and checkpoints.
//
// Run directory (runs/NAME unless --run-dir):
//   config.yaml     the resolved config (every key)
//   metrics.jsonl   one JSON object per log interval: step, wall time, the means of the family's
//                   step statistics (losses, D outputs, regularisers), images/s
//   samples/        real.png (a grid of training images), step-NNNNNNNN.png (the fixed latents
//                   through the sampling generator, every sample.every steps)
//   checkpoints/    ckpt-NNNNNNNN.h5 (step number) every checkpoint.every steps and at the end, the newest
//                   checkpoint.keep kept, latest.h5 -> the newest; abandoned-<time>/ (what a
//                   resume from an older checkpoint moved aside: later checkpoints, metrics, samples)
//   .lock           flock(2)ed by the one process writing the run; holds its pid and host
//   events.out.tfevents.*  TensorBoard events, one file per session (run_events.h)
// Everything a resumed run needs to continue bit-identically is in the checkpoint. config.yaml
// is written first, so a run killed before its first checkpoint resumes from step 0.
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dataset.h"
#include "dist.h"
#include "error.h"
#include "family.h"
#include "feature_net.h"
#include "refstats.h"
#include "fsutil.h"
#include "loader.h"
#include "rng.h"
#include "tfevents.h"

typedef struct gan_trainer {
    gan_config cfg;
    char run_dir[GAN_PATH_MAX];
    ag_backend *be;         // opened from cfg.device; the trainer's own
    ag_ctx *c;
    int threads;
    const gan_family *family;
    gan_model *model;
    gan_dataset ds;
    gan_loader loader;
    ag_rng rng;             // every random input of the training steps
    float *fixed_noise;     // (sample.n, latent): the same latents for every snapshot of the run
    int64_t step;           // G steps done
    double elapsed;         // wall seconds of training, summed over resumed sessions
    float *real_buf;        // host staging for one step's batches
    int32_t *real_labels;   // conditional runs (model.num_classes > 0): their classes; else NULL
    // Evaluation during training (eval.every > 0): the feature net, the reference statistics,
    // a context of its own, and the best FID so far (NAN before the first evaluation).
    gan_feature_net *eval_net;
    gan_refstats eval_ref;
    ag_ctx *eval_c;
    double best_fid;
    int64_t best_step;
    // The run directory's lock (RUN/.lock), held from before the first write until
    // gan_trainer_free: one writer per run.
    int lock_fd;
    bool locked;
    bool nothing_to_do;  // a resume found the run at train.steps: gan_trainer_run only says so
    gan_tfevents *events;  // this session's TensorBoard event file (run_events.h), open in gan_trainer_run
    bool report_warned;    // a report.html refresh failed and said so (report.h): once is enough
    // Data parallelism (docs/distributed.md): the run's processes (NULL: this one alone). Only
    // the writer (rank 0) touches the run directory; every process steps, and the collectives
    // (gradient averaging in the optimizers' hooks, the step statistics) keep them in lockstep.
    gan_dist *dist;
    bool writer;
    float *grad_buf;  // host staging of one parameter set's gradients for the allreduce
    int64_t grad_cap;
} gan_trainer;

// The config's data as dataset options (data.path, data.format, data.limit at model.channels
// and model.resolution).
int gan_trainer_data_opts(const gan_config *cfg, gan_data_opts *o, gan_err *err);
// The config's data and a loader over it in batches of `batch`, shuffled from `data_seed`. On failure nothing is
// left allocated.
int gan_trainer_open_data(const gan_config *cfg, int batch, uint64_t data_seed, gan_dataset *ds,
                          gan_loader *loader, gan_err *err);

// The directory a new run named `name` gets when none is given: runs/NAME, or when that holds a
// run already (or is being written), the first free of runs/NAME-2, runs/NAME-3, ... ("free":
// missing, or empty but for what a writer killed before config.yaml leaves). Returns 1 when the
// name had to change, 0 when not, -1 (err) when no name up to NAME-9999 is free.
int gan_trainer_default_run_dir(const char *name, char *dir, size_t size, gan_err *err);
// A new run from a loaded config into run_dir (which must not exist, or be empty but for what a
// writer killed before writing config.yaml leaves). Loads the data before anything is written,
// so bad data leaves no directory behind; then takes the run's lock (another writer: exit 1
// naming its pid and host) and writes config.yaml before anything else.
// dist: the run's processes (dist.h), or NULL for one; the trainer does not close it.
int gan_trainer_create(gan_trainer *tr, const gan_config *cfg, const char *run_dir, gan_dist *dist, gan_err *err);
// Resumes from a run directory (its newest checkpoint, or step 0 from its config.yaml when it
// has none yet) or a checkpoint inside a run's checkpoints/ folder. Overrides may change only
// what does not alter the run's past (steps, checkpoint/sample/log intervals, threads); anything
// else is refused naming the key, as is a checkpoint of another model or config than the run's
// config.yaml. A run already at train.steps sets nothing_to_do and writes nothing. Otherwise
// takes the run's lock before the first write; resuming a checkpoint older than the run's
// newest moves the newer ones aside (gan_ckpt_branch).
int gan_trainer_resume(gan_trainer *tr, const char *path, int noverrides, const char *const *overrides,
                       gan_dist *dist, gan_err *err);
// Trains until cfg.train.steps (or a stop signal: then checkpoints and returns 0 early); after a
// resume that found nothing_to_do, only says so.
int gan_trainer_run(gan_trainer *tr, gan_err *err);
void gan_trainer_free(gan_trainer *tr);

// Writes the full training state (both networks with buffers, optimizers, random streams, data
// position, fixed noise, step, config) to path atomically. train_state.c.
int gan_train_state_save(const gan_trainer *tr, const char *path, gan_err *err);
// Reads the state written by gan_train_state_save into a trainer built from the checkpoint's
// config. Nothing is changed unless everything loads.
int gan_train_state_load(gan_trainer *tr, const char *path, gan_err *err);
// What a user may name to mean a checkpoint: a file, or a run directory (its newest checkpoint,
// gan_ckpt_find_latest: a dangling latest.h5 is refused offering the newest intact one).
// Anything else is an error saying what was expected. The checkpoint is then read whole by a
// child process (gan_h5_read_isolated): one that crashes libhdf5 is refused, not loaded.
int gan_resolve_checkpoint(const char *path, char *ckpt, size_t size, gan_err *err);
// The config stored in a checkpoint, parsed (overrides applied on top).
int gan_ckpt_read_config(const char *path, int noverrides, const char *const *overrides, gan_config *cfg,
                          gan_err *err);
