// The Frechet distance between two Gaussians (metrics.h says how and why this way).
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "linalg.h"
#include "metrics.h"

static int all_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

// Eigenvalues at or below this are round-off of a zero: a symmetric eigensolver's absolute error
// is a small multiple of DBL_EPSILON times the largest eigenvalue, growing with d.
static double zero_threshold(int d, const double *w_ascending) {
    double top = w_ascending[d - 1];
    return top > 0 ? d * DBL_EPSILON * top : 0;
}

// tr((S1 S2)^(1/2)) for symmetric positive semi-definite S1, S2 (d x d).
static int trace_sqrt_product(int d, const double *s1, const double *s2, double *out,
                              gan_err *err) {
    size_t dd = (size_t)d * d;
    double *v = gan_xmalloc(dd * sizeof *v, "FID's eigenvectors");
    double *h = gan_xmalloc(dd * sizeof *h, "FID's matrix square root");
    double *t = gan_xmalloc(dd * sizeof *t, "FID's matrix products");
    double *w = gan_xmalloc((size_t)d * sizeof *w, "FID's eigenvalues");
    int rc = -1;
    memcpy(v, s1, dd * sizeof *v);
    if (la_syev(d, v, w, 1, err) != 0) goto done;

    // S1^(1/2) = V diag(sqrt(w)) V^T = U U^T with U's columns the eigenvectors scaled by w^(1/4)
    // (la_syev stores eigenvector j contiguously, i.e. as row j of U^T). Eigenvalues come in
    // ascending order, so those taken as zero are the leading ones and are simply left out.
    double thr = zero_threshold(d, w);
    int first = 0;
    while (first < d && !(w[first] > thr)) first++;
    for (int j = first; j < d; j++) {
        double s = sqrt(sqrt(w[j]));
        for (int i = 0; i < d; i++) v[(size_t)j * d + i] *= s;
    }
    if (first < d) {
        la_gram_t_upper(d - first, d, v + (size_t)first * d, d, 0.0, h, d);
        la_symmetrize_from_upper(d, h, d);
    } else {
        memset(h, 0, dd * sizeof *h);
    }

    // M = S1^(1/2) S2 S1^(1/2): symmetric PSD with the eigenvalues of S1 S2.
    la_gemm_nn(d, s2, h, t);
    la_gemm_nn(d, h, t, v);
    if (la_syev(d, v, w, 0, err) != 0) goto done;
    thr = zero_threshold(d, w);
    double sum = 0;
    for (int j = 0; j < d; j++)
        if (w[j] > thr) sum += sqrt(w[j]);
    *out = sum;
    rc = 0;
done:
    free(v);
    free(h);
    free(t);
    free(w);
    return rc;
}

int gan_fid(const gan_gaussian *a, const gan_gaussian *b, double *fid, gan_err *err) {
    if (a->d != b->d)
        return gan_errf(err, GAN_EXIT_USAGE,
                        "the two statistics have different dimensions (%d and %d): they come from "
                        "different feature networks", a->d, b->d);
    int d = a->d;
    size_t dd = (size_t)d * d;
    const gan_gaussian *g[2] = {a, b};
    for (int s = 0; s < 2; s++)
        if (!all_finite(g[s]->mean, (size_t)d) || !all_finite(g[s]->cov, dd))
            return gan_errf(err, GAN_EXIT_USAGE,
                            "the %s statistics hold a NaN or an infinity in their %s",
                            s == 0 ? "first" : "second",
                            all_finite(g[s]->mean, (size_t)d) ? "covariance" : "mean");
    double diff2 = 0, tr1 = 0, tr2 = 0;
    for (int j = 0; j < d; j++) {
        double e = a->mean[j] - b->mean[j];
        diff2 += e * e;
        tr1 += a->cov[(size_t)j * d + j];
        tr2 += b->cov[(size_t)j * d + j];
    }
    double trs;
    if (trace_sqrt_product(d, a->cov, b->cov, &trs, err) != 0) return -1;
    *fid = diff2 + tr1 + tr2 - 2 * trs;
    return 0;
}
