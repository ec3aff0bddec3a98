// The metrics (src/gan/metrics) against numpy/scipy references on the same features
// (tests/fixtures/metrics.h5, tools/make_fixtures_metrics.py): FID against pytorch-fid's
// sqrtm-based formula and against the exact low-rank value, including rank-deficient
// covariances; KID over the fixture's subsets; precision/recall/density/coverage exactly. Also
// the user errors, KID's subset draws, thread-count independence, and the time PRDC and FID
// take at d = 2048 (printed, not asserted).
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "metrics.h"
#include "rng.h"
#include "test.h"

static double scale;  // features = stored int8 codes * scale

typedef struct feats {
    float *x;
    int64_t n;
    int d;
} feats;

static feats read_feats(fx_file *f, const char *path) {
    ag_shape s;
    feats r = {0};
    r.x = fx_read(f, path, &s);
    if (!r.x) return r;
    TEST_CHECK(s.ndim == 2, "%s: %d dimensions", path, s.ndim);
    r.n = s.d[0];
    r.d = s.d[1];
    for (int64_t i = 0; i < r.n * r.d; i++) r.x[i] = (float)(r.x[i] * scale);
    return r;
}

static double attr(fx_file *f, const char *path, const char *name) {
    double v = NAN;
    TEST_CHECK(fx_attr_float(f, path, name, &v), "%s: attribute %s", path, name);
    return v;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double rel_err(double ours, double ref) { return fabs(ours - ref) / fabs(ref); }

// --- FID ----------------------------------------------------------------------------------------

static void test_fid_case(fx_file *f, const char *name) {
    char pa[128], pb[128], grp[96];
    snprintf(grp, sizeof grp, "/fid/%s", name);
    snprintf(pa, sizeof pa, "%s/a", grp);
    snprintf(pb, sizeof pb, "%s/b", grp);
    feats a = read_feats(f, pa), b = read_feats(f, pb);
    if (!a.x || !b.x) goto out;
    gan_err err = {0};
    gan_gaussian ga, gb;
    TEST_CHECK(gan_gaussian_fit(&ga, a.x, a.n, a.d, &err) == 0, "%s: %s", name, err.msg);
    TEST_CHECK(gan_gaussian_fit(&gb, b.x, b.n, b.d, &err) == 0, "%s: %s", name, err.msg);

    // The fit against numpy.mean / numpy.cov(rowvar=False) in float64, by its summaries.
    int d = a.d;
    double msum = 0, msq = 0, tr = 0, fro2 = 0, sum = 0;
    for (int j = 0; j < d; j++) msum += ga.mean[j], msq += ga.mean[j] * ga.mean[j];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double v = ga.cov[(size_t)i * d + j];
            tr += i == j ? v : 0;
            fro2 += v * v;
            sum += v;
        }
    char what[160];
    snprintf(what, sizeof what, "%s: sum of the mean", name);
    TEST_CLOSE(msum, attr(f, grp, "a_mean_sum"), 1e-13, 1e-12, what);
    snprintf(what, sizeof what, "%s: |mean|^2", name);
    TEST_CLOSE(msq, attr(f, grp, "a_mean_sq"), 1e-13, 1e-12, what);
    snprintf(what, sizeof what, "%s: tr(cov)", name);
    TEST_CLOSE(tr, attr(f, grp, "a_cov_trace"), 0, 1e-12, what);
    snprintf(what, sizeof what, "%s: |cov|_F^2", name);
    TEST_CLOSE(fro2, attr(f, grp, "a_cov_fro2"), 0, 1e-12, what);
    snprintf(what, sizeof what, "%s: sum of cov", name);
    TEST_CLOSE(sum, attr(f, grp, "a_cov_sum"), 1e-13, 1e-11, what);
    snprintf(what, sizeof what, "%s: cov[0][d-1]", name);
    TEST_CLOSE(ga.cov[d - 1], attr(f, grp, "a_cov_0_last"), 1e-13, 1e-11, what);

    double fid = NAN, fid_ba = NAN;
    TEST_CHECK(gan_fid(&ga, &gb, &fid, &err) == 0, "%s: %s", name, err.msg);
    TEST_CHECK(gan_fid(&gb, &ga, &fid_ba, &err) == 0, "%s: %s", name, err.msg);
    double pytorch = attr(f, grp, "fid_pytorch"), exact = attr(f, grp, "fid_exact");
    printf("  fid %-13s d %4d n %3lld/%3lld  %.12f  vs pytorch-fid %.1e  vs exact %.1e  "
           "swapped %.1e\n", name, d, (long long)a.n, (long long)b.n, fid,
           rel_err(fid, pytorch), rel_err(fid, exact), rel_err(fid_ba, exact));
    snprintf(what, sizeof what, "%s: FID vs pytorch-fid (scipy sqrtm)", name);
    TEST_CLOSE(fid, pytorch, 0, 1e-6, what);
    // Against the exact value the eigenvalue route is limited by round-off alone, rank-deficient
    // covariances included (sqrtm is not: up to 5e-8 off on those, see the fixture script).
    snprintf(what, sizeof what, "%s: FID vs the exact low-rank value", name);
    TEST_CLOSE(fid, exact, 0, 1e-12, what);
    snprintf(what, sizeof what, "%s: FID(b, a) vs the exact value", name);
    TEST_CLOSE(fid_ba, exact, 0, 1e-12, what);
    gan_gaussian_free(&ga);
    gan_gaussian_free(&gb);
out:
    free(a.x);
    free(b.x);
}

