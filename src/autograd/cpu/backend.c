// The CPU backend: host memory, OpenMP loops, OpenBLAS for GEMMs.
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "check.h"
#include "cpu.h"
#include "pgemm.h"
#include "rng.h"

static void *cpu_alloc(const ag_backend *be, size_t bytes) {
    (void)be;
    void *p = NULL;
    size_t size = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, size ? size : 64) != 0) return NULL;
    return p;
}

static void cpu_free(const ag_backend *be, void *p) {
    (void)be;
    free(p);
}

static void cpu_copy(const ag_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    memcpy(dst, src, bytes);
}

static void cpu_fill(const ag_backend *be, float *dst, int64_t n, float v) {
    (void)be;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) dst[i] = v;
}

static void cpu_fill_uniform(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo,
                             float hi) {
    (void)be;
    ag_philox_fill_uniform(dst, n, seed, counter, lo, hi);
}

static void cpu_fill_normal(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean,
                            float std) {
    (void)be;
    ag_philox_fill_normal(dst, n, seed, counter, mean, std);
}

static void cpu_axpy(const ag_backend *be, float *y, const float *x, int64_t n, float a) {
    (void)be;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

// Same order of operations as torch.optim.Adam (non-fused, non-foreach, amsgrad off):
// denom = sqrt(v) / sqrt(bc2) + eps; w -= lr / bc1 * m / denom.
CPU_DISPATCH static void adam_block(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                                    int64_t n, float b1, float b2, float step, float eps, float wd, float bc2_sqrt) {
    for (int64_t i = 0; i < n; i++) {
        float gi = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        m[i] = m[i] * b1 + (1.0f - b1) * gi;
        v[i] = v[i] * b2 + (1.0f - b2) * gi * gi;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        w[i] -= step * (m[i] / denom);
    }
}

#define OPT_BLOCK 16384

static void cpu_adam_update(const ag_backend *be, float *w, const float *g, float *m, float *v, int64_t n,
                            const ag_adam_args *a) {
    (void)be;
    const float bc2_sqrt = sqrtf(a->bias_correction2), step = a->lr / a->bias_correction1;
    const int64_t nblk = (n + OPT_BLOCK - 1) / OPT_BLOCK;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t b = 0; b < nblk; b++) {
        const int64_t i0 = b * OPT_BLOCK, len = n - i0 < OPT_BLOCK ? n - i0 : OPT_BLOCK;
        adam_block(w + i0, g + i0, m + i0, v + i0, len, a->beta1, a->beta2, step, a->eps, a->weight_decay, bc2_sqrt);
    }
}

static void cpu_sgd_update(const ag_backend *be, float *w, const float *g, float *buf, int64_t n, float lr,
                           float momentum, float dampening, float wd, int nesterov, int first_step) {
    (void)be;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = wd != 0.0f ? g[i] + wd * w[i] : g[i];
        if (momentum != 0.0f) {
            buf[i] = first_step ? d : momentum * buf[i] + (1.0f - dampening) * d;
            d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        w[i] -= lr * d;
    }
}

static void cpu_lerp(const ag_backend *be, float *ema, const float *w, int64_t n, float beta) {
    (void)be;
#pragma omp parallel for schedule(static) if (n > CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) ema[i] = w[i] + beta * (ema[i] - w[i]);
}

// Threading: OpenMP is the only thread pool. Every GEMM runs on the thread that calls it
// (kernels split their work over OpenMP threads themselves, by batch chunks or column blocks),
// so OpenBLAS is held to one thread from the backend's opening on. Debian's OpenBLAS is the
// pthread build: left at its default it would start a pool of its own inside our parallel
// regions, and two pools on the same cores take turns spinning instead of computing. (Not from
// a constructor: linked statically, ours can run before OpenBLAS's own and crash it.)

// OpenMP's thread count is per process, so every CPU backend object shares it: the last
// set_threads wins.
static int cpu_set_threads(ag_backend *be, int n) {
    (void)be;
    omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
    openblas_set_num_threads(1);
    return omp_get_max_threads();
}

static int cpu_open(ag_backend *be, int index, char *why, size_t why_size) {
    (void)index, (void)why, (void)why_size;  // the registry refuses cpu:N
    openblas_set_num_threads(1);
    be->threads = omp_get_max_threads();
    return 0;
}

static void cpu_describe(const ag_backend *be, ag_backend_desc *d) {
    snprintf(d->device, sizeof d->device, "%d logical cores", omp_get_num_procs());
    // openblas_get_config: "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"
    snprintf(d->library, sizeof d->library, "%s", openblas_get_config());
    // OpenBLAS's core, then ours under the convolutions: "Zen, conv avx2"
    snprintf(d->kernels, sizeof d->kernels, "%s, conv %s", openblas_get_corename(), pgemm_isa_name(pgemm_kernel()));
    d->threads = be->threads;
}

void cpu_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *cmat, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, cmat, ldc);
}

// Below this many multiply-adds a product runs on one thread.
#define SGEMM_PARALLEL_MIN_MACS (1 << 19)

void cpu_sgemm_parallel(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                        const float *b, int ldb, float beta, float *cmat, int ldc) {
    const int threads = (int64_t)m * n * k < SGEMM_PARALLEL_MIN_MACS ? 1 : omp_get_max_threads();
    const bool by_rows = m >= n;  // cut the longer side, in blocks of whole 16-float lines
    const int len = by_rows ? m : n, blocks = len / 16 < threads ? (len / 16 > 0 ? len / 16 : 1) : threads;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (int p = 0; p < blocks; p++) {
        int lo = (int)((int64_t)p * len / blocks) & ~15;
        int hi = p + 1 == blocks ? len : (int)((int64_t)(p + 1) * len / blocks) & ~15;
        if (hi <= lo) continue;
        if (by_rows)
            cpu_sgemm(trans_a, trans_b, hi - lo, n, k, 1.0f, trans_a ? a + lo : a + (int64_t)lo * lda, lda, b, ldb,
                      beta, cmat + (int64_t)lo * ldc, ldc);
        else
            cpu_sgemm(trans_a, trans_b, m, hi - lo, k, 1.0f, a, lda, trans_b ? b + (int64_t)lo * ldb : b + lo, ldb,
                      beta, cmat + lo, ldc);
    }
}

// Every op's kernel by name (cpu.h declares them all from op_list.h): an op without a CPU kernel
// fails the link.
const ag_backend_ops ag_cpu_backend_ops = {
    .kind = "cpu",
    .open = cpu_open,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .to_host = cpu_copy,
    .from_host = cpu_copy,
    .copy = cpu_copy,
    .fill = cpu_fill,
    .fill_uniform = cpu_fill_uniform,
    .fill_normal = cpu_fill_normal,
    .axpy = cpu_axpy,
    .adam_update = cpu_adam_update,
    .sgd_update = cpu_sgd_update,
    .lerp = cpu_lerp,
    .set_threads = cpu_set_threads,
    .describe = cpu_describe,
    .kernels = {
#define AG_CPU_ENTRY(E, n, s, g) [AG_OP_##E] = cpu_##n,
        AG_OP_LIST(AG_CPU_ENTRY)
#undef AG_CPU_ENTRY
    },
};
