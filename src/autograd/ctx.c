#include "ctx.h"

#include <stdlib.h>

#include "check.h"

// 4 MiB first blocks: small models never grow, big ones consolidate after one iteration.
#define META_MIN_BLOCK (1u << 20)
#define DATA_MIN_BLOCK (4u << 20)

static void *host_alloc(size_t n) { return ag_xmalloc(n); }

ag_ctx *ag_ctx_create(const ag_backend *be) {
    AG_CHECK(be, "ag_ctx_create: no backend");
    ag_ctx *c = ag_xcalloc(1, sizeof *c);
    c->be = be;
    c->grad_enabled = true;
    ag_arena_init(&c->meta, host_alloc, free, META_MIN_BLOCK);
    ag_arena_init(&c->data, be->alloc, be->free, DATA_MIN_BLOCK);
    return c;
}

void ag_ctx_free(ag_ctx *c) {
    if (!c) return;
    ag_arena_destroy(&c->meta);
    ag_arena_destroy(&c->data);
    if (c->workspace) c->be->free(c->workspace);
    free(c->bw_nodes);
    free(c);
}

void ag_ctx_reset(ag_ctx *c) {
    ag_arena_reset(&c->meta);
    ag_arena_reset(&c->data);
}

ag_ctx_mark ag_ctx_mark_now(const ag_ctx *c) {
    return (ag_ctx_mark){.meta = ag_arena_mark_now(&c->meta), .data = ag_arena_mark_now(&c->data)};
}

void ag_ctx_release(ag_ctx *c, ag_ctx_mark m) {
    ag_arena_release(&c->meta, m.meta);
    ag_arena_release(&c->data, m.data);
}

void *ag_ctx_workspace(ag_ctx *c, size_t bytes) {
    if (bytes > c->workspace_size) {
        if (c->workspace) c->be->free(c->workspace);
        c->workspace = c->be->alloc(bytes);
        AG_CHECK(c->workspace, "workspace: out of memory allocating %zu bytes", bytes);
        c->workspace_size = bytes;
    }
    return c->workspace;
}

size_t ag_ctx_arena_bytes(const ag_ctx *c) { return c->meta.used + c->data.used; }
size_t ag_ctx_arena_peak(const ag_ctx *c) { return c->meta.peak + c->data.peak; }

bool ag_set_grad_enabled(ag_ctx *c, bool on) {
    bool prev = c->grad_enabled;
    c->grad_enabled = on;
    return prev;
}