// FID of a set with itself is 0 up to round-off: the square roots of M = S^(1/2) S S^(1/2)'s
// eigenvalues give back S's to ~1e-15 relative each, so the residue is ~1e-14 of 2 tr(S).
static void test_fid_self(fx_file *f, const char *path) {
    feats a = read_feats(f, path);
    if (!a.x) return;
    gan_err err = {0};
    gan_gaussian g;
    TEST_CHECK(gan_gaussian_fit(&g, a.x, a.n, a.d, &err) == 0, "%s", err.msg);
    double fid = NAN, tr = 0;
    TEST_CHECK(gan_fid(&g, &g, &fid, &err) == 0, "%s", err.msg);
    for (int j = 0; j < a.d; j++) tr += g.cov[(size_t)j * a.d + j];
    printf("  fid of %s with itself: %.3e (2 tr(S) = %.3f)\n", path, fid, 2 * tr);
    TEST_CHECK(fabs(fid) <= 1e-13 * 2 * tr, "FID(%s, itself) = %.3e", path, fid);
    gan_gaussian_free(&g);
    free(a.x);
}

static void test_fid_errors(void) {
    gan_err err = {0};
    gan_gaussian g, h;
    float one[4] = {1, 2, 3, 4};
    TEST_CHECK(gan_gaussian_fit(&g, one, 1, 4, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "at least 2 samples, got 1"), "n = 1: %s", err.msg);
    float x[3 * 2] = {1, 2, NAN, 0, 5, INFINITY};
    TEST_CHECK(gan_gaussian_fit(&g, x, 3, 2, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "2 of 3 rows hold a NaN or an infinity"), "NaN: %s", err.msg);
    gan_gaussian_init(&g, 3);
    gan_gaussian_init(&h, 4);
    double fid;
    TEST_CHECK(gan_fid(&g, &h, &fid, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "different dimensions (3 and 4)"), "dims: %s", err.msg);
    gan_gaussian_free(&h);
    gan_gaussian_init(&h, 3);
    h.cov[4] = NAN;
    TEST_CHECK(gan_fid(&g, &h, &fid, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "second statistics hold a NaN or an infinity in their covariance"),
               "NaN statistics: %s", err.msg);
    // Two all-zero Gaussians (as gan_gaussian_init leaves them) are at distance 0.
    h.cov[4] = 0;
    TEST_CHECK(gan_fid(&g, &h, &fid, &err) == 0 && fid == 0, "zero Gaussians: %g", fid);
    gan_gaussian_free(&g);
    gan_gaussian_free(&h);
}

// --- KID ----------------------------------------------------------------------------------------

static int32_t *read_idx(fx_file *f, const char *path, int *rows, int *cols) {
    ag_shape s;
    float *v = fx_read(f, path, &s);
    if (!v) return NULL;
    *rows = s.d[0];
    *cols = s.d[1];
    int32_t *idx = malloc((size_t)*rows * *cols * sizeof *idx);
    for (int i = 0; i < *rows * *cols; i++) idx[i] = (int32_t)v[i];
    free(v);
    return idx;
}

