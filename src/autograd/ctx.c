#include <stdlib.h>

#include "check.h"
#include "ctx_internal.h"
#include "tensor.h"

// 4 MiB first blocks: small models never grow, big ones consolidate after one iteration.
#define META_MIN_BLOCK (1u << 20)
#define DATA_MIN_BLOCK (4u << 20)

static void *host_alloc(void *user, size_t n) {
    (void)user;
    return ag_xmalloc(n);
}
static void host_free(void *user, void *p) {
    (void)user;
    free(p);
}
// The data arena's blocks come from the backend.
static void *backend_alloc(void *be, size_t n) {
    const ag_backend *b = be;
    return b->ops->alloc(b, n);
}
static void backend_free(void *be, void *p) {
    const ag_backend *b = be;
    b->ops->free(b, p);
}
static const char *backend_oom_note(void *be, char *buf, size_t size) {
    return ag_backend_memory_note(be, buf, size);
}

ag_ctx *ag_ctx_create(const ag_backend *be) {
    AG_CHECK(be, "ag_ctx_create: no backend");
    ag_ctx *c = ag_xcalloc(1, sizeof *c);
    c->be = be;
    c->grad_enabled = true;
    ag_arena_init(&c->meta, host_alloc, host_free, NULL, META_MIN_BLOCK);
    ag_arena_init(&c->data, backend_alloc, backend_free, (void *)be, DATA_MIN_BLOCK);
    c->data.oom_note = backend_oom_note;
    return c;
}

void ag_ctx_free(ag_ctx *c) {
    if (!c) return;
    ag_arena_destroy(&c->meta);
    ag_arena_destroy(&c->data);
    if (c->workspace) c->be->ops->free(c->be, c->workspace);
    for (int t = 0; t < c->thread_ws_count; t++) c->be->ops->free(c->be, c->thread_ws[t]);
    free(c->thread_ws);
    free(c->bw_nodes);
    ag_recycle_destroy(&c->recycle);
    free(c);
}

const ag_backend *ag_ctx_backend(const ag_ctx *c) { return c->be; }

void ag_ctx_reset(ag_ctx *c) {
    ag_arena_reset(&c->meta);
    ag_arena_reset(&c->data);
}

static struct ag_ctx_arena_pos pos_of(ag_arena_mark m) {
    return (struct ag_ctx_arena_pos){.block = m.block, .block_used = m.block_used, .used = m.used};
}
static ag_arena_mark mark_of(struct ag_ctx_arena_pos p) {
    return (ag_arena_mark){.block = p.block, .block_used = p.block_used, .used = p.used};
}

ag_ctx_mark ag_ctx_mark_now(const ag_ctx *c) {
    return (ag_ctx_mark){.meta = pos_of(ag_arena_mark_now(&c->meta)), .data = pos_of(ag_arena_mark_now(&c->data))};
}

void ag_ctx_release(ag_ctx *c, ag_ctx_mark m) {
    ag_arena_release(&c->meta, mark_of(m.meta));
    ag_arena_release(&c->data, mark_of(m.data));
}

void *ag_ctx_workspace(ag_ctx *c, size_t bytes) {
    if (bytes > c->workspace_size) {
        if (c->workspace) c->be->ops->free(c->be, c->workspace);
        c->workspace = c->be->ops->alloc(c->be, bytes);
        AG_CHECK(c->workspace, "workspace: out of %s memory allocating %zu bytes%s", c->be->name, bytes,
                 ag_backend_memory_note(c->be, (char[320]){0}, 320));
        c->workspace_size = bytes;
    }
    return c->workspace;
}

void **ag_ctx_thread_workspaces(ag_ctx *c, int n, size_t bytes) {
    if (n > c->thread_ws_count || bytes > c->thread_ws_size) {
        for (int t = 0; t < c->thread_ws_count; t++) c->be->ops->free(c->be, c->thread_ws[t]);
        const int count = n > c->thread_ws_count ? n : c->thread_ws_count;
        const size_t size = bytes > c->thread_ws_size ? bytes : c->thread_ws_size;
        void **ws = realloc(c->thread_ws, (size_t)count * sizeof *ws);
        AG_CHECK(ws, "workspace: out of host memory for %d thread buffers", count);
        c->thread_ws = ws;
        c->thread_ws_count = 0;  // until every buffer is there
        for (int t = 0; t < count; t++) {
            ws[t] = c->be->ops->alloc(c->be, size);
            AG_CHECK(ws[t], "workspace: out of %s memory allocating %zu bytes for thread %d%s", c->be->name, size, t,
                     ag_backend_memory_note(c->be, (char[320]){0}, 320));
            c->thread_ws_count = t + 1;
        }
        c->thread_ws_size = size;
    }
    return c->thread_ws;
}

size_t ag_ctx_arena_bytes(const ag_ctx *c) { return c->meta.used + c->data.used; }
size_t ag_ctx_arena_peak(const ag_ctx *c) { return c->meta.peak + c->data.peak; }
size_t ag_ctx_workspace_bytes(const ag_ctx *c) {
    return c->workspace_size + (size_t)c->thread_ws_count * c->thread_ws_size;
}
void ag_ctx_set_grad_recycling(ag_ctx *c, bool on) { c->recycle.disabled = !on; }
size_t ag_ctx_recycled_bytes(const ag_ctx *c) { return c->recycle.reused_bytes; }
uint64_t ag_ctx_flops(const ag_ctx *c) { return c->flops; }

bool ag_set_grad_enabled(ag_ctx *c, bool on) {
    bool prev = c->grad_enabled;
    c->grad_enabled = on;
    return prev;
}

bool ag_is_grad_enabled(const ag_ctx *c) { return c->grad_enabled; }

void ag_ctx_set_allreduce(ag_ctx *c, ag_allreduce_fn fn, void *user, int processes) {
    AG_CHECK(!fn || processes >= 1, "ag_ctx_set_allreduce: %d processes", processes);
    c->allreduce = fn;
    c->allreduce_user = user;
    c->processes = fn ? processes : 1;
}

int ag_ctx_processes(const ag_ctx *c) { return c->allreduce ? c->processes : 1; }

void ag_ctx_allreduce_host(ag_ctx *c, float *buf, int64_t n) {
    if (c->allreduce) c->allreduce(c->allreduce_user, buf, n);
}

ag_tensor *ag_allreduce_mean(ag_ctx *c, ag_tensor *t) {
    if (!c->allreduce) return t;
    const int64_t n = t->numel;
    float *buf = ag_xcalloc((size_t)n, sizeof *buf);
    ag_tensor_to_host(t, buf);
    ag_ctx_allreduce_host(c, buf, n);
    for (int64_t i = 0; i < n; i++) buf[i] /= (float)c->processes;
    ag_tensor *out = ag_new(c, t->shape);
    ag_tensor_from_host(out, buf);
    free(buf);
    return out;
}

void ag_ctx_set_sync_batch_stats(ag_ctx *c, bool on) { c->sync_batch_stats = on; }

bool ag_ctx_sync_batch_stats(const ag_ctx *c) { return c->sync_batch_stats && ag_ctx_processes(c) > 1; }
