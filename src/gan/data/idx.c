// IDX image files (LeCun's MNIST format, idx_file.h): magic 0x00000803 (unsigned bytes, 3 dims),
// the dims (N, H, W), then N*H*W pixels.
#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "idx_file.h"
#include "sources.h"

bool gan_idx_sniff(const char *path) {
    gzFile f = gzopen(path, "rb");
    if (!f) return false;
    unsigned char b[4];
    int64_t got = gan_idx_read(f, b, 4);
    gzclose(f);
    return got == 4 && b[0] == 0 && b[1] == 0 && gan_idx_type_name(b[2]) && b[3] >= 1 && b[3] <= 4;
}

int gan_idx_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err) {
    int64_t dims[3];
    gzFile f = gan_idx_open(path, GAN_IDX_IMAGES, dims, err);
    if (!f) return -1;
    int64_t n = dims[0], h = dims[1], w = dims[2];
    if (n == 0 || h == 0 || w == 0 || h > 65536 || w > 65536) {
        gzclose(f);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: implausible IDX dims %lld x %lld x %lld", path,
                        (long long)n, (long long)h, (long long)w);
    }
    if (limit > 0 && limit < n) n = limit;
    int64_t bytes = n * h * w;
    uint8_t *px = gan_xmalloc((size_t)bytes, "the dataset's pixels");
    int64_t got = gan_idx_read(f, px, bytes);
    if (got < bytes) {
        char reason[300];
        gan_idx_close_reason(f, reason, sizeof reason);
        free(px);
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: truncated: expected %lld bytes of images (%lld x %lld x %lld), got %lld%s",
                        path, (long long)bytes, (long long)n, (long long)h, (long long)w, (long long)got,
                        reason);
    }
    gzclose(f);
    ds->pixels = px;
    ds->n = n;
    ds->c = ds->src_channels = 1;
    ds->h = (int)h;
    ds->w = (int)w;
    return 0;
}
