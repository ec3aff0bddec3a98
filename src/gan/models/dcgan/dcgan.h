// The DCGAN of pytorch/examples/dcgan: the same layers, parameter names (main.<index>.<name>,
// as nn.Sequential numbers them) and initialisation, at 64x64 (the reference) or 32x32 (one
// block less in each network, for 28x28 and 32x32 datasets).
//
//   G64: z (N,nz,1,1) -> ConvT(nz,8g,4,1,0) BN ReLU -> ConvT(8g,4g) BN ReLU -> ConvT(4g,2g) BN ReLU
//        -> ConvT(2g,g) BN ReLU -> ConvT(g,nc) Tanh                  (ConvT(a,b) = 4x4, stride 2, pad 1)
//   D64: x -> Conv(nc,d) LReLU -> Conv(d,2d) BN LReLU -> Conv(2d,4d) BN LReLU -> Conv(4d,8d) BN LReLU
//        -> Conv(8d,1,4,1,0) [Sigmoid]
// The WGAN-GP critic (d_no_bn) is D without its BN layers: the gradient penalty is per sample,
// and batch statistics would tie each sample's gradient to the others (and BN's fused kernel
// has no second derivative). Its parameter names keep the reference's numbering, as an
// nn.Sequential with nn.Identity in place of each BatchNorm2d numbers them.
// No convolution has a bias, as in the reference.
// With spectral_norm every conv of D is wrapped as torch.nn.utils.spectral_norm wraps it: its
// parameter is main.N.weight_orig, with buffers main.N.weight_u and main.N.weight_v, and each
// training-mode forward of D runs one power iteration per conv (spectral_norm.h).
#pragma once
#include <stdbool.h>

#include "batchnorm.h"
#include "cond_batchnorm.h"
#include "embedding.h"
#include "conv.h"
#include "rng.h"
#include "spectral_norm.h"

#define GAN_DCGAN_MAX_BLOCKS 4

typedef struct gan_dcgan_shape {
    int resolution;  // 32 or 64
    int nz, ngf, ndf, nc;
    bool d_no_bn;    // D without batchnorm (the WGAN-GP critic); G is unaffected
    bool spectral_norm;  // every conv of D spectrally normalised (spectral_norm.h); G is unaffected
    int num_classes;     // > 0: class-conditional, see "Conditioning" below; 0: the reference
} gan_dcgan_shape;

typedef struct gan_dcgan_g {
    gan_dcgan_shape shape;
    int nblocks;  // ConvT+BN+ReLU blocks before the last ConvT: 4 at 64x64, 3 at 32x32
    ag_params *params, *buffers;
    nn_conv_transpose2d conv[GAN_DCGAN_MAX_BLOCKS + 1];
    nn_batchnorm2d bn[GAN_DCGAN_MAX_BLOCKS];
    nn_cond_batchnorm2d cbn[GAN_DCGAN_MAX_BLOCKS];  // in place of bn when shape.num_classes > 0
} gan_dcgan_g;

typedef struct gan_dcgan_d {
    gan_dcgan_shape shape;
    int nblocks;  // strided convs: 4 at 64x64, 3 at 32x32 (the first has no BN)
    ag_params *params, *buffers;
    nn_conv2d conv[GAN_DCGAN_MAX_BLOCKS + 1];
    nn_batchnorm2d bn[GAN_DCGAN_MAX_BLOCKS];  // bn[0] unused; all unused with shape.d_no_bn
    // With shape.spectral_norm: conv[j].weight is sn[j].weight_orig (what init fills and Adam
    // trains), and each forward convolves with sn[j]'s normalised weight instead.
    nn_spectral_norm sn[GAN_DCGAN_MAX_BLOCKS + 1];
    nn_embedding embed;  // with shape.num_classes > 0: the projection's table (K, C * 4 * 4)
} gan_dcgan_d;

// Returns false (and says why in `why`) when the shape is not a DCGAN this code builds.
bool gan_dcgan_shape_valid(gan_dcgan_shape s, char *why, int why_size);

gan_dcgan_g *gan_dcgan_g_create(const ag_backend *be, gan_dcgan_shape s);
void gan_dcgan_g_free(gan_dcgan_g *g);
// The reference's weights_init: conv weights N(0, 0.02), BN weights N(1, 0.02), BN bias 0.
void gan_dcgan_g_init(gan_dcgan_g *g, ag_rng *rng);
// z (N, nz, 1, 1) -> images (N, nc, R, R) in [-1, 1]. train: batch statistics (and running
// statistics updated); otherwise the running statistics (each image depends only on its z).
ag_tensor *gan_dcgan_g_forward(ag_ctx *c, gan_dcgan_g *g, ag_tensor *z, bool train);

gan_dcgan_d *gan_dcgan_d_create(const ag_backend *be, gan_dcgan_shape s);
void gan_dcgan_d_free(gan_dcgan_d *d);
// As G's; with spectral normalisation, then each conv's u and v (spectral_norm.h), in layer order.
void gan_dcgan_d_init(gan_dcgan_d *d, ag_rng *rng);
// x (N, nc, R, R) -> (N): probabilities (the reference's Sigmoid) or, with logits, the values
// before it.
ag_tensor *gan_dcgan_d_forward(ag_ctx *c, gan_dcgan_d *d, ag_tensor *x, bool train, bool logits);

// --- Conditioning (shape.num_classes = K > 0; docs/variants.md "Conditioning") ---------------
// G: each BatchNorm2d becomes a conditional batchnorm (cond_batchnorm.h): main.<i>.gain.weight
// and main.<i>.bias.weight (K, C) in place of main.<i>.weight and main.<i>.bias, initialised as
// the reference initialises BN (every row N(1, 0.02) and 0), the running buffers unchanged.
// D: a projection discriminator (Miyato & Koyama 2018) on the flattened feature map phi(x)
// (N, C * 4 * 4) that enters the last conv: out = last_conv(phi) + sum(embed(y) * phi), before
// the sigmoid, with embed.weight (K, C * 4 * 4) initialised N(0, 0.02) as the convs (drawn after
// every other weight of D). y: one-hot labels (N, K) (nn_one_hot); NULL exactly when K = 0.
ag_tensor *gan_dcgan_g_forward_cond(ag_ctx *c, gan_dcgan_g *g, ag_tensor *z, ag_tensor *y, bool train);
ag_tensor *gan_dcgan_d_forward_cond(ag_ctx *c, gan_dcgan_d *d, ag_tensor *x, ag_tensor *y, bool train, bool logits);
