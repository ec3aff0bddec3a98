// Experiment configs: a YAML file (libyaml), checked against the schema in config_schema.c,
// defaults filled in, "key.path=value" overrides from the command line applied on top, and a
// canonical resolved YAML written back out (into the run directory and into checkpoints).
//
//   gan_config cfg;
//   gan_err err;
//   if (gan_config_load("exp.yaml", noverrides, overrides, &cfg, &err) != 0)
//       return gan_cli_fail("train", &err);   // prints err.msg, returns err.code (2)
//
// Every failure is a user error: -1 with err->code = GAN_EXIT_USAGE and one line naming the
// file:line:column (or the override), the key and what was expected, with a did-you-mean
// suggestion for misspelt keys and enum values. docs/config.md documents every key.
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "fsutil.h"

#define GAN_CONFIG_NAME_MAX 128  // bytes of name, including the NUL
#define GAN_CONFIG_ENUM_MAX 16   // bytes of an enum value, including the NUL
#define GAN_CONFIG_DEVICE_MAX 32 // bytes of a backend name ("cuda:1"), including the NUL

// Enums are kept as their YAML spelling ("dcgan", "auto"), so a new value is one schema entry.
typedef struct gan_model_config {
    char type[GAN_CONFIG_ENUM_MAX];  // dcgan, stylegan2
    int resolution;                  // image side
    int channels;                    // image channels: 1 or 3
    // dcgan
    int nz;                          // latent size
    int ngf, ndf;                    // generator / discriminator width
    bool spectral_norm;              // spectral normalisation of every conv of D (docs/variants.md)
    // stylegan2
    int z_dim, w_dim;                // latent and intermediate latent sizes
    int mapping_layers;              // fully connected layers of the mapping network
    double mapping_lr_mul;           // learning-rate multiplier of the mapping network
    int channel_base, channel_max;   // channels at resolution r: min(base / r, max)
    int mbstd_group_size;            // minibatch standard deviation group
    // conditioning (docs/variants.md "Conditioning")
    int num_classes;                 // class-conditional G and D over this many labels; 0 = unconditional
} gan_model_config;

typedef struct gan_data_config {
    char path[GAN_PATH_MAX];          // IDX file (.gz ok), image directory or CIFAR-10 batches
    char format[GAN_CONFIG_ENUM_MAX]; // auto, idx, folder, cifar10
    int64_t limit;                    // first N images only; 0 = all
    bool skip_bad;                    // image folders: skip undecodable images instead of failing
    char labels[GAN_PATH_MAX];        // conditioning: IDX label file; "" = found beside data.path
} gan_data_config;

typedef struct gan_train_config {
    int64_t steps;                   // G steps
    int batch_size;
    double lr_g, lr_d;               // Adam learning rates
    double beta1, beta2;             // Adam betas
    int d_steps;                     // D steps per G step
    double label_smoothing;          // one-sided: real label = 1 - s
    char loss[GAN_CONFIG_ENUM_MAX];  // bce (sigmoid + BCE), logits, hinge, lsgan, wgan-gp
    double gp_lambda;                // wgan-gp: the gradient penalty's weight
    int threads;                     // 0 = all cores
    bool sync_bn;                    // data-parallel: batchnorm statistics over every process
    int64_t check_ranks_every;       // data-parallel: compare the ranks' weights every K steps (0: never)
} gan_train_config;

// StyleGAN2's optimisation and regularisation (the dcgan keys of train: do not apply to it).
typedef struct gan_stylegan2_config {
    double lr_g, lr_d;           // Adam learning rates (before the lazy-regularisation correction)
    double beta1, beta2;         // Adam betas
    double r1_gamma;             // R1 weight; 0 = off
    int r1_interval;             // R1 every N minibatches (lazy regularisation)
    double pl_weight;            // path-length weight; 0 = off
    int pl_interval;             // path length every N minibatches
    int pl_batch_shrink;         // path-length batch = batch / shrink
    double pl_decay;             // decay of the path-length running mean
    double mixing_prob;          // style-mixing probability
    double ema_kimg;             // G EMA half-life in thousands of images
    double ema_rampup;           // 0 = off; else half-life <= images seen * rampup
    char loss[GAN_CONFIG_ENUM_MAX];  // logistic (the paper's), hinge, lsgan, wgan-gp
    double gp_lambda;            // wgan-gp: the gradient penalty's weight
    int d_steps;                 // Dmain phases per iteration (WGAN-GP's n_critic)
} gan_stylegan2_config;

typedef struct gan_checkpoint_config {
    int64_t every;  // steps between checkpoints
    int keep;       // newest checkpoints kept
} gan_checkpoint_config;

typedef struct gan_sample_config {
    int64_t every;  // steps between sample grids
    int n;          // images per grid
    int nrow;       // images per grid row; 0 = square
} gan_sample_config;

