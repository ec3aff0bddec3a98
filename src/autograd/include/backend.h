// Backends, chosen by name. A backend is where tensors live and ops run: "cpu" (OpenBLAS and
// OpenMP) is always built; "cuda" or "cuda:N" when the build has CUDA. Everything above the
// engine opens one by name and passes it around; nothing above the engine knows what is behind
// it, and tensor memory crosses to the host only through ag_tensor_to_host / from_host.
//
//   char why[256];
//   ag_backend *be = ag_backend_open(cfg_device, why, sizeof why);
//   if (!be) ... report why ...
//   ag_ctx *c = ag_ctx_create(be);  ...  ag_ctx_free(c);
//   ag_backend_close(be);   // after every tensor and context made on it is freed
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct ag_backend ag_backend;

// Opens the backend named `spec` ("cpu", "cuda", "cuda:1"). Returns NULL with a one-line reason
// in why when no such backend is built (the reason lists the built ones) or its device is
// absent; the reason does not repeat the name (callers say "device NAME: " before it).
ag_backend *ag_backend_open(const char *spec, char *why, size_t why_size);
void ag_backend_close(ag_backend *be);  // NULL is fine
// True when `spec` is a well-formed name of a backend built into this binary (its device may
// still be absent): tells "not built" (a usage error) from "no device here" after a failed open.
bool ag_backend_is_built(const char *spec);
// The built backends' names, comma-separated ("cpu" or "cpu, cuda").
const char *ag_backend_names(void);

// The name it was opened with ("cpu", "cuda:1").
const char *ag_backend_name(const ag_backend *be);

// Host threads the backend's kernels use: n > 0 exactly, 0 all cores. Returns the number now in
// effect. Results are deterministic for a fixed count; see docs/engine.md on threads.
int ag_backend_set_threads(ag_backend *be, int n);
int ag_backend_threads(const ag_backend *be);

// Host memory for data that crosses to the backend every step (training batches): page-locked
// on a GPU, so copies from it run at the bus's full speed; plain memory on the CPU. NULL when
// out of memory. Free with ag_backend_host_free on the same backend.
void *ag_backend_host_alloc(const ag_backend *be, size_t bytes);
void ag_backend_host_free(const ag_backend *be, void *p);

// For a backend with memory of its own (a GPU): sets what new tensors can still get (free plus
// what the backend has cached) and the total, and returns true. False when the backend's memory
// is the host's (the CPU): ask the operating system instead.
bool ag_backend_device_memory(const ag_backend *be, size_t *room, size_t *total);

// What the backend runs on, for logs and benchmark reports.
typedef struct ag_backend_desc {
    char name[32];      // "cpu", "cuda:0"
    char device[128];   // the processor or GPU
    char library[128];  // the math libraries and their versions
    char kernels[64];   // the kernel family they picked (OpenBLAS's core, the GPU architecture)
    int threads;        // host threads
} ag_backend_desc;
void ag_backend_describe(const ag_backend *be, ag_backend_desc *d);
