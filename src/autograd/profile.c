// The op profile behind `gan bench --profile` (ctx.h): seconds and calls per op.
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "ctx_internal.h"
#include "op.h"

struct ag_op_profile {
    double seconds[AG_OP_COUNT];
    int64_t calls[AG_OP_COUNT];
};

ag_op_profile *ag_op_profile_create(void) { return ag_xcalloc(1, sizeof(ag_op_profile)); }

void ag_op_profile_free(ag_op_profile *p) { free(p); }

void ag_ctx_set_profile(ag_ctx *c, ag_op_profile *p) { c->profile = p; }

int ag_op_profile_size(void) { return AG_OP_COUNT; }

const char *ag_op_profile_entry(const ag_op_profile *p, int i, double *seconds, int64_t *calls) {
    AG_CHECK(i >= 0 && i < AG_OP_COUNT, "ag_op_profile_entry: entry %d of %d", i, (int)AG_OP_COUNT);
    *seconds = p->seconds[i];
    *calls = p->calls[i];
    return ag_op_infos[i].name;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void ag_profile_run(ag_ctx *c, void (*kernel)(ag_ctx *, const struct ag_node *), const struct ag_node *node) {
    // Synchronised first, so that the op is not charged for the work queued before it.
    if (c->be->ops->sync) c->be->ops->sync(c->be);
    const double t0 = now();
    kernel(c, node);
    if (c->be->ops->sync) c->be->ops->sync(c->be);
    c->profile->seconds[node->op] += now() - t0;
    c->profile->calls[node->op]++;
}
