// Precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020) from
// k-nearest-neighbour balls. Distances are squared Euclidean, |x|^2 + |y|^2 - 2 x.y, with the
// cross terms from double GEMMs over a panel of rows against a block of rows at a time; the
// radii and the comparisons stay squared (the square root is monotone, so nothing changes).
#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "gan_check.h"
#include "linalg.h"
#include "metrics.h"

// Rows per panel (the unit of work: a panel of one set against a block of the other, or against
// another panel of its own set) and per block. A thread holds a panel and a block in double and
// their inner products: 13 MB at d = 2048. Converting a block to double again for every panel
// costs one conversion per 2 * PANEL flops of the GEMM, a few percent.
#define PANEL 256
#define BLOCK 512

typedef struct fset {
    const float *x;
    int64_t n;
    int d;
    double *norm2;  // |x_i|^2 in double, summed in order
} fset;

static void to_double(const fset *s, int64_t r0, int rows, double *out) {
    const float *src = s->x + r0 * s->d;
    for (size_t i = 0; i < (size_t)rows * s->d; i++) out[i] = src[i];
}

static void fset_init(fset *s, const float *x, int64_t n, int d) {
    *s = (fset){.x = x, .n = n, .d = d};
    s->norm2 = gan_xmalloc((size_t)n * sizeof *s->norm2, "the features' squared norms");
    for (int64_t i = 0; i < n; i++) {
        double acc = 0;
        for (int j = 0; j < d; j++) {
            double v = x[i * d + j];
            acc += v * v;
        }
        s->norm2[i] = acc;
    }
}

static inline double dist2(double n2a, double n2b, double dot) {
    double v = n2a + n2b - 2 * dot;
    return v > 0 ? v : 0;  // round-off may take a zero distance below 0
}

// Inserts v into best[0..k) (ascending; the k smallest seen so far).
static inline void keep_smallest(double *best, int k, double v) {
    if (!(v < best[k - 1])) return;
    int i = k - 1;
    while (i > 0 && best[i - 1] > v) {
        best[i] = best[i - 1];
        i--;
    }
    best[i] = v;
}

typedef struct work {
    double *panel, *block, *dot;
} work;

static work work_alloc(int d) {
    return (work){
        .panel = gan_xmalloc((size_t)PANEL * d * sizeof(double), "a panel of features"),
        .block = gan_xmalloc((size_t)BLOCK * d * sizeof(double), "a block of features"),
        .dot = gan_xmalloc((size_t)PANEL * BLOCK * sizeof(double), "a block of distances"),
    };
}

static void work_free(work *w) {
    free(w->panel);
    free(w->block);
    free(w->dot);
}

static int64_t panels(int64_t n) { return (n + PANEL - 1) / PANEL; }
static int rows_in(int64_t n, int64_t r0, int max) { return (int)(n - r0 < max ? n - r0 : max); }

// Offers the squared distances of the tile of rows [i0, i0 + ni) x [j0, j0 + nj) of s (inner
// products in dot, ni x nj) to both rows' k smallest; on a diagonal tile (i0 == j0) each pair
// appears twice, once per row, and a member is not its own neighbour.
static void offer_tile(const fset *s, int k, double *best, int64_t i0, int ni, int64_t j0,
                       int nj, const double *dot) {
    int diagonal = i0 == j0;
    for (int r = 0; r < ni; r++) {
        int64_t i = i0 + r;
        double *bi = best + i * k;
        for (int c = diagonal ? r + 1 : 0; c < nj; c++) {
            int64_t j = j0 + c;
            double e = dist2(s->norm2[i], s->norm2[j], dot[(size_t)r * nj + c]);
            keep_smallest(bi, k, e);
            keep_smallest(best + j * k, k, e);
        }
    }
}

// Panels a and b of a round-robin tournament of `slots` (even) players in round r: every pair
// meets in exactly one of the slots - 1 rounds, and no panel plays twice in a round.
static void pairing(int64_t slots, int64_t r, int64_t i, int64_t *a, int64_t *b) {
    int64_t m = slots - 1;
    *a = (r + i) % m;
    *b = i == 0 ? m : (r - i + m) % m;
}

// The k smallest squared distances from each member of s to the others (n x k, ascending):
// best[i * k + k - 1] is member i's squared k-NN radius. Each pair of panels is one GEMM whose
// distances go to both panels' rows (half the work of one GEMM per row panel); the pairs of a
// round touch disjoint rows, so a round runs in parallel without locks. The k smallest of a
// row are the same whatever order its candidates arrive in.
static void nearest_within(const fset *s, int k, double *best) {
    for (size_t i = 0; i < (size_t)s->n * k; i++) best[i] = INFINITY;
    int64_t np = panels(s->n), slots = np + (np & 1);  // slot np of an odd count sits out
#pragma omp parallel
    {
        work w = work_alloc(s->d);
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < np; p++) {
            int64_t i0 = p * PANEL;
            int ni = rows_in(s->n, i0, PANEL);
            to_double(s, i0, ni, w.panel);
            la_gram(ni, s->d, w.panel, s->d, w.dot, ni);
            offer_tile(s, k, best, i0, ni, i0, ni, w.dot);
        }
        for (int64_t r = 0; r < slots - 1; r++) {
#pragma omp for schedule(dynamic, 1)
            for (int64_t t = 0; t < slots / 2; t++) {
                int64_t a, b;
                pairing(slots, r, t, &a, &b);
                if (a >= np || b >= np) continue;
                int64_t i0 = a * PANEL, j0 = b * PANEL;
                int ni = rows_in(s->n, i0, PANEL), nj = rows_in(s->n, j0, PANEL);
                to_double(s, i0, ni, w.panel);
                to_double(s, j0, nj, w.block);
                la_gemm_abt(ni, nj, s->d, w.panel, s->d, w.block, s->d, 0.0, w.dot, nj);
                offer_tile(s, k, best, i0, ni, j0, nj, w.dot);
            }
        }
        work_free(&w);
    }
}

