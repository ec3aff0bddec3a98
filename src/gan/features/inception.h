// The FID InceptionV3: pytorch-fid's FIDInceptionV3 (the network of TensorFlow's FID code,
// ported to PyTorch by mseitzer/pytorch-fid) on the engine, up to its 2048-d pool3 features.
//
// Architecture: torchvision's Inception3 stem and blocks, with pytorch-fid's changes: in
// Mixed_5b-5d (A blocks), Mixed_6b-6e (C blocks) and Mixed_7b the 3x3 average pool (stride 1,
// padding 1) does not count the padding, and Mixed_7c pools by 3x3 max (stride 1, padding 1).
// Every convolution is BasicConv2d: conv without bias, BatchNorm with eps 0.001 in eval mode,
// ReLU. Parameters carry the names of pytorch-fid's state_dict ("Mixed_5b.branch1x1.conv.weight",
// "Mixed_5b.branch1x1.bn.running_var", ...) without the classifier (fc.*), which the features do
// not use. tools/fid_inception_twin.py is the PyTorch twin the tests compare with.
#pragma once

#include "error.h"
#include "ops.h"
#include "params.h"

#define GAN_INCEPTION_SIZE 299     // the input size of the network; images are resized to it
#define GAN_INCEPTION_DIM 2048     // pool3 feature length
#define GAN_INCEPTION_GROUP "/inception"  // where weight files keep the state_dict

typedef struct gan_inception gan_inception;

// The network on backend be, parameters zero until loaded (or filled by a test).
gan_inception *gan_inception_create(const ag_backend *be);
void gan_inception_free(gan_inception *net);  // NULL is fine
// Conv and batchnorm weights and biases / the batchnorms' running statistics and batch counters;
// between them, every entry of the state_dict but fc.*.
ag_params *gan_inception_params(gan_inception *net);
ag_params *gan_inception_buffers(gan_inception *net);

// Loads every parameter and buffer from GAN_INCEPTION_GROUP in the HDF5 file at path (the
// layout of tools/convert_fid_inception.py: a gan.c checkpoint file holding one state_dict).
// A file that is not such a file, or whose group is missing a tensor, has one too many or one
// of another shape, is an error naming the file and every difference; the net is then untouched.
int gan_inception_load(gan_inception *net, const char *path, gan_err *err);

// pool3 features (N, 2048) of images x (N, 3, H, W) in [-1, 1], any H, W >= 1: the images are
// resized to 299x299 as pytorch-fid does (gan_inception_resize), then run through the network.
// Runs in inference mode on c; call it with grad mode off.
ag_tensor *gan_inception_features(ag_ctx *c, const gan_inception *net, ag_tensor *x);

// x (N, C, H, W) resized to (N, C, out_h, out_w) as torch.nn.functional.interpolate(mode=
// "bilinear", align_corners=False, antialias=False) does, as two matrix products.
ag_tensor *gan_inception_resize(ag_ctx *c, ag_tensor *x, int out_h, int out_w);
