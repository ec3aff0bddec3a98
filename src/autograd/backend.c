// The backend registry: the built backends' tables, opened by name. The table is constant; each
// open makes a backend object of its own, so two opens of "cpu" are two backends.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"
#include "check.h"

extern const ag_backend_ops ag_cpu_backend_ops;
#ifdef AG_HAVE_CUDA
extern const ag_backend_ops ag_cuda_backend_ops;
#endif

static const ag_backend_ops *const registry[] = {
    &ag_cpu_backend_ops,
#ifdef AG_HAVE_CUDA
    &ag_cuda_backend_ops,
#endif
};

#define REGISTRY_COUNT (sizeof registry / sizeof registry[0])

const char *ag_backend_names(void) {
#ifdef AG_HAVE_CUDA
    return "cpu, cuda";
#else
    return "cpu";
#endif
}

// "kind" or "kind:index" -> the registry entry and the index (-1 when none). NULL when no built
// backend has that kind or the index is not a number.
static const ag_backend_ops *lookup(const char *spec, int *index) {
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    *index = -1;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 0 || v > 4096) return NULL;
        *index = (int)v;
    }
    for (size_t i = 0; i < REGISTRY_COUNT; i++)
        if (strlen(registry[i]->kind) == len && !strncmp(registry[i]->kind, spec, len)) return registry[i];
    return NULL;
}

bool ag_backend_is_built(const char *spec) {
    int index;
    const ag_backend_ops *ops = spec ? lookup(spec, &index) : NULL;
    return ops && (index < 0 || ops->numbered);
}

ag_backend *ag_backend_open(const char *spec, char *why, size_t why_size) {
    int index;
    const ag_backend_ops *ops = spec ? lookup(spec, &index) : NULL;
    if (!ops) {
        snprintf(why, why_size, "no such backend in this build (built: %s; a device number is written as cuda:1)",
                 ag_backend_names());
        return NULL;
    }
    if (index >= 0 && !ops->numbered) {
        snprintf(why, why_size, "the %s backend has no device numbers (write %s)", ops->kind, ops->kind);
        return NULL;
    }
    ag_backend *be = ag_xcalloc(1, sizeof *be);
    be->ops = ops;
    be->index = index;
    snprintf(be->name, sizeof be->name, "%s", spec);
    if (ops->open(be, index, why, why_size) != 0) {
        free(be);
        return NULL;
    }
    return be;
}

void ag_backend_close(ag_backend *be) {
    if (!be) return;
    if (be->ops->close) be->ops->close(be);
    free(be);
}

const char *ag_backend_name(const ag_backend *be) { return be->name; }

void *ag_backend_host_alloc(const ag_backend *be, size_t bytes) {
    return be->ops->host_alloc ? be->ops->host_alloc(be, bytes) : malloc(bytes ? bytes : 1);
}

void ag_backend_host_free(const ag_backend *be, void *p) {
    if (!p) return;
    if (be->ops->host_free) be->ops->host_free(be, p);
    else free(p);
}

int ag_backend_set_threads(ag_backend *be, int n) {
    AG_CHECK(n >= 0, "ag_backend_set_threads: %d threads", n);
    be->threads = be->ops->set_threads(be, n);
    return be->threads;
}

int ag_backend_threads(const ag_backend *be) { return be->threads; }

void ag_backend_describe(const ag_backend *be, ag_backend_desc *d) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", be->name);
    be->ops->describe(be, d);
}

bool ag_backend_device_memory(const ag_backend *be, size_t *room, size_t *total) {
    if (!be->ops->device_memory) return false;
    be->ops->device_memory(be, room, total);
    return true;
}

const char *ag_backend_memory_note(const ag_backend *be, char *buf, size_t size) {
    buf[0] = '\0';
    if (be->ops->memory_report && size > 2) {
        snprintf(buf, size, "; ");
        be->ops->memory_report(be, buf + 2, size - 2);
    }
    return buf;
}

int ag_backend_supports_op(const ag_backend *be, ag_op op) {
    return op >= 0 && op < AG_OP_COUNT && be->ops->kernels[op] != NULL;
}
