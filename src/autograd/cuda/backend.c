// The CUDA backend: one device, one stream, cuBLAS and cuDNN handles, a caching allocator over
// cudaMalloc and a cache of cuDNN algorithms, all owned by the opened backend (be->state).
// Kernels live in cuda/<family>.cu; this file is the table and the long-lived-state entry
// points. Random fills are drawn on the host by the CPU's own Philox code and copied over, so
// every backend draws the same numbers bit for bit (fills are latents and noise: small).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "check.h"
#include "ctx_internal.h"
#include "cuda_backend.h"
#include "rng.h"

static void *raw_alloc(void *user, size_t bytes) {
    (void)user;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();  // clear it: out of memory is an answer, not a broken context
        return NULL;
    }
    CUDA_CHECK(e);
    return p;
}

static void raw_free(void *user, void *p) {
    (void)user;
    CUDA_CHECK(cudaFree(p));
}

static int cuda_open(ag_backend *be, int index, char *why, size_t why_size) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(why, why_size, "no CUDA device (cudaGetDeviceCount: %s)", cudaGetErrorString(e));
        (void)cudaGetLastError();
        return -1;
    }
    int device = index < 0 ? 0 : index;
    if (count == 0 || device >= count) {
        snprintf(why, why_size, "%d CUDA device%s here", count, count == 1 ? "" : "s");
        return -1;
    }
    CUDA_CHECK(cudaSetDevice(device));
    cuda_state *s = ag_xcalloc(1, sizeof *s);
    s->device = device;
    s->deterministic = true;
    // A benchmarking switch, not a config key: timed choices can differ between processes, so
    // a resumed run is no longer bit-identical (conv.cu, docs/gpu.md).
    const char *algos = getenv("GAN_CUDNN_ALGOS");
    s->timed_algos = algos && !strcmp(algos, "timed");
    struct cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    snprintf(s->device_name, sizeof s->device_name, "%s", prop.name);
    s->sm_count = prop.multiProcessorCount;
    s->cc_major = prop.major;
    s->cc_minor = prop.minor;
    s->total_bytes = prop.totalGlobalMem;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking));
    CUBLAS_CHECK(cublasCreate(&s->cublas));
    CUBLAS_CHECK(cublasSetStream(s->cublas, s->stream));
    // FP32 products stay FP32: no TF32 (results comparable with the CPU and reproducible).
    CUBLAS_CHECK(cublasSetMathMode(s->cublas, CUBLAS_PEDANTIC_MATH));
    CUDNN_CHECK(cudnnCreate(&s->cudnn));
    CUDNN_CHECK(cudnnSetStream(s->cudnn, s->stream));
    ag_block_cache_init(&s->mem, raw_alloc, raw_free, NULL);
    be->state = s;
    be->threads = 1;
    return 0;
}

static void cuda_close(ag_backend *be) {
    cuda_state *s = cuda_of(be);
    if (!s) return;
    CUDA_CHECK(cudaSetDevice(s->device));
    CUDA_CHECK(cudaStreamSynchronize(s->stream));
    ag_block_cache_destroy(&s->mem);
    ag_algo_cache_free(&s->algos);
    if (s->host_stage) CUDA_CHECK(cudaFreeHost(s->host_stage));
    CUDNN_CHECK(cudnnDestroy(s->cudnn));
    CUBLAS_CHECK(cublasDestroy(s->cublas));
    CUDA_CHECK(cudaStreamDestroy(s->stream));
    free(s);
    be->state = NULL;
}

static void *cuda_alloc(const ag_backend *be, size_t bytes) { return ag_block_cache_alloc(&cuda_of(be)->mem, bytes); }
static void cuda_free(const ag_backend *be, void *p) { ag_block_cache_free(&cuda_of(be)->mem, p); }

static void cuda_to_host(const ag_backend *be, void *dst, const void *src, size_t bytes) {
    cuda_state *s = cuda_of(be);
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s->stream));
    CUDA_CHECK(cudaStreamSynchronize(s->stream));
}

// The caller may reuse src as soon as this returns. From pageable memory cudaMemcpyAsync
// returns once the source has been read; from page-locked memory (ag_backend_host_alloc) it
// returns at once and the DMA reads the source later, so then we wait for the copy. A training
// step copies its batch when the stream is idle (the previous step ended by reading its losses),
// so the wait costs nothing there and the copy runs at the bus's full speed.
static void cuda_from_host(const ag_backend *be, void *dst, const void *src, size_t bytes) {
    cuda_state *s = cuda_of(be);
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s->stream));
    struct cudaPointerAttributes attr;
    if (cudaPointerGetAttributes(&attr, src) != cudaSuccess) (void)cudaGetLastError();
    else if (attr.type == cudaMemoryTypeHost) CUDA_CHECK(cudaStreamSynchronize(s->stream));
}

static void *cuda_host_alloc(const ag_backend *be, size_t bytes) {
    (void)be;
    void *p = NULL;
    if (cudaMallocHost(&p, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return p;
}

static void cuda_host_free(const ag_backend *be, void *p) {
    (void)be;
    CUDA_CHECK(cudaFreeHost(p));
}

static void cuda_copy(const ag_backend *be, void *dst, const void *src, size_t bytes) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_of(be)->stream));
}

// The collective's kernel is the engine's own (ops/collective.c): through host memory.
void cuda_allreduce_sum(ag_ctx *c, const ag_node *node) { ag_kernel_allreduce_sum(c, node); }

static void cuda_sync(const ag_backend *be) { CUDA_CHECK(cudaStreamSynchronize(cuda_of(be)->stream)); }

static void cuda_fill(const ag_backend *be, float *dst, int64_t n, float value) {
    cuda_launch_fill(cuda_of(be)->stream, dst, n, value);
}

