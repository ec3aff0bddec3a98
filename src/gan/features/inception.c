#include "inception.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "batchnorm.h"
#include "checkpoint.h"
#include "conv.h"
#include "gan_check.h"

// BasicConv2d's batchnorm epsilon (TensorFlow's 0.001, kept by torchvision and pytorch-fid).
#define BN_EPS 0.001f

// conv (no bias) + batchnorm (eval) + ReLU, named <prefix>.conv.weight and <prefix>.bn.*.
typedef struct basic_conv {
    ag_tensor *weight;  // (Cout, Cin, kh, kw)
    nn_batchnorm2d bn;
    ag_conv_args args;
} basic_conv;

typedef struct block_a {  // FIDInceptionA
    basic_conv b1x1, b5x5_1, b5x5_2, b3dbl_1, b3dbl_2, b3dbl_3, pool;
} block_a;

typedef struct block_b {  // InceptionB (Mixed_6a), torchvision's
    basic_conv b3x3, b3dbl_1, b3dbl_2, b3dbl_3;
} block_b;

typedef struct block_c {  // FIDInceptionC
    basic_conv b1x1, b7_1, b7_2, b7_3, b7dbl_1, b7dbl_2, b7dbl_3, b7dbl_4, b7dbl_5, pool;
} block_c;

typedef struct block_d {  // InceptionD (Mixed_7a), torchvision's
    basic_conv b3_1, b3_2, b7x3_1, b7x3_2, b7x3_3, b7x3_4;
} block_d;

typedef struct block_e {  // FIDInceptionE_1 (average pool) and FIDInceptionE_2 (max pool)
    basic_conv b1x1, b3_1, b3_2a, b3_2b, b3dbl_1, b3dbl_2, b3dbl_3a, b3dbl_3b, pool;
    bool max_pool;
} block_e;

struct gan_inception {
    ag_params *params, *buffers;
    basic_conv conv1a, conv2a, conv2b, conv3b, conv4a;
    block_a mixed_5[3];
    block_b mixed_6a;
    block_c mixed_6[4];
    block_d mixed_7a;
    block_e mixed_7b, mixed_7c;
};

// --- building ---------------------------------------------------------------------------------

// A kh x kw convolution at `stride` with padding (ph, pw), named "<block>.<name>" (or "<name>"
// for the stem's layers, block NULL).
static void conv_init(gan_inception *net, basic_conv *l, const char *block, const char *name, int cin, int cout,
                      int kh, int kw, int stride, int ph, int pw) {
    char prefix[AG_PARAM_NAME_MAX], buf[AG_PARAM_NAME_MAX];
    if (block) nn_name(prefix, block, name);
    else snprintf(prefix, sizeof prefix, "%s", name);
    l->weight = ag_params_add(net->params, nn_name(buf, prefix, "conv.weight"), AG_SHAPE(cout, cin, kh, kw));
    nn_batchnorm2d_init(&l->bn, net->params, net->buffers, nn_name(buf, prefix, "bn"), cout);
    l->bn.eps = BN_EPS;
    l->args = (ag_conv_args){.stride_h = stride, .stride_w = stride, .pad_h = ph, .pad_w = pw, .groups = 1};
}

// Square kernels, "same" padding at stride 1 (k / 2), none at stride 2: every square conv here.
static void conv_sq(gan_inception *net, basic_conv *l, const char *block, const char *name, int cin, int cout,
                    int k, int stride, int pad) {
    conv_init(net, l, block, name, cin, cout, k, k, stride, pad, pad);
}

// The 1 x n and n x 1 factorised convolutions of the C, D and E blocks ("same" padding).
static void conv_row(gan_inception *net, basic_conv *l, const char *block, const char *name, int cin, int cout,
                     int n) {
    conv_init(net, l, block, name, cin, cout, 1, n, 1, 0, n / 2);
}
static void conv_col(gan_inception *net, basic_conv *l, const char *block, const char *name, int cin, int cout,
                     int n) {
    conv_init(net, l, block, name, cin, cout, n, 1, 1, n / 2, 0);
}

