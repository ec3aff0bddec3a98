// The metrics' linear algebra in double precision: row-major helpers over the Fortran BLAS and
// LAPACK that OpenBLAS exports (dgemm_, dsyrk_, dsyevd_), whose prototypes linalg.c declares
// itself. Internal to src/gan/metrics.
#pragma once
#include "error.h"

// C (m x n) = A B^T + beta C, row-major: A is m x k (leading dimension lda), B is n x k (ldb),
// C has leading dimension ldc. The cross terms x.y of two blocks of features.
void la_gemm_abt(int m, int n, int k, const double *a, int lda, const double *b, int ldb,
                 double beta, double *c, int ldc);

// C (n x n) = A A^T, row-major A (n x k, lda), both triangles of C filled. A block's own
// inner products, at half the work of a GEMM.
void la_gram(int n, int k, const double *a, int lda, double *c, int ldc);

// C (k x k) = A^T A + beta C, row-major A (n x k, lda); only C's upper triangle in row-major
// terms (c[i * ldc + j], j >= i) is updated. The covariance's accumulation over chunks of rows;
// la_symmetrize completes it.
void la_gram_t_upper(int n, int k, const double *a, int lda, double beta, double *c, int ldc);

// Copies the upper triangle (row-major, j >= i) of the n x n matrix c onto the lower one.
void la_symmetrize_from_upper(int n, double *c, int ldc);

// C (n x n) = A B for n x n matrices (contiguous; the storage order does not matter for the
// symmetric operands the FID multiplies, so it is documented as column-major).
void la_gemm_nn(int n, const double *a, const double *b, double *c);

// Eigenvalues w (ascending) of the symmetric n x n matrix a (contiguous); with vectors != 0, a is
// overwritten with the eigenvectors (eigenvector j in a[j*n .. j*n+n)), else destroyed.
// A runtime error when the divide-and-conquer solver (dsyevd) does not converge.
int la_syev(int n, double *a, double *w, int vectors, gan_err *err);

// OpenBLAS's own thread count: the metrics that split work over OpenMP threads run each GEMM on
// one thread and set it back afterwards (la_blas_threads(1) returns the previous count).
int la_blas_threads(int n);
