#include "stylegan2.h"

#include <stdio.h>

gan_sg2_shape gan_sg2_shape_default(int resolution, int img_channels) {
    return (gan_sg2_shape){.resolution = resolution, .img_channels = img_channels, .z_dim = 512, .w_dim = 512,
                           .mapping_layers = 8, .mapping_lr_mul = 0.01f, .channel_base = 32768,
                           .channel_max = 512, .mbstd_group_size = 4, .mbstd_channels = 1, .num_classes = 0,
                           .d_mapping_layers = GAN_SG2_D_MAPPING_LAYERS};
}

int gan_sg2_channels(gan_sg2_shape s, int res) {
    int ch = s.channel_base / res;
    ch = ch < s.channel_max ? ch : s.channel_max;
    return ch > 1 ? ch : 1;
}

int gan_sg2_num_ws(gan_sg2_shape s) {
    int blocks = 0;
    for (int res = 4; res <= s.resolution; res *= 2) blocks++;
    return 2 * blocks;  // conv1 in every block, conv0 in all but the 4x4 one, and the last ToRGB
}

static bool power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

bool gan_sg2_shape_valid(gan_sg2_shape s, char *why, int why_size) {
    const size_t n = (size_t)why_size;
    if (!power_of_two(s.resolution) || s.resolution < 8 || s.resolution > (1 << GAN_SG2_MAX_RES_LOG2))
        return snprintf(why, n, "resolution %d (expected a power of two from 8 to %d)", s.resolution,
                        1 << GAN_SG2_MAX_RES_LOG2), false;
    if (s.img_channels != 1 && s.img_channels != 3)
        return snprintf(why, n, "img_channels %d (expected 1 or 3)", s.img_channels), false;
    if (s.z_dim < 1 || s.w_dim < 1)
        return snprintf(why, n, "z_dim %d, w_dim %d (expected positive sizes)", s.z_dim, s.w_dim), false;
    if (s.mapping_layers < 1 || s.mapping_layers > GAN_SG2_MAX_MAPPING)
        return snprintf(why, n, "mapping_layers %d (expected 1 to %d)", s.mapping_layers, GAN_SG2_MAX_MAPPING), false;
    if (!(s.mapping_lr_mul > 0.0f))
        return snprintf(why, n, "mapping_lr_mul %g (expected > 0)", (double)s.mapping_lr_mul), false;
    if (s.channel_max < 1 || s.channel_base < s.resolution)
        return snprintf(why, n, "channel_base %d, channel_max %d (expected channel_base >= resolution %d, channel_max >= 1)",
                        s.channel_base, s.channel_max, s.resolution), false;
    if (s.mbstd_group_size < 1 || s.mbstd_channels < 0 || (s.mbstd_channels > 0 && gan_sg2_channels(s, 4) % s.mbstd_channels))
        return snprintf(why, n, "mbstd_group_size %d, mbstd_channels %d (expected a group >= 1 and channels >= 0 dividing the %d channels at 4x4)",
                        s.mbstd_group_size, s.mbstd_channels, gan_sg2_channels(s, 4)), false;
    if (s.num_classes < 0 || s.num_classes > GAN_SG2_MAX_CLASSES)
        return snprintf(why, n, "num_classes %d (expected 0 to %d)", s.num_classes, GAN_SG2_MAX_CLASSES), false;
    if (s.num_classes > 0 && (s.d_mapping_layers < 1 || s.d_mapping_layers > GAN_SG2_MAX_MAPPING))
        return snprintf(why, n, "d_mapping_layers %d (expected 1 to %d)", s.d_mapping_layers, GAN_SG2_MAX_MAPPING),
               false;
    return true;
}
