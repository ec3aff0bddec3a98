// The collective's kernel is the engine's own (ops/collective.c): a host round trip through the
// context's hook, the same on every backend.
#include "cpu.h"
#include "ctx_internal.h"

void cpu_allreduce_sum(ag_ctx *c, const ag_node *node) { ag_kernel_allreduce_sum(c, node); }
