// Gaussians fitted to features (the statistics FID compares) and the input check every metric
// starts with.
#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "gan_check.h"
#include "linalg.h"
#include "metrics.h"

// Rows per covariance update: enough for an efficient rank-k update, small enough that the
// centred double copy stays a few MB at d = 2048.
#define FIT_CHUNK 256

int gan_features_check(const float *x, int64_t n, int d, const char *what, gan_err *err) {
    GAN_CHECK(n >= 0 && d >= 1, "gan_features_check: n %lld, d %d", (long long)n, d);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = x + i * d;
        int ok = 1;
        for (int j = 0; j < d; j++) ok &= isfinite(row[j]) != 0;
        bad += !ok;
    }
    if (bad)
        return gan_errf(err, GAN_EXIT_USAGE, "%s: %lld of %lld rows hold a NaN or an infinity",
                        what, (long long)bad, (long long)n);
    return 0;
}

void gan_gaussian_init(gan_gaussian *g, int d) {
    GAN_CHECK(d >= 1, "gan_gaussian_init: d %d", d);
    g->d = d;
    g->n = 0;
    g->mean = gan_xcalloc((size_t)d, sizeof *g->mean, "a Gaussian's mean");
    g->cov = gan_xcalloc((size_t)d * d, sizeof *g->cov, "a Gaussian's covariance");
}

void gan_gaussian_free(gan_gaussian *g) {
    free(g->mean);
    free(g->cov);
    g->mean = g->cov = NULL;
}

int gan_gaussian_fit(gan_gaussian *g, const float *x, int64_t n, int d, gan_err *err) {
    GAN_CHECK(d >= 1 && n >= 0, "gan_gaussian_fit: n %lld, d %d", (long long)n, d);
    if (n < 2)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "a covariance needs at least 2 samples, got %lld", (long long)n);
    if (gan_features_check(x, n, d, "the features", err) != 0) return -1;
    gan_gaussian_init(g, d);
    g->n = n;

    // The mean first (row by row, in order), then the covariance of the centred rows: two passes
    // keep the cancellation of a one-pass sum of squares out of the covariance.
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) g->mean[j] += x[i * d + j];
    for (int j = 0; j < d; j++) g->mean[j] /= (double)n;

    double *chunk = gan_xmalloc((size_t)FIT_CHUNK * d * sizeof *chunk, "the centred features");
    for (int64_t i0 = 0; i0 < n; i0 += FIT_CHUNK) {
        int rows = (int)(n - i0 < FIT_CHUNK ? n - i0 : FIT_CHUNK);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++)
                chunk[(size_t)r * d + j] = (double)x[(i0 + r) * d + j] - g->mean[j];
        la_gram_t_upper(rows, d, chunk, d, i0 == 0 ? 0.0 : 1.0, g->cov, d);
    }
    free(chunk);
    la_symmetrize_from_upper(d, g->cov, d);
    double scale = 1.0 / (double)(n - 1);
    for (size_t i = 0; i < (size_t)d * d; i++) g->cov[i] *= scale;
    return 0;
}