static void test_kid_case(fx_file *f, const char *name) {
    char grp[64], p[96];
    snprintf(grp, sizeof grp, "/kid/%s", name);
    snprintf(p, sizeof p, "%s/real", grp);
    feats r = read_feats(f, p);
    snprintf(p, sizeof p, "%s/fake", grp);
    feats g = read_feats(f, p);
    int subsets = 0, m = 0, s2 = 0, m2 = 0;
    snprintf(p, sizeof p, "%s/real_idx", grp);
    int32_t *ri = read_idx(f, p, &subsets, &m);
    snprintf(p, sizeof p, "%s/fake_idx", grp);
    int32_t *fi = read_idx(f, p, &s2, &m2);
    if (r.x && g.x && ri && fi) {
        TEST_CHECK(s2 == subsets && m2 == m, "%s: subset tables differ", name);
        gan_err err = {0};
        gan_kid_result k = {0};
        TEST_CHECK(gan_kid_subsets(r.x, r.n, g.x, g.n, r.d, subsets, m, ri, fi, &k, &err) == 0,
                   "%s: %s", name, err.msg);
        double mean = attr(f, grp, "mean"), std = attr(f, grp, "std");
        printf("  kid %-8s d %2d, %2d subsets of %3d: %+.10e +- %.10e  (rel. err. %.1e, %.1e)\n",
               name, r.d, subsets, m, k.mean, k.std, rel_err(k.mean, mean), rel_err(k.std, std));
        char what[96];
        snprintf(what, sizeof what, "%s: KID mean", name);
        TEST_CLOSE(k.mean, mean, 0, 1e-6, what);
        snprintf(what, sizeof what, "%s: KID std", name);
        TEST_CLOSE(k.std, std, 0, 1e-6, what);
        TEST_CHECK(k.subsets == subsets && k.subset_size == m, "%s: %d subsets of %d", name,
                   k.subsets, k.subset_size);
    }
    free(r.x);
    free(g.x);
    free(ri);
    free(fi);
}

