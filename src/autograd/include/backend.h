// The backend interface: memory, a few long-lived-state kernels (optimizer, EMA, RNG fills) and
// one kernel per op, indexed by ag_op. The CPU backend implements all of it and is the
// reference every other backend is tested against. A NULL kernel means "not supported by this
// backend"; ag_backend_supports_op answers that before a run starts.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "op_list.h"

struct ag_ctx;
struct ag_node;

typedef void (*ag_kernel_fn)(struct ag_ctx *c, const struct ag_node *n);

typedef struct ag_adam_args {
    float lr, beta1, beta2, eps, weight_decay;
    float bias_correction1, bias_correction2;  // 1 - beta^t, computed by the caller
} ag_adam_args;

typedef struct ag_backend {
    const char *name;
    // Memory (aligned to at least 64 bytes). All sizes in bytes.
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    void (*to_host)(void *dst, const void *src, size_t bytes);
    void (*from_host)(void *dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);
    void (*fill)(float *dst, int64_t n, float value);
    // Philox counter-based fills: element i uses block counter + i/4 of stream `seed`, so the
    // values are the same on every backend and thread count.
    void (*fill_uniform)(float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo, float hi);
    void (*fill_normal)(float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean, float std);
    // y += a * x
    void (*axpy)(float *y, const float *x, int64_t n, float a);
    // Optimizers over whole parameter blocks: one loop each.
    void (*adam_update)(float *w, const float *g, float *m, float *v, int64_t n, const ag_adam_args *a);
    void (*sgd_update)(float *w, const float *g, float *buf, int64_t n, float lr, float momentum,
                       float dampening, float weight_decay, int nesterov, int first_step);
    // ema = beta * ema + (1 - beta) * w
    void (*lerp)(float *ema, const float *w, int64_t n, float beta);
    void (*set_threads)(int n);
    const char *(*describe)(void);  // e.g. "cpu: OpenBLAS 0.3.21 (Haswell), 2 OpenMP threads"
    ag_kernel_fn kernels[AG_OP_COUNT];
} ag_backend;

const ag_backend *ag_backend_cpu(void);
// "cpu" or "cuda"; NULL when that backend is not built in or has no device.
const ag_backend *ag_backend_by_name(const char *name);
int ag_backend_supports_op(const ag_backend *be, ag_op op);
