#include "labels.h"

#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "idx_file.h"

// Fails with the count the header claims and the labels that arrived.
static uint8_t *fail_short(gzFile f, const char *path, int64_t count, int64_t got, uint8_t *y, gan_err *err) {
    char claim[48], held[48];
    snprintf(claim, sizeof claim, "%lld labels", (long long)count);
    snprintf(held, sizeof held, "%lld labels", (long long)got);
    free(y);
    gan_idx_fail_short(f, path, claim, held, err);
    return NULL;
}

uint8_t *gan_labels_load(const char *path, int64_t limit, int classes, int64_t *n_out, gan_err *err) {
    int64_t count;
    gzFile f = gan_idx_open(path, GAN_IDX_LABELS, &count, err);
    if (!f) return NULL;
    if (count == 0) {
        gzclose(f);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: the IDX header says 0 labels", path);
        return NULL;
    }
    const int64_t n = limit > 0 && limit < count ? limit : count;
    int64_t got;
    uint8_t *y = gan_idx_read_claimed(f, path, n, &got, "a dataset's labels");
    if (got < n) return fail_short(f, path, count, got, y, err);
    // Bytes past the count mean the header and the data disagree (a cut or mislabelled file);
    // only a whole read can see them, and reading on makes zlib check a gzip stream's trailer.
    uint8_t extra;
    if (n == count) {
        if (gan_idx_read(f, &extra, 1) == 1) {
            gzclose(f);
            free(y);
            gan_errf(err, GAN_EXIT_RUNTIME, "%s: more data than the %lld labels its IDX header counts", path,
                     (long long)count);
            return NULL;
        }
        if (gan_idx_corrupt(f)) return fail_short(f, path, count, got, y, err);
    }
    gzclose(f);
    for (int64_t i = 0; i < n; i++) {
        if (y[i] < classes) continue;
        const unsigned bad = y[i];
        free(y);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: label %lld is %u, expected a class in [0, %d)", path, (long long)i, bad,
                 classes);
        return NULL;
    }
    *n_out = n;
    return y;
}