// gan_kid_draw: min(nr, nf, size) rows per subset, distinct within a subset, every row reachable,
// the same subsets for the same seed; gan_kid is gan_kid_subsets on them.
static void test_kid_draw(void) {
    enum { NR = 50, NF = 30, SUBSETS = 200, SIZE = 40 };
    int32_t ri[SUBSETS * SIZE], fi[SUBSETS * SIZE], ri2[SUBSETS * SIZE], fi2[SUBSETS * SIZE];
    int m = gan_kid_draw(NR, NF, SUBSETS, SIZE, 7, ri, fi);
    TEST_CHECK(m == NF, "subset size %d, expected min(50, 30, 40) = 30", m);
    int seen_r[NR] = {0}, seen_f[NF] = {0}, distinct = 1;
    for (int s = 0; s < SUBSETS; s++) {
        int in_r[NR] = {0}, in_f[NF] = {0};
        for (int t = 0; t < m; t++) {
            int a = ri[s * m + t], b = fi[s * m + t];
            TEST_CHECK(a >= 0 && a < NR && b >= 0 && b < NF, "index out of range");
            if (a < 0 || a >= NR || b < 0 || b >= NF) return;
            distinct &= !in_r[a]++ && !in_f[b]++;
            seen_r[a]++;
            seen_f[b]++;
        }
    }
    TEST_CHECK(distinct, "a subset holds a row twice");
    // Each real row is drawn with probability 30/50 per subset: 120 times expected of 200.
    for (int i = 0; i < NR; i++)
        TEST_CHECK(seen_r[i] > 80 && seen_r[i] < 160, "real row %d drawn %d times of 200", i,
                   seen_r[i]);
    for (int i = 0; i < NF; i++)
        TEST_CHECK(seen_f[i] == SUBSETS, "fake row %d drawn %d times (all 30 every time)", i,
                   seen_f[i]);
    TEST_CHECK(gan_kid_draw(NR, NF, SUBSETS, SIZE, 7, ri2, fi2) == m &&
                   memcmp(ri, ri2, sizeof(int32_t) * SUBSETS * m) == 0 &&
                   memcmp(fi, fi2, sizeof(int32_t) * SUBSETS * m) == 0,
               "the same seed drew different subsets");
    gan_kid_draw(NR, NF, SUBSETS, SIZE, 8, ri2, fi2);
    TEST_CHECK(memcmp(ri, ri2, sizeof(int32_t) * SUBSETS * m) != 0, "seeds 7 and 8 drew the same");

    enum { D = 8 };
    float real[NR * D], fake[NF * D];
    ag_philox_fill_normal(real, NR * D, 1, 0, 0.0f, 1.0f);
    ag_philox_fill_normal(fake, NF * D, 2, 0, 0.5f, 1.0f);
    gan_err err = {0};
    gan_kid_result a, b;
    TEST_CHECK(gan_kid(real, NR, fake, NF, D, SUBSETS, SIZE, 7, &a, &err) == 0, "%s", err.msg);
    gan_kid_draw(NR, NF, SUBSETS, SIZE, 7, ri, fi);
    TEST_CHECK(gan_kid_subsets(real, NR, fake, NF, D, SUBSETS, m, ri, fi, &b, &err) == 0, "%s",
               err.msg);
    TEST_CHECK(a.mean == b.mean && a.std == b.std && a.subset_size == 30 && a.subsets == SUBSETS,
               "gan_kid %g +- %g (size %d) vs its subsets %g +- %g", a.mean, a.std,
               a.subset_size, b.mean, b.std);

    TEST_CHECK(gan_kid(real, 1, fake, NF, D, 10, 10, 7, &a, &err) == -1 &&
                   err.code == GAN_EXIT_USAGE && strstr(err.msg, "got 1 real and 30 generated"),
               "one real sample: %s", err.msg);
    fake[3 * D + 5] = NAN;
    TEST_CHECK(gan_kid(real, NR, fake, NF, D, 10, 10, 7, &a, &err) == -1 &&
                   err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "the generated features: 1 of 30 rows hold a NaN"),
               "NaN: %s", err.msg);
}

// --- precision, recall, density, coverage ---------------------------------------------------------

static void test_prdc_case(fx_file *f, const char *name) {
    char grp[64], p[96];
    snprintf(grp, sizeof grp, "/prdc/%s", name);
    snprintf(p, sizeof p, "%s/real", grp);
    feats r = read_feats(f, p);
    snprintf(p, sizeof p, "%s/fake", grp);
    feats g = read_feats(f, p);
    if (r.x && g.x) {
        gan_err err = {0};
        gan_prdc_result o = {0};
        TEST_CHECK(gan_prdc(r.x, r.n, g.x, g.n, r.d, GAN_PR_K, GAN_DC_K, &o, &err) == 0, "%s: %s",
                   name, err.msg);
        printf("  prdc %-10s d %2d n %3lld/%3lld: precision %.6f recall %.6f density %.6f "
               "coverage %.6f\n", name, r.d, (long long)r.n, (long long)g.n, o.precision,
               o.recall, o.density, o.coverage);
        // The features are multiples of 1/32, so every distance is exact on both sides and the
        // fractions must agree exactly (to the last bit of the division).
        const char *keys[4] = {"precision", "recall", "density", "coverage"};
        double ours[4] = {o.precision, o.recall, o.density, o.coverage};
        for (int i = 0; i < 4; i++) {
            char what[96];
            snprintf(what, sizeof what, "%s: %s", name, keys[i]);
            TEST_CLOSE(ours[i], attr(f, grp, keys[i]), 1e-15, 0, what);
        }
    }
    free(r.x);
    free(g.x);
}

// The k-th smallest of v[0..n) (n small; v is reordered).
static double kth_smallest(double *v, int n, int k) {
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    return v[k - 1];
}

