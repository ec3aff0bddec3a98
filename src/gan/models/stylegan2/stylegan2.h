// StyleGAN2 (Karras et al., "Analyzing and Improving the Image Quality of StyleGAN", 2020) as in
// NVlabs/stylegan2-ada-pytorch's training/networks.py: the same architecture, parameter names
// (state_dict names: mapping.fc0.weight, synthesis.b4.const, synthesis.b8.conv0.affine.weight,
// b32.fromrgb.weight, b4.fc.weight, ...), gains and initialisation, without fp16 or conv clamping.
// Class conditioning (num_classes K > 0) is ADA's (c_dim K, c one-hot), below.
//
//   G mapping    z (N, z_dim) -> pixel norm -> mapping_layers x [equalized linear (lr_mul
//                0.01), leaky ReLU] -> w (N, w_dim); w_avg tracks the batch mean of w while
//                training (beta 0.995) for truncation
//   G synthesis  ws (N, num_ws, w_dim): a learned 4x4 constant, then per resolution 4, 8, ...,
//                R a block of modulated 3x3 convolutions (the first upsamples by 2 except at 4x4)
//                with noise, bias and leaky ReLU, and a ToRGB 1x1 modulated convolution whose
//                outputs are summed over resolutions through FIR upsampling (the 'skip'
//                architecture). num_ws = 2 log2(R) - 2.
//   D            'resnet': FromRGB 1x1 at R, then per resolution R, ..., 8 a block
//                [conv 3x3, conv 3x3 + blur-downsample] + a blur-downsampled 1x1 skip, both
//                scaled by sqrt(0.5); the 4x4 epilogue: minibatch stddev, conv 3x3, dense,
//                dense to one logit.
//   Channels at resolution r: min(channel_base / r, channel_max).
//
// Class-conditional (num_classes K > 0), as ADA's MappingNetwork and Discriminator with c_dim K:
//   G mapping    mapping.embed (equalized linear K -> w_dim, lr_mul 1, no activation) of the
//                one-hot c; x = cat(pixel_norm(z), pixel_norm(embed(c))), so mapping.fc0 takes
//                z_dim + w_dim inputs; w_avg tracks the conditional ws.
//   D            its own mapping network without z (ADA's MappingNetwork(z_dim=0, c_dim=K,
//                w_dim=cmap_dim, num_ws=None, w_avg_beta=None), state_dict mapping.*):
//                cmap = d_mapping_layers x [equalized linear (lr_mul 0.01), leaky ReLU] of
//                pixel_norm(mapping.embed(c)), cmap_dim = the channels at 4x4; b4.out has
//                cmap_dim outputs and the logit is sum(out * cmap, dim 1) / sqrt(cmap_dim).
//                No w_avg in D.
//
// Buffers (not trained, but saved and copied into G_ema): mapping.w_avg (w_dim) and one
// synthesis.b<r>.conv<i>.noise_const (r, r) per synthesis layer. D has none (an empty set, so
// every network has the same two sets). Resampling filters are constants of the code, not
// buffers. noise_strength is stored with shape (1) (PyTorch: a scalar, shape ()).
#pragma once
#include <stdbool.h>

#include "equalized.h"
#include "noise.h"
#include "params.h"
#include "rng.h"

#define GAN_SG2_MAX_RES_LOG2 10                          // up to 1024x1024
#define GAN_SG2_MAX_BLOCKS (GAN_SG2_MAX_RES_LOG2 - 1)    // resolutions 4 .. 1024
#define GAN_SG2_MAX_LAYERS (2 * GAN_SG2_MAX_BLOCKS - 1)  // modulated 3x3 convolutions
#define GAN_SG2_MAX_MAPPING 16