int gan_prdc(const float *real, int64_t nr, const float *fake, int64_t nf, int d, int k_pr,
             int k_dc, gan_prdc_result *out, gan_err *err) {
    GAN_CHECK(d >= 1 && k_pr >= 1 && k_dc >= 1 && nr >= 0 && nf >= 0,
              "gan_prdc: %lld real, %lld fake, d %d, k %d and %d", (long long)nr, (long long)nf,
              d, k_pr, k_dc);
    int kr = k_pr > k_dc ? k_pr : k_dc;
    if (nr <= kr)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "precision/recall and density/coverage need more than %d real samples "
                        "(each one's %d nearest neighbours among the others), got %lld",
                        kr, kr, (long long)nr);
    if (nf <= k_pr)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "recall needs more than %d generated samples (each one's %d nearest "
                        "neighbours among the others), got %lld", k_pr, k_pr, (long long)nf);
    if (gan_features_check(real, nr, d, "the real features", err) != 0) return -1;
    if (gan_features_check(fake, nf, d, "the generated features", err) != 0) return -1;

    fset rs, fs;
    fset_init(&rs, real, nr, d);
    fset_init(&fs, fake, nf, d);
    double *rbest = gan_xmalloc((size_t)nr * kr * sizeof *rbest, "the real k-NN distances");
    double *fbest = gan_xmalloc((size_t)nf * k_pr * sizeof *fbest, "the generated k-NN distances");
    // Every GEMM runs on the OpenMP thread that calls it; each output is written by one task or
    // is an integer total, so the result does not depend on the thread count or the schedule.
    int blas_threads = la_blas_threads(1);
    nearest_within(&rs, kr, rbest);
    nearest_within(&fs, k_pr, fbest);

    // Per real sample: inside the fake manifold (recall), its nearest fake (coverage). Per fake
    // sample: inside some real ball of radius k_pr (precision), how many real k_dc-balls hold it
    // (density); those are summed over threads as integers.
    unsigned char *recalled = gan_xcalloc((size_t)nr, 1, "the recall flags");
    double *nearest_fake = gan_xmalloc((size_t)nr * sizeof *nearest_fake, "the nearest fakes");
    unsigned char *precise = gan_xcalloc((size_t)nf, 1, "the precision flags");
    int64_t *balls = gan_xcalloc((size_t)nf, sizeof *balls, "the density counts");
#pragma omp parallel
    {
        work w = work_alloc(d);
        unsigned char *my_precise = gan_xcalloc((size_t)nf, 1, "a thread's precision flags");
        int64_t *my_balls = gan_xcalloc((size_t)nf, sizeof *my_balls, "a thread's density counts");
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < panels(nr); p++) {
            int64_t i0 = p * PANEL;
            int pr = rows_in(nr, i0, PANEL);
            to_double(&rs, i0, pr, w.panel);
            for (int r = 0; r < pr; r++) nearest_fake[i0 + r] = INFINITY;
            for (int64_t j0 = 0; j0 < nf; j0 += BLOCK) {
                int bc = rows_in(nf, j0, BLOCK);
                to_double(&fs, j0, bc, w.block);
                la_gemm_abt(pr, bc, d, w.panel, d, w.block, d, 0.0, w.dot, bc);
                for (int r = 0; r < pr; r++) {
                    int64_t i = i0 + r;
                    double r_pr = rbest[i * kr + k_pr - 1], r_dc = rbest[i * kr + k_dc - 1];
                    double nearest = nearest_fake[i];
                    int in_fake = recalled[i];
                    for (int c = 0; c < bc; c++) {
                        int64_t j = j0 + c;
                        double e = dist2(rs.norm2[i], fs.norm2[j], w.dot[(size_t)r * bc + c]);
                        in_fake |= e <= fbest[j * k_pr + k_pr - 1];
                        if (e < nearest) nearest = e;
                        my_precise[j] |= e <= r_pr;
                        my_balls[j] += e < r_dc;
                    }
                    nearest_fake[i] = nearest;
                    recalled[i] = (unsigned char)in_fake;
                }
            }
        }
#pragma omp critical(gan_prdc_merge)
        for (int64_t j = 0; j < nf; j++) {
            precise[j] |= my_precise[j];
            balls[j] += my_balls[j];
        }
        free(my_precise);
        free(my_balls);
        work_free(&w);
    }
    la_blas_threads(blas_threads);

    int64_t n_precise = 0, n_balls = 0, n_recalled = 0, n_covered = 0;
    for (int64_t j = 0; j < nf; j++) {
        n_precise += precise[j];
        n_balls += balls[j];
    }
    for (int64_t i = 0; i < nr; i++) {
        n_recalled += recalled[i];
        n_covered += nearest_fake[i] < rbest[i * kr + k_dc - 1];
    }
    *out = (gan_prdc_result){
        .precision = (double)n_precise / nf,
        .recall = (double)n_recalled / nr,
        .density = (double)n_balls / ((double)k_dc * nf),
        .coverage = (double)n_covered / nr,
    };
    free(recalled);
    free(nearest_fake);
    free(precise);
    free(balls);
    free(rbest);
    free(fbest);
    free(rs.norm2);
    free(fs.norm2);
    return 0;
}
