// The schema of gan_config: one entry per key, in the order the canonical YAML and --help list
// them. Adding a key is adding its field to config.h and one line here (and a row in
// docs/config.md, which test_config checks). The path is the field's own name, so the two
// cannot disagree, and the field's C type picks the value type.
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_schema.h"

#define FIELD_(f) ((gan_config *)0)->f
#define AT_(f) .path = #f, .offset = offsetof(gan_config, f), .size = sizeof(FIELD_(f))
// A number or string key; the type follows the field (int, int64_t, double, char[]).
#define KEY(f)                                                                                   \
    AT_(f), .type = _Generic(FIELD_(f), int: GAN_CFG_INT, int64_t: GAN_CFG_INT64,                \
                             double: GAN_CFG_FLOAT, char *: GAN_CFG_STRING, bool: GAN_CFG_BOOL)
// One of .choices, stored as its spelling in a char[] field.
#define ENUM(f) AT_(f), .type = _Generic(FIELD_(f), char *: GAN_CFG_ENUM)
#define SECTION(name) .path = name, .type = GAN_CFG_SECTION
// Keys that only one model family reads.
#define DCGAN "model.type=dcgan"
#define SG2 "model.type=stylegan2"

static const gan_cfg_key gan_config_keys[] = {
    {KEY(name), .help = "run name (runs/NAME; no '/', not '.' or '..'); default: the config file's name without extension"},
    {KEY(seed), .required = 1, .imin = 0, .imax = INT64_MAX,
     .help = "random seed; same config, seed and thread count give the same run"},
    {KEY(device), .def = "cpu", .help = "where to train: cpu, or cuda / cuda:N in a build with CUDA"},

    {SECTION("model"), .help = "the networks"},
    {ENUM(model.type), .required = 1, .choices = "dcgan stylegan2", .help = "architecture"},
    {KEY(model.resolution), .choices = "8 16 32 64 128 256", .def = "64",
     .help = "image side in pixels (dcgan: 32 or 64)"},
    {KEY(model.channels), .choices = "1 3", .def = "3", .help = "image channels"},
    {KEY(model.nz), .imin = 1, .imax = 4096, .def = "100", .when = DCGAN, .help = "latent size"},
    {KEY(model.ngf), .imin = 1, .imax = 4096, .def = "64", .when = DCGAN, .help = "generator width"},
    {KEY(model.ndf), .imin = 1, .imax = 4096, .def = "64", .when = DCGAN, .help = "discriminator width"},
    {KEY(model.spectral_norm), .def = "false", .when = DCGAN,
     .help = "spectral normalisation of every convolution of D (torch.nn.utils.spectral_norm)"},
    {KEY(model.z_dim), .imin = 1, .imax = 4096, .def = "512", .when = SG2, .help = "latent size (z)"},
    {KEY(model.w_dim), .imin = 1, .imax = 4096, .def = "512", .when = SG2, .help = "intermediate latent size (w)"},
    {KEY(model.mapping_layers), .imin = 1, .imax = 16, .def = "8", .when = SG2,
     .help = "fully connected layers of the mapping network"},
    {KEY(model.mapping_lr_mul), .fmin = 0, .fmin_open = 1, .fmax = 1, .def = "0.01", .when = SG2,
     .help = "learning-rate multiplier of the mapping network"},
    {KEY(model.channel_base), .imin = 1, .imax = 1 << 20, .def = "32768", .when = SG2,
     .help = "channels at resolution r: min(channel_base / r, channel_max)"},
    {KEY(model.channel_max), .imin = 1, .imax = 4096, .def = "512", .when = SG2, .help = "most channels of any layer"},
    {KEY(model.mbstd_group_size), .imin = 1, .imax = 1024, .def = "4", .when = SG2,
     .help = "minibatch standard deviation group size (must divide the batch)"},
    {KEY(model.num_classes), .imin = 0, .imax = 256, .def = "0",
     .help = "class-conditional G and D over this many labels (from the data); 0 = unconditional"},

    {SECTION("data"), .help = "the training images"},
    {KEY(data.path), .required = 1,
     .help = "an IDX file (.gz ok), a directory of images, or CIFAR-10 binary batches"},
    {ENUM(data.format), .choices = "auto idx folder cifar10", .def = "auto",
     .help = "how to read data.path; auto guesses from the name"},
    {KEY(data.limit), .imin = 0, .imax = INT64_MAX, .def = "0",
     .help = "use only the first N images; 0 = all"},
    {KEY(data.skip_bad), .def = "false",
     .help = "image folders: skip images that cannot be decoded (counted and reported) instead of stopping"},
    {KEY(data.labels), .def = "",
     .help = "conditional runs on IDX data: the label file (idx1-ubyte, .gz ok); empty = the file beside "
             "data.path named with 'labels-idx1-ubyte' for 'images-idx3-ubyte'"},

    {SECTION("train"), .help = "optimisation"},
    {KEY(train.steps), .required = 1, .imin = 1, .imax = INT64_MAX,
     .help = "number of generator steps"},
    {KEY(train.batch_size), .required = 1, .imin = 1, .imax = 65536, .help = "training batch size"},
    {KEY(train.lr_g), .when = DCGAN, .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "0.0002",
     .help = "Adam learning rate of the generator"},
    {KEY(train.lr_d), .when = DCGAN, .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "0.0002",
     .help = "Adam learning rate of the discriminator"},
    {KEY(train.beta1), .when = DCGAN, .fmin = 0, .fmax = 1, .fmax_open = 1, .def = "0.5", .help = "Adam beta1"},
    {KEY(train.beta2), .when = DCGAN, .fmin = 0, .fmax = 1, .fmax_open = 1, .def = "0.999", .help = "Adam beta2"},
    {KEY(train.d_steps), .when = DCGAN, .imin = 1, .imax = INT_MAX, .def = "1",
     .help = "discriminator steps per generator step"},
    {KEY(train.label_smoothing), .when = DCGAN, .fmin = 0, .fmax = 0.5, .def = "0",
     .help = "one-sided label smoothing: real label = 1 - s"},
    {ENUM(train.loss), .when = DCGAN, .choices = "bce logits hinge lsgan wgan-gp", .def = "bce",
     .help = "bce: sigmoid then BCE (the reference); logits: BCE on logits; hinge; lsgan: least squares; "
             "wgan-gp: Wasserstein with gradient penalty (critic without batchnorm)"},
    {KEY(train.gp_lambda), .when = "train.loss=wgan-gp", .fmin = 0, .fmax = HUGE_VAL, .def = "10",
     .help = "weight of WGAN-GP's gradient penalty (|grad D(x_hat)| - 1)^2"},
    {KEY(train.threads), .imin = 0, .imax = INT_MAX, .def = "0",
     .help = "CPU threads; 0 = all cores"},
    {KEY(train.sync_bn), .when = DCGAN, .def = "false",
     .help = "over several processes (mpirun): batchnorm statistics of the whole global batch, not each process's share"},
    {KEY(train.check_ranks_every), .imin = 0, .imax = INT64_MAX, .def = "0",
     .help = "over several processes: every K steps, check that every rank holds the same weights and optimizer state (0: never)"},

    {SECTION("stylegan2"), .when = SG2, .help = "StyleGAN2 optimisation and regularisation"},
    {KEY(stylegan2.lr_g), .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "0.002",
     .help = "Adam learning rate of G (before the lazy-regularisation correction)"},
    {KEY(stylegan2.lr_d), .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "0.002",
     .help = "Adam learning rate of D (before the lazy-regularisation correction)"},
    {KEY(stylegan2.beta1), .fmin = 0, .fmax = 1, .fmax_open = 1, .def = "0", .help = "Adam beta1"},
    {KEY(stylegan2.beta2), .fmin = 0, .fmax = 1, .fmax_open = 1, .def = "0.99", .help = "Adam beta2"},
    {KEY(stylegan2.r1_gamma), .fmin = 0, .fmax = HUGE_VAL, .def = "10", .help = "R1 weight gamma; 0 = off"},
    {KEY(stylegan2.r1_interval), .imin = 1, .imax = INT_MAX, .def = "16", .help = "R1 every N minibatches"},
    {KEY(stylegan2.pl_weight), .fmin = 0, .fmax = HUGE_VAL, .def = "2", .help = "path-length weight; 0 = off"},
    {KEY(stylegan2.pl_interval), .imin = 1, .imax = INT_MAX, .def = "4", .help = "path length every N minibatches"},
    {KEY(stylegan2.pl_batch_shrink), .imin = 1, .imax = INT_MAX, .def = "2",
     .help = "path-length batch = batch / shrink"},
    {KEY(stylegan2.pl_decay), .fmin = 0, .fmax = 1, .def = "0.01", .help = "decay of the path-length mean"},
    {KEY(stylegan2.mixing_prob), .fmin = 0, .fmax = 1, .def = "0.9", .help = "style-mixing probability"},
    {KEY(stylegan2.ema_kimg), .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "10",
     .help = "G EMA half-life in thousands of images"},
    {KEY(stylegan2.ema_rampup), .fmin = 0, .fmax = HUGE_VAL, .def = "0",
     .help = "0 = off; else the half-life is at most images seen times this"},
    {ENUM(stylegan2.loss), .choices = "logistic hinge lsgan wgan-gp", .def = "logistic",
     .help = "logistic: non-saturating softplus (the paper's); hinge; lsgan: least squares; "
             "wgan-gp: Wasserstein with gradient penalty (needs r1_gamma 0)"},
    {KEY(stylegan2.gp_lambda), .when = "stylegan2.loss=wgan-gp", .fmin = 0, .fmax = HUGE_VAL, .def = "10",
     .help = "weight of WGAN-GP's gradient penalty (|grad D(x_hat)| - 1)^2"},
    {KEY(stylegan2.d_steps), .imin = 1, .imax = 16, .def = "1",
     .help = "D steps (Dmain) per iteration, each on its own real batch (WGAN-GP's n_critic)"},

    {SECTION("augment"), .help = "augmentation of every image D sees, real and fake (docs/variants.md)"},
    {KEY(augment.diffaugment), .def = "",
     .help = "DiffAugment policy: color, translation, cutout, comma-separated, applied in that order; empty = off"},
    {KEY(augment.ada), .def = "false",
     .help = "ADA: flips, quarter turns, integer shifts and colour transforms, each with probability p tuned "
             "from D's signs on reals"},
    {KEY(augment.ada_target), .when = "augment.ada=true", .fmin = 0, .fmax = 1, .def = "0.6",
     .help = "ADA: the mean sign of D(real) that p is tuned toward"},
    {KEY(augment.ada_interval), .when = "augment.ada=true", .imin = 1, .imax = INT_MAX, .def = "4",
     .help = "ADA: steps between adjustments of p"},
    {KEY(augment.ada_kimg), .when = "augment.ada=true", .fmin = 0, .fmin_open = 1, .fmax = HUGE_VAL, .def = "500",
     .help = "ADA: thousands of images over which p can move from 0 to 1"},
    {KEY(augment.ada_p), .when = "augment.ada=true", .fmin = 0, .fmax = 1, .def = "0",
     .help = "ADA: p at the start of the run"},

    {SECTION("checkpoint"), .help = "checkpoints in the run directory"},
    {KEY(checkpoint.every), .required = 1, .imin = 1, .imax = INT64_MAX,
     .help = "steps between checkpoints"},
    {KEY(checkpoint.keep), .imin = 1, .imax = INT_MAX, .def = "3",
     .help = "newest checkpoints kept"},

    {SECTION("sample"), .help = "sample grids in the run directory"},
    {KEY(sample.every), .required = 1, .imin = 1, .imax = INT64_MAX,
     .help = "steps between sample grids"},
    {KEY(sample.n), .imin = 1, .imax = 1024, .def = "64", .help = "images per grid"},
    {KEY(sample.nrow), .imin = 0, .imax = INT_MAX, .def = "0",
     .help = "images per grid row; 0 = square grid"},

    {SECTION("log"), .help = "progress output"},
    {KEY(log.every), .imin = 1, .imax = INT64_MAX, .def = "50",
     .help = "steps between log lines when not on a terminal"},

    {SECTION("eval"), .help = "sample quality during training (FID, KID, precision/recall, density/coverage)"},
    {KEY(eval.every), .imin = 0, .imax = INT64_MAX, .def = "0", .help = "steps between evaluations; 0 = none"},
    {KEY(eval.n), .imin = 2, .imax = 10000000, .def = "10000", .help = "generated samples per evaluation"},
    {ENUM(eval.features), .choices = "auto fmnist inception", .def = "auto",
     .help = "feature network; auto: fmnist for grey 28x28 and 32x32 images, else inception"},
    {KEY(eval.ref), .def = "data", .help = "reference: data (the run's training data), a dataset path, a statistics file or a pytorch-fid .npz"},
    {KEY(eval.ref_n), .imin = 0, .imax = INT64_MAX, .def = "10000", .help = "reference images drawn from a dataset; 0 = all"},
    {KEY(eval.seed), .imin = 0, .imax = INT64_MAX, .def = "0", .help = "seed of the generated samples' latents"},
    {ENUM(eval.noise), .choices = "const random", .def = "const", .when = SG2,
     .help = "StyleGAN2's noise inputs: const (each layer's stored noise) or random (each image's own, as gan eval --noise random)"},
};

const gan_cfg_schema gan_config_schema = {
    .keys = gan_config_keys,
    .nkeys = (int)(sizeof gan_config_keys / sizeof gan_config_keys[0]),
    .struct_size = sizeof(gan_config),
};