// Evaluation during training (gan eval's metrics every `every` steps; docs/evaluation.md).
typedef struct gan_eval_config {
    int64_t every;                       // steps between evaluations; 0 = none
    int64_t n;                           // generated samples per evaluation
    char features[GAN_CONFIG_ENUM_MAX];  // auto, fmnist, inception
    char ref[GAN_PATH_MAX];              // "data" (the run's training data), a dataset path or a statistics file
    int64_t ref_n;                       // reference images drawn from a dataset; 0 = all
    int64_t seed;                        // the generated samples' latents: the same for every evaluation
    char noise[GAN_CONFIG_ENUM_MAX];     // StyleGAN2's noise inputs: const or random (gan eval --noise)
} gan_eval_config;

// Augmentation of every image D sees (docs/variants.md "Augmentation").
typedef struct gan_augment_config {
    char diffaugment[64];  // DiffAugment policy: "color,translation,cutout" or a part; "" = off
    bool ada;              // ADA: each transform with adaptive probability p
    double ada_target;     // the wanted mean sign of D on reals (0.6)
    int ada_interval;      // steps between adjustments of p (4)
    double ada_kimg;       // thousands of images for p to move by 1 (500)
    double ada_p;          // p at the start (0)
} gan_augment_config;

typedef struct gan_log_config {
    int64_t every;  // steps between log lines when stdout is not a terminal
} gan_log_config;

typedef struct gan_config {
    char name[GAN_CONFIG_NAME_MAX];  // default: the config file's basename without extension
    int64_t seed;
    char device[GAN_CONFIG_DEVICE_MAX];  // the backend: cpu, cuda, cuda:N (src/autograd/include/backend.h)
    gan_model_config model;
    gan_data_config data;
    gan_train_config train;
    gan_stylegan2_config stylegan2;
    gan_checkpoint_config checkpoint;
    gan_sample_config sample;
    gan_log_config log;
    gan_eval_config eval;
    gan_augment_config augment;
} gan_config;

// Reads the YAML file at `path`, applies the overrides ("train.steps=100", read like plain YAML
// scalars, in order, after the file) and checks required keys. Unset keys get their defaults;
// an unset name becomes the file's basename without extension. On failure *cfg is unspecified.
int gan_config_load(const char *path, int noverrides, const char *const *overrides,
                    gan_config *cfg, gan_err *err);
// The same from a string; `source_name` stands for the file in messages and in the default name
// (e.g. "runs/x/ckpt_000100.h5:/config").
int gan_config_parse(const char *yaml_text, const char *source_name, int noverrides,
                     const char *const *overrides, gan_config *cfg, gan_err *err);
// Applies overrides to a complete config (one loaded or parsed before). All or nothing: on
// failure *cfg is unchanged.
int gan_config_apply_overrides(gan_config *cfg, int noverrides, const char *const *overrides,
                               gan_err *err);

// The resolved config as YAML: every key that applies, in schema order, one short comment each.
// Parses back to an identical struct. malloc'd; the caller frees it.
char *gan_config_to_yaml(const gan_config *cfg);
// The documented schema (every key, its type and range, default, meaning), for --help.
void gan_config_print_schema(FILE *f);
// The first key (in schema order) whose value differs between a and b, or NULL when they agree:
// "train.lr_g". For refusing to resume a checkpoint under a different config.
const char *gan_config_diff(const gan_config *a, const gan_config *b);

// --- shared with the command line, so that options and keys read and report alike ---------

// An integer as a config key takes it (optional sign, then digits only), within [lo, hi].
// Otherwise -1 with "WHAT: expected an integer in [lo, hi], got 'TEXT'" (exit 2): overflow
// included, never clamped to the nearest representable value.
int gan_config_read_int(const char *what, const char *text, int64_t lo, int64_t hi, int64_t *out,
                        gan_err *err);
// A thread count the user gave: at most GAN_THREADS_PER_CORE times this machine's cores (0 =
// all cores). More only slows every step down and is most likely a typo; a stored config (a
// checkpoint's, from another machine) is never checked. -1 with "WHAT: N is more than ...".
#define GAN_THREADS_PER_CORE 4
int gan_config_check_threads(const char *what, int64_t threads, gan_err *err);

// User text as a message shows it: control characters as '?', and at most GAN_CLIP_MAX bytes
// (paths: GAN_CLIP_PATH_MAX, keeping the end, where the file name is) with "..." where it was
// cut, so that the reason after it always fits in a gan_err. Use the member in place:
//   gan_errf(err, GAN_EXIT_USAGE, "unknown option %s", gan_config_clip(arg).s);
#define GAN_CLIP_MAX 80
#define GAN_CLIP_PATH_MAX 240
typedef struct gan_clipped {
    char s[GAN_CLIP_PATH_MAX + 4];
} gan_clipped;
gan_clipped gan_config_clip(const char *text);
gan_clipped gan_config_clip_path(const char *path);