static void block_a_init(gan_inception *net, block_a *b, const char *name, int cin, int pool_features) {
    conv_sq(net, &b->b1x1, name, "branch1x1", cin, 64, 1, 1, 0);
    conv_sq(net, &b->b5x5_1, name, "branch5x5_1", cin, 48, 1, 1, 0);
    conv_sq(net, &b->b5x5_2, name, "branch5x5_2", 48, 64, 5, 1, 2);
    conv_sq(net, &b->b3dbl_1, name, "branch3x3dbl_1", cin, 64, 1, 1, 0);
    conv_sq(net, &b->b3dbl_2, name, "branch3x3dbl_2", 64, 96, 3, 1, 1);
    conv_sq(net, &b->b3dbl_3, name, "branch3x3dbl_3", 96, 96, 3, 1, 1);
    conv_sq(net, &b->pool, name, "branch_pool", cin, pool_features, 1, 1, 0);
}

static void block_b_init(gan_inception *net, block_b *b, const char *name, int cin) {
    conv_sq(net, &b->b3x3, name, "branch3x3", cin, 384, 3, 2, 0);
    conv_sq(net, &b->b3dbl_1, name, "branch3x3dbl_1", cin, 64, 1, 1, 0);
    conv_sq(net, &b->b3dbl_2, name, "branch3x3dbl_2", 64, 96, 3, 1, 1);
    conv_sq(net, &b->b3dbl_3, name, "branch3x3dbl_3", 96, 96, 3, 2, 0);
}

static void block_c_init(gan_inception *net, block_c *b, const char *name, int c7) {
    const int cin = 768;
    conv_sq(net, &b->b1x1, name, "branch1x1", cin, 192, 1, 1, 0);
    conv_sq(net, &b->b7_1, name, "branch7x7_1", cin, c7, 1, 1, 0);
    conv_row(net, &b->b7_2, name, "branch7x7_2", c7, c7, 7);
    conv_col(net, &b->b7_3, name, "branch7x7_3", c7, 192, 7);
    conv_sq(net, &b->b7dbl_1, name, "branch7x7dbl_1", cin, c7, 1, 1, 0);
    conv_col(net, &b->b7dbl_2, name, "branch7x7dbl_2", c7, c7, 7);
    conv_row(net, &b->b7dbl_3, name, "branch7x7dbl_3", c7, c7, 7);
    conv_col(net, &b->b7dbl_4, name, "branch7x7dbl_4", c7, c7, 7);
    conv_row(net, &b->b7dbl_5, name, "branch7x7dbl_5", c7, 192, 7);
    conv_sq(net, &b->pool, name, "branch_pool", cin, 192, 1, 1, 0);
}

static void block_d_init(gan_inception *net, block_d *b, const char *name, int cin) {
    conv_sq(net, &b->b3_1, name, "branch3x3_1", cin, 192, 1, 1, 0);
    conv_sq(net, &b->b3_2, name, "branch3x3_2", 192, 320, 3, 2, 0);
    conv_sq(net, &b->b7x3_1, name, "branch7x7x3_1", cin, 192, 1, 1, 0);
    conv_row(net, &b->b7x3_2, name, "branch7x7x3_2", 192, 192, 7);
    conv_col(net, &b->b7x3_3, name, "branch7x7x3_3", 192, 192, 7);
    conv_sq(net, &b->b7x3_4, name, "branch7x7x3_4", 192, 192, 3, 2, 0);
}

static void block_e_init(gan_inception *net, block_e *b, const char *name, int cin, bool max_pool) {
    conv_sq(net, &b->b1x1, name, "branch1x1", cin, 320, 1, 1, 0);
    conv_sq(net, &b->b3_1, name, "branch3x3_1", cin, 384, 1, 1, 0);
    conv_row(net, &b->b3_2a, name, "branch3x3_2a", 384, 384, 3);
    conv_col(net, &b->b3_2b, name, "branch3x3_2b", 384, 384, 3);
    conv_sq(net, &b->b3dbl_1, name, "branch3x3dbl_1", cin, 448, 1, 1, 0);
    conv_sq(net, &b->b3dbl_2, name, "branch3x3dbl_2", 448, 384, 3, 1, 1);
    conv_row(net, &b->b3dbl_3a, name, "branch3x3dbl_3a", 384, 384, 3);
    conv_col(net, &b->b3dbl_3b, name, "branch3x3dbl_3b", 384, 384, 3);
    conv_sq(net, &b->pool, name, "branch_pool", cin, 192, 1, 1, 0);
    b->max_pool = max_pool;
}

