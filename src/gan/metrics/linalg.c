#include "linalg.h"

#include <stddef.h>
#include <stdlib.h>

#include "alloc.h"
#include "gan_check.h"

// The Fortran interface (column-major, every argument by reference, LP64 integers), as OpenBLAS
// exports it. Fortran passes each CHARACTER argument's length as a hidden trailing argument; the
// LAPACK routines are compiled Fortran and may read it, so it is always passed (as 1).
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b, const int *ldb,
            const double *beta, double *c, const int *ldc, size_t transa_len, size_t transb_len);
void dsyrk_(const char *uplo, const char *trans, const int *n, const int *k, const double *alpha,
            const double *a, const int *lda, const double *beta, double *c, const int *ldc,
            size_t uplo_len, size_t trans_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

// A row-major matrix is the column-major matrix of its transpose, so each helper below calls
// the Fortran routine on the transposes: (A B^T)^T = B A^T, and a column-major lower triangle is
// a row-major upper one.

void la_gemm_abt(int m, int n, int k, const double *a, int lda, const double *b, int ldb,
                 double beta, double *c, int ldc) {
    const double one = 1.0;
    dgemm_("T", "N", &n, &m, &k, &one, b, &ldb, a, &lda, &beta, c, &ldc, 1, 1);
}

void la_gram(int n, int k, const double *a, int lda, double *c, int ldc) {
    const double one = 1.0, zero = 0.0;
    dsyrk_("L", "T", &n, &k, &one, a, &lda, &zero, c, &ldc, 1, 1);
    la_symmetrize_from_upper(n, c, ldc);
}

void la_gram_t_upper(int n, int k, const double *a, int lda, double beta, double *c, int ldc) {
    const double one = 1.0;
    dsyrk_("L", "N", &k, &n, &one, a, &lda, &beta, c, &ldc, 1, 1);
}

void la_symmetrize_from_upper(int n, double *c, int ldc) {
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) c[(size_t)i * ldc + j] = c[(size_t)j * ldc + i];
}

void la_gemm_nn(int n, const double *a, const double *b, double *c) {
    const double one = 1.0, zero = 0.0;
    dgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n, 1, 1);
}

int la_syev(int n, double *a, double *w, int vectors, gan_err *err) {
    const char *jobz = vectors ? "V" : "N";
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    dsyevd_(jobz, "L", &n, a, &n, w, &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
    GAN_CHECK(info == 0, "dsyevd workspace query: info %d for n %d", info, n);
    lwork = (int)work_query;
    liwork = iwork_query;
    double *work = gan_xmalloc((size_t)lwork * sizeof *work, "the eigensolver's workspace");
    int *iwork = gan_xmalloc((size_t)liwork * sizeof *iwork, "the eigensolver's index workspace");
    dsyevd_(jobz, "L", &n, a, &n, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    GAN_CHECK(info >= 0, "dsyevd: argument %d is invalid (n %d)", -info, n);
    if (info > 0)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "the symmetric eigensolver (LAPACK dsyevd) did not converge on a %d x %d "
                        "matrix (info %d)", n, n, info);
    return 0;
}

int la_blas_threads(int n) {
    int prev = openblas_get_num_threads();
    if (prev != n) openblas_set_num_threads(n);
    return prev;
}
