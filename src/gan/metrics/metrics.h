// Distances between two sets of features (rows of n x d float32 in host memory, one row per
// image, from a feature network): FID, KID, precision/recall and density/coverage. Everything is
// computed in double precision, deterministically (KID and PRDC give the same numbers for any
// thread count by construction: fixed blocks, each GEMM on one thread, integer counts), and
// agrees with the reference implementations researchers compare to (tests/test_metrics.c checks
// each against numpy/scipy fixtures, tools/make_fixtures_metrics.py, to 1e-6 or better):
//
//   FID        Heusel et al. 2017, as pytorch-fid: Frechet distance of the two Gaussians fitted
//              to the features (unbiased covariance).
//   KID        Binkowski et al. 2018, as torch-fidelity: unbiased MMD^2 with the kernel
//              k(x, y) = (x.y / d + 1)^3, mean and std (ddof 0, numpy's default) over random
//              subsets.
//   P/R        Kynkaanniemi et al. 2019, as their code and StyleGAN2-ADA: a sample is inside a set's
//              manifold when its distance to some member is <= that member's k-th nearest
//              neighbour distance within the set (k = 3).
//   D/C        Naeem et al. 2020, as their prdc package: density and coverage with k = 5 and
//              strict < comparisons.
//
// Bad input (too few samples, non-finite features, mismatched statistics) is a user error
// (gan_err, GAN_EXIT_USAGE) whose message says what was needed; callers prefix the context
// ("generated samples: ..."). Counts and dimensions that contradict each other in a call (an
// index out of range, d < 1) are programmer errors and abort.
#pragma once
#include <stdint.h>

#include "error.h"

// --- Gaussians and FID --------------------------------------------------------------------------

// The mean and the unbiased covariance (divided by n - 1, as numpy.cov(rowvar=False) and
// pytorch-fid) of a set of features. cov is d x d, row-major, symmetric.
typedef struct gan_gaussian {
    int d;
    int64_t n;     // samples it was fitted to (0 when filled from elsewhere, e.g. a statistics file)
    double *mean;  // d
    double *cov;   // d * d
} gan_gaussian;

// Allocates a zeroed Gaussian of dimension d (n = 0), for statistics read from a file.
void gan_gaussian_init(gan_gaussian *g, int d);
// Fits g (which it allocates) to x (n x d): the mean, then the covariance of the centred rows,
// both accumulated in double in a fixed order. Needs n >= 2 and finite features; on failure g is
// left as it was (so a zeroed gan_gaussian can be freed either way).
int gan_gaussian_fit(gan_gaussian *g, const float *x, int64_t n, int d, gan_err *err);
void gan_gaussian_free(gan_gaussian *g);

// FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).
// tr((S1 S2)^(1/2)) is the sum of the square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2),
// which are those of S1 S2 but come from a symmetric positive semi-definite matrix, so the
// symmetric eigensolver gives them to full precision; S1^(1/2) comes from S1's eigenvectors. In
// both eigendecompositions eigenvalues below d * DBL_EPSILON times the largest are round-off of
// a zero (rank-deficient covariances: fewer samples than dimensions, duplicated rows, a constant
// feature) and are taken as 0: their square roots would otherwise add noise of order
// sqrt(DBL_EPSILON). On such covariances this agrees with the exact low-rank value to ~1e-15
// relative, where scipy.linalg.sqrtm (pytorch-fid) is off by up to 5e-8 (well-conditioned
// covariances: both within 1e-13).
// Fails (usage) when the dimensions differ or a mean or covariance is not finite, (runtime) when
// the eigensolver does not converge.
int gan_fid(const gan_gaussian *a, const gan_gaussian *b, double *fid, gan_err *err);

// --- KID ----------------------------------------------------------------------------------------

#define GAN_KID_SUBSETS 100
#define GAN_KID_SUBSET_SIZE 1000

typedef struct gan_kid_result {
    double mean, std;  // over the subsets' MMD^2 estimates; std with ddof 0 as torch-fidelity
    int subsets;
    int subset_size;   // the size actually used: min(n_real, n_fake, the requested size)
} gan_kid_result;

// KID over given subsets: subset s takes rows real_idx[s*m .. s*m+m) of real and
// fake_idx[s*m .. s*m+m) of fake (indices < nr and < nf). Needs m >= 2 and finite features.
int gan_kid_subsets(const float *real, int64_t nr, const float *fake, int64_t nf, int d,
                    int subsets, int m, const int32_t *real_idx, const int32_t *fake_idx,
                    gan_kid_result *out, gan_err *err);

// Draws `subsets` subsets of min(nr, nf, subset_size) rows from each set (without replacement
// within a subset; independently across subsets) from a Philox stream seeded by `seed`, into
// real_idx and fake_idx (subsets * m entries each), and returns m. torch-fidelity refuses sets
// smaller than the subset size; StyleGAN2-ADA and clean-fid use the smaller size, as here.
int gan_kid_draw(int64_t nr, int64_t nf, int subsets, int subset_size, uint64_t seed,
                 int32_t *real_idx, int32_t *fake_idx);

// KID with subsets drawn by gan_kid_draw (defaults: GAN_KID_SUBSETS of GAN_KID_SUBSET_SIZE).
int gan_kid(const float *real, int64_t nr, const float *fake, int64_t nf, int d, int subsets,
            int subset_size, uint64_t seed, gan_kid_result *out, gan_err *err);

// --- precision, recall, density, coverage ---------------------------------------------------------

#define GAN_PR_K 3
#define GAN_DC_K 5

typedef struct gan_prdc_result {
    double precision;  // fraction of fakes inside the real manifold (k_pr radii, <=)
    double recall;     // fraction of reals inside the fake manifold (k_pr radii, <=)
    double density;    // (1 / (k_dc nf)) sum over fakes of the real k_dc-balls containing it (<)
    double coverage;   // fraction of reals whose nearest fake is inside their k_dc-ball (<)
} gan_prdc_result;

// Euclidean distances from double-precision GEMMs over blocks of rows (never the whole n x n
// matrix); a sample's k-NN radius is taken among the other members of its own set. Needs
// nr > max(k_pr, k_dc), nf > k_pr and finite features. Parallel over blocks of rows (OpenMP),
// each block one single-threaded GEMM, so the result does not depend on the thread count.
int gan_prdc(const float *real, int64_t nr, const float *fake, int64_t nf, int d, int k_pr,
             int k_dc, gan_prdc_result *out, gan_err *err);

// --- input checks -------------------------------------------------------------------------------

// 0 when all of x (n x d) is finite; else a usage error naming `what` ("the generated features")
// and how many rows hold a NaN or an infinity.
int gan_features_check(const float *x, int64_t n, int d, const char *what, gan_err *err);
