// Kernel Inception Distance: the unbiased MMD^2 estimate with the cubic polynomial kernel, over
// random subsets, as torch-fidelity's metric_kid (itself from Binkowski et al.'s MMD-GAN code).
#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "gan_check.h"
#include "linalg.h"
#include "metrics.h"
#include "rng.h"

static void gather(const float *x, int d, const int32_t *idx, int m, double *out) {
    for (int r = 0; r < m; r++) {
        const float *row = x + (int64_t)idx[r] * d;
        for (int j = 0; j < d; j++) out[(size_t)r * d + j] = row[j];
    }
}

// The kernel (g / d + 1)^3 of an inner product g, with torch-fidelity's gamma = 1 / d.
static inline double poly3(double g, double gamma) {
    double k = g * gamma + 1.0;
    return k * k * k;
}

// Sum of the kernel over the m x m inner products k (row-major), without the diagonal when
// skip_diag: row sums first, then their total, in order.
static double kernel_sum(const double *k, int m, double gamma, int skip_diag) {
    double total = 0;
    for (int i = 0; i < m; i++) {
        double row = 0;
        for (int j = 0; j < m; j++)
            if (!skip_diag || j != i) row += poly3(k[(size_t)i * m + j], gamma);
        total += row;
    }
    return total;
}

int gan_kid_subsets(const float *real, int64_t nr, const float *fake, int64_t nf, int d,
                    int subsets, int m, const int32_t *real_idx, const int32_t *fake_idx,
                    gan_kid_result *out, gan_err *err) {
    GAN_CHECK(d >= 1 && subsets >= 1 && m >= 0, "gan_kid_subsets: d %d, %d subsets of %d", d,
              subsets, m);
    if (m < 2)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "KID needs subsets of at least 2 samples of each set, got %d", m);
    for (int64_t i = 0; i < (int64_t)subsets * m; i++)
        GAN_CHECK(real_idx[i] >= 0 && real_idx[i] < nr && fake_idx[i] >= 0 && fake_idx[i] < nf,
                  "gan_kid_subsets: entry %lld indexes row %d of %lld real / %d of %lld fake",
                  (long long)i, real_idx[i], (long long)nr, fake_idx[i], (long long)nf);
    if (gan_features_check(real, nr, d, "the real features", err) != 0) return -1;
    if (gan_features_check(fake, nf, d, "the generated features", err) != 0) return -1;

    double *mmd = gan_xmalloc((size_t)subsets * sizeof *mmd, "KID's per-subset estimates");
    double gamma = 1.0 / d, mm = (double)m;
    // One subset per OpenMP thread at a time, each GEMM single-threaded inside: every subset's
    // number is computed the same way whatever the thread count.
    int blas_threads = la_blas_threads(1);
#pragma omp parallel
    {
        double *x = gan_xmalloc((size_t)m * d * sizeof *x, "a KID subset of real features");
        double *y = gan_xmalloc((size_t)m * d * sizeof *y, "a KID subset of generated features");
        double *k = gan_xmalloc((size_t)m * m * sizeof *k, "a KID kernel matrix");
#pragma omp for schedule(dynamic, 1)
        for (int s = 0; s < subsets; s++) {
            gather(real, d, real_idx + (size_t)s * m, m, x);
            gather(fake, d, fake_idx + (size_t)s * m, m, y);
            la_gram(m, d, x, d, k, m);
            double xx = kernel_sum(k, m, gamma, 1);
            la_gram(m, d, y, d, k, m);
            double yy = kernel_sum(k, m, gamma, 1);
            la_gemm_abt(m, m, d, x, d, y, d, 0.0, k, m);
            double xy = kernel_sum(k, m, gamma, 0);
            mmd[s] = (xx + yy) / (mm * (mm - 1)) - 2 * xy / (mm * mm);
        }
        free(x);
        free(y);
        free(k);
    }
    la_blas_threads(blas_threads);

    double mean = 0, var = 0;
    for (int s = 0; s < subsets; s++) mean += mmd[s];
    mean /= subsets;
    for (int s = 0; s < subsets; s++) var += (mmd[s] - mean) * (mmd[s] - mean);
    free(mmd);
    *out = (gan_kid_result){.mean = mean, .std = sqrt(var / subsets), .subsets = subsets,
                            .subset_size = m};
    return 0;
}

// m draws without replacement from [0, n): a partial Fisher-Yates shuffle of perm, which holds a
// permutation of [0, n) and stays one. Any starting permutation gives a uniform subset, so perm
// carries over from one subset to the next.
static void draw(ag_rng *rng, int32_t *perm, int64_t n, int m, int32_t *out) {
    for (int t = 0; t < m; t++) {
        int64_t j = t + ag_rng_below(rng, (uint32_t)(n - t));
        int32_t tmp = perm[t];
        perm[t] = perm[j];
        perm[j] = tmp;
        out[t] = perm[t];
    }
}

int gan_kid_draw(int64_t nr, int64_t nf, int subsets, int subset_size, uint64_t seed,
                 int32_t *real_idx, int32_t *fake_idx) {
    GAN_CHECK(nr >= 1 && nf >= 1 && nr <= INT32_MAX && nf <= INT32_MAX && subsets >= 1 &&
                  subset_size >= 1,
              "gan_kid_draw: %lld real, %lld fake, %d subsets of %d", (long long)nr,
              (long long)nf, subsets, subset_size);
    int64_t m = subset_size;
    if (nr < m) m = nr;
    if (nf < m) m = nf;
    int32_t *pr = gan_xmalloc((size_t)nr * sizeof *pr, "KID's real sample order");
    int32_t *pf = gan_xmalloc((size_t)nf * sizeof *pf, "KID's generated sample order");
    for (int64_t i = 0; i < nr; i++) pr[i] = (int32_t)i;
    for (int64_t i = 0; i < nf; i++) pf[i] = (int32_t)i;
    ag_rng rng = ag_rng_make(seed);
    for (int s = 0; s < subsets; s++) {
        draw(&rng, pr, nr, (int)m, real_idx + (size_t)s * m);
        draw(&rng, pf, nf, (int)m, fake_idx + (size_t)s * m);
    }
    free(pr);
    free(pf);
    return (int)m;
}

int gan_kid(const float *real, int64_t nr, const float *fake, int64_t nf, int d, int subsets,
            int subset_size, uint64_t seed, gan_kid_result *out, gan_err *err) {
    GAN_CHECK(subsets >= 1 && subset_size >= 1, "gan_kid: %d subsets of %d", subsets,
              subset_size);
    if (nr < 2 || nf < 2)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "KID needs at least 2 samples of each set, got %lld real and %lld "
                        "generated", (long long)nr, (long long)nf);
    if (subset_size < 2)
        return gan_errf(err, GAN_EXIT_USAGE, "KID's subset size must be at least 2, got %d",
                        subset_size);
    int64_t cap = subset_size;
    if (nr < cap) cap = nr;
    if (nf < cap) cap = nf;
    int32_t *ri = gan_xmalloc((size_t)subsets * cap * sizeof *ri, "KID's real subsets");
    int32_t *fi = gan_xmalloc((size_t)subsets * cap * sizeof *fi, "KID's generated subsets");
    int m = gan_kid_draw(nr, nf, subsets, subset_size, seed, ri, fi);
    int rc = gan_kid_subsets(real, nr, fake, nf, d, subsets, m, ri, fi, out, err);
    free(ri);
    free(fi);
    return rc;
}
