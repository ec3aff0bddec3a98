// The "fmnist" feature net: a small classifier of 28x28 grey images, trained by gan.c itself on
// the Fashion-MNIST training set (tools/train_classifier.c, docs/evaluation.md), whose 128-d
// penultimate layer is what `gan eval` compares on 1-channel 28/32-pixel data.
//
//   conv1  3x3 stride 1 pad 1    1 -> 32, leaky ReLU 0.2   28 x 28
//   conv2  4x4 stride 2 pad 1   32 -> 64, leaky ReLU       14 x 14
//   conv3  4x4 stride 2 pad 1   64 -> 64, leaky ReLU        7 x 7
//   conv4  3x3 stride 2 pad 1   64 -> 32, leaky ReLU        4 x 4
//   fc     512 -> 128, leaky ReLU                           the features
//   head   128 -> 10                                        the class logits
//
// No batch normalisation: an image's features never depend on the rest of its batch. The last
// convolution narrows to 32 channels so that the whole net is 184,170 parameters (0.74 MB of
// float32) and 10.2 million multiply-adds per image. Parameter names are those of the
// PyTorch twin (tools/fmnist_net_twin.py): conv1.weight, conv1.bias, ..., head.bias; a weights
// file holds them under GAN_FMNIST_GROUP.
#pragma once
#include <stdbool.h>

#include "conv.h"
#include "error.h"
#include "linear.h"
#include "rng.h"

#define GAN_FMNIST_SIZE 28       // images are 28 x 28, 1 channel, in [-1, 1] (x / 127.5 - 1)
#define GAN_FMNIST_FEATURES 128
#define GAN_FMNIST_CLASSES 10
#define GAN_FMNIST_GROUP "/net"  // the parameters' group in a weights file

typedef struct gan_fmnist_net {
    ag_params *params;
    nn_conv2d conv[4];
    nn_linear fc, head;
} gan_fmnist_net;

// The net on backend be, parameters zero; trainable gives them gradients (the trainer).
gan_fmnist_net *gan_fmnist_net_create(const ag_backend *be, bool trainable);
void gan_fmnist_net_free(gan_fmnist_net *n);  // NULL is fine
// PyTorch's default initialisation of Conv2d and Linear: weights and biases uniform in
// +-1/sqrt(fan_in), drawn from rng layer by layer, weight before bias.
void gan_fmnist_net_init(gan_fmnist_net *n, ag_rng *rng);
// Loads the parameters from the weights file at `path` (a gan.c HDF5 file, checkpoint.h) with
// every check gan_ckpt_read_params makes: the group must hold exactly these names and shapes.
// On error err names the file and n is untouched.
int gan_fmnist_net_load(gan_fmnist_net *n, const char *path, gan_err *err);

// x (N, 1, H, W) as the net takes it: 28 x 28 unchanged, 32 x 32 center-cropped to 28 x 28 (gan.c
// pads 28-pixel datasets to 32 with their background, loader.h). Any other size is a user error
// (NULL with err set) saying what the net takes.
ag_tensor *gan_fmnist_net_fit(ag_ctx *c, ag_tensor *x, gan_err *err);
// x (N, 1, 28, 28) -> features (N, 128).
ag_tensor *gan_fmnist_net_features(ag_ctx *c, const gan_fmnist_net *n, ag_tensor *x);
// features (N, 128) -> logits (N, 10).
ag_tensor *gan_fmnist_net_logits(ag_ctx *c, const gan_fmnist_net *n, ag_tensor *features);