static double sq_dist(const float *a, const float *b, int d) {
    double s = 0;
    for (int j = 0; j < d; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return s;
}

// PRDC the plain way: every distance directly, each row's radius by selection.
static gan_prdc_result prdc_naive(const float *real, int nr, const float *fake, int nf, int d,
                                  int k_pr, int k_dc) {
    int nmax = nr > nf ? nr : nf;
    double *row = malloc(sizeof(double) * nmax);
    double *rr_pr = malloc(sizeof(double) * nr), *rr_dc = malloc(sizeof(double) * nr);
    double *rf_pr = malloc(sizeof(double) * nf);
    for (int i = 0; i < nr; i++) {
        int c = 0;
        for (int j = 0; j < nr; j++)
            if (j != i) row[c++] = sq_dist(real + i * d, real + j * d, d);
        rr_pr[i] = kth_smallest(row, c, k_pr);
        rr_dc[i] = kth_smallest(row, c, k_dc);
    }
    for (int i = 0; i < nf; i++) {
        int c = 0;
        for (int j = 0; j < nf; j++)
            if (j != i) row[c++] = sq_dist(fake + i * d, fake + j * d, d);
        rf_pr[i] = kth_smallest(row, c, k_pr);
    }
    int precise = 0, balls = 0, recalled = 0, covered = 0;
    for (int j = 0; j < nf; j++) {
        int in = 0;
        for (int i = 0; i < nr; i++) {
            double e = sq_dist(real + i * d, fake + j * d, d);
            in |= e <= rr_pr[i];
            balls += e < rr_dc[i];
        }
        precise += in;
    }
    for (int i = 0; i < nr; i++) {
        int in = 0;
        double nearest = INFINITY;
        for (int j = 0; j < nf; j++) {
            double e = sq_dist(real + i * d, fake + j * d, d);
            in |= e <= rf_pr[j];
            nearest = e < nearest ? e : nearest;
        }
        recalled += in;
        covered += nearest < rr_dc[i];
    }
    free(row);
    free(rr_pr);
    free(rr_dc);
    free(rf_pr);
    return (gan_prdc_result){(double)precise / nf, (double)recalled / nr,
                             (double)balls / ((double)k_dc * nf), (double)covered / nr};
}

// Sets of several panels (an odd number, so the round-robin pairing has a bye; the fixtures
// have at most two) against the plain computation, exactly: the features are multiples of 1/32,
// so every distance is exact both ways. And the same numbers on 1 thread as on 3.
static void test_prdc_panels_and_threads(void) {
    enum { NR = 700, NF = 600, D = 40 };
    float *real = malloc(sizeof(float) * NR * D), *fake = malloc(sizeof(float) * NF * D);
    ag_philox_fill_normal(real, NR * D, 11, 0, 0.0f, 1.0f);
    ag_philox_fill_normal(fake, NF * D, 12, 0, 0.1f, 1.1f);
    for (int i = 0; i < NR * D; i++) real[i] = roundf(real[i] * 32) / 32;
    for (int i = 0; i < NF * D; i++) fake[i] = roundf(fake[i] * 32) / 32;
    gan_err err = {0};
    gan_prdc_result one, many, ref = prdc_naive(real, NR, fake, NF, D, 3, 5);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    TEST_CHECK(gan_prdc(real, NR, fake, NF, D, 3, 5, &one, &err) == 0, "%s", err.msg);
    omp_set_num_threads(3);
    TEST_CHECK(gan_prdc(real, NR, fake, NF, D, 3, 5, &many, &err) == 0, "%s", err.msg);
    omp_set_num_threads(threads);
    TEST_CHECK(memcmp(&one, &many, sizeof one) == 0,
               "1 thread: %.6f %.6f %.6f %.6f, 3 threads: %.6f %.6f %.6f %.6f", one.precision,
               one.recall, one.density, one.coverage, many.precision, many.recall, many.density,
               many.coverage);
    TEST_CHECK(memcmp(&one, &ref, sizeof one) == 0,
               "ours: %.6f %.6f %.6f %.6f, plain: %.6f %.6f %.6f %.6f", one.precision,
               one.recall, one.density, one.coverage, ref.precision, ref.recall, ref.density,
               ref.coverage);
    printf("  prdc %d/%d d %d (3 panels each): %.6f %.6f %.6f %.6f, as computed plainly\n", NR,
           NF, D, one.precision, one.recall, one.density, one.coverage);
    free(real);
    free(fake);
}

static void test_prdc_errors(void) {
    float x[6 * 2] = {0};
    for (int i = 0; i < 12; i++) x[i] = (float)(i * i % 7);
    gan_err err = {0};
    gan_prdc_result o;
    TEST_CHECK(gan_prdc(x, 5, x, 6, 2, 3, 5, &o, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "more than 5 real samples") && strstr(err.msg, "got 5"),
               "5 reals at k 5: %s", err.msg);
    TEST_CHECK(gan_prdc(x, 6, x, 3, 2, 3, 5, &o, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "more than 3 generated samples") && strstr(err.msg, "got 3"),
               "3 fakes at k 3: %s", err.msg);
    TEST_CHECK(gan_prdc(x, 6, x, 6, 2, 3, 5, &o, &err) == 0 && o.precision == 1 && o.recall == 1,
               "6 and 6: %s", err.msg);
    x[1] = INFINITY;
    TEST_CHECK(gan_prdc(x, 6, x + 2, 5, 2, 3, 4, &o, &err) == -1 && err.code == GAN_EXIT_USAGE &&
                   strstr(err.msg, "the real features: 1 of 6 rows"), "Inf: %s", err.msg);
}

// --- timing -------------------------------------------------------------------------------------

static void time_at_inception_size(void) {
    enum { N = 2000, D = 2048 };
    float *real = malloc(sizeof(float) * N * D), *fake = malloc(sizeof(float) * N * D);
    // Inception pool3 features are non-negative, mean ~0.3: a shifted normal is close enough
    // for timing.
    ag_philox_fill_normal(real, (int64_t)N * D, 21, 0, 0.3f, 0.2f);
    ag_philox_fill_normal(fake, (int64_t)N * D, 22, 0, 0.32f, 0.2f);
    gan_err err = {0};
    gan_prdc_result o;
    double t0 = now();
    TEST_CHECK(gan_prdc(real, N, fake, N, D, 3, 5, &o, &err) == 0, "%s", err.msg);
    double t1 = now();
    gan_gaussian a, b;
    double fid = NAN;
    TEST_CHECK(gan_gaussian_fit(&a, real, N, D, &err) == 0 &&
                   gan_gaussian_fit(&b, fake, N, D, &err) == 0, "%s", err.msg);
    double t2 = now();
    TEST_CHECK(gan_fid(&a, &b, &fid, &err) == 0, "%s", err.msg);
    double t3 = now();
    gan_kid_result k;
    TEST_CHECK(gan_kid(real, N, fake, N, D, 10, 1000, 1, &k, &err) == 0, "%s", err.msg);
    double t4 = now();
    printf("  timing at n = %d, d = %d on %d threads: prdc %.2f s, two Gaussian fits %.2f s, "
           "fid %.2f s, kid (10 subsets of 1000) %.2f s\n", N, D, omp_get_max_threads(), t1 - t0,
           t2 - t1, t3 - t2, t4 - t3);
    gan_gaussian_free(&a);
    gan_gaussian_free(&b);
    free(real);
    free(fake);
}

int main(void) {
    fx_file *f = fx_open("metrics.h5");
    if (f) {
        TEST_CHECK(fx_attr_float(f, "/", "scale", &scale), "the fixture's feature scale");
        const char *fid_cases[] = {"gauss8", "gauss64", "gauss256", "n_lt_d", "n3_d256",
                                   "duplicated", "zero_var", "zero_var_one", "offset"};
        for (size_t i = 0; i < sizeof fid_cases / sizeof *fid_cases; i++) test_fid_case(f, fid_cases[i]);
        test_fid_self(f, "/fid/gauss64/a");
        test_fid_self(f, "/fid/gauss256/b");
        const char *kid_cases[] = {"shifted", "same", "d4"};
        for (size_t i = 0; i < sizeof kid_cases / sizeof *kid_cases; i++) test_kid_case(f, kid_cases[i]);
        const char *prdc_cases[] = {"gauss16", "gauss64", "identical", "disjoint", "ties"};
        for (size_t i = 0; i < sizeof prdc_cases / sizeof *prdc_cases; i++) test_prdc_case(f, prdc_cases[i]);
        fx_close(f);
    }
    test_fid_errors();
    test_kid_draw();
    test_prdc_panels_and_threads();
    test_prdc_errors();
    time_at_inception_size();
    return test_finish();
}