gan_inception *gan_inception_create(const ag_backend *be) {
    gan_inception *net = gan_xcalloc(1, sizeof *net, "the Inception network");
    net->params = ag_params_create(be, false);
    net->buffers = ag_params_create(be, false);
    // In the state_dict's order (torchvision's module order).
    conv_sq(net, &net->conv1a, NULL, "Conv2d_1a_3x3", 3, 32, 3, 2, 0);
    conv_sq(net, &net->conv2a, NULL, "Conv2d_2a_3x3", 32, 32, 3, 1, 0);
    conv_sq(net, &net->conv2b, NULL, "Conv2d_2b_3x3", 32, 64, 3, 1, 1);
    conv_sq(net, &net->conv3b, NULL, "Conv2d_3b_1x1", 64, 80, 1, 1, 0);
    conv_sq(net, &net->conv4a, NULL, "Conv2d_4a_3x3", 80, 192, 3, 1, 0);
    block_a_init(net, &net->mixed_5[0], "Mixed_5b", 192, 32);
    block_a_init(net, &net->mixed_5[1], "Mixed_5c", 256, 64);
    block_a_init(net, &net->mixed_5[2], "Mixed_5d", 288, 64);
    block_b_init(net, &net->mixed_6a, "Mixed_6a", 288);
    static const char *const names_6[4] = {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"};
    static const int c7[4] = {128, 160, 160, 192};
    for (int i = 0; i < 4; i++) block_c_init(net, &net->mixed_6[i], names_6[i], c7[i]);
    block_d_init(net, &net->mixed_7a, "Mixed_7a", 768);
    block_e_init(net, &net->mixed_7b, "Mixed_7b", 1280, false);
    block_e_init(net, &net->mixed_7c, "Mixed_7c", 2048, true);
    ag_params_finalize(net->params);
    ag_params_finalize(net->buffers);
    return net;
}

void gan_inception_free(gan_inception *net) {
    if (!net) return;
    ag_params_free(net->params);
    ag_params_free(net->buffers);
    free(net);
}

ag_params *gan_inception_params(gan_inception *net) { return net->params; }
ag_params *gan_inception_buffers(gan_inception *net) { return net->buffers; }

int gan_inception_load(gan_inception *net, const char *path, gan_err *err) {
    gan_ckpt_reader *r;
    if (gan_ckpt_open(path, &r, err) != 0) return -1;
    int rc = gan_ckpt_read_module(r, GAN_INCEPTION_GROUP, (ag_params *[]){net->params, net->buffers}, 2, err);
    gan_ckpt_close(r);
    return rc;
}

// --- running ----------------------------------------------------------------------------------

static ag_tensor *basic(ag_ctx *c, const basic_conv *l, ag_tensor *x) {
    ag_tensor *y = ag_conv2d(c, x, l->weight, l->args);
    return ag_batchnorm2d_eval_act(c, y, l->bn.weight, l->bn.bias, l->bn.running_mean, l->bn.running_var, l->bn.eps,
                                   0.0f);
}

static ag_tensor *chain(ag_ctx *c, int n, const basic_conv *const *ls, ag_tensor *x) {
    for (int i = 0; i < n; i++) x = basic(c, ls[i], x);
    return x;
}

// F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False), TensorFlow's average pool:
// the 3x3 window sums (a depthwise convolution with a ones kernel, one group per channel)
// divided by how many of the window's pixels lie inside the image (9 inside, 6 on an edge, 4 in
// a corner), the same division torch does.
static ag_tensor *avg_pool3_valid(ag_ctx *c, ag_tensor *x) {
    const int C = x->shape.d[1], H = x->shape.d[2], W = x->shape.d[3];
    ag_tensor *sums = ag_conv2d(c, x, ag_ones(c, AG_SHAPE(C, 1, 3, 3)), AG_CONV(1, 1, C));
    float *count = gan_xmalloc((size_t)H * W * sizeof *count, "the average pool's window counts");
    for (int i = 0; i < H; i++) {
        const int rows = (i + 1 < H - 1 ? i + 1 : H - 1) - (i - 1 > 0 ? i - 1 : 0) + 1;
        for (int j = 0; j < W; j++) {
            const int cols = (j + 1 < W - 1 ? j + 1 : W - 1) - (j - 1 > 0 ? j - 1 : 0) + 1;
            count[i * W + j] = (float)(rows * cols);
        }
    }
    ag_tensor *y = ag_div(c, sums, ag_from_host(c, AG_SHAPE(1, 1, H, W), count));
    free(count);
    return y;
}

static ag_tensor *block_a_forward(ag_ctx *c, const block_a *b, ag_tensor *x) {
    ag_tensor *br[4] = {
        basic(c, &b->b1x1, x),
        chain(c, 2, (const basic_conv *[]){&b->b5x5_1, &b->b5x5_2}, x),
        chain(c, 3, (const basic_conv *[]){&b->b3dbl_1, &b->b3dbl_2, &b->b3dbl_3}, x),
        basic(c, &b->pool, avg_pool3_valid(c, x)),
    };
    return ag_concat(c, 4, br, 1);
}

static ag_tensor *block_b_forward(ag_ctx *c, const block_b *b, ag_tensor *x) {
    ag_tensor *br[3] = {
        basic(c, &b->b3x3, x),
        chain(c, 3, (const basic_conv *[]){&b->b3dbl_1, &b->b3dbl_2, &b->b3dbl_3}, x),
        ag_max_pool2d(c, x, 3, 2, 0),
    };
    return ag_concat(c, 3, br, 1);
}

static ag_tensor *block_c_forward(ag_ctx *c, const block_c *b, ag_tensor *x) {
    ag_tensor *br[4] = {
        basic(c, &b->b1x1, x),
        chain(c, 3, (const basic_conv *[]){&b->b7_1, &b->b7_2, &b->b7_3}, x),
        chain(c, 5, (const basic_conv *[]){&b->b7dbl_1, &b->b7dbl_2, &b->b7dbl_3, &b->b7dbl_4, &b->b7dbl_5}, x),
        basic(c, &b->pool, avg_pool3_valid(c, x)),
    };
    return ag_concat(c, 4, br, 1);
}

static ag_tensor *block_d_forward(ag_ctx *c, const block_d *b, ag_tensor *x) {
    ag_tensor *br[3] = {
        chain(c, 2, (const basic_conv *[]){&b->b3_1, &b->b3_2}, x),
        chain(c, 4, (const basic_conv *[]){&b->b7x3_1, &b->b7x3_2, &b->b7x3_3, &b->b7x3_4}, x),
        ag_max_pool2d(c, x, 3, 2, 0),
    };
    return ag_concat(c, 3, br, 1);
}

static ag_tensor *block_e_forward(ag_ctx *c, const block_e *b, ag_tensor *x) {
    ag_tensor *b3 = basic(c, &b->b3_1, x);
    ag_tensor *bd = chain(c, 2, (const basic_conv *[]){&b->b3dbl_1, &b->b3dbl_2}, x);
    ag_tensor *pooled = b->max_pool ? ag_max_pool2d(c, x, 3, 1, 1) : avg_pool3_valid(c, x);
    ag_tensor *br[6] = {
        basic(c, &b->b1x1, x),
        basic(c, &b->b3_2a, b3),
        basic(c, &b->b3_2b, b3),
        basic(c, &b->b3dbl_3a, bd),
        basic(c, &b->b3dbl_3b, bd),
        basic(c, &b->pool, pooled),
    };
    // cat([b1x1, cat([3x3_2a, 3x3_2b]), cat([dbl_3a, dbl_3b]), pool]) is this one concatenation.
    return ag_concat(c, 6, br, 1);
}

// Row i of the (out, in) matrix holds torch's bilinear weights of output pixel i (align_corners
// False, no antialiasing), computed as aten's CPU kernel does (torch 1.13, checked weight for
// weight): the scale in/out in float, the source coordinate s = scale * (i + 0.5) - 0.5 in
// double and clamped at 0, taps floor(s) and the next one (the same at the last pixel), weights
// w1 = s - floor(s) rounded to float and w0 = 1 - w1.
static ag_tensor *bilinear_matrix(ag_ctx *c, int in, int out) {
    float *m = gan_xcalloc((size_t)in * out, sizeof *m, "a resize matrix");
    const float scale = (float)in / (float)out;
    for (int i = 0; i < out; i++) {
        double s = scale * (i + 0.5) - 0.5;
        if (s < 0.0) s = 0.0;
        const int i0 = (int)s, i1 = i0 + (i0 < in - 1 ? 1 : 0);
        const float w1 = (float)(s - i0), w0 = 1.0f - w1;
        m[(int64_t)i * in + i0] += w0;
        m[(int64_t)i * in + i1] += w1;
    }
    ag_tensor *t = ag_from_host(c, AG_SHAPE(out, in), m);
    free(m);
    return t;
}

// Bilinear interpolation is separable: each output row mixes two input rows, each output column
// two input columns, so resizing an image X (H, W) is Mh X Mw^T with the two matrices above.
// The products run over all N*C images at once: X Mw^T as one (N C H, W) x (W, out_w) product,
// then Mh times each image as one batched product.
ag_tensor *gan_inception_resize(ag_ctx *c, ag_tensor *x, int out_h, int out_w) {
    GAN_CHECK(x->shape.ndim == 4 && out_h > 0 && out_w > 0, "inception resize: input %s to %dx%d",
              AG_SHAPE_STR(x->shape), out_h, out_w);
    const int N = x->shape.d[0], C = x->shape.d[1], H = x->shape.d[2], W = x->shape.d[3];
    // Equal sizes give s = i exactly: weights 1 and 0, the identity.
    if (W != out_w) {
        ag_tensor *rows = ag_reshape(c, x, AG_SHAPE(N * C * H, W));
        x = ag_matmul(c, rows, bilinear_matrix(c, W, out_w), false, true);
    }
    if (H != out_h) {
        ag_tensor *mh = ag_reshape(c, bilinear_matrix(c, H, out_h), AG_SHAPE(1, out_h, H));
        ag_tensor *images = ag_reshape(c, x, AG_SHAPE(N * C, H, out_w));
        x = ag_matmul(c, ag_expand(c, mh, AG_SHAPE(N * C, out_h, H)), images, false, false);
    }
    return ag_reshape(c, x, AG_SHAPE(N, C, out_h, out_w));
}

ag_tensor *gan_inception_features(ag_ctx *c, const gan_inception *net, ag_tensor *x) {
    GAN_CHECK(x->shape.ndim == 4 && x->shape.d[1] == 3, "inception: images %s, (N, 3, H, W) expected",
              AG_SHAPE_STR(x->shape));
    // pytorch-fid resizes images in [0, 1] and then maps them to [-1, 1] (2x - 1). Each output
    // pixel of the resize is a weighted mean of input pixels (weights summing to 1), so it
    // commutes with that affine map: resizing the [-1, 1] images directly gives the same values
    // (up to float rounding), without the two extra passes.
    if (x->shape.d[2] != GAN_INCEPTION_SIZE || x->shape.d[3] != GAN_INCEPTION_SIZE)
        x = gan_inception_resize(c, x, GAN_INCEPTION_SIZE, GAN_INCEPTION_SIZE);
    x = chain(c, 3, (const basic_conv *[]){&net->conv1a, &net->conv2a, &net->conv2b}, x);
    x = ag_max_pool2d(c, x, 3, 2, 0);
    x = chain(c, 2, (const basic_conv *[]){&net->conv3b, &net->conv4a}, x);
    x = ag_max_pool2d(c, x, 3, 2, 0);
    for (int i = 0; i < 3; i++) x = block_a_forward(c, &net->mixed_5[i], x);
    x = block_b_forward(c, &net->mixed_6a, x);
    for (int i = 0; i < 4; i++) x = block_c_forward(c, &net->mixed_6[i], x);
    x = block_d_forward(c, &net->mixed_7a, x);
    x = block_e_forward(c, &net->mixed_7b, x);
    x = block_e_forward(c, &net->mixed_7c, x);
    return ag_mean_axes(c, x, 2, (const int[]){2, 3}, false);  // the adaptive average pool to 1x1
}
