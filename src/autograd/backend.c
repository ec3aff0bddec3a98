#include "backend.h"

#include <string.h>

const ag_backend *ag_backend_by_name(const char *name) {
    if (!strcmp(name, "cpu")) return ag_backend_cpu();
    return NULL;  // the CUDA backend registers here when it is built
}

int ag_backend_supports_op(const ag_backend *be, ag_op op) {
    return op >= 0 && op < AG_OP_COUNT && be->kernels[op] != NULL;
}
