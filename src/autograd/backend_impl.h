// What a backend implements (engine-internal; the public face is include/backend.h): memory, the
// few kernels over long-lived state (optimizers, EMA, RNG fills) and one kernel per op of
// op_list.h. Every entry point receives the opened backend, whose `state` holds what the
// backend owns (device handles, streams, allocator caches); op kernels receive the context,
// which holds the backend and the per-context workspace. Nothing here is global.
//
// Adding a backend: a folder beside cpu/ with one kernel file per op family (the same basenames),
// an ag_backend_ops table whose kernels are generated from AG_OP_LIST as designated initialisers
// naming each kernel (cpu/backend.c), so that a missing kernel fails the link, and a line in
// backend.c's registry. docs/architecture.md has the recipe.
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "op_list.h"

struct ag_ctx;
struct ag_node;

typedef void (*ag_kernel_fn)(struct ag_ctx *c, const struct ag_node *n);

typedef struct ag_adam_args {
    float lr, beta1, beta2, eps, weight_decay;
    float bias_correction1, bias_correction2;  // 1 - beta^t, computed by the caller
} ag_adam_args;

typedef struct ag_backend_ops {
    const char *kind;  // "cpu", "cuda": a name as opened, without its ":index"
    bool numbered;     // its names may carry a device number ("cuda:1")
    // Sets up be->state for device `index` (-1 when the name had none) and be->threads to the
    // host threads its kernels use by default. Returns 0, or -1 with a one-line reason in why
    // (no device, driver too old).
    int (*open)(ag_backend *be, int index, char *why, size_t why_size);
    void (*close)(ag_backend *be);  // frees be->state; NULL: nothing to free
    // Memory, aligned to at least 64 bytes; alloc returns NULL when out of memory. Sizes in bytes.
    void *(*alloc)(const ag_backend *be, size_t bytes);
    void (*free)(const ag_backend *be, void *p);
    void (*to_host)(const ag_backend *be, void *dst, const void *src, size_t bytes);
    void (*from_host)(const ag_backend *be, void *dst, const void *src, size_t bytes);
    void (*copy)(const ag_backend *be, void *dst, const void *src, size_t bytes);
    // Host memory the backend copies from and to fastest (page-locked for a GPU); NULL: malloc.
    void *(*host_alloc)(const ag_backend *be, size_t bytes);
    void (*host_free)(const ag_backend *be, void *p);
    void (*fill)(const ag_backend *be, float *dst, int64_t n, float value);
    // Philox counter-based fills: element i uses block counter + i/4 of stream `seed`, so the
    // values are the same on every backend and thread count (rng.h).
    void (*fill_uniform)(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float lo,
                         float hi);
    void (*fill_normal)(const ag_backend *be, float *dst, int64_t n, uint64_t seed, uint64_t counter, float mean,
                        float std);
    // y += a * x
    void (*axpy)(const ag_backend *be, float *y, const float *x, int64_t n, float a);
    // Optimizers over whole parameter blocks: one loop each.
    void (*adam_update)(const ag_backend *be, float *w, const float *g, float *m, float *v, int64_t n,
                        const ag_adam_args *a);
    void (*sgd_update)(const ag_backend *be, float *w, const float *g, float *buf, int64_t n, float lr,
                       float momentum, float dampening, float weight_decay, int nesterov, int first_step);
    // ema = beta * ema + (1 - beta) * w
    void (*lerp)(const ag_backend *be, float *ema, const float *w, int64_t n, float beta);
    // Host threads for the kernels: n > 0 exactly, 0 all cores; returns the number in effect.
    int (*set_threads)(ag_backend *be, int n);
    void (*describe)(const ag_backend *be, ag_backend_desc *d);
    // One line on the memory in use, for out-of-memory messages; NULL: nothing to add.
    void (*memory_report)(const ag_backend *be, char *buf, size_t size);
    // Device memory a new allocation can still get (free plus what the backend caches) and the
    // device's total; NULL for backends whose memory is the host's.
    void (*device_memory)(const ag_backend *be, size_t *room, size_t *total);
    // Waits until every kernel queued so far has run; NULL for backends that run in the call.
    void (*sync)(const ag_backend *be);
    ag_kernel_fn kernels[AG_OP_COUNT];
} ag_backend_ops;

struct ag_backend {
    const ag_backend_ops *ops;
    char name[32];  // as opened: "cpu", "cuda:1"
    int index;      // the device number, -1 when the name gave none
    int threads;
    void *state;    // the backend's own
};

// "; <what memory_report says>" when the backend reports its memory, "" otherwise: the tail of
// an out-of-memory message. buf must hold at least 256 bytes.
const char *ag_backend_memory_note(const ag_backend *be, char *buf, size_t size);

// True when the backend has a kernel for op (always, for a backend that links).
int ag_backend_supports_op(const ag_backend *be, ag_op op);
