// IDX image files (LeCun's MNIST format, idx_file.h): magic 0x00000803 (unsigned bytes, 3 dims),
// the dims (N, H, W), then N*H*W pixels. The header is a claim the data must back: memory is
// bounded by what the file holds (gan_idx_read_claimed), never by what the header says.
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "alloc.h"
#include "idx_file.h"
#include "sources.h"

bool gan_idx_sniff(const char *path) {
    gzFile f = gzopen(path, "rb");
    if (!f) return false;
    unsigned char b[4];
    int64_t got = gan_idx_read(f, b, 4);
    // A gzip stream zlib cannot decompress goes to the IDX reader, the only one of gzip, which
    // names the damage instead of "cannot tell the format".
    const bool corrupt = got < 4 && gan_idx_corrupt(f);
    gzclose(f);
    return corrupt || (got == 4 && b[0] == 0 && b[1] == 0 && gan_idx_type_name(b[2]) && b[3] >= 1 && b[3] <= 4);
}

// After a whole read: one byte more makes zlib check the gzip trailer (CRC and length), the only
// sign of a corrupt stream whose damage still decompresses. Bytes past the images are allowed.
static bool trailer_corrupt(gzFile f) {
    uint8_t extra;
    return gan_idx_read(f, &extra, 1) == 0 && gan_idx_corrupt(f);
}

int gan_idx_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err) {
    int64_t dims[3];
    gzFile f = gan_idx_open(path, GAN_IDX_IMAGES, dims, err);
    if (!f) return -1;
    const int64_t n = dims[0], h = dims[1], w = dims[2];
    if (n == 0 || h == 0 || w == 0 || h > 65536 || w > 65536) {
        gzclose(f);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: implausible IDX dims %lld x %lld x %lld", path,
                        (long long)n, (long long)h, (long long)w);
    }
    // At most (2^32 - 1) x 2^16 x 2^16 bytes: below 2^64, so the claim is counted exactly.
    const uint64_t image = (uint64_t)h * (uint64_t)w, claimed = (uint64_t)n * image;
    const int64_t take = limit > 0 && limit < n ? limit : n;
    const uint64_t want = (uint64_t)take * image;
    // A plain file holds what it holds: that much (at most the claim) will be read, so it must
    // fit. A gzip stream's size is known only by reading it; its buffer grows as data arrives.
    struct stat st;
    if (gzdirect(f) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        const uint64_t held = st.st_size > gztell(f) ? (uint64_t)(st.st_size - gztell(f)) : 0;
        const uint64_t bytes = held < want ? held : want;
        char what[96];
        snprintf(what, sizeof what, "%llu images of 1x%lldx%lld", (unsigned long long)(bytes / image), (long long)h,
                 (long long)w);
        if (gan_check_pixel_room(path, bytes, what, err) != 0) {
            gzclose(f);
            return -1;
        }
    }
    int64_t got;
    uint8_t *px = gan_idx_read_claimed(f, path, want > INT64_MAX ? INT64_MAX : (int64_t)want, &got,
                                       "the dataset's pixels");
    if ((uint64_t)got < want || (take == n && trailer_corrupt(f))) {
        char claim[128], held[64];
        snprintf(claim, sizeof claim, "%lld images of %lldx%lld (%llu bytes)", (long long)n, (long long)h,
                 (long long)w, (unsigned long long)claimed);
        snprintf(held, sizeof held, "%lld images (%lld bytes)", (long long)((uint64_t)got / image), (long long)got);
        free(px);
        return gan_idx_fail_short(f, path, claim, held, err);
    }
    gzclose(f);
    ds->pixels = px;
    ds->n = take;
    ds->c = ds->src_channels = 1;
    ds->h = (int)h;
    ds->w = (int)w;
    return 0;
}