typedef struct gan_sg2_shape {
    int resolution;        // a power of two, 8 .. 1024
    int img_channels;      // 1 or 3
    int z_dim, w_dim;
    int mapping_layers;    // 1 .. GAN_SG2_MAX_MAPPING
    float mapping_lr_mul;  // 0.01 in the official code
    int channel_base, channel_max;
    int mbstd_group_size;  // 4 in the official code; min(it, batch) must divide the batch
    int mbstd_channels;    // 1
    int num_classes;       // c_dim: 0 unconditional, else one-hot class labels (at most 256)
    int d_mapping_layers;  // D's label mapping layers when num_classes > 0: 8 as ADA (its train.py
                           // gives D no mapping_kwargs, so G's mapping_layers does not apply)
} gan_sg2_shape;

#define GAN_SG2_D_MAPPING_LAYERS 8  // ADA's MappingNetwork default, which its D uses
#define GAN_SG2_MAX_CLASSES 256

// The official defaults (channel_base 32768, channel_max 512, z_dim = w_dim = 512, 8 mapping
// layers, mbstd 4/1, unconditional, 8 D mapping layers) at the given resolution and image channels.
gan_sg2_shape gan_sg2_shape_default(int resolution, int img_channels);
// Returns false (and says why in `why`) when the shape is not one this code builds.
bool gan_sg2_shape_valid(gan_sg2_shape s, char *why, int why_size);
// min(channel_base / res, channel_max), at least 1.
int gan_sg2_channels(gan_sg2_shape s, int res);
// The synthesis network's style inputs, num_ws = 2 log2(R) - 2: one per modulated 3x3
// convolution and one more for the last ToRGB (a gan_sg2_g's num_ws, known without building it).
int gan_sg2_num_ws(gan_sg2_shape s);

// One modulated convolution of the synthesis network (the official SynthesisLayer):
// styles = affine(w); modulated conv (demodulated); + noise * noise_strength; bias; leaky ReLU
// times sqrt(2).
typedef struct gan_sg2_layer {
    nn_eq_linear affine;  // w_dim -> in, bias init 1
    ag_tensor *weight;    // (out, in, 3, 3) N(0, 1), not equalized (demodulation cancels the gain)
    ag_tensor *bias;      // (out)
    nn_noise noise;
    int up;               // 2 for the first layer of blocks above 4x4
} gan_sg2_layer;

// ToRGB: styles = affine(w) / sqrt(in); modulated 1x1 conv without demodulation; bias.
typedef struct gan_sg2_torgb {
    nn_eq_linear affine;
    ag_tensor *weight, *bias;  // (img_channels, in, 1, 1), (img_channels)
    float style_gain;
} gan_sg2_torgb;

typedef struct gan_sg2_gblock {
    int res, in, out;     // in = 0 for the 4x4 block
    ag_tensor *constant;  // (out, 4, 4) for the 4x4 block, else NULL
    gan_sg2_layer conv0;  // blocks above 4x4 only
    gan_sg2_layer conv1;
    gan_sg2_torgb torgb;
} gan_sg2_gblock;

typedef struct gan_sg2_g {
    gan_sg2_shape shape;
    int nblocks, num_ws, num_layers;  // num_layers: modulated 3x3 convolutions (noise inputs)
    ag_params *params, *buffers;
    gan_sg2_gblock blocks[GAN_SG2_MAX_BLOCKS];  // 4x4 first
    nn_eq_linear fc[GAN_SG2_MAX_MAPPING];
    nn_eq_linear embed;  // num_classes > 0: mapping.embed, K -> w_dim
    ag_tensor *w_avg;  // (w_dim) buffer
    float w_avg_beta;  // 0.995
    bool fused_modconv;  // grouped-convolution form of the modulated convs (same values)
} gan_sg2_g;

typedef struct gan_sg2_dblock {
    int res, tmp, out;
    bool has_fromrgb;  // the first block (at the image resolution)
    nn_eq_conv2d fromrgb, conv0, conv1, skip;
} gan_sg2_dblock;