// Pinned host memory of at least n floats for a host-drawn fill. The previous fill's copy must
// be done before the buffer is written again, so the stream is synchronised first.
static float *host_stage(cuda_state *s, int64_t n) {
    CUDA_CHECK(cudaStreamSynchronize(s->stream));
    size_t bytes = (size_t)n * sizeof(float);
    if (bytes > s->host_stage_size) {
        if (s->host_stage) CUDA_CHECK(cudaFreeHost(s->host_stage));
        CUDA_CHECK(cudaMallocHost((void **)&s->host_stage, bytes));
        s->host_stage_size = bytes;
    }
    return s->host_stage;
}

// A fill drawn on the host by `draw` (the CPU's Philox fills) and copied to dst.
static void host_drawn(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float a, float b,
                       void (*draw)(float *, int64_t, uint64_t, uint64_t, float, float)) {
    cuda_state *s = cuda_of(be);
    float *h = host_stage(s, n);
    draw(h, n, seed, counter, a, b);
    CUDA_CHECK(cudaMemcpyAsync(dst, h, (size_t)n * sizeof(float), cudaMemcpyHostToDevice, s->stream));
}

static void cuda_fill_uniform(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo,
                              float hi) {
    host_drawn(be, dst, n, seed, counter, lo, hi, ag_philox_fill_uniform);
}

static void cuda_fill_normal(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean,
                             float std) {
    host_drawn(be, dst, n, seed, counter, mean, std, ag_philox_fill_normal);
}

static void cuda_axpy(const ag_backend *be, float *y, const float *x, int64_t n, float a) {
    cuda_launch_axpy(cuda_of(be)->stream, y, x, n, a);
}

// The same arithmetic as the CPU's Adam (torch.optim.Adam, non-fused): the step and the bias
// corrections are computed here, on the host, in the same order.
static void cuda_adam_update(const ag_backend *be, float *w, const float *g, float *m, float *v, int64_t n,
                             const ag_adam_args *a) {
    cuda_launch_adam(cuda_of(be)->stream, w, g, m, v, n, a->beta1, a->beta2, a->lr / a->bias_correction1, a->eps,
                     a->weight_decay, sqrtf(a->bias_correction2));
}

static void cuda_sgd_update(const ag_backend *be, float *w, const float *g, float *buf, int64_t n, float lr,
                            float momentum, float dampening, float wd, int nesterov, int first_step) {
    cuda_launch_sgd(cuda_of(be)->stream, w, g, buf, n, lr, momentum, dampening, wd, nesterov, first_step);
}

static void cuda_lerp(const ag_backend *be, float *ema, const float *w, int64_t n, float beta) {
    cuda_launch_lerp(cuda_of(be)->stream, ema, w, n, beta);
}

// Host threads do not speed up the device; the count is kept for reports.
static int cuda_set_threads(ag_backend *be, int n) {
    (void)be, (void)n;
    return 1;
}

static void cuda_describe(const ag_backend *be, ag_backend_desc *d) {
    const cuda_state *s = cuda_of(be);
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    snprintf(d->device, sizeof d->device, "%.80s (sm_%d%d, %d SMs, %.1f GiB)", s->device_name, s->cc_major, s->cc_minor,
             s->sm_count, s->total_bytes / 1073741824.0);
    snprintf(d->library, sizeof d->library, "CUDA runtime %d, driver %d, cuBLAS %d, cuDNN %zu%s%s", runtime, driver,
             CUBLAS_VERSION, cudnnGetVersion(), s->deterministic ? ", deterministic algorithms" : "",
             s->timed_algos ? " (timed)" : "");
    snprintf(d->kernels, sizeof d->kernels, "sm_%d%d", s->cc_major, s->cc_minor);
    d->threads = be->threads;
}

static void cuda_memory_report(const ag_backend *be, char *buf, size_t size) {
    const cuda_state *s = cuda_of(be);
    size_t free_bytes = 0, total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) (void)cudaGetLastError();
    snprintf(buf, size, "%s: %.2f GiB in use by gan.c, %.2f GiB cached, %.2f GiB free of %.2f GiB", be->name,
             s->mem.in_use / 1073741824.0, s->mem.cached / 1073741824.0, free_bytes / 1073741824.0,
             total / 1073741824.0);
}

static void cuda_device_memory(const ag_backend *be, size_t *room, size_t *total) {
    size_t free_bytes = 0;
    *total = 0;
    if (cudaMemGetInfo(&free_bytes, total) != cudaSuccess) (void)cudaGetLastError();
    *room = free_bytes + cuda_of(be)->mem.cached;
}

// Every op's kernel by name (cuda_backend.h declares them all from op_list.h): an op without a
// CUDA kernel fails the link.
const ag_backend_ops ag_cuda_backend_ops = {
    .kind = "cuda",
    .numbered = true,
    .open = cuda_open,
    .close = cuda_close,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .to_host = cuda_to_host,
    .from_host = cuda_from_host,
    .copy = cuda_copy,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .fill = cuda_fill,
    .fill_uniform = cuda_fill_uniform,
    .fill_normal = cuda_fill_normal,
    .axpy = cuda_axpy,
    .adam_update = cuda_adam_update,
    .sgd_update = cuda_sgd_update,
    .lerp = cuda_lerp,
    .set_threads = cuda_set_threads,
    .describe = cuda_describe,
    .memory_report = cuda_memory_report,
    .device_memory = cuda_device_memory,
    .sync = cuda_sync,
    .kernels = {
#define AG_CUDA_ENTRY(E, n, s, g) [AG_OP_##E] = cuda_##n,
        AG_OP_LIST(AG_CUDA_ENTRY)
#undef AG_CUDA_ENTRY
    },
};
