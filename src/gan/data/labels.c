#include "labels.h"

#include <stdlib.h>

#include "alloc.h"
#include "idx_file.h"

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
    uint8_t *y = gan_xmalloc((size_t)n, "a dataset's labels");
    int64_t got = gan_idx_read(f, y, n);
    if (got < n) {
        char why[300];
        gan_idx_close_reason(f, why, sizeof why);
        free(y);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: truncated: expected %lld labels, got %lld%s", path, (long long)n,
                 (long long)got, why);
        return NULL;
    }
    // Bytes past the count mean the header and the data disagree (a cut or mislabelled file);
    // only a whole read can see them.
    uint8_t extra;
    if (n == count && gan_idx_read(f, &extra, 1) == 1) {
        gzclose(f);
        free(y);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: more data than the %lld labels its IDX header counts", path,
                 (long long)count);
        return NULL;
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
