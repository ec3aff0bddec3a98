// ADA's transforms (Karras et al. 2020, stylegan2-ada-pytorch training/augment.py) with the
// random parameters passed in: the integer blit (x-flip, quarter turns, integer translation) and
// the colour matrix. augment.py resamples the blit through its general path (reflect padding,
// 2x upsampling with a wavelet filter, grid_sample, downsampling), which for integer moves is the
// exact pixel move up to the filters' ripple; here the move is exact (ag_remap2d), with the
// reflected border of that padding.
#include <math.h>
#include <stdlib.h>

#include "aug_internal.h"
#include "augment.h"
#include "gan_check.h"

// PyTorch's 'reflect' padding (the edge pixel not repeated), as often as needed.
static int reflect(int v, int n) {
    if (n == 1) return 0;
    for (;;) {
        if (v < 0) v = -v;
        else if (v >= n) v = 2 * (n - 1) - v;
        else return v;
    }
}

// augment.py: G_inv = scale2d_inv(1 - 2 flip, 1) @ rotate2d_inv(-pi/2 rot) @ translate2d_inv(tx,
// ty) maps an output pixel (x right, y down, about the image centre) to the input pixel it
// reads: translate by (-tx, -ty), turn by rot quarter turns ((x, y) -> (-y, x) each), flip x.
ag_tensor *gan_ada_geometric(ag_ctx *c, ag_tensor *x, const float *flip, const float *rot, const float *tx,
                             const float *ty) {
    GAN_CHECK(x->shape.ndim == 4 && x->shape.d[2] == x->shape.d[3], "ada geometric: images %s, expected (N, C, R, R)",
              AG_SHAPE_STR(x->shape));
    const int N = x->shape.d[0], R = x->shape.d[2];
    const double centre = (R - 1) / 2.0;
    float *map = aug_host((int64_t)N * R * R);
    for (int n = 0; n < N; n++)
        for (int row = 0; row < R; row++)
            for (int col = 0; col < R; col++) {
                double px = col - centre - tx[n], py = row - centre - ty[n];
                for (int k = 0; k < ((int)rot[n] & 3); k++) {
                    const double t = px;
                    px = -py, py = t;
                }
                if (flip[n] != 0.0f) px = -px;
                const int sc = reflect((int)lround(px + centre), R), sr = reflect((int)lround(py + centre), R);
                map[((int64_t)n * R + row) * R + col] = (float)(sr * R + sc);
            }
    ag_tensor *out = ag_remap2d(c, x, ag_from_host(c, AG_SHAPE(N, R, R), map));
    free(map);
    return out;
}

typedef double mat4[4][4];

static void mat_mul(mat4 a, const mat4 b) {  // a = b @ a
    mat4 r;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += b[i][k] * a[k][j];
            r[i][j] = s;
        }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) a[i][j] = r[i][j];
}

static void identity(mat4 m) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) m[i][j] = i == j;
}

// augment.py's C for one image: brightness (translate3d), contrast (scale3d), luma flip
// (Householder I - 2 v v^T), hue (rotate3d about v), saturation (v v^T + (I - v v^T) s), each
// multiplied on the left, v = (1, 1, 1, 0) / sqrt(3) the luma axis.
static void color_matrix(double b, double k, double flip, double hue, double sat, mat4 C) {
    const double v[4] = {1 / sqrt(3.0), 1 / sqrt(3.0), 1 / sqrt(3.0), 0};
    mat4 m;
    identity(C);
    identity(m);
    m[0][3] = m[1][3] = m[2][3] = b;
    mat_mul(C, m);
    identity(m);
    m[0][0] = m[1][1] = m[2][2] = k;
    mat_mul(C, m);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) m[i][j] = (i == j) - 2 * v[i] * v[j] * flip;
    mat_mul(C, m);
    const double s = sin(hue), co = cos(hue), cc = 1 - co, x = v[0], y = v[1], z = v[2];
    const mat4 rot = {{x * x * cc + co, x * y * cc - z * s, x * z * cc + y * s, 0},
                      {y * x * cc + z * s, y * y * cc + co, y * z * cc - x * s, 0},
                      {z * x * cc - y * s, z * y * cc + x * s, z * z * cc + co, 0},
                      {0, 0, 0, 1}};
    mat_mul(C, rot);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) m[i][j] = v[i] * v[j] + ((i == j) - v[i] * v[j]) * sat;
    mat_mul(C, m);
}

ag_tensor *gan_ada_color(ag_ctx *c, ag_tensor *x, const float *b, const float *k, const float *lumaflip,
                         const float *hue, const float *sat) {
    GAN_CHECK(x->shape.ndim == 4 && (x->shape.d[1] == 1 || x->shape.d[1] == 3),
              "ada color: images %s, expected (N, 1 or 3, H, W)", AG_SHAPE_STR(x->shape));
    const int N = x->shape.d[0], C = x->shape.d[1], H = x->shape.d[2], W = x->shape.d[3];
    float *mat = aug_host((int64_t)N * C * C), *shift = aug_host((int64_t)N * C);
    for (int n = 0; n < N; n++) {
        mat4 M;
        color_matrix(b[n], k[n], lumaflip[n], hue[n], sat[n], M);
        if (C == 3) {
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) mat[(n * 3 + i) * 3 + j] = (float)M[i][j];
                shift[n * 3 + i] = (float)M[i][3];
            }
        } else {  // C[:, :3, :].mean(dim=1), then images * row sum + shift
            double scale = 0, sh = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) scale += M[i][j];
                sh += M[i][3];
            }
            mat[n] = (float)(scale / 3), shift[n] = (float)(sh / 3);
        }
    }
    ag_tensor *out;
    if (C == 3) {
        ag_tensor *flat = ag_reshape(c, x, AG_SHAPE(N, 3, H * W));
        out = ag_matmul(c, ag_from_host(c, AG_SHAPE(N, 3, 3), mat), flat, false, false);
        out = ag_reshape(c, ag_add(c, out, ag_from_host(c, AG_SHAPE(N, 3, 1), shift)), x->shape);
    } else {
        out = ag_add(c, ag_mul(c, x, aug_per_sample(c, mat, N)), aug_per_sample(c, shift, N));
    }
    free(mat), free(shift);
    return out;
}