typedef struct gan_sg2_d {
    gan_sg2_shape shape;
    int nblocks;  // resnet blocks: resolutions R .. 8
    ag_params *params, *buffers;
    gan_sg2_dblock blocks[GAN_SG2_MAX_BLOCKS];
    nn_eq_conv2d epi_conv;       // b4.conv: (C + mbstd_channels) -> C, 3x3
    nn_eq_linear epi_fc, epi_out;  // b4.fc: C*16 -> C (leaky ReLU), b4.out: C -> 1 (cmap_dim when conditional)
    int cmap_dim;                  // num_classes > 0: C, the channels at 4x4 (ADA's default); else 0
    nn_eq_linear embed;            // num_classes > 0: mapping.embed, K -> cmap_dim
    nn_eq_linear map[GAN_SG2_MAX_MAPPING];  // num_classes > 0: mapping.fc<i>, cmap_dim -> cmap_dim
} gan_sg2_d;

// Where a synthesis forward pass gets its noise.
typedef struct gan_sg2_noise {
    nn_noise_mode mode;
    ag_rng *rng;                 // NN_NOISE_RANDOM without images: drawn layer by layer, in order
    ag_tensor *const *images;    // NN_NOISE_RANDOM: one (N, 1, r, r) per layer, in order, or NULL
} gan_sg2_noise;

// --- generator ---------------------------------------------------------------------------------
gan_sg2_g *gan_sg2_g_create(const ag_backend *be, gan_sg2_shape s);
void gan_sg2_g_free(gan_sg2_g *g);
// Official initialisation: weights N(0, 1) (mapping: N(0, 1) / lr_mul), affine biases 1, other
// biases and noise strengths 0, const and noise_const N(0, 1), w_avg 0.
void gan_sg2_g_init(gan_sg2_g *g, ag_rng *rng);
// The resolution of synthesis layer i (0 .. num_layers-1), for noise images.
int gan_sg2_layer_res(const gan_sg2_g *g, int i);

// z (N, z_dim) -> w (N, w_dim). With update_w_avg (training, not for style-mixing draws) w_avg
// moves to lerp(mean_n w, w_avg, w_avg_beta), outside the graph. Unconditional networks only.
ag_tensor *gan_sg2_mapping(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, bool update_w_avg);
// The same with the classes y (N, num_classes) one-hot (nn_one_hot), NULL exactly when the
// network is unconditional.
ag_tensor *gan_sg2_mapping_cond(ag_ctx *c, gan_sg2_g *g, ag_tensor *z, ag_tensor *y, bool update_w_avg);
// w (N, w_dim) -> ws (N, num_ws, w_dim), every layer's copy pulled toward w_avg:
// w_avg + psi (w - w_avg); psi = 1 leaves w unchanged.
ag_tensor *gan_sg2_broadcast(ag_ctx *c, gan_sg2_g *g, ag_tensor *w, float psi);
// ws (N, num_ws, w_dim) -> images (N, img_channels, R, R).
ag_tensor *gan_sg2_synthesis(ag_ctx *c, gan_sg2_g *g, ag_tensor *ws, gan_sg2_noise noise);

// --- discriminator -------------------------------------------------------------------------
gan_sg2_d *gan_sg2_d_create(const ag_backend *be, gan_sg2_shape s);
void gan_sg2_d_free(gan_sg2_d *d);
// Weights N(0, 1), biases 0.
void gan_sg2_d_init(gan_sg2_d *d, ag_rng *rng);
// images (N, img_channels, R, R) -> logits (N). Unconditional networks only.
ag_tensor *gan_sg2_d_forward(ag_ctx *c, gan_sg2_d *d, ag_tensor *img);
// The same judged with the classes y (N, num_classes) one-hot, NULL exactly when unconditional.
ag_tensor *gan_sg2_d_forward_cond(ag_ctx *c, gan_sg2_d *d, ag_tensor *img, ag_tensor *y);
